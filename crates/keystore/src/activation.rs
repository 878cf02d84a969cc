//! New objects with a KMIP Activation Date: stored Active from that date when
//! it has come, Pre-Active with the date kept when it is still ahead.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::object::{Algorithm, ObjectMeta, ObjectType};
use crate::secret::SecretBytes;
use crate::service::{Caller, Keystore, KeystoreError, event, name_taken_or_store, now};
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use time::Duration;

    use super::*;
    use crate::SealChoice;
    use crate::object::State;
    use crate::seal::PassphraseSeal;
    use crate::store::sqlite::SqliteStore;

    #[test]
    fn an_activation_date_that_has_come_makes_the_object_active() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        let keystore = Keystore::open(store).unwrap();
        let passphrase = || SecretBytes::from_slice(b"correct horse battery staple");
        let seal = PassphraseSeal::new_insecure_for_tests(passphrase()).unwrap();
        keystore
            .initialize(&Caller::system(), SealChoice::Passphrase(seal), Vec::new())
            .unwrap();
        keystore
            .unseal_with_passphrase(&Caller::system(), passphrase())
            .unwrap();
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
}
