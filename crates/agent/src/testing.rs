//! Test doubles for unit tests of the agent's logic without Docker, root or a
//! network: [`InProcessServer`], an in-memory implementation of the key
//! manager's API as a node sees it ([`api::NodeApi`]), with the lease and
//! policy rules of the real server and failures on demand; and [`FakeMount`],
//! a mounted volume that records when it was fenced. The end-to-end tests in
//! `crates/cli/tests` run the real server, engine and Docker.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use api::nodes::{
    Heartbeat, IssuedNodeCertificate, LivenessReport, NodeState as WireNodeState, RenewRequest,
};
use api::policies::WorkloadClaim;
use api::secrets::{DeliverRequest, SecretValue};
use api::volumes::{
    Acquired, CreateVolumeRequest, LeaseRequest, VolumeInfo, VolumeList, VolumeState,
};
use api::{ApiFuture, ClientError, ErrorCode, NodeApi, SecretString, Transport, Unreachable};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::files::{IdentityFiles, NodeState};
use crate::shared::Shared;
use crate::volumes::Fence;

/// The holder name of the node under test, as the server writes it.
pub(crate) const NODE: &str = "node:node-1";

/// How the server answers a kind of request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// As the real server would.
    Answer,
    /// The connection fails at once (the server is down).
    Unreachable,
    /// Never answers (a partition that drops packets).
    Silent,
    /// Refuses with this code and message.
    Refuse(ErrorCode, String),
    /// Refuses the node's certificate as revoked in the TLS handshake (a
    /// decommissioned node's new connection).
    RevokedInHandshake,
}

/// A volume's lease.
#[derive(Debug, Clone)]
struct Lease {
    holder: String,
    expires_at: Instant,
}

/// A volume as the server keeps it.
#[derive(Debug, Clone)]
struct VolumeModel {
    secret: Vec<u8>,
    lease: Option<Lease>,
    /// Image digests a policy grants it to; `None`: no policy names it (the
    /// creating node keeps it).
    granted: Option<Vec<String>>,
}

/// The server's state.
#[derive(Debug)]
struct Model {
    volumes: BTreeMap<String, VolumeModel>,
    /// Secrets: value and the image digests a policy grants it to.
    secrets: BTreeMap<String, (Vec<u8>, Vec<String>)>,
    renewals: Behaviour,
    heartbeats: Behaviour,
    /// When each lease of this node on a volume ended at the latest, as the
    /// server granted it: the last `expires_at` given.
    granted_until: BTreeMap<String, Instant>,
    /// Whether a renewal of this node ever found its lease lapsed.
    lapsed: bool,
}

/// The key manager's API as a node sees it, in memory.
pub(crate) struct InProcessServer {
    model: Mutex<Model>,
    /// Successful lease renewals so far, for tests to wait on.
    renewed: watch::Sender<u64>,
    /// Lease renewals asked for so far, answered or not.
    attempted: watch::Sender<u64>,
}

impl InProcessServer {
    /// A server holding no volume or secret, answering everything.
    pub(crate) fn new() -> Arc<InProcessServer> {
        Arc::new(InProcessServer {
            model: Mutex::new(Model {
                volumes: BTreeMap::new(),
                secrets: BTreeMap::new(),
                renewals: Behaviour::Answer,
                heartbeats: Behaviour::Answer,
                granted_until: BTreeMap::new(),
                lapsed: false,
            }),
            renewed: watch::Sender::new(0),
            attempted: watch::Sender::new(0),
        })
    }

    fn model(&self) -> std::sync::MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a free volume; `granted`: the image digests a policy grants it
    /// to (`None`: no policy names it).
    pub(crate) fn add_volume(&self, name: &str, granted: Option<&[&str]>) {
        self.model().volumes.insert(
            name.to_owned(),
            VolumeModel {
                secret: format!("secret of {name}").into_bytes(),
                lease: None,
                granted: granted.map(|digests| digests.iter().map(|d| (*d).to_owned()).collect()),
            },
        );
    }

    /// Adds a secret a policy grants to images of `granted` digests.
    pub(crate) fn add_secret(&self, name: &str, value: &[u8], granted: &[&str]) {
        self.model().secrets.insert(
            name.to_owned(),
            (
                value.to_vec(),
                granted.iter().map(|d| (*d).to_owned()).collect(),
            ),
        );
    }

    /// How lease renewals are answered from now on.
    pub(crate) fn renewals(&self, behaviour: Behaviour) {
        self.model().renewals = behaviour;
    }

    /// How liveness reports are answered from now on.
    pub(crate) fn heartbeats(&self, behaviour: Behaviour) {
        self.model().heartbeats = behaviour;
    }

    /// Waits until `count` renewals have succeeded.
    pub(crate) async fn renewed(&self, count: u64) {
        let mut renewed = self.renewed.subscribe();
        let _ = renewed.wait_for(|done| *done >= count).await;
    }

    /// Waits until `count` renewals have been asked for, answered or not.
    pub(crate) async fn attempted(&self, count: u64) {
        let mut attempted = self.attempted.subscribe();
        let _ = attempted.wait_for(|done| *done >= count).await;
    }

    /// The end of the last lease the server granted this node on `name`.
    pub(crate) fn granted_until(&self, name: &str) -> Option<Instant> {
        self.model().granted_until.get(name).copied()
    }

    /// Whether a renewal of this node ever came after its lease had ended.
    pub(crate) fn lapsed(&self) -> bool {
        self.model().lapsed
    }

    /// Who holds `name` now.
    pub(crate) fn holder(&self, name: &str) -> Option<String> {
        let now = Instant::now();
        self.model()
            .volumes
            .get(name)
            .and_then(|volume| volume.lease.as_ref())
            .filter(|lease| lease.expires_at > now)
            .map(|lease| lease.holder.clone())
    }

    /// Another node asks for `name`: granted once no lease of another
    /// holder runs.
    pub(crate) fn acquire_as(&self, holder: &str, name: &str, seconds: u32) -> bool {
        let now = Instant::now();
        let mut model = self.model();
        let Some(volume) = model.volumes.get_mut(name) else {
            return false;
        };
        if volume
            .lease
            .as_ref()
            .is_some_and(|lease| lease.holder != holder && lease.expires_at > now)
        {
            return false;
        }
        volume.lease = Some(Lease {
            holder: holder.to_owned(),
            expires_at: now + Duration::from_secs(u64::from(seconds)),
        });
        true
    }

    fn info(name: &str, volume: &VolumeModel) -> VolumeInfo {
        let now = Instant::now();
        let live = volume.lease.as_ref().filter(|lease| lease.expires_at > now);
        VolumeInfo {
            name: name.to_owned(),
            tenant: "default".to_owned(),
            key_id: format!("key-{name}"),
            size_bytes: 64 << 20,
            filesystem: "ext4".to_owned(),
            created_at: "2026-11-23T00:00:00Z".to_owned(),
            created_by: NODE.to_owned(),
            state: if live.is_some() {
                VolumeState::Held
            } else {
                VolumeState::Free
            },
            holder: live.map(|lease| lease.holder.clone()),
            lease_expires_at: None,
            holders: Vec::new(),
        }
    }

    /// The policy decision for `claims` on a resource granted to `granted`
    /// digests: every workload must be granted (deny by default).
    fn decide(
        what: &str,
        granted: Option<&[String]>,
        claims: &[WorkloadClaim],
    ) -> Result<(), ClientError> {
        let Some(granted) = granted else {
            return Ok(());
        };
        let refused = if claims.is_empty() {
            Some(&WorkloadClaim::default())
        } else {
            claims.iter().find(|claim| {
                !claim
                    .image_digest
                    .as_ref()
                    .is_some_and(|digest| granted.contains(digest))
            })
        };
        match refused {
            None => Ok(()),
            Some(claim) => Err(refuse(
                ErrorCode::PolicyDenied,
                format!(
                    "{what} is refused to a container of image {}: no policy grants it",
                    claim.image_digest.as_deref().unwrap_or("unknown")
                ),
            )),
        }
    }

    /// The answer to a request of a kind answered as `behaviour`, or `None`
    /// to answer it as the real server would.
    async fn misbehave(behaviour: Behaviour) -> Option<ClientError> {
        match behaviour {
            Behaviour::Answer => None,
            Behaviour::Unreachable => Some(ClientError::Unreachable(Unreachable::new(
                Transport::ConnectionRefused,
                "connection refused",
            ))),
            Behaviour::Silent => std::future::pending().await,
            Behaviour::Refuse(code, message) => Some(refuse(code, message)),
            Behaviour::RevokedInHandshake => Some(ClientError::Unreachable(Unreachable::new(
                Transport::CertificateRevoked,
                "received fatal alert: CertificateRevoked",
            ))),
        }
    }
}

/// An error answer with `code`.
pub(crate) fn refuse(code: ErrorCode, message: impl Into<String>) -> ClientError {
    ClientError::Refused {
        status: code.status(),
        code: Some(code),
        message: message.into(),
    }
}

fn no_volume(name: &str) -> ClientError {
    refuse(ErrorCode::NotFound, format!("no volume '{name}'"))
}

impl NodeApi for InProcessServer {
    fn renew_certificate<'a>(
        &'a self,
        _request: &'a RenewRequest,
    ) -> ApiFuture<'a, IssuedNodeCertificate> {
        Box::pin(async { Err(refuse(ErrorCode::Conflict, "no CA in this test")) })
    }

    fn heartbeat<'a>(&'a self, _report: &'a LivenessReport) -> ApiFuture<'a, Heartbeat> {
        Box::pin(async move {
            let behaviour = self.model().heartbeats.clone();
            if let Some(error) = InProcessServer::misbehave(behaviour).await {
                return Err(error);
            }
            Ok(Heartbeat {
                node_id: "node-1".to_owned(),
                state: WireNodeState::Active,
                cert_serial: "01".to_owned(),
                ca_digest: None,
                renew: Some(false),
            })
        })
    }

    fn create_volume<'a>(&'a self, request: &'a CreateVolumeRequest) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move {
            self.add_volume(&request.name, None);
            let model = self.model();
            let volume = model
                .volumes
                .get(&request.name)
                .ok_or_else(|| no_volume(&request.name))?;
            Ok(InProcessServer::info(&request.name, volume))
        })
    }

    fn volume<'a>(&'a self, name: &'a str) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move {
            let model = self.model();
            let volume = model.volumes.get(name).ok_or_else(|| no_volume(name))?;
            Ok(InProcessServer::info(name, volume))
        })
    }

    fn list_volumes(&self) -> ApiFuture<'_, VolumeList> {
        Box::pin(async move {
            let model = self.model();
            Ok(VolumeList {
                volumes: model
                    .volumes
                    .iter()
                    .map(|(name, volume)| InProcessServer::info(name, volume))
                    .collect(),
            })
        })
    }

    fn remove_volume<'a>(&'a self, name: &'a str) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move {
            let mut model = self.model();
            let volume = model.volumes.remove(name).ok_or_else(|| no_volume(name))?;
            Ok(InProcessServer::info(name, &volume))
        })
    }

    fn acquire_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, Acquired> {
        Box::pin(async move {
            let now = Instant::now();
            let mut model = self.model();
            let volume = model.volumes.get_mut(name).ok_or_else(|| no_volume(name))?;
            InProcessServer::decide(
                &format!("volume '{name}'"),
                volume.granted.as_deref(),
                &request.workloads,
            )?;
            if let Some(lease) = &volume.lease {
                if lease.holder != NODE && lease.expires_at > now {
                    return Err(refuse(
                        ErrorCode::Conflict,
                        format!("volume '{name}' is in use on {}", lease.holder),
                    ));
                }
            }
            let expires_at =
                now + Duration::from_secs(u64::from(request.lease_seconds.unwrap_or(60)));
            volume.lease = Some(Lease {
                holder: NODE.to_owned(),
                expires_at,
            });
            let acquired = Acquired {
                volume: InProcessServer::info(name, volume),
                secret: SecretString::encode_base64(&volume.secret),
            };
            model.granted_until.insert(name.to_owned(), expires_at);
            Ok(acquired)
        })
    }

    fn renew_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move {
            self.attempted.send_modify(|attempted| *attempted += 1);
            let behaviour = self.model().renewals.clone();
            if let Some(error) = InProcessServer::misbehave(behaviour).await {
                return Err(error);
            }
            let now = Instant::now();
            let mut model = self.model();
            let volume = model.volumes.get_mut(name).ok_or_else(|| no_volume(name))?;
            // A lapsed lease renews while nobody else took the volume.
            let lapsed = match &volume.lease {
                Some(lease) if lease.holder == NODE => lease.expires_at <= now,
                _ => {
                    return Err(refuse(
                        ErrorCode::BadRequest,
                        format!("{NODE} holds no lease on volume '{name}'"),
                    ));
                }
            };
            let expires_at =
                now + Duration::from_secs(u64::from(request.lease_seconds.unwrap_or(60)));
            volume.lease = Some(Lease {
                holder: NODE.to_owned(),
                expires_at,
            });
            let info = InProcessServer::info(name, volume);
            model.lapsed |= lapsed;
            model.granted_until.insert(name.to_owned(), expires_at);
            drop(model);
            self.renewed.send_modify(|renewed| *renewed += 1);
            Ok(info)
        })
    }

    fn release_volume<'a>(
        &'a self,
        name: &'a str,
        _request: &'a LeaseRequest,
    ) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move {
            let mut model = self.model();
            let volume = model.volumes.get_mut(name).ok_or_else(|| no_volume(name))?;
            if volume
                .lease
                .as_ref()
                .is_some_and(|lease| lease.holder == NODE)
            {
                volume.lease = None;
            }
            Ok(InProcessServer::info(name, volume))
        })
    }

    fn deliver_secret<'a>(
        &'a self,
        reference: &'a str,
        request: &'a DeliverRequest,
    ) -> ApiFuture<'a, SecretValue> {
        Box::pin(async move {
            let model = self.model();
            let (value, granted) = model
                .secrets
                .get(reference)
                .ok_or_else(|| refuse(ErrorCode::NotFound, format!("no secret '{reference}'")))?;
            InProcessServer::decide(
                &format!("secret '{reference}'"),
                Some(granted),
                &request.workloads,
            )?;
            Ok(SecretValue {
                id: format!("id-{reference}"),
                name: Some(reference.to_owned()),
                version: 1,
                value: SecretString::encode_base64(value),
            })
        })
    }
}

/// A mounted volume that records when it was fenced.
pub(crate) struct FakeMount {
    target: PathBuf,
    fenced: watch::Sender<Option<Instant>>,
}

impl FakeMount {
    /// A mount at `target`, and a receiver that sees when it is fenced.
    pub(crate) fn new(target: &Path) -> (FakeMount, watch::Receiver<Option<Instant>>) {
        let (fenced, receiver) = watch::channel(None);
        (
            FakeMount {
                target: target.to_path_buf(),
                fenced,
            },
            receiver,
        )
    }
}

impl Fence for FakeMount {
    fn target(&self) -> &Path {
        &self.target
    }

    fn fence(self) -> Result<(), String> {
        self.fenced.send_replace(Some(Instant::now()));
        Ok(())
    }
}

/// Lets every task run until all of them wait. On tokio's paused clock time
/// moves only when nothing can run, so when this 1 ms has passed, the work
/// that was ready (a fence under way) is done.
pub(crate) async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Waits until the mount `fenced` watches is fenced, and says when it was.
pub(crate) async fn fenced_at(fenced: &mut watch::Receiver<Option<Instant>>) -> Option<Instant> {
    fenced
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|at| *at)
}

/// The agent's shared state for a node talking to `server`, its data
/// directory in a temporary directory (kept as long as the returned guard).
pub(crate) fn shared(server: Arc<InProcessServer>) -> (Arc<Shared>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("temporary directory: {error}"));
    let state = NodeState {
        server: "https://127.0.0.1:1".to_owned(),
        servers: Vec::new(),
        node_id: "node-1".to_owned(),
        name: "host".to_owned(),
        role: "agent".to_owned(),
        tenant: "default".to_owned(),
        serial: "01".to_owned(),
        issued_at: time::OffsetDateTime::UNIX_EPOCH,
        not_after: time::OffsetDateTime::UNIX_EPOCH,
    };
    let shared = Shared::new(
        IdentityFiles::new(dir.path()),
        server,
        state,
        String::new(),
        dir.path().join("no-docker.sock"),
    );
    (Arc::new(shared), dir)
}
