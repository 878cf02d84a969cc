//! The TTLV item tree: tags, item types, values and items.

use std::fmt;
use std::ops::Deref;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::names::{tag_from_name, tag_name, tag_spec_name};

/// A KMIP tag: a three-byte number naming an item.
///
/// Tags defined by the KMIP specifications start with `0x42`; vendor extensions
/// start with `0x54`. Any 24-bit value is accepted and kept, named or not, so
/// that extension tags round-trip through every encoding.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(pub(crate) u32);

impl Tag {
    /// The largest value a three-byte tag can hold.
    pub const MAX: u32 = 0x00FF_FFFF;

    /// The tag with this value, or `None` if it does not fit in three bytes.
    #[must_use]
    pub const fn new(value: u32) -> Option<Tag> {
        if value <= Self::MAX {
            Some(Tag(value))
        } else {
            None
        }
    }

    /// The tag's numeric value (at most [`Tag::MAX`]).
    #[must_use]
    pub const fn value(self) -> u32 {
        self.0
    }

    /// Whether this is a vendor extension tag (`0x54xxxx`).
    #[must_use]
    pub const fn is_extension(self) -> bool {
        self.0 >> 16 == 0x54
    }

    /// The tag's name in the KMIP JSON/XML spelling (`"ActivationDate"`), if it is
    /// one of the tags of KMIP 1.0 to 2.1.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        tag_name(self)
    }

    /// The tag's name as the KMIP specification writes it (`"Activation
    /// Date"`, `"X.509 Certificate Identifier"`), which is also the 1.x
    /// Attribute Name of an attribute, if it is one of the tags of KMIP 1.0
    /// to 2.1.
    #[must_use]
    pub fn spec_name(self) -> Option<&'static str> {
        tag_spec_name(self)
    }

    /// The tag with this name in the KMIP JSON/XML spelling, if there is one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Tag> {
        tag_from_name(name)
    }
}

impl TryFrom<u32> for Tag {
    type Error = u32;

    /// Converts a number to a tag, giving the number back if it exceeds three bytes.
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Tag::new(value).ok_or(value)
    }
}

impl From<Tag> for u32 {
    fn from(tag: Tag) -> u32 {
        tag.0
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "0x{:06X}", self.0),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The type of a TTLV item, as its type byte says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ItemType {
    /// `0x01`: a sequence of items.
    Structure,
    /// `0x02`: a signed 32-bit integer.
    Integer,
    /// `0x03`: a signed 64-bit integer.
    LongInteger,
    /// `0x04`: a two's complement big-endian integer of a multiple of 8 bytes.
    BigInteger,
    /// `0x05`: an unsigned 32-bit enumeration value.
    Enumeration,
    /// `0x06`: a boolean, 8 bytes holding 0 or 1.
    Boolean,
    /// `0x07`: UTF-8 text.
    TextString,
    /// `0x08`: bytes.
    ByteString,
    /// `0x09`: seconds since the Unix epoch.
    DateTime,
    /// `0x0A`: an unsigned 32-bit number of seconds.
    Interval,
    /// `0x0B`: microseconds since the Unix epoch (KMIP 2.0 and later).
    DateTimeExtended,
}

impl ItemType {
    /// The type for a type byte, or `None` if the byte names no type.
    #[must_use]
    pub const fn from_byte(byte: u8) -> Option<ItemType> {
        Some(match byte {
            0x01 => ItemType::Structure,
            0x02 => ItemType::Integer,
            0x03 => ItemType::LongInteger,
            0x04 => ItemType::BigInteger,
            0x05 => ItemType::Enumeration,
            0x06 => ItemType::Boolean,
            0x07 => ItemType::TextString,
            0x08 => ItemType::ByteString,
            0x09 => ItemType::DateTime,
            0x0A => ItemType::Interval,
            0x0B => ItemType::DateTimeExtended,
            _ => return None,
        })
    }

    /// The type byte written for this type.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            ItemType::Structure => 0x01,
            ItemType::Integer => 0x02,
            ItemType::LongInteger => 0x03,
            ItemType::BigInteger => 0x04,
            ItemType::Enumeration => 0x05,
            ItemType::Boolean => 0x06,
            ItemType::TextString => 0x07,
            ItemType::ByteString => 0x08,
            ItemType::DateTime => 0x09,
            ItemType::Interval => 0x0A,
            ItemType::DateTimeExtended => 0x0B,
        }
    }

    /// The type's name in the JSON and XML encodings (`"LongInteger"`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ItemType::Structure => "Structure",
            ItemType::Integer => "Integer",
            ItemType::LongInteger => "LongInteger",
            ItemType::BigInteger => "BigInteger",
            ItemType::Enumeration => "Enumeration",
            ItemType::Boolean => "Boolean",
            ItemType::TextString => "TextString",
            ItemType::ByteString => "ByteString",
            ItemType::DateTime => "DateTime",
            ItemType::Interval => "Interval",
            ItemType::DateTimeExtended => "DateTimeExtended",
        }
    }

    /// The type with this JSON/XML name, if there is one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<ItemType> {
        (0x01..=0x0B)
            .filter_map(ItemType::from_byte)
            .find(|item_type| item_type.name() == name)
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The bytes of a Byte String item, wiped when dropped.
///
/// Byte strings carry key material and plaintext (Get, Register, Encrypt and
/// Decrypt payloads), so every copy the codecs make of one, and every one a
/// caller builds, is overwritten with zeros when the item holding it goes
/// away. Dereferences to `[u8]`; built from a `Vec<u8>` (taken, not copied)
/// or a slice (copied once, into a buffer of its exact length).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteString(Vec<u8>);

impl ByteString {
    /// The bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, to fill in place.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Gives up the bytes in a buffer that is wiped when dropped in turn.
    #[must_use]
    pub fn into_zeroizing(mut self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(std::mem::take(&mut self.0))
    }
}

impl Drop for ByteString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for ByteString {}

impl Deref for ByteString {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for ByteString {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(bytes: Vec<u8>) -> ByteString {
        ByteString(bytes)
    }
}

impl From<Zeroizing<Vec<u8>>> for ByteString {
    /// Takes the bytes over, without a copy.
    fn from(mut bytes: Zeroizing<Vec<u8>>) -> ByteString {
        ByteString(std::mem::take(&mut *bytes))
    }
}

impl From<&[u8]> for ByteString {
    fn from(bytes: &[u8]) -> ByteString {
        ByteString(bytes.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for ByteString {
    fn from(bytes: [u8; N]) -> ByteString {
        ByteString(bytes.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for ByteString {
    fn from(bytes: &[u8; N]) -> ByteString {
        ByteString(bytes.to_vec())
    }
}

impl PartialEq<[u8]> for ByteString {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl PartialEq<Vec<u8>> for ByteString {
    fn eq(&self, other: &Vec<u8>) -> bool {
        &self.0 == other
    }
}

impl fmt::Debug for ByteString {
    /// Prints only the length: byte strings carry key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// A Big Integer value: two's complement, big-endian, a multiple of 8 bytes long.
///
/// The bytes are kept as received (including any redundant sign extension), so a
/// decoded message re-encodes byte for byte. They are wiped when dropped: big
/// integers carry the parts of private keys.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BigInteger(Vec<u8>);

impl BigInteger {
    /// Wraps bytes that are already a non-zero multiple of 8 long, or gives them back.
    pub fn from_padded(bytes: Vec<u8>) -> Result<BigInteger, Vec<u8>> {
        if !bytes.is_empty() && bytes.len() % 8 == 0 {
            Ok(BigInteger(bytes))
        } else {
            Err(bytes)
        }
    }

    /// Sign-extends any two's complement big-endian bytes to a multiple of 8 bytes
    /// (no bytes at all make zero).
    #[must_use]
    pub fn from_signed_bytes(bytes: &[u8]) -> BigInteger {
        if bytes.is_empty() {
            // TTLV has no empty big integer: zero is eight zero bytes.
            return BigInteger(vec![0; 8]);
        }
        let negative = bytes.first().is_some_and(|&first| first & 0x80 != 0);
        let fill = if negative { 0xFF } else { 0x00 };
        let padding = (8 - bytes.len() % 8) % 8;
        // Sized once, so that no partial copy is left behind by a reallocation.
        let mut padded = Vec::with_capacity(bytes.len() + padding);
        padded.resize(padding, fill);
        padded.extend_from_slice(bytes);
        BigInteger(padded)
    }

    /// The value of a signed 64-bit integer, as 8 bytes.
    #[must_use]
    pub fn from_i64(value: i64) -> BigInteger {
        BigInteger(value.to_be_bytes().to_vec())
    }

    /// The bytes, two's complement big-endian; their length is a multiple of 8.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Gives up the bytes, in a buffer that is wiped when dropped in turn.
    #[must_use]
    pub fn into_bytes(mut self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(std::mem::take(&mut self.0))
    }
}

impl Drop for BigInteger {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for BigInteger {}

impl fmt::Debug for BigInteger {
    /// Prints only the length: big integers carry private key parts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigInteger(<{} bytes>)", self.0.len())
    }
}

/// The value of an item, one variant per KMIP item type.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// Child items, in order.
    Structure(Vec<Item>),
    /// A signed 32-bit integer (also used for masks such as Cryptographic Usage Mask).
    Integer(i32),
    /// A signed 64-bit integer.
    LongInteger(i64),
    /// A big integer, bytes kept as they came.
    BigInteger(BigInteger),
    /// An enumeration value; unknown values are kept.
    Enumeration(u32),
    /// A boolean.
    Boolean(bool),
    /// UTF-8 text.
    TextString(String),
    /// Bytes, wiped when dropped.
    ByteString(ByteString),
    /// Seconds since the Unix epoch.
    DateTime(i64),
    /// A number of seconds.
    Interval(u32),
    /// Microseconds since the Unix epoch.
    DateTimeExtended(i64),
}

impl Value {
    /// The item type this value is encoded as.
    #[must_use]
    pub const fn item_type(&self) -> ItemType {
        match self {
            Value::Structure(_) => ItemType::Structure,
            Value::Integer(_) => ItemType::Integer,
            Value::LongInteger(_) => ItemType::LongInteger,
            Value::BigInteger(_) => ItemType::BigInteger,
            Value::Enumeration(_) => ItemType::Enumeration,
            Value::Boolean(_) => ItemType::Boolean,
            Value::TextString(_) => ItemType::TextString,
            Value::ByteString(_) => ItemType::ByteString,
            Value::DateTime(_) => ItemType::DateTime,
            Value::Interval(_) => ItemType::Interval,
            Value::DateTimeExtended(_) => ItemType::DateTimeExtended,
        }
    }
}

impl Value {
    /// The number if this is an Integer.
    #[must_use]
    pub const fn as_i32(&self) -> Option<i32> {
        match self {
            Value::Integer(value) => Some(*value),
            _ => None,
        }
    }

    /// The number if this is a Long Integer.
    #[must_use]
    pub const fn as_i64(&self) -> Option<i64> {
        match self {
            Value::LongInteger(value) => Some(*value),
            _ => None,
        }
    }

    /// The value if this is an Enumeration.
    #[must_use]
    pub const fn as_enumeration(&self) -> Option<u32> {
        match self {
            Value::Enumeration(value) => Some(*value),
            _ => None,
        }
    }

    /// The value if this is a Boolean.
    #[must_use]
    pub const fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(value) => Some(*value),
            _ => None,
        }
    }

    /// The text if this is a Text String.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::TextString(text) => Some(text),
            _ => None,
        }
    }

    /// The bytes if this is a Byte String.
    #[must_use]
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::ByteString(bytes) => Some(bytes),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    /// Byte strings and big integers print their length only: they carry key
    /// material, and a `{:?}` in a log line must not leak it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Structure(children) => f.debug_list().entries(children).finish(),
            Value::Integer(value) => write!(f, "Integer({value})"),
            Value::LongInteger(value) => write!(f, "LongInteger({value})"),
            Value::BigInteger(value) => fmt::Debug::fmt(value, f),
            Value::Enumeration(value) => write!(f, "Enumeration(0x{value:08X})"),
            Value::Boolean(value) => write!(f, "Boolean({value})"),
            Value::TextString(value) => write!(f, "TextString({value:?})"),
            Value::ByteString(value) => write!(f, "ByteString({value:?})"),
            Value::DateTime(value) => write!(f, "DateTime({value})"),
            Value::Interval(value) => write!(f, "Interval({value})"),
            Value::DateTimeExtended(value) => write!(f, "DateTimeExtended({value})"),
        }
    }
}

/// One TTLV item: a tag and a value (the type and length follow from the value).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Item {
    /// What the item is.
    pub tag: Tag,
    /// Its value.
    pub value: Value,
}

impl Item {
    /// An item with this tag and value.
    #[must_use]
    pub const fn new(tag: Tag, value: Value) -> Item {
        Item { tag, value }
    }

    /// A structure item with these children.
    #[must_use]
    pub const fn structure(tag: Tag, children: Vec<Item>) -> Item {
        Item {
            tag,
            value: Value::Structure(children),
        }
    }

    /// The children if this is a structure, otherwise an empty slice.
    #[must_use]
    pub fn children(&self) -> &[Item] {
        match &self.value {
            Value::Structure(children) => children,
            _ => &[],
        }
    }

    /// The first child with this tag, if this is a structure that has one.
    #[must_use]
    pub fn child(&self, tag: Tag) -> Option<&Item> {
        self.children().iter().find(|child| child.tag == tag)
    }

    /// Every child with this tag, in order (empty if this is not a structure).
    pub fn children_with(&self, tag: Tag) -> impl Iterator<Item = &Item> {
        self.children().iter().filter(move |child| child.tag == tag)
    }

    /// The text of the first child with this tag, if it is a Text String.
    #[must_use]
    pub fn child_text(&self, tag: Tag) -> Option<&str> {
        self.child(tag).and_then(|child| child.value.as_text())
    }

    /// The number in the first child with this tag, if it is an Integer.
    #[must_use]
    pub fn child_i32(&self, tag: Tag) -> Option<i32> {
        self.child(tag).and_then(|child| child.value.as_i32())
    }

    /// The value of the first child with this tag, if it is an Enumeration.
    #[must_use]
    pub fn child_enumeration(&self, tag: Tag) -> Option<u32> {
        self.child(tag)
            .and_then(|child| child.value.as_enumeration())
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {:?}", self.tag, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_find_children_by_tag_and_type() {
        let item = Item::structure(
            Tag::REQUEST_HEADER,
            vec![
                Item::new(Tag::BATCH_COUNT, Value::Integer(2)),
                Item::new(Tag::OPERATION, Value::Enumeration(1)),
                Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString("a".into())),
                Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString("b".into())),
            ],
        );
        assert_eq!(item.child_i32(Tag::BATCH_COUNT), Some(2));
        assert_eq!(item.child_enumeration(Tag::OPERATION), Some(1));
        assert_eq!(item.child_text(Tag::UNIQUE_IDENTIFIER), Some("a"));
        assert_eq!(item.child_text(Tag::BATCH_COUNT), None);
        assert_eq!(item.child_i32(Tag::OPERATION), None);
        let identifiers: Vec<_> = item
            .children_with(Tag::UNIQUE_IDENTIFIER)
            .filter_map(|child| child.value.as_text())
            .collect();
        assert_eq!(identifiers, ["a", "b"]);
        assert_eq!(Value::Boolean(true).as_bool(), Some(true));
        assert_eq!(Value::LongInteger(-3).as_i64(), Some(-3));
        assert_eq!(
            Value::ByteString(vec![1].into()).as_bytes(),
            Some(&[1_u8][..])
        );
        assert_eq!(Value::Integer(1).as_bytes(), None);
    }
}
