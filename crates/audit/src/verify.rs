//! Verification of a stored log: [`verify`] walks the records in order and names
//! the first [`Problem`].
//!
//! Problems are ordered by the sequence number at which they appear; at one
//! sequence number a problem with the record comes before one with its
//! checkpoint, which comes before a mismatch with the expected head. Truncation
//! appears just after the last record present.

use std::fmt;
use std::iter::Peekable;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::{AuditRecord, Checkpoint, record::GENESIS_HASH};

/// One entry of the stored log as the storage layer read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredRecord {
    /// A record that decoded (boxed so that the enum stays small).
    Decoded(Box<AuditRecord>),
    /// A stored record at sequence number `seq` (the storage key) that no longer
    /// decodes, e.g. because its JSON was edited. Verification reports it as
    /// [`Problem::Undecodable`] instead of stopping with a storage error.
    Undecodable {
        /// The sequence number the storage holds it under.
        seq: u64,
    },
}

impl From<AuditRecord> for StoredRecord {
    fn from(record: AuditRecord) -> StoredRecord {
        StoredRecord::Decoded(Box::new(record))
    }
}

impl StoredRecord {
    fn seq(&self) -> u64 {
        match self {
            StoredRecord::Decoded(record) => record.seq,
            StoredRecord::Undecodable { seq } => *seq,
        }
    }

    /// Whether the entry's content matches its hash; an undecodable entry does not.
    fn hash_is_valid(&self) -> bool {
        match self {
            StoredRecord::Decoded(record) => record.hash_is_valid(),
            StoredRecord::Undecodable { .. } => false,
        }
    }
}

/// The first thing wrong with a stored log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// Record `seq`'s hash does not match its content: a field was edited, or its
    /// sequence number was changed.
    Altered {
        /// The altered record.
        seq: u64,
    },
    /// Record `seq` is intact on its own but its `prev_hash` is not the hash of
    /// record `seq - 1`: one of the two was replaced by a record whose own hash was
    /// recomputed.
    BrokenLink {
        /// The record whose link is broken.
        seq: u64,
    },
    /// Record `seq` is not in the log (the next record present has a higher
    /// sequence number).
    Missing {
        /// The first missing record.
        seq: u64,
    },
    /// The storage holds record `seq` but it no longer decodes.
    Undecodable {
        /// The undecodable record.
        seq: u64,
    },
    /// The log ends at `last_present` (0: it is empty), but a valid checkpoint or
    /// the expected head shows that record `expected_last` existed.
    Truncated {
        /// The last record present.
        last_present: u64,
        /// The highest record known to have existed.
        expected_last: u64,
    },
    /// The validly signed checkpoint at `seq` does not match record `seq`: a
    /// record in `after + 1 ..= seq` was altered and the chain recomputed.
    /// `after` is the last checkpoint that matched (0 if none).
    CheckpointMismatch {
        /// The checkpoint's sequence number.
        seq: u64,
        /// The last checkpoint that matched, 0 if none.
        after: u64,
    },
    /// The checkpoint at `seq` is not signed by the given key: it was forged or
    /// edited.
    BadCheckpointSignature {
        /// The checkpoint's sequence number.
        seq: u64,
    },
    /// Record `seq` differs from the expected head the caller supplied (the chain
    /// after the latest checkpoint was recomputed).
    HeadMismatch {
        /// The expected head's sequence number.
        seq: u64,
    },
    /// Record `found` is stored where record `expected` belongs, and records out of
    /// sequence follow: records were moved.
    Reordered {
        /// The sequence number that belongs at this position.
        expected: u64,
        /// The sequence number found there.
        found: u64,
    },
    /// Record `seq` is stored twice in a row.
    Duplicate {
        /// The duplicated record.
        seq: u64,
    },
}

impl Problem {
    /// The sequence number the problem is reported at: the record or checkpoint it
    /// names, or for truncation the first record that is gone.
    pub fn seq(&self) -> u64 {
        match *self {
            Problem::Altered { seq }
            | Problem::BrokenLink { seq }
            | Problem::Missing { seq }
            | Problem::Undecodable { seq }
            | Problem::CheckpointMismatch { seq, .. }
            | Problem::BadCheckpointSignature { seq }
            | Problem::HeadMismatch { seq }
            | Problem::Duplicate { seq } => seq,
            Problem::Truncated { last_present, .. } => last_present.saturating_add(1),
            Problem::Reordered { expected, .. } => expected,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::Altered { seq } => write!(
                formatter,
                "record {seq} was altered: its hash does not match its content"
            ),
            Problem::BrokenLink { seq } => write!(
                formatter,
                "record {seq} does not link to record {}: one of the two was replaced",
                seq.saturating_sub(1)
            ),
            Problem::Missing { seq } => {
                write!(formatter, "record {seq} is missing: it was removed")
            }
            Problem::Undecodable { seq } => write!(
                formatter,
                "record {seq} was altered: it can no longer be decoded"
            ),
            Problem::Truncated {
                last_present,
                expected_last,
            } => write!(
                formatter,
                "the log was truncated: it ends at record {last_present} but record \
                 {expected_last} existed"
            ),
            Problem::CheckpointMismatch { seq, after } => write!(
                formatter,
                "records {} to {seq} were rewritten: the signed checkpoint at {seq} does not \
                 match record {seq}",
                after.saturating_add(1)
            ),
            Problem::BadCheckpointSignature { seq } => write!(
                formatter,
                "the checkpoint at {seq} was forged or edited: its signature is not from \
                 the audit key"
            ),
            Problem::HeadMismatch { seq } => write!(
                formatter,
                "record {seq} was rewritten: it differs from the head the server holds"
            ),
            Problem::Reordered { expected, found } => write!(
                formatter,
                "records were reordered: record {found} is stored where record {expected} belongs"
            ),
            Problem::Duplicate { seq } => write!(formatter, "record {seq} is stored twice"),
        }
    }
}

/// The outcome of [`verify`].
///
/// Serialized for the API as `{"ok", "records", "last_good_seq",
/// "last_checkpoint", "problem", "message"}`, `problem` being `null` or an object
/// with a `kind` and the variant's fields; `ok` and `message` are derived and
/// ignored when read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ReportWire", from = "ReportWire")]
pub struct VerifyReport {
    /// Records read before verification stopped (all of them when the log is
    /// intact).
    pub records: u64,
    /// The last record known intact: the record before the first problem, or for a
    /// rewritten chain the last record fixed by a matching checkpoint.
    pub last_good_seq: u64,
    /// The last checkpoint that was verified, if any.
    pub last_checkpoint: Option<u64>,
    /// The first problem, `None` when the log is intact.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether the log is intact.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.problem, self.last_checkpoint) {
            (Some(problem), _) => problem.fmt(formatter),
            (None, Some(checkpoint)) => write!(
                formatter,
                "audit log intact: {} records, last checkpoint at {checkpoint}",
                self.records
            ),
            (None, None) => write!(
                formatter,
                "audit log intact: {} records, no checkpoint yet",
                self.records
            ),
        }
    }
}

/// [`VerifyReport`] as the API shows it.
#[derive(Serialize, Deserialize)]
struct ReportWire {
    #[serde(default)]
    ok: bool,
    records: u64,
    last_good_seq: u64,
    last_checkpoint: Option<u64>,
    problem: Option<Problem>,
    #[serde(default)]
    message: String,
}

impl From<VerifyReport> for ReportWire {
    fn from(report: VerifyReport) -> ReportWire {
        ReportWire {
            ok: report.is_ok(),
            message: report.to_string(),
            records: report.records,
            last_good_seq: report.last_good_seq,
            last_checkpoint: report.last_checkpoint,
            problem: report.problem,
        }
    }
}

impl From<ReportWire> for VerifyReport {
    fn from(wire: ReportWire) -> VerifyReport {
        VerifyReport {
            records: wire.records,
            last_good_seq: wire.last_good_seq,
            last_checkpoint: wire.last_checkpoint,
            problem: wire.problem,
        }
    }
}

/// Verifies a stored log and names its first problem.
///
/// - `records`: every stored record in storage order (ascending sequence number),
///   as [`AuditRecord`]s or [`StoredRecord`]s. An `Err` item (the storage could not
///   be read) stops verification and is returned as it is: a read failure is not a
///   finding about the log.
/// - `checkpoints`: every stored checkpoint, in any order.
/// - `verifying_key`: the checkpoint public key.
/// - `expected_head`: the last record's sequence number and hash as the caller
///   knows them independently of the storage (the running server's chain head), if
///   it does. It catches truncation and recomputation after the latest checkpoint.
///   A log longer than the expected head is fine: records written since are
///   checked by the chain alone.
///
/// The log is read once, streaming; after a gap the rest is read to tell a removed
/// record from moved ones.
pub fn verify<R, E>(
    records: impl IntoIterator<Item = Result<R, E>>,
    checkpoints: &[Checkpoint],
    verifying_key: &VerifyingKey,
    expected_head: Option<(u64, [u8; 32])>,
) -> Result<VerifyReport, E>
where
    R: Into<StoredRecord>,
{
    let mut checkpoints: Vec<&Checkpoint> = checkpoints.iter().collect();
    checkpoints.sort_by_key(|checkpoint| checkpoint.seq);
    let expected_head = expected_head.filter(|(seq, _)| *seq != 0);
    let mut walk = Walk {
        records: records
            .into_iter()
            .map(|item| item.map(Into::into))
            .peekable(),
        checkpoints: checkpoints.into_iter().peekable(),
        verifying_key,
        expected_head,
        read: 0,
        last_seq: 0,
        last_hash: GENESIS_HASH,
        last_checkpoint: None,
    };
    let problem = walk.run()?;
    let last_good_seq = match problem {
        Some(
            Problem::CheckpointMismatch { .. }
            | Problem::BadCheckpointSignature { .. }
            | Problem::HeadMismatch { .. },
        ) => walk.last_checkpoint.unwrap_or(0),
        _ => walk.last_seq,
    };
    Ok(VerifyReport {
        records: walk.read,
        last_good_seq,
        last_checkpoint: walk.last_checkpoint,
        problem,
    })
}

/// The state of one verification pass.
struct Walk<'a, I: Iterator, C: Iterator<Item = &'a Checkpoint>> {
    records: Peekable<I>,
    checkpoints: Peekable<C>,
    verifying_key: &'a VerifyingKey,
    expected_head: Option<(u64, [u8; 32])>,
    /// Records read so far.
    read: u64,
    /// The last record accepted, 0 before the first.
    last_seq: u64,
    last_hash: [u8; 32],
    /// The last checkpoint that verified and matched.
    last_checkpoint: Option<u64>,
}

impl<'a, E, I, C> Walk<'a, I, C>
where
    I: Iterator<Item = Result<StoredRecord, E>>,
    C: Iterator<Item = &'a Checkpoint>,
{
    /// Reads records until the first problem or the end.
    fn run(&mut self) -> Result<Option<Problem>, E> {
        while let Some(item) = self.records.next() {
            let stored = item?;
            self.read = self.read.saturating_add(1);
            let expected = self.last_seq.saturating_add(1);
            if stored.seq() != expected {
                return self.out_of_sequence(&stored, expected).map(Some);
            }
            let record = match stored {
                StoredRecord::Undecodable { seq } => return Ok(Some(Problem::Undecodable { seq })),
                StoredRecord::Decoded(record) => record,
            };
            if !record.hash_is_valid() {
                return Ok(Some(Problem::Altered { seq: record.seq }));
            }
            if record.prev_hash != self.last_hash {
                return Ok(Some(Problem::BrokenLink { seq: record.seq }));
            }
            self.last_seq = record.seq;
            self.last_hash = record.hash;
            if let Some(problem) = self.check_checkpoints_through(record.seq, &record.hash) {
                return Ok(Some(problem));
            }
            let head_differs = self.expected_head.is_some_and(|(head_seq, head_hash)| {
                head_seq == record.seq && head_hash != record.hash
            });
            if head_differs {
                return Ok(Some(Problem::HeadMismatch { seq: record.seq }));
            }
        }
        Ok(self.check_end())
    }

    /// Checks the checkpoints up to `seq`, the record just accepted with `hash`.
    /// Checkpoints below it were checked already, except one at sequence number 0,
    /// which no record can match.
    fn check_checkpoints_through(&mut self, seq: u64, hash: &[u8; 32]) -> Option<Problem> {
        while let Some(checkpoint) = self.checkpoints.next_if(|checkpoint| checkpoint.seq <= seq) {
            if !checkpoint.signature_is_valid(self.verifying_key) {
                return Some(Problem::BadCheckpointSignature {
                    seq: checkpoint.seq,
                });
            }
            if checkpoint.seq != seq || checkpoint.hash != *hash {
                return Some(Problem::CheckpointMismatch {
                    seq: checkpoint.seq,
                    after: self.last_checkpoint.unwrap_or(0),
                });
            }
            self.last_checkpoint = Some(seq);
        }
        None
    }

    /// After the last record: checkpoints or an expected head beyond it mean the
    /// log was truncated; otherwise a checkpoint beyond it must at least be ours.
    fn check_end(&mut self) -> Option<Problem> {
        let mut expected_last = self.expected_head.map_or(0, |(head_seq, _)| head_seq);
        let mut first_forged = None;
        for checkpoint in self.checkpoints.by_ref() {
            if checkpoint.signature_is_valid(self.verifying_key) {
                expected_last = expected_last.max(checkpoint.seq);
            } else if first_forged.is_none() {
                first_forged = Some(checkpoint.seq);
            }
        }
        if expected_last > self.last_seq {
            return Some(Problem::Truncated {
                last_present: self.last_seq,
                expected_last,
            });
        }
        first_forged.map(|seq| Problem::BadCheckpointSignature { seq })
    }

    /// Names the problem when `stored` is not record `expected`.
    fn out_of_sequence(&mut self, stored: &StoredRecord, expected: u64) -> Result<Problem, E> {
        let found = stored.seq();
        // A record whose own hash fails, followed by the record that should follow
        // it, had its sequence number edited in place.
        let next_fits = match self.records.peek() {
            None => true,
            Some(Ok(next)) => next.seq() == expected.saturating_add(1),
            Some(Err(_)) => false,
        };
        if !stored.hash_is_valid() && next_fits {
            return Ok(Problem::Altered { seq: expected });
        }
        if self.last_seq != 0 && found == self.last_seq {
            return Ok(Problem::Duplicate { seq: found });
        }
        if found < expected {
            return Ok(Problem::Reordered { expected, found });
        }
        // A gap: record `expected` was removed, unless a record numbered below
        // `found` comes later, in which case records were moved.
        for item in self.records.by_ref() {
            let later = item?;
            self.read = self.read.saturating_add(1);
            if later.seq() < found {
                return Ok(Problem::Reordered { expected, found });
            }
        }
        Ok(Problem::Missing { seq: expected })
    }
}
