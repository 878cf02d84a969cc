//! Backups of real stores restored into real stores: SQLite to SQLite,
//! SQLite to PostgreSQL (what `operator migrate` does) and back, taken while
//! writes go on. After each, the audit log verifies and every key, volume,
//! token and node reads back; a damaged or truncated backup is refused before
//! anything is written.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use keystore::object::Algorithm;
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, KeystoreError, StoreError};
use support::{acquire, grant_volumes, new_volume, node, unsealed};

const PASSPHRASE: &[u8] = b"correct horse battery staple";

/// Keys (one rotated, one destroyed), a volume with a lease, a node, a
/// policy: what a store holds, and the material of each live key.
fn fill(keystore: &Keystore) -> BTreeMap<String, (u32, Vec<u8>)> {
    let caller = Caller::system();
    let mut materials = BTreeMap::new();
    for index in 0..20 {
        let meta = keystore
            .create_key(
                &caller,
                if index % 2 == 0 { "acme" } else { "globex" },
                &format!("key-{index}"),
                Algorithm::Aes256,
                BTreeMap::new(),
            )
            .unwrap();
        let meta = if index == 3 {
            keystore.rotate(&caller, &meta).unwrap()
        } else {
            meta
        };
        if index == 5 {
            let revoked = keystore
                .revoke(
                    &caller,
                    &meta,
                    keystore::object::RevocationReason::Superseded,
                )
                .unwrap();
            keystore.destroy(&caller, &revoked).unwrap();
            continue;
        }
        let (version, material) = keystore.material(&caller, &meta, None).unwrap();
        materials.insert(
            meta.id.clone(),
            (version, material.expose_secret().to_vec()),
        );
    }
    let holder = node(keystore, "acme", "n1");
    grant_volumes(keystore, "acme", &["n1"], &["pgdata"]);
    keystore
        .create_volume(&caller, new_volume("pgdata"))
        .unwrap();
    acquire(keystore, &holder, "acme", "pgdata", 600).unwrap();
    keystore.rotate_tenant_key(&caller, "acme").unwrap();
    materials
}

/// Every key reads back, the volume's lease and the node are there, and the
/// audit log verifies.
fn check(keystore: &Keystore, materials: &BTreeMap<String, (u32, Vec<u8>)>) {
    let caller = Caller::system();
    for (id, (version, material)) in materials {
        let tenant = keystore.find("acme", id).map_or("globex", |_| "acme");
        let meta = keystore.find(tenant, id).unwrap();
        let (read_version, read) = keystore.material(&caller, &meta, None).unwrap();
        assert_eq!(
            (read_version, read.expose_secret()),
            (*version, material.as_slice()),
            "{id}"
        );
    }
    let volume = keystore.volume("acme", "pgdata").unwrap();
    assert_eq!(volume.lease.unwrap().holder, "node:n1");
    assert_eq!(keystore.nodes().unwrap().len(), 1);
    assert_eq!(keystore.list_policies(None).unwrap().len(), 1);
    let report = keystore.verify_audit().unwrap();
    assert!(report.is_ok(), "{report}");
}

fn unseal(keystore: &Keystore) {
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
}

fn backup_to(keystore: &Keystore, path: &Path) -> keystore::backup::BackupSummary {
    let mut file = std::fs::File::create(path).unwrap();
    keystore.backup(&Caller::system(), &mut file).unwrap()
}

#[test]
fn a_sqlite_backup_restores_into_sqlite_and_postgresql_and_back() {
    let (_dir, source) = unsealed();
    let materials = fill(&source);
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("km.backup");
    let summary = backup_to(&source, &file);
    assert_eq!(summary.source, "sqlite");
    assert_eq!(summary.objects, 21, "20 keys and the volume's secret");
    assert_eq!(
        keystore::backup::verify(std::fs::File::open(&file).unwrap()).unwrap(),
        summary
    );

    // Into a fresh SQLite store: sealed, then the same passphrase opens it.
    let restored = Keystore::open_sqlite(&scratch.path().join("restored.db")).unwrap();
    restored.restore(&Caller::system(), &file).unwrap();
    assert!(restored.status().initialized && !restored.is_unsealed());
    unseal(&restored);
    check(&restored, &materials);

    // Into PostgreSQL (a migration), then from there into SQLite again.
    let cluster = throwaway_postgres::Cluster::start().unwrap();
    cluster.create_database("migrated").unwrap();
    let migrated = Keystore::open_postgres(&cluster.url("migrated")).unwrap();
    migrated.restore(&Caller::system(), &file).unwrap();
    unseal(&migrated);
    check(&migrated, &materials);
    migrated
        .create_key(
            &Caller::system(),
            "acme",
            "after",
            Algorithm::Aes256,
            BTreeMap::new(),
        )
        .unwrap();
    let second = scratch.path().join("from-postgres.backup");
    assert_eq!(backup_to(&migrated, &second).source, "postgresql");
    let back = Keystore::open_sqlite(&scratch.path().join("back.db")).unwrap();
    back.restore(&Caller::system(), &second).unwrap();
    unseal(&back);
    check(&back, &materials);
    assert!(back.find("acme", "after").is_ok());
}

#[test]
fn a_damaged_or_truncated_backup_is_refused_before_anything_is_written() {
    let (_dir, source) = unsealed();
    let materials = fill(&source);
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("km.backup");
    backup_to(&source, &file);
    let bytes = std::fs::read(&file).unwrap();
    let target = Keystore::open_sqlite(&scratch.path().join("target.db")).unwrap();
    let truncated = scratch.path().join("truncated.backup");
    let damaged = scratch.path().join("damaged.backup");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let mut altered = bytes.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x20;
    std::fs::write(&damaged, &altered).unwrap();
    for bad in [&truncated, &damaged] {
        let refused = target.restore(&Caller::system(), bad).unwrap_err();
        assert!(
            matches!(refused, KeystoreError::Store(StoreError::Backup(_))),
            "{refused}"
        );
        assert!(
            !target.status().initialized,
            "a refused backup wrote something"
        );
        assert!(target.audit_head().unwrap().is_none());
    }
    // The store is as new: the good backup restores into it.
    target.restore(&Caller::system(), &file).unwrap();
    unseal(&target);
    check(&target, &materials);
    // Never over what a store already holds.
    let again = target.restore(&Caller::system(), &file).unwrap_err();
    assert!(
        matches!(again, KeystoreError::AlreadyInitialized),
        "{again}"
    );
}

#[test]
fn a_backup_taken_under_writes_is_one_consistent_chain() {
    let (_dir, source) = unsealed();
    let source = std::sync::Arc::new(source);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (source, stop) = (std::sync::Arc::clone(&source), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut index = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                index += 1;
                source
                    .create_key(
                        &Caller::system(),
                        "acme",
                        &format!("busy-{index}"),
                        Algorithm::Aes256,
                        BTreeMap::new(),
                    )
                    .unwrap();
            }
        })
    };
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("busy.backup");
    for _ in 0..3 {
        backup_to(&source, &file);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    let restored = Keystore::open_sqlite(&scratch.path().join("restored.db")).unwrap();
    let summary = restored.restore(&Caller::system(), &file).unwrap();
    unseal(&restored);
    let report = restored.verify_audit().unwrap();
    assert!(report.is_ok(), "{report}");
    // Every key the snapshot holds has its material, and its creation record.
    let (keys, total) = restored
        .list(&keystore::model::ListFilter {
            tenants: Some(vec!["acme".to_owned()]),
            limit: 1000,
            ..keystore::model::ListFilter::default()
        })
        .unwrap();
    assert_eq!(total, summary.objects);
    for meta in keys.iter().take(50) {
        restored.material(&Caller::system(), meta, None).unwrap();
    }
}
