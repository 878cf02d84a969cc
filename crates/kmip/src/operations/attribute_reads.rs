//! Get Attributes and Get Attribute List, and the attributes an object
//! reports.

use keystore::object::{ObjectMeta, ObjectType};
use ttlv::{Item, Tag, Value};

use crate::attributes;
use crate::custom;
use crate::error::KmipError;

use super::labels::{
    DEFAULT_POLICY, LABEL_CERTIFICATE_LENGTH, LABEL_CERTIFICATE_SUBJECT_CN, LABEL_CERTIFICATE_TYPE,
    LABEL_CONTACT, LABEL_GROUP, LABEL_POLICY, LABEL_USAGE, app_info_item, app_infos,
    custom_attributes, label_number, names, reported_algorithm, reported_length, split_key_items,
};
use super::values::{certificate_type, kmip_object_type, kmip_state, link_type};
use super::{Context, Outcome, date, formats, kept, uid};

/// The attribute a request names: a standard one by its tag, or a custom
/// one by vendor and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A standard attribute.
    Standard(Tag),
    /// A custom (1.x `x-`/`y-`) or vendor (2.x) attribute.
    Custom {
        /// Vendor Identification (`x` or `y` for 1.x names).
        vendor: String,
        /// Attribute Name.
        name: String,
    },
}

impl Target {
    /// The attribute a 1.x Attribute Name names, if this server knows it.
    pub(super) fn from_v1_name(name: &str) -> Option<Target> {
        match custom::split_v1_name(name) {
            Some((vendor, name)) => Some(Target::Custom {
                vendor: vendor.to_owned(),
                name: name.to_owned(),
            }),
            None => attributes::tag_of_name(name).map(Target::Standard),
        }
    }

    /// The attribute a 2.x Attribute Reference names: a tag enumeration or a
    /// vendor reference (Vendor Identification and Attribute Name); `None`
    /// for a tag this server does not know.
    pub(super) fn from_reference(reference: &Item) -> Result<Option<Target>, KmipError> {
        match &reference.value {
            Value::Enumeration(value) => Ok(Tag::new(*value).map(Target::Standard)),
            Value::Structure(_) => match (
                reference.child_text(Tag::VENDOR_IDENTIFICATION),
                reference.child_text(Tag::ATTRIBUTE_NAME),
            ) {
                (Some(vendor), Some(name)) => Ok(Some(Target::Custom {
                    vendor: vendor.to_owned(),
                    name: name.to_owned(),
                })),
                _ => Err(KmipError::invalid(
                    "a vendor Attribute Reference needs a Vendor Identification and an Attribute Name",
                )),
            },
            _ => Err(KmipError::invalid(
                "Attribute Reference must be an enumeration or a structure",
            )),
        }
    }

    /// The attribute and value of a 2.x attribute item (tagged by the
    /// attribute, or a vendor `Attribute` structure).
    pub(super) fn from_2x(attribute: Item) -> Result<(Target, Value), KmipError> {
        if attribute.tag != Tag::ATTRIBUTE {
            return Ok((Target::Standard(attribute.tag), attribute.value));
        }
        match custom::parts(&attribute) {
            Some((vendor, name, _, value)) => Ok((
                Target::Custom {
                    vendor: vendor.to_owned(),
                    name: name.to_owned(),
                },
                value.clone(),
            )),
            None => Err(KmipError::invalid(
                "a vendor attribute needs a Vendor Identification, an Attribute Name and an Attribute Value",
            )),
        }
    }

    /// Whether `item` (in the 2.x shape) is this attribute.
    pub(super) fn matches(&self, item: &Item) -> bool {
        match (self, custom::parts(item)) {
            (Target::Custom { vendor, name }, Some((item_vendor, item_name, ..))) => {
                vendor == item_vendor && name == item_name
            }
            (Target::Standard(tag), None) => attributes::unindexed(item).0.tag == *tag,
            _ => false,
        }
    }
}

impl Context<'_> {
    /// Every attribute of an object, in the 2.x shape.
    pub(super) fn all_attributes(&self, meta: &ObjectMeta) -> Vec<Item> {
        let mut out = vec![
            uid(&meta.id),
            Item::new(
                Tag::OBJECT_TYPE,
                Value::Enumeration(kmip_object_type(meta.object_type)),
            ),
        ];
        if meta.object_type == ObjectType::Certificate {
            out.push(Item::new(
                Tag::CERTIFICATE_TYPE,
                Value::Enumeration(
                    label_number(meta, LABEL_CERTIFICATE_TYPE).unwrap_or(certificate_type::X509),
                ),
            ));
        }
        out.extend(split_key_items(meta));
        if let Some(alg) = reported_algorithm(meta) {
            out.push(Item::new(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                Value::Enumeration(alg),
            ));
        }
        if let Some(length) = reported_length(meta) {
            out.push(Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)));
        }
        if let Some(mask) = meta
            .labels
            .get(LABEL_USAGE)
            .and_then(|m| m.parse::<i32>().ok())
        {
            out.push(Item::new(
                Tag::CRYPTOGRAPHIC_USAGE_MASK,
                Value::Integer(mask),
            ));
        }
        for (index, name) in names(meta) {
            let item = attributes::name_item(&name);
            out.push(if index == 0 {
                item
            } else {
                attributes::indexed(index, item)
            });
        }
        if let Some(group) = meta.labels.get(LABEL_GROUP) {
            out.push(Item::new(
                Tag::OBJECT_GROUP,
                Value::TextString(group.clone()),
            ));
        }
        if let Some(contact) = meta.labels.get(LABEL_CONTACT) {
            out.push(Item::new(
                Tag::CONTACT_INFORMATION,
                Value::TextString(contact.clone()),
            ));
        }
        // KMIP 1.x's Operation Policy Name (2.0 removed it): the one a client
        // set, else `default`, the server's own policy (its roles).
        if !self.version.uses_attributes_structure() {
            out.push(Item::new(
                Tag::OPERATION_POLICY_NAME,
                Value::TextString(
                    meta.labels
                        .get(LABEL_POLICY)
                        .map_or(DEFAULT_POLICY, String::as_str)
                        .to_owned(),
                ),
            ));
        }
        for (index, namespace, data) in app_infos(meta) {
            let item = app_info_item(&namespace, &data);
            out.push(if index == 0 {
                item
            } else {
                attributes::indexed(index, item)
            });
        }
        let pair_link = if meta.object_type == ObjectType::PrivateKey {
            link_type::PUBLIC_KEY_LINK
        } else {
            link_type::PRIVATE_KEY_LINK
        };
        for (label, link) in [
            (keystore::object::KEY_PAIR_LABEL, pair_link),
            (
                keystore::object::REPLACEMENT_LABEL,
                link_type::REPLACEMENT_OBJECT_LINK,
            ),
            (
                keystore::object::REPLACED_LABEL,
                link_type::REPLACED_OBJECT_LINK,
            ),
        ] {
            if let Some(other) = meta.labels.get(label) {
                out.push(Item::structure(
                    Tag::LINK,
                    vec![
                        Item::new(Tag::LINK_TYPE, Value::Enumeration(link)),
                        Item::new(
                            Tag::LINKED_OBJECT_IDENTIFIER,
                            Value::TextString(other.clone()),
                        ),
                    ],
                ));
            }
        }
        out.extend(custom_attributes(meta));
        out.push(Item::new(
            Tag::STATE,
            Value::Enumeration(kmip_state(meta.state)),
        ));
        out.push(Item::new(
            Tag::INITIAL_DATE,
            Value::DateTime(meta.created_at.unix_timestamp()),
        ));
        for (tag, value) in [
            (Tag::ACTIVATION_DATE, date(meta.activation_date)),
            (Tag::DEACTIVATION_DATE, date(meta.deactivation_date)),
            (Tag::COMPROMISE_DATE, date(meta.compromise_date)),
            (Tag::DESTROY_DATE, date(meta.destroy_date)),
        ] {
            if let Some(value) = value {
                out.push(Item::new(tag, value));
            }
        }
        out.extend(self.recorded_attributes(meta));
        out.extend(kept::kept_items(meta, self.version));
        out
    }

    /// The attributes the server records of an object, those that exist in
    /// the request's version: Digest, Key Format Type (2.x), Last Change
    /// Date, Original Creation Date and Random Number Generator (1.2), and a
    /// certificate's Certificate Length.
    fn recorded_attributes(&self, meta: &ObjectMeta) -> Vec<Item> {
        let mut out: Vec<Item> = kept::digest_item(meta).into_iter().collect();
        if self.version.uses_attributes_structure() {
            if let Some(format) = formats::reported_format(meta, self.version) {
                out.push(Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(format)));
            }
        }
        out.push(Item::new(
            Tag::LAST_CHANGE_DATE,
            Value::DateTime(kept::last_change(meta)),
        ));
        if self.version >= kept::V1_2 {
            out.push(Item::new(
                Tag::ORIGINAL_CREATION_DATE,
                Value::DateTime(meta.created_at.unix_timestamp()),
            ));
            out.extend(kept::random_number_generator(meta));
        }
        for (tag, label) in [
            (Tag::CERTIFICATE_LENGTH, LABEL_CERTIFICATE_LENGTH),
            (Tag::CERTIFICATE_SUBJECT_CN, LABEL_CERTIFICATE_SUBJECT_CN),
        ] {
            let shown = tag != Tag::CERTIFICATE_SUBJECT_CN || self.version >= kept::V1_4;
            if let (true, Some(text)) = (shown, meta.labels.get(label)) {
                out.push(Item::new(
                    tag,
                    match text.parse::<i32>() {
                        Ok(length) if tag == Tag::CERTIFICATE_LENGTH => Value::Integer(length),
                        _ => Value::TextString(text.clone()),
                    },
                ));
            }
        }
        out
    }

    /// The attributes the request asks for (1.x names or 2.x references);
    /// empty means all.
    pub(super) fn requested(&self) -> Result<Vec<Target>, KmipError> {
        let mut wanted = Vec::new();
        for child in self.payload.children() {
            if child.tag == Tag::ATTRIBUTE_NAME {
                if let Value::TextString(name) = &child.value {
                    // A name we do not know cannot match any attribute we hold.
                    wanted.extend(Target::from_v1_name(name));
                }
            } else if child.tag == Tag::ATTRIBUTE_REFERENCE {
                wanted.extend(Target::from_reference(child)?);
            }
        }
        Ok(wanted)
    }

    pub(super) fn get_attributes(&self) -> Outcome {
        self.require(self.session.rights.read_metadata, "read attributes")?;
        let meta = self.object()?;
        let wanted = self.requested()?;
        let asked_for_some = self
            .payload
            .children()
            .iter()
            .any(|c| c.tag == Tag::ATTRIBUTE_NAME || c.tag == Tag::ATTRIBUTE_REFERENCE);
        let all = self.all_attributes(&meta);
        // In the order asked for (each attribute once), as clients and the
        // OASIS test cases read them; all of them when none is named.
        let selected: Vec<Item> = if asked_for_some {
            let mut selected = Vec::new();
            let mut seen: Vec<&Target> = Vec::with_capacity(wanted.len());
            for target in &wanted {
                if !seen.contains(&target) {
                    seen.push(target);
                    selected.extend(all.iter().filter(|item| target.matches(item)).cloned());
                }
            }
            selected
        } else {
            all
        };
        let mut out = vec![uid(&meta.id)];
        out.extend(attributes::write(self.version, selected));
        Ok(out)
    }

    pub(super) fn get_attribute_list(&self) -> Outcome {
        self.require(self.session.rights.read_metadata, "read attributes")?;
        let meta = self.object()?;
        let mut out = vec![uid(&meta.id)];
        for attribute in self.all_attributes(&meta) {
            let attribute = attributes::unindexed(&attribute).0.clone();
            let listed = if let Some((vendor, name, ..)) = custom::parts(&attribute) {
                if self.version.uses_attributes_structure() {
                    Some(Item::structure(
                        Tag::ATTRIBUTE_REFERENCE,
                        vec![
                            Item::new(
                                Tag::VENDOR_IDENTIFICATION,
                                Value::TextString(vendor.to_owned()),
                            ),
                            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
                        ],
                    ))
                } else {
                    custom::v1_name(vendor, name)
                        .map(|name| Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name)))
                }
            } else if self.version.uses_attributes_structure() {
                Some(Item::new(
                    Tag::ATTRIBUTE_REFERENCE,
                    Value::Enumeration(attribute.tag.value()),
                ))
            } else {
                attributes::spaced_name(attribute.tag)
                    .map(|name| Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name)))
            };
            // A multi-valued custom attribute is listed once.
            if let Some(listed) = listed.filter(|listed| !out.contains(listed)) {
                out.push(listed);
            }
        }
        Ok(out)
    }
}
