//! The canonical, length-prefixed byte encoding that record hashes, checkpoint
//! signatures and HMACs are computed over, and the hex serde helpers.
//!
//! The encoding is written by hand rather than taken from a serializer so that it
//! is unambiguous (every variable-length field carries its length, every optional
//! field a presence byte) and stable across library versions. It is specified byte
//! by byte in `docs/audit-format.md`; change it only together with that document
//! and the version in the domain-separation prefixes.

/// A growing buffer of canonically encoded fields.
pub(crate) struct Canonical {
    bytes: Vec<u8>,
}

/// A length as the 8-byte field the encoding uses. `usize` is at most 64 bits on
/// every platform Rust supports, so the fallback is never taken; it exists so the
/// conversion cannot panic.
fn length(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

impl Canonical {
    /// Starts an encoding with a fixed-length domain-separation prefix, written
    /// without a length because every user of the encoding knows its prefix.
    pub(crate) fn new(prefix: &[u8]) -> Canonical {
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(prefix);
        Canonical { bytes }
    }

    /// Appends fixed-length bytes as they are (hashes).
    pub(crate) fn fixed(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// Appends an unsigned integer, 8 bytes big-endian.
    pub(crate) fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    /// Appends a signed integer, 16 bytes big-endian two's complement.
    pub(crate) fn i128(&mut self, value: i128) {
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    /// Appends variable-length bytes: their length (8 bytes big-endian), then them.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.u64(length(bytes.len()));
        self.bytes.extend_from_slice(bytes);
    }

    /// Appends a string as its UTF-8 bytes, length-prefixed.
    pub(crate) fn str(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    /// Appends an optional string: `0x00` when absent, `0x01` and the string when
    /// present, so an absent field and an empty one encode differently.
    pub(crate) fn optional_str(&mut self, text: Option<&str>) {
        match text {
            None => self.bytes.push(0),
            Some(text) => {
                self.bytes.push(1);
                self.str(text);
            }
        }
    }

    /// Appends a count of following items, 8 bytes big-endian.
    pub(crate) fn count(&mut self, count: usize) {
        self.u64(length(count));
    }

    /// The encoded bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Serde for fixed-size byte arrays as lowercase hex strings (hashes, signatures).
pub(crate) mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    /// Writes the array as lowercase hex.
    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    /// Reads exactly `2 * N` hex digits.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; N];
        hex::decode_to_slice(&text, &mut bytes).map_err(|error| {
            D::Error::custom(format_args!("expected {} hex digits: {error}", N * 2))
        })?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::Canonical;

    #[test]
    fn absent_and_empty_strings_encode_differently() {
        let mut absent = Canonical::new(b"");
        absent.optional_str(None);
        let mut empty = Canonical::new(b"");
        empty.optional_str(Some(""));
        assert_eq!(absent.into_bytes(), [0]);
        assert_eq!(empty.into_bytes(), [1, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn moving_bytes_between_adjacent_fields_changes_the_encoding() {
        let encode = |first: &str, second: &str| {
            let mut canonical = Canonical::new(b"p");
            canonical.str(first);
            canonical.str(second);
            canonical.into_bytes()
        };
        assert_ne!(encode("ab", "c"), encode("a", "bc"));
    }
}
