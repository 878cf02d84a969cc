//! The command line: every command, flag, default and environment variable, with
//! the help text people read.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::duration::parse_duration;
use crate::labels::parse_label;

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
    Node(crate::node::NodeCommand),
    /// Workload policies: which containers may open which volumes and receive
    /// which secrets (admin, operator; auditors list and check).
    #[command(subcommand)]
    Policy(crate::policy_cmd::PolicyCommand),
    /// The built-in CA: rotate it (admin of all tenants).
    #[command(subcommand)]
    Ca(crate::ca::CaCommand),
    /// The node agent: join a server, keep the node's identity fresh.
    #[command(subcommand)]
    Agent(crate::agent::AgentCommand),
    /// KMIP clients: issue their certificates (admin).
    #[command(subcommand)]
    Kmip(crate::kmip::KmipCommand),
}

/// `cryptainer server`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("mode").required(true).args(["dev", "config"]))
)]
pub struct ServerArgs {
    /// Development mode: auto-initialize, auto-unseal, write <data-dir>/dev.env.
    /// Never in production.
    #[arg(long)]
    pub dev: bool,

    /// TOML configuration file of a production server.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8200, or listen_addr of --config].
    /// Port 0 picks a free port; dev.env names the one chosen.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Data directory: database, TLS material, dev.env [default: ./cryptainer-dev
    /// with --dev, or data_dir of --config].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Lifetime of node certificates, e.g. 24h [default: 24h, or nodes.cert_lifetime_secs
    /// of --config]. Under 1h is for tests only; at least 10s.
    #[arg(
        long,
        env = "CRYPTAINER_NODE_CERT_LIFETIME",
        value_parser = parse_duration,
        value_name = "DURATION"
    )]
    pub node_cert_lifetime: Option<Duration>,
    /// After `ca rotate`, how many nodes are told to renew per batch [default:
    /// 100, or nodes.reissue_batch of --config].
    #[arg(long, value_name = "N")]
    pub reissue_batch: Option<u32>,
    /// How long one re-issue batch lasts, e.g. 10s [default: 10s, or
    /// nodes.reissue_interval_secs of --config].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub reissue_interval: Option<Duration>,
    /// Address of the KMIP listener (mutual TLS) [default: 127.0.0.1:5696 with
    /// --dev, or kmip_listen of --config]. Port 0 picks a free port; dev.env
    /// names the one chosen.
    #[arg(long, value_name = "ADDR")]
    pub kmip_listen: Option<SocketAddr>,
}

/// `cryptainer operator ...`.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Initialize a new server: create its root key and print the unseal shares and
    /// the root token, ONCE.
    #[command(
        long_about = "Initialize a new server: create its root key and print the unseal shares (or \
        use a passphrase) and the root token. They are shown ONCE and cannot be recovered: hand \
        each share to a different person and store them apart from each other and from the \
        root token. Needs no token."
    )]
    Init(InitArgs),
    /// Give one unseal share (or the passphrase); repeat until the threshold is met.
    #[command(
        long_about = "Give one unseal share, or the passphrase with --passphrase. It is read from \
        the terminal without echo, or as one line from standard input when that is not a \
        terminal; never from an argument, which other users could see. Prints the progress, \
        e.g. \"2 of 3 shares\". Needs no token."
    )]
    Unseal(UnsealArgs),
    /// Seal the server: forget the root key until it is unsealed again (admin, all
    /// tenants).
    Seal,
    /// Make a new root key and re-wrap every tenant key under it (admin, all tenants).
    ///
    /// The unseal shares or passphrase stay the same.
    RotateRoot,
}

/// `cryptainer operator init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Number of unseal shares to make (Shamir seal), 1 to 32.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub shares: u8,

    /// Number of shares needed to unseal, 2 to --shares (1 only with a single share).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub threshold: u8,

    /// Seal with a passphrase instead of shares: read it from standard input (from
    /// the terminal without echo, asked twice, when standard input is a terminal).
    #[arg(long, conflicts_with_all = ["shares", "threshold"])]
    pub passphrase_stdin: bool,
}

/// `cryptainer operator unseal`.
#[derive(Debug, Args)]
pub struct UnsealArgs {
    /// Read the passphrase instead of a share (passphrase-sealed servers).
    #[arg(long)]
    pub passphrase: bool,

    /// Discard the shares given so far instead of giving one.
    #[arg(long, conflicts_with = "passphrase")]
    pub reset: bool,
}

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
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::Compromised => "compromised",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation_of_operation",
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

/// `cryptainer volume ...`.
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Pre-create a volume (operator); `docker volume create -d cryptainer`
    /// does the same from a host.
    Create {
        /// Name: 1 to 128 of [A-Za-z0-9._-], unique in its tenant.
        name: String,

        /// Size, for example 20G (binary units: K, M, G, T); 64M to 64T.
        #[arg(long, value_name = "SIZE", value_parser = parse_volume_size)]
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

fn parse_volume_size(text: &str) -> Result<u64, String> {
    plugin::options::parse_size(text).map_err(|error| error.to_string())
}

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
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
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

/// `cryptainer audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain and signed checkpoints.
    ///
    /// Exits 0 when the log is intact, 1 when a record was altered, removed or
    /// reordered, naming the first one.
    Verify,
    /// List audit records in order.
    List {
        /// Start after this sequence number.
        #[arg(long, default_value_t = 0, value_name = "SEQ")]
        after: u64,

        /// Most records to show, 1 to 1000.
        #[arg(long, default_value_t = 100, value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
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
