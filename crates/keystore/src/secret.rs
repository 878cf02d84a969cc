//! Opaque types for secret bytes and keys: wiped on drop, compared in constant time,
//! and readable only through the greppable method `expose_secret()`.
//!
//! The types here deliberately have no derived `Debug`, `Clone`, `PartialEq`,
//! `Serialize` or any `Display`: a secret must not end up in a log line, an error
//! message or a JSON body by accident. `Debug` is implemented by hand and prints only
//! the length. Copies are made explicitly (`Key256::try_clone_secret`), so every place
//! that multiplies a secret in memory can be found with `grep`.
//!
//! Memory locking (`mlock`) needs `unsafe` system calls, and this crate forbids
//! `unsafe`. Keeping secrets out of swap is left to the process: the server binary
//! calls `mlockall` once at start-up and disables core dumps. What this module
//! guarantees is that the bytes it owns are overwritten with zeros (`zeroize`) when
//! they are dropped, and that a `Key256` lives on the heap so that moving the value
//! around does not leave stray copies on the stack.

use std::fmt;

use hmac::digest::KeyInit;
use hmac::digest::generic_array::GenericArray;
use hmac::digest::typenum::U64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The length in bytes of a [`Key256`].
pub const KEY_LEN: usize = 32;

/// Why a secret value could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// A key was built from a slice of the wrong length.
    #[error("key must be exactly {expected} bytes long, got {actual}; supply a 256-bit key")]
    WrongKeyLength {
        /// The required length.
        expected: usize,
        /// The length that was given.
        actual: usize,
    },
}

/// A variable-length secret on the heap (key material, secret data, a passphrase).
///
/// The bytes are wiped when the value is dropped. Read them with
/// [`SecretBytes::expose_secret`]; compare them with [`SecretBytes::ct_eq`].
pub struct SecretBytes {
    bytes: Vec<u8>,
}

impl SecretBytes {
    /// Takes ownership of `bytes` without copying them, so no unwiped copy is left
    /// behind by this call. (Copies the caller made earlier are the caller's concern.)
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes { bytes }
    }

    /// Makes `len` random bytes from the operating system's generator.
    pub fn random(len: usize) -> SecretBytes {
        let mut bytes = vec![0u8; len];
        OsRng.fill_bytes(&mut bytes);
        SecretBytes { bytes }
    }

    /// Copies `bytes` into a new secret. The caller still owns (and should wipe)
    /// the original.
    pub fn from_slice(bytes: &[u8]) -> SecretBytes {
        SecretBytes {
            bytes: bytes.to_vec(),
        }
    }

    /// Gives read access to the secret bytes. Every call is a place where the secret
    /// leaves its wrapper; keep the borrow short.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// The number of secret bytes (the length is not considered secret).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the secret has no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Compares with `other` in time that depends only on the lengths, never on
    /// the contents.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        constant_time_eq(&self.bytes, other)
    }

    /// Mutable access for code in this crate that fills a buffer in place (for
    /// example a decryption), so the plaintext never exists outside a wrapper.
    pub(crate) fn expose_secret_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        // `Vec::zeroize` wipes the whole capacity, not only the initialised length.
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "SecretBytes([REDACTED; {}])", self.bytes.len())
    }
}

/// A 256-bit symmetric key (AES-256-GCM key-encryption key, HMAC key).
///
/// The bytes are boxed so that moving a `Key256` moves a pointer, not the key, and
/// they are wiped when the value is dropped.
pub struct Key256 {
    bytes: Box<[u8; KEY_LEN]>,
}

impl Key256 {
    /// A key of zeros, to be filled in place by code in this crate.
    pub(crate) fn zeroed() -> Key256 {
        Key256 {
            bytes: Box::new([0u8; KEY_LEN]),
        }
    }

    /// Makes a fresh random key from the operating system's generator.
    pub fn generate() -> Key256 {
        let mut key = Key256::zeroed();
        OsRng.fill_bytes(key.bytes.as_mut_slice());
        key
    }

    /// Copies a key from `bytes`, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Key256, SecretError> {
        if bytes.len() != KEY_LEN {
            return Err(SecretError::WrongKeyLength {
                expected: KEY_LEN,
                actual: bytes.len(),
            });
        }
        let mut key = Key256::zeroed();
        key.bytes.copy_from_slice(bytes);
        Ok(key)
    }

    /// Gives read access to the key bytes. Every call is a place where the key
    /// leaves its wrapper; keep the borrow short.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// Mutable access for code in this crate that derives a key in place.
    pub(crate) fn expose_secret_mut(&mut self) -> &mut [u8; KEY_LEN] {
        &mut self.bytes
    }

    /// Derives an independent sub-key with HKDF-SHA256 (RFC 5869): no salt, this
    /// key as input keying material, `label` as the info string. Different labels
    /// give unrelated keys, and a sub-key does not reveal this key.
    ///
    /// Labels name their purpose and version, for example `"cryptainer-audit-hmac-v1"`.
    pub fn derive(&self, label: &str) -> Key256 {
        // HKDF written out for a single 32-byte output block, because the `hkdf`
        // crate's `expand` returns an error (for outputs longer than 255 blocks)
        // that cannot happen here and that this infallible API could only turn into
        // a panic. A test checks the result against the `hkdf` crate.
        //
        // Extract: PRK = HMAC(salt, IKM) where an absent salt is HashLen zero bytes.
        // HMAC pads its key with zeros to the block size, so an all-zero block-sized
        // key is the same key.
        let mut extract = <Hmac<Sha256> as KeyInit>::new(&GenericArray::default());
        extract.update(self.expose_secret());
        let mut prk = extract.finalize().into_bytes();

        // Expand: T(1) = HMAC(PRK, info || 0x01), which is the whole output.
        // The PRK is zero-padded to HMAC's block size, which HMAC would do itself.
        let mut prk_block: GenericArray<u8, U64> = GenericArray::default();
        for (block_byte, prk_byte) in prk_block.iter_mut().zip(prk.iter()) {
            *block_byte = *prk_byte;
        }
        prk.as_mut_slice().zeroize();
        let mut expand = <Hmac<Sha256> as KeyInit>::new(&prk_block);
        prk_block.as_mut_slice().zeroize();
        expand.update(label.as_bytes());
        expand.update(&[1u8]);
        let mut okm = expand.finalize().into_bytes();

        let mut derived = Key256::zeroed();
        derived.expose_secret_mut().copy_from_slice(okm.as_slice());
        okm.as_mut_slice().zeroize();
        derived
    }

    /// Makes an explicit copy of this key. The name is long and greppable on
    /// purpose: every copy of a key is a decision someone made.
    pub fn try_clone_secret(&self) -> Key256 {
        let mut copy = Key256::zeroed();
        copy.bytes.copy_from_slice(self.bytes.as_slice());
        copy
    }

    /// Compares with another key in constant time.
    pub fn ct_eq(&self, other: &Key256) -> bool {
        constant_time_eq(self.bytes.as_slice(), other.bytes.as_slice())
    }
}

impl Drop for Key256 {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for Key256 {}

impl fmt::Debug for Key256 {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Key256([REDACTED])")
    }
}

/// Compares two byte strings in time that depends only on their lengths, never on
/// their contents. Strings of different lengths are unequal.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // `subtle` returns early on a length mismatch, which only reveals the lengths.
    bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use hkdf::Hkdf;

    use super::*;

    #[test]
    fn secret_bytes_new_keeps_the_bytes() {
        let secret = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(secret.expose_secret(), &[1, 2, 3]);
        assert_eq!(secret.len(), 3);
        assert!(!secret.is_empty());
        assert!(SecretBytes::new(Vec::new()).is_empty());
    }

    #[test]
    fn secret_bytes_random_has_the_length_and_varies() {
        let first = SecretBytes::random(32);
        let second = SecretBytes::random(32);
        assert_eq!(first.len(), 32);
        assert!(!first.ct_eq(second.expose_secret()));
        assert!(SecretBytes::random(0).is_empty());
    }

    #[test]
    fn secret_bytes_ct_eq() {
        let secret = SecretBytes::from_slice(b"hunter2-hunter2");
        assert!(secret.ct_eq(b"hunter2-hunter2"));
        assert!(!secret.ct_eq(b"hunter2-hunter3"));
        assert!(!secret.ct_eq(b"hunter2"));
        assert!(!secret.ct_eq(b""));
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let secret = SecretBytes::from_slice(&[0xAB; 4]);
        assert_eq!(format!("{secret:?}"), "SecretBytes([REDACTED; 4])");
        let key = Key256::from_slice(&[0xAB; 32]).unwrap();
        let printed = format!("{key:?}");
        assert_eq!(printed, "Key256([REDACTED])");
        assert!(!printed.contains("171") && !printed.to_lowercase().contains("ab,"));
    }

    #[test]
    fn key_from_slice_requires_32_bytes() {
        for len in [0, 16, 31, 33, 64] {
            let error = Key256::from_slice(&vec![7u8; len]).unwrap_err();
            assert!(matches!(
                error,
                SecretError::WrongKeyLength { expected: 32, actual } if actual == len
            ));
        }
        let key = Key256::from_slice(&[7u8; 32]).unwrap();
        assert_eq!(key.expose_secret(), &[7u8; 32]);
    }

    #[test]
    fn key_generate_gives_different_keys() {
        assert!(!Key256::generate().ct_eq(&Key256::generate()));
    }

    #[test]
    fn key_try_clone_secret_is_equal() {
        let key = Key256::generate();
        let copy = key.try_clone_secret();
        assert!(key.ct_eq(&copy));
        assert_eq!(key.expose_secret(), copy.expose_secret());
    }

    #[test]
    fn derive_matches_the_hkdf_crate() {
        let key = Key256::from_slice(&[0x42; 32]).unwrap();
        for label in [
            "",
            "cryptainer-audit-hmac-v1",
            "a much longer label of many bytes",
        ] {
            let mut expected = [0u8; 32];
            Hkdf::<Sha256>::new(None, key.expose_secret())
                .expand(label.as_bytes(), &mut expected)
                .unwrap();
            assert_eq!(
                key.derive(label).expose_secret(),
                &expected,
                "label {label:?}"
            );
        }
    }

    #[test]
    fn derive_separates_labels_and_keys() {
        let key = Key256::generate();
        let audit = key.derive("audit");
        assert!(audit.ct_eq(&key.derive("audit")));
        assert!(!audit.ct_eq(&key.derive("audit2")));
        assert!(!audit.ct_eq(&key));
        assert!(!audit.ct_eq(&Key256::generate().derive("audit")));
    }

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
