//! The server's own certificate under the built-in CA, replaced while the server runs.
//!
//! Both listeners (HTTPS and KMIP) present the certificate held in one
//! [`pki::ServerCertSlot`]; a replacement reaches the next handshake of each, and
//! established connections keep theirs. It is replaced, by the current root and for the
//! same names, when:
//!
//! * a previous root issued it (a CA rotation happened) and every active node now holds
//!   a certificate from the current root, so every node trusts it (nodes that have not
//!   renewed yet trust only the old root, so the switch waits for them);
//! * it expires within [`pki::SERVER_CERT_RENEW_BEFORE`] (then at once, whoever is
//!   pending: an expired certificate would fail everyone).
//!
//! The new certificate and key are written to the TLS directory first, so a restart
//! starts with them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use keystore::{Keystore, KeystoreError};
use serde::Serialize;
use time::OffsetDateTime;

use crate::nodes::Identity;

/// Most time between two checks of the server certificate.
const MAX_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// The server certificate in use and what is known of it.
pub struct ServerCert {
    slot: Arc<pki::ServerCertSlot>,
    names: Vec<String>,
    tls_dir: Option<PathBuf>,
    issued: Mutex<Issued>,
}

/// Which root issued the certificate in the slot, and until when it is valid.
#[derive(Clone)]
struct Issued {
    issuer: String,
    not_after: OffsetDateTime,
}

/// The server certificate as `GET /v1/ca/status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ServerCertStatus {
    /// SHA-256 (hex) of the root that issued it; empty when no root of the bundle did.
    pub issuer: String,
    /// Whether the current root issued it.
    pub current_root: bool,
    /// When it expires (RFC 3339).
    pub not_after: String,
}

/// Why the certificate was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// A previous root issued it and every active node trusts the current root.
    MovedToCurrentRoot,
    /// It was about to expire.
    Renewed,
}

impl ServerCert {
    /// The certificate of `material` (built-in CA), issued for `names`; `bundle_pem`
    /// holds the roots that may have issued it. `tls_dir` receives replacements.
    pub fn new(
        material: &pki::ServerTlsMaterial,
        bundle_pem: &str,
        names: Vec<String>,
        tls_dir: Option<PathBuf>,
    ) -> Result<ServerCert, pki::PkiError> {
        let slot = Arc::new(pki::ServerCertSlot::new(
            material.cert_chain_pem(),
            material.key_pem_secret(),
        )?);
        let issuer = pki::issuing_root(material.cert_chain_pem(), bundle_pem)
            .map(|(issuer, _)| hex::encode(issuer))
            .unwrap_or_default();
        Ok(ServerCert {
            slot,
            names,
            tls_dir,
            issued: Mutex::new(Issued {
                issuer,
                not_after: material.server_not_after(),
            }),
        })
    }

    /// The slot both listeners present.
    pub fn slot(&self) -> Arc<pki::ServerCertSlot> {
        Arc::clone(&self.slot)
    }

    /// The certificate as `ca status` shows it, against the current root `current`.
    pub fn status(&self, current: &str) -> ServerCertStatus {
        let issued = self.issued();
        ServerCertStatus {
            current_root: issued.issuer == current,
            issuer: issued.issuer,
            not_after: issued
                .not_after
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }

    fn issued(&self) -> Issued {
        self.issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the certificate when it is due (see the module documentation); says
    /// why it did, or `None` when nothing was due.
    pub fn check(
        &self,
        identity: &Identity,
        keystore: &Keystore,
    ) -> Result<Option<Replaced>, CheckError> {
        let current = identity.ca_fingerprint_hex();
        let issued = self.issued();
        let renew_before =
            time::Duration::try_from(pki::SERVER_CERT_RENEW_BEFORE).unwrap_or(time::Duration::ZERO);
        let reason = if issued.not_after - OffsetDateTime::now_utc() < renew_before {
            Replaced::Renewed
        } else if issued.issuer != current {
            let pending = crate::nodes::pending_nodes(keystore, &current, |_| true)
                .map_err(CheckError::Inventory)?;
            if !pending.pending.is_empty() {
                return Ok(None);
            }
            Replaced::MovedToCurrentRoot
        } else {
            return Ok(None);
        };
        let (certificate, key_pem, issuer) = identity
            .issue_server_cert(&self.names, self.tls_dir.as_deref())
            .map_err(CheckError::Pki)?;
        self.slot
            .replace(&certificate.cert_pem, &key_pem)
            .map_err(CheckError::Pki)?;
        *self.issued.lock().unwrap_or_else(PoisonError::into_inner) = Issued {
            issuer,
            not_after: certificate.not_after,
        };
        Ok(Some(reason))
    }
}

/// Why a check of the server certificate failed (it is retried at the next one).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The node inventory could not be read.
    #[error("could not read the node inventory: {0}")]
    Inventory(KeystoreError),
    /// Issuing, writing or loading the new certificate failed.
    #[error("could not replace the server certificate: {0}")]
    Pki(pki::PkiError),
}

/// How often [`maintain`] checks: the re-issue batch interval, between 1 s and 60 s, so
/// the switch follows the last node's renewal closely.
pub fn check_interval(reissue_interval: Duration) -> Duration {
    reissue_interval.clamp(Duration::from_secs(1), MAX_CHECK_INTERVAL)
}

/// Checks the server certificate every `every`, for the server's lifetime.
pub async fn maintain(identity: Arc<Identity>, keystore: Arc<Keystore>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let identity = Arc::clone(&identity);
        let keystore = Arc::clone(&keystore);
        let checked =
            tokio::task::spawn_blocking(move || identity.server_cert().check(&identity, &keystore))
                .await;
        match checked {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(Replaced::MovedToCurrentRoot))) => tracing::info!(
                "every active node trusts the current root: the server certificate is now issued by it"
            ),
            Ok(Ok(Some(Replaced::Renewed))) => {
                tracing::info!("the server certificate was about to expire and was renewed");
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "server certificate check failed; retrying later");
            }
            Err(error) => tracing::warn!(%error, "server certificate check did not finish"),
        }
    }
}
