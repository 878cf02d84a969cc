//! The seal that protects the root key at rest: the root key is stored only wrapped
//! under an unseal key, and the unseal key comes from outside the database, either
//! from a quorum of Shamir shares held by people or from an operator's passphrase.
//!
//! or from a device: a PKCS#11 token, a TPM 2.0, or another KMIP key manager
//! (the automatic seals, which unseal without a person).
//!
//! A seal is a [`Seal`] trait object. The stored form is a [`SealedRoot`]: the
//! seal kind, the public parameters needed to rebuild the unseal key (for a
//! device, the unseal key as the device protected it), and the root key wrapped
//! with [`wrap::wrap`] under the unseal key with the associated data
//! [`ROOT_AAD`]. With an automatic seal the sealed root also carries the verifier
//! of the recovery shares ([`recovery`]), which authorize migrations and root
//! rotations but open nothing.
//!
//! The kinds live in their own modules: [`shamir`] (shares held by people),
//! [`passphrase`] (Argon2id), and the stored parameters of the device seals in
//! [`pkcs11`], [`tpm2`] and [`kmip`]. The devices themselves are driven outside
//! this crate (the `seals` crate), which implements [`Seal`] for each; this crate
//! knows nothing of PKCS#11, TPM or KMIP wire formats. [`migrate`] decides what a
//! seal migration keeps.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::secret::{Key256, SecretError};
use crate::shamir::ShamirError;
use crate::wrap::{self, WrapError};

pub mod kmip;
pub mod migrate;
pub mod passphrase;
pub mod pkcs11;
pub mod recovery;
pub mod shamir;
pub mod tpm2;

pub use kmip::{KmipMethod, KmipParams};
pub use passphrase::{Argon2Params, MIN_PASSPHRASE_LEN, PassphraseParams, PassphraseSeal};
use passphrase::{MAX_ITERATIONS, MAX_MEMORY_KIB, MAX_PARALLELISM, MAX_SALT_LEN, MIN_SALT_LEN};
pub use pkcs11::{Pkcs11Mechanism, Pkcs11Params};
pub use recovery::RecoveryParams;
pub use shamir::{Progress, SetId, ShamirParams, ShamirSeal, UnsealProgress, UnsealShare};
pub use tpm2::Tpm2Params;

/// The associated data the root key is wrapped with. The `v1` names this layout;
/// a different layout gets a different string, so old and new cannot be confused.
pub const ROOT_AAD: &[u8] = b"cryptainer-root-v1";

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
    /// An automatic seal's device cannot be reached: its module does not load,
    /// its token is absent, the TPM or the remote key manager does not answer.
    /// Worth retrying: the server retries with backoff until it answers.
    #[error(
        "the {kind} seal cannot reach its device: {source}; check that the device is \
         present and reachable"
    )]
    DeviceUnavailable {
        /// The seal's kind.
        kind: SealKind,
        /// What the device layer reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An automatic seal's device answered and refused: a wrong PIN, a missing
    /// key, a PCR policy the machine no longer meets, a certificate the remote
    /// key manager does not accept. Never retried (a wrong PIN retried would lock
    /// the token): a person must fix the configuration.
    #[error(
        "the {kind} seal's device refused: {source}; fix the seal's configuration \
         (a refusal is never retried)"
    )]
    DeviceRefused {
        /// The seal's kind.
        kind: SealKind,
        /// What the device layer reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The operation needs the recovery shares of this server's automatic seal.
    #[error(
        "this needs {need} of the recovery shares printed at initialization; \
         give them with --recovery-shares"
    )]
    RecoveryRequired {
        /// How many shares are needed.
        need: u8,
    },
    /// The root is sealed without recovery shares, yet they were given.
    #[error(
        "this server has no recovery shares (its seal is {kind}); give its unseal \
         shares or passphrase instead"
    )]
    NoRecoveryShares {
        /// The current seal's kind.
        kind: SealKind,
    },
    /// The recovery shares combine to a key other than this server's.
    #[error(
        "the recovery shares are wrong (they do not match this server's); check them and try again"
    )]
    WrongRecoveryShares,
    /// A migration to the kind already in use.
    #[error("the root key is already sealed with a {kind} seal; nothing to migrate")]
    SameKind {
        /// The kind in use.
        kind: SealKind,
    },
    /// A migration that waits for its new shares was asked to complete, but none waits.
    #[error(
        "no seal migration is waiting for its new shares; start one with `cryptainer operator seal migrate`"
    )]
    NoPendingMigration,
    /// A new migration while another waits for its new shares.
    #[error(
        "a migration to a {kind} seal waits for its new shares; complete it with \
         `cryptainer operator seal migrate --complete` or cancel it with --cancel"
    )]
    MigrationPending {
        /// The pending migration's target kind.
        kind: SealKind,
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
    /// Whether the seal's device answers now, without using any key. Seals
    /// without a device (shares, passphrase) always answer `Ok`; an automatic
    /// seal gives [`SealError::DeviceUnavailable`] while its device is gone.
    fn check(&self) -> Result<(), SealError> {
        Ok(())
    }
}

/// A shared seal is a seal: the server keeps its automatic seal in an `Arc`, to
/// hand it to the keystore at every unseal and to probe the device meanwhile.
impl<S: Seal + ?Sized> Seal for Arc<S> {
    fn kind(&self) -> SealKind {
        (**self).kind()
    }

    fn seal_root(&self, root: &Key256) -> Result<SealedRoot, SealError> {
        (**self).seal_root(root)
    }

    fn unseal_root(&self, sealed: &SealedRoot) -> Result<Key256, SealError> {
        (**self).unseal_root(sealed)
    }

    fn check(&self) -> Result<(), SealError> {
        (**self).check()
    }
}

/// The kinds of seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Not `#[non_exhaustive]`: callers match every kind, so a new one is a
// compile error wherever it needs a decision.
pub enum SealKind {
    /// The unseal key is split into Shamir shares held by people.
    Shamir,
    /// The unseal key is derived from a passphrase with Argon2id.
    Passphrase,
    /// The unseal key is encrypted by a non-extractable AES key in a PKCS#11 token.
    Pkcs11,
    /// The unseal key is a sealed data object of a TPM 2.0.
    Tpm2,
    /// The unseal key is encrypted by (or is) a key held by another KMIP server.
    Kmip,
}

impl SealKind {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            SealKind::Shamir => "shamir",
            SealKind::Passphrase => "passphrase",
            SealKind::Pkcs11 => "pkcs11",
            SealKind::Tpm2 => "tpm2",
            SealKind::Kmip => "kmip",
        }
    }

    /// Whether this kind unseals without a person (a device holds the unseal
    /// key); such seals come with recovery shares.
    pub fn is_automatic(self) -> bool {
        match self {
            SealKind::Shamir | SealKind::Passphrase => false,
            SealKind::Pkcs11 | SealKind::Tpm2 | SealKind::Kmip => true,
        }
    }

    /// Every kind, in the order the documentation lists them.
    pub const ALL: [SealKind; 5] = [
        SealKind::Shamir,
        SealKind::Passphrase,
        SealKind::Pkcs11,
        SealKind::Tpm2,
        SealKind::Kmip,
    ];

    /// The kind named `name` (`shamir`, `passphrase`, `pkcs11`, `tpm2`, `kmip`).
    pub fn from_name(name: &str) -> Option<SealKind> {
        SealKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for SealKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What is needed, besides the secret material, to rebuild a seal's unseal key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealParams {
    /// Parameters of a [`ShamirSeal`].
    Shamir(ShamirParams),
    /// Parameters of a [`PassphraseSeal`].
    Passphrase(PassphraseParams),
    /// Parameters of a PKCS#11 seal (boxed: far larger than the others).
    Pkcs11(Box<Pkcs11Params>),
    /// Parameters of a TPM 2.0 seal.
    Tpm2(Tpm2Params),
    /// Parameters of a remote KMIP seal (boxed: far larger than the others).
    Kmip(Box<KmipParams>),
}

/// Which device and key an automatic seal uses, for `status`, the audit log and
/// error messages: names and identifiers, never key material.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SealIdentity {
    /// The token (PKCS#11 token label), TPM (`tpm2`) or remote server (KMIP).
    pub token: Option<String>,
    /// The key: PKCS#11 key label, TPM PCR selection, remote key's identifier.
    pub key: Option<String>,
    /// How the device protects the unseal key (`aes-gcm`, `aes-key-wrap-pad`,
    /// `sealed-data`, `encrypt`, `get`).
    pub mechanism: Option<String>,
}

impl SealParams {
    /// The kind of seal these parameters belong to.
    pub fn kind(&self) -> SealKind {
        match self {
            SealParams::Shamir(_) => SealKind::Shamir,
            SealParams::Passphrase(_) => SealKind::Passphrase,
            SealParams::Pkcs11(_) => SealKind::Pkcs11,
            SealParams::Tpm2(_) => SealKind::Tpm2,
            SealParams::Kmip(_) => SealKind::Kmip,
        }
    }

    /// The device and key these parameters name (empty for the manual seals).
    pub fn identity(&self) -> SealIdentity {
        match self {
            SealParams::Shamir(_) | SealParams::Passphrase(_) => SealIdentity::default(),
            SealParams::Pkcs11(params) => params.identity(),
            SealParams::Tpm2(params) => params.identity(),
            SealParams::Kmip(params) => params.identity(),
        }
    }

    /// `(threshold, shares)` of a Shamir seal, for status displays; `None` for
    /// other kinds.
    pub fn shamir_counts(&self) -> Option<(u8, u8)> {
        match self {
            SealParams::Shamir(params) => Some((params.threshold, params.shares)),
            SealParams::Passphrase(_)
            | SealParams::Pkcs11(_)
            | SealParams::Tpm2(_)
            | SealParams::Kmip(_) => None,
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
    /// The recovery shares' parameters and verifier, with an automatic seal.
    /// Absent in sealed roots written before automatic seals existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryParams>,
}

impl SealedRoot {
    /// The Shamir parameters, if this root is sealed with Shamir shares; a server
    /// uses them to start an [`UnsealProgress`].
    pub fn shamir_params(&self) -> Option<&ShamirParams> {
        match &self.params {
            SealParams::Shamir(params) => Some(params),
            SealParams::Passphrase(_)
            | SealParams::Pkcs11(_)
            | SealParams::Tpm2(_)
            | SealParams::Kmip(_) => None,
        }
    }

    /// What the audit log records of this seal: its kind and the device and key
    /// it names, e.g. `pkcs11 token=cryptainer key=cryptainer-root-wrap`, or
    /// `shamir set=1a2b3c4d`. Names and identifiers only.
    pub fn audit_id(&self) -> String {
        let mut text = self.kind.as_str().to_owned();
        if let Some(params) = self.shamir_params() {
            text.push_str(&format!(" set={}", params.set_id));
        }
        let identity = self.params.identity();
        for (name, value) in [
            ("token", &identity.token),
            ("key", &identity.key),
            ("mechanism", &identity.mechanism),
        ] {
            if let Some(value) = value {
                text.push_str(&format!(" {name}={value}"));
            }
        }
        text
    }

    /// Checks that the stored kind matches `expected` and agrees with the params.
    pub fn check_kind(&self, expected: SealKind) -> Result<(), SealError> {
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

/// Wraps `root` under `unseal_key` into a sealed root with `params` (and no
/// recovery parameters: the keystore adds them). Device seals call this with the
/// unseal key their device protects.
pub fn seal_with(
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
        recovery: None,
    })
}

/// Unwraps the root key; an authentication failure means wrong unseal material.
/// Device seals call this with the unseal key their device gave back.
pub fn unseal_with(unseal_key: &Key256, sealed: &SealedRoot) -> Result<Key256, SealError> {
    let root =
        wrap::unwrap(unseal_key, &sealed.wrapped_root, ROOT_AAD).map_err(|error| match error {
            WrapError::AuthenticationFailed => SealError::WrongUnsealMaterial,
            source => SealError::CorruptSealedRoot { source },
        })?;
    Key256::from_slice(root.expose_secret())
        .map_err(|source| SealError::RootKeyWrongLength { source })
}

/// Serde helper: bytes as standard base64 with padding in JSON.
pub(crate) mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::passphrase::tests::passphrase;
    use super::*;

    #[test]
    fn every_kind_has_one_name_and_the_automatic_ones_say_so() {
        for kind in SealKind::ALL {
            assert_eq!(SealKind::from_name(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(SealKind::from_name("hsm"), None);
        let automatic: Vec<_> = SealKind::ALL
            .into_iter()
            .filter(|kind| kind.is_automatic())
            .collect();
        assert_eq!(
            automatic,
            [SealKind::Pkcs11, SealKind::Tpm2, SealKind::Kmip]
        );
    }

    #[test]
    fn audit_ids_name_the_device_and_key_never_material() {
        let params = Pkcs11Params {
            token_label: "cryptainer".to_owned(),
            token_serial: "1d4f".to_owned(),
            key_label: "cryptainer-root-wrap".to_owned(),
            key_id: "00ff".to_owned(),
            mechanism: Pkcs11Mechanism::AesGcm,
            iv: vec![7; 12],
            sealed_key: vec![9; 48],
        };
        let sealed = seal_with(
            &Key256::generate(),
            &Key256::generate(),
            SealParams::Pkcs11(Box::new(params)),
        )
        .unwrap();
        assert_eq!(
            sealed.audit_id(),
            "pkcs11 token=cryptainer key=cryptainer-root-wrap mechanism=aes-gcm"
        );
        let (shamir, _) = ShamirSeal::initialize(2, 2).unwrap();
        let sealed = shamir.seal_root(&Key256::generate()).unwrap();
        assert_eq!(
            sealed.audit_id(),
            format!("shamir set={}", shamir.params().set_id)
        );
        // A sealed root written before the automatic seals reads unchanged.
        let mut json: serde_json::Value = serde_json::to_value(&sealed).unwrap();
        assert!(json.get("recovery").is_none());
        json["recovery"] = serde_json::Value::Null;
        let back: SealedRoot = serde_json::from_value(json).unwrap();
        assert_eq!(back, sealed);
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
            recovery: None,
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
            SealError::DeviceUnavailable {
                kind: SealKind::Tpm2,
                source: Box::new(std::io::Error::other("connection refused")),
            },
            SealError::DeviceRefused {
                kind: SealKind::Pkcs11,
                source: Box::new(std::io::Error::other("wrong PIN")),
            },
            SealError::RecoveryRequired { need: 3 },
            SealError::NoRecoveryShares {
                kind: SealKind::Shamir,
            },
            SealError::WrongRecoveryShares,
            SealError::SameKind {
                kind: SealKind::Kmip,
            },
            SealError::NoPendingMigration,
            SealError::MigrationPending {
                kind: SealKind::Shamir,
            },
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
}
