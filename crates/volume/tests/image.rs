//! A volume's LUKS2 header as the `volume` crate reads and writes it: a
//! volume opens only with its own secret, formats only a fresh image, and
//! never formats over anything else. No root needed: nothing is mounted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Read as _;
use std::os::unix::fs::FileExt as _;

use volume::{ImageState, KeyslotSecret, VolumeError, VolumeStore};

fn secret(byte: u8) -> KeyslotSecret {
    KeyslotSecret::new(zeroize::Zeroizing::new(vec![byte; 32]))
}

fn options(label: &str) -> volume::FormatOptions {
    volume::FormatOptions {
        label: label.to_owned(),
        token: volume::CryptainerToken {
            key_id: "key-1".to_owned(),
            server: "https://key-manager.invalid".to_owned(),
        },
    }
}

/// Issue 19: `Volume::unlock` took any key, so a wrong one would have had
/// the engine find no filesystem in the garbage it decrypted and make a new
/// one over the volume's data.
#[test]
fn the_volume_refuses_a_secret_that_opens_no_keyslot() {
    let dir = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(dir.path()).unwrap();
    let volume = store.create("data", 64 << 20).unwrap();
    let image = volume.image().to_owned();
    assert_eq!(volume.state().unwrap(), ImageState::Fresh);
    let unlocked = volume.format(&secret(1), &options("data")).unwrap();
    assert_eq!(unlocked.data_segment().offset, luks::NEW_DATA_OFFSET);
    assert_eq!(unlocked.data_segment().sector_size, 4096);
    unlocked.lock();
    let header_before = std::fs::read(&image).unwrap();

    let refused = store.get("data").unwrap().open(&secret(2));
    assert!(
        matches!(&refused, Err(VolumeError::WrongSecret(path)) if *path == image),
        "{refused:?}"
    );
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("does not open"), "{message}");
    assert_eq!(
        std::fs::read(&image).unwrap(),
        header_before,
        "a refused open changed the image"
    );
    // Its own secret still opens it, and formatting it again is refused.
    let volume = store.get("data").unwrap();
    assert_eq!(volume.state().unwrap(), ImageState::Formatted);
    volume.open(&secret(1)).unwrap().lock();
    assert!(matches!(
        store
            .get("data")
            .unwrap()
            .format(&secret(1), &options("data")),
        Err(VolumeError::AlreadyFormatted(_))
    ));
    assert!(matches!(
        store
            .get("data")
            .unwrap()
            .open_or_format(&secret(2), &options("data")),
        Err(VolumeError::WrongSecret(_))
    ));
}

#[test]
fn an_image_that_is_neither_fresh_nor_luks_is_never_formatted() {
    let dir = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(dir.path()).unwrap();
    let volume = store.create("foreign", 64 << 20).unwrap();
    let image = volume.image().to_owned();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&image)
        .unwrap()
        .write_all_at(b"someone else's data", 100)
        .unwrap();
    for attempt in [
        volume.open_or_format(&secret(1), &options("foreign")),
        store
            .get("foreign")
            .unwrap()
            .format(&secret(1), &options("foreign")),
    ] {
        assert!(
            matches!(&attempt, Err(VolumeError::NotAnImage(path)) if *path == image),
            "{attempt:?}"
        );
    }
    let mut start = [0u8; 119];
    std::fs::File::open(&image)
        .unwrap()
        .read_exact(&mut start)
        .unwrap();
    assert_eq!(&start[100..], b"someone else's data");
}

#[test]
fn the_longest_volume_name_formats_with_its_label_cut_to_what_luks2_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(dir.path()).unwrap();
    let name = "n".repeat(64);
    let volume = store.create(&name, 64 << 20).unwrap();
    let image = volume.image().to_owned();
    volume.format(&secret(3), &options(&name)).unwrap().lock();
    let mut region = vec![0u8; 1 << 20];
    std::fs::File::open(&image)
        .unwrap()
        .read_exact(&mut region)
        .unwrap();
    let header = luks::Header::parse(&region).unwrap();
    assert_eq!(header.label(), &name[..47]);
    store.get(&name).unwrap().open(&secret(3)).unwrap();
}
