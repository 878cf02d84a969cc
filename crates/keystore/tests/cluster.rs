//! Several key managers on one PostgreSQL database, as the servers of a
//! cluster run: what needs one order (the audit chain, names, join token
//! uses, leases, tenant and root keys) is ordered by the database, whichever
//! server is asked; and a database out of reach is `Unavailable`, never a
//! wrong answer, until it is back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use keystore::model::{JoinTokenRow, Role};
use keystore::object::Algorithm;
use keystore::seal::PassphraseSeal;
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, KeystoreError, SealChoice, StoreError};
use support::{acquire, grant_volumes, new_volume, node};

const PASSPHRASE: &[u8] = b"correct horse battery staple";

/// `count` key managers on a fresh database of `cluster`, the first
/// initialized, all unsealed.
fn servers(
    cluster: &throwaway_postgres::Cluster,
    database: &str,
    count: usize,
) -> Vec<Arc<Keystore>> {
    cluster.create_database(database).unwrap();
    let url = cluster.url(database);
    let servers: Vec<Arc<Keystore>> = (0..count)
        .map(|_| Arc::new(Keystore::open_postgres(&url).unwrap()))
        .collect();
    let seal = PassphraseSeal::new_insecure_for_tests(SecretBytes::from_slice(PASSPHRASE)).unwrap();
    servers[0]
        .initialize(&Caller::system(), SealChoice::Passphrase(seal), Vec::new())
        .unwrap();
    for server in &servers {
        server
            .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
            .unwrap();
    }
    servers
}

/// Runs `work(server, thread)` on `threads` threads started together, the
/// threads spread over the servers; returns their results in order.
fn race<T: Send + 'static>(
    servers: &[Arc<Keystore>],
    threads: usize,
    work: impl Fn(&Keystore, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(threads));
    let work = Arc::new(work);
    let handles: Vec<_> = (0..threads)
        .map(|thread| {
            let server = Arc::clone(&servers[thread % servers.len()]);
            let (barrier, work) = (Arc::clone(&barrier), Arc::clone(&work));
            std::thread::spawn(move || {
                barrier.wait();
                work(&server, thread)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect()
}

#[test]
fn servers_sharing_a_database_keep_one_chain_one_name_and_one_key_per_tenant() {
    let cluster = throwaway_postgres::Cluster::start().unwrap();
    let servers = servers(&cluster, "names", 3);

    // Every thread creates the same ten names in a tenant no key exists for
    // yet: each name is taken exactly once, and the tenant gets one key.
    let outcomes = race(&servers, 12, |server, thread| {
        (0..10)
            .map(|index| {
                let created = server.create_key(
                    &Caller::system(),
                    "fresh-tenant",
                    &format!("key-{index}"),
                    Algorithm::Aes256,
                    BTreeMap::new(),
                );
                match created {
                    Ok(meta) => Some(meta.id),
                    Err(KeystoreError::NameTaken { .. }) => None,
                    Err(error) => panic!("thread {thread}: {error}"),
                }
            })
            .collect::<Vec<_>>()
    });
    let created: Vec<String> = outcomes.into_iter().flatten().flatten().collect();
    assert_eq!(
        created.len(),
        10,
        "each name taken exactly once: {created:?}"
    );
    for index in 0..10 {
        let name = format!("key-{index}");
        // Every server finds the same key and reads the same material,
        // whichever server made the tenant's key.
        let found: Vec<(String, Vec<u8>)> = servers
            .iter()
            .map(|server| {
                let meta = server.find("fresh-tenant", &name).unwrap();
                let (_, material) = server.material(&Caller::system(), &meta, None).unwrap();
                (meta.id, material.expose_secret().to_vec())
            })
            .collect();
        assert!(found.windows(2).all(|pair| pair[0] == pair[1]), "{name}");
        assert!(created.contains(&found[0].0));
    }

    // One chain, contiguous, that every server verifies.
    let head = servers[0].audit_head().unwrap().unwrap().0;
    let records = servers[1].audit_records(0, 100_000).unwrap();
    assert_eq!(u64::try_from(records.len()).unwrap(), head);
    for (index, record) in records.iter().enumerate() {
        let audit::StoredRecord::Decoded(record) = record else {
            panic!("record {index} does not decode");
        };
        assert_eq!(record.seq, u64::try_from(index).unwrap() + 1);
    }
    for server in &servers {
        let report = server.verify_audit().unwrap();
        assert!(report.is_ok(), "{report}");
    }
}

#[test]
fn a_single_use_join_token_admits_one_node_across_servers_and_a_lease_has_one_holder() {
    let cluster = throwaway_postgres::Cluster::start().unwrap();
    let servers = servers(&cluster, "tokens", 2);
    let now = time::OffsetDateTime::now_utc();
    let token = JoinTokenRow {
        id: "jtk_once".to_owned(),
        digest: "ab".repeat(32),
        role: Role::Agent,
        tenant: "acme".to_owned(),
        created_at: now,
        expires_at: now + time::Duration::hours(1),
        revoked_at: None,
        max_uses: 1,
        uses: 0,
        labels: BTreeMap::new(),
    };
    servers[0]
        .put_join_tokens(
            &Caller::system(),
            "node.token.create",
            None,
            None,
            Vec::new(),
            vec![token],
        )
        .unwrap();
    for round in 0..5 {
        let joined = race(&servers, 4, move |server, thread| {
            let read = server.join_token_by_id("jtk_once").unwrap().unwrap();
            if read.uses >= read.max_uses {
                return false;
            }
            let mut node = keystore::model::NodeRow {
                id: format!("node-{round}-{thread}"),
                name: "host".to_owned(),
                role: Role::Agent,
                tenant: "acme".to_owned(),
                cert_serial: String::new(),
                cert_expires_at: now,
                joined_at: now,
                last_seen: None,
                state: keystore::model::NodeState::Active,
                decommissioned_at: None,
                join_token_id: read.id.clone(),
                issuer: String::new(),
                labels: BTreeMap::new(),
            };
            node.cert_serial = format!("{round}{thread}");
            match server.join_node(&Caller::system(), &read, &node) {
                Ok(()) => true,
                Err(KeystoreError::Store(StoreError::Stale { .. })) => false,
                Err(error) => panic!("{error}"),
            }
        });
        let admitted = joined.iter().filter(|joined| **joined).count();
        assert_eq!(
            admitted,
            usize::from(round == 0),
            "round {round}: {joined:?}"
        );
    }
    let used = servers[1].join_token_by_id("jtk_once").unwrap().unwrap();
    assert_eq!(used.uses, 1);
    assert_eq!(servers[1].nodes().unwrap().len(), 1);

    // Nodes on different servers racing for one volume: one holder.
    let holders: Vec<_> = (0..6)
        .map(|index| node(&servers[0], "acme", &format!("n{index}")))
        .collect();
    let ids: Vec<String> = (0..6).map(|index| format!("n{index}")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    grant_volumes(&servers[0], "acme", &id_refs, &["pgdata"]);
    servers[1]
        .create_volume(&Caller::system(), new_volume("pgdata"))
        .unwrap();
    let holders = Arc::new(holders);
    let taken = race(&servers, 6, move |server, thread| {
        match acquire(server, &holders[thread], "acme", "pgdata", 60) {
            Ok(_) => true,
            Err(
                KeystoreError::VolumeHeld { .. } | KeystoreError::Store(StoreError::Stale { .. }),
            ) => false,
            Err(error) => panic!("{error}"),
        }
    });
    assert_eq!(taken.iter().filter(|taken| **taken).count(), 1, "{taken:?}");
}

#[test]
fn a_root_rotation_on_one_server_is_followed_by_the_others() {
    let cluster = throwaway_postgres::Cluster::start().unwrap();
    let servers = servers(&cluster, "rotation", 2);
    let meta = servers[0]
        .create_key(
            &Caller::system(),
            "t1",
            "before",
            Algorithm::Aes256,
            BTreeMap::new(),
        )
        .unwrap();
    servers[0].rotate_root(&Caller::system()).unwrap();
    servers[0]
        .rotate_tenant_key(&Caller::system(), "t1")
        .unwrap();
    // The other server reads what was wrapped before and after, and makes a
    // new tenant's key under the current root (or is told to retry while it
    // catches up).
    let (_, before) = servers[1].material(&Caller::system(), &meta, None).unwrap();
    let made = (0..3).find_map(|_| {
        match servers[1].create_key(
            &Caller::system(),
            "t2",
            "after",
            Algorithm::Aes256,
            BTreeMap::new(),
        ) {
            Ok(meta) => Some(meta),
            Err(KeystoreError::Store(
                StoreError::Stale { .. } | StoreError::TenantKeyChanged { .. },
            )) => None,
            Err(error) => panic!("{error}"),
        }
    });
    let made = made.expect("the second server caught up with the rotation");
    // A server unsealed afresh opens everything with the current root.
    drop(servers);
    let fresh = Keystore::open_postgres(&cluster.url("rotation")).unwrap();
    fresh
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    let (_, again) = fresh
        .material(
            &Caller::system(),
            &fresh.find("t1", &meta.id).unwrap(),
            None,
        )
        .unwrap();
    assert_eq!(again.expose_secret(), before.expose_secret());
    fresh
        .material(
            &Caller::system(),
            &fresh.find("t2", &made.id).unwrap(),
            None,
        )
        .unwrap();
    let report = fresh.verify_audit().unwrap();
    assert!(report.is_ok(), "{report}");
}

#[test]
fn a_database_out_of_reach_is_unavailable_and_nothing_acknowledged_is_lost() {
    let mut cluster = throwaway_postgres::Cluster::start().unwrap();
    let servers = servers(&cluster, "outage", 1);
    let server = &servers[0];
    let kept = server
        .create_key(
            &Caller::system(),
            "t",
            "kept",
            Algorithm::Aes256,
            BTreeMap::new(),
        )
        .unwrap();
    cluster.stop_immediate().unwrap();
    let refused = server
        .create_key(
            &Caller::system(),
            "t",
            "refused",
            Algorithm::Aes256,
            BTreeMap::new(),
        )
        .unwrap_err();
    assert!(
        matches!(&refused, KeystoreError::Store(store) if store.is_unavailable()),
        "{refused}"
    );
    assert!(
        matches!(server.find("t", "kept"), Err(KeystoreError::Store(store)) if store.is_unavailable())
    );
    cluster.start_again().unwrap();
    // Back by itself: the next operations reconnect.
    let (_, material) = server
        .material(&Caller::system(), &server.find("t", "kept").unwrap(), None)
        .unwrap();
    assert_eq!(material.len(), 32);
    assert_eq!(server.find("t", &kept.id).unwrap().id, kept.id);
    server
        .create_key(
            &Caller::system(),
            "t",
            "after",
            Algorithm::Aes256,
            BTreeMap::new(),
        )
        .unwrap();
    let report = server.verify_audit().unwrap();
    assert!(report.is_ok(), "{report}");
}
