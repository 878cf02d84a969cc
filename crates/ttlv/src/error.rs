//! The one error type of the codec, with where in the input each failure is.

use std::fmt;

use crate::ItemType;

/// Where in the input a decoding error was found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A byte offset from the start of the input (binary TTLV and XML, and JSON
    /// text that is rejected before it is parsed).
    Byte(usize),
    /// A line and column of JSON text, both from 1, as the JSON parser reports them.
    Line {
        /// Line number, from 1.
        line: usize,
        /// Column number, from 1.
        column: usize,
    },
    /// A JSON pointer (RFC 6901) to the offending JSON value, e.g. `/value/2/tag`.
    Pointer(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Byte(offset) => write!(f, "byte {offset}"),
            Location::Line { line, column } => write!(f, "line {line} column {column}"),
            Location::Pointer(pointer) if pointer.is_empty() => f.write_str("the top-level value"),
            Location::Pointer(pointer) => write!(f, "JSON {pointer}"),
        }
    }
}

/// Why a message could not be decoded.
///
/// Every variant says where ([`Location`]) and what was expected and found, so a
/// server can answer "Invalid Message" with a reason a client author can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ends before the item that starts there.
    #[error(
        "input truncated at {at}: {needed} more bytes needed, {available} available; send the whole message"
    )]
    Truncated {
        /// Where the missing bytes were expected.
        at: Location,
        /// How many bytes the item still needs.
        needed: usize,
        /// How many bytes were left.
        available: usize,
    },

    /// An item inside a structure runs past the structure's declared length, or
    /// the structure's length leaves bytes that cannot hold an item.
    #[error(
        "structure length mismatch at {at}: structure starting at byte {structure_at} declares {declared} bytes, but its items need {needed} more than the {available} left"
    )]
    StructureLengthMismatch {
        /// Where the child that does not fit starts.
        at: Location,
        /// Where the enclosing structure's header starts.
        structure_at: usize,
        /// The structure's declared value length.
        declared: u32,
        /// Bytes the child needs.
        needed: usize,
        /// Bytes left in the structure.
        available: usize,
    },

    /// The type byte names no KMIP item type.
    #[error("unknown item type 0x{found:02X} at {at}: expected 0x01 to 0x0B")]
    UnknownType {
        /// Where the type byte is.
        at: Location,
        /// The type byte.
        found: u8,
    },

    /// An item's length field does not fit its type.
    #[error("invalid length {found} for {item_type} at {at}: expected {expected}")]
    InvalidLength {
        /// Where the length field is.
        at: Location,
        /// The item's type.
        item_type: ItemType,
        /// What the type requires.
        expected: &'static str,
        /// The declared length.
        found: u32,
    },

    /// A padding byte after a value is not zero.
    #[error("non-zero padding byte 0x{found:02X} at {at}: padding must be zero")]
    NonZeroPadding {
        /// Where the padding byte is.
        at: Location,
        /// The padding byte.
        found: u8,
    },

    /// A Boolean's 8 bytes hold something other than 0 or 1.
    #[error("invalid boolean 0x{found:016X} at {at}: expected 0 or 1")]
    InvalidBoolean {
        /// Where the boolean's value is.
        at: Location,
        /// The value found.
        found: u64,
    },

    /// A Text String is not valid UTF-8.
    #[error("text string at {at} is not valid UTF-8")]
    InvalidUtf8 {
        /// Where the first invalid byte is.
        at: Location,
        /// The UTF-8 error, relative to the start of the string.
        #[source]
        source: std::str::Utf8Error,
    },

    /// Structures nest deeper than [`crate::MAX_DEPTH`].
    #[error("structures nested too deep at {at}: the limit is {limit} levels")]
    TooDeep {
        /// Where the item past the limit starts.
        at: Location,
        /// The limit.
        limit: usize,
    },

    /// The message holds more than [`crate::MAX_ITEMS`] items.
    #[error("too many items at {at}: the limit is {limit} items per message")]
    TooManyItems {
        /// Where the item past the limit starts.
        at: Location,
        /// The limit.
        limit: usize,
    },

    /// The message is larger than the size limit.
    #[error("message of {length} bytes is too large at {at}: the limit is {limit} bytes")]
    MessageTooLarge {
        /// Where the size was found (the length field, or the start of the input).
        at: Location,
        /// The message's length, or the length it would have once encoded.
        length: u64,
        /// The limit.
        limit: usize,
    },

    /// Bytes follow the complete message.
    #[error("unexpected {count} bytes after the message at {at}: send one message per buffer")]
    TrailingBytes {
        /// Where the extra bytes start.
        at: Location,
        /// How many there are.
        count: usize,
    },

    /// The JSON text is not well-formed JSON.
    #[error("invalid JSON at {at}")]
    JsonSyntax {
        /// Where the JSON parser stopped.
        at: Location,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },

    /// The XML text is not well-formed, or uses XML the KMIP profile does not.
    #[error("invalid XML at {at}: expected {expected}, found {found}")]
    XmlSyntax {
        /// Where the problem is.
        at: Location,
        /// What the parser expected.
        expected: &'static str,
        /// What it found instead.
        found: String,
    },

    /// A JSON or XML item is not shaped as the KMIP profile says.
    #[error("invalid item at {at}: expected {expected}, found {found}")]
    InvalidItem {
        /// Where the item is.
        at: Location,
        /// What the profile requires.
        expected: &'static str,
        /// What was found.
        found: String,
    },

    /// A JSON or XML tag name is neither a KMIP tag name nor a `0x` hex tag.
    #[error("unknown tag name {name:?} at {at}: use a KMIP tag name or hex such as \"0x540001\"")]
    UnknownTagName {
        /// Where the tag is.
        at: Location,
        /// The name found.
        name: String,
    },

    /// A JSON or XML value cannot be read as its item type.
    #[error("invalid {item_type} value {found:?} at {at}: expected {expected}")]
    InvalidValue {
        /// Where the value is.
        at: Location,
        /// The item's type.
        item_type: ItemType,
        /// What the profile allows.
        expected: &'static str,
        /// The value found.
        found: String,
    },
}
