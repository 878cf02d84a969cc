//! The server's node identity state: the CA that signs node certificates,
//! the bundle nodes pin, the deny list and the client certificate verifier,
//! the lifetime of node certificates, the re-issue batches after a CA
//! rotation, and the server's own certificate (docs/identity.md). The routes
//! that use it are in `routes::{nodes, join_tokens, ca}`.

use std::path::{Path as FilePath, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use keystore::model::{NodeRow, NodeState};
use keystore::{Keystore, KeystoreError};
use time::OffsetDateTime;

use crate::error::{ApiError, Code};
use crate::peer::{DenyList, NodeClientVerifier};
use crate::server_cert::{CheckError, Replaced, ServerCert};

/// File in the TLS directory holding the CA bundle nodes trust, after a rotation:
/// the current root and the one before it.
pub const CA_BUNDLE_FILE: &str = "ca-bundle.pem";

/// File in the TLS directory holding the last rotation's cross-signed certificate
/// (the new root signed by the old).
pub const CA_CROSS_FILE: &str = "ca-cross.pem";

/// The bundle nodes trust: `ca-bundle.pem` when a rotation wrote one that holds the
/// current CA, else the current CA alone.
pub fn load_bundle(tls_dir: &FilePath, ca_pem: &str) -> String {
    match std::fs::read_to_string(tls_dir.join(CA_BUNDLE_FILE)) {
        Ok(bundle) if bundle.contains(ca_pem.trim()) => bundle,
        Ok(_) => {
            tracing::warn!(
                "ca-bundle.pem does not hold the current CA (an interrupted rotation?); serving the CA alone"
            );
            ca_pem.to_owned()
        }
        Err(_) => ca_pem.to_owned(),
    }
}

/// What [`Identity::new`] needs.
pub struct IdentitySetup {
    /// The CA that signs node certificates.
    pub ca: pki::CertificateAuthority,
    /// The bundle nodes pin (PEM), holding `ca`'s certificate.
    pub bundle_pem: String,
    /// The deny list the TLS verifier consults.
    pub deny: Arc<DenyList>,
    /// The TLS verifier, whose roots a CA rotation replaces.
    pub verifier: Arc<NodeClientVerifier>,
    /// Lifetime of node certificates.
    pub cert_lifetime: Duration,
    /// Where a CA rotation persists the new CA; `None` keeps it in memory only.
    pub tls_dir: Option<PathBuf>,
    /// After a CA rotation, at most this many nodes are told to renew per
    /// `reissue_interval`: a batch.
    pub reissue_batch: u32,
    /// How long one batch of re-issues lasts.
    pub reissue_interval: Duration,
    /// The server's own certificate, which both listeners present.
    pub server_cert: ServerCert,
}

/// The re-issue batches after a CA rotation: at most `size` renew hints per
/// `interval`, so that thousands of nodes do not all renew in the same second.
struct ReissueBatches {
    size: u32,
    interval: Duration,
    window: Mutex<(std::time::Instant, u32)>,
}

impl ReissueBatches {
    /// Whether one more node may be told to renew now.
    fn admit(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let now = std::time::Instant::now();
        if now.duration_since(window.0) >= self.interval {
            *window = (now, 0);
        }
        if window.1 < self.size {
            window.1 += 1;
            true
        } else {
            false
        }
    }
}

/// The server's node identity state: the CA that signs node certificates, the
/// bundle nodes pin, the deny list, and the lifetime of node certificates.
pub struct Identity {
    ca: RwLock<pki::CertificateAuthority>,
    bundle_pem: RwLock<String>,
    deny: Arc<DenyList>,
    verifier: Arc<NodeClientVerifier>,
    cert_lifetime: Duration,
    tls_dir: Option<PathBuf>,
    /// Serializes joins, so that two joins cannot both take a join token's last use.
    join_lock: Mutex<()>,
    reissue: ReissueBatches,
    server_cert: ServerCert,
}

impl Identity {
    /// Node identity as `setup` describes.
    pub fn new(setup: IdentitySetup) -> Identity {
        Identity {
            ca: RwLock::new(setup.ca),
            bundle_pem: RwLock::new(setup.bundle_pem),
            deny: setup.deny,
            verifier: setup.verifier,
            cert_lifetime: setup.cert_lifetime,
            tls_dir: setup.tls_dir,
            join_lock: Mutex::new(()),
            reissue: ReissueBatches {
                size: setup.reissue_batch.max(1),
                interval: setup.reissue_interval,
                window: Mutex::new((std::time::Instant::now(), 0)),
            },
            server_cert: setup.server_cert,
        }
    }

    /// The server's own certificate.
    pub fn server_cert(&self) -> &ServerCert {
        &self.server_cert
    }

    /// How often the server certificate is checked for replacement.
    pub fn server_cert_check_interval(&self) -> Duration {
        crate::server_cert::check_interval(self.reissue.interval)
    }

    /// Issues a server certificate for `names` with the current CA, written to `dir`
    /// when given; returns it, its key and the issuing root's fingerprint (hex).
    pub(crate) fn issue_server_cert(
        &self,
        names: &[String],
        dir: Option<&FilePath>,
    ) -> Result<(pki::IssuedCert, zeroize::Zeroizing<String>, String), pki::PkiError> {
        let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
        let (issued, key_pem) = match dir {
            Some(dir) => pki::reissue_server_cert(dir, &ca, names)?,
            None => ca.issue_server_cert_and_key(names, pki::SERVER_CERT_VALIDITY)?,
        };
        Ok((issued, key_pem, hex::encode(ca.fingerprint_sha256())))
    }

    /// SHA-256 (hex) of the current CA certificate: the issuer of every node
    /// certificate signed from now on.
    pub fn ca_fingerprint_hex(&self) -> String {
        hex::encode(
            self.ca
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .fingerprint_sha256(),
        )
    }

    /// SHA-256 of the bundle, hex: what join tokens carry.
    pub fn bundle_digest_hex(&self) -> String {
        hex::encode(pki::bundle_digest(self.bundle_pem().as_bytes()))
    }

    /// The CA bundle exactly as served at `GET /v1/ca`.
    pub fn bundle_pem(&self) -> String {
        self.bundle_pem
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The deny list the TLS verifier consults.
    pub fn deny_list(&self) -> &Arc<DenyList> {
        &self.deny
    }

    /// Reads the deny list again from the store; a failure is logged (the
    /// request check reads the inventory anyway, so a node decommissioned
    /// elsewhere is refused on every request meanwhile).
    pub fn reload_deny_list(&self, keystore: &Keystore) {
        if let Err(error) = self.deny.reload(keystore) {
            tracing::warn!(%error, "could not read the deny list again; retrying at the next change");
        }
    }

    /// The client certificate verifier of the HTTPS listener. Other TLS listeners
    /// (KMIP) should use this same verifier, so that a decommission and a CA rotation
    /// reach them at the same instant.
    pub fn client_verifier(&self) -> Arc<NodeClientVerifier> {
        Arc::clone(&self.verifier)
    }

    /// Signs a client's `csr_pem` (a KMIP client) with the current CA for
    /// `identity`; returns the certificate and the bundle clients trust.
    pub fn sign_client_csr(
        &self,
        csr_pem: &str,
        identity: &pki::ClientIdentity,
        validity: Duration,
    ) -> Result<(pki::IssuedCert, String), pki::PkiError> {
        let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
        let issued = ca.sign_csr(csr_pem, identity, validity)?;
        Ok((issued, self.bundle_pem()))
    }

    /// Signs `csr_pem` for `node`, ignoring the CSR's subject, and records the
    /// new certificate (serial, expiry, issuer) in `node`.
    pub(crate) fn sign(
        &self,
        csr_pem: &str,
        node: &mut NodeRow,
    ) -> Result<pki::IssuedCert, ApiError> {
        let identity = pki::ClientIdentity::new(node.name.clone())
            .with_node_id(node.id.clone())
            .with_tenant(node.tenant.clone())
            .with_role(node.role.as_str());
        let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
        let certificate = ca
            .sign_csr(csr_pem, &identity, self.cert_lifetime)
            .map_err(csr_error)?;
        node.cert_serial = certificate.serial_hex.clone();
        node.cert_expires_at = certificate.not_after;
        node.issuer = hex::encode(ca.fingerprint_sha256());
        Ok(certificate)
    }

    /// Holds joins one at a time while the guard lives, so that two joins
    /// cannot both take a join token's last use.
    pub(crate) fn serialize_join(&self) -> std::sync::MutexGuard<'_, ()> {
        self.join_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether one more node may be told to renew now (after a CA rotation,
    /// at most a batch per interval).
    pub(crate) fn admit_reissue(&self) -> bool {
        self.reissue.admit()
    }

    /// Rotates the CA: a new root, cross-signed by the old one, and a bundle
    /// holding both (new first), written to the TLS directory (when there is
    /// one) before anything in memory changes; then the verifier trusts the
    /// bundle and the new root signs from now on. Returns the bundle.
    pub(crate) fn rotate_ca(&self) -> Result<String, pki::PkiError> {
        let mut ca = self.ca.write().unwrap_or_else(PoisonError::into_inner);
        let stamp = OffsetDateTime::now_utc().unix_timestamp();
        let new_ca = pki::CertificateAuthority::generate(
            &format!("{} {stamp}", pki::CA_COMMON_NAME),
            pki::CA_VALIDITY,
        )?;
        let cross = ca.cross_sign(&new_ca)?;
        let bundle = format!("{}{}", new_ca.cert_pem(), ca.cert_pem());
        if let Some(dir) = &self.tls_dir {
            // The bundle first: a crash before the key and certificate are replaced
            // leaves the old CA in use and a bundle that start-up ignores.
            pki::write_public_pem(&dir.join(CA_BUNDLE_FILE), &bundle)?;
            pki::write_public_pem(&dir.join(CA_CROSS_FILE), &cross)?;
            pki::write_secret_pem(&dir.join(pki::CA_KEY_FILE), &new_ca.key_pem_secret())?;
            // ca.pem holds the whole bundle, new root first: start-up loads the first
            // certificate as the CA, and clients that trust ca.pem (CRYPTAINER_CACERT)
            // accept the server's certificate whichever root issued it.
            pki::write_public_pem(&dir.join(pki::CA_CERT_FILE), &bundle)?;
        }
        self.verifier.set_roots(&bundle)?;
        *self
            .bundle_pem
            .write()
            .unwrap_or_else(PoisonError::into_inner) = bundle.clone();
        *ca = new_ca;
        drop(ca);
        Ok(bundle)
    }

    /// Replaces the server certificate when it is due (see `server_cert`); says
    /// why it did, or `None` when nothing was due.
    pub fn check_server_cert(&self, keystore: &Keystore) -> Result<Option<Replaced>, CheckError> {
        let current = self.ca_fingerprint_hex();
        let (issuer, not_after) = self.server_cert.issued_by();
        let renew_before =
            time::Duration::try_from(pki::SERVER_CERT_RENEW_BEFORE).unwrap_or(time::Duration::ZERO);
        let reason = if not_after - OffsetDateTime::now_utc() < renew_before {
            Replaced::Renewed
        } else if issuer != current {
            let pending =
                pending_nodes(keystore, &current, |_| true).map_err(CheckError::Inventory)?;
            if !pending.pending.is_empty() {
                return Ok(None);
            }
            Replaced::MovedToCurrentRoot
        } else {
            return Ok(None);
        };
        let server_cert = &self.server_cert;
        let (certificate, key_pem, issuer) = self
            .issue_server_cert(server_cert.names(), server_cert.tls_dir())
            .map_err(CheckError::Pki)?;
        server_cert
            .install(&certificate, &key_pem, issuer)
            .map_err(CheckError::Pki)?;
        Ok(Some(reason))
    }

    /// Checks the server certificate every `every`, for the server's lifetime.
    pub async fn maintain_server_cert(
        identity: Arc<Identity>,
        keystore: Arc<Keystore>,
        every: Duration,
    ) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let identity = Arc::clone(&identity);
            let keystore = Arc::clone(&keystore);
            let checked =
                tokio::task::spawn_blocking(move || identity.check_server_cert(&keystore)).await;
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
}

/// Maps a CSR refusal to a clear 400; anything else is the server's failure.
pub(crate) fn csr_error(error: pki::PkiError) -> ApiError {
    match error {
        pki::PkiError::WeakCsrKey { .. }
        | pki::PkiError::InvalidCsr { .. }
        | pki::PkiError::MalformedCsr { .. }
        | pki::PkiError::CsrSignature { .. }
        | pki::PkiError::MissingPem { .. }
        | pki::PkiError::NotPem { .. } => ApiError::bad_request(format!(
            "the certificate signing request is refused: {error}"
        )),
        error => {
            tracing::error!(%error, "could not sign a node certificate");
            ApiError::new(Code::Internal, "the server could not sign the certificate")
        }
    }
}

/// The active nodes (with a valid certificate) of the tenants `allows` admits, and
/// those among them whose certificate a root other than `current` issued.
pub(crate) struct PendingNodes {
    pub(crate) total: usize,
    pub(crate) pending: Vec<String>,
}

/// Counts the active nodes of the tenants `allows` admits, and lists those still
/// holding a certificate from a root other than `current` (hex fingerprint).
pub(crate) fn pending_nodes(
    keystore: &Keystore,
    current: &str,
    allows: impl Fn(&str) -> bool,
) -> Result<PendingNodes, KeystoreError> {
    let now = OffsetDateTime::now_utc();
    let mut nodes = PendingNodes {
        total: 0,
        pending: Vec::new(),
    };
    for node in keystore.nodes()? {
        if !allows(&node.tenant) || node.state != NodeState::Active || node.cert_expires_at <= now {
            continue;
        }
        nodes.total += 1;
        if node.issuer != current {
            nodes.pending.push(node.id);
        }
    }
    Ok(nodes)
}
