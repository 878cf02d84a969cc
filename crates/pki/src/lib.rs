//! Cryptainer's built-in certificate authority and TLS setup: a root CA, server and client
//! certificates, CSR signing, reading identities back from client certificates, and rustls
//! configurations with safe defaults.
//!
//! The server speaks TLS only. On first start it creates its own CA and a server certificate
//! ([`ServerTlsMaterial::load_or_create`]); nodes join with a token that carries the CA's
//! SHA-256 fingerprint ([`CertificateAuthority::fingerprint_sha256`]) so they can pin it, then
//! receive a client certificate whose URI names say who they are ([`ClientIdentity`],
//! [`identity_from_cert`]). Operators who run their own PKI supply files instead
//! ([`ServerTlsMaterial::from_files`]).
//!
//! This crate knows nothing of storage: functions take and return PEM, DER and typed values,
//! and the only files it touches are those of [`ServerTlsMaterial`] and the `write_*_pem`
//! helpers.
//!
//! # Known limitation: the CA key is stored in the clear
//!
//! The built-in CA's private key is kept on disk as unencrypted PKCS#8 in `ca-key.pem`, mode
//! 0600, in a directory of mode 0700. Anyone who can read that file as the server's user (or
//! as root, or from a backup) can issue certificates every node trusts. Later the key will be
//! wrapped by the `keystore` key hierarchy and opened only when the server is unsealed. In
//! memory, rcgen's `KeyPair` does not wipe itself on drop; PEM copies this crate hands out
//! are [`zeroize::Zeroizing`].
#![forbid(unsafe_code)]

mod ca;
mod error;
mod identity;
mod join;
mod material;
mod pem;
mod tls;

pub use ca::{CLOCK_SKEW_ALLOWANCE, CertificateAuthority, IssuedCert, MIN_RSA_BITS};
pub use error::PkiError;
pub use identity::{
    ClientIdentity, IDENTITY_URI_PREFIX, MAX_COMMON_NAME_LEN, MAX_IDENTITY_COMPONENT_LEN,
    identity_from_cert,
};
pub use join::{
    JOIN_TOKEN_LEN, JOIN_TOKEN_PREFIX, JoinToken, NodeKeyRequest, PeerCertificateFacts,
    bundle_digest, node_key_request, peer_certificate_facts,
};
pub use material::{
    CA_CERT_FILE, CA_COMMON_NAME, CA_KEY_FILE, CA_VALIDITY, MaterialOrigin, ReissueReason,
    SERVER_CERT_FILE, SERVER_CERT_RENEW_BEFORE, SERVER_CERT_VALIDITY, SERVER_KEY_FILE,
    ServerTlsMaterial, issuing_root, reissue_server_cert,
};
pub use pem::{PUBLIC_FILE_MODE, SECRET_FILE_MODE, write_public_pem, write_secret_pem};
pub use tls::{
    ClientAuth, ServerCertSlot, client_config, root_store_from_pem, server_config,
    server_config_with_verifier,
};
