//! Derive Key: a new key or secret data from one base object.

use std::collections::BTreeMap;

use keystore::object::{Algorithm, ObjectType, State};
use keystore::secret::SecretBytes;
use ttlv::{Tag, Value};

use crate::asymmetric::Hash;
use crate::attributes;
use crate::crypto;
use crate::derive;
use crate::error::{KmipError, ResultReason};

use super::labels::{LABEL_USAGE, algorithm_labels, label_number, reported_algorithm};
use super::lifecycle::new_symmetric_key;
use super::values::{algorithm, key_format, object_type};
use super::{Context, Outcome, ciphers, kept, uid};

/// The Derive Key bit of the Cryptographic Usage Mask.
const DERIVE_KEY_USAGE: i64 = 0x0000_0200;

impl Context<'_> {
    /// Derive Key: a new Pre-Active symmetric key (any algorithm and length)
    /// or secret data from one symmetric key or secret data, by PBKDF2, HMAC
    /// (HKDF), NIST SP 800-108 counter mode or encryption of the Derivation
    /// Data (AES, or Blowfish for a key a client registered). The base object
    /// is Active, or Pre-Active with Derive Key in its Cryptographic Usage
    /// Mask: KMIP 1.4 section 4.6 and 2.1 section 6.1.13 make that bit the
    /// condition of Derive Key, and clients (PyKMIP's suite among them)
    /// derive from secrets they registered and never activated.
    pub(super) fn derive_key(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "derive keys")?;
        self.require(self.session.rights.read_material, "use keys")?;
        let object = match self.payload.child(Tag::OBJECT_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Object Type")),
        };
        let bases = self
            .payload
            .children()
            .iter()
            .filter(|item| item.tag == Tag::UNIQUE_IDENTIFIER)
            .count();
        // No identifier: the ID placeholder is the one base object.
        if bases > 1 {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                format!("Derive Key takes exactly one base object here, not {bases}"),
            ));
        }
        let attrs = attributes::read(self.payload)?;
        let bits = attributes::integer(&attrs, Tag::CRYPTOGRAPHIC_LENGTH)?
            .ok_or_else(|| KmipError::missing("Cryptographic Length attribute"))?;
        let (kind, algorithm, length, mut derived_labels) = match object {
            object_type::SYMMETRIC_KEY => {
                let kmip_alg = attributes::enumeration(&attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?
                    .ok_or_else(|| KmipError::missing("Cryptographic Algorithm attribute"))?;
                let (length, algorithm) = new_symmetric_key(kmip_alg, bits)?;
                let labels = algorithm_labels(
                    algorithm,
                    Some(kmip_alg),
                    Some(bits),
                    u32::try_from(length.saturating_mul(8)).unwrap_or(u32::MAX),
                );
                (ObjectType::SymmetricKey, algorithm, length, labels)
            }
            object_type::SECRET_DATA => {
                let (length, _) = new_symmetric_key(0, bits)?;
                (
                    ObjectType::SecretData,
                    Algorithm::None,
                    length,
                    BTreeMap::new(),
                )
            }
            other => {
                return Err(KmipError::invalid(format!(
                    "Derive Key makes symmetric keys or secret data, not object type 0x{other:02X}"
                )));
            }
        };
        let method = match self.payload.child(Tag::DERIVATION_METHOD).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Derivation Method")),
        };
        let parameters = self.payload.child(Tag::DERIVATION_PARAMETERS);
        let field = |tag: Tag| -> Result<Option<&[u8]>, KmipError> {
            match parameters.and_then(|p| p.child(tag)).map(|i| &i.value) {
                None => Ok(None),
                Some(Value::ByteString(bytes)) => Ok(Some(bytes)),
                Some(_) => Err(KmipError::invalid(format!("{tag} must be a byte string"))),
            }
        };
        let crypto_parameters = parameters.and_then(|p| p.child(Tag::CRYPTOGRAPHIC_PARAMETERS));
        let hash = match crypto_parameters
            .and_then(|p| p.child(Tag::HASHING_ALGORITHM))
            .map(|i| &i.value)
        {
            None => Hash::Sha256,
            Some(Value::Enumeration(value)) => Hash::from_kmip(*value)?,
            Some(_) => {
                return Err(KmipError::invalid(
                    "Hashing Algorithm must be an enumeration",
                ));
            }
        };
        let data = field(Tag::DERIVATION_DATA)?;
        let meta = self.live_object()?;
        if !matches!(
            meta.object_type,
            ObjectType::SymmetricKey | ObjectType::SecretData
        ) {
            return Err(KmipError::invalid(format!(
                "object {} is a {}; derive from a symmetric key or secret data",
                meta.id,
                meta.object_type.as_str().replace('_', " ")
            )));
        }
        if meta.object_type == ObjectType::SecretData && !self.session.rights.read_secret_data {
            // What is derived from a secret is as good as the secret: a node
            // reaches secrets only where workload policies decide.
            return Err(KmipError::new(
                ResultReason::PermissionDenied,
                "a node may not derive from secret data; it receives secrets only over HTTPS, where workload policies decide",
            ));
        }
        let may_derive = meta.state == State::Active
            || (meta.state == State::PreActive
                && label_number::<i64>(&meta, LABEL_USAGE)
                    .is_some_and(|mask| mask & DERIVE_KEY_USAGE != 0));
        if !may_derive {
            return Err(KmipError::new(
                ResultReason::WrongKeyLifecycleState,
                format!(
                    "object {} is {}; derive from an active object, or a pre-active one whose Cryptographic Usage Mask allows Derive Key",
                    meta.id, meta.state
                ),
            ));
        }
        let base_algorithm = reported_algorithm(&meta);
        let (meta, base) = self.read_material(meta)?;
        let derived = match method {
            // PBKDF2.
            0x01 => {
                let salt = field(Tag::SALT)?.ok_or_else(|| KmipError::missing("Salt"))?;
                let iterations = match parameters
                    .and_then(|p| p.child(Tag::ITERATION_COUNT))
                    .map(|i| &i.value)
                {
                    Some(Value::Integer(count)) => u32::try_from(*count)
                        .ok()
                        .filter(|count| (1..=derive::MAX_ITERATIONS).contains(count))
                        .ok_or_else(|| {
                            KmipError::invalid(format!(
                                "Iteration Count must be 1 to {}",
                                derive::MAX_ITERATIONS
                            ))
                        })?,
                    _ => return Err(KmipError::missing("Iteration Count")),
                };
                derive::pbkdf2(hash, base.expose_secret(), salt, iterations, length)
            }
            // HMAC.
            0x03 => derive::hkdf(
                hash,
                base.expose_secret(),
                field(Tag::SALT)?.unwrap_or_default(),
                data.unwrap_or_default(),
                length,
            )?,
            // Encrypt.
            0x04 => {
                let data = data.ok_or_else(|| KmipError::missing("Derivation Data"))?;
                let iv = field(Tag::INITIALIZATION_VECTOR)?.unwrap_or_default();
                let enumeration = |tag: Tag| {
                    crypto_parameters.and_then(|parameters| parameters.child_enumeration(tag))
                };
                // PKCS5 when no Padding Method is named, as PyKMIP's server
                // derives, so keys derived on either side match.
                let mode = ciphers::block_mode(
                    enumeration(Tag::BLOCK_CIPHER_MODE),
                    enumeration(Tag::PADDING_METHOD),
                    true,
                )?;
                let key = base.expose_secret();
                let ciphertext = match (base_algorithm, mode) {
                    (Some(algorithm::AES), None) => crypto::gcm_encrypt(key, iv, &[], data)?.0,
                    (Some(algorithm::AES), Some(mode)) => crypto::aes_encrypt(key, mode, iv, data)?,
                    (Some(algorithm::BLOWFISH), Some(mode)) => {
                        crypto::blowfish_encrypt(key, mode, iv, data)?
                    }
                    _ => {
                        return Err(KmipError::invalid(format!(
                            "object {} is not an AES or Blowfish key (in CBC, ECB or CTR); derivation by encryption needs one",
                            meta.id
                        )));
                    }
                };
                let ciphertext = SecretBytes::new(ciphertext);
                let taken = ciphertext.expose_secret().get(..length).ok_or_else(|| {
                    KmipError::invalid(format!(
                        "the encrypted Derivation Data gives {} bytes; {length} are needed",
                        ciphertext.len()
                    ))
                })?;
                SecretBytes::from_slice(taken)
            }
            // NIST SP 800-108 counter mode.
            0x05 => derive::sp800_108_counter(
                hash,
                base.expose_secret(),
                data.ok_or_else(|| KmipError::missing("Derivation Data"))?,
                length,
            )?,
            other => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    format!(
                        "derivation method 0x{other:02X} is not supported; use PBKDF2, HMAC, Encrypt or NIST800-108-C"
                    ),
                ));
            }
        };
        let (name, labels) = self.labels(&attrs)?;
        derived_labels.extend(labels);
        if kept::has_digest(kind) {
            let (digest, value) =
                kept::digest_label(Some(key_format::RAW), derived.expose_secret());
            derived_labels.insert(digest, value);
        }
        let created = self.store_new(
            name.as_deref(),
            kind,
            algorithm,
            derived_labels,
            derived,
            &attrs,
        )?;
        Ok(vec![uid(&created.id)])
    }
}
