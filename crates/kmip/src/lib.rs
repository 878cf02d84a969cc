//! KMIP requests and responses over the Cryptainer keystore.
//!
//! This crate reads KMIP request messages out of a [`ttlv::Item`] tree, runs each
//! batch item against a [`keystore::Keystore`] on behalf of a [`Session`] (who is
//! asking and which tenants they may see), and builds the response tree in the
//! protocol version the request used (1.0 to 2.1). It knows nothing of sockets,
//! HTTP or SQL: the `server` crate frames bytes and authenticates the peer.
//!
//! A request never makes this crate panic: a malformed message gets a response
//! with result reason Invalid Message, a malformed payload Invalid Field, an
//! unknown operation Operation Not Supported. [`error::KmipError::from_keystore`]
//! is the one place keystore failures become KMIP result reasons.
#![forbid(unsafe_code)]

mod asymmetric;
pub mod attributes;

/// The parsers of the key and certificate bytes a client registers (untrusted
/// input), public for the fuzz targets.
pub mod import {
    pub use crate::asymmetric::{import_certificate, import_private, import_public};
    pub use crate::inspect::{KeyFacts, private_key_facts, public_key_facts};
}
mod aead;
mod crypto;
pub mod custom;
mod derive;
pub mod error;
mod inspect;
pub mod message;
mod operations;

pub use error::{KmipError, ResultReason};
pub use message::{
    Answer, ProtocolVersion, Response, SUPPORTED_VERSIONS, Work, answer, handle_bytes, handle_json,
    handle_message, refusal,
};
pub use operations::{Rights, Session};

/// KMIP Operation enumeration values (KMIP 2.1 section 11.36).
pub mod operation {
    /// Create.
    pub const CREATE: u32 = 0x01;
    /// Create Key Pair.
    pub const CREATE_KEY_PAIR: u32 = 0x02;
    /// Register.
    pub const REGISTER: u32 = 0x03;
    /// Re-key.
    pub const REKEY: u32 = 0x04;
    /// Derive Key.
    pub const DERIVE_KEY: u32 = 0x05;
    /// Locate.
    pub const LOCATE: u32 = 0x08;
    /// Add Attribute.
    pub const ADD_ATTRIBUTE: u32 = 0x0D;
    /// Modify Attribute.
    pub const MODIFY_ATTRIBUTE: u32 = 0x0E;
    /// Delete Attribute.
    pub const DELETE_ATTRIBUTE: u32 = 0x0F;
    /// Get.
    pub const GET: u32 = 0x0A;
    /// Get Attributes.
    pub const GET_ATTRIBUTES: u32 = 0x0B;
    /// Get Attribute List.
    pub const GET_ATTRIBUTE_LIST: u32 = 0x0C;
    /// Activate.
    pub const ACTIVATE: u32 = 0x12;
    /// Revoke.
    pub const REVOKE: u32 = 0x13;
    /// Destroy.
    pub const DESTROY: u32 = 0x14;
    /// Query.
    pub const QUERY: u32 = 0x18;
    /// Discover Versions.
    pub const DISCOVER_VERSIONS: u32 = 0x1E;
    /// Encrypt.
    pub const ENCRYPT: u32 = 0x1F;
    /// Decrypt.
    pub const DECRYPT: u32 = 0x20;
    /// Sign.
    pub const SIGN: u32 = 0x21;
    /// Signature Verify.
    pub const SIGNATURE_VERIFY: u32 = 0x22;
    /// MAC.
    pub const MAC: u32 = 0x23;
    /// MAC Verify.
    pub const MAC_VERIFY: u32 = 0x24;
    /// RNG Retrieve.
    pub const RNG_RETRIEVE: u32 = 0x25;
    /// Re-key Key Pair.
    pub const REKEY_KEY_PAIR: u32 = 0x1D;
    /// Set Attribute (KMIP 2.0).
    pub const SET_ATTRIBUTE: u32 = 0x31;
    /// Check.
    pub const CHECK: u32 = 0x09;
    /// Log (KMIP 2.0).
    pub const LOG: u32 = 0x2C;
    /// Interop (KMIP 2.0): answered only by test sessions (see
    /// [`crate::Session::interop_tests`]).
    pub const INTEROP: u32 = 0x34;

    /// Every operation this server answers, in the order Query lists them.
    pub const SUPPORTED: &[u32] = &[
        DISCOVER_VERSIONS,
        QUERY,
        CREATE,
        CREATE_KEY_PAIR,
        REGISTER,
        REKEY,
        REKEY_KEY_PAIR,
        DERIVE_KEY,
        LOCATE,
        GET,
        GET_ATTRIBUTES,
        GET_ATTRIBUTE_LIST,
        ADD_ATTRIBUTE,
        MODIFY_ATTRIBUTE,
        DELETE_ATTRIBUTE,
        SET_ATTRIBUTE,
        ACTIVATE,
        REVOKE,
        DESTROY,
        ENCRYPT,
        DECRYPT,
        SIGN,
        SIGNATURE_VERIFY,
        MAC,
        MAC_VERIFY,
        RNG_RETRIEVE,
        CHECK,
        LOG,
    ];
}
