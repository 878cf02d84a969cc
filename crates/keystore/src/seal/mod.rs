//! The seal that protects the root key at rest: the root key is stored only wrapped
//! under an unseal key, and the unseal key comes from outside the database, either
//! from a quorum of Shamir shares held by people or from an operator's passphrase.
//!
//! A seal is a [`Seal`] trait object, so that a PKCS#11 (HSM) seal can be added
//! later without changing its callers. The stored form is a [`SealedRoot`]: the seal
//! kind, the public parameters needed to rebuild the unseal key, and the root key
//! wrapped with [`wrap::wrap`] under the unseal key with the
//! associated data [`ROOT_AAD`].
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

use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::secret::{KEY_LEN, Key256, SecretBytes, SecretError, constant_time_eq};
use crate::shamir::{self, ShamirError, Share};
use crate::wrap::{self, WrapError};

/// The associated data the root key is wrapped with. The `v1` names this layout;
/// a different layout gets a different string, so old and new cannot be confused.
pub const ROOT_AAD: &[u8] = b"cryptainer-root-v1";

/// The shortest passphrase [`PassphraseSeal`] accepts, in bytes.
pub const MIN_PASSPHRASE_LEN: usize = 12;

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

/// Length of the random Argon2 salt.
const SALT_LEN: usize = 16;
/// Largest Argon2 memory cost accepted from a stored sealed root, in KiB (4 GiB).
/// The parameters are not authenticated, so a damaged file must not make the
/// server try to allocate unbounded memory.
const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// Largest Argon2 time cost (passes) accepted from a stored sealed root.
const MAX_ITERATIONS: u32 = 64;
/// Largest Argon2 parallelism accepted from a stored sealed root.
const MAX_PARALLELISM: u32 = 64;
/// Salt lengths accepted from a stored sealed root (Argon2 requires at least 8).
const MIN_SALT_LEN: usize = 8;
const MAX_SALT_LEN: usize = 64;

/// Why a seal could not be made, or the root key could not be sealed or unsealed.
#[derive(Debug, thiserror::Error)]
// Not `#[non_exhaustive]`: the server and kmip map every variant by name, so a
// new one is a compile error there instead of a silent 500 or General Failure.
pub enum SealError {
    /// The unseal shares or the passphrase do not open this sealed root.
    #[error(
        "the unseal shares or passphrase are wrong (the root key did not decrypt); \
         check them and try again"
    )]
    WrongUnsealMaterial,
    /// The passphrase is too short to resist guessing.
    #[error(
        "passphrase is too short ({actual} bytes); use at least {minimum} bytes, \
         ideally several random words"
    )]
    PassphraseTooShort {
        /// Length given.
        actual: usize,
        /// Minimum length.
        minimum: usize,
    },
    /// The share count or threshold is invalid.
    #[error("cannot split the unseal key: {source}")]
    InvalidShareConfig {
        /// What is wrong with the parameters.
        #[source]
        source: ShamirError,
    },
    /// The shares could not be combined.
    #[error("cannot combine the unseal shares: {source}")]
    CombineShares {
        /// What is wrong with the shares.
        #[source]
        source: ShamirError,
    },
    /// The share text is not base64url.
    #[error("share is not valid share text; copy it again exactly as it was printed")]
    ShareNotBase64 {
        /// The decoding error.
        #[source]
        source: base64::DecodeError,
    },
    /// The share text decodes to the wrong number of bytes.
    #[error(
        "share has the wrong length ({actual} bytes instead of {expected}); \
         copy the complete share again"
    )]
    ShareWrongLength {
        /// Decoded length.
        actual: usize,
        /// Expected decoded length.
        expected: usize,
    },
    /// The share checksum does not match: a character was mistyped.
    #[error("share is mistyped (checksum mismatch); check it character by character")]
    ShareChecksumMismatch,
    /// The share has a version this program does not know.
    #[error(
        "share has unknown format version {version}; \
         it was made by a newer Cryptainer, upgrade this server"
    )]
    UnknownShareVersion {
        /// The version byte found.
        version: u8,
    },
    /// The share's fields are impossible (index 0 or threshold 0).
    #[error("share is malformed ({reason}); use a share printed when this server was initialized")]
    MalformedShare {
        /// What is impossible about it.
        reason: &'static str,
    },
    /// The share (or sealed root) belongs to another initialisation.
    #[error(
        "share belongs to a different server (set id {found}, this server's is \
         {expected}); submit the shares printed when this server was initialized"
    )]
    ShareFromDifferentServer {
        /// The set id of the share.
        found: SetId,
        /// The set id this server expects.
        expected: SetId,
    },
    /// The share's threshold disagrees with this server's parameters.
    #[error(
        "share says {found} shares are needed but this server needs {expected}; \
         submit the shares printed when this server was initialized"
    )]
    ShareThresholdMismatch {
        /// Threshold in the share.
        found: u8,
        /// Threshold of this server.
        expected: u8,
    },
    /// The same share was submitted twice.
    #[error("share {index} was already submitted; submit a different share")]
    DuplicateShare {
        /// The share index.
        index: u8,
    },
    /// Fewer shares than the threshold were given.
    #[error("only {have} of the {need} required shares were given; submit more shares")]
    ThresholdNotReached {
        /// Shares given.
        have: usize,
        /// Shares required.
        need: u8,
    },
    /// Enough shares were already collected.
    #[error(
        "enough shares were already submitted; finish unsealing, \
         or reset the unseal to start over"
    )]
    ThresholdAlreadyReached,
    /// The sealed root is of a kind this seal does not handle.
    #[error(
        "the root key is sealed with a {found} seal but a {expected} seal was given; \
         configure the matching seal"
    )]
    KindMismatch {
        /// The kind of the given seal.
        expected: SealKind,
        /// The kind stored in the sealed root.
        found: SealKind,
    },
    /// The sealed root's kind and parameters disagree.
    #[error(
        "the stored sealed root is inconsistent (kind {kind} with parameters of \
         another kind); restore it from a backup"
    )]
    InconsistentSealedRoot {
        /// The kind field.
        kind: SealKind,
    },
    /// The sealed root's wrapped key is damaged.
    #[error("the stored sealed root is damaged; restore it from a backup")]
    CorruptSealedRoot {
        /// What is wrong with the wrapped key.
        #[source]
        source: WrapError,
    },
    /// The unwrapped root key has the wrong length.
    #[error("the stored root key has the wrong length; restore the sealed root from a backup")]
    RootKeyWrongLength {
        /// The length error.
        #[source]
        source: SecretError,
    },
    /// The root key could not be wrapped.
    #[error("cannot wrap the root key")]
    WrapRoot {
        /// The wrapping error.
        #[source]
        source: WrapError,
    },
    /// Argon2 parameters outside the accepted range.
    #[error(
        "argon2 parameters out of range ({what}); use memory up to {MAX_MEMORY_KIB} KiB, \
         at most {MAX_ITERATIONS} iterations and {MAX_PARALLELISM} lanes, and a salt \
         of {MIN_SALT_LEN} to {MAX_SALT_LEN} bytes"
    )]
    Argon2ParamsOutOfRange {
        /// Which parameter.
        what: &'static str,
    },
    /// Argon2 rejected its parameters or input.
    #[error(
        "cannot derive the unseal key from the passphrase ({source}); \
         check the argon2 parameters"
    )]
    KeyDerivation {
        /// The Argon2 error.
        #[source]
        source: argon2::Error,
    },
    /// The memory Argon2 needs could not be allocated.
    #[error(
        "not enough memory for argon2 ({memory_kib} KiB); \
         free memory or lower the memory cost"
    )]
    OutOfMemory {
        /// The requested memory.
        memory_kib: u32,
        /// The allocation error.
        #[source]
        source: std::collections::TryReserveError,
    },
}

/// A way to protect the root key at rest.
pub trait Seal: Send + Sync {
    /// What kind of seal this is (stored with the sealed root).
    fn kind(&self) -> SealKind;
    /// Encrypts (wraps) the root key for storage.
    fn seal_root(&self, root: &Key256) -> Result<SealedRoot, SealError>;
    /// Recovers the root key from its stored form; a wrong share set / passphrase
    /// gives [`SealError::WrongUnsealMaterial`].
    fn unseal_root(&self, sealed: &SealedRoot) -> Result<Key256, SealError>;
}

/// The kinds of seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SealKind {
    /// The unseal key is split into Shamir shares held by people.
    Shamir,
    /// The unseal key is derived from a passphrase with Argon2id.
    Passphrase,
}

impl SealKind {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            SealKind::Shamir => "shamir",
            SealKind::Passphrase => "passphrase",
        }
    }
}

impl fmt::Display for SealKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A random identifier of one Shamir initialisation, shown as 8 hex digits. Not
/// secret: it is printed in errors and stored in the sealed root.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetId([u8; SET_ID_LEN]);

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

/// What is needed, besides the secret material, to rebuild a seal's unseal key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SealParams {
    /// Parameters of a [`ShamirSeal`].
    Shamir(ShamirParams),
    /// Parameters of a [`PassphraseSeal`].
    Passphrase(PassphraseParams),
}

impl SealParams {
    /// The kind of seal these parameters belong to.
    pub fn kind(&self) -> SealKind {
        match self {
            SealParams::Shamir(_) => SealKind::Shamir,
            SealParams::Passphrase(_) => SealKind::Passphrase,
        }
    }

    /// `(threshold, shares)` of a Shamir seal, for status displays; `None` for
    /// other kinds.
    pub fn shamir_counts(&self) -> Option<(u8, u8)> {
        match self {
            SealParams::Shamir(params) => Some((params.threshold, params.shares)),
            SealParams::Passphrase(_) => None,
        }
    }
}

/// The root key as stored: only wrapped data and public parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedRoot {
    /// The kind of seal that wrapped the root key.
    pub kind: SealKind,
    /// The public parameters of that seal.
    pub params: SealParams,
    /// `wrap::wrap(unseal_key, root_key, ROOT_AAD)` (base64 in JSON).
    #[serde(with = "base64_bytes")]
    pub wrapped_root: Vec<u8>,
}

impl SealedRoot {
    /// The Shamir parameters, if this root is sealed with Shamir shares; a server
    /// uses them to start an [`UnsealProgress`].
    pub fn shamir_params(&self) -> Option<&ShamirParams> {
        match &self.params {
            SealParams::Shamir(params) => Some(params),
            SealParams::Passphrase(_) => None,
        }
    }

    /// Checks that the stored kind matches `expected` and agrees with the params.
    fn check_kind(&self, expected: SealKind) -> Result<(), SealError> {
        if self.kind != self.params.kind() {
            return Err(SealError::InconsistentSealedRoot { kind: self.kind });
        }
        if self.kind != expected {
            return Err(SealError::KindMismatch {
                expected,
                found: self.kind,
            });
        }
        Ok(())
    }
}

/// Wraps `root` under `unseal_key` into a sealed root with `params`.
fn seal_with(
    unseal_key: &Key256,
    root: &Key256,
    params: SealParams,
) -> Result<SealedRoot, SealError> {
    let wrapped_root = wrap::wrap(unseal_key, root.expose_secret(), ROOT_AAD)
        .map_err(|source| SealError::WrapRoot { source })?;
    Ok(SealedRoot {
        kind: params.kind(),
        params,
        wrapped_root,
    })
}

/// Unwraps the root key; an authentication failure means wrong unseal material.
fn unseal_with(unseal_key: &Key256, sealed: &SealedRoot) -> Result<Key256, SealError> {
    let root =
        wrap::unwrap(unseal_key, &sealed.wrapped_root, ROOT_AAD).map_err(|error| match error {
            WrapError::AuthenticationFailed => SealError::WrongUnsealMaterial,
            source => SealError::CorruptSealedRoot { source },
        })?;
    Key256::from_slice(root.expose_secret())
        .map_err(|source| SealError::RootKeyWrongLength { source })
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

impl fmt::Debug for ShamirSeal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ShamirSeal")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Serde helper: bytes as standard base64 with padding in JSON.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passphrase(text: &str) -> SecretBytes {
        SecretBytes::from_slice(text.as_bytes())
    }

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

    #[test]
    fn rejects_kind_mismatch() {
        let root = Key256::generate();
        let (shamir_seal, _) = ShamirSeal::initialize(1, 1).unwrap();
        let passphrase_seal =
            PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery")).unwrap();
        let sealed = shamir_seal.seal_root(&root).unwrap();
        assert!(matches!(
            passphrase_seal.unseal_root(&sealed),
            Err(SealError::KindMismatch {
                expected: SealKind::Passphrase,
                found: SealKind::Shamir
            })
        ));
        let mut inconsistent = sealed.clone();
        inconsistent.kind = SealKind::Passphrase;
        assert!(matches!(
            passphrase_seal.unseal_root(&inconsistent),
            Err(SealError::InconsistentSealedRoot { .. })
        ));
    }

    #[test]
    fn rejects_corrupted_sealed_root() {
        let root = Key256::generate();
        let (seal, _) = ShamirSeal::initialize(3, 2).unwrap();
        let sealed = seal.seal_root(&root).unwrap();

        let mut flipped = sealed.clone();
        let last = flipped.wrapped_root.len() - 1;
        flipped.wrapped_root[last] ^= 0x80;
        // Altered ciphertext and wrong shares are indistinguishable to AES-GCM.
        assert!(matches!(
            seal.unseal_root(&flipped),
            Err(SealError::WrongUnsealMaterial)
        ));

        let mut truncated = sealed.clone();
        truncated.wrapped_root.truncate(10);
        assert!(matches!(
            seal.unseal_root(&truncated),
            Err(SealError::CorruptSealedRoot {
                source: WrapError::TooShort { .. }
            })
        ));

        let mut other_set = sealed.clone();
        other_set.params = SealParams::Shamir(ShamirParams {
            set_id: SetId([0; 4]),
            ..*seal.params()
        });
        assert!(matches!(
            seal.unseal_root(&other_set),
            Err(SealError::ShareFromDifferentServer { .. })
        ));
    }

    #[test]
    fn root_of_wrong_length_is_reported() {
        let unseal_key = Key256::generate();
        let (seal, _) = ShamirSeal::initialize(1, 1).unwrap();
        let sealed = SealedRoot {
            kind: SealKind::Shamir,
            params: SealParams::Shamir(*seal.params()),
            wrapped_root: wrap::wrap(&unseal_key, &[1u8; 16], ROOT_AAD).unwrap(),
        };
        assert!(matches!(
            unseal_with(&unseal_key, &sealed),
            Err(SealError::RootKeyWrongLength { .. })
        ));
    }

    #[test]
    fn sealed_root_json_round_trip() {
        let root = Key256::generate();
        let (seal, _) = ShamirSeal::initialize(5, 3).unwrap();
        let sealed = seal.seal_root(&root).unwrap();
        let json = serde_json::to_string(&sealed).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["kind"], "shamir");
        assert_eq!(value["params"]["shamir"]["threshold"], 3);
        assert_eq!(value["params"]["shamir"]["shares"], 5);
        assert_eq!(
            value["params"]["shamir"]["set_id"],
            seal.params().set_id.to_string()
        );
        assert!(value["wrapped_root"].is_string());
        let back: SealedRoot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sealed);
        assert!(seal.unseal_root(&back).unwrap().ct_eq(&root));

        let passphrase_seal =
            PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery")).unwrap();
        let sealed = passphrase_seal.seal_root(&root).unwrap();
        let json = serde_json::to_string(&sealed).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["kind"], "passphrase");
        assert_eq!(value["params"]["passphrase"]["argon2"]["memory_kib"], 64);
        assert!(value["params"]["passphrase"]["salt"].is_string());
        let back: SealedRoot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sealed);
        assert!(passphrase_seal.unseal_root(&back).unwrap().ct_eq(&root));
    }

    #[test]
    fn rejects_bad_set_id_in_json() {
        let json = r#"{"threshold":2,"shares":3,"set_id":"xyz"}"#;
        assert!(serde_json::from_str::<ShamirParams>(json).is_err());
        let json = r#"{"threshold":2,"shares":3,"set_id":"0011223344"}"#;
        assert!(serde_json::from_str::<ShamirParams>(json).is_err());
    }

    #[test]
    fn seals_are_usable_as_trait_objects() {
        let root = Key256::generate();
        let seals: Vec<Box<dyn Seal>> = vec![
            Box::new(ShamirSeal::initialize(2, 2).unwrap().0),
            Box::new(
                PassphraseSeal::new_insecure_for_tests(passphrase("correct horse battery"))
                    .unwrap(),
            ),
        ];
        for seal in &seals {
            let sealed = seal.seal_root(&root).unwrap();
            assert_eq!(sealed.kind, seal.kind());
            assert!(seal.unseal_root(&sealed).unwrap().ct_eq(&root));
        }
    }

    #[test]
    fn error_messages_are_lowercase_without_trailing_period() {
        let set_id = SetId([0xDE, 0xAD, 0xBE, 0xEF]);
        let errors = [
            SealError::WrongUnsealMaterial,
            SealError::PassphraseTooShort {
                actual: 3,
                minimum: 12,
            },
            SealError::InvalidShareConfig {
                source: ShamirError::ZeroThreshold,
            },
            SealError::ShareChecksumMismatch,
            SealError::ShareWrongLength {
                actual: 1,
                expected: 43,
            },
            SealError::UnknownShareVersion { version: 9 },
            SealError::MalformedShare { reason: "index 0" },
            SealError::ShareFromDifferentServer {
                found: set_id,
                expected: SetId([0; 4]),
            },
            SealError::ShareThresholdMismatch {
                found: 2,
                expected: 3,
            },
            SealError::DuplicateShare { index: 2 },
            SealError::ThresholdNotReached { have: 1, need: 3 },
            SealError::ThresholdAlreadyReached,
            SealError::KindMismatch {
                expected: SealKind::Shamir,
                found: SealKind::Passphrase,
            },
            SealError::InconsistentSealedRoot {
                kind: SealKind::Shamir,
            },
            SealError::CorruptSealedRoot {
                source: WrapError::UnknownVersion { version: 2 },
            },
            SealError::Argon2ParamsOutOfRange { what: "memory" },
        ];
        for error in errors {
            let message = error.to_string();
            assert!(!message.ends_with('.'), "{message}");
            assert!(message.starts_with(char::is_lowercase), "{message}");
        }
        let message = SealError::ShareFromDifferentServer {
            found: set_id,
            expected: SetId([0; 4]),
        }
        .to_string();
        assert!(message.contains("set id deadbeef, this server's is 00000000"));
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
