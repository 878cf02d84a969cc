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
