//! The key hierarchy of Cryptainer: a sealed root key, one key-encryption key per
//! tenant, and every stored object wrapped under its tenant key.
//!
//! ```text
//! seal (Shamir shares | passphrase | HSM later)
//!   └─ root key (256-bit, only in memory while unsealed)
//!        └─ tenant key, per tenant and version (stored wrapped by the root)
//!             └─ object material, per object and version (stored wrapped by the tenant key)
//! ```
//!
//! Nothing here knows HTTP or KMIP; the server maps requests onto [`Keystore`].
#![forbid(unsafe_code)]

mod activation;
pub mod journal;
mod nodes;
pub mod object;
mod policies;
pub mod seal;
pub mod secret;
mod secrets;
mod service;
pub mod shamir;
pub mod store;
mod undo;
mod volumes;
pub mod wrap;

pub use nodes::NODE_OWNER_LABEL;

pub use secrets::MAX_SECRET_BYTES;
pub use service::{
    Awaiting, Caller, Durable, Found, Initialized, Keystore, KeystoreError, NewHalf, SealChoice,
    Status, TenantScope,
};
pub use volumes::{MAX_LEASE_SECS, MAX_VOLUME_BYTES, MIN_VOLUME_BYTES, NewVolume};
