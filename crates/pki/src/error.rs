//! The error type of the `pki` crate: one enum, each variant keeping the error that caused it.

use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;

/// Everything that can go wrong while creating, loading, issuing or verifying certificates.
///
/// Messages say what failed and what the operator or caller can do about it. Variants keep the
/// underlying error as their `source`, so callers can inspect it instead of parsing text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A file or directory could not be read, written or created.
    #[error(
        "could not {action} {path}: {source}; check that the path exists and this process may access it"
    )]
    Io {
        /// What was being done: "read", "write", "create directory", ...
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The input was not valid PEM.
    #[error("{what} is not PEM: {source}; pass a PEM-encoded {expected}")]
    NotPem {
        /// The input, for example "certificate file server.pem" or "CA certificate".
        what: String,
        /// What kind of PEM block was expected, for example "certificate".
        expected: &'static str,
        /// The PEM decoder's error.
        source: rustls::pki_types::pem::Error,
    },

    /// The input was PEM but held no block of the expected kind.
    #[error("{what} holds no {expected}; pass a file with a `-----BEGIN {label}-----` block")]
    MissingPem {
        /// The input, for example "certificate file server.pem".
        what: String,
        /// What kind of PEM block was expected, for example "certificate".
        expected: &'static str,
        /// The PEM label that was expected, for example "CERTIFICATE".
        label: &'static str,
    },

    /// A certificate could not be parsed as X.509.
    #[error("{what} is not a valid X.509 certificate: {source}")]
    InvalidCertificate {
        /// The input, for example "CA certificate".
        what: String,
        /// The X.509 parser's error.
        source: x509_parser::nom::Err<x509_parser::error::X509Error>,
    },

    /// A certificate parsed but does not have the shape this crate needs.
    #[error("{what} cannot be used: {reason}")]
    UnsuitableCertificate {
        /// The input, for example "CA certificate".
        what: String,
        /// Why it cannot be used, with what to do instead.
        reason: &'static str,
    },

    /// A private key could not be loaded.
    #[error(
        "{what} is not a usable private key: {source}; pass an unencrypted PKCS#8 EC P-256, P-384 or Ed25519 key (convert with `openssl pkcs8 -topk8 -nocrypt`)"
    )]
    InvalidPrivateKey {
        /// The input, for example "CA key file ca-key.pem".
        what: String,
        /// rcgen's error.
        source: rcgen::Error,
    },

    /// A private key does not belong to the certificate it was given with.
    #[error(
        "{what} does not match the public key of its certificate; pass the key the certificate was issued for"
    )]
    KeyMismatch {
        /// The input, for example "CA key file ca-key.pem".
        what: String,
    },

    /// A requested validity period cannot be represented or is zero.
    #[error(
        "validity of {validity:?} is not usable; pass a period longer than zero and shorter than 1000 years"
    )]
    InvalidValidity {
        /// The requested period.
        validity: Duration,
    },

    /// A subject alternative name for a server certificate is neither an IP address nor a DNS name.
    #[error(
        "subject alternative name {san:?} is neither an IP address nor a valid DNS name; pass names like `kms.example.com` or `10.0.0.5`"
    )]
    InvalidSubjectAltName {
        /// The rejected name.
        san: String,
    },

    /// A server certificate was requested without any subject alternative name.
    #[error(
        "a server certificate needs at least one DNS name or IP address; pass the names clients use to reach the server"
    )]
    NoSubjectAltNames,

    /// A field of a client identity cannot be encoded in a certificate.
    #[error("client identity {field} {value:?} is not valid: {reason}")]
    InvalidIdentity {
        /// The field: "common name", "node id", "tenant" or "role".
        field: &'static str,
        /// The rejected value.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },

    /// A join token does not have the shape `CPTJ-1-<64 hex>-<64 hex>`.
    #[error(
        "the join token is malformed: {reason}; copy the whole token `cryptainer node token create` printed"
    )]
    MalformedJoinToken {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A presented client certificate does not carry a well-formed Cryptainer identity.
    #[error("client certificate does not carry a usable identity: {reason}")]
    NoIdentity {
        /// What is missing or malformed.
        reason: &'static str,
    },

    /// A certificate signing request could not be parsed.
    #[error(
        "certificate signing request is not valid: {source}; pass a PKCS#10 request in PEM (`-----BEGIN CERTIFICATE REQUEST-----`)"
    )]
    InvalidCsr {
        /// The X.509 parser's error.
        source: x509_parser::nom::Err<x509_parser::error::X509Error>,
    },

    /// A certificate signing request parsed but is not acceptable as it stands.
    #[error("certificate signing request is malformed: {reason}; create the request again")]
    MalformedCsr {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The signature on a certificate signing request does not verify with its own key.
    #[error(
        "certificate signing request signature does not verify: {source}; create the request again with the key it names"
    )]
    CsrSignature {
        /// The verifier's error.
        source: x509_parser::error::X509Error,
    },

    /// The key in a certificate signing request is of a type or size we do not certify.
    #[error(
        "certificate signing request key is {found}; only EC P-256, EC P-384, Ed25519 or RSA of at least 2048 bits are accepted, generate a new key of one of those kinds"
    )]
    WeakCsrKey {
        /// A description of the key that was found, for example "RSA 1024 bits".
        found: String,
    },

    /// rcgen refused to generate a key or sign a certificate.
    #[error("{action} failed: {source}")]
    Certificate {
        /// What was being done, for example "signing the server certificate".
        action: &'static str,
        /// rcgen's error.
        source: rcgen::Error,
    },

    /// The operating system's random number generator failed.
    ///
    /// rustls's `GetRandomFailed` carries no detail and is not an `Error`, so nothing is kept.
    #[error(
        "drawing a random serial number failed; check that the kernel's random source is available"
    )]
    Random,

    /// rustls refused a certificate, key or configuration.
    #[error("{action} failed: {source}")]
    Tls {
        /// What was being done, for example "loading the server certificate into rustls".
        action: &'static str,
        /// rustls's error.
        source: rustls::Error,
    },

    /// The client certificate verifier could not be built from the given CA.
    #[error(
        "building the client certificate verifier failed: {source}; pass the PEM of the CA that issues client certificates"
    )]
    ClientVerifier {
        /// rustls's error.
        source: rustls::server::VerifierBuilderError,
    },

    /// The built-in CA on disk has expired; it cannot be renewed silently because nodes pin it.
    #[error(
        "CA certificate {path} expired at {not_after}; move the TLS directory aside to create a new CA, then re-join every node"
    )]
    CaExpired {
        /// The CA certificate file.
        path: PathBuf,
        /// When it expired.
        not_after: OffsetDateTime,
    },

    /// Only one of the CA certificate and the CA key exists.
    #[error(
        "{present} exists but {missing} does not; restore {missing} from a backup, or remove both to create a new CA"
    )]
    IncompleteCa {
        /// The file that exists.
        present: PathBuf,
        /// The file that is missing.
        missing: PathBuf,
    },

    /// A private key file can be read by other users.
    #[error(
        "private key file {path} has mode {mode:o}, readable by other users; run `chmod 600` on it"
    )]
    InsecureKeyFile {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}
