//! The volume key: the 512-bit AES-256-XTS key that encrypts a volume's data segment.

use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroize;

use crate::LuksError;

/// The length in bytes of a [`VolumeKey`]: AES-256-XTS takes two 256-bit keys.
pub const VOLUME_KEY_LEN: usize = 64;

/// The key of a volume's data segment (cryptsetup's "volume key", formerly
/// "master key").
///
/// Opaque: no `Debug`, `Clone` or `Serialize`; the bytes live on the heap, so moving
/// the value leaves no stray copy, and are overwritten with zeros on drop. The bytes
/// are reachable only through [`VolumeKey::expose_secret`].
pub struct VolumeKey {
    bytes: Box<[u8; VOLUME_KEY_LEN]>,
}

impl VolumeKey {
    /// Makes a fresh random key from the operating system's generator.
    pub fn generate() -> VolumeKey {
        let mut bytes = Box::new([0u8; VOLUME_KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut_slice());
        VolumeKey { bytes }
    }

    /// Copies a 64-byte key. The caller still owns (and should wipe) `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<VolumeKey, LuksError> {
        let mut key = Box::new([0u8; VOLUME_KEY_LEN]);
        if bytes.len() != VOLUME_KEY_LEN {
            return Err(LuksError::WrongKeyLength {
                expected: VOLUME_KEY_LEN,
                actual: bytes.len(),
            });
        }
        key.copy_from_slice(bytes);
        Ok(VolumeKey { bytes: key })
    }

    /// Gives read access to the key bytes: the first 32 encrypt the data, the last 32
    /// encrypt the tweak. Every call is a place where the key leaves its wrapper.
    pub fn expose_secret(&self) -> &[u8; VOLUME_KEY_LEN] {
        &self.bytes
    }
}

impl Drop for VolumeKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_bytes_rejects_wrong_lengths() {
        for len in [0, 32, 63, 65, 128] {
            assert!(matches!(
                VolumeKey::from_bytes(&vec![7u8; len]),
                Err(LuksError::WrongKeyLength { expected: 64, actual }) if actual == len
            ));
        }
        let key = VolumeKey::from_bytes(&[7u8; 64]).unwrap();
        assert_eq!(key.expose_secret(), &[7u8; 64]);
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            VolumeKey::generate().expose_secret(),
            VolumeKey::generate().expose_secret()
        );
    }
}
