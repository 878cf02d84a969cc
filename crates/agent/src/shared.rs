//! [`Shared`]: what the agent's tasks and drivers share: the client of the key
//! manager (replaced at each certificate renewal), the node's state and
//! status files, and the Docker engine.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use api::NodeApi;

use crate::AgentError;
use crate::docker::DockerClient;
use crate::files::{AgentStatus, IdentityFiles, NodeState};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the agent's HTTPS clients present themselves and how long they wait.
pub(crate) const CLIENT_SETTINGS: api::ClientSettings = api::ClientSettings {
    user_agent: concat!("cryptainer-agent/", env!("CARGO_PKG_VERSION")),
    request_timeout: REQUEST_TIMEOUT,
    connect_timeout: CONNECT_TIMEOUT,
};

/// A client of the servers at `servers` (`https://HOST:PORT` each, the
/// servers of a cluster: a call moves to the next when one cannot answer)
/// that trusts only `ca_pem` and presents `(cert_pem, key_pem)` if given.
pub(crate) fn connect(
    servers: &[String],
    ca_pem: &str,
    identity: Option<(&str, &str)>,
) -> Result<api::HttpsClient, AgentError> {
    let servers = server_urls(servers)?;
    let tls = pki::client_config(ca_pem, identity)?;
    api::HttpsClient::with_tls(servers, tls, &CLIENT_SETTINGS).map_err(|source| {
        AgentError::Client {
            what: "set up the HTTPS client",
            source,
        }
    })
}

/// `servers` as URLs; refused when one does not parse or there are none.
pub(crate) fn server_urls(servers: &[String]) -> Result<api::Servers, AgentError> {
    let urls = servers
        .iter()
        .map(|server| {
            api::Url::parse(server).map_err(|_| AgentError::BadAddress {
                address: server.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    api::Servers::new(urls).ok_or_else(|| AgentError::BadAddress {
        address: String::new(),
    })
}

/// State the tasks share.
pub(crate) struct Shared {
    files: IdentityFiles,
    /// The client presenting the current certificate. Renewal replaces it;
    /// requests in flight keep the clone (and connection) they started with.
    api: RwLock<Arc<dyn NodeApi>>,
    state: Mutex<NodeState>,
    status: Mutex<AgentStatus>,
    /// SHA-256 (hex) of the pinned CA bundle.
    ca_digest: Mutex<String>,
    /// Wakes the renewal task early: the server's bundle changed (CA rotation).
    renew_now: tokio::sync::Notify,
    /// The Docker engine, asked which containers a volume or secret is for.
    docker: DockerClient,
}

impl Shared {
    /// The state of a node whose identity is in `files`, talking to the key
    /// manager through `api`, pinning the bundle of digest `ca_digest`.
    pub(crate) fn new(
        files: IdentityFiles,
        api: Arc<dyn NodeApi>,
        state: NodeState,
        ca_digest: String,
        docker_socket: PathBuf,
    ) -> Shared {
        let status = AgentStatus {
            serial: state.serial.clone(),
            ..AgentStatus::default()
        };
        Shared {
            files,
            api: RwLock::new(api),
            state: Mutex::new(state),
            status: Mutex::new(status),
            ca_digest: Mutex::new(ca_digest),
            renew_now: tokio::sync::Notify::new(),
            docker: DockerClient::new(docker_socket),
        }
    }

    /// The client of the key manager presenting the node's current certificate.
    pub(crate) fn api(&self) -> Arc<dyn NodeApi> {
        Arc::clone(&self.api.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The first server's base address, `https://HOST:PORT`.
    pub(crate) fn server(&self) -> String {
        self.state().server
    }

    /// The Docker engine of this host.
    pub(crate) fn docker(&self) -> &DockerClient {
        &self.docker
    }

    /// The data directory.
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        self.files.dir()
    }

    /// The identity files.
    pub(crate) fn files(&self) -> &IdentityFiles {
        &self.files
    }

    /// The node's state.
    pub(crate) fn state(&self) -> NodeState {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts a renewed certificate to use: its client, its state, and the
    /// digest of the bundle its answer brought (the one now pinned).
    pub(crate) fn renewed(&self, api: Arc<dyn NodeApi>, state: NodeState, ca_digest: String) {
        *self.api.write().unwrap_or_else(PoisonError::into_inner) = api;
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
        *self
            .ca_digest
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = ca_digest;
    }

    /// SHA-256 (hex) of the pinned CA bundle.
    pub(crate) fn ca_digest(&self) -> String {
        self.ca_digest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Wakes the renewal task early.
    pub(crate) fn renew_now(&self) -> &tokio::sync::Notify {
        &self.renew_now
    }

    /// Updates the status and writes it (under the lock, so writes do not interleave).
    pub(crate) fn update_status(&self, change: impl FnOnce(&mut AgentStatus)) {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut status);
        if let Err(error) = self.files.store_status(&status) {
            tracing::warn!(%error, "could not write status.json");
        }
    }

    /// The status as last written.
    #[cfg(test)]
    pub(crate) fn status(&self) -> AgentStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
