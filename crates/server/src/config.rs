//! Server configuration: one struct, read from a TOML file, overridable by flags.
//! Every default is the secure one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// Default HTTPS listen address: loopback only, so a fresh server is not reachable
/// from the network until the operator says so.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8200";

/// The SQLite key store's file in the data directory (its audit log is
/// `cryptainer.audit.db` beside it).
pub const DATABASE_FILE: &str = "cryptainer.db";

/// Default largest request body: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The server's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address of the HTTPS listener.
    #[serde(default = "default_listen")]
    pub listen_addr: SocketAddr,
    /// Where the database, the TLS material and `dev.env` live.
    pub data_dir: PathBuf,
    /// Development mode: initialize and unseal automatically (never in production).
    #[serde(default)]
    pub dev: bool,
    /// TLS settings.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Audit settings.
    #[serde(default)]
    pub audit: AuditConfig,
    /// Largest accepted request body in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Lock the process memory (mlockall) so keys never reach swap. A failure to
    /// lock is logged and the server still starts, unless `require_mlock` is set.
    #[serde(default = "default_true")]
    pub mlock: bool,
    /// Refuse to start when memory cannot be locked.
    #[serde(default)]
    pub require_mlock: bool,
    /// Address of the KMIP listener (TTLV over mutual TLS); none by default, and
    /// 127.0.0.1:5696 in development mode.
    #[serde(default)]
    pub kmip_listen: Option<SocketAddr>,
    /// Node identity settings.
    #[serde(default)]
    pub nodes: NodesConfig,
    /// Where the key store and the audit log live: absent (or `"sqlite"`),
    /// SQLite files in `data_dir`; `postgres://...`, a PostgreSQL database
    /// that several servers of a cluster share (docs/ha.md).
    #[serde(default)]
    pub storage: Storage,
    /// The seal that protects the root key (`[seal]`, see docs/seals.md); none
    /// means shares or a passphrase, chosen at `operator init`.
    #[serde(default)]
    pub seal: Option<seals::SealConfig>,
    /// The automatic seal a migration moves away from (`[previous_seal]`),
    /// kept while the root may still be sealed with it.
    #[serde(default)]
    pub previous_seal: Option<seals::SealConfig>,
    /// Longest wait between two attempts to reach an automatic seal's device
    /// at start, in seconds (the wait doubles from one second up to this).
    #[serde(default = "default_seal_retry_max")]
    pub seal_retry_max_secs: u64,
    /// How often an unsealed server checks that its seal's device still
    /// answers, in seconds.
    #[serde(default = "default_seal_check_interval")]
    pub seal_check_interval_secs: u64,
    /// Web console settings.
    #[serde(default)]
    pub console: ConsoleConfig,
}

/// Default longest wait between attempts to reach a seal's device.
pub const DEFAULT_SEAL_RETRY_MAX_SECS: u64 = 60;

/// Default interval of the seal device's health check.
pub const DEFAULT_SEAL_CHECK_INTERVAL_SECS: u64 = 30;

fn default_seal_retry_max() -> u64 {
    DEFAULT_SEAL_RETRY_MAX_SECS
}

fn default_seal_check_interval() -> u64 {
    DEFAULT_SEAL_CHECK_INTERVAL_SECS
}

/// Web console settings (served at `/ui/` on the HTTPS listener).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// How long a console session lasts, in seconds (default 1800; at most
    /// its token's own lifetime).
    #[serde(default = "default_console_session")]
    pub session_secs: u64,
    /// How long one live-update stream lasts before the browser reconnects,
    /// in seconds (default 300).
    #[serde(default = "default_event_stream")]
    pub event_stream_secs: u64,
}

impl Default for ConsoleConfig {
    fn default() -> ConsoleConfig {
        ConsoleConfig {
            session_secs: default_console_session(),
            event_stream_secs: default_event_stream(),
        }
    }
}

/// Where the state lives.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Storage {
    /// `cryptainer.db` and `cryptainer.audit.db` in the data directory.
    #[default]
    Sqlite,
    /// A PostgreSQL database, by URL (it may carry a password: never logged).
    Postgres(String),
}

impl TryFrom<String> for Storage {
    type Error = String;

    fn try_from(text: String) -> Result<Storage, String> {
        Storage::parse(&text)
    }
}

impl Storage {
    /// `sqlite`, or a `postgres://` / `postgresql://` URL.
    pub fn parse(text: &str) -> Result<Storage, String> {
        if text == "sqlite" {
            Ok(Storage::Sqlite)
        } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Storage::Postgres(text.to_owned()))
        } else {
            Err(format!(
                "storage must be \"sqlite\" or a postgres:// URL, not '{}'",
                redacted(text)
            ))
        }
    }
}

fn default_console_session() -> u64 {
    crate::console::DEFAULT_SESSION_SECS
}

fn default_event_stream() -> u64 {
    crate::console::DEFAULT_STREAM_SECS
}

impl std::fmt::Debug for Storage {
    /// The URL without its password.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storage::Sqlite => formatter.write_str("Sqlite"),
            Storage::Postgres(url) => write!(formatter, "Postgres({})", redacted(url)),
        }
    }
}

/// `url` with the password of its user part replaced, for logs and errors.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = match user.split_once(':') {
                Some((name, _password)) => format!("{name}:***"),
                None => user.to_owned(),
            };
            format!("{scheme}://{user}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// Default lifetime of a node certificate: 24 hours.
pub const DEFAULT_NODE_CERT_LIFETIME_SECS: u64 = 24 * 3600;

/// Lifetimes below this are for tests only: a warning is logged at start.
pub const RECOMMENDED_MIN_NODE_CERT_LIFETIME_SECS: u64 = 3600;

/// Shortest node certificate lifetime accepted at all (tests shorten the lifetime
/// to watch several renewals; nothing else should).
pub const MIN_NODE_CERT_LIFETIME_SECS: u64 = 10;

/// Node identity settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodesConfig {
    /// Lifetime of the certificates issued to nodes, in seconds (default 24 h).
    /// Values under 3600 are for tests only and log a warning; the minimum is 10.
    #[serde(default = "default_node_cert_lifetime")]
    pub cert_lifetime_secs: u64,
    /// After a CA rotation, how many nodes are told to renew per batch
    /// (default 100).
    #[serde(default = "default_reissue_batch")]
    pub reissue_batch: u32,
    /// How long one re-issue batch lasts, in seconds (default 10).
    #[serde(default = "default_reissue_interval")]
    pub reissue_interval_secs: u64,
}

impl Default for NodesConfig {
    fn default() -> NodesConfig {
        NodesConfig {
            cert_lifetime_secs: default_node_cert_lifetime(),
            reissue_batch: default_reissue_batch(),
            reissue_interval_secs: default_reissue_interval(),
        }
    }
}

fn default_reissue_batch() -> u32 {
    100
}

fn default_reissue_interval() -> u64 {
    10
}

fn default_node_cert_lifetime() -> u64 {
    DEFAULT_NODE_CERT_LIFETIME_SECS
}

/// TLS settings. Without `cert_file`, the server makes its own CA and server
/// certificate in `<data_dir>/tls` on first start.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain of the server (operator-supplied).
    pub cert_file: Option<PathBuf>,
    /// PEM private key of the server (operator-supplied).
    pub key_file: Option<PathBuf>,
    /// PEM CA certificate clients should trust (operator-supplied).
    pub ca_file: Option<PathBuf>,
    /// Extra DNS names or addresses for the generated server certificate.
    #[serde(default)]
    pub extra_names: Vec<String>,
}

/// Audit settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Sign the chain head after this many records.
    #[serde(default = "default_checkpoint_records")]
    pub checkpoint_every_records: u64,
    /// Sign the chain head at least this often, in seconds, while records arrive.
    #[serde(default = "default_checkpoint_secs")]
    pub checkpoint_every_secs: u64,
}

impl Default for AuditConfig {
    fn default() -> AuditConfig {
        AuditConfig {
            checkpoint_every_records: default_checkpoint_records(),
            checkpoint_every_secs: default_checkpoint_secs(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8200))
}

fn default_max_body() -> usize {
    DEFAULT_MAX_BODY_BYTES
}

fn default_true() -> bool {
    true
}

fn default_checkpoint_records() -> u64 {
    1000
}

fn default_checkpoint_secs() -> u64 {
    60
}

impl ServerConfig {
    /// The development configuration for `data_dir`.
    pub fn dev(data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            listen_addr: default_listen(),
            data_dir,
            dev: true,
            tls: TlsConfig::default(),
            audit: AuditConfig::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            mlock: true,
            require_mlock: false,
            nodes: NodesConfig::default(),
            console: ConsoleConfig::default(),
            storage: Storage::Sqlite,
            kmip_listen: Some(SocketAddr::from((
                [127, 0, 0, 1],
                crate::kmip_listener::DEFAULT_KMIP_PORT,
            ))),
            seal: None,
            previous_seal: None,
            seal_retry_max_secs: DEFAULT_SEAL_RETRY_MAX_SECS,
            seal_check_interval_secs: DEFAULT_SEAL_CHECK_INTERVAL_SECS,
        }
    }

    /// Reads a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<ServerConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Config {
            path: path.to_path_buf(),
            detail: error.to_string(),
        })?;
        let config: ServerConfig = toml::from_str(&text).map_err(|error| Error::Config {
            path: path.to_path_buf(),
            detail: error.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values a type cannot.
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_body_bytes < 1024 || self.max_body_bytes > 16 * 1024 * 1024 {
            return Err(Error::InvalidConfig(format!(
                "max_body_bytes is {}; give a value between 1024 and 16777216",
                self.max_body_bytes
            )));
        }
        if self.audit.checkpoint_every_records == 0 || self.audit.checkpoint_every_secs == 0 {
            return Err(Error::InvalidConfig(
                "audit checkpoint intervals must be at least 1".to_owned(),
            ));
        }
        if self.nodes.cert_lifetime_secs < MIN_NODE_CERT_LIFETIME_SECS
            || self.nodes.cert_lifetime_secs > 366 * 24 * 3600
        {
            return Err(Error::InvalidConfig(format!(
                "nodes.cert_lifetime_secs is {}; give a value between 3600 and 31622400 ({MIN_NODE_CERT_LIFETIME_SECS} at the least, for tests)",
                self.nodes.cert_lifetime_secs
            )));
        }
        if self.nodes.reissue_batch == 0
            || self.nodes.reissue_interval_secs == 0
            || self.nodes.reissue_interval_secs > 3600
        {
            return Err(Error::InvalidConfig(format!(
                "nodes.reissue_batch is {} and nodes.reissue_interval_secs is {}; give a batch of at least 1 and an interval between 1 and 3600 seconds",
                self.nodes.reissue_batch, self.nodes.reissue_interval_secs
            )));
        }
        if !(60..=24 * 3600).contains(&self.console.session_secs)
            || !(1..=3600).contains(&self.console.event_stream_secs)
        {
            return Err(Error::InvalidConfig(format!(
                "console.session_secs is {} and console.event_stream_secs is {}; give a session of 60 to 86400 seconds and a stream of 1 to 3600",
                self.console.session_secs, self.console.event_stream_secs
            )));
        }
        if !(1..=3600).contains(&self.seal_retry_max_secs)
            || !(1..=3600).contains(&self.seal_check_interval_secs)
        {
            return Err(Error::InvalidConfig(format!(
                "seal_retry_max_secs is {} and seal_check_interval_secs is {}; give values between 1 and 3600",
                self.seal_retry_max_secs, self.seal_check_interval_secs
            )));
        }
        if let Some(previous) = &self.previous_seal {
            let automatic = previous.kind().is_automatic();
            let distinct = self
                .seal
                .as_ref()
                .is_none_or(|seal| seal.kind() != previous.kind());
            if !automatic || !distinct {
                return Err(Error::InvalidConfig(format!(
                    "[previous_seal] is a {} seal; it must be an automatic seal (pkcs11, tpm2, kmip) of another kind than [seal]",
                    previous.kind()
                )));
            }
        }
        match (&self.tls.cert_file, &self.tls.key_file) {
            (Some(_), None) | (None, Some(_)) => Err(Error::InvalidConfig(
                "tls.cert_file and tls.key_file go together; give both or neither".to_owned(),
            )),
            _ => Ok(()),
        }
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// The directory of generated TLS material.
    pub fn tls_dir(&self) -> PathBuf {
        self.data_dir.join("tls")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServerConfig, String> {
        let config: ServerConfig = toml::from_str(text).map_err(|error| error.to_string())?;
        config.validate().map_err(|error| error.to_string())?;
        Ok(config)
    }

    #[test]
    fn minimal_file_gets_secure_defaults() {
        let config = parse("data_dir = \"/var/lib/cryptainer\"").unwrap();
        assert_eq!(config.listen_addr.to_string(), DEFAULT_LISTEN);
        assert!(!config.dev);
        assert!(config.mlock);
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(
            parse("data_dir = \"x\"\nlisten = \"1\"")
                .unwrap_err()
                .contains("unknown field")
        );
        assert!(
            parse("data_dir = \"x\"\nmax_body_bytes = 1")
                .unwrap_err()
                .contains("max_body_bytes")
        );
        assert!(
            parse("data_dir = \"x\"\n[tls]\ncert_file = \"c.pem\"")
                .unwrap_err()
                .contains("go together")
        );
        assert!(parse("listen_addr = \"nowhere\"\ndata_dir = \"x\"").is_err());
        assert!(
            parse("data_dir = \"x\"\nstorage = \"mysql://db\"")
                .unwrap_err()
                .contains("postgres://")
        );
    }

    #[test]
    fn storage_is_sqlite_unless_a_postgres_url_is_given() {
        assert_eq!(parse("data_dir = \"x\"").unwrap().storage, Storage::Sqlite);
        let config = parse(
            "data_dir = \"x\"\nstorage = \"postgres://km:s3cret@db1:5432/keys?sslmode=verify-full\"",
        )
        .unwrap();
        assert!(matches!(&config.storage, Storage::Postgres(url) if url.contains("s3cret")));
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("km:***@db1:5432/keys"), "{shown}");
    }

    #[test]
    fn redacted_urls_keep_everything_but_the_password() {
        assert_eq!(
            redacted("postgres://u:p@h/d?sslmode=disable"),
            "postgres://u:***@h/d?sslmode=disable"
        );
        assert_eq!(redacted("postgres://u@h:5432/d"), "postgres://u@h:5432/d");
        assert_eq!(redacted("postgres://h/d"), "postgres://h/d");
    }
}
