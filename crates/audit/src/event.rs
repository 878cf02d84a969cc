//! What the server records about a request ([`AuditEvent`]) and the key that
//! hides its sensitive values ([`AuditHmacKey`]).

use std::fmt;

use hmac::{Hmac, Mac, digest::KeyInit};
use sha2::Sha256;
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::Canonical;

/// Domain-separation prefix of the HMAC input (24 bytes).
const HMAC_PREFIX: &[u8] = b"cryptainer-audit-hmac-v1";

/// One request that read a key or changed state, as the server describes it.
///
/// [`crate::AuditChain::prepare`] turns it into an [`crate::AuditRecord`]. Every
/// field but [`AuditEvent::sensitive`] is stored in the clear.
#[derive(Clone)]
pub struct AuditEvent {
    /// When the request was handled; stored as RFC 3339 in UTC.
    pub time: OffsetDateTime,
    /// Who made the request, e.g. `token:tok_abc123` or `node:worker-1`.
    pub principal: String,
    /// The tenant the request acted in, if any.
    pub tenant: Option<String>,
    /// What was done, e.g. `key.create`, `key.get`, `token.revoke`.
    pub operation: String,
    /// The object acted on, if any (an id, never a name a user chose).
    pub object_id: Option<String>,
    /// `ok`, or the error code the request failed with.
    pub result: String,
    /// The client's address, if known.
    pub remote: Option<String>,
    /// Named values that must not be stored in the clear (a key name, a request
    /// field). The record keeps only `HMAC-SHA256(audit HMAC key, name, value)` in
    /// hex under the same name. A later value with the same name replaces an
    /// earlier one.
    pub sensitive: Vec<(String, Vec<u8>)>,
}

impl AuditEvent {
    /// An event with no tenant, object, remote address or sensitive values.
    pub fn new(
        time: OffsetDateTime,
        principal: impl Into<String>,
        operation: impl Into<String>,
        result: impl Into<String>,
    ) -> AuditEvent {
        AuditEvent {
            time,
            principal: principal.into(),
            tenant: None,
            operation: operation.into(),
            object_id: None,
            result: result.into(),
            remote: None,
            sensitive: Vec::new(),
        }
    }
}

/// Shows every field but the sensitive values, of which only the names appear, so
/// that logging an event cannot leak what the record hides.
impl fmt::Debug for AuditEvent {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sensitive_names: Vec<&str> = self
            .sensitive
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        formatter
            .debug_struct("AuditEvent")
            .field("time", &self.time)
            .field("principal", &self.principal)
            .field("tenant", &self.tenant)
            .field("operation", &self.operation)
            .field("object_id", &self.object_id)
            .field("result", &self.result)
            .field("remote", &self.remote)
            .field("sensitive_names", &sensitive_names)
            .finish()
    }
}

/// The 32-byte key that sensitive values are HMACed with.
///
/// A secret: no `Debug`, `Clone` or `Serialize`, zeroized on drop. The server
/// derives it from its root key; an auditor who holds it can search the log for a
/// value with [`AuditHmacKey::hmac_hex`].
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct AuditHmacKey {
    key: [u8; 32],
}

impl AuditHmacKey {
    /// Takes ownership of the key bytes. The caller should zeroize its own copy.
    pub fn from_bytes(key: [u8; 32]) -> AuditHmacKey {
        AuditHmacKey { key }
    }

    /// `HMAC-SHA256(key, "cryptainer-audit-hmac-v1" || name || value)` in lowercase
    /// hex, with `name` and `value` length-prefixed (see `docs/audit-format.md`).
    /// The name is bound so that equal values under different names cannot be
    /// correlated.
    pub fn hmac_hex(&self, name: &str, value: &[u8]) -> String {
        // HMAC pads a key shorter than the hash block with zeros, so placing the
        // 32-byte key in a zeroed 64-byte block is HMAC with that key, and this
        // constructor, unlike `new_from_slice`, cannot fail.
        let mut block = [0u8; 64];
        for (slot, byte) in block.iter_mut().zip(self.key.iter()) {
            *slot = *byte;
        }
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        block.zeroize();
        let mut input = Canonical::new(HMAC_PREFIX);
        input.str(name);
        input.bytes(value);
        let mut input = input.into_bytes();
        mac.update(&input);
        input.zeroize();
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_equals_hmac_sha256_keyed_with_the_32_byte_key() {
        let key = [7u8; 32];
        let mut expected = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        let mut input = HMAC_PREFIX.to_vec();
        input.extend_from_slice(&4u64.to_be_bytes());
        input.extend_from_slice(b"name");
        input.extend_from_slice(&5u64.to_be_bytes());
        input.extend_from_slice(b"value");
        expected.update(&input);
        assert_eq!(
            AuditHmacKey::from_bytes(key).hmac_hex("name", b"value"),
            hex::encode(expected.finalize().into_bytes())
        );
    }

    #[test]
    fn hmac_binds_the_name() {
        let key = AuditHmacKey::from_bytes([1u8; 32]);
        assert_ne!(key.hmac_hex("a", b"x"), key.hmac_hex("b", b"x"));
    }

    #[test]
    fn debug_shows_sensitive_names_but_not_values() {
        let mut event =
            AuditEvent::new(OffsetDateTime::UNIX_EPOCH, "token:abc", "key.create", "ok");
        event
            .sensitive
            .push(("key_name".to_owned(), b"payroll-master".to_vec()));
        let shown = format!("{event:?}");
        assert!(shown.contains("key_name"));
        assert!(!shown.contains("payroll-master"));
    }
}
