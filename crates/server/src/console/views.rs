//! The fleet views (`/v1/fleet/*`): the key manager's records (nodes,
//! volumes and leases, keys and secrets, policies, the audit log) joined
//! with the fleet model (releases, refusals, liveness reports), filtered to
//! the caller's tenants and paged. Metadata only: nothing here reads key
//! material.

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

/// `GET /v1/fleet/overview`.
pub(crate) async fn overview(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<Overview>, ApiError> {
    let identity = app.identity.clone();
    let seals = Arc::clone(&app.seals);
    app.call(context, "fleet.overview", Permission::ReadFleet, move |call| {
        let fleet = Fleet::read(call, None)?;
        let tenants = call.principal().listable_tenants(None);
        let count = |object_type: Option<ObjectType>| -> Result<u64, ApiError> {
            let (_, total) = call.keystore.list(&ListFilter {
                tenants: tenants.clone(),
                name: None,
                state: Some(ObjectState::Active),
                object_type,
                limit: 1,
                offset: 0,
            })?;
            Ok(total)
        };
        let active = count(None)?;
        let secret_data = count(Some(ObjectType::SecretData))?;
        let volumes = u64::try_from(fleet.volumes.len()).unwrap_or(u64::MAX);
        let running = fleet.all_running();
        let active_nodes: Vec<&NodeRow> = fleet
            .nodes
            .values()
            .filter(|node| node.state == NodeState::Active)
            .collect();
        let counts = FleetCounts {
            nodes: u64::try_from(active_nodes.len()).unwrap_or(u64::MAX),
            nodes_live: u64::try_from(
                active_nodes
                    .iter()
                    .filter(|node| liveness(node, fleet.now) == Liveness::Live)
                    .count(),
            )
            .unwrap_or(u64::MAX),
            volumes,
            volumes_held: u64::try_from(
                fleet
                    .volumes
                    .iter()
                    .filter(|volume| volume.lease.as_ref().is_some_and(|l| l.expires_at > fleet.now))
                    .count(),
            )
            .unwrap_or(u64::MAX),
            keys: active.saturating_sub(secret_data),
            // Each volume has one active secret of its own.
            secrets: secret_data.saturating_sub(volumes),
            policies: u64::try_from(fleet.policies.len()).unwrap_or(u64::MAX),
            containers: u64::try_from(running.len()).unwrap_or(u64::MAX),
        };
        let mut attention = attention(&fleet, &active_nodes, &running);
        if let Some(identity) = &identity {
            if require_all_tenants(call.principal()).is_ok() {
                let (_, not_after) = identity.server_cert().issued_by();
                if not_after - fleet.now < SERVER_CERT_WARNING {
                    attention.insert(
                        0,
                        Attention {
                            kind: AttentionKind::CertificateExpiring,
                            subject: "the server's certificate".to_owned(),
                            message: format!(
                                "the server's certificate expires at {}; the server renews it itself: check its log",
                                rfc3339(not_after)
                            ),
                            view: "overview".to_owned(),
                            reference: String::new(),
                        },
                    );
                }
            }
        }
        let status = call.keystore.status();
        let automatic = seals.status(!status.sealed);
        if let Some(item) = seal_attention(&automatic) {
            attention.insert(0, item);
        }
        attention.truncate(MAX_ATTENTION);
        let refusals: Vec<Refusal> = fleet
            .snapshot
            .refusals
            .iter()
            .rev()
            .map(|refusal| Refusal {
                at: refusal.at,
                node_id: refusal.node_id.clone(),
                node_name: fleet.node_name(&refusal.node_id),
                resource_kind: refusal.kind.as_str().to_owned(),
                resource: refusal.resource.clone(),
                tenant: refusal.tenant.clone(),
                workload: refusal.workload.clone(),
                reason: refusal.reason.clone(),
            })
            .collect();
        call.keystore
            .record(&call.caller, "fleet.overview", None, None, "ok")?;
        Ok(Json(Overview {
            seal: SealSummary {
                initialized: status.initialized,
                sealed: status.sealed,
                seal: status.seal.map(str::to_owned),
                device: automatic.seal_device,
            },
            counts,
            attention,
            refused_last_hour: u64::try_from(refusals.len()).unwrap_or(u64::MAX),
            recent_refusals: refusals.into_iter().take(10).collect(),
            generated_at: fleet.now,
        }))
    })
    .await
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The automatic seal's device, when it needs attention: it did not answer
/// its last check, or refused to unseal. The server stays unsealed while it
/// runs; a restart would wait for the device.
fn seal_attention(automatic: &AutomaticUnseal) -> Option<Attention> {
    let kind = automatic.seal_configured.as_deref().unwrap_or("automatic");
    let why = automatic
        .seal_error
        .as_deref()
        .unwrap_or("no reason was given");
    let message = match (automatic.seal_state, automatic.seal_device) {
        (UnsealState::Refused, _) => format!(
            "the {kind} seal's device refused to unseal ({why}); fix the [seal] configuration and restart the server"
        ),
        (_, Some(DeviceHealth::Unreachable)) => format!(
            "the {kind} seal's device did not answer its last check ({why}); the server stays unsealed, but a restart would wait for the device"
        ),
        _ => return None,
    };
    Some(Attention {
        kind: AttentionKind::SealDevice,
        subject: format!("the {kind} seal"),
        message,
        view: "overview".to_owned(),
        reference: String::new(),
    })
}

/// What needs attention, most urgent first.
fn attention(
    fleet: &Fleet,
    active_nodes: &[&NodeRow],
    running: &[(&NodeRow, RunningEntry)],
) -> Vec<Attention> {
    let mut items = Vec::new();
    for node in active_nodes {
        let state = liveness(node, fleet.now);
        if state != Liveness::Live {
            let when = node
                .last_seen
                .map_or_else(|| "never".to_owned(), |seen| ago(seen, fleet.now));
            items.push(Attention {
                kind: AttentionKind::NodeNotSeen,
                subject: format!("node '{}'", node.name),
                message: format!(
                    "node '{}' last reported {when}; its agent may be down or cut off from the key manager",
                    node.name
                ),
                view: "nodes".to_owned(),
                reference: node.id.clone(),
            });
        }
    }
    for (node_id, report) in &fleet.snapshot.reports {
        for volume in &report.report.volumes {
            if let Some(reason) = &volume.fenced {
                items.push(Attention {
                    kind: AttentionKind::VolumeFenced,
                    subject: format!("volume '{}'", volume.name),
                    message: format!(
                        "volume '{}' is fenced on node '{}': {reason}; restart its containers once the key manager is reachable",
                        volume.name,
                        fleet.node_name(node_id)
                    ),
                    view: "volumes".to_owned(),
                    reference: volume.name.clone(),
                });
            }
        }
    }
    for node in active_nodes {
        if node.cert_expires_at - fleet.now < NODE_CERT_WARNING {
            let message = if node.cert_expires_at <= fleet.now {
                format!(
                    "the certificate of node '{}' expired at {}; the node must join again",
                    node.name,
                    rfc3339(node.cert_expires_at)
                )
            } else {
                format!(
                    "the certificate of node '{}' expires at {} and was not renewed; check its agent",
                    node.name,
                    rfc3339(node.cert_expires_at)
                )
            };
            items.push(Attention {
                kind: AttentionKind::CertificateExpiring,
                subject: format!("node '{}'", node.name),
                message,
                view: "nodes".to_owned(),
                reference: node.id.clone(),
            });
        }
    }
    // Refusals, one item per node and resource.
    let mut refused: BTreeMap<(String, &'static str, String), (usize, &str, &str)> =
        BTreeMap::new();
    for refusal in &fleet.snapshot.refusals {
        let slot = refused
            .entry((
                refusal.node_id.clone(),
                refusal.kind.as_str(),
                refusal.resource.clone(),
            ))
            .or_insert((0, "", ""));
        slot.0 = slot.0.saturating_add(1);
        slot.1 = &refusal.workload;
        slot.2 = &refusal.reason;
    }
    for ((node_id, kind, resource), (times, workload, reason)) in refused {
        items.push(Attention {
            kind: AttentionKind::ReleaseRefused,
            subject: format!("{kind} '{resource}'"),
            message: format!(
                "{kind} '{resource}' was refused to {workload} on node '{}' {times} time(s) in the last hour: {reason}",
                fleet.node_name(&node_id)
            ),
            view: "audit".to_owned(),
            reference: resource,
        });
    }
    for (node, entry) in running {
        let name = entry
            .container
            .container_name
            .clone()
            .or_else(|| entry.container.container_id.clone())
            .unwrap_or_default();
        if let Some(flag) = &entry.flag {
            items.push(Attention {
                kind: AttentionKind::ContainerUnbound,
                subject: format!("container '{name}'"),
                message: format!("container '{name}' on node '{}': {flag}", node.name),
                view: "workloads".to_owned(),
                reference: name.clone(),
            });
        }
        for secret in &entry.secrets {
            if secret.version < secret.current {
                items.push(Attention {
                    kind: AttentionKind::VersionInUse,
                    subject: format!("secret '{}'", secret.name),
                    message: format!(
                        "container '{name}' on node '{}' still holds version {} of secret '{}', rotated to version {}; restart it to pick up the new one",
                        node.name, secret.version, secret.name, secret.current
                    ),
                    view: "objects".to_owned(),
                    reference: secret.name.clone(),
                });
            }
        }
    }
    let rank = |kind: AttentionKind| match kind {
        AttentionKind::SealDevice | AttentionKind::VolumeFenced => 0,
        AttentionKind::NodeNotSeen => 1,
        AttentionKind::ReleaseRefused => 2,
        AttentionKind::ContainerUnbound => 3,
        AttentionKind::CertificateExpiring => 4,
        AttentionKind::VersionInUse => 5,
    };
    items.sort_by_key(|item| rank(item.kind));
    items
}

/// `GET /v1/fleet/nodes`.
pub(crate) async fn nodes(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<NodePage>, ApiError> {
    app.call(context, "fleet.nodes", Permission::ReadFleet, move |call| {
        let fleet = Fleet::read(call, query.tenant.as_deref())?;
        let text = TextFilter::new(query.q.as_deref());
        let attention_only = query.filter.as_deref() == Some("attention");
        let mut matching: Vec<&NodeRow> = fleet
            .nodes
            .values()
            .filter(|node| {
                let labels = node
                    .labels
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"));
                let labels: Vec<String> = labels.collect();
                text.matches(
                    [node.id.as_str(), node.name.as_str(), node.tenant.as_str()]
                        .into_iter()
                        .chain(labels.iter().map(String::as_str)),
                )
            })
            .collect();
        if attention_only {
            matching.retain(|node| {
                let entry = fleet.node_entry(node);
                node.state == NodeState::Active
                    && (entry.liveness != Liveness::Live
                        || !entry.fenced.is_empty()
                        || entry.containers.iter().any(|c| c.flag.is_some())
                        || node.cert_expires_at - fleet.now < NODE_CERT_WARNING)
            });
        }
        // Active first, then by name.
        matching.sort_by(|a, b| {
            (a.state != NodeState::Active, &a.name, &a.id).cmp(&(
                b.state != NodeState::Active,
                &b.name,
                &b.id,
            ))
        });
        let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
        let nodes = page(matching, page_of(&query))
            .into_iter()
            .map(|node| fleet.node_entry(node))
            .collect();
        call.keystore
            .record(&call.caller, "fleet.nodes", None, None, "ok")?;
        Ok(Json(NodePage { nodes, total }))
    })
    .await
}

/// `GET /v1/fleet/volumes`.
pub(crate) async fn volumes(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<VolumePage>, ApiError> {
    app.call(
        context,
        "fleet.volumes",
        Permission::ReadFleet,
        move |call| {
            let fleet = Fleet::read(call, query.tenant.as_deref())?;
            let text = TextFilter::new(query.q.as_deref());
            let mut entries: Vec<VolumeEntry> = Vec::new();
            for volume in &fleet.volumes {
                let lease = volume
                    .lease
                    .as_ref()
                    .filter(|lease| lease.expires_at > fleet.now);
                let holder_node = lease
                    .and_then(|lease| lease.holder.strip_prefix(keystore::NODE_PRINCIPAL_PREFIX))
                    .map(str::to_owned);
                let holder_name = holder_node.as_deref().map(|id| fleet.node_name(id));
                if !text.matches([
                    volume.name.as_str(),
                    volume.tenant.as_str(),
                    holder_name.as_deref().unwrap_or_default(),
                    holder_node.as_deref().unwrap_or_default(),
                ]) {
                    continue;
                }
                let report = holder_node
                    .as_deref()
                    .and_then(|id| fleet.snapshot.reports.get(id));
                let mounted = report.and_then(|report| {
                    report
                        .report
                        .volumes
                        .iter()
                        .find(|mounted| mounted.name == volume.name)
                });
                let containers = report
                    .map(|report| {
                        report
                            .report
                            .containers
                            .iter()
                            .filter(|container| container.volumes.contains(&volume.name))
                            .map(|container| ContainerRef {
                                container_id: Some(container.container_id.clone()),
                                container_name: container.container_name.clone(),
                                image: container.image.clone(),
                                image_digest: container.image_digest.clone(),
                                service: container.service.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let entry = VolumeEntry {
                    name: volume.name.clone(),
                    tenant: volume.tenant.clone(),
                    size_bytes: volume.size_bytes,
                    filesystem: volume.filesystem.clone(),
                    state: if lease.is_some() {
                        api::volumes::VolumeState::Held
                    } else {
                        api::volumes::VolumeState::Free
                    },
                    holder: lease.map(|lease| lease.holder.clone()),
                    holder_node,
                    holder_name,
                    lease_expires_at: lease.map(|lease| lease.expires_at),
                    held_since: lease.map(|lease| lease.acquired_at),
                    engine: mounted.and_then(|mounted| mounted.engine.clone()),
                    fenced: mounted.and_then(|mounted| mounted.fenced.clone()),
                    containers,
                    created_at: volume.created_at,
                    created_by: volume.created_by.clone(),
                };
                let keep = match query.filter.as_deref() {
                    Some("held") => entry.state == api::volumes::VolumeState::Held,
                    Some("free") => entry.state == api::volumes::VolumeState::Free,
                    Some("attention") => entry.fenced.is_some(),
                    _ => true,
                };
                if keep {
                    entries.push(entry);
                }
            }
            entries.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
            let total = u64::try_from(entries.len()).unwrap_or(u64::MAX);
            call.keystore
                .record(&call.caller, "fleet.volumes", None, None, "ok")?;
            Ok(Json(VolumePage {
                volumes: page(entries, page_of(&query)),
                total,
            }))
        },
    )
    .await
}

/// The kind of `meta` as the objects view names it, and the volume it opens.
fn object_kind(meta: &ObjectMeta) -> (&'static str, Option<String>) {
    match (meta.object_type, meta.labels.get(VOLUME_LABEL)) {
        (ObjectType::SecretData, Some(volume)) => ("volume_key", Some(volume.clone())),
        (ObjectType::SecretData, None) => ("secret", None),
        _ => ("key", None),
    }
}

/// `GET /v1/fleet/objects`.
pub(crate) async fn objects(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<ObjectPage>, ApiError> {
    app.call(
        context,
        "fleet.objects",
        Permission::ReadFleet,
        move |call| {
            let fleet = Fleet::read(call, query.tenant.as_deref())?;
            let tenants = call.principal().listable_tenants(query.tenant.as_deref());
            let text = TextFilter::new(query.q.as_deref());
            let kind_filter = query
                .filter
                .as_deref()
                .filter(|filter| matches!(*filter, "keys" | "secrets" | "volume_keys"));
            let (offset, limit) = page_of(&query);
            let (metas, total) = if text.0.is_none() && kind_filter.is_none() {
                // The store pages by itself.
                call.keystore.list(&ListFilter {
                    tenants,
                    name: None,
                    state: None,
                    object_type: None,
                    limit: u32::try_from(limit).unwrap_or(MAX_LIST),
                    offset: u64::try_from(offset).unwrap_or(u64::MAX),
                })?
            } else {
                let object_type = match kind_filter {
                    Some("secrets" | "volume_keys") => Some(ObjectType::SecretData),
                    _ => None,
                };
                let mut matching = Vec::new();
                let mut store_offset = 0_u64;
                loop {
                    let (batch, _) = call.keystore.list(&ListFilter {
                        tenants: tenants.clone(),
                        name: None,
                        state: None,
                        object_type,
                        limit: MAX_LIST,
                        offset: store_offset,
                    })?;
                    let read = batch.len();
                    matching.extend(batch.into_iter().filter(|meta| {
                        let (kind, volume) = object_kind(meta);
                        let kind_ok = match kind_filter {
                            Some("keys") => kind == "key",
                            Some("secrets") => kind == "secret",
                            Some("volume_keys") => kind == "volume_key",
                            _ => true,
                        };
                        kind_ok
                            && text.matches([
                                meta.id.as_str(),
                                meta.name.as_deref().unwrap_or_default(),
                                meta.tenant.as_str(),
                                volume.as_deref().unwrap_or_default(),
                            ])
                    }));
                    if read < usize::try_from(MAX_LIST).unwrap_or(usize::MAX) {
                        break;
                    }
                    store_offset = store_offset.saturating_add(u64::try_from(read).unwrap_or(0));
                }
                let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
                (page(matching, (offset, limit)), total)
            };
            let mut by_object: HashMap<&str, Vec<&ReleaseEntry>> = HashMap::new();
            for entry in &fleet.snapshot.releases {
                by_object.entry(&entry.object_id).or_default().push(entry);
            }
            let objects = metas
                .into_iter()
                .map(|meta| object_entry(&fleet, &by_object, meta))
                .collect();
            call.keystore
                .record(&call.caller, "fleet.objects", None, None, "ok")?;
            Ok(Json(ObjectPage { objects, total }))
        },
    )
    .await
}

fn object_entry(
    fleet: &Fleet,
    by_object: &HashMap<&str, Vec<&ReleaseEntry>>,
    meta: ObjectMeta,
) -> ObjectEntry {
    let (kind, volume_name) = object_kind(&meta);
    let releases = by_object.get(meta.id.as_str()).cloned().unwrap_or_default();
    let volume = volume_name
        .as_deref()
        .and_then(|name| fleet.volume(&meta.tenant, name))
        .filter(|volume| volume.key_id == meta.id);
    let lowest = meta.version.saturating_sub(MAX_VERSIONS - 1).max(1);
    let versions = (lowest..=meta.version)
        .rev()
        .map(|version| {
            let mut recipients: Vec<Recipient> = releases
                .iter()
                .filter(|entry| entry.version == version)
                .map(|entry| {
                    let node_id = entry
                        .node_id()
                        .map_or_else(|| entry.recipient.clone(), str::to_owned);
                    let current = match (entry.kind, volume) {
                        (ResourceKind::Volume, Some(volume)) => {
                            volume.lease.as_ref().is_some_and(|lease| {
                                lease.holder == entry.recipient && lease.expires_at > fleet.now
                            })
                        }
                        (ResourceKind::Secret, _) => {
                            fleet.is_running(&node_id, entry.container.container_id.as_deref())
                        }
                        _ => false,
                    };
                    Recipient {
                        node_name: fleet.node_name(&node_id),
                        node_id,
                        container: entry.container.clone(),
                        basis: entry.basis.clone(),
                        first_at: entry.first_at,
                        last_at: entry.last_at,
                        count: entry.count,
                        current,
                    }
                })
                .collect();
            // A lease taken before this server process started: its
            // decision is in the audit log, not in the ledger.
            if let Some(lease) = volume.and_then(|volume| volume.lease.as_ref()) {
                let recorded = releases.iter().any(|entry| entry.recipient == lease.holder);
                if version == meta.version && !recorded && lease.expires_at > fleet.now {
                    let node_id = lease
                        .holder
                        .strip_prefix(keystore::NODE_PRINCIPAL_PREFIX)
                        .unwrap_or(&lease.holder)
                        .to_owned();
                    recipients.push(Recipient {
                        node_name: fleet.node_name(&node_id),
                        node_id,
                        container: ContainerRef::default(),
                        basis: Basis::Lease,
                        first_at: lease.acquired_at,
                        last_at: lease.acquired_at,
                        count: 1,
                        current: true,
                    });
                }
            }
            recipients.sort_by_key(|recipient| std::cmp::Reverse(recipient.last_at));
            VersionEntry {
                version,
                recipients,
            }
        })
        .collect();
    ObjectEntry {
        id: meta.id.clone(),
        name: meta.name.clone(),
        tenant: meta.tenant.clone(),
        kind: kind.to_owned(),
        volume: volume_name,
        algorithm: meta.algorithm.as_str().to_owned(),
        state: crate::wire::key_info(meta.clone())
            .state
            .as_str()
            .to_owned(),
        version: meta.version,
        created_at: meta.created_at,
        versions,
    }
}

/// `GET /v1/fleet/workloads`.
pub(crate) async fn workloads(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<WorkloadPage>, ApiError> {
    app.call(
        context,
        "fleet.workloads",
        Permission::ReadFleet,
        move |call| {
            let fleet = Fleet::read(call, query.tenant.as_deref())?;
            let text = TextFilter::new(query.q.as_deref());
            // One entry per container and node: what the agents report running,
            // and what the ledger says was released to it.
            let mut entries: BTreeMap<(String, String), WorkloadEntry> = BTreeMap::new();
            for (node, running) in fleet.all_running() {
                let id = running.container.container_id.clone().unwrap_or_default();
                entries.insert(
                    (node.id.clone(), id),
                    WorkloadEntry {
                        container: running.container.clone(),
                        node_id: node.id.clone(),
                        node_name: node.name.clone(),
                        running: true,
                        received: Vec::new(),
                        flag: running.flag.clone(),
                    },
                );
            }
            for release in &fleet.snapshot.releases {
                let Some(node_id) = release.node_id() else {
                    continue;
                };
                let id = release.container.container_id.clone().unwrap_or_default();
                let entry =
                    entries
                        .entry((node_id.to_owned(), id))
                        .or_insert_with(|| WorkloadEntry {
                            container: release.container.clone(),
                            node_id: node_id.to_owned(),
                            node_name: fleet.node_name(node_id),
                            running: false,
                            received: Vec::new(),
                            flag: None,
                        });
                entry.received.push(Received {
                    resource_kind: release.kind.as_str().to_owned(),
                    resource: release.resource.clone(),
                    tenant: release.tenant.clone(),
                    version: release.version,
                    basis: release.basis.clone(),
                    at: release.last_at,
                });
            }
            let mut matching: Vec<WorkloadEntry> = entries
                .into_values()
                .filter(|entry| {
                    let received: Vec<&str> =
                        entry.received.iter().map(|r| r.resource.as_str()).collect();
                    text.matches(
                        [
                            entry
                                .container
                                .container_name
                                .as_deref()
                                .unwrap_or_default(),
                            entry.container.container_id.as_deref().unwrap_or_default(),
                            entry.container.image.as_deref().unwrap_or_default(),
                            entry.container.image_digest.as_deref().unwrap_or_default(),
                            entry.container.service.as_deref().unwrap_or_default(),
                            entry.node_name.as_str(),
                        ]
                        .into_iter()
                        .chain(received),
                    ) && match query.filter.as_deref() {
                        Some("running") => entry.running,
                        Some("flagged" | "attention") => entry.flag.is_some(),
                        _ => true,
                    }
                })
                .collect();
            for entry in &mut matching {
                entry
                    .received
                    .sort_by_key(|received| std::cmp::Reverse(received.at));
            }
            // Flagged first, then running, then by node and container.
            matching.sort_by(|a, b| {
                (
                    a.flag.is_none(),
                    !a.running,
                    &a.node_name,
                    &a.container.container_name,
                )
                    .cmp(&(
                        b.flag.is_none(),
                        !b.running,
                        &b.node_name,
                        &b.container.container_name,
                    ))
            });
            let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
            call.keystore
                .record(&call.caller, "fleet.workloads", None, None, "ok")?;
            Ok(Json(WorkloadPage {
                workloads: page(matching, page_of(&query)),
                total,
            }))
        },
    )
    .await
}

/// `GET /v1/fleet/policies`.
pub(crate) async fn policies(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<PolicyPage>, ApiError> {
    app.call(
        context,
        "fleet.policies",
        Permission::ReadPolicies,
        move |call| {
            let fleet = Fleet::read(call, query.tenant.as_deref())?;
            let text = TextFilter::new(query.q.as_deref());
            let workloads: Vec<(String, Workload)> = fleet
                .snapshot
                .reports
                .iter()
                .filter_map(|(node_id, report)| fleet.nodes.get(node_id).map(|node| (node, report)))
                .filter(|(node, _)| node.state == NodeState::Active)
                .flat_map(|(node, report)| {
                    report.report.containers.iter().map(move |container| {
                        (
                            node.tenant.clone(),
                            Workload {
                                node_id: node.id.clone(),
                                node_role: node.role.as_str().to_owned(),
                                node_labels: node.labels.clone(),
                                image_digest: container.image_digest.clone(),
                                repo_digests: Vec::new(),
                                image: container.image.clone(),
                                service: container.service.clone(),
                                container_labels: container.container_labels.clone(),
                            },
                        )
                    })
                })
                .collect();
            let mut entries: Vec<PolicyEntry> = fleet
                .policies
                .iter()
                .filter(|policy| {
                    let subject = serde_json::to_string(&policy.subject).unwrap_or_default();
                    text.matches(
                        [
                            policy.name.as_str(),
                            policy.tenant.as_str(),
                            subject.as_str(),
                        ]
                        .into_iter()
                        .chain(policy.volumes.iter().map(String::as_str))
                        .chain(policy.secrets.iter().map(String::as_str)),
                    )
                })
                .map(|policy| PolicyEntry {
                    policy: policy.clone(),
                    selects_running: u64::try_from(
                        workloads
                            .iter()
                            .filter(|(tenant, workload)| {
                                *tenant == policy.tenant
                                    && policy.subject.mismatch(workload).is_none()
                            })
                            .count(),
                    )
                    .unwrap_or(u64::MAX),
                })
                .collect();
            entries.sort_by(|a, b| {
                (&a.policy.tenant, &a.policy.name).cmp(&(&b.policy.tenant, &b.policy.name))
            });
            let total = u64::try_from(entries.len()).unwrap_or(u64::MAX);
            call.keystore
                .record(&call.caller, "fleet.policies", None, None, "ok")?;
            Ok(Json(PolicyPage {
                policies: page(entries, page_of(&query)),
                total,
            }))
        },
    )
    .await
}

/// Whether `record` passes the audit view's filter.
fn audit_matches(record: &audit::AuditRecord, filter: &AuditFilter, text: &TextFilter) -> bool {
    let operation = filter
        .operation
        .as_deref()
        .filter(|wanted| !wanted.is_empty())
        .is_none_or(|wanted| record.operation.starts_with(wanted));
    let principal = filter
        .principal
        .as_deref()
        .filter(|wanted| !wanted.is_empty())
        .is_none_or(|wanted| record.principal == wanted);
    let result = match filter.result.as_deref() {
        Some("ok") => record.result == "ok",
        Some("refused") => record.result != "ok",
        _ => true,
    };
    operation
        && principal
        && result
        && text.matches([
            record.object_id.as_deref().unwrap_or_default(),
            record.tenant.as_deref().unwrap_or_default(),
            record.principal.as_str(),
            record.operation.as_str(),
        ])
}

/// `GET /v1/fleet/audit`: newest first; a filtered page reads at most
/// [`MAX_AUDIT_SCAN`] records, and says where to go on.
pub(crate) async fn audit_view(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(filter): QueryParams<AuditFilter>,
) -> Result<Json<AuditPage>, ApiError> {
    app.call(context, "fleet.audit", Permission::ReadAudit, move |call| {
        require_all_tenants(call.principal())?;
        let head = call.keystore.audit_head()?.map_or(0, |(seq, _)| seq);
        let limit = usize::try_from(
            filter
                .limit
                .unwrap_or(api::fleet::DEFAULT_PAGE)
                .clamp(1, api::fleet::MAX_PAGE),
        )
        .unwrap_or(50);
        let text = TextFilter::new(filter.q.as_deref());
        // Records strictly below `upper`, newest first.
        let mut upper = filter
            .before
            .unwrap_or(u64::MAX)
            .min(head.saturating_add(1));
        let mut records = Vec::new();
        let mut scanned = 0_u64;
        let mut last_returned = None;
        while upper > 1 && records.len() < limit && scanned < MAX_AUDIT_SCAN {
            let after = upper
                .saturating_sub(u64::from(AUDIT_STEP))
                .saturating_sub(1);
            let batch = call.keystore.audit_records(after, AUDIT_STEP)?;
            let mut batch: Vec<audit::StoredRecord> = batch
                .into_iter()
                .filter(|record| stored_seq(record) < upper)
                .collect();
            batch.reverse();
            let mut lowest = upper;
            for record in batch {
                let seq = stored_seq(&record);
                lowest = seq;
                scanned = scanned.saturating_add(1);
                let keep = match &record {
                    audit::StoredRecord::Decoded(decoded) => audit_matches(decoded, &filter, &text),
                    _ => true,
                };
                if keep {
                    last_returned = Some(seq);
                    records.push(crate::wire::audit_entry(record));
                    if records.len() >= limit {
                        break;
                    }
                }
            }
            if lowest == upper {
                break;
            }
            upper = if records.len() >= limit {
                last_returned.unwrap_or(lowest)
            } else {
                lowest
            };
        }
        let next_before = (upper > 1).then_some(upper);
        call.keystore
            .record(&call.caller, "fleet.audit", None, None, "ok")?;
        Ok(Json(AuditPage {
            records,
            head,
            next_before,
            scanned,
        }))
    })
    .await
}

fn stored_seq(record: &audit::StoredRecord) -> u64 {
    match record {
        audit::StoredRecord::Decoded(decoded) => decoded.seq,
        audit::StoredRecord::Undecodable { seq } => *seq,
        #[allow(unreachable_patterns)] // Other kinds may follow.
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
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
