//! The server's TLS material: created by the built-in CA on first start and kept in a
//! directory, or supplied by the operator as files.
//!
//! Layout of the directory used by [`ServerTlsMaterial::load_or_create`]:
//!
//! | file | mode | content |
//! |---|---|---|
//! | `ca.pem` | 0644 | built-in CA certificate; nodes pin its SHA-256 |
//! | `ca-key.pem` | 0600 | built-in CA private key (PKCS#8) |
//! | `server.pem` | 0644 | server certificate issued by the CA |
//! | `server-key.pem` | 0600 | server private key (PKCS#8) |
//!
//! The directory itself is created with mode 0700.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::time::Duration;

use rcgen::KeyPair;
use rustls::ServerConfig;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::ca::{certificate_subject_alt_names, parse_certificate, parse_subject_alt_names};
use crate::tls::{ClientAuth, server_config};
use crate::{CertificateAuthority, PkiError, pem};

/// File name of the built-in CA certificate.
pub const CA_CERT_FILE: &str = "ca.pem";
/// File name of the built-in CA private key.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// File name of the server certificate.
pub const SERVER_CERT_FILE: &str = "server.pem";
/// File name of the server private key.
pub const SERVER_KEY_FILE: &str = "server-key.pem";

/// Common name of the built-in CA.
pub const CA_COMMON_NAME: &str = "Cryptainer CA";
/// Validity of a newly created built-in CA: ten years, since replacing it means re-joining
/// every node.
pub const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);
/// Validity of a server certificate issued by the built-in CA.
pub const SERVER_CERT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 60 * 60);
/// A server certificate that expires within this period is re-issued at start.
pub const SERVER_CERT_RENEW_BEFORE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Where the material of a [`ServerTlsMaterial`] came from, so the caller can log it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaterialOrigin {
    /// A new CA and server certificate were created in an empty directory.
    Created,
    /// The CA and server certificate on disk were used as they were.
    Loaded,
    /// The CA on disk was kept and a new server certificate was issued.
    Reissued(ReissueReason),
    /// The operator supplied the certificate and key files ([`ServerTlsMaterial::from_files`]).
    OperatorSupplied,
}

/// Why the server certificate was issued again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReissueReason {
    /// The server certificate or key file was missing.
    Missing,
    /// The certificate or key could not be parsed, or the key does not match the certificate.
    Unusable,
    /// The certificate was not issued by the CA in the directory.
    NotIssuedByCa,
    /// The requested DNS names and IP addresses differ from the certificate's.
    NamesChanged,
    /// The certificate expires within [`SERVER_CERT_RENEW_BEFORE`].
    ExpiresSoon,
}

/// A server certificate chain and key, with the CA clients should trust.
///
/// No `Clone` or serialization, and `Debug` leaves the key out: it holds a private key, which
/// is exposed only by [`Self::key_pem_secret`].
pub struct ServerTlsMaterial {
    cert_chain_pem: String,
    key_pem: Zeroizing<String>,
    ca_pem: Option<String>,
    ca: Option<CertificateAuthority>,
    server_not_after: OffsetDateTime,
    origin: MaterialOrigin,
}

impl std::fmt::Debug for ServerTlsMaterial {
    /// Shows where the material came from and when it expires, never the key.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ServerTlsMaterial")
            .field("origin", &self.origin)
            .field("server_not_after", &self.server_not_after)
            .field("ca", &self.ca)
            .finish_non_exhaustive()
    }
}

impl ServerTlsMaterial {
    /// Loads the built-in CA and server certificate from `dir`, creating what is missing.
    ///
    /// On first start this creates the directory (mode 0700), a new CA and a server
    /// certificate for `sans`. Later starts load them; the server certificate is issued again
    /// when it is missing or unusable, was not issued by this CA, names other DNS names or IP
    /// addresses than `sans`, or expires within 7 days. The CA is never replaced: nodes pin it,
    /// so an expired or half-present CA is an error for the operator to resolve. Private key
    /// files readable by other users are refused.
    pub fn load_or_create(dir: &Path, sans: &[String]) -> Result<Self, PkiError> {
        let wanted_names = parse_subject_alt_names(sans)?;
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| pem::io_error("create directory", dir, source))?;

        let ca_cert_path = dir.join(CA_CERT_FILE);
        let ca_key_path = dir.join(CA_KEY_FILE);
        let server_cert_path = dir.join(SERVER_CERT_FILE);
        let server_key_path = dir.join(SERVER_KEY_FILE);

        // After a CA rotation `ca.pem` holds the bundle, current root first; a server
        // certificate the previous root issued stays in use until every node trusts the
        // new root (the server then replaces it while running).
        let mut previous_roots = Vec::new();
        let (ca, ca_created) = match (exists(&ca_cert_path)?, exists(&ca_key_path)?) {
            (true, true) => {
                pem::check_secret_mode(&ca_key_path)?;
                let cert_pem = pem::read_public(&ca_cert_path)?;
                let key_pem = pem::read_secret(&ca_key_path)?;
                let ca = CertificateAuthority::from_pem_described(
                    &cert_pem,
                    &key_pem,
                    &format!("certificate file {}", ca_cert_path.display()),
                    &format!("key file {}", ca_key_path.display()),
                )?;
                previous_roots = pem::certificates(
                    &cert_pem,
                    &format!("certificate file {}", ca_cert_path.display()),
                )?
                .into_iter()
                .skip(1)
                .collect();
                if ca.expires_at() <= OffsetDateTime::now_utc() {
                    return Err(PkiError::CaExpired {
                        path: ca_cert_path,
                        not_after: ca.expires_at(),
                    });
                }
                (ca, false)
            }
            (false, false) => {
                let ca = CertificateAuthority::generate(CA_COMMON_NAME, CA_VALIDITY)?;
                // The key is written first: a crash in between leaves a key without a
                // certificate, reported as an incomplete CA rather than silently replaced.
                pem::write_secret_pem(&ca_key_path, &ca.key_pem_secret())?;
                pem::write_public_pem(&ca_cert_path, ca.cert_pem())?;
                (ca, true)
            }
            (true, false) => {
                return Err(PkiError::IncompleteCa {
                    present: ca_cert_path,
                    missing: ca_key_path,
                });
            }
            (false, true) => {
                return Err(PkiError::IncompleteCa {
                    present: ca_key_path,
                    missing: ca_cert_path,
                });
            }
        };

        let existing = if !ca_created && exists(&server_cert_path)? && exists(&server_key_path)? {
            pem::check_secret_mode(&server_key_path)?;
            Some((
                pem::read_public(&server_cert_path)?,
                pem::read_secret(&server_key_path)?,
            ))
        } else {
            None
        };
        let verdict = match &existing {
            None => Err(ReissueReason::Missing),
            Some((cert_pem, key_pem)) => check_server_cert(
                &ca,
                &previous_roots,
                cert_pem,
                key_pem,
                &wanted_names,
                OffsetDateTime::now_utc(),
            ),
        };

        let (cert_chain_pem, key_pem, server_not_after, origin) = match (verdict, existing) {
            (Ok(not_after), Some((cert_pem, key_pem))) => {
                (cert_pem, key_pem, not_after, MaterialOrigin::Loaded)
            }
            (verdict, _) => {
                let (issued, key_pem) = reissue_server_cert(dir, &ca, sans)?;
                let origin = match verdict {
                    _ if ca_created => MaterialOrigin::Created,
                    Err(reason) => MaterialOrigin::Reissued(reason),
                    Ok(_) => MaterialOrigin::Reissued(ReissueReason::Missing),
                };
                (issued.cert_pem, key_pem, issued.not_after, origin)
            }
        };

        Ok(Self {
            cert_chain_pem,
            key_pem,
            ca_pem: Some(ca.cert_pem().to_owned()),
            ca: Some(ca),
            server_not_after,
            origin,
        })
    }

    /// Uses a certificate chain and key the operator supplied, and optionally the CA
    /// certificate(s) clients should trust and client certificates are checked against.
    ///
    /// The files are checked now (PEM, X.509, key matching the certificate), so a mistake
    /// surfaces at start rather than at the first handshake. Their permissions are left to
    /// the operator.
    pub fn from_files(
        cert_path: &Path,
        key_path: &Path,
        ca_path: Option<&Path>,
    ) -> Result<Self, PkiError> {
        let cert_chain_pem = pem::read_public(cert_path)?;
        let key_pem = pem::read_secret(key_path)?;
        let cert_what = format!("certificate file {}", cert_path.display());
        let leaf = pem::first_certificate(&cert_chain_pem, &cert_what)?;
        let server_not_after = parse_certificate(&leaf, &cert_what)?
            .validity()
            .not_after
            .to_datetime();
        // Building a configuration checks that the key parses and belongs to the certificate.
        pem::private_key(&key_pem, &format!("key file {}", key_path.display()))?;
        server_config(&cert_chain_pem, &key_pem, ClientAuth::None)?;

        let ca_pem = match ca_path {
            Some(ca_path) => {
                let ca_pem = pem::read_public(ca_path)?;
                let ca_what = format!("certificate file {}", ca_path.display());
                for certificate in pem::certificates(&ca_pem, &ca_what)? {
                    parse_certificate(&certificate, &ca_what)?;
                }
                Some(ca_pem)
            }
            None => None,
        };
        Ok(Self {
            cert_chain_pem,
            key_pem,
            ca_pem,
            ca: None,
            server_not_after,
            origin: MaterialOrigin::OperatorSupplied,
        })
    }

    /// The server certificate chain in PEM, leaf first.
    pub fn cert_chain_pem(&self) -> &str {
        &self.cert_chain_pem
    }

    /// The server private key in PEM.
    pub fn key_pem_secret(&self) -> &str {
        &self.key_pem
    }

    /// The CA certificate clients should trust, if known: always for the built-in CA, and for
    /// operator-supplied files when a CA file was given.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// SHA-256 of the (first) CA certificate in DER, for join tokens, if a CA is known.
    pub fn ca_fingerprint_sha256(&self) -> Option<[u8; 32]> {
        if let Some(ca) = &self.ca {
            return Some(ca.fingerprint_sha256());
        }
        let ca_pem = self.ca_pem.as_deref()?;
        let certificate = pem::first_certificate(ca_pem, "CA certificate").ok()?;
        Some(Sha256::digest(certificate.as_ref()).into())
    }

    /// The built-in CA, which can issue client certificates; `None` for operator-supplied files.
    pub fn certificate_authority(&self) -> Option<&CertificateAuthority> {
        self.ca.as_ref()
    }

    /// When the server certificate expires; a long-running server should reload before then.
    pub fn server_not_after(&self) -> OffsetDateTime {
        self.server_not_after
    }

    /// Whether the material was created, loaded, re-issued or supplied by the operator.
    pub fn origin(&self) -> MaterialOrigin {
        self.origin
    }

    /// A rustls server configuration presenting this certificate; see [`server_config`].
    pub fn server_config(&self, client_auth: ClientAuth) -> Result<ServerConfig, PkiError> {
        server_config(&self.cert_chain_pem, &self.key_pem, client_auth)
    }
}

/// Whether `path` exists; unlike `Path::exists`, a permission error is reported rather than
/// taken as absence, which would make us replace a CA we merely cannot read.
fn exists(path: &Path) -> Result<bool, PkiError> {
    path.try_exists()
        .map_err(|source| pem::io_error("inspect", path, source))
}

/// Issues a new server certificate for `sans` from `ca` and writes it, with its key, into
/// `dir` (key first: a crash in between leaves a pair that does not match, which the next
/// start re-issues). Returns the certificate and its key.
pub fn reissue_server_cert(
    dir: &Path,
    ca: &CertificateAuthority,
    sans: &[String],
) -> Result<(crate::IssuedCert, Zeroizing<String>), PkiError> {
    let (issued, key_pem) = ca.issue_server_cert_and_key(sans, SERVER_CERT_VALIDITY)?;
    pem::write_secret_pem(&dir.join(SERVER_KEY_FILE), &key_pem)?;
    pem::write_public_pem(&dir.join(SERVER_CERT_FILE), &issued.cert_pem)?;
    Ok((issued, key_pem))
}

/// The SHA-256 fingerprint of the certificate in `roots_pem` that issued the first
/// certificate of `cert_pem` (checked by signature), and the leaf's expiry; `None` when
/// no root there issued it or the input does not parse.
pub fn issuing_root(cert_pem: &str, roots_pem: &str) -> Option<([u8; 32], OffsetDateTime)> {
    let leaf_der = pem::first_certificate(cert_pem, "certificate").ok()?;
    let leaf = parse_certificate(&leaf_der, "certificate").ok()?;
    let not_after = leaf.validity().not_after.to_datetime();
    pem::certificates(roots_pem, "CA bundle")
        .ok()?
        .into_iter()
        .find(|root| issued_by(&leaf, root))
        .map(|root| (Sha256::digest(root.as_ref()).into(), not_after))
}

/// Whether `root` (DER) names and signed `certificate`.
fn issued_by(certificate: &x509_parser::certificate::X509Certificate<'_>, root: &[u8]) -> bool {
    parse_certificate(root, "CA certificate").is_ok_and(|root| {
        certificate.issuer().as_raw() == root.subject().as_raw()
            && certificate
                .verify_signature(Some(root.public_key()))
                .is_ok()
    })
}

/// Decides whether a stored server certificate can be used as it is; returns its expiry.
/// A certificate from one of `previous_roots` (still in the bundle clients trust) is kept.
fn check_server_cert(
    ca: &CertificateAuthority,
    previous_roots: &[rustls::pki_types::CertificateDer<'static>],
    cert_pem: &str,
    key_pem: &str,
    wanted_names: &std::collections::BTreeSet<crate::ca::SubjectAltName>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, ReissueReason> {
    let cert_der = pem::first_certificate(cert_pem, "server certificate")
        .map_err(|_| ReissueReason::Unusable)?;
    let certificate =
        parse_certificate(&cert_der, "server certificate").map_err(|_| ReissueReason::Unusable)?;
    let key_der = pem::private_key(key_pem, "server key").map_err(|_| ReissueReason::Unusable)?;
    let key_pair = KeyPair::try_from(&key_der).map_err(|_| ReissueReason::Unusable)?;
    if key_pair.public_key_raw() != certificate.public_key().subject_public_key.data.as_ref() {
        return Err(ReissueReason::Unusable);
    }

    let mut issuers =
        std::iter::once(ca.cert_der()).chain(previous_roots.iter().map(AsRef::as_ref));
    if !issuers.any(|root| issued_by(&certificate, root)) {
        return Err(ReissueReason::NotIssuedByCa);
    }

    if certificate_subject_alt_names(&certificate).as_ref() != Some(wanted_names) {
        return Err(ReissueReason::NamesChanged);
    }

    let not_after = certificate.validity().not_after.to_datetime();
    let renew_before =
        time::Duration::try_from(SERVER_CERT_RENEW_BEFORE).unwrap_or(time::Duration::ZERO);
    if not_after - now < renew_before {
        return Err(ReissueReason::ExpiresSoon);
    }
    Ok(not_after)
}
