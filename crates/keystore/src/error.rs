//! What the key manager can refuse or fail with: one error type for every
//! operation, which the server and kmip map, each once and by name.

use crate::object::{InvalidName, State};
use crate::seal::SealError;
use crate::store::StoreError;
use crate::wrap::WrapError;

/// What the key manager can refuse or fail with.
#[derive(Debug, thiserror::Error)]
// Not `#[non_exhaustive]`: the server and kmip map every variant by name, so a
// new one is a compile error there instead of a silent 500 or General Failure.
pub enum KeystoreError {
    /// The server has never been initialized.
    #[error("the key manager is not initialized; run `cryptainer operator init`")]
    NotInitialized,
    /// Initialization was already done.
    #[error("the key manager is already initialized")]
    AlreadyInitialized,
    /// The root key is sealed.
    #[error("the key manager is sealed; unseal it with `cryptainer operator unseal`")]
    Sealed,
    /// No such object (or not visible to the caller).
    #[error("no {what} '{reference}'")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id or name given.
        reference: String,
    },
    /// A name is already used by a live object.
    #[error(
        "an object named '{name}' already exists in tenant '{tenant}'; choose another name or destroy the old one"
    )]
    NameTaken {
        /// Tenant.
        tenant: String,
        /// Name.
        name: String,
    },
    /// The operation is not allowed in the object's state.
    #[error("cannot {operation} object {id}: it is {state}; {hint}")]
    WrongState {
        /// The object.
        id: String,
        /// What was attempted.
        operation: &'static str,
        /// Its state.
        state: State,
        /// What to do instead.
        hint: &'static str,
    },
    /// Another holder has the volume and its lease has not lapsed.
    #[error(
        "volume '{name}' is in use on {holder} until {until}; stop its containers there, or wait for the lease to lapse if that host is gone"
    )]
    VolumeHeld {
        /// The volume.
        name: String,
        /// Who holds it.
        holder: String,
        /// When the lease lapses unless renewed (RFC 3339).
        until: String,
    },
    /// A name, tenant or label was refused.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    /// A policy was refused (it grants everyone, or nothing, or holds a bad
    /// digest or name).
    #[error(transparent)]
    InvalidPolicy(#[from] policy::PolicyError),
    /// A policy of this name already exists in the tenant.
    #[error(
        "a policy named '{name}' already exists in tenant '{tenant}'; remove it first or choose another name"
    )]
    PolicyExists {
        /// Tenant.
        tenant: String,
        /// Name.
        name: String,
    },
    /// Another argument was refused.
    #[error("{0}")]
    InvalidArgument(String),
    /// Unseal material was refused, or the seal failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// Stored wrapped material did not open (the database was altered or belongs to
    /// another root key), or material could not be wrapped.
    #[error("key material of {what} cannot be wrapped or unwrapped: {source}")]
    Unwrap {
        /// Which object or tenant key.
        what: String,
        /// Why.
        source: WrapError,
    },
    /// The store failed; the operation did not take effect.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A store refusal of a name as the key manager answers it; any other
/// failure as is.
pub(crate) fn name_taken_or_store(error: StoreError) -> KeystoreError {
    match error {
        StoreError::NameTaken { tenant, name } => KeystoreError::NameTaken { tenant, name },
        other => other.into(),
    }
}
