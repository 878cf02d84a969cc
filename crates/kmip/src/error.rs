//! KMIP result reasons and the one mapping from keystore errors to them.

use keystore::KeystoreError;
use keystore::StoreError;

use crate::message::ProtocolVersion;

/// KMIP Result Reason values (KMIP 2.1 section 11.46) that this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResultReason {
    /// The object does not exist or the caller may not see it (Item Not
    /// Found; KMIP 2.1's Object Not Found in 2.1 answers).
    ItemNotFound,
    /// The object was destroyed: its material is gone (KMIP 2.1's Object
    /// Destroyed in 2.1 answers; Item Not Found before, which is what 1.x and
    /// 2.0 clients such as PyKMIP expect).
    ObjectDestroyed,
    /// The client's credentials (its certificate) are no longer accepted:
    /// a decommissioned node, an expired certificate.
    AuthenticationNotSuccessful,
    /// The message could not be read as a KMIP request.
    InvalidMessage,
    /// The operation is not one this server implements.
    OperationNotSupported,
    /// A required field is missing.
    MissingData,
    /// A field has a value the server refuses.
    InvalidField,
    /// A feature of an otherwise supported operation is not implemented.
    FeatureNotSupported,
    /// A cryptographic operation failed (for instance a wrong authentication tag).
    CryptographicFailure,
    /// Check: the object's Cryptographic Usage Mask lacks a use the client
    /// intends.
    IncompatibleCryptographicUsageMask,
    /// Another instance of the object's Name already has this value (KMIP
    /// 2.x; Invalid Field in 1.x).
    NonUniqueNameAttribute,
    /// The object is Sensitive: its material is not given out in the clear
    /// (KMIP 2.x; Permission Denied in 1.x).
    Sensitive,
    /// Check: the object's Usage Limits allow less than the client needs.
    UsageLimitExceeded,
    /// The object's state does not allow the operation.
    WrongKeyLifecycleState,
    /// The caller's role does not allow the operation.
    PermissionDenied,
    /// A live object already has the name.
    ObjectAlreadyExists,
    /// The key format asked for is not supported.
    KeyFormatTypeNotSupported,
    /// The attribute is not on the object (KMIP 2.x; Item Not Found in 1.x).
    AttributeNotFound,
    /// The client may not change the attribute (KMIP 2.x; Permission Denied in 1.x).
    AttributeReadOnly,
    /// The attribute holds one value and already has it (KMIP 2.x; Invalid
    /// Field in 1.x).
    AttributeSingleValued,
    /// The attribute is not one this server can set (KMIP 2.x; Invalid Field in 1.x).
    UnsupportedAttribute,
    /// The Encoding Option asked for is not supported.
    EncodingOptionError,
    /// The wrapping key does not exist or the caller may not see it (KMIP 2.x;
    /// Item Not Found in 1.x).
    WrappingObjectNotFound,
    /// The server failed; the operation did not take effect.
    GeneralFailure,
}

impl ResultReason {
    /// The enumeration value on the wire.
    #[must_use]
    pub fn code(self) -> u32 {
        match self {
            ResultReason::ItemNotFound => 0x01,
            ResultReason::AuthenticationNotSuccessful => 0x03,
            ResultReason::InvalidMessage => 0x04,
            ResultReason::OperationNotSupported => 0x05,
            ResultReason::MissingData => 0x06,
            ResultReason::InvalidField => 0x07,
            ResultReason::FeatureNotSupported => 0x08,
            ResultReason::CryptographicFailure => 0x0A,
            ResultReason::ObjectDestroyed => 0x36,
            ResultReason::IncompatibleCryptographicUsageMask => 0x29,
            ResultReason::NonUniqueNameAttribute => 0x35,
            ResultReason::Sensitive => 0x16,
            ResultReason::UsageLimitExceeded => 0x1A,
            // KMIP 1.x has no Wrong Key Lifecycle State; `code_for` maps it.
            ResultReason::WrongKeyLifecycleState => 0x43,
            ResultReason::PermissionDenied => 0x0C,
            ResultReason::ObjectAlreadyExists => 0x18,
            ResultReason::KeyFormatTypeNotSupported => 0x10,
            ResultReason::EncodingOptionError => 0x12,
            ResultReason::UnsupportedAttribute => 0x1F,
            ResultReason::WrappingObjectNotFound => 0x42,
            ResultReason::AttributeNotFound => 0x21,
            ResultReason::AttributeReadOnly => 0x22,
            ResultReason::AttributeSingleValued => 0x23,
            ResultReason::GeneralFailure => 0x100,
        }
    }

    /// The enumeration value for a response in protocol `version`.
    ///
    /// KMIP 1.x lacks the 2.x reasons: a state refusal is Permission Denied
    /// there (as the OASIS KMIP 1.4 test cases answer it), a missing
    /// attribute or wrapping key Item Not Found, a read-only attribute or a
    /// Sensitive object Permission Denied, the other attribute refusals
    /// Invalid Field. A missing or destroyed object is Object Not Found or
    /// Object Destroyed in 2.1 (as the OASIS KMIP 2.1 test cases answer),
    /// and Item Not Found in 1.x and 2.0, which is what their clients
    /// check (PyKMIP's suite, in 1.2 and 2.0).
    #[must_use]
    pub fn code_for(self, version: ProtocolVersion) -> u32 {
        let before_2_1 = version < ProtocolVersion { major: 2, minor: 1 };
        match self {
            ResultReason::ItemNotFound if !before_2_1 => 0x37,
            ResultReason::ObjectDestroyed if before_2_1 => 0x01,
            _ if version.major >= 2 => self.code(),
            ResultReason::WrongKeyLifecycleState
            | ResultReason::AttributeReadOnly
            | ResultReason::Sensitive => 0x0C,
            ResultReason::AttributeNotFound | ResultReason::WrappingObjectNotFound => 0x01,
            ResultReason::AttributeSingleValued
            | ResultReason::UnsupportedAttribute
            | ResultReason::NonUniqueNameAttribute => 0x07,
            other => other.code(),
        }
    }
}

/// Why one batch item failed: a result reason and a message for the client.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct KmipError {
    /// The KMIP result reason.
    pub reason: ResultReason,
    /// What failed and what the client can do.
    pub message: String,
}

impl KmipError {
    /// A failure with this reason and message.
    pub fn new(reason: ResultReason, message: impl Into<String>) -> KmipError {
        KmipError {
            reason,
            message: message.into(),
        }
    }

    /// A required field is missing.
    pub fn missing(what: &str) -> KmipError {
        KmipError::new(
            ResultReason::MissingData,
            format!("the request payload has no {what}"),
        )
    }

    /// A field has the wrong type or value.
    pub fn invalid(message: impl Into<String>) -> KmipError {
        KmipError::new(ResultReason::InvalidField, message)
    }

    /// The one mapping from keystore failures to KMIP result reasons.
    #[must_use]
    pub fn from_keystore(error: &KeystoreError) -> KmipError {
        let reason = match error {
            KeystoreError::NotFound { .. } => ResultReason::ItemNotFound,
            KeystoreError::NameTaken { .. } => ResultReason::ObjectAlreadyExists,
            KeystoreError::WrongState { .. } => ResultReason::WrongKeyLifecycleState,
            KeystoreError::InvalidName(_) | KeystoreError::InvalidArgument(_) => {
                ResultReason::InvalidField
            }
            KeystoreError::InvalidPolicy(_) => ResultReason::InvalidField,
            KeystoreError::PolicyExists { .. } => ResultReason::ObjectAlreadyExists,
            KeystoreError::VolumeHeld { .. } => ResultReason::PermissionDenied,
            KeystoreError::Store(StoreError::NameTaken { .. }) => ResultReason::ObjectAlreadyExists,
            KeystoreError::NotInitialized
            | KeystoreError::AlreadyInitialized
            | KeystoreError::Sealed
            | KeystoreError::Seal(_)
            | KeystoreError::Unwrap { .. }
            | KeystoreError::Store(_) => ResultReason::GeneralFailure,
        };
        KmipError::new(reason, error.to_string())
    }
}
