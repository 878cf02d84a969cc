//! Durability and secrecy of what the server stores: SIGKILL loses no acknowledged
//! write, the database never holds plaintext key material or tokens, the audit
//! chain names the first tampered record, and the Shamir seal works end to end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // In tests a panic is the failure report.

mod server_support;

use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::json;
use server_support::{TestServer, free_port};

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_dev(dir.path());
    let client = server.client();
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();

    // Eight writers create keys as fast as they can; each records a key only once
    // the server has answered 201.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let client = client.clone();
        let url = format!("{}/v1/keys", server.addr);
        let token = server.token.clone();
        let acknowledged = Arc::clone(&acknowledged);
        let stop = Arc::clone(&stop);
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let name = format!("w{writer}-{n}");
                let sent = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"name": name}))
                    .send()
                    .await;
                if let Ok(response) = sent {
                    if response.status().as_u16() == 201 {
                        if let Ok(body) = response.json::<serde_json::Value>().await {
                            let id = body["id"].as_str().unwrap_or_default().to_owned();
                            acknowledged.lock().unwrap().push((id, name));
                        }
                    }
                } else {
                    break;
                }
            }
        }));
    }
    // Let a few hundred writes land, then kill mid-stream.
    while acknowledged.lock().unwrap().len() < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        let _ = writer.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 300);

    let server = TestServer::start_dev(dir.path());
    let client = server.client();
    let token = Some(server.token.as_str());
    for (id, name) in &acknowledged {
        let answer = server
            .get(&client, &format!("/v1/keys/{id}/material"), token)
            .await;
        assert_eq!(
            answer.status, 200,
            "acknowledged key {name} ({id}) lost after SIGKILL: {}",
            answer.body
        );
    }
    // The audit chain survived the kill intact.
    let verify = server.post(&client, "/v1/audit/verify", token, None).await;
    assert_eq!(verify.body["ok"], true, "{}", verify.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_never_holds_plaintext_material_or_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_dev(dir.path());
    let client = server.client();
    let token = Some(server.token.as_str());
    let mut secrets = Vec::new();
    for n in 0..20 {
        let created = server
            .post(
                &client,
                "/v1/keys",
                token,
                Some(json!({"name": format!("k{n}"), "algorithm": "aes-256"})),
            )
            .await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let material = server
            .get(&client, &format!("/v1/keys/{id}/material"), token)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(material.body["material"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes.len(), 32);
        secrets.push(bytes);
    }
    let minted = server
        .post(
            &client,
            "/v1/auth/tokens",
            token,
            Some(json!({"role": "auditor", "tenants": ["*"]})),
        )
        .await;
    let minted = minted.body["token"].as_str().unwrap().to_owned();
    // Scan while running (WAL present) and after a clean stop.
    for phase in ["running", "stopped"] {
        if phase == "stopped" {
            server.stop();
        }
        for file in files_under(dir.path()) {
            if file
                .file_name()
                .is_some_and(|name| name == "dev.env" || name == "dev-unseal.key")
            {
                continue; // Development conveniences, documented as such.
            }
            let contents = std::fs::read(&file).unwrap();
            for secret in &secrets {
                assert!(
                    !contains(&contents, secret),
                    "{phase}: plaintext key material in {}",
                    file.display()
                );
                assert!(
                    !contains(
                        &contents,
                        base64::engine::general_purpose::STANDARD
                            .encode(secret)
                            .as_bytes()
                    ),
                    "{phase}: base64 key material in {}",
                    file.display()
                );
            }
            assert!(
                !contains(&contents, minted.as_bytes()),
                "{phase}: token secret in {}",
                file.display()
            );
        }
    }
}

fn sqlite(path: &std::path::Path, sql: &str) {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection.execute_batch(sql).unwrap();
}

/// Runs `tamper` on the database of a stopped server with some history, restarts
/// it and returns the verify answer.
async fn verify_after(tamper: impl FnOnce(&std::path::Path)) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_dev(dir.path());
    let client = server.client();
    let token = Some(server.token.as_str());
    for n in 0..30 {
        server
            .post(
                &client,
                "/v1/keys",
                token,
                Some(json!({"name": format!("a{n}")})),
            )
            .await;
    }
    let clean = server.post(&client, "/v1/audit/verify", token, None).await;
    assert_eq!(clean.body["ok"], true, "{}", clean.body);
    server.stop();
    tamper(&dir.path().join("cryptainer.audit.db"));
    let server = TestServer::start_dev(dir.path());
    let client = server.client();
    server
        .post(
            &client,
            "/v1/audit/verify",
            Some(server.token.as_str()),
            None,
        )
        .await
        .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_first_altered_record() {
    let report = verify_after(|db| sqlite(db,
        "UPDATE audit SET record = replace(record, '\"key.create\"', '\"key.show\"') WHERE seq = 12")).await;
    assert_eq!(report["ok"], false);
    let message = report["message"].as_str().unwrap();
    assert!(message.contains("12"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_a_removed_record() {
    let report = verify_after(|db| sqlite(db, "DELETE FROM audit WHERE seq = 9")).await;
    assert_eq!(report["ok"], false);
    let message = report["message"].as_str().unwrap();
    assert!(message.contains('9'), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_detects_truncation() {
    // The last two records (the verify before the stop, and the stop) change
    // nothing, so the server starts (a log cut below the last change is
    // refused at open, see the keystore's audit_log tests) and the checkpoint
    // signed at the stop names the loss.
    let report = verify_after(|db| {
        sqlite(
            db,
            "DELETE FROM audit WHERE seq > (SELECT max(seq) - 2 FROM audit)",
        )
    })
    .await;
    assert_eq!(report["ok"], false, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shamir_seal_end_to_end_with_root_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = TestServer::start_minimal_config(dir.path(), port);
    let client = server.client();

    let status = server.get(&client, "/v1/sys/status", None).await;
    assert_eq!(status.body["initialized"], false);
    let early = server.get(&client, "/v1/keys", None).await;
    assert_eq!((early.status, early.code()), (503, "not_initialized"));
    let bad = server
        .post(
            &client,
            "/v1/sys/init",
            None,
            Some(json!({"shares": 3, "threshold": 5})),
        )
        .await;
    assert_eq!(bad.status, 400);

    let init = server
        .post(
            &client,
            "/v1/sys/init",
            None,
            Some(json!({"shares": 5, "threshold": 3})),
        )
        .await;
    assert_eq!(init.status, 200, "{}", init.body);
    let shares: Vec<String> = init.body["unseal_shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|share| share.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shares.len(), 5);
    let root = init.body["root_token"].as_str().unwrap().to_owned();
    let again = server
        .post(
            &client,
            "/v1/sys/init",
            None,
            Some(json!({"shares": 1, "threshold": 1})),
        )
        .await;
    assert_eq!(again.status, 409);

    let unseal = |share: String| {
        let client = client.clone();
        let server = &server;
        async move {
            server
                .post(
                    &client,
                    "/v1/sys/unseal",
                    None,
                    Some(json!({"share": share})),
                )
                .await
        }
    };
    // A mistyped share is refused on its own, with no progress made.
    let mut typo = shares[0].clone();
    let last = typo.pop().unwrap();
    typo.push(if last == 'A' { 'B' } else { 'A' });
    let refused = unseal(typo).await;
    assert!(
        refused.status == 400 || refused.status == 422,
        "{}",
        refused.body
    );
    let one = unseal(shares[0].clone()).await;
    assert_eq!(
        (one.body["sealed"].clone(), one.body["progress"].clone()),
        (json!(true), json!(1))
    );
    let duplicate = unseal(shares[0].clone()).await;
    assert_eq!(duplicate.status, 400, "{}", duplicate.body);
    unseal(shares[2].clone()).await;
    let done = unseal(shares[4].clone()).await;
    assert_eq!(done.body["sealed"], false, "{}", done.body);

    let created = server
        .post(
            &client,
            "/v1/keys",
            Some(&root),
            Some(json!({"name": "survivor"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let before = server
        .get(&client, "/v1/keys/survivor/material", Some(&root))
        .await;
    let rotated = server
        .post(&client, "/v1/sys/rotate-root", Some(&root), None)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let tenant = server
        .post(&client, "/v1/tenants/default/rotate-key", Some(&root), None)
        .await;
    assert_eq!(tenant.body["key_version"], 2, "{}", tenant.body);
    server.stop();

    // After a restart the server is sealed; another three shares open it, and the
    // key material is unchanged by both rotations.
    let config = dir.path().join("server.toml");
    let server = TestServer::start_config(&config, dir.path(), port);
    let client = server.client();
    for share in [&shares[1], &shares[3], &shares[0]] {
        server
            .post(
                &client,
                "/v1/sys/unseal",
                None,
                Some(json!({"share": share})),
            )
            .await;
    }
    let after = server
        .get(&client, "/v1/keys/survivor/material", Some(&root))
        .await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body["material"], before.body["material"]);
    let verify = server
        .post(&client, "/v1/audit/verify", Some(&root), None)
        .await;
    assert_eq!(verify.body["ok"], true, "{}", verify.body);
}
