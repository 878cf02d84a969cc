//! Certificates for KMIP clients, signed by the server's CA (docs/kmip.md).
//! KMIP itself (`/kmip`, `/kmip/2_1`) speaks TTLV, not these JSON shapes.

use serde::{Deserialize, Serialize};

use crate::routes;

/// Body of `POST /v1/kmip/client-certs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertRequest {
    /// The certificate's common name (who holds it, for people).
    pub name: String,
    /// The one tenant the holder acts on [default: `default`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The holder's role [default: operator].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The holder's PKCS#10 request (PEM); only its public key is used.
    pub csr_pem: String,
}

/// Answer of `POST /v1/kmip/client-certs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCertAnswer {
    /// The client certificate (PEM).
    pub cert_pem: String,
    /// The CA bundle the client must trust for the server (PEM): the current
    /// root, and the previous one after a rotation.
    pub ca_pem: String,
    /// The certificate's serial number (hex).
    pub serial: String,
}

endpoints! {
    /// `POST /v1/kmip/client-certs`.
    IssueClientCert(body ClientCertRequest): Post routes::KMIP_CLIENT_CERTS => ClientCertAnswer;
}
