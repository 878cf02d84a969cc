//! The volume engine as nodes run it, `cryptainer volume-engine`, started
//! the way the agent starts it (the `cryptainer` binary and the engine
//! subcommand), as root with real FUSE and loop devices; and
//! `cryptainer-volume-ctl` as a control process that exits while its engine
//! serves on. The engine's I/O behaviour is tested in
//! `crates/volume/tests/engine.rs` through the same entry point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // In tests a panic is the failure report.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use volume::{EngineConfig, Filesystem, KeyslotSecret, Mounted, VolumeStore};

const SIZE: u64 = 64 << 20;

/// A store, a state root and a mount point in a temporary directory, with
/// engines run as the agent runs them; unmounts what is left on drop.
/// The tests of this file run one at a time: one makes a descriptor without
/// close-on-exec on purpose, and every process the others start meanwhile
/// (control processes, engines, mkfs, mount) would inherit it; and a mount
/// being set up beside another's unmount made that unmount fail with EBUSY
/// under load (seen once in a full workspace run).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Fixture {
    dir: tempfile::TempDir,
    store: VolumeStore,
    engine: EngineConfig,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(dir.path().join("store")).unwrap();
        // What the agent does: the engine is its own binary's subcommand.
        let engine =
            EngineConfig::with_program(env!("CARGO_BIN_EXE_cryptainer"), dir.path().join("state"));
        Fixture { dir, store, engine }
    }

    fn target(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    /// Formats volume `name` (created before) with a random secret and
    /// mounts it through the engine as the agent starts it.
    fn format_and_mount(&self, name: &str) -> Mounted {
        let secret = KeyslotSecret::new(zeroize::Zeroizing::new(random_secret()));
        self.store
            .get(name)
            .unwrap()
            .open_or_format(&secret, &format_options(name))
            .unwrap()
            .mount(&self.target(), Filesystem::Ext4, &self.engine)
            .unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Ok(found) = Mounted::recover(&self.store, &self.engine) {
            for mounted in found {
                let _ = mounted.unmount();
            }
        }
        let _ = volume::mount::unmount_lazy(&self.target());
    }
}

fn random_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    bytes
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

/// The files `pid` holds open.
fn open_files(pid: u32) -> Vec<PathBuf> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.unwrap().path()).ok())
        .collect()
}

fn write_synced(path: &Path, data: &[u8]) {
    let mut file = File::create(path).unwrap();
    file.write_all(data).unwrap();
    file.sync_all().unwrap();
}

/// Issue 19, bug 1: `cryptainer volume-engine`, the engine the agent really
/// starts, never closed what it inherited (only a separate test binary did),
/// so it kept whatever its control process had open without close-on-exec
/// for as long as the volume stayed mounted.
#[test]
fn the_engine_cryptainer_runs_keeps_no_descriptor_it_inherited() {
    let _serial = one_at_a_time();
    let fixture = Fixture::new();
    fixture.store.create("inherit", SIZE).unwrap();
    let private_path = fixture.dir.path().join("control-process-only");
    std::fs::write(&private_path, b"not for the engine").unwrap();
    let private = File::open(&private_path).unwrap();
    // Without close-on-exec, as a careless control process could hold it.
    let inherited = rustix::io::dup(&private).unwrap();
    assert!(
        !rustix::io::fcntl_getfd(&inherited)
            .unwrap()
            .contains(rustix::io::FdFlags::CLOEXEC)
    );
    let mounted = fixture.format_and_mount("inherit");
    drop(inherited);
    let pid = mounted.engine_pid().unwrap();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        cmdline.starts_with(env!("CARGO_BIN_EXE_cryptainer").as_bytes()),
        "not the cryptainer binary: {}",
        String::from_utf8_lossy(&cmdline)
    );
    let files = open_files(pid);
    assert!(
        !files.contains(&private_path),
        "the engine kept an inherited descriptor: {files:?}"
    );
    // It still holds what it opened itself: the image.
    let image = fixture.store.get("inherit").unwrap().image().to_owned();
    assert!(files.contains(&image), "{files:?}");
    mounted.unmount().map_err(|still| still.error).unwrap();
}

#[test]
fn an_engine_outlives_its_control_process_and_a_new_one_recovers_it() {
    let _serial = one_at_a_time();
    let fixture = Fixture::new();
    fixture.store.create("survivor", SIZE).unwrap();
    let target = fixture.target();
    // The control process is the ctl tool: it starts the engine (the
    // `cryptainer` binary beside it) and exits.
    let mut control = Command::new(env!("CARGO_BIN_EXE_cryptainer-volume-ctl"))
        .arg("--store")
        .arg(fixture.dir.path().join("store"))
        .arg("--state-root")
        .arg(&fixture.engine.state_root)
        .arg("mount")
        .arg("survivor")
        .arg(&target)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    control
        .stdin
        .take()
        .unwrap()
        .write_all(&random_secret())
        .unwrap();
    let output = control.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");

    // The control process is gone; the volume still works.
    write_synced(&target.join("after-control-death"), b"still here");
    assert_eq!(
        std::fs::read(target.join("after-control-death")).unwrap(),
        b"still here"
    );

    // A new control process (this one) finds it and unmounts it.
    let mut found = Mounted::recover(&fixture.store, &fixture.engine).unwrap();
    assert_eq!(found.len(), 1);
    let mounted = found.pop().unwrap();
    assert_eq!(mounted.name(), "survivor");
    assert_eq!(mounted.target(), target);
    let pid = mounted.engine_pid().unwrap();
    mounted.unmount().map_err(|still| still.error).unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| stat.contains(") Z")),
        "engine {pid} still runs"
    );
    assert!(!volume::mount::is_mounted(&target).unwrap());
}

/// Issue 21, item 3: the engine says in its log which FUSE transport it
/// uses and why (FUSE over io_uring is offered by Linux 6.14 and later only
/// while the `fuse` module's `enable_uring` is on).
#[test]
fn the_engine_logs_its_fuse_transport_and_why() {
    let _serial = one_at_a_time();
    let fixture = Fixture::new();
    fixture.store.create("transport", SIZE).unwrap();
    let mounted = fixture.format_and_mount("transport");
    // The kernel's INIT was answered before the loop device could open the
    // block file, so the line is written by the time the mount returns.
    let log = std::fs::read_to_string(mounted.state_dir().join("engine.log")).unwrap();
    let uring_on = std::fs::read_to_string("/sys/module/fuse/parameters/enable_uring")
        .is_ok_and(|value| value.trim() == "Y");
    let line = log
        .lines()
        .find(|line| line.contains("FUSE transport"))
        .unwrap_or_else(|| panic!("no FUSE transport line in the engine's log: {log}"));
    assert!(line.contains("/dev/fuse"), "{line}");
    let expected = if uring_on {
        "the kernel offers FUSE over io_uring"
    } else {
        "the kernel does not offer FUSE over io_uring"
    };
    assert!(line.contains(expected), "enable_uring {uring_on}: {line}");
    mounted.unmount().map_err(|still| still.error).unwrap();
}
