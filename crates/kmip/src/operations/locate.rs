//! Locate: the identifiers of the objects whose attributes match, newest
//! first. An object matches when it has every attribute the request names
//! with the value given, compared as KMIP says: two values of a date
//! attribute are a range, a Cryptographic Usage Mask matches the objects
//! whose mask has all its bits, a Name matches any of an object's Names, and
//! EC keys answer to both ECDSA and EC. Without a State attribute, destroyed
//! objects are left out (KMIP 2.1 section 6.1.27; their identifiers would
//! only lead to Object Destroyed answers).

use std::collections::BTreeMap;

use keystore::TenantScope;
use keystore::model::{ListFilter, MAX_LIST};
use keystore::object::{ObjectMeta, State};
use ttlv::{Item, Tag, Value};

use crate::attributes;
use crate::custom;
use crate::error::KmipError;
use crate::message::ProtocolVersion;

use super::labels::custom_attributes_match;
use super::values::{algorithm, object_type_from_kmip, state_from_kmip};
use super::{Context, Outcome, store_error, uid};

/// The date attributes two instances of which, in a Locate, mean a range.
const DATES: [Tag; 11] = [
    Tag::INITIAL_DATE,
    Tag::ACTIVATION_DATE,
    Tag::DEACTIVATION_DATE,
    Tag::COMPROMISE_DATE,
    Tag::COMPROMISE_OCCURRENCE_DATE,
    Tag::DESTROY_DATE,
    Tag::ARCHIVE_DATE,
    Tag::LAST_CHANGE_DATE,
    Tag::ORIGINAL_CREATION_DATE,
    Tag::PROCESS_START_DATE,
    Tag::PROTECT_STOP_DATE,
];

/// Whether one of the object's `held` attributes with the tag of `wanted`
/// satisfies all the request's `wanted` values of that tag.
fn satisfies(held: &[&Item], tag: Tag, wanted: &[&Value]) -> bool {
    let values = || {
        held.iter()
            .filter(|item| item.tag == tag)
            .map(|item| &item.value)
    };
    if DATES.contains(&tag) {
        let bounds: Vec<i64> = wanted
            .iter()
            .filter_map(|value| match value {
                Value::DateTime(seconds) => Some(*seconds),
                _ => None,
            })
            .collect();
        return values().any(|value| match (value, bounds.as_slice()) {
            (Value::DateTime(at), [exact]) => at == exact,
            (Value::DateTime(at), [first, second]) => {
                (*first.min(second)..=*first.max(second)).contains(at)
            }
            _ => false,
        });
    }
    wanted.iter().all(|wanted| {
        values().any(|value| match (tag, value, wanted) {
            (Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(mask), Value::Integer(bits)) => {
                mask & bits == *bits
            }
            (Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(held), Value::Enumeration(asked)) => {
                held == asked
                    || [held, asked]
                        .iter()
                        .all(|code| [algorithm::ECDSA, algorithm::EC].contains(code))
            }
            (Tag::NAME, held, asked) => {
                name_value(held).is_some() && name_value(held) == name_value(asked)
            }
            (_, held, asked) => held == *asked,
        })
    })
}

/// The Name Value of a Name attribute's value.
fn name_value(value: &Value) -> Option<&str> {
    match value {
        Value::Structure(children) => children
            .iter()
            .find(|item| item.tag == Tag::NAME_VALUE)
            .and_then(|item| item.value.as_text()),
        Value::TextString(text) => Some(text),
        _ => None,
    }
}

impl Context<'_> {
    /// Whether `meta` has every attribute in `wanted` (the request's, in the
    /// 2.x shape).
    fn located_by(&self, meta: &ObjectMeta, wanted: &[Item]) -> bool {
        let all = self.all_attributes(meta);
        let held: Vec<&Item> = all
            .iter()
            .map(|item| attributes::unindexed(item).0)
            .collect();
        let custom_wanted: Vec<&Item> = wanted
            .iter()
            .filter(|item| custom::parts(item).is_some())
            .collect();
        let mut standard: BTreeMap<Tag, Vec<&Value>> = BTreeMap::new();
        for item in wanted.iter().filter(|item| custom::parts(item).is_none()) {
            standard.entry(item.tag).or_default().push(&item.value);
        }
        if !standard.contains_key(&Tag::STATE) && meta.state.is_destroyed() {
            return false;
        }
        custom_attributes_match(meta, &custom_wanted)
            && standard
                .iter()
                .all(|(tag, values)| satisfies(&held, *tag, values))
    }

    pub(super) fn locate(&self) -> Outcome {
        self.require(self.session.rights.read_metadata, "locate objects")?;
        let attrs = attributes::read(self.payload)?;
        let maximum = match self.payload.child(Tag::MAXIMUM_ITEMS).map(|i| &i.value) {
            None => usize::MAX,
            Some(Value::Integer(value)) => usize::try_from(*value)
                .map_err(|_| KmipError::invalid("Maximum Items must not be negative"))?,
            Some(_) => return Err(KmipError::invalid("Maximum Items must be an integer")),
        };
        let offset = match self.payload.child(Tag::OFFSET_ITEMS).map(|i| &i.value) {
            None => 0,
            Some(Value::Integer(value)) => usize::try_from(*value)
                .map_err(|_| KmipError::invalid("Offset Items must not be negative"))?,
            Some(_) => return Err(KmipError::invalid("Offset Items must be an integer")),
        };
        // The keystore narrows by object type and (one) state; the rest is
        // matched here.
        let object_filter = match attributes::enumeration(&attrs, Tag::OBJECT_TYPE)? {
            None => None,
            Some(value) => match object_type_from_kmip(value) {
                Some(kind) => Some(kind),
                // No object of a type we do not store can match.
                None => return Ok(self.located(Vec::new(), 0)),
            },
        };
        let states: Vec<State> = attrs
            .iter()
            .filter(|item| item.tag == Tag::STATE)
            .map(|item| match item.value {
                Value::Enumeration(value) => state_from_kmip(value)
                    .ok_or_else(|| KmipError::invalid(format!("State 0x{value:02X} is unknown"))),
                _ => Err(KmipError::invalid("State must be an enumeration")),
            })
            .collect::<Result<_, _>>()?;
        let tenants = match &self.session.scope {
            TenantScope::All => None,
            TenantScope::Only(tenants) => Some(tenants.clone()),
        };
        let mut matching: Vec<String> = Vec::new();
        let mut page: u64 = 0;
        loop {
            let filter = ListFilter {
                tenants: tenants.clone(),
                name: None,
                state: match states.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                },
                object_type: object_filter,
                limit: MAX_LIST,
                offset: page.saturating_mul(u64::from(MAX_LIST)),
            };
            let (objects, _) = self
                .keystore
                .list(&filter)
                .map_err(|error| store_error(&error))?;
            let count = objects.len();
            matching.extend(
                objects
                    .into_iter()
                    .filter(|meta| self.session.scope.allows(&meta.tenant))
                    .filter(|meta| self.located_by(meta, &attrs))
                    .map(|meta| meta.id),
            );
            if count < usize::try_from(MAX_LIST).unwrap_or(usize::MAX) {
                break;
            }
            page = page.saturating_add(1);
        }
        // The store lists oldest first; clients expect the newest first (as
        // PyKMIP's server answers, and its suite checks with Offset Items).
        matching.reverse();
        let total = matching.len();
        let chosen = matching.into_iter().skip(offset).take(maximum).collect();
        Ok(self.located(chosen, total))
    }

    /// Locate's answer: Located Items (1.3 and later, when the request pages
    /// with Offset Items or Maximum Items: how many objects matched, before
    /// them; KMIP 1.4 and 2.1 leave it to the server otherwise, and the
    /// OASIS test cases answer without it) and the identifiers.
    pub(super) fn located(&self, ids: Vec<String>, total: usize) -> Vec<Item> {
        let mut out = Vec::with_capacity(ids.len().saturating_add(1));
        let paged = self.payload.child(Tag::OFFSET_ITEMS).is_some()
            || self.payload.child(Tag::MAXIMUM_ITEMS).is_some();
        if paged && self.version >= (ProtocolVersion { major: 1, minor: 3 }) {
            out.push(Item::new(
                Tag::LOCATED_ITEMS,
                Value::Integer(i32::try_from(total).unwrap_or(i32::MAX)),
            ));
        }
        out.extend(ids.iter().map(|id| uid(id)));
        out
    }
}
