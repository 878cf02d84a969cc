//! rustls server and client configurations with Cryptainer's defaults: the ring provider only,
//! TLS 1.3 and 1.2 only, rustls's default cipher suites (all AEAD with forward secrecy), and
//! client certificates checked by webpki against our CA.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

use crate::{PkiError, pem};

/// The protocol versions we speak: TLS 1.3 preferred, TLS 1.2 for older clients.
const PROTOCOL_VERSIONS: &[&SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Whether and how a server asks clients for a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// Clients are not asked for a certificate; they authenticate some other way (tokens).
    None,
    /// Clients may present a certificate issued by this CA (PEM); clients without one are
    /// let through for other authentication, clients with an invalid one are refused.
    Optional(String),
    /// Clients must present a certificate issued by this CA (PEM).
    Required(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate of `ca_pem` into a root store.
fn root_store(ca_pem: &str, what: &str) -> Result<RootCertStore, PkiError> {
    let mut roots = RootCertStore::empty();
    for certificate in pem::certificates(ca_pem, what)? {
        roots.add(certificate).map_err(|source| PkiError::Tls {
            action: "adding the CA certificate to the trust store",
            source,
        })?;
    }
    Ok(roots)
}

/// Builds a server configuration from a certificate chain (PEM, leaf first) and its private
/// key (PEM).
///
/// The result can still be adjusted before use, for example to set ALPN protocols.
pub fn server_config(
    cert_chain_pem: &str,
    key_pem: &str,
    client_auth: ClientAuth,
) -> Result<ServerConfig, PkiError> {
    let chain = pem::certificates(cert_chain_pem, "server certificate chain")?;
    let key = pem::private_key(key_pem, "server key")?;
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|source| PkiError::Tls {
            action: "selecting TLS protocol versions",
            source,
        })?;
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Optional(ca_pem) | ClientAuth::Required(ca_pem) if ca_pem.trim().is_empty() => {
            return Err(PkiError::MissingPem {
                what: "client CA".to_owned(),
                expected: "certificate",
                label: "CERTIFICATE",
            });
        }
        ClientAuth::Optional(ca_pem) => {
            let roots = Arc::new(root_store(&ca_pem, "client CA")?);
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider)
                .allow_unauthenticated()
                .build()
                .map_err(|source| PkiError::ClientVerifier { source })?;
            builder.with_client_cert_verifier(verifier)
        }
        ClientAuth::Required(ca_pem) => {
            let roots = Arc::new(root_store(&ca_pem, "client CA")?);
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|source| PkiError::ClientVerifier { source })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    // rustls checks here that the key belongs to the leaf certificate.
    builder
        .with_single_cert(chain, key)
        .map_err(|source| PkiError::Tls {
            action: "loading the server certificate and key",
            source,
        })
}

/// A server certificate and key that can be replaced while the server runs: each new
/// handshake uses the one current at that moment, established connections keep theirs.
/// The server uses it to move its own certificate to a new root after a CA rotation, and
/// to renew it before it expires, without a restart.
pub struct ServerCertSlot {
    current: std::sync::RwLock<Arc<CertifiedKey>>,
}

impl std::fmt::Debug for ServerCertSlot {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ServerCertSlot")
            .finish_non_exhaustive()
    }
}

impl ServerCertSlot {
    /// A slot holding the certificate chain (PEM, leaf first) and its key (PEM).
    pub fn new(cert_chain_pem: &str, key_pem: &str) -> Result<ServerCertSlot, PkiError> {
        Ok(ServerCertSlot {
            current: std::sync::RwLock::new(certified_key(cert_chain_pem, key_pem)?),
        })
    }

    /// Puts another certificate chain and key in the slot; checked first (the key must
    /// belong to the leaf), so a bad pair leaves the current one in place.
    pub fn replace(&self, cert_chain_pem: &str, key_pem: &str) -> Result<(), PkiError> {
        let next = certified_key(cert_chain_pem, key_pem)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        Ok(())
    }
}

impl ResolvesServerCert for ServerCertSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ))
    }
}

/// The rustls form of a certificate chain and key, checked to belong together.
fn certified_key(cert_chain_pem: &str, key_pem: &str) -> Result<Arc<CertifiedKey>, PkiError> {
    let chain = pem::certificates(cert_chain_pem, "server certificate chain")?;
    let key = pem::private_key(key_pem, "server key")?;
    CertifiedKey::from_der(chain, key, &provider())
        .map(Arc::new)
        .map_err(|source| PkiError::Tls {
            action: "loading the server certificate and key",
            source,
        })
}

/// Builds a server configuration presenting the certificate in `slot` (replaceable while
/// running), whose client certificates are checked by `verifier` (for example a webpki
/// verifier wrapped with a deny list).
pub fn server_config_with_verifier(
    slot: Arc<ServerCertSlot>,
    verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>,
) -> Result<ServerConfig, PkiError> {
    Ok(ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|source| PkiError::Tls {
            action: "selecting TLS protocol versions",
            source,
        })?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(slot))
}

/// The rustls root store of every certificate in `ca_pem`.
pub fn root_store_from_pem(ca_pem: &str) -> Result<RootCertStore, PkiError> {
    root_store(ca_pem, "CA bundle")
}

/// Builds a client configuration that trusts only the CA(s) in `ca_pem` (no system roots)
/// and, when given, presents `client_cert` as `(certificate chain PEM, private key PEM)`.
pub fn client_config(
    ca_pem: &str,
    client_cert: Option<(&str, &str)>,
) -> Result<ClientConfig, PkiError> {
    let roots = root_store(ca_pem, "CA certificate")?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|source| PkiError::Tls {
            action: "selecting TLS protocol versions",
            source,
        })?
        .with_root_certificates(roots);
    match client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert_pem, key_pem)) => {
            let chain = pem::certificates(cert_pem, "client certificate")?;
            let key = pem::private_key(key_pem, "client key")?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|source| PkiError::Tls {
                    action: "loading the client certificate and key",
                    source,
                })
        }
    }
}
