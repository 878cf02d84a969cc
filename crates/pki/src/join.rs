//! Join tokens and the joining node's side of certificate requests.
//!
//! A join token is `CPTJ-1-<CA digest>-<secret>`: the SHA-256 of the CA bundle the
//! server serves at `GET /v1/ca`, then 256 random bits, both in lowercase hex (the
//! design of Docker Swarm's `SWMTKN-1-...`). The digest lets a joining node check
//! the bundle it fetched without trusting it; the secret proves to the server that
//! the node was invited. The server keeps only the SHA-256 of the secret.

use std::fmt;

use rcgen::{CertificateParams, DistinguishedName, DnType};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::PkiError;

/// The prefix of every join token, with its format version.
pub const JOIN_TOKEN_PREFIX: &str = "CPTJ-1-";

/// Length of a join token: the prefix, 64 hex digits, `-`, 64 hex digits.
pub const JOIN_TOKEN_LEN: usize = JOIN_TOKEN_PREFIX.len() + 64 + 1 + 64;

/// SHA-256 of a CA bundle exactly as served (the PEM bytes of `GET /v1/ca`).
pub fn bundle_digest(bundle: &[u8]) -> [u8; 32] {
    Sha256::digest(bundle).into()
}

/// A parsed join token. The secret is wiped on drop; the type has no `Clone`,
/// `Debug` shows only the CA digest.
pub struct JoinToken {
    ca_digest: [u8; 32],
    secret: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for JoinToken {
    /// Shows the CA digest, never the secret.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("JoinToken")
            .field("ca_digest", &hex::encode(self.ca_digest))
            .finish_non_exhaustive()
    }
}

impl JoinToken {
    /// A new token for the CA bundle whose digest is `ca_digest`, with a fresh secret.
    pub fn generate(ca_digest: [u8; 32]) -> Result<Self, PkiError> {
        let mut secret = Zeroizing::new([0_u8; 32]);
        rustls::crypto::ring::default_provider()
            .secure_random
            .fill(secret.as_mut())
            .map_err(|_| PkiError::Random)?;
        Ok(Self { ca_digest, secret })
    }

    /// Parses `CPTJ-1-<64 hex>-<64 hex>`; surrounding white space is ignored.
    pub fn parse(text: &str) -> Result<Self, PkiError> {
        let malformed = |reason| PkiError::MalformedJoinToken { reason };
        let text = text.trim();
        if text.len() != JOIN_TOKEN_LEN {
            return Err(malformed("it has the wrong length"));
        }
        let rest = text
            .strip_prefix(JOIN_TOKEN_PREFIX)
            .ok_or_else(|| malformed("it does not start with CPTJ-1-"))?;
        let (digest_hex, secret_hex) = rest
            .split_once('-')
            .ok_or_else(|| malformed("the CA digest and the secret are not separated by '-'"))?;
        let mut ca_digest = [0_u8; 32];
        hex::decode_to_slice(digest_hex, &mut ca_digest)
            .map_err(|_| malformed("the CA digest is not 64 hexadecimal digits"))?;
        let mut secret = Zeroizing::new([0_u8; 32]);
        hex::decode_to_slice(secret_hex, secret.as_mut())
            .map_err(|_| malformed("the secret is not 64 hexadecimal digits"))?;
        Ok(Self { ca_digest, secret })
    }

    /// The token text, shown once to the operator; wiped from memory when dropped.
    pub fn to_text_secret(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{JOIN_TOKEN_PREFIX}{}-{}",
            hex::encode(self.ca_digest),
            hex::encode(self.secret.as_ref())
        ))
    }

    /// The SHA-256 of the CA bundle this token pins.
    pub fn ca_digest(&self) -> [u8; 32] {
        self.ca_digest
    }

    /// Whether `bundle` (as served) is the one this token pins, compared in
    /// constant time.
    pub fn matches_bundle(&self, bundle: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        bool::from(bundle_digest(bundle).ct_eq(&self.ca_digest))
    }

    /// SHA-256 of the secret, hex: what the server stores and looks tokens up by.
    pub fn secret_digest_hex(&self) -> String {
        hex::encode(Sha256::digest(self.secret.as_ref()))
    }
}

/// A node's private key and the certificate request made with it.
pub struct NodeKeyRequest {
    /// The private key, PKCS#8 PEM; it never leaves the node. Wiped on drop.
    pub key_pem: Zeroizing<String>,
    /// The certificate signing request, PEM.
    pub csr_pem: String,
}

/// Generates a fresh ECDSA P-256 key and a CSR for it. The subject is only a hint
/// (`common_name`): the server replaces it with the identity it assigns.
pub fn node_key_request(common_name: &str) -> Result<NodeKeyRequest, PkiError> {
    let key_pair = crate::ca::generate_key("generating the node key")?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    let request = params
        .serialize_request(&key_pair)
        .map_err(|source| PkiError::Certificate {
            action: "making the certificate signing request",
            source,
        })?;
    let csr_pem = request.pem().map_err(|source| PkiError::Certificate {
        action: "encoding the certificate signing request",
        source,
    })?;
    Ok(NodeKeyRequest {
        key_pem: Zeroizing::new(key_pair.serialize_pem()),
        csr_pem,
    })
}

/// What the server needs to know about a verified client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificateFacts {
    /// The identity in its URI names.
    pub identity: crate::ClientIdentity,
    /// Its serial, lowercase hex without leading zero bytes.
    pub serial_hex: String,
    /// When it stops being valid.
    pub not_after: time::OffsetDateTime,
}

/// Reads identity, serial and expiry from a client certificate (DER) the TLS layer
/// has verified.
pub fn peer_certificate_facts(cert_der: &[u8]) -> Result<PeerCertificateFacts, PkiError> {
    let identity = crate::identity_from_cert(cert_der)?;
    let certificate = crate::ca::parse_certificate(cert_der, "client certificate")?;
    let serial = certificate.raw_serial();
    let start = serial
        .iter()
        .position(|&byte| byte != 0)
        .unwrap_or(serial.len().saturating_sub(1));
    Ok(PeerCertificateFacts {
        identity,
        serial_hex: hex::encode(serial.get(start..).unwrap_or_default()),
        not_after: certificate.validity().not_after.to_datetime(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_rejects_tampering() {
        let token = JoinToken::generate(bundle_digest(b"bundle")).unwrap();
        let text = token.to_text_secret();
        assert_eq!(text.len(), JOIN_TOKEN_LEN);
        let parsed = JoinToken::parse(&text).unwrap();
        assert_eq!(parsed.secret_digest_hex(), token.secret_digest_hex());
        assert!(parsed.matches_bundle(b"bundle"));
        assert!(!parsed.matches_bundle(b"other bundle"));
        for bad in [
            "",
            "CPTJ-2-",
            &text.replace("CPTJ-1-", "SWMTKN-"),
            &format!("{}x", &text[..text.len() - 1]),
            &text.replacen('-', "_", 3),
        ] {
            assert!(JoinToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cross_signed_certificate_names_the_new_root_and_is_signed_by_the_old() {
        use rustls::pki_types::pem::PemObject as _;
        let day = std::time::Duration::from_secs(86_400);
        let old = crate::CertificateAuthority::generate("Old CA", day).unwrap();
        let new = crate::CertificateAuthority::generate("New CA", day).unwrap();
        let cross_pem = old.cross_sign(&new).unwrap();
        let cross_der =
            rustls::pki_types::CertificateDer::from_pem_slice(cross_pem.as_bytes()).unwrap();
        let cross = crate::ca::parse_certificate(&cross_der, "cross").unwrap();
        let old_cert = crate::ca::parse_certificate(old.cert_der(), "old").unwrap();
        let new_cert = crate::ca::parse_certificate(new.cert_der(), "new").unwrap();
        assert_eq!(cross.subject().as_raw(), new_cert.subject().as_raw());
        assert_eq!(cross.issuer().as_raw(), old_cert.subject().as_raw());
        assert_eq!(cross.public_key().raw, new_cert.public_key().raw);
        assert!(cross.verify_signature(Some(old_cert.public_key())).is_ok());
        assert!(cross.verify_signature(Some(new_cert.public_key())).is_err());
    }

    #[test]
    fn node_key_request_is_p256() {
        let request = node_key_request("host").unwrap();
        assert!(request.csr_pem.contains("BEGIN CERTIFICATE REQUEST"));
        assert!(request.key_pem.contains("PRIVATE KEY"));
    }
}
