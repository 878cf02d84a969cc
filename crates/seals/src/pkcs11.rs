//! The PKCS#11 seal: a non-extractable AES-256 key inside a token encrypts the
//! unseal key. The key is found by its label (and, once the root is sealed, by
//! its id too), and made in the token by `operator init` when absent.
//!
//! The mechanism is probed from the token's mechanism list unless configured:
//! CKM_AES_GCM with C_Encrypt/C_Decrypt when the token allows both, otherwise
//! CKM_AES_KEY_WRAP_PAD (RFC 5649), by C_Encrypt where allowed, else by
//! C_WrapKey of a session object holding the unseal key (both give the same
//! bytes, so either opens what the other made). The PIN is read once, at
//! start, from the variable or file the configuration names; a token that
//! refuses it is never asked again by this process.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as Pkcs11Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use keystore::seal::{
    Pkcs11Mechanism, Pkcs11Params, Seal, SealError, SealKind, SealParams, SealedRoot, seal_with,
    unseal_with,
};
use keystore::secret::{KEY_LEN, Key256, SecretBytes};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::DeviceError;
use crate::secret_source;

/// The label of the token key when the configuration names none.
pub const DEFAULT_KEY_LABEL: &str = "cryptainer-root-wrap";

/// The associated data of the GCM encryption of the unseal key: binds the
/// ciphertext to this use of the token key.
const GCM_AAD: &[u8] = b"cryptainer-pkcs11-unseal-key-v1";

/// The GCM IV length (the one every token supports).
const GCM_IV_LEN: usize = 12;

/// The GCM tag length in bits.
const GCM_TAG_BITS: u64 = 128;

/// Length of the random `CKA_ID` given to a new token key.
const KEY_ID_LEN: usize = 16;

/// `[seal]` settings of a PKCS#11 seal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The AES key's label (default `cryptainer-root-wrap`).
    #[serde(default = "default_key_label")]
    pub key_label: String,
    /// The environment variable holding the user PIN.
    pub pin_env: Option<String>,
    /// A file (mode 0600) holding the user PIN.
    pub pin_file: Option<PathBuf>,
    /// Force a mechanism instead of probing (`aes-gcm`, `aes-key-wrap-pad`).
    pub mechanism: Option<Pkcs11Mechanism>,
}

fn default_key_label() -> String {
    DEFAULT_KEY_LABEL.to_owned()
}

/// A seal whose unseal key is encrypted by an AES key inside a PKCS#11 token.
pub struct Pkcs11Seal {
    config: Pkcs11Config,
    pin: SecretBytes,
    /// Where the PIN came from, for messages (never the PIN).
    pin_source: String,
    /// The loaded module; dropped (finalized) after a failure that may mean
    /// the module or its daemon restarted, and loaded again at the next use.
    context: Mutex<Option<Pkcs11>>,
}

impl Pkcs11Seal {
    /// Reads the PIN from where `config` says; touches no device yet.
    pub fn new(config: Pkcs11Config) -> Result<Pkcs11Seal, DeviceError> {
        let (pin, pin_source) = secret_source::read(
            "the PKCS#11 user PIN",
            config.pin_env.as_deref(),
            config.pin_file.as_deref(),
        )?;
        Ok(Pkcs11Seal {
            config,
            pin,
            pin_source,
            context: Mutex::new(None),
        })
    }

    fn token(&self) -> String {
        self.config.token_label.clone()
    }

    fn call_error(&self, operation: &'static str) -> impl Fn(Pkcs11Error) -> DeviceError + '_ {
        move |source| DeviceError::Pkcs11 {
            operation,
            token: self.token(),
            source,
        }
    }

    /// Runs `body` in a fresh session on the configured token, logged in as
    /// the user when `login` is set.
    fn with_session<T>(
        &self,
        login: bool,
        body: impl FnOnce(&Pkcs11, Slot, &Session) -> Result<T, DeviceError>,
    ) -> Result<T, DeviceError> {
        let mut guard = self.context.lock().unwrap_or_else(PoisonError::into_inner);
        let context = match guard.take() {
            Some(context) => context,
            None => load_module(&self.config.module)?,
        };
        let outcome = (|| {
            let slot = self.find_slot(&context)?;
            let session = context
                .open_rw_session(slot)
                .map_err(self.call_error("C_OpenSession"))?;
            if login {
                let pin = RawAuthPin::new(Box::new(self.pin.expose_secret().to_vec()));
                match session.login_with_raw(UserType::User, &pin) {
                    Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                    Err(
                        source @ Pkcs11Error::Pkcs11(
                            RvError::PinIncorrect
                            | RvError::PinInvalid
                            | RvError::PinLenRange
                            | RvError::PinExpired
                            | RvError::PinLocked
                            | RvError::UserPinNotInitialized,
                            _,
                        ),
                    ) => {
                        return Err(DeviceError::WrongPin {
                            token: self.token(),
                            pin_source: self.pin_source.clone(),
                            source,
                        });
                    }
                    Err(source) => return Err(self.call_error("C_Login")(source)),
                }
            }
            body(&context, slot, &session)
        })();
        // Keep the module loaded unless the failure may mean it lost its
        // state (a restarted daemon, a replaced token): load it afresh then.
        match &outcome {
            Err(error) if error.is_transient() => drop(context),
            _ => *guard = Some(context),
        }
        outcome
    }

    fn find_slot(&self, context: &Pkcs11) -> Result<Slot, DeviceError> {
        let slots = context
            .get_slots_with_token()
            .map_err(self.call_error("C_GetSlotList"))?;
        let mut present = Vec::new();
        for slot in slots {
            let info = context
                .get_token_info(slot)
                .map_err(self.call_error("C_GetTokenInfo"))?;
            let label = info.label().trim_end().to_owned();
            if label == self.config.token_label {
                return Ok(slot);
            }
            present.push(label);
        }
        Err(DeviceError::TokenAbsent {
            label: self.token(),
            present: if present.is_empty() {
                "none".to_owned()
            } else {
                present.join(", ")
            },
        })
    }

    fn find_key(
        &self,
        session: &Session,
        id: Option<&[u8]>,
    ) -> Result<Option<ObjectHandle>, DeviceError> {
        let mut template = vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Label(self.config.key_label.as_bytes().to_vec()),
        ];
        if let Some(id) = id {
            template.push(Attribute::Id(id.to_vec()));
        }
        let found = session
            .find_objects(&template)
            .map_err(self.call_error("C_FindObjects"))?;
        Ok(found.first().copied())
    }

    /// The key's `CKA_ID`.
    fn key_id(&self, session: &Session, key: ObjectHandle) -> Result<Vec<u8>, DeviceError> {
        let attributes = session
            .get_attributes(key, &[AttributeType::Id])
            .map_err(self.call_error("C_GetAttributeValue"))?;
        Ok(attributes
            .into_iter()
            .find_map(|attribute| match attribute {
                Attribute::Id(id) => Some(id),
                _ => None,
            })
            .unwrap_or_default())
    }

    /// Makes the AES-256 key in the token: non-extractable, sensitive, kept.
    fn create_key(&self, session: &Session) -> Result<ObjectHandle, DeviceError> {
        let mut id = vec![0u8; KEY_ID_LEN];
        OsRng.fill_bytes(&mut id);
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen((KEY_LEN as u64).into()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(true),
            Attribute::Unwrap(true),
            Attribute::Label(self.config.key_label.as_bytes().to_vec()),
            Attribute::Id(id),
        ];
        let key = session
            .generate_key(&Mechanism::AesKeyGen, &template)
            .map_err(self.call_error("C_GenerateKey"))?;
        tracing::info!(
            token = %self.config.token_label,
            key = %self.config.key_label,
            "made the seal's AES key in the token"
        );
        Ok(key)
    }

    /// The mechanism to seal with: the configured one if the token supports
    /// it, else the first of GCM and key wrap with padding that it supports.
    fn choose_mechanism(&self, context: &Pkcs11, slot: Slot) -> Result<Choice, DeviceError> {
        // Asked one by one rather than through C_GetMechanismList, whose
        // vendor mechanisms the binding cannot name (and logs as errors).
        let info = |mechanism: MechanismType| match context.get_mechanism_info(slot, mechanism) {
            Ok(info) => Ok(Some(info)),
            Err(Pkcs11Error::Pkcs11(RvError::MechanismInvalid, _)) => Ok(None),
            Err(source) => Err(self.call_error("C_GetMechanismInfo")(source)),
        };
        let gcm =
            info(MechanismType::AES_GCM)?.is_some_and(|info| info.encrypt() && info.decrypt());
        let wrap_pad = info(MechanismType::AES_KEY_WRAP_PAD)?;
        let wrap_pad_by_encrypt = wrap_pad
            .as_ref()
            .is_some_and(|info| info.encrypt() && info.decrypt());
        let wrap_pad_by_wrap = wrap_pad
            .as_ref()
            .is_some_and(|info| info.wrap() && info.unwrap());
        let wrap_pad_choice = if wrap_pad_by_encrypt {
            Some(Choice::KeyWrapByEncrypt)
        } else if wrap_pad_by_wrap {
            Some(Choice::KeyWrapByWrapKey)
        } else {
            None
        };
        match self.config.mechanism {
            Some(Pkcs11Mechanism::AesGcm) if gcm => Ok(Choice::Gcm),
            Some(Pkcs11Mechanism::AesKeyWrapPad) => {
                wrap_pad_choice.ok_or_else(|| DeviceError::MechanismUnsupported {
                    token: self.token(),
                    mechanism: Pkcs11Mechanism::AesKeyWrapPad.as_str(),
                })
            }
            Some(Pkcs11Mechanism::AesGcm) => Err(DeviceError::MechanismUnsupported {
                token: self.token(),
                mechanism: Pkcs11Mechanism::AesGcm.as_str(),
            }),
            None if gcm => Ok(Choice::Gcm),
            None => wrap_pad_choice.ok_or_else(|| DeviceError::NoMechanism {
                token: self.token(),
            }),
        }
    }

    /// Encrypts the unseal key with the token key; returns the parameters.
    fn protect(&self, unseal_key: &Key256) -> Result<Pkcs11Params, DeviceError> {
        self.with_session(true, |context, slot, session| {
            let key = match self.find_key(session, None)? {
                Some(key) => key,
                None => self.create_key(session)?,
            };
            let key_id = self.key_id(session, key)?;
            let choice = self.choose_mechanism(context, slot)?;
            let serial = context
                .get_token_info(slot)
                .map_err(self.call_error("C_GetTokenInfo"))?
                .serial_number()
                .trim_end()
                .to_owned();
            let (mechanism, iv, sealed_key) = match choice {
                Choice::Gcm => {
                    let mut iv = vec![0u8; GCM_IV_LEN];
                    OsRng.fill_bytes(&mut iv);
                    let mut iv_buffer = iv.clone();
                    let params = gcm_params(&mut iv_buffer, self.token())?;
                    let sealed = session
                        .encrypt(&Mechanism::AesGcm(params), key, unseal_key.expose_secret())
                        .map_err(self.call_error("C_Encrypt"))?;
                    (Pkcs11Mechanism::AesGcm, iv, sealed)
                }
                Choice::KeyWrapByEncrypt => {
                    let sealed = session
                        .encrypt(&Mechanism::AesKeyWrapPad, key, unseal_key.expose_secret())
                        .map_err(self.call_error("C_Encrypt"))?;
                    (Pkcs11Mechanism::AesKeyWrapPad, Vec::new(), sealed)
                }
                Choice::KeyWrapByWrapKey => {
                    let sealed = self.wrap_by_wrap_key(session, key, unseal_key)?;
                    (Pkcs11Mechanism::AesKeyWrapPad, Vec::new(), sealed)
                }
            };
            tracing::info!(
                token = %self.config.token_label,
                mechanism = mechanism.as_str(),
                "the token protects the unseal key"
            );
            Ok(Pkcs11Params {
                token_label: self.config.token_label.clone(),
                token_serial: serial,
                key_label: self.config.key_label.clone(),
                key_id: hex::encode(key_id),
                mechanism,
                iv,
                sealed_key,
            })
        })
    }

    /// Key wrap with padding through C_WrapKey: the unseal key becomes a
    /// session object (gone when the session closes), then is wrapped.
    fn wrap_by_wrap_key(
        &self,
        session: &Session,
        key: ObjectHandle,
        unseal_key: &Key256,
    ) -> Result<Vec<u8>, DeviceError> {
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Token(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::Value(unseal_key.expose_secret().to_vec()),
        ];
        let object = session
            .create_object(&template)
            .map_err(self.call_error("C_CreateObject"))?;
        let wrapped = session
            .wrap_key(&Mechanism::AesKeyWrapPad, key, object)
            .map_err(self.call_error("C_WrapKey"));
        let _ = session.destroy_object(object);
        wrapped
    }

    /// Decrypts the unseal key with the token key the parameters name.
    fn recover(&self, params: &Pkcs11Params) -> Result<Key256, DeviceError> {
        let key_id = hex::decode(&params.key_id).unwrap_or_default();
        self.with_session(true, |context, slot, session| {
            let key =
                self.find_key(session, Some(&key_id))?
                    .ok_or_else(|| DeviceError::KeyAbsent {
                        token: self.token(),
                        label: self.config.key_label.clone(),
                        id: params.key_id.clone(),
                    })?;
            let plain = Zeroizing::new(match params.mechanism {
                Pkcs11Mechanism::AesGcm => {
                    let mut iv = params.iv.clone();
                    let gcm = gcm_params(&mut iv, self.token())?;
                    session
                        .decrypt(&Mechanism::AesGcm(gcm), key, &params.sealed_key)
                        .map_err(self.call_error("C_Decrypt"))?
                }
                Pkcs11Mechanism::AesKeyWrapPad => {
                    match self.choose_key_wrap_path(context, slot)? {
                        Choice::KeyWrapByEncrypt => session
                            .decrypt(&Mechanism::AesKeyWrapPad, key, &params.sealed_key)
                            .map_err(self.call_error("C_Decrypt"))?,
                        Choice::Gcm | Choice::KeyWrapByWrapKey => {
                            self.unwrap_by_unwrap_key(session, key, &params.sealed_key)?
                        }
                    }
                }
            });
            Key256::from_slice(&plain).map_err(|_| DeviceError::WrongLength {
                device: "PKCS#11 token",
                actual: plain.len(),
                expected: KEY_LEN,
            })
        })
    }

    fn choose_key_wrap_path(&self, context: &Pkcs11, slot: Slot) -> Result<Choice, DeviceError> {
        let info = context
            .get_mechanism_info(slot, MechanismType::AES_KEY_WRAP_PAD)
            .map_err(self.call_error("C_GetMechanismInfo"))?;
        Ok(if info.decrypt() {
            Choice::KeyWrapByEncrypt
        } else {
            Choice::KeyWrapByWrapKey
        })
    }

    fn unwrap_by_unwrap_key(
        &self,
        session: &Session,
        key: ObjectHandle,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, DeviceError> {
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Token(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
        ];
        let object = session
            .unwrap_key(&Mechanism::AesKeyWrapPad, key, wrapped, &template)
            .map_err(self.call_error("C_UnwrapKey"))?;
        let value = session
            .get_attributes(object, &[AttributeType::Value])
            .map_err(self.call_error("C_GetAttributeValue"));
        let _ = session.destroy_object(object);
        Ok(value?
            .into_iter()
            .find_map(|attribute| match attribute {
                Attribute::Value(value) => Some(value),
                _ => None,
            })
            .unwrap_or_default())
    }
}

/// How the unseal key is protected by this token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Gcm,
    KeyWrapByEncrypt,
    KeyWrapByWrapKey,
}

fn gcm_params(iv: &mut [u8], token: String) -> Result<GcmParams<'_>, DeviceError> {
    GcmParams::new(iv, GCM_AAD, GCM_TAG_BITS.into()).map_err(|source| DeviceError::Pkcs11 {
        operation: "GCM parameters",
        token,
        source,
    })
}

fn load_module(module: &Path) -> Result<Pkcs11, DeviceError> {
    let failed = |source| DeviceError::Pkcs11Module {
        module: module.display().to_string(),
        source,
    };
    let context = Pkcs11::new(module).map_err(failed)?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(context),
        Err(source) => Err(failed(source)),
    }
}

impl Seal for Pkcs11Seal {
    fn kind(&self) -> SealKind {
        SealKind::Pkcs11
    }

    fn seal_root(&self, root: &Key256) -> Result<SealedRoot, SealError> {
        let unseal_key = Key256::generate();
        let params = self
            .protect(&unseal_key)
            .map_err(|error| error.into_seal_error(SealKind::Pkcs11))?;
        seal_with(&unseal_key, root, SealParams::Pkcs11(Box::new(params)))
    }

    fn unseal_root(&self, sealed: &SealedRoot) -> Result<Key256, SealError> {
        sealed.check_kind(SealKind::Pkcs11)?;
        let SealParams::Pkcs11(params) = &sealed.params else {
            return Err(SealError::InconsistentSealedRoot { kind: sealed.kind });
        };
        let unseal_key = self
            .recover(params)
            .map_err(|error| error.into_seal_error(SealKind::Pkcs11))?;
        unseal_with(&unseal_key, sealed)
    }

    fn check(&self) -> Result<(), SealError> {
        // No login: a health probe must never spend a PIN attempt.
        self.with_session(false, |_, _, _| Ok(()))
            .map_err(|error| error.into_seal_error(SealKind::Pkcs11))
    }
}

impl std::fmt::Debug for Pkcs11Seal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Pkcs11Seal")
            .field("config", &self.config)
            .field("pin_source", &self.pin_source)
            .finish_non_exhaustive()
    }
}
