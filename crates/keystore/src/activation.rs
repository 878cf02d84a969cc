//! KMIP Activation Dates: new objects stored Active from that date when it
//! has come, Pre-Active with the date kept when it is still ahead; and the
//! date of a Pre-Active object changed the same way.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::caller::{Caller, event, now};
use crate::error::{KeystoreError, name_taken_or_store};
use crate::object::{Algorithm, ObjectMeta, ObjectType, State};
use crate::secret::SecretBytes;
use crate::service::Keystore;
use crate::store::Write;

impl Keystore {
    /// [`Keystore::register_pre_active`] with an Activation Date (KMIP Create,
    /// Register and Derive Key with that attribute): an object whose date has
    /// come is stored Active since that date, one whose date is ahead is
    /// stored Pre-Active with the date kept, for [`Keystore::activate`]. In one
    /// transaction with one audit record (`key.create`), as every new object.
    #[allow(clippy::too_many_arguments)] // Each argument is a distinct KMIP attribute.
    pub fn register_with_activation_date(
        &self,
        caller: &Caller,
        tenant: &str,
        name: Option<&str>,
        object_type: ObjectType,
        algorithm: Algorithm,
        labels: BTreeMap<String, String>,
        material: SecretBytes,
        activation_date: OffsetDateTime,
    ) -> Result<ObjectMeta, KeystoreError> {
        let active = activation_date <= now();
        let (mut meta, row) = self.new_object(
            caller,
            tenant,
            name,
            object_type,
            algorithm,
            labels,
            &material,
            active,
        )?;
        meta.activation_date = Some(activation_date);
        let mut audit_event = event(caller, "key.create", Some(tenant), Some(&meta.id));
        if let Some(name) = name {
            audit_event
                .sensitive
                .push(("name".to_owned(), name.as_bytes().to_vec()));
        }
        self.store
            .commit(
                vec![Write::InsertObject(meta.clone()), Write::PutVersion(row)],
                audit_event,
            )
            .map_err(name_taken_or_store)?;
        Ok(meta)
    }
}

impl Keystore {
    /// Sets the Activation Date of a Pre-Active object (KMIP Modify
    /// Attribute before activation): a date that has come makes it Active
    /// since that date, one ahead is kept for [`Keystore::activate`]. Any
    /// other state is refused: once active, the date is history.
    pub fn set_activation_date(
        &self,
        caller: &Caller,
        meta: &ObjectMeta,
        activation_date: OffsetDateTime,
    ) -> Result<ObjectMeta, KeystoreError> {
        self.require_unsealed()?;
        if meta.state != State::PreActive {
            return Err(KeystoreError::WrongState {
                id: meta.id.clone(),
                operation: "set the activation date of",
                state: meta.state,
                hint: "only a pre-active object's activation date can change",
            });
        }
        let unchanged = self.lock_unchanged(meta)?;
        let mut updated = meta.clone();
        updated.activation_date = Some(activation_date);
        if activation_date <= now() {
            updated.state = State::Active;
        }
        self.store.commit(
            vec![unchanged.expect(), Write::UpdateObject(updated.clone())],
            event(caller, "key.activate", Some(&meta.tenant), Some(&meta.id)),
        )?;
        Ok(updated)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use time::Duration;

    use super::*;
    use crate::SealChoice;
    use crate::seal::PassphraseSeal;

    /// A keystore on SQLite in `dir`, initialized and unsealed.
    pub(crate) fn unsealed(dir: &std::path::Path) -> Keystore {
        let keystore = Keystore::open_sqlite(&dir.join("t.db")).unwrap();
        let passphrase = || SecretBytes::from_slice(b"correct horse battery staple");
        let seal = PassphraseSeal::new_insecure_for_tests(passphrase()).unwrap();
        keystore
            .initialize(&Caller::system(), SealChoice::Passphrase(seal), Vec::new())
            .unwrap();
        keystore
            .unseal_with_passphrase(&Caller::system(), passphrase())
            .unwrap();
        keystore
    }

    #[test]
    fn an_activation_date_that_has_come_makes_the_object_active() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = unsealed(dir.path());
        let register = |name: &str, at: OffsetDateTime| {
            keystore
                .register_with_activation_date(
                    &Caller::system(),
                    "t",
                    Some(name),
                    ObjectType::SymmetricKey,
                    Algorithm::Aes256,
                    BTreeMap::new(),
                    SecretBytes::random(32),
                    at,
                )
                .unwrap()
        };
        let past = (now() - Duration::hours(1)).replace_nanosecond(0).unwrap();
        let active = register("past", past);
        assert_eq!(active.state, State::Active);
        assert_eq!(active.activation_date, Some(past));
        let future = now() + Duration::days(1);
        let pending = register("future", future);
        assert_eq!(pending.state, State::PreActive);
        assert_eq!(pending.activation_date, Some(future));
        // What was stored is what was answered.
        let stored = keystore.find("t", &active.id).unwrap();
        assert_eq!(stored.state, State::Active);
        assert_eq!(stored.activation_date, Some(past));
    }

    #[test]
    fn only_a_pre_active_object_takes_a_new_activation_date() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = unsealed(dir.path());
        let pending = keystore
            .register_pre_active(
                &Caller::system(),
                "t",
                Some("k"),
                ObjectType::SymmetricKey,
                Algorithm::Aes256,
                BTreeMap::new(),
                SecretBytes::random(32),
            )
            .unwrap();
        let later = (now() + Duration::days(1)).replace_nanosecond(0).unwrap();
        let still = keystore
            .set_activation_date(&Caller::system(), &pending, later)
            .unwrap();
        assert_eq!(still.state, State::PreActive);
        assert_eq!(still.activation_date, Some(later));
        let past = (now() - Duration::hours(1)).replace_nanosecond(0).unwrap();
        let active = keystore
            .set_activation_date(&Caller::system(), &still, past)
            .unwrap();
        assert_eq!(active.state, State::Active);
        assert_eq!(keystore.find("t", &active.id).unwrap(), active);
        let refused = keystore.set_activation_date(&Caller::system(), &active, later);
        assert!(matches!(refused, Err(KeystoreError::WrongState { .. })));
    }
}
