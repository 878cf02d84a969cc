//! The key manager against a simple in-memory model: random operations, injected
//! commit failures, reopenings and root and tenant key rotations; after every step
//! the real store must agree with the model, and the audit chain must verify.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // In tests a panic is the failure report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::PASSPHRASE;
use crate::model::{ListFilter, TokenRow, VolumeRow};
use crate::object::{Algorithm, ObjectMeta, RevocationReason, State};
use crate::secret::SecretBytes;
use crate::store::sqlite::SqliteStore;
use crate::store::{ObjectRef, PendingCommit, Store, StoreError, TenantKeyRow, VersionRow, Write};
use crate::{Caller, Keystore, KeystoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A store that refuses the next commit when armed, as a full disk would.
struct FlakyStore {
    inner: SqliteStore,
    fail_next: AtomicBool,
}

impl Store for FlakyStore {
    fn get_system(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_system(name)
    }
    fn tenant_keys(&self) -> Result<Vec<TenantKeyRow>, StoreError> {
        self.inner.tenant_keys()
    }
    fn get_object(&self, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.inner.get_object(id)
    }
    fn find_object_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        self.inner.find_object_by_name(tenant, name)
    }
    fn list_objects(&self, filter: &ListFilter) -> Result<(Vec<ObjectMeta>, u64), StoreError> {
        self.inner.list_objects(filter)
    }
    fn get_version(&self, object_id: &str, version: u32) -> Result<Option<VersionRow>, StoreError> {
        self.inner.get_version(object_id, version)
    }
    fn get_object_current(
        &self,
        by: ObjectRef<'_>,
    ) -> Result<Option<(ObjectMeta, Option<VersionRow>)>, StoreError> {
        self.inner.get_object_current(by)
    }
    fn versions_below_kek(
        &self,
        tenant: &str,
        kek_version: u32,
        limit: u32,
    ) -> Result<Vec<VersionRow>, StoreError> {
        self.inner.versions_below_kek(tenant, kek_version, limit)
    }
    fn get_token_by_digest(&self, digest: &str) -> Result<Option<TokenRow>, StoreError> {
        self.inner.get_token_by_digest(digest)
    }
    fn get_token_by_id(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        self.inner.get_token_by_id(id)
    }
    fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.inner.list_tokens()
    }
    fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        self.inner.audit_head()
    }
    fn audit_records(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<audit::StoredRecord>, StoreError> {
        self.inner.audit_records(after, limit)
    }
    fn audit_checkpoints(&self) -> Result<Vec<audit::Checkpoint>, StoreError> {
        self.inner.audit_checkpoints()
    }
    fn get_volume(&self, tenant: &str, name: &str) -> Result<Option<VolumeRow>, StoreError> {
        self.inner.get_volume(tenant, name)
    }
    fn list_volumes(&self, tenants: Option<&[String]>) -> Result<Vec<VolumeRow>, StoreError> {
        self.inner.list_volumes(tenants)
    }
    fn journal(&self) -> &Arc<Mutex<crate::journal::Journal>> {
        self.inner.journal()
    }
    fn submit(
        &self,
        writes: Vec<Write>,
        event: audit::AuditEvent,
    ) -> Result<PendingCommit, StoreError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::WriterStopped);
        }
        self.inner.submit(writes, event)
    }
}

/// What the model knows of one key.
#[derive(Debug, Clone)]
struct ModelKey {
    id: String,
    state: State,
    versions: Vec<Vec<u8>>,
}

struct Harness {
    dir: tempfile::TempDir,
    store: Arc<FlakyStore>,
    keystore: Keystore,
}

fn open(dir: &std::path::Path) -> (Arc<FlakyStore>, Keystore) {
    let store = Arc::new(FlakyStore {
        inner: SqliteStore::open(&dir.join("test.db")).unwrap(),
        fail_next: AtomicBool::new(false),
    });
    let keystore = Keystore::open_store(store.clone()).unwrap();
    (store, keystore)
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let (store, keystore) = open(dir.path());
        super::initialize_and_unseal(&keystore);
        Harness {
            dir,
            store,
            keystore,
        }
    }

    fn reopen(&mut self) {
        // Drop the old keystore and store first so the writer flushes and exits.
        let (store, keystore) = {
            let placeholder = tempfile::tempdir().unwrap();
            open(placeholder.path())
        };
        let old_keystore = std::mem::replace(&mut self.keystore, keystore);
        let old_store = std::mem::replace(&mut self.store, store);
        drop(old_keystore);
        drop(old_store);
        let (store, keystore) = open(self.dir.path());
        self.store = store;
        self.keystore = keystore;
        assert!(
            !self.keystore.is_unsealed(),
            "a reopened key manager starts sealed"
        );
        self.keystore
            .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
            .unwrap();
    }
}

fn material_of(keystore: &Keystore, id: &str, version: u32) -> Vec<u8> {
    let meta = keystore.find("default", id).unwrap();
    let (_, material) = keystore
        .material(&Caller::system(), &meta, Some(version))
        .unwrap();
    material.expose_secret().to_vec()
}

fn check_agrees(harness: &Harness, model: &BTreeMap<String, ModelKey>) {
    let keystore = &harness.keystore;
    for (name, key) in model {
        let meta = keystore.find("default", &key.id).unwrap();
        assert_eq!(meta.state, key.state, "state of {name}");
        assert_eq!(meta.name.as_deref(), Some(name.as_str()));
        // The object's row carries a copy of its current version's row: it
        // must be that row, through rotations, re-wraps and destruction.
        let (with_current, current) = harness
            .store
            .get_object_current(ObjectRef::Id(&key.id))
            .unwrap()
            .unwrap();
        assert_eq!(with_current, meta);
        assert_eq!(
            current,
            harness.store.get_version(&key.id, meta.version).unwrap(),
            "the copy of {name}'s current version"
        );
        let found = keystore.find_for_read("default", &key.id).unwrap();
        assert_eq!(found.meta, meta);
        let read = keystore.found_material_deferred(&Caller::system(), &found, None);
        if meta.state.is_destroyed() {
            assert!(read.is_err(), "the material of destroyed {name} was read");
            assert!(
                keystore.find_for_read("default", name).is_err(),
                "destroyed {name} found by its name"
            );
        } else {
            let (version, material) = read.unwrap().wait().unwrap();
            assert_eq!(version, meta.version);
            assert_eq!(
                Some(material.expose_secret()),
                key.versions.last().map(Vec::as_slice),
                "current material of {name}"
            );
            let by_name = keystore.find_for_read("default", name).unwrap();
            assert_eq!(by_name.meta, meta, "{name} found by its name");
        }
        if meta.state.is_destroyed() {
            assert!(
                harness.store.get_version(&key.id, 1).unwrap().is_none(),
                "material of {name} not erased"
            );
        } else {
            assert_eq!(
                meta.version as usize,
                key.versions.len(),
                "versions of {name}"
            );
            for (index, expected) in key.versions.iter().enumerate() {
                let version = u32::try_from(index + 1).unwrap();
                assert_eq!(
                    &material_of(keystore, &key.id, version),
                    expected,
                    "{name} v{version}"
                );
            }
        }
    }
    let report = keystore.verify_audit().unwrap();
    assert!(report.is_ok(), "{report}");
}

#[test]
fn random_operations_agree_with_the_model() {
    for seed in 0..3u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut harness = Harness::new();
        let mut model: BTreeMap<String, ModelKey> = BTreeMap::new();
        for step in 0..150 {
            let inject = rng.gen_bool(0.1);
            harness.store.fail_next.store(inject, Ordering::SeqCst);
            let names: Vec<String> = model.keys().cloned().collect();
            let pick = |rng: &mut StdRng| names.get(rng.gen_range(0..names.len().max(1))).cloned();
            match rng.gen_range(0..9) {
                0 | 1 => {
                    let name = format!("k{}", rng.gen_range(0..40));
                    let live = model
                        .get(&name)
                        .is_some_and(|key| !key.state.is_destroyed());
                    let result = harness.keystore.create_key(
                        &Caller::system(),
                        "default",
                        &name,
                        Algorithm::Aes256,
                        BTreeMap::new(),
                    );
                    match result {
                        Ok(meta) => {
                            assert!(
                                !live && !inject,
                                "step {step}: create {name} should have failed"
                            );
                            let material = material_of(&harness.keystore, &meta.id, 1);
                            model.insert(
                                name,
                                ModelKey {
                                    id: meta.id,
                                    state: State::Active,
                                    versions: vec![material],
                                },
                            );
                        }
                        Err(KeystoreError::NameTaken { .. }) => {
                            assert!(live, "step {step}: spurious name clash")
                        }
                        Err(KeystoreError::Store(_)) => assert!(inject),
                        Err(error) => panic!("step {step}: {error}"),
                    }
                }
                2 => {
                    if let Some(name) = pick(&mut rng) {
                        let key = model.get_mut(&name).unwrap();
                        let meta = harness.keystore.find("default", &key.id).unwrap();
                        match harness.keystore.rotate(&Caller::system(), &meta) {
                            Ok(updated) => {
                                assert!(!inject && key.state == State::Active);
                                let material =
                                    material_of(&harness.keystore, &key.id, updated.version);
                                key.versions.push(material);
                            }
                            Err(KeystoreError::WrongState { .. }) => {
                                assert_ne!(key.state, State::Active)
                            }
                            Err(KeystoreError::Store(_)) => assert!(inject),
                            Err(error) => panic!("step {step}: {error}"),
                        }
                    }
                }
                3 => {
                    if let Some(name) = pick(&mut rng) {
                        let key = model.get_mut(&name).unwrap();
                        let meta = harness.keystore.find("default", &key.id).unwrap();
                        let reason = if rng.gen_bool(0.3) {
                            RevocationReason::Compromised
                        } else {
                            RevocationReason::Superseded
                        };
                        match harness.keystore.revoke(&Caller::system(), &meta, reason) {
                            Ok(updated) => {
                                assert!(!inject);
                                key.state = updated.state;
                            }
                            Err(KeystoreError::WrongState { .. }) => {}
                            Err(KeystoreError::Store(_)) => assert!(inject),
                            Err(error) => panic!("step {step}: {error}"),
                        }
                    }
                }
                4 => {
                    if let Some(name) = pick(&mut rng) {
                        let key = model.get_mut(&name).unwrap();
                        let meta = harness.keystore.find("default", &key.id).unwrap();
                        match harness.keystore.destroy(&Caller::system(), &meta) {
                            Ok(updated) => {
                                assert!(
                                    !inject
                                        && key.state != State::Active
                                        && !key.state.is_destroyed()
                                );
                                key.state = updated.state;
                            }
                            Err(KeystoreError::WrongState { .. }) => {
                                assert!(key.state == State::Active || key.state.is_destroyed())
                            }
                            Err(KeystoreError::Store(_)) => assert!(inject),
                            Err(error) => panic!("step {step}: {error}"),
                        }
                    }
                }
                5 => match harness.keystore.rotate_root(&Caller::system()) {
                    Ok(()) => assert!(!inject),
                    Err(KeystoreError::Store(_)) => assert!(inject),
                    Err(error) => panic!("step {step}: {error}"),
                },
                6 => match harness
                    .keystore
                    .rotate_tenant_key(&Caller::system(), "default")
                {
                    Ok(_) | Err(KeystoreError::NotFound { .. }) => {}
                    Err(KeystoreError::Store(_)) => assert!(inject),
                    Err(error) => panic!("step {step}: {error}"),
                },
                7 => {
                    harness.store.fail_next.store(false, Ordering::SeqCst);
                    harness.reopen();
                }
                _ => {
                    harness.store.fail_next.store(false, Ordering::SeqCst);
                    check_agrees(&harness, &model);
                }
            }
            harness.store.fail_next.store(false, Ordering::SeqCst);
        }
        // Destroy-then-recreate frees the name; whatever happened, the final
        // state agrees after one more restart.
        harness.reopen();
        check_agrees(&harness, &model);
    }
}

#[test]
fn a_sealed_key_manager_refuses_everything_but_unseal() {
    let harness = Harness::new();
    let meta = harness
        .keystore
        .create_key(
            &Caller::system(),
            "default",
            "k",
            Algorithm::Aes128,
            BTreeMap::new(),
        )
        .unwrap();
    harness.keystore.seal(&Caller::system()).unwrap();
    assert!(matches!(
        harness.keystore.material(&Caller::system(), &meta, None),
        Err(KeystoreError::Sealed)
    ));
    assert!(matches!(
        harness.keystore.create_key(
            &Caller::system(),
            "default",
            "j",
            Algorithm::Aes128,
            BTreeMap::new()
        ),
        Err(KeystoreError::Sealed)
    ));
    assert!(matches!(
        harness.keystore.rotate_root(&Caller::system()),
        Err(KeystoreError::Sealed)
    ));
    let wrong = harness.keystore.unseal_with_passphrase(
        &Caller::system(),
        SecretBytes::from_slice(b"wrong passphrase!!"),
    );
    assert!(wrong.is_err());
    assert!(!harness.keystore.is_unsealed());
    harness
        .keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    assert_eq!(material_of(&harness.keystore, &meta.id, 1).len(), 16);
}
