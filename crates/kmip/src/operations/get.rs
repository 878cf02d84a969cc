//! Get: an object's material in the format asked for, wrapped on request.

use keystore::object::{ObjectMeta, ObjectType};
use keystore::secret::SecretBytes;
use ttlv::{Item, Tag, Value};

use crate::crypto;
use crate::error::{KmipError, ResultReason};

use super::formats::managed_object;
use super::labels::{KEY_BLOCK_WRAPPED, LABEL_KEY_BLOCK};
use super::values::{block_mode, kmip_object_type};
use super::{Context, Outcome, kept, store_error, uid};

/// The key a Get wraps the object's key material with.
pub(super) struct Wrapping {
    id: String,
    key: SecretBytes,
    mode: u32,
}

/// Replaces the Key Value of `object`'s Key Block with the wrapped key
/// material and adds the Key Wrapping Data that names the wrapping key.
pub(super) fn wrap_key_block(object: Item, wrapping: &Wrapping) -> Result<Item, KmipError> {
    let not_wrappable = || KmipError::invalid("only objects with a key block can be wrapped");
    let Value::Structure(children) = object.value else {
        return Err(not_wrappable());
    };
    let mut found = false;
    let mut wrapped_children = Vec::with_capacity(children.len());
    for child in children {
        if child.tag != Tag::KEY_BLOCK {
            wrapped_children.push(child);
            continue;
        }
        let Value::Structure(block) = child.value else {
            return Err(not_wrappable());
        };
        let mut new_block = Vec::with_capacity(block.len().saturating_add(1));
        for item in block {
            if item.tag != Tag::KEY_VALUE {
                new_block.push(item);
                continue;
            }
            let material = match item.child(Tag::KEY_MATERIAL).map(|m| &m.value) {
                Some(Value::ByteString(bytes)) => SecretBytes::from_slice(bytes),
                _ => {
                    return Err(KmipError::new(
                        ResultReason::FeatureNotSupported,
                        "only byte-string key material can be wrapped; ask for a Raw, PKCS#1, PKCS#8 or X.509 format",
                    ));
                }
            };
            let wrapped = crypto::aes_key_wrap(
                wrapping.key.expose_secret(),
                material.expose_secret(),
                wrapping.mode == block_mode::AES_KEY_WRAP_PADDING,
            )?;
            new_block.push(Item::new(Tag::KEY_VALUE, Value::ByteString(wrapped.into())));
            found = true;
        }
        new_block.push(Item::structure(
            Tag::KEY_WRAPPING_DATA,
            vec![
                // Wrapping Method: Encrypt.
                Item::new(Tag::WRAPPING_METHOD, Value::Enumeration(1)),
                Item::structure(
                    Tag::ENCRYPTION_KEY_INFORMATION,
                    vec![
                        uid(&wrapping.id),
                        Item::structure(
                            Tag::CRYPTOGRAPHIC_PARAMETERS,
                            vec![Item::new(
                                Tag::BLOCK_CIPHER_MODE,
                                Value::Enumeration(wrapping.mode),
                            )],
                        ),
                    ],
                ),
                // Encoding Option: No Encoding.
                Item::new(Tag::ENCODING_OPTION, Value::Enumeration(1)),
            ],
        ));
        wrapped_children.push(Item::structure(Tag::KEY_BLOCK, new_block));
    }
    if !found {
        return Err(not_wrappable());
    }
    Ok(Item::structure(object.tag, wrapped_children))
}

impl Context<'_> {
    pub(super) fn get(&self) -> Outcome {
        self.require(self.session.rights.read_material, "get key material")?;
        let found = self.object_for_read()?;
        let meta = &found.meta;
        if meta.object_type == ObjectType::SecretData && !self.session.rights.read_secret_data {
            return Err(KmipError::new(
                ResultReason::PermissionDenied,
                "a node receives secret data only over HTTPS (POST /v1/secrets/{ref}/deliver, POST /v1/volumes/{name}/acquire), where workload policies decide",
            ));
        }
        if meta.labels.contains_key(LABEL_KEY_BLOCK)
            && self
                .payload
                .child(Tag::KEY_WRAPPING_SPECIFICATION)
                .is_some()
        {
            return Err(KmipError::invalid(format!(
                "object {} is kept as its client registered it; Get returns it as registered, without a Key Wrapping Specification",
                meta.id
            )));
        }
        let wrapping = self
            .payload
            .child(Tag::KEY_WRAPPING_SPECIFICATION)
            .map(|specification| self.wrapping_key(specification, meta))
            .transpose()?;
        let registered_wrapped =
            meta.labels.get(LABEL_KEY_BLOCK).map(String::as_str) == Some(KEY_BLOCK_WRAPPED);
        if wrapping.is_none() && !registered_wrapped && kept::is_sensitive(meta) {
            return Err(KmipError::new(
                ResultReason::Sensitive,
                format!(
                    "object {} is Sensitive: its material leaves the server only wrapped; send a Key Wrapping Specification",
                    meta.id
                ),
            ));
        }
        let format = match self.payload.child(Tag::KEY_FORMAT_TYPE).map(|i| &i.value) {
            None => None,
            Some(Value::Enumeration(value)) => Some(*value),
            Some(_) => return Err(KmipError::invalid("Key Format Type must be an enumeration")),
        };
        let material = self.material(&found)?;
        let object = managed_object(meta, &material, format, self.version)?;
        let object = match wrapping {
            None => object,
            Some(wrapping) => wrap_key_block(object, &wrapping)?,
        };
        self.served(meta)?;
        Ok(vec![
            Item::new(
                Tag::OBJECT_TYPE,
                Value::Enumeration(kmip_object_type(meta.object_type)),
            ),
            uid(&meta.id),
            object,
        ])
    }

    /// Records that an object's material was served: a Fresh object (KMIP
    /// 1.1 and later) is fresh no more.
    fn served(&self, meta: &ObjectMeta) -> Result<(), KmipError> {
        if kept::kept_value(meta, Tag::FRESH) != Some(Value::Boolean(true)) {
            return Ok(());
        }
        let mut labels = meta.labels.clone();
        kept::set_kept(&mut labels, Tag::FRESH, Some(&Value::Boolean(false)), false)?;
        self.keystore
            .set_labels(&self.session.caller, meta, labels)
            .map_err(|error| store_error(&error))?;
        Ok(())
    }

    /// The wrapping key and mode a Key Wrapping Specification asks for: an
    /// Active AES key the caller may use, other than the object itself, with
    /// NIST Key Wrap (RFC 3394, the default) or AES Key Wrap with Padding
    /// (RFC 5649), and no encoding of the key value.
    pub(super) fn wrapping_key(
        &self,
        specification: &Item,
        wrapped: &ObjectMeta,
    ) -> Result<Wrapping, KmipError> {
        let unsupported =
            |message: &str| KmipError::new(ResultReason::FeatureNotSupported, message.to_owned());
        match specification.child(Tag::WRAPPING_METHOD).map(|i| &i.value) {
            Some(Value::Enumeration(1)) => {}
            Some(_) => return Err(unsupported("only the Encrypt wrapping method is supported")),
            None => return Err(KmipError::missing("Wrapping Method")),
        }
        if specification
            .child(Tag::MAC_SIGNATURE_KEY_INFORMATION)
            .is_some()
            || specification.child(Tag::ATTRIBUTE_NAME).is_some()
        {
            return Err(unsupported(
                "MAC/signature key information and wrapped attributes are not supported; wrap with an encryption key only",
            ));
        }
        match specification.child(Tag::ENCODING_OPTION).map(|i| &i.value) {
            // No Encoding (and, leniently, none named).
            None | Some(Value::Enumeration(1)) => {}
            Some(_) => {
                return Err(KmipError::new(
                    ResultReason::EncodingOptionError,
                    "only the No Encoding option is supported for wrapped keys",
                ));
            }
        }
        let information = specification
            .child(Tag::ENCRYPTION_KEY_INFORMATION)
            .ok_or_else(|| KmipError::missing("Encryption Key Information"))?;
        let id = match information.child(Tag::UNIQUE_IDENTIFIER).map(|i| &i.value) {
            Some(Value::TextString(id)) => id.clone(),
            _ => return Err(KmipError::missing("wrapping key Unique Identifier")),
        };
        let mode = match information
            .child(Tag::CRYPTOGRAPHIC_PARAMETERS)
            .and_then(|parameters| parameters.child(Tag::BLOCK_CIPHER_MODE))
            .map(|i| &i.value)
        {
            None | Some(Value::Enumeration(block_mode::NIST_KEY_WRAP)) => block_mode::NIST_KEY_WRAP,
            Some(Value::Enumeration(block_mode::AES_KEY_WRAP_PADDING)) => {
                block_mode::AES_KEY_WRAP_PADDING
            }
            Some(_) => {
                return Err(unsupported(
                    "wrapping supports the NIST Key Wrap (RFC 3394) and AES Key Wrap Padding (RFC 5649) modes",
                ));
            }
        };
        if id == wrapped.id {
            return Err(KmipError::invalid(
                "an object cannot be wrapped with itself",
            ));
        }
        let meta = self.object_by_id(&id).map_err(|error| {
            if error.reason == ResultReason::ItemNotFound {
                KmipError::new(
                    ResultReason::WrappingObjectNotFound,
                    format!("no wrapping key '{id}'"),
                )
            } else {
                error
            }
        })?;
        let (meta, key) = self.usable_key(meta, ObjectType::SymmetricKey, true, "aes")?;
        Ok(Wrapping {
            id: meta.id,
            key,
            mode,
        })
    }
}
