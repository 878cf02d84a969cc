//! Round-trip property tests: any item tree survives binary, JSON and XML.
// Test code: a panic is a test failure, which is what we want.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use ttlv::{BigInteger, Item, Tag, Value};

/// Tags that change how a value is spelled in JSON and XML (names, masks,
/// attribute context), plus vendor tags and any 24-bit number.
fn tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        Just(Tag::ATTRIBUTE),
        Just(Tag::ATTRIBUTE_NAME),
        Just(Tag::ATTRIBUTE_VALUE),
        Just(Tag::CRYPTOGRAPHIC_USAGE_MASK),
        Just(Tag::CRYPTOGRAPHIC_ALGORITHM),
        Just(Tag::OBJECT_TYPE),
        Just(Tag::OPERATION),
        Just(Tag::ATTRIBUTE_REFERENCE),
        Just(Tag::STORAGE_STATUS_MASK),
        (0x54_0000_u32..=0x54_FFFF).prop_map(|value| Tag::new(value).unwrap()),
        (0x42_0000_u32..=0x42_0180).prop_map(|value| Tag::new(value).unwrap()),
        (0_u32..=Tag::MAX).prop_map(|value| Tag::new(value).unwrap()),
    ]
}

/// Text, biased towards attribute names whose values have name tables.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Cryptographic Usage Mask".to_owned()),
        Just("Cryptographic Algorithm".to_owned()),
        Just("State".to_owned()),
        Just(String::new()),
        any::<String>(),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::Integer),
        (0_i32..64).prop_map(Value::Integer),
        any::<i64>().prop_map(Value::LongInteger),
        proptest::collection::vec(any::<u8>(), 1..40)
            .prop_map(|bytes| Value::BigInteger(BigInteger::from_signed_bytes(&bytes))),
        any::<u32>().prop_map(Value::Enumeration),
        (0_u32..80).prop_map(Value::Enumeration),
        any::<bool>().prop_map(Value::Boolean),
        text().prop_map(Value::TextString),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|bytes| Value::ByteString(bytes.into())),
        any::<i64>().prop_map(Value::DateTime),
        (-62_167_219_200_i64..253_402_300_800).prop_map(Value::DateTime),
        any::<u32>().prop_map(Value::Interval),
        any::<i64>().prop_map(Value::DateTimeExtended),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    let leaf = (tag(), scalar()).prop_map(|(tag, value)| Item::new(tag, value));
    leaf.prop_recursive(6, 64, 8, |inner| {
        (tag(), proptest::collection::vec(inner, 0..8))
            .prop_map(|(tag, children)| Item::structure(tag, children))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn binary_round_trips(item in item()) {
        let bytes = ttlv::encode(&item);
        prop_assert_eq!(bytes.len(), ttlv::encoded_len(&item));
        prop_assert_eq!(bytes.len() % 8, 0);
        prop_assert_eq!(ttlv::frame_length(&bytes).unwrap(), Some(bytes.len()));
        prop_assert_eq!(ttlv::decode(&bytes).unwrap(), item);
    }

    #[test]
    fn json_round_trips(item in item()) {
        let text = ttlv::encode_json(&item);
        prop_assert_eq!(ttlv::decode_json(&text).unwrap(), item, "{}", text);
    }

    #[test]
    fn xml_round_trips(item in item()) {
        let text = ttlv::encode_xml(&item);
        prop_assert_eq!(ttlv::decode_xml(&text).unwrap(), item, "{}", text);
    }

    #[test]
    fn binary_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(item) = ttlv::decode(&bytes) {
            prop_assert_eq!(ttlv::encode(&item), bytes);
        }
    }
}
