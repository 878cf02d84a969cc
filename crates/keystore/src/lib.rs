//! The key hierarchy of Cryptainer: a sealed root key, one key-encryption key per
//! tenant, and every stored object wrapped under its tenant key.
//!
//! ```text
//! seal (Shamir shares | passphrase | PKCS#11 token | TPM 2.0 | remote KMIP key)
//!   └─ root key (256-bit, only in memory while unsealed)
//!        └─ tenant key, per tenant and version (stored wrapped by the root)
//!             └─ object material, per object and version (stored wrapped by the tenant key)
//! ```
//!
//! Nothing here knows HTTP or KMIP; the server maps requests onto [`Keystore`].
//!
//! The storage layer is private: callers read and change state only through
//! [`Keystore`]'s typed methods, which wrap material before anything reaches a
//! backend. Outside this crate a write cannot be built, and the store cannot
//! be reached:
//!
//! ```compile_fail,E0603
//! let write = keystore::store::Write::EraseVersions { object_id: String::new() };
//! ```
//!
//! ```compile_fail,E0599
//! fn reach(keystore: &keystore::Keystore) {
//!     let _store = keystore.store();
//! }
//! ```
#![forbid(unsafe_code)]
// A private storage type in a public signature would hand the store out:
// refused at compile time, not only by review.
#![deny(private_interfaces, private_bounds)]

mod activation;
mod audit_log;
pub mod backup;
mod backups;
mod ca;
mod caller;
mod durable;
mod error;
mod journal;
pub mod model;
mod nodes;
pub mod object;
mod objects;
mod policies;
mod release;
pub mod seal;
mod sealing;
pub mod secret;
mod secrets;
mod service;
pub mod shamir;
mod store;
#[cfg(test)]
mod tests;
mod tokens;
mod undo;
mod volumes;
pub mod wrap;

pub use nodes::NODE_OWNER_LABEL;
pub use release::{
    ClaimedWorkload, Denial, GrantBasis, MAX_WORKLOADS, ReleaseDecision, SecretRelease,
    UNNAMED_WORKLOAD, VolumeRelease,
};

pub use ca::StoredCa;
pub use caller::{Caller, NODE_PRINCIPAL_PREFIX, TenantScope};
pub use durable::{Awaiting, Durable};
pub use error::KeystoreError;
pub use objects::{Found, NewHalf};
pub use sealing::{CRASH_AT_ENV, Migration, SealDetails};
pub use secrets::MAX_SECRET_BYTES;
pub use service::{Initialized, Keystore, SealChoice, Status};
pub use store::{Generations, StoreError};
pub use volumes::{MAX_LEASE_SECS, MAX_VOLUME_BYTES, MIN_VOLUME_BYTES, NewVolume};
