//! Binary TTLV: golden vectors from the KMIP documents, framing, and malformed input.
// Test code: a panic is a test failure, which is what we want.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ttlv::{Error, Item, Location, MAX_DEPTH, MAX_ITEMS, MAX_MESSAGE_SIZE, Tag, Value};

/// Reads hex bytes, ignoring whitespace, `|` separators and `#` comment lines.
fn parse_hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.chars())
        .filter(char::is_ascii_hexdigit)
        .collect();
    (0..digits.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&digits[index..index + 2], 16).unwrap())
        .collect()
}

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// Decodes golden bytes, checks they re-encode identically, and returns the tree.
fn check_golden(bytes: &[u8]) -> Item {
    let item = ttlv::decode(bytes).unwrap();
    assert_eq!(ttlv::encode(&item), bytes, "re-encoding {item:?}");
    assert_eq!(ttlv::encoded_len(&item), bytes.len());
    assert_eq!(ttlv::frame_length(bytes).unwrap(), Some(bytes.len()));
    item
}

fn tag(value: u32) -> Tag {
    Tag::new(value).unwrap()
}

#[test]
fn decodes_the_spec_encoding_examples() {
    let examples = data("spec-examples.txt");
    let mut seen = 0;
    for line in examples.lines().filter(|line| !line.starts_with('#')) {
        let (name, hex) = line.split_once(':').unwrap();
        let item = check_golden(&parse_hex(hex));
        assert_eq!(item.tag, tag(0x42_0020), "{name}");
        let big = ttlv::BigInteger::from_padded(parse_hex(
            "00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00",
        ))
        .unwrap();
        let expected = match name {
            "integer-8" => Value::Integer(8),
            "long-integer-123456789000000000" => Value::LongInteger(123_456_789_000_000_000),
            "big-integer-1234567890000000000000000000" => Value::BigInteger(big),
            "enumeration-255" => Value::Enumeration(255),
            "boolean-true" => Value::Boolean(true),
            "text-string-hello-world" => Value::TextString("Hello World".into()),
            "byte-string-010203" => Value::ByteString(vec![1, 2, 3].into()),
            "date-time-2008-03-14T11-56-40Z" => Value::DateTime(1_205_495_800),
            "interval-10-days" => Value::Interval(10 * 24 * 3600),
            "structure-enumeration-254-integer-255" => Value::Structure(vec![
                Item::new(tag(0x42_0004), Value::Enumeration(254)),
                Item::new(tag(0x42_0005), Value::Integer(255)),
            ]),
            other => panic!("unexpected example {other}"),
        };
        assert_eq!(item.value, expected, "{name}");
        seen += 1;
    }
    assert_eq!(seen, 10);
}

#[test]
fn decodes_kmip_1_1_create_request() {
    let item = check_golden(&parse_hex(&data("kmip-1.1-create-request.hex")));
    assert_eq!(item.tag, Tag::REQUEST_MESSAGE);
    let batch_item = item.child(Tag::BATCH_ITEM).unwrap();
    assert_eq!(
        batch_item.child(Tag::OPERATION).unwrap().value,
        Value::Enumeration(1),
        "Create"
    );
    let payload = batch_item.child(Tag::REQUEST_PAYLOAD).unwrap();
    assert_eq!(
        payload.child(Tag::OBJECT_TYPE).unwrap().value,
        Value::Enumeration(2),
        "Symmetric Key"
    );
    let attributes = payload.child(Tag::TEMPLATE_ATTRIBUTE).unwrap().children();
    let usage_mask = &attributes[2];
    assert_eq!(
        usage_mask.child(Tag::ATTRIBUTE_NAME).unwrap().value,
        Value::TextString("Cryptographic Usage Mask".into())
    );
    assert_eq!(
        usage_mask.child(Tag::ATTRIBUTE_VALUE).unwrap().value,
        Value::Integer(0x0C)
    );
    // The same tree in the XML profile names the mask flags by the attribute's name.
    assert!(ttlv::encode_xml(&item).contains("value=\"Encrypt Decrypt\""));
}

#[test]
fn decodes_kmip_1_1_create_response() {
    let item = check_golden(&parse_hex(&data("kmip-1.1-create-response.hex")));
    assert_eq!(item.tag, Tag::RESPONSE_MESSAGE);
    let header = item.child(Tag::RESPONSE_HEADER).unwrap();
    assert_eq!(
        header.child(Tag::TIME_STAMP).unwrap().value,
        Value::DateTime(0x4F9A_54E5)
    );
    let payload = item
        .child(Tag::BATCH_ITEM)
        .and_then(|batch_item| batch_item.child(Tag::RESPONSE_PAYLOAD))
        .unwrap();
    assert_eq!(
        payload.child(Tag::UNIQUE_IDENTIFIER).unwrap().value,
        Value::TextString("fb4b5b9c-6188-4c63-8142-fe9c328129fc".into())
    );
}

#[test]
fn decodes_kmip_1_1_locate_request() {
    let item = check_golden(&parse_hex(&data("kmip-1.1-locate-request.hex")));
    let batch_item = item.child(Tag::BATCH_ITEM).unwrap();
    assert_eq!(
        batch_item.child(Tag::OPERATION).unwrap().value,
        Value::Enumeration(8),
        "Locate"
    );
}

#[test]
fn decodes_kmip_1_1_get_response() {
    let item = check_golden(&parse_hex(&data("kmip-1.1-get-response.hex")));
    let key_block = item
        .child(Tag::BATCH_ITEM)
        .and_then(|batch_item| batch_item.child(Tag::RESPONSE_PAYLOAD))
        .and_then(|payload| payload.child(Tag::SYMMETRIC_KEY))
        .and_then(|key| key.child(Tag::KEY_BLOCK))
        .unwrap();
    assert_eq!(
        key_block.child(Tag::CRYPTOGRAPHIC_LENGTH).unwrap().value,
        Value::Integer(168)
    );
    let material = key_block
        .child(Tag::KEY_VALUE)
        .and_then(|value| value.child(Tag::KEY_MATERIAL))
        .unwrap();
    assert!(matches!(&material.value, Value::ByteString(bytes) if bytes.len() == 24));
}

#[test]
fn frames_from_the_first_eight_bytes() {
    let message = ttlv::encode(&Item::structure(
        Tag::REQUEST_MESSAGE,
        vec![Item::new(Tag::BATCH_COUNT, Value::Integer(1))],
    ));
    for partial in 0..8 {
        assert_eq!(ttlv::frame_length(&message[..partial]).unwrap(), None);
    }
    assert_eq!(ttlv::frame_length(&message[..8]).unwrap(), Some(24));
    // A text string's frame includes its padding.
    assert_eq!(
        ttlv::frame_length(&[0x42, 0x00, 0x94, 0x07, 0, 0, 0, 3]).unwrap(),
        Some(16)
    );
}

#[test]
fn rejects_frame_over_the_size_limit() {
    let header = [0x42, 0x00, 0x78, 0x01, 0x7F, 0xFF, 0xFF, 0xF8];
    let error = ttlv::frame_length(&header).unwrap_err();
    assert!(
        matches!(error, Error::MessageTooLarge { at: Location::Byte(4), limit, .. } if limit == MAX_MESSAGE_SIZE),
        "{error:?}"
    );
}

/// Decodes `hex`, expecting the error `check` accepts.
fn check_rejects(hex: &str, check: impl Fn(&Error) -> bool) {
    let error = ttlv::decode(&parse_hex(hex)).unwrap_err();
    assert!(check(&error), "unexpected error {error:?}: {error}");
    let message = error.to_string();
    assert!(
        message.starts_with(|c: char| c.is_lowercase()) && !message.ends_with('.'),
        "{message}"
    );
}

#[test]
fn rejects_truncated_header() {
    check_rejects("42 00 20 02 00 00", |error| {
        matches!(
            error,
            Error::Truncated {
                at: Location::Byte(3),
                needed: 1,
                available: 3
            }
        ) || matches!(error, Error::Truncated { .. })
    });
    check_rejects("", |error| {
        matches!(
            error,
            Error::Truncated {
                at: Location::Byte(0),
                ..
            }
        )
    });
}

#[test]
fn rejects_length_past_end() {
    check_rejects("42 00 20 07 00 00 00 10 48 65 6C 6C", |error| {
        matches!(
            error,
            Error::Truncated {
                at: Location::Byte(8),
                needed: 16,
                available: 4
            }
        )
    });
}

#[test]
fn rejects_bad_type_byte() {
    check_rejects("42 00 20 0C 00 00 00 04 00 00 00 08 00 00 00 00", |error| {
        matches!(
            error,
            Error::UnknownType {
                at: Location::Byte(3),
                found: 0x0C
            }
        )
    });
    check_rejects("42 00 20 00 00 00 00 04 00 00 00 08 00 00 00 00", |error| {
        matches!(error, Error::UnknownType { found: 0x00, .. })
    });
}

#[test]
fn rejects_wrong_fixed_length() {
    check_rejects("42 00 20 02 00 00 00 08 00 00 00 08 00 00 00 00", |error| {
        matches!(
            error,
            Error::InvalidLength {
                at: Location::Byte(4),
                found: 8,
                ..
            }
        )
    });
    check_rejects("42 00 20 04 00 00 00 04 00 00 00 08", |error| {
        matches!(error, Error::InvalidLength { found: 4, .. })
    });
}

#[test]
fn rejects_non_zero_padding() {
    check_rejects("42 00 20 02 00 00 00 04 00 00 00 08 00 00 01 00", |error| {
        matches!(
            error,
            Error::NonZeroPadding {
                at: Location::Byte(14),
                found: 0x01
            }
        )
    });
    check_rejects(
        "42 00 20 07 00 00 00 0B 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 FF",
        |error| {
            matches!(
                error,
                Error::NonZeroPadding {
                    at: Location::Byte(23),
                    found: 0xFF
                }
            )
        },
    );
}

#[test]
fn rejects_bad_boolean() {
    check_rejects("42 00 20 06 00 00 00 08 00 00 00 00 00 00 00 02", |error| {
        matches!(
            error,
            Error::InvalidBoolean {
                at: Location::Byte(8),
                found: 2
            }
        )
    });
}

#[test]
fn rejects_invalid_utf8() {
    check_rejects("42 00 20 07 00 00 00 03 61 FF 62 00 00 00 00 00", |error| {
        matches!(
            error,
            Error::InvalidUtf8 {
                at: Location::Byte(9),
                ..
            }
        )
    });
}

#[test]
fn rejects_structure_length_mismatch() {
    // The structure declares 8 bytes: room for its Integer child's header, not
    // for the value that starts at byte 16.
    check_rejects(
        "42 00 20 01 00 00 00 08 42 00 04 02 00 00 00 04 00 00 00 FE 00 00 00 00",
        |error| {
            matches!(
                error,
                Error::StructureLengthMismatch {
                    at: Location::Byte(16),
                    structure_at: 0,
                    declared: 8,
                    needed: 4,
                    available: 0,
                }
            )
        },
    );
    // The structure declares 24 bytes; after its 16-byte child 8 bytes are left
    // that do not hold the next child's 16.
    check_rejects(
        "42 00 20 01 00 00 00 18 42 00 04 02 00 00 00 04 00 00 00 FE 00 00 00 00 42 00 05 02 00 00 00 04 00 00 00 01 00 00 00 00",
        |error| {
            matches!(
                error,
                Error::StructureLengthMismatch {
                    at: Location::Byte(32),
                    declared: 24,
                    ..
                }
            )
        },
    );
    // A structure's length must be a multiple of 8.
    check_rejects("42 00 20 01 00 00 00 04 00 00 00 00", |error| {
        matches!(error, Error::InvalidLength { found: 4, .. })
    });
}

#[test]
fn rejects_trailing_bytes() {
    check_rejects(
        "42 00 20 02 00 00 00 04 00 00 00 08 00 00 00 00 00",
        |error| {
            matches!(
                error,
                Error::TrailingBytes {
                    at: Location::Byte(16),
                    count: 1
                }
            )
        },
    );
}

/// `levels` structures, each inside the previous one.
fn nested(levels: usize) -> Item {
    let mut item = Item::structure(Tag::ATTRIBUTE, vec![]);
    for _ in 1..levels {
        item = Item::structure(Tag::ATTRIBUTE, vec![item]);
    }
    item
}

#[test]
fn rejects_too_deep() {
    let deepest_allowed = ttlv::encode(&nested(MAX_DEPTH));
    ttlv::decode(&deepest_allowed).unwrap();
    let too_deep = ttlv::encode(&nested(MAX_DEPTH + 1));
    let error = ttlv::decode(&too_deep).unwrap_err();
    let expected_at = 8 * MAX_DEPTH;
    assert!(
        matches!(error, Error::TooDeep { at: Location::Byte(at), limit: MAX_DEPTH } if at == expected_at),
        "{error:?}"
    );
}

#[test]
fn rejects_too_many_items() {
    let children = vec![Item::structure(Tag::ATTRIBUTE, vec![]); MAX_ITEMS];
    let message = ttlv::encode(&Item::structure(Tag::REQUEST_MESSAGE, children));
    let error = ttlv::decode(&message).unwrap_err();
    let expected_at = 8 * MAX_ITEMS;
    assert!(
        matches!(error, Error::TooManyItems { at: Location::Byte(at), limit: MAX_ITEMS } if at == expected_at),
        "{error:?}"
    );
}

#[test]
fn rejects_oversize() {
    let message = ttlv::encode(&Item::new(
        Tag::DATA,
        Value::ByteString(vec![0; MAX_MESSAGE_SIZE].into()),
    ));
    let error = ttlv::decode(&message).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MessageTooLarge {
                at: Location::Byte(0),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(matches!(
        ttlv::frame_length(&message).unwrap_err(),
        Error::MessageTooLarge { .. }
    ));
}

#[test]
fn keeps_unknown_tags_and_enumeration_values() {
    let vendor = Item::structure(
        tag(0x54_0001),
        vec![
            Item::new(tag(0x54_0002), Value::Enumeration(0x8000_0001)),
            Item::new(Tag::OPERATION, Value::Enumeration(0x0000_FFFF)),
            Item::new(tag(0x12_3456), Value::Integer(-1)),
        ],
    );
    let bytes = ttlv::encode(&vendor);
    assert_eq!(ttlv::decode(&bytes).unwrap(), vendor);
    assert_eq!(
        ttlv::decode_json(&ttlv::encode_json(&vendor)).unwrap(),
        vendor
    );
    assert_eq!(
        ttlv::decode_xml(&ttlv::encode_xml(&vendor)).unwrap(),
        vendor
    );
}

#[test]
fn names_tags_both_ways() {
    assert_eq!(tag(0x42_0001).name(), Some("ActivationDate"));
    assert_eq!(Tag::from_name("ActivationDate"), Some(Tag::ACTIVATION_DATE));
    assert_eq!(
        Tag::from_name("X_509CertificateIdentifier"),
        Some(tag(0x42_00B5))
    );
    // KMIP 2.1 additions.
    assert_eq!(tag(0x42_0125).name(), Some("Attributes"));
    assert_eq!(tag(0x42_0176).name(), Some("AsynchronousCorrelationValues"));
    assert_eq!(tag(0x54_0001).name(), None);
    assert_eq!(Tag::from_name("NoSuchTag"), None);
    assert!(tag(0x54_0001).is_extension());
    assert_eq!(Tag::new(0x0100_0000), None);
}

#[test]
fn names_enumeration_values_both_ways() {
    let operation = ttlv::enumeration_for(Tag::OPERATION).unwrap();
    assert!(operation.values.contains(&(0x0A, "Get")));
    assert!(operation.values.contains(&(0x3B, "Ping")));
    let state = ttlv::enumeration_for(Tag::STATE).unwrap();
    assert!(state.values.contains(&(1, "PreActive")));
    let algorithm = ttlv::enumeration_for(Tag::CRYPTOGRAPHIC_ALGORITHM).unwrap();
    assert!(algorithm.values.contains(&(2, "DES3")));
    let usage = ttlv::mask_for(Tag::CRYPTOGRAPHIC_USAGE_MASK).unwrap();
    assert!(usage.values.contains(&(0x0020_0000, "Unrestricted")));
    assert!(ttlv::enumeration_for(Tag::BATCH_COUNT).is_none());
}

#[test]
fn rejects_wrong_fixed_length_for_every_fixed_type() {
    // Type byte, the one length the type allows.
    for (type_byte, allowed) in [
        (0x02, 4),
        (0x03, 8),
        (0x05, 4),
        (0x06, 8),
        (0x09, 8),
        (0x0A, 4),
        (0x0B, 8),
    ] {
        for length in [0_u32, 1, 2, 4, 7, 8, 12, 16] {
            if length == allowed {
                continue;
            }
            let mut bytes = vec![0x42, 0x00, 0x20, type_byte];
            bytes.extend_from_slice(&length.to_be_bytes());
            bytes.extend_from_slice(&[0; 16]);
            let error = ttlv::decode(&bytes).unwrap_err();
            assert!(
                matches!(error, Error::InvalidLength { at: Location::Byte(4), found, .. } if found == length),
                "type 0x{type_byte:02X} length {length}: {error:?}"
            );
        }
    }
}

#[test]
fn rejects_big_integer_length_not_a_multiple_of_eight() {
    check_rejects("42 00 20 04 00 00 00 00", |error| {
        matches!(error, Error::InvalidLength { found: 0, .. })
    });
    check_rejects(
        "42 00 20 04 00 00 00 09 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00",
        |error| matches!(error, Error::InvalidLength { found: 9, .. }),
    );
}

#[test]
fn rejects_structure_length_not_a_multiple_of_eight() {
    check_rejects("42 00 20 01 00 00 00 04 00 00 00 00", |error| {
        matches!(
            error,
            Error::InvalidLength {
                at: Location::Byte(4),
                found: 4,
                ..
            }
        )
    });
}

#[test]
fn rejects_short_padding() {
    // "Hello World" is 11 bytes; the message ends before its 5 bytes of padding.
    check_rejects(
        "42 00 20 07 00 00 00 0B 48 65 6C 6C 6F 20 57 6F 72 6C 64",
        |error| {
            matches!(
                error,
                Error::Truncated {
                    at: Location::Byte(19),
                    needed: 5,
                    available: 0
                }
            )
        },
    );
    // The same inside a structure that leaves no room for the padding.
    check_rejects(
        "42 00 78 01 00 00 00 18 42 00 20 08 00 00 00 03 01 02 03 00 00 00 00 00 42 00 20 08 00 00 00 01 05",
        |error| {
            matches!(
                error,
                Error::TrailingBytes { .. } | Error::StructureLengthMismatch { .. }
            )
        },
    );
}

#[test]
fn rejects_frame_with_bad_header() {
    assert!(matches!(
        ttlv::frame_length(&parse_hex("42 00 78 0C 00 00 00 08")).unwrap_err(),
        Error::UnknownType { found: 0x0C, .. }
    ));
    assert!(matches!(
        ttlv::frame_length(&parse_hex("42 00 78 01 00 00 00 0C")).unwrap_err(),
        Error::InvalidLength { found: 12, .. }
    ));
    assert!(matches!(
        ttlv::frame_length(&parse_hex("42 00 78 01 FF FF FF F8")).unwrap_err(),
        Error::MessageTooLarge { .. }
    ));
    assert_eq!(
        ttlv::frame_length(&parse_hex("42 00 78 01 00 00")).unwrap(),
        None
    );
}

#[test]
fn rejects_length_overflow_inside_structure() {
    // A child claims 0xFFFFFFF8 bytes inside a structure of 16.
    check_rejects(
        "42 00 78 01 00 00 00 10 42 00 20 08 FF FF FF F8 00 00 00 00 00 00 00 00",
        |error| {
            matches!(
                error,
                Error::StructureLengthMismatch {
                    structure_at: 0,
                    declared: 16,
                    ..
                }
            )
        },
    );
}

/// Every `.hex` golden file decodes, re-encodes byte for byte, and survives
/// JSON and XML unchanged.
#[test]
fn every_hex_golden_vector_round_trips() {
    let directory = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(&directory).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".hex") {
            continue;
        }
        let item = check_golden(&parse_hex(&data(&name)));
        assert_eq!(
            ttlv::decode_json(&ttlv::encode_json(&item)).unwrap(),
            item,
            "{name}"
        );
        assert_eq!(
            ttlv::decode_xml(&ttlv::encode_xml(&item)).unwrap(),
            item,
            "{name}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} vectors in {directory}");
}

#[test]
fn decodes_kmip_1_1_discover_versions() {
    let request = check_golden(&parse_hex(&data(
        "kmip-1.1-TC-16-1-discover-versions-9-31-request.hex",
    )));
    let version = request
        .child(Tag::BATCH_ITEM)
        .and_then(|batch_item| batch_item.child(Tag::REQUEST_PAYLOAD))
        .and_then(|payload| payload.child(Tag::PROTOCOL_VERSION))
        .unwrap();
    assert_eq!(version.child_i32(Tag::PROTOCOL_VERSION_MAJOR), Some(9));
    assert_eq!(version.child_i32(Tag::PROTOCOL_VERSION_MINOR), Some(31));
    let response = check_golden(&parse_hex(&data(
        "kmip-1.1-TC-16-1-discover-versions-response.hex",
    )));
    let header = response.child(Tag::RESPONSE_HEADER).unwrap();
    assert_eq!(
        header.child(Tag::TIME_STAMP).unwrap().value,
        Value::DateTime(0x4ED7_3ED7)
    );
    let payload = response
        .child(Tag::BATCH_ITEM)
        .and_then(|batch_item| batch_item.child(Tag::RESPONSE_PAYLOAD))
        .unwrap();
    assert_eq!(payload.children_with(Tag::PROTOCOL_VERSION).count(), 2);
}
