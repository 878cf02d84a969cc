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

use keystore::KeystoreError;
use time::OffsetDateTime;

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
    /// The certificate chain (PEM), to check it against another bundle.
    cert_pem: String,
}

/// The server certificate as `GET /v1/ca/status` shows it.
pub use api::nodes::ServerCertificateStatus as ServerCertStatus;

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
                cert_pem: material.cert_chain_pem().to_owned(),
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

    /// Puts `certificate` (issued by the root `issuer`, hex fingerprint) and its
    /// key in the slot: the next handshake of each listener presents it.
    pub(crate) fn install(
        &self,
        certificate: &pki::IssuedCert,
        key_pem: &str,
        issuer: String,
    ) -> Result<(), pki::PkiError> {
        self.slot.replace(&certificate.cert_pem, key_pem)?;
        *self.issued.lock().unwrap_or_else(PoisonError::into_inner) = Issued {
            issuer,
            not_after: certificate.not_after,
            cert_pem: certificate.cert_pem.clone(),
        };
        Ok(())
    }

    /// Whether a root of `bundle_pem` issued the certificate in the slot:
    /// clients that trust that bundle accept it.
    pub(crate) fn issued_under(&self, bundle_pem: &str) -> bool {
        pki::issuing_root(&self.issued().cert_pem, bundle_pem).is_some()
    }

    /// The names it is issued for.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// Where replacements are written, if anywhere.
    pub(crate) fn tls_dir(&self) -> Option<&std::path::Path> {
        self.tls_dir.as_deref()
    }

    /// Which root issued the certificate in the slot (hex fingerprint; empty
    /// when no root of the bundle did), and when it expires.
    pub(crate) fn issued_by(&self) -> (String, OffsetDateTime) {
        let issued = self.issued();
        (issued.issuer, issued.not_after)
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

/// How often [`Identity::maintain_server_cert`](crate::identity::Identity::maintain_server_cert) checks: the re-issue batch interval, between 1 s and 60 s, so
/// the switch follows the last node's renewal closely.
pub fn check_interval(reissue_interval: Duration) -> Duration {
    reissue_interval.clamp(Duration::from_secs(1), MAX_CHECK_INTERVAL)
}
