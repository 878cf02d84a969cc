//! Attributes in both wire shapes: KMIP 1.x `Template-Attribute` / `Attribute`
//! (name and value) and KMIP 2.x `Attributes` (one item per attribute, tagged by
//! the attribute itself). Requests are read into the 2.x shape; responses are
//! written in the shape of the request's version.

use ttlv::{Item, Tag, Value};

use crate::custom;
use crate::error::KmipError;
use crate::message::ProtocolVersion;

/// The 1.x Attribute Name of an attribute tag: its name as the specification
/// writes it (`Cryptographic Algorithm`, `X.509 Certificate Identifier`).
#[must_use]
pub fn spaced_name(tag: Tag) -> Option<String> {
    tag.spec_name().map(str::to_owned)
}

/// The tag of a 1.x attribute name (`Cryptographic Algorithm`, `X.509
/// Certificate Identifier`), if it names one.
#[must_use]
pub fn tag_of_name(name: &str) -> Option<Tag> {
    Tag::from_name(&ttlv::normalize_name(name))
}

/// One `Attribute` structure in the 2.x shape: a 1.x standard attribute
/// becomes an item tagged by the attribute (value as sent); a 1.x custom
/// attribute (`x-...`, `y-...`) or a 2.x vendor attribute (with Vendor
/// Identification) becomes a custom attribute item (see [`crate::custom`]).
/// Other names give `None` and are skipped.
fn from_attribute(attribute: &Item) -> Result<Option<Item>, KmipError> {
    let name = match attribute.child(Tag::ATTRIBUTE_NAME).map(|i| &i.value) {
        Some(Value::TextString(name)) => name,
        _ => return Err(KmipError::invalid("an Attribute has no Attribute Name")),
    };
    let value = attribute
        .child(Tag::ATTRIBUTE_VALUE)
        .ok_or_else(|| KmipError::invalid(format!("attribute '{name}' has no value")))?;
    match attribute
        .child(Tag::VENDOR_IDENTIFICATION)
        .map(|i| &i.value)
    {
        Some(Value::TextString(vendor)) => {
            return Ok(Some(custom::item(vendor, name, None, value.value.clone())));
        }
        Some(_) => return Err(KmipError::invalid("Vendor Identification must be text")),
        None => {}
    }
    if let Some((vendor, custom_name)) = custom::split_v1_name(name) {
        return Ok(Some(custom::item(
            vendor,
            custom_name,
            None,
            value.value.clone(),
        )));
    }
    Ok(tag_of_name(name).map(|tag| Item::new(tag, value.value.clone())))
}

/// Reads the attributes of a request payload, in whatever shape they came:
/// `Template Attribute`, `Common/Private/Public Key Template Attribute` children of
/// `container`, or a 2.x `Attributes` structure.
pub fn read(container: &Item) -> Result<Vec<Item>, KmipError> {
    let mut out = Vec::new();
    for child in container.children() {
        if child.tag == Tag::ATTRIBUTES || child.tag == Tag::TEMPLATE_ATTRIBUTE {
            out.extend(read_template(child)?);
        } else if child.tag == Tag::ATTRIBUTE {
            out.extend(from_attribute(child)?);
        }
    }
    Ok(out)
}

/// Reads one attribute container: a 1.x Template-Attribute shape (`Attribute`
/// children) or a 2.x Attributes shape (one child per attribute).
pub fn read_template(template: &Item) -> Result<Vec<Item>, KmipError> {
    let mut out = Vec::new();
    for attribute in template.children() {
        if attribute.tag == Tag::ATTRIBUTE {
            out.extend(from_attribute(attribute)?);
        } else if attribute.tag == Tag::NAME
            && attribute.child(Tag::ATTRIBUTE_NAME).is_none()
            && !is_attributes_2x(template.tag)
        {
            // A Name directly inside a 1.x Template-Attribute names a template.
            return Err(KmipError::new(
                crate::ResultReason::FeatureNotSupported,
                "templates are not supported; send the attributes themselves",
            ));
        } else if is_attributes_2x(template.tag) {
            out.push(attribute.clone());
        }
    }
    Ok(out)
}

/// The 2.x containers that hold attributes directly.
fn is_attributes_2x(tag: Tag) -> bool {
    tag == Tag::ATTRIBUTES
        || tag == Tag::COMMON_ATTRIBUTES
        || tag == Tag::PRIVATE_KEY_ATTRIBUTES
        || tag == Tag::PUBLIC_KEY_ATTRIBUTES
}

/// The attributes of the first of `tags` present in `container` (for Create
/// Key Pair's common, private and public templates); empty when none is.
pub fn read_child(container: &Item, tags: &[Tag]) -> Result<Vec<Item>, KmipError> {
    match container
        .children()
        .iter()
        .find(|child| tags.contains(&child.tag))
    {
        Some(template) => read_template(template),
        None => Ok(Vec::new()),
    }
}

/// Writes attributes (2.x shape) in the shape of `version`: a 2.x `Attributes`
/// structure, or 1.x `Attribute` name/value structures.
#[must_use]
pub fn write(version: ProtocolVersion, attributes: Vec<Item>) -> Vec<Item> {
    if version.uses_attributes_structure() {
        return vec![Item::structure(
            Tag::ATTRIBUTES,
            attributes
                .into_iter()
                .map(|attribute| match unindexed(&attribute) {
                    (inner, Some(_)) => inner.clone(),
                    _ => without_index(attribute),
                })
                .collect(),
        )];
    }
    // Each instance of an attribute that may have several carries its
    // Attribute Index, 0 included (clients read it to modify or delete that
    // instance); a single-instance attribute's index, always 0, is left out.
    let mut seen: Vec<Tag> = Vec::new();
    let index_of =
        |tag: Tag, index: u32| (MULTI_INSTANCE.contains(&tag) || index > 0).then_some(index);
    attributes
        .into_iter()
        .filter_map(|attribute| {
            if let (inner, Some(index)) = unindexed(&attribute) {
                return Some(v1_attribute(
                    spaced_name(inner.tag)?,
                    index_of(inner.tag, index),
                    inner.value.clone(),
                ));
            }
            if let Some((vendor, name, index, value)) = custom::parts(&attribute) {
                let index = index.unwrap_or(0);
                return Some(v1_attribute(
                    custom::v1_name(vendor, name)?,
                    (index > 0).then_some(index),
                    value.clone(),
                ));
            }
            let name = spaced_name(attribute.tag)?;
            let index = seen.iter().filter(|tag| **tag == attribute.tag).count();
            seen.push(attribute.tag);
            Some(v1_attribute(
                name,
                index_of(attribute.tag, u32::try_from(index).unwrap_or(u32::MAX)),
                attribute.value,
            ))
        })
        .collect()
}

/// The standard attributes an object may hold several instances of (KMIP
/// 1.4 section 3): each is answered with its Attribute Index in 1.x.
const MULTI_INSTANCE: [Tag; 5] = [
    Tag::NAME,
    Tag::LINK,
    Tag::APPLICATION_SPECIFIC_INFORMATION,
    Tag::OBJECT_GROUP,
    Tag::ALTERNATIVE_NAME,
];

/// An instance of a multi-valued standard attribute at a known index (its
/// earlier instances may have been deleted): an `Attribute` structure
/// holding the Attribute Index and the attribute. [`write`] unwraps it.
#[must_use]
pub fn indexed(index: u32, attribute: Item) -> Item {
    Item::structure(
        Tag::ATTRIBUTE,
        vec![
            Item::new(
                Tag::ATTRIBUTE_INDEX,
                Value::Integer(i32::try_from(index).unwrap_or(i32::MAX)),
            ),
            attribute,
        ],
    )
}

/// A 1.x `Attribute` structure with its Attribute Index set to `index`
/// (written even when it is 0, as an edit answers the index it was asked
/// for); any other item as it is.
#[must_use]
pub fn with_index(attribute: Item, index: u32) -> Item {
    if attribute.tag != Tag::ATTRIBUTE {
        return attribute;
    }
    let index_item = Item::new(
        Tag::ATTRIBUTE_INDEX,
        Value::Integer(i32::try_from(index).unwrap_or(i32::MAX)),
    );
    let mut children: Vec<Item> = attribute
        .children()
        .iter()
        .filter(|child| child.tag != Tag::ATTRIBUTE_INDEX)
        .cloned()
        .collect();
    let at = children
        .iter()
        .position(|child| child.tag == Tag::ATTRIBUTE_VALUE)
        .unwrap_or(children.len());
    children.insert(at, index_item);
    Item::structure(Tag::ATTRIBUTE, children)
}

/// The attribute and index of an item [`indexed`] made; any other item as
/// it is, without an index.
#[must_use]
pub fn unindexed(item: &Item) -> (&Item, Option<u32>) {
    if item.tag == Tag::ATTRIBUTE {
        if let [index, inner] = item.children() {
            if index.tag == Tag::ATTRIBUTE_INDEX {
                if let Value::Integer(index) = index.value {
                    return (inner, u32::try_from(index).ok());
                }
            }
        }
    }
    (item, None)
}

/// A 1.x `Attribute` structure, with its Attribute Index when given.
fn v1_attribute(name: String, index: Option<u32>, value: Value) -> Item {
    attribute_structure(
        vec![Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name))],
        index,
        value,
    )
}

/// An `Attribute` structure: `head` (what names it), the Attribute Index if
/// any, then the Attribute Value.
pub(crate) fn attribute_structure(mut head: Vec<Item>, index: Option<u32>, value: Value) -> Item {
    if let Some(index) = index {
        head.push(Item::new(
            Tag::ATTRIBUTE_INDEX,
            Value::Integer(i32::try_from(index).unwrap_or(i32::MAX)),
        ));
    }
    head.push(Item::new(Tag::ATTRIBUTE_VALUE, value));
    Item::structure(Tag::ATTRIBUTE, head)
}

/// A custom attribute as a 2.x response carries it: Vendor Identification,
/// Attribute Name and Attribute Value, without the index.
#[must_use]
pub fn without_index(attribute: Item) -> Item {
    match custom::parts(&attribute) {
        Some((vendor, name, Some(_), value)) => custom::item(vendor, name, None, value.clone()),
        _ => attribute,
    }
}

/// The first attribute with this tag.
#[must_use]
pub fn find(attributes: &[Item], tag: Tag) -> Option<&Value> {
    attributes
        .iter()
        .find(|item| item.tag == tag)
        .map(|item| &item.value)
}

/// An enumeration attribute, if present; an error if present with another type.
pub fn enumeration(attributes: &[Item], tag: Tag) -> Result<Option<u32>, KmipError> {
    match find(attributes, tag) {
        None => Ok(None),
        Some(Value::Enumeration(value)) => Ok(Some(*value)),
        Some(other) => Err(KmipError::invalid(format!(
            "{tag} must be an enumeration, not {}",
            other.item_type()
        ))),
    }
}

/// An integer attribute, if present; an error if present with another type.
pub fn integer(attributes: &[Item], tag: Tag) -> Result<Option<i32>, KmipError> {
    match find(attributes, tag) {
        None => Ok(None),
        Some(Value::Integer(value)) => Ok(Some(*value)),
        Some(other) => Err(KmipError::invalid(format!(
            "{tag} must be an integer, not {}",
            other.item_type()
        ))),
    }
}

/// A text attribute, if present; an error if present with another type.
pub fn text(attributes: &[Item], tag: Tag) -> Result<Option<String>, KmipError> {
    match find(attributes, tag) {
        None => Ok(None),
        Some(Value::TextString(value)) => Ok(Some(value.clone())),
        Some(other) => Err(KmipError::invalid(format!(
            "{tag} must be a text string, not {}",
            other.item_type()
        ))),
    }
}

/// A Date-Time attribute, if present; an error if present with another type
/// or out of range.
pub fn date(attributes: &[Item], tag: Tag) -> Result<Option<time::OffsetDateTime>, KmipError> {
    match find(attributes, tag) {
        None => Ok(None),
        Some(Value::DateTime(seconds)) => time::OffsetDateTime::from_unix_timestamp(*seconds)
            .map(Some)
            .map_err(|_| KmipError::invalid(format!("{tag} is out of range"))),
        Some(other) => Err(KmipError::invalid(format!(
            "{tag} must be a Date-Time, not {}",
            other.item_type()
        ))),
    }
}

/// The Name attribute's value, if present.
pub fn name(attributes: &[Item]) -> Result<Option<String>, KmipError> {
    match find(attributes, Tag::NAME) {
        None => Ok(None),
        Some(Value::Structure(children)) => match children
            .iter()
            .find(|item| item.tag == Tag::NAME_VALUE)
            .map(|item| &item.value)
        {
            Some(Value::TextString(value)) => Ok(Some(value.clone())),
            _ => Err(KmipError::invalid("the Name attribute has no Name Value")),
        },
        Some(_) => Err(KmipError::invalid("the Name attribute must be a structure")),
    }
}

/// A Name attribute with an uninterpreted text string value.
#[must_use]
pub fn name_item(value: &str) -> Item {
    Item::structure(
        Tag::NAME,
        vec![
            Item::new(Tag::NAME_VALUE, Value::TextString(value.to_owned())),
            Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaced_names_round_trip() {
        let name = spaced_name(Tag::CRYPTOGRAPHIC_ALGORITHM);
        assert_eq!(name.as_deref(), Some("Cryptographic Algorithm"));
        assert_eq!(
            tag_of_name("Cryptographic Algorithm"),
            Some(Tag::CRYPTOGRAPHIC_ALGORITHM)
        );
        assert_eq!(tag_of_name("Object Group"), Some(Tag::OBJECT_GROUP));
        assert_eq!(tag_of_name("x-vendor"), None);
    }

    #[test]
    fn reads_both_shapes_alike() {
        let one = Item::structure(
            Tag::REQUEST_PAYLOAD,
            vec![Item::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![Item::structure(
                    Tag::ATTRIBUTE,
                    vec![
                        Item::new(
                            Tag::ATTRIBUTE_NAME,
                            Value::TextString("Cryptographic Length".to_owned()),
                        ),
                        Item::new(Tag::ATTRIBUTE_VALUE, Value::Integer(256)),
                    ],
                )],
            )],
        );
        let two = Item::structure(
            Tag::REQUEST_PAYLOAD,
            vec![Item::structure(
                Tag::ATTRIBUTES,
                vec![Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256))],
            )],
        );
        assert_eq!(read(&one).unwrap(), read(&two).unwrap());
        let written = write(ProtocolVersion::V1_4, read(&two).unwrap());
        assert_eq!(written.first().map(|item| item.tag), Some(Tag::ATTRIBUTE));
    }
}
