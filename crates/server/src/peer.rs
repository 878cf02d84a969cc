//! Client certificates on the TLS listeners: the verifier that refuses
//! decommissioned nodes at the handshake, and the mapping of a verified node
//! certificate to a [`Principal`], checked again against the inventory on every
//! request.
//!
//! Both listeners (HTTPS here, KMIP on 5696) call [`principal_from_certificate`]
//! with the leaf certificate the TLS layer verified.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use keystore::model::{NodeState, Role};
use keystore::{Keystore, KeystoreError, TenantScope};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use time::OffsetDateTime;

use crate::auth::{NODE_PRINCIPAL_PREFIX, Principal};
use crate::error::{ApiError, Code};

/// The leaf certificate (DER) a client presented on this connection, put in each
/// request's extensions by the listener.
#[derive(Debug, Clone)]
pub struct PeerCertificate(pub Arc<Vec<u8>>);

/// Maps a client certificate the TLS layer verified against our CA to the node it
/// was issued to.
///
/// Refused (`unauthenticated`, with a message saying why) when the certificate has
/// expired, carries no node identity, names a node the inventory does not know, a
/// decommissioned node (the deny list, read from the store on every call), or a
/// tenant or role other than the inventory's. The principal is scoped to the
/// node's one tenant. Blocking: reads the store.
pub fn principal_from_certificate(
    keystore: &Keystore,
    cert_der: &[u8],
) -> Result<Principal, ApiError> {
    let facts = pki::peer_certificate_facts(cert_der).map_err(|error| {
        ApiError::new(
            Code::Unauthenticated,
            format!("the client certificate carries no Cryptainer identity: {error}"),
        )
    })?;
    principal_from_facts(keystore, &facts)
}

/// [`principal_from_certificate`] for a certificate already read: the checks
/// that can change while a connection stays open (expiry, the inventory), for
/// a listener that reads the certificate once per connection and checks it
/// again on every message (the KMIP listener). Blocking: reads the store.
pub fn principal_from_facts(
    keystore: &Keystore,
    facts: &pki::PeerCertificateFacts,
) -> Result<Principal, ApiError> {
    let refused = |message: String| ApiError::new(Code::Unauthenticated, message);
    if facts.not_after <= OffsetDateTime::now_utc() {
        return Err(refused(format!(
            "the client certificate (serial {}) has expired; the node must join again",
            facts.serial_hex
        )));
    }
    let node_id = facts.identity.node_id.as_deref().ok_or_else(|| {
        refused(
            "the client certificate names no node; only node certificates are accepted".to_owned(),
        )
    })?;
    let node = keystore
        .node(node_id)?
        .ok_or_else(|| refused(format!("unknown node '{node_id}'; join with a join token")))?;
    if node.state == NodeState::Decommissioned {
        return Err(refused(format!(
            "node '{node_id}' was decommissioned; its certificates are refused"
        )));
    }
    let role = facts.identity.role.as_deref().and_then(Role::parse);
    if facts.identity.tenant.as_deref() != Some(node.tenant.as_str()) || role != Some(node.role) {
        return Err(refused(format!(
            "the certificate of node '{node_id}' names another tenant or role than the inventory; the node must join again"
        )));
    }
    Ok(Principal {
        token_id: format!("{NODE_PRINCIPAL_PREFIX}{node_id}"),
        role: node.role,
        scope: TenantScope::Only(vec![node.tenant]),
    })
}

/// The ids of decommissioned nodes, kept in memory so that the TLS handshake can
/// refuse them without a database read. The store's inventory is the durable copy,
/// read back at start.
#[derive(Debug, Default)]
pub struct DenyList {
    nodes: RwLock<HashSet<String>>,
}

impl DenyList {
    /// The deny list of the decommissioned nodes in the store.
    pub fn load(keystore: &Keystore) -> Result<DenyList, KeystoreError> {
        Ok(DenyList {
            nodes: RwLock::new(decommissioned(keystore)?),
        })
    }

    /// Replaces the list with the store's decommissioned nodes: another
    /// server of the cluster may have decommissioned one.
    pub fn reload(&self, keystore: &Keystore) -> Result<(), KeystoreError> {
        let nodes = decommissioned(keystore)?;
        *self.nodes.write().unwrap_or_else(PoisonError::into_inner) = nodes;
        Ok(())
    }

    /// Refuses `node_id` from now on.
    pub fn deny(&self, node_id: &str) {
        self.nodes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(node_id.to_owned());
    }

    /// Whether `node_id` is refused.
    pub fn is_denied(&self, node_id: &str) -> bool {
        self.nodes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(node_id)
    }
}

/// The ids of the store's decommissioned nodes.
fn decommissioned(keystore: &Keystore) -> Result<HashSet<String>, KeystoreError> {
    Ok(keystore
        .nodes()
        .or_else(|error| match error {
            KeystoreError::Store(keystore::StoreError::Unsupported { .. }) => Ok(Vec::new()),
            error => Err(error),
        })?
        .into_iter()
        .filter(|node| node.state == NodeState::Decommissioned)
        .map(|node| node.id)
        .collect())
}

/// A client certificate verifier: webpki against our CA (certificates optional, so
/// people keep using tokens), then the deny list, so a decommissioned node cannot
/// even open a connection.
///
/// The trusted roots can be replaced while the server runs (CA rotation): new
/// handshakes use the new bundle, established connections are untouched.
#[derive(Debug)]
pub struct NodeClientVerifier {
    inner: Arc<RwLock<Arc<dyn ClientCertVerifier>>>,
    deny: Arc<DenyList>,
    mandatory: bool,
}

impl NodeClientVerifier {
    /// Wraps `inner` with `deny`.
    pub fn new(inner: Arc<dyn ClientCertVerifier>, deny: Arc<DenyList>) -> NodeClientVerifier {
        NodeClientVerifier {
            inner: Arc::new(RwLock::new(inner)),
            deny,
            mandatory: false,
        }
    }

    /// The same verifier (same roots, replaced together; same deny list) with
    /// a client certificate required: for the KMIP listener, which has no tokens.
    pub fn required(&self) -> NodeClientVerifier {
        NodeClientVerifier {
            inner: Arc::clone(&self.inner),
            deny: Arc::clone(&self.deny),
            mandatory: true,
        }
    }

    /// Trusts the CA certificates of `bundle_pem` from now on, instead of the previous ones.
    pub fn set_roots(&self, bundle_pem: &str) -> Result<(), pki::PkiError> {
        let inner = webpki_verifier(bundle_pem)?;
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = inner;
        Ok(())
    }

    fn inner(&self) -> Arc<dyn ClientCertVerifier> {
        Arc::clone(&self.inner.read().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ClientCertVerifier for NodeClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    /// No hints: the roots can change under a borrowed list, and clients present the
    /// one certificate they have anyway.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner()
            .verify_client_cert(end_entity, intermediates, now)?;
        if let Ok(identity) = pki::identity_from_cert(end_entity.as_ref()) {
            if let Some(node_id) = identity.node_id {
                if self.deny.is_denied(&node_id) {
                    tracing::info!(node_id, "refused the certificate of a decommissioned node");
                    return Err(rustls::Error::InvalidCertificate(CertificateError::Revoked));
                }
            }
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner().supported_verify_schemes()
    }
}

/// The verifier of the HTTPS listener: certificates issued by `ca_pem` are checked
/// and mapped to nodes; clients without one are let through to token
/// authentication.
pub fn client_verifier(
    ca_pem: &str,
    deny: Arc<DenyList>,
) -> Result<Arc<NodeClientVerifier>, pki::PkiError> {
    Ok(Arc::new(NodeClientVerifier::new(
        webpki_verifier(ca_pem)?,
        deny,
    )))
}

/// webpki against the roots of `ca_pem`, client certificates optional.
fn webpki_verifier(ca_pem: &str) -> Result<Arc<dyn ClientCertVerifier>, pki::PkiError> {
    let roots = Arc::new(pki::root_store_from_pem(ca_pem)?);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider)
        .allow_unauthenticated()
        .build()
        .map_err(|source| pki::PkiError::ClientVerifier { source })
}
