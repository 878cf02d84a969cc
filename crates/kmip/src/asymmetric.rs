//! Key pairs: RSA and ECDSA key generation, the DER formats KMIP clients ask
//! for, signatures and RSA OAEP.
//!
//! Private keys are stored as PKCS#8 and public keys as SubjectPublicKeyInfo.
//! Signatures are made and checked by ring, whose RSA and ECDSA private-key
//! operations are constant time; the `rsa` crate generates RSA keys, converts
//! formats and runs OAEP, whose decryption is blinded (RUSTSEC-2023-0071 concerns
//! the `rsa` crate's private-key operations).

use keystore::object::Algorithm;
use keystore::secret::SecretBytes;
use ring::signature::{self, KeyPair as _};
use rsa::pkcs1::{
    DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _, EncodeRsaPrivateKey as _,
    EncodeRsaPublicKey as _,
};
use rsa::pkcs8::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _};
use rsa::pkcs8::{EncodePublicKey as _, ObjectIdentifier, PrivateKeyInfo};
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};

use crate::error::{KmipError, ResultReason};

/// SubjectPublicKeyInfo DER before the 65-byte uncompressed P-256 point
/// (id-ecPublicKey, prime256v1, BIT STRING header).
const P256_SPKI_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// SubjectPublicKeyInfo DER before the 97-byte uncompressed P-384 point
/// (id-ecPublicKey, secp384r1, BIT STRING header).
const P384_SPKI_PREFIX: &[u8] = &[
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
];

fn crypto_failure(message: impl Into<String>) -> KmipError {
    KmipError::new(ResultReason::CryptographicFailure, message)
}

fn not_supported(message: impl Into<String>) -> KmipError {
    KmipError::new(ResultReason::FeatureNotSupported, message)
}

/// A freshly generated pair: PKCS#8 private key and SubjectPublicKeyInfo.
pub struct GeneratedPair {
    /// The private key, PKCS#8 DER.
    pub private_pkcs8: SecretBytes,
    /// The public key, SubjectPublicKeyInfo DER.
    pub public_spki: Vec<u8>,
}

/// Generates a key pair for `algorithm` (RSA 2048/3072/4096, EC P-256/P-384).
pub fn generate(algorithm: Algorithm) -> Result<GeneratedPair, KmipError> {
    match algorithm {
        Algorithm::Rsa2048 | Algorithm::Rsa3072 | Algorithm::Rsa4096 => {
            let bits = usize::try_from(algorithm.key_bits()).unwrap_or(2048);
            let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
                .map_err(|error| crypto_failure(format!("RSA key generation failed: {error}")))?;
            let pkcs8 = private
                .to_pkcs8_der()
                .map_err(|error| crypto_failure(format!("encoding the RSA key failed: {error}")))?;
            let public = private
                .to_public_key()
                .to_public_key_der()
                .map_err(|error| crypto_failure(format!("encoding the RSA key failed: {error}")))?;
            Ok(GeneratedPair {
                private_pkcs8: SecretBytes::from_slice(pkcs8.as_bytes()),
                public_spki: public.as_bytes().to_vec(),
            })
        }
        Algorithm::EcP256 | Algorithm::EcP384 => {
            let (signing, prefix) = ecdsa_signing(algorithm)?;
            let rng = ring::rand::SystemRandom::new();
            let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(signing, &rng)
                .map_err(|_| crypto_failure("EC key generation failed"))?;
            let pair = signature::EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng)
                .map_err(|_| crypto_failure("the generated EC key could not be read back"))?;
            let mut spki = prefix.to_vec();
            spki.extend_from_slice(pair.public_key().as_ref());
            Ok(GeneratedPair {
                private_pkcs8: SecretBytes::from_slice(pkcs8.as_ref()),
                public_spki: spki,
            })
        }
        other => Err(KmipError::invalid(format!(
            "{} is not an asymmetric algorithm",
            other.as_str()
        ))),
    }
}

fn ecdsa_signing(
    algorithm: Algorithm,
) -> Result<(&'static signature::EcdsaSigningAlgorithm, &'static [u8]), KmipError> {
    match algorithm {
        Algorithm::EcP256 => Ok((&signature::ECDSA_P256_SHA256_ASN1_SIGNING, P256_SPKI_PREFIX)),
        Algorithm::EcP384 => Ok((&signature::ECDSA_P384_SHA384_ASN1_SIGNING, P384_SPKI_PREFIX)),
        other => Err(KmipError::invalid(format!(
            "{} is not an EC algorithm",
            other.as_str()
        ))),
    }
}

/// The uncompressed EC point of a stored EC SubjectPublicKeyInfo.
fn ec_point(algorithm: Algorithm, spki: &[u8]) -> Result<&[u8], KmipError> {
    let (_, prefix) = ecdsa_signing(algorithm)?;
    spki.strip_prefix(prefix)
        .ok_or_else(|| crypto_failure("the stored EC public key is not a SubjectPublicKeyInfo"))
}

/// The stored RSA public key, for OAEP and format conversion.
fn rsa_public(spki: &[u8]) -> Result<rsa::RsaPublicKey, KmipError> {
    rsa::RsaPublicKey::from_public_key_der(spki).map_err(|error| {
        crypto_failure(format!("the stored RSA public key is unreadable: {error}"))
    })
}

/// The stored RSA private key, for OAEP and format conversion.
fn rsa_private(pkcs8: &[u8]) -> Result<rsa::RsaPrivateKey, KmipError> {
    rsa::RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(|error| {
        crypto_failure(format!("the stored RSA private key is unreadable: {error}"))
    })
}

/// KMIP Key Format Type values for asymmetric keys.
pub mod format {
    /// Raw (an EC public key's uncompressed point).
    pub const RAW: u32 = 0x01;
    /// PKCS#1 (RSAPublicKey / RSAPrivateKey).
    pub const PKCS1: u32 = 0x03;
    /// PKCS#8 PrivateKeyInfo.
    pub const PKCS8: u32 = 0x04;
    /// X.509 SubjectPublicKeyInfo.
    pub const X509: u32 = 0x05;
}

/// The format a Get answers when the client names none, in a message of
/// protocol major version `major`: PKCS#1 for RSA public keys, X.509 for EC
/// public keys, PKCS#8 for private keys, what PyKMIP and most 1.x clients
/// expect; KMIP 2.x makes PKCS#1 the default of RSA private keys too (KMIP
/// 2.1 section 4.26, Table 81). Its transparent EC formats are not the
/// default here: clients (PyKMIP among them) read EC keys as DER.
#[must_use]
pub fn default_format(algorithm: Algorithm, private: bool, major: i32) -> u32 {
    match (private, algorithm.family()) {
        (true, "rsa") if major >= 2 => format::PKCS1,
        (true, _) => format::PKCS8,
        (false, "rsa") => format::PKCS1,
        (false, _) => format::X509,
    }
}

/// The public key stored as `spki` in `wanted` format.
pub fn export_public(algorithm: Algorithm, spki: &[u8], wanted: u32) -> Result<Vec<u8>, KmipError> {
    match (algorithm.family(), wanted) {
        (_, format::X509) => Ok(spki.to_vec()),
        ("rsa", format::PKCS1) => rsa_public(spki)?
            .to_pkcs1_der()
            .map(|document| document.as_bytes().to_vec())
            .map_err(|error| crypto_failure(format!("PKCS#1 encoding failed: {error}"))),
        ("ec", format::RAW) => Ok(ec_point(algorithm, spki)?.to_vec()),
        (family, other) => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "key format 0x{other:02X} is not supported for {family} public keys; ask for {}",
                if family == "rsa" {
                    "PKCS#1 or X.509"
                } else {
                    "X.509 or Raw"
                }
            ),
        )),
    }
}

/// The private key stored as `pkcs8` in `wanted` format.
pub fn export_private(
    algorithm: Algorithm,
    pkcs8: &SecretBytes,
    wanted: u32,
) -> Result<SecretBytes, KmipError> {
    match (algorithm.family(), wanted) {
        (_, format::PKCS8) => Ok(SecretBytes::from_slice(pkcs8.expose_secret())),
        ("rsa", format::PKCS1) => rsa_private(pkcs8.expose_secret())?
            .to_pkcs1_der()
            .map(|document| SecretBytes::from_slice(document.as_bytes()))
            .map_err(|error| crypto_failure(format!("PKCS#1 encoding failed: {error}"))),
        (family, other) => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "key format 0x{other:02X} is not supported for {family} private keys; ask for PKCS#8{}",
                if family == "rsa" { " or PKCS#1" } else { "" }
            ),
        )),
    }
}

/// The keystore algorithm of an RSA key with a `bits`-bit modulus.
fn rsa_algorithm(bits: usize) -> Result<Algorithm, KmipError> {
    match bits {
        2048 => Ok(Algorithm::Rsa2048),
        3072 => Ok(Algorithm::Rsa3072),
        4096 => Ok(Algorithm::Rsa4096),
        other => Err(KmipError::invalid(format!(
            "RSA keys of {other} bits are not supported; use 2048, 3072 or 4096"
        ))),
    }
}

/// The keystore algorithm of an EC key on the curve `curve` names.
fn ec_algorithm(curve: ObjectIdentifier) -> Result<Algorithm, KmipError> {
    if curve == SECP256R1 {
        Ok(Algorithm::EcP256)
    } else if curve == SECP384R1 {
        Ok(Algorithm::EcP384)
    } else {
        Err(KmipError::invalid(format!(
            "EC keys on the curve {curve} are not supported; use P-256 or P-384"
        )))
    }
}

/// id-ecPublicKey (RFC 5480).
pub(crate) const ID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// rsaEncryption (RFC 8017).
pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The family of key a DER AlgorithmIdentifier names.
pub(crate) enum Family {
    /// rsaEncryption.
    Rsa,
    /// id-ecPublicKey on the named curve.
    Ec(ObjectIdentifier),
}

/// The family of the `kind` ("public" or "private") key whose
/// AlgorithmIdentifier is `algorithm`: RSA, or EC on a named curve; others
/// are Invalid Field.
pub(crate) fn family_of(
    algorithm: &AlgorithmIdentifierRef<'_>,
    kind: &str,
) -> Result<Family, KmipError> {
    if algorithm.oid == RSA_ENCRYPTION {
        Ok(Family::Rsa)
    } else if algorithm.oid == ID_EC_PUBLIC_KEY {
        algorithm.parameters_oid().map(Family::Ec).map_err(|error| {
            KmipError::invalid(format!(
                "the {kind} key is an EC key on no named curve: {error}"
            ))
        })
    } else {
        Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            format!(
                "{kind} keys of algorithm {} are not used by this server; use RSA or EC",
                algorithm.oid
            ),
        ))
    }
}
/// NIST P-256 (prime256v1).
pub(crate) const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// NIST P-384.
pub(crate) const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// The SubjectPublicKeyInfo of an EC public key given as its point, once
/// the point is known to be an uncompressed point on the curve (ring checks
/// it as an ECDH peer key would be checked).
fn ec_public(algorithm: Algorithm, point: &[u8]) -> Result<Vec<u8>, KmipError> {
    let (_, prefix) = ecdsa_signing(algorithm)?;
    let agreement = if algorithm == Algorithm::EcP256 {
        &ring::agreement::ECDH_P256
    } else {
        &ring::agreement::ECDH_P384
    };
    let rng = ring::rand::SystemRandom::new();
    let ephemeral = ring::agreement::EphemeralPrivateKey::generate(agreement, &rng)
        .map_err(|_| crypto_failure("checking the EC point failed"))?;
    ring::agreement::agree_ephemeral(
        ephemeral,
        &ring::agreement::UnparsedPublicKey::new(agreement, point),
        |_| (),
    )
    .map_err(|_| {
        KmipError::invalid(format!(
            "the EC public key is not an uncompressed point on {}; send the 0x04 form",
            algorithm.as_str()
        ))
    })?;
    let mut spki = prefix.to_vec();
    spki.extend_from_slice(point);
    Ok(spki)
}

/// The algorithm and SubjectPublicKeyInfo of an RSA public key.
fn rsa_public_spki(key: &rsa::RsaPublicKey) -> Result<(Algorithm, Vec<u8>), KmipError> {
    let algorithm = rsa_algorithm(key.size().saturating_mul(8))?;
    let spki = key
        .to_public_key_der()
        .map_err(|error| crypto_failure(format!("encoding the RSA key failed: {error}")))?;
    Ok((algorithm, spki.as_bytes().to_vec()))
}

/// The forms to read bytes a client says are in `format` as: that format
/// first, then the other forms of the same kind of key. Clients send PKCS#1
/// keys labelled PKCS#8 and the reverse, and DER labelled Raw (PyKMIP's own
/// suite does all three); what parses as a key of the declared algorithm is
/// taken, the declared format kept.
pub(crate) fn forms_to_try(format: u32, private: bool) -> Vec<u32> {
    let others: &[u32] = if private {
        &[format::PKCS8, format::PKCS1]
    } else {
        &[format::X509, format::PKCS1, format::RAW]
    };
    let mut forms = vec![format];
    if others.contains(&format) || format == format::RAW {
        forms.extend(others.iter().filter(|other| **other != format));
    }
    forms
}

/// Reads `bytes` in the first of `forms` that parses, or gives the error of
/// the first.
pub(crate) fn first_that_reads<T>(
    forms: &[u32],
    mut read: impl FnMut(u32) -> Result<T, KmipError>,
) -> Result<T, KmipError> {
    let mut first_error = None;
    for &form in forms {
        match read(form) {
            Ok(read) => return Ok(read),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| KmipError::invalid("the key could not be read")))
}

/// A public key a client registered, in `format` (or another form of public
/// key, see [`forms_to_try`]), as the operations use it: its algorithm and a
/// canonical SubjectPublicKeyInfo. Malformed or unsupported keys are refused
/// with a message saying what is wrong.
pub fn import_public(format: u32, bytes: &[u8]) -> Result<(Algorithm, Vec<u8>), KmipError> {
    first_that_reads(&forms_to_try(format, false), |form| {
        import_public_as(form, bytes)
    })
}

/// [`import_public`] for bytes in exactly `format`.
fn import_public_as(format: u32, bytes: &[u8]) -> Result<(Algorithm, Vec<u8>), KmipError> {
    let malformed = |what: &str, error: &dyn std::fmt::Display| {
        KmipError::invalid(format!("the public key is not {what}: {error}"))
    };
    match format {
        format::X509 => {
            let info = SubjectPublicKeyInfoRef::try_from(bytes)
                .map_err(|error| malformed("an X.509 SubjectPublicKeyInfo (DER)", &error))?;
            match family_of(&info.algorithm, "public")? {
                Family::Rsa => {
                    let key = rsa::RsaPublicKey::from_public_key_der(bytes)
                        .map_err(|error| malformed("a valid RSA SubjectPublicKeyInfo", &error))?;
                    rsa_public_spki(&key)
                }
                Family::Ec(curve) => {
                    let algorithm = ec_algorithm(curve)?;
                    let point = info.subject_public_key.as_bytes().ok_or_else(|| {
                        KmipError::invalid("the EC public key's BIT STRING has unused bits")
                    })?;
                    Ok((algorithm, ec_public(algorithm, point)?))
                }
            }
        }
        format::PKCS1 => {
            let key = rsa::RsaPublicKey::from_pkcs1_der(bytes)
                .map_err(|error| malformed("a PKCS#1 RSAPublicKey (DER)", &error))?;
            rsa_public_spki(&key)
        }
        // Raw: an uncompressed EC point, whose length names the curve.
        format::RAW => {
            let algorithm = match bytes.len() {
                65 => Algorithm::EcP256,
                97 => Algorithm::EcP384,
                other => {
                    return Err(KmipError::invalid(format!(
                        "a Raw public key is an uncompressed EC point of 65 (P-256) or 97 (P-384) bytes, not {other}"
                    )));
                }
            };
            Ok((algorithm, ec_public(algorithm, bytes)?))
        }
        other => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "key format 0x{other:02X} is not supported for registering public keys; send X.509, PKCS#1 or Raw (EC point)"
            ),
        )),
    }
}

/// The algorithm and PKCS#8 of an RSA private key, once ring, which will
/// sign with it, accepts it.
fn rsa_private_pkcs8(key: &rsa::RsaPrivateKey) -> Result<(Algorithm, SecretBytes), KmipError> {
    key.validate().map_err(|error| {
        KmipError::invalid(format!("the RSA private key is inconsistent: {error}"))
    })?;
    let algorithm = rsa_algorithm(key.size().saturating_mul(8))?;
    let pkcs8 = key
        .to_pkcs8_der()
        .map_err(|error| crypto_failure(format!("encoding the RSA key failed: {error}")))?;
    signature::RsaKeyPair::from_pkcs8(pkcs8.as_bytes())
        .map_err(|error| KmipError::invalid(format!("the RSA private key was refused: {error}")))?;
    Ok((algorithm, SecretBytes::from_slice(pkcs8.as_bytes())))
}

/// A private key a client registered, in `format` (or another form of private
/// key, see [`forms_to_try`]), as the operations use it: its algorithm and
/// PKCS#8. Malformed or unsupported keys are refused with a message saying
/// what is wrong.
pub fn import_private(format: u32, bytes: &[u8]) -> Result<(Algorithm, SecretBytes), KmipError> {
    first_that_reads(&forms_to_try(format, true), |form| {
        import_private_as(form, bytes)
    })
}

/// [`import_private`] for bytes in exactly `format`.
fn import_private_as(format: u32, bytes: &[u8]) -> Result<(Algorithm, SecretBytes), KmipError> {
    match format {
        format::PKCS8 => {
            let info = PrivateKeyInfo::try_from(bytes).map_err(|error| {
                KmipError::invalid(format!(
                    "the private key is not a PKCS#8 PrivateKeyInfo (DER): {error}"
                ))
            })?;
            match family_of(&info.algorithm, "private")? {
                Family::Rsa => {
                    let key = rsa::RsaPrivateKey::from_pkcs8_der(bytes).map_err(|error| {
                        KmipError::invalid(format!("the RSA private key is malformed: {error}"))
                    })?;
                    rsa_private_pkcs8(&key)
                }
                Family::Ec(curve) => {
                    let algorithm = ec_algorithm(curve)?;
                    let (signing, _) = ecdsa_signing(algorithm)?;
                    signature::EcdsaKeyPair::from_pkcs8(
                        signing,
                        bytes,
                        &ring::rand::SystemRandom::new(),
                    )
                    .map_err(|error| {
                        KmipError::invalid(format!(
                            "the EC private key was refused ({error}); send PKCS#8 v1 whose ECPrivateKey holds the public key, as OpenSSL writes it"
                        ))
                    })?;
                    Ok((algorithm, SecretBytes::from_slice(bytes)))
                }
            }
        }
        format::PKCS1 => {
            let key = rsa::RsaPrivateKey::from_pkcs1_der(bytes).map_err(|error| {
                KmipError::invalid(format!(
                    "the private key is not a PKCS#1 RSAPrivateKey (DER): {error}"
                ))
            })?;
            rsa_private_pkcs8(&key)
        }
        other => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "key format 0x{other:02X} is not supported for registering private keys; send PKCS#8 or PKCS#1 (RSA)"
            ),
        )),
    }
}

/// Checks that `der` is one X.509 certificate and returns the algorithm of
/// its public key (none when the key is of a kind this server does not use)
/// and the Common Name of its subject, when it has one.
pub fn import_certificate(der: &[u8]) -> Result<(Algorithm, Option<String>), KmipError> {
    let (rest, certificate) = x509_parser::parse_x509_certificate(der).map_err(|error| {
        KmipError::invalid(format!(
            "the Certificate Value is not an X.509 certificate (DER): {error}"
        ))
    })?;
    if !rest.is_empty() {
        return Err(KmipError::invalid(format!(
            "the Certificate Value has {} bytes after the certificate; send one DER certificate",
            rest.len()
        )));
    }
    let algorithm = import_public(format::X509, certificate.public_key().raw)
        .map_or(Algorithm::None, |(algorithm, _)| algorithm);
    let common_name = certificate
        .subject()
        .iter_common_name()
        .next()
        .and_then(|name| name.as_str().ok())
        .map(str::to_owned);
    Ok((algorithm, common_name))
}

/// The modulus and public exponent (big-endian magnitudes) of the RSA public
/// key stored as `spki`, for Transparent RSA Public Key.
pub fn rsa_public_numbers(spki: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KmipError> {
    let key = rsa_public(spki)?;
    Ok((key.n().to_bytes_be(), key.e().to_bytes_be()))
}

/// The numbers of the RSA private key stored as `pkcs8`, in the order of
/// KMIP's Transparent RSA Private Key: modulus, private exponent, public
/// exponent, P, Q, prime exponents P and Q, CRT coefficient.
pub fn rsa_private_numbers(pkcs8: &SecretBytes) -> Result<Vec<SecretBytes>, KmipError> {
    let key = rsa_private(pkcs8.expose_secret())?;
    let missing = || crypto_failure("the stored RSA private key lacks its CRT values");
    let [p, q] = key.primes() else {
        return Err(crypto_failure(
            "the stored RSA private key is not a two-prime key",
        ));
    };
    let coefficient = key.crt_coefficient().ok_or_else(missing)?;
    let numbers = [
        key.n(),
        key.d(),
        key.e(),
        p,
        q,
        key.dp().ok_or_else(missing)?,
        key.dq().ok_or_else(missing)?,
        &coefficient,
    ];
    Ok(numbers
        .iter()
        .map(|number| SecretBytes::new(number.to_bytes_be()))
        .collect())
}

/// The private scalar of the EC key stored as `pkcs8` (the ECPrivateKey's
/// privateKey octets), for Transparent EC Private Key.
pub fn ec_private_scalar(pkcs8: &SecretBytes) -> Result<SecretBytes, KmipError> {
    use rsa::pkcs8::der::asn1::OctetStringRef;
    use rsa::pkcs8::der::{Decode as _, Reader as _, SliceReader};
    let unreadable = |error: rsa::pkcs8::der::Error| {
        crypto_failure(format!("the stored EC key is unreadable: {error}"))
    };
    let info = PrivateKeyInfo::try_from(pkcs8.expose_secret())
        .map_err(|error| crypto_failure(format!("the stored EC key is unreadable: {error}")))?;
    let mut reader = SliceReader::new(info.private_key).map_err(unreadable)?;
    reader
        .sequence(|inner| {
            let _version = u8::decode(inner)?;
            let scalar = OctetStringRef::decode(inner)?;
            // The optional curve and public key that follow are not needed.
            let rest = inner.remaining_len();
            inner.read_slice(rest)?;
            Ok(SecretBytes::from_slice(scalar.as_bytes()))
        })
        .map_err(unreadable)
}

/// A big-endian magnitude as the rsa crate's big integer.
fn big(bytes: &[u8]) -> rsa::BigUint {
    rsa::BigUint::from_bytes_be(bytes)
}

/// The algorithm and SubjectPublicKeyInfo of an RSA public key given by its
/// modulus and public exponent (Transparent RSA Public Key).
pub fn rsa_public_from_numbers(
    modulus: &[u8],
    public_exponent: &[u8],
) -> Result<(Algorithm, Vec<u8>), KmipError> {
    let key = rsa::RsaPublicKey::new(big(modulus), big(public_exponent))
        .map_err(|error| KmipError::invalid(format!("the RSA public key is refused: {error}")))?;
    rsa_public_spki(&key)
}

/// The algorithm and PKCS#8 of an RSA private key given by its numbers
/// (Transparent RSA Private Key); the primes are recovered when absent.
pub fn rsa_private_from_numbers(
    modulus: &[u8],
    public_exponent: &[u8],
    private_exponent: &SecretBytes,
    primes: Option<(&SecretBytes, &SecretBytes)>,
) -> Result<(Algorithm, SecretBytes), KmipError> {
    let primes = primes
        .map(|(p, q)| vec![big(p.expose_secret()), big(q.expose_secret())])
        .unwrap_or_default();
    let key = rsa::RsaPrivateKey::from_components(
        big(modulus),
        big(public_exponent),
        big(private_exponent.expose_secret()),
        primes,
    )
    .map_err(|error| KmipError::invalid(format!("the RSA private key is refused: {error}")))?;
    rsa_private_pkcs8(&key)
}

/// The SubjectPublicKeyInfo of an EC public key given by its curve and
/// uncompressed point (Transparent EC Public Key's Q String).
pub fn ec_public_from_point(algorithm: Algorithm, point: &[u8]) -> Result<Vec<u8>, KmipError> {
    ec_public(algorithm, point)
}

/// A hash function KMIP names (Hashing Algorithm values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-1 (0x04): OAEP only.
    Sha1,
    /// SHA-256 (0x06).
    Sha256,
    /// SHA-384 (0x07).
    Sha384,
    /// SHA-512 (0x08).
    Sha512,
}

impl Hash {
    /// The hash for a KMIP Hashing Algorithm value.
    pub fn from_kmip(value: u32) -> Result<Hash, KmipError> {
        match value {
            0x04 => Ok(Hash::Sha1),
            0x06 => Ok(Hash::Sha256),
            0x07 => Ok(Hash::Sha384),
            0x08 => Ok(Hash::Sha512),
            other => Err(not_supported(format!(
                "hashing algorithm 0x{other:02X} is not supported; use SHA-256, SHA-384 or SHA-512 (SHA-1 for OAEP)"
            ))),
        }
    }
}

/// A signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1(Hash),
    /// RSASSA-PSS, salt as long as the hash, MGF1 with the same hash.
    RsaPss(Hash),
    /// ECDSA with a DER (ASN.1) signature.
    Ecdsa(Hash),
}

fn rsa_signing(hash: Hash, pss: bool) -> Result<&'static dyn signature::RsaEncoding, KmipError> {
    match (hash, pss) {
        (Hash::Sha256, false) => Ok(&signature::RSA_PKCS1_SHA256),
        (Hash::Sha384, false) => Ok(&signature::RSA_PKCS1_SHA384),
        (Hash::Sha512, false) => Ok(&signature::RSA_PKCS1_SHA512),
        (Hash::Sha256, true) => Ok(&signature::RSA_PSS_SHA256),
        (Hash::Sha384, true) => Ok(&signature::RSA_PSS_SHA384),
        (Hash::Sha512, true) => Ok(&signature::RSA_PSS_SHA512),
        (Hash::Sha1, _) => Err(not_supported(
            "RSA signatures with SHA-1 are not supported; use SHA-256, SHA-384 or SHA-512",
        )),
    }
}

fn verification(
    scheme: Scheme,
    algorithm: Algorithm,
) -> Result<&'static dyn signature::VerificationAlgorithm, KmipError> {
    Ok(match (scheme, algorithm) {
        (Scheme::RsaPkcs1(Hash::Sha256), _) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (Scheme::RsaPkcs1(Hash::Sha384), _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (Scheme::RsaPkcs1(Hash::Sha512), _) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (Scheme::RsaPss(Hash::Sha256), _) => &signature::RSA_PSS_2048_8192_SHA256,
        (Scheme::RsaPss(Hash::Sha384), _) => &signature::RSA_PSS_2048_8192_SHA384,
        (Scheme::RsaPss(Hash::Sha512), _) => &signature::RSA_PSS_2048_8192_SHA512,
        (Scheme::Ecdsa(Hash::Sha256), Algorithm::EcP256) => &signature::ECDSA_P256_SHA256_ASN1,
        (Scheme::Ecdsa(Hash::Sha384), Algorithm::EcP384) => &signature::ECDSA_P384_SHA384_ASN1,
        (Scheme::Ecdsa(_), _) => return Err(ecdsa_pairing()),
        (_, _) => {
            return Err(not_supported(
                "RSA signatures with SHA-1 are not supported; use SHA-256, SHA-384 or SHA-512",
            ));
        }
    })
}

fn ecdsa_pairing() -> KmipError {
    not_supported("ECDSA is supported with SHA-256 on P-256 keys and SHA-384 on P-384 keys")
}

/// Signs `data` with the private key stored as `pkcs8`.
pub fn sign(
    algorithm: Algorithm,
    scheme: Scheme,
    pkcs8: &SecretBytes,
    data: &[u8],
) -> Result<Vec<u8>, KmipError> {
    let rng = ring::rand::SystemRandom::new();
    match scheme {
        Scheme::RsaPkcs1(hash) | Scheme::RsaPss(hash) => {
            let encoding = rsa_signing(hash, matches!(scheme, Scheme::RsaPss(_)))?;
            let pair = signature::RsaKeyPair::from_pkcs8(pkcs8.expose_secret())
                .map_err(|error| crypto_failure(format!("the RSA key was refused: {error}")))?;
            let mut out = vec![0_u8; pair.public().modulus_len()];
            pair.sign(encoding, &rng, data, &mut out)
                .map_err(|_| crypto_failure("RSA signing failed"))?;
            Ok(out)
        }
        Scheme::Ecdsa(hash) => {
            let (signing, _) = ecdsa_signing(algorithm)?;
            let expected = if algorithm == Algorithm::EcP256 {
                Hash::Sha256
            } else {
                Hash::Sha384
            };
            if hash != expected {
                return Err(ecdsa_pairing());
            }
            let pair = signature::EcdsaKeyPair::from_pkcs8(signing, pkcs8.expose_secret(), &rng)
                .map_err(|error| crypto_failure(format!("the EC key was refused: {error}")))?;
            pair.sign(&rng, data)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| crypto_failure("ECDSA signing failed"))
        }
    }
}

/// Whether `signature` is a valid signature of `data` by the public key `spki`.
pub fn verify(
    algorithm: Algorithm,
    scheme: Scheme,
    spki: &[u8],
    data: &[u8],
    signature_bytes: &[u8],
) -> Result<bool, KmipError> {
    let verifier = verification(scheme, algorithm)?;
    let key = match algorithm.family() {
        "rsa" => export_public(algorithm, spki, format::PKCS1)?,
        _ => ec_point(algorithm, spki)?.to_vec(),
    };
    Ok(signature::UnparsedPublicKey::new(verifier, key)
        .verify(data, signature_bytes)
        .is_ok())
}

fn oaep(hash: Hash, mask_hash: Hash) -> rsa::Oaep {
    use sha1::Sha1;
    use sha2::{Sha256, Sha384, Sha512};
    macro_rules! with_mask {
        ($digest:ty) => {
            match mask_hash {
                Hash::Sha1 => rsa::Oaep::new_with_mgf_hash::<$digest, Sha1>(),
                Hash::Sha256 => rsa::Oaep::new_with_mgf_hash::<$digest, Sha256>(),
                Hash::Sha384 => rsa::Oaep::new_with_mgf_hash::<$digest, Sha384>(),
                Hash::Sha512 => rsa::Oaep::new_with_mgf_hash::<$digest, Sha512>(),
            }
        };
    }
    match hash {
        Hash::Sha1 => with_mask!(Sha1),
        Hash::Sha256 => with_mask!(Sha256),
        Hash::Sha384 => with_mask!(Sha384),
        Hash::Sha512 => with_mask!(Sha512),
    }
}

/// RSA OAEP encryption with the public key stored as `spki`.
pub fn oaep_encrypt(
    spki: &[u8],
    hash: Hash,
    mask_hash: Hash,
    data: &[u8],
) -> Result<Vec<u8>, KmipError> {
    rsa_public(spki)?
        .encrypt(&mut rand::rngs::OsRng, oaep(hash, mask_hash), data)
        .map_err(|error| {
            KmipError::invalid(format!(
                "RSA OAEP encryption failed ({error}); the data may be too long for the key"
            ))
        })
}

/// RSA OAEP decryption (blinded) with the private key stored as `pkcs8`.
pub fn oaep_decrypt(
    pkcs8: &SecretBytes,
    hash: Hash,
    mask_hash: Hash,
    data: &[u8],
) -> Result<SecretBytes, KmipError> {
    rsa_private(pkcs8.expose_secret())?
        .decrypt_blinded(&mut rand::rngs::OsRng, oaep(hash, mask_hash), data)
        .map(SecretBytes::new)
        .map_err(|_| crypto_failure("RSA OAEP decryption failed: wrong key, parameters or data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_pairs_sign_verify_and_export() {
        for (algorithm, hash) in [
            (Algorithm::EcP256, Hash::Sha256),
            (Algorithm::EcP384, Hash::Sha384),
        ] {
            let pair = generate(algorithm).unwrap();
            let signature = sign(
                algorithm,
                Scheme::Ecdsa(hash),
                &pair.private_pkcs8,
                b"message",
            )
            .unwrap();
            let scheme = Scheme::Ecdsa(hash);
            assert!(verify(algorithm, scheme, &pair.public_spki, b"message", &signature).unwrap());
            assert!(!verify(algorithm, scheme, &pair.public_spki, b"other", &signature).unwrap());
            let point = export_public(algorithm, &pair.public_spki, format::RAW).unwrap();
            assert_eq!(point.first(), Some(&0x04));
            assert!(export_private(algorithm, &pair.private_pkcs8, format::PKCS1).is_err());
        }
        let pair = generate(Algorithm::EcP256).unwrap();
        let refused = sign(
            Algorithm::EcP256,
            Scheme::Ecdsa(Hash::Sha384),
            &pair.private_pkcs8,
            b"m",
        );
        assert_eq!(
            refused.err().map(|error| error.reason),
            Some(ResultReason::FeatureNotSupported)
        );
    }

    /// One RSA-2048 key (generation is the slow part) for every RSA scheme,
    /// OAEP with both hashes and both public formats.
    #[test]
    fn rsa_pair_signs_in_every_scheme_and_round_trips_oaep() {
        let algorithm = Algorithm::Rsa2048;
        let pair = generate(algorithm).unwrap();
        for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
            for scheme in [Scheme::RsaPkcs1(hash), Scheme::RsaPss(hash)] {
                let signature = sign(algorithm, scheme, &pair.private_pkcs8, b"data").unwrap();
                assert_eq!(signature.len(), 256);
                assert!(verify(algorithm, scheme, &pair.public_spki, b"data", &signature).unwrap());
                assert!(!verify(algorithm, scheme, &pair.public_spki, b"dat", &signature).unwrap());
            }
        }
        for hash in [Hash::Sha1, Hash::Sha256] {
            let sealed = oaep_encrypt(&pair.public_spki, hash, hash, b"secret").unwrap();
            let opened = oaep_decrypt(&pair.private_pkcs8, hash, hash, &sealed).unwrap();
            assert_eq!(opened.expose_secret(), b"secret");
            let wrong = if hash == Hash::Sha1 {
                Hash::Sha256
            } else {
                Hash::Sha1
            };
            assert!(oaep_decrypt(&pair.private_pkcs8, wrong, wrong, &sealed).is_err());
        }
        let pkcs1 = export_public(algorithm, &pair.public_spki, format::PKCS1).unwrap();
        assert!(pkcs1.len() < pair.public_spki.len());
        let private_pkcs1 = export_private(algorithm, &pair.private_pkcs8, format::PKCS1).unwrap();
        assert!(!private_pkcs1.is_empty());
        assert_eq!(
            export_public(algorithm, &pair.public_spki, format::RAW)
                .err()
                .map(|error| error.reason),
            Some(ResultReason::KeyFormatTypeNotSupported)
        );
    }

    #[test]
    fn rejects_ec_points_off_the_curve_or_compressed() {
        let pair = generate(Algorithm::EcP256).unwrap();
        let point = export_public(Algorithm::EcP256, &pair.public_spki, format::RAW).unwrap();
        let (algorithm, spki) = import_public(format::RAW, &point).unwrap();
        assert_eq!(
            (algorithm, spki),
            (Algorithm::EcP256, pair.public_spki.clone())
        );
        let mut off_curve = point.clone();
        if let Some(last) = off_curve.last_mut() {
            *last ^= 0x01;
        }
        let mut compressed = vec![0x02 | (point.last().copied().unwrap_or(0) & 1)];
        compressed.extend_from_slice(point.get(1..33).unwrap());
        for bad in [off_curve, compressed] {
            assert_eq!(
                import_public(format::RAW, &bad)
                    .err()
                    .map(|error| error.reason),
                Some(ResultReason::InvalidField)
            );
        }
        // The same point inside a SubjectPublicKeyInfo is checked as well.
        let mut spki = pair.public_spki;
        if let Some(last) = spki.last_mut() {
            *last ^= 0x01;
        }
        assert_eq!(
            import_public(format::X509, &spki)
                .err()
                .map(|error| error.reason),
            Some(ResultReason::InvalidField)
        );
    }

    #[test]
    fn rejects_rsa_keys_of_unsupported_sizes() {
        let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let pkcs8 = small.to_pkcs8_der().unwrap();
        let refused = import_private(format::PKCS8, pkcs8.as_bytes())
            .err()
            .unwrap();
        assert_eq!(refused.reason, ResultReason::InvalidField);
        assert!(refused.message.contains("1024 bits"), "{}", refused.message);
        let public = small.to_public_key().to_public_key_der().unwrap();
        assert!(import_public(format::X509, public.as_bytes()).is_err());
    }
}
