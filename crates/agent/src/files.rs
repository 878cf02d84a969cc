//! The identity files in the agent's data directory, each replaced atomically
//! (written to a temporary file, synced, then renamed over the old one):
//!
//! | file | mode | content |
//! |---|---|---|
//! | `node.key` | 0600 | the node's private key (PKCS#8 PEM); never leaves the host |
//! | `node.crt` | 0644 | the node certificate (PEM) |
//! | `ca.pem` | 0644 | the CA bundle pinned at join (PEM) |
//! | `node.json` | 0644 | server addresses, node id, name, role, tenant, serial, expiry |
//! | `status.json` | 0644 | what `agent run` has done: renewals, heartbeats, last error, fenced volumes |

use std::fs::DirBuilder;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::AgentError;

/// What the agent knows about itself, kept in `node.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// The server, `https://HOST:PORT`: the first of `servers`.
    pub server: String,
    /// Every server of the cluster, `https://HOST:PORT`, in the order they
    /// are tried (files written before clusters had `server` alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// The node id the server assigned.
    pub node_id: String,
    /// The name given at join (the host name).
    pub name: String,
    /// The role the server assigned.
    pub role: String,
    /// The tenant the server assigned.
    pub tenant: String,
    /// Serial of the current certificate, hex.
    pub serial: String,
    /// When the current certificate was received.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// When the current certificate expires.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

impl NodeState {
    /// Every server the node talks to, in order.
    pub fn servers(&self) -> Vec<String> {
        if self.servers.is_empty() {
            vec![self.server.clone()]
        } else {
            self.servers.clone()
        }
    }
}

/// What `agent run` has done, kept in `status.json` for operators and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    /// Certificates renewed since start.
    pub renewals: u64,
    /// Liveness reports the server accepted.
    pub heartbeats_ok: u64,
    /// Liveness reports that failed.
    pub heartbeats_failed: u64,
    /// Renewal attempts that failed (and were retried).
    pub renewals_failed: u64,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// Serial of the current certificate.
    pub serial: String,
    /// Volumes fenced because their lease could not be kept (their mount
    /// stopped, their key wiped), with the reason, until Docker unmounts them.
    #[serde(default)]
    pub fenced_volumes: std::collections::BTreeMap<String, String>,
    /// The engine that serves the volumes mounted from now on, and why
    /// (`agent run --engine`; `None` without the volume plugin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_engine: Option<VolumeEngineStatus>,
}

/// The volume engine an agent chose, as `status.json` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct VolumeEngineStatus {
    /// `kernel` (dm-crypt) or `user` (an engine process per volume).
    pub engine: String,
    /// Why: the `--engine` flag, and what the kernel engine's probe found.
    pub reason: String,
}

/// The paths of the identity files in a data directory.
#[derive(Debug, Clone)]
pub struct IdentityFiles {
    dir: PathBuf,
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AgentError {
    let path = path.to_path_buf();
    move |source| AgentError::Io {
        action,
        path,
        source,
    }
}

impl IdentityFiles {
    /// The files of data directory `dir`.
    pub fn new(dir: &Path) -> IdentityFiles {
        IdentityFiles {
            dir: dir.to_path_buf(),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `node.key`.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("node.key")
    }

    /// `node.crt`.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join("node.crt")
    }

    /// `ca.pem`.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// `node.json`.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join("node.json")
    }

    /// `status.json`.
    pub fn status_path(&self) -> PathBuf {
        self.dir.join("status.json")
    }

    /// Creates the data directory, mode 0700.
    pub fn create_dir(&self) -> Result<(), AgentError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(io_error("create directory", &self.dir))
    }

    /// The node state, or `None` before the node joined.
    pub fn load_state(&self) -> Result<Option<NodeState>, AgentError> {
        let path = self.state_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| AgentError::State { path, source }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error("read", &path)(error)),
        }
    }

    /// The key, certificate and CA bundle, in PEM.
    pub fn load_pem(&self) -> Result<(Zeroizing<String>, String, String), AgentError> {
        let read = |path: PathBuf| {
            std::fs::read_to_string(&path).map_err(|source| AgentError::Io {
                action: "read",
                path,
                source,
            })
        };
        let key = Zeroizing::new(read(self.key_path())?);
        Ok((key, read(self.cert_path())?, read(self.ca_path())?))
    }

    /// Writes a new identity: key first, then certificate, bundle and state, each
    /// replaced atomically. The state names the serial, so a reader that finds the
    /// state updated finds the certificate and key it describes.
    pub fn store(
        &self,
        key_pem: &str,
        cert_pem: &str,
        ca_pem: &str,
        state: &NodeState,
    ) -> Result<(), AgentError> {
        write_atomically(&self.key_path(), key_pem.as_bytes(), 0o600)?;
        write_atomically(&self.cert_path(), cert_pem.as_bytes(), 0o644)?;
        write_atomically(&self.ca_path(), ca_pem.as_bytes(), 0o644)?;
        self.store_json(&self.state_path(), state)
    }

    /// Writes `status.json`.
    pub fn store_status(&self, status: &AgentStatus) -> Result<(), AgentError> {
        self.store_json(&self.status_path(), status)
    }

    fn store_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), AgentError> {
        let text = serde_json::to_vec_pretty(value).map_err(|source| AgentError::State {
            path: path.to_path_buf(),
            source,
        })?;
        write_atomically(path, &text, 0o644)
    }
}

/// Writes `contents` to a temporary file beside `path` with `mode`, syncs it, and
/// renames it over `path`: readers see the old file or the new one, never a mix.
pub(crate) fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), AgentError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)
        .map_err(io_error("create", &temporary))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(io_error("write", &temporary))?;
    std::fs::rename(&temporary, path).map_err(io_error("replace", path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn key_is_private_and_state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let files = IdentityFiles::new(&dir.path().join("agent"));
        files.create_dir().unwrap();
        assert_eq!(files.load_state().unwrap(), None);
        let state = NodeState {
            server: "https://127.0.0.1:1".to_owned(),
            servers: Vec::new(),
            node_id: "node-1".to_owned(),
            name: "host".to_owned(),
            role: "agent".to_owned(),
            tenant: "default".to_owned(),
            serial: "01".to_owned(),
            issued_at: OffsetDateTime::UNIX_EPOCH,
            not_after: OffsetDateTime::UNIX_EPOCH,
        };
        files.store("KEY", "CERT", "CA", &state).unwrap();
        let mode = std::fs::metadata(files.key_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(files.load_state().unwrap(), Some(state));
        let (key, cert, ca) = files.load_pem().unwrap();
        assert_eq!(
            (key.as_str(), cert.as_str(), ca.as_str()),
            ("KEY", "CERT", "CA")
        );
    }
}
