//! Custom and vendor attributes: KMIP 1.x `x-` (client) and `y-` (server)
//! attribute names and KMIP 2.x Vendor Attributes (Vendor Identification,
//! Attribute Name, Attribute Value), kept in the object's labels so that their
//! type and value round-trip.
//!
//! Inside this crate one is an `Attribute` structure holding Vendor
//! Identification, Attribute Name, an optional Attribute Index and the
//! Attribute Value: the 2.x shape, plus the index. A 1.x name `x-Foo` is
//! vendor `x`, name `Foo` (and `y-Foo` vendor `y`), so 1.x and 2.x clients see
//! the same attribute.
//!
//! Each instance is one label. The key is `kmip-attr.INDEX.VENDOR.NAME`, with
//! VENDOR and NAME escaped to the characters label keys allow: letters,
//! digits and `-` stay, every other byte is `_` and two hexadecimal digits.
//! The value is a type letter, `:` and the value: `t:` text, `i:` integer,
//! `l:` long integer, `e:` enumeration, `b:` boolean, `d:` date-time, `v:`
//! interval, `D:` date-time extended, and `r:` the hexadecimal TTLV encoding
//! of anything else (byte strings, big integers, structures, text with
//! control characters).

use ttlv::{Item, Tag, Value};

use crate::error::KmipError;

/// Prefix of the labels that hold custom attributes.
const PREFIX: &str = "kmip-attr.";

/// Longest label key and value the keystore keeps.
const MAX_LABEL_LEN: usize = keystore::object::MAX_NAME_LEN;

/// A custom attribute in this crate's shape.
#[must_use]
pub fn item(vendor: &str, name: &str, index: Option<u32>, value: Value) -> Item {
    crate::attributes::attribute_structure(
        vec![
            Item::new(
                Tag::VENDOR_IDENTIFICATION,
                Value::TextString(vendor.to_owned()),
            ),
            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
        ],
        index,
        value,
    )
}

/// The vendor and name of a 1.x custom attribute name (`x-Foo`, `y-Foo`).
#[must_use]
pub fn split_v1_name(name: &str) -> Option<(&str, &str)> {
    ["x", "y"].into_iter().find_map(|vendor| {
        name.strip_prefix(vendor)
            .and_then(|rest| rest.strip_prefix('-'))
            .map(|rest| (vendor, rest))
    })
}

/// The 1.x name of a custom attribute, if it has one (vendors `x` and `y`).
#[must_use]
pub fn v1_name(vendor: &str, name: &str) -> Option<String> {
    matches!(vendor, "x" | "y").then(|| format!("{vendor}-{name}"))
}

/// The parts of a custom attribute item: vendor, name, index, value.
#[must_use]
pub fn parts(item: &Item) -> Option<(&str, &str, Option<u32>, &Value)> {
    if item.tag != Tag::ATTRIBUTE {
        return None;
    }
    let index = match item.child(Tag::ATTRIBUTE_INDEX).map(|i| &i.value) {
        Some(Value::Integer(index)) => u32::try_from(*index).ok(),
        _ => None,
    };
    Some((
        item.child_text(Tag::VENDOR_IDENTIFICATION)?,
        item.child_text(Tag::ATTRIBUTE_NAME)?,
        index,
        &item.child(Tag::ATTRIBUTE_VALUE)?.value,
    ))
}

/// Escapes `text` to the characters of a label key, reversibly.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            out.push(char::from(byte));
        } else {
            out.push('_');
            out.push_str(&hex::encode_upper([byte]));
        }
    }
    out
}

fn unescape(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'_' {
            let digits = tail.get(..2)?;
            bytes.extend(hex::decode(digits).ok()?);
            rest = tail.get(2..)?;
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The label key of one instance of a custom attribute.
pub fn label_key(vendor: &str, name: &str, index: u32) -> Result<String, KmipError> {
    if vendor.is_empty() || name.is_empty() {
        return Err(KmipError::invalid(
            "a custom attribute needs a vendor and a name (1.x: x-NAME or y-NAME)",
        ));
    }
    let key = format!("{PREFIX}{index}.{}.{}", escape(vendor), escape(name));
    if key.len() > MAX_LABEL_LEN {
        return Err(KmipError::invalid(format!(
            "the custom attribute name '{vendor}-{name}' is too long to keep; use a shorter name (about 100 letters or digits)"
        )));
    }
    Ok(key)
}

/// The vendor, name and index a label key holds, if it is a custom attribute's.
#[must_use]
pub fn parse_key(key: &str) -> Option<(String, String, u32)> {
    let mut parts = key.strip_prefix(PREFIX)?.splitn(3, '.');
    let index = parts.next()?.parse().ok()?;
    let vendor = unescape(parts.next()?)?;
    let name = unescape(parts.next()?)?;
    Some((vendor, name, index))
}

/// The label value that keeps `value`, its type with it.
pub fn label_value(name: &str, value: &Value) -> Result<String, KmipError> {
    let text = match value {
        Value::TextString(text) if !text.chars().any(char::is_control) => format!("t:{text}"),
        Value::Integer(number) => format!("i:{number}"),
        Value::LongInteger(number) => format!("l:{number}"),
        Value::Enumeration(number) => format!("e:{number}"),
        Value::Boolean(flag) => format!("b:{flag}"),
        Value::DateTime(seconds) => format!("d:{seconds}"),
        Value::Interval(seconds) => format!("v:{seconds}"),
        Value::DateTimeExtended(micros) => format!("D:{micros}"),
        other => format!(
            "r:{}",
            hex::encode(ttlv::encode(&Item::new(
                Tag::ATTRIBUTE_VALUE,
                other.clone()
            )))
        ),
    };
    if text.len() > MAX_LABEL_LEN {
        return Err(KmipError::invalid(format!(
            "the value of custom attribute '{name}' is too large to keep ({} bytes encoded, at most {MAX_LABEL_LEN}); send a shorter value",
            text.len()
        )));
    }
    Ok(text)
}

/// The value a label value keeps, or `None` if it is not one this module wrote.
#[must_use]
pub fn parse_value(text: &str) -> Option<Value> {
    let (kind, rest) = text.split_once(':')?;
    Some(match kind {
        "t" => Value::TextString(rest.to_owned()),
        "i" => Value::Integer(rest.parse().ok()?),
        "l" => Value::LongInteger(rest.parse().ok()?),
        "e" => Value::Enumeration(rest.parse().ok()?),
        "b" => Value::Boolean(rest.parse().ok()?),
        "d" => Value::DateTime(rest.parse().ok()?),
        "v" => Value::Interval(rest.parse().ok()?),
        "D" => Value::DateTimeExtended(rest.parse().ok()?),
        "r" => {
            let item = ttlv::decode(&hex::decode(rest).ok()?).ok()?;
            (item.tag == Tag::ATTRIBUTE_VALUE).then_some(item.value)?
        }
        _ => return None,
    })
}

/// The custom attribute a label holds, in this crate's shape; `None` for
/// other labels and for ones that do not parse (a label set over HTTPS, say).
#[must_use]
pub fn from_label(key: &str, value: &str) -> Option<Item> {
    let (vendor, name, index) = parse_key(key)?;
    Some(item(&vendor, &name, Some(index), parse_value(value)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: Value) {
        let key = label_key("x", "Product_Version 1.0", 3).unwrap();
        let text = label_value("x-Product_Version", &value).unwrap();
        let item = from_label(&key, &text).unwrap();
        let (vendor, name, index, got) = parts(&item).unwrap();
        assert_eq!(
            (vendor, name, index, got),
            ("x", "Product_Version 1.0", Some(3), &value)
        );
        assert!(keystore::object::validate_name("label key", &key).is_ok());
    }

    #[test]
    fn every_value_type_round_trips_through_a_label() {
        round_trip(Value::TextString("7.0.3".to_owned()));
        round_trip(Value::TextString("two\nlines".to_owned()));
        round_trip(Value::Integer(-5));
        round_trip(Value::LongInteger(1 << 40));
        round_trip(Value::Enumeration(0x8000_0001));
        round_trip(Value::Boolean(true));
        round_trip(Value::DateTime(1_700_000_000));
        round_trip(Value::Interval(86_400));
        round_trip(Value::DateTimeExtended(1_700_000_000_000_001));
        round_trip(Value::ByteString(vec![0, 1, 2, 255].into()));
        round_trip(Value::BigInteger(ttlv::BigInteger::from_i64(-77)));
        round_trip(Value::Structure(vec![Item::new(
            Tag::NAME_VALUE,
            Value::TextString("inner".to_owned()),
        )]));
    }

    #[test]
    fn rejects_names_and_values_too_long_to_keep() {
        assert!(label_key("x", &"n".repeat(120), 0).is_err());
        assert!(label_key("x", "", 0).is_err());
        assert!(label_value("x-a", &Value::TextString("v".repeat(127))).is_err());
        assert!(label_value("x-a", &Value::TextString("v".repeat(126))).is_ok());
    }

    #[test]
    fn rejects_labels_it_did_not_write() {
        assert!(from_label("kmip-name", "t:a").is_none());
        assert!(from_label("kmip-attr.0.x.a", "q:1").is_none());
        assert!(from_label("kmip-attr.0.x.a_Z", "t:1").is_none());
        assert!(from_label("kmip-attr.x.x.a", "t:1").is_none());
        assert!(from_label("kmip-attr.0.x.a", "r:zz").is_none());
        assert!(from_label("kmip-attr.0.x.a", "i:1.5").is_none());
    }

    #[test]
    fn v1_names_map_to_vendors_x_and_y() {
        assert_eq!(
            split_v1_name("x-Product_Version"),
            Some(("x", "Product_Version"))
        );
        assert_eq!(split_v1_name("y-Server"), Some(("y", "Server")));
        assert_eq!(split_v1_name("Object Group"), None);
        assert_eq!(v1_name("x", "a").as_deref(), Some("x-a"));
        assert_eq!(v1_name("Acme", "a"), None);
    }
}
