//! Binary TTLV: the wire encoding of KMIP (KMIP 1.4 spec section 9.1).
//!
//! Every item is an 8-byte header — a 3-byte tag, a 1-byte type and a 4-byte
//! big-endian value length — then the value, padded with zeros to a multiple of
//! 8 bytes. The length counts the value without its padding. Integers,
//! enumerations and intervals are 4 bytes plus 4 of padding; long integers,
//! date-times and booleans are 8 bytes; big integers are a multiple of 8 bytes;
//! text and byte strings are padded up to the next multiple of 8; a structure's
//! length is exactly the total encoded length of its children.

use crate::reader::Reader;
use crate::{
    BigInteger, ByteString, Error, Item, ItemType, Location, MAX_DEPTH, MAX_ITEMS,
    MAX_MESSAGE_SIZE, Tag, Value,
};

/// Size of an item header: tag (3), type (1), length (4).
const HEADER_LEN: usize = 8;

/// Converts a length field to `usize`; on a platform where it cannot fit, the
/// result is so large that reading that many bytes fails cleanly.
fn length_to_usize(length: u32) -> usize {
    usize::try_from(length).unwrap_or(usize::MAX)
}

/// Zero bytes needed after `length` value bytes to reach a multiple of 8.
const fn padding_for(length: usize) -> usize {
    (8 - length % 8) % 8
}

/// Checks a declared value length against what the type requires, and returns
/// the value's length with padding.
fn padded_length(item_type: ItemType, length: u32, at: usize) -> Result<u64, Error> {
    let invalid = |expected| Error::InvalidLength {
        at: Location::Byte(at),
        item_type,
        expected,
        found: length,
    };
    match item_type {
        ItemType::Integer | ItemType::Enumeration | ItemType::Interval => {
            if length == 4 {
                Ok(8)
            } else {
                Err(invalid("4"))
            }
        }
        ItemType::LongInteger
        | ItemType::Boolean
        | ItemType::DateTime
        | ItemType::DateTimeExtended => {
            if length == 8 {
                Ok(8)
            } else {
                Err(invalid("8"))
            }
        }
        ItemType::BigInteger => {
            if length != 0 && length % 8 == 0 {
                Ok(u64::from(length))
            } else {
                Err(invalid("a non-zero multiple of 8"))
            }
        }
        ItemType::Structure => {
            if length % 8 == 0 {
                Ok(u64::from(length))
            } else {
                Err(invalid("a multiple of 8 (the total of its items)"))
            }
        }
        ItemType::TextString | ItemType::ByteString => Ok(u64::from(length).div_ceil(8) * 8),
    }
}

/// Tells how long the message starting in `bytes` is, header included.
///
/// Returns `Ok(None)` until the 8-byte header has arrived. A network reader calls
/// this on the first bytes of a message, refuses the connection's message if it
/// is an error (for example [`Error::MessageTooLarge`]), and otherwise reads
/// exactly that many bytes before calling [`decode`].
pub fn frame_length(bytes: &[u8]) -> Result<Option<usize>, Error> {
    let Some(header) = bytes.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let mut reader = Reader::new(header);
    reader.take(3)?;
    let type_byte = reader.u8()?;
    let item_type = ItemType::from_byte(type_byte).ok_or(Error::UnknownType {
        at: Location::Byte(3),
        found: type_byte,
    })?;
    let length = reader.u32()?;
    let total = padded_length(item_type, length, 4)?.saturating_add(8);
    let too_large = Error::MessageTooLarge {
        at: Location::Byte(4),
        length: total,
        limit: MAX_MESSAGE_SIZE,
    };
    match usize::try_from(total) {
        Ok(total) if total <= MAX_MESSAGE_SIZE => Ok(Some(total)),
        _ => Err(too_large),
    }
}

/// Decodes one binary TTLV item, which must span the whole input.
///
/// Fails if the input is larger than [`crate::MAX_MESSAGE_SIZE`], nests deeper
/// than [`MAX_DEPTH`], holds more than [`MAX_ITEMS`] items, or breaks any rule of
/// the encoding (lengths, padding, booleans, UTF-8); the error says where.
pub fn decode(bytes: &[u8]) -> Result<Item, Error> {
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(Error::MessageTooLarge {
            at: Location::Byte(0),
            length: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            limit: MAX_MESSAGE_SIZE,
        });
    }
    let mut reader = Reader::new(bytes);
    let mut items = 0;
    let item = read_item(&mut reader, 1, &mut items)?;
    if !reader.is_empty() {
        return Err(Error::TrailingBytes {
            at: Location::Byte(reader.position()),
            count: reader.remaining(),
        });
    }
    Ok(item)
}

/// Reads `count` padding bytes and checks they are zero.
fn read_padding(reader: &mut Reader<'_>, count: usize) -> Result<(), Error> {
    let at = reader.position();
    let padding = reader.take(count)?;
    match padding.iter().enumerate().find(|&(_, &byte)| byte != 0) {
        Some((index, &found)) => Err(Error::NonZeroPadding {
            at: Location::Byte(at.saturating_add(index)),
            found,
        }),
        None => Ok(()),
    }
}

/// Reads the 4-byte value and 4 bytes of padding of a 4-byte item.
fn read_four(reader: &mut Reader<'_>) -> Result<[u8; 4], Error> {
    let value = reader.take_array()?;
    read_padding(reader, 4)?;
    Ok(value)
}

/// Reads one item at `depth` (the top-level item is at depth 1).
fn read_item(reader: &mut Reader<'_>, depth: usize, items: &mut usize) -> Result<Item, Error> {
    let start = reader.position();
    *items = items.saturating_add(1);
    if *items > MAX_ITEMS {
        return Err(Error::TooManyItems {
            at: Location::Byte(start),
            limit: MAX_ITEMS,
        });
    }
    let [tag_high, tag_middle, tag_low] = reader.take_array()?;
    let tag = Tag(u32::from_be_bytes([0, tag_high, tag_middle, tag_low]));
    let type_byte = reader.u8()?;
    let item_type = ItemType::from_byte(type_byte).ok_or(Error::UnknownType {
        at: Location::Byte(start.saturating_add(3)),
        found: type_byte,
    })?;
    let length_at = reader.position();
    let length = reader.u32()?;
    padded_length(item_type, length, length_at)?;

    let value_at = reader.position();
    let value = match item_type {
        ItemType::Structure => {
            let mut contents = reader.sub(length, start)?;
            let mut children = Vec::new();
            while !contents.is_empty() {
                if depth >= MAX_DEPTH {
                    return Err(Error::TooDeep {
                        at: Location::Byte(contents.position()),
                        limit: MAX_DEPTH,
                    });
                }
                children.push(read_item(&mut contents, depth.saturating_add(1), items)?);
            }
            Value::Structure(children)
        }
        ItemType::Integer => Value::Integer(i32::from_be_bytes(read_four(reader)?)),
        ItemType::Enumeration => Value::Enumeration(u32::from_be_bytes(read_four(reader)?)),
        ItemType::Interval => Value::Interval(u32::from_be_bytes(read_four(reader)?)),
        ItemType::LongInteger => Value::LongInteger(i64::from_be_bytes(reader.take_array()?)),
        ItemType::DateTime => Value::DateTime(i64::from_be_bytes(reader.take_array()?)),
        ItemType::DateTimeExtended => {
            Value::DateTimeExtended(i64::from_be_bytes(reader.take_array()?))
        }
        ItemType::Boolean => match reader.u64()? {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            found => {
                return Err(Error::InvalidBoolean {
                    at: Location::Byte(value_at),
                    found,
                });
            }
        },
        ItemType::BigInteger => {
            let bytes = reader.take(length_to_usize(length))?;
            // The length was checked to be a multiple of 8 above.
            Value::BigInteger(BigInteger::from_signed_bytes(bytes))
        }
        ItemType::TextString => {
            let count = length_to_usize(length);
            let bytes = reader.take(count)?;
            let text = std::str::from_utf8(bytes).map_err(|source| Error::InvalidUtf8 {
                at: Location::Byte(value_at.saturating_add(source.valid_up_to())),
                source,
            })?;
            read_padding(reader, padding_for(count))?;
            Value::TextString(text.to_owned())
        }
        ItemType::ByteString => {
            let count = length_to_usize(length);
            let bytes = ByteString::from(reader.take(count)?);
            read_padding(reader, padding_for(count))?;
            Value::ByteString(bytes)
        }
    };
    Ok(Item { tag, value })
}

/// The length of an item's binary encoding, header and padding included.
///
/// Use it to check a tree against [`crate::MAX_MESSAGE_SIZE`] before sending it.
#[must_use]
pub fn encoded_len(item: &Item) -> usize {
    let value_len = match &item.value {
        Value::Structure(children) => children.iter().fold(0_usize, |total, child| {
            total.saturating_add(encoded_len(child))
        }),
        Value::Integer(_)
        | Value::Enumeration(_)
        | Value::Interval(_)
        | Value::LongInteger(_)
        | Value::Boolean(_)
        | Value::DateTime(_)
        | Value::DateTimeExtended(_) => 8,
        Value::BigInteger(big) => big.as_bytes().len(),
        Value::TextString(text) => padded(text.len()),
        Value::ByteString(bytes) => padded(bytes.len()),
    };
    value_len.saturating_add(HEADER_LEN)
}

/// `length` rounded up to a multiple of 8.
fn padded(length: usize) -> usize {
    length.saturating_add(padding_for(length))
}

/// Encodes an item as binary TTLV.
///
/// The buffer is sized once, from [`encoded_len`], so no reallocation leaves a
/// partial copy of the message behind: wrapped in `zeroize::Zeroizing`, the
/// returned buffer is the only copy of the key material the message carries.
#[must_use]
pub fn encode(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(item));
    encode_into(item, &mut out);
    out
}

/// Appends an item's binary TTLV encoding to `out`.
///
/// A value longer than 4 GiB cannot be expressed in TTLV's 32-bit length field;
/// such a length is written as `u32::MAX`, which every decoder rejects. Check
/// [`encoded_len`] against [`crate::MAX_MESSAGE_SIZE`] to avoid building one.
pub fn encode_into(item: &Item, out: &mut Vec<u8>) {
    let [_, tag_high, tag_middle, tag_low] = item.tag.0.to_be_bytes();
    out.extend_from_slice(&[tag_high, tag_middle, tag_low, item.value.item_type().byte()]);
    match &item.value {
        Value::Structure(children) => {
            let length_at = out.len();
            out.extend_from_slice(&[0; 4]);
            let contents_at = out.len();
            for child in children {
                encode_into(child, out);
            }
            let length = length_field(out.len().saturating_sub(contents_at));
            if let Some(slot) = out.get_mut(length_at..contents_at) {
                slot.copy_from_slice(&length.to_be_bytes());
            }
        }
        Value::Integer(value) => write_four(out, value.to_be_bytes()),
        Value::Enumeration(value) => write_four(out, value.to_be_bytes()),
        Value::Interval(value) => write_four(out, value.to_be_bytes()),
        Value::LongInteger(value) => write_eight(out, value.to_be_bytes()),
        Value::DateTime(value) => write_eight(out, value.to_be_bytes()),
        Value::DateTimeExtended(value) => write_eight(out, value.to_be_bytes()),
        Value::Boolean(value) => write_eight(out, u64::from(*value).to_be_bytes()),
        Value::BigInteger(big) => write_padded(out, big.as_bytes()),
        Value::TextString(text) => write_padded(out, text.as_bytes()),
        Value::ByteString(bytes) => write_padded(out, bytes),
    }
}

/// A length field for `length` bytes (see [`encode_into`] for the overflow case).
fn length_field(length: usize) -> u32 {
    u32::try_from(length).unwrap_or(u32::MAX)
}

fn write_four(out: &mut Vec<u8>, value: [u8; 4]) {
    out.extend_from_slice(&4_u32.to_be_bytes());
    out.extend_from_slice(&value);
    out.extend_from_slice(&[0; 4]);
}

fn write_eight(out: &mut Vec<u8>, value: [u8; 8]) {
    out.extend_from_slice(&8_u32.to_be_bytes());
    out.extend_from_slice(&value);
}

fn write_padded(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&length_field(bytes.len()).to_be_bytes());
    out.extend_from_slice(bytes);
    out.resize(out.len().saturating_add(padding_for(bytes.len())), 0);
}
