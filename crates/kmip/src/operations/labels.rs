//! How the KMIP attributes a client may set are kept in an object's keystore
//! labels: Names, Object Group, Usage Mask, Contact Information, split key
//! parameters and custom attributes.

use std::collections::BTreeMap;

use keystore::object::{ObjectMeta, ObjectType};
use keystore::secret::SecretBytes;
use ttlv::{Item, Tag, Value};

use crate::attributes;
use crate::custom;
use crate::error::KmipError;

use super::Context;
use super::formats::{big_integer, magnitude};

/// Label holding the KMIP Name (KMIP names may hold characters keystore names do not).
pub(super) const LABEL_NAME: &str = "kmip-name";

/// Prefix of the labels holding a Name's further instances: `kmip-name.INDEX`
/// (index 1 and up; index 0 is [`LABEL_NAME`] or the keystore name).
pub(super) const LABEL_NAME_MORE: &str = "kmip-name.";

/// Label holding the KMIP Object Group.
pub(super) const LABEL_GROUP: &str = "kmip-object-group";

/// Label holding the KMIP Cryptographic Usage Mask.
pub(super) const LABEL_USAGE: &str = "kmip-usage-mask";

/// Labels holding a split key's parameters, in the order of the Split Key
/// object: Split Key Parts, Key Part Identifier, Split Key Threshold, Split
/// Key Method (decimal), Prime Field Size (hexadecimal, when sent).
pub(super) const SPLIT_KEY_LABELS: [(Tag, &str); 5] = [
    (Tag::SPLIT_KEY_PARTS, "kmip-split-key-parts"),
    (Tag::KEY_PART_IDENTIFIER, "kmip-key-part-identifier"),
    (Tag::SPLIT_KEY_THRESHOLD, "kmip-split-key-threshold"),
    (Tag::SPLIT_KEY_METHOD, "kmip-split-key-method"),
    (Tag::PRIME_FIELD_SIZE, "kmip-prime-field-size"),
];

/// Label holding the KMIP Contact Information.
pub(super) const LABEL_CONTACT: &str = "kmip-contact-information";

impl Context<'_> {
    pub(super) fn labels(
        &self,
        attrs: &[Item],
    ) -> Result<(Option<String>, BTreeMap<String, String>), KmipError> {
        let mut labels = BTreeMap::new();
        let name = attributes::name(attrs)?;
        if let Some(name) = &name {
            labels.insert(LABEL_NAME.to_owned(), name.clone());
        }
        // Further Names, at index 1 and up.
        for (index, more) in
            (1_u32..).zip(attrs.iter().filter(|item| item.tag == Tag::NAME).skip(1))
        {
            let text = attributes::name(std::slice::from_ref(more))?.unwrap_or_default();
            labels.insert(format!("{LABEL_NAME_MORE}{index}"), text);
        }
        if let Some(group) = attributes::text(attrs, Tag::OBJECT_GROUP)? {
            labels.insert(LABEL_GROUP.to_owned(), group);
        }
        if let Some(mask) = attributes::integer(attrs, Tag::CRYPTOGRAPHIC_USAGE_MASK)? {
            labels.insert(LABEL_USAGE.to_owned(), mask.to_string());
        }
        // Custom attributes, each instance of a name at the next index.
        let mut instances: BTreeMap<(&str, &str), u32> = BTreeMap::new();
        for (vendor, custom_name, _, value) in attrs.iter().filter_map(custom::parts) {
            let index = instances.entry((vendor, custom_name)).or_insert(0);
            labels.insert(
                custom::label_key(vendor, custom_name, *index)?,
                custom::label_value(custom_name, value)?,
            );
            *index = index.saturating_add(1);
        }
        // The keystore name is the KMIP name when it fits the keystore's rules, so
        // the HTTPS API finds the object by it too; other names live in a label.
        let store_name = name.filter(|name| keystore::object::validate_name("name", name).is_ok());
        Ok((store_name, labels))
    }
}

/// The labels that keep a Split Key's parameters: Split Key Parts, Key Part
/// Identifier, Split Key Threshold and Split Key Method are required (KMIP
/// 1.x and 2.x), the threshold at most the number of parts and the
/// identifier one of the parts; Prime Field Size is required by Polynomial
/// Sharing over a prime field.
pub(super) fn split_key_labels(split: &Item) -> Result<BTreeMap<String, String>, KmipError> {
    let integer = |tag: Tag| -> Result<i32, KmipError> {
        match split.child(tag).map(|i| &i.value) {
            Some(Value::Integer(value)) if *value >= 1 => Ok(*value),
            Some(Value::Integer(_)) => Err(KmipError::invalid(format!("{tag} must be at least 1"))),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be an integer"))),
            None => Err(KmipError::missing(&format!("{tag} in the Split Key"))),
        }
    };
    let parts = integer(Tag::SPLIT_KEY_PARTS)?;
    let identifier = integer(Tag::KEY_PART_IDENTIFIER)?;
    let threshold = integer(Tag::SPLIT_KEY_THRESHOLD)?;
    if threshold > parts || identifier > parts {
        return Err(KmipError::invalid(format!(
            "a split into {parts} parts cannot have threshold {threshold} or part {identifier}"
        )));
    }
    let method = match split.child(Tag::SPLIT_KEY_METHOD).map(|i| &i.value) {
        Some(Value::Enumeration(value)) => *value,
        _ => return Err(KmipError::missing("Split Key Method in the Split Key")),
    };
    let prime = match split.child(Tag::PRIME_FIELD_SIZE).map(|i| &i.value) {
        Some(Value::BigInteger(value)) => Some(hex::encode(magnitude(value)?.expose_secret())),
        Some(_) => return Err(KmipError::invalid("Prime Field Size must be a Big Integer")),
        // Polynomial Sharing over a prime field (0x03) needs the prime; XOR
        // and the GF(2^16) and GF(2^8) sharings do not.
        None if method == 0x03 => {
            return Err(KmipError::missing(
                "Prime Field Size for a polynomial sharing method",
            ));
        }
        None => None,
    };
    let values = [
        Some(parts.to_string()),
        Some(identifier.to_string()),
        Some(threshold.to_string()),
        Some(method.to_string()),
        prime,
    ];
    Ok(SPLIT_KEY_LABELS
        .iter()
        .zip(values)
        .filter_map(|((_, label), value)| value.map(|value| ((*label).to_owned(), value)))
        .collect())
}

/// The Split Key fields a split key's labels keep, in the Split Key object's
/// order (none for other objects).
pub(super) fn split_key_items(meta: &ObjectMeta) -> Vec<Item> {
    if meta.object_type != ObjectType::SplitKey {
        return Vec::new();
    }
    SPLIT_KEY_LABELS
        .iter()
        .filter_map(|(tag, label)| {
            let text = meta.labels.get(*label)?;
            let value = match *tag {
                Tag::SPLIT_KEY_METHOD => Value::Enumeration(text.parse().ok()?),
                Tag::PRIME_FIELD_SIZE => big_integer(&SecretBytes::new(hex::decode(text).ok()?)),
                _ => Value::Integer(text.parse().ok()?),
            };
            Some(Item::new(*tag, value))
        })
        .collect()
}

/// The custom attributes an object's labels keep, by vendor, name and index.
pub(super) fn custom_attributes(meta: &ObjectMeta) -> Vec<Item> {
    let mut found: Vec<(String, String, u32, Item)> = meta
        .labels
        .iter()
        .filter_map(|(key, value)| {
            let (vendor, name, index) = custom::parse_key(key)?;
            let item = custom::from_label(key, value)?;
            Some((vendor, name, index, item))
        })
        .collect();
    found.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    found.into_iter().map(|(.., item)| item).collect()
}

/// Whether an object has every custom attribute in `wanted` (any instance,
/// same vendor, name and value).
pub(super) fn custom_attributes_match(meta: &ObjectMeta, wanted: &[&Item]) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let held: Vec<(String, String, Value)> = custom_attributes(meta)
        .iter()
        .filter_map(|item| {
            let (vendor, name, _, value) = custom::parts(item)?;
            Some((vendor.to_owned(), name.to_owned(), value.clone()))
        })
        .collect();
    wanted.iter().all(|item| {
        custom::parts(item).is_some_and(|(vendor, name, _, value)| {
            held.iter()
                .any(|(v, n, held_value)| v == vendor && n == name && held_value == value)
        })
    })
}

/// An object's Names by index: index 0 is the KMIP name label or else the
/// keystore name, further ones are `kmip-name.INDEX` labels.
pub(super) fn names(meta: &ObjectMeta) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = meta
        .labels
        .get(LABEL_NAME)
        .or(meta.name.as_ref())
        .map(|name| (0, name.clone()))
        .into_iter()
        .collect();
    let mut more: Vec<(u32, String)> = meta
        .labels
        .iter()
        .filter_map(|(key, value)| {
            let index: u32 = key.strip_prefix(LABEL_NAME_MORE)?.parse().ok()?;
            (index > 0).then(|| (index, value.clone()))
        })
        .collect();
    more.sort();
    out.extend(more);
    out
}
