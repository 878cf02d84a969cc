//! Cryptainer's tamper-evident audit log: hash-chained records, signed checkpoints,
//! and the verifier that names the first altered, removed or missing record.
//!
//! This crate is pure chain logic. It knows nothing of SQL, files or HTTP: the
//! storage layer persists the [`AuditRecord`]s and [`Checkpoint`]s defined here (as
//! JSON, through their serde implementations) and feeds them back to [`verify`].
//! The byte-level format is specified in `docs/audit-format.md`.
//!
//! # How the pieces fit
//!
//! 1. The server fills in an [`AuditEvent`] for every request that reads a key or
//!    changes state: who, on which object, which operation, with what result, when.
//!    Values that must not be stored in the clear (a key name, a request field) go
//!    in [`AuditEvent::sensitive`]; the record keeps only their HMAC-SHA256 under the
//!    audit HMAC key ([`AuditHmacKey`]), so an auditor holding that key can still
//!    search for a value without the log revealing it.
//! 2. The writer keeps an [`AuditChain`], the in-memory head of the log. It turns
//!    an event into the next [`AuditRecord`]: sequence number `head + 1`, the head's
//!    hash as `prev_hash`, the HMACs, and
//!    `hash = SHA-256("cryptainer-audit-record-v1" || prev_hash || canonical body)`.
//! 3. At intervals chosen by a [`CheckpointPolicy`] the writer signs the head with a
//!    [`CheckpointSigner`] (Ed25519, seeded from the server's root key so only an
//!    unsealed server can sign) and stores the [`Checkpoint`] with the records.
//! 4. [`verify`] walks the stored records in order and returns a [`VerifyReport`]
//!    naming the first [`Problem`] in sequence order.
//!
//! # Durable before the head moves
//!
//! A record must be durable before the response it describes is sent, and a failed
//! write must not move the head (otherwise the next record would link to a record
//! that does not exist, and the log would look tampered with). So the chain never
//! advances on its own:
//!
//! - [`AuditChain::prepare`] builds the next record from the committed head without
//!   changing anything; the caller writes it; [`AuditChain::commit`] then advances
//!   the head, and refuses a record that does not extend it.
//! - For group commit, [`AuditChain::batch`] returns an [`AuditBatch`] that chains
//!   several records on a tentative head. [`AuditBatch::commit`] moves the head
//!   once the storage transaction is durable; dropping the batch discards it.
//!
//! Forgetting to commit is safe: the next record reuses the sequence number and the
//! store's unique key refuses it, loudly.
//!
//! # What verification detects, and what it cannot
//!
//! An edit of any stored field of a record changes its hash ([`Problem::Altered`]).
//! Removing records leaves a gap ([`Problem::Missing`]) or, at the end, fewer records
//! than the latest checkpoint or the caller's expected head ([`Problem::Truncated`]).
//! Because the chain is plain SHA-256, anyone can recompute it after an edit; the
//! signed checkpoints catch that ([`Problem::CheckpointMismatch`]) for every record at
//! or before the latest checkpoint, and forged checkpoints fail their signature
//! ([`Problem::BadCheckpointSignature`]). Records written after the latest checkpoint
//! are protected against recomputation and truncation only by an expected head
//! supplied by the caller (the running server's in-memory head); the checkpoint
//! interval bounds that window.

#![forbid(unsafe_code)]

mod chain;
mod checkpoint;
mod encoding;
mod error;
mod event;
mod record;
mod verify;

pub use chain::{AuditBatch, AuditChain};
pub use checkpoint::{
    Checkpoint, CheckpointPolicy, CheckpointSigner, key_id, verifying_key_from_hex,
};
pub use error::AuditError;
pub use event::{AuditEvent, AuditHmacKey};
pub use record::{AuditRecord, GENESIS_HASH};
pub use verify::{Problem, StoredRecord, VerifyReport, verify};

/// Re-exported so callers name the checkpoint key type without depending on
/// `ed25519-dalek` themselves.
pub use ed25519_dalek::VerifyingKey;
