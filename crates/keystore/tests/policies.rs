//! Policies through `Keystore` over the real SQLite store: checked before
//! they are stored, unique per tenant, listed per tenant, removed, audited;
//! and node rows stored before labels existed still load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use keystore::model::NodeRow;
use keystore::{Caller, KeystoreError};
use policy::{Policy, Selector};
use support::{audited_operations, unsealed};

const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn app_db(tenant: &str) -> Policy {
    Policy {
        name: "app-db".to_owned(),
        tenant: tenant.to_owned(),
        subject: Selector {
            image_digests: vec![DIGEST.to_owned()],
            ..Selector::default()
        },
        volumes: vec!["pgdata".to_owned()],
        secrets: Vec::new(),
    }
}

#[test]
fn policies_are_unique_per_tenant_checked_listed_and_removed() {
    let (_dir, keystore) = unsealed();
    let caller = Caller::system();
    keystore.create_policy(&caller, app_db("acme")).unwrap();
    keystore.create_policy(&caller, app_db("other")).unwrap();
    assert!(matches!(
        keystore.create_policy(&caller, app_db("acme")),
        Err(KeystoreError::PolicyExists { .. })
    ));
    let mut everyone = app_db("acme");
    everyone.name = "everyone".to_owned();
    everyone.subject = Selector::default();
    assert!(matches!(
        keystore.create_policy(&caller, everyone),
        Err(KeystoreError::InvalidPolicy(_))
    ));
    let acme = keystore.list_policies(Some(&["acme".to_owned()])).unwrap();
    assert_eq!(acme, vec![app_db("acme")]);
    assert_eq!(keystore.list_policies(None).unwrap().len(), 2);

    let mut wider = app_db("acme");
    wider.volumes.push("logs".to_owned());
    keystore.replace_policy(&caller, wider.clone()).unwrap();
    assert_eq!(keystore.policy("acme", "app-db").unwrap(), wider);

    keystore.remove_policy(&caller, "acme", "app-db").unwrap();
    assert!(matches!(
        keystore.policy("acme", "app-db"),
        Err(KeystoreError::NotFound { .. })
    ));
    assert_eq!(keystore.policy("other", "app-db").unwrap(), app_db("other"));

    let operations = audited_operations(&keystore, 0);
    for operation in ["policy.create", "policy.update", "policy.delete"] {
        assert!(
            operations.iter().any(|seen| seen == operation),
            "{operation} not in {operations:?}"
        );
    }
}

#[test]
fn node_rows_stored_before_labels_existed_still_load() {
    let old = r#"{"id":"node-1","name":"host","role":"agent","tenant":"default",
        "cert_serial":"01","cert_expires_at":"2026-11-23T00:00:00Z",
        "joined_at":"2026-11-22T00:00:00Z","last_seen":null,"state":"active",
        "decommissioned_at":null,"join_token_id":"jtk_1"}"#;
    let node: NodeRow = serde_json::from_str(old).unwrap();
    assert!(node.labels.is_empty());
}
