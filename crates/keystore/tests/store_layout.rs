//! The key store's table layout: a store whose `objects` table still has
//! rowids (made by an earlier version) is rebuilt at open without losing an
//! object, its material, its list order or the live-name rule.
#![allow(clippy::unwrap_used, clippy::panic)] // In tests a panic is the failure report.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use keystore::object::{Algorithm, ObjectMeta};
use keystore::secret::SecretBytes;
use keystore::store::ListFilter;
use keystore::store::sqlite::SqliteStore;
use keystore::{Caller, Keystore, KeystoreError};

const PASSPHRASE: &[u8] = b"correct horse battery staple";

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
    let (dir, store, keystore) = support::unsealed();
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
    let keystore = Keystore::open(store.clone()).unwrap();
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    assert!(objects_definition(&database).contains("WITHOUT ROWID"));
    assert_eq!(listed_names(&keystore), old_order, "the list order is kept");
    for (meta, expected) in created.iter().zip(&materials) {
        let found = keystore.find("default", &meta.id).unwrap();
        assert_eq!(found.name, meta.name);
        assert_eq!(&material(&keystore, &found), expected);
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
