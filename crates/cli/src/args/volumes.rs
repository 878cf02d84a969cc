//! `cryptainer volume ...`: encrypted volumes as the key manager sees them.

use clap::{Args, Subcommand};

/// `cryptainer volume ...`.
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Pre-create a volume (operator); `docker volume create -d cryptainer`
    /// does the same from a host.
    Create {
        /// Name: 1 to 128 of [A-Za-z0-9._-], unique in its tenant.
        name: String,

        /// Size, for example 20G (binary units: K, M, G, T); 64M to 64T.
        #[arg(long, value_name = "SIZE", value_parser = super::parse_size)]
        size: u64,

        /// Filesystem inside the volume.
        #[arg(long = "fs", default_value = "ext4", value_name = "FS")]
        filesystem: String,

        /// Tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// List volumes: name, size, holder and lease (auditor).
    List {
        /// Only volumes of this tenant [default: every tenant of the token].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Show one volume (auditor).
    Show(VolumeRef),
    /// Remove a volume: its key is destroyed, so its data can never be read
    /// again (operator). Refused while a host holds it.
    Rm {
        /// The volume.
        #[command(flatten)]
        volume: VolumeRef,

        /// Do not ask for confirmation. Required when standard input is not a
        /// terminal.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// A volume by name.
#[derive(Debug, Args)]
pub struct VolumeRef {
    /// The volume's name.
    pub name: String,

    /// Its tenant [default: the token's only tenant, or `default`].
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
}
