//! The sector cipher against the IEEE 1619-2007 XTS-AES-256 vectors and against
//! golden output of an independent XTS implementation for 4096-byte sectors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    // Test patterns are built from small indices; truncation is the intent.
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use luks::{SectorCipher, VolumeKey};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// Key1 ‖ Key2 of IEEE 1619-2007 vectors 10 to 14 (digits of e and π).
const IEEE_KEY: &str = "2718281828459045235360287471352662497757247093699959574966967627\
                        3141592653589793238462643383279502884197169399375105820974944592";

/// IEEE 1619-2007 vector 10: data unit sequence number 0xff, 512-byte unit.
const VECTOR_10_CIPHERTEXT: &str = "\
1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b5d31e276f8fe4a8d66b317f9ac683f44\
680a86ac35adfc3345befecb4bb188fd5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0\
c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca2a3e7a7d7df7b10355165c8b9a6d0a7d\
e8b062c4500dc4cd120c0f7418dae3d0b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f\
93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec583e9645e07b8d9670655ba5bbcfecc6\
dc3966380ad8fecb17b6ba02469a020a84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1\
505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae9be69a2ffeceb1bec9de244fbe15992b\
11b77c040f12bd8f6a975a44a0f90c29a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac\
6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f645e8b7e9bfdef33943054ff84011493\
c27b3429eaedb4ed5376441a77ed43851ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa\
773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151";

fn ieee_plaintext() -> Vec<u8> {
    (0..512).map(|i| (i % 256) as u8).collect()
}

fn ieee_cipher() -> SectorCipher {
    let key = VolumeKey::from_bytes(&hex::decode(IEEE_KEY).unwrap()).unwrap();
    SectorCipher::new(&key, 512).unwrap()
}

#[test]
fn ieee_1619_vector_10_encrypts_and_decrypts() {
    let cipher = ieee_cipher();
    let mut data = ieee_plaintext();
    cipher.encrypt_sectors(0xff, &mut data).unwrap();
    assert_eq!(hex::encode(&data), VECTOR_10_CIPHERTEXT);
    cipher.decrypt_sectors(0xff, &mut data).unwrap();
    assert_eq!(data, ieee_plaintext());
}

#[test]
fn ieee_1619_vector_10_at_the_second_sector_of_a_request() {
    // Sector 0xff as the second sector of a two-sector request starting at 0xfe:
    // the sector number, not the offset in the buffer, picks the tweak.
    let cipher = ieee_cipher();
    let mut data = vec![0u8; 512];
    data.extend(ieee_plaintext());
    cipher.encrypt_sectors(0xfe, &mut data).unwrap();
    assert_eq!(hex::encode(&data[512..]), VECTOR_10_CIPHERTEXT);
}

/// Two 4096-byte sectors at 0x0123456789abcdef and the next: the SHA-256 of the
/// ciphertext and its first block, computed once with an independent implementation
/// (OpenSSL's XTS through Python `cryptography`, one sector per call with the
/// little-endian IV `8 n`: dm-crypt counts IVs in 512-byte units).
#[test]
fn large_sectors_match_an_independent_implementation() {
    let key: Vec<u8> = (0..64).collect();
    let cipher = SectorCipher::new(&VolumeKey::from_bytes(&key).unwrap(), 4096).unwrap();
    let plaintext: Vec<u8> = (0..8192usize).map(|i| ((i * 7) % 256) as u8).collect();
    let mut data = plaintext.clone();
    cipher
        .encrypt_sectors(0x0123_4567_89ab_cdef, &mut data)
        .unwrap();
    assert_eq!(hex::encode(&data[..16]), "a67d7cd3964588b70db8853730d8629e");
    assert_eq!(
        hex::encode(Sha256::digest(&data)),
        "335ad52e59408cb5fcb3a7d90edd68f67d1b9cf0e3ea5e4953765d28863dc02b"
    );
    cipher
        .decrypt_sectors(0x0123_4567_89ab_cdef, &mut data)
        .unwrap();
    assert_eq!(data, plaintext);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn round_trips_any_sector_size(
        shift in 9u32..=12,
        sectors in 0usize..4,
        first in 0u64..1 << 40,
        seed in any::<u8>(),
    ) {
        let sector_size = 1usize << shift;
        let cipher = SectorCipher::new(&VolumeKey::generate(), sector_size).unwrap();
        let plaintext: Vec<u8> = (0..sector_size * sectors).map(|i| (i as u8) ^ seed).collect();
        let mut data = plaintext.clone();
        cipher.encrypt_sectors(first, &mut data).unwrap();
        if sectors > 0 {
            prop_assert_ne!(&data, &plaintext);
        }
        cipher.decrypt_sectors(first, &mut data).unwrap();
        prop_assert_eq!(data, plaintext);
    }
}
