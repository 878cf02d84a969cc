//! Authenticated and stream ciphers put together from their standard parts,
//! for what KMIP clients ask and the AEAD crates do not offer: AES-GCM (NIST
//! SP 800-38D) with any IV length and tags of 12 to 16 bytes, in one call or
//! as a stream of calls (KMIP Encrypt and Decrypt with Init and Final
//! Indicators); ChaCha20 with RFC 8439's 96-bit nonce or the original 64-bit
//! one; and ChaCha20-Poly1305 (RFC 8439 section 2.8) with tags truncated to
//! 12 to 16 bytes. The block cipher, GHASH, ChaCha20 and Poly1305 are the
//! RustCrypto crates'; only their assembly is here.

use chacha20::cipher::{KeyIvInit as _, StreamCipher as _, StreamCipherSeek as _};
use ghash::GHash;
use ghash::universal_hash::{KeyInit as _, UniversalHash as _};
use poly1305::Poly1305;
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize as _, Zeroizing};

use crate::crypto::{AES_BLOCK, Cipher};
use crate::error::{KmipError, ResultReason};

/// The tag lengths accepted, in bytes: NIST SP 800-38D allows 12 to 16 for
/// general use (4 and 8 only for special cases, not offered here).
pub const TAG_LENGTHS: std::ops::RangeInclusive<usize> = 12..=16;

/// A tag length outside [`TAG_LENGTHS`]: General Failure, as the OASIS test
/// cases CS-BC-M-GCM-1 and CS-BC-M-CHACHA20POLY1305-1 answer it.
fn check_tag_length(length: usize) -> Result<(), KmipError> {
    if TAG_LENGTHS.contains(&length) {
        Ok(())
    } else {
        Err(KmipError::new(
            ResultReason::GeneralFailure,
            format!("an authentication tag of {length} bytes is not allowed; use 12 to 16"),
        ))
    }
}

fn tag_mismatch(what: &str) -> KmipError {
    KmipError::new(
        ResultReason::CryptographicFailure,
        format!("{what} authentication failed: wrong key, IV, tag, additional data or data"),
    )
}

/// An AES-GCM encryption or decryption under way: the counter and GHASH
/// state between the pieces of a stream. Its keystream is wiped when
/// dropped (the cipher and GHASH key wipe themselves).
pub struct GcmStream {
    cipher: Cipher,
    ghash: GHash,
    /// The pre-counter block J0, whose encryption masks the tag.
    j0: [u8; AES_BLOCK],
    /// The next counter block.
    counter: [u8; AES_BLOCK],
    /// The current counter block's keystream; its first `used` bytes are
    /// spent (a piece that ended inside a block leaves the rest).
    keystream: [u8; AES_BLOCK],
    used: usize,
    /// Ciphertext not hashed yet (less than one block).
    unhashed: Vec<u8>,
    aad_bytes: u64,
    text_bytes: u64,
    decrypting: bool,
}

impl Drop for GcmStream {
    fn drop(&mut self) {
        self.keystream.zeroize();
    }
}

impl GcmStream {
    /// Starts AES-GCM with `key` (16, 24 or 32 bytes), an IV of any
    /// non-zero length, and the additional data.
    pub fn new(
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        decrypting: bool,
    ) -> Result<GcmStream, KmipError> {
        if iv.is_empty() {
            return Err(KmipError::invalid("the GCM IV must not be empty"));
        }
        let cipher = Cipher::aes(key)?;
        let mut h = [0_u8; AES_BLOCK];
        cipher.encrypt_block(&mut h);
        let mut ghash = GHash::new(&h.into());
        h.zeroize();
        // SP 800-38D section 7.1: J0 is the IV and 0^31 1 for a 96-bit IV,
        // else GHASH of the IV padded, then its length in bits.
        let j0 = match <[u8; 12]>::try_from(iv) {
            Ok(iv) => join(iv, 1_u32.to_be_bytes()),
            Err(_) => {
                let mut over_iv = ghash.clone();
                over_iv.update_padded(iv);
                over_iv.update(&[join([0; 8], bits(iv.len()).to_be_bytes()).into()]);
                over_iv.finalize().into()
            }
        };
        ghash.update_padded(aad);
        Ok(GcmStream {
            cipher,
            ghash,
            j0,
            counter: increment(j0),
            keystream: [0; AES_BLOCK],
            used: AES_BLOCK,
            unhashed: Vec::new(),
            aad_bytes: length(aad.len()),
            text_bytes: 0,
            decrypting,
        })
    }

    /// Encrypts (or decrypts) the next piece of the text.
    pub fn update(&mut self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(data.to_vec());
        for byte in out.iter_mut() {
            if self.used == AES_BLOCK {
                self.keystream = self.counter;
                self.cipher.encrypt_block(&mut self.keystream);
                self.counter = increment(self.counter);
                self.used = 0;
            }
            *byte ^= self.keystream.get(self.used).copied().unwrap_or_default();
            self.used = self.used.saturating_add(1);
        }
        let ciphertext = if self.decrypting {
            data
        } else {
            out.as_slice()
        };
        self.unhashed.extend_from_slice(ciphertext);
        let whole = self.unhashed.len() - self.unhashed.len() % AES_BLOCK;
        let blocks: Vec<ghash::Block> = self
            .unhashed
            .drain(..whole)
            .collect::<Vec<u8>>()
            .chunks_exact(AES_BLOCK)
            .map(ghash::Block::clone_from_slice)
            .collect();
        self.ghash.update(&blocks);
        self.text_bytes = self.text_bytes.wrapping_add(length(data.len()));
        out
    }

    /// The full (16-byte) tag of everything processed.
    pub fn finish(mut self) -> [u8; AES_BLOCK] {
        self.ghash.update_padded(&self.unhashed);
        let lengths = join(
            self.aad_bytes.wrapping_mul(8).to_be_bytes(),
            self.text_bytes.wrapping_mul(8).to_be_bytes(),
        );
        self.ghash.update(&[lengths.into()]);
        let mut tag: [u8; AES_BLOCK] = self.ghash.clone().finalize().into();
        let mut mask = self.j0;
        self.cipher.encrypt_block(&mut mask);
        tag.iter_mut()
            .zip(mask)
            .for_each(|(byte, key)| *byte ^= key);
        tag
    }
}

/// Two halves as one block.
fn join<const A: usize, const B: usize>(high: [u8; A], low: [u8; B]) -> [u8; AES_BLOCK] {
    let mut block = [0_u8; AES_BLOCK];
    block
        .iter_mut()
        .zip(high.into_iter().chain(low))
        .for_each(|(out, byte)| *out = byte);
    block
}

/// A length in bytes, in 64 bits.
fn length(bytes: usize) -> u64 {
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

/// A length in bits, as GCM counts the IV.
fn bits(bytes: usize) -> u64 {
    length(bytes).wrapping_mul(8)
}

/// inc32: the counter block with its last 32 bits incremented, modulo 2^32.
fn increment(block: [u8; AES_BLOCK]) -> [u8; AES_BLOCK] {
    let (high, low) = block.split_at(AES_BLOCK - 4);
    let low = u32::from_be_bytes(<[u8; 4]>::try_from(low).unwrap_or_default()).wrapping_add(1);
    join(
        <[u8; 12]>::try_from(high).unwrap_or_default(),
        low.to_be_bytes(),
    )
}

/// The first `length` bytes of a full tag.
fn truncated(tag: &[u8; AES_BLOCK], length: usize) -> Vec<u8> {
    tag.iter().take(length).copied().collect()
}

/// AES-GCM encryption in one call, with a tag of `tag_length` bytes.
pub fn gcm_encrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    tag_length: usize,
) -> Result<(Vec<u8>, Vec<u8>), KmipError> {
    check_tag_length(tag_length)?;
    let mut stream = GcmStream::new(key, iv, aad, false)?;
    let ciphertext = stream.update(plaintext).to_vec();
    Ok((ciphertext, truncated(&stream.finish(), tag_length)))
}

/// AES-GCM decryption in one call: the plaintext, released only once the
/// tag (12 to 16 bytes) is verified, in constant time.
pub fn gcm_decrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmipError> {
    check_tag_length(tag.len())?;
    let mut stream = GcmStream::new(key, iv, aad, true)?;
    let plaintext = stream.update(ciphertext);
    if bool::from(truncated(&stream.finish(), tag.len()).ct_eq(tag)) {
        Ok(plaintext)
    } else {
        Err(tag_mismatch("AES-GCM"))
    }
}

/// ChaCha20 applied to `data` from block `counter`: RFC 8439's with a
/// 96-bit nonce (32-bit block counter), or D. J. Bernstein's original with a
/// 64-bit nonce (64-bit block counter), which KMIP's ChaCha20 cites. The
/// output, which may be plaintext, is wiped when dropped.
pub fn chacha20(
    key: &[u8],
    nonce: &[u8],
    counter: u32,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmipError> {
    if key.len() != 32 {
        return Err(KmipError::invalid(format!(
            "ChaCha20 needs a 256-bit key; this key is {} bits",
            key.len().saturating_mul(8)
        )));
    }
    let mut out = Zeroizing::new(data.to_vec());
    let position = u64::from(counter).wrapping_mul(64);
    let seek_failed = |_| KmipError::invalid("the ChaCha20 block counter is out of range");
    match nonce.len() {
        12 => {
            let mut cipher = chacha20::ChaCha20::new(key.into(), nonce.into());
            cipher.try_seek(position).map_err(seek_failed)?;
            cipher
                .try_apply_keystream(&mut out)
                .map_err(|_| KmipError::invalid("the data is too long for one ChaCha20 nonce"))?;
        }
        8 => {
            let mut cipher = chacha20::ChaCha20Legacy::new(key.into(), nonce.into());
            cipher.try_seek(position).map_err(seek_failed)?;
            cipher
                .try_apply_keystream(&mut out)
                .map_err(|_| KmipError::invalid("the data is too long for one ChaCha20 nonce"))?;
        }
        other => {
            return Err(KmipError::invalid(format!(
                "ChaCha20 takes a 12-byte (RFC 8439) or 8-byte nonce, not {other} bytes"
            )));
        }
    }
    Ok(out)
}

/// The ChaCha20-Poly1305 tag (RFC 8439 section 2.8) of `ciphertext` and
/// `aad` under `key` and the 96-bit `nonce`.
fn chacha20_poly1305_tag(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<[u8; 16], KmipError> {
    if nonce.len() != 12 {
        return Err(KmipError::invalid(format!(
            "ChaCha20-Poly1305 takes a 12-byte nonce, not {} bytes",
            nonce.len()
        )));
    }
    // The one-time Poly1305 key: the first 32 bytes of block 0.
    let one_time = chacha20(key, nonce, 0, &[0_u8; 32])?;
    let mut mac = Poly1305::new(poly1305::Key::from_slice(one_time.as_slice()));
    mac.update_padded(aad);
    mac.update_padded(ciphertext);
    let lengths = join(
        length(aad.len()).to_le_bytes(),
        length(ciphertext.len()).to_le_bytes(),
    );
    mac.update(&[lengths.into()]);
    Ok(mac.finalize().into())
}

/// ChaCha20-Poly1305 encryption (RFC 8439 section 2.8), with a tag of
/// `tag_length` bytes.
pub fn chacha20_poly1305_encrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    tag_length: usize,
) -> Result<(Vec<u8>, Vec<u8>), KmipError> {
    check_tag_length(tag_length)?;
    let ciphertext = chacha20(key, nonce, 1, plaintext)?.to_vec();
    let tag = chacha20_poly1305_tag(key, nonce, aad, &ciphertext)?;
    Ok((ciphertext, truncated(&tag, tag_length)))
}

/// ChaCha20-Poly1305 decryption: the plaintext, only once the tag (12 to 16
/// bytes, a prefix of the full one) is verified in constant time.
pub fn chacha20_poly1305_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmipError> {
    check_tag_length(tag.len())?;
    let expected = chacha20_poly1305_tag(key, nonce, aad, ciphertext)?;
    if !bool::from(truncated(&expected, tag.len()).ct_eq(tag)) {
        return Err(tag_mismatch("ChaCha20-Poly1305"));
    }
    chacha20(key, nonce, 1, ciphertext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_bytes(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap())
            .collect()
    }

    /// The GCM specification's test case 4 (96-bit IV, AAD) and 6 (a 60-byte
    /// IV), AES-128.
    #[test]
    fn gcm_matches_the_specification_vectors_in_one_call_and_in_pieces() {
        let key = hex_bytes("feffe9928665731c6d6a8f9467308308");
        let plaintext = hex_bytes(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let aad = hex_bytes("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let iv = hex_bytes("cafebabefacedbaddecaf888");
        let (ciphertext, tag) = gcm_encrypt(&key, &iv, &aad, &plaintext, 16).unwrap();
        assert_eq!(
            ciphertext,
            hex_bytes(
                "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
            )
        );
        assert_eq!(tag, hex_bytes("5bc94fbc3221a5db94fae95ae7121a47"));
        assert_eq!(
            *gcm_decrypt(&key, &iv, &aad, &ciphertext, &tag[..12]).unwrap(),
            plaintext
        );
        let mut forged = tag.clone();
        forged[0] ^= 1;
        assert!(gcm_decrypt(&key, &iv, &aad, &ciphertext, &forged).is_err());
        // In pieces that end inside blocks: the same bytes and tag.
        let mut stream = GcmStream::new(&key, &iv, &aad, false).unwrap();
        let mut pieces = stream.update(&plaintext[..7]).to_vec();
        pieces.extend_from_slice(&stream.update(&plaintext[7..40]));
        pieces.extend_from_slice(&stream.update(&plaintext[40..]));
        assert_eq!(pieces, ciphertext);
        assert_eq!(stream.finish().to_vec(), tag);
        let long_iv = hex_bytes(
            "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
        );
        let (ciphertext, tag) = gcm_encrypt(&key, &long_iv, &aad, &plaintext, 16).unwrap();
        assert_eq!(
            ciphertext,
            hex_bytes(
                "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5"
            )
        );
        assert_eq!(tag, hex_bytes("619cc5aefffe0bfa462af43c1699d050"));
        assert!(gcm_encrypt(&key, &iv, &aad, &plaintext, 1).is_err());
    }

    /// RFC 8439 section 2.8.2.
    #[test]
    fn chacha20_poly1305_matches_rfc_8439() {
        let key = hex_bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        let nonce = hex_bytes("070000004041424344454647");
        let aad = hex_bytes("50515253c0c1c2c3c4c5c6c7");
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let (ciphertext, tag) =
            chacha20_poly1305_encrypt(&key, &nonce, &aad, plaintext, 16).unwrap();
        assert_eq!(&ciphertext[..8], hex_bytes("d31a8d34648e60db").as_slice());
        assert_eq!(tag, hex_bytes("1ae10b594f09e26a7e902ecbd0600691"));
        let opened =
            chacha20_poly1305_decrypt(&key, &nonce, &aad, &ciphertext, &tag[..12]).unwrap();
        assert_eq!(opened.as_slice(), plaintext.as_slice());
        assert!(chacha20_poly1305_decrypt(&key, &nonce, &aad[1..], &ciphertext, &tag).is_err());
    }

    /// RFC 8439 appendix A.1 test vector 1 (zero key and nonce, block 0),
    /// which the original 64-bit-nonce ChaCha20 gives too.
    #[test]
    fn chacha20_keystream_matches_rfc_8439() {
        let zeros = [0_u8; 64];
        let expected = hex_bytes(
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
        );
        assert_eq!(*chacha20(&[0; 32], &[0; 12], 0, &zeros).unwrap(), expected);
        assert_eq!(*chacha20(&[0; 32], &[0; 8], 0, &zeros).unwrap(), expected);
    }
}
