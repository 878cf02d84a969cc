//! The passphrase seal: the unseal key is derived from an operator's passphrase
//! with Argon2id, whose salt and costs are stored with the sealed root.

use std::fmt;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    Seal, SealError, SealKind, SealParams, SealedRoot, base64_bytes, seal_with, unseal_with,
};
use crate::secret::{KEY_LEN, Key256, SecretBytes};

/// The shortest passphrase [`PassphraseSeal`] accepts, in bytes.
pub const MIN_PASSPHRASE_LEN: usize = 12;

/// Length of the random Argon2 salt.
const SALT_LEN: usize = 16;
/// Largest Argon2 memory cost accepted from a stored sealed root, in KiB (4 GiB).
/// The parameters are not authenticated, so a damaged file must not make the
/// server try to allocate unbounded memory.
pub(super) const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// Largest Argon2 time cost (passes) accepted from a stored sealed root.
pub(super) const MAX_ITERATIONS: u32 = 64;
/// Largest Argon2 parallelism accepted from a stored sealed root.
pub(super) const MAX_PARALLELISM: u32 = 64;
/// Salt lengths accepted from a stored sealed root (Argon2 requires at least 8).
pub(super) const MIN_SALT_LEN: usize = 8;
pub(super) const MAX_SALT_LEN: usize = 64;

/// Argon2id cost parameters.
///
/// The defaults are 64 MiB of memory, 3 passes and 1 lane (OWASP's 2023 guidance
/// allows less; unsealing happens rarely, so we spend more). Derivation with the
/// defaults takes a fraction of a second on a server core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Argon2Params {
    /// Memory cost `m` in KiB.
    pub memory_kib: u32,
    /// Time cost `t`: the number of passes over the memory.
    pub iterations: u32,
    /// Degree of parallelism `p` (lanes).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Argon2Params {
        Argon2Params {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    /// Cheap parameters (64 KiB, 1 pass) that make tests fast. They give almost no
    /// protection against guessing; never use them for a real server.
    pub fn insecure_for_tests() -> Argon2Params {
        Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn check_range(&self) -> Result<(), SealError> {
        let out_of_range = |what| Err(SealError::Argon2ParamsOutOfRange { what });
        if self.memory_kib > MAX_MEMORY_KIB {
            return out_of_range("memory");
        }
        if self.iterations > MAX_ITERATIONS {
            return out_of_range("iterations");
        }
        if self.parallelism > MAX_PARALLELISM {
            return out_of_range("parallelism");
        }
        Ok(())
    }
}

/// Public parameters of a passphrase seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassphraseParams {
    /// The random Argon2 salt (base64 in JSON).
    #[serde(with = "base64_bytes")]
    pub salt: Vec<u8>,
    /// The Argon2id costs used to derive the unseal key.
    pub argon2: Argon2Params,
}

/// A seal whose unseal key is derived from a passphrase with Argon2id.
pub struct PassphraseSeal {
    passphrase: SecretBytes,
    argon2: Argon2Params,
    salt: Vec<u8>,
}

impl PassphraseSeal {
    /// Makes a passphrase seal with a fresh random salt. `params` are the costs used
    /// when sealing; unsealing uses the costs stored in the sealed root. Rejects
    /// passphrases shorter than [`MIN_PASSPHRASE_LEN`] bytes.
    pub fn new(passphrase: SecretBytes, params: Argon2Params) -> Result<PassphraseSeal, SealError> {
        if passphrase.len() < MIN_PASSPHRASE_LEN {
            return Err(SealError::PassphraseTooShort {
                actual: passphrase.len(),
                minimum: MIN_PASSPHRASE_LEN,
            });
        }
        params.check_range()?;
        // Let Argon2 check its own lower bounds now rather than at the first seal.
        argon2_params(&params).map_err(|source| SealError::KeyDerivation { source })?;
        let mut salt = vec![0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        Ok(PassphraseSeal {
            passphrase,
            argon2: params,
            salt,
        })
    }

    /// Makes the seal that unseals `sealed`, keeping its salt and Argon2 costs so
    /// that sealing again (after a root key rotation) stores the same parameters.
    /// Refuses a root sealed some other way.
    pub fn from_sealed(
        passphrase: SecretBytes,
        sealed: &SealedRoot,
    ) -> Result<PassphraseSeal, SealError> {
        sealed.check_kind(SealKind::Passphrase)?;
        let SealParams::Passphrase(params) = &sealed.params else {
            return Err(SealError::InconsistentSealedRoot { kind: sealed.kind });
        };
        if passphrase.len() < MIN_PASSPHRASE_LEN {
            return Err(SealError::PassphraseTooShort {
                actual: passphrase.len(),
                minimum: MIN_PASSPHRASE_LEN,
            });
        }
        params.argon2.check_range()?;
        check_salt_len(&params.salt)?;
        Ok(PassphraseSeal {
            passphrase,
            argon2: params.argon2,
            salt: params.salt.clone(),
        })
    }

    /// Makes a passphrase seal with [`Argon2Params::insecure_for_tests`].
    pub fn new_insecure_for_tests(passphrase: SecretBytes) -> Result<PassphraseSeal, SealError> {
        PassphraseSeal::new(passphrase, Argon2Params::insecure_for_tests())
    }

    /// Derives the unseal key from the passphrase with the given salt and costs.
    fn derive_unseal_key(&self, salt: &[u8], costs: &Argon2Params) -> Result<Key256, SealError> {
        costs.check_range()?;
        check_salt_len(salt)?;
        let params = argon2_params(costs).map_err(|source| SealError::KeyDerivation { source })?;
        // Argon2's working memory holds values derived from the passphrase. We
        // allocate it ourselves, fallibly (a failed allocation would abort the
        // process), and wipe it afterwards.
        let block_count = params.block_count();
        let mut blocks: Zeroizing<Vec<Block>> = Zeroizing::new(Vec::new());
        blocks
            .try_reserve_exact(block_count)
            .map_err(|source| SealError::OutOfMemory {
                memory_kib: costs.memory_kib,
                source,
            })?;
        blocks.resize(block_count, Block::default());

        let mut unseal_key = Key256::zeroed();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into_with_memory(
                self.passphrase.expose_secret(),
                salt,
                unseal_key.expose_secret_mut(),
                blocks.as_mut_slice(),
            )
            .map_err(|source| SealError::KeyDerivation { source })?;
        Ok(unseal_key)
    }
}

fn check_salt_len(salt: &[u8]) -> Result<(), SealError> {
    if !(MIN_SALT_LEN..=MAX_SALT_LEN).contains(&salt.len()) {
        return Err(SealError::Argon2ParamsOutOfRange {
            what: "salt length",
        });
    }
    Ok(())
}

fn argon2_params(costs: &Argon2Params) -> Result<Params, argon2::Error> {
    Params::new(
        costs.memory_kib,
        costs.iterations,
        costs.parallelism,
        Some(KEY_LEN),
    )
}

impl Seal for PassphraseSeal {
    fn kind(&self) -> SealKind {
        SealKind::Passphrase
    }

    fn seal_root(&self, root: &Key256) -> Result<SealedRoot, SealError> {
        let unseal_key = self.derive_unseal_key(&self.salt, &self.argon2)?;
        let params = PassphraseParams {
            salt: self.salt.clone(),
            argon2: self.argon2,
        };
        seal_with(&unseal_key, root, SealParams::Passphrase(params))
    }

    fn unseal_root(&self, sealed: &SealedRoot) -> Result<Key256, SealError> {
        sealed.check_kind(SealKind::Passphrase)?;
        let SealParams::Passphrase(params) = &sealed.params else {
            return Err(SealError::InconsistentSealedRoot { kind: sealed.kind });
        };
        let unseal_key = self.derive_unseal_key(&params.salt, &params.argon2)?;
        unseal_with(&unseal_key, sealed)
    }
}

impl fmt::Debug for PassphraseSeal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PassphraseSeal")
            .field("argon2", &self.argon2)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The passphrase `text` as secret bytes.
    pub(crate) fn passphrase(text: &str) -> SecretBytes {
        SecretBytes::from_slice(text.as_bytes())
    }

    #[test]
    fn passphrase_round_trip() {
        let root = Key256::generate();
        let seal =
            PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery")).unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        assert_eq!(sealed.kind, SealKind::Passphrase);
        assert!(seal.unseal_root(&sealed).unwrap().ct_eq(&root));

        // A new seal with the same passphrase (as after a restart) unseals it.
        let restarted =
            PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery")).unwrap();
        assert!(restarted.unseal_root(&sealed).unwrap().ct_eq(&root));
    }

    #[test]
    fn passphrase_round_trip_with_default_costs() {
        // The real 64 MiB allocation and wipe, once.
        let root = Key256::generate();
        let seal =
            PassphraseSeal::new(passphrase("correct horse battery"), Argon2Params::default())
                .unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        assert!(seal.unseal_root(&sealed).unwrap().ct_eq(&root));
    }

    #[test]
    fn wrong_passphrase_is_wrong_unseal_material() {
        let root = Key256::generate();
        let seal =
            PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery")).unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        let wrong =
            PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery!")).unwrap();
        let error = wrong.unseal_root(&sealed).unwrap_err();
        assert!(matches!(error, SealError::WrongUnsealMaterial));
        assert!(error.to_string().contains("check them and try again"));
    }

    #[test]
    fn rejects_short_passphrase() {
        assert!(matches!(
            PassphraseSeal::new_insecure_for_tests(passphrase("elevenbytes")),
            Err(SealError::PassphraseTooShort {
                actual: 11,
                minimum: 12
            })
        ));
        assert!(PassphraseSeal::new_insecure_for_tests(passphrase("twelve bytes")).is_ok());
    }

    #[test]
    fn rejects_argon2_params_out_of_range() {
        let mut params = Argon2Params::insecure_for_tests();
        params.memory_kib = MAX_MEMORY_KIB + 1;
        assert!(matches!(
            PassphraseSeal::new(passphrase("correct horse battery"), params),
            Err(SealError::Argon2ParamsOutOfRange { what: "memory" })
        ));
        let mut params = Argon2Params::insecure_for_tests();
        params.iterations = 0;
        assert!(matches!(
            PassphraseSeal::new(passphrase("correct horse battery"), params),
            Err(SealError::KeyDerivation { .. })
        ));
    }

    #[test]
    fn rejects_tampered_argon2_params_in_sealed_root() {
        let seal =
            PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery")).unwrap();
        let mut sealed = seal.seal_root(&Key256::generate()).unwrap();
        if let SealParams::Passphrase(params) = &mut sealed.params {
            params.argon2.memory_kib = u32::MAX;
        }
        assert!(matches!(
            seal.unseal_root(&sealed),
            Err(SealError::Argon2ParamsOutOfRange { what: "memory" })
        ));
        if let SealParams::Passphrase(params) = &mut sealed.params {
            params.argon2 = Argon2Params::insecure_for_tests();
            params.salt = vec![1, 2, 3];
        }
        assert!(matches!(
            seal.unseal_root(&sealed),
            Err(SealError::Argon2ParamsOutOfRange {
                what: "salt length"
            })
        ));
    }

    #[test]
    fn default_argon2_params_are_documented_values() {
        assert_eq!(
            Argon2Params::default(),
            Argon2Params {
                memory_kib: 65536,
                iterations: 3,
                parallelism: 1
            }
        );
    }
}
