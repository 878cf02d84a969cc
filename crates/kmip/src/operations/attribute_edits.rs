//! Add, Modify, Set (2.x) and Delete Attribute.

use std::collections::BTreeMap;

use keystore::object::ObjectMeta;
use ttlv::{Item, Tag, Value};

use crate::attributes;
use crate::custom;
use crate::error::{KmipError, ResultReason};

use super::attribute_reads::Target;
use super::labels::{
    LABEL_CONTACT, LABEL_GROUP, LABEL_NAME, LABEL_NAME_MORE, LABEL_USAGE, app_info_item,
    app_info_labels, app_info_parts, app_infos, custom_attributes, names,
};
use super::{Context, Outcome, kept, store_error, uid};

/// The attributes a client may add, modify and set: each kept in one label and
/// single-valued here, with the value type KMIP gives it and whether a client
/// may delete it (KMIP says not for the Cryptographic Usage Mask). Every other
/// attribute the server reports is read-only (set by the server: identifier,
/// type, algorithm, length, state, dates, links).
pub(super) const EDITABLE: &[(Tag, &str, ttlv::ItemType, bool)] = &[
    (
        Tag::OBJECT_GROUP,
        LABEL_GROUP,
        ttlv::ItemType::TextString,
        true,
    ),
    (
        Tag::CRYPTOGRAPHIC_USAGE_MASK,
        LABEL_USAGE,
        ttlv::ItemType::Integer,
        false,
    ),
    (
        Tag::CONTACT_INFORMATION,
        LABEL_CONTACT,
        ttlv::ItemType::TextString,
        true,
    ),
];

/// Which attribute change a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Edit {
    /// Add Attribute: the attribute must not be present yet.
    Add,
    /// Modify Attribute: the attribute must be present.
    Modify,
    /// Set Attribute (2.x): present or not.
    Set,
    /// Delete Attribute: the attribute must be present.
    Delete,
}

/// The instances of a standard attribute that may have several, for
/// [`Context::edit_instances`].
struct Instances {
    /// The attribute.
    tag: Tag,
    /// Its instances by index, values in the 2.x shape.
    held: Vec<(u32, Value)>,
    /// Whether the instance at index 0 cannot change (a Name that is the
    /// object's keystore name).
    first_fixed: bool,
}

/// What an Add, Modify, Set or Delete Attribute request asks for.
pub(super) struct Edited {
    /// The attribute.
    target: Target,
    /// The 1.x Attribute Index, when sent.
    index: Option<u32>,
    /// The new value (none for Delete).
    value: Option<Value>,
    /// The 2.x Current Attribute's value, naming the instance to change.
    current: Option<Value>,
}

impl Context<'_> {
    /// The attribute an Add, Modify, Set or Delete Attribute request names,
    /// the instance it names and the new value (none for Delete).
    pub(super) fn edited_attribute(&self, edit: Edit) -> Result<Edited, KmipError> {
        let single_child = |item: &Item| -> Result<Item, KmipError> {
            match item.children() {
                [attribute] => Ok(attribute.clone()),
                _ => Err(KmipError::invalid(format!(
                    "{} must hold exactly one attribute",
                    item.tag
                ))),
            }
        };
        let unsupported = |name: &str| {
            KmipError::new(
                ResultReason::UnsupportedAttribute,
                format!("attribute '{name}' is not one this server knows"),
            )
        };
        let index_in = |item: &Item| match item.child(Tag::ATTRIBUTE_INDEX).map(|i| &i.value) {
            None => Ok(None),
            Some(Value::Integer(index)) => u32::try_from(*index)
                .map(Some)
                .map_err(|_| KmipError::invalid("Attribute Index must not be negative")),
            Some(_) => Err(KmipError::invalid("Attribute Index must be an integer")),
        };
        // 1.x: an Attribute structure (Add, Modify) or an Attribute Name (Delete).
        if let Some(attribute) = self.payload.child(Tag::ATTRIBUTE) {
            let name = match attribute.child(Tag::ATTRIBUTE_NAME).map(|i| &i.value) {
                Some(Value::TextString(name)) => name.clone(),
                _ => return Err(KmipError::missing("Attribute Name")),
            };
            return Ok(Edited {
                target: Target::from_v1_name(&name).ok_or_else(|| unsupported(&name))?,
                index: index_in(attribute)?,
                value: attribute
                    .child(Tag::ATTRIBUTE_VALUE)
                    .map(|i| i.value.clone()),
                current: None,
            });
        }
        if let Some(Value::TextString(name)) =
            self.payload.child(Tag::ATTRIBUTE_NAME).map(|i| &i.value)
        {
            return Ok(Edited {
                target: Target::from_v1_name(name).ok_or_else(|| unsupported(name))?,
                index: index_in(self.payload)?,
                value: None,
                current: None,
            });
        }
        // 2.x: New Attribute (Add, Modify, Set), Current Attribute or Attribute
        // Reference (Delete, and Modify's optional current value).
        let current = self
            .payload
            .child(Tag::CURRENT_ATTRIBUTE)
            .map(single_child)
            .transpose()?;
        if edit != Edit::Delete {
            let new = self
                .payload
                .child(Tag::NEW_ATTRIBUTE)
                .ok_or_else(|| KmipError::missing("New Attribute"))?;
            let (target, value) = Target::from_2x(single_child(new)?)?;
            return Ok(Edited {
                target,
                index: None,
                value: Some(value),
                current: current.map(Target::from_2x).transpose()?.map(|(_, v)| v),
            });
        }
        if let Some(current) = current {
            let (target, value) = Target::from_2x(current)?;
            return Ok(Edited {
                target,
                index: None,
                value: None,
                current: Some(value),
            });
        }
        let reference = self
            .payload
            .child(Tag::ATTRIBUTE_REFERENCE)
            .ok_or_else(|| KmipError::missing("Current Attribute or Attribute Reference"))?;
        Ok(Edited {
            target: Target::from_reference(reference)?.ok_or_else(|| {
                unsupported(&format!(
                    "0x{:06X}",
                    reference.value.as_enumeration().unwrap_or(0)
                ))
            })?,
            index: None,
            value: None,
            current: None,
        })
    }

    /// Add, Modify, Set (2.x) and Delete Attribute on the attributes in
    /// [`EDITABLE`] and on custom attributes; the others are read-only or
    /// unknown.
    pub(super) fn edit_attribute(&self, edit: Edit) -> Outcome {
        self.require(self.session.rights.manage_keys, "change attributes")?;
        let meta = self.object()?;
        let edited = self.edited_attribute(edit)?;
        let tag = match &edited.target {
            Target::Custom { vendor, name } => {
                return self.edit_custom(edit, &meta, vendor, name, &edited);
            }
            Target::Standard(Tag::NAME) => return self.edit_name(edit, &meta, &edited),
            Target::Standard(Tag::APPLICATION_SPECIFIC_INFORMATION) => {
                return self.edit_app_info(edit, &meta, &edited);
            }
            Target::Standard(Tag::ACTIVATION_DATE) if edit != Edit::Delete => {
                return self.edit_activation_date(&meta, &edited);
            }
            Target::Standard(tag) => match kept::find_kept(*tag) {
                Some(kept) => return self.edit_kept(edit, &meta, kept, &edited),
                None => *tag,
            },
        };
        if edited.index.is_some_and(|index| index != 0) && edit != Edit::Add {
            return Err(KmipError::new(
                ResultReason::AttributeNotFound,
                format!("attribute {tag} has one value here, at index 0"),
            ));
        }
        let value = edited.value;
        let Some(&(_, label, value_type, deletable)) =
            EDITABLE.iter().find(|(known, ..)| *known == tag)
        else {
            let shown = self
                .all_attributes(&meta)
                .iter()
                .any(|attribute| attribute.tag == tag);
            return Err(if shown {
                KmipError::new(
                    ResultReason::AttributeReadOnly,
                    format!(
                        "{tag} is set by the server and cannot be changed by a client; Name, Object Group, Cryptographic Usage Mask, Contact Information and custom (x-) or vendor attributes can"
                    ),
                )
            } else {
                KmipError::new(
                    ResultReason::UnsupportedAttribute,
                    format!(
                        "{tag} cannot be set on this server; Name, Object Group, Cryptographic Usage Mask, Contact Information and custom (x-) or vendor attributes can"
                    ),
                )
            });
        };
        let present = meta.labels.contains_key(label);
        match edit {
            Edit::Delete if !deletable => {
                return Err(KmipError::new(
                    ResultReason::AttributeReadOnly,
                    format!("{tag} cannot be deleted by a client; modify it instead"),
                ));
            }
            Edit::Add if present => {
                return Err(KmipError::new(
                    ResultReason::AttributeSingleValued,
                    format!("{tag} already has a value; use Modify Attribute to change it"),
                ));
            }
            Edit::Modify | Edit::Delete if !present => {
                return Err(KmipError::new(
                    ResultReason::AttributeNotFound,
                    format!("object {} has no {tag}; use Add Attribute", meta.id),
                ));
            }
            _ => {}
        }
        let mut labels = meta.labels.clone();
        let old = labels.get(label).cloned();
        let new_text = match &value {
            None if edit == Edit::Delete => None,
            None => return Err(KmipError::missing("Attribute Value")),
            Some(value) if value.item_type() != value_type => {
                return Err(KmipError::invalid(format!(
                    "{tag} must be {value_type:?}, not {:?}",
                    value.item_type()
                )));
            }
            Some(Value::TextString(text)) => Some(text.clone()),
            Some(Value::Integer(number)) => Some(number.to_string()),
            Some(_) => return Err(KmipError::invalid(format!("{tag} has an unexpected type"))),
        };
        match &new_text {
            Some(text) => labels.insert(label.to_owned(), text.clone()),
            None => labels.remove(label),
        };
        let shown = if edit == Edit::Delete { old } else { new_text };
        let shown = shown.map(|text| {
            let value = if value_type == ttlv::ItemType::Integer {
                Value::Integer(text.parse().unwrap_or_default())
            } else {
                Value::TextString(text)
            };
            Item::new(tag, value)
        });
        self.commit_edit(&meta, labels, shown, edited.index.map(|_| 0))
    }

    /// Add, Modify, Set and Delete Attribute on a kept attribute (see
    /// [`kept`]): single-valued, of its type; Fresh is the server's.
    fn edit_kept(
        &self,
        edit: Edit,
        meta: &ObjectMeta,
        kept: &kept::Kept,
        edited: &Edited,
    ) -> Outcome {
        let tag = kept.tag;
        if !kept.editable {
            return Err(KmipError::new(
                ResultReason::AttributeReadOnly,
                format!("{tag} is set when the object is made and changed by the server only"),
            ));
        }
        if edited.index.is_some_and(|index| index != 0) && edit != Edit::Add {
            return Err(KmipError::new(
                ResultReason::AttributeNotFound,
                format!("attribute {tag} has one value here, at index 0"),
            ));
        }
        let present = kept::kept_value(meta, tag);
        match (edit, &present) {
            (Edit::Add, Some(_)) => {
                return Err(KmipError::new(
                    ResultReason::AttributeSingleValued,
                    format!("{tag} already has a value; use Modify Attribute to change it"),
                ));
            }
            (Edit::Modify | Edit::Delete, None) => {
                return Err(KmipError::new(
                    ResultReason::AttributeNotFound,
                    format!("object {} has no {tag}; use Add Attribute", meta.id),
                ));
            }
            _ => {}
        }
        let mut labels = meta.labels.clone();
        let shown = if edit == Edit::Delete {
            kept::set_kept(&mut labels, tag, None, false)?;
            present
        } else {
            let value = edited
                .value
                .clone()
                .ok_or_else(|| KmipError::missing("Attribute Value"))?;
            kept::set_kept(&mut labels, tag, Some(&value), false)?;
            Some(value)
        };
        self.commit_edit(
            meta,
            labels,
            shown.map(|value| Item::new(tag, value)),
            edited.index.map(|_| 0),
        )
    }

    /// Modify (Add, Set) Attribute of the Activation Date: only while the
    /// object is Pre-Active (then a date that has come makes it Active);
    /// afterwards it is Wrong Key Lifecycle State, as KMIP's state rules and
    /// the OASIS test cases SKLC-M-3 and AKLC-M-3 have it.
    fn edit_activation_date(&self, meta: &ObjectMeta, edited: &Edited) -> Outcome {
        let Some(Value::DateTime(seconds)) = edited.value else {
            return Err(KmipError::invalid("Activation Date must be a Date-Time"));
        };
        let date = time::OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|_| KmipError::invalid("the Activation Date is out of range"))?;
        let updated = self
            .keystore
            .set_activation_date(&self.session.caller, meta, date)
            .map_err(|error| store_error(&error))?;
        let mut out = vec![uid(&updated.id)];
        if !self.version.uses_attributes_structure() {
            let shown = Item::new(Tag::ACTIVATION_DATE, Value::DateTime(seconds));
            out.extend(attributes::write(self.version, vec![shown]));
        }
        Ok(out)
    }

    /// Writes an object's edited `labels` and answers the edit: in 1.x with
    /// `shown`, the attribute instance as it now is (Delete: as it was), with
    /// its Attribute Index `index` when the request named one (index 0
    /// included); in 2.x with the identifier only.
    fn commit_edit(
        &self,
        meta: &ObjectMeta,
        labels: BTreeMap<String, String>,
        shown: Option<Item>,
        index: Option<u32>,
    ) -> Outcome {
        let mut labels = labels;
        labels.insert(
            kept::LABEL_LAST_CHANGE.to_owned(),
            time::OffsetDateTime::now_utc().unix_timestamp().to_string(),
        );
        let updated = self
            .keystore
            .set_labels(&self.session.caller, meta, labels)
            .map_err(|error| store_error(&error))?;
        let mut out = vec![uid(&updated.id)];
        if !self.version.uses_attributes_structure() {
            let written = attributes::write(self.version, shown.into_iter().collect());
            out.extend(written.into_iter().map(|attribute| match index {
                Some(index) => attributes::with_index(attribute, index),
                None => attribute,
            }));
        }
        Ok(out)
    }

    /// Add, Modify, Set and Delete Attribute on a custom attribute, which may
    /// have several instances. Add makes the next index; Modify and Delete
    /// take the instance a 2.x Current Attribute's value or a 1.x Attribute
    /// Index names (index 0 when neither is sent); Set replaces every
    /// instance with one; a 2.x Delete by Attribute Reference deletes every
    /// instance. Indexes of the other instances do not change.
    pub(super) fn edit_custom(
        &self,
        edit: Edit,
        meta: &ObjectMeta,
        vendor: &str,
        name: &str,
        edited: &Edited,
    ) -> Outcome {
        let shown_name =
            custom::v1_name(vendor, name).unwrap_or_else(|| format!("{vendor} {name}"));
        let instances: Vec<(u32, Value)> = custom_attributes(meta)
            .iter()
            .filter_map(|item| {
                let (item_vendor, item_name, index, value) = custom::parts(item)?;
                (item_vendor == vendor && item_name == name)
                    .then(|| (index.unwrap_or(0), value.clone()))
            })
            .collect();
        let chosen = || -> Result<u32, KmipError> {
            let found = match (&edited.current, edited.index) {
                (Some(current), _) => instances.iter().find(|(_, value)| value == current),
                (None, index) => instances.iter().find(|(at, _)| *at == index.unwrap_or(0)),
            };
            found.map(|(index, _)| *index).ok_or_else(|| {
                KmipError::new(
                    ResultReason::AttributeNotFound,
                    format!(
                        "object {} has no such instance of {shown_name}; Get Attributes lists them",
                        meta.id
                    ),
                )
            })
        };
        let new_value = || {
            edited
                .value
                .clone()
                .ok_or_else(|| KmipError::missing("Attribute Value"))
        };
        let mut labels = meta.labels.clone();
        // The instance the response shows (1.x) and the labels to write.
        let (index, shown) = match edit {
            Edit::Add => {
                let index = instances
                    .iter()
                    .map(|(index, _)| index.saturating_add(1))
                    .max()
                    .unwrap_or(0);
                (index, new_value()?)
            }
            Edit::Set => {
                for (index, _) in &instances {
                    labels.remove(&custom::label_key(vendor, name, *index)?);
                }
                (0, new_value()?)
            }
            Edit::Modify => (chosen()?, new_value()?),
            Edit::Delete => {
                let every = edited.current.is_none()
                    && edited.index.is_none()
                    && self.version.uses_attributes_structure();
                let doomed: Vec<(u32, Value)> = if every {
                    instances.clone()
                } else {
                    let index = chosen()?;
                    instances
                        .iter()
                        .filter(|(at, _)| *at == index)
                        .cloned()
                        .collect()
                };
                let Some(first) = doomed.first().cloned() else {
                    return Err(KmipError::new(
                        ResultReason::AttributeNotFound,
                        format!("object {} has no {shown_name}", meta.id),
                    ));
                };
                for (index, _) in &doomed {
                    labels.remove(&custom::label_key(vendor, name, *index)?);
                }
                first
            }
        };
        if edit != Edit::Delete {
            labels.insert(
                custom::label_key(vendor, name, index)?,
                custom::label_value(&shown_name, &shown)?,
            );
        }
        self.commit_edit(
            meta,
            labels,
            Some(custom::item(vendor, name, Some(index), shown)),
            edited.index.map(|_| index),
        )
    }

    /// Add, Modify and Delete Attribute on Name, which may have several
    /// instances (see [`Self::edit_instances`]). The first Name of an object
    /// whose name is its keystore name (the one the HTTPS API finds it by)
    /// cannot be changed.
    pub(super) fn edit_name(&self, edit: Edit, meta: &ObjectMeta, edited: &Edited) -> Outcome {
        let text_of = |value: &Value| -> Result<String, KmipError> {
            attributes::name(&[Item::new(Tag::NAME, value.clone())])?
                .ok_or_else(|| KmipError::missing("Name Value"))
        };
        let held: Vec<(u32, Value)> = names(meta)
            .into_iter()
            .map(|(index, name)| (index, attributes::name_item(&name).value))
            .collect();
        if let (Edit::Add | Edit::Modify, Some(value)) = (edit, &edited.value) {
            let wanted = text_of(value)?;
            if self.name_in_use(meta, &wanted)? {
                return Err(KmipError::new(
                    ResultReason::NonUniqueNameAttribute,
                    format!("the Name '{wanted}' is already in use; Names are unique"),
                ));
            }
        }
        self.edit_instances(
            edit,
            meta,
            edited,
            Instances {
                tag: Tag::NAME,
                held,
                first_fixed: meta.name.is_some(),
            },
            |value| text_of(value),
            |labels, index, value| {
                let label = if index == 0 {
                    LABEL_NAME.to_owned()
                } else {
                    format!("{LABEL_NAME_MORE}{index}")
                };
                match value {
                    Some(value) => labels.insert(label, text_of(value)?),
                    None => labels.remove(&label),
                };
                Ok(())
            },
        )
    }

    /// Whether `name` is already a Name of `meta`, or the keystore name of
    /// another live object of its tenant (Names are unique; KMIP 2.1 section
    /// 4.32).
    fn name_in_use(&self, meta: &ObjectMeta, name: &str) -> Result<bool, KmipError> {
        if names(meta).iter().any(|(_, held)| held == name) {
            return Ok(true);
        }
        if keystore::object::validate_name("name", name).is_err() {
            return Ok(false);
        }
        match self.keystore.find(&meta.tenant, name) {
            Ok(other) => Ok(other.id != meta.id && !other.state.is_destroyed()),
            Err(keystore::KeystoreError::NotFound { .. }) => Ok(false),
            Err(error) => Err(store_error(&error)),
        }
    }

    /// Add, Modify and Delete Attribute on Application Specific
    /// Information, which may have several instances (see
    /// [`Self::edit_instances`]).
    pub(super) fn edit_app_info(&self, edit: Edit, meta: &ObjectMeta, edited: &Edited) -> Outcome {
        let held = app_infos(meta)
            .into_iter()
            .map(|(index, namespace, data)| (index, app_info_item(&namespace, &data).value))
            .collect();
        self.edit_instances(
            edit,
            meta,
            edited,
            Instances {
                tag: Tag::APPLICATION_SPECIFIC_INFORMATION,
                held,
                first_fixed: false,
            },
            app_info_parts,
            |labels, index, value| {
                let [namespace_label, data_label] = app_info_labels(index);
                match value {
                    Some(value) => {
                        let (namespace, data) = app_info_parts(value)?;
                        labels.insert(namespace_label, namespace);
                        labels.insert(data_label, data);
                    }
                    None => {
                        labels.remove(&namespace_label);
                        labels.remove(&data_label);
                    }
                }
                Ok(())
            },
        )
    }

    /// Add, Modify and Delete Attribute on a standard attribute with several
    /// instances: Add makes the next index; Modify and Delete take the
    /// instance a 2.x Current Attribute (compared by `key`) or a 1.x
    /// Attribute Index names (index 0 when neither is sent); Set is refused.
    /// `write` sets (or, given `None`, removes) one instance's labels. Other
    /// instances keep their indexes, as KMIP says of the Attribute Index.
    fn edit_instances<K: PartialEq>(
        &self,
        edit: Edit,
        meta: &ObjectMeta,
        edited: &Edited,
        instances: Instances,
        key: impl Fn(&Value) -> Result<K, KmipError>,
        write: impl Fn(&mut BTreeMap<String, String>, u32, Option<&Value>) -> Result<(), KmipError>,
    ) -> Outcome {
        let Instances {
            tag,
            held,
            first_fixed,
        } = instances;
        let resolve = || -> Result<(u32, Value), KmipError> {
            let found = match &edited.current {
                Some(current) => {
                    let wanted = key(current)?;
                    held.iter()
                        .find(|(_, value)| key(value).is_ok_and(|held| held == wanted))
                }
                None => held
                    .iter()
                    .find(|(index, _)| *index == edited.index.unwrap_or(0)),
            };
            let (index, value) = found.cloned().ok_or_else(|| {
                KmipError::new(
                    ResultReason::AttributeNotFound,
                    format!(
                        "object {} has no such {tag}; Get Attributes lists its instances",
                        meta.id
                    ),
                )
            })?;
            if index == 0 && first_fixed {
                return Err(KmipError::new(
                    ResultReason::AttributeReadOnly,
                    format!(
                        "the first {tag} of object {} is its name in the key store and cannot be changed; add another",
                        meta.id
                    ),
                ));
            }
            Ok((index, value))
        };
        let new_value = || {
            edited
                .value
                .clone()
                .ok_or_else(|| KmipError::missing("Attribute Value"))
        };
        let (index, shown) = match edit {
            Edit::Set => {
                return Err(KmipError::invalid(format!(
                    "{tag} may have several values; use Add, Modify or Delete Attribute"
                )));
            }
            Edit::Add => (
                held.iter()
                    .map(|(index, _)| index.saturating_add(1))
                    .max()
                    .unwrap_or(0),
                new_value()?,
            ),
            Edit::Modify => (resolve()?.0, new_value()?),
            Edit::Delete => resolve()?,
        };
        let mut labels = meta.labels.clone();
        write(&mut labels, index, (edit != Edit::Delete).then_some(&shown))?;
        let item = Item::new(tag, shown);
        let shown = if index == 0 {
            item
        } else {
            attributes::indexed(index, item)
        };
        self.commit_edit(meta, labels, Some(shown), edited.index.map(|_| index))
    }
}
