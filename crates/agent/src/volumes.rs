//! The Docker volume driver of `agent run`: each volume is a LUKS2 image in the
//! storage directory, its keyslot secret held by the key manager.
//!
//! * Create registers the volume with the key manager (in the node's tenant)
//!   and makes its sparse image; no key or secret comes to the node then.
//! * Mount takes the lease for the containers starting with it (refused while
//!   another node holds it, or by policy), writes the LUKS2 header at the first
//!   mount, opens the keyslot, starts the volume's engine process with the volume key, and
//!   renews the lease while mounted; a volume whose lease cannot be kept is
//!   fenced before the lease can lapse ([`lease`]).
//! * Unmount stops the engine (the key dies with it) and releases the lease.
//! * Remove deletes the image and has the key manager destroy the key.
//!
//! The secret and the volume key live here only between the key manager's
//! answer and the engine's start; the engine holds the key in locked memory.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use api::NodeApi;
use api::policies::WorkloadClaim;
use api::volumes::{CreateVolumeRequest, LeaseRequest, VolumeInfo};
use plugin::{DriverError, ErrorKind, Volume};
use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::AgentError;
use crate::shared::Shared;

mod lease;
mod recover;
use lease::renew_once;
pub use lease::{DEFAULT_LEASE_SECS, MAX_LEASE_SECS, MIN_LEASE_SECS};
pub(crate) use lease::{Fence, LeaseTiming, Leases};
pub(crate) use recover::Recovered;

/// Filesystems `--opt fs=` accepts.
const FILESYSTEMS: &[&str] = &["ext4"];

/// Where and how volumes are kept on this node.
#[derive(Debug, Clone)]
pub struct VolumeOptions {
    /// Docker's plugin socket (`/run/docker/plugins/cryptainer.sock`).
    pub socket: PathBuf,
    /// Directory of the encrypted images (may be shared storage).
    pub storage_dir: PathBuf,
    /// Directory of the engines' state and the mount points.
    pub run_dir: PathBuf,
    /// Size of a volume created without `--opt size`.
    pub default_size: u64,
    /// The Docker engine's socket, asked which containers mount a volume.
    pub docker_socket: PathBuf,
    /// The lease asked of the key manager, in seconds
    /// ([`MIN_LEASE_SECS`]..=[`MAX_LEASE_SECS`]; [`DEFAULT_LEASE_SECS`]):
    /// renewed every third of it while mounted, so a node that disappears
    /// frees its volumes within this time, and a node that cannot renew
    /// fences them within three quarters of it.
    pub lease_seconds: u32,
}

/// The driver of the encrypted volumes.
pub(crate) struct CryptainerDriver {
    shared: Arc<Shared>,
    store: volume::VolumeStore,
    engine: volume::EngineConfig,
    mount_root: PathBuf,
    default_size: u64,
    leases: Arc<Leases>,
}

fn internal(error: impl std::fmt::Display) -> DriverError {
    DriverError::new(ErrorKind::Internal, error.to_string())
}

/// Maps a key manager refusal onto what Docker shows.
pub(crate) fn from_agent(error: AgentError) -> DriverError {
    let kind = match &error {
        AgentError::Refused { status: 404, .. } => ErrorKind::NotFound,
        AgentError::Refused { status: 409, .. } => ErrorKind::Conflict,
        AgentError::Refused { status: 400, .. } => ErrorKind::InvalidArgument,
        AgentError::Refused {
            status: 401 | 403, ..
        } => ErrorKind::Refused,
        AgentError::Http { .. } => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    DriverError::new(kind, error.to_string())
}

/// Engines run as `cryptainer volume-engine`: this same binary, so an install
/// of `cryptainer` is all a node needs.
fn engine_config(state_root: PathBuf) -> volume::EngineConfig {
    let mut engine = volume::EngineConfig::new(state_root);
    if let Ok(program) = std::env::current_exe() {
        engine.engine_binary = program;
        engine.subcommand = Some("volume-engine".to_owned());
    }
    engine
}

impl CryptainerDriver {
    pub(crate) fn new(shared: Arc<Shared>, options: &VolumeOptions) -> Result<Self, AgentError> {
        let timing = LeaseTiming::new(options.lease_seconds)?;
        let io = |action: &'static str, path: &PathBuf| {
            let path = path.clone();
            move |source| AgentError::Io {
                action,
                path,
                source,
            }
        };
        std::fs::create_dir_all(&options.storage_dir)
            .map_err(io("create the volume storage", &options.storage_dir))?;
        let mount_root = options.run_dir.join("mounts");
        std::fs::create_dir_all(&mount_root).map_err(io("create the mount root", &mount_root))?;
        let store =
            volume::VolumeStore::open(&options.storage_dir).map_err(|error| AgentError::Io {
                action: "open the volume storage",
                path: options.storage_dir.clone(),
                source: std::io::Error::other(error.to_string()),
            })?;
        Ok(CryptainerDriver {
            leases: Arc::new(Leases::new(Arc::clone(&shared), timing)),
            shared,
            store,
            engine: engine_config(options.run_dir.join("engines")),
            mount_root,
            default_size: options.default_size,
        })
    }

    /// The leases of the volumes mounted here, for fencing them all when the
    /// key manager refuses this node.
    pub(crate) fn leases(&self) -> Arc<Leases> {
        Arc::clone(&self.leases)
    }

    /// Takes the lease for the containers starting with the volume now (as
    /// the Docker engine lists them); the key manager checks them against
    /// its policies. Also returns when the request was sent: the lease runs
    /// from a moment no earlier than that.
    async fn acquire(
        &self,
        name: &str,
    ) -> Result<(VolumeInfo, Zeroizing<Vec<u8>>, Instant), DriverError> {
        let workloads = self
            .shared
            .docker()
            .claims_for_volume(name)
            .await
            .map_err(crate::docker::unavailable)?;
        take_lease(
            self.shared.api().as_ref(),
            name,
            workloads,
            self.leases.timing(),
        )
        .await
    }

    /// Asks the key manager again for a mounted volume, for the containers
    /// joining it now: refused unless its policies allow them. The secret
    /// that comes back is not needed and is wiped. A fenced volume admits
    /// nobody: its mount is gone until its containers stop.
    pub(crate) async fn admit_workloads(&self, name: &str) -> Result<(), DriverError> {
        if !self.leases.is_mounted(name) {
            if let Some(reason) = self.leases.fenced(name) {
                return Err(DriverError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "volume '{name}' was fenced on this node ({reason}); stop every container using it, then start them again to mount it afresh"
                    ),
                ));
            }
        }
        self.acquire(name).await.map(drop)
    }

    async fn release(&self, name: &str) {
        if let Err(error) = self
            .shared
            .api()
            .release_volume(name, &LeaseRequest::default())
            .await
        {
            let error = AgentError::from_api("release the volume's lease", error);
            tracing::warn!(volume = name, %error, "could not release the lease; it lapses by itself");
        }
    }

    fn to_volume(&self, info: VolumeInfo) -> Volume {
        let mut status = BTreeMap::from([
            (
                "size".to_owned(),
                plugin::options::format_size(info.size_bytes),
            ),
            ("state".to_owned(), info.state.as_str().to_owned()),
            ("encryption".to_owned(), "LUKS2 aes-xts-plain64".to_owned()),
            ("key".to_owned(), info.key_id),
        ]);
        if let Some(holder) = info.holder {
            status.insert("holder".to_owned(), holder);
        }
        if let Some(reason) = self.leases.fenced(&info.name) {
            status.insert("fenced".to_owned(), reason);
        }
        Volume {
            name: info.name,
            mountpoint: String::new(),
            created_at: info.created_at,
            status,
        }
    }
}

/// Takes the lease of volume `name` for `workloads` through `api`: the
/// volume, the secret that opens it (decoded into wiped memory), and when the
/// request was sent. A refusal (by policy, or while another node holds the
/// volume) says why, as Docker shows it.
pub(crate) async fn take_lease(
    api: &dyn NodeApi,
    name: &str,
    workloads: Vec<WorkloadClaim>,
    timing: LeaseTiming,
) -> Result<(VolumeInfo, Zeroizing<Vec<u8>>, Instant), DriverError> {
    let request = LeaseRequest {
        lease_seconds: Some(timing.seconds()),
        workloads,
        ..LeaseRequest::default()
    };
    let sent = Instant::now();
    let acquired = api
        .acquire_volume(name, &request)
        .await
        .map_err(|error| from_agent(AgentError::from_api("take the volume's lease", error)))?;
    let secret = acquired
        .secret
        .decode_base64()
        .map_err(|_| internal("the key manager's secret is not base64"))?;
    Ok((acquired.volume, secret, sent))
}

/// Free space under which a failed mount is put down to a full volume storage.
const LOW_STORAGE_BYTES: u64 = 64 << 20;

/// Empties a freshly formatted image again (a hole of its whole length), so it
/// reads as zeros: never mounted.
fn reset_image(image: &std::path::Path) {
    let reset = std::fs::OpenOptions::new()
        .write(true)
        .open(image)
        .and_then(|file| {
            let length = file.metadata()?.len();
            file.set_len(0)?;
            file.set_len(length)?;
            file.sync_all()
        });
    if let Err(error) = reset {
        tracing::warn!(image = %image.display(), %error, "could not reset a volume whose first mount failed");
    }
}

/// The engine's failure as Docker shows it; when the volume storage is nearly
/// full (the engine then sees only I/O errors), says so and what to do.
fn explain_mount_failure(image: &std::path::Path, error: volume::VolumeError) -> DriverError {
    let storage = image.parent().unwrap_or(image);
    match rustix::fs::statvfs(storage) {
        Ok(stat) if stat.f_bavail.saturating_mul(stat.f_frsize) < LOW_STORAGE_BYTES => {
            DriverError::new(
                ErrorKind::Unavailable,
                format!(
                    "the volume storage is full ({} free in {}): free space there or give the agent another --storage-dir; the volume is unchanged ({error})",
                    plugin::options::format_size(stat.f_bavail.saturating_mul(stat.f_frsize)),
                    storage.display()
                ),
            )
        }
        _ => internal(error),
    }
}

/// Whether the image was never mounted: no LUKS2 header yet, only the zeros
/// of a fresh sparse file. Anything else without the LUKS2 magic is damage,
/// never formatted over.
fn is_unformatted(image: &std::path::Path) -> Result<bool, DriverError> {
    let file = std::fs::File::open(image).map_err(internal)?;
    let mut start = [0_u8; 4096];
    file.take(4096).read_exact(&mut start).map_err(internal)?;
    if start.starts_with(&luks::PRIMARY_MAGIC) {
        Ok(false)
    } else if start.iter().all(|byte| *byte == 0) {
        Ok(true)
    } else {
        Err(DriverError::new(
            ErrorKind::Internal,
            format!(
                "{} holds neither a LUKS2 header nor a fresh image; it is left untouched",
                image.display()
            ),
        ))
    }
}

/// Writes a fresh LUKS2 header (a new random volume key, its keyslot opened by
/// `secret`) at the start of `image`; returns the volume key.
fn write_header(
    image: &std::path::Path,
    name: &str,
    key_id: &str,
    server: &str,
    secret: &[u8],
) -> Result<luks::VolumeKey, DriverError> {
    let volume_key = luks::VolumeKey::generate();
    let header = luks::format(
        &volume_key,
        secret,
        &luks::FormatOptions {
            label: name.to_owned(),
            token: luks::CryptainerToken {
                key_id: key_id.to_owned(),
                server: server.to_owned(),
            },
        },
    )
    .map_err(internal)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(image)
        .map_err(internal)?;
    // The header's blocks are reserved first: on a full disk nothing is
    // written, and the image stays a fresh one that a later mount formats.
    let length = u64::try_from(header.bytes.len()).map_err(internal)?;
    rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::empty(), 0, length).map_err(
        |errno| {
            if errno == rustix::io::Errno::NOSPC {
                DriverError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "the volume storage is full: {} needs {} for its header; free space in {} or give the agent another --storage-dir (nothing was written)",
                        image.display(),
                        plugin::options::format_size(length),
                        image.parent().unwrap_or(image).display()
                    ),
                )
            } else {
                internal(format!("could not reserve the header of {}: {errno}", image.display()))
            }
        },
    )?;
    file.write_all(&header.bytes).map_err(internal)?;
    file.sync_all().map_err(internal)?;
    Ok(volume_key)
}

/// Reads the image's header region (everything before the data) and opens
/// its keyslot with `secret`.
fn open_key(image: &std::path::Path, secret: &[u8]) -> Result<luks::VolumeKey, DriverError> {
    let file = std::fs::File::open(image).map_err(internal)?;
    let mut region = Zeroizing::new(Vec::new());
    file.take(luks::NEW_DATA_OFFSET)
        .read_to_end(&mut region)
        .map_err(internal)?;
    let header = luks::Header::parse(&region).map_err(|error| {
        DriverError::new(
            ErrorKind::Internal,
            format!("the volume's LUKS2 header is damaged: {error}"),
        )
    })?;
    header.open(&region, secret).map_err(|error| {
        DriverError::new(
            ErrorKind::Refused,
            format!("the key manager's secret does not open this volume's keyslot: {error}"),
        )
    })
}

impl plugin::VolumeDriver for CryptainerDriver {
    async fn create(
        &self,
        name: String,
        options: BTreeMap<String, String>,
    ) -> Result<(), DriverError> {
        let mut size = self.default_size;
        let mut filesystem = "ext4".to_owned();
        for (key, value) in options {
            match key.as_str() {
                "size" => {
                    size = plugin::options::parse_size(&value).map_err(|error| {
                        DriverError::new(ErrorKind::InvalidArgument, error.to_string())
                    })?;
                }
                "fs" if FILESYSTEMS.contains(&value.as_str()) => filesystem = value,
                "fs" => {
                    return Err(DriverError::new(
                        ErrorKind::InvalidArgument,
                        format!("filesystem '{value}' is not supported; use fs=ext4"),
                    ));
                }
                other => {
                    return Err(DriverError::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "unknown option '{other}'; cryptainer volumes accept size (for example 20G) and fs (ext4)"
                        ),
                    ));
                }
            }
        }
        self.shared
            .api()
            .create_volume(&CreateVolumeRequest {
                name: name.clone(),
                size_bytes: size,
                filesystem: Some(filesystem),
                tenant: None,
            })
            .await
            .map_err(|error| from_agent(AgentError::from_api("create the volume", error)))?;
        // Only the sparse image here: its LUKS2 header is written at the first
        // mount, with the secret the key manager gives for the containers that
        // mount it (no container exists yet to ask for it, and the policies
        // decide per workload).
        let store = self.store.clone();
        let volume_name = name.clone();
        let made = tokio::task::spawn_blocking(move || {
            store.create(&volume_name, size).map(drop).map_err(internal)
        })
        .await
        .map_err(internal)
        .and_then(|made| made);
        if let Err(error) = made {
            // Nothing half-made stays behind: no image, no key.
            if let Ok(volume) = self.store.get(&name) {
                let _ = self.store.remove(volume);
            }
            let _ = self.shared.api().remove_volume(&name).await;
            return Err(error);
        }
        Ok(())
    }

    async fn remove(&self, name: String) -> Result<(), DriverError> {
        // The key manager decides first: it refuses a volume another node
        // holds (on shared storage that node is using the image right now) or
        // this node may not remove, and destroys the key. Only then is the
        // image deleted, so a refused Remove loses nothing. A volume the key
        // manager no longer knows (a Remove that failed after this point) is
        // finished here.
        let removed = self
            .shared
            .api()
            .remove_volume(&name)
            .await
            .map_err(|error| AgentError::from_api("remove the volume", error));
        match removed {
            Ok(_) | Err(AgentError::Refused { status: 404, .. }) => {}
            Err(error) => return Err(from_agent(error)),
        }
        if let Ok(volume) = self.store.get(&name) {
            self.store.remove(volume).map_err(internal)?;
        }
        Ok(())
    }

    async fn mount(&self, name: String, _caller: String) -> Result<PathBuf, DriverError> {
        let volume = self.store.get(&name).map_err(|error| {
            DriverError::new(
                ErrorKind::NotFound,
                format!("volume '{name}' has no image on this node: {error}"),
            )
        })?;
        let (info, secret, sent) = self.acquire(&name).await?;
        let target = self.mount_root.join(&name);
        let engine = self.engine.clone();
        let server = self.shared.server();
        let mounting = tokio::task::spawn_blocking({
            let target = target.clone();
            let name = name.clone();
            move || {
                let image = volume.image().to_path_buf();
                let fresh = is_unformatted(&image)?;
                let key = if fresh {
                    write_header(&image, &name, &info.key_id, &server, &secret)?
                } else {
                    open_key(&image, &secret)?
                };
                drop(secret);
                std::fs::create_dir_all(&target).map_err(internal)?;
                volume
                    .unlock(key)
                    .mount(&target, volume::Filesystem::Ext4, &engine)
                    .map_err(|error| {
                        // A first mount that failed leaves a fresh image again
                        // (it held nothing): the next mount starts over.
                        if fresh {
                            reset_image(&image);
                        }
                        explain_mount_failure(&image, error)
                    })
            }
        })
        .await
        .map_err(internal)?;
        let mounted = match mounting {
            Ok(mounted) => mounted,
            Err(error) => {
                self.release(&name).await;
                return Err(error);
            }
        };
        self.leases.track(name, mounted, sent);
        Ok(target)
    }

    async fn unmount(&self, name: String) -> Result<(), DriverError> {
        let Some((mounted, sent)) = self.leases.untrack(&name) else {
            // A fenced volume's engine is stopped already, and its lease
            // lapses by itself: nothing is left to clean up.
            if self.leases.forget_fenced(&name) {
                tracing::info!(volume = %name, "Docker unmounted a fenced volume; the next mount takes its lease afresh");
            }
            return Ok(());
        };
        let unmounting = tokio::task::spawn_blocking(move || mounted.unmount())
            .await
            .map_err(internal)?;
        match unmounting {
            Ok(_locked) => {
                self.release(&name).await;
                Ok(())
            }
            Err(still) => {
                let message = format!(
                    "volume '{name}' is still mounted: {}",
                    volume::engine::chain(&still.error)
                );
                // Still mounted, so its lease is still kept (or it is fenced).
                self.leases.track(name, *still.mounted, sent);
                Err(DriverError::new(ErrorKind::Internal, message))
            }
        }
    }

    async fn get(&self, name: String) -> Result<Volume, DriverError> {
        let answer = self
            .shared
            .api()
            .volume(&name)
            .await
            .map_err(|error| AgentError::from_api("read the volume", error));
        match answer {
            Ok(info) => Ok(self.to_volume(info)),
            // With the key manager out of reach, a volume whose image is here
            // still exists: Docker must find it (and fail at Mount, clearly),
            // not quietly make a new local volume of the same name.
            Err(AgentError::Http { .. }) if self.store.get(&name).is_ok() => Ok(Volume {
                name,
                mountpoint: String::new(),
                created_at: String::new(),
                status: BTreeMap::from([(
                    "state".to_owned(),
                    "key manager unreachable".to_owned(),
                )]),
            }),
            Err(error) => Err(from_agent(error)),
        }
    }
    async fn list(&self) -> Result<Vec<Volume>, DriverError> {
        let list = self
            .shared
            .api()
            .list_volumes()
            .await
            .map_err(|error| from_agent(AgentError::from_api("list volumes", error)))?;
        Ok(list
            .volumes
            .into_iter()
            .map(|info| self.to_volume(info))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{InProcessServer, NODE};

    fn claim(container: &str, digest: &str) -> WorkloadClaim {
        WorkloadClaim {
            container_name: Some(container.to_owned()),
            image_digest: Some(digest.to_owned()),
            ..WorkloadClaim::default()
        }
    }

    #[tokio::test]
    async fn an_acquire_refused_by_policy_takes_no_lease_and_brings_no_secret() {
        let server = InProcessServer::new();
        server.add_volume("pgdata", Some(&["sha256:db"]));
        let timing = LeaseTiming::new(60).unwrap();
        for workloads in [
            vec![claim("intruder", "sha256:other")],
            // One workload refused refuses them all.
            vec![claim("db", "sha256:db"), claim("intruder", "sha256:other")],
            // A node that names no workload names no image a policy grants.
            Vec::new(),
        ] {
            let refused = take_lease(server.as_ref(), "pgdata", workloads.clone(), timing)
                .await
                .map(drop)
                .unwrap_err();
            assert_eq!(refused.kind, ErrorKind::Refused, "{workloads:?}");
            assert!(
                refused.message.contains("is refused to"),
                "{}",
                refused.message
            );
            assert_eq!(server.holder("pgdata"), None, "{workloads:?}");
        }
        let (volume, secret, _) = take_lease(
            server.as_ref(),
            "pgdata",
            vec![claim("db", "sha256:db")],
            timing,
        )
        .await
        .unwrap();
        assert_eq!(volume.holder.as_deref(), Some(NODE));
        assert_eq!(secret.as_slice(), b"secret of pgdata");
    }

    #[tokio::test]
    async fn an_acquire_while_another_node_holds_the_volume_is_a_conflict() {
        let server = InProcessServer::new();
        server.add_volume("pgdata", None);
        assert!(server.acquire_as("node:node-2", "pgdata", 60));
        let refused = take_lease(
            server.as_ref(),
            "pgdata",
            Vec::new(),
            LeaseTiming::new(60).unwrap(),
        )
        .await
        .map(drop)
        .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Conflict);
        assert!(
            refused.message.contains("node:node-2"),
            "{}",
            refused.message
        );
    }
}
