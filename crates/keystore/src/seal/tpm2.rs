//! What a TPM 2.0 seal stores beside the sealed root: the sealed data object
//! (its public and private areas, as the TPM marshalled them) that holds the
//! unseal key under the storage hierarchy's primary key, and the PCRs its policy
//! binds it to. The TPM itself is driven by the `seals` crate.

use serde::{Deserialize, Serialize};

use super::SealIdentity;
use super::base64_bytes;

/// Public parameters of a TPM 2.0 seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tpm2Params {
    /// The SHA-256 PCRs whose values the object's policy requires (empty: no
    /// PCR policy, the object opens on this TPM whatever booted).
    pub pcrs: Vec<u8>,
    /// The sealed object's public area (a marshalled `TPM2B_PUBLIC`).
    #[serde(with = "base64_bytes")]
    pub public: Vec<u8>,
    /// The sealed object's private area, encrypted by the TPM under its parent
    /// (a marshalled `TPM2B_PRIVATE`): useless on any other TPM.
    #[serde(with = "base64_bytes")]
    pub private: Vec<u8>,
}

impl Tpm2Params {
    /// The TPM and PCR selection, for status and audit.
    pub fn identity(&self) -> SealIdentity {
        let pcrs = if self.pcrs.is_empty() {
            "none".to_owned()
        } else {
            self.pcrs
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        SealIdentity {
            // The TPM is the machine's own; its TCTI is configuration, not identity.
            token: None,
            key: Some(format!("pcrs={pcrs}")),
            mechanism: Some("sealed-data".to_owned()),
        }
    }
}
