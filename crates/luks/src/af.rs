//! The LUKS anti-forensic information splitter ("luks1" AF type in LUKS2 metadata).
//!
//! A key of `n` bytes is stored as `stripes` blocks of `n` bytes whose combination
//! gives the key back; destroying any one block makes the key unrecoverable, so
//! wiping a keyslot needs to overwrite only a little of its large area. The
//! combination: `d = 0`; for each of the first `stripes - 1` blocks `s_i`,
//! `d = H(d ^ s_i)`; the key is `d ^ s_last`. `H` is a diffusion built from a hash:
//! the block is cut into hash-sized pieces, and piece `j` is replaced by the first
//! bytes of `hash(be32(j) ‖ piece)`.

use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::LuksError;

/// Diffuses `block` in place with SHA-256, piece by piece.
fn diffuse(block: &mut [u8]) {
    for (index, piece) in block.chunks_mut(Sha256::output_size()).enumerate() {
        // A block has at most 64 bytes (two pieces), so the index fits 32 bits.
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let mut hash = Sha256::new();
        hash.update(index.to_be_bytes());
        hash.update(&*piece);
        let digest = hash.finalize();
        for (byte, digest_byte) in piece.iter_mut().zip(digest.iter()) {
            *byte = *digest_byte;
        }
    }
}

fn xor_into(target: &mut [u8], source: &[u8]) {
    for (t, s) in target.iter_mut().zip(source) {
        *t ^= s;
    }
}

/// Recovers a key of `key_len` bytes from split `material` of `stripes` blocks.
pub(crate) fn merge(
    material: &[u8],
    key_len: usize,
    stripes: usize,
) -> Result<Zeroizing<Vec<u8>>, LuksError> {
    let needed = key_len
        .checked_mul(stripes)
        .ok_or(LuksError::InvalidMetadata(
            "AF stripes times key size overflows",
        ))?;
    let material = material.get(..needed).ok_or(LuksError::InvalidMetadata(
        "keyslot area is smaller than its AF material",
    ))?;
    if key_len == 0 || stripes == 0 {
        return Err(LuksError::InvalidMetadata(
            "AF key size and stripes must be positive",
        ));
    }
    let mut combined = Zeroizing::new(vec![0u8; key_len]);
    let mut blocks = material.chunks_exact(key_len);
    for _ in 1..stripes {
        let block = blocks.next().ok_or(LuksError::InvalidMetadata(
            "keyslot area is smaller than its AF material",
        ))?;
        xor_into(&mut combined, block);
        diffuse(&mut combined);
    }
    let last = blocks.next().ok_or(LuksError::InvalidMetadata(
        "keyslot area is smaller than its AF material",
    ))?;
    xor_into(&mut combined, last);
    Ok(combined)
}

/// Splits `key` into `stripes` blocks: all but the last random, the last chosen so
/// that [`merge`] gives `key` back.
pub(crate) fn split(key: &[u8], stripes: usize) -> Result<Zeroizing<Vec<u8>>, LuksError> {
    let key_len = key.len();
    let total = key_len
        .checked_mul(stripes)
        .ok_or(LuksError::InvalidMetadata(
            "AF stripes times key size overflows",
        ))?;
    if key_len == 0 || stripes == 0 {
        return Err(LuksError::InvalidMetadata(
            "AF key size and stripes must be positive",
        ));
    }
    let mut material = Zeroizing::new(vec![0u8; total]);
    let random_len = total - key_len;
    let (random, last) = material.split_at_mut(random_len);
    OsRng.fill_bytes(random);
    let mut combined = Zeroizing::new(vec![0u8; key_len]);
    for block in random.chunks_exact(key_len) {
        xor_into(&mut combined, block);
        diffuse(&mut combined);
    }
    last.copy_from_slice(&combined);
    xor_into(last, key);
    Ok(material)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_then_merge_gives_the_key_back() {
        let key: Vec<u8> = (0..64).collect();
        for stripes in [1, 2, 4000] {
            let material = split(&key, stripes).unwrap();
            assert_eq!(material.len(), 64 * stripes);
            assert_eq!(*merge(&material, 64, stripes).unwrap(), key);
        }
    }

    #[test]
    fn one_changed_stripe_destroys_the_key() {
        let key = [9u8; 64];
        let mut material = split(&key, 4000).unwrap();
        material[1000] ^= 1;
        assert_ne!(*merge(&material, 64, 4000).unwrap(), key);
    }

    #[test]
    fn rejects_short_material() {
        assert!(merge(&[0u8; 100], 64, 2).is_err());
        assert!(merge(&[0u8; 100], 0, 2).is_err());
        assert!(merge(&[0u8; 100], usize::MAX, 2).is_err());
    }
}
