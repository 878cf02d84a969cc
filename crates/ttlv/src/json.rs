//! JSON TTLV, as the KMIP profiles define it (KMIP Profiles 2.1, "JSON Encoding").
//!
//! Each item is an object `{"tag": ..., "type": ..., "value": ...}`. The tag is a
//! name (`"ActivationDate"`) or hex (`"0x540001"`); the type is a type name and
//! may be left out for a Structure, whose value is an array of items. Integers,
//! intervals and small long integers are numbers; long integers beyond ±2^52 are
//! `0x` hex strings, since JSON readers hold numbers as doubles; big integers are
//! `0x` hex strings of their exact bytes; enumerations are names or `0x` + 8 hex
//! digits; masks such as Cryptographic Usage Mask are flag names joined by `|`;
//! byte strings are hex; date-times are ISO 8601 strings. On input every hex form
//! is accepted where the profile allows one.

use serde_json::{Map, Number, Value as Json};

use crate::text::{
    Budget, Tables, check_encoded_size, enumeration_from_text, enumeration_to_text,
    format_date_time, format_date_time_extended, hex_decode, hex_encode, mask_from_text,
    mask_to_text, parse_date_time, parse_date_time_extended, parse_hex_u64, parse_i32, parse_i64,
    parse_u32, tables_for,
};
use crate::{BigInteger, Error, Item, ItemType, Location, MAX_TEXT_SIZE, Tag, Value};

/// Long integers at least this large in magnitude are written as hex: a JSON
/// number is read as a double by most implementations, exact only below 2^53.
const LARGEST_JSON_INTEGER: i64 = 1 << 52;

/// Encodes an item as a JSON value.
#[must_use]
pub fn encode_json_value(item: &Item) -> Json {
    item_to_json(item, None)
}

/// Encodes an item as compact JSON text.
///
/// Byte strings carry key material, so the text is written once into a
/// buffer of its exact length (no reallocation leaves a partial copy behind)
/// and the JSON tree it was written from is wiped before it is freed. The
/// caller owns the one copy left, the text.
#[must_use]
pub fn encode_json(item: &Item) -> String {
    let mut json = encode_json_value(item);
    let text = exact_text(&json);
    wipe(&mut json);
    text
}

/// The compact text of `json`, written into a buffer sized first.
fn exact_text(json: &Json) -> String {
    /// Counts the bytes written to it.
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `serde_json::Value` to an infallible writer cannot fail: its
    // keys are strings and its numbers finite.
    let _ = serde_json::to_writer(&mut counter, json);
    let mut bytes = Vec::with_capacity(counter.0);
    let _ = serde_json::to_writer(&mut bytes, json);
    String::from_utf8(bytes).unwrap_or_default()
}

/// Overwrites every string of a JSON tree (the hex of byte strings and big
/// integers among them) with zeros, before the tree is freed.
fn wipe(json: &mut Json) {
    match json {
        Json::String(text) => zeroize::Zeroize::zeroize(text),
        Json::Array(values) => values.iter_mut().for_each(wipe),
        Json::Object(map) => map.values_mut().for_each(wipe),
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
}

/// Decodes JSON text holding one item, with the same limits as binary decoding.
pub fn decode_json(text: &str) -> Result<Item, Error> {
    if text.len() > crate::MAX_TEXT_SIZE {
        return Err(Error::MessageTooLarge {
            at: Location::Byte(0),
            length: u64::try_from(text.len()).unwrap_or(u64::MAX),
            limit: MAX_TEXT_SIZE,
        });
    }
    check_json_token_count(text)?;
    let mut json: Json = serde_json::from_str(text).map_err(|source| Error::JsonSyntax {
        at: Location::Line {
            line: source.line(),
            column: source.column(),
        },
        source,
    })?;
    let decoded = decode_json_value(&json);
    // The hex of byte strings lives in the tree's strings too.
    wipe(&mut json);
    decoded
}

/// Separators (`:` and `,` outside strings) one item of the profile can use: three
/// colons and two commas inside its object, and one comma before it in its parent.
const SEPARATORS_PER_ITEM: usize = 6;

/// Rejects text with more JSON values than [`crate::MAX_ITEMS`] items can hold,
/// before it is parsed.
///
/// `serde_json::Value` costs tens of bytes a value, so 64 MiB of `[],[],...`
/// (22 million values) would otherwise become most of a gigabyte of tree before
/// the item limit is checked on it. Every value but the first follows a `:` or
/// a `,`, so counting those outside strings bounds the values the parser builds.
fn check_json_token_count(text: &str) -> Result<(), Error> {
    let limit = crate::MAX_ITEMS.saturating_mul(SEPARATORS_PER_ITEM);
    let mut separators = 0_usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b':' | b',' => {
                separators = separators.saturating_add(1);
                if separators > limit {
                    return Err(Error::TooManyItems {
                        at: Location::Byte(offset),
                        limit: crate::MAX_ITEMS,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Decodes a JSON value holding one item, with the same limits as binary decoding.
pub fn decode_json_value(json: &Json) -> Result<Item, Error> {
    let mut budget = Budget::default();
    let item = item_from_json(json, "", 1, &mut budget, None)?;
    check_encoded_size(&item, Location::Pointer(String::new()))?;
    Ok(item)
}

fn tag_to_json(tag: Tag) -> Json {
    Json::String(
        tag.name()
            .map_or_else(|| format!("0x{:06X}", tag.value()), str::to_owned),
    )
}

fn item_to_json(item: &Item, attribute_name: Option<&str>) -> Json {
    let tables = tables_for(item.tag, attribute_name);
    let value = match &item.value {
        Value::Structure(children) => {
            let mut attribute_name = None;
            let mut array = Vec::with_capacity(children.len());
            for child in children {
                array.push(item_to_json(child, attribute_name));
                if let (Tag::ATTRIBUTE_NAME, Value::TextString(name)) = (child.tag, &child.value) {
                    attribute_name = Some(name.as_str());
                }
            }
            Json::Array(array)
        }
        Value::Integer(value) => tables
            .mask
            .and_then(|table| mask_to_text(table, *value, "|"))
            .map_or_else(|| Json::from(*value), Json::String),
        Value::LongInteger(value) => {
            if (-LARGEST_JSON_INTEGER + 1..LARGEST_JSON_INTEGER).contains(value) {
                Json::from(*value)
            } else {
                Json::String(format!(
                    "0x{:016X}",
                    u64::from_be_bytes(value.to_be_bytes())
                ))
            }
        }
        Value::BigInteger(big) => Json::String(format!("0x{}", hex_encode(big.as_bytes()))),
        Value::Enumeration(value) => Json::String(enumeration_to_text(tables, *value)),
        Value::Boolean(value) => Json::Bool(*value),
        Value::TextString(text) => Json::String(text.clone()),
        Value::ByteString(bytes) => Json::String(hex_encode(bytes)),
        Value::DateTime(seconds) => Json::String(format_date_time(*seconds)),
        Value::Interval(seconds) => Json::from(*seconds),
        Value::DateTimeExtended(micros) => Json::String(format_date_time_extended(*micros)),
    };
    let mut object = Map::new();
    object.insert("tag".to_owned(), tag_to_json(item.tag));
    if !matches!(item.value, Value::Structure(_)) {
        object.insert(
            "type".to_owned(),
            Json::String(item.value.item_type().name().to_owned()),
        );
    }
    object.insert("value".to_owned(), value);
    Json::Object(object)
}

/// At most this much of an offending value is quoted back in an error.
const SNIPPET_LEN: usize = 64;

/// A short rendering of a JSON value for an error message.
fn snippet(json: &Json) -> String {
    let text = json.to_string();
    match text.char_indices().nth(SNIPPET_LEN) {
        Some((cut, _)) => format!("{}...", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}

fn item_from_json(
    json: &Json,
    pointer: &str,
    depth: usize,
    budget: &mut Budget,
    attribute_name: Option<&str>,
) -> Result<Item, Error> {
    let here = || Location::Pointer(pointer.to_owned());
    budget.item(depth, here)?;
    let Json::Object(object) = json else {
        return Err(Error::InvalidItem {
            at: here(),
            expected: "an object with \"tag\", \"type\" and \"value\"",
            found: snippet(json),
        });
    };
    if let Some(extra) = object
        .keys()
        .find(|key| !matches!(key.as_str(), "tag" | "type" | "value"))
    {
        return Err(Error::InvalidItem {
            at: here(),
            expected: "only the members \"tag\", \"type\" and \"value\"",
            found: format!("member {extra:?}"),
        });
    }
    let tag = match object.get("tag") {
        Some(Json::String(name)) => {
            tag_from_text(name, || Location::Pointer(format!("{pointer}/tag")))?
        }
        other => {
            return Err(Error::InvalidItem {
                at: here(),
                expected: "a \"tag\" string",
                found: other.map_or_else(|| "no tag".to_owned(), snippet),
            });
        }
    };
    let item_type = match object.get("type") {
        None => ItemType::Structure,
        Some(Json::String(name)) => {
            ItemType::from_name(name).ok_or_else(|| Error::InvalidItem {
                at: Location::Pointer(format!("{pointer}/type")),
                expected: "a KMIP item type name such as \"Integer\"",
                found: format!("{name:?}"),
            })?
        }
        Some(other) => {
            return Err(Error::InvalidItem {
                at: Location::Pointer(format!("{pointer}/type")),
                expected: "a KMIP item type name such as \"Integer\"",
                found: snippet(other),
            });
        }
    };
    let value_pointer = format!("{pointer}/value");
    let empty = Json::Array(Vec::new());
    let json_value = match object.get("value") {
        Some(value) => value,
        None if item_type == ItemType::Structure => &empty,
        None => {
            return Err(Error::InvalidItem {
                at: here(),
                expected: "a \"value\" member",
                found: "none".to_owned(),
            });
        }
    };
    let tables = tables_for(tag, attribute_name);
    let value = if item_type == ItemType::Structure {
        let Json::Array(elements) = json_value else {
            return Err(invalid_value(
                &value_pointer,
                item_type,
                "an array of items",
                json_value,
            ));
        };
        let mut children = Vec::new();
        let mut attribute_name: Option<String> = None;
        for (index, element) in elements.iter().enumerate() {
            let child = item_from_json(
                element,
                &format!("{value_pointer}/{index}"),
                depth.saturating_add(1),
                budget,
                attribute_name.as_deref(),
            )?;
            if let (Tag::ATTRIBUTE_NAME, Value::TextString(name)) = (child.tag, &child.value) {
                attribute_name = Some(name.clone());
            }
            children.push(child);
        }
        Value::Structure(children)
    } else {
        scalar_from_json(json_value, item_type, tables).ok_or_else(|| {
            invalid_value(&value_pointer, item_type, expected(item_type), json_value)
        })?
    };
    Ok(Item { tag, value })
}

/// Reads a tag given by name or as `0x` + up to 6 hex digits.
pub(crate) fn tag_from_text(text: &str, at: impl Fn() -> Location) -> Result<Tag, Error> {
    let tag = match parse_hex_u64(text, 6) {
        Some(value) => u32::try_from(value).ok().and_then(Tag::new),
        None => Tag::from_name(text),
    };
    tag.ok_or_else(|| Error::UnknownTagName {
        at: at(),
        name: text.to_owned(),
    })
}

fn invalid_value(pointer: &str, item_type: ItemType, expected: &'static str, json: &Json) -> Error {
    Error::InvalidValue {
        at: Location::Pointer(pointer.to_owned()),
        item_type,
        expected,
        found: snippet(json),
    }
}

/// What the JSON profile allows for a value of this type.
fn expected(item_type: ItemType) -> &'static str {
    match item_type {
        ItemType::Structure => "an array of items",
        ItemType::Integer => {
            "a 32-bit number, \"0x\" and 8 hex digits, or mask flag names joined by |"
        }
        ItemType::LongInteger => "a 64-bit number or \"0x\" and 16 hex digits",
        ItemType::BigInteger => "\"0x\" and hex digits, or a number",
        ItemType::Enumeration => "an enumeration name or \"0x\" and 8 hex digits",
        ItemType::Boolean => "true or false",
        ItemType::TextString => "a string",
        ItemType::ByteString => "hex digits, two a byte",
        ItemType::DateTime => "an ISO 8601 date-time in whole seconds, or \"0x\" and 16 hex digits",
        ItemType::Interval => "a number of seconds from 0 to 4294967295",
        ItemType::DateTimeExtended => {
            "an ISO 8601 date-time to the microsecond, or \"0x\" and 16 hex digits"
        }
    }
}

fn number_i64(number: &Number) -> Option<i64> {
    number.as_i64()
}

/// Reads a non-structure value, or `None` if it is not valid for its type.
fn scalar_from_json(json: &Json, item_type: ItemType, tables: Tables) -> Option<Value> {
    Some(match (item_type, json) {
        (ItemType::Integer, Json::Number(number)) => {
            Value::Integer(i32::try_from(number_i64(number)?).ok()?)
        }
        (ItemType::Integer, Json::String(text)) => Value::Integer(match parse_i32(text) {
            Some(value) => value,
            None => mask_from_text(tables.mask?, text, &['|'])?,
        }),
        (ItemType::LongInteger, Json::Number(number)) => Value::LongInteger(number_i64(number)?),
        (ItemType::LongInteger, Json::String(text)) => Value::LongInteger(parse_i64(text)?),
        (ItemType::BigInteger, Json::Number(number)) => {
            Value::BigInteger(BigInteger::from_i64(number_i64(number)?))
        }
        (ItemType::BigInteger, Json::String(text)) => {
            let digits = text.strip_prefix("0x")?;
            Value::BigInteger(BigInteger::from_signed_bytes(&hex_decode(digits)?))
        }
        (ItemType::Enumeration, Json::Number(number)) => {
            Value::Enumeration(u32::try_from(number.as_u64()?).ok()?)
        }
        (ItemType::Enumeration, Json::String(text)) => {
            Value::Enumeration(enumeration_from_text(tables, text)?)
        }
        (ItemType::Boolean, Json::Bool(value)) => Value::Boolean(*value),
        (ItemType::Boolean, Json::String(text)) => match parse_hex_u64(text, 16)? {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            _ => return None,
        },
        (ItemType::TextString, Json::String(text)) => Value::TextString(text.clone()),
        (ItemType::ByteString, Json::String(text)) => Value::ByteString(hex_decode(text)?),
        (ItemType::DateTime, Json::Number(number)) => Value::DateTime(number_i64(number)?),
        (ItemType::DateTime, Json::String(text)) => Value::DateTime(parse_date_time(text)?),
        (ItemType::Interval, Json::Number(number)) => {
            Value::Interval(u32::try_from(number.as_u64()?).ok()?)
        }
        (ItemType::Interval, Json::String(text)) => Value::Interval(parse_u32(text)?),
        (ItemType::DateTimeExtended, Json::Number(number)) => {
            Value::DateTimeExtended(number_i64(number)?)
        }
        (ItemType::DateTimeExtended, Json::String(text)) => {
            Value::DateTimeExtended(parse_date_time_extended(text)?)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(item: &Item, expected: &str) {
        assert_eq!(encode_json(item), expected);
        assert_eq!(&decode_json(expected).unwrap(), item);
    }

    #[test]
    fn encodes_values_as_the_profile_says() {
        check(
            &Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
            r#"{"tag":"CryptographicAlgorithm","type":"Enumeration","value":"AES"}"#,
        );
        check(
            &Item::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(12)),
            r#"{"tag":"CryptographicUsageMask","type":"Integer","value":"Encrypt|Decrypt"}"#,
        );
        check(
            &Item::new(Tag::new(0x54_0001).unwrap(), Value::Enumeration(7)),
            r#"{"tag":"0x540001","type":"Enumeration","value":"0x00000007"}"#,
        );
        check(
            &Item::new(Tag::USAGE_LIMITS_TOTAL, Value::LongInteger(i64::MIN)),
            r#"{"tag":"UsageLimitsTotal","type":"LongInteger","value":"0x8000000000000000"}"#,
        );
        check(
            &Item::structure(Tag::PROTOCOL_VERSION, vec![]),
            r#"{"tag":"ProtocolVersion","value":[]}"#,
        );
    }

    #[test]
    fn reads_attribute_values_by_their_attribute_name() {
        let text = r#"{"tag":"Attribute","value":[
            {"tag":"AttributeName","type":"TextString","value":"Cryptographic Usage Mask"},
            {"tag":"AttributeValue","type":"Integer","value":"Decrypt|Encrypt"}]}"#;
        let item = decode_json(text).unwrap();
        assert_eq!(
            item.child(Tag::ATTRIBUTE_VALUE).unwrap().value,
            Value::Integer(12)
        );
    }
}
