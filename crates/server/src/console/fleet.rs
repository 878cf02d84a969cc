//! The fleet model the console and `/v1/fleet` read: the release ledger
//! (which node and container received which version of a volume's secret or
//! a secret's value, when, and why), the releases the policies refused, and
//! each node's last liveness report (its running containers and mounted
//! volumes).
//!
//! It is filled from what already flows through the server: the release
//! decisions of `acquire` and `deliver` (each allowed workload with the
//! policy that allowed it, [`keystore::GrantBasis`]), their refusals, and the
//! agents' liveness reports. It never holds key material or a secret's value:
//! only names, ids, versions and times. It lives in memory, bounded; after a
//! restart it fills again as nodes report and take leases (volume leases
//! themselves are durable in the key store, and the views read them there).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use api::fleet::{Basis, ContainerRef};
use api::nodes::{LivenessReport, MAX_REPORTED_CONTAINERS, MAX_REPORTED_VOLUMES};
use api::policies::WorkloadClaim;
use keystore::GrantBasis;
use time::OffsetDateTime;

/// Most release entries kept; past it the least recently released tenth is
/// dropped. An entry is one version to one container on one node, so this
/// covers a fleet of thousands of nodes.
const MAX_RELEASES: usize = 200_000;

/// Most refusals kept (the last hour's, at most this many).
const MAX_REFUSALS: usize = 10_000;

/// How long refusals are kept: the overview counts the last hour's.
const REFUSAL_WINDOW: time::Duration = time::Duration::hours(1);

/// Whether a release was a volume's secret or a secret's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ResourceKind {
    /// A volume's secret (`acquire`).
    Volume,
    /// A secret's value (`deliver`, `value`).
    Secret,
}

impl ResourceKind {
    /// The API's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Volume => "volume",
            ResourceKind::Secret => "secret",
        }
    }
}

/// What was released, to whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ReleaseKey {
    object_id: String,
    version: u32,
    recipient: String,
    container_id: String,
}

/// One version released to one container (or caller), with when and why.
#[derive(Debug, Clone)]
pub(crate) struct ReleaseEntry {
    /// Volume or secret.
    pub(crate) kind: ResourceKind,
    /// Its tenant.
    pub(crate) tenant: String,
    /// The volume's or secret's name.
    pub(crate) resource: String,
    /// The object released (a volume's key, a secret).
    pub(crate) object_id: String,
    /// The version released.
    pub(crate) version: u32,
    /// Who received it (its audit name, `node:...` or `token:...`).
    pub(crate) recipient: String,
    /// The container, as the node named it.
    pub(crate) container: ContainerRef,
    /// Why it was allowed.
    pub(crate) basis: Basis,
    /// First release.
    pub(crate) first_at: OffsetDateTime,
    /// Latest release.
    pub(crate) last_at: OffsetDateTime,
    /// How many times.
    pub(crate) count: u64,
}

impl ReleaseEntry {
    /// The receiving node's id, when a node received it.
    pub(crate) fn node_id(&self) -> Option<&str> {
        self.recipient.strip_prefix(keystore::NODE_PRINCIPAL_PREFIX)
    }
}

/// A release the policies refused.
#[derive(Debug, Clone)]
pub(crate) struct RefusalEntry {
    /// When.
    pub(crate) at: OffsetDateTime,
    /// The node that asked.
    pub(crate) node_id: String,
    /// Volume or secret.
    pub(crate) kind: ResourceKind,
    /// Its name.
    pub(crate) resource: String,
    /// Its tenant.
    pub(crate) tenant: String,
    /// The container, as people name it.
    pub(crate) workload: String,
    /// Why.
    pub(crate) reason: String,
}

/// A node's last liveness report (when it came is the node's `last_seen`).
#[derive(Debug, Clone)]
pub(crate) struct NodeReport {
    /// What it said.
    pub(crate) report: LivenessReport,
}

/// What a release is about, for [`Fleet::record_release`].
pub(crate) struct Released<'a> {
    /// Volume or secret.
    pub(crate) kind: ResourceKind,
    /// Its tenant.
    pub(crate) tenant: &'a str,
    /// The volume's or secret's name.
    pub(crate) resource: &'a str,
    /// The object released.
    pub(crate) object_id: &'a str,
    /// Its version.
    pub(crate) version: u32,
    /// Who received it (audit name).
    pub(crate) recipient: &'a str,
}

/// The model, shared by the handlers.
#[derive(Default)]
pub struct Fleet {
    state: Mutex<FleetState>,
}

#[derive(Default)]
struct FleetState {
    releases: HashMap<ReleaseKey, ReleaseEntry>,
    refusals: VecDeque<RefusalEntry>,
    reports: HashMap<String, NodeReport>,
}

/// A copy of the model, read by one view.
#[derive(Debug, Clone, Default)]
pub(crate) struct FleetSnapshot {
    /// Every release entry.
    pub(crate) releases: Vec<ReleaseEntry>,
    /// The last hour's refusals, oldest first.
    pub(crate) refusals: Vec<RefusalEntry>,
    /// Each node's last report.
    pub(crate) reports: HashMap<String, NodeReport>,
}

/// The container a claim names.
pub(crate) fn container_of(claim: &WorkloadClaim) -> ContainerRef {
    ContainerRef {
        container_id: claim.container_id.clone(),
        container_name: claim.container_name.clone(),
        image: claim.image.clone(),
        image_digest: claim.image_digest.clone(),
        service: claim.service.clone(),
    }
}

/// The wire's spelling of why a workload was allowed.
fn basis(grant: &GrantBasis) -> Basis {
    match grant {
        GrantBasis::Policy(policy) => Basis::Policy {
            policy: policy.clone(),
        },
        GrantBasis::Creator => Basis::Creator,
        GrantBasis::Role => Basis::Role,
    }
}

impl Fleet {
    fn lock(&self) -> std::sync::MutexGuard<'_, FleetState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a release of `what` for the workloads `claims` (none: the
    /// caller itself), each allowed for the reason of the same position in
    /// `grants`.
    pub(crate) fn record_release(
        &self,
        what: &Released<'_>,
        claims: &[WorkloadClaim],
        grants: &[GrantBasis],
    ) {
        let now = OffsetDateTime::now_utc();
        let unnamed = [WorkloadClaim::default()];
        let claims = if claims.is_empty() {
            &unnamed[..]
        } else {
            claims
        };
        let mut state = self.lock();
        for (index, claim) in claims.iter().enumerate() {
            let grant = grants
                .get(index)
                .or(grants.first())
                .map_or(Basis::Role, basis);
            let key = ReleaseKey {
                object_id: what.object_id.to_owned(),
                version: what.version,
                recipient: what.recipient.to_owned(),
                container_id: claim.container_id.clone().unwrap_or_default(),
            };
            state
                .releases
                .entry(key)
                .and_modify(|entry| {
                    entry.last_at = now;
                    entry.count = entry.count.saturating_add(1);
                    entry.basis = grant.clone();
                })
                .or_insert_with(|| ReleaseEntry {
                    kind: what.kind,
                    tenant: what.tenant.to_owned(),
                    resource: what.resource.to_owned(),
                    object_id: what.object_id.to_owned(),
                    version: what.version,
                    recipient: what.recipient.to_owned(),
                    container: container_of(claim),
                    basis: grant.clone(),
                    first_at: now,
                    last_at: now,
                    count: 1,
                });
        }
        if state.releases.len() > MAX_RELEASES {
            evict_oldest(&mut state.releases);
        }
    }

    /// Records a release the policies refused.
    pub(crate) fn record_refusal(&self, refusal: RefusalEntry) {
        let mut state = self.lock();
        state.refusals.push_back(refusal);
        prune_refusals(&mut state.refusals, OffsetDateTime::now_utc());
    }

    /// Records `node_id`'s liveness report (`None`: an agent that reports
    /// liveness only). Returns whether what runs on the node changed.
    pub(crate) fn record_report(&self, node_id: &str, report: Option<LivenessReport>) -> bool {
        let mut state = self.lock();
        let Some(mut report) = report else {
            return state.reports.remove(node_id).is_some();
        };
        report.containers.truncate(MAX_REPORTED_CONTAINERS);
        report.volumes.truncate(MAX_REPORTED_VOLUMES);
        // Order does not matter: two reports of the same containers in
        // another order are no change.
        report
            .containers
            .sort_by(|a, b| a.container_id.cmp(&b.container_id));
        report.volumes.sort_by(|a, b| a.name.cmp(&b.name));
        let changed = state
            .reports
            .get(node_id)
            .is_none_or(|previous| previous.report != report);
        state
            .reports
            .insert(node_id.to_owned(), NodeReport { report });
        changed
    }

    /// Forgets what `node_id` runs (decommissioned: its agent stops).
    pub(crate) fn forget_node(&self, node_id: &str) {
        self.lock().reports.remove(node_id);
    }

    /// A copy of the model for one view.
    pub(crate) fn snapshot(&self) -> FleetSnapshot {
        let mut state = self.lock();
        prune_refusals(&mut state.refusals, OffsetDateTime::now_utc());
        FleetSnapshot {
            releases: state.releases.values().cloned().collect(),
            refusals: state.refusals.iter().cloned().collect(),
            reports: state.reports.clone(),
        }
    }
}

/// Drops the least recently released tenth of `releases`.
fn evict_oldest(releases: &mut HashMap<ReleaseKey, ReleaseEntry>) {
    let mut times: Vec<OffsetDateTime> = releases.values().map(|entry| entry.last_at).collect();
    times.sort_unstable();
    let cut = times.get(times.len() / 10).copied();
    if let Some(cut) = cut {
        releases.retain(|_, entry| entry.last_at > cut);
    }
}

/// Drops refusals older than the window, and the oldest past the bound.
fn prune_refusals(refusals: &mut VecDeque<RefusalEntry>, now: OffsetDateTime) {
    while refusals
        .front()
        .is_some_and(|oldest| now - oldest.at > REFUSAL_WINDOW)
    {
        refusals.pop_front();
    }
    while refusals.len() > MAX_REFUSALS {
        refusals.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use api::nodes::{MountedVolume, RunningContainer};

    use super::*;

    fn claim(id: &str) -> WorkloadClaim {
        WorkloadClaim {
            container_id: Some(id.to_owned()),
            container_name: Some(format!("name-{id}")),
            image_digest: Some(format!("sha256:{id}")),
            ..WorkloadClaim::default()
        }
    }

    fn released<'a>(object_id: &'a str, version: u32) -> Released<'a> {
        Released {
            kind: ResourceKind::Secret,
            tenant: "default",
            resource: "db-password",
            object_id,
            version,
            recipient: "node:node-1",
        }
    }

    #[test]
    fn a_release_is_one_entry_per_version_and_container_with_the_policy_that_allowed_it() {
        let fleet = Fleet::default();
        let grants = [
            GrantBasis::Policy("app".to_owned()),
            GrantBasis::Policy("batch".to_owned()),
        ];
        fleet.record_release(&released("s1", 1), &[claim("a"), claim("b")], &grants);
        fleet.record_release(&released("s1", 1), &[claim("a")], &grants[..1]);
        fleet.record_release(&released("s1", 2), &[claim("a")], &grants[..1]);
        let mut entries = fleet.snapshot().releases;
        entries.sort_by_key(|entry| (entry.version, entry.container.container_id.clone()));
        let summary: Vec<(u32, Option<String>, Basis, u64)> = entries
            .iter()
            .map(|entry| {
                (
                    entry.version,
                    entry.container.container_id.clone(),
                    entry.basis.clone(),
                    entry.count,
                )
            })
            .collect();
        let policy = |name: &str| Basis::Policy {
            policy: name.to_owned(),
        };
        assert_eq!(
            summary,
            [
                (1, Some("a".to_owned()), policy("app"), 2),
                (1, Some("b".to_owned()), policy("batch"), 1),
                (2, Some("a".to_owned()), policy("app"), 1),
            ]
        );
        assert_eq!(entries[0].node_id(), Some("node-1"));
    }

    #[test]
    fn a_release_to_a_person_is_recorded_under_its_role() {
        let fleet = Fleet::default();
        let what = Released {
            recipient: "token:tok_1",
            ..released("s1", 3)
        };
        fleet.record_release(&what, &[], &[GrantBasis::Role]);
        let entries = fleet.snapshot().releases;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].basis, Basis::Role);
        assert_eq!(entries[0].node_id(), None);
    }

    #[test]
    fn a_report_changes_the_fleet_only_when_what_runs_changes() {
        let fleet = Fleet::default();
        let container = |id: &str| RunningContainer {
            container_id: id.to_owned(),
            volumes: vec!["pgdata".to_owned()],
            ..RunningContainer::default()
        };
        let report = LivenessReport {
            containers: vec![container("b"), container("a")],
            volumes: vec![MountedVolume {
                name: "pgdata".to_owned(),
                ..MountedVolume::default()
            }],
        };
        assert!(fleet.record_report("node-1", Some(report.clone())));
        let reordered = LivenessReport {
            containers: vec![container("a"), container("b")],
            ..report.clone()
        };
        assert!(!fleet.record_report("node-1", Some(reordered)));
        let one_left = LivenessReport {
            containers: vec![container("a")],
            ..report
        };
        assert!(fleet.record_report("node-1", Some(one_left)));
        assert_eq!(
            fleet.snapshot().reports["node-1"].report.containers.len(),
            1
        );
        // An agent that stops reporting containers (an older one).
        assert!(fleet.record_report("node-1", None));
        assert!(!fleet.record_report("node-1", None));
    }

    #[test]
    fn refusals_older_than_an_hour_are_dropped() {
        let fleet = Fleet::default();
        let refusal = |minutes_ago: i64| RefusalEntry {
            at: OffsetDateTime::now_utc() - time::Duration::minutes(minutes_ago),
            node_id: "node-1".to_owned(),
            kind: ResourceKind::Volume,
            resource: "pgdata".to_owned(),
            tenant: "default".to_owned(),
            workload: "container 'x'".to_owned(),
            reason: "no policy".to_owned(),
        };
        fleet.record_refusal(refusal(90));
        fleet.record_refusal(refusal(5));
        let refusals = fleet.snapshot().refusals;
        assert_eq!(refusals.len(), 1);
        assert_eq!(refusals[0].resource, "pgdata");
    }

    #[test]
    fn the_ledger_stays_bounded() {
        let mut releases = HashMap::new();
        let start = OffsetDateTime::UNIX_EPOCH;
        for index in 0..100_u32 {
            let key = ReleaseKey {
                object_id: index.to_string(),
                version: 1,
                recipient: "node:n".to_owned(),
                container_id: String::new(),
            };
            let at = start + time::Duration::seconds(i64::from(index));
            releases.insert(
                key,
                ReleaseEntry {
                    kind: ResourceKind::Volume,
                    tenant: String::new(),
                    resource: String::new(),
                    object_id: index.to_string(),
                    version: 1,
                    recipient: "node:n".to_owned(),
                    container: ContainerRef::default(),
                    basis: Basis::Creator,
                    first_at: at,
                    last_at: at,
                    count: 1,
                },
            );
        }
        evict_oldest(&mut releases);
        assert!(
            releases.len() < 100 && releases.len() >= 85,
            "{}",
            releases.len()
        );
        assert!(!releases.values().any(|entry| entry.object_id == "0"));
        assert!(releases.values().any(|entry| entry.object_id == "99"));
    }
}
