//! The fleet views (`/v1/fleet/*`): the key manager's records (nodes,
//! volumes and leases, keys and secrets, policies, the audit log) joined
//! with the fleet model (releases, refusals, liveness reports), filtered to
//! the caller's tenants and paged. Metadata only: nothing here reads key
//! material. One submodule per view; here what they share: paging, the
//! text filter, liveness, and `Fleet`, the join of records and fleet model.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use api::fleet::{
    Attention, AttentionKind, AuditFilter, AuditPage, Basis, ContainerRef, FleetCounts, FleetQuery,
    HeldSecret, Liveness, NodeEntry, NodePage, ObjectEntry, ObjectPage, Overview, PolicyEntry,
    PolicyPage, Received, Recipient, Refusal, RunningEntry, SealSummary, VersionEntry, VolumeEntry,
    VolumePage, WorkloadEntry, WorkloadPage,
};
use api::nodes::RunningContainer;
use api::sys::{AutomaticUnseal, DeviceHealth, UnsealState};
use axum::Json;
use axum::extract::State;
use keystore::model::{ListFilter, MAX_LIST, NodeRow, NodeState, VolumeRow};
use keystore::object::{ObjectMeta, ObjectType, State as ObjectState};
use policy::{Outcome, Policy, Resource, Workload};
use time::OffsetDateTime;

use super::fleet::{FleetSnapshot, ReleaseEntry, ResourceKind};
use crate::app::{App, Call, QueryParams, RequestContext, require_all_tenants};
use crate::auth::Permission;
use crate::error::ApiError;

mod audit_log;
mod nodes;
mod objects;
mod overview;
mod policies;
mod workloads;

pub(crate) use audit_log::audit_view;
pub(crate) use nodes::{nodes, volumes};
pub(crate) use objects::objects;
pub(crate) use overview::overview;
pub(crate) use policies::policies;
pub(crate) use workloads::workloads;

/// A node whose last report is older than this is late.
const LATE_AFTER: time::Duration = time::Duration::seconds(90);

/// A node whose last report is older than this is lost.
const LOST_AFTER: time::Duration = time::Duration::minutes(5);

/// A node certificate that expires sooner than this needs attention (agents
/// renew at 50 to 80 % of a 24-hour lifetime, so a healthy one never gets
/// this close).
const NODE_CERT_WARNING: time::Duration = time::Duration::hours(2);

/// The server's certificate needs attention this long before it expires.
const SERVER_CERT_WARNING: time::Duration = time::Duration::days(14);

/// Most attention items the overview lists.
const MAX_ATTENTION: usize = 100;

/// Most versions of one object listed (newest first).
const MAX_VERSIONS: u32 = 20;

/// Most audit records read to fill one page of a filtered audit view.
const MAX_AUDIT_SCAN: u64 = 20_000;

/// Audit records read per step of the scan.
const AUDIT_STEP: u32 = 1000;

/// Label of the secret that opens a volume.
const VOLUME_LABEL: &str = "cryptainer.volume";

/// The page a query asks for: (offset, limit).
fn page_of(query: &FleetQuery) -> (usize, usize) {
    let limit = query
        .limit
        .unwrap_or(api::fleet::DEFAULT_PAGE)
        .clamp(1, api::fleet::MAX_PAGE);
    let offset = usize::try_from(query.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    (offset, usize::try_from(limit).unwrap_or(50))
}

/// The `offset`..`offset+limit` slice of `items`.
fn page<T>(items: Vec<T>, (offset, limit): (usize, usize)) -> Vec<T> {
    items.into_iter().skip(offset).take(limit).collect()
}

/// Whether `text` contains the query's text filter (case ignored), or no
/// filter is set.
struct TextFilter(Option<String>);

impl TextFilter {
    fn new(query: Option<&str>) -> TextFilter {
        TextFilter(
            query
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_lowercase),
        )
    }

    fn matches<'a>(&self, fields: impl IntoIterator<Item = &'a str>) -> bool {
        match &self.0 {
            None => true,
            Some(wanted) => fields
                .into_iter()
                .any(|field| field.to_lowercase().contains(wanted.as_str())),
        }
    }
}

/// How recent `node`'s last report is.
fn liveness(node: &NodeRow, now: OffsetDateTime) -> Liveness {
    if node.state == NodeState::Decommissioned {
        return Liveness::Decommissioned;
    }
    match node.last_seen {
        Some(seen) if now - seen <= LATE_AFTER => Liveness::Live,
        Some(seen) if now - seen <= LOST_AFTER => Liveness::Late,
        _ => Liveness::Lost,
    }
}

/// "3 min ago", for attention messages.
fn ago(then: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (now - then).whole_seconds().max(0);
    match seconds {
        0..=119 => format!("{seconds} s ago"),
        120..=7199 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

/// What every view reads: the caller's nodes, volumes and policies, the
/// fleet model, and the secrets' current versions.
struct Fleet {
    now: OffsetDateTime,
    nodes: BTreeMap<String, NodeRow>,
    volumes: Vec<VolumeRow>,
    policies: Vec<Policy>,
    snapshot: FleetSnapshot,
    /// Current version of each released object (by id), for "still in use
    /// after rotation".
    current_versions: HashMap<String, u32>,
    /// The indexes below keep a view linear in the fleet's size: without
    /// them every running container scanned every volume and every release
    /// (the overview of 1,000 nodes and 10,000 volumes took minutes).
    /// Position in `volumes` by tenant, then name.
    volume_index: HashMap<String, HashMap<String, usize>>,
    /// Positions in `volumes` of the live leases, by holder principal.
    held_by: HashMap<String, Vec<usize>>,
    /// Positions in `snapshot.releases` of the secrets released, by node id.
    secret_releases: HashMap<String, Vec<usize>>,
    /// The policies of each tenant.
    tenant_policies: HashMap<String, Vec<Policy>>,
}

impl Fleet {
    /// Reads what the caller's tenants (`tenant`: only that one) hold.
    fn read(call: &Call<'_>, tenant: Option<&str>) -> Result<Fleet, ApiError> {
        let principal = call.principal();
        let tenants = principal.listable_tenants(tenant);
        let in_scope = |name: &str| {
            tenants
                .as_ref()
                .is_none_or(|list| list.iter().any(|t| t == name))
        };
        let nodes = call
            .keystore
            .nodes()?
            .into_iter()
            .filter(|node| in_scope(&node.tenant))
            .map(|node| (node.id.clone(), node))
            .collect::<BTreeMap<_, _>>();
        let volumes = call.keystore.list_volumes(tenants.as_deref())?;
        let policies = call.keystore.list_policies(tenants.as_deref())?;
        let mut snapshot = call.console.fleet.snapshot();
        snapshot.releases.retain(|entry| in_scope(&entry.tenant));
        snapshot
            .refusals
            .retain(|refusal| in_scope(&refusal.tenant));
        snapshot
            .reports
            .retain(|node_id, _| nodes.contains_key(node_id));
        let mut current_versions = HashMap::new();
        for entry in &snapshot.releases {
            if entry.kind == ResourceKind::Secret
                && !current_versions.contains_key(&entry.object_id)
            {
                if let Ok(meta) = call.keystore.find(&entry.tenant, &entry.object_id) {
                    current_versions.insert(entry.object_id.clone(), meta.version);
                }
            }
        }
        let now = OffsetDateTime::now_utc();
        let mut volume_index: HashMap<String, HashMap<String, usize>> = HashMap::new();
        let mut held_by: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, volume) in volumes.iter().enumerate() {
            volume_index
                .entry(volume.tenant.clone())
                .or_default()
                .insert(volume.name.clone(), position);
            if let Some(lease) = volume.lease.as_ref().filter(|lease| lease.expires_at > now) {
                held_by
                    .entry(lease.holder.clone())
                    .or_default()
                    .push(position);
            }
        }
        let mut secret_releases: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, entry) in snapshot.releases.iter().enumerate() {
            if let (ResourceKind::Secret, Some(node_id)) = (entry.kind, entry.node_id()) {
                secret_releases
                    .entry(node_id.to_owned())
                    .or_default()
                    .push(position);
            }
        }
        let mut tenant_policies: HashMap<String, Vec<Policy>> = HashMap::new();
        for policy in &policies {
            tenant_policies
                .entry(policy.tenant.clone())
                .or_default()
                .push(policy.clone());
        }
        Ok(Fleet {
            now,
            nodes,
            volumes,
            policies,
            snapshot,
            current_versions,
            volume_index,
            held_by,
            secret_releases,
            tenant_policies,
        })
    }

    fn node_name(&self, node_id: &str) -> String {
        self.nodes
            .get(node_id)
            .map_or_else(|| node_id.to_owned(), |node| node.name.clone())
    }

    /// The volume `name` of `tenant`.
    fn volume(&self, tenant: &str, name: &str) -> Option<&VolumeRow> {
        let position = self.volume_index.get(tenant)?.get(name)?;
        self.volumes.get(*position)
    }

    /// The secrets delivered to container `container_id` on `node_id`, the
    /// newest version of each.
    fn secrets_of(&self, node_id: &str, container_id: Option<&str>) -> Vec<HeldSecret> {
        let mut newest: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        let positions = self
            .secret_releases
            .get(node_id)
            .map_or(&[][..], Vec::as_slice);
        for entry in positions
            .iter()
            .filter_map(|position| self.snapshot.releases.get(*position))
        {
            let same_container =
                container_id.is_none_or(|id| entry.container.container_id.as_deref() == Some(id));
            if same_container {
                let current = self
                    .current_versions
                    .get(&entry.object_id)
                    .copied()
                    .unwrap_or(entry.version);
                let slot = newest.entry(entry.resource.clone()).or_insert((0, current));
                slot.0 = slot.0.max(entry.version);
            }
        }
        newest
            .into_iter()
            .map(|(name, (version, current))| HeldSecret {
                name,
                version,
                current,
            })
            .collect()
    }

    /// A running container of `node` with what it holds, and why it is
    /// flagged: the real policy decision, run for each volume and secret it
    /// holds, releasing nothing.
    fn running(&self, node: &NodeRow, container: &RunningContainer) -> RunningEntry {
        let volumes: Vec<String> = container
            .volumes
            .iter()
            .filter(|name| self.volume(&node.tenant, name).is_some())
            .cloned()
            .collect();
        let secrets = self.secrets_of(&node.id, Some(&container.container_id));
        let workload = Workload {
            node_id: node.id.clone(),
            node_role: node.role.as_str().to_owned(),
            node_labels: node.labels.clone(),
            image_digest: container.image_digest.clone(),
            repo_digests: Vec::new(),
            image: container.image.clone(),
            service: container.service.clone(),
            container_labels: container.container_labels.clone(),
        };
        let policies = self
            .tenant_policies
            .get(&node.tenant)
            .map_or(&[][..], Vec::as_slice);
        let mut unbound = Vec::new();
        let mut refused = Vec::new();
        for name in &volumes {
            let creator = self.volume(&node.tenant, name).and_then(|volume| {
                volume
                    .created_by
                    .strip_prefix(keystore::NODE_PRINCIPAL_PREFIX)
            });
            let resource = Resource::Volume {
                name,
                creator_node: creator,
            };
            match policy::decide(policies, &workload, &resource).outcome {
                Outcome::Allowed { .. } => {}
                Outcome::AllowedUnbound => unbound.push(format!("volume '{name}'")),
                Outcome::Denied => refused.push(format!("volume '{name}'")),
            }
        }
        for secret in &secrets {
            let resource = Resource::Secret { name: &secret.name };
            if !policy::decide(policies, &workload, &resource).allowed() {
                refused.push(format!("secret '{}'", secret.name));
            }
        }
        let flag = if !refused.is_empty() {
            Some(format!(
                "the policies no longer grant {} to this container",
                refused.join(", ")
            ))
        } else if !unbound.is_empty() {
            Some(format!(
                "no policy names this container: it holds {} only because its node created it",
                unbound.join(", ")
            ))
        } else {
            None
        };
        RunningEntry {
            container: ContainerRef {
                container_id: Some(container.container_id.clone()),
                container_name: container.container_name.clone(),
                image: container.image.clone(),
                image_digest: container.image_digest.clone(),
                service: container.service.clone(),
            },
            volumes,
            secrets,
            flag,
        }
    }

    /// Every running container of every node, with its node.
    fn all_running(&self) -> Vec<(&NodeRow, RunningEntry)> {
        let mut running = Vec::new();
        for (node_id, report) in &self.snapshot.reports {
            if let Some(node) = self.nodes.get(node_id) {
                if node.state == NodeState::Active {
                    for container in &report.report.containers {
                        running.push((node, self.running(node, container)));
                    }
                }
            }
        }
        running
    }

    /// Whether container `container_id` runs on `node_id` now.
    fn is_running(&self, node_id: &str, container_id: Option<&str>) -> bool {
        let Some(container_id) = container_id else {
            return false;
        };
        self.snapshot.reports.get(node_id).is_some_and(|report| {
            report
                .report
                .containers
                .iter()
                .any(|container| container.container_id == container_id)
        })
    }

    fn node_entry(&self, node: &NodeRow) -> NodeEntry {
        let holder = format!("{}{}", keystore::NODE_PRINCIPAL_PREFIX, node.id);
        let volumes = self
            .held_by
            .get(&holder)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|position| self.volumes.get(*position))
            .map(|volume| volume.name.clone())
            .collect();
        let report = self.snapshot.reports.get(&node.id);
        let fenced = report
            .map(|report| {
                report
                    .report
                    .volumes
                    .iter()
                    .filter_map(|volume| {
                        volume
                            .fenced
                            .as_ref()
                            .map(|reason| (volume.name.clone(), reason.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let containers = if node.state == NodeState::Active {
            report
                .map(|report| {
                    report
                        .report
                        .containers
                        .iter()
                        .map(|container| self.running(node, container))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        NodeEntry {
            id: node.id.clone(),
            name: node.name.clone(),
            tenant: node.tenant.clone(),
            role: crate::wire::role(node.role),
            state: crate::wire::node_state(node.state),
            labels: node.labels.clone(),
            cert_expires_at: node.cert_expires_at,
            joined_at: node.joined_at,
            last_seen: node.last_seen,
            liveness: liveness(node, self.now),
            reports_containers: report.is_some(),
            volumes,
            fenced,
            secrets: self.secrets_of(&node.id, None),
            containers,
        }
    }
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::overview::seal_attention;
    use super::*;

    #[test]
    fn liveness_follows_the_last_report() {
        let now = OffsetDateTime::now_utc();
        let mut node = NodeRow {
            id: "node-1".to_owned(),
            name: "host".to_owned(),
            role: keystore::model::Role::Agent,
            tenant: "default".to_owned(),
            cert_serial: String::new(),
            cert_expires_at: now,
            joined_at: now,
            last_seen: Some(now - time::Duration::seconds(10)),
            state: NodeState::Active,
            decommissioned_at: None,
            join_token_id: String::new(),
            issuer: String::new(),
            labels: BTreeMap::new(),
        };
        assert_eq!(liveness(&node, now), Liveness::Live);
        node.last_seen = Some(now - time::Duration::minutes(2));
        assert_eq!(liveness(&node, now), Liveness::Late);
        node.last_seen = None;
        assert_eq!(liveness(&node, now), Liveness::Lost);
        node.state = NodeState::Decommissioned;
        assert_eq!(liveness(&node, now), Liveness::Decommissioned);
    }

    /// `seal_attention` for an automatic seal in `state` whose device last
    /// answered `device`: the start of the message, or none.
    fn check_seal(state: UnsealState, device: Option<DeviceHealth>, expected: Option<&str>) {
        let automatic = AutomaticUnseal {
            seal_configured: Some("pkcs11".to_owned()),
            seal_state: state,
            seal_device: device,
            seal_error: Some("the token is not present".to_owned()),
            seal_attempts: 1,
        };
        let item = seal_attention(&automatic);
        assert_eq!(
            item.as_ref().map(|item| item.kind),
            expected.map(|_| AttentionKind::SealDevice)
        );
        if let (Some(item), Some(expected)) = (item, expected) {
            assert!(item.message.starts_with(expected), "{}", item.message);
            assert!(
                item.message.contains("the token is not present"),
                "{}",
                item.message
            );
        }
    }

    #[test]
    fn a_seal_device_that_stops_answering_needs_attention() {
        check_seal(UnsealState::Unsealed, Some(DeviceHealth::Reachable), None);
        check_seal(UnsealState::Idle, None, None);
        check_seal(
            UnsealState::Unsealed,
            Some(DeviceHealth::Unreachable),
            Some("the pkcs11 seal's device did not answer its last check"),
        );
        check_seal(
            UnsealState::Refused,
            Some(DeviceHealth::Reachable),
            Some("the pkcs11 seal's device refused to unseal"),
        );
    }

    #[test]
    fn a_page_is_bounded_whatever_is_asked() {
        let query = |limit, offset| FleetQuery {
            limit,
            offset,
            ..FleetQuery::default()
        };
        assert_eq!(page_of(&query(None, None)), (0, 50));
        assert_eq!(page_of(&query(Some(0), Some(10))), (10, 1));
        assert_eq!(page_of(&query(Some(100_000), None)), (0, 500));
        assert_eq!(page((0..10).collect(), (8, 5)), vec![8, 9]);
        assert_eq!(
            page((0..10).collect::<Vec<i32>>(), (80, 5)),
            Vec::<i32>::new()
        );
    }

    #[test]
    fn the_text_filter_ignores_case_and_an_empty_query() {
        assert!(TextFilter::new(None).matches(["x"]));
        assert!(TextFilter::new(Some("  ")).matches(["x"]));
        assert!(TextFilter::new(Some("PG")).matches(["a", "pgdata"]));
        assert!(!TextFilter::new(Some("pg")).matches(["a", "b"]));
    }

    #[test]
    fn ages_read_in_the_unit_people_use() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        assert_eq!(ago(now - time::Duration::seconds(42), now), "42 s ago");
        assert_eq!(ago(now - time::Duration::minutes(7), now), "7 min ago");
        assert_eq!(ago(now - time::Duration::hours(3), now), "3 h ago");
    }
}
