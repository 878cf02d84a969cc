//! The seal's migration: moving the root key to another seal kind, and the
//! step that waits for new shares (docs/api.md, "System"; docs/seals.md).

use serde::{Deserialize, Serialize};

use crate::routes;
use crate::secret::SecretString;
use crate::sys::Status;

/// What the people behind the current seal give to consent to a migration:
/// exactly one of a quorum of its unseal shares, its passphrase, or (under an
/// automatic seal) a quorum of its recovery shares. An empty list is no
/// consent.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Unseal shares of the current Shamir seal.
    #[serde(
        default,
        with = "crate::secret::exposed_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unseal_shares: Vec<SecretString>,
    /// The current passphrase.
    #[serde(
        default,
        with = "crate::secret::exposed_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub passphrase: Option<SecretString>,
    /// Recovery shares of the current automatic seal.
    #[serde(
        default,
        with = "crate::secret::exposed_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub recovery_shares: Vec<SecretString>,
}

/// Body of `POST /v1/sys/seal/migrate`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrateRequest {
    /// The kind to move to: `shamir`, `passphrase`, `pkcs11`, `tpm2` or
    /// `kmip` (an automatic kind must be the server's `[seal]`).
    pub to: String,
    /// The current seal's consent.
    pub consent: Consent,
    /// The new passphrase (to `passphrase`).
    #[serde(
        default,
        with = "crate::secret::exposed_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub new_passphrase: Option<SecretString>,
    /// Unseal shares to make, to `shamir` from a passphrase [default: 5].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<u8>,
    /// Unseal shares needed, to `shamir` from a passphrase [default: 3].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u8>,
    /// Recovery shares to make, to an automatic seal from a passphrase
    /// [default: 5].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_shares: Option<u8>,
    /// Recovery shares needed, to an automatic seal from a passphrase
    /// [default: 3].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_threshold: Option<u8>,
}

/// Answer of `POST /v1/sys/seal/migrate`; its new shares are shown once.
#[derive(Serialize, Deserialize)]
pub struct MigrateAnswer {
    /// The kind moved from.
    pub from: String,
    /// The kind moved to.
    pub to: String,
    /// Whether the migration waits for a quorum of `new_shares` before the
    /// new seal replaces the old one.
    pub pending: bool,
    /// Unseal shares (to Shamir) or recovery shares (to an automatic seal)
    /// made now; empty when the old shares carry over.
    #[serde(with = "crate::secret::exposed_list")]
    pub new_shares: Vec<SecretString>,
    /// The status afterwards.
    #[serde(flatten)]
    pub status: Status,
}

/// Body of `POST /v1/sys/seal/migrate/complete`: a quorum of the shares the
/// migration made.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteMigrationRequest {
    /// The new shares.
    #[serde(with = "crate::secret::exposed_list")]
    pub shares: Vec<SecretString>,
}

endpoints! {
    /// `POST /v1/sys/seal/migrate`.
    MigrateSeal(body MigrateRequest): Post routes::SEAL_MIGRATE => MigrateAnswer;
    /// `POST /v1/sys/seal/migrate/complete`.
    CompleteSealMigration(body CompleteMigrationRequest): Post routes::SEAL_MIGRATE_COMPLETE => Status;
    /// `POST /v1/sys/seal/migrate/cancel`.
    CancelSealMigration: Post routes::SEAL_MIGRATE_CANCEL => Status;
}
