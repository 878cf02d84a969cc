//! What a PKCS#11 seal stores beside the sealed root: which token and key
//! protect the unseal key, by which mechanism, and the unseal key as the token
//! encrypted it. The token itself is driven by the `seals` crate.

use serde::{Deserialize, Serialize};

use super::SealIdentity;
use super::base64_bytes;

/// How the token's AES key protects the unseal key. The seal probes the token's
/// mechanism list and takes the first it supports, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pkcs11Mechanism {
    /// `CKM_AES_GCM` (C_Encrypt / C_Decrypt), 96-bit IV, 128-bit tag, the
    /// associated data binding the result to this use.
    AesGcm,
    /// `CKM_AES_KEY_WRAP_PAD` (RFC 5649), by C_Encrypt where the token allows it,
    /// otherwise by C_WrapKey of a session key holding the unseal key.
    AesKeyWrapPad,
}

impl Pkcs11Mechanism {
    /// The name used in configuration, status and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Pkcs11Mechanism::AesGcm => "aes-gcm",
            Pkcs11Mechanism::AesKeyWrapPad => "aes-key-wrap-pad",
        }
    }
}

/// Public parameters of a PKCS#11 seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pkcs11Params {
    /// The label of the token holding the key (`CKA_LABEL` of the token).
    pub token_label: String,
    /// The token's serial number, to tell a replaced token apart in logs.
    pub token_serial: String,
    /// The label of the AES key (`CKA_LABEL`).
    pub key_label: String,
    /// The key's `CKA_ID`, hex.
    pub key_id: String,
    /// The mechanism that protected the unseal key.
    pub mechanism: Pkcs11Mechanism,
    /// The GCM initialization vector (empty for key wrap).
    #[serde(with = "base64_bytes")]
    pub iv: Vec<u8>,
    /// The unseal key as the token encrypted it (GCM: ciphertext and tag).
    #[serde(with = "base64_bytes")]
    pub sealed_key: Vec<u8>,
}

impl Pkcs11Params {
    /// The token, key and mechanism, for status and audit.
    pub fn identity(&self) -> SealIdentity {
        SealIdentity {
            token: Some(self.token_label.clone()),
            key: Some(self.key_label.clone()),
            mechanism: Some(self.mechanism.as_str().to_owned()),
        }
    }
}
