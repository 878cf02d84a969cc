//! The audit journal: the chain head the storage writer advances, the keys that
//! HMAC sensitive values and sign checkpoints (derived from the root key, so only
//! an unsealed server has them), and the checkpoint policy.
//!
//! The writer calls [`Journal::next`] for each commit of a group, then
//! [`Journal::commit`] once the transaction is durable or [`Journal::rollback`]
//! when it failed, so the head only ever advances over records on disk.

use time::OffsetDateTime;

use crate::secret::Key256;

/// The keys the journal uses while the server is unsealed.
pub struct AuditKeys {
    hmac: Key256,
    signing_seed: Key256,
}

impl AuditKeys {
    /// Derives the audit keys from the audit master key (stored wrapped by the
    /// root, so a root rotation does not change them and old checkpoints stay
    /// verifiable).
    pub fn derive(audit_master: &Key256) -> AuditKeys {
        AuditKeys {
            hmac: audit_master.derive("cryptainer-audit-hmac-v1"),
            signing_seed: audit_master.derive("cryptainer-audit-checkpoint-v1"),
        }
    }
}

/// The audit chain as the storage writer sees it.
pub struct Journal {
    chain: audit::AuditChain,
    /// The head before the current group, for rollback.
    committed_head: Option<(u64, [u8; 32])>,
    keys: Option<AuditKeys>,
    signer: Option<audit::CheckpointSigner>,
    policy: audit::CheckpointPolicy,
    last_checkpoint: (u64, Option<OffsetDateTime>),
    checkpoint_requested: bool,
}

/// A throwaway HMAC key for the sealed state, where events carry no sensitive
/// values (they are dropped before hashing), so the key is never used.
fn sealed_hmac_key() -> audit::AuditHmacKey {
    audit::AuditHmacKey::from_bytes(*Key256::generate().expose_secret())
}

impl Journal {
    /// A journal whose last durable record is `head`.
    pub fn new(head: Option<(u64, [u8; 32])>) -> Journal {
        Journal {
            chain: audit::AuditChain::new(sealed_hmac_key(), head),
            committed_head: head,
            keys: None,
            signer: None,
            policy: audit::CheckpointPolicy::default(),
            last_checkpoint: (head.map_or(0, |(seq, _)| seq), None),
            checkpoint_requested: false,
        }
    }

    /// Sets the durable head (at open, from the store).
    pub fn reset_head(&mut self, head: Option<(u64, [u8; 32])>) {
        self.committed_head = head;
        self.rebuild_chain(head);
        self.last_checkpoint = (head.map_or(0, |(seq, _)| seq), None);
    }

    /// Continues the chain from `head`, the last record the database holds
    /// now: when several servers share it, another may have appended since
    /// this one last did. The head is read under the lock that keeps others
    /// from appending until this group commits.
    pub fn continue_from(&mut self, head: Option<(u64, [u8; 32])>) {
        if head != self.committed_head {
            self.committed_head = head;
            self.rebuild_chain(head);
        }
    }

    /// Sets how often checkpoints are signed.
    pub fn set_policy(&mut self, policy: audit::CheckpointPolicy) {
        self.policy = policy;
    }

    /// Installs the keys at unseal, or removes them at seal.
    pub fn set_keys(&mut self, keys: Option<AuditKeys>) {
        self.signer = keys
            .as_ref()
            .map(|keys| audit::CheckpointSigner::from_seed(keys.signing_seed.expose_secret()));
        self.keys = keys;
        self.rebuild_chain(self.committed_head);
        // Sign the head soon after an unseal, so a restart is anchored.
        self.checkpoint_requested = self.signer.is_some();
    }

    /// Asks for a checkpoint with the next commit (at seal and shutdown).
    pub fn request_checkpoint(&mut self) {
        self.checkpoint_requested = true;
    }

    fn rebuild_chain(&mut self, head: Option<(u64, [u8; 32])>) {
        let hmac = match &self.keys {
            Some(keys) => audit::AuditHmacKey::from_bytes(*keys.hmac.expose_secret()),
            None => sealed_hmac_key(),
        };
        self.chain = audit::AuditChain::new(hmac, head);
    }

    /// The last durable record.
    pub fn head(&self) -> Option<(u64, [u8; 32])> {
        self.committed_head
    }

    /// The checkpoint public key, while unsealed.
    pub fn verifying_key(&self) -> Option<ed25519_dalek::VerifyingKey> {
        self.signer
            .as_ref()
            .map(audit::CheckpointSigner::verifying_key)
    }

    /// The record for `event`, chained after the provisional head.
    pub fn next(
        &mut self,
        event: &audit::AuditEvent,
    ) -> Result<audit::AuditRecord, audit::AuditError> {
        let record = if self.keys.is_some() {
            self.chain.prepare(event)?
        } else {
            let mut stripped = event.clone();
            stripped.sensitive.clear();
            self.chain.prepare(&stripped)?
        };
        self.chain.commit(&record)?;
        Ok(record)
    }

    /// A checkpoint of the provisional head when one is due and the signing key is
    /// available.
    pub fn checkpoint_due(&mut self) -> Option<audit::Checkpoint> {
        let signer = self.signer.as_ref()?;
        let (seq, hash) = self.chain.head()?;
        let now = OffsetDateTime::now_utc();
        let due = (self.checkpoint_requested && seq > self.last_checkpoint.0)
            || self
                .policy
                .due(self.last_checkpoint.0, self.last_checkpoint.1, seq, now);
        if !due {
            return None;
        }
        Some(signer.sign(seq, hash, now))
    }

    /// The provisional records (and checkpoint, if any) are durable.
    pub fn commit(&mut self, checkpoint: Option<&audit::Checkpoint>) {
        self.committed_head = self.chain.head();
        if let Some(checkpoint) = checkpoint {
            self.last_checkpoint = (checkpoint.seq, Some(checkpoint.time));
            self.checkpoint_requested = false;
        }
    }

    /// The provisional records were not written.
    pub fn rollback(&mut self) {
        self.rebuild_chain(self.committed_head);
    }
}

/// Verifies the stored chain (see [`audit::verify`]).
pub fn verify<E>(
    records: impl IntoIterator<Item = Result<audit::StoredRecord, E>>,
    checkpoints: &[audit::Checkpoint],
    verifying_key: &ed25519_dalek::VerifyingKey,
    expected_head: Option<(u64, [u8; 32])>,
) -> Result<audit::VerifyReport, E> {
    audit::verify(records, checkpoints, verifying_key, expected_head)
}
