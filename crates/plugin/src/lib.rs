//! Docker's volume plugin protocol: the HTTP-over-Unix-socket server Docker
//! talks to, and the mount counting Docker leaves to plugins.
//!
//! Docker calls `Mount` once per (volume, caller id) and `Unmount` once per id,
//! and reuses ids: `docker cp` into a running container mounts the container's
//! volumes again under the container's id. [`Plugin`] turns that into exactly
//! one [`VolumeDriver::mount`] when a volume gains its first user and one
//! [`VolumeDriver::unmount`] when it loses its last, and keeps the table of
//! users in a state file so that a restarted agent knows which volumes are in
//! use. What a volume is (an encrypted block device, a tmpfs of secrets) is the
//! driver's business: this crate knows nothing of keys or storage.
//!
//! The same socket can also serve Docker Swarm's secret provider protocol
//! (`/SecretProvider.GetSecret`, for `docker secret create --driver`): give
//! the plugin a [`SecretProvider`] with [`Plugin::set_secret_provider`].
#![forbid(unsafe_code)]

pub mod options;
pub mod protocol;
mod serve;
mod table;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use zeroize::Zeroizing;

pub use protocol::{Scope, SecretRequest, Volume};
pub use serve::{BoundSocket, Plugin, bind, serve, serve_bound};

/// What kind of failure a driver reports; the plugin uses it for the HTTP
/// status and logs, Docker shows the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No such volume.
    NotFound,
    /// The volume exists already (on create) or is in use (on remove).
    Conflict,
    /// An option or name is not acceptable.
    InvalidArgument,
    /// Policy or the key manager refused.
    Refused,
    /// Something the driver depends on is unreachable; retrying may help.
    Unavailable,
    /// A failure inside the driver.
    Internal,
}

/// A driver's answer that Docker will show to the user.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DriverError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// A sentence saying what failed and what to do.
    pub message: String,
}

impl DriverError {
    /// A failure of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> DriverError {
        DriverError {
            kind,
            message: message.into(),
        }
    }
}

/// Errors of the plugin server itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The socket could not be created.
    #[error(
        "cannot listen on {path}: {source}; is another agent running, or is the directory missing?"
    )]
    Listen {
        /// The socket path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The mount table could not be read or written.
    #[error("cannot {action} the mount table {path}: {source}")]
    StateFile {
        /// Read or write.
        action: &'static str,
        /// The state file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The mount table is not valid JSON.
    #[error(
        "the mount table {path} is damaged ({source}); move it aside to start with no volume in use"
    )]
    StateCorrupt {
        /// The state file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

/// A volume driver: what a volume is and how it is made available.
///
/// The methods return `Send` futures so the plugin can run them on a
/// multi-threaded runtime. The plugin serializes calls per volume: `mount` and
/// `unmount` of the same volume never overlap.
pub trait VolumeDriver: Send + Sync + 'static {
    /// Creates volume `name` with Docker's `--opt` values.
    fn create(
        &self,
        name: String,
        options: BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), DriverError>> + Send;

    /// Deletes volume `name` for good. Never called while it is mounted.
    fn remove(&self, name: String) -> impl Future<Output = Result<(), DriverError>> + Send;

    /// Makes volume `name` available for its first user, `caller` (a container
    /// id), and returns the host path to bind into containers.
    fn mount(
        &self,
        name: String,
        caller: String,
    ) -> impl Future<Output = Result<PathBuf, DriverError>> + Send;

    /// Admits another user of a volume that is already mounted. The default
    /// admits everyone; drivers that bind volumes to workloads check here.
    fn admit(
        &self,
        name: String,
        caller: String,
    ) -> impl Future<Output = Result<(), DriverError>> + Send {
        let _ = (name, caller);
        async { Ok(()) }
    }

    /// Takes volume `name` away after its last user left.
    fn unmount(&self, name: String) -> impl Future<Output = Result<(), DriverError>> + Send;

    /// Describes volume `name` (the plugin fills in the mount point).
    fn get(&self, name: String) -> impl Future<Output = Result<Volume, DriverError>> + Send;

    /// Describes every volume (the plugin fills in the mount points).
    fn list(&self) -> impl Future<Output = Result<Vec<Volume>, DriverError>> + Send;

    /// Whether volumes are local to this host or the same on every host.
    fn scope(&self) -> Scope {
        Scope::Local
    }
}

/// A secret's value on its way to Docker: wiped when dropped, never printed.
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    /// Wraps `value`.
    pub fn new(value: Zeroizing<Vec<u8>>) -> SecretValue {
        SecretValue(value)
    }

    /// The value's bytes.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SecretValue(<redacted>)")
    }
}

/// The future a [`SecretProvider`] answers with.
pub type SecretFuture<'a> =
    Pin<Box<dyn Future<Output = Result<SecretValue, DriverError>> + Send + 'a>>;

/// Docker Swarm's secret provider: the value of a secret for one task, or a
/// refusal Docker reports (the task then does not start).
pub trait SecretProvider: Send + Sync + 'static {
    /// The value of `request.secret_name` for the task `request` describes.
    fn get_secret(&self, request: SecretRequest) -> SecretFuture<'_>;
}
