//! Seal migrations over a real SQLite store: the root moves between the
//! manual seals both ways, a migration that makes new shares waits for them,
//! every refusal leaves the old seal in place, and no object is re-encrypted
//! (its stored bytes, read from the private store, are the same before and
//! after). The device seals are migrated to and from in the server's tests,
//! against a real SoftHSM2 token, swtpm and a second key manager.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // In tests a panic is the failure report.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{PASSPHRASE, audited_operations, unsealed};
use crate::object::Algorithm;
use crate::seal::migrate::{Consent, Target};
use crate::seal::{PassphraseSeal, SealError, SealKind, UnsealShare};
use crate::secret::SecretBytes;
use crate::store::Store as _;
use crate::store::sqlite::SqliteStore;
use crate::{Caller, Keystore, KeystoreError};

const NEW_PASSPHRASE: &[u8] = b"a different, longer passphrase";

fn passphrase(bytes: &[u8]) -> SecretBytes {
    SecretBytes::from_slice(bytes)
}

fn copies(shares: &[UnsealShare], take: &[usize]) -> Vec<UnsealShare> {
    take.iter()
        .map(|index| UnsealShare::parse(&shares[*index].to_string_secret()).unwrap())
        .collect()
}

/// Reopens the key manager over the same files, as after a restart.
fn restart(dir: &tempfile::TempDir) -> (Arc<SqliteStore>, Keystore) {
    let store = Arc::new(SqliteStore::open(&dir.path().join("test.db")).unwrap());
    let keystore = Keystore::open_store(store.clone()).unwrap();
    (store, keystore)
}

/// A key whose stored version is compared before and after a migration.
fn make_key(keystore: &Keystore) -> crate::object::ObjectMeta {
    keystore
        .create_key(
            &Caller::system(),
            "default",
            "payments",
            Algorithm::Aes256,
            BTreeMap::new(),
        )
        .unwrap()
}

#[test]
fn passphrase_to_shamir_waits_for_the_new_shares_then_back_to_passphrase() {
    let (dir, store, keystore) = unsealed();
    let key = make_key(&keystore);
    let stored_before = store.get_version(&key.id, 1).unwrap().unwrap().wrapped;
    let (_, material_before) = keystore.material(&Caller::system(), &key, None).unwrap();

    let migration = keystore
        .migrate_seal(
            &Caller::system(),
            Consent::Passphrase(passphrase(PASSPHRASE)),
            Target::Shamir {
                shares: 3,
                threshold: 2,
            },
        )
        .unwrap();
    assert_eq!(migration.new_shares.len(), 3);
    assert_eq!(migration.status.seal, Some("passphrase"));
    assert_eq!(
        migration.status.details.seal_migration_pending,
        Some("shamir")
    );
    let shares = migration.new_shares;

    // A restart before the shares came back: the passphrase still unseals.
    drop(keystore);
    drop(store);
    let (store, keystore) = restart(&dir);
    keystore
        .unseal_with_passphrase(&Caller::system(), passphrase(PASSPHRASE))
        .unwrap();
    // Another migration is refused while this one waits.
    assert!(matches!(
        keystore.migrate_seal(
            &Caller::system(),
            Consent::Passphrase(passphrase(PASSPHRASE)),
            Target::Passphrase(
                PassphraseSeal::new_insecure_for_tests(passphrase(NEW_PASSPHRASE)).unwrap()
            ),
        ),
        Err(KeystoreError::Seal(SealError::MigrationPending {
            kind: SealKind::Shamir
        }))
    ));
    // One share is not a quorum; two are.
    assert!(matches!(
        keystore.complete_seal_migration(&Caller::system(), &copies(&shares, &[0]), None),
        Err(KeystoreError::Seal(SealError::ThresholdNotReached { .. }))
    ));
    let status = keystore
        .complete_seal_migration(&Caller::system(), &copies(&shares, &[2, 0]), None)
        .unwrap();
    assert_eq!(status.seal, Some("shamir"));
    assert_eq!(status.details.seal_migration_pending, None);
    assert_eq!((status.threshold, status.shares), (2, 3));

    // After a restart the new shares unseal, the passphrase no longer does, and
    // the key's stored bytes never changed.
    drop(keystore);
    drop(store);
    let (store, keystore) = restart(&dir);
    assert!(
        keystore
            .unseal_with_passphrase(&Caller::system(), passphrase(PASSPHRASE))
            .is_err()
    );
    for share in copies(&shares, &[1, 2]) {
        keystore
            .unseal_with_share(&Caller::system(), &share.to_string_secret())
            .unwrap();
    }
    assert!(keystore.is_unsealed());
    assert_eq!(
        store.get_version(&key.id, 1).unwrap().unwrap().wrapped,
        stored_before
    );
    let (_, material_after) = keystore.material(&Caller::system(), &key, None).unwrap();
    assert!(material_after.ct_eq(material_before.expose_secret()));

    // Back to a passphrase, with the unseal shares as consent: at once.
    let migration = keystore
        .migrate_seal(
            &Caller::system(),
            Consent::UnsealShares(copies(&shares, &[0, 1])),
            Target::Passphrase(
                PassphraseSeal::new_insecure_for_tests(passphrase(NEW_PASSPHRASE)).unwrap(),
            ),
        )
        .unwrap();
    assert!(migration.new_shares.is_empty());
    assert_eq!(migration.status.seal, Some("passphrase"));
    drop(keystore);
    drop(store);
    let (store, keystore) = restart(&dir);
    keystore
        .unseal_with_passphrase(&Caller::system(), passphrase(NEW_PASSPHRASE))
        .unwrap();
    assert_eq!(
        store.get_version(&key.id, 1).unwrap().unwrap().wrapped,
        stored_before
    );
    let operations = audited_operations(&store, 0);
    assert!(operations.iter().any(|op| op == "sys.seal_migrate_start"));
    assert_eq!(
        operations
            .iter()
            .filter(|op| *op == "sys.seal_migrate")
            .count(),
        2
    );
}

#[test]
fn refused_consent_or_cancel_leaves_the_seal_in_use() {
    let (dir, store, keystore) = unsealed();
    let wrong = keystore.migrate_seal(
        &Caller::system(),
        Consent::Passphrase(passphrase(b"not the passphrase at all")),
        Target::Shamir {
            shares: 3,
            threshold: 2,
        },
    );
    assert!(matches!(
        wrong,
        Err(KeystoreError::Seal(SealError::WrongUnsealMaterial))
    ));
    assert!(matches!(
        keystore.migrate_seal(
            &Caller::system(),
            Consent::RecoveryShares(Vec::new()),
            Target::Shamir {
                shares: 3,
                threshold: 2
            },
        ),
        Err(KeystoreError::Seal(SealError::NoRecoveryShares {
            kind: SealKind::Passphrase
        }))
    ));
    let migration = keystore
        .migrate_seal(
            &Caller::system(),
            Consent::Passphrase(passphrase(PASSPHRASE)),
            Target::Shamir {
                shares: 2,
                threshold: 2,
            },
        )
        .unwrap();
    let status = keystore.cancel_seal_migration(&Caller::system()).unwrap();
    assert_eq!(status.details.seal_migration_pending, None);
    assert!(matches!(
        keystore.complete_seal_migration(
            &Caller::system(),
            &copies(&migration.new_shares, &[0, 1]),
            None
        ),
        Err(KeystoreError::Seal(SealError::NoPendingMigration))
    ));
    drop(keystore);
    drop(store);
    let (store, keystore) = restart(&dir);
    keystore
        .unseal_with_passphrase(&Caller::system(), passphrase(PASSPHRASE))
        .unwrap();
    let operations = audited_operations(&store, 0);
    assert!(operations.iter().any(|op| op == "sys.seal_migrate_cancel"));
    // Both refusals were audited under the operation they tried.
    assert_eq!(
        operations
            .iter()
            .filter(|op| *op == "sys.seal_migrate")
            .count(),
        2
    );
}
