//! Locate: the identifiers of the objects whose attributes match.

use keystore::TenantScope;
use keystore::store::{ListFilter, MAX_LIST};
use ttlv::{Item, Tag, Value};

use crate::attributes;
use crate::custom;
use crate::error::KmipError;
use crate::message::ProtocolVersion;

use super::labels::{LABEL_GROUP, custom_attributes_match, names};
use super::values::{algorithm_matches, object_type_from_kmip, state_from_kmip};
use super::{Context, Outcome, store_error, uid};

impl Context<'_> {
    pub(super) fn locate(&self) -> Outcome {
        self.require(self.session.rights.read_metadata, "locate objects")?;
        let attrs = attributes::read(self.payload)?;
        let name = attributes::name(&attrs)?;
        let object = attributes::enumeration(&attrs, Tag::OBJECT_TYPE)?;
        let state = attributes::enumeration(&attrs, Tag::STATE)?;
        let algorithm_filter = attributes::enumeration(&attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?;
        let length = attributes::integer(&attrs, Tag::CRYPTOGRAPHIC_LENGTH)?;
        let group = attributes::text(&attrs, Tag::OBJECT_GROUP)?;
        let custom_wanted: Vec<&Item> = attrs
            .iter()
            .filter(|item| custom::parts(item).is_some())
            .collect();
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
        let object_filter = match object {
            None => None,
            Some(value) => match object_type_from_kmip(value) {
                Some(kind) => Some(kind),
                // No object of a type we do not store can match.
                None => return Ok(self.located(Vec::new())),
            },
        };
        let state_filter = match state {
            None => None,
            Some(value) => Some(
                state_from_kmip(value)
                    .ok_or_else(|| KmipError::invalid(format!("State 0x{value:02X} is unknown")))?,
            ),
        };
        let tenants = match &self.session.scope {
            TenantScope::All => None,
            TenantScope::Only(tenants) => Some(tenants.clone()),
        };
        let filter = ListFilter {
            tenants,
            name: None,
            state: state_filter,
            object_type: object_filter,
            limit: MAX_LIST,
            offset: 0,
        };
        let (objects, _) = self
            .keystore
            .list(&filter)
            .map_err(|error| store_error(&error))?;
        let matching: Vec<String> = objects
            .into_iter()
            .filter(|meta| self.session.scope.allows(&meta.tenant))
            .filter(|meta| {
                name.as_ref().is_none_or(|wanted| {
                    meta.name.as_ref() == Some(wanted)
                        || names(meta).iter().any(|(_, name)| name == wanted)
                })
            })
            .filter(|meta| {
                algorithm_filter.is_none_or(|wanted| algorithm_matches(meta.algorithm, wanted))
            })
            .filter(|meta| length.is_none_or(|wanted| i64::from(meta.length) == i64::from(wanted)))
            .filter(|meta| {
                group
                    .as_ref()
                    .is_none_or(|wanted| meta.labels.get(LABEL_GROUP) == Some(wanted))
            })
            .filter(|meta| custom_attributes_match(meta, &custom_wanted))
            .skip(offset)
            .take(maximum)
            .map(|meta| meta.id)
            .collect();
        Ok(self.located(matching))
    }

    pub(super) fn located(&self, ids: Vec<String>) -> Vec<Item> {
        let mut out = Vec::with_capacity(ids.len().saturating_add(1));
        if self.version >= (ProtocolVersion { major: 1, minor: 3 }) {
            out.push(Item::new(
                Tag::LOCATED_ITEMS,
                Value::Integer(i32::try_from(ids.len()).unwrap_or(i32::MAX)),
            ));
        }
        out.extend(ids.iter().map(|id| uid(id)));
        out
    }
}
