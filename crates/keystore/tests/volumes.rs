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
use keystore::{Caller, KeystoreError, NewVolume};
use support::unsealed;

fn caller() -> Caller {
    Caller::system()
}

fn new_volume(name: &str) -> NewVolume {
    NewVolume {
        tenant: "acme".to_owned(),
        name: name.to_owned(),
        size_bytes: 1 << 30,
        filesystem: "ext4".to_owned(),
    }
}

#[test]
fn one_holder_at_a_time_and_every_holder_gets_the_same_secret() {
    let (_dir, keystore) = unsealed();
    let created = keystore
        .create_volume(&caller(), new_volume("pgdata"))
        .unwrap();
    assert!(created.lease.is_none());

    let (row, secret_a) = keystore
        .acquire_volume(&caller(), "acme", "pgdata", "node:a", 60)
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(row.lease.as_ref().unwrap().holder, "node:a");
    assert_eq!(secret_a.len(), 32);

    let refused = keystore
        .acquire_volume(&caller(), "acme", "pgdata", "node:b", 60)
        .err()
        .unwrap();
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

    let (row, secret_b) = keystore
        .acquire_volume(&caller(), "acme", "pgdata", "node:b", 60)
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(secret_a.expose_secret(), secret_b.expose_secret());
    assert_eq!(
        row.holders.iter().map(String::as_str).collect::<Vec<_>>(),
        ["node:a", "node:b"]
    );
}

#[test]
fn remove_destroys_the_secret_and_is_refused_while_held() {
    let (_dir, keystore) = unsealed();
    let created = keystore
        .create_volume(&caller(), new_volume("scratch"))
        .unwrap();
    keystore
        .acquire_volume(&caller(), "acme", "scratch", "node:a", 60)
        .unwrap()
        .wait()
        .unwrap();
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
        keystore
            .acquire_volume(&caller(), "acme", "scratch", "node:a", 60)
            .err()
            .unwrap(),
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
    for round in 0..20 {
        let name = format!("race{round}");
        keystore
            .create_volume(&caller(), new_volume(&name))
            .unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = ["node:a", "node:b"]
            .into_iter()
            .map(|holder| {
                let keystore = Arc::clone(&keystore);
                let barrier = Arc::clone(&barrier);
                let name = name.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    keystore
                        .acquire_volume(&Caller::system(), "acme", &name, holder, 60)
                        .and_then(keystore::Durable::wait)
                        .is_ok()
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
    assert!(
        keystore
            .acquire_volume(&caller(), "acme", "dup", "node:a", 0)
            .is_err()
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
    let only_n1 = keystore
        .create_volume(&caller(), new_volume("only-n1"))
        .unwrap();
    let shared = keystore
        .create_volume(&caller(), new_volume("shared"))
        .unwrap();
    for (name, holder) in [("only-n1", "node:n1"), ("shared", "node:n2")] {
        keystore
            .acquire_volume(&caller(), "acme", name, holder, 60)
            .unwrap()
            .wait()
            .unwrap();
        keystore
            .release_volume(&caller(), "acme", name, holder)
            .unwrap();
    }
    keystore
        .acquire_volume(&caller(), "acme", "shared", "node:n1", 60)
        .unwrap()
        .wait()
        .unwrap();

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
