//! The life of one object: Create, Re-key, Activate, Revoke and Destroy
//! (Register has a module of its own).

use keystore::object::{Algorithm, ObjectMeta, ObjectType, RevocationReason, State};
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, KeystoreError};
use ttlv::{Item, Tag, Value};

use crate::attributes;
use crate::error::KmipError;

use super::labels::algorithm_labels;
use super::values::{algorithm, key_format, keystore_algorithm, object_type};
use super::{Context, Outcome, kept, store_error, uid};

/// Longest symmetric key Create or Derive Key makes, in bytes (8192 bits).
pub(super) const MAX_SYMMETRIC_BYTES: usize = 1024;

/// The size in bytes and keystore algorithm of a new symmetric key of KMIP
/// algorithm `kmip_alg` and `bits`: any algorithm, of a length that is a
/// whole number of bytes (3DES's 112 and 168 bits are 16 and 24 bytes with
/// their parity bits, DES's 56 bits 8). Keys of an algorithm and length the
/// server uses get that keystore algorithm; the others are kept with the
/// algorithm the client named ([`algorithm_labels`]).
pub(super) fn new_symmetric_key(kmip_alg: u32, bits: i32) -> Result<(usize, Algorithm), KmipError> {
    let bytes = match (kmip_alg, bits) {
        (algorithm::DES, 56) => Some(8),
        (algorithm::TRIPLE_DES, 112) => Some(16),
        (algorithm::TRIPLE_DES, 168) => Some(24),
        (_, bits) => usize::try_from(bits)
            .ok()
            .filter(|bits| bits % 8 == 0)
            .map(|bits| bits / 8),
    }
    .filter(|bytes| (1..=MAX_SYMMETRIC_BYTES).contains(bytes))
    .ok_or_else(|| {
        KmipError::invalid(format!(
            "a Cryptographic Length of {bits} bits is not a key length; give a multiple of 8 from 8 to {} bits",
            MAX_SYMMETRIC_BYTES.saturating_mul(8)
        ))
    })?;
    Ok((
        bytes,
        keystore_algorithm(kmip_alg, bits).unwrap_or(Algorithm::None),
    ))
}

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
        let (bytes, algorithm) = new_symmetric_key(kmip_alg, bits)?;
        let (name, mut labels) = self.labels(&attrs)?;
        labels.extend(algorithm_labels(
            algorithm,
            Some(kmip_alg),
            Some(bits),
            u32::try_from(bytes.saturating_mul(8)).unwrap_or(u32::MAX),
        ));
        let material = SecretBytes::random(bytes);
        let (digest, value) = kept::digest_label(Some(key_format::RAW), material.expose_secret());
        labels.insert(digest, value);
        labels.insert(kept::LABEL_GENERATED.to_owned(), "os".to_owned());
        let meta = self.store_new(
            name.as_deref(),
            ObjectType::SymmetricKey,
            algorithm,
            labels,
            material,
            &attrs,
        )?;
        Ok(vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(object)),
            uid(&meta.id),
        ])
    }

    pub(super) fn rekey(&self) -> Outcome {
        self.change("re-key objects", Keystore::rotate)
    }

    pub(super) fn activate(&self) -> Outcome {
        self.change("activate objects", Keystore::activate)
    }

    pub(super) fn revoke(&self) -> Outcome {
        self.require(self.session.rights.manage_keys, "revoke objects")?;
        let meta = self.live_object()?;
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
        // A compromised object revoked again for a compromise stays as it is:
        // its Compromise Date is when it was first believed compromised.
        if meta.state == State::Compromised && reason == RevocationReason::Compromised {
            return Ok(vec![uid(&meta.id)]);
        }
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
        let meta = self.live_object()?;
        let updated = change(self.keystore, &self.session.caller, &meta)
            .map_err(|error| store_error(&error))?;
        Ok(vec![uid(&updated.id)])
    }
}
