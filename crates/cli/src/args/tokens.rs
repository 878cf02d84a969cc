//! `cryptainer token ...`: API tokens.

use std::time::Duration;

use clap::{Subcommand, ValueEnum};

use crate::duration::parse_duration;

/// Token roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Everything in its tenants: keys, tokens, seal, root rotation.
    Admin,
    /// Keys in its tenants, including their material.
    Operator,
    /// Key metadata (never material) and the audit log.
    Auditor,
}

impl Role {
    /// The role as the API names it.
    pub fn wire(self) -> api::tokens::Role {
        match self {
            Role::Admin => api::tokens::Role::Admin,
            Role::Operator => api::tokens::Role::Operator,
            Role::Auditor => api::tokens::Role::Auditor,
        }
    }
}

/// `cryptainer token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret, ONCE (admin).
    Create {
        /// What the token may do.
        #[arg(long, value_enum)]
        role: Role,

        /// A tenant the token may act on; repeat for several, `*` for all (only an
        /// admin of all tenants may grant that) [default: default].
        #[arg(long = "tenant", value_name = "TENANT")]
        tenants: Vec<String>,

        /// Lifetime, e.g. 90m, 24h, 7d, 3600s, 1h30m (at most 366d).
        #[arg(long, default_value = "24h", value_parser = parse_duration, value_name = "DURATION")]
        ttl: Duration,

        /// A name to recognise the token by in listings and the audit log.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// List tokens (admin): ids, roles, tenants, expiry; never secrets.
    List,
    /// Revoke a token by its id, tok_... (admin).
    Revoke {
        /// The token's id (not its secret).
        #[arg(value_name = "ID")]
        id: String,
    },
}
