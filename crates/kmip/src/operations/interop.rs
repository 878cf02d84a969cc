//! Check, Log and Interop: operations about an object's use, the server's
//! log and interoperability tests, which change no object.

use ttlv::{Tag, Value};

use crate::error::{KmipError, ResultReason};

use super::labels::LABEL_USAGE;
use super::{Context, Outcome, kept, uid};

/// Longest Log Message kept, in bytes.
const MAX_LOG_MESSAGE: usize = 1024;

impl Context<'_> {
    /// Check: whether the client may use the object as it says, by its
    /// Cryptographic Usage Mask (every bit asked for must be set: else
    /// Incompatible Cryptographic Usage Mask) and Usage Limits Count (no more
    /// than the object has left: else Usage Limit Exceeded). A Lease Time is
    /// accepted: the server grants no leases, so none limits the use. On
    /// success the answer is the object's identifier; a failure empties the
    /// ID placeholder.
    pub(super) fn check(&self) -> Outcome {
        self.require(self.session.rights.read_metadata, "check objects")?;
        let meta = self.live_object()?;
        if let Some(wanted) = self.payload.child(Tag::CRYPTOGRAPHIC_USAGE_MASK) {
            let Value::Integer(wanted) = wanted.value else {
                return Err(KmipError::invalid(
                    "Cryptographic Usage Mask must be an integer",
                ));
            };
            let held: i32 = meta
                .labels
                .get(LABEL_USAGE)
                .and_then(|mask| mask.parse().ok())
                .unwrap_or(0);
            if held & wanted != wanted {
                return Err(KmipError::new(
                    ResultReason::IncompatibleCryptographicUsageMask,
                    format!(
                        "object {} may be used for 0x{held:X}, not for all of 0x{wanted:X}",
                        meta.id
                    ),
                ));
            }
        }
        if let Some(count) = self.payload.child(Tag::USAGE_LIMITS_COUNT) {
            let Value::LongInteger(count) = count.value else {
                return Err(KmipError::invalid(
                    "Usage Limits Count must be a long integer",
                ));
            };
            let amount = usize::try_from(count)
                .map_err(|_| KmipError::invalid("Usage Limits Count must not be negative"))?;
            kept::usage_after(&meta, amount)
                .map_err(|error| KmipError::new(ResultReason::UsageLimitExceeded, error.message))?;
        }
        Ok(vec![uid(&meta.id)])
    }

    /// Log: the client's message goes to the audit log (`kmip.log`, with the
    /// message as its result), where the server's own records are.
    pub(super) fn log(&self) -> Outcome {
        let message = match self.payload.child(Tag::LOG_MESSAGE).map(|i| &i.value) {
            Some(Value::TextString(message)) => message,
            Some(_) => return Err(KmipError::invalid("Log Message must be a text string")),
            None => return Err(KmipError::missing("Log Message")),
        };
        if message.len() > MAX_LOG_MESSAGE || message.chars().any(char::is_control) {
            return Err(KmipError::invalid(format!(
                "a Log Message is at most {MAX_LOG_MESSAGE} bytes of text without control characters"
            )));
        }
        self.keystore
            .record(
                &self.session.caller,
                "kmip.log",
                Some(&self.session.tenant),
                None,
                message,
            )
            .map_err(|error| super::store_error(&error))?;
        Ok(Vec::new())
    }

    /// Interop: Begin, End or Reset of an interoperability test case, which
    /// this server notes by answering (test sessions only, see
    /// [`super::Session::interop_tests`]).
    pub(super) fn interop(&self) -> Outcome {
        match self.payload.child(Tag::INTEROP_FUNCTION).map(|i| &i.value) {
            // Begin, End, Reset.
            Some(Value::Enumeration(1..=3)) => {}
            Some(_) => {
                return Err(KmipError::invalid(
                    "Interop Function must be Begin, End or Reset",
                ));
            }
            None => return Err(KmipError::missing("Interop Function")),
        }
        if self.payload.child_text(Tag::INTEROP_IDENTIFIER).is_none() {
            return Err(KmipError::missing("Interop Identifier"));
        }
        Ok(Vec::new())
    }
}
