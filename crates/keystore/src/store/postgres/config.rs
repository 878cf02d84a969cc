//! The PostgreSQL storage URL: what Cryptainer accepts of libpq's
//! `postgres://user@host:port/database?...` and how it reaches the database.
//!
//! TLS is rustls, checked against the CA file given as `sslrootcert`:
//!
//! | `sslmode` | meaning here |
//! |---|---|
//! | `verify-full` | TLS; the certificate chains to `sslrootcert` and names the host |
//! | `verify-ca` | TLS; the certificate chains to `sslrootcert` (any name) |
//! | `require` | as `verify-ca` when `sslrootcert` is given (as libpq does), else refused |
//! | `disable` | no TLS: only to a loopback address or a Unix socket |
//! | absent | `disable` to a loopback address or a Unix socket, else refused |
//!
//! `prefer` and `allow` are refused: a key manager never lets a network
//! attacker downgrade it to plaintext, nor talks to a database whose
//! certificate it did not check.

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};

use super::tls::{RustlsConnector, Verification};
use crate::store::StoreError;

/// How long establishing a connection may take before the database counts as
/// out of reach.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How TLS is used for the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TlsMode {
    /// Plaintext (loopback and Unix sockets only).
    Disabled,
    /// TLS checked against the CA file.
    Verified {
        /// `sslrootcert`.
        root_cert: PathBuf,
        /// Whether the certificate must name the host.
        check_name: bool,
    },
}

/// What a storage URL says.
pub(super) struct DatabaseConfig {
    /// The driver's configuration (TLS settings taken out).
    pub(super) driver: tokio_postgres::Config,
    /// How TLS is used.
    pub(super) tls: TlsMode,
}

impl DatabaseConfig {
    /// Parses `url` (`postgres://` or `postgresql://`).
    pub(super) fn parse(url: &str) -> Result<DatabaseConfig, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Config(
                "a PostgreSQL storage URL starts with postgres:// or postgresql://".to_owned(),
            ));
        }
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, query),
            None => (url, ""),
        };
        let mut sslmode: Option<String> = None;
        let mut root_cert: Option<PathBuf> = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "sslmode" => sslmode = Some(decode(value)?),
                "sslrootcert" => root_cert = Some(PathBuf::from(decode(value)?)),
                "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslnegotiation" => {
                    return Err(StoreError::Config(format!(
                        "the storage URL parameter {name} is not supported; Cryptainer \
                         authenticates to PostgreSQL with a password or trust, over TLS \
                         checked against sslrootcert"
                    )));
                }
                _ => kept.push(pair),
            }
        }
        let rebuilt = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut driver = tokio_postgres::Config::from_str(&rebuilt).map_err(|error| {
            StoreError::Config(format!("the PostgreSQL storage URL is not valid: {error}"))
        })?;
        let local = driver.get_hosts().iter().all(is_local);
        let tls = match (sslmode.as_deref(), root_cert) {
            (Some("verify-full"), Some(root_cert)) => TlsMode::Verified {
                root_cert,
                check_name: true,
            },
            (Some("verify-ca" | "require"), Some(root_cert)) => TlsMode::Verified {
                root_cert,
                check_name: false,
            },
            (Some(mode @ ("verify-full" | "verify-ca" | "require")), None) => {
                return Err(StoreError::Config(format!(
                    "sslmode={mode} needs sslrootcert=<CA file> to check the database's \
                     certificate against"
                )));
            }
            (Some("disable") | None, _) if local => TlsMode::Disabled,
            (Some("disable") | None, _) => {
                return Err(StoreError::Config(
                    "the database is not on this machine: give sslmode=verify-full and \
                     sslrootcert=<CA file>, so that keys never travel to it in plaintext"
                        .to_owned(),
                ));
            }
            (Some(other), _) => {
                return Err(StoreError::Config(format!(
                    "sslmode={other} is refused: it lets a network attacker downgrade the \
                     connection to plaintext or go unchecked; use verify-full with sslrootcert"
                )));
            }
        };
        driver.ssl_mode(match tls {
            TlsMode::Disabled => SslMode::Disable,
            TlsMode::Verified { .. } => SslMode::Require,
        });
        driver.connect_timeout(CONNECT_TIMEOUT);
        // A peer that vanishes without closing (a cut cable) is noticed by
        // keepalives; writes that go unanswered by the user timeout.
        driver.keepalives(true);
        driver.keepalives_idle(Duration::from_secs(10));
        driver.keepalives_interval(Duration::from_secs(2));
        driver.keepalives_retries(3);
        driver.tcp_user_timeout(Duration::from_secs(10));
        if driver.get_application_name().is_none() {
            driver.application_name("cryptainer");
        }
        Ok(DatabaseConfig { driver, tls })
    }

    /// The TLS connector for this configuration.
    pub(super) fn connector(&self) -> Result<RustlsConnector, StoreError> {
        match &self.tls {
            TlsMode::Disabled => Ok(RustlsConnector::disabled()),
            TlsMode::Verified {
                root_cert,
                check_name,
            } => {
                let pem = std::fs::read(root_cert).map_err(|error| {
                    StoreError::Config(format!(
                        "cannot read sslrootcert {}: {error}",
                        root_cert.display()
                    ))
                })?;
                let verification = if *check_name {
                    Verification::ChainAndName
                } else {
                    Verification::ChainOnly
                };
                RustlsConnector::new(&pem, verification).map_err(|error| {
                    StoreError::Config(format!(
                        "sslrootcert {} holds no usable CA certificate: {error}",
                        root_cert.display()
                    ))
                })
            }
        }
    }
}

/// Whether `host` is this machine: a Unix socket or a loopback address.
fn is_local(host: &Host) -> bool {
    match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok_and(|address| address.is_loopback())
        }
    }
}

/// Percent-decodes a URL parameter value.
fn decode(value: &str) -> Result<String, StoreError> {
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| StoreError::Config("a storage URL parameter is not UTF-8".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls_of(url: &str) -> Result<TlsMode, String> {
        DatabaseConfig::parse(url)
            .map(|config| config.tls)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn loopback_needs_no_tls_and_remote_hosts_need_verified_tls() {
        assert_eq!(
            tls_of("postgres://u@127.0.0.1:5432/db"),
            Ok(TlsMode::Disabled)
        );
        assert_eq!(
            tls_of("postgres://u@localhost/db?sslmode=disable"),
            Ok(TlsMode::Disabled)
        );
        assert!(
            tls_of("postgres://u@db1.example/db")
                .unwrap_err()
                .contains("verify-full")
        );
        assert!(
            tls_of("postgres://u@db1.example/db?sslmode=disable")
                .unwrap_err()
                .contains("plaintext")
        );
        assert_eq!(
            tls_of("postgres://u@db1.example/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem"),
            Ok(TlsMode::Verified {
                root_cert: PathBuf::from("/etc/ca.pem"),
                check_name: true
            })
        );
        assert_eq!(
            tls_of("postgresql://u@db1.example/db?sslrootcert=/ca.pem&sslmode=require"),
            Ok(TlsMode::Verified {
                root_cert: PathBuf::from("/ca.pem"),
                check_name: false
            })
        );
    }

    #[test]
    fn rejects_downgradable_and_unchecked_modes() {
        for url in [
            "postgres://u@db1.example/db?sslmode=prefer",
            "postgres://u@127.0.0.1/db?sslmode=allow",
            "postgres://u@db1.example/db?sslmode=verify-full",
            "postgres://u@db1.example/db?sslmode=require",
            "postgres://u@db1.example/db?sslmode=verify-full&sslrootcert=/ca&sslcert=/c",
            "mysql://u@db1/db",
        ] {
            assert!(tls_of(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn other_parameters_reach_the_driver() {
        let config =
            DatabaseConfig::parse("postgres://u@127.0.0.1:5433/keys?application_name=km1").unwrap();
        assert_eq!(config.driver.get_dbname(), Some("keys"));
        assert_eq!(config.driver.get_ports(), &[5433]);
        assert_eq!(config.driver.get_application_name(), Some("km1"));
    }
}
