//! The cryptographic operations: Encrypt, Decrypt, MAC, MAC Verify, Sign,
//! Signature Verify and RNG Retrieve.

use keystore::Found;
use keystore::object::{Algorithm, ObjectType};
use rand::RngCore;
use ttlv::{Item, Tag, Value};

use crate::asymmetric::{self, Hash, Scheme};
use crate::crypto;
use crate::error::{KmipError, ResultReason};

use super::{Context, Outcome, uid};

/// Largest RNG Retrieve answered, in bytes.
pub(super) const MAX_RANDOM_BYTES: usize = 1024 * 1024;

impl Context<'_> {
    pub(super) fn encrypt(&self) -> Outcome {
        let found = self.key_object()?;
        if found.meta.object_type == ObjectType::PublicKey {
            return self.rsa_encrypt(found);
        }
        self.symmetric_encrypt(found)
    }

    pub(super) fn decrypt(&self) -> Outcome {
        let found = self.key_object()?;
        if found.meta.object_type == ObjectType::PrivateKey {
            return self.rsa_decrypt(found);
        }
        self.symmetric_decrypt(found)
    }

    pub(super) fn mac(&self, verify: bool) -> Outcome {
        let found = self.key_object()?;
        let (meta, key) =
            self.usable_key(found, ObjectType::SymmetricKey, !verify, "hmac-sha256")?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        if verify {
            let expected = self
                .bytes_field(Tag::MAC_DATA)?
                .ok_or_else(|| KmipError::missing("MAC Data"))?;
            let valid = crypto::hmac_sha256_verify(key.expose_secret(), data, expected)?;
            // Validity Indicator: 1 Valid, 2 Invalid.
            let indicator = if valid { 1 } else { 2 };
            Ok(vec![
                uid(&meta.id),
                Item::new(Tag::VALIDITY_INDICATOR, Value::Enumeration(indicator)),
            ])
        } else {
            let mac = crypto::hmac_sha256(key.expose_secret(), data)?;
            Ok(vec![
                uid(&meta.id),
                Item::new(Tag::MAC_DATA, Value::ByteString(mac.into())),
            ])
        }
    }

    /// An enumeration field of the request's Cryptographic Parameters.
    pub(super) fn parameter(&self, tag: Tag) -> Result<Option<u32>, KmipError> {
        match self
            .payload
            .child(Tag::CRYPTOGRAPHIC_PARAMETERS)
            .and_then(|parameters| parameters.child(tag))
            .map(|item| &item.value)
        {
            None => Ok(None),
            Some(Value::Enumeration(value)) => Ok(Some(*value)),
            Some(_) => Err(KmipError::invalid(format!("{tag} must be an enumeration"))),
        }
    }

    /// The OAEP hash and mask generation hash the request asks for. The hash
    /// defaults to SHA-1 (RFC 8017's default); MGF1 uses the Mask Generator
    /// Hashing Algorithm when given, else the OAEP hash, as PyKMIP and most
    /// servers do.
    pub(super) fn oaep_hashes(&self) -> Result<(Hash, Hash), KmipError> {
        match self.parameter(Tag::PADDING_METHOD)? {
            // OAEP.
            None | Some(0x02) => {}
            // PKCS1 v1.5.
            Some(0x08) => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    "RSA PKCS#1 v1.5 encryption is not supported (it invites padding oracles); use the OAEP padding method",
                ));
            }
            Some(other) => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    format!(
                        "padding method 0x{other:02X} is not supported for RSA encryption; use OAEP"
                    ),
                ));
            }
        }
        match self.parameter(Tag::MASK_GENERATOR)? {
            None | Some(0x01) => {}
            Some(other) => {
                return Err(KmipError::new(
                    ResultReason::FeatureNotSupported,
                    format!("mask generator 0x{other:02X} is not supported; use MGF1"),
                ));
            }
        }
        let hash = match self.parameter(Tag::HASHING_ALGORITHM)? {
            Some(value) => Hash::from_kmip(value)?,
            None => Hash::Sha1,
        };
        let mask_hash = match self.parameter(Tag::MASK_GENERATOR_HASHING_ALGORITHM)? {
            Some(value) => Hash::from_kmip(value)?,
            None => hash,
        };
        Ok((hash, mask_hash))
    }

    pub(super) fn rsa_encrypt(&self, found: Found) -> Outcome {
        let (hash, mask_hash) = self.oaep_hashes()?;
        let (meta, key) = self.usable_key(found, ObjectType::PublicKey, true, "rsa")?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let ciphertext = asymmetric::oaep_encrypt(key.expose_secret(), hash, mask_hash, data)?;
        Ok(vec![
            uid(&meta.id),
            Item::new(Tag::DATA, Value::ByteString(ciphertext.into())),
        ])
    }

    pub(super) fn rsa_decrypt(&self, found: Found) -> Outcome {
        let (hash, mask_hash) = self.oaep_hashes()?;
        let (meta, key) = self.usable_key(found, ObjectType::PrivateKey, false, "rsa")?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let plaintext = asymmetric::oaep_decrypt(&key, hash, mask_hash, data)?;
        Ok(vec![
            uid(&meta.id),
            Item::new(
                Tag::DATA,
                Value::ByteString(plaintext.expose_secret().into()),
            ),
        ])
    }

    /// The signature scheme the Cryptographic Parameters ask for on a key of
    /// `algorithm`: Digital Signature Algorithm first, else Padding Method and
    /// Hashing Algorithm; PKCS#1 v1.5 with SHA-256 for RSA and the curve's hash
    /// for ECDSA when nothing is named.
    pub(super) fn signature_scheme(&self, algorithm: Algorithm) -> Result<Scheme, KmipError> {
        let hash = self
            .parameter(Tag::HASHING_ALGORITHM)?
            .map(Hash::from_kmip)
            .transpose()?;
        let unsupported = |what: String| KmipError::new(ResultReason::FeatureNotSupported, what);
        let digital = self.parameter(Tag::DIGITAL_SIGNATURE_ALGORITHM)?;
        if algorithm.family() == "rsa" {
            return match digital {
                Some(0x05) => Ok(Scheme::RsaPkcs1(Hash::Sha256)),
                Some(0x06) => Ok(Scheme::RsaPkcs1(Hash::Sha384)),
                Some(0x07) => Ok(Scheme::RsaPkcs1(Hash::Sha512)),
                Some(0x08) => Ok(Scheme::RsaPss(hash.unwrap_or(Hash::Sha256))),
                Some(other) => Err(unsupported(format!(
                    "digital signature algorithm 0x{other:02X} is not supported with RSA keys; use SHA-256/384/512 with RSA or RSASSA-PSS"
                ))),
                None => match self.parameter(Tag::PADDING_METHOD)? {
                    None | Some(0x08) => Ok(Scheme::RsaPkcs1(hash.unwrap_or(Hash::Sha256))),
                    Some(0x0A) => Ok(Scheme::RsaPss(hash.unwrap_or(Hash::Sha256))),
                    Some(other) => Err(unsupported(format!(
                        "padding method 0x{other:02X} is not supported for RSA signatures; use PKCS1 v1.5 or PSS"
                    ))),
                },
            };
        }
        let curve_hash = if algorithm == Algorithm::EcP384 {
            Hash::Sha384
        } else {
            Hash::Sha256
        };
        match digital {
            Some(0x0E) => Ok(Scheme::Ecdsa(Hash::Sha256)),
            Some(0x0F) => Ok(Scheme::Ecdsa(Hash::Sha384)),
            Some(other) => Err(unsupported(format!(
                "digital signature algorithm 0x{other:02X} is not supported with EC keys; use ECDSA with SHA-256 (P-256) or SHA-384 (P-384)"
            ))),
            None => Ok(Scheme::Ecdsa(hash.unwrap_or(curve_hash))),
        }
    }

    /// Sign (with an Active private key) or Signature Verify (with a public key
    /// that is Active, Deactivated or Compromised).
    pub(super) fn sign(&self, verify: bool) -> Outcome {
        let found = self.key_object()?;
        let meta = &found.meta;
        if self.payload.child(Tag::DIGESTED_DATA).is_some() {
            return Err(KmipError::new(
                ResultReason::FeatureNotSupported,
                "signing pre-hashed data (Digested Data) is not supported; send the Data itself",
            ));
        }
        let (kind, what) = if verify {
            (
                ObjectType::PublicKey,
                "Signature Verify needs the public key of a pair",
            )
        } else {
            (
                ObjectType::PrivateKey,
                "Sign needs the private key of a pair",
            )
        };
        if meta.object_type != kind {
            return Err(KmipError::invalid(format!(
                "object {} is a {}; {what}",
                meta.id,
                meta.object_type.as_str().replace('_', " ")
            )));
        }
        let family = meta.algorithm.family();
        let algorithm = meta.algorithm;
        let scheme = self.signature_scheme(algorithm)?;
        let data = self
            .bytes_field(Tag::DATA)?
            .ok_or_else(|| KmipError::missing("Data"))?;
        let (meta, key) = self.usable_key(found, kind, !verify, family)?;
        if verify {
            let signature = self
                .bytes_field(Tag::SIGNATURE_DATA)?
                .ok_or_else(|| KmipError::missing("Signature Data"))?;
            let valid =
                asymmetric::verify(algorithm, scheme, key.expose_secret(), data, signature)?;
            // Validity Indicator: 1 Valid, 2 Invalid.
            Ok(vec![
                uid(&meta.id),
                Item::new(
                    Tag::VALIDITY_INDICATOR,
                    Value::Enumeration(if valid { 1 } else { 2 }),
                ),
            ])
        } else {
            let signature = asymmetric::sign(algorithm, scheme, &key, data)?;
            Ok(vec![
                uid(&meta.id),
                Item::new(Tag::SIGNATURE_DATA, Value::ByteString(signature.into())),
            ])
        }
    }

    pub(super) fn rng_retrieve(&self) -> Outcome {
        let length = match self.payload.child(Tag::DATA_LENGTH).map(|i| &i.value) {
            Some(Value::Integer(value)) => usize::try_from(*value)
                .ok()
                .filter(|len| (1..=MAX_RANDOM_BYTES).contains(len))
                .ok_or_else(|| {
                    KmipError::invalid(format!("Data Length must be 1 to {MAX_RANDOM_BYTES}"))
                })?,
            _ => return Err(KmipError::missing("Data Length")),
        };
        let mut bytes = vec![0_u8; length];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Ok(vec![Item::new(Tag::DATA, Value::ByteString(bytes.into()))])
    }
}
