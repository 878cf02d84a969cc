//! Wrapping (authenticated encryption) of keys and secrets under a key-encryption
//! key with AES-256-GCM, bound to associated data that names what is wrapped.
//!
//! Wrapped format, version 1 (all lengths in bytes):
//!
//! ```text
//! +---------+-----------+-----------------------------+---------+
//! | version | nonce     | ciphertext                  | tag     |
//! | 1: 0x01 | 12 random | same length as plaintext    | 16      |
//! +---------+-----------+-----------------------------+---------+
//! ```
//!
//! The associated data is not stored: the caller supplies it again when unwrapping
//! (for example the object id and version), so a wrapped value copied to another
//! row does not unwrap there. The version byte is not covered by the tag; a changed
//! version byte is either rejected as unknown or (if changed to another known
//! version later) fails authentication under that version's rules.
//!
//! Nonces are random. With 96-bit random nonces one key may wrap about 2^32 values
//! before the chance of a repeated nonce reaches 2^-32, far more than a
//! key-encryption key wraps in its life; keys are rotated long before that.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::secret::{Key256, SecretBytes};

/// The format version written by [`wrap`].
pub const WRAP_VERSION: u8 = 1;
/// Length of the random nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes added to the plaintext length by [`wrap`]: version, nonce and tag.
pub const WRAP_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// AES-GCM's limit on the plaintext and on the associated data (NIST SP 800-38D
/// allows a little less than 2^36 bytes; the `aes-gcm` crate checks 2^36).
const MAX_INPUT_LEN: u64 = 1 << 36;

/// Why a value could not be wrapped or unwrapped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WrapError {
    /// The wrapped value is shorter than the fixed overhead.
    #[error(
        "wrapped value is too short ({len} bytes, at least {min} needed); \
         it was truncated, restore it from a backup"
    )]
    TooShort {
        /// Length that was given.
        len: usize,
        /// Minimum length of a wrapped value.
        min: usize,
    },
    /// The first byte names a format this version does not know.
    #[error(
        "wrapped value has unknown format version {version}; \
         it was written by a newer Cryptainer, upgrade to read it"
    )]
    UnknownVersion {
        /// The version byte that was found.
        version: u8,
    },
    /// The tag did not verify.
    ///
    /// The `aead::Error` from the cipher carries no information (it is the same
    /// value for every failure, by design), so it is not kept as a source.
    #[error(
        "cannot unwrap: wrong key or the data was altered; \
         use the key and context it was wrapped with, or restore it from a backup"
    )]
    AuthenticationFailed,
    /// The caller has no key of the version a stored value names (for callers that
    /// pick the key-encryption key by version; [`unwrap`] itself never returns it).
    #[error(
        "no key-encryption key of the version this value names is loaded; \
         the database refers to a key that does not exist, restore it from a backup"
    )]
    UnknownKey,
    /// The plaintext or the associated data exceeds what AES-GCM may encrypt.
    #[error(
        "value too large to wrap ({data_len} bytes of data, {aad_len} bytes of \
         associated data; AES-GCM allows at most 2^36 bytes each); wrap smaller values"
    )]
    TooLong {
        /// Length of the plaintext or ciphertext.
        data_len: usize,
        /// Length of the associated data.
        aad_len: usize,
    },
}

/// Encrypts `plaintext` under `kek`, bound to `aad`, with a fresh random nonce.
///
/// Returns `version (1) || nonce (12) || ciphertext || tag (16)`. The only error is
/// [`WrapError::TooLong`], for inputs larger than AES-GCM allows (2^36 bytes).
pub fn wrap(kek: &Key256, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, WrapError> {
    check_input_lengths(plaintext.len(), aad.len())?;
    let cipher = Aes256Gcm::new(kek.expose_secret().into());

    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);

    // The plaintext is copied into a buffer that is encrypted in place. It is wiped
    // on drop in case encryption fails and the buffer still holds plaintext.
    let mut body = Zeroizing::new(plaintext.to_vec());
    let tag = cipher
        .encrypt_in_place_detached((&nonce).into(), aad, body.as_mut_slice())
        .map_err(|_| WrapError::TooLong {
            data_len: plaintext.len(),
            aad_len: aad.len(),
        })?;

    let mut wrapped = Vec::with_capacity(WRAP_OVERHEAD.saturating_add(plaintext.len()));
    wrapped.push(WRAP_VERSION);
    wrapped.extend_from_slice(&nonce);
    wrapped.extend_from_slice(&body);
    wrapped.extend_from_slice(&tag);
    Ok(wrapped)
}

/// Decrypts a value made by [`wrap`] with the same `kek` and `aad`.
///
/// Errors say whether the value is truncated ([`WrapError::TooShort`]), of an
/// unknown format ([`WrapError::UnknownVersion`]), or does not authenticate under
/// this key and associated data ([`WrapError::AuthenticationFailed`]).
pub fn unwrap(kek: &Key256, wrapped: &[u8], aad: &[u8]) -> Result<SecretBytes, WrapError> {
    let too_short = || WrapError::TooShort {
        len: wrapped.len(),
        min: WRAP_OVERHEAD,
    };
    let (&version, rest) = wrapped.split_first().ok_or_else(too_short)?;
    if version != WRAP_VERSION {
        return Err(WrapError::UnknownVersion { version });
    }
    let (nonce, rest) = rest
        .split_first_chunk::<NONCE_LEN>()
        .ok_or_else(too_short)?;
    let (ciphertext, tag) = rest.split_last_chunk::<TAG_LEN>().ok_or_else(too_short)?;
    check_input_lengths(ciphertext.len(), aad.len())?;

    let cipher = Aes256Gcm::new(kek.expose_secret().into());
    // Decrypt inside a `SecretBytes` so the plaintext never exists unwrapped. The
    // cipher checks the tag before it decrypts, so on failure the buffer still
    // holds only ciphertext.
    let mut plaintext = SecretBytes::from_slice(ciphertext);
    cipher
        .decrypt_in_place_detached(nonce.into(), aad, plaintext.expose_secret_mut(), tag.into())
        .map_err(|_| WrapError::AuthenticationFailed)?;
    Ok(plaintext)
}

fn check_input_lengths(data_len: usize, aad_len: usize) -> Result<(), WrapError> {
    let too_long = |len: usize| u64::try_from(len).map_or(true, |len| len > MAX_INPUT_LEN);
    if too_long(data_len) || too_long(aad_len) {
        return Err(WrapError::TooLong { data_len, aad_len });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const AAD: &[u8] = b"object-1/v1";

    fn key(byte: u8) -> Key256 {
        Key256::from_slice(&[byte; 32]).unwrap()
    }

    #[test]
    fn round_trip() {
        let kek = key(1);
        for plaintext in [&b""[..], b"k", &[0x5A; 32], &[0xFF; 1000]] {
            let wrapped = wrap(&kek, plaintext, AAD).unwrap();
            assert_eq!(wrapped.len(), plaintext.len() + WRAP_OVERHEAD);
            assert_eq!(wrapped[0], WRAP_VERSION);
            let unwrapped = unwrap(&kek, &wrapped, AAD).unwrap();
            assert_eq!(unwrapped.expose_secret(), plaintext);
        }
    }

    #[test]
    fn nonces_differ_between_wraps() {
        let kek = key(1);
        let first = wrap(&kek, b"same", AAD).unwrap();
        let second = wrap(&kek, b"same", AAD).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn rejects_wrong_aad() {
        let kek = key(1);
        let wrapped = wrap(&kek, b"secret", AAD).unwrap();
        for aad in [&b"object-1/v2"[..], b"", b"object-1/v1 "] {
            assert!(matches!(
                unwrap(&kek, &wrapped, aad),
                Err(WrapError::AuthenticationFailed)
            ));
        }
    }

    #[test]
    fn rejects_wrong_key() {
        let wrapped = wrap(&key(1), b"secret", AAD).unwrap();
        assert!(matches!(
            unwrap(&key(2), &wrapped, AAD),
            Err(WrapError::AuthenticationFailed)
        ));
    }

    #[test]
    fn rejects_flipped_bit_in_every_byte() {
        let kek = key(1);
        let wrapped = wrap(&kek, b"0123456789abcdef", AAD).unwrap();
        for position in 0..wrapped.len() {
            let mut altered = wrapped.clone();
            altered[position] ^= 0x01;
            let result = unwrap(&kek, &altered, AAD);
            if position == 0 {
                assert!(
                    matches!(result, Err(WrapError::UnknownVersion { version: 0 })),
                    "version byte"
                );
            } else {
                assert!(
                    matches!(result, Err(WrapError::AuthenticationFailed)),
                    "byte {position}"
                );
            }
        }
    }

    #[test]
    fn rejects_truncated() {
        let kek = key(1);
        let wrapped = wrap(&kek, b"secret", AAD).unwrap();
        for len in 0..wrapped.len() {
            let result = unwrap(&kek, &wrapped[..len], AAD);
            if len < WRAP_OVERHEAD {
                assert!(
                    matches!(result, Err(WrapError::TooShort { len: got, min: WRAP_OVERHEAD }) if got == len),
                    "length {len}"
                );
            } else {
                assert!(
                    matches!(result, Err(WrapError::AuthenticationFailed)),
                    "length {len}"
                );
            }
        }
    }

    #[test]
    fn rejects_unknown_version() {
        let kek = key(1);
        let mut wrapped = wrap(&kek, b"secret", AAD).unwrap();
        wrapped[0] = 2;
        assert!(matches!(
            unwrap(&kek, &wrapped, AAD),
            Err(WrapError::UnknownVersion { version: 2 })
        ));
        // A short value with an unknown version is reported as unknown: a later
        // format may be shorter.
        assert!(matches!(
            unwrap(&kek, &[9], AAD),
            Err(WrapError::UnknownVersion { version: 9 })
        ));
    }

    #[test]
    fn rejects_extended() {
        let kek = key(1);
        let mut wrapped = wrap(&kek, b"secret", AAD).unwrap();
        wrapped.push(0);
        assert!(matches!(
            unwrap(&kek, &wrapped, AAD),
            Err(WrapError::AuthenticationFailed)
        ));
    }

    #[test]
    fn error_messages_do_not_end_with_a_period() {
        let errors = [
            WrapError::TooShort { len: 3, min: 29 },
            WrapError::UnknownVersion { version: 7 },
            WrapError::AuthenticationFailed,
            WrapError::UnknownKey,
            WrapError::TooLong {
                data_len: 1,
                aad_len: 2,
            },
        ];
        crate::tests::assert_messages_follow_the_style(errors);
    }

    proptest! {
        #[test]
        fn round_trip_random_inputs(
            key_bytes in proptest::array::uniform32(any::<u8>()),
            plaintext in proptest::collection::vec(any::<u8>(), 0..512),
            aad in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let kek = Key256::from_slice(&key_bytes).unwrap();
            let wrapped = wrap(&kek, &plaintext, &aad).unwrap();
            prop_assert_eq!(wrapped.len(), plaintext.len() + WRAP_OVERHEAD);
            let unwrapped = unwrap(&kek, &wrapped, &aad).unwrap();
            prop_assert_eq!(unwrapped.expose_secret(), plaintext.as_slice());
        }

        #[test]
        fn altered_byte_never_unwraps(
            plaintext in proptest::collection::vec(any::<u8>(), 0..128),
            position in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let kek = key(3);
            let mut wrapped = wrap(&kek, &plaintext, AAD).unwrap();
            let position = position.index(wrapped.len());
            wrapped[position] ^= flip;
            prop_assert!(unwrap(&kek, &wrapped, AAD).is_err());
        }

        #[test]
        fn unwrap_of_arbitrary_bytes_does_not_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let _ = unwrap(&key(4), &bytes, AAD);
        }
    }
}
