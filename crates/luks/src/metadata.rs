//! The LUKS2 JSON metadata: keyslots, tokens, segments, digests and config, as
//! cryptsetup's on-disk format specification describes them.
//!
//! Offsets and sizes are JSON strings holding decimal integers (JSON numbers lose
//! precision above 2^53); key sizes, iteration counts and sector sizes are numbers;
//! binary values are standard padded base64. Object keys are decimal ids.
//! Tokens are kept as raw JSON values, so tokens of other programs (systemd's,
//! Clevis's) survive a parse untouched.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::LuksError;

/// A `u64` written as a JSON string of decimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct U64String(pub u64);

impl U64String {
    /// Parses a decimal integer string as the metadata writes it: digits only.
    pub fn parse(value: &str) -> Option<u64> {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        value.parse().ok()
    }
}

impl Serialize for U64String {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for U64String {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;
        impl Visitor<'_> for DecimalVisitor {
            type Value = U64String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string of decimal digits")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<U64String, E> {
                U64String::parse(value)
                    .map(U64String)
                    .ok_or_else(|| E::custom("not a decimal integer string below 2^64"))
            }
        }
        deserializer.deserialize_str(DecimalVisitor)
    }
}

/// Binary data written as standard padded base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Base64(pub String);

impl Base64 {
    /// Encodes bytes.
    pub fn encode(bytes: &[u8]) -> Base64 {
        Base64(STANDARD.encode(bytes))
    }

    /// Decodes the bytes, or says the metadata is malformed.
    pub fn decode(&self) -> Result<Vec<u8>, LuksError> {
        STANDARD
            .decode(&self.0)
            .map_err(|_| LuksError::InvalidMetadata("invalid base64 value"))
    }
}

/// The whole JSON document of a LUKS2 header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Keyslots by id ("0" to "31").
    pub keyslots: BTreeMap<String, Keyslot>,
    /// Tokens by id, kept as raw JSON.
    pub tokens: BTreeMap<String, serde_json::Value>,
    /// Data segments by id.
    pub segments: BTreeMap<String, Segment>,
    /// Volume key digests by id.
    pub digests: BTreeMap<String, DigestEntry>,
    /// Header-wide settings.
    pub config: Config,
}

/// A keyslot: an encrypted, anti-forensically split copy of the volume key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyslot {
    /// Must be "luks2" (reencryption keyslots are not supported).
    #[serde(rename = "type")]
    pub kind: String,
    /// The size in bytes of the key this slot stores.
    pub key_size: u32,
    /// The anti-forensic splitter.
    pub af: AntiForensic,
    /// Where the encrypted split key lies and how it is encrypted.
    pub area: Area,
    /// How the area key is derived from the passphrase (our keyslot secret).
    pub kdf: Kdf,
    /// 0 ignore, 1 normal, 2 high; absent means normal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
}

/// The anti-forensic splitter of a keyslot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AntiForensic {
    /// Must be "luks1" (the LUKS1 splitter).
    #[serde(rename = "type")]
    pub kind: String,
    /// How many blocks the key is split into (cryptsetup: 4000).
    pub stripes: u32,
    /// The diffusion hash.
    pub hash: String,
}

/// A keyslot's area in the keyslots area of the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    /// Must be "raw".
    #[serde(rename = "type")]
    pub kind: String,
    /// Byte offset from the start of the device.
    pub offset: U64String,
    /// Byte length.
    pub size: U64String,
    /// The area cipher, in dm-crypt notation (we support "aes-xts-plain64").
    pub encryption: String,
    /// The area key size in bytes.
    pub key_size: u32,
}

/// A keyslot key derivation function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Kdf {
    /// PBKDF2 with an HMAC.
    #[serde(rename = "pbkdf2")]
    Pbkdf2 {
        /// The HMAC hash (we support "sha256").
        hash: String,
        /// The iteration count.
        iterations: u32,
        /// The salt.
        salt: Base64,
    },
    /// Argon2i, version 0x13.
    #[serde(rename = "argon2i")]
    Argon2i {
        /// Passes.
        time: u32,
        /// Memory in KiB.
        memory: u32,
        /// Lanes.
        cpus: u32,
        /// The salt.
        salt: Base64,
    },
    /// Argon2id, version 0x13.
    #[serde(rename = "argon2id")]
    Argon2id {
        /// Passes.
        time: u32,
        /// Memory in KiB.
        memory: u32,
        /// Lanes.
        cpus: u32,
        /// The salt.
        salt: Base64,
    },
}

/// A data segment: the encrypted user data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Must be "crypt".
    #[serde(rename = "type")]
    pub kind: String,
    /// Byte offset of the data from the start of the device.
    pub offset: U64String,
    /// "dynamic" (to the end of the device) or a decimal byte count.
    pub size: String,
    /// The sector number of the segment's first sector, as a decimal string.
    pub iv_tweak: U64String,
    /// The cipher in dm-crypt notation.
    pub encryption: String,
    /// The encryption sector size in bytes.
    pub sector_size: u32,
    /// Integrity protection; we support none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<serde_json::Value>,
    /// Segment flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
}

/// A digest of the volume key, binding keyslots to segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestEntry {
    /// Must be "pbkdf2".
    #[serde(rename = "type")]
    pub kind: String,
    /// The keyslots whose key this digest verifies.
    pub keyslots: Vec<String>,
    /// The segments that key opens.
    pub segments: Vec<String>,
    /// The PBKDF2 hash.
    pub hash: String,
    /// The PBKDF2 iteration count.
    pub iterations: u32,
    /// The salt.
    pub salt: Base64,
    /// The PBKDF2 output.
    pub digest: Base64,
}

/// Header-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The JSON area size: `hdr_size - 4096`.
    pub json_size: U64String,
    /// The keyslots area size.
    pub keyslots_size: U64String,
    /// Activation flags (for example "allow-discards").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
    /// Requirements a reader must meet (for example an unfinished reencryption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<serde_json::Value>,
}
