//! Releases of secret material through `Keystore` over the real SQLite store:
//! a node gets a volume's secret or a secret's value only with a release
//! decided by its tenant's policies for its inventory row, every decision is
//! audited, and a release opens only the object and serves only the caller it
//! was decided for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::BTreeMap;

use keystore::object::{Algorithm, ObjectMeta};
use keystore::secret::SecretBytes;
use keystore::{
    Caller, ClaimedWorkload, KeystoreError, MAX_WORKLOADS, ReleaseDecision, SecretRelease,
    UNNAMED_WORKLOAD, VolumeRelease,
};
use policy::{Policy, Selector, Workload};
use support::{audited_operations, grant_volumes, new_volume, node, unsealed};

const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const OTHER_DIGEST: &str =
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn container(name: &str, digest: &str) -> ClaimedWorkload {
    ClaimedWorkload {
        workload: Workload {
            image_digest: Some(digest.to_owned()),
            ..Workload::default()
        },
        description: format!("container '{name}'"),
    }
}

fn allowed<R>(decision: ReleaseDecision<R>) -> R {
    match decision {
        ReleaseDecision::Allowed(release) => release,
        ReleaseDecision::Denied(denial) => panic!("denied: {denial:?}"),
    }
}

fn volume_release(
    keystore: &keystore::Keystore,
    caller: &Caller,
    name: &str,
    workloads: &[ClaimedWorkload],
) -> ReleaseDecision<VolumeRelease> {
    keystore
        .decide_volume_release(caller, "acme", name, workloads)
        .unwrap()
}

/// The results of the `policy.decide` records after `after`.
fn decisions_after(keystore: &keystore::Keystore, after: u64) -> Vec<String> {
    keystore
        .audit_records(after, 1000)
        .unwrap()
        .into_iter()
        .filter_map(|stored| match stored {
            audit::StoredRecord::Decoded(record) if record.operation == "policy.decide" => {
                Some(record.result)
            }
            _ => None,
        })
        .collect()
}

fn head(keystore: &keystore::Keystore) -> u64 {
    keystore.audit_head().unwrap().map_or(0, |(seq, _)| seq)
}

fn secret(keystore: &keystore::Keystore, name: &str) -> ObjectMeta {
    keystore
        .create_secret(
            &Caller::system(),
            "acme",
            name,
            BTreeMap::new(),
            SecretBytes::from_slice(b"hunter2"),
        )
        .unwrap()
}

#[test]
fn a_node_gets_a_volume_only_for_workloads_a_policy_allows_and_every_decision_is_audited() {
    let (_dir, keystore) = unsealed();
    let a = node(&keystore, "acme", "a");
    keystore
        .create_volume(&Caller::system(), new_volume("pgdata"))
        .unwrap();
    keystore
        .create_policy(
            &Caller::system(),
            Policy {
                name: "app-db".to_owned(),
                tenant: "acme".to_owned(),
                subject: Selector {
                    image_digests: vec![DIGEST.to_owned()],
                    ..Selector::default()
                },
                volumes: vec!["pgdata".to_owned()],
                secrets: Vec::new(),
            },
        )
        .unwrap();

    // One allowed container and one that is not: nothing is released, both
    // decisions are recorded, and the refusal names the refused one.
    let before = head(&keystore);
    let workloads = [container("db", DIGEST), container("intruder", OTHER_DIGEST)];
    let ReleaseDecision::Denied(denial) = volume_release(&keystore, &a, "pgdata", &workloads)
    else {
        panic!("a workload no policy allows was released a volume");
    };
    assert_eq!(denial.workload, "container 'intruder'");
    assert!(!denial.decision.allowed());
    assert_eq!(decisions_after(&keystore, before), ["ok", "policy_denied"]);
    assert!(keystore.volume("acme", "pgdata").unwrap().lease.is_none());

    // The allowed container alone gets it, as its node.
    let release = allowed(volume_release(
        &keystore,
        &a,
        "pgdata",
        &[container("db", DIGEST)],
    ));
    let (row, secret) = keystore
        .acquire_volume(&a, release, 60)
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(row.lease.unwrap().holder, "node:a");
    assert_eq!(secret.len(), 32);
}

#[test]
fn a_node_naming_no_workload_is_decided_as_one_without_container_information() {
    let (_dir, keystore) = unsealed();
    let a = node(&keystore, "acme", "a");
    keystore
        .create_volume(&Caller::system(), new_volume("scratch"))
        .unwrap();
    let before = head(&keystore);
    let ReleaseDecision::Denied(denial) = volume_release(&keystore, &a, "scratch", &[]) else {
        panic!("no policy names the volume, yet it was released");
    };
    assert_eq!(denial.workload, UNNAMED_WORKLOAD);
    assert_eq!(decisions_after(&keystore, before), ["policy_denied"]);
    // A policy that selects the node alone allows it.
    grant_volumes(&keystore, "acme", &["a"], &["scratch"]);
    let release = allowed(volume_release(&keystore, &a, "scratch", &[]));
    keystore
        .acquire_volume(&a, release, 60)
        .unwrap()
        .wait()
        .unwrap();
}

#[test]
fn the_node_fields_of_a_claim_are_the_inventorys_not_the_requests() {
    let (_dir, keystore) = unsealed();
    let b = node(&keystore, "acme", "b");
    node(&keystore, "acme", "a");
    grant_volumes(&keystore, "acme", &["a"], &["pgdata"]);
    keystore
        .create_volume(&Caller::system(), new_volume("pgdata"))
        .unwrap();
    // Node b claims to be node a: the inventory says it is b.
    let impostor = ClaimedWorkload {
        workload: Workload {
            node_id: "a".to_owned(),
            ..Workload::default()
        },
        description: "container 'impostor'".to_owned(),
    };
    assert!(matches!(
        volume_release(&keystore, &b, "pgdata", &[impostor]),
        ReleaseDecision::Denied(_)
    ));
}

#[test]
fn a_volume_no_policy_names_stays_with_the_node_that_created_it() {
    let (_dir, keystore) = unsealed();
    let (a, b) = (node(&keystore, "acme", "a"), node(&keystore, "acme", "b"));
    keystore.create_volume(&a, new_volume("mine")).unwrap();
    let release = allowed(volume_release(&keystore, &a, "mine", &[]));
    keystore
        .acquire_volume(&a, release, 60)
        .unwrap()
        .wait()
        .unwrap();
    assert!(matches!(
        volume_release(&keystore, &b, "mine", &[]),
        ReleaseDecision::Denied(_)
    ));
}

#[test]
fn people_are_governed_by_their_role_and_no_decision_is_recorded() {
    let (_dir, keystore) = unsealed();
    let person = Caller {
        principal: "token:tok_operator".to_owned(),
        remote: None,
    };
    keystore
        .create_volume(&Caller::system(), new_volume("pgdata"))
        .unwrap();
    let before = head(&keystore);
    let release = allowed(volume_release(&keystore, &person, "pgdata", &[]));
    assert!(decisions_after(&keystore, before).is_empty());
    let (row, _) = keystore
        .acquire_volume(&person, release, 60)
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(row.lease.unwrap().holder, "token:tok_operator");
}

#[test]
fn a_release_serves_only_the_caller_it_was_decided_for() {
    let (_dir, keystore) = unsealed();
    let (a, b) = (node(&keystore, "acme", "a"), node(&keystore, "acme", "b"));
    grant_volumes(&keystore, "acme", &["a"], &["pgdata"]);
    keystore
        .create_volume(&Caller::system(), new_volume("pgdata"))
        .unwrap();
    let release = allowed(volume_release(&keystore, &a, "pgdata", &[]));
    let error = keystore.acquire_volume(&b, release, 60).err().unwrap();
    assert!(
        matches!(error, KeystoreError::InvalidArgument(_)),
        "{error}"
    );
    assert!(error.to_string().contains("decided for node:a"), "{error}");
    assert!(keystore.volume("acme", "pgdata").unwrap().lease.is_none());

    let value = secret(&keystore, "db-password");
    let release: SecretRelease = allowed(
        keystore
            .decide_secret_release(&Caller::system(), &value, &[])
            .unwrap(),
    );
    assert!(matches!(
        keystore.read_secret(&a, release, None),
        Err(KeystoreError::InvalidArgument(_))
    ));
}

#[test]
fn a_release_decided_before_the_volume_was_made_again_opens_nothing() {
    let (_dir, keystore) = unsealed();
    let a = node(&keystore, "acme", "a");
    grant_volumes(&keystore, "acme", &["a"], &["pgdata"]);
    keystore
        .create_volume(&Caller::system(), new_volume("pgdata"))
        .unwrap();
    let release = allowed(volume_release(&keystore, &a, "pgdata", &[]));
    keystore
        .remove_volume(&Caller::system(), "acme", "pgdata")
        .unwrap();
    keystore
        .create_volume(&Caller::system(), new_volume("pgdata"))
        .unwrap();
    let error = keystore.acquire_volume(&a, release, 60).err().unwrap();
    assert!(
        matches!(
            error,
            KeystoreError::Store(keystore::StoreError::Stale { .. })
        ),
        "{error}"
    );
    assert!(keystore.volume("acme", "pgdata").unwrap().lease.is_none());
}

#[test]
fn a_node_gets_a_secret_only_as_a_policy_allows() {
    let (_dir, keystore) = unsealed();
    let a = node(&keystore, "acme", "a");
    let value = secret(&keystore, "db-password");
    assert!(matches!(
        keystore.decide_secret_release(&a, &value, &[]).unwrap(),
        ReleaseDecision::Denied(_)
    ));
    keystore
        .create_policy(
            &Caller::system(),
            Policy {
                name: "app".to_owned(),
                tenant: "acme".to_owned(),
                subject: Selector {
                    node_ids: vec!["a".to_owned()],
                    ..Selector::default()
                },
                volumes: Vec::new(),
                secrets: vec!["db-password".to_owned()],
            },
        )
        .unwrap();
    let before = head(&keystore);
    let release = allowed(keystore.decide_secret_release(&a, &value, &[]).unwrap());
    let (version, read) = keystore
        .read_secret(&a, release, None)
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!((version, read.expose_secret()), (1, &b"hunter2"[..]));
    assert_eq!(
        audited_operations(&keystore, before),
        ["policy.decide", "secret.read"]
    );
}

#[test]
fn rejects_releases_of_what_is_not_a_secret_or_for_too_many_workloads() {
    let (_dir, keystore) = unsealed();
    let a = node(&keystore, "acme", "a");
    let key = keystore
        .create_key(
            &Caller::system(),
            "acme",
            "a-key",
            Algorithm::Aes256,
            BTreeMap::new(),
        )
        .unwrap();
    assert!(matches!(
        keystore.decide_secret_release(&Caller::system(), &key, &[]),
        Err(KeystoreError::NotFound { what: "secret", .. })
    ));
    keystore
        .create_volume(&Caller::system(), new_volume("pgdata"))
        .unwrap();
    let many = vec![container("c", DIGEST); MAX_WORKLOADS + 1];
    let message = keystore
        .decide_volume_release(&a, "acme", "pgdata", &many)
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("at most 64 workloads; 65 were given"),
        "{message}"
    );
    // A node the inventory does not know is not decided for.
    let stranger = Caller {
        principal: "node:stranger".to_owned(),
        remote: None,
    };
    assert!(matches!(
        keystore.decide_volume_release(&stranger, "acme", "pgdata", &[]),
        Err(KeystoreError::NotFound { what: "node", .. })
    ));
}
