//! Taking mounted volumes back after the agent's control process restarted.
//!
//! The I/O path of a mounted volume (its engine process, the loop device and the
//! filesystem mount) does not live in the control process, so a restart or a
//! SIGKILL of `agent run` leaves running containers undisturbed. What the
//! control process held is gone, though: the lease renewal and the handle it
//! unmounts with at the container's exit. At start, before Docker is served
//! again, [`CryptainerDriver::take_back`] finds the engines that still run and
//! compares them with the plugin's mount table:
//!
//! * an engine of a volume the table says is in use is adopted: its lease is
//!   renewed (or taken again if it lapsed and nobody took it) and kept from
//!   then on as any mount's (fenced if it cannot be), and the container's
//!   exit unmounts it as usual;
//! * if meanwhile another node took the volume, this node's mount is stopped
//!   (fenced): one writer per volume matters more than a container that kept
//!   writing while its node was out of contact;
//! * an engine the table does not know (a mount interrupted before Docker heard
//!   of it), or whose containers all exited while the agent was down (Docker's
//!   unmount found nobody to answer), is stopped and its lease released;
//! * a volume the table lists without a running engine (the engine died) is
//!   reported so the table forgets it; a later Mount starts afresh.
//!
//! No key passes through the control process here: an adopted engine keeps the
//! volume key it holds in locked memory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use api::volumes::LeaseRequest;
use tokio::time::Instant;

use super::{CryptainerDriver, renew_once};
use crate::AgentError;

/// What became of a running engine found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recovered {
    /// In use, lease held: adopted.
    Adopted,
    /// In use, but the key manager could not be reached: adopted, and the
    /// renewal retries until it answers, fencing the volume if no renewal
    /// succeeds within three quarters of a lease from the adoption.
    AdoptedUnconfirmed,
    /// Another node holds the volume now (or the key manager refused the
    /// lease): this node's mount was stopped.
    Fenced(String),
    /// Not in use: stopped, lease released.
    Stopped,
}

impl CryptainerDriver {
    /// Takes back the engines still running from before a restart, given the
    /// volumes the mount table says are in use (`in_use`). Returns what
    /// happened to each engine, and the volumes of `in_use` this node no longer
    /// has mounted (the table must forget them).
    pub(crate) async fn take_back(
        &self,
        in_use: &BTreeMap<String, PathBuf>,
    ) -> Result<(BTreeMap<String, Recovered>, Vec<String>), AgentError> {
        let store = self.store.clone();
        let engine = self.engine.clone();
        let state_root = engine.state_root.clone();
        let failed = |detail: String| AgentError::Io {
            action: "find the volume engines still running under",
            path: state_root.clone(),
            source: std::io::Error::other(detail),
        };
        let engines =
            tokio::task::spawn_blocking(move || volume::Mounted::recover(&store, &engine))
                .await
                .map_err(|error| failed(error.to_string()))?
                .map_err(|error| failed(error.to_string()))?;
        let mut outcomes = BTreeMap::new();
        for mounted in engines {
            let name = mounted.name().to_owned();
            let outcome = if in_use.contains_key(&name) && self.still_used(&name).await {
                match self.retake_lease(&name).await {
                    Ok(confirmed) => {
                        tracing::info!(volume = %name, "took back a mounted volume");
                        // Unconfirmed: the previous run's last renewal is
                        // unknown, so the deadline counts from now.
                        let sent = confirmed.unwrap_or_else(Instant::now);
                        self.leases.track(name.clone(), mounted, sent);
                        if confirmed.is_some() {
                            Recovered::Adopted
                        } else {
                            Recovered::AdoptedUnconfirmed
                        }
                    }
                    Err(reason) => {
                        tracing::error!(
                            volume = %name,
                            %reason,
                            "the volume is no longer this node's: stopping its mount here at once (fenced) so that only one node writes it; the containers using it get I/O errors"
                        );
                        fence(mounted).await;
                        Recovered::Fenced(reason)
                    }
                }
            } else {
                // Mounted without Docker knowing (a mount interrupted before
                // its answer), or every container exited while the agent was
                // down (Docker's unmount found no agent).
                tracing::warn!(volume = %name, "stopping a volume engine no container uses");
                stop(mounted).await;
                self.release(&name).await;
                Recovered::Stopped
            };
            outcomes.insert(name, outcome);
        }
        let lost = in_use
            .keys()
            .filter(|name| {
                !matches!(
                    outcomes.get(*name),
                    Some(Recovered::Adopted | Recovered::AdoptedUnconfirmed)
                )
            })
            .cloned()
            .collect::<Vec<_>>();
        for name in &lost {
            if !outcomes.contains_key(name) {
                tracing::warn!(volume = %name, "the volume's engine stopped while the agent was down; the next mount starts it again");
                self.release(name).await;
            }
        }
        Ok((outcomes, lost))
    }

    /// Renews this node's lease on `name`, or takes it again when it lapsed and
    /// nobody took it; returns when the request that did was sent.
    /// `Ok(None)`: the key manager could not be reached (the renewal loop
    /// keeps trying). `Err`: the volume is not this node's.
    async fn retake_lease(&self, name: &str) -> Result<Option<Instant>, String> {
        let timing = self.leases.timing();
        let sent = Instant::now();
        match renew_once(&self.shared, name, timing).await {
            Ok(_) => return Ok(Some(sent)),
            Err(AgentError::Http { .. }) => return Ok(None),
            Err(AgentError::Refused { status: 400, .. }) => {}
            Err(error) => return Err(error.to_string()),
        }
        // No lease of ours: free, or another node's.
        let api = self.shared.api();
        let info = api
            .volume(name)
            .await
            .map_err(|error| AgentError::from_api("read the volume", error).to_string())?;
        if let Some(holder) = info.holder {
            return Err(format!("node '{holder}' holds it now"));
        }
        let sent = Instant::now();
        let request = LeaseRequest {
            lease_seconds: Some(timing.seconds()),
            ..LeaseRequest::default()
        };
        let acquired = api
            .acquire_volume(name, &request)
            .await
            .map_err(|error| AgentError::from_api("take the volume's lease", error).to_string())?;
        // The adopted engine has the key already; the secret (zeroized on drop)
        // is not needed.
        drop(acquired);
        Ok(Some(sent))
    }

    /// Whether a container still uses volume `name`, as the Docker engine
    /// says; when Docker cannot be asked, assumed so (an unused mount is
    /// safer than one pulled from under a container).
    async fn still_used(&self, name: &str) -> bool {
        match self.shared.docker().volume_in_use(name).await {
            Ok(used) => used,
            Err(error) => {
                tracing::warn!(volume = %name, %error, "cannot ask Docker whether the volume is still used; keeping it");
                true
            }
        }
    }
}

/// Stops a recovered volume's engine at once, even while containers use it;
/// a failure is logged.
async fn fence(mounted: volume::Mounted) {
    let name = mounted.name().to_owned();
    match tokio::task::spawn_blocking(move || mounted.fence()).await {
        Ok(Ok(_)) => {}
        Ok(Err(still)) => tracing::error!(volume = %name, error = %still.error, "could not fence"),
        Err(error) => tracing::error!(volume = %name, %error, "could not fence"),
    }
}

/// Unmounts a recovered volume and stops its engine; a failure is logged (the
/// next start tries again).
async fn stop(mounted: volume::Mounted) {
    let name = mounted.name().to_owned();
    match tokio::task::spawn_blocking(move || mounted.unmount()).await {
        Ok(Ok(_)) => {}
        Ok(Err(still)) => tracing::error!(volume = %name, "could not unmount: {still:?}"),
        Err(error) => tracing::error!(volume = %name, %error, "could not unmount"),
    }
}
