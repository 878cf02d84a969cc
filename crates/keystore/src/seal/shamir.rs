//! The Shamir seal: the unseal key is split into shares held by people, and
//! [`UnsealProgress`] collects them one request at a time.
//!
//! Shamir shares are handed to people as text. The text is base64url (no padding)
//! of 43 bytes:
//!
//! ```text
//! +---------+--------+-----------+-------+---------+---------------------------+
//! | version | set id | threshold | x     | y       | checksum                  |
//! | 1: 0x01 | 4      | 1         | 1     | 32      | 4: SHA-256(previous)[..4] |
//! +---------+--------+-----------+-------+---------+---------------------------+
//! ```
//!
//! The set id is random per initialisation and is also stored in the sealed root,
//! so a share of another server is refused when it is submitted, not after a
//! quorum has been collected. The checksum catches typing mistakes; it is not a
//! MAC, and a forged share is detected only when the unseal key fails to unwrap
//! the root key.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{Seal, SealError, SealKind, SealParams, SealedRoot, seal_with, unseal_with};
use crate::secret::{KEY_LEN, Key256, SecretBytes, constant_time_eq};
use crate::shamir::{self, Share};

/// Format version of the share text.
const SHARE_VERSION: u8 = 1;
/// Length of the set id that ties shares to one initialisation.
const SET_ID_LEN: usize = 4;
/// Length of the share checksum (a truncated SHA-256).
const SHARE_CHECKSUM_LEN: usize = 4;
/// Length of the share bytes before the checksum.
const SHARE_BODY_LEN: usize = 1 + SET_ID_LEN + 1 + 1 + KEY_LEN;
/// Length of a decoded share.
const SHARE_LEN: usize = SHARE_BODY_LEN + SHARE_CHECKSUM_LEN;
/// Longest share text accepted before decoding (58 characters plus room for
/// surrounding whitespace), so a huge paste is refused without work.
const MAX_SHARE_TEXT_LEN: usize = 256;

/// A random identifier of one Shamir initialisation, shown as 8 hex digits. Not
/// secret: it is printed in errors and stored in the sealed root.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetId(pub(super) [u8; SET_ID_LEN]);

impl SetId {
    /// A fresh random set id.
    pub fn random() -> SetId {
        let mut bytes = [0u8; SET_ID_LEN];
        OsRng.fill_bytes(&mut bytes);
        SetId(bytes)
    }

    /// The set id bytes.
    pub fn as_bytes(&self) -> &[u8; SET_ID_LEN] {
        &self.0
    }
}

impl fmt::Display for SetId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SetId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "SetId({self})")
    }
}

impl Serialize for SetId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for SetId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SetId, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; SET_ID_LEN];
        hex::decode_to_slice(&text, &mut bytes).map_err(|error| {
            serde::de::Error::custom(format_args!(
                "set id must be {} hex digits: {error}",
                SET_ID_LEN * 2
            ))
        })?;
        Ok(SetId(bytes))
    }
}

/// Public parameters of a Shamir seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShamirParams {
    /// How many shares are needed to unseal.
    pub threshold: u8,
    /// How many shares were made.
    pub shares: u8,
    /// The random id of this set of shares.
    pub set_id: SetId,
}

/// A seal whose unseal key is split into Shamir shares held by people.
pub struct ShamirSeal {
    unseal_key: Key256,
    params: ShamirParams,
}

impl ShamirSeal {
    /// Makes a random unseal key and splits it into `shares` shares of which
    /// `threshold` unseal. Requires `1 <= threshold <= shares`; a threshold of 1
    /// means every share alone unseals and is meant for development only.
    ///
    /// The shares are returned once, to be handed out; the server keeps none.
    pub fn initialize(
        shares: u8,
        threshold: u8,
    ) -> Result<(ShamirSeal, Vec<UnsealShare>), SealError> {
        let unseal_key = Key256::generate();
        let params = ShamirParams {
            threshold,
            shares,
            set_id: SetId::random(),
        };
        let split = shamir::split(unseal_key.expose_secret(), threshold, shares)
            .map_err(|source| SealError::InvalidShareConfig { source })?;
        let unseal_shares = split
            .into_iter()
            .map(|share| UnsealShare {
                set_id: params.set_id,
                threshold,
                share,
            })
            .collect();
        Ok((ShamirSeal { unseal_key, params }, unseal_shares))
    }

    /// Rebuilds the seal from at least `params.threshold` shares of the set
    /// `params.set_id`.
    pub fn from_shares(
        shares: &[UnsealShare],
        params: &ShamirParams,
    ) -> Result<ShamirSeal, SealError> {
        let mut seen = [false; 256];
        for share in shares {
            share.check_belongs_to(params)?;
            if let Some(seen_index) = seen.get_mut(usize::from(share.index())) {
                if *seen_index {
                    return Err(SealError::DuplicateShare {
                        index: share.index(),
                    });
                }
                *seen_index = true;
            }
        }
        if shares.len() < usize::from(params.threshold) {
            return Err(SealError::ThresholdNotReached {
                have: shares.len(),
                need: params.threshold,
            });
        }
        // The threshold check above keeps this from combining too few shares.
        let parts: Vec<&Share> = shares.iter().map(|share| &share.share).collect();
        ShamirSeal::combine(&parts, params)
    }

    fn combine(parts: &[&Share], params: &ShamirParams) -> Result<ShamirSeal, SealError> {
        // `shamir::combine` takes owned shares; copy the few bytes into wiped ones.
        let copies: Vec<Share> = parts
            .iter()
            .map(|share| {
                Share::new(
                    share.x(),
                    SecretBytes::from_slice(share.y().expose_secret()),
                )
            })
            .collect();
        let unseal_bytes =
            shamir::combine(&copies).map_err(|source| SealError::CombineShares { source })?;
        let unseal_key = Key256::from_slice(unseal_bytes.expose_secret())
            .map_err(|source| SealError::RootKeyWrongLength { source })?;
        Ok(ShamirSeal {
            unseal_key,
            params: *params,
        })
    }

    /// The public parameters of this seal.
    pub fn params(&self) -> &ShamirParams {
        &self.params
    }

    /// The key the shares combine to. Recovery shares are a Shamir set too, and
    /// [`super::recovery`] checks and reuses their key through this.
    pub(crate) fn unseal_key(&self) -> &Key256 {
        &self.unseal_key
    }
}

impl Seal for ShamirSeal {
    fn kind(&self) -> SealKind {
        SealKind::Shamir
    }

    fn seal_root(&self, root: &Key256) -> Result<SealedRoot, SealError> {
        seal_with(&self.unseal_key, root, SealParams::Shamir(self.params))
    }

    fn unseal_root(&self, sealed: &SealedRoot) -> Result<Key256, SealError> {
        sealed.check_kind(SealKind::Shamir)?;
        if let Some(stored) = sealed.shamir_params() {
            if stored.set_id != self.params.set_id {
                return Err(SealError::ShareFromDifferentServer {
                    found: self.params.set_id,
                    expected: stored.set_id,
                });
            }
        }
        unseal_with(&self.unseal_key, sealed)
    }
}

/// One person's share of a Shamir unseal key, with the set it belongs to.
pub struct UnsealShare {
    set_id: SetId,
    threshold: u8,
    share: Share,
}

impl UnsealShare {
    /// The share as text to hand to its holder. The name is greppable on purpose:
    /// the returned string is secret and is wiped when dropped.
    pub fn to_string_secret(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(SHARE_LEN));
        bytes.push(SHARE_VERSION);
        bytes.extend_from_slice(self.set_id.as_bytes());
        bytes.push(self.threshold);
        bytes.push(self.share.x());
        bytes.extend_from_slice(self.share.y().expose_secret());
        let checksum = share_checksum(&bytes);
        bytes.extend_from_slice(&checksum);
        Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_slice()))
    }

    /// Parses share text made by [`UnsealShare::to_string_secret`]. Surrounding
    /// whitespace is ignored. A typing mistake gives
    /// [`SealError::ShareChecksumMismatch`].
    pub fn parse(text: &str) -> Result<UnsealShare, SealError> {
        let text = text.trim();
        if text.len() > MAX_SHARE_TEXT_LEN {
            return Err(SealError::ShareWrongLength {
                actual: text.len().saturating_mul(3) / 4,
                expected: SHARE_LEN,
            });
        }
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|source| SealError::ShareNotBase64 { source })?,
        );
        let Some((body, checksum)) = bytes.split_last_chunk::<SHARE_CHECKSUM_LEN>() else {
            return Err(SealError::ShareWrongLength {
                actual: bytes.len(),
                expected: SHARE_LEN,
            });
        };
        let Ok(body) = <&[u8; SHARE_BODY_LEN]>::try_from(body) else {
            return Err(SealError::ShareWrongLength {
                actual: bytes.len(),
                expected: SHARE_LEN,
            });
        };
        if !constant_time_eq(&share_checksum(body), checksum) {
            return Err(SealError::ShareChecksumMismatch);
        }
        let [version, set_0, set_1, set_2, set_3, threshold, x, y @ ..] = body;
        if *version != SHARE_VERSION {
            return Err(SealError::UnknownShareVersion { version: *version });
        }
        if *threshold == 0 {
            return Err(SealError::MalformedShare {
                reason: "threshold 0",
            });
        }
        if *x == 0 {
            return Err(SealError::MalformedShare { reason: "index 0" });
        }
        Ok(UnsealShare {
            set_id: SetId([*set_0, *set_1, *set_2, *set_3]),
            threshold: *threshold,
            share: Share::new(*x, SecretBytes::from_slice(y)),
        })
    }

    /// The share index (x-coordinate), from 1. Not secret.
    pub fn index(&self) -> u8 {
        self.share.x()
    }

    /// The set this share belongs to.
    pub fn set_id(&self) -> SetId {
        self.set_id
    }

    /// How many shares of the set are needed to unseal.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    fn check_belongs_to(&self, params: &ShamirParams) -> Result<(), SealError> {
        if self.set_id != params.set_id {
            return Err(SealError::ShareFromDifferentServer {
                found: self.set_id,
                expected: params.set_id,
            });
        }
        if self.threshold != params.threshold {
            return Err(SealError::ShareThresholdMismatch {
                found: self.threshold,
                expected: params.threshold,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for UnsealShare {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("UnsealShare")
            .field("set_id", &self.set_id)
            .field("threshold", &self.threshold)
            .field("index", &self.share.x())
            .finish_non_exhaustive()
    }
}

/// The first four bytes of SHA-256 over the share body.
fn share_checksum(body: &[u8]) -> [u8; SHARE_CHECKSUM_LEN] {
    let digest = Sha256::digest(body);
    let mut checksum = [0u8; SHARE_CHECKSUM_LEN];
    for (out, byte) in checksum.iter_mut().zip(digest.iter()) {
        *out = *byte;
    }
    checksum
}

/// How far an unseal has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Distinct valid shares received.
    pub have: u8,
    /// Shares needed (the threshold).
    pub need: u8,
}

impl Progress {
    /// Whether enough shares were received.
    pub fn is_complete(&self) -> bool {
        self.have >= self.need
    }
}

/// Collects Shamir shares one at a time (the server receives one share per
/// request) and rebuilds the seal once the threshold is reached.
///
/// Each share is checked when it is added (set id, threshold, duplicates), so a
/// wrong share is reported to the person who submitted it. When the threshold is
/// reached the shares are combined at once and dropped (wiped); only the rebuilt
/// seal is kept until [`UnsealProgress::complete`] takes it.
pub struct UnsealProgress {
    params: ShamirParams,
    shares: Vec<UnsealShare>,
    /// How many shares were accepted since the last reset.
    have: u8,
    ready: Option<ShamirSeal>,
}

impl UnsealProgress {
    /// Starts collecting shares for the set described by `params`.
    pub fn new(params: ShamirParams) -> UnsealProgress {
        UnsealProgress {
            params,
            shares: Vec::new(),
            have: 0,
            ready: None,
        }
    }

    /// Starts collecting shares for a root sealed with Shamir shares; refuses a
    /// root sealed some other way.
    pub fn for_sealed_root(sealed: &SealedRoot) -> Result<UnsealProgress, SealError> {
        sealed.check_kind(SealKind::Shamir)?;
        let params = sealed
            .shamir_params()
            .ok_or(SealError::InconsistentSealedRoot { kind: sealed.kind })?;
        Ok(UnsealProgress::new(*params))
    }

    /// Adds one share. Rejects a share of another set, a share with another
    /// threshold, a share index already given, and any share once the threshold
    /// was reached.
    pub fn add(&mut self, share: UnsealShare) -> Result<Progress, SealError> {
        if self.ready.is_some() {
            return Err(SealError::ThresholdAlreadyReached);
        }
        share.check_belongs_to(&self.params)?;
        if self.shares.iter().any(|held| held.index() == share.index()) {
            return Err(SealError::DuplicateShare {
                index: share.index(),
            });
        }
        self.shares.push(share);
        if self.shares.len() >= usize::from(self.params.threshold) {
            match ShamirSeal::from_shares(&self.shares, &self.params) {
                Ok(seal) => {
                    // The shares are no longer needed; dropping them wipes them.
                    self.shares.clear();
                    self.ready = Some(seal);
                }
                Err(error) => {
                    // Leave the collection as it was before this share.
                    self.shares.pop();
                    return Err(error);
                }
            }
        }
        self.have = self.have.saturating_add(1);
        Ok(self.progress())
    }

    /// How many distinct shares were accepted since the last reset.
    pub fn have(&self) -> u8 {
        self.have
    }

    /// The current progress.
    pub fn progress(&self) -> Progress {
        Progress {
            have: self.have,
            need: self.params.threshold,
        }
    }

    /// Takes the rebuilt seal once the threshold is reached, and starts over.
    /// Returns `None` while shares are missing.
    pub fn complete(&mut self) -> Option<ShamirSeal> {
        let seal = self.ready.take()?;
        self.reset();
        Some(seal)
    }

    /// Forgets (and wipes) every share collected so far.
    pub fn reset(&mut self) {
        self.shares.clear();
        self.have = 0;
        self.ready = None;
    }
}

impl fmt::Debug for UnsealProgress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("UnsealProgress")
            .field("params", &self.params)
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ShamirSeal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ShamirSeal")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shamir::ShamirError;

    fn copy_share(share: &UnsealShare) -> UnsealShare {
        UnsealShare::parse(&share.to_string_secret()).unwrap()
    }

    #[test]
    fn shamir_round_trip() {
        let root = Key256::generate();
        let (seal, shares) = ShamirSeal::initialize(5, 3).unwrap();
        assert_eq!(shares.len(), 5);
        let sealed = seal.seal_root(&root).unwrap();
        assert_eq!(sealed.kind, SealKind::Shamir);
        assert!(seal.unseal_root(&sealed).unwrap().ct_eq(&root));

        let params = *sealed.shamir_params().unwrap();
        let subset = [
            copy_share(&shares[4]),
            copy_share(&shares[0]),
            copy_share(&shares[2]),
        ];
        let rebuilt = ShamirSeal::from_shares(&subset, &params).unwrap();
        assert!(rebuilt.unseal_root(&sealed).unwrap().ct_eq(&root));
    }

    #[test]
    fn share_text_round_trip() {
        let (_, shares) = ShamirSeal::initialize(3, 2).unwrap();
        for share in &shares {
            let text = share.to_string_secret();
            assert_eq!(text.len(), 58);
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            );
            let parsed = UnsealShare::parse(&format!("  {}\n", text.as_str())).unwrap();
            assert_eq!(parsed.index(), share.index());
            assert_eq!(parsed.set_id(), share.set_id());
            assert_eq!(parsed.threshold(), 2);
            assert!(parsed.share.y().ct_eq(share.share.y().expose_secret()));
        }
    }

    #[test]
    fn rejects_mistyped_share() {
        let (_, shares) = ShamirSeal::initialize(3, 2).unwrap();
        let text = shares[0].to_string_secret();
        // Change one character in the middle to another valid one.
        let mut chars: Vec<char> = text.chars().collect();
        chars[20] = if chars[20] == 'A' { 'B' } else { 'A' };
        let mistyped: String = chars.into_iter().collect();
        assert!(matches!(
            UnsealShare::parse(&mistyped),
            Err(SealError::ShareChecksumMismatch)
        ));
    }

    #[test]
    fn rejects_malformed_share_text() {
        assert!(matches!(
            UnsealShare::parse("not base64 at all!"),
            Err(SealError::ShareNotBase64 { .. })
        ));
        assert!(matches!(
            UnsealShare::parse(""),
            Err(SealError::ShareWrongLength { actual: 0, .. })
        ));
        assert!(matches!(
            UnsealShare::parse(&URL_SAFE_NO_PAD.encode([1u8; 20])),
            Err(SealError::ShareWrongLength { actual: 20, .. })
        ));
        assert!(matches!(
            UnsealShare::parse(&"A".repeat(10_000)),
            Err(SealError::ShareWrongLength { .. })
        ));
    }

    fn encode_share_body(body: &[u8]) -> String {
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(&share_checksum(body));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn rejects_unknown_share_version_and_impossible_fields() {
        let mut body = [0u8; SHARE_BODY_LEN];
        body[0] = 2;
        body[5] = 2;
        body[6] = 1;
        assert!(matches!(
            UnsealShare::parse(&encode_share_body(&body)),
            Err(SealError::UnknownShareVersion { version: 2 })
        ));
        body[0] = 1;
        body[5] = 0;
        assert!(matches!(
            UnsealShare::parse(&encode_share_body(&body)),
            Err(SealError::MalformedShare { .. })
        ));
        body[5] = 2;
        body[6] = 0;
        assert!(matches!(
            UnsealShare::parse(&encode_share_body(&body)),
            Err(SealError::MalformedShare { .. })
        ));
    }

    #[test]
    fn threshold_minus_one_shares_are_not_enough() {
        let (seal, shares) = ShamirSeal::initialize(5, 3).unwrap();
        let subset = [copy_share(&shares[0]), copy_share(&shares[1])];
        assert!(matches!(
            ShamirSeal::from_shares(&subset, seal.params()),
            Err(SealError::ThresholdNotReached { have: 2, need: 3 })
        ));
    }

    #[test]
    fn from_shares_rejects_duplicates_and_other_sets() {
        let (seal, shares) = ShamirSeal::initialize(3, 2).unwrap();
        let (_, other_shares) = ShamirSeal::initialize(3, 2).unwrap();
        let duplicate = [copy_share(&shares[0]), copy_share(&shares[0])];
        assert!(matches!(
            ShamirSeal::from_shares(&duplicate, seal.params()),
            Err(SealError::DuplicateShare { index: 1 })
        ));
        let mixed = [copy_share(&shares[0]), copy_share(&other_shares[1])];
        assert!(matches!(
            ShamirSeal::from_shares(&mixed, seal.params()),
            Err(SealError::ShareFromDifferentServer { .. })
        ));
    }

    #[test]
    fn progress_collects_shares_one_by_one() {
        let root = Key256::generate();
        let (seal, shares) = ShamirSeal::initialize(5, 3).unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        let mut progress = UnsealProgress::new(*sealed.shamir_params().unwrap());

        let step = progress.add(copy_share(&shares[3])).unwrap();
        assert_eq!(step, Progress { have: 1, need: 3 });
        assert!(progress.complete().is_none());
        assert!(matches!(
            progress.add(copy_share(&shares[3])),
            Err(SealError::DuplicateShare { index: 4 })
        ));
        let step = progress.add(copy_share(&shares[1])).unwrap();
        assert!(!step.is_complete());
        let step = progress.add(copy_share(&shares[0])).unwrap();
        assert_eq!(step, Progress { have: 3, need: 3 });
        assert!(step.is_complete());
        assert!(matches!(
            progress.add(copy_share(&shares[2])),
            Err(SealError::ThresholdAlreadyReached)
        ));

        let rebuilt = progress.complete().unwrap();
        assert!(rebuilt.unseal_root(&sealed).unwrap().ct_eq(&root));
        assert_eq!(progress.progress(), Progress { have: 0, need: 3 });
    }

    #[test]
    fn progress_rejects_share_of_another_server() {
        let (seal, _) = ShamirSeal::initialize(3, 2).unwrap();
        let (other, other_shares) = ShamirSeal::initialize(3, 2).unwrap();
        let mut progress = UnsealProgress::new(*seal.params());
        let error = progress.add(copy_share(&other_shares[0])).unwrap_err();
        match &error {
            SealError::ShareFromDifferentServer { found, expected } => {
                assert_eq!(*found, other.params().set_id);
                assert_eq!(*expected, seal.params().set_id);
            }
            other => panic!("unexpected error {other:?}"),
        }
        let message = error.to_string();
        assert!(message.starts_with("share belongs to a different server (set id "));
        assert!(message.contains(&other.params().set_id.to_string()));
        assert_eq!(progress.progress().have, 0);
    }

    #[test]
    fn progress_reset_forgets_shares() {
        let (seal, shares) = ShamirSeal::initialize(3, 2).unwrap();
        let mut progress = UnsealProgress::new(*seal.params());
        progress.add(copy_share(&shares[0])).unwrap();
        progress.reset();
        assert_eq!(progress.progress().have, 0);
        // The same share is accepted again after a reset.
        progress.add(copy_share(&shares[0])).unwrap();
    }

    #[test]
    fn shares_of_another_set_with_forged_set_id_do_not_unseal() {
        // Even if someone rewrites another server's shares to carry this set id
        // (and fixes the checksum), the rebuilt key does not unwrap the root.
        let root = Key256::generate();
        let (seal, _) = ShamirSeal::initialize(3, 2).unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        let (_, other_shares) = ShamirSeal::initialize(3, 2).unwrap();
        let forged: Vec<UnsealShare> = other_shares
            .iter()
            .map(|share| UnsealShare {
                set_id: seal.params().set_id,
                threshold: 2,
                share: Share::new(
                    share.index(),
                    SecretBytes::from_slice(share.share.y().expose_secret()),
                ),
            })
            .collect();
        let rebuilt = ShamirSeal::from_shares(&forged, seal.params()).unwrap();
        assert!(matches!(
            rebuilt.unseal_root(&sealed),
            Err(SealError::WrongUnsealMaterial)
        ));
    }

    #[test]
    fn initialize_rejects_bad_counts() {
        assert!(matches!(
            ShamirSeal::initialize(3, 0),
            Err(SealError::InvalidShareConfig {
                source: ShamirError::ZeroThreshold
            })
        ));
        assert!(matches!(
            ShamirSeal::initialize(2, 3),
            Err(SealError::InvalidShareConfig { .. })
        ));
        let (_, shares) = ShamirSeal::initialize(1, 1).unwrap();
        assert_eq!(shares.len(), 1);
    }

    #[test]
    fn rejects_bad_set_id_in_json() {
        let json = r#"{"threshold":2,"shares":3,"set_id":"xyz"}"#;
        assert!(serde_json::from_str::<ShamirParams>(json).is_err());
        let json = r#"{"threshold":2,"shares":3,"set_id":"0011223344"}"#;
        assert!(serde_json::from_str::<ShamirParams>(json).is_err());
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let (seal, shares) = ShamirSeal::initialize(2, 2).unwrap();
        let text = shares[0].to_string_secret();
        let printed = format!("{seal:?} {:?}", shares[0]);
        assert!(!printed.contains(text.as_str()));
        assert!(printed.contains("ShamirSeal"));
    }
}
