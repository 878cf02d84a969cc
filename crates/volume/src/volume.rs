//! The control API: a store of sparse images, and the volume state types
//! `Volume` (locked) → [`Unlocked`] (holds the key) → [`Mounted`] (an engine
//! process serves it). Only an `Unlocked` volume can be mounted, so a mount
//! without a key does not compile.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use luks::{DataSegment, FormatOptions, VolumeKey};
use rustix::process::{Pid, PidfdFlags, Signal};

use crate::VolumeError;
use crate::engine::{EngineArgs, FUSE_DIR, SECTOR_SIZE};
use crate::image::{self, ImageState, KeyslotSecret};
use crate::mount::{self, Filesystem};
use crate::state::EngineState;

/// The default directory holding one state directory per mounted volume.
pub const DEFAULT_STATE_ROOT: &str = "/run/cryptainer/volumes";
/// The program whose [`engine::SUBCOMMAND`](crate::engine::SUBCOMMAND) runs
/// an engine, looked for next to the running program.
pub const ENGINE_PROGRAM: &str = "cryptainer";
/// The suffix of image files in the storage directory.
const IMAGE_SUFFIX: &str = ".img";
/// The largest volume: 16 TiB.
const MAX_SIZE: u64 = 16 << 40;
/// How long an engine may take to stop once told to.
const STOP_DEADLINE: Duration = Duration::from_secs(60);
/// How long a fenced engine may take to stop before it is killed: fencing
/// waits for nobody, so only the teardown itself counts.
const FENCE_DEADLINE: Duration = Duration::from_secs(10);

/// A directory of volume images, one sparse file per volume.
#[derive(Clone, Debug)]
pub struct VolumeStore {
    directory: PathBuf,
}

impl VolumeStore {
    /// Opens (and creates, mode 0700) the storage directory.
    pub fn open(directory: impl Into<PathBuf>) -> Result<VolumeStore, VolumeError> {
        let directory = directory.into();
        std::fs::create_dir_all(&directory)
            .map_err(|source| VolumeError::io("creating", &directory, source))?;
        std::fs::set_permissions(&directory, std::fs::Permissions::from_mode(0o700))
            .map_err(|source| VolumeError::io("restricting", &directory, source))?;
        Ok(VolumeStore { directory })
    }

    /// Creates a volume of `size` usable bytes. The image is sparse: it uses
    /// no disk space until written, and it has no LUKS2 header until its
    /// first mount ([`Volume::open_or_format`]), which puts the data segment
    /// at `luks::NEW_DATA_OFFSET`, so the image holds exactly `size` bytes
    /// of data.
    pub fn create(&self, name: &str, size: u64) -> Result<Volume, VolumeError> {
        let image = self.image_path(name)?;
        if size == 0 || size % u64::from(SECTOR_SIZE) != 0 || size > MAX_SIZE {
            return Err(VolumeError::InvalidSize(size));
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&image)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::AlreadyExists => VolumeError::AlreadyExists(name.to_owned()),
                _ => VolumeError::io("creating", &image, source),
            })?;
        file.set_len(luks::NEW_DATA_OFFSET + size)
            .map_err(|source| VolumeError::io("sizing", &image, source))?;
        file.sync_all()
            .map_err(|source| VolumeError::io("syncing", &image, source))?;
        Ok(Volume {
            name: name.to_owned(),
            image,
        })
    }

    /// The existing volume `name`, locked.
    pub fn get(&self, name: &str) -> Result<Volume, VolumeError> {
        let image = self.image_path(name)?;
        if !image.is_file() {
            return Err(VolumeError::NotFound(name.to_owned()));
        }
        Ok(Volume {
            name: name.to_owned(),
            image,
        })
    }

    /// Deletes the image of `volume`, which must not be mounted (a mounted
    /// volume is a [`Mounted`], not a [`Volume`]).
    pub fn remove(&self, volume: Volume) -> Result<(), VolumeError> {
        std::fs::remove_file(&volume.image)
            .map_err(|source| VolumeError::io("removing", &volume.image, source))
    }

    /// The names of every volume in the store, sorted.
    pub fn list(&self) -> Result<Vec<String>, VolumeError> {
        let entries = std::fs::read_dir(&self.directory)
            .map_err(|source| VolumeError::io("listing", &self.directory, source))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                name.strip_suffix(IMAGE_SUFFIX)
                    .filter(|stem| valid_name(stem))
                    .map(str::to_owned)
            })
            .collect();
        names.sort();
        Ok(names)
    }

    fn image_path(&self, name: &str) -> Result<PathBuf, VolumeError> {
        if !valid_name(name) {
            return Err(VolumeError::InvalidName(name.to_owned()));
        }
        Ok(self.directory.join(format!("{name}{IMAGE_SUFFIX}")))
    }
}

/// Volume names are file names: 1 to 64 of `[A-Za-z0-9_.-]`, no leading dot.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
}

/// How to run engines: which binary, where their state directories live.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The program whose [`engine::SUBCOMMAND`](crate::engine::SUBCOMMAND)
    /// runs an engine (`cryptainer`).
    pub engine_binary: PathBuf,
    /// The directory holding one state directory per mounted volume.
    pub state_root: PathBuf,
    /// FUSE worker threads per engine, 1 to 64 (`None`: four per core, at
    /// least eight, at most 64).
    pub threads: Option<usize>,
}

impl EngineConfig {
    /// Engines run as `program volume-engine`, with state under `state_root`.
    pub fn with_program(
        program: impl Into<PathBuf>,
        state_root: impl Into<PathBuf>,
    ) -> EngineConfig {
        EngineConfig {
            engine_binary: program.into(),
            state_root: state_root.into(),
            threads: None,
        }
    }

    /// Engines run as [`ENGINE_PROGRAM`] next to the running program (a tool
    /// installed beside `cryptainer`), state under `state_root`.
    pub fn new(state_root: impl Into<PathBuf>) -> EngineConfig {
        let program = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(ENGINE_PROGRAM)))
            .unwrap_or_else(|| PathBuf::from(ENGINE_PROGRAM));
        EngineConfig::with_program(program, state_root)
    }

    fn state_dir(&self, name: &str) -> PathBuf {
        self.state_root.join(name)
    }
}

/// A volume at rest: its image exists, no key is held, nothing is mounted.
#[derive(Debug)]
pub struct Volume {
    name: String,
    image: PathBuf,
}

impl Volume {
    /// The volume's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The encrypted image file.
    pub fn image(&self) -> &Path {
        &self.image
    }

    /// What the start of the image holds: a fresh image (never mounted) or
    /// a LUKS2 header. Anything else is an error, and the image is left as
    /// it is.
    pub fn state(&self) -> Result<ImageState, VolumeError> {
        image::state(&self.image)
    }

    /// Opens the volume's keyslot with `secret`, reading the data segment
    /// (offset, size, sector size) from the image's LUKS2 header. A secret
    /// that opens no keyslot is [`VolumeError::WrongSecret`].
    pub fn open(self, secret: &KeyslotSecret) -> Result<Unlocked, VolumeError> {
        let (key, segment) = image::open(&self.image, secret.expose_secret())?;
        Ok(Unlocked {
            volume: self,
            key,
            segment,
            formatted_now: false,
        })
    }

    /// Writes the LUKS2 header of a new volume over the fresh image: a new
    /// random volume key, whose keyslot `secret` opens; the header carries
    /// `options` (label, the key manager's token). Refuses an image that is
    /// not fresh ([`VolumeError::AlreadyFormatted`]). If the first mount
    /// after this fails, the image is made fresh again.
    pub fn format(
        self,
        secret: &KeyslotSecret,
        options: &FormatOptions,
    ) -> Result<Unlocked, VolumeError> {
        match self.state()? {
            ImageState::Fresh => {}
            ImageState::Formatted => return Err(VolumeError::AlreadyFormatted(self.image)),
        }
        let (key, segment) = image::format(&self.image, secret.expose_secret(), options)?;
        Ok(Unlocked {
            volume: self,
            key,
            segment,
            formatted_now: true,
        })
    }

    /// [`open`](Self::open) a formatted image, [`format`](Self::format) a
    /// fresh one: what a mount does with the secret the key manager leased.
    pub fn open_or_format(
        self,
        secret: &KeyslotSecret,
        options: &FormatOptions,
    ) -> Result<Unlocked, VolumeError> {
        match self.state()? {
            ImageState::Fresh => self.format(secret, options),
            ImageState::Formatted => self.open(secret),
        }
    }
}

/// A volume with its key in memory, not yet mounted.
pub struct Unlocked {
    volume: Volume,
    key: VolumeKey,
    segment: DataSegment,
    /// Whether this process wrote the header just now: a failed first mount
    /// then makes the image fresh again.
    formatted_now: bool,
}

impl std::fmt::Debug for Unlocked {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Unlocked")
            .field("volume", &self.volume)
            .field("segment", &self.segment)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl Unlocked {
    /// Drops the key (it is wiped) and gives back the locked volume.
    pub fn lock(self) -> Volume {
        self.volume
    }

    /// The data segment the header describes.
    pub fn data_segment(&self) -> DataSegment {
        self.segment
    }

    /// Starts an engine for this volume, hands it the key through a pipe, and
    /// waits until it reports the filesystem mounted at `target` (created with
    /// `filesystem` if the volume is blank). The key is wiped from this
    /// process when this returns, whatever the outcome. A first mount that
    /// fails leaves a fresh image again (it held nothing), and a failure on a
    /// nearly full storage says so ([`VolumeError::StorageFull`]).
    pub fn mount(
        self,
        target: &Path,
        filesystem: Filesystem,
        engine: &EngineConfig,
    ) -> Result<Mounted, VolumeError> {
        let image = self.volume.image.clone();
        let formatted_now = self.formatted_now;
        self.start_engine(target, filesystem, engine)
            .map_err(|error| {
                if formatted_now {
                    image::reset(&image);
                }
                image::explain(&image, error)
            })
    }

    fn start_engine(
        self,
        target: &Path,
        filesystem: Filesystem,
        engine: &EngineConfig,
    ) -> Result<Mounted, VolumeError> {
        let Unlocked {
            volume,
            key,
            segment,
            formatted_now: _,
        } = self;
        let state_dir = engine.state_dir(&volume.name);
        if EngineState::read(&state_dir)?.is_some() {
            return Err(VolumeError::Busy(state_dir));
        }
        let sector_size =
            u32::try_from(segment.sector_size).map_err(|_| VolumeError::InvalidSize(0))?;
        let args = EngineArgs {
            image: volume.image.clone(),
            data_offset: segment.offset,
            data_size: segment.size,
            sector_size,
            state_dir: state_dir.clone(),
            target: target.to_owned(),
            filesystem,
            threads: engine.threads,
        };
        std::fs::create_dir_all(&state_dir)
            .map_err(|source| VolumeError::io("creating", &state_dir, source))?;
        std::fs::set_permissions(&state_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|source| VolumeError::io("restricting", &state_dir, source))?;
        let log_path = state_dir.join("engine.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log_path)
            .map_err(|source| VolumeError::io("opening", &log_path, source))?;

        let mut command = Command::new(&engine.engine_binary);
        command
            .arg(crate::engine::SUBCOMMAND)
            .args(args.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            // Nothing from our environment reaches the engine but a fixed
            // search path for mkfs and blkid.
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            );
        let mut child = command
            .spawn()
            .map_err(|source| VolumeError::io("starting", &engine.engine_binary, source))?;
        let handed_over = child
            .stdin
            .take()
            .ok_or_else(|| VolumeError::Engine("no pipe to the engine".to_owned()))
            .and_then(|mut pipe| {
                pipe.write_all(key.expose_secret()).map_err(|source| {
                    VolumeError::io("handing the key to", &engine.engine_binary, source)
                })
            });
        drop(key);
        let line = handed_over.and_then(|()| {
            let stdout = child
                .stdout
                .take()
                .ok_or_else(|| VolumeError::Engine("no pipe from the engine".to_owned()))?;
            let mut line = String::new();
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|source| {
                    VolumeError::io("reading the engine's report", &log_path, source)
                })?;
            Ok(line)
        });
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(error);
            }
        };
        if line.trim_end() != "ready" {
            let _ = child.wait();
            let _ = std::fs::remove_file(&log_path);
            let _ = std::fs::remove_dir(state_dir.join(FUSE_DIR));
            let _ = std::fs::remove_dir(&state_dir);
            let message = line
                .trim_end()
                .strip_prefix("error: ")
                .unwrap_or("exited without a report");
            return Err(VolumeError::Engine(message.to_owned()));
        }
        let state = EngineState::read(&state_dir)?
            .ok_or_else(|| VolumeError::BadState(state_dir.join(crate::state::STATE_FILE)))?;
        let pidfd = open_pidfd(state.pid)?;
        Ok(Mounted {
            volume,
            state,
            state_dir,
            pidfd,
            child: Some(child),
        })
    }
}

/// A volume served by a running engine and mounted at [`target`](Mounted::target).
/// Dropping it leaves the engine running: only [`unmount`](Mounted::unmount)
/// stops it, and [`recover`](Mounted::recover) finds it again.
pub struct Mounted {
    volume: Volume,
    state: EngineState,
    state_dir: PathBuf,
    pidfd: OwnedFd,
    child: Option<Child>,
}

impl std::fmt::Debug for Mounted {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Mounted")
            .field("volume", &self.volume)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// [`Mounted::unmount`] failed; the volume is still mounted.
#[derive(Debug, thiserror::Error)]
#[error("the volume is still mounted")]
pub struct StillMounted {
    /// The volume, still mounted.
    pub mounted: Box<Mounted>,
    /// Why it could not be unmounted.
    #[source]
    pub error: VolumeError,
}

impl Mounted {
    /// The volume's name.
    pub fn name(&self) -> &str {
        &self.volume.name
    }

    /// Where the decrypted filesystem is mounted.
    pub fn target(&self) -> &Path {
        &self.state.target
    }

    /// The loop device the filesystem is mounted from.
    pub fn loop_device(&self) -> &Path {
        &self.state.loop_device
    }

    /// The engine's process id.
    pub fn engine_pid(&self) -> u32 {
        self.state.pid
    }

    /// Whether the loop device runs with direct I/O on the FUSE file.
    pub fn direct_io(&self) -> bool {
        self.state.direct_io
    }

    /// Unmounts the filesystem (refusing if it is busy), then tells the
    /// engine to detach the loop device, end the FUSE session, wipe the key
    /// and exit, and waits for it to be gone.
    pub fn unmount(self) -> Result<Volume, StillMounted> {
        if let Err(error) = mount::unmount(&self.state.target) {
            return Err(StillMounted {
                mounted: Box::new(self),
                error,
            });
        }
        if let Err(error) = rustix::process::pidfd_send_signal(&self.pidfd, Signal::TERM) {
            // ESRCH: the engine is gone already.
            if error != rustix::io::Errno::SRCH {
                return Err(StillMounted {
                    mounted: Box::new(self),
                    error: VolumeError::sys("pidfd_send_signal", error),
                });
            }
        }
        let mut stopped = self.engine_exited(STOP_DEADLINE)?;
        if let Some(mut child) = stopped.child.take() {
            let _ = child.wait();
        }
        Ok(stopped.volume)
    }

    /// Waits until the engine has exited, at most `deadline`; gives the mount
    /// back if it has not.
    fn engine_exited(self, deadline: Duration) -> Result<Mounted, StillMounted> {
        match wait_exit(&self.pidfd, deadline) {
            Ok(()) => Ok(self),
            Err(error) => Err(StillMounted {
                mounted: Box::new(self),
                error,
            }),
        }
    }

    /// Stops serving the volume at once, even while containers use it (they
    /// get I/O errors from then on): for a node that can no longer keep the
    /// volume's lease, so that another node may take it without two writers.
    /// Detaches the filesystem here, tells the engine to fence (SIGUSR1: it
    /// aborts its FUSE connection, detaches the loop device and exits, wiping
    /// the key), and kills it if it has not exited within `FENCE_DEADLINE` (10 s)
    /// (closing its FUSE device aborts the connection as well). Whatever the
    /// engine left is removed. Fails only if the engine cannot be stopped.
    pub fn fence(self) -> Result<Volume, StillMounted> {
        let _ = mount::unmount_lazy(&self.state.target);
        // ESRCH: the engine is gone already; the wait below returns at once.
        let _ = rustix::process::pidfd_send_signal(&self.pidfd, Signal::USR1);
        let mut stopped = match self.engine_exited(FENCE_DEADLINE) {
            Ok(stopped) => stopped,
            Err(still) => {
                let mounted = *still.mounted;
                tracing::warn!(volume = %mounted.volume.name, "the engine did not stop when fenced; killing it");
                let _ = rustix::process::pidfd_send_signal(&mounted.pidfd, Signal::KILL);
                mounted.engine_exited(FENCE_DEADLINE)?
            }
        };
        if let Some(mut child) = stopped.child.take() {
            let _ = child.wait();
        }
        let _ = mount::abort_fuse(&stopped.state.fuse_dir);
        remove_state_dir(&stopped.state_dir);
        Ok(stopped.volume)
    }

    /// Finds the volumes whose engines still run under `engine.state_root`
    /// (after a restart of the control process), and cleans up after engines
    /// that died: their mount, FUSE mount and state directory.
    pub fn recover(
        store: &VolumeStore,
        engine: &EngineConfig,
    ) -> Result<Vec<Mounted>, VolumeError> {
        let entries = match std::fs::read_dir(&engine.state_root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(VolumeError::io("listing", &engine.state_root, source)),
        };
        let mut mounted = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Ok(volume) = store.get(&name) else {
                continue;
            };
            let state_dir = entry.path();
            let state = EngineState::read(&state_dir)?;
            let alive = state
                .as_ref()
                .and_then(|state| engine_pidfd(state, &state_dir));
            match (state, alive) {
                (Some(state), Some(pidfd)) => mounted.push(Mounted {
                    volume,
                    state,
                    state_dir,
                    pidfd,
                    child: None,
                }),
                (state, _) => {
                    tracing::warn!(volume = %name, "cleaning up after an engine that is gone");
                    clean_up_dead(state.as_ref(), &state_dir);
                }
            }
        }
        Ok(mounted)
    }

    /// The volume's state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }
}

/// A pidfd for the engine in `state`, if that process still runs and is the
/// engine for `state_dir` (not a new process that reused the pid).
fn engine_pidfd(state: &EngineState, state_dir: &Path) -> Option<OwnedFd> {
    let pidfd = open_pidfd(state.pid).ok()?;
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", state.pid)).ok()?;
    let wanted = state_dir.as_os_str().as_encoded_bytes();
    let ours = cmdline
        .split(|byte| *byte == 0)
        .any(|argument| argument == wanted);
    ours.then_some(pidfd)
}

/// Removes what a dead engine left: the mount (lazily: nothing can be
/// written through a dead FUSE connection anyway), the FUSE mount, the state
/// directory. The loop device detaches itself (autoclear) once the
/// filesystem above it is released.
fn clean_up_dead(state: Option<&EngineState>, state_dir: &Path) {
    if let Some(state) = state {
        let _ = mount::unmount_lazy(&state.target);
        let _ = mount::unmount_lazy(&state.fuse_dir);
        if let Some(number) = crate::loopdev::device_number(&state.loop_device) {
            if let Err(error) = crate::loopdev::wait_detached(number, Duration::from_secs(10)) {
                tracing::warn!(error = %crate::engine::chain(&error), "the loop device of a dead engine is still attached");
            }
        }
    } else {
        let _ = mount::unmount_lazy(&state_dir.join(FUSE_DIR));
    }
    remove_state_dir(state_dir);
}

/// Removes a state directory an engine no longer serves from.
fn remove_state_dir(state_dir: &Path) {
    let _ = std::fs::remove_file(state_dir.join(crate::state::STATE_FILE));
    let _ = std::fs::remove_file(state_dir.join("engine.log"));
    let _ = std::fs::remove_dir(state_dir.join(FUSE_DIR));
    let _ = std::fs::remove_dir(state_dir);
}

fn open_pidfd(pid: u32) -> Result<OwnedFd, VolumeError> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(VolumeError::Engine("invalid engine pid".to_owned()))?;
    rustix::process::pidfd_open(pid, PidfdFlags::empty())
        .map_err(|errno| VolumeError::sys("pidfd_open", errno))
}

/// Waits until the process behind `pidfd` has exited.
fn wait_exit(pidfd: &OwnedFd, deadline: Duration) -> Result<(), VolumeError> {
    use rustix::event::{PollFd, PollFlags, poll};
    let until = Instant::now() + deadline;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(VolumeError::Timeout("the volume engine to exit"));
        }
        let timeout = rustix::event::Timespec::try_from(left)
            .map_err(|_| VolumeError::Timeout("the volume engine to exit"))?;
        let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => return Ok(()),
            Err(errno) => return Err(VolumeError::sys("poll", errno)),
        }
    }
}
