//! The audit log's own database beside the key store: key reads leave the key
//! store's files untouched, a store of the older one-file layout has its records
//! moved, and records of changes a crash kept from the key store are named.
#![allow(clippy::unwrap_used, clippy::panic)] // In tests a panic is the failure report.

use std::path::Path;
use std::sync::Arc;

use super::PASSPHRASE;
use crate::secret::SecretBytes;
use crate::store::sqlite::{SqliteStore, audit_path_of};
use crate::store::{Store, Write};
use crate::{Caller, Keystore};

fn reopen(path: &Path) -> (Arc<SqliteStore>, Keystore) {
    let store = Arc::new(SqliteStore::open(path).unwrap());
    let keystore = Keystore::open_store(store.clone()).unwrap();
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    (store, keystore)
}

/// Removes the audit log's database, WAL and shared-memory files.
fn remove_log(audit: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", audit.display());
        if Path::new(&file).exists() {
            std::fs::remove_file(&file).unwrap();
        }
    }
}

fn all_records(store: &SqliteStore) -> Vec<audit::AuditRecord> {
    store
        .audit_records(0, 100_000)
        .unwrap()
        .into_iter()
        .map(|stored| match stored {
            audit::StoredRecord::Decoded(record) => *record,
            audit::StoredRecord::Undecodable { seq } => panic!("record {seq} does not decode"),
        })
        .collect()
}

fn create_key(keystore: &Keystore, name: &str) -> crate::object::ObjectMeta {
    keystore
        .create_key(
            &Caller::system(),
            "default",
            name,
            crate::object::Algorithm::Aes256,
            std::collections::BTreeMap::new(),
        )
        .unwrap()
}

#[test]
fn key_reads_write_only_the_audit_log() {
    let (dir, store, keystore) = super::unsealed();
    let meta = create_key(&keystore, "payments");
    let database = dir.path().join("test.db");
    let wal = dir.path().join("test.db-wal");
    let audit_wal = dir.path().join("test.audit.db-wal");
    let before = (
        std::fs::read(&database).unwrap(),
        std::fs::read(&wal).unwrap(),
    );
    let audit_before = std::fs::metadata(&audit_wal).unwrap().len();

    for _ in 0..50 {
        keystore.material(&Caller::system(), &meta, None).unwrap();
    }

    let after = (
        std::fs::read(&database).unwrap(),
        std::fs::read(&wal).unwrap(),
    );
    assert!(
        before == after,
        "50 audited key reads changed the key store's database or WAL"
    );
    assert!(std::fs::metadata(&audit_wal).unwrap().len() > audit_before);
    let operations = super::audited_operations(&store, 0);
    assert_eq!(
        operations
            .iter()
            .filter(|operation| *operation == "key.read_material")
            .count(),
        50
    );
    assert!(keystore.verify_audit().unwrap().is_ok());
}

#[test]
fn records_of_the_one_file_layout_are_moved_into_the_log() {
    let (dir, store, keystore) = super::unsealed();
    for n in 0..5 {
        create_key(&keystore, &format!("k{n}"));
    }
    // A stop signs the chain head: the moved log has a checkpoint too.
    keystore.record_shutdown().unwrap();
    create_key(&keystore, "last");
    let original = all_records(&store);
    assert!(!store.audit_checkpoints().unwrap().is_empty());
    let checkpoints: Vec<u64> = store
        .audit_checkpoints()
        .unwrap()
        .iter()
        .map(|checkpoint| checkpoint.seq)
        .collect();
    drop(keystore);
    drop(store);

    // Put the records back into the key store's file, as the layout before the
    // log had a file of its own kept them, and remove the log.
    let database = dir.path().join("test.db");
    let audit = audit_path_of(&database);
    {
        let connection = rusqlite::Connection::open(&database).unwrap();
        connection
            .execute("ATTACH DATABASE ?1 AS log", [audit.to_str().unwrap()])
            .unwrap();
        connection
            .execute_batch(
                "CREATE TABLE main.audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL);
                 CREATE TABLE main.audit_checkpoints (seq INTEGER PRIMARY KEY, checkpoint TEXT NOT NULL);
                 INSERT INTO main.audit SELECT seq, record FROM log.audit;
                 INSERT INTO main.audit_checkpoints SELECT seq, checkpoint FROM log.audit_checkpoints;
                 DELETE FROM main.system WHERE name = 'store.audit_applied';",
            )
            .unwrap();
    }
    remove_log(&audit);

    let (store, keystore) = reopen(&database);
    // Reopening appended the unseal's record after the moved ones.
    let moved = all_records(&store);
    assert_eq!(moved.len(), original.len() + 1);
    assert_eq!(
        moved[..original.len()]
            .iter()
            .map(|record| record.hash)
            .collect::<Vec<_>>(),
        original
            .iter()
            .map(|record| record.hash)
            .collect::<Vec<_>>()
    );
    let moved_checkpoints: Vec<u64> = store
        .audit_checkpoints()
        .unwrap()
        .iter()
        .map(|checkpoint| checkpoint.seq)
        .collect();
    assert_eq!(moved_checkpoints[..checkpoints.len()], checkpoints[..]);
    let connection = rusqlite::Connection::open(&database).unwrap();
    let left: i64 = connection
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('audit', 'audit_checkpoints')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "the key store's file still has audit tables");

    // The chain goes on from the moved head.
    create_key(&keystore, "after-the-move");
    let report = keystore.verify_audit().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(all_records(&store).len(), original.len() + 2);
}

#[test]
fn records_of_changes_the_store_did_not_commit_are_named_at_open() {
    let (dir, store, keystore) = super::unsealed();
    create_key(&keystore, "first");
    let applied = all_records(&store).last().unwrap().seq;
    create_key(&keystore, "lost");
    let lost = all_records(&store).last().unwrap().seq;
    drop(keystore);
    drop(store);

    // A crash between the log's commit and the key store's: the key store
    // still says the group before was the last it applied.
    let database = dir.path().join("test.db");
    {
        let connection = rusqlite::Connection::open(&database).unwrap();
        connection
            .execute(
                "UPDATE system SET value = ?1 WHERE name = 'store.audit_applied'",
                [applied.to_be_bytes().to_vec()],
            )
            .unwrap();
    }

    let (store, keystore) = reopen(&database);
    // The notice is the first record after the lost one (the unseal's follows).
    let records = all_records(&store);
    let notice = records
        .iter()
        .find(|record| record.seq == lost + 1)
        .unwrap();
    assert_eq!(notice.operation, "store.writes_not_applied");
    assert_eq!(
        notice.object_id.as_deref(),
        Some(format!("audit:{lost}-{lost}").as_str())
    );
    assert!(keystore.verify_audit().unwrap().is_ok());
    drop(keystore);
    drop(store);

    // Named once: the next open finds nothing to name.
    let (store, _keystore) = reopen(&database);
    let notices = all_records(&store)
        .into_iter()
        .filter(|record| record.operation == "store.writes_not_applied")
        .count();
    assert_eq!(notices, 1);
}

#[test]
fn a_change_and_its_record_land_together() {
    let (_dir, store, _keystore) = super::unsealed();
    let before = all_records(&store).len();
    let record = store
        .commit(
            vec![Write::PutSystem {
                name: "test.marker".to_owned(),
                value: b"set".to_vec(),
            }],
            audit::AuditEvent::new(time::OffsetDateTime::now_utc(), "test", "test.write", "ok"),
        )
        .unwrap();
    assert_eq!(
        store.get_system("test.marker").unwrap().as_deref(),
        Some(&b"set"[..])
    );
    let records = all_records(&store);
    assert_eq!(records.len(), before + 1);
    assert_eq!(records.last().unwrap().hash, record.hash);
}

#[test]
fn a_log_cut_below_the_last_change_is_refused_at_open() {
    let (dir, store, keystore) = super::unsealed();
    for n in 0..3 {
        create_key(&keystore, &format!("k{n}"));
    }
    let last_change = all_records(&store).last().unwrap().seq;
    drop(keystore);
    drop(store);
    let database = dir.path().join("test.db");
    let audit = audit_path_of(&database);

    // Truncated: the last change's record is gone.
    {
        let connection = rusqlite::Connection::open(&audit).unwrap();
        connection
            .execute("DELETE FROM audit WHERE seq >= ?1", [last_change - 1])
            .unwrap();
    }
    let Err(error) = SqliteStore::open(&database) else {
        panic!("a truncated audit log was accepted");
    };
    let message = error.to_string();
    assert!(
        message.contains(&format!("ends at record {}", last_change - 2))
            && message.contains(&format!("up to record {last_change}"))
            && message.contains("restore it from the backup"),
        "{message}"
    );

    // Lost: the whole file is gone.
    remove_log(&audit);
    let Err(error) = SqliteStore::open(&database) else {
        panic!("a missing audit log was accepted");
    };
    assert!(error.to_string().contains("ends at record 0"), "{error}");
}
