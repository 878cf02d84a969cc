//! The web console's server side against the real server, without a
//! browser: sign-in and its cookie, the headers every page carries, what a
//! session may never reach, CSRF, roles, the fleet views fed by real node
//! requests (releases, refusals, liveness reports), and the event stream's
//! replay after a dropped connection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // In tests a panic is the failure report.

mod server_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use server_support::{TestServer, binary, node_client, request, runtime};

/// A signed-in console: the session cookie and the CSRF token.
struct Session {
    cookie: String,
    csrf: String,
    answer: Value,
}

/// Signs in with `token`; fails the test unless it succeeds.
async fn sign_in(client: &reqwest::Client, server: &TestServer, token: &str) -> Session {
    let response = client
        .post(format!("{}/v1/console/session", server.addr))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer: Value = response.json().await.unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    Session {
        cookie,
        csrf: answer["csrf_token"].as_str().unwrap().to_owned(),
        answer,
    }
}

/// A console request: the session's cookie, and `csrf` as the CSRF header.
async fn call(
    client: &reqwest::Client,
    server: &TestServer,
    session: &Session,
    method: Method,
    path: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut builder = client
        .request(method, format!("{}{path}", server.addr))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "same-origin");
    if let Some(csrf) = csrf {
        builder = builder.header("x-csrf-token", csrf);
    }
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    let response = builder.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `cryptainer ...` against `server`, expected to succeed; its JSON answer.
fn cli_json(server: &TestServer, args: &[&str]) -> Value {
    let output = server.cli(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// A token of `role` for every tenant.
fn token(server: &TestServer, role: &str) -> Value {
    cli_json(
        server,
        &["token", "create", "--role", role, "--tenant", "*", "--json"],
    )
}

/// Joins a node named `name` (no agent runs): its data directory and id.
fn join(server: &TestServer, dir: &Path, name: &str) -> (PathBuf, String) {
    let created = cli_json(server, &["node", "token", "create", "--json"]);
    let data_dir = dir.join(name);
    let output = Command::new(binary())
        .args(["agent", "join", "--server", &server.addr, "--token"])
        .arg(created["token"].as_str().unwrap())
        .args(["--name", name, "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let state: Value =
        serde_json::from_slice(&std::fs::read(data_dir.join("node.json")).unwrap()).unwrap();
    (data_dir, state["node_id"].as_str().unwrap().to_owned())
}

#[test]
fn signing_in_sets_a_guarded_cookie_and_every_page_carries_a_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let client = server.client();
    runtime().block_on(async {
        let page = client
            .get(format!("{}/ui/", server.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        assert_eq!(page.headers()["x-content-type-options"], "nosniff");
        let html = page.text().await.unwrap();
        assert!(html.contains("/ui/assets/app.js"), "{html}");

        let refused = client
            .post(format!("{}/v1/console/session", server.addr))
            .json(&json!({ "token": "cpt_not-a-token" }))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
        assert!(refused.headers().get("set-cookie").is_none());

        let response = client
            .post(format!("{}/v1/console/session", server.addr))
            .json(&json!({ "token": server.token }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let set_cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set_cookie.starts_with("__Host-cryptainer-session="),
            "{set_cookie}"
        );
        for guard in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=1800",
        ] {
            assert!(set_cookie.contains(guard), "{set_cookie}");
        }
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["role"], "admin");
        assert!(
            answer["may"]
                .as_array()
                .unwrap()
                .contains(&json!("decommission"))
        );
        // The token itself never comes back.
        assert!(!answer.to_string().contains(&server.token));
    });
}

#[test]
fn a_session_never_reaches_material_and_acts_only_with_its_csrf_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let client = server.client();
    let value = "console-must-never-see-this";
    let encoded = base64::engine::general_purpose::STANDARD.encode(value);
    let (_node_dir, node_id) = join(&server, dir.path(), "host-a");
    runtime().block_on(async {
        let admin = Some(server.token.as_str());
        let created = request(
            &client,
            &server,
            Method::POST,
            "/v1/secrets",
            admin,
            Some(json!({"name": "db-password", "value": encoded})),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.body);
        request(
            &client,
            &server,
            Method::POST,
            "/v1/keys",
            admin,
            Some(json!({"name": "pgkey"})),
        )
        .await;
        let session = sign_in(&client, &server, &server.token).await;
        let csrf = Some(session.csrf.as_str());
        for path in ["/v1/keys/pgkey/material", "/v1/secrets/db-password/value"] {
            let (status, body) =
                call(&client, &server, &session, Method::GET, path, csrf, None).await;
            assert_eq!(status, 401, "{path}: {body}");
        }
        let (status, _) = call(
            &client,
            &server,
            &session,
            Method::POST,
            "/v1/auth/tokens",
            csrf,
            Some(json!({"role": "admin"})),
        )
        .await;
        assert_eq!(status, 401);
        for view in [
            "overview",
            "objects",
            "nodes",
            "workloads",
            "volumes",
            "policies",
            "audit",
        ] {
            let (status, body) = call(
                &client,
                &server,
                &session,
                Method::GET,
                &format!("/v1/fleet/{view}"),
                None,
                None,
            )
            .await;
            assert_eq!(status, 200, "{view}: {body}");
            let text = body.to_string();
            assert!(!text.contains(value) && !text.contains(&encoded), "{view}");
        }

        let decommission = format!("/v1/nodes/{node_id}/decommission");
        let body = Some(json!({"shred": false}));
        let (status, answer) = call(
            &client,
            &server,
            &session,
            Method::POST,
            &decommission,
            None,
            body.clone(),
        )
        .await;
        assert_eq!(status, 403, "{answer}");
        assert!(answer.to_string().contains("CSRF"), "{answer}");
        let wrong = "x".repeat(43);
        let (status, _) = call(
            &client,
            &server,
            &session,
            Method::POST,
            &decommission,
            Some(&wrong),
            body.clone(),
        )
        .await;
        assert_eq!(status, 403);
        let cross_site = client
            .post(format!("{}{decommission}", server.addr))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .header("sec-fetch-site", "cross-site")
            .json(&json!({"shred": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), 403);
        let shown = request(
            &client,
            &server,
            Method::GET,
            &format!("/v1/nodes/{node_id}"),
            admin,
            None,
        )
        .await;
        assert_eq!(shown.body["state"], "active");

        let (status, answer) = call(
            &client,
            &server,
            &session,
            Method::POST,
            &decommission,
            csrf,
            body,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["node"]["state"], "decommissioned");
    });
}

#[test]
fn an_auditor_reads_the_whole_fleet_and_is_refused_every_action() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let client = server.client();
    let (_node_dir, node_id) = join(&server, dir.path(), "host-b");
    let auditor = token(&server, "auditor");
    runtime().block_on(async {
        let session = sign_in(&client, &server, auditor["token"].as_str().unwrap()).await;
        assert_eq!(session.answer["role"], "auditor");
        let may = session.answer["may"].as_array().unwrap();
        assert!(!may.contains(&json!("decommission")), "{may:?}");
        assert!(may.contains(&json!("audit")), "{may:?}");
        let (status, nodes) = call(
            &client,
            &server,
            &session,
            Method::GET,
            "/v1/fleet/nodes",
            None,
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(nodes["nodes"][0]["id"], node_id.as_str());
        let (status, answer) = call(
            &client,
            &server,
            &session,
            Method::POST,
            &format!("/v1/nodes/{node_id}/decommission"),
            Some(&session.csrf),
            Some(json!({"shred": false})),
        )
        .await;
        assert_eq!(status, 403, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("auditor"),
            "{answer}"
        );
        let (status, verified) = call(
            &client,
            &server,
            &session,
            Method::POST,
            "/v1/audit/verify",
            Some(&session.csrf),
            None,
        )
        .await;
        assert_eq!(status, 200, "{verified}");
        assert_eq!(verified["ok"], true);
        let (_, nodes) = call(
            &client,
            &server,
            &session,
            Method::GET,
            "/v1/fleet/nodes",
            None,
            None,
        )
        .await;
        assert_eq!(nodes["nodes"][0]["state"], "active");

        // Revoking the token ends its sessions at once.
        let revoked = request(
            &client,
            &server,
            Method::DELETE,
            &format!("/v1/auth/tokens/{}", auditor["id"].as_str().unwrap()),
            Some(&server.token),
            None,
        )
        .await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
        let (status, _) = call(
            &client,
            &server,
            &session,
            Method::GET,
            "/v1/fleet/overview",
            None,
            None,
        )
        .await;
        assert_eq!(status, 401);
    });
}

/// Reads the event stream until one whole event (ending in a blank line)
/// has come; returns its `event`, `id` and `data` fields.
async fn next_event(
    response: &mut reqwest::Response,
    buffer: &mut String,
) -> (String, String, String) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(&format!("{name}:")))
                    .map(|value| value.trim().to_owned())
                    .unwrap_or_default()
            };
            if block
                .lines()
                .all(|line| line.starts_with(':') || line.is_empty())
            {
                continue; // A keep-alive comment.
            }
            return (field("event"), field("id"), field("data"));
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), response.chunk())
            .await
            .expect("an event within a minute")
            .unwrap()
            .expect("the stream is open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Reads events until a change names `topic`; returns its id.
async fn until_change(
    response: &mut reqwest::Response,
    buffer: &mut String,
    topic: &str,
) -> String {
    loop {
        let (event, id, data) = next_event(response, buffer).await;
        if (event == "change" && data.contains(topic)) || event == "reset" {
            assert_eq!(event, "change", "{data}");
            return id;
        }
    }
}

async fn open_stream(
    client: &reqwest::Client,
    server: &TestServer,
    session: &Session,
    last_event_id: Option<&str>,
) -> reqwest::Response {
    let mut builder = client
        .get(format!("{}/v1/console/events", server.addr))
        .header("cookie", &session.cookie);
    if let Some(id) = last_event_id {
        builder = builder.header("last-event-id", id);
    }
    let response = builder.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    response
}

#[test]
fn the_event_stream_replays_what_a_reconnecting_console_missed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let client = server.client();
    runtime().block_on(async {
        let session = sign_in(&client, &server, &server.token).await;
        let mut buffer = String::new();
        let mut stream = open_stream(&client, &server, &session, None).await;
        let (event, first_id, _) = next_event(&mut stream, &mut buffer).await;
        assert_eq!(event, "hello");
        let policy = json!({"name": "app", "subject": {"images": ["app"]}, "secrets": ["s"]});
        let created = request(
            &client,
            &server,
            Method::POST,
            "/v1/policies",
            Some(&server.token),
            Some(policy),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let seen_id = until_change(&mut stream, &mut buffer, "policies").await;
        assert_ne!(seen_id, first_id);
        drop(stream);

        // While no stream is open, a volume is made.
        let volume = json!({"name": "pgdata", "size_bytes": 1u64 << 30});
        let made = request(
            &client,
            &server,
            Method::POST,
            "/v1/volumes",
            Some(&server.token),
            Some(volume),
        )
        .await;
        assert_eq!(made.status, 201, "{}", made.body);
        // The change is numbered at the next flush (twice a second): wait
        // for it on a stream of its own.
        let mut watcher = open_stream(&client, &server, &session, Some(&seen_id)).await;
        let mut watch_buffer = String::new();
        until_change(&mut watcher, &mut watch_buffer, "volumes").await;
        drop(watcher);
        // A console that comes back with the id it last saw is told what
        // it missed.
        let mut resumed = open_stream(&client, &server, &session, Some(&seen_id)).await;
        let mut resumed_buffer = String::new();
        let (event, _, data) = next_event(&mut resumed, &mut resumed_buffer).await;
        assert_eq!(event, "change");
        assert!(
            data.contains("volumes") && !data.contains("policies"),
            "{data}"
        );
        // An id it cannot replay from (another server process): refresh all.
        let mut reset = open_stream(&client, &server, &session, Some("0000.1")).await;
        let mut reset_buffer = String::new();
        let (event, _, _) = next_event(&mut reset, &mut reset_buffer).await;
        assert_eq!(event, "reset");
    });
}

#[test]
fn the_fleet_views_show_releases_refusals_and_what_nodes_report() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let client = server.client();
    let (node_dir, node_id) = join(&server, dir.path(), "host-c");
    let node = node_client(&node_dir);
    let digest = format!("sha256:{}", "ab".repeat(32));
    let value = base64::engine::general_purpose::STANDARD.encode("v1");
    runtime().block_on(async {
        let admin = Some(server.token.as_str());
        let post = |path: &str, body: Value| {
            let client = &client;
            let server = &server;
            let path = path.to_owned();
            async move { request(client, server, Method::POST, &path, admin, Some(body)).await }
        };
        assert_eq!(post("/v1/secrets", json!({"name": "db-password", "value": value})).await.status, 201);
        let policy = json!({"name": "app", "subject": {"image_digests": [digest]}, "secrets": ["db-password"]});
        assert_eq!(post("/v1/policies", policy).await.status, 201);
        let node_call = |path: String, body: Value| {
            let node = &node;
            let server = &server;
            async move {
                let response = node
                    .post(format!("{}{path}", server.addr))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        // The node makes a volume and opens it for container c1 (no policy
        // names the volume: its creator keeps it), receives the secret for
        // c1, and is refused it for c2 of another image.
        let (status, made) = node_call("/v1/volumes".to_owned(), json!({"name": "pgdata", "size_bytes": 1u64 << 30})).await;
        assert_eq!(status, 201, "{made}");
        let claim = |id: &str, image_digest: &str| {
            json!({"container_id": id, "container_name": format!("app-{id}"), "image": "app:1", "image_digest": image_digest})
        };
        let (status, acquired) = node_call(
            "/v1/volumes/pgdata/acquire".to_owned(),
            json!({"workloads": [claim("c1", &digest)]}),
        )
        .await;
        assert_eq!(status, 200, "{acquired}");
        let (status, delivered) = node_call(
            "/v1/secrets/db-password/deliver".to_owned(),
            json!({"workloads": [claim("c1", &digest)]}),
        )
        .await;
        assert_eq!(status, 200, "{delivered}");
        let other = format!("sha256:{}", "cd".repeat(32));
        let (status, _) = node_call(
            "/v1/secrets/db-password/deliver".to_owned(),
            json!({"workloads": [claim("c2", &other)]}),
        )
        .await;
        assert_eq!(status, 403);
        let report = json!({
            "containers": [{"container_id": "c1", "container_name": "app-c1", "image": "app:1",
                            "image_digest": digest, "volumes": ["pgdata", "app-secrets"]}],
            "volumes": [{"name": "pgdata", "engine": "userspace"}]
        });
        let (status, _) = node_call("/v1/nodes/heartbeat".to_owned(), report).await;
        assert_eq!(status, 200);
        // The secret is rotated while c1 still runs with version 1.
        let rotated = request(
            &client,
            &server,
            Method::POST,
            "/v1/secrets/db-password/rotate",
            admin,
            Some(json!({"value": base64::engine::general_purpose::STANDARD.encode("v2")})),
        )
        .await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);

        let auditor = token(&server, "auditor");
        let session = sign_in(&client, &server, auditor["token"].as_str().unwrap()).await;
        let get = |path: &'static str| call(&client, &server, &session, Method::GET, path, None, None);

        let (_, nodes) = get("/v1/fleet/nodes").await;
        let entry = &nodes["nodes"][0];
        assert_eq!(entry["id"], node_id.as_str());
        assert_eq!(entry["liveness"], "live");
        assert_eq!(entry["volumes"], json!(["pgdata"]));
        assert_eq!(entry["secrets"], json!([{"name": "db-password", "version": 1, "current": 2}]));
        let container = &entry["containers"][0];
        assert_eq!(container["volumes"], json!(["pgdata"]));
        assert!(
            container["flag"].as_str().unwrap().contains("no policy names this container"),
            "{container}"
        );

        let (_, volumes) = get("/v1/fleet/volumes").await;
        let volume = &volumes["volumes"][0];
        assert_eq!(volume["holder_name"], "host-c");
        assert_eq!(volume["engine"], "userspace");
        assert_eq!(volume["containers"][0]["container_name"], "app-c1");

        let (_, objects) = get("/v1/fleet/objects").await;
        let secret = objects["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|object| object["name"] == "db-password")
            .unwrap();
        assert_eq!(secret["kind"], "secret");
        assert_eq!(secret["versions"][0]["version"], 2);
        assert_eq!(secret["versions"][0]["recipients"], json!([]));
        let recipient = &secret["versions"][1]["recipients"][0];
        assert_eq!(recipient["node_name"], "host-c");
        assert_eq!(recipient["container"]["container_id"], "c1");
        assert_eq!(recipient["basis"], json!({"kind": "policy", "policy": "app"}));
        assert_eq!(recipient["current"], true);

        let (_, workloads) = get("/v1/fleet/workloads").await;
        let workloads = workloads["workloads"].as_array().unwrap();
        let running = workloads.iter().find(|w| w["container_id"] == "c1").unwrap();
        assert_eq!(running["running"], true);
        assert_eq!(running["received"].as_array().unwrap().len(), 2, "{running}");

        let (_, overview) = get("/v1/fleet/overview").await;
        assert_eq!(overview["refused_last_hour"], 1, "{overview}");
        assert_eq!(overview["recent_refusals"][0]["workload"], "container 'app-c2' (image sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd)");
        let kinds: Vec<&str> = overview["attention"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["kind"].as_str().unwrap())
            .collect();
        for kind in ["release_refused", "container_unbound", "version_in_use"] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
        }
        assert_eq!(overview["counts"]["containers"], 1);
        assert_eq!(overview["counts"]["secrets"], 1);
        assert_eq!(overview["counts"]["volumes_held"], 1);

        let (_, audit) = call(
            &client,
            &server,
            &session,
            Method::GET,
            "/v1/fleet/audit?operation=policy.decide&result=refused",
            None,
            None,
        )
        .await;
        let records = audit["records"].as_array().unwrap();
        assert_eq!(records.len(), 1, "{audit}");
        assert_eq!(records[0]["result"], "policy_denied");

        // An agent that stops sending reports (an older one) shows no
        // containers rather than stale ones.
        let bare = node
            .post(format!("{}/v1/nodes/heartbeat", server.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(bare.status(), 200);
        let (_, nodes) = get("/v1/fleet/nodes").await;
        assert_eq!(nodes["nodes"][0]["reports_containers"], false);
        assert_eq!(nodes["nodes"][0]["containers"], json!([]));
    });
}
