//! The HTTPS API end to end against the real server: key life cycle, tokens and
//! roles, tenant isolation, and precise errors for bad input.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_life_cycle_follows_the_kmip_state_machine() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());
    let client = server.client();
    let token = Some(server.token.as_str());

    let created = server
        .post(
            &client,
            "/v1/keys",
            token,
            Some(json!({"name": "db", "algorithm": "aes-128", "labels": {"app": "pg"}})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["state"], "active");
    assert_eq!(created.body["length"], 128);
    assert_eq!(created.body["labels"]["app"], "pg");
    let id = created.body["id"].as_str().unwrap().to_owned();

    // By name and by id.
    let by_name = server.get(&client, "/v1/keys/db", token).await;
    assert_eq!(by_name.body["id"], id.as_str());

    let first = server
        .get(&client, &format!("/v1/keys/{id}/material"), token)
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["version"], 1);
    let first_material = first.body["material"].as_str().unwrap().to_owned();
    assert_eq!(base64_len(&first_material), 16);

    let rotated = server
        .post(&client, "/v1/keys/db/rotate", token, None)
        .await;
    assert_eq!(rotated.body["version"], 2);
    let second = server.get(&client, "/v1/keys/db/material", token).await;
    assert_ne!(second.body["material"], first_material.as_str());
    let old = server
        .get(&client, "/v1/keys/db/material?version=1", token)
        .await;
    assert_eq!(
        old.body["material"],
        first_material.as_str(),
        "rotation keeps old versions"
    );

    // A name is unique among live objects.
    let clash = server
        .post(&client, "/v1/keys", token, Some(json!({"name": "db"})))
        .await;
    assert_eq!((clash.status, clash.code()), (409, "conflict"));

    // Destroying an active key is refused; revoke first.
    let refused = server.delete(&client, "/v1/keys/db", token).await;
    assert_eq!((refused.status, refused.code()), (409, "conflict"));
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoke")
    );
    let revoked = server
        .post(
            &client,
            "/v1/keys/db/revoke",
            token,
            Some(json!({"reason": "superseded"})),
        )
        .await;
    assert_eq!(revoked.body["state"], "deactivated");
    let destroyed = server
        .delete(&client, &format!("/v1/keys/{id}"), token)
        .await;
    assert_eq!(destroyed.body["state"], "destroyed");
    assert!(destroyed.body["destroy_date"].is_string());

    // The tombstone stays; the material is gone; the name is free again.
    let tombstone = server.get(&client, &format!("/v1/keys/{id}"), token).await;
    assert_eq!(tombstone.body["state"], "destroyed");
    let gone = server
        .get(&client, &format!("/v1/keys/{id}/material"), token)
        .await;
    assert_eq!((gone.status, gone.code()), (409, "conflict"));
    let again = server
        .post(&client, "/v1/keys", token, Some(json!({"name": "db"})))
        .await;
    assert_eq!(again.status, 201);

    let listed = server.get(&client, "/v1/keys?state=destroyed", token).await;
    assert_eq!(listed.body["total"], 1);
}

fn base64_len(text: &str) -> usize {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_tenants_deny_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());
    let client = server.client();
    let admin = Some(server.token.as_str());

    let make = |role: &'static str, tenants: serde_json::Value| {
        let client = client.clone();
        let server = &server;
        async move {
            let answer = server
                .post(
                    &client,
                    "/v1/auth/tokens",
                    admin,
                    Some(json!({"role": role, "tenants": tenants, "ttl_secs": 3600})),
                )
                .await;
            assert_eq!(answer.status, 201, "{}", answer.body);
            (
                answer.body["token"].as_str().unwrap().to_owned(),
                answer.body["id"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (tenant_a, _) = make("operator", json!(["tenant-a"])).await;
    let (tenant_b, tenant_b_id) = make("operator", json!(["tenant-b"])).await;
    let (auditor, _) = make("auditor", json!(["*"])).await;

    let secret = server
        .post(
            &client,
            "/v1/keys",
            Some(&tenant_a),
            Some(json!({"name": "a-secret"})),
        )
        .await;
    assert_eq!(secret.body["tenant"], "tenant-a");
    let id = secret.body["id"].as_str().unwrap().to_owned();

    // Tenant B learns nothing: not found by id, by name, or in lists.
    for path in [
        format!("/v1/keys/{id}"),
        format!("/v1/keys/{id}/material"),
        "/v1/keys/a-secret?tenant=tenant-a".to_owned(),
    ] {
        let answer = server.get(&client, &path, Some(&tenant_b)).await;
        assert_eq!((answer.status, answer.code()), (404, "not_found"), "{path}");
    }
    let listed = server
        .get(&client, "/v1/keys?tenant=tenant-a", Some(&tenant_b))
        .await;
    assert_eq!(listed.body["total"], 0);
    let creating = server
        .post(
            &client,
            "/v1/keys",
            Some(&tenant_b),
            Some(json!({"name": "x", "tenant": "tenant-a"})),
        )
        .await;
    assert_eq!(creating.status, 403);

    // The auditor sees metadata, never material, and cannot change anything.
    let meta = server
        .get(&client, &format!("/v1/keys/{id}"), Some(&auditor))
        .await;
    assert_eq!(meta.status, 200);
    let material = server
        .get(&client, &format!("/v1/keys/{id}/material"), Some(&auditor))
        .await;
    assert_eq!((material.status, material.code()), (403, "forbidden"));
    let create = server
        .post(
            &client,
            "/v1/keys",
            Some(&auditor),
            Some(json!({"name": "y"})),
        )
        .await;
    assert_eq!(create.status, 403);
    // Operators cannot make tokens or seal.
    let escalate = server
        .post(
            &client,
            "/v1/auth/tokens",
            Some(&tenant_a),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(escalate.status, 403);
    let seal = server
        .post(&client, "/v1/sys/seal", Some(&tenant_a), None)
        .await;
    assert_eq!(seal.status, 403);

    // A revoked token stops working at once.
    let revoked = server
        .delete(&client, &format!("/v1/auth/tokens/{tenant_b_id}"), admin)
        .await;
    assert!(revoked.body["revoked_at"].is_string());
    let after = server.get(&client, "/v1/keys", Some(&tenant_b)).await;
    assert_eq!((after.status, after.code()), (401, "unauthenticated"));
    assert!(
        after.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_precise_errors_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());
    let client = server.client();
    let token = Some(server.token.as_str());

    let kept = server
        .post(&client, "/v1/keys", token, Some(json!({"name": "kept"})))
        .await;
    let kept_material = server.get(&client, "/v1/keys/kept/material", token).await;

    let raw = |body: &'static [u8], content_type: &'static str| {
        let client = client.clone();
        let url = format!("{}/v1/keys", server.addr);
        let token = server.token.clone();
        async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body.to_vec())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (
                status,
                body["error"]["code"].as_str().unwrap_or("").to_owned(),
                body,
            )
        }
    };
    let (status, code, _) = raw(b"{\"name\": ", "application/json").await;
    assert_eq!((status, code.as_str()), (400, "bad_request"));
    let (status, code, body) = raw(b"{\"name\": 5}", "application/json").await;
    assert_eq!((status, code.as_str()), (400, "bad_request"));
    assert!(
        body["error"]["message"].as_str().unwrap().contains("name"),
        "{body}"
    );
    let (status, code, body) = raw(b"{\"name\": \"x\", \"colour\": 1}", "application/json").await;
    assert_eq!((status, code.as_str()), (400, "bad_request"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{body}"
    );
    let (status, code, _) = raw(b"name=x", "application/x-www-form-urlencoded").await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));
    let (status, code, _) = raw(b"{\"name\": \"bad name!\"}", "application/json").await;
    assert_eq!((status, code.as_str()), (400, "bad_request"));
    let (status, code, _) = raw(
        b"{\"name\": \"k\", \"algorithm\": \"des\"}",
        "application/json",
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "bad_request"));

    let huge = format!("{{\"name\": \"{}\"}}", "a".repeat(200_000));
    let response = client
        .post(format!("{}/v1/keys", server.addr))
        .bearer_auth(&server.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");

    let unknown = server
        .get(
            &client,
            "/v1/keys/00000000-0000-4000-8000-000000000000",
            token,
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    let no_route = server.get(&client, "/v1/nothing", token).await;
    assert_eq!(no_route.status, 404);
    let bad_query = server.get(&client, "/v1/keys?limit=many", token).await;
    assert_eq!((bad_query.status, bad_query.code()), (400, "bad_request"));

    for bad in [
        "",
        "Bearer nope",
        "Basic abc",
        "Bearer cpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let response = client
            .get(format!("{}/v1/keys", server.addr))
            .header("authorization", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{bad:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }

    // An expired token: one second of life.
    let short = server
        .post(
            &client,
            "/v1/auth/tokens",
            token,
            Some(json!({"role": "operator", "ttl_secs": 1})),
        )
        .await;
    let short = short.body["token"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let expired = server.get(&client, "/v1/keys", Some(&short)).await;
    assert_eq!(expired.status, 401);
    assert!(
        expired.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    // Nothing was lost: the key made first is intact.
    let check = server.get(&client, "/v1/keys/kept/material", token).await;
    assert_eq!(check.body["material"], kept_material.body["material"]);
    assert_eq!(kept.status, 201);
    let health = server.get(&client, "/v1/sys/health", None).await;
    assert_eq!(health.status, 200);
    let metrics = server.metrics(&client).await;
    assert!(
        metrics
            .contains("cryptainer_requests_total{operation=\"key.create\",code=\"bad_request\"}")
    );
    let openapi = server.get(&client, "/v1/openapi.json", None).await;
    assert_eq!(openapi.body["openapi"], "3.1.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_server_answers_only_status_and_unseal() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());
    let client = server.client();
    let token = Some(server.token.as_str());
    server
        .post(&client, "/v1/keys", token, Some(json!({"name": "k"})))
        .await;

    let sealed = server.post(&client, "/v1/sys/seal", token, None).await;
    assert_eq!(sealed.body["sealed"], true);
    for (method, path) in [
        (Method::GET, "/v1/keys"),
        (Method::GET, "/v1/keys/k/material"),
        (Method::POST, "/v1/sys/rotate-root"),
        (Method::GET, "/v1/audit/records"),
    ] {
        let answer = request(&client, &server, method, path, token, None).await;
        assert_eq!((answer.status, answer.code()), (503, "sealed"), "{path}");
    }
    let ready = server.get(&client, "/v1/sys/ready", None).await;
    assert_eq!(ready.status, 503);
    let status = server.get(&client, "/v1/sys/status", None).await;
    assert_eq!(status.body["sealed"], true);
    assert_eq!(status.body["seal"], "passphrase");

    let wrong = server
        .post(
            &client,
            "/v1/sys/unseal",
            None,
            Some(json!({"passphrase": "definitely not the passphrase"})),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (422, "wrong_unseal_material"));
    let both = server
        .post(
            &client,
            "/v1/sys/unseal",
            None,
            Some(json!({"passphrase": "x", "share": "y"})),
        )
        .await;
    assert_eq!(both.status, 400);

    let passphrase = std::fs::read_to_string(dir.path().join("dev-unseal.key")).unwrap();
    let unsealed = server
        .post(
            &client,
            "/v1/sys/unseal",
            None,
            Some(json!({"passphrase": passphrase})),
        )
        .await;
    assert_eq!(unsealed.body["sealed"], false, "{}", unsealed.body);
    let material = server.get(&client, "/v1/keys/k/material", token).await;
    assert_eq!(material.status, 200);
}
