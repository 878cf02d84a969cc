//! The writer's in-memory chain head ([`AuditChain`]) and group commit
//! ([`AuditBatch`]).

use std::collections::BTreeMap;

use time::{UtcOffset, format_description::well_known::Rfc3339};

use crate::{AuditError, AuditEvent, AuditHmacKey, AuditRecord, record::GENESIS_HASH};

/// The head of the audit log as the writer knows it, and the HMAC key.
///
/// The head moves only when the caller says a record is durable
/// ([`AuditChain::commit`], [`AuditBatch::commit`]), so a failed write leaves it
/// where it was. Keep one chain per log, behind the storage writer's lock.
pub struct AuditChain {
    hmac_key: AuditHmacKey,
    /// The last durable record's sequence number and hash; `None` for an empty log.
    head: Option<(u64, [u8; 32])>,
}

impl AuditChain {
    /// A chain whose last durable record is `head` (sequence number and hash, as
    /// read from storage), or an empty log when `None`.
    pub fn new(hmac_key: AuditHmacKey, head: Option<(u64, [u8; 32])>) -> AuditChain {
        AuditChain { hmac_key, head }
    }

    /// The last durable record's sequence number and hash.
    pub fn head(&self) -> Option<(u64, [u8; 32])> {
        self.head
    }

    /// The HMAC key, for searching records by a sensitive value.
    pub fn hmac_key(&self) -> &AuditHmacKey {
        &self.hmac_key
    }

    /// The record that would follow the head, without moving it. Write it, then
    /// [`AuditChain::commit`] it.
    pub fn prepare(&self, event: &AuditEvent) -> Result<AuditRecord, AuditError> {
        build_record(&self.hmac_key, self.head, event)
    }

    /// Moves the head to `record` once it is durable. Refuses a record that does
    /// not extend the head (wrong sequence number or `prev_hash`, or changed since
    /// it was prepared), leaving the head unchanged.
    pub fn commit(&mut self, record: &AuditRecord) -> Result<(), AuditError> {
        self.head = Some(extend(self.head, record)?);
        Ok(())
    }

    /// Starts a group of records chained on a tentative head, for writing several
    /// in one storage transaction. The chain's head moves only when the batch is
    /// committed; dropping the batch discards it.
    pub fn batch(&mut self) -> AuditBatch<'_> {
        let tentative_head = self.head;
        AuditBatch {
            chain: self,
            tentative_head,
            records: 0,
        }
    }
}

/// Records prepared on a tentative head, not yet durable (see
/// [`AuditChain::batch`]).
#[must_use = "a batch that is not committed does not move the chain head"]
pub struct AuditBatch<'chain> {
    chain: &'chain mut AuditChain,
    tentative_head: Option<(u64, [u8; 32])>,
    records: usize,
}

impl AuditBatch<'_> {
    /// The next record, following the last one appended to this batch.
    pub fn append(&mut self, event: &AuditEvent) -> Result<AuditRecord, AuditError> {
        let record = build_record(&self.chain.hmac_key, self.tentative_head, event)?;
        self.tentative_head = Some((record.seq, record.hash));
        self.records = self.records.saturating_add(1);
        Ok(record)
    }

    /// The head as it will be once the batch is committed: the last appended
    /// record, or the chain's head when nothing was appended. A checkpoint written
    /// in the same transaction signs this head.
    pub fn head(&self) -> Option<(u64, [u8; 32])> {
        self.tentative_head
    }

    /// How many records were appended.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Moves the chain's head past every appended record. Call it only after the
    /// transaction holding them is durable.
    pub fn commit(self) {
        self.chain.head = self.tentative_head;
    }
}

/// The sequence number and `prev_hash` of the record after `head`.
fn next_position(head: Option<(u64, [u8; 32])>) -> Result<(u64, [u8; 32]), AuditError> {
    match head {
        None => Ok((1, GENESIS_HASH)),
        Some((seq, hash)) => Ok((
            seq.checked_add(1).ok_or(AuditError::SequenceExhausted)?,
            hash,
        )),
    }
}

fn build_record(
    hmac_key: &AuditHmacKey,
    head: Option<(u64, [u8; 32])>,
    event: &AuditEvent,
) -> Result<AuditRecord, AuditError> {
    let (seq, prev_hash) = next_position(head)?;
    let time = event
        .time
        .to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|source| AuditError::TimeOutOfRange { source })?;
    let hmacs: BTreeMap<String, String> = event
        .sensitive
        .iter()
        .map(|(name, value)| (name.clone(), hmac_key.hmac_hex(name, value)))
        .collect();
    let mut record = AuditRecord {
        seq,
        time,
        principal: event.principal.clone(),
        tenant: event.tenant.clone(),
        operation: event.operation.clone(),
        object_id: event.object_id.clone(),
        result: event.result.clone(),
        remote: event.remote.clone(),
        hmacs,
        prev_hash,
        hash: [0u8; 32],
    };
    record.hash = record.compute_hash();
    Ok(record)
}

/// The head after `record`, if `record` extends `head`.
fn extend(
    head: Option<(u64, [u8; 32])>,
    record: &AuditRecord,
) -> Result<(u64, [u8; 32]), AuditError> {
    let (expected, prev_hash) = next_position(head)?;
    if record.seq != expected || record.prev_hash != prev_hash || !record.hash_is_valid() {
        return Err(AuditError::NotNextRecord {
            seq: record.seq,
            expected,
        });
    }
    Ok((record.seq, record.hash))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn chain() -> AuditChain {
        AuditChain::new(AuditHmacKey::from_bytes([3u8; 32]), None)
    }

    fn event(operation: &str) -> AuditEvent {
        AuditEvent::new(
            datetime!(2024-05-06 07:08:09.5 +02:00),
            "token:abc",
            operation,
            "ok",
        )
    }

    #[test]
    fn first_record_starts_at_one_on_the_genesis_hash() {
        let record = chain().prepare(&event("key.create")).unwrap();
        assert_eq!(record.seq, 1);
        assert_eq!(record.prev_hash, GENESIS_HASH);
        assert!(record.hash_is_valid());
        assert_eq!(record.time, "2024-05-06T05:08:09.5Z");
    }

    #[test]
    fn prepare_does_not_move_the_head_until_commit() {
        let mut chain = chain();
        let first = chain.prepare(&event("a")).unwrap();
        assert_eq!(chain.prepare(&event("a")).unwrap(), first);
        assert_eq!(chain.head(), None);
        chain.commit(&first).unwrap();
        assert_eq!(chain.head(), Some((1, first.hash)));
        let second = chain.prepare(&event("b")).unwrap();
        assert_eq!((second.seq, second.prev_hash), (2, first.hash));
    }

    #[test]
    fn commit_refuses_a_record_that_does_not_extend_the_head() {
        let mut chain = chain();
        let first = chain.prepare(&event("a")).unwrap();
        let mut changed = first.clone();
        changed.result = "denied".to_owned();
        assert!(matches!(
            chain.commit(&changed),
            Err(AuditError::NotNextRecord {
                seq: 1,
                expected: 1
            })
        ));
        chain.commit(&first).unwrap();
        assert!(matches!(
            chain.commit(&first),
            Err(AuditError::NotNextRecord {
                seq: 1,
                expected: 2
            })
        ));
        assert_eq!(chain.head(), Some((1, first.hash)));
    }

    #[test]
    fn dropped_batch_leaves_the_head_and_committed_batch_moves_it() {
        let mut chain = chain();
        {
            let mut batch = chain.batch();
            batch.append(&event("a")).unwrap();
            assert_eq!(batch.len(), 1);
        }
        assert_eq!(chain.head(), None);
        let mut batch = chain.batch();
        let first = batch.append(&event("a")).unwrap();
        let second = batch.append(&event("b")).unwrap();
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(batch.head(), Some((2, second.hash)));
        batch.commit();
        assert_eq!(chain.head(), Some((2, second.hash)));
    }

    #[test]
    fn reopened_chain_continues_from_the_stored_head() {
        let mut chain = chain();
        let first = chain.prepare(&event("a")).unwrap();
        chain.commit(&first).unwrap();
        let reopened = AuditChain::new(AuditHmacKey::from_bytes([3u8; 32]), chain.head());
        assert_eq!(
            reopened.prepare(&event("b")).unwrap(),
            chain.prepare(&event("b")).unwrap()
        );
    }

    #[test]
    fn refuses_to_wrap_the_sequence_number() {
        let chain = AuditChain::new(
            AuditHmacKey::from_bytes([3u8; 32]),
            Some((u64::MAX, [1; 32])),
        );
        assert!(matches!(
            chain.prepare(&event("a")),
            Err(AuditError::SequenceExhausted)
        ));
    }

    #[test]
    fn refuses_a_time_rfc3339_cannot_write() {
        let mut far = event("a");
        far.time = datetime!(-0001-01-01 00:00 UTC);
        assert!(matches!(
            chain().prepare(&far),
            Err(AuditError::TimeOutOfRange { .. })
        ));
    }
}
