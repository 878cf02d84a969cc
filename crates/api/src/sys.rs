//! The seal's life cycle: status, init, unseal, seal, root and tenant key
//! rotation (docs/api.md, "System").

use serde::{Deserialize, Serialize};

use crate::routes;
use crate::secret::SecretString;

/// `GET /v1/sys/health`: `{"status":"ok"}` while the process serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `GET /v1/sys/ready` when unsealed (503 `sealed` otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// `true`.
    pub ready: bool,
}

/// The seal status, answered even while sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Whether a root key exists.
    pub initialized: bool,
    /// Whether the root key is sealed (not in memory).
    pub sealed: bool,
    /// The seal kind once initialized: `shamir` or `passphrase`.
    pub seal: Option<String>,
    /// Shares needed (Shamir seal).
    pub threshold: u8,
    /// Shares made (Shamir seal).
    pub shares: u8,
    /// Shares given so far toward unsealing.
    pub progress: u8,
    /// The server's version.
    pub version: String,
}

/// What a backup holds: the answer of `POST /v1/sys/restore`, and what
/// `cryptainer operator backup` reports of the file it wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    /// The backend it was taken from (`sqlite`, `postgresql`).
    pub source: String,
    /// When it was taken (RFC 3339).
    pub taken_at: String,
    /// Objects (keys, secrets, certificates, tombstones).
    pub objects: u64,
    /// Versions of objects' material, all wrapped.
    pub versions: u64,
    /// Tenant key versions, wrapped under the root.
    pub tenant_keys: u64,
    /// API tokens (digests).
    pub tokens: u64,
    /// Volumes.
    pub volumes: u64,
    /// Nodes.
    pub nodes: u64,
    /// Policies.
    pub policies: u64,
    /// Audit records.
    pub audit_records: u64,
    /// The last audit record's sequence number.
    pub audit_head: u64,
}

/// Body of `POST /v1/sys/init`: shares and threshold (Shamir), or a passphrase.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitRequest {
    /// Shares to make [default: 5].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<u8>,
    /// Shares needed to unseal [default: 3].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u8>,
    /// Seal with this passphrase instead.
    #[serde(
        default,
        with = "crate::secret::exposed_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub passphrase: Option<SecretString>,
}

/// Answer of `POST /v1/sys/init`, shown once.
#[derive(Serialize, Deserialize)]
pub struct InitAnswer {
    /// The unseal shares (none with a passphrase).
    #[serde(with = "crate::secret::exposed_list")]
    pub unseal_shares: Vec<SecretString>,
    /// The root token.
    #[serde(with = "crate::secret::exposed")]
    pub root_token: SecretString,
    /// The root token's id.
    pub root_token_id: String,
}

/// Body of `POST /v1/sys/unseal`: exactly one of a share, the passphrase, or
/// `reset`.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsealRequest {
    /// An unseal share.
    #[serde(
        default,
        with = "crate::secret::exposed_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub share: Option<SecretString>,
    /// The passphrase.
    #[serde(
        default,
        with = "crate::secret::exposed_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub passphrase: Option<SecretString>,
    /// Discard the shares given so far.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

/// Answer of `POST /v1/tenants/{tenant}/rotate-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantKeyRotated {
    /// The tenant.
    pub tenant: String,
    /// Its key's new version.
    pub key_version: u32,
}

endpoints! {
    /// `GET /v1/sys/status`.
    GetStatus: Get routes::STATUS => Status, public, per_server;
    /// `GET /v1/sys/health`.
    GetHealth: Get routes::HEALTH => Health, public, per_server;
    /// `GET /v1/sys/ready`.
    GetReady: Get routes::READY => Ready, public, per_server;
    /// `POST /v1/sys/init`.
    Init(body InitRequest): Post routes::INIT => InitAnswer, public;
    /// `POST /v1/sys/unseal`: each server of a cluster is unsealed on its own.
    Unseal(body UnsealRequest): Post routes::UNSEAL => Status, public, per_server;
    /// `POST /v1/sys/seal`: seals the one server it reaches.
    Seal: Post routes::SEAL => Status, per_server;
    /// `POST /v1/sys/rotate-root`.
    RotateRoot: Post routes::ROTATE_ROOT => Status;
    /// `POST /v1/tenants/{tenant}/rotate-key`.
    RotateTenantKey { tenant }: Post routes::TENANT_ROTATE_KEY => TenantKeyRotated;
}
