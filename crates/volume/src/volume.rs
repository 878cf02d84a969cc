//! The control API: a store of sparse images, and the volume state types
//! `Volume` (locked) → [`Unlocked`] (holds the key) → [`Mounted`] (an engine
//! process serves it). Only an `Unlocked` volume can be mounted, so a mount
//! without a key does not compile.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use luks::{DataSegment, FormatOptions, VolumeKey};

use crate::VolumeError;
use crate::engine::{EngineArgs, FUSE_DIR, SECTOR_SIZE};
use crate::image::{self, ImageState, KeyslotSecret};
use crate::kernel;
use crate::mount::Filesystem;
use crate::mounted::{Mounted, remove_state_dir};
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

/// The two engines that serve a volume's LUKS2 image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// An engine process per volume: FUSE, a loop device, the sector
    /// cipher in user space. Works wherever FUSE and loop devices do.
    User,
    /// dm-crypt in the kernel ([`crate::kernel`]), where device-mapper works.
    Kernel,
}

impl EngineKind {
    /// `user` or `kernel`, as `--engine` takes it and status files show it.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::User => "user",
            EngineKind::Kernel => "kernel",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

/// Which engine to use (`--engine`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineChoice {
    /// The kernel engine where the probe finds that it works, else the user
    /// engine.
    #[default]
    Auto,
    /// The kernel engine, or an error saying why it cannot work here.
    Kernel,
    /// The user engine.
    User,
}

impl std::str::FromStr for EngineChoice {
    type Err = VolumeError;
    fn from_str(text: &str) -> Result<Self, VolumeError> {
        match text {
            "auto" => Ok(EngineChoice::Auto),
            "kernel" => Ok(EngineChoice::Kernel),
            "user" => Ok(EngineChoice::User),
            other => Err(VolumeError::EngineArgs(format!(
                "unknown engine {other:?}: use auto, kernel or user"
            ))),
        }
    }
}

/// The engine chosen, and why: for the log and the status a node reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineDecision {
    /// The engine new mounts use.
    pub kind: EngineKind,
    /// Why, in a sentence.
    pub reason: String,
}

impl EngineChoice {
    /// Decides on an engine: for `Auto` and `Kernel`, by probing the kernel
    /// engine ([`kernel::probe`], which sets up and removes a throwaway
    /// dm-crypt device); `scratch` is a directory for a device node where
    /// `/dev` has none. `Kernel` fails with the probe's error.
    pub fn decide(self, scratch: &Path) -> Result<EngineDecision, VolumeError> {
        let user = |reason: String| EngineDecision {
            kind: EngineKind::User,
            reason,
        };
        let flag = match self {
            EngineChoice::User => return Ok(user("--engine user".to_owned())),
            EngineChoice::Auto => "--engine auto",
            EngineChoice::Kernel => "--engine kernel",
        };
        match kernel::probe(scratch) {
            Ok(support) => Ok(EngineDecision {
                kind: EngineKind::Kernel,
                reason: format!("{flag}: {support}"),
            }),
            Err(error) if self == EngineChoice::Auto => Ok(user(format!(
                "{flag}: the kernel engine does not work here ({})",
                crate::engine::chain(&error)
            ))),
            Err(error) => Err(VolumeError::KernelEngine(Box::new(error))),
        }
    }
}

/// How to run engines: which engine, which binary, where their state
/// directories live.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The engine new mounts use.
    pub kind: EngineKind,
    /// The program whose [`engine::SUBCOMMAND`](crate::engine::SUBCOMMAND)
    /// runs a user-space engine (`cryptainer`).
    pub engine_binary: PathBuf,

    /// The directory holding one state directory per mounted volume.
    pub state_root: PathBuf,
    /// FUSE worker threads per engine, 1 to 64 (`None`: four per core, at
    /// least eight, at most 64).
    pub threads: Option<usize>,
}

impl EngineConfig {
    /// User-space engines run as `program volume-engine`, with state under
    /// `state_root`; new mounts use the user engine until `kind` says
    /// otherwise.
    pub fn with_program(
        program: impl Into<PathBuf>,
        state_root: impl Into<PathBuf>,
    ) -> EngineConfig {
        EngineConfig {
            kind: EngineKind::User,
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

    pub(crate) fn state_dir(&self, name: &str) -> PathBuf {
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
        let opened = image::open(&self.image, secret.expose_secret())?;
        Ok(Unlocked {
            volume: self,
            key: opened.key,
            segment: opened.segment,
            uuid: opened.uuid,
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
        let opened = image::format(&self.image, secret.expose_secret(), options)?;
        Ok(Unlocked {
            volume: self,
            key: opened.key,
            segment: opened.segment,
            uuid: opened.uuid,
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
    /// The LUKS2 header's UUID.
    uuid: String,
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

    /// Mounts the volume at `target` (its filesystem created with
    /// `filesystem` if the volume is blank) with `engine.kind`: the user
    /// engine's process is started and handed the key through a pipe, and
    /// this waits until it reports the filesystem mounted; the kernel engine
    /// sets up dm-crypt with the key and mounts it here. The key is wiped
    /// from this process when this returns, whatever the outcome. A first
    /// mount that fails leaves a fresh image again (it held nothing), and a
    /// failure on a nearly full storage says so ([`VolumeError::StorageFull`]).
    pub fn mount(
        self,
        target: &Path,
        filesystem: Filesystem,
        engine: &EngineConfig,
    ) -> Result<Mounted, VolumeError> {
        let image = self.volume.image.clone();
        let formatted_now = self.formatted_now;
        let mounted = match engine.kind {
            EngineKind::User => self.start_engine(target, filesystem, engine),
            EngineKind::Kernel => self.activate(target, filesystem, engine),
        };
        mounted.map_err(|error| {
            if formatted_now {
                image::reset(&image);
            }
            image::explain(&image, error)
        })
    }

    /// The kernel engine's mount ([`kernel::activate`]).
    fn activate(
        self,
        target: &Path,
        filesystem: Filesystem,
        engine: &EngineConfig,
    ) -> Result<Mounted, VolumeError> {
        let Unlocked {
            volume,
            key,
            segment,
            uuid,
            formatted_now: _,
        } = self;
        let state_dir = prepare_state_dir(engine, &volume.name)?;
        let setup = kernel::Activation {
            image: &volume.image,
            luks_uuid: &uuid,
            segment,
            dm_name: kernel::device_name(&engine.state_root, &volume.name),
            state_dir: &state_dir,
            target,
            filesystem,
        };
        match kernel::activate(&setup, key) {
            Ok(state) => Ok(Mounted::kernel(volume, state, state_dir)),
            Err(error) => {
                remove_state_dir(&state_dir);
                Err(error)
            }
        }
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
            uuid: _,
            formatted_now: _,
        } = self;
        let state_dir = prepare_state_dir(engine, &volume.name)?;
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
        match EngineState::read(&state_dir)? {
            Some(EngineState::User(state)) => Mounted::user(volume, state, state_dir, Some(child)),
            _ => Err(VolumeError::BadState(
                state_dir.join(crate::state::STATE_FILE),
            )),
        }
    }
}

/// Makes the state directory of volume `name` (0700), refusing if a state
/// says it is mounted already.
fn prepare_state_dir(engine: &EngineConfig, name: &str) -> Result<PathBuf, VolumeError> {
    let state_dir = engine.state_dir(name);
    if EngineState::read(&state_dir)?.is_some() {
        return Err(VolumeError::Busy(state_dir));
    }
    std::fs::create_dir_all(&state_dir)
        .map_err(|source| VolumeError::io("creating", &state_dir, source))?;
    std::fs::set_permissions(&state_dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|source| VolumeError::io("restricting", &state_dir, source))?;
    Ok(state_dir)
}
