//! JSON and XML TTLV: golden OASIS XML test cases and malformed input.
// Test code: a panic is a test failure, which is what we want.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ttlv::{Error, Item, Location, MAX_DEPTH, MAX_ITEMS, Tag, Value};

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// The lines of an XML message without comments, indentation or blank lines,
/// with hex values in lower case (the test vectors use either case) and mask
/// flags sorted (a mask's flags may come in any order).
fn normalize_xml(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_comment = false;
    for line in text.lines().map(str::trim) {
        if in_comment || line.starts_with("<!--") {
            in_comment = !line.ends_with("-->");
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line.contains("type=\"ByteString\"") || line.contains("type=\"BigInteger\"") {
            lines.push(line.to_lowercase());
        } else if let Some((head, rest)) = line
            .split_once("type=\"Integer\" value=\"")
            .filter(|(_, rest)| rest.contains(' '))
        {
            let (flags, tail) = rest.split_once('"').unwrap();
            let mut flags: Vec<&str> = flags.split(' ').collect();
            flags.sort_unstable();
            lines.push(format!(
                "{head}type=\"Integer\" value=\"{}\"{tail}",
                flags.join(" ")
            ));
        } else {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// Decodes an XML golden file, checks the tree survives every encoding, and
/// that XML → binary → XML gives back the vector's text (normalised).
fn check_xml_golden(name: &str) -> Item {
    let original = data(name);
    let item = ttlv::decode_xml(&original).unwrap();
    let binary = ttlv::encode(&item);
    let from_binary = ttlv::decode(&binary).unwrap();
    assert_eq!(from_binary, item);
    assert_eq!(
        normalize_xml(&ttlv::encode_xml(&from_binary)),
        normalize_xml(&original),
        "XML → binary → XML of {name}"
    );
    assert_eq!(ttlv::decode_xml(&ttlv::encode_xml(&item)).unwrap(), item);
    assert_eq!(ttlv::decode_json(&ttlv::encode_json(&item)).unwrap(), item);
    item
}

fn attribute_value<'a>(attributes: &'a [Item], name: &str) -> &'a Value {
    let attribute = attributes
        .iter()
        .find(|attribute| {
            attribute.child(Tag::ATTRIBUTE_NAME).map(|item| &item.value)
                == Some(&Value::TextString(name.into()))
        })
        .unwrap();
    &attribute.child(Tag::ATTRIBUTE_VALUE).unwrap().value
}

#[test]
fn decodes_oasis_xml_create_request() {
    let item = check_xml_golden("kmip-1.4-SKLC-M-1-14-create-request.xml");
    let batch_item = item.child(Tag::BATCH_ITEM).unwrap();
    assert_eq!(
        batch_item.child(Tag::OPERATION).unwrap().value,
        Value::Enumeration(1)
    );
    let attributes = batch_item
        .child(Tag::REQUEST_PAYLOAD)
        .and_then(|payload| payload.child(Tag::TEMPLATE_ATTRIBUTE))
        .unwrap()
        .children();
    // Enumeration and mask names are read through the sibling Attribute Name.
    assert_eq!(
        attribute_value(attributes, "Cryptographic Algorithm"),
        &Value::Enumeration(3)
    );
    assert_eq!(
        attribute_value(attributes, "Cryptographic Usage Mask"),
        &Value::Integer(0x0C)
    );
}

#[test]
fn decodes_oasis_xml_locate_request() {
    let item = check_xml_golden("kmip-1.2-TC-101-12-locate-request.xml");
    let payload = item
        .child(Tag::BATCH_ITEM)
        .and_then(|batch_item| batch_item.child(Tag::REQUEST_PAYLOAD))
        .unwrap();
    assert_eq!(
        payload.child(Tag::STORAGE_STATUS_MASK).unwrap().value,
        Value::Integer(0x03)
    );
}

#[test]
fn decodes_oasis_xml_get_response() {
    let item = check_xml_golden("kmip-1.2-TC-133-12-get-response.xml");
    let modulus = item.children()[2]
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|payload| payload.child(Tag::PUBLIC_KEY))
        .and_then(|key| key.child(Tag::KEY_BLOCK))
        .and_then(|block| block.child(Tag::KEY_VALUE))
        .and_then(|value| value.child(Tag::KEY_MATERIAL))
        .and_then(|material| material.child(Tag::MODULUS))
        .unwrap();
    let Value::BigInteger(modulus) = &modulus.value else {
        panic!("modulus is {modulus:?}");
    };
    // 8 bytes of sign padding, then a 2048-bit modulus, kept byte for byte.
    assert_eq!(modulus.as_bytes().len(), 8 + 256);
    assert_eq!(modulus.as_bytes()[..9], [0, 0, 0, 0, 0, 0, 0, 0, 0xEA]);
}

#[test]
fn reads_json_as_the_profile_writes_it() {
    let text = r#"{
        "tag": "RequestHeader",
        "value": [
            {"tag": "ProtocolVersion", "type": "Structure", "value": [
                {"tag": "ProtocolVersionMajor", "type": "Integer", "value": 2},
                {"tag": "ProtocolVersionMinor", "type": "Integer", "value": "0x00000001"}
            ]},
            {"tag": "0x540001", "type": "LongInteger", "value": "0x0000000000000010"},
            {"tag": "TimeStamp", "type": "DateTime", "value": "2008-03-14T11:56:40+00:00"},
            {"tag": "BatchCount", "type": "Integer", "value": 1}
        ]
    }"#;
    let item = ttlv::decode_json(text).unwrap();
    let version = item.child(Tag::PROTOCOL_VERSION).unwrap();
    assert_eq!(
        version.child(Tag::PROTOCOL_VERSION_MINOR).unwrap().value,
        Value::Integer(1)
    );
    assert_eq!(
        item.child(Tag::new(0x54_0001).unwrap()).unwrap().value,
        Value::LongInteger(16)
    );
    assert_eq!(
        item.child(Tag::TIME_STAMP).unwrap().value,
        Value::DateTime(1_205_495_800)
    );
}

fn check_json_rejects(text: &str, check: impl Fn(&Error) -> bool) {
    let error = ttlv::decode_json(text).unwrap_err();
    assert!(check(&error), "unexpected error {error:?}: {error}");
}

fn check_xml_rejects(text: &str, check: impl Fn(&Error) -> bool) {
    let error = ttlv::decode_xml(text).unwrap_err();
    assert!(check(&error), "unexpected error {error:?}: {error}");
}

#[test]
fn rejects_json_syntax() {
    check_json_rejects(r#"{"tag": "BatchCount""#, |error| {
        matches!(
            error,
            Error::JsonSyntax {
                at: Location::Line { line: 1, .. },
                ..
            }
        )
    });
}

#[test]
fn rejects_json_unknown_tag_name() {
    check_json_rejects(
        r#"{"tag": "RequestHeader", "value": [{"tag": "NoSuchTag", "type": "Integer", "value": 1}]}"#,
        |error| {
            matches!(error, Error::UnknownTagName { at: Location::Pointer(pointer), name }
                if pointer == "/value/0/tag" && name == "NoSuchTag")
        },
    );
}

#[test]
fn rejects_json_bad_values() {
    let cases = [
        r#"{"tag": "BatchCount", "type": "Integer", "value": 2147483648}"#,
        r#"{"tag": "Operation", "type": "Enumeration", "value": "NoSuchOperation"}"#,
        r#"{"tag": "KeyMaterial", "type": "ByteString", "value": "0g"}"#,
        r#"{"tag": "TimeStamp", "type": "DateTime", "value": "2008-13-14T11:56:40Z"}"#,
        r#"{"tag": "Modulus", "type": "BigInteger", "value": "00"}"#,
        r#"{"tag": "Sensitive", "type": "Boolean", "value": "yes"}"#,
    ];
    for case in cases {
        check_json_rejects(
            case,
            |error| matches!(error, Error::InvalidValue { at: Location::Pointer(pointer), .. } if pointer == "/value"),
        );
    }
    check_json_rejects(
        r#"{"tag": "BatchCount", "type": "Integer", "value": 1, "extra": 0}"#,
        |error| matches!(error, Error::InvalidItem { .. }),
    );
    check_json_rejects(
        r#"{"tag": "BatchCount", "type": "Int", "value": 1}"#,
        |error| matches!(error, Error::InvalidItem { .. }),
    );
}

/// JSON for `levels` nested structures.
fn nested_json(levels: usize) -> String {
    let mut text = r#"{"tag":"Attribute","value":[]}"#.to_owned();
    for _ in 1..levels {
        text = format!(r#"{{"tag":"Attribute","value":[{text}]}}"#);
    }
    text
}

/// XML for `levels` nested structures.
fn nested_xml(levels: usize) -> String {
    let mut text = "<Attribute/>".to_owned();
    for _ in 1..levels {
        text = format!("<Attribute>{text}</Attribute>");
    }
    text
}

#[test]
fn rejects_too_deep_text() {
    ttlv::decode_json(&nested_json(MAX_DEPTH)).unwrap();
    check_json_rejects(&nested_json(MAX_DEPTH + 1), |error| {
        matches!(
            error,
            Error::TooDeep {
                limit: MAX_DEPTH,
                ..
            }
        )
    });
    ttlv::decode_xml(&nested_xml(MAX_DEPTH)).unwrap();
    check_xml_rejects(
        &nested_xml(MAX_DEPTH + 1),
        |error| matches!(error, Error::TooDeep { at: Location::Byte(at), limit: MAX_DEPTH } if *at == 11 * MAX_DEPTH),
    );
}

#[test]
fn rejects_too_many_items_text() {
    let json = format!(
        r#"{{"tag":"RequestMessage","value":[{}]}}"#,
        vec![r#"{"tag":"Attribute"}"#; MAX_ITEMS].join(",")
    );
    check_json_rejects(&json, |error| {
        matches!(
            error,
            Error::TooManyItems {
                limit: MAX_ITEMS,
                ..
            }
        )
    });
    let xml = format!(
        "<RequestMessage>{}</RequestMessage>",
        "<Attribute/>".repeat(MAX_ITEMS)
    );
    check_xml_rejects(&xml, |error| {
        matches!(
            error,
            Error::TooManyItems {
                limit: MAX_ITEMS,
                ..
            }
        )
    });
}

#[test]
fn rejects_xml_outside_the_profile() {
    let cases = [
        "<!DOCTYPE x><BatchCount type=\"Integer\" value=\"1\"/>",
        "<BatchCount type=\"Integer\" value=\"1\" other=\"2\"/>",
        "<BatchCount type=\"Integer\" value=\"&nbsp;\"/>",
        "<BatchCount type=\"Integer\" value=\"1\"/><BatchCount type=\"Integer\" value=\"1\"/>",
        "<BatchCount type=\"Integer\" value=\"1\"",
        "<RequestMessage><![CDATA[x]]></RequestMessage>",
        "<!-- never closed",
    ];
    for case in cases {
        check_xml_rejects(case, |error| matches!(error, Error::XmlSyntax { .. }));
    }
    check_xml_rejects("<NoSuchTag/>", |error| {
        matches!(
            error,
            Error::UnknownTagName {
                at: Location::Byte(1),
                ..
            }
        )
    });
    check_xml_rejects("<BatchCount type=\"Integer\" value=\"one\"/>", |error| {
        matches!(
            error,
            Error::InvalidValue {
                at: Location::Byte(27),
                ..
            }
        )
    });
    check_xml_rejects("<BatchCount type=\"Integer\"/>", |error| {
        matches!(error, Error::InvalidItem { .. })
    });
}

#[test]
fn rejects_json_value_bomb_before_parsing() {
    // Empty arrays are not items, so the item budget would never see them: the
    // separator count must stop the text before serde_json builds the tree.
    let json = format!(
        r#"{{"tag":"RequestMessage","value":[{}]}}"#,
        vec!["[]"; MAX_ITEMS * 6 + 1].join(",")
    );
    check_json_rejects(&json, |error| {
        matches!(
            error,
            Error::TooManyItems {
                at: Location::Byte(_),
                limit: MAX_ITEMS,
            }
        )
    });
    // Separators inside strings do not count.
    let json = format!(
        r#"{{"tag":"BatchCount","type":"TextString","value":"{}"}}"#,
        ",:".repeat(MAX_ITEMS * 6)
    );
    assert!(matches!(
        ttlv::decode_json(&json).unwrap().value,
        Value::TextString(_)
    ));
}

#[test]
fn decodes_the_largest_json_message_the_item_limit_allows() {
    // MAX_ITEMS items written as the encoder writes them must pass the
    // separator count that guards the parser.
    let children = vec![Item::new(Tag::BATCH_COUNT, Value::Integer(1)); MAX_ITEMS - 1];
    let item = Item::structure(Tag::REQUEST_MESSAGE, children);
    assert_eq!(ttlv::decode_json(&ttlv::encode_json(&item)).unwrap(), item);
}
