//! The `[seal]` table of the server's configuration: which seal protects the
//! root key and, for a device seal, how to reach the device. PINs and
//! passwords are never in it: only the variable or file that holds them.
//!
//! ```toml
//! [seal]
//! kind = "pkcs11"                      # or "tpm2", "kmip", "shamir", "passphrase"
//! module = "/usr/lib/softhsm/libsofthsm2.so"
//! token_label = "cryptainer"
//! key_label = "cryptainer-root-wrap"
//! pin_env = "CRYPTAINER_HSM_PIN"
//! ```

use std::sync::Arc;

use keystore::seal::{Seal, SealKind};
use serde::Deserialize;

use crate::error::DeviceError;
use crate::kmip::{KmipConfig, KmipSeal};
use crate::pkcs11::{Pkcs11Config, Pkcs11Seal};
use crate::tpm2::{Tpm2Config, Tpm2Seal};

/// The seal a server is configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SealConfig {
    /// Unseal shares held by people (the default).
    Shamir,
    /// An operator's passphrase (Argon2id).
    Passphrase,
    /// A PKCS#11 token.
    Pkcs11(Pkcs11Config),
    /// The machine's TPM 2.0.
    Tpm2(Tpm2Config),
    /// Another KMIP key manager.
    Kmip(KmipConfig),
}

impl SealConfig {
    /// The kind configured.
    pub fn kind(&self) -> SealKind {
        match self {
            SealConfig::Shamir => SealKind::Shamir,
            SealConfig::Passphrase => SealKind::Passphrase,
            SealConfig::Pkcs11(_) => SealKind::Pkcs11,
            SealConfig::Tpm2(_) => SealKind::Tpm2,
            SealConfig::Kmip(_) => SealKind::Kmip,
        }
    }

    /// The automatic seal this configuration describes, ready to use (its PIN
    /// or client key read); `None` for the manual kinds. Touches no device:
    /// a device that is absent at start is the server's to wait for.
    pub fn open(&self) -> Result<Option<Arc<dyn Seal>>, DeviceError> {
        Ok(match self {
            SealConfig::Shamir | SealConfig::Passphrase => None,
            SealConfig::Pkcs11(config) => Some(Arc::new(Pkcs11Seal::new(config.clone())?)),
            SealConfig::Tpm2(config) => Some(Arc::new(Tpm2Seal::new(config.clone()))),
            SealConfig::Kmip(config) => Some(Arc::new(KmipSeal::new(config.clone())?)),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, Deserialize)]
    struct File {
        seal: SealConfig,
    }

    fn parse(text: &str) -> Result<SealConfig, String> {
        toml::from_str::<File>(text)
            .map(|file| file.seal)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn each_kind_parses_and_unknown_keys_are_refused() {
        let pkcs11 = parse(
            "[seal]\nkind = \"pkcs11\"\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\n\
             token_label = \"cryptainer\"\npin_env = \"CRYPTAINER_HSM_PIN\"\n",
        )
        .unwrap();
        assert_eq!(pkcs11.kind(), SealKind::Pkcs11);
        let SealConfig::Pkcs11(config) = pkcs11 else {
            unreachable!()
        };
        assert_eq!(config.key_label, "cryptainer-root-wrap");
        assert!(config.mechanism.is_none());
        let tpm2 =
            parse("[seal]\nkind = \"tpm2\"\ntcti = \"swtpm:port=2321\"\npcrs = [0, 7]\n").unwrap();
        assert_eq!(tpm2.kind(), SealKind::Tpm2);
        assert_eq!(
            parse("[seal]\nkind = \"shamir\"\n").unwrap().kind(),
            SealKind::Shamir
        );
        assert!(
            parse(
                "[seal]\nkind = \"pkcs11\"\nmodule = \"m\"\ntoken_label = \"t\"\npin = \"1234\"\n"
            )
            .unwrap_err()
            .contains("unknown field")
        );
        assert!(
            parse("[seal]\nkind = \"hsm\"\n")
                .unwrap_err()
                .contains("unknown variant")
        );
        assert!(parse("[seal]\nkind = \"tpm2\"\npcrs = [24]\n").is_err());
    }
}
