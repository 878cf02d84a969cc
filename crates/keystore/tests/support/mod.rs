//! What the keystore integration tests share: a key manager over a real
//! SQLite store in a temporary directory, initialized and unsealed.
#![allow(dead_code)] // Each test file uses a different part of the support code.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use keystore::seal::PassphraseSeal;
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, SealChoice};

const PASSPHRASE: &[u8] = b"correct horse battery staple";

/// An initialized, unsealed key manager over SQLite; the directory lives as
/// long as the returned guard.
pub fn unsealed() -> (tempfile::TempDir, Keystore) {
    let dir = tempfile::tempdir().unwrap();
    let keystore = Keystore::open_sqlite(&dir.path().join("test.db")).unwrap();
    let seal = PassphraseSeal::new_insecure_for_tests(SecretBytes::from_slice(PASSPHRASE)).unwrap();
    keystore
        .initialize(&Caller::system(), SealChoice::Passphrase(seal), Vec::new())
        .unwrap();
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    (dir, keystore)
}

/// The operations of the audit records after sequence number `after`, in order
/// (records that do not decode are left out).
pub fn audited_operations(keystore: &Keystore, after: u64) -> Vec<String> {
    keystore
        .audit_records(after, 1000)
        .unwrap()
        .into_iter()
        .filter_map(|stored| match stored {
            audit::StoredRecord::Decoded(record) => Some(record.operation),
            audit::StoredRecord::Undecodable { .. } => None,
        })
        .collect()
}
