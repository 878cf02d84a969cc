//! What the keystore integration tests share: a key manager over a real
//! SQLite store in a temporary directory, initialized and unsealed.
#![allow(dead_code)] // Each test file uses a different part of the support code.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::sync::Arc;

use keystore::seal::PassphraseSeal;
use keystore::secret::SecretBytes;
use keystore::store::Store;
use keystore::store::sqlite::SqliteStore;
use keystore::{Caller, Keystore, SealChoice};

const PASSPHRASE: &[u8] = b"correct horse battery staple";

/// An initialized, unsealed key manager over SQLite; the directory lives as
/// long as the returned guard.
pub fn unsealed() -> (tempfile::TempDir, Arc<SqliteStore>, Keystore) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("test.db")).unwrap());
    let keystore = Keystore::open(store.clone()).unwrap();
    let seal = PassphraseSeal::new_insecure_for_tests(SecretBytes::from_slice(PASSPHRASE)).unwrap();
    keystore
        .initialize(&Caller::system(), SealChoice::Passphrase(seal), Vec::new())
        .unwrap();
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    (dir, store, keystore)
}

/// The operations of the audit records after sequence number `after`, in order
/// (records that do not decode are left out).
pub fn audited_operations(store: &SqliteStore, after: u64) -> Vec<String> {
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
