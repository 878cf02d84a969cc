//! Key Blocks in the formats KMIP defines: the Key Block Get answers, the key
//! material a client registers (raw, transparent symmetric, transparent RSA
//! and EC), and Big Integers.

use keystore::object::{Algorithm, ObjectMeta, ObjectType};
use keystore::secret::SecretBytes;
use ttlv::{Item, Tag, Value};

use crate::asymmetric;
use crate::error::{KmipError, ResultReason};
use crate::message::ProtocolVersion;

use super::labels::{
    LABEL_CERTIFICATE_TYPE, LABEL_KEY_BLOCK, LABEL_KEY_FORMAT, LABEL_OPAQUE_DATA_TYPE,
    LABEL_SECRET_DATA_TYPE, label_number, reported_algorithm, reported_length, split_key_items,
};
use super::values::{
    certificate_type, curve_algorithm, key_format, kmip_curve, opaque_data_type, secret_data_type,
};

/// A Key Block: format, the Key Value holding `key_material`, the algorithm
/// and length of `meta`.
pub(super) fn key_block(meta: &ObjectMeta, format_code: u32, key_material: Item) -> Item {
    let mut block = vec![
        Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(format_code)),
        Item::structure(Tag::KEY_VALUE, vec![key_material]),
    ];
    if let Some(alg) = reported_algorithm(meta) {
        block.push(Item::new(
            Tag::CRYPTOGRAPHIC_ALGORITHM,
            Value::Enumeration(alg),
        ));
    }
    if let Some(length) = reported_length(meta) {
        block.push(Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)));
    }
    Item::structure(Tag::KEY_BLOCK, block)
}

/// The Key Material item of a Key Block that is not wrapped.
pub(super) fn unwrapped_key_material(block: &Item) -> Result<&Item, KmipError> {
    if block.child(Tag::KEY_WRAPPING_DATA).is_some() {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "registering wrapped keys is not supported yet",
        ));
    }
    block
        .child(Tag::KEY_VALUE)
        .and_then(|value| value.child(Tag::KEY_MATERIAL))
        .ok_or_else(|| KmipError::missing("Key Value with Key Material"))
}

/// The bytes of a Key Block's Key Material (a byte string, or a Transparent
/// Symmetric Key structure holding Key).
pub(super) fn key_block_material(block: &Item) -> Result<SecretBytes, KmipError> {
    let material = unwrapped_key_material(block)?;
    match &material.value {
        Value::ByteString(bytes) => Ok(SecretBytes::from_slice(bytes)),
        Value::Structure(_) => match material.child(Tag::KEY).map(|key| &key.value) {
            Some(Value::ByteString(bytes)) => Ok(SecretBytes::from_slice(bytes)),
            _ => Err(KmipError::invalid(
                "the transparent key material has no Key",
            )),
        },
        _ => Err(KmipError::invalid(
            "Key Material must be a byte string or a structure",
        )),
    }
}

/// A non-negative Big Integer's magnitude, big-endian.
pub(super) fn magnitude(value: &ttlv::BigInteger) -> Result<SecretBytes, KmipError> {
    let bytes = value.as_bytes();
    if bytes.first().is_some_and(|first| first & 0x80 != 0) {
        return Err(KmipError::invalid(
            "a key's Big Integer must not be negative",
        ));
    }
    let start = bytes
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(bytes.len());
    Ok(SecretBytes::from_slice(
        bytes.get(start..).unwrap_or_default(),
    ))
}

/// A Big Integer holding `magnitude` (big-endian, unsigned).
pub(super) fn big_integer(magnitude: &SecretBytes) -> Value {
    let mut signed = Vec::with_capacity(magnitude.len().saturating_add(1));
    signed.push(0);
    signed.extend_from_slice(magnitude.expose_secret());
    let value = Value::BigInteger(ttlv::BigInteger::from_signed_bytes(&signed));
    zeroize::Zeroize::zeroize(&mut signed);
    value
}

/// The Key Material structure of a Transparent RSA or EC key (KMIP 1.x and
/// 2.x), or none when `format` is not a transparent asymmetric format.
pub(super) fn transparent_export(
    meta: &ObjectMeta,
    material: &SecretBytes,
    format: u32,
) -> Result<Option<Item>, KmipError> {
    let private = meta.object_type == ObjectType::PrivateKey;
    let rsa = meta.algorithm.family() == "rsa";
    let children = match format {
        key_format::TRANSPARENT_RSA_PRIVATE if rsa && private => {
            let numbers = asymmetric::rsa_private_numbers(material)?;
            [
                Tag::MODULUS,
                Tag::PRIVATE_EXPONENT,
                Tag::PUBLIC_EXPONENT,
                Tag::P,
                Tag::Q,
                Tag::PRIME_EXPONENT_P,
                Tag::PRIME_EXPONENT_Q,
                Tag::CRT_COEFFICIENT,
            ]
            .into_iter()
            .zip(&numbers)
            .map(|(tag, number)| Item::new(tag, big_integer(number)))
            .collect()
        }
        key_format::TRANSPARENT_RSA_PUBLIC if rsa && !private => {
            let (modulus, exponent) = asymmetric::rsa_public_numbers(material.expose_secret())?;
            vec![
                Item::new(Tag::MODULUS, big_integer(&SecretBytes::new(modulus))),
                Item::new(
                    Tag::PUBLIC_EXPONENT,
                    big_integer(&SecretBytes::new(exponent)),
                ),
            ]
        }
        key_format::TRANSPARENT_EC_PRIVATE | key_format::TRANSPARENT_ECDSA_PRIVATE
            if !rsa && private =>
        {
            vec![
                Item::new(
                    Tag::RECOMMENDED_CURVE,
                    Value::Enumeration(kmip_curve(meta.algorithm)),
                ),
                Item::new(
                    Tag::D,
                    big_integer(&asymmetric::ec_private_scalar(material)?),
                ),
            ]
        }
        key_format::TRANSPARENT_EC_PUBLIC | key_format::TRANSPARENT_ECDSA_PUBLIC
            if !rsa && !private =>
        {
            let point = asymmetric::export_public(
                meta.algorithm,
                material.expose_secret(),
                asymmetric::format::RAW,
            )?;
            vec![
                Item::new(
                    Tag::RECOMMENDED_CURVE,
                    Value::Enumeration(kmip_curve(meta.algorithm)),
                ),
                Item::new(Tag::Q_STRING, Value::ByteString(point.into())),
            ]
        }
        key_format::TRANSPARENT_RSA_PRIVATE
        | key_format::TRANSPARENT_RSA_PUBLIC
        | key_format::TRANSPARENT_EC_PRIVATE
        | key_format::TRANSPARENT_ECDSA_PRIVATE
        | key_format::TRANSPARENT_EC_PUBLIC
        | key_format::TRANSPARENT_ECDSA_PUBLIC => {
            return Err(KmipError::new(
                ResultReason::KeyFormatTypeNotSupported,
                format!(
                    "key format 0x{format:02X} is for another kind of key than object {}, an {} {}",
                    meta.id,
                    meta.algorithm.family().to_uppercase(),
                    meta.object_type.as_str().replace('_', " ")
                ),
            ));
        }
        _ => return Ok(None),
    };
    Ok(Some(Item::structure(Tag::KEY_MATERIAL, children)))
}

/// The algorithm and stored form (SubjectPublicKeyInfo or PKCS#8) of a key
/// registered in a Transparent RSA or EC format. Transparent EC private keys
/// are refused: the public key, which the stored PKCS#8 must hold, cannot be
/// computed here from the scalar alone.
pub(super) fn transparent_import(
    format: u32,
    private: bool,
    material: &Item,
) -> Result<(Algorithm, SecretBytes), KmipError> {
    let number = |tag: Tag| -> Result<Option<SecretBytes>, KmipError> {
        match material.child(tag).map(|i| &i.value) {
            None => Ok(None),
            Some(Value::BigInteger(value)) => magnitude(value).map(Some),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be a Big Integer"))),
        }
    };
    let required = |tag: Tag| -> Result<SecretBytes, KmipError> {
        number(tag)?.ok_or_else(|| KmipError::missing(&format!("{tag} in the transparent key")))
    };
    match format {
        key_format::TRANSPARENT_RSA_PUBLIC if !private => {
            let (algorithm, spki) = asymmetric::rsa_public_from_numbers(
                required(Tag::MODULUS)?.expose_secret(),
                required(Tag::PUBLIC_EXPONENT)?.expose_secret(),
            )?;
            Ok((algorithm, SecretBytes::new(spki)))
        }
        key_format::TRANSPARENT_RSA_PRIVATE if private => {
            let (p, q) = (number(Tag::P)?, number(Tag::Q)?);
            asymmetric::rsa_private_from_numbers(
                required(Tag::MODULUS)?.expose_secret(),
                required(Tag::PUBLIC_EXPONENT)?.expose_secret(),
                &required(Tag::PRIVATE_EXPONENT)?,
                p.as_ref().zip(q.as_ref()),
            )
        }
        key_format::TRANSPARENT_EC_PUBLIC | key_format::TRANSPARENT_ECDSA_PUBLIC if !private => {
            let algorithm = match material.child(Tag::RECOMMENDED_CURVE).map(|i| &i.value) {
                Some(Value::Enumeration(value)) => curve_algorithm(*value)?,
                _ => {
                    return Err(KmipError::missing(
                        "Recommended Curve in the transparent key",
                    ));
                }
            };
            let point = match material.child(Tag::Q_STRING).map(|i| &i.value) {
                Some(Value::ByteString(point)) => point,
                _ => return Err(KmipError::missing("Q String in the transparent key")),
            };
            let spki = asymmetric::ec_public_from_point(algorithm, point)?;
            Ok((algorithm, SecretBytes::new(spki)))
        }
        key_format::TRANSPARENT_EC_PRIVATE | key_format::TRANSPARENT_ECDSA_PRIVATE if private => {
            Err(KmipError::new(
                ResultReason::KeyFormatTypeNotSupported,
                "registering Transparent EC private keys is not supported; send PKCS#8",
            ))
        }
        other => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "key format 0x{other:02X} with structured Key Material is not supported for {} keys; send Transparent RSA {} Key{}",
                if private { "private" } else { "public" },
                if private { "Private" } else { "Public" },
                if private {
                    ""
                } else {
                    " or Transparent EC Public Key"
                }
            ),
        )),
    }
}

/// The Key Format Type Get answers for `meta` when the client names none
/// (KMIP 2.x reports it as the Key Format Type attribute): the format the
/// object was registered in, else the server's default for its kind;
/// `None` for opaque objects, which have no Key Block.
pub(super) fn reported_format(meta: &ObjectMeta, version: ProtocolVersion) -> Option<u32> {
    if let Some(format) = label_number(meta, LABEL_KEY_FORMAT) {
        return Some(format);
    }
    match meta.object_type {
        ObjectType::SymmetricKey | ObjectType::SplitKey => Some(key_format::RAW),
        ObjectType::SecretData => Some(key_format::OPAQUE),
        ObjectType::PrivateKey | ObjectType::PublicKey => Some(asymmetric::default_format(
            meta.algorithm,
            meta.object_type == ObjectType::PrivateKey,
            version.major,
        )),
        ObjectType::Certificate => Some(asymmetric::format::X509),
        _ => None,
    }
}

/// The managed object Get answers for `meta` with its `material`, in
/// `format` when one is asked for, else in the format it was registered in
/// (the server's default for what it made: Raw symmetric keys, PKCS#8
/// private keys, PKCS#1 RSA and X.509 EC public keys): a Symmetric Key, a
/// Private or Public Key, a Split Key, a Certificate, Secret Data or an
/// Opaque Object. A wrapped Key Block a client registered comes back as it
/// was registered.
pub(super) fn managed_object(
    meta: &ObjectMeta,
    material: &SecretBytes,
    format: Option<u32>,
    version: ProtocolVersion,
) -> Result<Item, KmipError> {
    let stored_format = label_number::<u32>(meta, LABEL_KEY_FORMAT);
    let bytes = || Value::ByteString(material.expose_secret().into());
    // A Key Block of material kept as bytes, in `default` format or one of
    // `formats` (and the format it was registered in).
    let block = |default: u32, formats: &[u32]| -> Result<Item, KmipError> {
        if meta.labels.contains_key(LABEL_KEY_BLOCK) {
            return registered_block(meta, material, format);
        }
        let wanted = format.or(stored_format).unwrap_or(default);
        let key_material = match wanted {
            key_format::TRANSPARENT_SYMMETRIC => {
                Item::structure(Tag::KEY_MATERIAL, vec![Item::new(Tag::KEY, bytes())])
            }
            _ => Item::new(Tag::KEY_MATERIAL, bytes()),
        };
        if Some(wanted) != stored_format && wanted != default && !formats.contains(&wanted) {
            return Err(KmipError::new(
                ResultReason::KeyFormatTypeNotSupported,
                format!(
                    "key format 0x{wanted:02X} is not supported for object {}, a {}; ask for Raw{}",
                    meta.id,
                    meta.object_type.as_str().replace('_', " "),
                    if formats.contains(&key_format::TRANSPARENT_SYMMETRIC) {
                        " or Transparent Symmetric Key"
                    } else {
                        " or Opaque"
                    }
                ),
            ));
        }
        Ok(key_block(meta, wanted, key_material))
    };
    let object = match meta.object_type {
        ObjectType::SymmetricKey => Item::structure(
            Tag::SYMMETRIC_KEY,
            vec![block(
                key_format::RAW,
                &[key_format::TRANSPARENT_SYMMETRIC],
            )?],
        ),
        ObjectType::PublicKey | ObjectType::PrivateKey => {
            let private = meta.object_type == ObjectType::PrivateKey;
            let tag = if private {
                Tag::PRIVATE_KEY
            } else {
                Tag::PUBLIC_KEY
            };
            if meta.labels.contains_key(LABEL_KEY_BLOCK) {
                return Ok(Item::structure(
                    tag,
                    vec![registered_block(meta, material, format)?],
                ));
            }
            let wanted = format.or(stored_format).unwrap_or_else(|| {
                asymmetric::default_format(meta.algorithm, private, version.major)
            });
            let key_material = if Some(wanted) == stored_format && !is_transparent(wanted) {
                // As registered: the bytes the client sent.
                Item::new(Tag::KEY_MATERIAL, bytes())
            } else {
                let usable = usable_form(meta, SecretBytes::from_slice(material.expose_secret()))?;
                match transparent_export(meta, &usable, wanted)? {
                    Some(structure) => structure,
                    None => {
                        let exported = if private {
                            asymmetric::export_private(meta.algorithm, &usable, wanted)?
                        } else {
                            SecretBytes::new(asymmetric::export_public(
                                meta.algorithm,
                                usable.expose_secret(),
                                wanted,
                            )?)
                        };
                        Item::new(
                            Tag::KEY_MATERIAL,
                            Value::ByteString(exported.expose_secret().into()),
                        )
                    }
                }
            };
            Item::structure(tag, vec![key_block(meta, wanted, key_material)])
        }
        ObjectType::SplitKey => {
            let mut children = split_key_items(meta);
            children.push(block(
                key_format::RAW,
                &[key_format::TRANSPARENT_SYMMETRIC],
            )?);
            Item::structure(Tag::SPLIT_KEY, children)
        }
        ObjectType::Certificate => Item::structure(
            Tag::CERTIFICATE,
            vec![
                Item::new(
                    Tag::CERTIFICATE_TYPE,
                    Value::Enumeration(
                        label_number(meta, LABEL_CERTIFICATE_TYPE)
                            .unwrap_or(certificate_type::X509),
                    ),
                ),
                Item::new(Tag::CERTIFICATE_VALUE, bytes()),
            ],
        ),
        ObjectType::SecretData => Item::structure(
            Tag::SECRET_DATA,
            vec![
                Item::new(
                    Tag::SECRET_DATA_TYPE,
                    Value::Enumeration(
                        label_number(meta, LABEL_SECRET_DATA_TYPE)
                            .unwrap_or(secret_data_type::PASSWORD),
                    ),
                ),
                block(key_format::OPAQUE, &[key_format::RAW])?,
            ],
        ),
        _ => Item::structure(
            Tag::OPAQUE_OBJECT,
            vec![
                Item::new(
                    Tag::OPAQUE_DATA_TYPE,
                    Value::Enumeration(
                        label_number(meta, LABEL_OPAQUE_DATA_TYPE)
                            .unwrap_or(opaque_data_type::UNKNOWN),
                    ),
                ),
                Item::new(Tag::OPAQUE_DATA_VALUE, bytes()),
            ],
        ),
    };
    Ok(object)
}

/// A Key Block a client registered and the server keeps as it came (its
/// TTLV is the stored `material`): a wrapped one, or a key the server does
/// not use. The server cannot convert it, so it answers it in the format it
/// was registered in only.
fn registered_block(
    meta: &ObjectMeta,
    material: &SecretBytes,
    format: Option<u32>,
) -> Result<Item, KmipError> {
    let block = ttlv::decode(material.expose_secret()).map_err(|error| {
        KmipError::new(
            ResultReason::GeneralFailure,
            format!(
                "the stored Key Block of object {} is unreadable: {error}",
                meta.id
            ),
        )
    })?;
    let registered = block.child_enumeration(Tag::KEY_FORMAT_TYPE);
    if format.is_some_and(|wanted| Some(wanted) != registered) {
        return Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "object {} is kept as its client registered it, in key format 0x{:02X}; the server cannot convert it into another",
                meta.id,
                registered.unwrap_or(0)
            ),
        ));
    }
    Ok(block)
}

/// The key material in the form the operations use: SubjectPublicKeyInfo
/// for public keys and PKCS#8 for private ones, converted from the format a
/// client registered them in (read as [`asymmetric::import_public`] and
/// [`asymmetric::import_private`] do, which also refuse, saying why, a key of
/// a size or curve the server cannot use). Other material is as stored.
pub(super) fn usable_form(
    meta: &ObjectMeta,
    material: SecretBytes,
) -> Result<SecretBytes, KmipError> {
    let Some(format) = label_number::<u32>(meta, LABEL_KEY_FORMAT) else {
        return Ok(material);
    };
    match meta.object_type {
        // Transparent keys were converted when registered.
        _ if is_transparent(format) => Ok(material),
        ObjectType::PrivateKey => {
            asymmetric::import_private(format, material.expose_secret()).map(|(_, pkcs8)| pkcs8)
        }
        ObjectType::PublicKey => asymmetric::import_public(format, material.expose_secret())
            .map(|(_, spki)| SecretBytes::new(spki)),
        _ => Ok(material),
    }
}

/// Whether a Key Format Type is one of the transparent (structured) ones.
pub(super) fn is_transparent(format: u32) -> bool {
    matches!(
        format,
        key_format::TRANSPARENT_SYMMETRIC
            | key_format::TRANSPARENT_RSA_PRIVATE
            | key_format::TRANSPARENT_RSA_PUBLIC
            | key_format::TRANSPARENT_ECDSA_PRIVATE
            | key_format::TRANSPARENT_ECDSA_PUBLIC
            | key_format::TRANSPARENT_EC_PRIVATE
            | key_format::TRANSPARENT_EC_PUBLIC
    )
}
