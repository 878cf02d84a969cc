//! The error type of the volume crate.

use std::io;
use std::path::PathBuf;

/// What went wrong while creating, unlocking, mounting or serving a volume.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VolumeError {
    /// A volume name that could escape the storage directory or is not portable.
    #[error(
        "invalid volume name {0:?}: use 1 to 64 characters from [A-Za-z0-9_.-], not starting with '.'"
    )]
    InvalidName(String),
    /// A size that is zero, not a multiple of the sector size, or too large.
    #[error("invalid volume size {0}: give a non-zero multiple of 4096 bytes")]
    InvalidSize(u64),
    /// `create` found an image of that name already.
    #[error("volume {0:?} already exists")]
    AlreadyExists(String),
    /// No image of that name in the storage directory.
    #[error("volume {0:?} does not exist")]
    NotFound(String),
    /// A file operation on `path` failed.
    #[error("{action} {path}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A system call failed.
    #[error("{0} failed")]
    Syscall(&'static str, #[source] io::Error),
    /// The sector cipher refused a key or a buffer.
    #[error("sector cipher refused the key or a buffer")]
    Cipher(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An external program (mkfs, blkid) failed.
    #[error("{program} failed with {status}: {stderr}")]
    Program {
        /// The program's name.
        program: &'static str,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The last lines it wrote to standard error.
        stderr: String,
    },
    /// The engine process did not report that the volume is mounted.
    #[error("volume engine failed: {0}")]
    Engine(String),
    /// A state file under the state directory could not be understood.
    #[error("state file {0} is malformed; remove the directory if no engine runs for it")]
    BadState(PathBuf),
    /// The mounted filesystem is still in use.
    #[error("{0} is busy: stop what uses it and unmount again")]
    Busy(PathBuf),
    /// A deadline passed while waiting for the kernel or the engine.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The filesystem type is not one the engine can create.
    #[error("unsupported filesystem {0:?}: use ext4 or xfs")]
    UnsupportedFilesystem(String),
    /// The engine process was started with arguments it cannot read (only
    /// the control API writes them, so this is a mismatch of versions).
    #[error("invalid volume engine arguments: {0}")]
    EngineArgs(String),
    /// The secret opens no keyslot of the image's LUKS2 header.
    #[error(
        "the secret does not open any keyslot of {0}: this is not the secret of this volume's image (was the image replaced or copied from another volume?)"
    )]
    WrongSecret(PathBuf),
    /// The image's LUKS2 header cannot be read or used.
    #[error("the LUKS2 header of {image} cannot be used")]
    Header {
        /// The image.
        image: PathBuf,
        /// What is wrong with the header.
        #[source]
        source: luks::LuksError,
    },
    /// The image starts with neither a LUKS2 header nor the zeros of a fresh
    /// image: damage or a foreign file, never formatted over.
    #[error("{0} holds neither a LUKS2 header nor a fresh image; it is left untouched")]
    NotAnImage(PathBuf),
    /// `format` was asked for an image that has a LUKS2 header already.
    #[error("{0} has a LUKS2 header already; it is left untouched")]
    AlreadyFormatted(PathBuf),
    /// `--engine kernel` was asked for, and the kernel engine does not work
    /// here.
    #[error("the kernel engine (dm-crypt) does not work on this host; use --engine auto or user")]
    KernelEngine(#[source] Box<VolumeError>),
    /// The storage holding the image is (nearly) full, which is why the
    /// operation failed.
    #[error("the volume storage {directory} is full ({free} bytes free)")]
    StorageFull {
        /// The directory holding the image.
        directory: PathBuf,
        /// The bytes still free there.
        free: u64,
        /// The failure it caused.
        #[source]
        source: Box<VolumeError>,
    },
}

impl VolumeError {
    /// Wraps an `io::Error` with the action and the path it concerned.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        VolumeError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Wraps a `rustix` errno as a failed system call.
    pub(crate) fn sys(call: &'static str, errno: rustix::io::Errno) -> Self {
        VolumeError::Syscall(call, io::Error::from(errno))
    }
}
