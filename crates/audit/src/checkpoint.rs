//! Signed checkpoints of the chain head ([`Checkpoint`], [`CheckpointSigner`]) and
//! when to write them ([`CheckpointPolicy`]).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::{AuditError, encoding::Canonical, encoding::hex_array};

/// Domain-separation prefix of the signed checkpoint message (30 bytes).
const CHECKPOINT_PREFIX: &[u8] = b"cryptainer-audit-checkpoint-v1";

/// A signed statement that record `seq` of the log has hash `hash`.
///
/// Every record at or before `seq` is then fixed: recomputing the chain after an
/// edit changes the hash of record `seq`, and only the holder of the signing key
/// can sign a new checkpoint. Serialized as JSON with `hash` and `signature` in hex
/// and `time` in RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The sequence number of the record this checkpoint fixes.
    pub seq: u64,
    /// That record's hash.
    #[serde(with = "hex_array")]
    pub hash: [u8; 32],
    /// When the checkpoint was signed.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Ed25519 signature over the message in [`Checkpoint::signed_message`].
    #[serde(with = "hex_array")]
    pub signature: [u8; 64],
    /// [`key_id`] of the signing key, so a verifier can tell which key to use
    /// after the server's root key is rotated.
    pub key_id: String,
}

impl Checkpoint {
    /// The signed bytes: `"cryptainer-audit-checkpoint-v1" || seq || hash ||
    /// time || key_id`, with `seq` 8 bytes big-endian, `time` as Unix nanoseconds
    /// 16 bytes big-endian, and `key_id` length-prefixed (see
    /// `docs/audit-format.md`).
    pub fn signed_message(&self) -> Vec<u8> {
        signed_message(self.seq, &self.hash, self.time, &self.key_id)
    }

    /// Whether `verifying_key` signed this checkpoint. Uses strict verification,
    /// which refuses malleable and small-order signatures.
    pub fn signature_is_valid(&self, verifying_key: &VerifyingKey) -> bool {
        let signature = Signature::from_bytes(&self.signature);
        verifying_key
            .verify_strict(&self.signed_message(), &signature)
            .is_ok()
    }
}

fn signed_message(seq: u64, hash: &[u8; 32], time: OffsetDateTime, key_id: &str) -> Vec<u8> {
    let mut message = Canonical::new(CHECKPOINT_PREFIX);
    message.u64(seq);
    message.fixed(hash);
    message.i128(time.unix_timestamp_nanos());
    message.str(key_id);
    message.into_bytes()
}

/// The identifier of a checkpoint key: the first 8 bytes of SHA-256 of its 32-byte
/// public key, as 16 lowercase hex digits.
pub fn key_id(verifying_key: &VerifyingKey) -> String {
    let digest = Sha256::digest(verifying_key.as_bytes());
    hex::encode(digest.get(..8).unwrap_or_default())
}

/// Reads a checkpoint public key written by [`CheckpointSigner::public_key_hex`].
pub fn verifying_key_from_hex(text: &str) -> Result<VerifyingKey, AuditError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes)
        .map_err(|source| AuditError::PublicKeyHex { source })?;
    VerifyingKey::from_bytes(&bytes).map_err(|source| AuditError::PublicKey { source })
}

/// The key that signs checkpoints.
///
/// A secret: no `Debug`, `Clone` or `Serialize`; the key is zeroized on drop. The
/// server derives its seed from the root key, so only an unsealed server can sign
/// and the same root key always gives the same public key.
pub struct CheckpointSigner {
    signing_key: SigningKey,
    key_id: String,
}

impl CheckpointSigner {
    /// The Ed25519 key with this 32-byte seed. The caller should zeroize its copy
    /// of the seed.
    pub fn from_seed(seed: &[u8; 32]) -> CheckpointSigner {
        let signing_key = SigningKey::from_bytes(seed);
        let key_id = key_id(&signing_key.verifying_key());
        CheckpointSigner {
            signing_key,
            key_id,
        }
    }

    /// Signs "record `seq` has hash `hash`" at `time`.
    pub fn sign(&self, seq: u64, hash: [u8; 32], time: OffsetDateTime) -> Checkpoint {
        let message = signed_message(seq, &hash, time, &self.key_id);
        Checkpoint {
            seq,
            hash,
            time,
            signature: self.signing_key.sign(&message).to_bytes(),
            key_id: self.key_id.clone(),
        }
    }

    /// The public key that verifies this signer's checkpoints.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// The public key as 64 lowercase hex digits, for `cryptainer audit verify
    /// --public-key`.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.signing_key.verifying_key().as_bytes())
    }

    /// [`key_id`] of this signer's public key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

/// When the writer should sign a checkpoint: after `every_records` new records or
/// `every_secs` seconds since the last checkpoint, whichever comes first. Zero
/// turns a trigger off.
///
/// Records after the latest checkpoint are protected against recomputation and
/// truncation only by the running server's head, so these bound what an attacker
/// with write access to the storage can silently undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPolicy {
    /// New records that make a checkpoint due (0: no count trigger).
    pub every_records: u64,
    /// Seconds since the last checkpoint that make one due (0: no time trigger).
    pub every_secs: u64,
}

impl Default for CheckpointPolicy {
    /// Every 100 records or 60 seconds.
    fn default() -> CheckpointPolicy {
        CheckpointPolicy {
            every_records: 100,
            every_secs: 60,
        }
    }
}

impl CheckpointPolicy {
    /// Whether a checkpoint of `head_seq` is due, given the last checkpoint's
    /// sequence number (0 if none) and time (`None` if none). Never due when no
    /// record was written since the last checkpoint; due at once for the first
    /// records of a log that has no checkpoint and a time trigger.
    pub fn due(
        &self,
        last_checkpoint_seq: u64,
        last_time: Option<OffsetDateTime>,
        head_seq: u64,
        now: OffsetDateTime,
    ) -> bool {
        let unsigned_records = head_seq.saturating_sub(last_checkpoint_seq);
        if unsigned_records == 0 {
            return false;
        }
        if self.every_records != 0 && unsigned_records >= self.every_records {
            return true;
        }
        if self.every_secs == 0 {
            return false;
        }
        match last_time {
            None => true,
            Some(last_time) => {
                let interval =
                    Duration::seconds(i64::try_from(self.every_secs).unwrap_or(i64::MAX));
                now - last_time >= interval
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2024-03-04 05:06:07.123456789 UTC);

    #[test]
    fn signed_checkpoint_verifies_and_round_trips_through_json() {
        let signer = CheckpointSigner::from_seed(&[9u8; 32]);
        let checkpoint = signer.sign(10, [4u8; 32], NOW);
        assert!(checkpoint.signature_is_valid(&signer.verifying_key()));
        let json = serde_json::to_string(&checkpoint).unwrap();
        let back: Checkpoint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, checkpoint);
        assert!(back.signature_is_valid(&signer.verifying_key()));
    }

    #[test]
    fn every_signed_field_is_covered() {
        let signer = CheckpointSigner::from_seed(&[9u8; 32]);
        let key = signer.verifying_key();
        let checkpoint = signer.sign(10, [4u8; 32], NOW);
        let edits: [fn(&mut Checkpoint); 5] = [
            |c| c.seq += 1,
            |c| c.hash[31] ^= 1,
            |c| c.time += Duration::nanoseconds(1),
            |c| c.key_id.push('0'),
            |c| c.signature[0] ^= 1,
        ];
        for edit in edits {
            let mut edited = checkpoint.clone();
            edit(&mut edited);
            assert!(!edited.signature_is_valid(&key), "{edited:?}");
        }
    }

    #[test]
    fn another_key_does_not_verify() {
        let checkpoint = CheckpointSigner::from_seed(&[9u8; 32]).sign(1, [0; 32], NOW);
        let other = CheckpointSigner::from_seed(&[8u8; 32]).verifying_key();
        assert!(!checkpoint.signature_is_valid(&other));
    }

    #[test]
    fn public_key_hex_round_trips() {
        let signer = CheckpointSigner::from_seed(&[9u8; 32]);
        let key = verifying_key_from_hex(&signer.public_key_hex()).unwrap();
        assert_eq!(key, signer.verifying_key());
        assert_eq!(key_id(&key), signer.key_id());
        assert_eq!(signer.key_id().len(), 16);
        assert!(matches!(
            verifying_key_from_hex("abcd"),
            Err(AuditError::PublicKeyHex { .. })
        ));
    }

    #[test]
    fn policy_due() {
        fn check(
            policy: (u64, u64),
            last: (u64, Option<i64>),
            head: u64,
            now: i64,
            expected: bool,
        ) {
            let policy = CheckpointPolicy {
                every_records: policy.0,
                every_secs: policy.1,
            };
            let at = |secs: i64| OffsetDateTime::UNIX_EPOCH + Duration::seconds(secs);
            assert_eq!(
                policy.due(last.0, last.1.map(at), head, at(now)),
                expected,
                "{policy:?} last={last:?} head={head} now={now}"
            );
        }
        // Nothing new since the last checkpoint: never due.
        check((10, 60), (20, Some(0)), 20, 1000, false);
        check((10, 60), (0, None), 0, 1000, false);
        // Count trigger.
        check((10, 60), (20, Some(0)), 29, 30, false);
        check((10, 60), (20, Some(0)), 30, 30, true);
        // Time trigger.
        check((10, 60), (20, Some(0)), 21, 59, false);
        check((10, 60), (20, Some(0)), 21, 60, true);
        // No checkpoint yet: due at once with a time trigger.
        check((10, 60), (0, None), 1, 0, true);
        check((10, 0), (0, None), 1, 0, false);
        // Triggers turned off.
        check((0, 60), (20, Some(0)), 1000, 30, false);
        check((0, 0), (20, Some(0)), 1000, 100_000, false);
    }
}
