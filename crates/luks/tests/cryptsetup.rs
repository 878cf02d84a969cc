//! Our headers against the real cryptsetup: it reads what we write and opens our
//! keyslot, and we open what it formats (PBKDF2, Argon2id and Argon2i keyslots),
//! getting the volume key it reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use luks::{CryptainerToken, FormatOptions, Header, VolumeKey};

/// Sparse image size: the 16 MiB header region plus some data.
const IMAGE_SIZE: u64 = 32 << 20;

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A sparse image holding `header` at offset 0.
    fn image_with(&self, header: &[u8]) -> PathBuf {
        let path = self.path("volume.img");
        let mut file = File::create(&path).unwrap();
        file.set_len(IMAGE_SIZE).unwrap();
        file.write_all(header).unwrap();
        path
    }

    fn empty_image(&self) -> PathBuf {
        self.image_with(&[])
    }

    fn key_file(&self, name: &str, secret: &[u8]) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, secret).unwrap();
        path
    }
}

fn cryptsetup(args: &[&str]) -> Output {
    Command::new("cryptsetup")
        .args(args)
        .output()
        .expect("cryptsetup is installed (see .ci/run)")
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn luks_dump(image: &Path) -> String {
    let output = cryptsetup(&["luksDump", arg(image)]);
    assert!(
        output.status.success(),
        "luksDump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The volume key cryptsetup recovers with `key_file`, from `luksDump --dump-volume-key`.
fn dumped_volume_key(image: &Path, key_file: &Path) -> Vec<u8> {
    let output = cryptsetup(&[
        "luksDump",
        "--batch-mode",
        "--dump-volume-key",
        "--key-file",
        arg(key_file),
        arg(image),
    ]);
    assert!(
        output.status.success(),
        "dump-volume-key failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let mut hex_digits = String::new();
    let mut in_dump = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("MK dump:") {
            in_dump = true;
            hex_digits.push_str(rest);
        } else if in_dump && line.starts_with(char::is_whitespace) {
            hex_digits.push_str(line);
        } else {
            in_dump = false;
        }
    }
    hex_digits.retain(|c| !c.is_whitespace());
    hex::decode(hex_digits).unwrap()
}

fn read_header_region(image: &Path) -> Vec<u8> {
    let mut bytes = fs::read(image).unwrap();
    bytes.truncate(16 << 20);
    bytes
}

fn options() -> FormatOptions {
    FormatOptions {
        label: "pgdata".to_owned(),
        token: CryptainerToken {
            key_id: "0f5e8c1e-key".to_owned(),
            server: "https://keys.example:8443".to_owned(),
        },
    }
}

#[test]
fn cryptsetup_luks_dump_reads_our_header() {
    let scratch = Scratch::new();
    let key = VolumeKey::generate();
    let header = luks::format(&key, &[0x11; 32], &options()).unwrap();
    let image = scratch.image_with(&header.bytes);
    let dump = luks_dump(&image);
    for expected in [
        "Version:       \t2",
        &format!("UUID:          \t{}", header.uuid),
        "Label:         \tpgdata",
        "Subsystem:     \tcryptainer",
        "offset: 16777216 [bytes]",
        "cipher: aes-xts-plain64",
        "sector: 4096 [bytes]",
        "Key:        512 bits",
        "PBKDF:      pbkdf2",
        "AF stripes: 4000",
        "0: cryptainer",
    ] {
        assert!(
            dump.contains(expected),
            "luksDump lacks {expected:?}:\n{dump}"
        );
    }
}

#[test]
fn cryptsetup_opens_our_keyslot_and_rejects_a_wrong_secret() {
    let scratch = Scratch::new();
    let secret = [0xa5u8; 32];
    let header = luks::format(&VolumeKey::generate(), &secret, &options()).unwrap();
    let image = scratch.image_with(&header.bytes);
    let right = scratch.key_file("right", &secret);
    let wrong = scratch.key_file("wrong", &[0x5a; 32]);
    let accepted = cryptsetup(&[
        "open",
        "--test-passphrase",
        "--key-file",
        arg(&right),
        arg(&image),
    ]);
    assert!(
        accepted.status.success(),
        "cryptsetup rejected our keyslot: {}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    let rejected = cryptsetup(&[
        "open",
        "--test-passphrase",
        "--key-file",
        arg(&wrong),
        arg(&image),
    ]);
    assert!(
        !rejected.status.success(),
        "cryptsetup accepted a wrong secret"
    );
}

#[test]
fn cryptsetup_recovers_the_volume_key_we_wrote() {
    let scratch = Scratch::new();
    let secret = [0x3cu8; 32];
    let key = VolumeKey::generate();
    let header = luks::format(&key, &secret, &options()).unwrap();
    let image = scratch.image_with(&header.bytes);
    let key_file = scratch.key_file("secret", &secret);
    assert_eq!(dumped_volume_key(&image, &key_file), key.expose_secret());
}

/// Formats an image with cryptsetup, opens it with our parser, and compares the
/// volume key with the one cryptsetup dumps.
fn check_cryptsetup_formatted(pbkdf_args: &[&str]) {
    let scratch = Scratch::new();
    let image = scratch.empty_image();
    let passphrase = b"correct horse battery staple";
    let key_file = scratch.key_file("passphrase", passphrase);
    let mut args = vec![
        "luksFormat",
        "--batch-mode",
        "--type",
        "luks2",
        "--cipher",
        "aes-xts-plain64",
        "--key-size",
        "512",
        "--sector-size",
        "4096",
        "--key-file",
        arg(&key_file),
    ];
    args.extend_from_slice(pbkdf_args);
    args.push(arg(&image));
    let output = cryptsetup(&args);
    assert!(
        output.status.success(),
        "luksFormat failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let device = read_header_region(&image);
    let header = Header::parse(&device).unwrap();
    let segment = header.data_segment();
    assert_eq!(segment.sector_size, 4096);
    assert_eq!(segment.offset, 16 << 20);
    assert_eq!(segment.size, None);
    let key = header.open(&device, passphrase).unwrap();
    assert_eq!(
        key.expose_secret().as_slice(),
        dumped_volume_key(&image, &key_file)
    );
    assert!(matches!(
        header.open(&device, b"wrong passphrase"),
        Err(luks::LuksError::WrongSecret)
    ));
}

#[test]
fn cryptsetup_formatted_pbkdf2_volume_opens_with_its_key() {
    check_cryptsetup_formatted(&["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"]);
}

#[test]
fn cryptsetup_formatted_argon2id_volume_opens_with_its_key() {
    check_cryptsetup_formatted(&[
        "--pbkdf",
        "argon2id",
        "--pbkdf-memory",
        "32768",
        "--pbkdf-force-iterations",
        "4",
    ]);
}

#[test]
fn cryptsetup_formatted_argon2i_volume_opens_with_its_key() {
    check_cryptsetup_formatted(&[
        "--pbkdf",
        "argon2i",
        "--pbkdf-memory",
        "32768",
        "--pbkdf-force-iterations",
        "4",
    ]);
}

/// cryptsetup encrypts a plaintext image in place (offline LUKS2 encryption runs in
/// userspace, no device-mapper needed); our sector cipher must decrypt every data
/// sector of it. This pins the IV convention: 512-byte IV units for 4096-byte sectors.
#[test]
fn cryptsetup_encrypted_data_decrypts_with_our_sector_cipher() {
    let scratch = Scratch::new();
    let image = scratch.path("plain.img");
    let sectors = 8192usize; // 32 MiB of labelled 4096-byte sectors
    let mut plaintext = Vec::with_capacity(sectors * 4096);
    for n in 0..sectors {
        let mut sector = format!("sector {n:010}").into_bytes();
        sector.resize(4096, b'.');
        plaintext.extend_from_slice(&sector);
    }
    fs::write(&image, &plaintext).unwrap();
    let passphrase = b"reencrypt me";
    let key_file = scratch.key_file("passphrase", passphrase);
    let output = cryptsetup(&[
        "reencrypt",
        "--batch-mode",
        "--encrypt",
        "--type",
        "luks2",
        "--cipher",
        "aes-xts-plain64",
        "--key-size",
        "512",
        "--sector-size",
        "4096",
        "--reduce-device-size",
        "16M",
        "--pbkdf",
        "pbkdf2",
        "--pbkdf-force-iterations",
        "1000",
        "--key-file",
        arg(&key_file),
        "--force-offline-reencrypt",
        arg(&image),
    ]);
    assert!(
        output.status.success(),
        "offline encryption failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let device = fs::read(&image).unwrap();
    let header = Header::parse(&device).unwrap();
    let segment = header.data_segment();
    assert_eq!(segment.sector_size, 4096);
    let key = header.open(&device, passphrase).unwrap();
    let cipher = luks::SectorCipher::new(&key, 4096).unwrap();
    let mut data = device[usize::try_from(segment.offset).unwrap()..].to_vec();
    assert_ne!(
        data[..4096],
        plaintext[..4096],
        "the data is encrypted on disk"
    );
    cipher.decrypt_sectors(0, &mut data).unwrap();
    // cryptsetup puts the header in half of the reduction (8 MiB) and the data
    // segment after it; the device loses 16 MiB, so the first 16 MiB of plaintext
    // are the segment's first 4096 sectors, in order.
    assert_eq!(segment.offset, 8 << 20);
    let kept = (32 << 20) - (16 << 20);
    assert_eq!(
        first_different_sector(&data[..kept], &plaintext[..kept]),
        None
    );
    // A request starting mid-segment numbers its sectors from the segment start.
    let mut middle =
        device[usize::try_from(segment.offset).unwrap() + 100 * 4096..][..3 * 4096].to_vec();
    cipher.decrypt_sectors(100, &mut middle).unwrap();
    assert_eq!(
        first_different_sector(&middle, &plaintext[100 * 4096..103 * 4096]),
        None
    );
}

/// The index of the first 4096-byte sector where `left` and `right` differ (or the
/// shorter length if one is a prefix of the other), without printing megabytes.
fn first_different_sector(left: &[u8], right: &[u8]) -> Option<usize> {
    if let Some(index) = left
        .chunks(4096)
        .zip(right.chunks(4096))
        .position(|(a, b)| a != b)
    {
        return Some(index);
    }
    (left.len() != right.len()).then_some(left.len().min(right.len()) / 4096)
}
