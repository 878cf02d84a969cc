//! Register: objects stored as clients send them. Key material is kept in the
//! format the client named (its Key Format Type is reported back by Get), a
//! wrapped Key Block is kept wrapped with its Key Wrapping Data, and an
//! algorithm or size the server does not use is stored and reported rather
//! than refused; only what is malformed is refused here. An operation that
//! cannot use what was stored (Encrypt with a Blowfish key, Sign with an
//! RSA-1024 key) says why when it is asked.

use std::collections::BTreeMap;

use keystore::object::{Algorithm, ObjectType};
use keystore::secret::SecretBytes;
use ttlv::{Item, Tag, Value};

use crate::asymmetric;
use crate::attributes;
use crate::error::{KmipError, ResultReason};
use crate::inspect::{self, KeyFacts};

use super::formats::{key_block_material, transparent_import, unwrapped_key_material};
use super::labels::{
    KEY_BLOCK_KEPT, KEY_BLOCK_WRAPPED, LABEL_CERTIFICATE_LENGTH, LABEL_CERTIFICATE_SUBJECT_CN,
    LABEL_CERTIFICATE_TYPE, LABEL_KEY_BLOCK, LABEL_KEY_FORMAT, LABEL_OPAQUE_DATA_TYPE,
    LABEL_SECRET_DATA_TYPE, algorithm_labels, split_key_labels,
};
use super::values::{
    algorithm, certificate_type, key_format, keystore_algorithm, object_type_from_kmip,
    opaque_data_type, secret_data_type,
};
use super::{Context, Outcome, kept, uid};

/// What Register stores for one object.
struct Registered {
    /// The material, as the keystore wraps and keeps it.
    material: SecretBytes,
    /// The keystore's algorithm: [`Algorithm::None`] when the server does not
    /// use the object's algorithm or size.
    algorithm: Algorithm,
    /// What the object is beyond that (see `labels`).
    labels: BTreeMap<String, String>,
}

/// The Cryptographic Algorithm and Length a Key Block names, else the
/// attributes do.
fn declared(block: &Item, attrs: &[Item]) -> Result<(Option<u32>, Option<i32>), KmipError> {
    let algorithm = match block.child(Tag::CRYPTOGRAPHIC_ALGORITHM).map(|i| &i.value) {
        Some(Value::Enumeration(value)) => Some(*value),
        Some(_) => {
            return Err(KmipError::invalid(
                "Cryptographic Algorithm must be an enumeration",
            ));
        }
        None => attributes::enumeration(attrs, Tag::CRYPTOGRAPHIC_ALGORITHM)?,
    };
    let length = match block.child(Tag::CRYPTOGRAPHIC_LENGTH).map(|i| &i.value) {
        Some(Value::Integer(bits)) => Some(*bits),
        Some(_) => {
            return Err(KmipError::invalid(
                "Cryptographic Length must be an integer",
            ));
        }
        None => attributes::integer(attrs, Tag::CRYPTOGRAPHIC_LENGTH)?,
    };
    Ok((algorithm, length))
}

/// The Digest label of a registered Key Block, computed as KMIP says for
/// objects a client registers: over the Key Material in the Key Format Type
/// it came in, its bytes or, for a transparent structure, its TTLV encoding.
fn registered_digest(block: &Item, format: u32) -> Result<(String, String), KmipError> {
    let material = unwrapped_key_material(block)?;
    Ok(match &material.value {
        Value::ByteString(bytes) => kept::digest_label(Some(format), bytes),
        _ => kept::digest_label(Some(format), &ttlv::encode(material)),
    })
}

/// A Key Block's Key Format Type.
fn block_format(block: &Item) -> Result<u32, KmipError> {
    match block.child(Tag::KEY_FORMAT_TYPE).map(|i| &i.value) {
        Some(Value::Enumeration(value)) => Ok(*value),
        _ => Err(KmipError::missing("Key Format Type in the Key Block")),
    }
}

/// A Key Block kept as it came (its TTLV is the stored material), as
/// `kind` says ([`KEY_BLOCK_WRAPPED`]: the server holds no key to unwrap
/// it; [`KEY_BLOCK_KEPT`]: a key the server does not use). Get gives it back
/// as it came; its algorithm and length are what it declares.
fn verbatim_block(block: &Item, attrs: &[Item], kind: &str) -> Result<Registered, KmipError> {
    let format = block_format(block)?;
    if block.child(Tag::KEY_VALUE).is_none() {
        return Err(KmipError::missing("Key Value in the Key Block"));
    }
    let (kmip_algorithm, length) = declared(block, attrs)?;
    let mut labels = algorithm_labels(Algorithm::None, kmip_algorithm, length, 0);
    labels.insert(LABEL_KEY_BLOCK.to_owned(), kind.to_owned());
    labels.insert(LABEL_KEY_FORMAT.to_owned(), format.to_string());
    if kind == KEY_BLOCK_KEPT {
        labels.extend([registered_digest(block, format)?]);
    }
    Ok(Registered {
        // The encoded block becomes the secret's buffer, not a copy of it.
        material: SecretBytes::new(ttlv::encode(block)),
        algorithm: Algorithm::None,
        labels,
    })
}

/// A Key Block as Register keeps it: wrapped ones as they came
/// ([`wrapped_block`]), the others as `read` says.
fn stored_block(
    block: &Item,
    attrs: &[Item],
    read: impl FnOnce(&Item, &[Item]) -> Result<Registered, KmipError>,
) -> Result<Registered, KmipError> {
    if block.child(Tag::KEY_WRAPPING_DATA).is_some() {
        verbatim_block(block, attrs, KEY_BLOCK_WRAPPED)
    } else {
        read(block, attrs)
    }
}

/// A symmetric key (or a split key's part): its bytes, Raw or Transparent
/// Symmetric Key, of any algorithm and length. Keys of an algorithm and
/// length the server uses (AES-128/256, HMAC-SHA256) get that keystore
/// algorithm; the others are stored with the algorithm and length the client
/// gave (AES when it gave none).
fn symmetric_block(block: &Item, attrs: &[Item]) -> Result<Registered, KmipError> {
    let format = block_format(block)?;
    if !matches!(format, key_format::RAW | key_format::TRANSPARENT_SYMMETRIC) {
        return Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "key format 0x{format:02X} is not a symmetric key format; send Raw or Transparent Symmetric Key"
            ),
        ));
    }
    let material = key_block_material(block)?;
    let (kmip_algorithm, length) = declared(block, attrs)?;
    let kmip_algorithm = kmip_algorithm.unwrap_or(algorithm::AES);
    let bits = u32::try_from(material.len().saturating_mul(8)).unwrap_or(u32::MAX);
    let known = i32::try_from(bits)
        .ok()
        .and_then(|bits| keystore_algorithm(kmip_algorithm, bits).ok())
        .filter(|_| length.is_none_or(|length| i64::from(length) == i64::from(bits)))
        .unwrap_or(Algorithm::None);
    let mut labels = algorithm_labels(known, Some(kmip_algorithm), length, bits);
    if format != key_format::RAW {
        labels.insert(LABEL_KEY_FORMAT.to_owned(), format.to_string());
    }
    labels.extend([registered_digest(block, format)?]);
    Ok(Registered {
        material,
        algorithm: known,
        labels,
    })
}

/// A public or private key in its Key Block's format. Byte-string formats
/// (PKCS#1, PKCS#8, X.509, Raw) are kept byte for byte once they read as a
/// key of the kind and algorithm declared; transparent ones are kept in the
/// server's form (SubjectPublicKeyInfo, PKCS#8) and answered transparent.
fn asymmetric_block(block: &Item, attrs: &[Item], private: bool) -> Result<Registered, KmipError> {
    let format = block_format(block)?;
    let material = unwrapped_key_material(block)?;
    let (kmip_algorithm, length) = declared(block, attrs)?;
    let (stored, facts) = match &material.value {
        Value::ByteString(bytes) => {
            let facts = if private {
                inspect::private_key_facts(format, bytes)
            } else {
                inspect::public_key_facts(format, bytes)
            };
            match facts {
                Ok(facts) => (SecretBytes::from_slice(bytes), facts),
                // DER of an algorithm the server does not use (DSA, say).
                Err(error) if error.reason == ResultReason::FeatureNotSupported => {
                    return verbatim_block(block, attrs, KEY_BLOCK_KEPT);
                }
                Err(error) => return Err(error),
            }
        }
        Value::Structure(fields) => {
            let imported = transparent_import(format, private, material);
            let (algorithm, stored) = match imported {
                Ok(imported) => imported,
                // A transparent key the server does not use (another
                // algorithm, another size, numbers it cannot check) is kept
                // as it came; one that lacks a field or holds a field of the
                // wrong type is malformed.
                Err(error)
                    if error.reason != ResultReason::MissingData
                        && fields.iter().all(|field| {
                            matches!(
                                field.value,
                                Value::BigInteger(_) | Value::Enumeration(_) | Value::ByteString(_)
                            )
                        }) =>
                {
                    return verbatim_block(block, attrs, KEY_BLOCK_KEPT);
                }
                Err(error) => return Err(error),
            };
            let facts = KeyFacts {
                kmip_algorithm: super::values::kmip_algorithm(algorithm).unwrap_or(algorithm::RSA),
                bits: algorithm.key_bits(),
                usable: algorithm,
            };
            (stored, facts)
        }
        _ => {
            return Err(KmipError::invalid(
                "Key Material must be a byte string or a transparent key structure",
            ));
        }
    };
    if let Some(named) = kmip_algorithm {
        let same_family = |code: u32| match code {
            algorithm::ECDSA | algorithm::EC => "ec",
            algorithm::RSA => "rsa",
            _ => "other",
        };
        if same_family(named) != same_family(facts.kmip_algorithm) {
            return Err(KmipError::invalid(format!(
                "the key is an {} key but its Cryptographic Algorithm is 0x{named:02X}",
                same_family(facts.kmip_algorithm).to_uppercase()
            )));
        }
    }
    // The Cryptographic Length the client gave is kept, as its metadata,
    // even when the key's own size differs (PyKMIP's suite registers an
    // RSA-1024 key as 2048 bits); the operations use the key as it is.
    let length = length.unwrap_or_else(|| i32::try_from(facts.bits).unwrap_or(i32::MAX));
    let mut labels = algorithm_labels(
        facts.usable,
        Some(kmip_algorithm.unwrap_or(facts.kmip_algorithm)),
        Some(length),
        facts.usable.key_bits(),
    );
    // Get answers the format the key was registered in (the bytes as they
    // came, or the transparent structure again); keys the server generates
    // carry no such label.
    labels.insert(LABEL_KEY_FORMAT.to_owned(), format.to_string());
    labels.extend([registered_digest(block, format)?]);
    Ok(Registered {
        material: stored,
        algorithm: facts.usable,
        labels,
    })
}

impl Context<'_> {
    /// The Key Block of the object the payload carries under `tag`.
    fn payload_block(&self, tag: Tag) -> Result<&Item, KmipError> {
        self.payload
            .child(tag)
            .and_then(|object| object.child(Tag::KEY_BLOCK))
            .ok_or_else(|| KmipError::missing(&format!("{tag} with a Key Block")))
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
        let registered = match object_kind {
            ObjectType::SymmetricKey => stored_block(
                self.payload_block(Tag::SYMMETRIC_KEY)?,
                &attrs,
                symmetric_block,
            )?,
            ObjectType::PublicKey => stored_block(
                self.payload_block(Tag::PUBLIC_KEY)?,
                &attrs,
                |block, attrs| asymmetric_block(block, attrs, false),
            )?,
            ObjectType::PrivateKey => stored_block(
                self.payload_block(Tag::PRIVATE_KEY)?,
                &attrs,
                |block, attrs| asymmetric_block(block, attrs, true),
            )?,
            ObjectType::SplitKey => {
                let split = self
                    .payload
                    .child(Tag::SPLIT_KEY)
                    .ok_or_else(|| KmipError::missing("Split Key"))?;
                let block = split
                    .child(Tag::KEY_BLOCK)
                    .ok_or_else(|| KmipError::missing("Key Block in the Split Key"))?;
                let mut registered = stored_block(block, &attrs, symmetric_block)?;
                registered.labels.extend(split_key_labels(split)?);
                registered
            }
            ObjectType::SecretData => self.register_secret_data(&attrs)?,
            ObjectType::Certificate => self.register_certificate()?,
            _ => self.register_opaque()?,
        };
        if registered.material.is_empty() {
            return Err(KmipError::invalid("the object's material is empty"));
        }
        let (name, mut labels) = self.labels(&attrs)?;
        labels.extend(registered.labels);
        let meta = self.store_new(
            name.as_deref(),
            object_kind,
            registered.algorithm,
            labels,
            registered.material,
            &attrs,
        )?;
        Ok(vec![uid(&meta.id)])
    }

    /// Secret Data: its bytes and its Secret Data Type.
    fn register_secret_data(&self, attrs: &[Item]) -> Result<Registered, KmipError> {
        let data_type = match self
            .payload
            .child(Tag::SECRET_DATA)
            .and_then(|data| data.child(Tag::SECRET_DATA_TYPE))
            .map(|i| &i.value)
        {
            Some(Value::Enumeration(value)) => *value,
            Some(_) => {
                return Err(KmipError::invalid(
                    "Secret Data Type must be an enumeration",
                ));
            }
            None => return Err(KmipError::missing("Secret Data Type")),
        };
        let block = self.payload_block(Tag::SECRET_DATA)?;
        let mut registered = stored_block(block, attrs, |block, _| {
            let format = block_format(block)?;
            let mut labels = BTreeMap::new();
            if format != key_format::OPAQUE {
                labels.insert(LABEL_KEY_FORMAT.to_owned(), format.to_string());
            }
            Ok(Registered {
                material: key_block_material(block)?,
                algorithm: Algorithm::None,
                labels,
            })
        })?;
        if data_type != secret_data_type::PASSWORD {
            registered
                .labels
                .insert(LABEL_SECRET_DATA_TYPE.to_owned(), data_type.to_string());
        }
        Ok(registered)
    }

    /// A certificate: X.509 ones are read (to report their public key's
    /// algorithm and length), others kept as they came.
    fn register_certificate(&self) -> Result<Registered, KmipError> {
        let certificate = self
            .payload
            .child(Tag::CERTIFICATE)
            .ok_or_else(|| KmipError::missing("Certificate"))?;
        let certificate_kind = match certificate.child(Tag::CERTIFICATE_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(value)) => *value,
            _ => return Err(KmipError::missing("Certificate Type")),
        };
        let value = match certificate.child(Tag::CERTIFICATE_VALUE).map(|i| &i.value) {
            Some(Value::ByteString(bytes)) => bytes,
            _ => return Err(KmipError::missing("Certificate Value")),
        };
        let mut labels = BTreeMap::from([kept::digest_label(None, value)]);
        let algorithm = if certificate_kind == certificate_type::X509 {
            let (algorithm, common_name) = asymmetric::import_certificate(value)?;
            labels.insert(LABEL_CERTIFICATE_LENGTH.to_owned(), value.len().to_string());
            if let Some(common_name) = common_name {
                labels.insert(LABEL_CERTIFICATE_SUBJECT_CN.to_owned(), common_name);
            }
            algorithm
        } else {
            labels.insert(
                LABEL_CERTIFICATE_TYPE.to_owned(),
                certificate_kind.to_string(),
            );
            Algorithm::None
        };
        Ok(Registered {
            material: SecretBytes::from_slice(value),
            algorithm,
            labels,
        })
    }

    /// An opaque object: its bytes and its Opaque Data Type.
    fn register_opaque(&self) -> Result<Registered, KmipError> {
        let opaque = self
            .payload
            .child(Tag::OPAQUE_OBJECT)
            .ok_or_else(|| KmipError::missing("Opaque Object"))?;
        let value = match opaque.child(Tag::OPAQUE_DATA_VALUE).map(|i| &i.value) {
            Some(Value::ByteString(bytes)) => SecretBytes::from_slice(bytes),
            _ => return Err(KmipError::missing("Opaque Data Value")),
        };
        let mut labels = BTreeMap::new();
        match opaque.child(Tag::OPAQUE_DATA_TYPE).map(|i| &i.value) {
            Some(Value::Enumeration(opaque_data_type::UNKNOWN)) | None => {}
            Some(Value::Enumeration(other)) => {
                labels.insert(LABEL_OPAQUE_DATA_TYPE.to_owned(), other.to_string());
            }
            Some(_) => {
                return Err(KmipError::invalid(
                    "Opaque Data Type must be an enumeration",
                ));
            }
        }
        Ok(Registered {
            material: value,
            algorithm: Algorithm::None,
            labels,
        })
    }
}
