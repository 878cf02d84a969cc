//! The key store's table layout: a store whose `objects` table still has
//! rowids, or has no copy of each object's current material (both made by
//! earlier versions), is brought up to date at open without losing an object,
//! its material, its list order or the live-name rule.
#![allow(clippy::unwrap_used, clippy::panic)] // In tests a panic is the failure report.

use std::collections::BTreeMap;
use std::path::Path;

use super::PASSPHRASE;
use crate::model::ListFilter;
use crate::object::{Algorithm, ObjectMeta};
use crate::secret::SecretBytes;
use crate::store::sqlite::SqliteStore;
use crate::store::{ObjectRef, Store};
use crate::{Caller, Keystore, KeystoreError};

fn create_key(keystore: &Keystore, name: &str) -> Result<ObjectMeta, KeystoreError> {
    keystore.create_key(
        &Caller::system(),
        "default",
        name,
        Algorithm::Aes256,
        BTreeMap::new(),
    )
}

fn listed_names(keystore: &Keystore) -> Vec<String> {
    let filter = ListFilter {
        limit: 1000,
        ..ListFilter::default()
    };
    let (objects, total) = keystore.list(&filter).unwrap();
    assert_eq!(usize::try_from(total).unwrap(), objects.len());
    objects
        .into_iter()
        .map(|meta| meta.name.unwrap_or_default())
        .collect()
}

fn material(keystore: &Keystore, meta: &ObjectMeta) -> Vec<u8> {
    let (_, secret) = keystore.material(&Caller::system(), meta, None).unwrap();
    secret.expose_secret().to_vec()
}

/// The current material as a get reads it: from the copy in the object's row.
fn current_material(keystore: &Keystore, store: &SqliteStore, id: &str) -> Vec<u8> {
    let (meta, copied) = store
        .get_object_current(ObjectRef::Id(id))
        .unwrap()
        .unwrap();
    assert!(copied.is_some(), "{id} has no copy of its current version");
    assert_eq!(copied, store.get_version(id, meta.version).unwrap());
    let found = keystore.find_for_read("default", id).unwrap();
    let (_, secret) = keystore
        .found_material_deferred(&Caller::system(), &found, None)
        .unwrap()
        .wait()
        .unwrap();
    secret.expose_secret().to_vec()
}

fn objects_columns(database: &Path) -> Vec<String> {
    rusqlite::Connection::open(database)
        .unwrap()
        .prepare("SELECT name FROM pragma_table_info('objects')")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn objects_definition(database: &Path) -> String {
    rusqlite::Connection::open(database)
        .unwrap()
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'objects'",
            [],
            |row| row.get(0),
        )
        .unwrap()
}

#[test]
fn an_objects_table_with_rowids_is_rebuilt_at_open_losing_nothing() {
    let (dir, store, keystore) = super::unsealed();
    let names: Vec<String> = (0..40).map(|n| format!("key-{n:02}")).collect();
    let created: Vec<ObjectMeta> = names
        .iter()
        .map(|name| create_key(&keystore, name).unwrap())
        .collect();
    // New ids are time-ordered, so new rows go at the end of the table.
    for pair in created.windows(2) {
        assert!(
            pair[0].id < pair[1].id,
            "{} then {}",
            pair[0].id,
            pair[1].id
        );
    }
    let materials: Vec<Vec<u8>> = created
        .iter()
        .map(|meta| material(&keystore, meta))
        .collect();
    assert_eq!(listed_names(&keystore), names);
    drop(keystore);
    drop(store);

    // Put the table back in the layout earlier versions made, with the indexes
    // of the time. Their ids were random, so rowid order (the order of
    // creation) was not id order: give the rows rowids in an order unrelated
    // to their ids (by the last, random, characters).
    let database = dir.path().join("test.db");
    assert!(objects_definition(&database).contains("WITHOUT ROWID"));
    let old = rusqlite::Connection::open(&database).unwrap();
    old.execute_batch(
            "BEGIN;
             CREATE TABLE objects_old (
                 id TEXT PRIMARY KEY, tenant TEXT NOT NULL, name TEXT,
                 state TEXT NOT NULL, object_type TEXT NOT NULL, meta TEXT NOT NULL);
             INSERT INTO objects_old (id, tenant, name, state, object_type, meta)
                 SELECT id, tenant, name, state, object_type, meta FROM objects ORDER BY substr(id, 25);
             DROP TABLE objects;
             ALTER TABLE objects_old RENAME TO objects;
             CREATE UNIQUE INDEX objects_live_name ON objects (tenant, name)
                 WHERE name IS NOT NULL AND state NOT IN ('destroyed', 'destroyed_compromised');
             CREATE INDEX objects_by_tenant ON objects (tenant, state);
             COMMIT;",
    )
    .unwrap();
    let old_order: Vec<String> = old
        .prepare("SELECT name FROM objects ORDER BY rowid")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(old);
    assert!(!objects_definition(&database).contains("WITHOUT ROWID"));
    let mut id_order = created.clone();
    id_order.sort_by(|a, b| a.id.cmp(&b.id));
    let id_order: Vec<String> = id_order
        .into_iter()
        .map(|meta| meta.name.unwrap_or_default())
        .collect();
    assert_ne!(old_order, id_order, "the test needs rowids out of id order");

    let store = std::sync::Arc::new(SqliteStore::open(&database).unwrap());
    let keystore = Keystore::open_store(store.clone()).unwrap();
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    assert!(objects_definition(&database).contains("WITHOUT ROWID"));
    assert_eq!(listed_names(&keystore), old_order, "the list order is kept");
    for (meta, expected) in created.iter().zip(&materials) {
        let found = keystore.find("default", &meta.id).unwrap();
        assert_eq!(found.name, meta.name);
        assert_eq!(&material(&keystore, &found), expected);
        assert_eq!(&current_material(&keystore, &store, &meta.id), expected);
    }
    // New objects list after the old ones, and a live name stays unique.
    create_key(&keystore, "after").unwrap();
    let mut expected = old_order.clone();
    expected.push("after".to_owned());
    assert_eq!(listed_names(&keystore), expected);
    match create_key(&keystore, "key-07") {
        Err(KeystoreError::NameTaken { .. }) => {}
        other => panic!("a second live key-07 was not refused: {other:?}"),
    }
    // Opening again leaves the rebuilt table alone.
    drop(keystore);
    drop(store);
    let store = SqliteStore::open(&database).unwrap();
    drop(store);
    assert!(objects_definition(&database).contains("WITHOUT ROWID"));
}

#[test]
fn an_objects_table_without_the_current_material_gets_it_at_open() {
    let (dir, store, keystore) = super::unsealed();
    let rotated = create_key(&keystore, "rotated").unwrap();
    let rotated = keystore.rotate(&Caller::system(), &rotated).unwrap();
    assert_eq!(rotated.version, 2);
    let plain = create_key(&keystore, "plain").unwrap();
    let destroyed = create_key(&keystore, "destroyed").unwrap();
    let destroyed = keystore
        .revoke(
            &Caller::system(),
            &destroyed,
            crate::object::RevocationReason::CessationOfOperation,
        )
        .unwrap();
    keystore.destroy(&Caller::system(), &destroyed).unwrap();
    let expected: Vec<(String, Vec<u8>)> = [&rotated, &plain]
        .iter()
        .map(|meta| (meta.id.clone(), material(&keystore, meta)))
        .collect();
    drop(keystore);
    drop(store);

    // The layout of the version before: no rowid, no copy of the material.
    let database = dir.path().join("test.db");
    let old = rusqlite::Connection::open(&database).unwrap();
    old.execute_batch(
        "BEGIN;
         ALTER TABLE objects DROP COLUMN current_version;
         ALTER TABLE objects DROP COLUMN current_kek;
         ALTER TABLE objects DROP COLUMN current_wrapped;
         COMMIT;",
    )
    .unwrap();
    drop(old);
    assert!(!objects_columns(&database).contains(&"current_wrapped".to_owned()));

    let store = std::sync::Arc::new(SqliteStore::open(&database).unwrap());
    let keystore = Keystore::open_store(store.clone()).unwrap();
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    assert!(objects_columns(&database).contains(&"current_wrapped".to_owned()));
    for (id, material) in &expected {
        assert_eq!(&current_material(&keystore, &store, id), material);
    }
    // The destroyed key's row has no copy, and its material stays unreadable.
    let (meta, copied) = store
        .get_object_current(ObjectRef::Id(&destroyed.id))
        .unwrap()
        .unwrap();
    assert!(meta.state.is_destroyed());
    assert_eq!(copied, None);
    let found = keystore.find_for_read("default", &destroyed.id).unwrap();
    assert!(
        keystore
            .found_material_deferred(&Caller::system(), &found, None)
            .is_err()
    );
    // Writes after the change keep the copy current.
    let rotated = keystore.find("default", &rotated.id).unwrap();
    let rotated = keystore.rotate(&Caller::system(), &rotated).unwrap();
    let (_, rotated_material) = keystore
        .material(&Caller::system(), &rotated, None)
        .unwrap();
    assert_eq!(
        current_material(&keystore, &store, &rotated.id),
        rotated_material.expose_secret()
    );
    assert_ne!(rotated_material.expose_secret(), expected[0].1.as_slice());
}
