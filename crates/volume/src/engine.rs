//! The body of the engine process (`cryptainer volume-engine`): one process per
//! mounted volume, holding the only copy of the volume key, serving the FUSE
//! block file, and owning the loop device and the mount.
//!
//! Protocol with the control process: the engine reads exactly
//! [`KEY_LEN`] key bytes from standard input (a pipe), then writes one line to
//! standard output: `ready` once the filesystem is mounted, or `error: …`.
//! SIGTERM (or SIGINT) unmounts, detaches and exits; so does the end of the
//! FUSE session. SIGUSR1 fences: the engine stops serving at once, even while
//! the filesystem is in use (see `Running::fence`).

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use fuser::{Config, MountOption, Session};
use zeroize::Zeroizing;

use crate::VolumeError;
use crate::cipher::BlockCipher;
use crate::device::{BlockFile, DISK_FILE_NAME, MAX_IN_FLIGHT};
use crate::loopdev::LoopDevice;
use crate::mount::{self, Filesystem};
use crate::state::{EngineState, UserState};

/// The length of a volume key in bytes (AES-256-XTS: two 256-bit keys).
pub const KEY_LEN: usize = 64;
/// The sector size of the volumes this crate formats (`luks::format`): the
/// cipher's sector size and the decrypted device's logical block size.
pub const SECTOR_SIZE: u32 = luks::NEW_SECTOR_SIZE;
/// The name of the FUSE mount point inside a volume's state directory.
pub const FUSE_DIR: &str = "fuse";

/// The subcommand of the `cryptainer` binary that runs the engine
/// (`cryptainer volume-engine`): the control API starts the engine as that
/// program, and the binary hands everything after it to [`main`].
pub const SUBCOMMAND: &str = "volume-engine";

/// What the engine serves; the control process passes these as arguments
/// ([`EngineArgs::to_args`]) and the engine reads them back
/// ([`EngineArgs::parse`]): one module writes and reads them. Nothing here is
/// secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineArgs {
    /// The encrypted image file.
    pub image: PathBuf,
    /// Where the data segment starts in the image, in bytes (from its LUKS2
    /// header).
    pub data_offset: u64,
    /// The data segment's length in bytes, or `None` to the end of the
    /// image (LUKS2's "dynamic").
    pub data_size: Option<u64>,
    /// The data segment's encryption sector size in bytes (from its LUKS2
    /// header); also the loop device's logical block size.
    pub sector_size: u32,
    /// This volume's state directory (pid, mount point, loop device).
    pub state_dir: PathBuf,
    /// Where to mount the decrypted filesystem.
    pub target: PathBuf,
    /// The filesystem to create on first use.
    pub filesystem: Filesystem,
    /// FUSE worker threads, 1 to 64 (default: four per core, at least
    /// eight, at most 64).
    pub threads: Option<usize>,
}

impl EngineArgs {
    /// The command-line arguments that [`parse`](Self::parse) reads back.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--image".into(),
            self.image.clone().into(),
            "--data-offset".into(),
            self.data_offset.to_string().into(),
            "--sector-size".into(),
            self.sector_size.to_string().into(),
            "--state-dir".into(),
            self.state_dir.clone().into(),
            "--target".into(),
            self.target.clone().into(),
            "--fs".into(),
            self.filesystem.name().into(),
        ];
        if let Some(size) = self.data_size {
            args.extend(["--data-size".into(), size.to_string().into()]);
        }
        if let Some(threads) = self.threads {
            args.extend(["--threads".into(), threads.to_string().into()]);
        }
        args
    }

    /// Reads the arguments [`to_args`](Self::to_args) wrote (in any order).
    /// Only the control API writes them, so a mistake is a precise error,
    /// not help text.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<EngineArgs, VolumeError> {
        let mut image = None;
        let mut data_offset = None;
        let mut data_size = None;
        let mut sector_size = None;
        let mut state_dir = None;
        let mut target = None;
        let mut filesystem = Filesystem::default();
        let mut threads = None;
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let flag = flag.to_string_lossy().into_owned();
            let value = args
                .next()
                .ok_or_else(|| VolumeError::EngineArgs(format!("{flag} needs a value")))?;
            let text = || {
                value.to_str().ok_or_else(|| {
                    VolumeError::EngineArgs(format!("the value of {flag} is not UTF-8"))
                })
            };
            let number = || {
                text()?.parse::<u64>().map_err(|_| {
                    VolumeError::EngineArgs(format!("the value of {flag} is not a number"))
                })
            };
            match flag.as_str() {
                "--image" => image = Some(PathBuf::from(&value)),
                "--data-offset" => data_offset = Some(number()?),
                "--data-size" => data_size = Some(number()?),
                "--sector-size" => {
                    sector_size = Some(u32::try_from(number()?).map_err(|_| {
                        VolumeError::EngineArgs("--sector-size is too large".to_owned())
                    })?);
                }
                "--state-dir" => state_dir = Some(PathBuf::from(&value)),
                "--target" => target = Some(PathBuf::from(&value)),
                "--fs" => filesystem = text()?.parse()?,
                "--threads" => {
                    threads = Some(parse_threads(text()?).map_err(VolumeError::EngineArgs)?);
                }
                other => {
                    return Err(VolumeError::EngineArgs(format!(
                        "unknown argument {other:?}"
                    )));
                }
            }
        }
        let missing = |flag: &str| VolumeError::EngineArgs(format!("{flag} is missing"));
        Ok(EngineArgs {
            image: image.ok_or_else(|| missing("--image"))?,
            data_offset: data_offset.ok_or_else(|| missing("--data-offset"))?,
            data_size,
            sector_size: sector_size.ok_or_else(|| missing("--sector-size"))?,
            state_dir: state_dir.ok_or_else(|| missing("--state-dir"))?,
            target: target.ok_or_else(|| missing("--target"))?,
            filesystem,
            threads,
        })
    }
}

/// The default number of FUSE workers: four per core, at least eight, and
/// no more than the requests the kernel keeps in flight
/// ([`MAX_IN_FLIGHT`]). Workers mostly wait on the image's storage, not on
/// the CPU: with one per core, cold sequential reads ran at half the disk's
/// speed (two workers on two cores). Each worker that has served a request
/// keeps its buffers (about 3 MiB, locked), hence the ceiling.
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    cores.saturating_mul(4).clamp(8, usize::from(MAX_IN_FLIGHT))
}

/// Parses a `--threads` value: a whole number from 1 to [`MAX_IN_FLIGHT`].
pub fn parse_threads(value: &str) -> Result<usize, String> {
    let most = usize::from(MAX_IN_FLIGHT);
    match value.parse::<usize>() {
        Ok(threads) if (1..=most).contains(&threads) => Ok(threads),
        _ => Err(format!(
            "'{value}' is not a number of worker threads: give a whole number from 1 to {most} \
             (more than {most} could never all be busy)"
        )),
    }
}

/// The engine process's whole life, and the one way into it: the
/// `cryptainer` binary calls this with the arguments after
/// [`SUBCOMMAND`] before it does anything else, and every engine, the
/// agent's and the tests', runs through it. It closes the descriptors the
/// process inherited first of all, then sets up logging (`init_logging`,
/// the binary's own), reads its arguments and the volume key, and serves
/// until told to stop. Failures are logged and reported to the control
/// process; the exit status says whether the engine stopped cleanly.
pub fn main(args: impl IntoIterator<Item = OsString>, init_logging: impl FnOnce()) -> ExitCode {
    close_inherited_descriptors();
    init_logging();
    let result = EngineArgs::parse(args).and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %chain(&error), "the volume engine stopped");
            ExitCode::FAILURE
        }
    }
}

/// Reads the key from standard input, mounts, reports `ready`, serves until
/// told to stop, and tears everything down. The key bytes are wiped as soon
/// as the cipher is built from them.
fn run(args: &EngineArgs) -> Result<(), VolumeError> {
    harden();
    let built = read_key_and_build_cipher(args);
    let cipher = match built {
        Ok(cipher) => cipher,
        Err(error) => {
            report(&format!("error: {}", chain(&error)));
            return Err(error);
        }
    };
    // Block the stop signals before any thread starts, so every thread
    // inherits the mask and only the signal thread receives them.
    let signals = stop_signals();
    block(&signals)?;
    match start(args, cipher) {
        Ok(running) => {
            report("ready");
            running.serve(signals)
        }
        Err(error) => {
            report(&format!("error: {}", chain(&error)));
            Err(error)
        }
    }
}

/// Reads the [`KEY_LEN`] key bytes from standard input and builds the
/// sector cipher of `args.sector_size` from them; the bytes are wiped when
/// this returns.
fn read_key_and_build_cipher(args: &EngineArgs) -> Result<luks::SectorCipher, VolumeError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    std::io::stdin()
        .lock()
        .read_exact(key.as_mut())
        .map_err(|source| VolumeError::io("reading the key from", "standard input", source))?;
    let key = luks::VolumeKey::from_bytes(key.as_ref())
        .map_err(|error| VolumeError::Cipher(Box::new(error)))?;
    let sector_size = usize::try_from(args.sector_size).map_err(|_| VolumeError::InvalidSize(0))?;
    luks::SectorCipher::new(&key, sector_size).map_err(|error| VolumeError::Cipher(Box::new(error)))
}

/// Closes every file descriptor above standard error that the engine
/// inherited: a control process may hold descriptors without close-on-exec
/// (sockets, lock files, other volumes' files), and the engine, which lives
/// for as long as its volume is mounted, must not keep them open (a held
/// lock or socket would outlive its owner, and nothing the engine does
/// needs them). [`main`] calls it before anything is opened.
fn close_inherited_descriptors() {
    // SAFETY: close_range only takes integers. Called first thing in
    // `main`, before the engine opens any file, so no object of this
    // process owns a descriptor above 2 (standard input, output and error
    // stay: the key, the report and the log).
    let result = unsafe { libc::close_range(3, libc::c_uint::MAX, 0) };
    if result != 0 {
        eprintln!(
            "warning: close_range failed ({}); inherited descriptors stay open",
            std::io::Error::last_os_error()
        );
    }
}

/// Locks memory so the key schedule never reaches swap, forbids core dumps
/// and ptrace by other users, marks the process as an I/O flusher (so memory
/// reclaim does not wait on the writes it must itself complete), and leaves
/// the control process's session so its signals do not reach the engine.
///
/// Pages are locked as they are first touched (`MCL_ONFAULT`), not when
/// they are mapped: each FUSE worker's request buffer (fuser's, 16 MiB, of
/// which requests of at most 1 MiB use the start) and its thread stack
/// would otherwise be made resident whole: 166-175 MiB for an engine of
/// eight workers, against 13-28 MiB.
fn harden() {
    use rustix::mm::{MlockAllFlags, mlockall};
    use rustix::process::{DumpableBehavior, set_dumpable_behavior};
    let on_fault = MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT;
    // Kernels before 4.4 know no MCL_ONFAULT (EINVAL): lock everything.
    let locked = mlockall(on_fault).or_else(|error| match error {
        rustix::io::Errno::INVAL => mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE),
        other => Err(other),
    });
    if let Err(error) = locked {
        tracing::warn!(%error, "mlockall failed; the key schedule may be swapped out");
    }
    if let Err(error) = set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        tracing::warn!(%error, "PR_SET_DUMPABLE failed");
    }
    if let Err(error) = rustix::process::configure_io_flusher_behavior(true) {
        tracing::warn!(%error, "PR_SET_IO_FLUSHER failed");
    }
    if let Err(error) = rustix::process::setsid() {
        tracing::warn!(%error, "setsid failed");
    }
}

/// Writes one line to the control process.
fn report(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// An error and its sources on one line, for logs and the report line.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace('\n', " ")
}

/// Whether zeroing punches holes in the image ([`BlockFile::zeroing_switch`]),
/// and whether the image's filesystem can.
struct Zeroing {
    switch: Arc<AtomicBool>,
    cheap: bool,
}

/// What the engine holds while it serves.
struct Running {
    state_dir: PathBuf,
    target: PathBuf,
    loop_device: Option<LoopDevice>,
    fuse_dir: PathBuf,
    events: mpsc::Receiver<Event>,
    events_sender: mpsc::Sender<Event>,
    /// Whether the FUSE session has reported its end (it does so once).
    session_ended: bool,
}

enum Event {
    Signal(i32),
    SessionEnded,
}

fn start<C: BlockCipher>(args: &EngineArgs, cipher: C) -> Result<Running, VolumeError> {
    let filesystem = args.filesystem;
    let image = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&args.image)
        .map_err(|source| VolumeError::io("opening", &args.image, source))?;
    // One engine per image: a second one would corrupt the filesystem.
    rustix::fs::flock(&image, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(|_| VolumeError::Busy(args.image.clone()))?;
    let fuse_dir = args.state_dir.join(FUSE_DIR);
    std::fs::create_dir_all(&fuse_dir)
        .map_err(|source| VolumeError::io("creating", &fuse_dir, source))?;
    let block_file = BlockFile::new(image, args.data_offset, args.data_size, Arc::new(cipher))?;
    let zeroing = Zeroing {
        switch: block_file.zeroing_switch(),
        cheap: block_file.punches_holes(),
    };

    let threads = args.threads.unwrap_or_else(default_threads);
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName("cryptainer".to_owned()),
        MountOption::Subtype("cryptainer".to_owned()),
        MountOption::NoDev,
        MountOption::NoSuid,
        MountOption::NoExec,
        MountOption::NoAtime,
    ];
    config.n_threads = Some(threads);
    config.clone_fd = true;
    let session = Session::new(block_file, &fuse_dir, &config)
        .map_err(|source| VolumeError::io("mounting FUSE on", &fuse_dir, source))?;
    let background = session
        .spawn()
        .map_err(|source| VolumeError::io("starting the FUSE session on", &fuse_dir, source))?;
    let (events_sender, events) = mpsc::channel();
    let session_sender = events_sender.clone();
    std::thread::Builder::new()
        .name("fuse-session".to_owned())
        .spawn(move || {
            if let Err(error) = background.join() {
                tracing::warn!(%error, "FUSE session ended with an error");
            }
            let _ = session_sender.send(Event::SessionEnded);
        })
        .map_err(|source| VolumeError::io("starting a thread for", &fuse_dir, source))?;

    let mut running = Running {
        state_dir: args.state_dir.clone(),
        target: args.target.clone(),
        loop_device: None,
        fuse_dir: fuse_dir.clone(),
        events,
        events_sender,
        session_ended: false,
    };
    match running.attach_and_mount(&fuse_dir, filesystem, args, &zeroing) {
        Ok(()) => Ok(running),
        Err(error) => {
            running.teardown();
            Err(error)
        }
    }
}

impl Running {
    fn attach_and_mount(
        &mut self,
        fuse_dir: &Path,
        filesystem: Filesystem,
        args: &EngineArgs,
        zeroing: &Zeroing,
    ) -> Result<(), VolumeError> {
        let disk_path = fuse_dir.join(DISK_FILE_NAME);
        let disk = open_block_file(&disk_path)?;
        let loop_device = LoopDevice::attach(&disk, args.sector_size)?;
        drop(disk);
        let device = loop_device.path().to_owned();
        let direct_io = loop_device.direct_io();
        self.loop_device = Some(loop_device);

        let found = mount::probe(&device)?;
        let fs_name = match found {
            Some(found) => found,
            None => {
                tracing::info!(device = %device.display(), filesystem = filesystem.name(), "creating a filesystem on first use");
                // A new volume's image is empty: while mkfs runs, zeroing a
                // range punches a hole, so mkfs zeroes the journal and every
                // inode table now, in moments, and no background thread
                // writes encrypted zeros over them after the mount.
                zeroing.switch.store(zeroing.cheap, Ordering::Release);
                let cost = if zeroing.cheap {
                    mount::Zeroing::Free
                } else {
                    mount::Zeroing::Written
                };
                let made = mount::mkfs(&device, filesystem, cost);
                zeroing.switch.store(false, Ordering::Release);
                made?;
                filesystem.name().to_owned()
            }
        };
        mount::mount(&device, &args.target, &fs_name)?;
        EngineState::User(UserState {
            pid: std::process::id(),
            image: args.image.clone(),
            target: args.target.clone(),
            fuse_dir: fuse_dir.to_owned(),
            loop_device: device,
            direct_io,
        })
        .write(&self.state_dir)
    }

    /// Waits for a stop signal or the end of the FUSE session, then tears down.
    fn serve(mut self, signals: libc::sigset_t) -> Result<(), VolumeError> {
        let signal_sender = self.events_sender.clone();
        std::thread::Builder::new()
            .name("signals".to_owned())
            .spawn(move || {
                loop {
                    let Some(signal) = wait_signal(&signals) else {
                        continue;
                    };
                    if signal_sender.send(Event::Signal(signal)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|source| VolumeError::io("starting a thread for", "signals", source))?;
        loop {
            match self.events.recv() {
                Ok(Event::Signal(libc::SIGUSR1)) => {
                    tracing::warn!(
                        "fenced: the volume's lease could not be kept; stopping at once, whoever still uses the volume"
                    );
                    self.fence();
                    return Ok(());
                }
                Ok(Event::Signal(signal)) => {
                    tracing::info!(signal, "stopping");
                    match mount::unmount(&self.target) {
                        Ok(()) => break,
                        Err(error) => {
                            // Pulling the disk from under a running container would
                            // lose its writes: keep serving until it lets go.
                            tracing::warn!(error = %chain(&error), "not stopping: the volume is still in use");
                        }
                    }
                }
                Ok(Event::SessionEnded) | Err(_) => {
                    self.session_ended = true;
                    tracing::warn!("the FUSE session ended underneath the engine");
                    let _ = mount::unmount_lazy(&self.target);
                    self.teardown();
                    return Err(VolumeError::Engine("the FUSE session ended".to_owned()));
                }
            }
        }
        self.teardown();
        Ok(())
    }

    /// Unmounts the filesystem, detaches the loop device, ends the FUSE
    /// session and removes the state directory, logging what fails.
    fn teardown(&mut self) {
        if let Err(error) = mount::unmount(&self.target) {
            tracing::warn!(error = %chain(&error), "unmounting the volume; detaching it lazily");
            let _ = mount::unmount_lazy(&self.target);
        }
        if let Some(loop_device) = self.loop_device.take() {
            if let Err(error) = loop_device.detach() {
                tracing::warn!(error = %chain(&error), "detaching the loop device");
            }
        }
        // fuser's own unmounter lives in the background session once it is
        // spawned, so unmount the FUSE mount point directly: the workers then
        // read ENODEV and stop.
        if let Err(error) = mount::unmount(&self.fuse_dir) {
            tracing::warn!(error = %chain(&error), "unmounting the FUSE block file; detaching it lazily");
            let _ = mount::unmount_lazy(&self.fuse_dir);
        }
        self.wait_session_end();
        self.remove_state();
    }

    /// Stops serving the volume at once, whoever still uses it, so that no
    /// write reaches the image any more (the agent fences a volume whose
    /// lease it could not keep): detaches the filesystem from the namespace,
    /// aborts the FUSE connection (the loop device and the filesystem on it
    /// then read and write only I/O errors), detaches the loop device (it
    /// clears itself once the last user lets go), waits for the FUSE workers
    /// to stop and removes the state. The key is wiped when the engine exits.
    fn fence(&mut self) {
        let _ = mount::unmount_lazy(&self.target);
        if let Err(error) = mount::abort_fuse(&self.fuse_dir) {
            tracing::warn!(error = %chain(&error), "aborting the FUSE connection");
        }
        if let Some(loop_device) = self.loop_device.take() {
            loop_device.detach_later();
        }
        self.wait_session_end();
        self.remove_state();
    }

    /// Waits until the session thread reports that every FUSE worker has
    /// stopped, unless it has already.
    fn wait_session_end(&mut self) {
        while !self.session_ended {
            match self.events.recv() {
                Ok(Event::SessionEnded) | Err(_) => self.session_ended = true,
                Ok(Event::Signal(_)) => {}
            }
        }
    }

    /// Removes the state directory: the volume is no longer served.
    fn remove_state(&self) {
        let _ = std::fs::remove_file(self.state_dir.join(crate::state::STATE_FILE));
        let _ = std::fs::remove_dir(self.state_dir.join(FUSE_DIR));
        let _ = std::fs::remove_file(self.state_dir.join("engine.log"));
        let _ = std::fs::remove_dir(&self.state_dir);
    }
}

/// Opens the FUSE block file for the loop device, with `O_DIRECT` when the
/// kernel accepts it on FUSE (it does for files opened with `FOPEN_DIRECT_IO`).
fn open_block_file(path: &Path) -> Result<File, VolumeError> {
    let direct = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path);
    match direct {
        Ok(file) => Ok(file),
        Err(error) => {
            tracing::warn!(%error, "O_DIRECT refused on the FUSE block file; opening it buffered");
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(|source| VolumeError::io("opening", path, source))
        }
    }
}

fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is a plain bit set; an all-zero value is a valid
    // argument for sigemptyset, which initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable sigset_t for each call.
    unsafe {
        libc::sigemptyset(&raw mut set);
        libc::sigaddset(&raw mut set, libc::SIGTERM);
        libc::sigaddset(&raw mut set, libc::SIGINT);
        libc::sigaddset(&raw mut set, libc::SIGHUP);
        libc::sigaddset(&raw mut set, libc::SIGUSR1);
    }
    set
}

fn block(set: &libc::sigset_t) -> Result<(), VolumeError> {
    // SAFETY: `set` is an initialised sigset_t; the old mask is not wanted.
    let result = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, set, std::ptr::null_mut()) };
    if result == 0 {
        Ok(())
    } else {
        Err(VolumeError::Syscall(
            "pthread_sigmask",
            std::io::Error::from_raw_os_error(result),
        ))
    }
}

fn wait_signal(set: &libc::sigset_t) -> Option<i32> {
    let mut signal = 0;
    // SAFETY: `set` is an initialised sigset_t blocked in every thread, and
    // `signal` is a valid place for sigwait to store the signal number.
    let result = unsafe { libc::sigwait(set, &raw mut signal) };
    (result == 0).then_some(signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_stay_between_one_and_the_requests_in_flight() {
        assert_eq!(parse_threads("1"), Ok(1));
        assert_eq!(parse_threads("64"), Ok(64));
        for bad in ["0", "65", "-1", "eight", "", "1e3"] {
            let message = parse_threads(bad).unwrap_err();
            assert!(
                message.contains(&format!("'{bad}'")) && message.contains("from 1 to 64"),
                "{message}"
            );
        }
        assert!((8..=usize::from(MAX_IN_FLIGHT)).contains(&default_threads()));
    }
}
