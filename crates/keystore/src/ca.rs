//! The built-in CA as every server of a cluster shares it: its certificate and
//! the bundle nodes pin, in the clear (they are public), and its private key
//! wrapped under the root key, so that any unsealed server signs node
//! certificates with the same CA and a rotation made on one server reaches
//! the others. A single server keeps it here too, so that a backup carries it.
//!
//! The key's wrapping is bound to the certificate (its SHA-256 is in the
//! associated data), and a root rotation re-wraps it with the tenant keys.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::caller::{Caller, event};
use crate::error::KeystoreError;
use crate::secret::{Key256, SecretBytes};
use crate::service::{Keystore, ROOT_EPOCH};
use crate::store::{StoreError, Write};
use crate::wrap;

/// System key of the CA's public half ([`StoredCa`] as JSON).
pub(crate) const CA_PUBLIC: &str = "ca.public";

/// System key of the CA's private key (PEM), wrapped under the root.
pub(crate) const CA_KEY: &str = "ca.key";

/// The CA's public half as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCa {
    /// 1 for the first CA stored, one more at every rotation.
    pub generation: u64,
    /// The CA certificate (PEM) that signs from now on.
    pub cert_pem: String,
    /// The bundle nodes pin (PEM): this CA first, then the one before it.
    pub bundle_pem: String,
    /// The new root signed by the previous one, after a rotation (PEM).
    pub cross_pem: Option<String>,
}

/// The associated data the CA key is wrapped with: bound to its certificate.
fn key_aad(cert_pem: &str) -> Vec<u8> {
    format!(
        "cryptainer-ca-key-v1:{}",
        hex::encode(Sha256::digest(cert_pem.as_bytes()))
    )
    .into_bytes()
}

fn decode(bytes: &[u8]) -> Result<StoredCa, KeystoreError> {
    serde_json::from_slice(bytes).map_err(|error| {
        KeystoreError::Store(StoreError::Corrupt {
            what: "stored CA",
            detail: error.to_string(),
        })
    })
}

/// The CA key wrapped under `old_root`, wrapped under `new_root` instead (a
/// root rotation); `public` is the stored [`CA_PUBLIC`] value it belongs to.
pub(crate) fn rewrap_ca_key(
    old_root: &Key256,
    new_root: &Key256,
    wrapped: &[u8],
    public: &[u8],
) -> Result<Vec<u8>, KeystoreError> {
    let stored = decode(public)?;
    let aad = key_aad(&stored.cert_pem);
    let key = wrap::unwrap(old_root, wrapped, &aad).map_err(|source| KeystoreError::Unwrap {
        what: "the CA key".to_owned(),
        source,
    })?;
    wrap::wrap(new_root, key.expose_secret(), &aad).map_err(|source| KeystoreError::Unwrap {
        what: "the CA key".to_owned(),
        source,
    })
}

impl Keystore {
    /// The CA's public half, if a server stored one (readable while sealed).
    pub fn stored_ca(&self) -> Result<Option<StoredCa>, KeystoreError> {
        self.store
            .get_system(CA_PUBLIC)?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// The private key (PEM) of the stored CA `ca`, unwrapped; needs the
    /// server unsealed.
    pub fn stored_ca_key(&self, ca: &StoredCa) -> Result<SecretBytes, KeystoreError> {
        let wrapped = self
            .store
            .get_system(CA_KEY)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "stored CA",
                detail: "the CA's certificate is stored without its key".to_owned(),
            })?;
        self.with_root(|root| {
            wrap::unwrap(root, &wrapped, &key_aad(&ca.cert_pem)).map_err(|source| {
                KeystoreError::Unwrap {
                    what: "the CA key".to_owned(),
                    source,
                }
            })
        })
    }

    /// Stores `ca` and its private key `key_pem` (wrapped under the root),
    /// audited as `operation`, if the stored CA is still generation
    /// `replaces` (`None`: no CA stored yet); otherwise refused as stale
    /// (another server stored or rotated it first).
    pub fn put_ca(
        &self,
        caller: &Caller,
        operation: &str,
        ca: &StoredCa,
        key_pem: &SecretBytes,
        replaces: Option<u64>,
    ) -> Result<(), KeystoreError> {
        let current = self.store.get_system(CA_PUBLIC)?;
        let current_generation = current
            .as_deref()
            .map(decode)
            .transpose()?
            .map(|stored| stored.generation);
        if current_generation != replaces {
            return Err(KeystoreError::Store(StoreError::Stale {
                what: "the CA".to_owned(),
            }));
        }
        let public = serde_json::to_vec(ca).map_err(|error| StoreError::Corrupt {
            what: "stored CA",
            detail: error.to_string(),
        })?;
        let (wrapped, root_epoch) = self.with_root_epoch(|root, epoch| {
            let wrapped = wrap::wrap(root, key_pem.expose_secret(), &key_aad(&ca.cert_pem))
                .map_err(|source| KeystoreError::Unwrap {
                    what: "the CA key".to_owned(),
                    source,
                })?;
            Ok((wrapped, epoch.map(<[u8]>::to_vec)))
        })?;
        let fingerprint = hex::encode(Sha256::digest(ca.cert_pem.as_bytes()));
        self.store.commit(
            vec![
                Write::ExpectSystem {
                    name: CA_PUBLIC.to_owned(),
                    value: current,
                },
                Write::ExpectSystem {
                    name: ROOT_EPOCH.to_owned(),
                    value: root_epoch,
                },
                Write::PutSystem {
                    name: CA_PUBLIC.to_owned(),
                    value: public,
                },
                Write::PutSystem {
                    name: CA_KEY.to_owned(),
                    value: wrapped,
                },
            ],
            event(caller, operation, None, Some(&format!("ca:{fingerprint}"))),
        )?;
        Ok(())
    }
}
