//! Volumes and their leases through `Keystore` over the real SQLite store: one
//! holder at a time, the same secret for every holder, crypto-shredding on
//! remove, and no double lease under concurrent requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::sync::{Arc, Barrier};

use keystore::object::State;
use keystore::{Caller, KeystoreError};
use support::{acquire, grant_volumes, new_volume, node, unsealed};

fn caller() -> Caller {
    Caller::system()
}

#[test]
fn one_holder_at_a_time_and_every_holder_gets_the_same_secret() {
    let (_dir, keystore) = unsealed();
    let (a, b) = (node(&keystore, "acme", "a"), node(&keystore, "acme", "b"));
    grant_volumes(&keystore, "acme", &["a", "b"], &["pgdata"]);
    let created = keystore
        .create_volume(&caller(), new_volume("pgdata"))
        .unwrap();
    assert!(created.lease.is_none());

    let (row, secret_a) = acquire(&keystore, &a, "acme", "pgdata", 60).unwrap();
    assert_eq!(row.lease.as_ref().unwrap().holder, "node:a");
    assert_eq!(secret_a.len(), 32);

    let refused = acquire(&keystore, &b, "acme", "pgdata", 60).err().unwrap();
    let message = refused.to_string();
    assert!(
        matches!(refused, KeystoreError::VolumeHeld { .. }),
        "{message}"
    );
    assert!(message.contains("in use on node:a"), "{message}");

    // The holder renews and reacquires; others' release changes nothing.
    keystore
        .renew_volume(&caller(), "acme", "pgdata", "node:a", 120)
        .unwrap();
    assert!(
        keystore
            .release_volume(&caller(), "acme", "pgdata", "node:b")
            .is_err()
    );
    keystore
        .release_volume(&caller(), "acme", "pgdata", "node:a")
        .unwrap();

    let (row, secret_b) = acquire(&keystore, &b, "acme", "pgdata", 60).unwrap();
    assert_eq!(secret_a.expose_secret(), secret_b.expose_secret());
    assert_eq!(
        row.holders.iter().map(String::as_str).collect::<Vec<_>>(),
        ["node:a", "node:b"]
    );
}

#[test]
fn remove_destroys_the_secret_and_is_refused_while_held() {
    let (_dir, keystore) = unsealed();
    let a = node(&keystore, "acme", "a");
    grant_volumes(&keystore, "acme", &["a"], &["scratch"]);
    let created = keystore
        .create_volume(&caller(), new_volume("scratch"))
        .unwrap();
    acquire(&keystore, &a, "acme", "scratch", 60).unwrap();
    let refused = keystore
        .remove_volume(&caller(), "acme", "scratch")
        .err()
        .unwrap();
    assert!(matches!(refused, KeystoreError::VolumeHeld { .. }));
    keystore
        .release_volume(&caller(), "acme", "scratch", "node:a")
        .unwrap();
    keystore
        .remove_volume(&caller(), "acme", "scratch")
        .unwrap();

    // Its key is a tombstone now; that the material itself is erased from
    // the store is checked inside the crate (`src/tests/volumes.rs`).
    let key = keystore.find("acme", &created.key_id).unwrap();
    assert_eq!(key.state, State::Destroyed);
    assert!(matches!(
        acquire(&keystore, &a, "acme", "scratch", 60).err().unwrap(),
        KeystoreError::NotFound { .. }
    ));
    // The name is free again.
    keystore
        .create_volume(&caller(), new_volume("scratch"))
        .unwrap();
}

#[test]
fn concurrent_acquires_by_two_holders_give_exactly_one_lease() {
    let (_dir, keystore) = unsealed();
    let keystore = Arc::new(keystore);
    let racers = [node(&keystore, "acme", "a"), node(&keystore, "acme", "b")];
    let names: Vec<String> = (0..20).map(|round| format!("race{round}")).collect();
    let volumes: Vec<&str> = names.iter().map(String::as_str).collect();
    grant_volumes(&keystore, "acme", &["a", "b"], &volumes);
    for (round, name) in names.iter().enumerate() {
        let name = name.clone();
        keystore
            .create_volume(&caller(), new_volume(&name))
            .unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = racers
            .iter()
            .map(|racer| {
                let keystore = Arc::clone(&keystore);
                let barrier = Arc::clone(&barrier);
                let (racer, name) = (racer.clone(), name.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    acquire(&keystore, &racer, "acme", &name, 60).is_ok()
                })
            })
            .collect();
        let granted = racers
            .into_iter()
            .map(|racer| racer.join().unwrap())
            .filter(|granted| *granted)
            .count();
        assert_eq!(granted, 1, "round {round}");
    }
}

#[test]
fn rejects_bad_volumes_with_what_to_do() {
    let (_dir, keystore) = unsealed();
    let mut small = new_volume("small");
    small.size_bytes = 1 << 20;
    let message = keystore
        .create_volume(&caller(), small)
        .err()
        .unwrap()
        .to_string();
    assert!(message.contains("between 64 MiB and 64 TiB"), "{message}");
    let mut xfs = new_volume("xfs");
    xfs.filesystem = "xfs".to_owned();
    let message = keystore
        .create_volume(&caller(), xfs)
        .err()
        .unwrap()
        .to_string();
    assert!(message.contains("use ext4"), "{message}");
    let message = keystore
        .create_volume(&caller(), new_volume("../up"))
        .err()
        .unwrap()
        .to_string();
    assert!(message.contains("volume name"), "{message}");
    keystore
        .create_volume(&caller(), new_volume("dup"))
        .unwrap();
    assert!(matches!(
        keystore
            .create_volume(&caller(), new_volume("dup"))
            .err()
            .unwrap(),
        KeystoreError::NameTaken { .. }
    ));
    let a = node(&keystore, "acme", "a");
    grant_volumes(&keystore, "acme", &["a"], &["dup"]);
    let message = acquire(&keystore, &a, "acme", "dup", 0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("a lease lasts 1 to 3600 seconds"),
        "{message}"
    );
}

#[test]
fn concurrent_rotate_and_revoke_never_undo_each_other() {
    let (_dir, keystore) = unsealed();
    let keystore = Arc::new(keystore);
    for round in 0..20 {
        let meta = keystore
            .create_key(
                &caller(),
                "acme",
                &format!("k{round}"),
                keystore::object::Algorithm::Aes256,
                Default::default(),
            )
            .unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let rotate = {
            let (keystore, barrier, meta) =
                (Arc::clone(&keystore), Arc::clone(&barrier), meta.clone());
            std::thread::spawn(move || {
                barrier.wait();
                keystore.rotate(&Caller::system(), &meta).is_ok()
            })
        };
        let revoke = {
            let (keystore, barrier, meta) =
                (Arc::clone(&keystore), Arc::clone(&barrier), meta.clone());
            std::thread::spawn(move || {
                barrier.wait();
                keystore
                    .revoke(
                        &Caller::system(),
                        &meta,
                        keystore::object::RevocationReason::Superseded,
                    )
                    .is_ok()
            })
        };
        let (rotated, revoked) = (rotate.join().unwrap(), revoke.join().unwrap());
        assert!(
            rotated || revoked,
            "round {round}: one of them must succeed"
        );
        let stored = keystore.find("acme", &meta.id).unwrap();
        // Whatever succeeded is visible; nothing that succeeded was undone.
        assert_eq!(stored.version, if rotated { 2 } else { 1 }, "round {round}");
        assert_eq!(stored.state != State::Active, revoked, "round {round}");
        if rotated {
            assert!(keystore.material(&caller(), &stored, Some(2)).is_ok());
        }
    }
}

#[test]
fn decommissioning_a_node_ends_its_leases_and_shreds_only_its_own_volumes() {
    let (_dir, keystore) = unsealed();
    let (n1, n2) = (node(&keystore, "acme", "n1"), node(&keystore, "acme", "n2"));
    grant_volumes(&keystore, "acme", &["n1", "n2"], &["only-n1", "shared"]);
    let only_n1 = keystore
        .create_volume(&caller(), new_volume("only-n1"))
        .unwrap();
    let shared = keystore
        .create_volume(&caller(), new_volume("shared"))
        .unwrap();
    for (name, holder) in [("only-n1", &n1), ("shared", &n2)] {
        acquire(&keystore, holder, "acme", name, 60).unwrap();
        keystore
            .release_volume(&caller(), "acme", name, &holder.principal)
            .unwrap();
    }
    acquire(&keystore, &n1, "acme", "shared", 60).unwrap();

    assert_eq!(keystore.end_node_leases(&caller(), "n1").unwrap(), 1);
    assert!(keystore.volume("acme", "shared").unwrap().lease.is_none());
    let shredded = keystore.shred_node_objects(&caller(), "n1").unwrap();
    assert_eq!(shredded, std::slice::from_ref(&only_n1.key_id));
    assert!(keystore.volume("acme", "only-n1").is_err());
    assert_eq!(
        keystore.find("acme", &only_n1.key_id).unwrap().state,
        State::Destroyed
    );
    // Used by another node too: kept, with its key.
    assert_eq!(
        keystore.find("acme", &shared.key_id).unwrap().state,
        State::Active
    );
}
