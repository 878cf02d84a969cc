//! Secrets: values people put in (passwords, API keys), stored as Secret Data
//! objects, versioned and wrapped like keys, audited on every read.

use std::collections::BTreeMap;

use crate::caller::{Caller, event, now};
use crate::durable::Durable;
use crate::error::KeystoreError;
use crate::object::{Algorithm, ObjectMeta, ObjectType, State};
use crate::release::{SecretRelease, check_recipient};
use crate::secret::SecretBytes;
use crate::service::Keystore;
use crate::store::Write;

/// Largest secret value: secrets are passwords, tokens and certificates, not
/// files; a bound keeps a mistaken upload from filling the database.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

fn check_value(value: &SecretBytes) -> Result<(), KeystoreError> {
    if value.is_empty() {
        return Err(KeystoreError::InvalidArgument(
            "a secret cannot be empty".to_owned(),
        ));
    }
    if value.len() > MAX_SECRET_BYTES {
        return Err(KeystoreError::InvalidArgument(format!(
            "a secret holds at most {MAX_SECRET_BYTES} bytes; this one has {}",
            value.len()
        )));
    }
    Ok(())
}

impl Keystore {
    /// Stores a new secret named `name` in `tenant`, Active from now.
    pub fn create_secret(
        &self,
        caller: &Caller,
        tenant: &str,
        name: &str,
        labels: BTreeMap<String, String>,
        value: SecretBytes,
    ) -> Result<ObjectMeta, KeystoreError> {
        check_value(&value)?;
        self.register(
            caller,
            tenant,
            Some(name),
            ObjectType::SecretData,
            Algorithm::None,
            labels,
            value,
        )
    }

    /// Adds `value` as the secret's next version; earlier versions stay readable.
    pub fn rotate_secret(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        value: SecretBytes,
    ) -> Result<ObjectMeta, KeystoreError> {
        check_value(&value)?;
        if meta.object_type != ObjectType::SecretData || meta.state != State::Active {
            return Err(KeystoreError::WrongState {
                id: meta.id.clone(),
                operation: "rotate the secret",
                state: meta.state,
                hint: "only an active secret can take a new value; create a new secret instead",
            });
        }
        let unchanged = self.lock_unchanged(meta)?;
        let version = meta.version.saturating_add(1);
        let row = self.wrap_current(caller, meta, version, &value)?;
        let mut updated = meta.clone();
        updated.version = version;
        updated.rotated_at = now();
        updated.length = u32::try_from(value.len().saturating_mul(8)).unwrap_or(u32::MAX);
        self.store.commit(
            vec![
                unchanged.expect(),
                Write::PutVersion(row),
                Write::UpdateObject(updated.clone()),
            ],
            event(caller, "secret.rotate", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }

    /// The value of the secret `release` was decided for (the current
    /// version when `version` is `None`), released to its caller once the
    /// read is durably audited as `secret.read`. The release is used up.
    pub fn read_secret(
        &self,
        caller: &Caller,
        release: SecretRelease,
        version: Option<u32>,
    ) -> Result<Durable<(u32, SecretBytes)>, KeystoreError> {
        let (recipient, meta) = release.into_parts();
        check_recipient(caller, &recipient)?;
        self.read_deferred(caller, &meta, version, "secret.read")
    }
}
