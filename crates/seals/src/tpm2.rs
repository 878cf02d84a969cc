//! The TPM 2.0 seal: the unseal key is the sensitive data of a sealed data
//! object (a keyed-hash object with no scheme) under the owner (storage)
//! hierarchy's primary key. The TPM returns the object's private area
//! encrypted under that primary key, which is derived from the TPM's own
//! seed: the stored blob opens on this TPM only, so a copied disk does not
//! unseal elsewhere. With `pcrs`, the object's policy also requires the SHA-256
//! PCRs to hold the values they held when the root was sealed (the boot chain
//! that measured them), and nothing else can read it (`userWithAuth` clear).
//!
//! The primary key is made again at each use from the standard ECC P-256
//! storage template (the TCG's "SRK" shape): the same seed and template give the
//! same key, so nothing is left in the TPM's persistent memory, and a context is
//! opened per operation, so a TPM that was unreachable is used again as soon as
//! it answers.

use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use keystore::seal::{
    Seal, SealError, SealKind, SealParams, SealedRoot, Tpm2Params, seal_with, unseal_with,
};
use keystore::secret::{KEY_LEN, Key256};
use serde::Deserialize;
use tss_esapi::attributes::{ObjectAttributesBuilder, SessionAttributesBuilder};
use tss_esapi::constants::SessionType;
use tss_esapi::constants::response_code::{Tss2ResponseCode, Tss2ResponseCodeKind};
use tss_esapi::handles::KeyHandle;
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::{AuthSession, PolicySession};
use tss_esapi::structures::{
    Digest, EccPoint, KeyedHashScheme, PcrSelectionList, PcrSelectionListBuilder, PcrSlot, Private,
    Public, PublicBuilder, PublicEccParametersBuilder, PublicKeyedHashParameters, SensitiveData,
    SymmetricDefinition, SymmetricDefinitionObject,
};
use tss_esapi::tcti_ldr::TctiNameConf;
use tss_esapi::traits::{Marshall, UnMarshall};
use tss_esapi::{Context, Error as TssError};
use zeroize::Zeroizing;

use crate::error::DeviceError;

/// The TCTI when the configuration names none: the kernel's resource manager.
pub const DEFAULT_TCTI: &str = "device:/dev/tpmrm0";

/// Highest PCR index of a PC TPM (24 PCRs).
const MAX_PCR: u8 = 23;

/// `[seal]` settings of a TPM 2.0 seal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tpm2Config {
    /// The TSS2 TCTI: `device:/dev/tpmrm0` (default), or
    /// `swtpm:host=127.0.0.1,port=2321` for a software TPM.
    #[serde(default = "default_tcti")]
    pub tcti: String,
    /// SHA-256 PCRs the root is bound to, e.g. `[0, 2, 4, 7]` (firmware, option
    /// ROMs, boot loader, Secure Boot state); none by default.
    #[serde(default, deserialize_with = "pcr_list")]
    pub pcrs: Vec<u8>,
}

fn default_tcti() -> String {
    DEFAULT_TCTI.to_owned()
}

fn pcr_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let mut pcrs = Vec::<u8>::deserialize(deserializer)?;
    if let Some(bad) = pcrs.iter().find(|pcr| **pcr > MAX_PCR) {
        return Err(serde::de::Error::custom(format_args!(
            "PCR {bad} does not exist; PCRs are numbered 0 to {MAX_PCR}"
        )));
    }
    pcrs.sort_unstable();
    pcrs.dedup();
    Ok(pcrs)
}

/// A seal whose unseal key is a sealed data object of a TPM 2.0.
pub struct Tpm2Seal {
    config: Tpm2Config,
    /// One command sequence at a time: a TPM is a serial device.
    busy: Mutex<()>,
}

impl Tpm2Seal {
    /// A seal for the TPM `config` names; touches no device yet.
    pub fn new(config: Tpm2Config) -> Tpm2Seal {
        Tpm2Seal {
            config,
            busy: Mutex::new(()),
        }
    }

    fn connect(&self) -> Result<Context, DeviceError> {
        let unreachable = |source| DeviceError::TpmUnreachable {
            tcti: self.config.tcti.clone(),
            source,
        };
        let tcti = TctiNameConf::from_str(&self.config.tcti).map_err(unreachable)?;
        Context::new(tcti).map_err(unreachable)
    }

    fn selection(pcrs: &[u8]) -> Result<Option<PcrSelectionList>, DeviceError> {
        if pcrs.is_empty() {
            return Ok(None);
        }
        let slots = pcrs
            .iter()
            .map(|pcr| PcrSlot::try_from(1u32 << u32::from(*pcr)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| DeviceError::TpmRefused {
                operation: "PCR selection",
                source,
            })?;
        PcrSelectionListBuilder::new()
            .with_selection(HashingAlgorithm::Sha256, &slots)
            .build()
            .map(Some)
            .map_err(|source| DeviceError::TpmRefused {
                operation: "PCR selection",
                source,
            })
    }

    /// Seals `unseal_key` into a new object under the primary key.
    fn protect(&self, unseal_key: &Key256) -> Result<Tpm2Params, DeviceError> {
        let _busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        let mut context = self.connect()?;
        let selection = Tpm2Seal::selection(&self.config.pcrs)?;
        let primary = primary_key(&mut context)?;
        let policy = match &selection {
            Some(selection) => Some(pcr_policy_digest(&mut context, selection.clone())?),
            None => None,
        };
        let template = sealed_object_template(policy)?;
        let sensitive =
            SensitiveData::try_from(unseal_key.expose_secret().to_vec()).map_err(|source| {
                DeviceError::TpmRefused {
                    operation: "sealed data",
                    source,
                }
            })?;
        let created = context
            .execute_with_nullauth_session(|context| {
                context.create(primary, template, None, Some(sensitive), None, None)
            })
            .map_err(|source| tpm_error("TPM2_Create", source));
        let _ = context.flush_context(primary.into());
        let created = created?;
        let public = created
            .out_public
            .marshall()
            .map_err(|source| tpm_error("marshalling the public area", source))?;
        Ok(Tpm2Params {
            pcrs: self.config.pcrs.clone(),
            public,
            private: created.out_private.value().to_vec(),
        })
    }

    /// Loads the sealed object and unseals it, under its PCR policy if any.
    fn recover(&self, params: &Tpm2Params) -> Result<Key256, DeviceError> {
        let _busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        let public = Public::unmarshall(&params.public)
            .map_err(|source| refused("reading the stored public area", source))?;
        let private = Private::try_from(params.private.clone())
            .map_err(|source| refused("reading the stored private area", source))?;
        let selection = Tpm2Seal::selection(&params.pcrs)?;
        let mut context = self.connect()?;
        let primary = primary_key(&mut context)?;
        let loaded = context
            .execute_with_nullauth_session(|context| context.load(primary, private, public))
            .map_err(|source| tpm_error("TPM2_Load", source));
        let _ = context.flush_context(primary.into());
        let object = loaded?;
        let unsealed = match selection {
            None => context
                .execute_with_nullauth_session(|context| context.unseal(object.into()))
                .map_err(|source| tpm_error("TPM2_Unseal", source)),
            Some(selection) => {
                unseal_under_policy(&mut context, object, selection).map_err(|source| {
                    if is_policy_failure(&source) {
                        DeviceError::PcrPolicy {
                            pcrs: pcr_names(&params.pcrs),
                            source,
                        }
                    } else {
                        tpm_error("TPM2_Unseal", source)
                    }
                })
            }
        };
        let _ = context.flush_context(object.into());
        let unsealed = unsealed?;
        let bytes = Zeroizing::new(unsealed.value().to_vec());
        Key256::from_slice(&bytes).map_err(|_| DeviceError::WrongLength {
            device: "TPM",
            actual: bytes.len(),
            expected: KEY_LEN,
        })
    }
}

fn pcr_names(pcrs: &[u8]) -> String {
    pcrs.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

/// A TPM-generated refusal (format one) is the TPM's answer; anything else
/// (the TCTI lost the connection) may pass.
fn tpm_error(operation: &'static str, source: TssError) -> DeviceError {
    match source {
        TssError::Tss2Error(Tss2ResponseCode::FormatOne(_)) => {
            DeviceError::TpmRefused { operation, source }
        }
        _ => DeviceError::Tpm { operation, source },
    }
}

fn refused(operation: &'static str, source: TssError) -> DeviceError {
    DeviceError::TpmRefused { operation, source }
}

fn is_policy_failure(error: &TssError) -> bool {
    match error {
        TssError::Tss2Error(code) => matches!(
            code.kind(),
            Some(Tss2ResponseCodeKind::PolicyFail | Tss2ResponseCodeKind::PcrChanged)
        ),
        TssError::WrapperError(_) => false,
    }
}

/// The owner hierarchy's ECC P-256 storage key, made from the standard template.
fn primary_key(context: &mut Context) -> Result<KeyHandle, DeviceError> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_no_da(true)
        .with_restricted(true)
        .with_decrypt(true)
        .build()
        .map_err(|source| refused("the primary key's attributes", source))?;
    let template = PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Ecc)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_ecc_parameters(
            PublicEccParametersBuilder::new_restricted_decryption_key(
                SymmetricDefinitionObject::AES_128_CFB,
                EccCurve::NistP256,
            )
            .build()
            .map_err(|source| refused("the primary key's parameters", source))?,
        )
        .with_ecc_unique_identifier(EccPoint::default())
        .build()
        .map_err(|source| refused("the primary key's template", source))?;
    context
        .execute_with_nullauth_session(|context| {
            context.create_primary(Hierarchy::Owner, template, None, None, None, None)
        })
        .map(|created| created.key_handle)
        .map_err(|source| tpm_error("TPM2_CreatePrimary", source))
}

/// The template of the sealed data object: bound to this TPM and parent, its
/// data given by us (the unseal key), readable only through `policy` when one
/// is given, otherwise with the empty authorization.
fn sealed_object_template(policy: Option<Digest>) -> Result<Public, DeviceError> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_no_da(true)
        .with_admin_with_policy(true)
        .with_user_with_auth(policy.is_none())
        .build()
        .map_err(|source| refused("the sealed object's attributes", source))?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::KeyedHash)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_auth_policy(policy.unwrap_or_default())
        .with_keyed_hash_parameters(PublicKeyedHashParameters::new(KeyedHashScheme::Null))
        .with_keyed_hash_unique_identifier(Digest::default())
        .build()
        .map_err(|source| refused("the sealed object's template", source))
}

fn policy_session(context: &mut Context, kind: SessionType) -> Result<AuthSession, TssError> {
    let session = context
        .start_auth_session(
            None,
            None,
            None,
            kind,
            SymmetricDefinition::AES_128_CFB,
            HashingAlgorithm::Sha256,
        )?
        .ok_or(TssError::WrapperError(
            tss_esapi::WrapperErrorKind::WrongValueFromTpm,
        ))?;
    let (attributes, mask) = SessionAttributesBuilder::new()
        .with_decrypt(true)
        .with_encrypt(true)
        .build();
    context.tr_sess_set_attributes(session, attributes, mask)?;
    Ok(session)
}

/// The policy digest of "these PCRs hold their current values": a trial
/// session given an empty PCR digest takes the PCRs' values as they are.
fn pcr_policy_digest(
    context: &mut Context,
    selection: PcrSelectionList,
) -> Result<Digest, DeviceError> {
    let digest = (|| {
        let session = policy_session(context, SessionType::Trial)?;
        let policy = PolicySession::try_from(session)?;
        let outcome = context
            .policy_pcr(policy, Digest::default(), selection)
            .and_then(|()| context.policy_get_digest(policy));
        let _ = context.flush_context(tss_esapi::handles::SessionHandle::from(session).into());
        outcome
    })();
    digest.map_err(|source| tpm_error("TPM2_PolicyPCR (trial)", source))
}

fn unseal_under_policy(
    context: &mut Context,
    object: KeyHandle,
    selection: PcrSelectionList,
) -> Result<SensitiveData, TssError> {
    let session = policy_session(context, SessionType::Policy)?;
    let policy = PolicySession::try_from(session)?;
    let outcome = context
        .policy_pcr(policy, Digest::default(), selection)
        .and_then(|()| {
            context.execute_with_session(Some(session), |context| context.unseal(object.into()))
        });
    let _ = context.flush_context(tss_esapi::handles::SessionHandle::from(session).into());
    outcome
}

impl Seal for Tpm2Seal {
    fn kind(&self) -> SealKind {
        SealKind::Tpm2
    }

    fn seal_root(&self, root: &Key256) -> Result<SealedRoot, SealError> {
        let unseal_key = Key256::generate();
        let params = self
            .protect(&unseal_key)
            .map_err(|error| error.into_seal_error(SealKind::Tpm2))?;
        seal_with(&unseal_key, root, SealParams::Tpm2(params))
    }

    fn unseal_root(&self, sealed: &SealedRoot) -> Result<Key256, SealError> {
        sealed.check_kind(SealKind::Tpm2)?;
        let SealParams::Tpm2(params) = &sealed.params else {
            return Err(SealError::InconsistentSealedRoot { kind: sealed.kind });
        };
        let unseal_key = self
            .recover(params)
            .map_err(|error| error.into_seal_error(SealKind::Tpm2))?;
        unseal_with(&unseal_key, sealed)
    }

    fn check(&self) -> Result<(), SealError> {
        let _busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        let mut context = self
            .connect()
            .map_err(|error| error.into_seal_error(SealKind::Tpm2))?;
        // One cheap command proves the TPM answers, not merely that a socket opened.
        context
            .get_random(1)
            .map(|_| ())
            .map_err(|source| tpm_error("TPM2_GetRandom", source).into_seal_error(SealKind::Tpm2))
    }
}

impl std::fmt::Debug for Tpm2Seal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Tpm2Seal")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
