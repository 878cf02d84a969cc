//! Workload policies end to end: a real server, nodes joined with a real
//! `cryptainer agent join`, requests authenticated by their certificates.
//! Policy CRUD and its refusals, enforcement at volume acquire and secret
//! delivery, node labels, `policy check` and the audit trail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::process::Output;

use reqwest::Method;
use serde_json::{Value, json};
use server_support::{Answer, TestServer, join_node as join, node_client, request, runtime};

const DIGEST_A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const DIGEST_B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// An admin request (the dev server's token).
fn admin(server: &TestServer, method: Method, path: &str, body: Option<Value>) -> Answer {
    runtime().block_on(request(
        &server.client(),
        server,
        method,
        path,
        Some(&server.token),
        body,
    ))
}

/// A request authenticated by a node certificate only.
fn as_node(
    server: &TestServer,
    node: &reqwest::Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    runtime().block_on(request(node, server, method, path, None, body))
}

/// Whether the audit log has a record of `operation` by `principal` with `result`.
fn audited(server: &TestServer, operation: &str, principal: &str, result: &str) -> bool {
    let answer = admin(server, Method::GET, "/v1/audit/records?limit=1000", None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|record| {
            record["operation"] == operation
                && record["result"] == result
                && record["principal"] == principal
        })
}

/// Checks an error answer: its status, code, and a part of its message.
fn assert_refused(answer: &Answer, status: u16, code: &str, says: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.code(), code, "{}", answer.body);
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "'{message}' should say '{says}'");
}

fn create_policy(server: &TestServer, body: Value) -> Answer {
    admin(server, Method::POST, "/v1/policies", Some(body))
}

#[test]
fn policies_are_created_listed_and_removed_with_precise_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let policy = json!({
        "name": "app-db",
        "tenant": "tenant-a",
        "subject": { "image_digests": [DIGEST_A] },
        "volumes": ["pgdata"],
        "secrets": ["db-password"],
    });
    let created = create_policy(&server, policy.clone());
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["subject"]["image_digests"][0], DIGEST_A);

    let duplicate = create_policy(&server, policy.clone());
    assert_refused(
        &duplicate,
        409,
        "conflict",
        "a policy named 'app-db' already exists in tenant 'tenant-a'",
    );

    let mut everyone = policy.clone();
    everyone["name"] = json!("everyone");
    everyone["subject"] = json!({});
    let refused = create_policy(&server, everyone);
    assert_refused(&refused, 400, "bad_request", "selects every workload");

    let mut short = policy.clone();
    short["name"] = json!("short");
    short["subject"] = json!({ "image_digests": ["sha256:abc"] });
    let refused = create_policy(&server, short);
    assert_refused(
        &refused,
        400,
        "bad_request",
        "'sha256:abc' is not an image digest",
    );

    let mut unknown = policy;
    unknown["subject"] = json!({ "image_digest": [DIGEST_A] });
    let refused = create_policy(&server, unknown);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.code(), "bad_request");

    let listed = admin(&server, Method::GET, "/v1/policies?tenant=tenant-a", None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["policies"].as_array().unwrap().len(), 1);

    // A principal of tenant B learns nothing of tenant A's policies.
    let token_b = admin(
        &server,
        Method::POST,
        "/v1/auth/tokens",
        Some(json!({ "role": "operator", "tenants": ["tenant-b"], "ttl_secs": 600 })),
    );
    assert_eq!(token_b.status, 201, "{}", token_b.body);
    let token_b = token_b.body["token"].as_str().unwrap().to_owned();
    let client = server.client();
    let rt = runtime();
    for path in ["/v1/policies/app-db?tenant=tenant-a", "/v1/policies/app-db"] {
        for method in [Method::GET, Method::DELETE] {
            let answer = rt.block_on(request(
                &client,
                &server,
                method.clone(),
                path,
                Some(&token_b),
                None,
            ));
            assert_eq!(answer.status, 404, "{method} {path}: {}", answer.body);
            assert_eq!(answer.body["error"]["message"], "no policy 'app-db'");
        }
    }
    for path in ["/v1/policies", "/v1/policies?tenant=tenant-a"] {
        let answer = rt.block_on(server.get(&client, path, Some(&token_b)));
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["policies"], json!([]), "{path}");
    }

    let removed = admin(
        &server,
        Method::DELETE,
        "/v1/policies/app-db?tenant=tenant-a",
        None,
    );
    assert_eq!(removed.status, 200, "{}", removed.body);
    let gone = admin(
        &server,
        Method::GET,
        "/v1/policies/app-db?tenant=tenant-a",
        None,
    );
    assert_eq!(gone.status, 404, "{}", gone.body);

    let admin_name = {
        let me = admin(&server, Method::GET, "/v1/auth/self", None);
        format!("token:{}", me.body["id"].as_str().unwrap())
    };
    assert!(audited(&server, "policy.create", &admin_name, "ok"));
    assert!(audited(&server, "policy.delete", &admin_name, "ok"));
}

#[test]
fn a_node_opens_a_volume_only_for_the_workloads_a_policy_allows() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let dir_one = dir.path().join("one");
    let dir_two = dir.path().join("two");
    let node_one = join(&server, &[], &dir_one);
    let node_two = join(&server, &[], &dir_two);
    let one = node_client(&dir_one);
    let two = node_client(&dir_two);
    let size = 64_u64 << 20;

    // A volume no policy names stays with the node that created it.
    let created = as_node(
        &server,
        &one,
        Method::POST,
        "/v1/volumes",
        Some(json!({ "name": "scratch", "size_bytes": size })),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let mine = as_node(
        &server,
        &one,
        Method::POST,
        "/v1/volumes/scratch/acquire",
        Some(json!({ "workloads": [{ "container_name": "web", "image_digest": DIGEST_B }] })),
    );
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body["secret"].as_str().unwrap().len() > 40);
    let theirs = as_node(
        &server,
        &two,
        Method::POST,
        "/v1/volumes/scratch/acquire",
        None,
    );
    assert_eq!(theirs.status, 403, "{}", theirs.body);
    assert_eq!(theirs.code(), "policy_denied");
    let message = theirs.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("volume 'scratch'"), "{message}");
    assert!(
        message.contains(&format!("only node '{node_one}', which created it")),
        "{message}"
    );

    // A named volume follows its policy: digest A gets the key, digest B not.
    let volume = admin(
        &server,
        Method::POST,
        "/v1/volumes",
        Some(json!({ "name": "pgdata", "size_bytes": size })),
    );
    assert_eq!(volume.status, 201, "{}", volume.body);
    let policy = create_policy(
        &server,
        json!({
            "name": "app-db",
            "subject": { "image_digests": [DIGEST_A] },
            "volumes": ["pgdata"],
        }),
    );
    assert_eq!(policy.status, 201, "{}", policy.body);
    let refused = as_node(
        &server,
        &two,
        Method::POST,
        "/v1/volumes/pgdata/acquire",
        Some(json!({ "workloads": [
            { "container_name": "db", "image_digest": DIGEST_A },
            { "container_name": "intruder", "image_digest": DIGEST_B },
        ] })),
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.code(), "policy_denied");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("volume 'pgdata' is refused to container 'intruder'"),
        "{message}"
    );
    assert!(
        message.contains(&format!("image digest {DIGEST_B} is not one of")),
        "{message}"
    );
    let shown = admin(&server, Method::GET, "/v1/volumes/pgdata", None);
    assert_eq!(
        shown.body["state"], "free",
        "a refusal takes no lease: {}",
        shown.body
    );

    let allowed = as_node(
        &server,
        &two,
        Method::POST,
        "/v1/volumes/pgdata/acquire",
        Some(json!({ "workloads": [
            { "container_name": "db", "repo_digests": [format!("postgres@{DIGEST_A}")] },
        ] })),
    );
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(allowed.body["volume"]["holder"], format!("node:{node_two}"));

    // Tokens keep their role's rights: an operator is not a workload.
    let release = as_node(
        &server,
        &two,
        Method::POST,
        "/v1/volumes/pgdata/release",
        None,
    );
    assert_eq!(release.status, 200, "{}", release.body);
    let by_admin = admin(&server, Method::POST, "/v1/volumes/pgdata/acquire", None);
    assert_eq!(by_admin.status, 200, "{}", by_admin.body);

    let node = format!("node:{node_two}");
    assert!(audited(&server, "policy.decide", &node, "ok"));
    assert!(audited(&server, "policy.decide", &node, "policy_denied"));
    assert!(audited(&server, "volume.acquire", &node, "policy_denied"));
}

#[test]
fn secrets_reach_a_node_only_once_a_policy_grants_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let dir_eu = dir.path().join("eu");
    let dir_us = dir.path().join("us");
    let node_eu = join(&server, &["--label", "zone=eu"], &dir_eu);
    let node_us = join(&server, &[], &dir_us);
    let eu = node_client(&dir_eu);
    let us = node_client(&dir_us);

    let shown = server.cli(&["node", "show", &node_eu]);
    assert!(shown.status.success(), "{}", text(&shown));
    assert!(text(&shown).contains("zone=eu"), "{}", text(&shown));

    let value = "s3cr3t-value";
    let secret = admin(
        &server,
        Method::POST,
        "/v1/secrets",
        Some(json!({ "name": "db-password", "value": base64_encode(value.as_bytes()) })),
    );
    assert_eq!(secret.status, 201, "{}", secret.body);
    let workloads = json!({ "workloads": [{ "container_name": "app", "image_digest": DIGEST_A }] });
    let deliver = "/v1/secrets/db-password/deliver";

    // Deny by default: no policy names the secret.
    let refused = as_node(&server, &eu, Method::POST, deliver, Some(workloads.clone()));
    assert_refused(
        &refused,
        403,
        "policy_denied",
        "no policy names secret 'db-password'",
    );
    // Nor can a node read the value directly, around the policies.
    let secret_id = secret.body["id"].as_str().unwrap();
    for path in [
        "/v1/secrets/db-password/value".to_owned(),
        format!("/v1/keys/{secret_id}/material"),
    ] {
        let direct = as_node(&server, &eu, Method::GET, &path, None);
        assert_refused(&direct, 403, "forbidden", "where policies decide");
    }
    // Only nodes receive secrets this way.
    let by_admin = admin(&server, Method::POST, deliver, Some(workloads.clone()));
    assert_eq!(by_admin.status, 403, "{}", by_admin.body);
    assert_eq!(by_admin.code(), "forbidden");

    let policy = create_policy(
        &server,
        json!({
            "name": "eu-app",
            "subject": { "image_digests": [DIGEST_A], "node_labels": { "zone": "eu" } },
            "secrets": ["db-password"],
        }),
    );
    assert_eq!(policy.status, 201, "{}", policy.body);
    let delivered = as_node(&server, &eu, Method::POST, deliver, Some(workloads.clone()));
    assert_eq!(delivered.status, 200, "{}", delivered.body);
    assert_eq!(delivered.body["value"], base64_encode(value.as_bytes()));
    let other_image =
        json!({ "workloads": [{ "container_name": "app", "image_digest": DIGEST_B }] });
    let refused = as_node(&server, &eu, Method::POST, deliver, Some(other_image));
    assert_eq!(refused.status, 403, "{}", refused.body);

    // The US node gets it once it carries the label.
    let refused = as_node(&server, &us, Method::POST, deliver, Some(workloads.clone()));
    assert_refused(&refused, 403, "policy_denied", "the node has no label zone");
    let labelled = server.cli(&["node", "label", &node_us, "zone=eu", "--json"]);
    assert!(labelled.status.success(), "{}", text(&labelled));
    let listed = server.cli(&["node", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let row = listed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["id"] == node_us.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["labels"], json!({ "zone": "eu" }));
    let delivered = as_node(&server, &us, Method::POST, deliver, Some(workloads.clone()));
    assert_eq!(delivered.status, 200, "{}", delivered.body);

    // `policy check` explains both outcomes, with distinct exit codes.
    let check = |digest: &str, exit: i32, says: &str| {
        let output = server.cli(&[
            "policy",
            "check",
            "--secret",
            "db-password",
            "--node",
            &node_us,
            "--image-digest",
            digest,
        ]);
        assert_eq!(output.status.code(), Some(exit), "{}", text(&output));
        assert!(text(&output).contains(says), "{}", text(&output));
    };
    check(
        DIGEST_A,
        0,
        "ALLOWED: policy 'eu-app' grants secret 'db-password'",
    );
    check(
        DIGEST_B,
        4,
        &format!(
            "REFUSED: policy 'eu-app' names secret 'db-password', but image digest {DIGEST_B} is not one of"
        ),
    );
    let removed_label = server.cli(&["node", "label", &node_us, "--remove", "zone"]);
    assert!(removed_label.status.success(), "{}", text(&removed_label));
    let refused = as_node(&server, &us, Method::POST, deliver, Some(workloads.clone()));
    assert_eq!(refused.status, 403, "{}", refused.body);

    let node = format!("node:{node_eu}");
    assert!(audited(&server, "secret.read", &node, "ok"));
    assert!(audited(&server, "secret.read", &node, "policy_denied"));
    assert!(audited(&server, "policy.decide", &node, "policy_denied"));

    // A decommissioned node gets nothing, whatever the policies say.
    let decommissioned = server.cli(&["node", "decommission", &node_eu]);
    assert!(decommissioned.status.success(), "{}", text(&decommissioned));
    let fresh = node_client(&dir_eu);
    let answer = runtime().block_on(async {
        fresh
            .post(format!("{}{deliver}", server.addr))
            .json(&workloads)
            .send()
            .await
    });
    match answer {
        Err(_) => {}
        Ok(response) => assert_eq!(response.status().as_u16(), 401),
    }
}

#[test]
fn policy_cli_creates_lists_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let created = server.cli(&[
        "policy",
        "create",
        "web",
        "--secret",
        "api-key",
        "--image",
        "nginx:1.27",
        "--container-label",
        "tier=front",
        "--json",
    ]);
    assert!(created.status.success(), "{}", text(&created));
    let policy: Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(policy["subject"]["images"], json!(["nginx:1.27"]));
    assert_eq!(
        policy["subject"]["container_labels"],
        json!({ "tier": "front" })
    );

    let empty = server.cli(&["policy", "create", "nobody", "--secret", "api-key"]);
    assert_eq!(empty.status.code(), Some(1), "{}", text(&empty));
    assert!(
        text(&empty).contains("selects every workload"),
        "{}",
        text(&empty)
    );

    let listed = server.cli(&["policy", "list"]);
    assert!(listed.status.success(), "{}", text(&listed));
    assert!(text(&listed).contains("web"), "{}", text(&listed));
    let check = server.cli(&["policy", "check", "--secret", "api-key", "--image", "nginx"]);
    assert_eq!(check.status.code(), Some(4), "{}", text(&check));
    assert!(text(&check).contains("REFUSED"), "{}", text(&check));
    let neither = server.cli(&["policy", "check", "--image", "nginx"]);
    assert_eq!(neither.status.code(), Some(2), "{}", text(&neither));

    let removed = server.cli(&["policy", "rm", "web"]);
    assert!(removed.status.success(), "{}", text(&removed));
    let shown = server.cli(&["policy", "show", "web"]);
    assert_eq!(shown.status.code(), Some(1), "{}", text(&shown));
    assert!(text(&shown).contains("no policy 'web'"), "{}", text(&shown));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
