//! Volumes through the real server and the real `cryptainer volume` commands:
//! one holder at a time, tenant isolation, crypto-shredding on remove, and the
//! audit trail of every lease.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // In tests a panic is the failure report.

mod server_support;

use reqwest::Method;
use serde_json::json;
use server_support::{TestServer, request};

async fn token(server: &TestServer, role: &str, tenants: serde_json::Value) -> String {
    let answer = server
        .post(
            &server.client(),
            "/v1/auth/tokens",
            Some(&server.token),
            Some(json!({"role": role, "tenants": tenants, "ttl_secs": 3600})),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_has_one_holder_and_its_key_dies_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());
    let client = server.client();
    // Two hosts of tenant acme (tokens stand in for node certificates here).
    let host_one = token(&server, "operator", json!(["acme"])).await;
    let host_two = token(&server, "operator", json!(["acme"])).await;
    let other_tenant = token(&server, "operator", json!(["globex"])).await;

    let created = server
        .post(
            &client,
            "/v1/volumes",
            Some(&host_one),
            Some(json!({"name": "pgdata", "size_bytes": 1u64 << 30})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["tenant"], "acme");
    assert_eq!(created.body["state"], "free");
    let key_id = created.body["key_id"].as_str().unwrap().to_owned();

    let first = server
        .post(&client, "/v1/volumes/pgdata/acquire", Some(&host_one), None)
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["volume"]["state"], "held");
    let secret = first.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 44, "32 bytes in base64");

    let second = server
        .post(&client, "/v1/volumes/pgdata/acquire", Some(&host_two), None)
        .await;
    assert_eq!(second.status, 409, "{}", second.body);
    assert!(
        second.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is in use on")
    );
    assert!(second.body.get("secret").is_none());

    // Another tenant learns nothing: not found, exactly as a missing volume.
    for (method, path) in [
        (Method::GET, "/v1/volumes/pgdata"),
        (Method::POST, "/v1/volumes/pgdata/acquire"),
        (Method::DELETE, "/v1/volumes/pgdata"),
    ] {
        let answer = request(&client, &server, method, path, Some(&other_tenant), None).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    let missing = server
        .get(&client, "/v1/volumes/nope", Some(&host_one))
        .await;
    assert_eq!(missing.body["error"]["message"], "no volume 'nope'");

    // Held: removal is refused and nothing is lost.
    let refused = server
        .delete(&client, "/v1/volumes/pgdata", Some(&host_one))
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);

    let released = server
        .post(&client, "/v1/volumes/pgdata/release", Some(&host_one), None)
        .await;
    assert_eq!(released.body["state"], "free", "{}", released.body);
    let moved = server
        .post(
            &client,
            "/v1/volumes/pgdata/acquire",
            Some(&host_two),
            Some(json!({"lease_seconds": 30})),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        moved.body["secret"].as_str().unwrap(),
        secret,
        "same volume, same secret"
    );
    assert_eq!(moved.body["volume"]["holders"].as_array().unwrap().len(), 2);
    let bad_lease = server
        .post(
            &client,
            "/v1/volumes/pgdata/renew",
            Some(&host_two),
            Some(json!({"lease_seconds": 999999})),
        )
        .await;
    assert_eq!(bad_lease.status, 400, "{}", bad_lease.body);
    server
        .post(&client, "/v1/volumes/pgdata/release", Some(&host_two), None)
        .await;

    // The command line shows it, then removes it for good.
    let listed = server.cli(&["volume", "list"]);
    let table = String::from_utf8(listed.stdout).unwrap();
    assert!(
        table.contains("pgdata") && table.contains("1 GiB"),
        "{table}"
    );
    let removed = server.cli(&[
        "volume", "rm", "pgdata", "--tenant", "acme", "--yes", "--json",
    ]);
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    let key = server
        .get(&client, &format!("/v1/keys/{key_id}"), Some(&server.token))
        .await;
    assert_eq!(key.body["state"], "destroyed", "{}", key.body);
    let gone = server
        .post(&client, "/v1/volumes/pgdata/acquire", Some(&host_one), None)
        .await;
    assert_eq!(gone.status, 404);

    // Every lease went into the audit log.
    let audit = server.cli(&["audit", "list", "--json"]);
    let records = String::from_utf8(audit.stdout).unwrap();
    for operation in [
        "volume.create",
        "volume.acquire",
        "volume.release",
        "volume.remove",
    ] {
        assert!(
            records.contains(operation),
            "{operation} missing from the audit log"
        );
    }
}

#[test]
fn the_cli_refuses_bad_sizes_and_unconfirmed_removal() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());
    let output = server.cli(&["volume", "create", "v", "--size", "banana"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("'banana' is not a size"));
    let output = server.cli(&["volume", "create", "v", "--size", "1M"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("between 64 MiB and 64 TiB"));
    let output = server.cli(&["volume", "create", "v", "--size", "1G"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = server.cli(&["volume", "rm", "v"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pass --yes"));
    let output = server.cli(&["volume", "show", "v", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["size_bytes"], 1u64 << 30);
}
