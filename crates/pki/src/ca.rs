//! The certificate authority: a self-signed ECDSA P-256 root that issues server certificates,
//! client certificates and certificates for CSRs.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
    SerialNumber, SignatureAlgorithm,
};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, CertificateSigningRequestDer, DnsName};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;
use zeroize::Zeroizing;

use crate::identity::{ClientIdentity, validate_common_name};
use crate::{PkiError, pem as pem_io};

/// How far back `notBefore` is set from now, so that a peer whose clock is a little behind
/// ours still accepts a certificate issued a moment ago.
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(5 * 60);

/// Longest validity accepted for any certificate; longer periods are certainly mistakes.
const MAX_VALIDITY: Duration = Duration::from_secs(1000 * 365 * 24 * 60 * 60);

/// Smallest RSA modulus certified for a CSR, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// A certificate authority that holds its private key and issues certificates.
///
/// The root is ECDSA P-256 with `basicConstraints` CA:true and path length 0: it signs
/// end-entity certificates directly and nothing it issues may act as a CA. Key usage is
/// limited to certificate and CRL signing. Serial numbers are 128 random bits.
pub struct CertificateAuthority {
    /// The certificate exactly as generated or loaded; this is what clients pin.
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    /// The issuer name, key identifier method and key rcgen signs with. For a loaded CA the
    /// name is rebuilt from the stored certificate and checked to encode to the same bytes,
    /// so issued certificates chain.
    issuer: Issuer<'static, KeyPair>,
    /// The CA's subject, for the certificate another CA cross-signs for it.
    subject: DistinguishedName,
    not_after: OffsetDateTime,
}

impl fmt::Debug for CertificateAuthority {
    /// Shows the pinned fingerprint and expiry, never the key.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CertificateAuthority")
            .field(
                "fingerprint_sha256",
                &hex::encode(self.fingerprint_sha256()),
            )
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// A certificate the CA has just issued.
///
/// The private key is present when the CA generated it ([`CertificateAuthority::issue_server_cert`],
/// [`CertificateAuthority::issue_client_cert`]) and absent for [`CertificateAuthority::sign_csr`],
/// where the key never left the requester. It is wiped from memory when this value is dropped.
pub struct IssuedCert {
    /// The certificate in PEM.
    pub cert_pem: String,
    /// The certificate in DER.
    pub cert_der: Vec<u8>,
    /// The serial number in lowercase hexadecimal, without separators or leading zero bytes;
    /// use it to refer to the certificate in logs and revocation lists.
    pub serial_hex: String,
    /// When the certificate stops being valid, to the second.
    pub not_after: OffsetDateTime,
    key_pem: Option<Zeroizing<String>>,
}

impl IssuedCert {
    /// The private key in PKCS#8 PEM, if the CA generated it.
    pub fn key_pem_secret(&self) -> Option<&str> {
        self.key_pem.as_deref().map(String::as_str)
    }
}

impl fmt::Debug for IssuedCert {
    /// Shows the serial and expiry, never the key.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IssuedCert")
            .field("serial_hex", &self.serial_hex)
            .field("not_after", &self.not_after)
            .field("has_key", &self.key_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Creates a new root CA with a fresh ECDSA P-256 key, valid from now for `validity`.
    pub fn generate(common_name: &str, validity: Duration) -> Result<Self, PkiError> {
        validate_common_name(common_name)?;
        let (not_before, not_after) = validity_window(validity)?;
        let key_pair = generate_key("generating the CA key")?;

        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(random_serial()?);
        // Path length 0: this CA issues only end-entity certificates. An intermediate CA
        // would need a new root anyway, since nodes pin this one.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];

        let certificate =
            params
                .self_signed(&key_pair)
                .map_err(|source| PkiError::Certificate {
                    action: "self-signing the CA certificate",
                    source,
                })?;
        let subject = params.distinguished_name.clone();
        Ok(Self {
            cert_der: certificate.der().clone(),
            cert_pem: certificate.pem(),
            issuer: Issuer::new(params, key_pair),
            subject,
            not_after,
        })
    }

    /// Loads a CA from its certificate and PKCS#8 private key, both PEM.
    ///
    /// Fails if the certificate is not a CA certificate, if the key does not belong to it, or
    /// if its subject cannot be reproduced exactly in the certificates it would issue.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        Self::from_pem_described(cert_pem, key_pem, "CA certificate", "CA key")
    }

    /// [`Self::from_pem`], naming the inputs in errors as the caller knows them (file paths).
    pub(crate) fn from_pem_described(
        cert_pem: &str,
        key_pem: &str,
        cert_what: &str,
        key_what: &str,
    ) -> Result<Self, PkiError> {
        let cert_der = pem_io::first_certificate(cert_pem, cert_what)?;
        let key_der = pem_io::private_key(key_pem, key_what)?;
        let key_pair =
            KeyPair::try_from(&key_der).map_err(|source| PkiError::InvalidPrivateKey {
                what: key_what.to_owned(),
                source,
            })?;

        let certificate = parse_certificate(&cert_der, cert_what)?;
        let unsuitable = |reason| PkiError::UnsuitableCertificate {
            what: cert_what.to_owned(),
            reason,
        };
        match certificate.basic_constraints() {
            Ok(Some(constraints)) if constraints.value.ca => {}
            _ => {
                return Err(unsuitable(
                    "it is not a CA certificate (basicConstraints CA:true is missing); pass the CA's own certificate",
                ));
            }
        }
        // No key usage extension means no restriction; a malformed one is refused.
        let may_sign_certificates = match certificate.key_usage() {
            Ok(Some(usage)) => usage.value.key_cert_sign(),
            Ok(None) => true,
            Err(_) => false,
        };
        if !may_sign_certificates {
            return Err(unsuitable(
                "its key usage does not allow signing certificates; pass a certificate with keyCertSign",
            ));
        }
        // rcgen rebuilds the subject one attribute per RDN; reject anything else up front
        // rather than let it fail (or panic, for an empty RDN) inside rcgen.
        if certificate
            .subject()
            .iter()
            .any(|relative_name| relative_name.iter().count() != 1)
        {
            return Err(unsuitable(
                "its subject has a multi-valued or empty RDN, which cannot be reproduced in issued certificates",
            ));
        }
        if key_pair.public_key_raw() != certificate.public_key().subject_public_key.data.as_ref() {
            return Err(PkiError::KeyMismatch {
                what: key_what.to_owned(),
            });
        }
        let not_after = certificate.validity().not_after.to_datetime();
        let subject_raw = certificate.subject().as_raw().to_vec();

        let subject = subject_of(&certificate).ok_or_else(|| {
            unsuitable("its subject uses a string type other than UTF8String, PrintableString or IA5String, which cannot be reproduced in issued certificates")
        })?;
        let issuer = Issuer::from_ca_cert_der(&cert_der, key_pair).map_err(|source| {
            PkiError::Certificate {
                action: "rebuilding the CA's issuer parameters",
                source,
            }
        })?;
        // Issued certificates carry the rebuilt subject as their issuer name; TLS peers match
        // it byte for byte against the stored certificate's subject. A certificate for the
        // CA's own key shows the name exactly as it will be issued.
        let probe = CertificateParams::default()
            .signed_by(issuer.key(), &issuer)
            .map_err(|source| PkiError::Certificate {
                action: "rebuilding the CA's issuer parameters",
                source,
            })?;
        let rebuilt = parse_certificate(probe.der(), cert_what)?;
        if rebuilt.issuer().as_raw() != subject_raw.as_slice() {
            return Err(unsuitable(
                "its subject name does not re-encode identically, so issued certificates would not chain to it",
            ));
        }

        Ok(Self {
            cert_pem: pem_from_der(&cert_der),
            cert_der,
            issuer,
            subject,
            not_after,
        })
    }

    /// The CA certificate in PEM, as generated or loaded.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate in DER, as generated or loaded.
    pub fn cert_der(&self) -> &[u8] {
        self.cert_der.as_ref()
    }

    /// The CA private key in PKCS#8 PEM. Whoever holds it can issue certificates that every
    /// node trusts; the returned text is wiped from memory when dropped.
    pub fn key_pem_secret(&self) -> Zeroizing<String> {
        Zeroizing::new(self.issuer.key().serialize_pem())
    }

    /// SHA-256 of the DER certificate; join tokens carry it so a node can pin this CA.
    pub fn fingerprint_sha256(&self) -> [u8; 32] {
        Sha256::digest(self.cert_der.as_ref()).into()
    }

    /// When the CA certificate stops being valid.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.not_after
    }

    /// A CA certificate for `other`'s subject and public key, signed by this CA: the
    /// cross-signed certificate of a CA rotation (old root signs new root), in PEM.
    ///
    /// It lets a peer that trusts only this CA reach certificates `other` issues, where
    /// the path length allows it; the built-in roots have path length 0, so Cryptainer's
    /// own peers receive the new root in the CA bundle instead (docs/identity.md).
    pub fn cross_sign(&self, other: &CertificateAuthority) -> Result<String, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = other.subject.clone();
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = OffsetDateTime::now_utc() - CLOCK_SKEW_ALLOWANCE;
        params.not_after = other.not_after.min(self.not_after);
        params.serial_number = Some(random_serial()?);
        params.use_authority_key_identifier_extension = true;
        let certificate = params
            .signed_by(other.issuer.key(), &self.issuer)
            .map_err(|source| PkiError::Certificate {
                action: "cross-signing the new CA",
                source,
            })?;
        Ok(certificate.pem())
    }

    /// Issues a server certificate (EKU serverAuth) for `sans` with a freshly generated ECDSA
    /// P-256 key.
    ///
    /// Each entry of `sans` that parses as an IP address becomes an IP SAN; every other entry
    /// must be a valid DNS name. The first entry is also the subject common name. The
    /// certificate's `notAfter` is capped at the CA's own.
    pub fn issue_server_cert(
        &self,
        sans: &[String],
        validity: Duration,
    ) -> Result<IssuedCert, PkiError> {
        let names = parse_subject_alt_names(sans)?;
        let first = sans.first().ok_or(PkiError::NoSubjectAltNames)?;
        let mut distinguished_name = DistinguishedName::new();
        distinguished_name.push(DnType::CommonName, first.as_str());
        let subject_alt_names = names
            .iter()
            .map(SubjectAltName::to_rcgen)
            .collect::<Result<Vec<_>, _>>()?;
        let params = self.leaf_params(
            distinguished_name,
            subject_alt_names,
            ExtendedKeyUsagePurpose::ServerAuth,
            validity,
        )?;
        self.issue_with_new_key(params, "signing the server certificate")
    }

    /// [`Self::issue_server_cert`], with the key handed out separately so the caller need not
    /// handle its absence.
    pub fn issue_server_cert_and_key(
        &self,
        sans: &[String],
        validity: Duration,
    ) -> Result<(IssuedCert, Zeroizing<String>), PkiError> {
        let mut issued = self.issue_server_cert(sans, validity)?;
        match issued.key_pem.take() {
            Some(key_pem) => Ok((issued, key_pem)),
            // issue_with_new_key always sets the key.
            None => Err(PkiError::Certificate {
                action: "issuing the server certificate",
                source: rcgen::Error::CouldNotParseKeyPair,
            }),
        }
    }

    /// Issues a client certificate (EKU clientAuth) carrying `identity`, with a freshly
    /// generated ECDSA P-256 key.
    pub fn issue_client_cert(
        &self,
        identity: &ClientIdentity,
        validity: Duration,
    ) -> Result<IssuedCert, PkiError> {
        let params = self.client_params(identity, validity)?;
        self.issue_with_new_key(params, "signing the client certificate")
    }

    /// Issues a client certificate (EKU clientAuth) for the key in a PKCS#10 CSR (PEM).
    ///
    /// Only the CSR's public key is used: its subject, requested extensions and attributes
    /// are ignored and `identity` is written instead, so a requester cannot name itself. The
    /// CSR's self-signature must verify, proving the requester holds the private key. Keys
    /// other than EC P-256, EC P-384, Ed25519 or RSA of at least 2048 bits are refused.
    pub fn sign_csr(
        &self,
        csr_pem: &str,
        identity: &ClientIdentity,
        validity: Duration,
    ) -> Result<IssuedCert, PkiError> {
        let csr_der =
            CertificateSigningRequestDer::from_pem_slice(csr_pem.as_bytes()).map_err(|source| {
                match source {
                    pem::Error::NoItemsFound => PkiError::MissingPem {
                        what: "certificate signing request".to_owned(),
                        expected: "certificate signing request",
                        label: "CERTIFICATE REQUEST",
                    },
                    source => PkiError::NotPem {
                        what: "certificate signing request".to_owned(),
                        expected: "certificate signing request",
                        source,
                    },
                }
            })?;
        let (rest, request) = X509CertificationRequest::from_der(csr_der.as_ref())
            .map_err(|source| PkiError::InvalidCsr { source })?;
        if !rest.is_empty() {
            return Err(PkiError::MalformedCsr {
                reason: "it is followed by trailing bytes inside its PEM block",
            });
        }
        let public_key_info = &request.certification_request_info.subject_pki;
        // The key is classified before the signature is checked, so a weak key is reported as
        // such rather than as a signature the verifier does not support.
        let algorithm = classify_csr_key(public_key_info)?;
        request
            .verify_signature()
            .map_err(|source| PkiError::CsrSignature { source })?;

        let public_key = CsrPublicKey {
            raw: public_key_info.subject_public_key.data.to_vec(),
            algorithm,
        };
        let params = self.client_params(identity, validity)?;
        let not_after = params.not_after;
        let serial_hex = serial_hex(&params)?;
        let certificate = params
            .signed_by(&public_key, &self.issuer)
            .map_err(|source| PkiError::Certificate {
                action: "signing the certificate for the CSR",
                source,
            })?;
        Ok(IssuedCert {
            cert_pem: certificate.pem(),
            cert_der: certificate.der().to_vec(),
            serial_hex,
            not_after,
            key_pem: None,
        })
    }

    fn client_params(
        &self,
        identity: &ClientIdentity,
        validity: Duration,
    ) -> Result<CertificateParams, PkiError> {
        identity.validate()?;
        let mut distinguished_name = DistinguishedName::new();
        distinguished_name.push(DnType::CommonName, identity.common_name.as_str());
        let subject_alt_names = identity
            .uris()
            .into_iter()
            .map(|uri| {
                uri.try_into()
                    .map(SanType::URI)
                    .map_err(|source| PkiError::Certificate {
                        action: "encoding an identity URI",
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.leaf_params(
            distinguished_name,
            subject_alt_names,
            ExtendedKeyUsagePurpose::ClientAuth,
            validity,
        )
    }

    fn leaf_params(
        &self,
        distinguished_name: DistinguishedName,
        subject_alt_names: Vec<SanType>,
        extended_key_usage: ExtendedKeyUsagePurpose,
        validity: Duration,
    ) -> Result<CertificateParams, PkiError> {
        let (not_before, not_after) = validity_window(validity)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name;
        params.subject_alt_names = subject_alt_names;
        params.not_before = not_before;
        // A certificate cannot usefully outlive the CA that vouches for it.
        params.not_after = not_after.min(self.not_after);
        params.serial_number = Some(random_serial()?);
        // No basicConstraints at all: rcgen's explicit form encodes `cA FALSE`, a DEFAULT
        // value DER forbids, which strict parsers (Python's cryptography) refuse.
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![extended_key_usage];
        params.use_authority_key_identifier_extension = true;
        Ok(params)
    }

    fn issue_with_new_key(
        &self,
        params: CertificateParams,
        action: &'static str,
    ) -> Result<IssuedCert, PkiError> {
        let key_pair = generate_key("generating a certificate key")?;
        let not_after = params.not_after;
        let serial_hex = serial_hex(&params)?;
        let certificate = params
            .signed_by(&key_pair, &self.issuer)
            .map_err(|source| PkiError::Certificate { action, source })?;
        Ok(IssuedCert {
            cert_pem: certificate.pem(),
            cert_der: certificate.der().to_vec(),
            serial_hex,
            not_after,
            key_pem: Some(Zeroizing::new(key_pair.serialize_pem())),
        })
    }
}

/// A public key taken from a CSR, with the algorithm it was classified as.
struct CsrPublicKey {
    raw: Vec<u8>,
    algorithm: &'static SignatureAlgorithm,
}

impl PublicKeyData for CsrPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.algorithm
    }
}

/// The subject of `certificate` as rcgen writes names, one attribute per relative name
/// (checked by the caller), or `None` when an attribute's string type has no rcgen form.
fn subject_of(certificate: &X509Certificate<'_>) -> Option<DistinguishedName> {
    use x509_parser::der_parser::asn1_rs::Tag;

    let mut subject = DistinguishedName::new();
    for attribute in certificate.subject().iter_attributes() {
        let oid: Vec<u64> = attribute.attr_type().iter()?.collect();
        let value = attribute.attr_value();
        let text = std::str::from_utf8(value.data).ok()?;
        let value = match value.header.tag() {
            Tag::Utf8String => DnValue::Utf8String(text.to_owned()),
            Tag::PrintableString => DnValue::PrintableString(text.try_into().ok()?),
            Tag::Ia5String => DnValue::Ia5String(text.try_into().ok()?),
            _ => return None,
        };
        subject.push(DnType::from_oid(&oid), value);
    }
    Some(subject)
}

/// Maps an accepted CSR key to the rcgen algorithm whose SubjectPublicKeyInfo encoding matches
/// it, or explains why the key is refused.
fn classify_csr_key(
    public_key_info: &SubjectPublicKeyInfo<'_>,
) -> Result<&'static SignatureAlgorithm, PkiError> {
    let algorithm = &public_key_info.algorithm.algorithm;
    let key_bytes = public_key_info.subject_public_key.data.as_ref();
    let weak = |found: String| Err(PkiError::WeakCsrKey { found });

    if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = public_key_info
            .algorithm
            .parameters
            .as_ref()
            .and_then(|parameters| parameters.as_oid().ok());
        // Uncompressed points only: 0x04 followed by both coordinates.
        return match curve {
            Some(curve) if curve == OID_EC_P256 => {
                if key_bytes.len() == 65 && key_bytes.first() == Some(&4) {
                    Ok(&rcgen::PKCS_ECDSA_P256_SHA256)
                } else {
                    weak("an EC P-256 key that is not an uncompressed point".to_owned())
                }
            }
            Some(curve) if curve == OID_NIST_EC_P384 => {
                if key_bytes.len() == 97 && key_bytes.first() == Some(&4) {
                    Ok(&rcgen::PKCS_ECDSA_P384_SHA384)
                } else {
                    weak("an EC P-384 key that is not an uncompressed point".to_owned())
                }
            }
            Some(curve) => weak(format!("an EC key on curve {curve}")),
            None => weak("an EC key without a named curve".to_owned()),
        };
    }
    if *algorithm == OID_SIG_ED25519 {
        return if key_bytes.len() == 32 {
            Ok(&rcgen::PKCS_ED25519)
        } else {
            weak("an Ed25519 key of the wrong length".to_owned())
        };
    }
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        let bits = match public_key_info.parsed() {
            Ok(PublicKey::RSA(rsa)) => rsa_modulus_bits(rsa.modulus),
            _ => return weak("a malformed RSA key".to_owned()),
        };
        return if bits >= MIN_RSA_BITS {
            Ok(&rcgen::PKCS_RSA_SHA256)
        } else {
            weak(format!("RSA {bits} bits"))
        };
    }
    weak(format!("of unsupported algorithm {algorithm}"))
}

/// The size of an RSA modulus in bits, ignoring leading zero bytes (DER adds one when the top
/// bit is set).
fn rsa_modulus_bits(modulus: &[u8]) -> usize {
    let significant = match modulus.iter().position(|&byte| byte != 0) {
        Some(start) => modulus.get(start..).unwrap_or_default(),
        None => return 0,
    };
    let top_bits = significant
        .first()
        .map_or(0, |&byte| 8 - byte.leading_zeros());
    (significant.len().saturating_sub(1)) * 8 + usize::try_from(top_bits).unwrap_or(8)
}

/// One subject alternative name of a server certificate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SubjectAltName {
    /// A DNS name, lowercased (DNS names compare case-insensitively).
    Dns(String),
    /// An IP address.
    Ip(IpAddr),
}

impl SubjectAltName {
    fn to_rcgen(&self) -> Result<SanType, PkiError> {
        match self {
            Self::Dns(name) => name
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|_| PkiError::InvalidSubjectAltName { san: name.clone() }),
            Self::Ip(address) => Ok(SanType::IpAddress(*address)),
        }
    }
}

/// Parses and normalizes server names; duplicates collapse.
pub(crate) fn parse_subject_alt_names(
    sans: &[String],
) -> Result<BTreeSet<SubjectAltName>, PkiError> {
    if sans.is_empty() {
        return Err(PkiError::NoSubjectAltNames);
    }
    sans.iter()
        .map(|san| {
            if let Ok(address) = san.parse::<IpAddr>() {
                return Ok(SubjectAltName::Ip(address));
            }
            match DnsName::try_from(san.as_str()) {
                Ok(_) => Ok(SubjectAltName::Dns(san.to_ascii_lowercase())),
                Err(_) => Err(PkiError::InvalidSubjectAltName { san: san.clone() }),
            }
        })
        .collect()
}

/// The DNS and IP subject alternative names of a parsed certificate, normalized like
/// [`parse_subject_alt_names`]; other kinds of names are skipped.
pub(crate) fn certificate_subject_alt_names(
    certificate: &X509Certificate<'_>,
) -> Option<BTreeSet<SubjectAltName>> {
    let extension = certificate.subject_alternative_name().ok()??;
    let mut names = BTreeSet::new();
    for name in &extension.value.general_names {
        match name {
            GeneralName::DNSName(dns_name) => {
                names.insert(SubjectAltName::Dns(dns_name.to_ascii_lowercase()));
            }
            GeneralName::IPAddress(bytes) => {
                let address = match bytes.len() {
                    4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                    16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                    _ => None,
                }?;
                names.insert(SubjectAltName::Ip(address));
            }
            _ => {}
        }
    }
    Some(names)
}

pub(crate) fn parse_certificate<'a>(
    der: &'a [u8],
    what: &str,
) -> Result<X509Certificate<'a>, PkiError> {
    let (rest, certificate) =
        X509Certificate::from_der(der).map_err(|source| PkiError::InvalidCertificate {
            what: what.to_owned(),
            source,
        })?;
    if !rest.is_empty() {
        return Err(PkiError::UnsuitableCertificate {
            what: what.to_owned(),
            reason: "it is followed by trailing bytes inside its PEM block",
        });
    }
    Ok(certificate)
}

/// `notBefore` and `notAfter` for a certificate issued now, truncated to whole seconds as
/// X.509 encodes them.
fn validity_window(validity: Duration) -> Result<(OffsetDateTime, OffsetDateTime), PkiError> {
    if validity.is_zero() || validity > MAX_VALIDITY {
        return Err(PkiError::InvalidValidity { validity });
    }
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|_| PkiError::InvalidValidity { validity })?;
    let not_before = now
        .checked_sub(time::Duration::try_from(CLOCK_SKEW_ALLOWANCE).unwrap_or(time::Duration::ZERO))
        .ok_or(PkiError::InvalidValidity { validity })?;
    let not_after = time::Duration::try_from(validity)
        .ok()
        .and_then(|validity| now.checked_add(validity))
        .ok_or(PkiError::InvalidValidity { validity })?;
    Ok((not_before, not_after))
}

/// A fresh ECDSA P-256 key, the one kind of key this crate makes (CA, server,
/// client and node keys); `action` names the key in the error.
pub(crate) fn generate_key(action: &'static str) -> Result<KeyPair, PkiError> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|source| PkiError::Certificate { action, source })
}

/// 126 random bits in 16 bytes whose first byte is 0x40..=0x7f: the top bit clear keeps
/// the DER INTEGER positive, and the next bit set keeps its first byte non-zero, since
/// rcgen writes the bytes as given and a leading zero byte would be a non-minimal
/// (invalid) DER INTEGER that strict verifiers refuse and that reads back differently.
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0_u8; 16];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| PkiError::Random)?;
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x7f) | 0x40;
    }
    Ok(SerialNumber::from_slice(&bytes))
}

fn serial_hex(params: &CertificateParams) -> Result<String, PkiError> {
    // DER drops leading zero bytes of a positive INTEGER, and so does x509-parser when it
    // reads the serial back; strip them here too so both spellings agree.
    let serial = params
        .serial_number
        .as_ref()
        .map(SerialNumber::to_bytes)
        .ok_or(PkiError::Random)?;
    let start = serial
        .iter()
        .position(|&byte| byte != 0)
        .unwrap_or(serial.len().saturating_sub(1));
    Ok(hex::encode(serial.get(start..).unwrap_or_default()))
}

fn pem_from_der(der: &CertificateDer<'_>) -> String {
    use base64::Engine;
    // RFC 7468 text: standard base64 in lines of 64 characters.
    let encoded = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut text = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push('\n');
    }
    text.push_str("-----END CERTIFICATE-----\n");
    text
}

#[cfg(test)]
mod tests {
    use super::{random_serial, rsa_modulus_bits};

    /// A serial whose first random byte was zero came out as a non-minimal DER
    /// INTEGER (about one certificate in 128), which read back with a leading zero.
    #[test]
    fn serial_numbers_never_start_with_a_zero_byte() {
        for _ in 0..2000 {
            let serial = random_serial().unwrap().to_bytes();
            assert_eq!(serial.len(), 16);
            let first = serial.first().copied().unwrap_or_default();
            assert!((0x40..0x80).contains(&first), "{serial:02x?}");
        }
    }

    fn check(modulus: &[u8], expected_bits: usize) {
        assert_eq!(rsa_modulus_bits(modulus), expected_bits, "{modulus:02x?}");
    }

    #[test]
    fn rsa_modulus_bits_ignores_leading_zero_bytes() {
        check(&[], 0);
        check(&[0, 0], 0);
        check(&[1], 1);
        check(&[0x80], 8);
        check(&[0x00, 0x80, 0x00], 16);
        check(&[0x00, 0x00, 0x7f, 0xff], 15);
        let mut modulus_2048 = vec![0_u8; 257];
        if let Some(byte) = modulus_2048.get_mut(1) {
            *byte = 0xc5;
        }
        check(&modulus_2048, 2048);
    }
}
