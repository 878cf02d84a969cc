//! Tests that look into the storage layer itself (the rows a change leaves, a
//! backend that fails on purpose, a database file edited behind the store's
//! back). They live inside the crate because the store is private to it; the
//! tests of the public API are in `tests/`.

mod audit_log;
mod model;
mod seal_migration;
mod store_layout;
mod volumes;

use std::sync::Arc;

use crate::seal::PassphraseSeal;
use crate::secret::SecretBytes;
use crate::store::Store as _;
use crate::store::sqlite::SqliteStore;
use crate::{Caller, Keystore, SealChoice};

/// The passphrase of every test store.
const PASSPHRASE: &[u8] = b"correct horse battery staple";

/// An initialized, unsealed key manager over SQLite, and its store; the
/// directory lives as long as the returned guard.
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
fn unsealed() -> (tempfile::TempDir, Arc<SqliteStore>, Keystore) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("test.db")).unwrap());
    let keystore = Keystore::open_store(store.clone()).unwrap();
    initialize_and_unseal(&keystore);
    (dir, store, keystore)
}

/// Initializes `keystore` with a passphrase seal of test strength, and
/// unseals it with [`PASSPHRASE`].
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
fn initialize_and_unseal(keystore: &Keystore) {
    let seal = PassphraseSeal::new_insecure_for_tests(SecretBytes::from_slice(PASSPHRASE)).unwrap();
    keystore
        .initialize(&Caller::system(), SealChoice::Passphrase(seal), Vec::new())
        .unwrap();
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
}

/// The operations of the audit records after sequence number `after`, in order
/// (records that do not decode are left out).
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
fn audited_operations(store: &SqliteStore, after: u64) -> Vec<String> {
    store
        .audit_records(after, 1000)
        .unwrap()
        .into_iter()
        .filter_map(|stored| match stored {
            audit::StoredRecord::Decoded(record) => Some(record.operation),
            audit::StoredRecord::Undecodable { .. } => None,
        })
        .collect()
}
