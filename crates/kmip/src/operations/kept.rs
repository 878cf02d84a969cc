//! Attributes kept for clients, and the ones the server records when it
//! makes an object.
//!
//! Kept: standard attributes a client may set that the keystore has no field
//! for (Description, Comment, Protect Stop Date, Process Start Date,
//! Cryptographic Parameters, Usage Limits, Sensitive, Extractable, Fresh), each one label `kmip-std.NAME` holding its
//! typed value as custom attributes do ([`custom::label_value`]). Some act:
//! Cryptographic Parameters are the defaults of Encrypt and Decrypt, Usage
//! Limits are counted down by them, a Sensitive object is not given out in
//! the clear, Fresh turns false at the first Get.
//!
//! Recorded at creation: the Digest (SHA-256 of the material, in the Key
//! Format Type it was computed over, for the version of the material it was
//! computed on), the Random Number Generator of material the server
//! generated, and the Last Change Date of client edits.

use std::collections::BTreeMap;

use keystore::object::{ObjectMeta, ObjectType};
use sha2::{Digest as _, Sha256};
use ttlv::{Item, ItemType, Tag, Value};

use crate::custom;
use crate::error::{KmipError, ResultReason};
use crate::message::ProtocolVersion;

/// A kept attribute: its tag, the KMIP version that introduced it (older
/// versions do not see it), its value type, and whether a client may change
/// it after the object is made (Fresh is the server's to turn false).
pub(super) struct Kept {
    pub(super) tag: Tag,
    pub(super) since: ProtocolVersion,
    pub(super) value_type: ItemType,
    pub(super) editable: bool,
}

/// The kept attributes, in the order Get Attributes reports them.
pub(super) const KEPT: &[Kept] = &[
    kept(Tag::DESCRIPTION, V1_0, ItemType::TextString, true),
    kept(Tag::COMMENT, V1_0, ItemType::TextString, true),
    kept(Tag::PROCESS_START_DATE, V1_0, ItemType::DateTime, true),
    kept(Tag::PROTECT_STOP_DATE, V1_0, ItemType::DateTime, true),
    kept(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        V1_0,
        ItemType::Structure,
        true,
    ),
    kept(Tag::USAGE_LIMITS, V1_0, ItemType::Structure, true),
    kept(Tag::FRESH, V1_1, ItemType::Boolean, false),
    kept(Tag::SENSITIVE, V1_4, ItemType::Boolean, true),
    kept(Tag::EXTRACTABLE, V1_4, ItemType::Boolean, true),
];

const fn kept(tag: Tag, since: ProtocolVersion, value_type: ItemType, editable: bool) -> Kept {
    Kept {
        tag,
        since,
        value_type,
        editable,
    }
}

const V1_0: ProtocolVersion = ProtocolVersion { major: 1, minor: 0 };
const V1_1: ProtocolVersion = ProtocolVersion { major: 1, minor: 1 };
/// KMIP 1.2, which introduced Original Creation Date and Random Number
/// Generator.
pub(super) const V1_2: ProtocolVersion = ProtocolVersion { major: 1, minor: 2 };
/// KMIP 1.4, which introduced Sensitive, Always Sensitive and Extractable.
pub(super) const V1_4: ProtocolVersion = ProtocolVersion { major: 1, minor: 4 };

/// Prefix of the labels holding kept attributes.
const PREFIX: &str = "kmip-std.";

/// Label holding the Digest: `VERSION:FORMAT:HEX` (FORMAT empty for objects
/// that have no Key Format Type: certificates).
const LABEL_DIGEST: &str = "kmip-digest";

/// Label marking material the server generated from its random number
/// generator (the operating system's, through `ring` and `rand`).
pub(super) const LABEL_GENERATED: &str = "kmip-generated";

/// Label holding when a client last changed the object's attributes (Unix
/// seconds).
pub(super) const LABEL_LAST_CHANGE: &str = "kmip-last-change";

/// Label saying that Sensitive has been true since the object was made.
const LABEL_ALWAYS_SENSITIVE: &str = "kmip-always-sensitive";

/// The kept attribute `tag`, if it is one.
pub(super) fn find_kept(tag: Tag) -> Option<&'static Kept> {
    KEPT.iter().find(|kept| kept.tag == tag)
}

/// The label that keeps attribute `tag`.
pub(super) fn kept_label(tag: Tag) -> String {
    format!(
        "{PREFIX}{}",
        tag.spec_name().unwrap_or_default().replace(' ', "")
    )
}

/// The value of kept attribute `tag`, if the object has one.
pub(super) fn kept_value(meta: &ObjectMeta, tag: Tag) -> Option<Value> {
    custom::parse_value(meta.labels.get(&kept_label(tag))?)
}

/// The labels for kept attribute `tag` set to `value` (Sensitive also
/// records whether it has always been true), or removed when `value` is
/// `None`.
pub(super) fn set_kept(
    labels: &mut BTreeMap<String, String>,
    tag: Tag,
    value: Option<&Value>,
    at_creation: bool,
) -> Result<(), KmipError> {
    if tag == Tag::SENSITIVE {
        let sensitive = matches!(value, Some(Value::Boolean(true)));
        if sensitive && at_creation {
            labels.insert(LABEL_ALWAYS_SENSITIVE.to_owned(), "true".to_owned());
        } else if !sensitive {
            labels.remove(LABEL_ALWAYS_SENSITIVE);
        }
    }
    match value {
        Some(value) => {
            let name = tag.spec_name().unwrap_or_default();
            if let Some(expected) = find_kept(tag).map(|kept| kept.value_type) {
                if value.item_type() != expected {
                    return Err(KmipError::invalid(format!(
                        "{tag} must be {expected:?}, not {:?}",
                        value.item_type()
                    )));
                }
            }
            labels.insert(kept_label(tag), custom::label_value(name, value)?);
        }
        None => {
            labels.remove(&kept_label(tag));
        }
    }
    Ok(())
}

/// The labels that keep the kept attributes among a new object's `attrs`
/// (the first instance of each).
pub(super) fn kept_labels(attrs: &[Item]) -> Result<BTreeMap<String, String>, KmipError> {
    let mut labels = BTreeMap::new();
    for kept in KEPT {
        if let Some(item) = attrs.iter().find(|item| item.tag == kept.tag) {
            set_kept(&mut labels, kept.tag, Some(&item.value), true)?;
        }
    }
    Ok(labels)
}

/// The kept attributes of an object that exist in `version`, in [`KEPT`]
/// order, with Always Sensitive after Sensitive.
pub(super) fn kept_items(meta: &ObjectMeta, version: ProtocolVersion) -> Vec<Item> {
    let mut out = Vec::new();
    for kept in KEPT.iter().filter(|kept| version >= kept.since) {
        if let Some(value) = kept_value(meta, kept.tag) {
            out.push(Item::new(kept.tag, value));
            if kept.tag == Tag::SENSITIVE {
                out.push(Item::new(
                    Tag::ALWAYS_SENSITIVE,
                    Value::Boolean(meta.labels.contains_key(LABEL_ALWAYS_SENSITIVE)),
                ));
            }
        }
    }
    out
}

/// Whether the object is Sensitive: its material leaves the server only
/// wrapped.
pub(super) fn is_sensitive(meta: &ObjectMeta) -> bool {
    kept_value(meta, Tag::SENSITIVE) == Some(Value::Boolean(true))
}

/// Whether KMIP lets clients see a Digest of this kind of object here: not
/// of Secret Data and Opaque Objects, which may hold passwords and other
/// guessable secrets whose SHA-256 anyone who may read attributes (or the
/// key store's database) could test guesses against.
pub(super) fn has_digest(kind: ObjectType) -> bool {
    !matches!(kind, ObjectType::SecretData | ObjectType::OpaqueObject)
}

/// The Digest label of a new object's material `bytes`, in Key Format Type
/// `format` (none for certificates), for its first version.
pub(super) fn digest_label(format: Option<u32>, bytes: &[u8]) -> (String, String) {
    let digest = Sha256::digest(bytes);
    (
        LABEL_DIGEST.to_owned(),
        format!(
            "1:{}:{}",
            format.map(|format| format.to_string()).unwrap_or_default(),
            hex::encode(digest)
        ),
    )
}

/// The Digest attribute of an object: SHA-256 (KMIP Hashing Algorithm 6) of
/// its current material, when it was recorded for that version.
pub(super) fn digest_item(meta: &ObjectMeta) -> Option<Item> {
    let text = meta.labels.get(LABEL_DIGEST)?;
    let mut parts = text.splitn(3, ':');
    let version: u32 = parts.next()?.parse().ok()?;
    let format = parts.next()?;
    let value = hex::decode(parts.next()?).ok()?;
    if version != meta.version {
        return None;
    }
    let mut children = vec![
        Item::new(Tag::HASHING_ALGORITHM, Value::Enumeration(6)),
        Item::new(Tag::DIGEST_VALUE, Value::ByteString(value.into())),
    ];
    if let Ok(format) = format.parse::<u32>() {
        children.push(Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(format)));
    }
    Some(Item::structure(Tag::DIGEST, children))
}

/// The Random Number Generator attribute of material the server generated:
/// RNG Algorithm Unspecified (1), the operating system's generator, which is
/// none of the standard algorithms KMIP names.
pub(super) fn random_number_generator(meta: &ObjectMeta) -> Option<Item> {
    meta.labels.contains_key(LABEL_GENERATED).then(|| {
        Item::structure(
            Tag::RANDOM_NUMBER_GENERATOR,
            vec![Item::new(Tag::RNG_ALGORITHM, Value::Enumeration(1))],
        )
    })
}

/// When the object last changed: made, re-keyed, changed state, or had its
/// attributes changed by a client.
pub(super) fn last_change(meta: &ObjectMeta) -> i64 {
    [
        Some(meta.created_at),
        Some(meta.rotated_at),
        meta.activation_date,
        meta.deactivation_date,
        meta.compromise_date,
        meta.destroy_date,
    ]
    .into_iter()
    .flatten()
    .map(time::OffsetDateTime::unix_timestamp)
    .chain(
        meta.labels
            .get(LABEL_LAST_CHANGE)
            .and_then(|seconds| seconds.parse().ok()),
    )
    .max()
    .unwrap_or_default()
}

/// The Usage Limits a use of `amount` bytes leaves, or why the use is
/// refused: Permission Denied once the limit is reached (as the OASIS test
/// case CS-BC-M-7 answers). `None` when the object has no limits.
pub(super) fn usage_after(meta: &ObjectMeta, amount: usize) -> Result<Option<Value>, KmipError> {
    let Some(Value::Structure(fields)) = kept_value(meta, Tag::USAGE_LIMITS) else {
        return Ok(None);
    };
    let long = |tag: Tag| {
        fields
            .iter()
            .find(|item| item.tag == tag)
            .and_then(|item| match item.value {
                Value::LongInteger(value) => Some(value),
                _ => None,
            })
    };
    let total = long(Tag::USAGE_LIMITS_TOTAL).unwrap_or(i64::MAX);
    let left = long(Tag::USAGE_LIMITS_COUNT).unwrap_or(total);
    // Usage Limits Unit 1 is Byte; 2 (Object) counts each use as one.
    let unit = fields
        .iter()
        .find(|item| item.tag == Tag::USAGE_LIMITS_UNIT)
        .and_then(|item| item.value.as_enumeration());
    let used = if unit == Some(1) {
        i64::try_from(amount).unwrap_or(i64::MAX)
    } else {
        1
    };
    if used > left {
        return Err(KmipError::new(
            ResultReason::PermissionDenied,
            format!(
                "object {} may process {left} more of its usage limit of {total}; this needs {used}",
                meta.id
            ),
        ));
    }
    let mut updated: Vec<Item> = fields
        .into_iter()
        .filter(|item| item.tag != Tag::USAGE_LIMITS_COUNT)
        .collect();
    let position = updated
        .iter()
        .position(|item| item.tag == Tag::USAGE_LIMITS_TOTAL)
        .map_or(0, |at| at.saturating_add(1));
    updated.insert(
        position,
        Item::new(
            Tag::USAGE_LIMITS_COUNT,
            Value::LongInteger(left.saturating_sub(used)),
        ),
    );
    Ok(Some(Value::Structure(updated)))
}
