//! Changes made only if nothing else changed the object first: taking back a
//! change (KMIP's Batch Error Continuation Option Undo) and counting uses
//! down in a label (KMIP's Usage Limits), both compared against the whole
//! stored metadata, not only its version and state.

use std::collections::BTreeMap;

use crate::caller::{Caller, event};
use crate::error::KeystoreError;
use crate::object::ObjectMeta;
use crate::service::{Keystore, Unchanged};
use crate::store::{StoreError, Write};

impl Keystore {
    /// Puts an object's metadata back to `previous`, taking back the change
    /// that made it `current` (its state, dates and labels; a KMIP batch
    /// with Undo whose later item failed). Refused when the stored object is
    /// no longer `current` (someone changed it since: Stale), when the
    /// change cannot be taken back (a destroyed object's material is gone;
    /// a new version or another object stays), or when `previous` is
    /// another object's. Audited as `key.undo`.
    pub fn undo_change(
        &self,
        caller: &Caller,
        current: &ObjectMeta,
        previous: &ObjectMeta,
    ) -> Result<ObjectMeta, KeystoreError> {
        self.require_unsealed()?;
        if previous.id != current.id
            || previous.tenant != current.tenant
            || previous.version != current.version
            || previous.object_type != current.object_type
        {
            return Err(KeystoreError::InvalidArgument(format!(
                "object {} cannot be put back to another object's or version's metadata",
                current.id
            )));
        }
        if current.state.is_destroyed() && !previous.state.is_destroyed() {
            return Err(KeystoreError::InvalidArgument(format!(
                "object {} was destroyed; its material cannot be brought back",
                current.id
            )));
        }
        let unchanged = self.lock_identical(current)?;
        self.store.commit(
            vec![unchanged.expect(), Write::UpdateObject(previous.clone())],
            event(caller, "key.undo", Some(&current.tenant), Some(&current.id)),
        )?;
        Ok(previous.clone())
    }

    /// [`Keystore::set_labels`], only if the stored object is still exactly
    /// `meta` (else Stale): for counters kept in labels, which two requests
    /// must not both decrement from the same value.
    pub fn set_labels_if_current(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        labels: BTreeMap<String, String>,
    ) -> Result<ObjectMeta, KeystoreError> {
        self.require_unsealed()?;
        crate::object::validate_labels(&labels)?;
        let unchanged = self.lock_identical(meta)?;
        let mut updated = meta.clone();
        updated.labels = labels;
        self.store.commit(
            vec![unchanged.expect(), Write::UpdateObject(updated.clone())],
            event(caller, "key.set_labels", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }

    /// The mutation lock, taken once the stored object is known to be
    /// exactly `meta`; its commit expects the object unchanged (another
    /// server's change in between makes it stale).
    fn lock_identical(&self, meta: &ObjectMeta) -> Result<Unchanged<'_>, KeystoreError> {
        let guard = self.lock_unchanged(meta)?;
        if guard.stored() != meta {
            return Err(KeystoreError::Store(StoreError::Stale {
                what: format!("object {}", meta.id),
            }));
        }
        Ok(guard)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::activation::tests::unsealed as keystore;
    use crate::object::{Algorithm, ObjectType, State};
    use crate::secret::SecretBytes;

    /// A new Pre-Active AES key with `labels`.
    fn pending(keystore: &Keystore, labels: BTreeMap<String, String>) -> ObjectMeta {
        keystore
            .register_pre_active(
                &Caller::system(),
                "t",
                Some("k"),
                ObjectType::SymmetricKey,
                Algorithm::Aes256,
                labels,
                SecretBytes::random(32),
            )
            .unwrap()
    }

    #[test]
    fn an_activation_is_taken_back_only_while_nothing_else_changed() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = keystore(dir.path());
        let caller = Caller::system();
        let pending = pending(&keystore, BTreeMap::new());
        let active = keystore.activate(&caller, &pending).unwrap();
        let undone = keystore.undo_change(&caller, &active, &pending).unwrap();
        assert_eq!(undone.state, State::PreActive);
        assert_eq!(keystore.find("t", &pending.id).unwrap(), pending);
        // Changed since: refused, and the change stays.
        let active = keystore.activate(&caller, &pending).unwrap();
        let labelled = keystore
            .set_labels(&caller, &active, BTreeMap::from([("a".into(), "b".into())]))
            .unwrap();
        let refused = keystore.undo_change(&caller, &active, &pending);
        assert!(
            matches!(refused, Err(KeystoreError::Store(StoreError::Stale { .. }))),
            "{refused:?}"
        );
        assert_eq!(keystore.find("t", &pending.id).unwrap(), labelled);
    }

    #[test]
    fn a_counter_label_is_not_written_from_a_stale_read() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = keystore(dir.path());
        let caller = Caller::system();
        let meta = pending(&keystore, BTreeMap::from([("left".into(), "2".into())]));
        let one = BTreeMap::from([("left".into(), "1".into())]);
        let first = keystore
            .set_labels_if_current(&caller, &meta, one.clone())
            .unwrap();
        assert_eq!(first.labels, one);
        // A second writer that read "2" too is refused.
        let stale = keystore.set_labels_if_current(&caller, &meta, one);
        assert!(matches!(
            stale,
            Err(KeystoreError::Store(StoreError::Stale { .. }))
        ));
    }
}
