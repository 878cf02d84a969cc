//! Create Key Pair and Re-key Key Pair.

use std::collections::BTreeMap;

use keystore::object::{ObjectMeta, ObjectType};
use keystore::secret::SecretBytes;
use ttlv::{Item, Tag, Value};

use crate::asymmetric;
use crate::attributes;
use crate::error::{KmipError, ResultReason};

use super::labels::{LABEL_CONTACT, LABEL_GROUP, LABEL_NAME, LABEL_USAGE};
use super::values::key_pair_algorithm;
use super::{Context, Outcome, kept, store_error};

/// The labels a generated pair's halves record besides the client's: the
/// Digest of each half (over PKCS#1 for RSA keys, as KMIP's default format
/// and the OASIS test cases have it; over the stored PKCS#8 and
/// SubjectPublicKeyInfo for EC keys) and that the server generated them.
fn generated_pair_labels(
    pair: &asymmetric::GeneratedPair,
    algorithm: keystore::object::Algorithm,
) -> Result<[BTreeMap<String, String>; 2], KmipError> {
    let (private_digest, public_digest) = if algorithm.family() == "rsa" {
        let private =
            asymmetric::export_private(algorithm, &pair.private_pkcs8, asymmetric::format::PKCS1)?;
        let public =
            asymmetric::export_public(algorithm, &pair.public_spki, asymmetric::format::PKCS1)?;
        (
            kept::digest_label(Some(asymmetric::format::PKCS1), private.expose_secret()),
            kept::digest_label(Some(asymmetric::format::PKCS1), &public),
        )
    } else {
        (
            kept::digest_label(
                Some(asymmetric::format::PKCS8),
                pair.private_pkcs8.expose_secret(),
            ),
            kept::digest_label(Some(asymmetric::format::X509), &pair.public_spki),
        )
    };
    let generated = (kept::LABEL_GENERATED.to_owned(), "os".to_owned());
    Ok([
        BTreeMap::from([private_digest, generated.clone()]),
        BTreeMap::from([public_digest, generated]),
    ])
}

/// The response payload of Create Key Pair and Re-key Key Pair.
pub(super) fn pair_identifiers(private: ObjectMeta, public: ObjectMeta) -> Vec<Item> {
    vec![
        Item::new(
            Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
            Value::TextString(private.id),
        ),
        Item::new(
            Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER,
            Value::TextString(public.id),
        ),
    ]
}

impl Context<'_> {
    pub(super) fn create_key_pair(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "create key pairs")?;
        let common = attributes::read_child(
            self.payload,
            &[Tag::COMMON_TEMPLATE_ATTRIBUTE, Tag::COMMON_ATTRIBUTES],
        )?;
        // Each half's own attributes come first, so they win over common ones.
        let mut private = attributes::read_child(
            self.payload,
            &[
                Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
                Tag::PRIVATE_KEY_ATTRIBUTES,
            ],
        )?;
        let mut public = attributes::read_child(
            self.payload,
            &[
                Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
                Tag::PUBLIC_KEY_ATTRIBUTES,
            ],
        )?;
        private.extend(common.iter().cloned());
        public.extend(common.iter().cloned());
        let kmip_alg = attributes::enumeration(&private, Tag::CRYPTOGRAPHIC_ALGORITHM)?
            .ok_or_else(|| KmipError::missing("Cryptographic Algorithm attribute"))?;
        let bits = attributes::integer(&private, Tag::CRYPTOGRAPHIC_LENGTH)?;
        let curve = match attributes::enumeration(&private, Tag::RECOMMENDED_CURVE)? {
            Some(curve) => Some(curve),
            None => match attributes::find(&private, Tag::CRYPTOGRAPHIC_DOMAIN_PARAMETERS) {
                Some(Value::Structure(children)) => match children
                    .iter()
                    .find(|item| item.tag == Tag::RECOMMENDED_CURVE)
                    .map(|item| &item.value)
                {
                    Some(Value::Enumeration(curve)) => Some(*curve),
                    _ => None,
                },
                _ => None,
            },
        };
        let algorithm = key_pair_algorithm(kmip_alg, bits, curve)?;
        let (private_name, mut private_labels) = self.labels(&private)?;
        let (public_name, mut public_labels) = self.labels(&public)?;
        let pair = asymmetric::generate(algorithm)?;
        let [private_recorded, public_recorded] = generated_pair_labels(&pair, algorithm)?;
        private_labels.extend(private_recorded);
        public_labels.extend(public_recorded);
        let (private_meta, public_meta) = self
            .keystore
            .register_key_pair(
                &self.session.caller,
                &self.session.tenant,
                algorithm,
                keystore::NewHalf {
                    name: private_name.as_deref(),
                    labels: private_labels,
                    material: pair.private_pkcs8,
                },
                keystore::NewHalf {
                    name: public_name.as_deref(),
                    labels: public_labels,
                    material: SecretBytes::new(pair.public_spki),
                },
            )
            .map_err(|error| store_error(&error))?;
        Ok(pair_identifiers(private_meta, public_meta))
    }

    /// Re-key Key Pair: a new key pair of the old pair's algorithm, which
    /// takes over its names and its Object Group, Usage Mask and Contact
    /// Information (attributes in the request override the last three), linked
    /// to the old halves by Replaced and Replacement Object Links. The new
    /// pair is Pre-Active; an Offset is not supported.
    pub(super) fn rekey_key_pair(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "re-key key pairs")?;
        let id = self.identifier(Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER)?;
        if self.payload.child(Tag::OFFSET).is_some() {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                "Re-key Key Pair with an Offset is not supported; the new pair is Pre-Active until activated",
            ));
        }
        let old_private = self.object_by_id(&id)?;
        if old_private.object_type != ObjectType::PrivateKey
            || !old_private
                .labels
                .contains_key(keystore::object::KEY_PAIR_LABEL)
        {
            return Err(KmipError::invalid(format!(
                "object {id} is not the private key of a key pair; Re-key Key Pair needs one"
            )));
        }
        let common = attributes::read_child(
            self.payload,
            &[Tag::COMMON_TEMPLATE_ATTRIBUTE, Tag::COMMON_ATTRIBUTES],
        )?;
        let mut half_labels = Vec::with_capacity(2);
        for (tags, old_id) in [
            (
                [
                    Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
                    Tag::PRIVATE_KEY_ATTRIBUTES,
                ],
                Some(&old_private.id),
            ),
            (
                [
                    Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
                    Tag::PUBLIC_KEY_ATTRIBUTES,
                ],
                old_private.labels.get(keystore::object::KEY_PAIR_LABEL),
            ),
        ] {
            let mut attrs = attributes::read_child(self.payload, &tags)?;
            attrs.extend(common.iter().cloned());
            if attributes::name(&attrs)?.is_some() {
                return Err(KmipError::invalid(
                    "Re-key Key Pair gives the new pair the old pair's names; send no Name",
                ));
            }
            let old = match old_id {
                Some(old_id) => self.object_by_id(old_id)?,
                None => old_private.clone(),
            };
            let mut labels: BTreeMap<String, String> =
                [LABEL_NAME, LABEL_GROUP, LABEL_USAGE, LABEL_CONTACT]
                    .into_iter()
                    .filter_map(|label| Some((label.to_owned(), old.labels.get(label)?.clone())))
                    .collect();
            labels.extend(self.labels(&attrs)?.1);
            half_labels.push(labels);
        }
        let mut public_labels = half_labels.pop().unwrap_or_default();
        let mut private_labels = half_labels.pop().unwrap_or_default();
        let pair = asymmetric::generate(old_private.algorithm)?;
        let [private_recorded, public_recorded] =
            generated_pair_labels(&pair, old_private.algorithm)?;
        private_labels.extend(private_recorded);
        public_labels.extend(public_recorded);
        let (private_meta, public_meta) = self
            .keystore
            .rekey_key_pair(
                &self.session.caller,
                &old_private,
                &[LABEL_NAME],
                keystore::NewHalf {
                    name: None,
                    labels: private_labels,
                    material: pair.private_pkcs8,
                },
                keystore::NewHalf {
                    name: None,
                    labels: public_labels,
                    material: SecretBytes::new(pair.public_spki),
                },
            )
            .map_err(|error| store_error(&error))?;
        Ok(pair_identifiers(private_meta, public_meta))
    }
}
