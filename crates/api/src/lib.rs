//! The HTTPS wire contract of the Cryptainer server, owned in one place: every
//! request and answer body (one module per resource), every route
//! ([`routes`]), the error answer and its codes ([`error`]), and a typed client
//! (`client::HttpsClient`, and `node::NodeApi`, the calls a node makes; the
//! `client` feature, on by default: the server uses the shapes without it).
//! The server's handlers, the agent and the CLI all use these types, so a
//! shape is written once; docs/api.md describes them for people.
//!
//! Secrets on the wire (key material, secret values, unseal and recovery
//! shares, passphrases, tokens) are [`secret::SecretString`]s: wiped on drop,
//! without `Debug`, `Clone` or serde of their own. Request bodies are encoded into buffers of exactly
//! their size that are wiped once sent, and answers are read into buffers
//! wiped when dropped ([`buffer`]).
//!
//! This crate knows nothing of HTTP servers, storage or keys.
#![forbid(unsafe_code)]

#[macro_use]
mod macros;

pub mod audit;
pub mod buffer;
#[cfg(feature = "client")]
pub mod client;
pub mod endpoint;
pub mod error;
pub mod fleet;
pub mod keys;
pub mod kmip;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
#[cfg(feature = "client")]
pub mod node;
pub mod nodes;
pub mod policies;
pub mod routes;
pub mod seal;
pub mod secret;
pub mod secrets;
pub mod sys;
pub mod tokens;
pub mod volumes;

#[cfg(feature = "client")]
pub use client::{
    Answer, CaRoots, CaRootsError, ClientError, ClientSettings, HttpsClient, Servers, Transport,
    Unreachable, Url,
};
pub use endpoint::{
    Endpoint, Method, ObjectQuery, ObjectRef, Request, RequestError, TenantQuery, encode_json,
};
pub use error::{ErrorBody, ErrorCode};
#[cfg(feature = "client")]
pub use node::{ApiFuture, NodeApi};
pub use secret::SecretString;

#[cfg(test)]
mod tests;
