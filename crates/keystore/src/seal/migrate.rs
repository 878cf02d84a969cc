//! What a seal migration keeps and what it makes, decided without touching the
//! store: the people's consent is checked against the current sealed root, and
//! the plan says which seal protects the root next, which recovery shares go
//! with it, and which new shares (if any) must reach people before the new seal
//! may replace the old one.
//!
//! The root key does not change, so no tenant key or object is re-encrypted:
//! a migration replaces the one stored sealed root, in one transaction.

use super::passphrase::PassphraseSeal;
use super::recovery::{RecoveryKey, RecoveryParams};
use super::shamir::{ShamirSeal, UnsealShare};
use super::{Seal, SealError, SealKind, SealedRoot};
use crate::secret::{Key256, SecretBytes};

/// What proves that the people behind the current seal agree: the material of
/// the seal in use (its unseal shares or passphrase), or, with an automatic
/// seal, its recovery shares.
pub enum Consent {
    /// A quorum of the current Shamir seal's unseal shares.
    UnsealShares(Vec<UnsealShare>),
    /// The current passphrase.
    Passphrase(SecretBytes),
    /// A quorum of the automatic seal's recovery shares.
    RecoveryShares(Vec<UnsealShare>),
}

/// The seal to migrate to.
pub enum Target {
    /// Shamir shares. The counts apply only when new shares must be made (from
    /// a passphrase seal); otherwise the people's existing set is kept.
    Shamir {
        /// Shares to make.
        shares: u8,
        /// Shares needed.
        threshold: u8,
    },
    /// A passphrase (the operator chose it, so nothing new must reach anyone).
    Passphrase(PassphraseSeal),
    /// A device seal. The counts are those of the recovery shares to make when
    /// the people have no set yet (from a passphrase seal).
    Automatic {
        /// The configured device seal.
        seal: Box<dyn Seal>,
        /// Recovery shares to make.
        recovery_shares: u8,
        /// Recovery shares needed.
        recovery_threshold: u8,
    },
}

impl Target {
    /// The kind migrated to.
    pub fn kind(&self) -> SealKind {
        match self {
            Target::Shamir { .. } => SealKind::Shamir,
            Target::Passphrase(_) => SealKind::Passphrase,
            Target::Automatic { seal, .. } => seal.kind(),
        }
    }
}

/// What the migration does.
pub struct Plan {
    /// The seal that protects the root next.
    pub seal: Box<dyn Seal>,
    /// The recovery shares' parameters to store with it.
    pub recovery: Option<RecoveryParams>,
    /// Shares made by this migration that people do not hold yet: the
    /// migration waits for a quorum of them before the new seal replaces the
    /// old one. Empty when the people's set or passphrase carries over.
    pub new_shares: Vec<UnsealShare>,
}

/// Checks `consent` against the current sealed root and the root key in
/// memory; returns the people's Shamir set (unseal or recovery shares), if
/// they hold one, so that the plan can carry it over.
pub fn check_consent(
    current: &SealedRoot,
    root: &Key256,
    consent: Consent,
) -> Result<Option<ShamirSeal>, SealError> {
    let kind = current.kind;
    match (kind, consent) {
        (SealKind::Shamir, Consent::UnsealShares(shares)) => {
            let params = current
                .shamir_params()
                .ok_or(SealError::InconsistentSealedRoot { kind })?;
            let set = ShamirSeal::from_shares(&shares, params)?;
            confirm_root(set.unseal_root(current)?, root)?;
            Ok(Some(set))
        }
        (SealKind::Passphrase, Consent::Passphrase(passphrase)) => {
            let seal = PassphraseSeal::from_sealed(passphrase, current)?;
            confirm_root(seal.unseal_root(current)?, root)?;
            Ok(None)
        }
        (SealKind::Pkcs11 | SealKind::Tpm2 | SealKind::Kmip, Consent::RecoveryShares(shares)) => {
            let recovery = current
                .recovery
                .as_ref()
                .ok_or(SealError::InconsistentSealedRoot { kind })?;
            Ok(Some(recovery.open(&shares)?.into_unseal_shares()))
        }
        (SealKind::Pkcs11 | SealKind::Tpm2 | SealKind::Kmip, _) => {
            Err(SealError::RecoveryRequired {
                need: current
                    .recovery
                    .as_ref()
                    .map_or(0, |params| params.threshold),
            })
        }
        (SealKind::Shamir | SealKind::Passphrase, Consent::RecoveryShares(_)) => {
            Err(SealError::NoRecoveryShares { kind })
        }
        (SealKind::Shamir, Consent::Passphrase(_)) => Err(SealError::KindMismatch {
            expected: SealKind::Passphrase,
            found: kind,
        }),
        (SealKind::Passphrase, Consent::UnsealShares(_)) => Err(SealError::KindMismatch {
            expected: SealKind::Shamir,
            found: kind,
        }),
    }
}

/// The consent's material must open the very root in memory, not merely some
/// root: a sealed root swapped under a running server is refused.
fn confirm_root(opened: Key256, root: &Key256) -> Result<(), SealError> {
    if opened.ct_eq(root) {
        Ok(())
    } else {
        Err(SealError::WrongUnsealMaterial)
    }
}

/// Decides the migration from the seal of kind `from` to `target`, carrying
/// over `people` (the set [`check_consent`] returned).
pub fn plan(from: SealKind, people: Option<ShamirSeal>, target: Target) -> Result<Plan, SealError> {
    if target.kind() == from {
        return Err(SealError::SameKind { kind: from });
    }
    match target {
        Target::Shamir { shares, threshold } => match people {
            Some(set) => Ok(Plan {
                seal: Box::new(set),
                recovery: None,
                new_shares: Vec::new(),
            }),
            None => {
                let (seal, new_shares) = ShamirSeal::initialize(shares, threshold)?;
                Ok(Plan {
                    seal: Box::new(seal),
                    recovery: None,
                    new_shares,
                })
            }
        },
        Target::Passphrase(seal) => Ok(Plan {
            seal: Box::new(seal),
            recovery: None,
            new_shares: Vec::new(),
        }),
        Target::Automatic {
            seal,
            recovery_shares,
            recovery_threshold,
        } => {
            let (recovery, new_shares) = match people {
                Some(set) => (RecoveryKey::from_unseal_shares(set), Vec::new()),
                None => RecoveryParams::generate(recovery_shares, recovery_threshold)?,
            };
            Ok(Plan {
                seal,
                recovery: Some(recovery.params()),
                new_shares,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::passphrase::tests::passphrase;

    fn copy(share: &UnsealShare) -> UnsealShare {
        UnsealShare::parse(&share.to_string_secret()).unwrap()
    }

    #[test]
    fn shamir_consent_needs_the_current_quorum() {
        let root = Key256::generate();
        let (seal, shares) = ShamirSeal::initialize(3, 2).unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        let people = check_consent(
            &sealed,
            &root,
            Consent::UnsealShares(vec![copy(&shares[0]), copy(&shares[2])]),
        )
        .unwrap();
        assert!(people.is_some());
        assert!(matches!(
            check_consent(
                &sealed,
                &root,
                Consent::UnsealShares(vec![copy(&shares[0])])
            ),
            Err(SealError::ThresholdNotReached { .. })
        ));
        assert!(matches!(
            check_consent(
                &sealed,
                &root,
                Consent::RecoveryShares(vec![copy(&shares[0]), copy(&shares[1])])
            ),
            Err(SealError::NoRecoveryShares {
                kind: SealKind::Shamir
            })
        ));
        // Shares that open a root other than the one in memory are refused.
        assert!(matches!(
            check_consent(
                &sealed,
                &Key256::generate(),
                Consent::UnsealShares(vec![copy(&shares[0]), copy(&shares[1])])
            ),
            Err(SealError::WrongUnsealMaterial)
        ));
    }

    #[test]
    fn passphrase_consent_needs_the_current_passphrase() {
        let root = Key256::generate();
        let seal =
            PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery")).unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        assert!(
            check_consent(
                &sealed,
                &root,
                Consent::Passphrase(passphrase("correct horse battery"))
            )
            .unwrap()
            .is_none()
        );
        assert!(matches!(
            check_consent(
                &sealed,
                &root,
                Consent::Passphrase(passphrase("correct horse staple"))
            ),
            Err(SealError::WrongUnsealMaterial)
        ));
    }

    #[test]
    fn the_people_keep_their_shares_from_shamir_to_passphrase_and_back() {
        let root = Key256::generate();
        let (seal, shares) = ShamirSeal::initialize(3, 2).unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        let people = check_consent(
            &sealed,
            &root,
            Consent::UnsealShares(vec![copy(&shares[1]), copy(&shares[2])]),
        )
        .unwrap();
        let to_passphrase = plan(
            SealKind::Shamir,
            people,
            Target::Passphrase(
                PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery"))
                    .unwrap(),
            ),
        )
        .unwrap();
        assert!(to_passphrase.new_shares.is_empty());
        assert!(to_passphrase.recovery.is_none());
        let sealed = to_passphrase.seal.seal_root(&root).unwrap();
        assert_eq!(sealed.kind, SealKind::Passphrase);

        // Back to Shamir from a passphrase: new shares must reach people first.
        let people = check_consent(
            &sealed,
            &root,
            Consent::Passphrase(passphrase("correct horse battery")),
        )
        .unwrap();
        let back = plan(
            SealKind::Passphrase,
            people,
            Target::Shamir {
                shares: 4,
                threshold: 3,
            },
        )
        .unwrap();
        assert_eq!(back.new_shares.len(), 4);
        assert_eq!(back.seal.kind(), SealKind::Shamir);
    }

    #[test]
    fn a_migration_to_the_kind_in_use_is_refused() {
        let refused = plan(
            SealKind::Shamir,
            None,
            Target::Shamir {
                shares: 3,
                threshold: 2,
            },
        );
        assert!(matches!(
            refused,
            Err(SealError::SameKind {
                kind: SealKind::Shamir
            })
        ));
    }
}
