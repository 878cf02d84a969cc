//! Three real servers on one PostgreSQL, as a user runs them: every server
//! serves what another acknowledged; each is sealed and unsealed on its own,
//! and a sealed one answers 503 while the others serve (the CLI moves on);
//! join tokens, node certificates, a decommission and a CA rotation made on
//! one server hold on every server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cluster_support;
mod server_support;

use std::path::Path;
use std::process::Command;

use cluster_support::{Cluster, PASSPHRASE, text, wait_until};

/// The address list with `first` first.
fn starting_at(cluster: &Cluster, first: usize) -> String {
    let mut members: Vec<String> = cluster.members.iter().map(|member| member.addr()).collect();
    members.rotate_left(first);
    members.join(",")
}

#[test]
fn every_server_serves_the_others_writes_and_a_sealed_one_answers_503() {
    let cluster = Cluster::start(3);
    let created = cluster.cli_at(
        &cluster.members[0].addr(),
        &["key", "create", "shared", "--json"],
        b"",
    );
    assert!(created.status.success(), "{}", text(&created));
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let material = |index: usize| {
        let read = cluster.cli_at(
            &cluster.members[index].addr(),
            &["key", "material", &id],
            b"",
        );
        assert!(read.status.success(), "server {index}: {}", text(&read));
        String::from_utf8(read.stdout).unwrap().trim().to_owned()
    };
    let first = material(0);
    assert_eq!(material(1), first);
    assert_eq!(material(2), first);

    // Sealing concerns one server: refused for a list, done for one.
    let refused = cluster.cli(&["operator", "seal"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("acts on one server"),
        "{}",
        text(&refused)
    );
    let sealed = cluster.cli_at(&cluster.members[1].addr(), &["operator", "seal"], b"");
    assert!(sealed.status.success(), "{}", text(&sealed));
    let answered = cluster.cli_at(&cluster.members[1].addr(), &["key", "list"], b"");
    assert!(!answered.status.success());
    assert!(text(&answered).contains("sealed"), "{}", text(&answered));
    // The others serve; a client listing the sealed one first moves on.
    let listed = cluster.cli_at(&starting_at(&cluster, 1), &["key", "list"], b"");
    assert!(listed.status.success(), "{}", text(&listed));
    assert!(text(&listed).contains("shared"), "{}", text(&listed));
    let status = cluster.cli(&["status"]);
    assert!(status.status.success(), "{}", text(&status));
    let status = text(&status);
    let sealed_lines = status
        .lines()
        .filter(|line| line.starts_with("Sealed:") && line.trim_end().ends_with("yes"))
        .count();
    assert_eq!(sealed_lines, 1, "{status}");
    for member in &cluster.members {
        assert!(status.contains(&member.addr()), "{status}");
    }

    // Unsealed on its own, with the same material; the chain is one.
    let unsealed = cluster.cli_at(
        &cluster.members[1].addr(),
        &["operator", "unseal", "--passphrase"],
        PASSPHRASE.as_bytes(),
    );
    assert!(unsealed.status.success(), "{}", text(&unsealed));
    assert_eq!(material(1), first);
    let verified = cluster.cli(&["audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
}

/// `cryptainer agent join` against `servers`, into `data_dir`.
fn join(servers: &[String], token: &str, data_dir: &Path) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cryptainer"));
    command.args(["agent", "join"]);
    for server in servers {
        command.args(["--server", server.trim_start_matches("https://")]);
    }
    command
        .args(["--data-dir"])
        .arg(data_dir)
        .env("CRYPTAINER_JOIN_TOKEN", token)
        .output()
        .unwrap()
}

/// A client presenting the node certificate of `data_dir` (a new
/// connection each time: the handshake is what a decommission refuses).
fn node_client(data_dir: &Path) -> reqwest::Client {
    let ca = std::fs::read(data_dir.join("ca.pem")).unwrap();
    let mut identity = std::fs::read(data_dir.join("node.crt")).unwrap();
    identity.extend(std::fs::read(data_dir.join("node.key")).unwrap());
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .build()
        .unwrap()
}

/// A node's liveness report to `server`: the status, or 0 when the TLS
/// handshake refused the node.
fn heartbeat(data_dir: &Path, server: &str) -> u16 {
    runtime().block_on(async {
        node_client(data_dir)
            .post(format!("{server}/v1/nodes/heartbeat"))
            .send()
            .await
            .map_or(0, |answer| answer.status().as_u16())
    })
}

/// The CA bundle `server` serves, fetched trusting `ca_pem`.
fn served_bundle(server: &str, ca_pem: &str) -> Option<String> {
    runtime().block_on(async {
        let client = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).ok()?)
            .build()
            .ok()?;
        client
            .get(format!("{server}/v1/ca"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn tokens_node_certificates_decommission_and_ca_rotation_hold_on_every_server() {
    let cluster = Cluster::start(3);
    let dir = tempfile::tempdir().unwrap();
    let servers: Vec<String> = cluster.members.iter().map(|member| member.addr()).collect();

    // A single-use join token made on one server admits one node, on another.
    let made = cluster.cli_at(&servers[0], &["node", "token", "create", "--json"], b"");
    assert!(made.status.success(), "{}", text(&made));
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    let first = dir.path().join("first");
    let joined = join(&servers[1..], &token, &first);
    assert!(joined.status.success(), "{}", text(&joined));
    let again = join(&servers[2..], &token, &dir.path().join("second"));
    assert!(
        !again.status.success(),
        "a single-use token admitted two nodes"
    );
    assert!(text(&again).contains("already used"), "{}", text(&again));
    let node: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.join("node.json")).unwrap()).unwrap();
    assert_eq!(node["servers"].as_array().unwrap().len(), 2, "{node}");
    let node_id = node["node_id"].as_str().unwrap().to_owned();
    // Its certificate works on every server.
    for server in &servers {
        assert_eq!(heartbeat(&first, server), 200, "{server}");
    }

    // Decommissioned on one server: refused on every one, from the next request.
    let decommissioned = cluster.cli_at(&servers[2], &["node", "decommission", &node_id], b"");
    assert!(decommissioned.status.success(), "{}", text(&decommissioned));
    for server in &servers {
        let status = heartbeat(&first, server);
        assert!(status == 0 || status == 401, "{server} answered {status}");
    }
    // And at the handshake, once each server has read the change.
    for server in &servers {
        wait_until("the handshake to refuse the node", || {
            heartbeat(&first, server) == 0
        });
    }

    // A CA rotation on one server reaches the others' bundles and verifiers.
    let before = std::fs::read_to_string(cluster.members[0].cacert()).unwrap();
    let rotated = cluster.cli_at(&servers[1], &["ca", "rotate", "--json"], b"");
    assert!(rotated.status.success(), "{}", text(&rotated));
    let rotated: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
    let bundle = rotated["ca_pem"].as_str().unwrap().to_owned();
    assert!(
        bundle.contains(before.trim()),
        "the bundle keeps the old root"
    );
    for (index, member) in cluster.members.iter().enumerate() {
        wait_until("every server to serve the new bundle", || {
            served_bundle(&member.addr(), &before).is_some_and(|served| served == bundle)
        });
        assert_eq!(
            std::fs::read_to_string(member.cacert()).unwrap(),
            bundle,
            "server {index} wrote the new bundle"
        );
    }
    // A token made for the new bundle admits a node through any server.
    let made = cluster.cli_at(&servers[2], &["node", "token", "create", "--json"], b"");
    assert!(made.status.success(), "{}", text(&made));
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let third = dir.path().join("third");
    let joined = join(&servers[..1], made["token"].as_str().unwrap(), &third);
    assert!(joined.status.success(), "{}", text(&joined));
    for server in &servers {
        assert_eq!(heartbeat(&third, server), 200, "{server}");
    }
}
