//! The fleet as the web console and its API show it (docs/console.md): who
//! holds which volume, key and secret, on which node, for which container,
//! since when and under which policy; the console's session. Every shape
//! here is read-only metadata: none carries key material, a secret's value
//! or a token but the one a person signs in with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::nodes::NodeState;
use crate::routes;
use crate::secret::SecretString;
use crate::tokens::Role;

/// Largest page of a fleet list.
pub const MAX_PAGE: u32 = 500;

/// Page of a fleet list when the query names none.
pub const DEFAULT_PAGE: u32 = 50;

/// Query of the fleet lists: a page, a text filter and a view filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetQuery {
    /// Only this tenant [default: every tenant of the caller].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Only entries whose names, labels or images contain this text (case
    /// is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// A filter of the view: `attention` (every list), `held`, `free`
    /// (volumes), `running`, `flagged` (workloads), `keys`, `secrets`,
    /// `volume_keys` (objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// At most this many, 1 to [`MAX_PAGE`] [default: [`DEFAULT_PAGE`]].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Skip this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// How recently a node reported liveness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liveness {
    /// Reported within the last 90 seconds.
    Live,
    /// Last report 90 seconds to 5 minutes ago.
    Late,
    /// No report for more than 5 minutes.
    Lost,
    /// Decommissioned: refused for good.
    Decommissioned,
}

/// What needs an operator's attention, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    /// An active node has not reported liveness in time.
    NodeNotSeen,
    /// A node's agent fenced a volume (its lease could not be kept).
    VolumeFenced,
    /// A node's certificate, or the server's, expires soon.
    CertificateExpiring,
    /// A running container still holds a secret version older than the
    /// secret's current one.
    VersionInUse,
    /// A release was refused by the policies.
    ReleaseRefused,
    /// A running container holds a volume or secret that no policy names.
    ContainerUnbound,
    /// The automatic seal's device did not answer its last check (or
    /// refused): a restart could not unseal by itself.
    SealDevice,
}

/// One thing that needs attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    /// What kind of thing.
    pub kind: AttentionKind,
    /// What it is about (a node, a volume, a secret, a container), as people
    /// name it.
    pub subject: String,
    /// What is wrong and what to do, in a sentence.
    pub message: String,
    /// The console view that shows it: `nodes`, `volumes`, `objects`,
    /// `workloads`, `audit`.
    pub view: String,
    /// What to look for there (an id or a name).
    pub reference: String,
}

/// The seal, as the overview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealSummary {
    /// Whether a root key exists.
    pub initialized: bool,
    /// Whether the root key is out of memory.
    pub sealed: bool,
    /// `shamir`, `passphrase`, or an automatic seal (`pkcs11`, `tpm2`,
    /// `kmip`).
    pub seal: Option<String>,
    /// Whether an automatic seal's device answered its last check (absent:
    /// no automatic seal, or not asked yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<crate::sys::DeviceHealth>,
}

/// How many of each thing the caller's tenants hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetCounts {
    /// Nodes not decommissioned.
    pub nodes: u64,
    /// Those that reported liveness in time.
    pub nodes_live: u64,
    /// Volumes.
    pub volumes: u64,
    /// Volumes whose lease runs.
    pub volumes_held: u64,
    /// Keys (volume keys and secrets aside).
    pub keys: u64,
    /// Secrets.
    pub secrets: u64,
    /// Policies.
    pub policies: u64,
    /// Containers running with Cryptainer volumes or secrets, as the agents
    /// report them.
    pub containers: u64,
}

/// A release the policies refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The node that asked (its id).
    pub node_id: String,
    /// Its name.
    pub node_name: String,
    /// `volume` or `secret`.
    pub resource_kind: String,
    /// The volume's or secret's name.
    pub resource: String,
    /// Its tenant.
    pub tenant: String,
    /// The container it was asked for, as people name it.
    pub workload: String,
    /// Why, in sentences.
    pub reason: String,
}

/// Answer of `GET /v1/fleet/overview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// The seal.
    pub seal: SealSummary,
    /// Counts.
    pub counts: FleetCounts,
    /// What needs attention, most urgent first (at most 100).
    pub attention: Vec<Attention>,
    /// How many releases were refused in the last hour.
    pub refused_last_hour: u64,
    /// The latest of them (at most 10).
    pub recent_refusals: Vec<Refusal>,
    /// When the overview was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
}

/// Why a workload was given a volume or secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// A policy granted it.
    Policy {
        /// The policy's name.
        policy: String,
    },
    /// A volume no policy names, given to the node that created it.
    Creator,
    /// A person's token, whose role allowed it.
    Role,
    /// A lease the server found at start: the decision predates it.
    Lease,
}

/// A container as a node's agent reports it, or as a release named it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRef {
    /// The container's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// The image it was started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The image's content digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    /// Its Swarm or Compose service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// A container running on a node, with what Cryptainer gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningEntry {
    /// The container.
    #[serde(flatten)]
    pub container: ContainerRef,
    /// The encrypted volumes it mounts.
    pub volumes: Vec<String>,
    /// The secrets it received (name and version).
    pub secrets: Vec<HeldSecret>,
    /// Why it is flagged (no policy names it, or the policies no longer
    /// grant what it holds), if it is.
    pub flag: Option<String>,
}

/// A secret version a container holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldSecret {
    /// The secret's name.
    pub name: String,
    /// The version delivered.
    pub version: u32,
    /// The secret's current version.
    pub current: u32,
}

/// A node with what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// The id, `node-...`.
    pub id: String,
    /// The host name it gave at join.
    pub name: String,
    /// Its tenant.
    pub tenant: String,
    /// Its role.
    pub role: Role,
    /// Whether it may act.
    pub state: NodeState,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// When its certificate expires.
    #[serde(with = "time::serde::rfc3339")]
    pub cert_expires_at: OffsetDateTime,
    /// When it joined.
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
    /// Its last liveness report or renewal.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<OffsetDateTime>,
    /// How recent that is.
    pub liveness: Liveness,
    /// Whether its agent reports its containers (older agents do not).
    pub reports_containers: bool,
    /// The volumes whose lease it holds.
    pub volumes: Vec<String>,
    /// The volumes its agent fenced, with why.
    pub fenced: BTreeMap<String, String>,
    /// The secrets delivered to it (name and version), newest first.
    pub secrets: Vec<HeldSecret>,
    /// Its containers running with Cryptainer volumes or secrets.
    pub containers: Vec<RunningEntry>,
}

/// Answer of `GET /v1/fleet/nodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePage {
    /// The page.
    pub nodes: Vec<NodeEntry>,
    /// How many match.
    pub total: u64,
}

/// A volume with who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeEntry {
    /// The name.
    pub name: String,
    /// Its tenant.
    pub tenant: String,
    /// Its size.
    pub size_bytes: u64,
    /// The filesystem inside.
    pub filesystem: String,
    /// `held` or `free`.
    pub state: crate::volumes::VolumeState,
    /// Who holds the lease (`node:...`, `token:...`).
    pub holder: Option<String>,
    /// The holding node's id, when a node holds it.
    pub holder_node: Option<String>,
    /// Its name.
    pub holder_name: Option<String>,
    /// When the lease ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub lease_expires_at: Option<OffsetDateTime>,
    /// Since when the holder holds it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub held_since: Option<OffsetDateTime>,
    /// The engine serving it on the holder, as its agent reports it.
    pub engine: Option<String>,
    /// Why its agent fenced it, if it did.
    pub fenced: Option<String>,
    /// The containers using it on the holder, as its agent reports them.
    pub containers: Vec<ContainerRef>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who made it.
    pub created_by: String,
}

/// Answer of `GET /v1/fleet/volumes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumePage {
    /// The page.
    pub volumes: Vec<VolumeEntry>,
    /// How many match.
    pub total: u64,
}

/// One release of one version to one workload on one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// The node's id (or the token's audit name for a person).
    pub node_id: String,
    /// The node's name.
    pub node_name: String,
    /// The container, when the node named one.
    pub container: ContainerRef,
    /// Why it was given.
    pub basis: Basis,
    /// First release.
    #[serde(with = "time::serde::rfc3339")]
    pub first_at: OffsetDateTime,
    /// Latest release.
    #[serde(with = "time::serde::rfc3339")]
    pub last_at: OffsetDateTime,
    /// How many releases.
    pub count: u64,
    /// Whether the container still runs (or the node still holds the
    /// volume), as far as the server knows.
    pub current: bool,
}

/// A version of a key or secret and who received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry {
    /// The version.
    pub version: u32,
    /// Who received it, newest first.
    pub recipients: Vec<Recipient>,
}

/// A key, secret or volume key with its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectEntry {
    /// The id.
    pub id: String,
    /// The name.
    pub name: Option<String>,
    /// Its tenant.
    pub tenant: String,
    /// `key`, `secret` or `volume_key`.
    pub kind: String,
    /// The volume it opens, for a volume key.
    pub volume: Option<String>,
    /// The algorithm.
    pub algorithm: String,
    /// Its life-cycle state.
    pub state: String,
    /// Its current version.
    pub version: u32,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Its versions, newest first.
    pub versions: Vec<VersionEntry>,
}

/// Answer of `GET /v1/fleet/objects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectPage {
    /// The page.
    pub objects: Vec<ObjectEntry>,
    /// How many match.
    pub total: u64,
}

/// What a workload received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// `volume` or `secret`.
    pub resource_kind: String,
    /// The volume's or secret's name.
    pub resource: String,
    /// Its tenant.
    pub tenant: String,
    /// The version.
    pub version: u32,
    /// Why.
    pub basis: Basis,
    /// Latest release.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A container that received a volume or secret, or runs with one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadEntry {
    /// The container.
    #[serde(flatten)]
    pub container: ContainerRef,
    /// The node it runs on.
    pub node_id: String,
    /// The node's name.
    pub node_name: String,
    /// Whether its node's agent reports it running.
    pub running: bool,
    /// What it received.
    pub received: Vec<Received>,
    /// Why it is flagged, if it is.
    pub flag: Option<String>,
}

/// Answer of `GET /v1/fleet/workloads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadPage {
    /// The page.
    pub workloads: Vec<WorkloadEntry>,
    /// How many match.
    pub total: u64,
}

/// A policy with how many running containers it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEntry {
    /// The policy.
    pub policy: crate::policies::Policy,
    /// Running containers it selects now (on the nodes it selects).
    pub selects_running: u64,
}

/// Answer of `GET /v1/fleet/policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPage {
    /// The page.
    pub policies: Vec<PolicyEntry>,
    /// How many match.
    pub total: u64,
}

/// Query of `GET /v1/fleet/audit`: newest first, filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Records before this sequence number [default: the newest].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// At most this many, 1 to [`MAX_PAGE`] [default: [`DEFAULT_PAGE`]].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only operations starting with this (`node.`, `policy.decide`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Only this principal (`token:...`, `node:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Only this result: `ok`, or `refused` for every other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Only records whose object or tenant contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

/// Answer of `GET /v1/fleet/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// The records, newest first.
    pub records: Vec<crate::audit::AuditEntry>,
    /// The newest record's sequence number.
    pub head: u64,
    /// Where the next page starts (`before`), if there is one.
    pub next_before: Option<u64>,
    /// How many records were read to find these.
    pub scanned: u64,
}

/// Body of `POST /v1/console/session`: sign in with an API token.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The API token, `cpt_...`.
    #[serde(with = "crate::secret::exposed")]
    pub token: SecretString,
}

/// Answer of `POST` and `GET /v1/console/session`: who is signed in. The
/// session itself is an HttpOnly cookie; `csrf_token` goes in the
/// `X-CSRF-Token` header of every action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSession {
    /// The token's id.
    pub token_id: String,
    /// Its name for people.
    pub display_name: String,
    /// Its role.
    pub role: Role,
    /// Its tenants (`*`: all).
    pub tenants: Vec<String>,
    /// When the session ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Sent back in `X-CSRF-Token` with every action.
    pub csrf_token: String,
    /// What the role may do in the console: `decommission`, `check`,
    /// `audit`.
    pub may: Vec<String>,
}

/// The header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session cookie's name (`__Host-`: Secure, path `/`, no domain).
pub const SESSION_COOKIE: &str = "__Host-cryptainer-session";

/// The event a console's stream sends: which views changed since `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetChange {
    /// The views to refresh: `overview`, `nodes`, `volumes`, `objects`,
    /// `workloads`, `policies`, `audit`.
    pub topics: Vec<String>,
}

endpoints! {
    /// `GET /v1/fleet/overview`.
    GetOverview: Get routes::FLEET_OVERVIEW => Overview;
    /// `POST /v1/console/session`: a session cookie for the token.
    SignIn(body SignInRequest): Post routes::CONSOLE_SESSION => ConsoleSession, public;
}

/// A fleet list endpoint with its query.
macro_rules! fleet_list {
    ($(#[$meta:meta])* $name:ident: $pattern:path => $answer:ty) => {
        $(#[$meta])*
        pub struct $name<'a>(pub &'a FleetQuery);

        impl crate::endpoint::Endpoint for $name<'_> {
            type Answer = $answer;

            fn request(&self) -> Result<crate::endpoint::Request, crate::endpoint::RequestError> {
                Ok(
                    crate::endpoint::Request::to(crate::endpoint::Method::Get, $pattern, &[])?
                        .with_query(self.0.pairs()),
                )
            }
        }
    };
}

impl FleetQuery {
    /// The query's pairs.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        crate::endpoint::Query::new()
            .optional("tenant", self.tenant.as_deref())
            .optional("q", self.q.as_deref())
            .optional("filter", self.filter.as_deref())
            .optional("limit", self.limit)
            .optional("offset", self.offset)
            .pairs()
    }
}

fleet_list!(
    /// `GET /v1/fleet/nodes`.
    ListFleetNodes: routes::FLEET_NODES => NodePage
);
fleet_list!(
    /// `GET /v1/fleet/volumes`.
    ListFleetVolumes: routes::FLEET_VOLUMES => VolumePage
);
fleet_list!(
    /// `GET /v1/fleet/objects`.
    ListFleetObjects: routes::FLEET_OBJECTS => ObjectPage
);
fleet_list!(
    /// `GET /v1/fleet/workloads`.
    ListFleetWorkloads: routes::FLEET_WORKLOADS => WorkloadPage
);
fleet_list!(
    /// `GET /v1/fleet/policies`.
    ListFleetPolicies: routes::FLEET_POLICIES => PolicyPage
);

/// `GET /v1/fleet/audit`.
pub struct ListFleetAudit<'a>(pub &'a AuditFilter);

impl crate::endpoint::Endpoint for ListFleetAudit<'_> {
    type Answer = AuditPage;

    fn request(&self) -> Result<crate::endpoint::Request, crate::endpoint::RequestError> {
        let filter = self.0;
        Ok(
            crate::endpoint::Request::to(crate::endpoint::Method::Get, routes::FLEET_AUDIT, &[])?
                .with_query(
                    crate::endpoint::Query::new()
                        .optional("before", filter.before)
                        .optional("limit", filter.limit)
                        .optional("operation", filter.operation.as_deref())
                        .optional("principal", filter.principal.as_deref())
                        .optional("result", filter.result.as_deref())
                        .optional("q", filter.q.as_deref())
                        .pairs(),
                ),
        )
    }
}
