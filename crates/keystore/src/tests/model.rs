//! The key manager against a simple in-memory model: random operations, injected
//! commit failures, reopenings and root and tenant key rotations; after every step
//! the real store must agree with the model, and the audit chain must verify.
//! On PostgreSQL the operations go to two key managers sharing the database, as
//! two servers of a cluster do, chosen at random for each step.
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
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{
    Changes, ObjectRef, PendingCommit, Store, StoreError, TenantKeyRow, VersionRow, Write,
};
use crate::{Caller, Keystore, KeystoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A store that refuses the next commit when armed, as a full disk would.
struct FlakyStore {
    inner: Box<dyn Store>,
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
    fn changes(&self) -> &Arc<Changes> {
        self.inner.changes()
    }
    fn now(&self) -> Result<time::OffsetDateTime, StoreError> {
        self.inner.now()
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn snapshot(
        &self,
        sink: &mut dyn FnMut(crate::backup::Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.inner.snapshot(sink)
    }
    fn restore(
        &self,
        items: &mut dyn Iterator<Item = Result<crate::backup::Item, StoreError>>,
    ) -> Result<(), StoreError> {
        self.inner.restore(items)
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

/// Where the harness's state lives.
enum Backend {
    /// One server on a SQLite file.
    Sqlite(tempfile::TempDir),
    /// Two servers on one PostgreSQL database.
    Postgres {
        /// The database's URL (its cluster outlives the harness).
        url: String,
    },
}

impl Backend {
    fn servers(&self) -> usize {
        match self {
            Backend::Sqlite(_) => 1,
            Backend::Postgres { .. } => 2,
        }
    }

    fn open(&self) -> (Arc<FlakyStore>, Keystore) {
        let inner: Box<dyn Store> = match self {
            Backend::Sqlite(dir) => {
                Box::new(SqliteStore::open(&dir.path().join("test.db")).unwrap())
            }
            Backend::Postgres { url, .. } => Box::new(PostgresStore::open(url).unwrap()),
        };
        let store = Arc::new(FlakyStore {
            inner,
            fail_next: AtomicBool::new(false),
        });
        let keystore = Keystore::open_store(store.clone()).unwrap();
        (store, keystore)
    }
}

struct Harness {
    backend: Backend,
    /// One store and key manager per server.
    servers: Vec<(Arc<FlakyStore>, Keystore)>,
    /// The server the current step runs on.
    current: usize,
}

impl Harness {
    fn new(backend: Backend) -> Harness {
        let servers: Vec<_> = (0..backend.servers()).map(|_| backend.open()).collect();
        let mut harness = Harness {
            backend,
            servers,
            current: 0,
        };
        super::initialize_and_unseal(harness.keystore());
        for index in 1..harness.servers.len() {
            harness.current = index;
            harness
                .keystore()
                .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
                .unwrap();
        }
        harness.current = 0;
        harness
    }

    fn keystore(&self) -> &Keystore {
        &self.servers[self.current].1
    }

    fn store(&self) -> &Arc<FlakyStore> {
        &self.servers[self.current].0
    }

    /// Restarts the current server: its store closes (the writer flushes and
    /// exits) and opens again, sealed.
    fn reopen(&mut self) {
        let fresh = self.backend.open();
        let (old_store, old_keystore) = std::mem::replace(&mut self.servers[self.current], fresh);
        drop(old_keystore);
        drop(old_store);
        let fresh = self.backend.open();
        self.servers[self.current] = fresh;
        assert!(
            !self.keystore().is_unsealed(),
            "a reopened key manager starts sealed"
        );
        self.keystore()
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
    let keystore = harness.keystore();
    for (name, key) in model {
        let meta = keystore.find("default", &key.id).unwrap();
        assert_eq!(meta.state, key.state, "state of {name}");
        assert_eq!(meta.name.as_deref(), Some(name.as_str()));
        // The object's row carries a copy of its current version's row: it
        // must be that row, through rotations, re-wraps and destruction.
        let (with_current, current) = harness
            .store()
            .get_object_current(ObjectRef::Id(&key.id))
            .unwrap()
            .unwrap();
        assert_eq!(with_current, meta);
        assert_eq!(
            current,
            harness.store().get_version(&key.id, meta.version).unwrap(),
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
                harness.store().get_version(&key.id, 1).unwrap().is_none(),
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
        let dir = tempfile::tempdir().unwrap();
        run_model(seed, Harness::new(Backend::Sqlite(dir)));
    }
}

#[test]
fn random_operations_on_two_servers_of_one_postgresql_agree_with_the_model() {
    let cluster = throwaway_postgres::Cluster::start().unwrap();
    for seed in 0..2u64 {
        let database = format!("model{seed}");
        cluster.create_database(&database).unwrap();
        let url = cluster.url(&database);
        run_model(seed, Harness::new(Backend::Postgres { url }));
    }
    drop(cluster);
}

/// Whether a commit's refusal is one the step allows: an injected failure,
/// or, with several servers, a tenant key that the other server rotated a
/// moment ago (its notification not here yet: a conflict the client retries).
fn refused_as_expected(inject: bool, servers: usize, error: &StoreError) -> bool {
    inject || (servers > 1 && matches!(error, StoreError::TenantKeyChanged { .. }))
}

fn run_model(seed: u64, mut harness: Harness) {
    {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut model: BTreeMap<String, ModelKey> = BTreeMap::new();
        let servers = harness.servers.len();
        for step in 0..150 {
            harness.current = rng.gen_range(0..servers);
            let inject = rng.gen_bool(0.1);
            harness.store().fail_next.store(inject, Ordering::SeqCst);
            let names: Vec<String> = model.keys().cloned().collect();
            let pick = |rng: &mut StdRng| names.get(rng.gen_range(0..names.len().max(1))).cloned();
            match rng.gen_range(0..9) {
                0 | 1 => {
                    let name = format!("k{}", rng.gen_range(0..40));
                    let live = model
                        .get(&name)
                        .is_some_and(|key| !key.state.is_destroyed());
                    let result = harness.keystore().create_key(
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
                            let material = material_of(harness.keystore(), &meta.id, 1);
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
                        Err(KeystoreError::Store(error)) => {
                            assert!(refused_as_expected(inject, servers, &error))
                        }
                        Err(error) => panic!("step {step}: {error}"),
                    }
                }
                2 => {
                    if let Some(name) = pick(&mut rng) {
                        let key = model.get_mut(&name).unwrap();
                        let meta = harness.keystore().find("default", &key.id).unwrap();
                        match harness.keystore().rotate(&Caller::system(), &meta) {
                            Ok(updated) => {
                                assert!(!inject && key.state == State::Active);
                                let material =
                                    material_of(harness.keystore(), &key.id, updated.version);
                                key.versions.push(material);
                            }
                            Err(KeystoreError::WrongState { .. }) => {
                                assert_ne!(key.state, State::Active)
                            }
                            Err(KeystoreError::Store(error)) => {
                                assert!(refused_as_expected(inject, servers, &error))
                            }
                            Err(error) => panic!("step {step}: {error}"),
                        }
                    }
                }
                3 => {
                    if let Some(name) = pick(&mut rng) {
                        let key = model.get_mut(&name).unwrap();
                        let meta = harness.keystore().find("default", &key.id).unwrap();
                        let reason = if rng.gen_bool(0.3) {
                            RevocationReason::Compromised
                        } else {
                            RevocationReason::Superseded
                        };
                        match harness.keystore().revoke(&Caller::system(), &meta, reason) {
                            Ok(updated) => {
                                assert!(!inject);
                                key.state = updated.state;
                            }
                            Err(KeystoreError::WrongState { .. }) => {}
                            Err(KeystoreError::Store(error)) => {
                                assert!(refused_as_expected(inject, servers, &error))
                            }
                            Err(error) => panic!("step {step}: {error}"),
                        }
                    }
                }
                4 => {
                    if let Some(name) = pick(&mut rng) {
                        let key = model.get_mut(&name).unwrap();
                        let meta = harness.keystore().find("default", &key.id).unwrap();
                        match harness.keystore().destroy(&Caller::system(), &meta) {
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
                            Err(KeystoreError::Store(error)) => {
                                assert!(refused_as_expected(inject, servers, &error))
                            }
                            Err(error) => panic!("step {step}: {error}"),
                        }
                    }
                }
                5 => match harness.keystore().rotate_root(&Caller::system()) {
                    Ok(()) => assert!(!inject),
                    Err(KeystoreError::Store(error)) => {
                        assert!(refused_as_expected(inject, servers, &error))
                    }
                    Err(error) => panic!("step {step}: {error}"),
                },
                6 => match harness
                    .keystore()
                    .rotate_tenant_key(&Caller::system(), "default")
                {
                    Ok(_) | Err(KeystoreError::NotFound { .. }) => {}
                    Err(KeystoreError::Store(error)) => {
                        assert!(refused_as_expected(inject, servers, &error))
                    }
                    Err(error) => panic!("step {step}: {error}"),
                },
                7 => {
                    harness.store().fail_next.store(false, Ordering::SeqCst);
                    harness.reopen();
                }
                _ => {
                    harness.store().fail_next.store(false, Ordering::SeqCst);
                    check_agrees(&harness, &model);
                }
            }
            harness.store().fail_next.store(false, Ordering::SeqCst);
        }
        // Destroy-then-recreate frees the name; whatever happened, the final
        // state agrees after one more restart.
        harness.reopen();
        check_agrees(&harness, &model);
    }
}

#[test]
fn a_sealed_key_manager_refuses_everything_but_unseal() {
    let harness = Harness::new(Backend::Sqlite(tempfile::tempdir().unwrap()));
    let meta = harness
        .keystore()
        .create_key(
            &Caller::system(),
            "default",
            "k",
            Algorithm::Aes128,
            BTreeMap::new(),
        )
        .unwrap();
    harness.keystore().seal(&Caller::system()).unwrap();
    assert!(matches!(
        harness.keystore().material(&Caller::system(), &meta, None),
        Err(KeystoreError::Sealed)
    ));
    assert!(matches!(
        harness.keystore().create_key(
            &Caller::system(),
            "default",
            "j",
            Algorithm::Aes128,
            BTreeMap::new()
        ),
        Err(KeystoreError::Sealed)
    ));
    assert!(matches!(
        harness.keystore().rotate_root(&Caller::system()),
        Err(KeystoreError::Sealed)
    ));
    let wrong = harness.keystore().unseal_with_passphrase(
        &Caller::system(),
        SecretBytes::from_slice(b"wrong passphrase!!"),
    );
    assert!(wrong.is_err());
    assert!(!harness.keystore().is_unsealed());
    harness
        .keystore()
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    assert_eq!(material_of(harness.keystore(), &meta.id, 1).len(), 16);
}
