//! Byte strings and big integers carry key material and plaintext: what the
//! codecs hand out is wiped when dropped, and the encoders write each message
//! once, into a buffer of its exact length, so no reallocation leaves a
//! partial copy behind that nobody wipes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ttlv::{BigInteger, Item, Tag, Value};
use zeroize::ZeroizeOnDrop;

/// Compiles only for types whose drop wipes their memory.
fn wiped_on_drop<T: ZeroizeOnDrop>(_: &T) {}

fn key_block() -> Item {
    Item::structure(
        Tag::KEY_VALUE,
        vec![
            Item::new(Tag::KEY_MATERIAL, Value::ByteString(vec![0x5A; 32].into())),
            Item::new(
                Tag::PRIVATE_EXPONENT,
                Value::BigInteger(BigInteger::from_signed_bytes(&[0x01; 256])),
            ),
        ],
    )
}

#[test]
fn decoded_byte_strings_and_big_integers_are_wiped_when_dropped() {
    let bytes = ttlv::encode(&key_block());
    let json = ttlv::encode_json(&key_block());
    for decoded in [
        ttlv::decode(&bytes).unwrap(),
        ttlv::decode_json(&json).unwrap(),
    ] {
        let [material, exponent] = decoded.children() else {
            panic!("two children: {decoded:?}");
        };
        let Value::ByteString(material) = &material.value else {
            panic!("a byte string: {material:?}");
        };
        wiped_on_drop(material);
        assert_eq!(material.as_slice(), [0x5A; 32]);
        let Value::BigInteger(exponent) = &exponent.value else {
            panic!("a big integer: {exponent:?}");
        };
        wiped_on_drop(exponent);
        wiped_on_drop(&exponent.clone().into_bytes());
    }
}

#[test]
fn encoded_messages_are_written_once_into_a_buffer_of_their_length() {
    let item = key_block();
    let bytes = ttlv::encode(&item);
    assert_eq!(bytes.len(), ttlv::encoded_len(&item));
    assert_eq!(
        bytes.capacity(),
        bytes.len(),
        "the buffer grew while encoding"
    );
    let json = ttlv::encode_json(&item);
    assert_eq!(
        json.capacity(),
        json.len(),
        "the JSON text grew while encoding"
    );
    assert_eq!(ttlv::decode_json(&json).unwrap(), item);
}
