//! Node identity end to end: real servers, real `cryptainer agent` processes,
//! join tokens, mutual TLS, renewal, decommissioning and tenants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use reqwest::Method;
use serde_json::{Value, json};
use server_support::{TestServer, binary, node_client, runtime, wait_until};

fn host_port(server: &TestServer) -> String {
    server.addr.trim_start_matches("https://").to_owned()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `cryptainer node token create --json ...`; returns the token text.
fn create_join_token(server: &TestServer, args: &[&str]) -> String {
    let mut all = vec!["node", "token", "create", "--json"];
    all.extend_from_slice(args);
    let output = server.cli(&all);
    assert!(output.status.success(), "{}", text(&output));
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("CPTJ-1-"), "{token}");
    token
}

/// `cryptainer agent join` as a process.
fn agent_join(server_host_port: &str, token: &str, data_dir: &Path) -> Output {
    Command::new(binary())
        .args([
            "agent",
            "join",
            "--json",
            "--server",
            server_host_port,
            "--data-dir",
        ])
        .arg(data_dir)
        .env("CRYPTAINER_JOIN_TOKEN", token)
        .env("CRYPTAINER_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run agent join")
}

/// Joins and returns the node id.
fn join_ok(server: &TestServer, token: &str, data_dir: &Path) -> String {
    let output = agent_join(&host_port(server), token, data_dir);
    assert!(output.status.success(), "{}", text(&output));
    let state: Value = serde_json::from_slice(&output.stdout).unwrap();
    state["node_id"].as_str().unwrap().to_owned()
}

/// A running `cryptainer agent run`.
struct RunningAgent {
    child: Child,
    data_dir: PathBuf,
}

impl RunningAgent {
    fn start(data_dir: &Path) -> RunningAgent {
        RunningAgent::spawn(data_dir, Stdio::inherit())
    }

    /// Starts the agent with its standard error going to `stderr`.
    fn spawn(data_dir: &Path, stderr: Stdio) -> RunningAgent {
        let child = Command::new(binary())
            .args([
                "agent",
                "run",
                "--no-volumes",
                "--heartbeat-interval",
                "1s",
                "--data-dir",
            ])
            .arg(data_dir)
            .env("CRYPTAINER_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start agent run");
        RunningAgent {
            child,
            data_dir: data_dir.to_path_buf(),
        }
    }

    fn status(&self) -> Value {
        std::fs::read(self.data_dir.join("status.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null)
    }

    fn count(&self, name: &str) -> u64 {
        self.status()[name].as_u64().unwrap_or(0)
    }

    /// Sends SIGTERM and returns whether the agent then exited successfully.
    fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().unwrap().success()
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a request without a token (the certificate, if any, authenticates).
async fn node_request(
    client: &reqwest::Client,
    server: &TestServer,
    method: Method,
    path: &str,
) -> Result<(u16, Value), reqwest::Error> {
    let response = client
        .request(method, format!("{}{path}", server.addr))
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// `POST /v1/nodes/heartbeat` with the node certificate `client` presents.
async fn heartbeat(
    client: &reqwest::Client,
    server: &TestServer,
) -> Result<(u16, Value), reqwest::Error> {
    node_request(client, server, Method::POST, "/v1/nodes/heartbeat").await
}

/// Whether the audit log has a record of `operation` with `result`.
async fn audited(server: &TestServer, operation: &str, result: &str) -> bool {
    let client = server.client();
    let mut after = 0_u64;
    loop {
        let answer = server
            .get(
                &client,
                &format!("/v1/audit/records?after={after}&limit=1000"),
                Some(&server.token),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let records = answer.body["records"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if records
            .iter()
            .any(|record| record["operation"] == operation && record["result"] == result)
        {
            return true;
        }
        match records.last().and_then(|record| record["seq"].as_u64()) {
            Some(seq) if records.len() == 1000 => after = seq,
            _ => return false,
        }
    }
}

#[test]
fn three_agents_join_and_a_decommissioned_one_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let token = create_join_token(&server, &["--max-uses", "3"]);
    let dirs: Vec<PathBuf> = (1..=3)
        .map(|index| dir.path().join(format!("agent{index}")))
        .collect();
    let ids: Vec<String> = dirs
        .iter()
        .map(|data_dir| join_ok(&server, &token, data_dir))
        .collect();
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    for data_dir in &dirs {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(data_dir.join("node.key"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }

    // A fourth join with the same token: the token admitted three nodes.
    let reused = agent_join(&host_port(&server), &token, &dir.path().join("agent4"));
    assert!(!reused.status.success());
    assert!(
        text(&reused).contains("already used 3 time(s)"),
        "{}",
        text(&reused)
    );

    let agents: Vec<RunningAgent> = dirs.iter().map(|path| RunningAgent::start(path)).collect();
    wait_until("every agent's first liveness report", || {
        agents.iter().all(|agent| agent.count("heartbeats_ok") >= 1)
    });

    let rt = runtime();
    let first = node_client(&dirs[0]);
    let (status, body) = rt.block_on(heartbeat(&first, &server)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["node_id"], ids[0].as_str());

    // Keys of volumes each node used, labelled with their owner.
    let admin = server.client();
    let mut volume_keys = Vec::new();
    for (name, owner) in [("vol-first", &ids[0]), ("vol-second", &ids[1])] {
        let created = rt.block_on(server.post(
            &admin,
            "/v1/keys",
            Some(&server.token),
            Some(json!({ "name": name, "labels": { "cryptainer.node": owner } })),
        ));
        assert_eq!(created.status, 201, "{}", created.body);
        volume_keys.push(created.body["id"].as_str().unwrap().to_owned());
    }

    let output = server.cli(&["node", "decommission", &ids[0], "--shred", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let decommissioned: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decommissioned["shredded"], json!([volume_keys[0]]));

    // The connection opened before: its next request is refused.
    let (status, body) = rt.block_on(heartbeat(&first, &server)).unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("decommissioned"),
        "{body}"
    );
    // A new connection does not get through the handshake.
    let fresh = node_client(&dirs[0]);
    assert!(rt.block_on(heartbeat(&fresh, &server)).is_err());

    // The decommissioned agent stops; the other two keep working.
    let mut agents = agents;
    let mut refused = agents.remove(0);
    wait_until("the decommissioned agent to stop", || {
        matches!(refused.child.try_wait(), Ok(Some(_)))
    });
    assert!(!refused.child.wait().unwrap().success());
    two_more_liveness_reports(&agents, "of the other agents");

    let shown = server.cli(&["node", "show", &ids[0], "--json"]);
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["state"], "decommissioned");
    let listed = server.cli(&["node", "list"]);
    let listed = text(&listed);
    assert_eq!(listed.matches("active").count(), 2, "{listed}");
    assert!(rt.block_on(audited(&server, "node.decommission", "ok")));
    // --shred destroyed only the keys of the decommissioned node.
    for (key_id, state) in [(&volume_keys[0], "destroyed"), (&volume_keys[1], "active")] {
        let shown =
            rt.block_on(server.get(&admin, &format!("/v1/keys/{key_id}"), Some(&server.token)));
        assert_eq!(shown.body["state"], state, "{}", shown.body);
    }
    assert!(rt.block_on(audited(&server, "node.join", "unauthenticated")));
}

#[test]
fn join_refuses_a_server_whose_ca_differs_from_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let genuine = TestServer::start_dev(&dir.path().join("genuine"));
    let impostor = TestServer::start_dev(&dir.path().join("impostor"));
    let token = create_join_token(&genuine, &[]);

    let agent_dir = dir.path().join("agent");
    let output = agent_join(&host_port(&impostor), &token, &agent_dir);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("does not match the join token"),
        "{}",
        text(&output)
    );
    assert!(!agent_dir.join("node.key").exists());
    // Nothing but the CA fetch reached the impostor: no join was attempted there.
    let rt = runtime();
    assert!(!rt.block_on(audited(&impostor, "node.join", "unauthenticated")));
    assert!(!rt.block_on(audited(&impostor, "node.join", "ok")));

    // The same token works against the genuine server, once.
    join_ok(&genuine, &token, &agent_dir);

    // A certificate from one CA is refused by a server with another.
    let foreign = node_client(&agent_dir);
    assert!(rt.block_on(heartbeat(&foreign, &impostor)).is_err());
}

#[test]
fn certificates_rotate_under_steady_load_without_a_failed_request() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_dev_with(&dir.path().join("server"), &["--node-cert-lifetime", "10s"]);
    let token = create_join_token(&server, &["--max-uses", "2"]);
    let running_dir = dir.path().join("running");
    let idle_dir = dir.path().join("idle");
    let node_id = join_ok(&server, &token, &running_dir);
    join_ok(&server, &token, &idle_dir);
    let rt = runtime();
    let (status, body) = rt
        .block_on(heartbeat(&node_client(&idle_dir), &server))
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let first_key = std::fs::read(running_dir.join("node.key")).unwrap();

    let agent = RunningAgent::start(&running_dir);
    wait_until("two renewals", || agent.count("renewals") >= 2);
    let status = agent.status();
    assert_eq!(agent.count("heartbeats_failed"), 0, "{status}");
    assert_eq!(agent.count("renewals_failed"), 0, "{status}");
    assert!(agent.count("heartbeats_ok") >= 3, "{status}");
    assert_ne!(
        std::fs::read(running_dir.join("node.key")).unwrap(),
        first_key,
        "each renewal makes a new key"
    );
    // The server names the certificate the agent holds. A renewal may land
    // between the two reads (one every few seconds here), so read both again
    // until they are of the same moment.
    wait_until("the server to name the agent's current certificate", || {
        let serial = agent.status()["serial"].as_str().unwrap().to_owned();
        let shown = server.cli(&["node", "show", &node_id, "--json"]);
        let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
        shown["cert_serial"] == serial.as_str()
    });

    // The idle node never renewed: once its certificate expires it is refused.
    wait_until("the idle node's certificate to expire", || {
        let client = node_client(&idle_dir);
        rt.block_on(heartbeat(&client, &server)).is_err()
    });
    assert_eq!(agent.count("heartbeats_failed"), 0, "{}", agent.status());
}

#[test]
fn a_tenant_b_node_gets_not_found_for_tenant_a_objects() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let rt = runtime();
    let admin = server.client();
    let created = rt.block_on(server.post(
        &admin,
        "/v1/keys",
        Some(&server.token),
        Some(json!({ "name": "secret-a", "tenant": "tenant-a" })),
    ));
    assert_eq!(created.status, 201, "{}", created.body);
    let key_id = created.body["id"].as_str().unwrap().to_owned();

    let token_a = create_join_token(&server, &["--tenant", "tenant-a"]);
    let token_b = create_join_token(&server, &["--tenant", "tenant-b"]);
    let dir_a = dir.path().join("a");
    let dir_b = dir.path().join("b");
    join_ok(&server, &token_a, &dir_a);
    join_ok(&server, &token_b, &dir_b);
    let node_a = node_client(&dir_a);
    let node_b = node_client(&dir_b);

    let (status, body) = rt
        .block_on(node_request(
            &node_a,
            &server,
            Method::GET,
            &format!("/v1/keys/{key_id}"),
        ))
        .unwrap();
    assert_eq!(status, 200, "{body}");

    for path in [
        format!("/v1/keys/{key_id}"),
        format!("/v1/keys/{key_id}/material"),
        "/v1/keys/secret-a?tenant=tenant-a".to_owned(),
    ] {
        let (status, body) = rt
            .block_on(node_request(&node_b, &server, Method::GET, &path))
            .unwrap();
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
    for path in ["/v1/keys", "/v1/keys?tenant=tenant-a"] {
        let (status, body) = rt
            .block_on(node_request(&node_b, &server, Method::GET, path))
            .unwrap();
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["total"], 0, "{path}: {body}");
    }
    // Nodes cannot manage nodes or read the audit log.
    let (status, _) = rt
        .block_on(node_request(&node_b, &server, Method::GET, "/v1/nodes"))
        .unwrap();
    assert_eq!(status, 403);
}

/// Posts a join request directly, with a CSR of our choosing.
async fn post_join(server: &TestServer, token: &str, csr_pem: &str) -> (u16, Value) {
    let answer = server
        .post(
            &server.client(),
            "/v1/nodes/join",
            None,
            Some(json!({ "token": token, "csr_pem": csr_pem, "name": "host" })),
        )
        .await;
    (answer.status, answer.body)
}

#[test]
fn bad_tokens_and_csrs_are_refused_clearly_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let rt = runtime();
    let token = create_join_token(&server, &["--max-uses", "5"]);

    // Tampered secret: unknown token.
    let mut tampered = token.clone();
    let last = if tampered.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(tampered.len() - 1.., last);
    let (status, body) = rt.block_on(post_join(&server, &tampered, "x"));
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown join token")
    );
    // Tampered CA digest: refused by the agent before it sends anything.
    let (digest, secret) = token["CPTJ-1-".len()..].split_once('-').unwrap();
    let wrong_ca = format!(
        "CPTJ-1-{}-{secret}",
        digest.chars().rev().collect::<String>()
    );
    let output = agent_join(&host_port(&server), &wrong_ca, &dir.path().join("x"));
    assert!(!output.status.success());
    assert!(
        text(&output).contains("does not match the join token"),
        "{}",
        text(&output)
    );
    // Malformed token.
    let (status, body) = rt.block_on(post_join(&server, "SWMTKN-1-abc", "x"));
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed")
    );

    // Weak keys and garbage CSRs.
    for (csr, expected) in [
        (
            include_str!("../../pki/tests/data/rsa1024.csr"),
            "RSA 1024 bits",
        ),
        (include_str!("../../pki/tests/data/secp256k1.csr"), "curve"),
        ("not a csr", "certificate signing request"),
    ] {
        let (status, body) = rt.block_on(post_join(&server, &token, csr));
        assert_eq!(status, 400, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }

    // Revoked token.
    let list = server.cli(&["node", "token", "list", "--json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let id = list["tokens"][0]["id"].as_str().unwrap().to_owned();
    let output = server.cli(&["node", "token", "revoke", &id]);
    assert!(output.status.success(), "{}", text(&output));
    let output = agent_join(&host_port(&server), &token, &dir.path().join("revoked"));
    assert!(!output.status.success());
    assert!(text(&output).contains("revoked"), "{}", text(&output));

    // Expired token: a bad CSR keeps the token unused while we wait for it to expire.
    let short = create_join_token(&server, &["--ttl", "1s"]);
    wait_until("the short token to expire", || {
        let (status, _) = rt.block_on(post_join(&server, &short, "not a csr"));
        status == 401
    });
    let (_, body) = rt.block_on(post_join(&server, &short, "not a csr"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );

    // Every refusal is audited, and the server keeps serving.
    assert!(rt.block_on(audited(&server, "node.join", "unauthenticated")));
    assert!(rt.block_on(audited(&server, "node.join", "bad_request")));
    let health = rt.block_on(server.get(&server.client(), "/v1/sys/health", None));
    assert_eq!(health.status, 200);
    // A rotated token replaces the revoked one and admits a node.
    let rotated = server.cli(&["node", "token", "rotate", &id, "--json"]);
    assert!(rotated.status.success(), "{}", text(&rotated));
    let rotated: Value = serde_json::from_slice(&rotated.stdout).unwrap();
    join_ok(
        &server,
        rotated["token"].as_str().unwrap(),
        &dir.path().join("ok"),
    );
}

#[test]
fn ca_rotation_completes_with_agents_connected() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let token = create_join_token(&server, &["--max-uses", "3"]);
    let unused = create_join_token(&server, &[]);
    let dirs: Vec<PathBuf> = (1..=2)
        .map(|index| dir.path().join(format!("agent{index}")))
        .collect();
    for data_dir in &dirs {
        join_ok(&server, &token, data_dir);
    }
    let agents: Vec<RunningAgent> = dirs.iter().map(|path| RunningAgent::start(path)).collect();
    wait_until("every agent's first liveness report", || {
        agents.iter().all(|agent| agent.count("heartbeats_ok") >= 1)
    });

    let output = server.cli(&["ca", "rotate", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let rotated: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        rotated["ca_pem"]
            .as_str()
            .unwrap()
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
    // Both live tokens were re-made; the three-use token has one use left.
    let tokens = rotated["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{rotated}");
    assert!(tokens.iter().any(|token| token["max_uses"] == 1));

    // The agents renew on the hint, pin the new bundle, and never miss a request.
    wait_until("both agents to renew after the rotation", || {
        agents.iter().all(|agent| agent.count("renewals") >= 1)
    });
    two_more_liveness_reports(&agents, "after the renewal");
    for agent in &agents {
        assert_eq!(agent.count("renewals_failed"), 0, "{}", agent.status());
        let pinned = std::fs::read_to_string(agent.data_dir.join("ca.pem")).unwrap();
        assert_eq!(pinned.matches("BEGIN CERTIFICATE").count(), 2);
    }

    // A token made before the rotation pins the old bundle: the agent refuses the server.
    let stale = agent_join(&host_port(&server), &unused, &dir.path().join("stale"));
    assert!(!stale.status.success());
    assert!(
        text(&stale).contains("does not match the join token"),
        "{}",
        text(&stale)
    );
    // Its replacement joins, with a certificate from the new root that the server accepts.
    let replacement = tokens
        .iter()
        .find(|token| token["max_uses"] == 1 && token["tenant"] == "default")
        .and_then(|token| token["token"].as_str())
        .unwrap();
    let fresh_dir = dir.path().join("fresh");
    join_ok(&server, replacement, &fresh_dir);
    let rt = runtime();
    for data_dir in [&fresh_dir, &dirs[0]] {
        let (status, body) = rt
            .block_on(heartbeat(&node_client(data_dir), &server))
            .unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ca_digest"], rotated["ca_digest"]);
    }
    assert!(rt.block_on(audited(&server, "ca.rotate", "ok")));
    // Every active node now holds a certificate from the new root.
    let status = server.cli(&["ca", "status", "--wait", "--timeout", "60s", "--json"]);
    assert!(status.status.success(), "{}", text(&status));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["nodes"], 3, "{status}");
    assert_eq!(status["reissued"], 3, "{status}");
    assert_eq!(status["roots"], 2, "{status}");
    // With every node renewed, the server moved its own certificate to the new root
    // while running: a client trusting only the new root connects, and the agents
    // (which pinned the bundle) go on without a failure.
    assert_eq!(
        status["server_certificate"]["current_root"], true,
        "{status}"
    );
    let new_root = dir.path().join("new-root.pem");
    let bundle = rotated["ca_pem"].as_str().unwrap();
    let end = bundle.find("-----END CERTIFICATE-----").unwrap() + 25;
    std::fs::write(&new_root, &bundle[..end]).unwrap();
    let handshake = Command::new("openssl")
        .args(["s_client", "-brief", "-verify_return_error", "-connect"])
        .arg(host_port(&server))
        .arg("-CAfile")
        .arg(&new_root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(handshake.status.success(), "{}", text(&handshake));
    two_more_liveness_reports(&agents, "after the server's new certificate");
    // SIGTERM stops an agent cleanly.
    let mut agents = agents;
    assert!(agents[0].stop());
}

/// Waits until every agent made two more liveness reports, and checks none failed.
fn two_more_liveness_reports(agents: &[RunningAgent], when: &str) {
    let before: Vec<u64> = agents
        .iter()
        .map(|agent| agent.count("heartbeats_ok"))
        .collect();
    wait_until(&format!("two more liveness reports {when}"), || {
        agents
            .iter()
            .zip(&before)
            .all(|(agent, before)| agent.count("heartbeats_ok") >= before + 2)
    });
    for agent in agents {
        assert_eq!(agent.count("heartbeats_failed"), 0, "{}", agent.status());
    }
}

/// Issues a client certificate with `sans` from the server's own CA key, with
/// openssl, into a directory laid out like an agent's (for [`node_client`]).
fn forge(server: &TestServer, out: &Path, sans: &str) -> PathBuf {
    std::fs::create_dir_all(out).unwrap();
    let tls = server.data_dir.join("tls");
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            text(&output)
        );
    };
    run(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "node.key",
        "-subj",
        "/CN=forged",
        "-out",
        "node.csr",
    ]);
    std::fs::write(
        out.join("ext.cnf"),
        format!(
            "subjectAltName={sans}\nextendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\nbasicConstraints=CA:FALSE\n"
        ),
    )
    .unwrap();
    let ca = tls.join("ca.pem");
    let ca_key = tls.join("ca-key.pem");
    run(&[
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        ca.to_str().unwrap(),
        "-CAkey",
        ca_key.to_str().unwrap(),
        "-set_serial",
        "4660",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "node.crt",
    ]);
    std::fs::copy(&ca, out.join("ca.pem")).unwrap();
    out.to_path_buf()
}

#[test]
fn certificates_that_disagree_with_the_inventory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let token = create_join_token(&server, &[]);
    let node_id = join_ok(&server, &token, &dir.path().join("agent"));
    let rt = runtime();
    for (name, sans, expected) in [
        (
            "wrong-tenant",
            format!(
                "URI:urn:cryptainer:node:{node_id},URI:urn:cryptainer:tenant:other,URI:urn:cryptainer:role:agent"
            ),
            "another tenant or role",
        ),
        (
            "no-node",
            "URI:urn:cryptainer:tenant:default,URI:urn:cryptainer:role:agent".to_owned(),
            "names no node",
        ),
        (
            "unknown-node",
            "URI:urn:cryptainer:node:node-0000000000000000,URI:urn:cryptainer:tenant:default,URI:urn:cryptainer:role:agent".to_owned(),
            "unknown node",
        ),
    ] {
        let forged = forge(&server, &dir.path().join(name), &sans);
        let (status, body) = rt
            .block_on(node_request(&node_client(&forged), &server, Method::GET, "/v1/keys"))
            .unwrap();
        assert_eq!(status, 401, "{name}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{name}: {message}");
    }
    assert!(rt.block_on(audited(&server, "key.list", "unauthenticated")));
}

#[test]
fn after_a_ca_rotation_nodes_are_told_to_renew_one_batch_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev_with(
        &dir.path().join("server"),
        &["--reissue-batch", "1", "--reissue-interval", "1h"],
    );
    let token = create_join_token(&server, &["--max-uses", "2"]);
    let dirs: Vec<PathBuf> = (1..=2)
        .map(|index| dir.path().join(format!("node{index}")))
        .collect();
    for data_dir in &dirs {
        join_ok(&server, &token, data_dir);
    }
    let rt = runtime();
    let heartbeat = |data_dir: &Path| {
        let (status, body) = rt
            .block_on(heartbeat(&node_client(data_dir), &server))
            .unwrap();
        assert_eq!(status, 200, "{body}");
        body
    };
    // Before a rotation nobody is asked to renew.
    assert_eq!(heartbeat(&dirs[0])["renew"], false);
    let rotated = server.cli(&["ca", "rotate", "--json"]);
    assert!(rotated.status.success(), "{}", text(&rotated));
    // One node per batch: the first asks and is told to renew; the second
    // waits for the next batch, with the same bundle digest served to both.
    let first = heartbeat(&dirs[0]);
    let second = heartbeat(&dirs[1]);
    assert_eq!(first["renew"], true, "{first}");
    assert_eq!(second["renew"], false, "{second}");
    assert_eq!(first["ca_digest"], second["ca_digest"]);
    let status = server.cli(&["ca", "status", "--json"]);
    assert!(status.status.success(), "{}", text(&status));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["nodes"], 2, "{status}");
    assert_eq!(status["reissued"], 0, "{status}");
    assert_eq!(status["pending"].as_array().unwrap().len(), 2, "{status}");
    // Nodes that have not renewed trust only the old root: the server keeps the
    // certificate the old root issued.
    assert_eq!(
        status["server_certificate"]["current_root"], false,
        "{status}"
    );
    // Waiting gives up with the nodes left named.
    let waited = server.cli(&["ca", "status", "--wait", "--timeout", "1s"]);
    assert!(!waited.status.success());
    assert!(
        text(&waited).contains("still hold a certificate from the previous root"),
        "{}",
        text(&waited)
    );
}

#[test]
fn an_agent_started_after_its_node_was_decommissioned_stops_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let token = create_join_token(&server, &[]);
    let data_dir = dir.path().join("node");
    let node_id = join_ok(&server, &token, &data_dir);
    let output = server.cli(&["node", "decommission", &node_id, "--json"]);
    assert!(output.status.success(), "{}", text(&output));

    // Every connection the agent opens now fails in the TLS handshake (its
    // certificate is revoked); it never gets an HTTP 401. That is as final
    // as a 401: the agent stops and says why, instead of retrying forever.
    // Killed on drop if it never stops.
    let mut agent = RunningAgent::spawn(&data_dir, Stdio::piped());
    wait_until("the agent of a decommissioned node to stop", || {
        matches!(agent.child.try_wait(), Ok(Some(_)))
    });
    assert!(!agent.child.wait().unwrap().success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut agent.child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("revoked"), "{stderr}");
    assert!(stderr.contains("decommissioned"), "{stderr}");
}
