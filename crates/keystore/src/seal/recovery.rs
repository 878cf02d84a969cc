//! Recovery shares: what people hold when a device holds the unseal key.
//!
//! With an automatic seal, nobody's material is needed to unseal, but a
//! migration to another seal and a root rotation still need the consent of a
//! quorum of people (a stolen admin token alone must not move the root to a
//! device the thief controls). At initialization a random recovery key is split
//! into Shamir shares (the same text format and set id checks as unseal
//! shares); the sealed root keeps only their counts, set id and a verifier,
//! `HMAC-SHA256(recovery key, "cryptainer-recovery-verifier-v1" || set id)`.
//! The recovery key wraps nothing, so the shares open nothing, with or without
//! the database.
//!
//! A migration keeps the people's set: from a Shamir seal to an automatic one,
//! the unseal shares become the recovery shares (same key, same set); back to
//! Shamir, the recovery shares become the unseal shares. Then no new secret has
//! to reach anyone, and nothing can be lost between the commit and the answer.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::shamir::{SetId, ShamirParams, ShamirSeal, UnsealShare};
use super::{SealError, base64_bytes};
use crate::secret::{Key256, constant_time_eq};

/// The domain of the verifier's HMAC.
const VERIFIER_LABEL: &[u8] = b"cryptainer-recovery-verifier-v1";

/// The public parameters of a set of recovery shares, stored in the sealed root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryParams {
    /// How many shares are needed.
    pub threshold: u8,
    /// How many shares were made.
    pub shares: u8,
    /// The random id of this set of shares.
    pub set_id: SetId,
    /// `HMAC-SHA256(recovery key, label || set id)` (base64 in JSON).
    #[serde(with = "base64_bytes")]
    pub verifier: Vec<u8>,
}

/// A recovery key rebuilt from a quorum of its shares (or made fresh): the
/// proof that the people consent. Opaque; wiped on drop with the seal inside.
pub struct RecoveryKey {
    set: ShamirSeal,
}

impl RecoveryParams {
    /// Makes a fresh recovery key split into `shares` shares of which
    /// `threshold` are needed; the shares are returned once, to hand out.
    pub fn generate(
        shares: u8,
        threshold: u8,
    ) -> Result<(RecoveryKey, Vec<UnsealShare>), SealError> {
        let (set, shares) = ShamirSeal::initialize(shares, threshold)?;
        Ok((RecoveryKey { set }, shares))
    }

    /// The Shamir parameters of the set, to check and combine shares.
    pub fn shamir_params(&self) -> ShamirParams {
        ShamirParams {
            threshold: self.threshold,
            shares: self.shares,
            set_id: self.set_id,
        }
    }

    /// Rebuilds the recovery key from `shares` and checks it against the
    /// verifier; wrong shares of the right set give
    /// [`SealError::WrongRecoveryShares`].
    pub fn open(&self, shares: &[UnsealShare]) -> Result<RecoveryKey, SealError> {
        let set = ShamirSeal::from_shares(shares, &self.shamir_params())?;
        let expected = verifier(set.unseal_key(), self.set_id);
        if !constant_time_eq(&expected, &self.verifier) {
            return Err(SealError::WrongRecoveryShares);
        }
        Ok(RecoveryKey { set })
    }
}

impl RecoveryKey {
    /// The unseal shares' key as the recovery key (a migration from a Shamir
    /// seal to an automatic one): the same people keep the same shares.
    pub fn from_unseal_shares(set: ShamirSeal) -> RecoveryKey {
        RecoveryKey { set }
    }

    /// The recovery key as a Shamir seal's unseal key (a migration back to
    /// Shamir): the recovery shares become the unseal shares.
    pub fn into_unseal_shares(self) -> ShamirSeal {
        self.set
    }

    /// The parameters to store, verifier included.
    pub fn params(&self) -> RecoveryParams {
        let shamir = self.set.params();
        RecoveryParams {
            threshold: shamir.threshold,
            shares: shamir.shares,
            set_id: shamir.set_id,
            verifier: verifier(self.set.unseal_key(), shamir.set_id).to_vec(),
        }
    }
}

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RecoveryKey")
            .field("params", self.set.params())
            .finish_non_exhaustive()
    }
}

/// `HMAC-SHA256(key, label || set id)`.
fn verifier(key: &Key256, set_id: SetId) -> [u8; 32] {
    // HMAC takes keys of any length; this cannot fail for a 32-byte key.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key.expose_secret()) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(VERIFIER_LABEL);
    mac.update(set_id.as_bytes());
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::Seal;

    fn copy(share: &UnsealShare) -> UnsealShare {
        UnsealShare::parse(&share.to_string_secret()).unwrap()
    }

    #[test]
    fn a_quorum_of_recovery_shares_opens_the_recovery_key() {
        let (key, shares) = RecoveryParams::generate(5, 3).unwrap();
        let params = key.params();
        assert_eq!((params.threshold, params.shares), (3, 5));
        let opened = params
            .open(&[copy(&shares[4]), copy(&shares[1]), copy(&shares[2])])
            .unwrap();
        assert_eq!(opened.params(), params);
        assert!(matches!(
            params.open(&[copy(&shares[0]), copy(&shares[1])]),
            Err(SealError::ThresholdNotReached { have: 2, need: 3 })
        ));
    }

    #[test]
    fn recovery_shares_of_another_set_or_forged_are_refused() {
        let (key, shares) = RecoveryParams::generate(3, 2).unwrap();
        let (_, other) = RecoveryParams::generate(3, 2).unwrap();
        let params = key.params();
        assert!(matches!(
            params.open(&[copy(&other[0]), copy(&other[1])]),
            Err(SealError::ShareFromDifferentServer { .. })
        ));
        // The right set with an altered verifier: the shares do not match it.
        let mut altered = params.clone();
        altered.verifier[0] ^= 1;
        assert!(matches!(
            altered.open(&[copy(&shares[0]), copy(&shares[1])]),
            Err(SealError::WrongRecoveryShares)
        ));
    }

    #[test]
    fn recovery_shares_become_unseal_shares_and_back() {
        let root = Key256::generate();
        let (key, shares) = RecoveryParams::generate(3, 2).unwrap();
        let params = key.params();
        let unseal = key.into_unseal_shares();
        let sealed = unseal.seal_root(&root).unwrap();
        // The same two shares now unseal.
        let rebuilt =
            ShamirSeal::from_shares(&[copy(&shares[0]), copy(&shares[2])], unseal.params())
                .unwrap();
        assert!(rebuilt.unseal_root(&sealed).unwrap().ct_eq(&root));
        // And become recovery shares again with the same verifier.
        assert_eq!(RecoveryKey::from_unseal_shares(rebuilt).params(), params);
    }
}
