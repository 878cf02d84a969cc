//! API errors: one stable code per failure ([`api::ErrorCode`]), mapped once from
//! the library errors, and rendered as `{"error": {"code": ..., "message": ...}}`
//! ([`api::ErrorBody`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keystore::KeystoreError;
use keystore::StoreError;
use keystore::seal::SealError;

/// The stable error codes of the API: the wire contract's own
/// ([`api::ErrorCode`], with its spelling and HTTP status).
pub use api::ErrorCode as Code;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    /// Stable code.
    pub code: Code,
    /// What failed and what to do, for people.
    pub message: String,
    /// Whether the failure is already in the audit log (the store recorded it).
    pub audited: bool,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            audited: false,
        }
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::BadRequest, message)
    }
}

impl From<KeystoreError> for ApiError {
    fn from(error: KeystoreError) -> ApiError {
        let code = match &error {
            KeystoreError::NotInitialized => Code::NotInitialized,
            KeystoreError::AlreadyInitialized => Code::Conflict,
            KeystoreError::Sealed => Code::Sealed,
            KeystoreError::NotFound { .. } => Code::NotFound,
            KeystoreError::NameTaken { .. } => Code::Conflict,
            KeystoreError::WrongState { .. } => Code::Conflict,
            KeystoreError::InvalidName(_)
            | KeystoreError::InvalidArgument(_)
            | KeystoreError::InvalidPolicy(_) => Code::BadRequest,
            KeystoreError::PolicyExists { .. } => Code::Conflict,
            KeystoreError::Seal(seal) => seal_code(seal),
            KeystoreError::Unwrap { .. } => Code::Internal,
            KeystoreError::VolumeHeld { .. } => Code::Conflict,
            KeystoreError::Store(store) => store_code(store),
        };
        if code == Code::Internal {
            tracing::error!(error = %error, "request failed inside the key manager");
        }
        // A refused commit was audited with its failure by the store; a store
        // failure could not be audited at all.
        let audited = matches!(
            error,
            KeystoreError::NameTaken { .. } | KeystoreError::Store(_)
        );
        ApiError {
            code,
            message: error.to_string(),
            audited,
        }
    }
}

fn store_code(error: &StoreError) -> Code {
    match error {
        StoreError::NameTaken { .. }
        | StoreError::Stale { .. }
        | StoreError::TenantKeyChanged { .. } => Code::Conflict,
        StoreError::Unavailable { .. } => Code::Unavailable,
        // A backup that could not be written to its reader is the server's
        // failure; one refused at a restore is the request's.
        StoreError::Backup(keystore::backup::BackupError::Io(_)) => Code::Internal,
        StoreError::Backup(_) => Code::BadRequest,
        // A group that failed because the database went away is as
        // unavailable as any of its commits.
        StoreError::GroupCommit { source } => store_code(source),
        StoreError::Database { .. }
        | StoreError::OutcomeUnknown { .. }
        | StoreError::Corrupt { .. }
        | StoreError::AuditLogBehind { .. }
        | StoreError::WriterStopped
        | StoreError::Unsupported { .. }
        | StoreError::DataDir { .. }
        | StoreError::Config(_) => Code::Internal,
    }
}

fn seal_code(error: &SealError) -> Code {
    match error {
        SealError::WrongUnsealMaterial | SealError::WrongRecoveryShares => {
            Code::WrongUnsealMaterial
        }
        SealError::DeviceUnavailable { .. } => Code::SealUnavailable,
        SealError::DeviceRefused { .. } => Code::SealRefused,
        SealError::RecoveryRequired { .. } | SealError::NoRecoveryShares { .. } => Code::BadRequest,
        SealError::SameKind { .. }
        | SealError::NoPendingMigration
        | SealError::MigrationPending { .. } => Code::Conflict,
        // What the caller sent is wrong: a share, a passphrase, a parameter.
        SealError::PassphraseTooShort { .. }
        | SealError::InvalidShareConfig { .. }
        | SealError::CombineShares { .. }
        | SealError::ShareNotBase64 { .. }
        | SealError::ShareWrongLength { .. }
        | SealError::ShareChecksumMismatch
        | SealError::UnknownShareVersion { .. }
        | SealError::MalformedShare { .. }
        | SealError::ShareFromDifferentServer { .. }
        | SealError::ShareThresholdMismatch { .. }
        | SealError::DuplicateShare { .. }
        | SealError::ThresholdNotReached { .. }
        | SealError::KindMismatch { .. }
        | SealError::Argon2ParamsOutOfRange { .. } => Code::BadRequest,
        SealError::ThresholdAlreadyReached => Code::Conflict,
        // The stored sealed root or this machine failed, not the request.
        SealError::InconsistentSealedRoot { .. }
        | SealError::CorruptSealedRoot { .. }
        | SealError::RootKeyWrongLength { .. }
        | SealError::WrapRoot { .. }
        | SealError::KeyDerivation { .. }
        | SealError::OutOfMemory { .. } => Code::Internal,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = api::ErrorBody::new(self.code, self.message);
        (status, axum::Json(body)).into_response()
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file could not be read or parsed.
    #[error("cannot read the configuration {path}: {detail}")]
    Config {
        /// The file.
        path: std::path::PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// A configuration value was refused.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The key manager could not be opened.
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// TLS material could not be made or loaded.
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}; is another server running there?")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Another server (or a migration) uses the data directory.
    #[error(
        "another Cryptainer server (or an operator migrate) uses {path}; stop it first, or give \
         this one a data directory of its own"
    )]
    DataDirInUse {
        /// The directory.
        path: std::path::PathBuf,
    },
    /// A file in the data directory could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
