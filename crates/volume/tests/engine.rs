//! The engine end to end, as root, with real FUSE, loop devices, mkfs.ext4
//! and mount: POSIX behaviour, persistence, no plaintext in the image,
//! engine death, fencing a busy volume, a flipped ciphertext byte, and a
//! clean system after unmount. The engine is this crate's
//! `cryptainer-volume-engine`, the same entry point as `cryptainer
//! volume-engine` (whose own tests, and the control process's death, are in
//! `crates/cli/tests/volume_engine.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// The mmap check maps a file on the volume; each block says why it is sound.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use volume::{EngineConfig, Filesystem, KeyslotSecret, Mounted, VolumeStore};

const SIZE: u64 = 256 << 20;

/// A store, a state root and a mount point in a temporary directory; on drop
/// (also when a test fails) it unmounts whatever it mounted and stops engines.
struct Fixture {
    dir: tempfile::TempDir,
    store: VolumeStore,
    engine: EngineConfig,
    mounted: Option<Mounted>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(dir.path().join("store")).unwrap();
        let engine = EngineConfig::with_program(
            env!("CARGO_BIN_EXE_cryptainer-volume-engine"),
            dir.path().join("state"),
        );
        Fixture {
            dir,
            store,
            engine,
            mounted: None,
        }
    }

    fn target(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    fn mount(&mut self, name: &str, secret: &Secret) -> &Mounted {
        let mounted = self
            .store
            .get(name)
            .unwrap()
            .open_or_format(&secret.keyslot(), &format_options(name))
            .unwrap()
            .mount(&self.target(), Filesystem::Ext4, &self.engine)
            .unwrap();
        self.mounted.insert(mounted)
    }

    fn unmount(&mut self) {
        let mounted = self.mounted.take().unwrap();
        let pid = mounted.engine_pid().unwrap();
        let state_dir = mounted.state_dir().to_owned();
        let fuse_dir = state_dir.join("fuse");
        let loop_device = mounted.loop_device().to_owned();
        mounted.unmount().map_err(|still| still.error).unwrap();
        assert_clean(&self.target(), &fuse_dir, &loop_device, pid, &state_dir);
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(mounted) = self.mounted.take() {
            let _ = mounted.unmount();
        }
        if let Ok(found) = Mounted::recover(&self.store, &self.engine) {
            for mounted in found {
                let _ = mounted.unmount();
            }
        }
        let _ = volume::mount::unmount_lazy(&self.target());
    }
}

/// A keyslot secret a test keeps, to mount a volume again.
struct Secret(Vec<u8>);

impl Secret {
    fn generate() -> Secret {
        let mut bytes = vec![0u8; 32];
        File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut bytes)
            .unwrap();
        Secret(bytes)
    }

    fn keyslot(&self) -> KeyslotSecret {
        KeyslotSecret::new(zeroize::Zeroizing::new(self.0.clone()))
    }
}

fn format_options(name: &str) -> volume::FormatOptions {
    volume::FormatOptions {
        label: name.to_owned(),
        token: volume::CryptainerToken {
            key_id: "test-key".to_owned(),
            server: "https://key-manager.invalid".to_owned(),
        },
    }
}

/// No mount at the target, no FUSE mount, the loop device detached, the
/// engine gone, the state directory removed.
fn assert_clean(target: &Path, fuse_dir: &Path, loop_device: &Path, pid: u32, state_dir: &Path) {
    let mounts = volume::mount::mounts().unwrap();
    assert!(
        !mounts.iter().any(|entry| entry.target == target),
        "target still mounted"
    );
    assert!(
        !mounts.iter().any(|entry| entry.target == fuse_dir),
        "FUSE still mounted"
    );
    assert!(
        !loop_serves(loop_device, fuse_dir),
        "loop device still attached"
    );
    let losetup = Command::new("losetup").arg("-a").output().unwrap();
    let listing = String::from_utf8_lossy(&losetup.stdout);
    assert!(
        !listing.contains(&*fuse_dir.to_string_lossy()),
        "losetup still lists {listing}"
    );
    assert!(!alive(pid), "engine {pid} still runs");
    assert!(!state_dir.exists(), "state directory left behind");
}

/// Whether `loop_device` may still be attached to the block file in
/// `fuse_dir`: tests run side by side, so the device may serve another test's
/// volume once released. Once a FUSE mount is detached lazily, the kernel
/// names its block file from the detached root, `/disk`, whichever volume it
/// is of: that counts as possibly this one.
fn loop_serves(loop_device: &Path, fuse_dir: &Path) -> bool {
    let number = volume::loopdev::device_number(loop_device).unwrap();
    let detached = Path::new("/").join(volume::device::DISK_FILE_NAME);
    std::fs::read_to_string(format!("/sys/block/loop{number}/loop/backing_file")).is_ok_and(
        |backing| {
            let backing = Path::new(backing.trim_end());
            backing == fuse_dir.join(volume::device::DISK_FILE_NAME) || backing == detached
        },
    )
}

/// Whether `pid` runs (a zombie whose parent has not reaped it does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
    })
}

fn write_synced(path: &Path, data: &[u8]) {
    let mut file = File::create(path).unwrap();
    file.write_all(data).unwrap();
    file.sync_all().unwrap();
}

fn image_contains(image: &Path, needle: &[u8]) -> bool {
    let mut bytes = Vec::new();
    File::open(image).unwrap().read_to_end(&mut bytes).unwrap();
    bytes.windows(needle.len()).any(|window| window == needle)
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn posix_behaviour_persists_across_remount_and_never_reaches_the_image_in_plaintext() {
    let mut fixture = Fixture::new();
    fixture.store.create("posix", SIZE).unwrap();
    let secret = Secret::generate();
    let image = fixture.store.get("posix").unwrap().image().to_owned();
    assert_eq!(std::fs::metadata(&image).unwrap().len(), SIZE + (16 << 20));
    let mounted = fixture.mount("posix", &secret);
    assert!(
        mounted.direct_io(),
        "the loop device should run with direct I/O"
    );
    let target = fixture.target();
    let marker = b"CRYPTAINER-PLAINTEXT-MARKER-7f3a9c";

    // Files, fsync, rename, hard link.
    let mut content = Vec::new();
    for _ in 0..1000 {
        content.extend_from_slice(marker);
    }
    write_synced(&target.join("draft"), &content);
    std::fs::rename(target.join("draft"), target.join("final")).unwrap();
    std::fs::hard_link(target.join("final"), target.join("link")).unwrap();
    assert_eq!(std::fs::read(target.join("link")).unwrap(), content);

    // Unaligned writes inside a file go through ext4, but an odd-sized
    // pattern checks the whole stack byte for byte.
    let odd: Vec<u8> = (0..100_003u32).map(|i| (i % 251) as u8).collect();
    write_synced(&target.join("odd"), &odd);

    // mmap: write through a shared mapping, msync, read back with read(2).
    let mapped_path = target.join("mapped");
    let mapped = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&mapped_path)
        .unwrap();
    mapped.set_len(8192).unwrap();
    {
        // SAFETY: a fresh shared mapping of a file we own and keep open for
        // the mapping's lifetime; unmapped below.
        let pointer = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                8192,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::SHARED,
                &mapped,
                0,
            )
        }
        .unwrap();
        // SAFETY: the mapping is 8192 bytes long and writable.
        let bytes = unsafe { std::slice::from_raw_parts_mut(pointer.cast::<u8>(), 8192) };
        bytes[4096..4096 + marker.len()].copy_from_slice(marker);
        // SAFETY: the same mapping, still valid.
        unsafe { rustix::mm::msync(pointer, 8192, rustix::mm::MsyncFlags::SYNC) }.unwrap();
        // SAFETY: unmapping the mapping made above; `bytes` is not used again.
        unsafe { rustix::mm::munmap(pointer, 8192) }.unwrap();
    }
    let mut read_back = vec![0; marker.len()];
    mapped.read_exact_at(&mut read_back, 4096).unwrap();
    assert_eq!(read_back, marker);

    // flock: a second open file description cannot take the lock.
    let first = File::open(target.join("final")).unwrap();
    let second = File::open(target.join("final")).unwrap();
    rustix::fs::flock(&first, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    assert!(
        rustix::fs::flock(
            &second,
            rustix::fs::FlockOperation::NonBlockingLockExclusive
        )
        .is_err()
    );
    rustix::fs::flock(&first, rustix::fs::FlockOperation::Unlock).unwrap();

    // xattrs.
    rustix::fs::setxattr(
        target.join("final").as_path(),
        "user.cryptainer",
        b"xattr-value",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    drop((first, second, mapped));
    rustix::fs::sync();

    fixture.unmount();
    assert!(
        !image_contains(&image, marker),
        "plaintext marker found in the image"
    );

    // Remount with the same key: everything is there.
    fixture.mount("posix", &secret);
    assert_eq!(std::fs::read(target.join("final")).unwrap(), content);
    assert_eq!(std::fs::read(target.join("link")).unwrap(), content);
    assert!(!target.join("draft").exists());
    assert_eq!(std::fs::read(target.join("odd")).unwrap(), odd);
    assert_eq!(
        &std::fs::read(&mapped_path).unwrap()[4096..4096 + marker.len()],
        marker
    );
    let mut value = [0u8; 64];
    let length = rustix::fs::getxattr(
        target.join("final").as_path(),
        "user.cryptainer",
        &mut value,
    )
    .unwrap();
    assert_eq!(&value[..length], b"xattr-value");
    fixture.unmount();
}

/// The value of a `NAME:   N kB` line of a `/proc` file such as `status`.
fn kib_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .map(|value| value.trim().trim_end_matches("kB").trim().parse().unwrap())
        .unwrap_or_else(|| panic!("no {name} line in {text}"))
}

#[test]
fn the_engine_drops_inherited_descriptors_reads_into_huge_pages_and_stays_small() {
    let mut fixture = Fixture::new();
    fixture.store.create("hygiene", SIZE).unwrap();
    // A descriptor without close-on-exec in the control process, as a
    // careless parent could leave one: the engine must not keep it.
    let private_path = fixture.dir.path().join("control-process-only");
    std::fs::write(&private_path, b"not for the engine").unwrap();
    let private = File::open(&private_path).unwrap();
    let inherited = rustix::io::dup(&private).unwrap();
    assert!(
        !rustix::io::fcntl_getfd(&inherited)
            .unwrap()
            .contains(rustix::io::FdFlags::CLOEXEC)
    );
    let secret = Secret::generate();
    let mounted = fixture.mount("hygiene", &secret);
    let pid = mounted.engine_pid().unwrap();
    drop(inherited);

    let descriptors: Vec<PathBuf> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.unwrap().path()).ok())
        .collect();
    assert!(
        !descriptors.contains(&private_path),
        "the engine kept an inherited descriptor: {descriptors:?}"
    );

    // Read through the engine with the page caches above it bypassed, so
    // its workers map their request buffers.
    let target = fixture.target();
    let data: Vec<u8> = (0..8u32 << 20).map(|i| (i % 253) as u8).collect();
    write_synced(&target.join("data"), &data);
    let direct = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(target.join("data"))
        .unwrap();
    // The engine's own buffer type gives the alignment a direct read needs.
    let mut buffer = volume::buffer::RequestBuffer::new(1 << 20).unwrap();
    let block = buffer.part(1 << 20).unwrap();
    for offset in (0..data.len()).step_by(1 << 20) {
        direct.read_exact_at(block, offset as u64).unwrap();
        assert_eq!(&block[..], &data[offset..offset + (1 << 20)]);
    }
    let thp =
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    let huge_kib = kib_field(&rollup, "AnonHugePages:");
    if thp.contains("[never]") || thp.is_empty() {
        eprintln!("transparent huge pages are off here ({thp:?}): not checked");
    } else {
        assert!(
            huge_kib >= 2048,
            "THP is {thp:?} but the engine's request buffers have no huge page: {rollup}"
        );
    }
    drop(direct);

    // Memory is locked as it is touched, not as it is mapped: each worker
    // has fuser's 16 MiB request buffer, of which requests use at most the
    // first MiB, and its own 2 MiB one. Locked whole when mapped, eight
    // workers made 166 MiB resident.
    let workers = volume::engine::default_threads();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let resident_kib = kib_field(&status, "VmRSS:");
    let bound_kib = (24 + 4 * workers as u64) << 10;
    assert!(
        resident_kib <= bound_kib,
        "the engine ({workers} workers) has {resident_kib} KiB resident, more than {bound_kib}"
    );
    fixture.unmount();
}

#[test]
fn killing_the_engine_loses_nothing_that_was_fsynced() {
    let mut fixture = Fixture::new();
    fixture.store.create("crash", SIZE).unwrap();
    let secret = Secret::generate();
    let target = fixture.target();
    let pid = fixture.mount("crash", &secret).engine_pid().unwrap();

    let synced: Vec<(PathBuf, Vec<u8>)> = (0..20u8)
        .map(|index| {
            let path = target.join(format!("synced-{index}"));
            let data = vec![index; 64 * 1024 + usize::from(index)];
            write_synced(&path, &data);
            (path, data)
        })
        .collect();
    // Unsynced writes in flight when the engine dies.
    let writer_target = target.clone();
    let writer = std::thread::spawn(move || {
        for index in 0..200 {
            let Ok(mut file) = File::create(writer_target.join(format!("unsynced-{index}"))) else {
                return;
            };
            if file.write_all(&[7u8; 256 * 1024]).is_err() {
                return;
            }
        }
    });
    wait_until("the unsynced writer to start", || {
        target.join("unsynced-1").exists()
    });
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let _ = writer.join();
    wait_until("the engine to die", || !alive(pid));
    drop(fixture.mounted.take());

    // Recovery cleans up the dead engine's mounts; a fresh engine replays the journal.
    let found = Mounted::recover(&fixture.store, &fixture.engine).unwrap();
    assert!(found.is_empty());
    fixture.mount("crash", &secret);
    for (path, data) in &synced {
        assert_eq!(
            &std::fs::read(path).unwrap(),
            data,
            "{} lost",
            path.display()
        );
    }
    fixture.unmount();
}

#[test]
fn fencing_a_busy_volume_stops_it_at_once_and_keeps_what_was_fsynced() {
    let mut fixture = Fixture::new();
    fixture.store.create("fenced", SIZE).unwrap();
    let secret = Secret::generate();
    let target = fixture.target();
    fixture.mount("fenced", &secret);
    write_synced(&target.join("before"), b"synced before the fence");
    // A writer keeps the filesystem busy: an unmount would be refused.
    let mut busy = File::create(target.join("busy")).unwrap();
    busy.write_all(b"in use").unwrap();
    busy.sync_all().unwrap();

    let mounted = fixture.mounted.take().unwrap();
    let pid = mounted.engine_pid().unwrap();
    let state_dir = mounted.state_dir().to_owned();
    let fuse_dir = state_dir.join("fuse");
    let loop_device = mounted.loop_device().to_owned();
    mounted.fence().map_err(|still| still.error).unwrap();

    // The engine is gone at once, the writer only gets I/O errors.
    assert!(!alive(pid), "engine {pid} still runs");
    assert!(!state_dir.exists(), "state directory left behind");
    let mounts = volume::mount::mounts().unwrap();
    assert!(!mounts.iter().any(|entry| entry.target == target));
    assert!(!mounts.iter().any(|entry| entry.target == fuse_dir));
    let written = busy
        .write_all(&[1u8; 1 << 20])
        .and_then(|()| busy.sync_all());
    assert!(written.is_err(), "a write after the fence reached the disk");
    // Once the writer lets go, nothing of the volume is left.
    drop(busy);
    wait_until("the loop device to clear itself", || {
        !loop_serves(&loop_device, &fuse_dir)
    });
    assert_clean(&target, &fuse_dir, &loop_device, pid, &state_dir);

    // The volume mounts again with what was synced before the fence.
    fixture.mount("fenced", &secret);
    assert_eq!(
        std::fs::read(target.join("before")).unwrap(),
        b"synced before the fence"
    );
    fixture.unmount();
}

#[test]
fn a_flipped_ciphertext_byte_crashes_nothing() {
    let mut fixture = Fixture::new();
    fixture.store.create("flip", SIZE).unwrap();
    let secret = Secret::generate();
    let target = fixture.target();
    let loop_device = fixture.mount("flip", &secret).loop_device().to_owned();
    let victim: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 253) as u8).collect();
    write_synced(&target.join("victim"), &victim);
    write_synced(&target.join("bystander"), b"unharmed");
    // Where the victim's first block lives on the device.
    let debugfs = Command::new("debugfs")
        .arg("-R")
        .arg("blocks /victim")
        .arg(&loop_device)
        .output()
        .unwrap();
    let block: u64 = String::from_utf8_lossy(&debugfs.stdout)
        .split_whitespace()
        .next()
        .and_then(|first| first.parse().ok())
        .unwrap_or_else(|| panic!("no block from debugfs: {debugfs:?}"));
    let image = fixture.store.get("flip").unwrap().image().to_owned();
    fixture.unmount();

    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&image)
        .unwrap();
    let offset = (16 << 20) + block * 4096 + 100;
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.read_exact(&mut byte).unwrap();
    file.write_all_at(&[byte[0] ^ 0x01], offset).unwrap();
    file.sync_all().unwrap();

    let pid = fixture.mount("flip", &secret).engine_pid().unwrap();
    // The damaged block reads as garbage (XTS has no integrity): the file
    // differs, the rest of the volume is intact, the engine keeps serving.
    match std::fs::read(target.join("victim")) {
        Ok(read) => {
            assert_eq!(read.len(), victim.len());
            assert_ne!(read, victim);
            assert_eq!(
                read[4096..],
                victim[4096..],
                "damage spread past one sector"
            );
        }
        Err(error) => assert_eq!(error.raw_os_error(), Some(libc::EIO)),
    }
    assert_eq!(
        std::fs::read(target.join("bystander")).unwrap(),
        b"unharmed"
    );
    assert!(alive(pid));
    fixture.unmount();
}

#[test]
fn store_rejects_bad_names_and_sizes_and_images_are_sparse() {
    let fixture = Fixture::new();
    assert!(fixture.store.create("../escape", SIZE).is_err());
    assert!(fixture.store.create(".hidden", SIZE).is_err());
    assert!(fixture.store.create("odd-size", 4097).is_err());
    assert!(fixture.store.create("zero", 0).is_err());
    let big = fixture.store.create("big", 20 << 30).unwrap();
    let metadata = std::fs::metadata(big.image()).unwrap();
    assert_eq!(metadata.len(), (20 << 30) + (16 << 20));
    assert!(
        std::os::unix::fs::MetadataExt::blocks(&metadata) < 64,
        "image is not sparse"
    );
    assert!(matches!(
        fixture.store.create("big", SIZE),
        Err(volume::VolumeError::AlreadyExists(_))
    ));
    assert_eq!(fixture.store.list().unwrap(), vec!["big".to_owned()]);
    fixture.store.remove(big).unwrap();
    assert!(fixture.store.list().unwrap().is_empty());
}

/// Issue 19: the engine read every image at its own copy of the data offset
/// (16 MiB), which matched the header only because both said so. An image
/// that cryptsetup formatted with its data elsewhere (offline encryption
/// puts it at 8 MiB) must open where its header says, with the sector size
/// the header says.
#[test]
fn an_image_cryptsetup_encrypted_opens_at_the_offset_its_header_gives() {
    let mut fixture = Fixture::new();
    let scratch = fixture.dir.path().join("plain");
    std::fs::create_dir_all(&scratch).unwrap();
    let content: Vec<u8> = (0..300_007u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(scratch.join("kept"), &content).unwrap();
    // A 48 MiB ext4 filesystem holding the file, in a 64 MiB file: offline
    // encryption takes 16 MiB from the end for the header.
    let image = fixture.dir.path().join("store").join("foreign.img");
    File::create(&image).unwrap().set_len(64 << 20).unwrap();
    let made = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-b", "4096", "-d"])
        .arg(&scratch)
        .arg(&image)
        .arg("12288")
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let secret = Secret::generate();
    let key_file = fixture.dir.path().join("passphrase");
    std::fs::write(&key_file, &secret.0).unwrap();
    let encrypted = Command::new("cryptsetup")
        .args([
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
            "--force-offline-reencrypt",
            "--key-file",
        ])
        .arg(&key_file)
        .arg(&image)
        .output()
        .unwrap();
    assert!(encrypted.status.success(), "{encrypted:?}");
    assert!(!image_contains(&image, &content[..4096]), "not encrypted");

    let unlocked = fixture
        .store
        .get("foreign")
        .unwrap()
        .open(&secret.keyslot())
        .unwrap();
    assert_eq!(unlocked.data_segment().offset, 8 << 20);
    assert_eq!(unlocked.data_segment().sector_size, 4096);
    let mounted = unlocked
        .mount(&fixture.target(), Filesystem::Ext4, &fixture.engine)
        .unwrap();
    fixture.mounted = Some(mounted);
    assert_eq!(
        std::fs::read(fixture.target().join("kept")).unwrap(),
        content,
        "the file cryptsetup encrypted reads back"
    );
    fixture.unmount();
}
