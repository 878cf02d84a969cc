//! The managed-object model, shaped after KMIP so the KMIP listener can map onto it
//! one to one: object types, algorithms, the state machine and its dates.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The tenant every object belongs to when the caller names none.
pub const DEFAULT_TENANT: &str = "default";

/// Longest object name, tenant name, label key or label value, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// Label on each half of a key pair holding the other half's id (KMIP Public Key
/// Link on the private key, Private Key Link on the public key).
pub const KEY_PAIR_LABEL: &str = "key-pair";

/// Label on a key that replaced another (KMIP Re-key Key Pair) holding the
/// replaced key's id (KMIP Replaced Object Link).
pub const REPLACED_LABEL: &str = "replaced-object";

/// Label on a key that was replaced holding its replacement's id (KMIP
/// Replacement Object Link).
pub const REPLACEMENT_LABEL: &str = "replacement-object";

/// Most labels one object may carry; bounds the metadata row size.
pub const MAX_LABELS: usize = 64;

/// KMIP object types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObjectType {
    /// A symmetric key (KMIP Object Type 0x02).
    SymmetricKey,
    /// Secret data such as a password (KMIP Object Type 0x07).
    SecretData,
    /// An opaque object (KMIP Object Type 0x08).
    OpaqueObject,
    /// The public half of a key pair (KMIP Object Type 0x03), stored as a DER
    /// SubjectPublicKeyInfo.
    PublicKey,
    /// The private half of a key pair (KMIP Object Type 0x04), stored as a DER
    /// PKCS#8 PrivateKeyInfo.
    PrivateKey,
    /// An X.509 certificate (KMIP Object Type 0x01), stored as DER.
    Certificate,
    /// One part of a split key (KMIP Object Type 0x05), stored as the part's
    /// bytes; the split's parameters are labels the KMIP layer keeps.
    SplitKey,
}

impl ObjectType {
    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::SymmetricKey => "symmetric_key",
            ObjectType::SecretData => "secret_data",
            ObjectType::OpaqueObject => "opaque_object",
            ObjectType::PublicKey => "public_key",
            ObjectType::PrivateKey => "private_key",
            ObjectType::Certificate => "certificate",
            ObjectType::SplitKey => "split_key",
        }
    }
}

/// The algorithms a key can be created for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// AES with a 128-bit key.
    #[serde(rename = "aes-128")]
    Aes128,
    /// AES with a 256-bit key.
    #[serde(rename = "aes-256")]
    Aes256,
    /// HMAC-SHA256 with a 256-bit key.
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    /// No cryptographic algorithm (secret data, opaque objects).
    #[serde(rename = "none")]
    None,
    /// RSA with a 2048-bit modulus.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    #[serde(rename = "rsa-4096")]
    Rsa4096,
    /// Elliptic curve keys on NIST P-256.
    #[serde(rename = "ec-p256")]
    EcP256,
    /// Elliptic curve keys on NIST P-384.
    #[serde(rename = "ec-p384")]
    EcP384,
}

impl Algorithm {
    /// Parses the API spelling (`aes-256`, `aes-128`, `hmac-sha256`).
    pub fn parse(text: &str) -> Option<Algorithm> {
        match text {
            "aes-256" | "aes256" | "AES-256" => Some(Algorithm::Aes256),
            "aes-128" | "aes128" | "AES-128" => Some(Algorithm::Aes128),
            "hmac-sha256" | "HMAC-SHA256" => Some(Algorithm::HmacSha256),
            _ => None,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aes128 => "aes-128",
            Algorithm::Aes256 => "aes-256",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::None => "none",
            Algorithm::Rsa2048 => "rsa-2048",
            Algorithm::Rsa3072 => "rsa-3072",
            Algorithm::Rsa4096 => "rsa-4096",
            Algorithm::EcP256 => "ec-p256",
            Algorithm::EcP384 => "ec-p384",
        }
    }

    /// The key length in bits.
    pub fn key_bits(self) -> u32 {
        match self {
            Algorithm::Aes128 => 128,
            Algorithm::Aes256 | Algorithm::HmacSha256 | Algorithm::EcP256 => 256,
            Algorithm::EcP384 => 384,
            Algorithm::Rsa2048 => 2048,
            Algorithm::Rsa3072 => 3072,
            Algorithm::Rsa4096 => 4096,
            Algorithm::None => 0,
        }
    }

    /// The KMIP family name of the algorithm (`aes`, `hmac-sha256`, `rsa`, `ec`).
    pub fn family(self) -> &'static str {
        match self {
            Algorithm::Aes128 | Algorithm::Aes256 => "aes",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::Rsa2048 | Algorithm::Rsa3072 | Algorithm::Rsa4096 => "rsa",
            Algorithm::EcP256 | Algorithm::EcP384 => "ec",
            Algorithm::None => "none",
        }
    }
}

/// The KMIP object states (KMIP 1.4 section 3.22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Created but not yet usable for protecting data.
    PreActive,
    /// Usable for every purpose.
    Active,
    /// Usable only to process (decrypt, verify) existing data.
    Deactivated,
    /// Known or suspected to be disclosed; usable only to process existing data.
    Compromised,
    /// Material erased; the metadata remains as a tombstone.
    Destroyed,
    /// Material erased after the object was compromised.
    DestroyedCompromised,
}

impl State {
    /// The stable name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            State::PreActive => "pre_active",
            State::Active => "active",
            State::Deactivated => "deactivated",
            State::Compromised => "compromised",
            State::Destroyed => "destroyed",
            State::DestroyedCompromised => "destroyed_compromised",
        }
    }

    /// Parses the stable name.
    pub fn parse(text: &str) -> Option<State> {
        Some(match text {
            "pre_active" => State::PreActive,
            "active" => State::Active,
            "deactivated" => State::Deactivated,
            "compromised" => State::Compromised,
            "destroyed" => State::Destroyed,
            "destroyed_compromised" => State::DestroyedCompromised,
            _ => return None,
        })
    }

    /// Whether the object's material has been erased.
    pub fn is_destroyed(self) -> bool {
        matches!(self, State::Destroyed | State::DestroyedCompromised)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an object was revoked (KMIP Revocation Reason Code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// No reason given.
    Unspecified,
    /// The key is known or suspected to be disclosed.
    Compromised,
    /// Replaced by a newer key.
    Superseded,
    /// No longer needed.
    CessationOfOperation,
}

/// Metadata of a managed object. Holds no key material: the material lives wrapped
/// in per-version rows of the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// Unique identifier (a UUID).
    pub id: String,
    /// Unique name within the tenant while the object is not destroyed.
    pub name: Option<String>,
    /// The tenant the object belongs to.
    pub tenant: String,
    /// KMIP object type.
    pub object_type: ObjectType,
    /// Cryptographic algorithm.
    pub algorithm: Algorithm,
    /// Key length in bits (0 where not applicable).
    pub length: u32,
    /// Current state.
    pub state: State,
    /// The version new operations use; rotation adds one.
    pub version: u32,
    /// Free-form labels (KMIP custom attributes).
    pub labels: BTreeMap<String, String>,
    /// When the object was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it became Active.
    #[serde(with = "time::serde::rfc3339::option")]
    pub activation_date: Option<OffsetDateTime>,
    /// When it was deactivated (revoked for a reason other than compromise).
    #[serde(with = "time::serde::rfc3339::option")]
    pub deactivation_date: Option<OffsetDateTime>,
    /// When it was marked compromised.
    #[serde(with = "time::serde::rfc3339::option")]
    pub compromise_date: Option<OffsetDateTime>,
    /// When its material was destroyed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub destroy_date: Option<OffsetDateTime>,
    /// Why it was revoked.
    pub revocation_reason: Option<RevocationReason>,
    /// When the current version was created (last rotation).
    #[serde(with = "time::serde::rfc3339")]
    pub rotated_at: OffsetDateTime,
}

/// Why a name, tenant or label was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidName {
    /// Empty.
    #[error("{what} is empty; give 1 to {MAX_NAME_LEN} characters")]
    Empty {
        /// What was being checked.
        what: &'static str,
    },
    /// Too long.
    #[error("{what} is {len} bytes long; the limit is {MAX_NAME_LEN}")]
    TooLong {
        /// What was being checked.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A character outside the allowed set.
    #[error("{what} contains {found:?}; use letters, digits, '.', '_' and '-'")]
    BadCharacter {
        /// What was being checked.
        what: &'static str,
        /// The offending character.
        found: char,
    },
    /// Too many labels.
    #[error("{count} labels given; at most {MAX_LABELS} are allowed")]
    TooManyLabels {
        /// How many were given.
        count: usize,
    },
}

/// Checks an object name, tenant name or label key: 1 to 128 characters of
/// `[A-Za-z0-9._-]`, not starting with '.' or '-'.
pub fn validate_name(what: &'static str, text: &str) -> Result<(), InvalidName> {
    if text.is_empty() {
        return Err(InvalidName::Empty { what });
    }
    if text.len() > MAX_NAME_LEN {
        return Err(InvalidName::TooLong {
            what,
            len: text.len(),
        });
    }
    for (position, character) in text.chars().enumerate() {
        let allowed = character.is_ascii_alphanumeric()
            || character == '_'
            || (position > 0 && (character == '.' || character == '-'));
        if !allowed {
            return Err(InvalidName::BadCharacter {
                what,
                found: character,
            });
        }
    }
    Ok(())
}

/// Checks a label set: valid keys, values of printable characters up to 128 bytes.
pub fn validate_labels(labels: &BTreeMap<String, String>) -> Result<(), InvalidName> {
    if labels.len() > MAX_LABELS {
        return Err(InvalidName::TooManyLabels {
            count: labels.len(),
        });
    }
    for (key, value) in labels {
        validate_name("label key", key)?;
        if value.len() > MAX_NAME_LEN {
            return Err(InvalidName::TooLong {
                what: "label value",
                len: value.len(),
            });
        }
        if let Some(found) = value.chars().find(|character| character.is_control()) {
            return Err(InvalidName::BadCharacter {
                what: "label value",
                found,
            });
        }
    }
    Ok(())
}

/// Whether `text` has the shape of an object id (a hyphenated UUID).
pub fn looks_like_id(text: &str) -> bool {
    uuid::Uuid::try_parse(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_name(text: &str, ok: bool) {
        assert_eq!(validate_name("name", text).is_ok(), ok, "{text:?}");
    }

    #[test]
    fn names() {
        check_name("db", true);
        check_name("pg_data-1.v2", true);
        check_name("", false);
        check_name("-x", false);
        check_name(".hidden", false);
        check_name("a b", false);
        check_name("ünicode", false);
        check_name(&"a".repeat(128), true);
        check_name(&"a".repeat(129), false);
    }

    #[test]
    fn labels_rejects_control_characters_and_too_many() {
        let mut labels = BTreeMap::new();
        labels.insert("app".to_owned(), "pg 15".to_owned());
        assert!(validate_labels(&labels).is_ok());
        labels.insert("bad".to_owned(), "a\nb".to_owned());
        assert!(validate_labels(&labels).is_err());
        let many: BTreeMap<String, String> =
            (0..65).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(matches!(
            validate_labels(&many),
            Err(InvalidName::TooManyLabels { count: 65 })
        ));
    }

    #[test]
    fn state_names_round_trip() {
        for state in [
            State::PreActive,
            State::Active,
            State::Deactivated,
            State::Compromised,
            State::Destroyed,
            State::DestroyedCompromised,
        ] {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
    }
}
