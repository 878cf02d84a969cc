//! Node identity: join tokens, joining, renewal, liveness, the inventory and
//! the built-in CA (docs/api.md, "Nodes and the CA"; docs/identity.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::routes;
use crate::secret::SecretString;
use crate::tokens::Role;

/// Whether a node may still act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Joined and not decommissioned.
    Active,
    /// Decommissioned: its certificates are refused.
    Decommissioned,
}

impl NodeState {
    /// The state's spelling in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Active => "active",
            NodeState::Decommissioned => "decommissioned",
        }
    }
}

/// A join token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinTokenInfo {
    /// The id, `jtk_...`.
    pub id: String,
    /// The role joining nodes get.
    pub role: Role,
    /// The tenant joining nodes belong to.
    pub tenant: String,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was revoked (or replaced).
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// How many nodes may join with it.
    pub max_uses: u32,
    /// How many did.
    pub uses: u32,
    /// Labels the joining nodes get.
    pub labels: BTreeMap<String, String>,
}

/// A join token just made: the text, shown once, and the token.
#[derive(Serialize, Deserialize)]
pub struct CreatedJoinToken {
    /// The token, `CPTJ-1-...`.
    #[serde(with = "crate::secret::exposed")]
    pub token: SecretString,
    /// The token as listed.
    #[serde(flatten)]
    pub info: JoinTokenInfo,
}

/// Body of `POST /v1/nodes/tokens`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateJoinTokenRequest {
    /// The role [default and only choice: `agent`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The tenant [default: the caller's only tenant, or `default`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Lifetime in seconds [default: 24 hours; at most 30 days].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
    /// How many nodes may join [default: 1].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    /// Labels the joining nodes get.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Answer of `GET /v1/nodes/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinTokenList {
    /// The join tokens of the caller's tenants.
    pub tokens: Vec<JoinTokenInfo>,
}

/// Body of `POST /v1/nodes/join`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The join token.
    #[serde(with = "crate::secret::exposed")]
    pub token: SecretString,
    /// The node's certificate request (PEM).
    pub csr_pem: String,
    /// The node's name [default: `node`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Body of `POST /v1/nodes/renew`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// The certificate request for the node's new key (PEM).
    pub csr_pem: String,
}

/// A certificate issued to a node (answer of join and renew).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedNodeCertificate {
    /// The node's id, `node-...`.
    pub node_id: String,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its tenant.
    pub tenant: String,
    /// The certificate (PEM).
    pub cert_pem: String,
    /// The CA bundle to pin (PEM).
    pub ca_pem: String,
    /// The certificate's serial (hex).
    pub serial: String,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// Answer of `POST /v1/nodes/heartbeat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The node's id.
    pub node_id: String,
    /// Its state.
    pub state: NodeState,
    /// The serial of its newest certificate.
    pub cert_serial: String,
    /// SHA-256 (hex) of the CA bundle the server serves now.
    #[serde(default)]
    pub ca_digest: Option<String>,
    /// Whether to renew now (after a CA rotation, in this node's batch);
    /// absent from a server that does not batch re-issues.
    #[serde(default)]
    pub renew: Option<bool>,
}

/// Body of `POST /v1/nodes/heartbeat`: what runs on the node. Optional: an
/// agent that sends no body (older ones) reports liveness only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessReport {
    /// The containers running with volumes of this node's driver (encrypted
    /// volumes and secret volumes), at most [`MAX_REPORTED_CONTAINERS`].
    #[serde(default)]
    pub containers: Vec<RunningContainer>,
    /// The encrypted volumes mounted on the node, at most
    /// [`MAX_REPORTED_VOLUMES`].
    #[serde(default)]
    pub volumes: Vec<MountedVolume>,
}

/// Most containers one liveness report lists; more are left out.
pub const MAX_REPORTED_CONTAINERS: usize = 512;

/// Most volumes one liveness report lists; more are left out.
pub const MAX_REPORTED_VOLUMES: usize = 1024;

/// A container running on the node with volumes of its driver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunningContainer {
    /// The container's id.
    pub container_id: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// The image it was started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The image's content digest (`sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    /// Its Swarm or Compose service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Its labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub container_labels: BTreeMap<String, String>,
    /// The volumes of this node's driver it mounts (encrypted volumes and
    /// secret volumes).
    #[serde(default)]
    pub volumes: Vec<String>,
}

/// An encrypted volume mounted on the node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountedVolume {
    /// The volume's name.
    pub name: String,
    /// The engine serving it (`userspace`: FUSE block file and loop device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Why the agent fenced it, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fenced: Option<String>,
}

/// A node as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The id, `node-...`.
    pub id: String,
    /// The name it gave at join.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its tenant.
    pub tenant: String,
    /// Whether it may act.
    pub state: NodeState,
    /// The serial of its newest certificate.
    pub cert_serial: String,
    /// When that certificate expires.
    #[serde(with = "time::serde::rfc3339")]
    pub cert_expires_at: OffsetDateTime,
    /// When it joined.
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
    /// When it was last heard from.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<OffsetDateTime>,
    /// When it was decommissioned.
    #[serde(with = "time::serde::rfc3339::option")]
    pub decommissioned_at: Option<OffsetDateTime>,
    /// The join token it joined with.
    pub join_token_id: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}

/// Answer of `GET /v1/nodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeList {
    /// The nodes of the caller's tenants.
    pub nodes: Vec<NodeInfo>,
}

/// Body of `POST|PUT /v1/nodes/{id}/labels`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRequest {
    /// Labels to add or change.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Label keys to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Body of `POST /v1/nodes/{id}/decommission`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecommissionRequest {
    /// Also destroy the keys labelled `cryptainer.node=<id>`.
    #[serde(default)]
    pub shred: bool,
}

/// Answer of `POST /v1/nodes/{id}/decommission`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decommissioned {
    /// The node, decommissioned.
    pub node: NodeInfo,
    /// How many volume leases ended.
    pub leases_ended: u64,
    /// The ids of the keys destroyed.
    pub shredded: Vec<String>,
}

/// The server's own certificate, as `GET /v1/ca/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCertificateStatus {
    /// SHA-256 (hex) of the root that issued it; empty when no root of the
    /// bundle did.
    pub issuer: String,
    /// Whether the current root issued it.
    pub current_root: bool,
    /// When it expires (RFC 3339).
    pub not_after: String,
}

/// Answer of `GET /v1/ca/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaStatus {
    /// SHA-256 (hex) of the current CA certificate.
    pub ca_fingerprint: String,
    /// SHA-256 (hex) of the bundle join tokens pin.
    pub ca_digest: String,
    /// Roots in the bundle.
    pub roots: u64,
    /// Active nodes with an unexpired certificate.
    pub nodes: u64,
    /// Those whose certificate the current root issued.
    pub reissued: u64,
    /// The ids of the others.
    pub pending: Vec<String>,
    /// The server's own certificate.
    pub server_certificate: ServerCertificateStatus,
}

/// A join token re-made by a CA rotation.
#[derive(Serialize, Deserialize)]
pub struct ReplacedJoinToken {
    /// The id of the token it replaces.
    pub replaces: String,
    /// The new token, shown once.
    #[serde(with = "crate::secret::exposed")]
    pub token: SecretString,
    /// The new token as listed.
    #[serde(flatten)]
    pub info: JoinTokenInfo,
}

/// Answer of `POST /v1/ca/rotate`.
#[derive(Serialize, Deserialize)]
pub struct RotatedCa {
    /// SHA-256 (hex) of the new bundle.
    pub ca_digest: String,
    /// The new bundle (PEM).
    pub ca_pem: String,
    /// The live join tokens, re-made for the new bundle.
    pub tokens: Vec<ReplacedJoinToken>,
}

endpoints! {
    /// `POST /v1/nodes/tokens`.
    CreateJoinToken(body CreateJoinTokenRequest): Post routes::JOIN_TOKENS => CreatedJoinToken;
    /// `GET /v1/nodes/tokens`.
    ListJoinTokens: Get routes::JOIN_TOKENS => JoinTokenList;
    /// `DELETE /v1/nodes/tokens/{id}`.
    RevokeJoinToken { id }: Delete routes::JOIN_TOKEN => JoinTokenInfo;
    /// `POST /v1/nodes/tokens/{id}/rotate`.
    RotateJoinToken { id }: Post routes::JOIN_TOKEN_ROTATE => CreatedJoinToken;
    /// `POST /v1/nodes/join`: authenticated by the join token in the body.
    Join(body JoinRequest): Post routes::NODE_JOIN => IssuedNodeCertificate, public;
    /// `POST /v1/nodes/renew`.
    RenewCertificate(body RenewRequest): Post routes::NODE_RENEW => IssuedNodeCertificate;
    /// `POST /v1/nodes/heartbeat`, with what runs on the node.
    ReportLiveness(body LivenessReport): Post routes::NODE_HEARTBEAT => Heartbeat;
    /// `GET /v1/nodes`.
    ListNodes: Get routes::NODES => NodeList;
    /// `GET /v1/nodes/{id}`.
    ShowNode { id }: Get routes::NODE => NodeInfo;
    /// `POST /v1/nodes/{id}/labels`.
    LabelNode { id, body: LabelRequest }: Post routes::NODE_LABELS => NodeInfo;
    /// `POST /v1/nodes/{id}/decommission`.
    DecommissionNode { id, body: DecommissionRequest }: Post routes::NODE_DECOMMISSION => Decommissioned;
    /// `POST /v1/ca/rotate`.
    RotateCa: Post routes::CA_ROTATE => RotatedCa;
    /// `GET /v1/ca/status`.
    GetCaStatus: Get routes::CA_STATUS => CaStatus;
}
