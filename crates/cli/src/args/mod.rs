//! The command line: every command, flag, default and environment variable, with
//! the help text people read; one module per command group.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod agent;
mod audit;
mod ca;
mod keys;
mod kmip;
mod nodes;
mod operator;
mod policies;
mod secrets;
mod server;
mod tokens;
mod volumes;

pub use agent::AgentCommand;
pub use audit::AuditCommand;
pub use ca::CaCommand;
pub use keys::{Algorithm, KeyCommand, KeyRef, KeyState, RevocationReason};
pub use kmip::KmipCommand;
pub use nodes::{NodeCommand, NodeTokenCommand};
pub use operator::{
    BackupArgs, InitArgs, MigrateArgs, MigrateStoreArgs, OperatorCommand, RestoreArgs, SealArgs,
    SealCommand, UnsealArgs,
};
pub use policies::PolicyCommand;
pub use secrets::{SecretCommand, SecretRef};
pub use server::ServerArgs;
pub use tokens::{Role, TokenCommand};
pub use volumes::{VolumeCommand, VolumeRef};

/// Exit codes and environment, shown after the top-level help.
const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  the operation failed: the server refused it (the message and a hint say why),
     or `audit verify` found the audit log altered
  2  usage or configuration error: a wrong flag, a missing CRYPTAINER_ADDR, an
     unreadable CA file
  3  the server could not be reached: connection refused, TLS failure, timeout
  4  `policy check`: the policies refuse the workload

Environment:
  CRYPTAINER_ADDR     server address, e.g. https://127.0.0.1:8200 (--addr)
  CRYPTAINER_TOKEN    API token, cpt_... (--token)
  CRYPTAINER_CACERT   PEM file of the CA that signed the server's certificate (--cacert)
  CRYPTAINER_LOG      log filter, e.g. debug or server=debug,info (default: info)

Getting started:
  cryptainer server --dev          # in one terminal: a throwaway server
  source cryptainer-dev/dev.env    # in another: sets the three variables above
  cryptainer key create db
  cryptainer key list";

/// Cryptainer: a key manager with a sealed root key.
#[derive(Debug, Parser)]
#[command(
    name = "cryptainer",
    version,
    about = "Cryptainer key manager: run the server, or manage keys, tokens and the seal over its HTTPS API",
    after_help = AFTER_HELP,
    max_term_width = 100
)]
pub struct Cli {
    /// Options of every client command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Address of the server, https://HOST:PORT. `cryptainer server --dev` writes
    /// it to <data-dir>/dev.env.
    #[arg(
        long,
        global = true,
        env = "CRYPTAINER_ADDR",
        value_name = "URL",
        help_heading = "Client options"
    )]
    pub addr: Option<String>,

    /// API token (cpt_...). Prefer the environment variable: a flag is visible to
    /// other users in the process list.
    #[arg(
        long,
        global = true,
        env = "CRYPTAINER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        help_heading = "Client options"
    )]
    pub token: Option<String>,

    /// PEM file with the CA certificate that signed the server's certificate. Only
    /// this CA is trusted; the system's roots are not used.
    #[arg(
        long,
        global = true,
        env = "CRYPTAINER_CACERT",
        value_name = "FILE",
        help_heading = "Client options"
    )]
    pub cacert: Option<PathBuf>,

    /// Print the server's JSON answer, pretty-printed, instead of tables.
    #[arg(long, global = true, help_heading = "Client options")]
    pub json: bool,

    /// Format of log lines on standard error. The level is set by CRYPTAINER_LOG
    /// (default: info).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = LogFormat::Text,
        value_name = "FORMAT"
    )]
    pub log_format: LogFormat,
}

/// Format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Cryptainer server (HTTPS API).
    #[command(
        long_about = "Run the Cryptainer server: the HTTPS API (TLS only) until SIGINT or SIGTERM.\n\n\
            With --dev it needs nothing else: it creates its data directory, a CA and a server \
            certificate, initializes itself with a passphrase kept beside the data, unseals, and \
            writes an admin token with the address and CA file to <data-dir>/dev.env (`source` it \
            in the shell of the client). Development only: the passphrase that protects the keys \
            is stored next to them.\n\n\
            With --config it reads a TOML file (listen_addr, data_dir, [tls], [audit], \
            max_body_bytes, mlock) and starts sealed and, the first time, uninitialized: run \
            `cryptainer operator init`, then `cryptainer operator unseal`."
    )]
    Server(ServerArgs),
    /// Initialize, unseal and seal the server; rotate its root key.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Show whether the server is initialized and sealed, and the unseal progress.
    ///
    /// Needs no token.
    Status,
    /// Create, list, show, rotate, revoke and destroy keys; read key material.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Create, list, show, read, rotate and destroy secrets (passwords, API
    /// keys). Values are read from a file or standard input, never from an
    /// argument.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Create, list, show and remove encrypted volumes, as the key manager sees
    /// them: size, holder, lease.
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Create, list and revoke API tokens (admin).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Read and verify the tamper-evident audit log (auditor or admin for all tenants).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Join tokens and the node inventory: list, show, decommission (admin).
    #[command(subcommand)]
    Node(NodeCommand),
    /// Workload policies: which containers may open which volumes and receive
    /// which secrets (admin, operator; auditors list and check).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The built-in CA: rotate it (admin of all tenants).
    #[command(subcommand)]
    Ca(CaCommand),
    /// The node agent: join a server, keep the node's identity fresh.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// KMIP clients: issue their certificates (admin).
    #[command(subcommand)]
    Kmip(KmipCommand),
}

/// A size with a binary unit (`20G`), as volume sizes are written.
fn parse_size(text: &str) -> Result<u64, String> {
    plugin::options::parse_size(text).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cryptainer").chain(args.iter().copied()))
    }

    #[test]
    fn server_needs_exactly_one_mode() {
        assert!(parse(&["server"]).is_err());
        assert!(parse(&["server", "--dev", "--config", "s.toml"]).is_err());
        assert!(parse(&["server", "--dev", "--listen", "127.0.0.1:0"]).is_ok());
    }

    #[test]
    fn labels_and_durations_are_checked_while_parsing() {
        let error = parse(&["key", "create", "db", "--label", "app"])
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("label 'app' has no '='"), "{error}");
        let error = parse(&["token", "create", "--role", "operator", "--ttl", "24"])
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("'24' has a number without a unit"),
            "{error}"
        );
    }

    #[test]
    fn passphrase_init_excludes_shares() {
        assert!(parse(&["operator", "init", "--passphrase-stdin", "--shares", "3"]).is_err());
        assert!(parse(&["operator", "init", "--passphrase-stdin"]).is_ok());
    }

    #[test]
    fn seal_migrate_takes_a_target_or_completes_or_cancels() {
        assert!(parse(&["operator", "seal"]).is_ok());
        assert!(parse(&["operator", "seal", "migrate"]).is_err());
        assert!(parse(&["operator", "seal", "migrate", "--to", "pkcs11"]).is_ok());
        assert!(parse(&["operator", "seal", "migrate", "--to", "hsm"]).is_err());
        assert!(parse(&["operator", "seal", "migrate", "--complete"]).is_ok());
        assert!(parse(&["operator", "seal", "migrate", "--complete", "--to", "tpm2"]).is_err());
        assert!(parse(&["operator", "seal", "migrate", "--cancel", "--shares", "3"]).is_err());
        let both = [
            "operator",
            "init",
            "--recovery-shares",
            "5",
            "--passphrase-stdin",
        ];
        assert!(parse(&both).is_err());
    }

    #[test]
    fn global_flags_go_after_the_subcommand_too() {
        let cli = parse(&["key", "list", "--json", "--addr", "https://h:1"]);
        assert!(matches!(
            cli,
            Ok(Cli {
                global: GlobalArgs { json: true, .. },
                ..
            })
        ));
    }
}
