//! What a remote KMIP seal stores beside the sealed root: which key manager
//! and which of its keys protect the unseal key, and how. The KMIP client lives
//! in the `seals` crate; nothing here knows the protocol.

use serde::{Deserialize, Serialize};

use super::SealIdentity;
use super::base64_bytes;

/// How the remote key protects the unseal key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KmipMethod {
    /// The remote server encrypts and decrypts the unseal key (KMIP Encrypt and
    /// Decrypt with AES-GCM); its key never leaves it.
    Encrypt,
    /// The remote server only stores keys: the unseal key is fetched with Get at
    /// every unseal and kept only in memory.
    Get,
}

impl KmipMethod {
    /// The name used in configuration, status and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            KmipMethod::Encrypt => "encrypt",
            KmipMethod::Get => "get",
        }
    }
}

/// Public parameters of a remote KMIP seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmipParams {
    /// The remote server, `host:port`, as configured when the root was sealed.
    pub server: String,
    /// The remote key's Unique Identifier.
    pub key_id: String,
    /// How the remote key is used.
    pub method: KmipMethod,
    /// The AES-GCM IV the remote server used (Encrypt only).
    #[serde(with = "base64_bytes")]
    pub iv: Vec<u8>,
    /// The unseal key as the remote server encrypted it, tag appended (Encrypt
    /// only; with Get the remote key is the unseal key).
    #[serde(with = "base64_bytes")]
    pub sealed_key: Vec<u8>,
}

impl KmipParams {
    /// The server, key and method, for status and audit.
    pub fn identity(&self) -> SealIdentity {
        SealIdentity {
            token: Some(self.server.clone()),
            key: Some(self.key_id.clone()),
            mechanism: Some(self.method.as_str().to_owned()),
        }
    }
}
