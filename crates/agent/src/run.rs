//! `agent run`: a set of long-running tasks (certificate renewal, liveness; the
//! volume plugin joins them later) that stop together on shutdown.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::AgentError;
use crate::files::{IdentityFiles, NodeState};
use crate::shared::{Shared, connect};
use crate::volumes::{Fence, Leases};

/// Default interval of liveness reports.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);

/// How long tasks get to finish their current request at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Longest wait before retrying a failed renewal.
const MAX_RENEW_RETRY: Duration = Duration::from_secs(30);

/// What `agent run` needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The data directory `agent join` wrote.
    pub data_dir: PathBuf,
    /// How often to report liveness.
    pub heartbeat_interval: Duration,
    /// Serve Docker's volume plugin with these settings (`None`: identity only).
    pub volumes: Option<crate::VolumeOptions>,
}

/// Whether an error means the server refuses this node for good.
fn is_final(error: &AgentError) -> bool {
    matches!(
        error,
        AgentError::Refused {
            status: 401 | 403,
            ..
        }
    )
}

/// Why the volumes mounted here are fenced when a task of the agent ended with
/// `error`: `None` unless the server refuses this node for good.
fn refusal_fences_volumes(error: &AgentError) -> Option<String> {
    is_final(error).then(|| format!("the key manager refuses this node: {error}"))
}

/// Runs until `shutdown` completes or the server refuses the node (decommissioned);
/// in that case the volumes mounted here are fenced first.
pub async fn run(
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    let files = IdentityFiles::new(&options.data_dir);
    let state = files.load_state()?.ok_or_else(|| AgentError::NotJoined {
        dir: options.data_dir.clone(),
    })?;
    let (key, cert, ca) = files.load_pem()?;
    let client = connect(&state.servers(), &ca, Some((&cert, &key)))?;
    let docker_socket = options.volumes.as_ref().map_or_else(
        || PathBuf::from(crate::DEFAULT_DOCKER_SOCKET),
        |volumes| volumes.docker_socket.clone(),
    );
    let shared = Arc::new(Shared::new(
        files,
        Arc::new(client),
        state,
        hex::encode(pki::bundle_digest(ca.as_bytes())),
        docker_socket,
    ));
    shared.update_status(|_| {});
    tracing::info!(node_id = %shared.state().node_id, "agent running");

    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tasks.spawn(renew_loop(Arc::clone(&shared), stopped.clone()));
    let mut leases = None;
    if let Some(volumes) = &options.volumes {
        let driver = crate::volumes::CryptainerDriver::new(Arc::clone(&shared), volumes)?;
        leases = Some(driver.leases());
        let driver = crate::driver::AgentDriver::new(
            driver,
            crate::secret_volumes::SecretVolumes::new(Arc::clone(&shared), &volumes.run_dir)?,
        );
        let plugin = Arc::new(
            plugin::Plugin::new(driver, Some(volumes.run_dir.join("mounts.json"))).map_err(
                |error| AgentError::Io {
                    action: "load the volume mount table",
                    path: volumes.run_dir.clone(),
                    source: std::io::Error::other(error.to_string()),
                },
            )?,
        );
        plugin.set_secret_provider(Arc::new(crate::swarm::SwarmSecrets::new(Arc::clone(
            &shared,
        ))));
        // Volumes still mounted from before a restart are taken back (or
        // fenced, or forgotten) before Docker is served again.
        let in_use = plugin.mounted();
        let (recovered, lost) = plugin.driver().take_back(&in_use).await?;
        for name in &lost {
            if let Err(error) = plugin.forget_mount(name).await {
                tracing::warn!(volume = %name, %error, "could not update the mount table");
            }
        }
        if !recovered.is_empty() || !lost.is_empty() {
            tracing::info!(?recovered, ?lost, "volumes after the restart");
        }
        // Bound before the tasks start: a socket that cannot be made fails the
        // start, not a task later.
        let bound = plugin::bind(&volumes.socket).map_err(|error| AgentError::Io {
            action: "serve the volume plugin on",
            path: volumes.socket.clone(),
            source: std::io::Error::other(error.to_string()),
        })?;
        let socket = volumes.socket.clone();
        let mut plugin_stopped = stopped.clone();
        tasks.spawn(async move {
            let stop = async move {
                let _ = plugin_stopped.wait_for(|stop| *stop).await;
            };
            plugin::serve_bound(bound, plugin, stop)
                .await
                .map_err(|error| AgentError::Io {
                    action: "serve the volume plugin on",
                    path: socket.clone(),
                    source: std::io::Error::other(error.to_string()),
                })
        });
    }
    // Liveness reports say what runs here with this agent's volumes, so
    // they start once the volumes are taken back.
    let reporter = match (&options.volumes, &leases) {
        (Some(volumes), Some(leases)) => Some(Reporter {
            driver: volumes
                .socket
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
            leases: Arc::clone(leases),
        }),
        _ => None,
    };
    tasks.spawn(heartbeat_loop(
        Arc::clone(&shared),
        stopped.clone(),
        options.heartbeat_interval,
        reporter,
    ));
    tokio::pin!(shutdown);

    let mut outcome = Ok(());
    tokio::select! {
        () = &mut shutdown => tracing::info!("stopping"),
        Some(ended) = tasks.join_next() => {
            if let Ok(Err(error)) = ended {
                outcome = Err(error);
            }
        }
    }
    // A node the key manager refuses for good (decommissioned) has lost its
    // leases already: its volumes are fenced before the agent stops, since
    // their engines would otherwise serve them on with nobody fencing them
    // while another node takes them.
    if let (Err(error), Some(leases)) = (&outcome, &leases) {
        if refusal_fences_volumes(error).is_some() {
            fence_if_refused(error, leases).await;
            // Docker forgets a volume only through its plugin (Get, then
            // Remove): keep answering it, from this node's own state, until
            // told to stop, so that the node's volumes can be removed.
            tracing::error!(
                "the key manager refuses this node: the volume plugin keeps answering Docker from this node's own state, so that `docker volume rm` can remove its volumes (their images stay, no key is asked for); stop the agent (SIGTERM) when done"
            );
            (&mut shutdown).await;
        }
    }
    let _ = stop.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(ended) = tasks.join_next().await {
            if let Ok(Err(error)) = ended {
                tracing::warn!(%error, "a task ended with an error while stopping");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("some tasks did not finish within the shutdown grace period");
    }
    outcome
}

/// Fences every volume mounted here when `error`, which ended a task of the
/// agent, says the server refuses this node for good; returns the volumes
/// fenced.
async fn fence_if_refused<M: Fence>(error: &AgentError, leases: &Leases<M>) -> Vec<String> {
    let Some(reason) = refusal_fences_volumes(error) else {
        return Vec::new();
    };
    let fenced = leases.fence_all(&reason).await;
    if !fenced.is_empty() {
        tracing::error!(?fenced, "volumes fenced: the key manager refuses this node");
    }
    fenced
}

/// Sleeps for `duration` unless asked to stop first; `true` means stop.
async fn sleep_or_stop(duration: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    if *stopped.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(duration) => false,
        _ = stopped.changed() => true,
    }
}

/// When to renew: a random point between 50% and 80% of the lifetime.
fn renewal_delay(state: &NodeState, now: OffsetDateTime) -> Duration {
    let lifetime = (state.not_after - state.issued_at).max(time::Duration::ZERO);
    let fraction = rand::thread_rng().gen_range(0.5..0.8);
    let due = state.issued_at + lifetime * fraction;
    Duration::try_from(due - now).unwrap_or(Duration::ZERO)
}

async fn renew_loop(
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), AgentError> {
    loop {
        let delay = renewal_delay(&shared.state(), OffsetDateTime::now_utc());
        tokio::select! {
            stop = sleep_or_stop(delay, &mut stopped) => if stop {
                return Ok(());
            },
            () = shared.renew_now().notified() => {
                tracing::info!("the server's CA bundle changed; renewing now");
            }
        }
        loop {
            match renew_once(&shared).await {
                Ok(serial) => {
                    tracing::info!(serial, "node certificate renewed");
                    shared.update_status(|status| {
                        status.renewals = status.renewals.saturating_add(1);
                        status.serial = serial;
                    });
                    break;
                }
                Err(error) if is_final(&error) => {
                    tracing::error!(%error, "the server refuses this node; stopping");
                    shared.update_status(|status| status.last_error = Some(error.to_string()));
                    return Err(error);
                }
                Err(error) => {
                    tracing::warn!(%error, "renewal failed; retrying");
                    shared.update_status(|status| {
                        status.renewals_failed = status.renewals_failed.saturating_add(1);
                        status.last_error = Some(error.to_string());
                    });
                    let left =
                        Duration::try_from(shared.state().not_after - OffsetDateTime::now_utc())
                            .unwrap_or(Duration::ZERO);
                    let retry = (left / 4).clamp(Duration::from_millis(200), MAX_RENEW_RETRY);
                    if sleep_or_stop(retry, &mut stopped).await {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// One renewal: a new key, a CSR, the new certificate stored and put to use.
async fn renew_once(shared: &Shared) -> Result<String, AgentError> {
    let state = shared.state();
    let request = pki::node_key_request(&state.name)?;
    let issued = shared
        .api()
        .renew_certificate(&api::nodes::RenewRequest {
            csr_pem: request.csr_pem.clone(),
        })
        .await
        .map_err(|error| AgentError::from_api("renew the node certificate", error))?;
    let client = connect(
        &state.servers(),
        &issued.ca_pem,
        Some((&issued.cert_pem, &request.key_pem)),
    )?;
    let renewed = NodeState {
        serial: issued.serial.clone(),
        issued_at: OffsetDateTime::now_utc(),
        not_after: issued.not_after,
        ..state
    };
    shared
        .files()
        .store(&request.key_pem, &issued.cert_pem, &issued.ca_pem, &renewed)?;
    shared.renewed(
        Arc::new(client),
        renewed,
        hex::encode(pki::bundle_digest(issued.ca_pem.as_bytes())),
    );
    Ok(issued.serial)
}

/// Whether a liveness answer asks for a renewal now. After a CA rotation the
/// server says `renew` when this node's batch comes; a server that does not
/// batch only serves the bundle digest, and a digest other than the pinned one
/// means the CA changed.
fn should_renew(answer: &api::nodes::Heartbeat, pinned: &str) -> bool {
    match answer.renew {
        Some(renew) => renew,
        None => answer
            .ca_digest
            .as_deref()
            .is_some_and(|served| served != pinned),
    }
}

/// What a liveness report says runs here: this agent's volumes, and the
/// containers that mount them (under the plugin's driver name).
struct Reporter<M = volume::Mounted> {
    driver: String,
    leases: Arc<Leases<M>>,
}

impl<M: Fence> Reporter<M> {
    /// The report; `last_containers` are used when the Docker engine does
    /// not answer (what ran is a better guess than nothing).
    async fn report(
        &self,
        shared: &Shared,
        last_containers: &mut Vec<api::nodes::RunningContainer>,
    ) -> api::nodes::LivenessReport {
        match shared.docker().running_with_driver(&self.driver).await {
            Ok(containers) => *last_containers = containers,
            Err(error) => {
                tracing::warn!(%error, "cannot list the running containers for the liveness report")
            }
        }
        api::nodes::LivenessReport {
            containers: last_containers.clone(),
            volumes: self.leases.report(),
        }
    }
}

async fn heartbeat_loop<M: Fence>(
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
    interval: Duration,
    reporter: Option<Reporter<M>>,
) -> Result<(), AgentError> {
    let mut last_containers = Vec::new();
    loop {
        let report = match &reporter {
            Some(reporter) => reporter.report(&shared, &mut last_containers).await,
            None => api::nodes::LivenessReport::default(),
        };
        let answer = shared
            .api()
            .heartbeat(&report)
            .await
            .map_err(|error| AgentError::from_api("report liveness", error));
        match answer {
            Ok(answer) => {
                shared.update_status(|status| {
                    status.heartbeats_ok = status.heartbeats_ok.saturating_add(1);
                });
                if should_renew(&answer, &shared.ca_digest()) {
                    shared.renew_now().notify_one();
                }
            }
            Err(error) => {
                tracing::warn!(%error, "liveness report failed");
                let last = error.to_string();
                shared.update_status(|status| {
                    status.heartbeats_failed = status.heartbeats_failed.saturating_add(1);
                    status.last_error = Some(last);
                });
                if is_final(&error) {
                    return Err(error);
                }
            }
        }
        if sleep_or_stop(interval, &mut stopped).await {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refused_node_fences_its_volumes_when_the_agent_stops() {
        let refused = |status| AgentError::Refused {
            what: "report liveness",
            status,
            message: String::from("node 'node-1' was decommissioned; its certificates are refused"),
        };
        for status in [401, 403] {
            let reason = refusal_fences_volumes(&refused(status)).unwrap();
            assert!(reason.contains("decommissioned"), "{reason}");
        }
        // A key manager that is down or answers an error for now: the leases
        // are still this node's, and the renewals decide when to fence.
        for status in [404, 409, 429, 500, 503] {
            assert_eq!(refusal_fences_volumes(&refused(status)), None, "{status}");
        }
        let unavailable = AgentError::NotJoined {
            dir: PathBuf::from("agent"),
        };
        assert_eq!(refusal_fences_volumes(&unavailable), None);
    }

    use crate::testing::{Behaviour, FakeMount, InProcessServer, fenced_at, shared};
    use crate::volumes::{LeaseTiming, take_lease};

    /// A node with volumes `names` mounted, their leases kept.
    async fn node_with(
        names: &[&str],
    ) -> (
        Arc<InProcessServer>,
        Arc<Shared>,
        Arc<Leases<FakeMount>>,
        Vec<watch::Receiver<Option<tokio::time::Instant>>>,
        tempfile::TempDir,
    ) {
        let server = InProcessServer::new();
        let (shared, dir) = shared(Arc::clone(&server));
        let timing = LeaseTiming::new(60).unwrap();
        let leases = Arc::new(Leases::new(Arc::clone(&shared), timing));
        let mut fenced = Vec::new();
        for name in names {
            server.add_volume(name, None);
            let (_, _, sent) = take_lease(shared.api().as_ref(), name, Vec::new(), timing)
                .await
                .unwrap();
            let (volume, receiver) = FakeMount::new(&dir.path().join(name));
            leases.track((*name).to_owned(), volume, sent);
            fenced.push(receiver);
        }
        (server, shared, leases, fenced, dir)
    }

    #[tokio::test(start_paused = true)]
    async fn a_decommissioned_node_fences_every_mounted_volume() {
        let refusals = [
            Behaviour::Refuse(
                api::ErrorCode::Unauthenticated,
                "node 'node-1' was decommissioned; its certificates are refused".to_owned(),
            ),
            Behaviour::RevokedInHandshake,
        ];
        for refusal in refusals {
            let (server, shared, leases, mut fenced, _dir) = node_with(&["a", "b"]).await;
            server.heartbeats(refusal.clone());
            let (_stop, stopped) = watch::channel(false);
            let ended = heartbeat_loop::<FakeMount>(
                Arc::clone(&shared),
                stopped,
                Duration::from_secs(30),
                None,
            )
            .await;
            let error = ended.expect_err("a refused node stops");
            assert!(error.to_string().contains("decommissioned"), "{error}");
            let mut volumes = fence_if_refused(&error, &leases).await;
            volumes.sort();
            assert_eq!(volumes, ["a", "b"], "{refusal:?}");
            for receiver in &mut fenced {
                // At once: no lease had to run out first.
                assert_eq!(fenced_at(receiver).await, Some(tokio::time::Instant::now()));
            }
            let status = shared.status();
            assert!(
                status
                    .fenced_volumes
                    .values()
                    .all(|reason| reason.contains("refuses this node")),
                "{status:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_manager_out_of_reach_does_not_fence_through_liveness() {
        let (server, shared, leases, fenced, _dir) = node_with(&["a"]).await;
        server.heartbeats(Behaviour::Unreachable);
        let (_stop, stopped) = watch::channel(false);
        // Reports at 0, 30, 60 and 90 s all fail; the loop goes on.
        let outcome = tokio::time::timeout(
            Duration::from_secs(95),
            heartbeat_loop::<FakeMount>(
                Arc::clone(&shared),
                stopped,
                Duration::from_secs(30),
                None,
            ),
        )
        .await;
        assert!(outcome.is_err(), "the liveness task stopped: {outcome:?}");
        assert_eq!(shared.status().heartbeats_failed, 4);
        // Renewals, not liveness, decide about the leases.
        assert!(leases.is_mounted("a"));
        assert_eq!(*fenced[0].borrow(), None);
    }

    #[test]
    fn renews_when_the_server_says_so_or_its_bundle_changed() {
        let pinned = "aa";
        let answer = |ca_digest: Option<&str>, renew: Option<bool>| {
            let heartbeat = api::nodes::Heartbeat {
                node_id: "node-1".to_owned(),
                state: api::nodes::NodeState::Active,
                cert_serial: "01".to_owned(),
                ca_digest: ca_digest.map(str::to_owned),
                renew,
            };
            should_renew(&heartbeat, pinned)
        };
        assert!(answer(Some("bb"), Some(true)));
        // Not this node's batch yet, though the bundle changed.
        assert!(!answer(Some("bb"), Some(false)));
        // A server without batches: the digest decides.
        assert!(answer(Some("bb"), None));
        assert!(!answer(Some("aa"), None));
        assert!(!answer(None, None));
    }

    #[test]
    fn renewal_falls_between_half_and_four_fifths_of_the_lifetime() {
        let issued_at = OffsetDateTime::UNIX_EPOCH;
        let state = NodeState {
            server: String::new(),
            servers: Vec::new(),
            node_id: String::new(),
            name: String::new(),
            role: String::new(),
            tenant: String::new(),
            serial: String::new(),
            issued_at,
            not_after: issued_at + time::Duration::seconds(1000),
        };
        for _ in 0..200 {
            let delay = renewal_delay(&state, issued_at);
            assert!(delay >= Duration::from_secs(500), "{delay:?}");
            assert!(delay <= Duration::from_secs(800), "{delay:?}");
        }
        // Past the due time: renew at once.
        assert_eq!(
            renewal_delay(&state, issued_at + time::Duration::seconds(900)),
            Duration::ZERO
        );
    }
}
