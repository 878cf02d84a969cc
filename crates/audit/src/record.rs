//! The stored form of an audit event ([`AuditRecord`]) and its hash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::encoding::{Canonical, hex_array};

/// Domain-separation prefix of the record hash input (26 bytes).
pub(crate) const RECORD_PREFIX: &[u8] = b"cryptainer-audit-record-v1";

/// The `prev_hash` of record 1: 32 zero bytes.
pub const GENESIS_HASH: [u8; 32] = [0u8; 32];

/// One record of the audit log, as stored and as served by the API.
///
/// Serialized as a JSON object with the field names below; `prev_hash` and `hash`
/// are 64 lowercase hex digits; absent optional fields are `null`. Unknown fields
/// are refused, because a field the hash does not cover could be added unnoticed.
///
/// `hash` is [`AuditRecord::compute_hash`] of the other fields. Changing any of them
/// without recomputing it is detected by [`crate::verify`] as
/// [`crate::Problem::Altered`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// Position in the log, starting at 1, without gaps.
    pub seq: u64,
    /// When the request was handled, RFC 3339 in UTC, exactly as hashed.
    pub time: String,
    /// Who made the request.
    pub principal: String,
    /// The tenant the request acted in, if any.
    pub tenant: Option<String>,
    /// What was done, e.g. `key.create`.
    pub operation: String,
    /// The object acted on, if any.
    pub object_id: Option<String>,
    /// `ok`, or the error code the request failed with.
    pub result: String,
    /// The client's address, if known.
    pub remote: Option<String>,
    /// The event's sensitive values: name → HMAC-SHA256 in hex (see
    /// [`crate::AuditHmacKey::hmac_hex`]). Never the values themselves.
    pub hmacs: BTreeMap<String, String>,
    /// The hash of record `seq - 1`, or [`GENESIS_HASH`] for record 1.
    #[serde(with = "hex_array")]
    pub prev_hash: [u8; 32],
    /// This record's hash.
    #[serde(with = "hex_array")]
    pub hash: [u8; 32],
}

impl AuditRecord {
    /// `SHA-256("cryptainer-audit-record-v1" || prev_hash || body)`, where `body` is
    /// the canonical encoding of every other field but `hash`, `seq` included (see
    /// `docs/audit-format.md`).
    pub fn compute_hash(&self) -> [u8; 32] {
        Sha256::digest(self.hash_input()).into()
    }

    /// Whether `hash` matches the record's content.
    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash() == self.hash
    }

    /// The bytes [`AuditRecord::compute_hash`] hashes.
    pub(crate) fn hash_input(&self) -> Vec<u8> {
        let mut input = Canonical::new(RECORD_PREFIX);
        input.fixed(&self.prev_hash);
        input.u64(self.seq);
        input.str(&self.time);
        input.str(&self.principal);
        input.optional_str(self.tenant.as_deref());
        input.str(&self.operation);
        input.optional_str(self.object_id.as_deref());
        input.str(&self.result);
        input.optional_str(self.remote.as_deref());
        input.count(self.hmacs.len());
        // A BTreeMap iterates in byte order of the names, so the order is canonical.
        for (name, value) in &self.hmacs {
            input.str(name);
            input.str(value);
        }
        input.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AuditRecord {
        AuditRecord {
            seq: 1,
            time: "2024-01-02T03:04:05Z".to_owned(),
            principal: "token:abc".to_owned(),
            tenant: Some("default".to_owned()),
            operation: "key.create".to_owned(),
            object_id: None,
            result: "ok".to_owned(),
            remote: Some("127.0.0.1".to_owned()),
            hmacs: BTreeMap::from([("key_name".to_owned(), "ab".to_owned())]),
            prev_hash: GENESIS_HASH,
            hash: [0u8; 32],
        }
    }

    /// The encoding written out by hand from `docs/audit-format.md`: if this test
    /// fails, either the code or the document is wrong.
    #[test]
    fn hash_input_matches_the_documented_layout() {
        fn field(out: &mut Vec<u8>, bytes: &[u8]) {
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        let mut expected = b"cryptainer-audit-record-v1".to_vec();
        assert_eq!(expected.len(), 26);
        expected.extend_from_slice(&[0u8; 32]);
        expected.extend_from_slice(&1u64.to_be_bytes());
        field(&mut expected, b"2024-01-02T03:04:05Z");
        field(&mut expected, b"token:abc");
        expected.push(1);
        field(&mut expected, b"default");
        field(&mut expected, b"key.create");
        expected.push(0);
        field(&mut expected, b"ok");
        expected.push(1);
        field(&mut expected, b"127.0.0.1");
        expected.extend_from_slice(&1u64.to_be_bytes());
        field(&mut expected, b"key_name");
        field(&mut expected, b"ab");
        assert_eq!(sample().hash_input(), expected);
    }

    /// A golden value: the hash of a fixed record must never change, or every
    /// stored log would stop verifying.
    #[test]
    fn hash_of_a_fixed_record_is_stable() {
        assert_eq!(
            hex::encode(sample().compute_hash()),
            "842f1768e464426ade6246a444ef307170ed76b11d971e8ff788df4ffa6aeab0"
        );
    }

    #[test]
    fn json_round_trips_with_hex_hashes() {
        let mut record = sample();
        record.hash = record.compute_hash();
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains(&format!("\"hash\":\"{}\"", hex::encode(record.hash))));
        assert!(json.contains(&format!("\"prev_hash\":\"{}\"", "0".repeat(64))));
        let back: AuditRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn rejects_unknown_fields() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["extra"] = serde_json::Value::from("not hashed");
        let error = serde_json::from_value::<AuditRecord>(value).unwrap_err();
        assert!(error.to_string().contains("unknown field"), "{error}");
    }

    #[test]
    fn rejects_a_short_hash() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["hash"] = serde_json::Value::from("abcd");
        let error = serde_json::from_value::<AuditRecord>(value).unwrap_err();
        assert!(error.to_string().contains("64 hex digits"), "{error}");
    }
}
