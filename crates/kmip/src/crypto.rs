//! The cryptographic operations KMIP Encrypt, Decrypt, MAC and MAC Verify run
//! with a stored key: AES-GCM and HMAC-SHA256.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{KmipError, ResultReason};

/// GCM nonce length in bytes: the 96 bits NIST SP 800-38D recommends.
pub const GCM_IV_LEN: usize = 12;

/// GCM authentication tag length in bytes.
pub const GCM_TAG_LEN: usize = 16;

fn crypto_failure(what: &str) -> KmipError {
    KmipError::new(ResultReason::CryptographicFailure, what.to_owned())
}

/// AES-GCM encryption; returns the ciphertext and the tag separately, as KMIP
/// sends them.
pub fn gcm_encrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), KmipError> {
    if iv.len() != GCM_IV_LEN {
        return Err(KmipError::invalid(format!(
            "the GCM IV must be {GCM_IV_LEN} bytes, not {}",
            iv.len()
        )));
    }
    let nonce = Nonce::from_slice(iv);
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    let mut sealed = match key.len() {
        16 => Aes128Gcm::new_from_slice(key)
            .map_err(|_| crypto_failure("the AES key has the wrong length"))?
            .encrypt(nonce, payload),
        32 => Aes256Gcm::new_from_slice(key)
            .map_err(|_| crypto_failure("the AES key has the wrong length"))?
            .encrypt(nonce, payload),
        other => {
            return Err(KmipError::invalid(format!(
                "AES-GCM needs a 128 or 256-bit key; this key is {} bits",
                other.saturating_mul(8)
            )));
        }
    }
    .map_err(|_| crypto_failure("AES-GCM encryption failed"))?;
    let tag = sealed.split_off(sealed.len().saturating_sub(GCM_TAG_LEN));
    Ok((sealed, tag))
}

/// AES-GCM decryption with the tag given separately.
pub fn gcm_decrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>, KmipError> {
    if iv.len() != GCM_IV_LEN || tag.len() != GCM_TAG_LEN {
        return Err(KmipError::invalid(format!(
            "AES-GCM needs a {GCM_IV_LEN}-byte IV and a {GCM_TAG_LEN}-byte tag"
        )));
    }
    let nonce = Nonce::from_slice(iv);
    let mut joined = Vec::with_capacity(ciphertext.len().saturating_add(tag.len()));
    joined.extend_from_slice(ciphertext);
    joined.extend_from_slice(tag);
    let payload = Payload { msg: &joined, aad };
    match key.len() {
        16 => Aes128Gcm::new_from_slice(key)
            .map_err(|_| crypto_failure("the AES key has the wrong length"))?
            .decrypt(nonce, payload),
        32 => Aes256Gcm::new_from_slice(key)
            .map_err(|_| crypto_failure("the AES key has the wrong length"))?
            .decrypt(nonce, payload),
        _ => return Err(KmipError::invalid("AES-GCM needs a 128 or 256-bit key")),
    }
    .map_err(|_| crypto_failure("AES-GCM authentication failed: wrong key, IV, tag or data"))
}

/// HMAC-SHA256 of `data`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, KmipError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| crypto_failure("the HMAC key was refused"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Whether `expected` is the HMAC-SHA256 of `data`, compared in constant time.
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], expected: &[u8]) -> Result<bool, KmipError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| crypto_failure("the HMAC key was refused"))?;
    mac.update(data);
    Ok(mac.verify_slice(expected).is_ok())
}
