//! `cryptainer key ...`: the key life cycle.

use clap::{Args, Subcommand, ValueEnum};

use crate::labels::parse_label;

/// Key algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Algorithm {
    /// AES with a 256-bit key.
    #[value(name = "aes-256")]
    Aes256,
    /// AES with a 128-bit key.
    #[value(name = "aes-128")]
    Aes128,
    /// HMAC-SHA256 with a 256-bit key.
    #[value(name = "hmac-sha256")]
    HmacSha256,
}

impl Algorithm {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aes256 => "aes-256",
            Algorithm::Aes128 => "aes-128",
            Algorithm::HmacSha256 => "hmac-sha256",
        }
    }
}

/// Key states (KMIP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyState {
    /// Created but not yet usable.
    #[value(name = "pre_active")]
    PreActive,
    /// Usable.
    #[value(name = "active")]
    Active,
    /// Revoked: readable for decryption, not for new use.
    #[value(name = "deactivated")]
    Deactivated,
    /// Revoked as compromised.
    #[value(name = "compromised")]
    Compromised,
    /// Destroyed: material gone, metadata kept.
    #[value(name = "destroyed")]
    Destroyed,
    /// Destroyed after being compromised.
    #[value(name = "destroyed_compromised")]
    DestroyedCompromised,
}

impl KeyState {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::PreActive => "pre_active",
            KeyState::Active => "active",
            KeyState::Deactivated => "deactivated",
            KeyState::Compromised => "compromised",
            KeyState::Destroyed => "destroyed",
            KeyState::DestroyedCompromised => "destroyed_compromised",
        }
    }
}

/// Why a key is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RevocationReason {
    /// No reason given.
    #[value(name = "unspecified")]
    Unspecified,
    /// The key leaked or may have: its state becomes `compromised`.
    #[value(name = "compromised")]
    Compromised,
    /// Replaced by another key.
    #[value(name = "superseded")]
    Superseded,
    /// No longer needed.
    #[value(name = "cessation_of_operation", alias = "cessation-of-operation")]
    CessationOfOperation,
}

impl RevocationReason {
    /// The reason as the API takes it.
    pub fn wire(self) -> api::keys::RevocationReason {
        match self {
            RevocationReason::Unspecified => api::keys::RevocationReason::Unspecified,
            RevocationReason::Compromised => api::keys::RevocationReason::Compromised,
            RevocationReason::Superseded => api::keys::RevocationReason::Superseded,
            RevocationReason::CessationOfOperation => {
                api::keys::RevocationReason::CessationOfOperation
            }
        }
    }
}

/// Which key: a name or an id, in a tenant.
#[derive(Debug, Args)]
pub struct KeyRef {
    /// The key's id (a UUID) or its name.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Tenant in which to look up a key name [default: the token's only tenant, or
    /// `default`].
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
}

/// `cryptainer key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key (operator).
    Create {
        /// Name of the key: 1 to 128 of [A-Za-z0-9._-], unique in its tenant.
        name: String,

        /// Algorithm and length.
        #[arg(long, value_enum, default_value_t = Algorithm::Aes256)]
        algorithm: Algorithm,

        /// Tenant to create the key in [default: the token's only tenant, or
        /// `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,

        /// A label, KEY=VALUE; repeat for several (at most 64). Keys are
        /// [A-Za-z0-9._-], values printable text, each up to 128 bytes.
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
        labels: Vec<(String, String)>,
    },
    /// List keys (auditor).
    List {
        /// Only keys of this tenant [default: every tenant of the token].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,

        /// Only keys in this state.
        #[arg(long, value_enum, value_name = "STATE")]
        state: Option<KeyState>,

        /// Most keys to show.
        #[arg(long, default_value_t = 100, value_name = "N")]
        limit: u32,

        /// Keys to skip, for paging.
        #[arg(long, default_value_t = 0, value_name = "N")]
        offset: u64,
    },
    /// Show a key's metadata (auditor).
    Show(KeyRef),
    /// Make a new version of a key; older versions stay readable (operator).
    Rotate(KeyRef),
    /// Revoke a key: it can no longer be used for new data (operator).
    Revoke {
        /// The key.
        #[command(flatten)]
        key: KeyRef,

        /// Why the key is revoked.
        #[arg(long, value_enum, default_value_t = RevocationReason::Unspecified)]
        reason: RevocationReason,
    },
    /// Destroy a revoked key's material for good; its metadata stays (operator).
    Destroy {
        /// The key.
        #[command(flatten)]
        key: KeyRef,

        /// Do not ask for confirmation. Required when standard input is not a
        /// terminal.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Print a key's material in base64 (operator). Warns when printing to a
    /// terminal.
    Material {
        /// The key.
        #[command(flatten)]
        key: KeyRef,

        /// Version to read [default: the newest].
        #[arg(long, value_name = "N")]
        version: Option<u32>,
    },
}
