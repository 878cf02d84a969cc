//! The KMIP enumeration values this server reads and writes (object types,
//! algorithms, key formats, ...) and their keystore counterparts.

use keystore::object::{Algorithm, ObjectType, State};

use crate::error::{KmipError, ResultReason};

/// KMIP Object Type values.
pub(super) mod object_type {
    pub const CERTIFICATE: u32 = 0x01;
    pub const SYMMETRIC_KEY: u32 = 0x02;
    pub const PUBLIC_KEY: u32 = 0x03;
    pub const PRIVATE_KEY: u32 = 0x04;
    pub const SPLIT_KEY: u32 = 0x05;
    pub const SECRET_DATA: u32 = 0x07;
    pub const OPAQUE_OBJECT: u32 = 0x08;
}

/// KMIP Cryptographic Algorithm values.
pub(super) mod algorithm {
    pub const DES: u32 = 0x01;
    pub const TRIPLE_DES: u32 = 0x02;
    pub const AES: u32 = 0x03;
    pub const RSA: u32 = 0x04;
    pub const ECDSA: u32 = 0x06;
    pub const HMAC_SHA256: u32 = 0x09;
    pub const BLOWFISH: u32 = 0x10;
    pub const CHACHA20: u32 = 0x1C;
    pub const CHACHA20_POLY1305: u32 = 0x1E;
    pub const EC: u32 = 0x1A;
}

/// KMIP Certificate Type values.
pub(super) mod certificate_type {
    pub const X509: u32 = 0x01;
}

/// KMIP Link Type values.
pub(super) mod link_type {
    pub const PUBLIC_KEY_LINK: u32 = 0x0102;
    pub const PRIVATE_KEY_LINK: u32 = 0x0103;
    pub const REPLACEMENT_OBJECT_LINK: u32 = 0x0106;
    pub const REPLACED_OBJECT_LINK: u32 = 0x0107;
}

/// KMIP Recommended Curve values.
pub(super) mod curve {
    pub const P_256: u32 = 0x07;
    pub const P_384: u32 = 0x0A;
}

/// KMIP Key Format Type values.
pub(super) mod key_format {
    pub const RAW: u32 = 0x01;
    pub const OPAQUE: u32 = 0x02;
    pub const TRANSPARENT_SYMMETRIC: u32 = 0x07;
    pub const TRANSPARENT_RSA_PRIVATE: u32 = 0x0A;
    pub const TRANSPARENT_RSA_PUBLIC: u32 = 0x0B;
    /// KMIP 1.0 to 1.2's names for what 1.3 calls Transparent EC keys.
    pub const TRANSPARENT_ECDSA_PRIVATE: u32 = 0x0E;
    pub const TRANSPARENT_ECDSA_PUBLIC: u32 = 0x0F;
    pub const TRANSPARENT_EC_PRIVATE: u32 = 0x14;
    pub const TRANSPARENT_EC_PUBLIC: u32 = 0x15;
}

/// KMIP Secret Data Type values.
pub(super) mod secret_data_type {
    pub const PASSWORD: u32 = 0x01;
}

/// KMIP Opaque Data Type values.
pub(super) mod opaque_data_type {
    /// The vendor-neutral "unknown" value (the first of the extension range).
    pub const UNKNOWN: u32 = 0x8000_0000;
}

/// KMIP Block Cipher Mode values for key wrapping.
pub(super) mod block_mode {
    pub const AES_KEY_WRAP_PADDING: u32 = 0x0C;
    pub const NIST_KEY_WRAP: u32 = 0x0D;
}

pub(super) fn kmip_state(state: State) -> u32 {
    match state {
        State::PreActive => 1,
        State::Active => 2,
        State::Deactivated => 3,
        State::Compromised => 4,
        State::Destroyed => 5,
        State::DestroyedCompromised => 6,
    }
}

pub(super) fn state_from_kmip(value: u32) -> Option<State> {
    Some(match value {
        1 => State::PreActive,
        2 => State::Active,
        3 => State::Deactivated,
        4 => State::Compromised,
        5 => State::Destroyed,
        6 => State::DestroyedCompromised,
        _ => return None,
    })
}

pub(super) fn kmip_object_type(object: ObjectType) -> u32 {
    match object {
        ObjectType::SymmetricKey => object_type::SYMMETRIC_KEY,
        ObjectType::SecretData => object_type::SECRET_DATA,
        ObjectType::OpaqueObject => object_type::OPAQUE_OBJECT,
        ObjectType::PublicKey => object_type::PUBLIC_KEY,
        ObjectType::PrivateKey => object_type::PRIVATE_KEY,
        ObjectType::Certificate => object_type::CERTIFICATE,
        ObjectType::SplitKey => object_type::SPLIT_KEY,
        // Object types added to the keystore later are reported as opaque until
        // this crate learns them.
        _ => object_type::OPAQUE_OBJECT,
    }
}

pub(super) fn object_type_from_kmip(value: u32) -> Option<ObjectType> {
    match value {
        object_type::SYMMETRIC_KEY => Some(ObjectType::SymmetricKey),
        object_type::SECRET_DATA => Some(ObjectType::SecretData),
        object_type::OPAQUE_OBJECT => Some(ObjectType::OpaqueObject),
        object_type::PUBLIC_KEY => Some(ObjectType::PublicKey),
        object_type::PRIVATE_KEY => Some(ObjectType::PrivateKey),
        object_type::CERTIFICATE => Some(ObjectType::Certificate),
        object_type::SPLIT_KEY => Some(ObjectType::SplitKey),
        _ => None,
    }
}

pub(super) fn kmip_algorithm(algorithm: Algorithm) -> Option<u32> {
    match algorithm {
        Algorithm::Aes128 | Algorithm::Aes256 => Some(algorithm::AES),
        Algorithm::HmacSha256 => Some(algorithm::HMAC_SHA256),
        Algorithm::Rsa2048 | Algorithm::Rsa3072 | Algorithm::Rsa4096 => Some(algorithm::RSA),
        Algorithm::EcP256 | Algorithm::EcP384 => Some(algorithm::ECDSA),
        _ => None,
    }
}

/// The keystore algorithm of a key pair: RSA by modulus length, EC by
/// Recommended Curve or, when none is named, by length.
pub(super) fn key_pair_algorithm(
    kmip: u32,
    bits: Option<i32>,
    curve: Option<u32>,
) -> Result<Algorithm, KmipError> {
    match (kmip, bits, curve) {
        (algorithm::RSA, Some(2048), _) => Ok(Algorithm::Rsa2048),
        (algorithm::RSA, Some(3072), _) => Ok(Algorithm::Rsa3072),
        (algorithm::RSA, Some(4096), _) => Ok(Algorithm::Rsa4096),
        (algorithm::RSA, Some(other), _) => Err(KmipError::invalid(format!(
            "RSA keys of {other} bits are not supported; use 2048, 3072 or 4096"
        ))),
        (algorithm::RSA, None, _) => Err(KmipError::missing("Cryptographic Length attribute")),
        (algorithm::ECDSA | algorithm::EC, _, Some(curve::P_256))
        | (algorithm::ECDSA | algorithm::EC, Some(256), None) => Ok(Algorithm::EcP256),
        (algorithm::ECDSA | algorithm::EC, _, Some(curve::P_384))
        | (algorithm::ECDSA | algorithm::EC, Some(384), None) => Ok(Algorithm::EcP384),
        (algorithm::ECDSA | algorithm::EC, _, _) => Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "EC keys are supported on the curves P-256 and P-384 (Recommended Curve, or Cryptographic Length 256 or 384)",
        )),
        (other, _, _) => Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            format!(
                "cryptographic algorithm 0x{other:02X} is not supported for key pairs; use RSA, ECDSA or EC"
            ),
        )),
    }
}

/// The keystore algorithm for a KMIP algorithm and length in bits.
pub(super) fn keystore_algorithm(kmip: u32, bits: i32) -> Result<Algorithm, KmipError> {
    match (kmip, bits) {
        (algorithm::AES, 128) => Ok(Algorithm::Aes128),
        (algorithm::AES, 256) => Ok(Algorithm::Aes256),
        (algorithm::HMAC_SHA256, 256) => Ok(Algorithm::HmacSha256),
        (algorithm::AES, other) => Err(KmipError::invalid(format!(
            "AES keys of {other} bits are not supported; use 128 or 256"
        ))),
        (algorithm::HMAC_SHA256, other) => Err(KmipError::invalid(format!(
            "HMAC-SHA256 keys of {other} bits are not supported; use 256"
        ))),
        (other, _) => Err(KmipError::invalid(format!(
            "cryptographic algorithm 0x{other:02X} is not supported for symmetric keys; use AES or HMAC-SHA256"
        ))),
    }
}

/// The keystore algorithm of a KMIP Recommended Curve.
pub(super) fn curve_algorithm(value: u32) -> Result<Algorithm, KmipError> {
    match value {
        curve::P_256 => Ok(Algorithm::EcP256),
        curve::P_384 => Ok(Algorithm::EcP384),
        other => Err(KmipError::invalid(format!(
            "Recommended Curve 0x{other:02X} is not supported; use P-256 or P-384"
        ))),
    }
}

/// The KMIP Recommended Curve of an EC algorithm.
pub(super) fn kmip_curve(algorithm: Algorithm) -> u32 {
    if algorithm == Algorithm::EcP384 {
        curve::P_384
    } else {
        curve::P_256
    }
}
