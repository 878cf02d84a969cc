//! The error type of the audit crate.

/// What went wrong while building, committing or signing audit data.
///
/// Problems found in a stored log are not errors: [`crate::verify`] reports them
/// as a [`crate::Problem`] in its [`crate::VerifyReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The event's time cannot be written as RFC 3339 (its year is outside
    /// 0000–9999).
    #[error("the audit event time cannot be written as RFC 3339; check the system clock")]
    TimeOutOfRange {
        /// The formatter's error.
        #[source]
        source: time::error::Format,
    },
    /// The chain has used every sequence number.
    #[error("the audit log has reached the last sequence number; start a new log")]
    SequenceExhausted,
    /// A record handed to [`crate::AuditChain::commit`] does not extend the head:
    /// it was prepared from another head, or was changed after it was prepared.
    #[error(
        "audit record {seq} does not extend the chain head (the next record is {expected}); \
         prepare it again from the current head"
    )]
    NotNextRecord {
        /// The record's sequence number.
        seq: u64,
        /// The sequence number the chain expects next.
        expected: u64,
    },
    /// A checkpoint public key is not 64 hex digits.
    #[error("the audit checkpoint public key must be 64 hex digits")]
    PublicKeyHex {
        /// The decoder's error.
        #[source]
        source: hex::FromHexError,
    },
    /// A checkpoint public key is not a valid Ed25519 point.
    #[error("the audit checkpoint public key is not a valid Ed25519 key")]
    PublicKey {
        /// The signature library's error.
        #[source]
        source: ed25519_dalek::SignatureError,
    },
}
