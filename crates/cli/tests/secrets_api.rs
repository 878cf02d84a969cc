//! Secrets through the real server and the real `cryptainer secret` commands:
//! exact bytes in and out, versions, roles and tenants, and a value that never
//! reaches an argument, a log line or the audit log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // In tests a panic is the failure report.

mod server_support;

use std::os::unix::fs::PermissionsExt;

use serde_json::json;
use server_support::TestServer;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn values_go_in_and_out_exactly_and_never_into_logs() {
    let dir = tempfile::tempdir().unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let server = TestServer::start_dev_logged(dir.path(), log.path());
    // A value with a marker, a newline and bytes that are not UTF-8.
    let marker = b"pw-marker-7f3a91c2";
    let mut first = marker.to_vec();
    first.extend_from_slice(b"\n\x00\xff");
    let value_file = dir.path().join("value.bin");
    std::fs::write(&value_file, &first).unwrap();

    let created = server.cli(&[
        "secret",
        "create",
        "db-password",
        "--from-file",
        value_file.to_str().unwrap(),
        "--json",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let info: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(info["object_type"], "secret_data");
    assert_eq!(info["version"], 1);

    let out = dir.path().join("read.bin");
    let read = server.cli(&[
        "secret",
        "get",
        "db-password",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(read.status.success(), "{}", stderr(&read));
    assert_eq!(std::fs::read(&out).unwrap(), first);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Rotation from standard input; both versions stay readable.
    let rotated = server.cli_with_input(&["secret", "rotate", "db-password"], b"second-value");
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let newest = server.cli(&["secret", "get", "db-password"]);
    assert_eq!(newest.stdout, b"second-value");
    let oldest = server.cli(&["secret", "get", "db-password", "--version", "1"]);
    assert_eq!(oldest.stdout, first);

    let listed = server.cli(&["secret", "list"]);
    let table = String::from_utf8(listed.stdout).unwrap();
    assert!(table.contains("db-password"), "{table}");
    assert!(!table.contains("pw-marker"), "the list never shows values");

    // Nothing of the value in the server's log or in the audit log.
    let audit = server.cli(&["audit", "list", "--json"]);
    assert!(audit.status.success());
    let records = String::from_utf8_lossy(&audit.stdout).into_owned();
    assert!(records.contains("secret.read") && records.contains("secret.rotate"));
    let logged = std::fs::read(log.path()).unwrap();
    for haystack in [records.as_bytes(), logged.as_slice()] {
        assert!(
            !haystack
                .windows(marker.len())
                .any(|window| window == marker)
        );
        assert!(!haystack.windows(12).any(|window| window == b"second-value"));
    }
    assert!(!logged.is_empty(), "the server logged at debug level");

    let destroyed = server.cli(&["secret", "destroy", "db-password", "--yes"]);
    assert!(destroyed.status.success(), "{}", stderr(&destroyed));
    let id = info["id"].as_str().unwrap();
    let by_id = server.cli(&["secret", "get", id]);
    assert!(!by_id.status.success());
    assert!(stderr(&by_id).contains("destroyed"), "{}", stderr(&by_id));
    // By name, a destroyed secret is gone: the name is free for a new one.
    let by_name = server.cli(&["secret", "get", "db-password"]);
    assert!(
        stderr(&by_name).contains("no secret 'db-password'"),
        "{}",
        stderr(&by_name)
    );
}

#[test]
fn a_value_is_never_an_argument_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());
    let as_argument = server.cli(&["secret", "create", "x", "--value", "hunter2"]);
    assert_eq!(
        as_argument.status.code(),
        Some(2),
        "no --value option exists"
    );
    let empty = server.cli_with_input(&["secret", "create", "x"], b"");
    assert!(!empty.status.success());
    assert!(
        stderr(&empty).contains("never as an argument"),
        "{}",
        stderr(&empty)
    );
    let large = server.cli_with_input(&["secret", "create", "x"], &vec![b'a'; 70_000]);
    assert!(!large.status.success());
    assert!(
        stderr(&large).contains("larger than 64 KiB"),
        "{}",
        stderr(&large)
    );
    let unconfirmed = server.cli_with_input(&["secret", "create", "x"], b"v");
    assert!(unconfirmed.status.success(), "{}", stderr(&unconfirmed));
    let refused = server.cli(&["secret", "destroy", "x"]);
    assert!(
        stderr(&refused).contains("pass --yes"),
        "{}",
        stderr(&refused)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_tenants_bound_who_reads_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());
    let client = server.client();
    let admin = Some(server.token.as_str());
    let created = server
        .post(
            &client,
            "/v1/secrets",
            admin,
            Some(json!({"name": "api-key", "value": "c2VjcmV0", "tenant": "acme"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);

    let mut tokens = Vec::new();
    for (role, tenant) in [
        ("auditor", "acme"),
        ("operator", "globex"),
        ("operator", "acme"),
    ] {
        let answer = server
            .post(
                &client,
                "/v1/auth/tokens",
                admin,
                Some(json!({"role": role, "tenants": [tenant], "ttl_secs": 600})),
            )
            .await;
        tokens.push(answer.body["token"].as_str().unwrap().to_owned());
    }
    let path = "/v1/secrets/api-key/value?tenant=acme";
    let auditor = server.get(&client, path, Some(&tokens[0])).await;
    assert_eq!(auditor.status, 403, "{}", auditor.body);
    let other_tenant = server.get(&client, path, Some(&tokens[1])).await;
    assert_eq!(other_tenant.status, 404, "{}", other_tenant.body);
    let operator = server.get(&client, path, Some(&tokens[2])).await;
    assert_eq!(operator.status, 200, "{}", operator.body);
    assert_eq!(operator.body["value"], "c2VjcmV0");

    // Keys are not secrets, and volume keys are hidden from the secret routes.
    let key = server
        .post(&client, "/v1/keys", admin, Some(json!({"name": "k"})))
        .await;
    assert_eq!(key.status, 201);
    let as_secret = server.get(&client, "/v1/secrets/k", admin).await;
    assert_eq!(as_secret.status, 404);
    let volume = server
        .post(
            &client,
            "/v1/volumes",
            admin,
            Some(json!({"name": "vol", "size_bytes": 1u64 << 30})),
        )
        .await;
    assert_eq!(volume.status, 201, "{}", volume.body);
    let list = server.get(&client, "/v1/secrets", admin).await;
    let names: Vec<&str> = list.body["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|secret| secret["name"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(names, ["api-key"]);

    let bad = server
        .post(
            &client,
            "/v1/secrets",
            admin,
            Some(json!({"name": "x", "value": "not base64!"})),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("base64")
    );
}
