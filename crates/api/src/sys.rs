//! The seal's life cycle: status, init, unseal, seal, root and tenant key
//! rotation (docs/api.md, "System"; the seal's migration is in
//! [`crate::seal`]).

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
    /// The seal kind once initialized: `shamir`, `passphrase`, `pkcs11`,
    /// `tpm2` or `kmip`.
    pub seal: Option<String>,
    /// Shares needed (Shamir seal).
    pub threshold: u8,
    /// Shares made (Shamir seal).
    pub shares: u8,
    /// Shares given so far toward unsealing.
    pub progress: u8,
    /// The seal's device: the PKCS#11 token label, `tpm2`, or the remote KMIP
    /// server.
    #[serde(default)]
    pub seal_token: Option<String>,
    /// The seal's key: the PKCS#11 key label, the TPM's PCR selection, the
    /// remote key's id.
    #[serde(default)]
    pub seal_key: Option<String>,
    /// How the device protects the root key (e.g. `aes-gcm`).
    #[serde(default)]
    pub seal_mechanism: Option<String>,
    /// Recovery shares needed (automatic seals).
    #[serde(default)]
    pub recovery_threshold: u8,
    /// Recovery shares made (automatic seals).
    #[serde(default)]
    pub recovery_shares: u8,
    /// The seal kind a pending migration waits to switch to.
    #[serde(default)]
    pub seal_migration_pending: Option<String>,
    /// What the automatic seal is doing: only in the answer of
    /// `GET /v1/sys/status`.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub automatic: Option<AutomaticUnseal>,
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
/// What the server's automatic seal is doing (`GET /v1/sys/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomaticUnseal {
    /// The kind the server's `[seal]` names, if any.
    pub seal_configured: Option<String>,
    /// Where the automatic unseal stands.
    pub seal_state: UnsealState,
    /// Whether the device answered its last check (absent: not asked yet).
    pub seal_device: Option<DeviceHealth>,
    /// Why the device could not be used, the last time it could not.
    pub seal_error: Option<String>,
    /// Attempts to unseal with the device since the server started.
    pub seal_attempts: u64,
}

/// Where the automatic unseal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsealState {
    /// Nothing to do: not initialized, or sealed with people's material.
    Idle,
    /// Trying, or waiting to try again, to reach the device.
    Retrying,
    /// The device refused; a person must fix the configuration and restart.
    Refused,
    /// Unsealed by the device.
    Unsealed,
}

/// The seal device's answer to its last check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceHealth {
    /// It answered.
    Reachable,
    /// It did not.
    Unreachable,
}

/// Body of `POST /v1/sys/init`: shares and threshold (Shamir), or a
/// passphrase; with an automatic seal configured, recovery share counts.
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
    /// Recovery shares to make, with an automatic seal [default: 5].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_shares: Option<u8>,
    /// Recovery shares needed, with an automatic seal [default: 3].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_threshold: Option<u8>,
}

/// Answer of `POST /v1/sys/init`, shown once.
#[derive(Serialize, Deserialize)]
pub struct InitAnswer {
    /// The unseal shares (none with a passphrase or an automatic seal).
    #[serde(with = "crate::secret::exposed_list")]
    pub unseal_shares: Vec<SecretString>,
    /// The recovery shares of an automatic seal (none otherwise): they
    /// authorize seal migrations and root rotations, and open nothing.
    #[serde(default, with = "crate::secret::exposed_list")]
    pub recovery_shares: Vec<SecretString>,
    /// The seal kind the root key was sealed with.
    pub seal: String,
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

/// Body of `POST /v1/sys/rotate-root`: under an automatic seal, a quorum of
/// the recovery shares; otherwise nothing.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateRootRequest {
    /// Recovery shares (automatic seals only).
    #[serde(
        default,
        with = "crate::secret::exposed_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub recovery_shares: Vec<SecretString>,
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
    RotateRoot(body RotateRootRequest): Post routes::ROTATE_ROOT => Status;
    /// `POST /v1/tenants/{tenant}/rotate-key`.
    RotateTenantKey { tenant }: Post routes::TENANT_ROTATE_KEY => TenantKeyRotated;
}
