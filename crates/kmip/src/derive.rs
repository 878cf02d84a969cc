//! The key derivation functions of KMIP Derive Key: PBKDF2, HMAC (as HKDF,
//! RFC 5869) and NIST SP 800-108 in counter mode with an HMAC PRF. Their
//! parameters follow what PyKMIP's server does, so a client's locally derived
//! key matches: HKDF takes the Salt and the Derivation Data as `info`; the
//! SP 800-108 counter is 32 bits, big-endian, before the Derivation Data (the
//! fixed input), from 1.

use hmac::{Hmac, Mac};
use keystore::secret::SecretBytes;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use crate::asymmetric::Hash;
use crate::error::{KmipError, ResultReason};

/// Most PBKDF2 iterations accepted: enough for any password policy, few enough
/// that one request cannot hold a worker for minutes.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// PBKDF2 with HMAC over `hash`.
pub fn pbkdf2(
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    length: usize,
) -> SecretBytes {
    let mut out = vec![0_u8; length];
    match hash {
        Hash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
        Hash::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
        Hash::Sha384 => pbkdf2::pbkdf2_hmac::<Sha384>(password, salt, iterations, &mut out),
        Hash::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out),
    }
    SecretBytes::new(out)
}

/// HKDF (extract with `salt`, expand with `info`) over `hash`.
pub fn hkdf(
    hash: Hash,
    key: &[u8],
    salt: &[u8],
    info: &[u8],
    length: usize,
) -> Result<SecretBytes, KmipError> {
    let mut out = vec![0_u8; length];
    let expanded = match hash {
        Hash::Sha1 => hkdf::Hkdf::<Sha1>::new(Some(salt), key).expand(info, &mut out),
        Hash::Sha256 => hkdf::Hkdf::<Sha256>::new(Some(salt), key).expand(info, &mut out),
        Hash::Sha384 => hkdf::Hkdf::<Sha384>::new(Some(salt), key).expand(info, &mut out),
        Hash::Sha512 => hkdf::Hkdf::<Sha512>::new(Some(salt), key).expand(info, &mut out),
    };
    let secret = SecretBytes::new(out);
    expanded.map_err(|_| {
        KmipError::invalid("HMAC derivation gives at most 255 hash lengths; ask for a shorter key")
    })?;
    Ok(secret)
}

fn counter_mode<M: Mac + hmac::digest::KeyInit>(
    key: &[u8],
    fixed: &[u8],
    length: usize,
) -> Result<SecretBytes, KmipError> {
    let mut out = Vec::with_capacity(length);
    let mut counter: u32 = 1;
    while out.len() < length {
        let mut prf = <M as hmac::digest::KeyInit>::new_from_slice(key).map_err(|_| {
            KmipError::new(
                ResultReason::CryptographicFailure,
                "the base key was refused as an HMAC key",
            )
        })?;
        prf.update(&counter.to_be_bytes());
        prf.update(fixed);
        let block = prf.finalize().into_bytes();
        let wanted = length.saturating_sub(out.len()).min(block.len());
        out.extend(block.iter().take(wanted));
        counter = counter.checked_add(1).ok_or_else(|| {
            KmipError::invalid("the derived key is too long for a 32-bit counter")
        })?;
    }
    Ok(SecretBytes::new(out))
}

/// NIST SP 800-108 KDF in counter mode with HMAC over `hash`.
pub fn sp800_108_counter(
    hash: Hash,
    key: &[u8],
    fixed: &[u8],
    length: usize,
) -> Result<SecretBytes, KmipError> {
    match hash {
        Hash::Sha1 => counter_mode::<Hmac<Sha1>>(key, fixed, length),
        Hash::Sha256 => counter_mode::<Hmac<Sha256>>(key, fixed, length),
        Hash::Sha384 => counter_mode::<Hmac<Sha384>>(key, fixed, length),
        Hash::Sha512 => counter_mode::<Hmac<Sha512>>(key, fixed, length),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|index| u8::from_str_radix(text.get(index..index + 2).unwrap(), 16).unwrap())
            .collect()
    }

    /// RFC 6070 test vector 2 (PBKDF2-HMAC-SHA1, 2 iterations).
    #[test]
    fn pbkdf2_matches_rfc_6070() {
        let out = pbkdf2(Hash::Sha1, b"password", b"salt", 2, 20);
        assert_eq!(
            out.expose_secret(),
            hex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957").as_slice()
        );
    }

    /// RFC 5869 test case 1 (HKDF-SHA256).
    #[test]
    fn hkdf_matches_rfc_5869() {
        let out = hkdf(
            Hash::Sha256,
            &hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            &hex("000102030405060708090a0b0c"),
            &hex("f0f1f2f3f4f5f6f7f8f9"),
            42,
        )
        .unwrap();
        assert_eq!(
            out.expose_secret(),
            hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
                .as_slice()
        );
    }

    /// The counter-mode output is HMAC(key, counter || fixed) blocks, truncated.
    #[test]
    fn counter_mode_concatenates_counted_blocks() {
        let key = [7_u8; 32];
        let out = sp800_108_counter(Hash::Sha256, &key, b"fixed", 40).unwrap();
        let block = |counter: u32| {
            let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(&key).unwrap();
            mac.update(&counter.to_be_bytes());
            mac.update(b"fixed");
            mac.finalize().into_bytes().to_vec()
        };
        let mut expected = block(1);
        expected.extend(block(2).iter().take(8));
        assert_eq!(out.expose_secret(), expected.as_slice());
    }
}
