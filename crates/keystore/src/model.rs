//! The records the key manager keeps besides key material, as callers see them:
//! API tokens and their roles, join tokens, the node inventory, volumes and
//! their leases, and the filter of an object list.
//!
//! None of them holds key material or a secret (tokens and join tokens are
//! kept only as digests), so they are plain data: they are read through
//! [`Keystore`](crate::Keystore)'s methods and written only by them, each
//! change together with its audit record.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::object::{ObjectType, State};

/// The roles a token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, within its tenants.
    Admin,
    /// Key life cycle and material, within its tenants.
    Operator,
    /// Metadata and the audit log, never material.
    Auditor,
    /// A node (container host) that joined with a join token: keys and material of
    /// its one tenant, and its own identity (renewal, liveness).
    Agent,
}

impl Role {
    /// Parses the API spelling.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "auditor" => Some(Role::Auditor),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Agent => "agent",
        }
    }
}

/// An API token as stored: only the SHA-256 digest of the secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Public identifier (`tok_...`), safe to log.
    pub id: String,
    /// SHA-256 of the token secret, hex.
    pub digest: String,
    /// What the token may do.
    pub role: Role,
    /// Tenants the token may act on; `*` means all.
    pub tenants: Vec<String>,
    /// A name for people.
    pub display_name: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Revocation time, if revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}
/// A volume: a block device encrypted with a key this key manager holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRow {
    /// The tenant it belongs to.
    pub tenant: String,
    /// Its name, unique within the tenant.
    pub name: String,
    /// The object holding the secret that opens the volume's keyslot.
    pub key_id: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Filesystem inside (`ext4`).
    pub filesystem: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who created it (audit name).
    pub created_by: String,
    /// Who holds it now, if anyone.
    pub lease: Option<Lease>,
    /// Every holder it ever had: a node's decommission with `--shred` destroys
    /// the volumes that only that node used.
    pub holders: std::collections::BTreeSet<String>,
    /// Incremented by every change; writes are conditional on it.
    pub revision: u64,
}

/// A holder's claim on a volume, which lapses unless renewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The holder (a node's audit name).
    pub holder: String,
    /// When it was first taken.
    #[serde(with = "time::serde::rfc3339")]
    pub acquired_at: OffsetDateTime,
    /// When it lapses unless renewed.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A join token as stored: only the SHA-256 digest of its secret is kept. The
/// token text itself (`CPTJ-1-<CA digest>-<secret>`, docs/identity.md) is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinTokenRow {
    /// Public identifier (`jtk_...`), safe to log.
    pub id: String,
    /// SHA-256 of the token's secret part, hex.
    pub digest: String,
    /// The role nodes joining with it get.
    pub role: Role,
    /// The tenant nodes joining with it belong to.
    pub tenant: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Revocation (or rotation) time, if revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// How many nodes may join with it.
    pub max_uses: u32,
    /// How many nodes have joined with it.
    pub uses: u32,
    /// Labels the nodes joining with it get (policies select nodes by them).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Whether a node may still act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Joined and not decommissioned.
    Active,
    /// Decommissioned: every certificate of the node is refused.
    Decommissioned,
}

impl NodeState {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Active => "active",
            NodeState::Decommissioned => "decommissioned",
        }
    }
}

/// A node of the inventory: a host that joined with a join token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    /// The id the server assigned (`node-...`), also in the node's certificates.
    pub id: String,
    /// The host name the node gave when it joined, for people.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its tenant.
    pub tenant: String,
    /// Serial (hex) of the newest certificate issued to it.
    pub cert_serial: String,
    /// Expiry of that certificate.
    #[serde(with = "time::serde::rfc3339")]
    pub cert_expires_at: OffsetDateTime,
    /// When it joined.
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
    /// The last time it reported liveness or renewed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<OffsetDateTime>,
    /// Whether it may act.
    pub state: NodeState,
    /// When it was decommissioned.
    #[serde(with = "time::serde::rfc3339::option")]
    pub decommissioned_at: Option<OffsetDateTime>,
    /// The join token it used.
    pub join_token_id: String,
    /// SHA-256 (hex) of the CA certificate that issued `cert_serial`: after a CA
    /// rotation, the nodes still to re-issue are those whose issuer is not the
    /// current CA. Empty in rows written before this was recorded.
    #[serde(default)]
    pub issuer: String,
    /// Its labels (from the join token, changed by `cryptainer node label`);
    /// policies select nodes by them. Rows stored before labels existed have none.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only these tenants; `None` means every tenant.
    pub tenants: Option<Vec<String>>,
    /// Only objects with this name.
    pub name: Option<String>,
    /// Only objects in this state.
    pub state: Option<State>,
    /// Only objects of this type.
    pub object_type: Option<ObjectType>,
    /// At most this many (the backend caps it at [`MAX_LIST`]).
    pub limit: u32,
    /// Skip this many.
    pub offset: u64,
}

/// Largest page a list returns, whatever the caller asks.
pub const MAX_LIST: u32 = 1000;
