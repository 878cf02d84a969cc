//! Discover Versions and Query: what the server speaks and does.

use ttlv::{Item, Tag, Value};

use crate::error::KmipError;
use crate::message::{ProtocolVersion, SUPPORTED_VERSIONS};
use crate::operation as op;

use super::values::object_type;
use super::{Context, Outcome};

impl Context<'_> {
    pub(super) fn discover_versions(&self) -> Outcome {
        let offered: Vec<ProtocolVersion> = self
            .payload
            .children()
            .iter()
            .filter(|item| item.tag == Tag::PROTOCOL_VERSION)
            .filter_map(ProtocolVersion::from_item)
            .collect();
        let answer: Vec<Item> = if offered.is_empty() {
            SUPPORTED_VERSIONS.iter().map(|v| v.to_item()).collect()
        } else {
            offered
                .into_iter()
                .filter(|version| SUPPORTED_VERSIONS.contains(version))
                .map(ProtocolVersion::to_item)
                .collect()
        };
        Ok(answer)
    }

    pub(super) fn query(&self) -> Outcome {
        let mut out = Vec::new();
        for function in self
            .payload
            .children()
            .iter()
            .filter(|item| item.tag == Tag::QUERY_FUNCTION)
        {
            match function.value {
                // Query Operations.
                Value::Enumeration(1) => out.extend(
                    op::SUPPORTED
                        .iter()
                        .map(|code| Item::new(Tag::OPERATION, Value::Enumeration(*code))),
                ),
                // Query Objects.
                Value::Enumeration(2) => out.extend(
                    [
                        object_type::CERTIFICATE,
                        object_type::SYMMETRIC_KEY,
                        object_type::PUBLIC_KEY,
                        object_type::PRIVATE_KEY,
                        object_type::SPLIT_KEY,
                        object_type::SECRET_DATA,
                        object_type::OPAQUE_OBJECT,
                    ]
                    .iter()
                    .map(|code| Item::new(Tag::OBJECT_TYPE, Value::Enumeration(*code))),
                ),
                // Query Server Information.
                Value::Enumeration(3) => {
                    out.push(Item::new(
                        Tag::VENDOR_IDENTIFICATION,
                        Value::TextString("Cryptainer".to_owned()),
                    ));
                    out.push(Item::structure(
                        Tag::SERVER_INFORMATION,
                        vec![Item::new(
                            Tag::SERVER_VERSION,
                            Value::TextString(env!("CARGO_PKG_VERSION").to_owned()),
                        )],
                    ));
                }
                // Other query functions (application namespaces, extensions,
                // profiles, ...) have nothing to list.
                Value::Enumeration(_) => {}
                _ => return Err(KmipError::invalid("Query Function must be an enumeration")),
            }
        }
        Ok(out)
    }
}
