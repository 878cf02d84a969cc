//! Keeping the leases of the mounted volumes, and fencing a volume whose lease
//! cannot be kept.
//!
//! The key manager lets another node take a volume once this node's lease has
//! lapsed (volumes on shared storage move between hosts). A node that can no
//! longer renew (a network partition, the key manager down) must therefore
//! stop writing the volume before that can happen, or two hosts write one
//! filesystem. Each renewal is timed from when its request was *sent*: the key
//! manager counts the new lease from when it received the request, which is
//! later, so `sent + lease` is never after the lease's true end. If no renewal
//! sent after the last successful one succeeds by `sent + lease − margin`
//! ([`LeaseTiming::fence_at`]), the volume is fenced: its engine stops at once
//! (the filesystem detached, the FUSE connection aborted, the loop device
//! detached, the key wiped with the engine), even while containers use it;
//! they get I/O errors, which is better than a corrupted filesystem. A
//! definitive refusal (the lease is gone or another node's, the volume is
//! gone, the node is refused) fences at once.
//!
//! A fenced volume stays fenced until Docker unmounts it (its containers
//! stopped); the next mount takes the lease afresh.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use api::volumes::{LeaseRequest, VolumeInfo};
use tokio::time::Instant;

use crate::AgentError;
use crate::shared::Shared;

/// The lease the agent asks for unless `--lease-seconds` says otherwise.
pub const DEFAULT_LEASE_SECS: u32 = 60;

/// The shortest lease the agent accepts: the renewal, its retries and the
/// fencing margin all need a few seconds.
pub const MIN_LEASE_SECS: u32 = 6;

/// The longest lease the key manager grants (its
/// `keystore::volumes::MAX_LEASE_SECS`, which the agent does not depend on).
pub const MAX_LEASE_SECS: u32 = 3600;

/// When to renew a volume's lease, retry a failed renewal, and fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeaseTiming {
    seconds: u32,
}

impl LeaseTiming {
    /// The timing of a lease of `seconds`, which must lie within
    /// [`MIN_LEASE_SECS`]..=[`MAX_LEASE_SECS`].
    pub(crate) fn new(seconds: u32) -> Result<LeaseTiming, AgentError> {
        if (MIN_LEASE_SECS..=MAX_LEASE_SECS).contains(&seconds) {
            Ok(LeaseTiming { seconds })
        } else {
            Err(AgentError::LeaseLength { seconds })
        }
    }

    /// The lease length asked of the key manager, in seconds.
    pub(crate) fn seconds(self) -> u32 {
        self.seconds
    }

    fn lease(self) -> Duration {
        Duration::from_secs(u64::from(self.seconds))
    }

    /// When to renew again after the renewal sent at `sent` succeeded: a
    /// third of the lease later.
    pub(crate) fn renew_at(self, sent: Instant) -> Instant {
        sent + self.lease() / 3
    }

    /// How long to wait before trying a failed renewal again: several tries
    /// fit before [`fence_at`](Self::fence_at).
    pub(crate) fn retry_after(self) -> Duration {
        self.lease() / 12
    }

    /// How long one renewal request may take: a request that hangs (a
    /// partition drops packets silently) must leave time for retries.
    pub(crate) fn request_timeout(self) -> Duration {
        self.lease() / 6
    }

    /// How long before the earliest possible end of the lease the volume is
    /// fenced: time for the fencing itself and for the key manager's clock
    /// running a little faster than this node's.
    fn margin(self) -> Duration {
        self.lease() / 4
    }

    /// When the volume must be fenced if no renewal sent after the one sent
    /// at `sent` (which succeeded) succeeds: the lease that renewal gave ends
    /// no earlier than `sent + lease`, and the margin comes off that.
    pub(crate) fn fence_at(self, sent: Instant) -> Instant {
        sent + (self.lease() - self.margin())
    }
}

/// Whether the key manager's answer to a renewal means the lease is not this
/// node's any more: no lease of this node (released, ended at a
/// decommission, or lapsed and taken), no such volume, or this node is
/// refused. Anything else (no answer, a server error, a sealed key manager)
/// may pass, and is retried until [`LeaseTiming::fence_at`].
fn is_definitive(error: &AgentError) -> bool {
    matches!(
        error,
        AgentError::Refused {
            status: 400 | 401 | 403 | 404 | 409,
            ..
        }
    )
}

/// One renewal of this node's lease on volume `name`; a renewal not answered
/// within [`LeaseTiming::request_timeout`] fails as unanswered.
pub(super) async fn renew_once(
    shared: &Shared,
    name: &str,
    timing: LeaseTiming,
) -> Result<VolumeInfo, AgentError> {
    const WHAT: &str = "renew the volume's lease";
    let request = LeaseRequest {
        lease_seconds: Some(timing.seconds()),
        ..LeaseRequest::default()
    };
    let api = shared.api();
    match tokio::time::timeout(timing.request_timeout(), api.renew_volume(name, &request)).await {
        Ok(answer) => answer.map_err(|error| AgentError::from_api(WHAT, error)),
        Err(_) => Err(AgentError::from_api(
            WHAT,
            api::ClientError::Unreachable(api::Unreachable::new(
                api::Transport::Timeout,
                format!(
                    "no answer within {} s",
                    timing.request_timeout().as_secs_f32()
                ),
            )),
        )),
    }
}

/// What keeping a lease needs of a mounted volume: where it is mounted, and
/// stopping it at once.
pub(crate) trait Fence: Send + 'static {
    /// The mount point.
    fn target(&self) -> &Path;

    /// Stops the volume at once, even while containers use it (blocking);
    /// says what failed when it could not.
    fn fence(self) -> Result<(), String>;
}

impl Fence for volume::Mounted {
    fn target(&self) -> &Path {
        volume::Mounted::target(self)
    }

    fn fence(self) -> Result<(), String> {
        volume::Mounted::fence(self)
            .map(drop)
            .map_err(|still| still.error.to_string())
    }
}

/// A volume mounted on this node, with the task that keeps its lease.
struct Mounted<M> {
    volume: M,
    renewal: tokio::task::JoinHandle<()>,
    /// Which mount of the volume this is, so that a renewal task never
    /// fences a later mount of the same volume.
    generation: u64,
    /// When the last successful renewal (or the acquire) was sent.
    last_sent: Arc<Mutex<Instant>>,
}

/// How the liveness report names the engine that serves a volume here: the
/// user-space one (a FUSE block file on a loop device, `crates/volume`).
pub(crate) const ENGINE: &str = "userspace";

/// The volumes this node has mounted and those it fenced, shared by the
/// driver and the renewal tasks. Whoever holds both locks takes `mounted`
/// first.
pub(crate) struct Leases<M = volume::Mounted> {
    shared: Arc<Shared>,
    timing: LeaseTiming,
    mounted: Mutex<HashMap<String, Mounted<M>>>,
    /// Fenced volumes (that Docker has not unmounted yet), with the reason.
    fenced: Mutex<BTreeMap<String, String>>,
    generations: Mutex<u64>,
}

impl Leases<volume::Mounted> {
    /// The engine serving `name`, if it is mounted here.
    pub(crate) fn engine_of(&self, name: &str) -> Option<volume::EngineKind> {
        self.mounted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .map(|mounted| mounted.volume.engine())
    }
}

impl<M: Fence> Leases<M> {
    /// No volume mounted yet.
    pub(crate) fn new(shared: Arc<Shared>, timing: LeaseTiming) -> Leases<M> {
        Leases {
            shared,
            timing,
            mounted: Mutex::new(HashMap::new()),
            fenced: Mutex::new(BTreeMap::new()),
            generations: Mutex::new(0),
        }
    }

    /// The lease timing of this agent.
    pub(crate) fn timing(&self) -> LeaseTiming {
        self.timing
    }

    /// Keeps the lease of `volume` (mounted as `name`) from now on; `sent` is
    /// when the request that took or last renewed the lease was sent.
    pub(crate) fn track(self: &Arc<Self>, name: String, volume: M, sent: Instant) {
        let generation = {
            let mut generations = self
                .generations
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *generations = generations.wrapping_add(1);
            *generations
        };
        let last_sent = Arc::new(Mutex::new(sent));
        self.forget_fenced(&name);
        // Under the lock, so a renewal task that fences at once finds its entry.
        let mut mounted = self.mounted.lock().unwrap_or_else(PoisonError::into_inner);
        let renewal =
            tokio::spawn(Arc::clone(self).keep(name.clone(), generation, Arc::clone(&last_sent)));
        mounted.insert(
            name,
            Mounted {
                volume,
                renewal,
                generation,
                last_sent,
            },
        );
    }

    /// Stops keeping the lease of `name` and hands its mount over (to be
    /// unmounted), with when its lease was last renewed; `None` when it is
    /// not mounted (or was fenced).
    pub(crate) fn untrack(&self, name: &str) -> Option<(M, Instant)> {
        let mounted = self
            .mounted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name)?;
        mounted.renewal.abort();
        let sent = *mounted
            .last_sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Some((mounted.volume, sent))
    }

    /// Whether `name` is mounted here with its lease kept.
    pub(crate) fn is_mounted(&self, name: &str) -> bool {
        self.mounted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(name)
    }

    /// The volumes mounted here and those fenced (with why), for the
    /// liveness report.
    pub(crate) fn report(&self) -> Vec<api::nodes::MountedVolume> {
        let mounted: Vec<String> = self
            .mounted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        let fenced = self
            .fenced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut volumes: Vec<api::nodes::MountedVolume> = mounted
            .into_iter()
            .filter(|name| !fenced.contains_key(name))
            .map(|name| api::nodes::MountedVolume {
                name,
                engine: Some(ENGINE.to_owned()),
                fenced: None,
            })
            .collect();
        volumes.extend(
            fenced
                .into_iter()
                .map(|(name, reason)| api::nodes::MountedVolume {
                    name,
                    engine: Some(ENGINE.to_owned()),
                    fenced: Some(reason),
                }),
        );
        volumes
    }

    /// Why `name` was fenced, if it was and Docker has not unmounted it yet.
    pub(crate) fn fenced(&self, name: &str) -> Option<String> {
        self.fenced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// Forgets that `name` was fenced (Docker unmounted it, or it is mounted
    /// afresh); returns whether it was.
    pub(crate) fn forget_fenced(&self, name: &str) -> bool {
        let was = self
            .fenced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name)
            .is_some();
        if was {
            self.shared.update_status(|status| {
                status.fenced_volumes.remove(name);
            });
        }
        was
    }

    /// Fences every volume mounted here, at once: the key manager refuses
    /// this node for good (it was decommissioned, which ended its leases), so
    /// another node may take these volumes now, and the agent is about to
    /// stop, after which nothing here would renew or fence them. Returns the
    /// volumes fenced.
    pub(crate) async fn fence_all(&self, reason: &str) -> Vec<String> {
        let generations: Vec<(String, u64)> = self
            .mounted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, mounted)| (name.clone(), mounted.generation))
            .collect();
        let mut fenced = Vec::with_capacity(generations.len());
        for (name, generation) in generations {
            tracing::error!(
                volume = %name,
                %reason,
                "the key manager refuses this node, and another node may take the volume now: its mount here is stopped (fenced) and its key wiped, and the containers using it get I/O errors"
            );
            if self.fence(&name, generation, reason.to_owned()).await {
                fenced.push(name);
            }
        }
        fenced
    }

    /// Renews the lease of mount `generation` of `name` until aborted, and
    /// fences the volume when the lease cannot be kept.
    async fn keep(self: Arc<Self>, name: String, generation: u64, last_sent: Arc<Mutex<Instant>>) {
        let timing = self.timing;
        let mut sent_ok = *last_sent.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = timing.renew_at(sent_ok);
        let unanswered = || String::from("no renewal was answered in time");
        let mut last_error = unanswered();
        loop {
            let attempt = async {
                tokio::time::sleep_until(next).await;
                let sent = Instant::now();
                (sent, renew_once(&self.shared, &name, timing).await)
            };
            tokio::select! {
                () = tokio::time::sleep_until(timing.fence_at(sent_ok)) => {
                    let silent = sent_ok.elapsed().as_secs();
                    tracing::error!(
                        volume = %name,
                        lease_seconds = timing.seconds(),
                        %last_error,
                        "no renewal of the volume's lease succeeded for {silent} s of its {} s: before the lease can lapse and another node take the volume, its mount here is stopped (fenced) and its key wiped, and the containers using it get I/O errors. Restore this node's contact with the key manager, then restart those containers to mount the volume again",
                        timing.seconds()
                    );
                    let reason = format!(
                        "the lease was not renewed for {silent} s ({last_error})"
                    );
                    self.fence(&name, generation, reason).await;
                    return;
                }
                (sent, renewed) = attempt => match renewed {
                    Ok(_) => {
                        sent_ok = sent;
                        *last_sent.lock().unwrap_or_else(PoisonError::into_inner) = sent;
                        next = timing.renew_at(sent);
                        last_error = unanswered();
                    }
                    Err(error) if is_definitive(&error) => {
                        tracing::error!(
                            volume = %name,
                            %error,
                            "the key manager refused to renew the volume's lease: another node may hold the volume now, so its mount here is stopped (fenced) and its key wiped, and the containers using it get I/O errors. Restart those containers to mount the volume again once it is free"
                        );
                        let reason = format!("the key manager refused the lease: {error}");
                        self.fence(&name, generation, reason).await;
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(volume = %name, %error, "could not renew the lease; retrying");
                        last_error = error.to_string();
                        next = Instant::now() + timing.retry_after();
                    }
                },
            }
        }
    }

    /// Fences mount `generation` of `name`, unless it was unmounted (or
    /// fenced) meanwhile: stops its engine at once and reports the volume
    /// fenced. Returns whether this call fenced it.
    async fn fence(&self, name: &str, generation: u64, reason: String) -> bool {
        let taken = {
            let mut mounted = self.mounted.lock().unwrap_or_else(PoisonError::into_inner);
            if mounted
                .get(name)
                .is_some_and(|mounted| mounted.generation == generation)
            {
                // Marked in the same step, before the engine stops: a
                // container joining from now on is refused.
                self.fenced
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(name.to_owned(), reason.clone());
                mounted.remove(name)
            } else {
                None
            }
        };
        let Some(mounted) = taken else {
            return false;
        };
        let target = mounted.volume.target().to_owned();
        match tokio::task::spawn_blocking(move || mounted.volume.fence()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(volume = %name, %error, "could not stop the fenced volume's engine");
            }
            Err(error) => {
                tracing::error!(volume = %name, %error, "could not stop the fenced volume's engine");
            }
        }
        // The empty mount point is on this host's disk: nothing may write
        // there in the volume's place (Docker binds it again for `docker cp`).
        let _ = std::fs::remove_dir(&target);
        // Reported once the engine is stopped: whoever reads status.json
        // (an operator, a test) finds nothing of the volume left running.
        self.shared.update_status(|status| {
            status.fenced_volumes.insert(name.to_owned(), reason);
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(seconds: u32) -> LeaseTiming {
        LeaseTiming::new(seconds).unwrap()
    }

    #[test]
    fn fences_a_quarter_of_the_lease_before_it_can_lapse_counted_from_the_send() {
        let sent = Instant::now();
        let lease = timing(60);
        assert_eq!(lease.fence_at(sent), sent + Duration::from_secs(45));
        assert_eq!(lease.renew_at(sent), sent + Duration::from_secs(20));
        // The shortest lease still fences before it can lapse.
        let short = timing(MIN_LEASE_SECS);
        assert_eq!(short.fence_at(sent), sent + Duration::from_millis(4500));
        assert_eq!(short.renew_at(sent), sent + Duration::from_secs(2));
        // A renewal answered late counts from its send: the key manager's
        // lease began no earlier than that.
        let answered = sent + Duration::from_secs(50);
        assert!(lease.fence_at(sent) < answered);
        assert!(lease.fence_at(sent) < sent + lease.lease());
    }

    #[test]
    fn one_failed_renewal_never_fences() {
        for seconds in [MIN_LEASE_SECS, 7, 10, 60, 61, 3599, MAX_LEASE_SECS] {
            let lease = timing(seconds);
            let sent = Instant::now();
            // The renewal due after `sent` fails only when its request times
            // out; its retry is sent, and may time out, before the fence.
            let first_gives_up = lease.renew_at(sent) + lease.request_timeout();
            let retry_gives_up = first_gives_up + lease.retry_after() + lease.request_timeout();
            assert!(
                retry_gives_up <= lease.fence_at(sent),
                "{seconds} s: {retry_gives_up:?} > {:?}",
                lease.fence_at(sent)
            );
            assert!(lease.fence_at(sent) < sent + lease.lease());
            assert!(lease.retry_after() > Duration::ZERO);
        }
    }

    #[test]
    fn rejects_leases_outside_what_the_agent_and_key_manager_allow() {
        for seconds in [0, 1, MIN_LEASE_SECS - 1, MAX_LEASE_SECS + 1, u32::MAX] {
            assert!(
                matches!(
                    LeaseTiming::new(seconds),
                    Err(AgentError::LeaseLength { seconds: refused }) if refused == seconds
                ),
                "{seconds}"
            );
        }
        assert_eq!(timing(DEFAULT_LEASE_SECS).seconds(), 60);
    }

    use crate::testing::{Behaviour, FakeMount, InProcessServer, fenced_at, shared};
    use api::ErrorCode;

    /// A node with volume `name` mounted: its lease taken now through the
    /// in-process server, and kept by `Leases` from then on.
    struct Mounted {
        server: Arc<InProcessServer>,
        leases: Arc<Leases<FakeMount>>,
        fenced: tokio::sync::watch::Receiver<Option<Instant>>,
        acquired: Instant,
        _dir: tempfile::TempDir,
    }

    async fn mount(name: &str) -> Mounted {
        let server = InProcessServer::new();
        server.add_volume(name, None);
        let (shared, dir) = shared(Arc::clone(&server));
        let timing = timing(60);
        let leases = Arc::new(Leases::new(Arc::clone(&shared), timing));
        let (_volume, _secret, acquired) =
            super::super::take_lease(shared.api().as_ref(), name, Vec::new(), timing)
                .await
                .unwrap();
        let (volume, fenced) = FakeMount::new(&dir.path().join(name));
        leases.track(name.to_owned(), volume, acquired);
        Mounted {
            server,
            leases,
            fenced,
            acquired,
            _dir: dir,
        }
    }

    // The lease tests run on tokio's paused clock: time moves only when every
    // task waits, straight to the next timer, so hours of renewals take no
    // time and every instant below is exact.

    #[tokio::test(start_paused = true)]
    async fn renewals_keep_the_lease_and_the_mount() {
        let node = mount("pgdata").await;
        // Ten leases' worth: a renewal every third of the lease.
        node.server.renewed(30).await;
        assert_eq!(node.acquired.elapsed(), Duration::from_secs(600));
        assert!(node.leases.is_mounted("pgdata"));
        assert_eq!(*node.fenced.borrow(), None);
        assert!(
            !node.server.lapsed(),
            "a renewal came after the lease ended"
        );
        assert_eq!(
            node.server.holder("pgdata").as_deref(),
            Some(crate::testing::NODE)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unanswered_renewals_fence_the_volume_at_three_quarters_of_its_lease() {
        for behaviour in [Behaviour::Unreachable, Behaviour::Silent] {
            let mut node = mount("pgdata").await;
            node.server.renewals(behaviour.clone());
            let fenced = fenced_at(&mut node.fenced).await.unwrap();
            assert_eq!(
                fenced - node.acquired,
                Duration::from_secs(45),
                "{behaviour:?}"
            );
            let lease_end = node.server.granted_until("pgdata").unwrap();
            assert!(
                fenced < lease_end,
                "{behaviour:?}: fenced after the lease ended"
            );
            assert!(!node.leases.is_mounted("pgdata"));
            assert!(node.leases.fenced("pgdata").is_some());
            crate::testing::settle().await;
            let status = node.leases.shared.status();
            assert!(status.fenced_volumes.contains_key("pgdata"), "{status:?}");
            // Until the lease ends, nobody else gets the volume; after the
            // fence, it is safe that someone does.
            assert!(!node.server.acquire_as("node:node-2", "pgdata", 60));
            // Moves the paused clock to the lease's end.
            tokio::time::sleep_until(lease_end).await;
            assert!(node.server.acquire_as("node:node-2", "pgdata", 60));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_fence_counts_from_the_last_renewal_that_succeeded() {
        let mut node = mount("pgdata").await;
        node.server.renewed(2).await;
        let last_renewal = Instant::now();
        node.server.renewals(Behaviour::Unreachable);
        let fenced = fenced_at(&mut node.fenced).await.unwrap();
        assert_eq!(last_renewal - node.acquired, Duration::from_secs(40));
        assert_eq!(fenced - last_renewal, Duration::from_secs(45));
        assert!(fenced < node.server.granted_until("pgdata").unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn a_definitive_refusal_of_the_renewal_fences_at_once() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
        ] {
            let mut node = mount("pgdata").await;
            node.server
                .renewals(Behaviour::Refuse(code, format!("refused with {code}")));
            let fenced = fenced_at(&mut node.fenced).await.unwrap();
            // The first renewal, a third of the lease in, is refused.
            assert_eq!(fenced - node.acquired, Duration::from_secs(20), "{code}");
            let reason = node.leases.fenced("pgdata").unwrap();
            assert!(reason.contains(&format!("refused with {code}")), "{reason}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_error_on_renewal_is_retried_not_fenced_at_once() {
        let mut node = mount("pgdata").await;
        node.server.renewals(Behaviour::Refuse(
            ErrorCode::Sealed,
            "the key manager is sealed".to_owned(),
        ));
        // The renewal due and two retries are refused as sealed.
        node.server.attempted(3).await;
        assert_eq!(node.acquired.elapsed(), Duration::from_secs(30));
        assert!(
            node.leases.is_mounted("pgdata"),
            "fenced on a passing failure"
        );
        node.server.renewals(Behaviour::Answer);
        node.server.renewed(3).await;
        assert!(node.leases.is_mounted("pgdata"));
        assert_eq!(*node.fenced.borrow_and_update(), None);
    }

    #[test]
    fn only_a_refusal_of_the_lease_fences_at_once() {
        let refused = |status| AgentError::Refused {
            what: "renew the volume's lease",
            status,
            message: String::new(),
        };
        for status in [400, 401, 403, 404, 409] {
            assert!(is_definitive(&refused(status)), "{status}");
        }
        for status in [429, 500, 502, 503] {
            assert!(!is_definitive(&refused(status)), "{status}");
        }
    }
}
