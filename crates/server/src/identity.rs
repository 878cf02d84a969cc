//! The server's node identity state: the CA that signs node certificates,
//! the bundle nodes pin, the deny list and the client certificate verifier,
//! the lifetime of node certificates, the re-issue batches after a CA
//! rotation, and the server's own certificate (docs/identity.md). The routes
//! that use it are in `routes::{nodes, join_tokens, ca}`.

use std::path::{Path as FilePath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use keystore::model::{NodeRow, NodeState};
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, KeystoreError, StoredCa};
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
    /// The generation of the CA the store keeps that this server uses (0:
    /// not compared yet). See [`Identity::sync_ca`].
    ca_generation: AtomicU64,
    /// Serializes [`Identity::sync_ca`] and [`Identity::rotate_ca`].
    ca_change: Mutex<()>,
}

/// What [`Identity::sync_ca`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaSync {
    /// This server already used the store's CA.
    Current,
    /// The store had no CA: this server's is now the cluster's.
    Stored,
    /// This server now uses the store's CA (a rotation on another server, a
    /// restored backup, a server that joined the cluster with a CA of its own).
    Adopted,
    /// The store's CA differs, but its key can be read only unsealed: the
    /// server keeps its own until it is unsealed.
    WaitingForUnseal,
}

/// Why the CA could not be synchronized or rotated.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The store failed or refused (another server rotated at the same time).
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// The stored CA, or a new one, could not be made into a CA.
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
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
            ca_generation: AtomicU64::new(0),
            ca_change: Mutex::new(()),
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

    /// Brings this server's CA in line with the one the store keeps for every
    /// server of the cluster: the store's CA is the truth, the TLS directory
    /// a copy. With none stored yet, this server's own becomes it (the first
    /// server of a cluster, or a store made before the CA was kept there);
    /// with another one stored, this server takes it (verifier roots, the
    /// bundle served and pinned by join tokens, the signing key, the files),
    /// and issues its own certificate again at once if no root of the new
    /// bundle issued it (a server that joined with a CA of its own, a restored
    /// backup). The store's CA key is read only unsealed.
    pub fn sync_ca(&self, keystore: &Keystore) -> Result<CaSync, CaError> {
        let _changing = self
            .ca_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.sync_ca_locked(keystore)
    }

    fn sync_ca_locked(&self, keystore: &Keystore) -> Result<CaSync, CaError> {
        let Some(stored) = keystore.stored_ca()? else {
            if !keystore.is_unsealed() {
                return Ok(CaSync::WaitingForUnseal);
            }
            let (public, key) = self.current_ca(1);
            match keystore.put_ca(&Caller::system(), "ca.store", &public, &key, None) {
                Ok(()) => {
                    self.ca_generation.store(1, Ordering::Release);
                    tracing::info!(
                        "this server's CA is now the one every server of the cluster uses"
                    );
                    return Ok(CaSync::Stored);
                }
                // Another server stored its own first: take that one.
                Err(KeystoreError::Store(keystore::StoreError::Stale { .. })) => {
                    return self.sync_ca_locked(keystore);
                }
                Err(error) => return Err(error.into()),
            }
        };
        if stored.generation == self.ca_generation.load(Ordering::Acquire) {
            return Ok(CaSync::Current);
        }
        let same = {
            let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
            ca.cert_pem().trim() == stored.cert_pem.trim()
                && self.bundle_pem().trim() == stored.bundle_pem.trim()
        };
        if same {
            // The TLS directory was copied from another server: the same CA.
            self.ca_generation
                .store(stored.generation, Ordering::Release);
            return Ok(CaSync::Current);
        }
        if !keystore.is_unsealed() {
            return Ok(CaSync::WaitingForUnseal);
        }
        let key = keystore.stored_ca_key(&stored)?;
        let key_pem = std::str::from_utf8(key.expose_secret()).map_err(|_| {
            KeystoreError::InvalidArgument("the stored CA key is not PEM text".to_owned())
        })?;
        let ca = pki::CertificateAuthority::from_pem(&stored.cert_pem, key_pem)?;
        self.install_ca(ca, &stored.bundle_pem, stored.cross_pem.as_deref())?;
        self.ca_generation
            .store(stored.generation, Ordering::Release);
        if !self.server_cert.issued_under(&stored.bundle_pem) {
            let (certificate, key_pem, issuer) =
                self.issue_server_cert(self.server_cert.names(), self.server_cert.tls_dir())?;
            self.server_cert.install(&certificate, &key_pem, issuer)?;
            tracing::info!("the server certificate is now issued by the cluster's CA");
        }
        tracing::info!(
            generation = stored.generation,
            "now using the CA every server of the cluster uses"
        );
        Ok(CaSync::Adopted)
    }

    /// This server's CA as the store would keep it, as generation
    /// `generation`, and its key.
    fn current_ca(&self, generation: u64) -> (StoredCa, SecretBytes) {
        let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
        let cross_pem = self
            .tls_dir
            .as_ref()
            .and_then(|dir| std::fs::read_to_string(dir.join(CA_CROSS_FILE)).ok());
        let public = StoredCa {
            generation,
            cert_pem: ca.cert_pem().to_owned(),
            bundle_pem: self.bundle_pem(),
            cross_pem,
        };
        (
            public,
            SecretBytes::from_slice(ca.key_pem_secret().as_bytes()),
        )
    }

    /// Uses `ca` to sign and `bundle` (holding it) as the roots from now on,
    /// and writes them to the TLS directory, if there is one: the bundle
    /// first, so a crash part-way leaves the old CA in use and a bundle that
    /// start-up ignores (the store holds the truth, and the next
    /// synchronization writes them again).
    fn install_ca(
        &self,
        ca: pki::CertificateAuthority,
        bundle: &str,
        cross: Option<&str>,
    ) -> Result<(), pki::PkiError> {
        if let Some(dir) = &self.tls_dir {
            pki::write_public_pem(&dir.join(CA_BUNDLE_FILE), bundle)?;
            if let Some(cross) = cross {
                pki::write_public_pem(&dir.join(CA_CROSS_FILE), cross)?;
            }
            pki::write_secret_pem(&dir.join(pki::CA_KEY_FILE), &ca.key_pem_secret())?;
            // ca.pem holds the whole bundle, current root first: start-up loads
            // the first certificate as the CA, and clients that trust ca.pem
            // (CRYPTAINER_CACERT) accept the server's certificate whichever
            // root issued it.
            pki::write_public_pem(&dir.join(pki::CA_CERT_FILE), bundle)?;
        }
        self.verifier.set_roots(bundle)?;
        *self
            .bundle_pem
            .write()
            .unwrap_or_else(PoisonError::into_inner) = bundle.to_owned();
        *self.ca.write().unwrap_or_else(PoisonError::into_inner) = ca;
        Ok(())
    }

    /// Rotates the CA: a new root, cross-signed by the old one, and a bundle
    /// holding both (new first). The store takes it first, if its CA is still
    /// the one this server rotates from (otherwise another server rotated at
    /// the same time: refused as stale); then this server uses it, and the
    /// others follow at their next synchronization. Returns the bundle.
    pub(crate) fn rotate_ca(
        &self,
        keystore: &Keystore,
        caller: &Caller,
    ) -> Result<String, CaError> {
        let _changing = self
            .ca_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.sync_ca_locked(keystore)?;
        let generation = self.ca_generation.load(Ordering::Acquire);
        let (new_ca, cross, bundle) = {
            let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
            let stamp = OffsetDateTime::now_utc().unix_timestamp();
            let new_ca = pki::CertificateAuthority::generate(
                &format!("{} {stamp}", pki::CA_COMMON_NAME),
                pki::CA_VALIDITY,
            )?;
            let cross = ca.cross_sign(&new_ca)?;
            let bundle = format!("{}{}", new_ca.cert_pem(), ca.cert_pem());
            (new_ca, cross, bundle)
        };
        let public = StoredCa {
            generation: generation.saturating_add(1),
            cert_pem: new_ca.cert_pem().to_owned(),
            bundle_pem: bundle.clone(),
            cross_pem: Some(cross.clone()),
        };
        let key = SecretBytes::from_slice(new_ca.key_pem_secret().as_bytes());
        keystore.put_ca(caller, "ca.store", &public, &key, Some(generation))?;
        self.install_ca(new_ca, &bundle, Some(&cross))?;
        self.ca_generation
            .store(public.generation, Ordering::Release);
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

    /// Follows what other servers of the cluster change, for the server's
    /// lifetime: the deny list when a node changed (a decommission), the CA
    /// when it changed or this server was unsealed; and both every
    /// `every` in any case, should a notification have been lost.
    pub async fn follow_cluster(identity: Arc<Identity>, keystore: Arc<Keystore>, every: Duration) {
        let mut changes = keystore.watch_changes();
        let mut seen = *changes.borrow_and_update();
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let periodic = tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    false
                }
                _ = ticks.tick() => true,
            };
            let now = *changes.borrow_and_update();
            let (reload_nodes, sync_ca) = (
                periodic || now.nodes != seen.nodes,
                periodic || now.ca != seen.ca || now.seal != seen.seal || now.root != seen.root,
            );
            seen = now;
            let (identity, keystore) = (Arc::clone(&identity), Arc::clone(&keystore));
            let followed = tokio::task::spawn_blocking(move || {
                if reload_nodes {
                    identity.reload_deny_list(&keystore);
                }
                if sync_ca {
                    if let Err(error) = identity.sync_ca(&keystore) {
                        tracing::warn!(%error, "could not follow the cluster's CA; retrying at the next change");
                    }
                }
            })
            .await;
            if let Err(error) = followed {
                tracing::warn!(%error, "following the cluster did not finish");
            }
        }
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
