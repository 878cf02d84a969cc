//! `cryptainer kmip ...`: certificates for KMIP clients.

use std::path::PathBuf;

use clap::Subcommand;

/// `cryptainer kmip ...`.
#[derive(Debug, Subcommand)]
pub enum KmipCommand {
    /// Issue a certificate for a KMIP client (admin): writes cert.pem, key.pem
    /// (mode 0600) and ca.pem to --out.
    ///
    /// The private key is made on this machine and never sent: the server's CA
    /// signs a certificate request. The tenant and role are written into the
    /// certificate; the KMIP listener (port 5696) maps them to the same roles and
    /// tenants as API tokens.
    ClientCert {
        /// The client's name, written as the certificate's common name.
        name: String,
        /// The one tenant the client acts on [default: default].
        #[arg(long)]
        tenant: Option<String>,
        /// The client's role: operator (create and use keys), auditor (read
        /// metadata) or admin [default: operator].
        #[arg(long)]
        role: Option<String>,
        /// Directory to write cert.pem, key.pem and ca.pem to (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}
