//! HTTPS clients of the agent: one that fetches the CA bundle without trusting
//! anything (used once, before the bundle is checked against the join token), and
//! one pinned to the bundle, presenting the node certificate once there is one.

use std::sync::Arc;
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::de::DeserializeOwned;

use crate::AgentError;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest CA bundle accepted from the unverified fetch.
pub(crate) const MAX_BUNDLE_BYTES: usize = 256 * 1024;

/// `https://HOST:PORT` from `HOST:PORT` or `https://HOST:PORT`.
pub(crate) fn base_url(address: &str) -> Result<String, AgentError> {
    let address = address.trim().trim_end_matches('/');
    let host_port = address.strip_prefix("https://").unwrap_or(address);
    let valid = !host_port.is_empty()
        && !host_port.contains('/')
        && !host_port.contains("://")
        && host_port
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if valid {
        Ok(format!("https://{host_port}"))
    } else {
        Err(AgentError::BadAddress {
            address: address.to_owned(),
        })
    }
}

/// Accepts any server certificate, but still checks that the server holds the key
/// of the certificate it sent. Only for `GET /v1/ca` at join, whose answer is
/// checked against the join token before anything else is sent.
#[derive(Debug)]
struct AcceptAnyServer {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn build(config: rustls::ClientConfig) -> Result<reqwest::Client, AgentError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .https_only(true)
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("cryptainer-agent/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|source| AgentError::Client { source })
}

/// A client that trusts any server; see [`AcceptAnyServer`].
pub(crate) fn unverified_client() -> Result<reqwest::Client, AgentError> {
    let provider: CryptoProvider = rustls::crypto::ring::default_provider();
    let verifier = Arc::new(AcceptAnyServer {
        algorithms: provider.signature_verification_algorithms,
    });
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|source| pki::PkiError::Tls {
            action: "selecting TLS protocol versions",
            source,
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    build(config)
}

/// A client that trusts only `ca_pem` and presents `(cert_pem, key_pem)` if given.
pub(crate) fn pinned_client(
    ca_pem: &str,
    identity: Option<(&str, &str)>,
) -> Result<reqwest::Client, AgentError> {
    build(pki::client_config(ca_pem, identity)?)
}

/// What a request that got no answer failed with. A server that refuses this
/// node's certificate in the TLS handshake as revoked (the node was
/// decommissioned: what a new connection meets instead of the 401 a kept one
/// gets) refuses the node as surely as a 401 does, and is reported as one.
fn transport_error(what: &'static str, source: reqwest::Error) -> AgentError {
    if certificate_revoked(&source) {
        return AgentError::Refused {
            what,
            status: 401,
            message: "the server refused this node's certificate as revoked during the TLS \
                      handshake (the node was decommissioned); join it again with a new join token"
                .to_owned(),
        };
    }
    AgentError::Http { what, source }
}

/// Whether the TLS alert `certificate_revoked` is among the causes of `error`.
fn certificate_revoked(error: &reqwest::Error) -> bool {
    let is_revoked = |error: &(dyn std::error::Error + 'static)| {
        matches!(
            error.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::AlertReceived(
                rustls::AlertDescription::CertificateRevoked
            ))
        )
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if is_revoked(current) {
            return true;
        }
        // An I/O error's `source` skips the error it wraps: look inside.
        if let Some(wrapped) = current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if is_revoked(wrapped) {
                return true;
            }
        }
        cause = current.source();
    }
    false
}

/// Sends `request`; a non-2xx answer becomes [`AgentError::Refused`] with the
/// server's message.
pub(crate) async fn send_json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    what: &'static str,
) -> Result<T, AgentError> {
    let response = request
        .send()
        .await
        .map_err(|source| transport_error(what, source))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|source| transport_error(what, source))?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|body| {
                body.get("error")
                    .and_then(|error| error.get("message"))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        return Err(AgentError::Refused {
            what,
            status: status.as_u16(),
            message,
        });
    }
    serde_json::from_slice(&bytes).map_err(|error| AgentError::BadAnswer {
        what,
        detail: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            base_url("127.0.0.1:8200").ok().as_deref(),
            Some("https://127.0.0.1:8200")
        );
        assert_eq!(
            base_url("https://h:1/").ok().as_deref(),
            Some("https://h:1")
        );
        for bad in ["", "h", "http://h:1", "h:x", "https://h:1/path", ":1"] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
    }
}
