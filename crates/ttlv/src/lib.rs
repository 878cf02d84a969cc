//! The KMIP TTLV codec: the item tree and its binary, JSON and XML encodings.
//!
//! KMIP messages are trees of Tag-Type-Length-Value items. This crate turns bytes
//! into an [`Item`] tree and back, and knows nothing of what the tree means: the
//! `kmip` crate reads requests out of it. Everything here is a pure function over
//! byte slices or strings — no sockets, files or clocks — so it can be fuzzed and
//! tested in isolation.
//!
//! * Binary TTLV (KMIP spec section 9.1): [`decode`], [`encode`], [`encode_into`],
//!   and [`frame_length`] for a network reader that must know a message's length
//!   before it buffers it.
//! * JSON and XML TTLV as the KMIP profiles define them: [`decode_json`],
//!   [`encode_json`], [`decode_xml`], [`encode_xml`].
//! * Tag, enumeration and mask names of KMIP 1.0 to 1.4 and 2.0 to 2.1:
//!   [`Tag::name`], [`Tag::from_name`], [`enumeration_for`], [`mask_for`].
//!
//! Every decoder enforces the same limits ([`MAX_MESSAGE_SIZE`], [`MAX_DEPTH`],
//! [`MAX_ITEMS`]) and rejects malformed input with an [`Error`] that says where
//! and what. Unknown tags (including vendor extensions, `0x54xxxx`) and unknown
//! enumeration values are kept as numbers and round-trip unchanged.
//!
//! ```
//! use ttlv::{Item, Tag, Value};
//!
//! let item = Item::new(Tag::BATCH_COUNT, Value::Integer(1));
//! let bytes = ttlv::encode(&item);
//! assert_eq!(bytes, [0x42, 0x00, 0x0D, 0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0]);
//! assert_eq!(ttlv::decode(&bytes)?, item);
//! # Ok::<(), ttlv::Error>(())
//! ```
#![forbid(unsafe_code)]

mod binary;
mod error;
mod item;
mod json;
mod names;
mod reader;
mod text;
mod xml;

pub use binary::{decode, encode, encode_into, encoded_len, frame_length};
pub use error::{Error, Location};
pub use item::{BigInteger, ByteString, Item, ItemType, Tag, Value};
pub use json::{decode_json, decode_json_value, encode_json, encode_json_value};
pub use names::{NameTable, enumeration_for, mask_for};
pub use reader::Reader;
pub use text::normalize_name;
pub use xml::{decode_xml, encode_xml};

/// Largest binary message accepted, in bytes, header included: 16 MiB.
///
/// KMIP messages that carry keys, certificates or even large opaque objects are
/// kilobytes; 16 MiB leaves room for batches of those while bounding the memory a
/// single connection can make the server hold. [`frame_length`] checks it from the
/// first 8 bytes, before anything is buffered.
pub const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Largest JSON or XML message accepted, in bytes of text: 64 MiB.
///
/// The text encodings spell byte strings in hex (two characters a byte) and add
/// names and markup around every item, so the same message is several times its
/// binary size. The decoded tree must still fit [`MAX_MESSAGE_SIZE`] once encoded.
pub const MAX_TEXT_SIZE: usize = 4 * MAX_MESSAGE_SIZE;

/// Deepest nesting accepted: an item inside 31 structures.
///
/// The deepest KMIP 2.1 message (a request carrying a wrapped key with its
/// attributes) nests about 10 levels. The limit bounds the decoders' recursion,
/// so hostile input cannot exhaust the stack, while leaving room for extensions.
pub const MAX_DEPTH: usize = 32;

/// Most items accepted in one message, structures included: 100 000.
///
/// Each item costs a few dozen bytes of memory however short its encoding; this
/// bounds the tree a message can make us build (a 16 MiB message of empty
/// structures would otherwise be two million items). Large Locate responses with
/// thousands of identifiers stay well inside it.
pub const MAX_ITEMS: usize = 100_000;
