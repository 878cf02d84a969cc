//! What a key a client registers is, read from its bytes without converting
//! them: Register keeps keys as clients send them, in the format they name,
//! and reports the algorithm and size it finds here. A key of a size or curve
//! the server cannot use is still stored; the operation that would use it
//! says why it cannot.

use keystore::object::Algorithm;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::pkcs8::spki::SubjectPublicKeyInfoRef;
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, ObjectIdentifier, PrivateKeyInfo};
use rsa::traits::PublicKeyParts as _;

use crate::asymmetric::{
    Family, SECP256R1, SECP384R1, family_of, first_that_reads, format, forms_to_try,
};
use crate::error::{KmipError, ResultReason};

/// KMIP Cryptographic Algorithm RSA.
const RSA: u32 = 0x04;
/// KMIP Cryptographic Algorithm ECDSA, as keys the server generates report it.
const ECDSA: u32 = 0x06;

/// NIST P-521 (secp521r1): read and stored, not used.
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// What a registered key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFacts {
    /// Its KMIP Cryptographic Algorithm (RSA or ECDSA).
    pub kmip_algorithm: u32,
    /// Its size: the modulus of an RSA key, the curve of an EC key, in bits.
    pub bits: u32,
    /// The keystore algorithm when the server can use the key (RSA 2048,
    /// 3072 or 4096; EC on P-256 or P-384), else [`Algorithm::None`].
    pub usable: Algorithm,
}

fn rsa_facts(modulus_bytes: usize) -> KeyFacts {
    let bits = u32::try_from(modulus_bytes.saturating_mul(8)).unwrap_or(u32::MAX);
    KeyFacts {
        kmip_algorithm: RSA,
        bits,
        usable: match bits {
            2048 => Algorithm::Rsa2048,
            3072 => Algorithm::Rsa3072,
            4096 => Algorithm::Rsa4096,
            _ => Algorithm::None,
        },
    }
}

fn ec_facts(curve: ObjectIdentifier) -> Result<KeyFacts, KmipError> {
    let (bits, usable) = if curve == SECP256R1 {
        (256, Algorithm::EcP256)
    } else if curve == SECP384R1 {
        (384, Algorithm::EcP384)
    } else if curve == SECP521R1 {
        (521, Algorithm::None)
    } else {
        return Err(KmipError::invalid(format!(
            "EC keys on the curve {curve} are not supported; use a NIST P curve"
        )));
    };
    Ok(KeyFacts {
        kmip_algorithm: ECDSA,
        bits,
        usable,
    })
}

fn malformed(what: &str, error: &dyn std::fmt::Display) -> KmipError {
    KmipError::invalid(format!("the key is not {what}: {error}"))
}

/// What the public key in `bytes` is: read as `format` names, or as another
/// form of public key ([`forms_to_try`]). Bytes that are no public key are
/// Invalid Field; formats the server does not read are Key Format Type Not
/// Supported.
pub fn public_key_facts(format: u32, bytes: &[u8]) -> Result<KeyFacts, KmipError> {
    first_that_reads(&forms_to_try(format, false), |form| match form {
        format::X509 => {
            let info = SubjectPublicKeyInfoRef::try_from(bytes)
                .map_err(|error| malformed("an X.509 SubjectPublicKeyInfo (DER)", &error))?;
            match family_of(&info.algorithm, "public")? {
                Family::Rsa => rsa::RsaPublicKey::from_public_key_der(bytes)
                    .map(|key| rsa_facts(key.size()))
                    .map_err(|error| malformed("a valid RSA SubjectPublicKeyInfo", &error)),
                Family::Ec(curve) => ec_facts(curve),
            }
        }
        format::PKCS1 => rsa::RsaPublicKey::from_pkcs1_der(bytes)
            .map(|key| rsa_facts(key.size()))
            .map_err(|error| malformed("a PKCS#1 RSAPublicKey (DER)", &error)),
        // An uncompressed EC point, whose length names the curve.
        format::RAW => match (bytes.first(), bytes.len()) {
            (Some(0x04), 65) => ec_facts(SECP256R1),
            (Some(0x04), 97) => ec_facts(SECP384R1),
            (Some(0x04), 133) => ec_facts(SECP521R1),
            (_, other) => Err(KmipError::invalid(format!(
                "a Raw public key is an uncompressed EC point (65, 97 or 133 bytes) or a DER public key, not {other} bytes of neither"
            ))),
        },
        other => Err(unsupported(other, "public")),
    })
}

/// What the private key in `bytes` is: read as `format` names, or as another
/// form of private key ([`forms_to_try`]); an RSA key must be consistent.
pub fn private_key_facts(format: u32, bytes: &[u8]) -> Result<KeyFacts, KmipError> {
    first_that_reads(&forms_to_try(format, true), |form| match form {
        format::PKCS8 => {
            let info = PrivateKeyInfo::try_from(bytes)
                .map_err(|error| malformed("a PKCS#8 PrivateKeyInfo (DER)", &error))?;
            match family_of(&info.algorithm, "private")? {
                Family::Rsa => rsa::RsaPrivateKey::from_pkcs8_der(bytes)
                    .map_err(|error| malformed("a valid RSA private key", &error))
                    .and_then(|key| checked_rsa(&key)),
                Family::Ec(curve) => ec_facts(curve),
            }
        }
        format::PKCS1 => rsa::RsaPrivateKey::from_pkcs1_der(bytes)
            .map_err(|error| malformed("a PKCS#1 RSAPrivateKey (DER)", &error))
            .and_then(|key| checked_rsa(&key)),
        // Raw private keys are DER in practice: tried as PKCS#8, then PKCS#1.
        format::RAW => Err(KmipError::invalid(
            "a Raw private key must be DER (PKCS#8 or PKCS#1)",
        )),
        other => Err(unsupported(other, "private")),
    })
}

/// An RSA private key's facts, once its numbers agree with each other.
fn checked_rsa(key: &rsa::RsaPrivateKey) -> Result<KeyFacts, KmipError> {
    key.validate().map_err(|error| {
        KmipError::invalid(format!("the RSA private key is inconsistent: {error}"))
    })?;
    Ok(rsa_facts(key.size()))
}

fn unsupported(format: u32, kind: &str) -> KmipError {
    KmipError::new(
        ResultReason::KeyFormatTypeNotSupported,
        format!(
            "key format 0x{format:02X} is not supported for {kind} keys; send PKCS#1, PKCS#8, X.509, Raw or a Transparent format"
        ),
    )
}
