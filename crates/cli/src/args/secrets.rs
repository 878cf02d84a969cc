//! `cryptainer secret ...`: secrets, whose values come from files or standard input.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::labels::parse_label;

/// `cryptainer secret ...`.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a new secret (operator). The value is the exact bytes of
    /// --from-file, or of standard input; typed at a terminal, it is asked
    /// twice without echo.
    Create {
        /// Name: 1 to 128 of [A-Za-z0-9._-], unique in its tenant.
        name: String,

        /// Read the value from this file (`-`: standard input) [default:
        /// standard input].
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,

        /// Tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,

        /// A label, KEY=VALUE; repeat for several.
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
        labels: Vec<(String, String)>,
    },
    /// List secrets, without their values (auditor).
    List {
        /// Only secrets of this tenant [default: every tenant of the token].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Show a secret's metadata, never its value (auditor).
    Show(SecretRef),
    /// Write a secret's value to standard output or a file (operator); every
    /// read is audited.
    Get {
        /// The secret.
        #[command(flatten)]
        secret: SecretRef,

        /// Version to read [default: the newest].
        #[arg(long, value_name = "N")]
        version: Option<u32>,

        /// Write the value to this file (created with mode 0600) instead of
        /// standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Give a secret a new value, as its next version (operator); earlier
    /// versions stay readable.
    Rotate {
        /// The secret.
        #[command(flatten)]
        secret: SecretRef,

        /// Read the new value from this file (`-`: standard input) [default:
        /// standard input].
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
    /// Destroy every version of a secret's value for good; a tombstone stays
    /// for the audit (operator).
    Destroy {
        /// The secret.
        #[command(flatten)]
        secret: SecretRef,

        /// Do not ask for confirmation. Required when standard input is not a
        /// terminal.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// A secret by name or id.
#[derive(Debug, Args)]
pub struct SecretRef {
    /// The secret's name or id.
    pub reference: String,

    /// Its tenant [default: the token's only tenant, or `default`].
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
}
