//! What the keystore integration tests share: a key manager over a real
//! SQLite store in a temporary directory, initialized and unsealed.
#![allow(dead_code)] // Each test file uses a different part of the support code.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::collections::BTreeMap;

use keystore::model::{NodeRow, NodeState, Role, VolumeRow};
use keystore::seal::PassphraseSeal;
use keystore::secret::SecretBytes;
use keystore::{
    Caller, Keystore, KeystoreError, NODE_PRINCIPAL_PREFIX, NewVolume, ReleaseDecision, SealChoice,
};

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

/// Node `id` of `tenant`, put in the inventory as a join would, and the
/// caller it is on every request (`node:<id>`).
pub fn node(keystore: &Keystore, tenant: &str, id: &str) -> Caller {
    let now = time::OffsetDateTime::now_utc();
    let row = NodeRow {
        id: id.to_owned(),
        name: format!("host-{id}"),
        role: Role::Agent,
        tenant: tenant.to_owned(),
        cert_serial: "01".to_owned(),
        cert_expires_at: now + time::Duration::hours(1),
        joined_at: now,
        last_seen: Some(now),
        state: NodeState::Active,
        decommissioned_at: None,
        join_token_id: "jtk_test".to_owned(),
        issuer: String::new(),
        labels: BTreeMap::new(),
    };
    keystore
        .put_node(&Caller::system(), "node.join", &row, None)
        .unwrap();
    Caller {
        principal: format!("{NODE_PRINCIPAL_PREFIX}{id}"),
        remote: None,
    }
}

/// A policy of `tenant` that grants `volumes` to the nodes `node_ids`.
pub fn grant_volumes(keystore: &Keystore, tenant: &str, node_ids: &[&str], volumes: &[&str]) {
    let policy = policy::Policy {
        name: format!("volumes-of-{}", node_ids.join("-")),
        tenant: tenant.to_owned(),
        subject: policy::Selector {
            node_ids: node_ids.iter().map(|id| (*id).to_owned()).collect(),
            ..policy::Selector::default()
        },
        volumes: volumes.iter().map(|volume| (*volume).to_owned()).collect(),
        secrets: Vec::new(),
    };
    keystore.create_policy(&Caller::system(), policy).unwrap();
}

/// Decides the release of volume `name` to `caller` for no workload in
/// particular, and takes the lease with it.
pub fn acquire(
    keystore: &Keystore,
    caller: &Caller,
    tenant: &str,
    name: &str,
    lease_secs: u32,
) -> Result<(VolumeRow, SecretBytes), KeystoreError> {
    match keystore.decide_volume_release(caller, tenant, name, &[])? {
        ReleaseDecision::Allowed(release) => {
            keystore.acquire_volume(caller, release, lease_secs)?.wait()
        }
        ReleaseDecision::Denied(denial) => Err(KeystoreError::InvalidArgument(format!(
            "the test's release was denied to {}: {:?}",
            denial.workload, denial.decision.reasons
        ))),
    }
}

/// A 1 GiB ext4 volume `name` of tenant `acme`.
pub fn new_volume(name: &str) -> NewVolume {
    NewVolume {
        tenant: "acme".to_owned(),
        name: name.to_owned(),
        size_bytes: 1 << 30,
        filesystem: "ext4".to_owned(),
    }
}
