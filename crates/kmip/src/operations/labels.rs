//! How the KMIP attributes a client may set are kept in an object's keystore
//! labels: Names, Object Group, Usage Mask, Contact Information, Operation
//! Policy Name, Application Specific Information, split key parameters and
//! custom attributes; and what a registered object is that the keystore's
//! algorithm cannot say (the client's Cryptographic Algorithm and Length, the
//! Key Format Type its material is kept in, a wrapped Key Block, the Secret
//! Data, Opaque Data and Certificate Type).

use std::collections::BTreeMap;

use keystore::object::{Algorithm, ObjectMeta, ObjectType};
use keystore::secret::SecretBytes;
use ttlv::{Item, Tag, Value};

use crate::attributes;
use crate::custom;
use crate::error::KmipError;

use super::Context;
use super::formats::{big_integer, magnitude};
use super::values::kmip_algorithm;

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

/// Label holding the KMIP Operation Policy Name a client set (objects without
/// one report `default`, the server's policy: its role-based access rules).
pub(super) const LABEL_POLICY: &str = "kmip-operation-policy-name";

/// The Operation Policy Name of objects that were given none.
pub(super) const DEFAULT_POLICY: &str = "default";

/// Prefix of the labels holding Application Specific Information instances:
/// `kmip-app-info.INDEX.namespace` and `kmip-app-info.INDEX.data`.
pub(super) const LABEL_APP_INFO: &str = "kmip-app-info.";

/// Label holding the KMIP Cryptographic Algorithm (decimal) a client gave an
/// object when the keystore's algorithm does not say it (a symmetric key of
/// an algorithm or length the server does not use, an EC key called EC).
pub(super) const LABEL_ALGORITHM: &str = "kmip-algorithm";

/// Label holding the KMIP Cryptographic Length (bits) when it is not the
/// length the keystore derives (3DES's 168 bits of 192, a key of a size the
/// server does not use).
pub(super) const LABEL_LENGTH: &str = "kmip-length";

/// Label holding the Key Format Type (decimal) a registered key's material is
/// kept in, when it is not the server's own form (Raw symmetric keys,
/// SubjectPublicKeyInfo and PKCS#8 for asymmetric ones).
pub(super) const LABEL_KEY_FORMAT: &str = "kmip-key-format";

/// Label saying that the material is the TTLV of a Key Block a client
/// registered, kept as it came because the server cannot use it:
/// [`KEY_BLOCK_WRAPPED`] (the server holds no key to unwrap it) or
/// [`KEY_BLOCK_KEPT`] (a key of an algorithm or size the server does not
/// use, in a transparent form it does not convert).
pub(super) const LABEL_KEY_BLOCK: &str = "kmip-key-block";

/// [`LABEL_KEY_BLOCK`]'s value for a wrapped Key Block.
pub(super) const KEY_BLOCK_WRAPPED: &str = "wrapped";

/// [`LABEL_KEY_BLOCK`]'s value for a Key Block kept as it came.
pub(super) const KEY_BLOCK_KEPT: &str = "kept";

/// Label holding a Secret Data object's Secret Data Type when it is not
/// Password.
pub(super) const LABEL_SECRET_DATA_TYPE: &str = "kmip-secret-data-type";

/// Label holding an Opaque Object's Opaque Data Type when it is not the
/// vendor-neutral unknown value.
pub(super) const LABEL_OPAQUE_DATA_TYPE: &str = "kmip-opaque-data-type";

/// Label holding a certificate's Certificate Type when it is not X.509.
pub(super) const LABEL_CERTIFICATE_TYPE: &str = "kmip-certificate-type";

/// Label holding an X.509 certificate's Certificate Length (bytes of DER).
pub(super) const LABEL_CERTIFICATE_LENGTH: &str = "kmip-certificate-length";

/// Label holding the Common Name of an X.509 certificate's subject.
pub(super) const LABEL_CERTIFICATE_SUBJECT_CN: &str = "kmip-certificate-subject-cn";

/// A label holding a number.
pub(super) fn label_number<T: std::str::FromStr>(meta: &ObjectMeta, label: &str) -> Option<T> {
    meta.labels.get(label).and_then(|text| text.parse().ok())
}

/// The Cryptographic Algorithm an object reports: the one its client gave,
/// else the keystore algorithm's.
pub(super) fn reported_algorithm(meta: &ObjectMeta) -> Option<u32> {
    label_number(meta, LABEL_ALGORITHM).or_else(|| kmip_algorithm(meta.algorithm))
}

/// The Cryptographic Length an object reports, in bits, when it reports an
/// algorithm.
pub(super) fn reported_length(meta: &ObjectMeta) -> Option<i32> {
    reported_algorithm(meta)?;
    label_number(meta, LABEL_LENGTH).or_else(|| i32::try_from(meta.length).ok())
}

/// The labels that say what a new object is when the keystore's `known`
/// algorithm does not: the client's algorithm `kmip_algorithm` when `known`
/// reports another, and `length` when it is not `derived_bits` (what the
/// keystore records).
pub(super) fn algorithm_labels(
    known: Algorithm,
    kmip_algorithm_given: Option<u32>,
    length: Option<i32>,
    derived_bits: u32,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    if let Some(given) = kmip_algorithm_given {
        if Some(given) != kmip_algorithm(known) {
            labels.insert(LABEL_ALGORITHM.to_owned(), given.to_string());
        }
    }
    if let Some(bits) = length {
        if i64::from(bits) != i64::from(derived_bits) {
            labels.insert(LABEL_LENGTH.to_owned(), bits.to_string());
        }
    }
    labels
}

/// An object's Application Specific Information instances by index, as
/// (namespace, data).
pub(super) fn app_infos(meta: &ObjectMeta) -> Vec<(u32, String, String)> {
    let mut found: BTreeMap<u32, (String, String)> = BTreeMap::new();
    for (key, value) in &meta.labels {
        let Some(rest) = key.strip_prefix(LABEL_APP_INFO) else {
            continue;
        };
        let Some((index, part)) = rest.split_once('.') else {
            continue;
        };
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        let entry = found.entry(index).or_default();
        match part {
            "namespace" => entry.0.clone_from(value),
            "data" => entry.1.clone_from(value),
            _ => {}
        }
    }
    found
        .into_iter()
        .map(|(index, (namespace, data))| (index, namespace, data))
        .collect()
}

/// The two labels of Application Specific Information instance `index`.
pub(super) fn app_info_labels(index: u32) -> [String; 2] {
    [
        format!("{LABEL_APP_INFO}{index}.namespace"),
        format!("{LABEL_APP_INFO}{index}.data"),
    ]
}

/// An Application Specific Information attribute (2.x shape).
pub(super) fn app_info_item(namespace: &str, data: &str) -> Item {
    Item::structure(
        Tag::APPLICATION_SPECIFIC_INFORMATION,
        vec![
            Item::new(
                Tag::APPLICATION_NAMESPACE,
                Value::TextString(namespace.to_owned()),
            ),
            Item::new(Tag::APPLICATION_DATA, Value::TextString(data.to_owned())),
        ],
    )
}

/// The namespace and data of an Application Specific Information value.
pub(super) fn app_info_parts(value: &Value) -> Result<(String, String), KmipError> {
    let Value::Structure(children) = value else {
        return Err(KmipError::invalid(
            "Application Specific Information must be a structure",
        ));
    };
    let text = |tag: Tag| {
        children
            .iter()
            .find(|item| item.tag == tag)
            .and_then(|item| item.value.as_text())
            .map(str::to_owned)
    };
    let namespace = text(Tag::APPLICATION_NAMESPACE)
        .ok_or_else(|| KmipError::missing("Application Namespace"))?;
    Ok((namespace, text(Tag::APPLICATION_DATA).unwrap_or_default()))
}

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
        if let Some(contact) = attributes::text(attrs, Tag::CONTACT_INFORMATION)? {
            labels.insert(LABEL_CONTACT.to_owned(), contact);
        }
        if let Some(policy) = attributes::text(attrs, Tag::OPERATION_POLICY_NAME)? {
            labels.insert(LABEL_POLICY.to_owned(), policy);
        }
        for (index, info) in (0_u32..).zip(
            attrs
                .iter()
                .filter(|item| item.tag == Tag::APPLICATION_SPECIFIC_INFORMATION),
        ) {
            let (namespace, data) = app_info_parts(&info.value)?;
            let [namespace_label, data_label] = app_info_labels(index);
            labels.insert(namespace_label, namespace);
            labels.insert(data_label, data);
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
        labels.extend(super::kept::kept_labels(attrs)?);
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
