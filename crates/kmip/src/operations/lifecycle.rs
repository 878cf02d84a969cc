//! The life of one object: Create, Register, Re-key, Activate, Revoke and
//! Destroy.

use std::collections::BTreeMap;

use keystore::object::{Algorithm, ObjectMeta, ObjectType, RevocationReason};
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, KeystoreError};
use ttlv::{Item, Tag, Value};

use crate::asymmetric;
use crate::attributes;
use crate::error::{KmipError, ResultReason};

use super::formats::{key_block_material, transparent_import, unwrapped_key_material};
use super::labels::split_key_labels;
use super::values::{
    algorithm, algorithm_matches, certificate_type, keystore_algorithm, object_type,
    object_type_from_kmip,
};
use super::{Context, Outcome, store_error, uid};

impl Context<'_> {
    pub(super) fn create(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "create objects")?;
        let object = match self.payload.child(Tag::OBJECT_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Object Type")),
        };
        if object != object_type::SYMMETRIC_KEY {
            return Err(KmipError::invalid(
                "Create makes symmetric keys only; use Register for other objects",
            ));
        }
        let attrs = attributes::read(self.payload)?;
        let kmip_alg = attributes::enumeration(&attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?
            .ok_or_else(|| KmipError::missing("Cryptographic Algorithm attribute"))?;
        let bits = attributes::integer(&attrs, Tag::CRYPTOGRAPHIC_LENGTH)?
            .ok_or_else(|| KmipError::missing("Cryptographic Length attribute"))?;
        let algorithm = keystore_algorithm(kmip_alg, bits)?;
        let (name, labels) = self.labels(&attrs)?;
        let bytes = usize::try_from(algorithm.key_bits() / 8).unwrap_or(32);
        let meta = self.store_new(
            name.as_deref(),
            ObjectType::SymmetricKey,
            algorithm,
            labels,
            SecretBytes::random(bytes),
        )?;
        Ok(vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(object)),
            uid(&meta.id),
        ])
    }

    pub(super) fn register(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "register objects")?;
        let object = match self.payload.child(Tag::OBJECT_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Object Type")),
        };
        let object_kind = object_type_from_kmip(object).ok_or_else(|| {
            KmipError::new(
                ResultReason::FeatureNotSupported,
                format!("registering objects of type 0x{object:02X} is not supported; certificates, symmetric, public, private and split keys, secret data and opaque objects are"),
            )
        })?;
        let attrs = attributes::read(self.payload)?;
        let mut split_labels = BTreeMap::new();
        let (material, algorithm) = match object_kind {
            ObjectType::SplitKey => {
                let split = self
                    .payload
                    .child(Tag::SPLIT_KEY)
                    .ok_or_else(|| KmipError::missing("Split Key"))?;
                split_labels = split_key_labels(split)?;
                let block = split
                    .child(Tag::KEY_BLOCK)
                    .ok_or_else(|| KmipError::missing("Key Block in the Split Key"))?;
                let material = key_block_material(block)?;
                let bits = i32::try_from(material.len().saturating_mul(8)).unwrap_or(i32::MAX);
                // The part is stored, not used: an algorithm this server does
                // not use is kept out of the attributes rather than refused.
                let algorithm = match block.child(Tag::CRYPTOGRAPHIC_ALGORITHM).map(|i| &i.value) {
                    Some(Value::Enumeration(kmip_alg)) => {
                        keystore_algorithm(*kmip_alg, bits).unwrap_or(Algorithm::None)
                    }
                    _ => Algorithm::None,
                };
                (material, algorithm)
            }
            ObjectType::SymmetricKey => {
                let block = self
                    .payload
                    .child(Tag::SYMMETRIC_KEY)
                    .and_then(|key| key.child(Tag::KEY_BLOCK))
                    .ok_or_else(|| KmipError::missing("Symmetric Key with a Key Block"))?;
                let material = key_block_material(block)?;
                let kmip_alg = match block.child(Tag::CRYPTOGRAPHIC_ALGORITHM).map(|i| &i.value) {
                    Some(Value::Enumeration(value)) => Some(*value),
                    _ => attributes::enumeration(&attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?,
                }
                .unwrap_or(algorithm::AES);
                let bits = i32::try_from(material.len().saturating_mul(8)).unwrap_or(i32::MAX);
                (material, keystore_algorithm(kmip_alg, bits)?)
            }
            ObjectType::SecretData => {
                let block = self
                    .payload
                    .child(Tag::SECRET_DATA)
                    .and_then(|data| data.child(Tag::KEY_BLOCK))
                    .ok_or_else(|| KmipError::missing("Secret Data with a Key Block"))?;
                (key_block_material(block)?, Algorithm::None)
            }
            ObjectType::PublicKey | ObjectType::PrivateKey => {
                self.asymmetric_material(object_kind == ObjectType::PrivateKey, &attrs)?
            }
            ObjectType::Certificate => {
                let certificate = self
                    .payload
                    .child(Tag::CERTIFICATE)
                    .ok_or_else(|| KmipError::missing("Certificate"))?;
                match certificate.child(Tag::CERTIFICATE_TYPE).map(|i| &i.value) {
                    Some(Value::Enumeration(certificate_type::X509)) => {}
                    Some(Value::Enumeration(other)) => {
                        return Err(KmipError::new(
                            ResultReason::FeatureNotSupported,
                            format!(
                                "certificate type 0x{other:02X} is not supported; register X.509 certificates"
                            ),
                        ));
                    }
                    _ => return Err(KmipError::missing("Certificate Type")),
                }
                let der = match certificate.child(Tag::CERTIFICATE_VALUE).map(|i| &i.value) {
                    Some(Value::ByteString(bytes)) => bytes,
                    _ => return Err(KmipError::missing("Certificate Value")),
                };
                let algorithm = asymmetric::import_certificate(der)?;
                (SecretBytes::from_slice(der), algorithm)
            }
            _ => {
                let value = match self
                    .payload
                    .child(Tag::OPAQUE_OBJECT)
                    .and_then(|opaque| opaque.child(Tag::OPAQUE_DATA_VALUE))
                    .map(|item| &item.value)
                {
                    Some(Value::ByteString(bytes)) => SecretBytes::from_slice(bytes),
                    _ => {
                        return Err(KmipError::missing(
                            "Opaque Object with an Opaque Data Value",
                        ));
                    }
                };
                (value, Algorithm::None)
            }
        };
        if material.is_empty() {
            return Err(KmipError::invalid("the object's material is empty"));
        }
        let (name, mut labels) = self.labels(&attrs)?;
        labels.extend(split_labels);
        let meta = self.store_new(name.as_deref(), object_kind, algorithm, labels, material)?;
        Ok(vec![uid(&meta.id)])
    }

    /// The material and algorithm of a public or private key being registered:
    /// its Key Block's material in the format the block names, read and
    /// checked by `asymmetric`, and stored as SubjectPublicKeyInfo or PKCS#8.
    /// A Cryptographic Algorithm or Length in the block or the attributes must
    /// agree with the key.
    pub(super) fn asymmetric_material(
        &self,
        private: bool,
        attrs: &[Item],
    ) -> Result<(SecretBytes, Algorithm), KmipError> {
        let (tag, what) = if private {
            (Tag::PRIVATE_KEY, "Private Key with a Key Block")
        } else {
            (Tag::PUBLIC_KEY, "Public Key with a Key Block")
        };
        let block = self
            .payload
            .child(tag)
            .and_then(|key| key.child(Tag::KEY_BLOCK))
            .ok_or_else(|| KmipError::missing(what))?;
        let format = match block.child(Tag::KEY_FORMAT_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Key Format Type in the Key Block")),
        };
        let material = unwrapped_key_material(block)?;
        let (algorithm, stored) = match &material.value {
            Value::ByteString(bytes) if private => asymmetric::import_private(format, bytes)?,
            Value::ByteString(bytes) => {
                let (algorithm, spki) = asymmetric::import_public(format, bytes)?;
                (algorithm, SecretBytes::new(spki))
            }
            Value::Structure(_) => transparent_import(format, private, material)?,
            _ => {
                return Err(KmipError::invalid(
                    "Key Material must be a byte string or a transparent key structure",
                ));
            }
        };
        let enumeration = |tag: Tag| -> Result<Option<u32>, KmipError> {
            match block.child(tag).map(|i| &i.value) {
                Some(Value::Enumeration(value)) => Ok(Some(*value)),
                Some(_) => Err(KmipError::invalid(format!("{tag} must be an enumeration"))),
                None => attributes::enumeration(attrs, tag),
            }
        };
        if let Some(named) = enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)? {
            if !algorithm_matches(algorithm, named) {
                return Err(KmipError::invalid(format!(
                    "the key is an {} key but its Cryptographic Algorithm is 0x{named:02X}",
                    algorithm.family().to_uppercase()
                )));
            }
        }
        let length = match block.child(Tag::CRYPTOGRAPHIC_LENGTH).map(|i| &i.value) {
            Some(Value::Integer(bits)) => Some(*bits),
            Some(_) => {
                return Err(KmipError::invalid(
                    "Cryptographic Length must be an integer",
                ));
            }
            None => attributes::integer(attrs, Tag::CRYPTOGRAPHIC_LENGTH)?,
        };
        if let Some(bits) = length {
            if i64::from(bits) != i64::from(algorithm.key_bits()) {
                return Err(KmipError::invalid(format!(
                    "the key is {} bits long but its Cryptographic Length is {bits}",
                    algorithm.key_bits()
                )));
            }
        }
        Ok((stored, algorithm))
    }

    pub(super) fn rekey(&self) -> Outcome {
        self.change("re-key objects", Keystore::rotate)
    }

    pub(super) fn activate(&self) -> Outcome {
        self.change("activate objects", Keystore::activate)
    }

    pub(super) fn revoke(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "revoke objects")?;
        let meta = self.object()?;
        let code = match self
            .payload
            .child(Tag::REVOCATION_REASON)
            .and_then(|reason| reason.child(Tag::REVOCATION_REASON_CODE))
            .map(|item| &item.value)
        {
            Some(Value::Enumeration(code)) => *code,
            _ => return Err(KmipError::missing("Revocation Reason with a code")),
        };
        let reason = match code {
            // Key Compromise, CA Compromise.
            2 | 3 => RevocationReason::Compromised,
            // Superseded.
            5 => RevocationReason::Superseded,
            // Cessation of Operation.
            6 => RevocationReason::CessationOfOperation,
            _ => RevocationReason::Unspecified,
        };
        let updated = self
            .keystore
            .revoke(&self.session.caller, &meta, reason)
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&updated.id)])
    }

    pub(super) fn destroy(&self) -> Outcome {
        self.change("destroy objects", Keystore::destroy)
    }

    /// An operation that changes the object the payload names with one
    /// keystore call (`what` the caller's role must allow) and answers its
    /// identifier.
    fn change(
        &self,
        what: &str,
        change: impl FnOnce(&Keystore, &Caller, &ObjectMeta) -> Result<ObjectMeta, KeystoreError>,
    ) -> Outcome {
        self.require(self.session.rights.manage_keys, what)?;
        let meta = self.object()?;
        let updated = change(self.keystore, &self.session.caller, &meta)
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&updated.id)])
    }
}
