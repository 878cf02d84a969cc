//! The `cryptainer` client commands end to end: the real binary against a real
//! `cryptainer server --dev` (or `--config`) on a free port, output checked through
//! `--json`, errors through exit codes and the `error:`/`hint:` lines.
// Helpers of an integration test are test code too: a panic is a test failure.
// Clippy's allow-*-in-tests settings cover only `#[test]` functions, not helpers.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// `TestServer` reaps its child in `Drop`, which this lint cannot see.
#![allow(clippy::zombie_processes)]

mod server_support;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use server_support::{TestServer, binary, free_port};

/// Runs the client with the server's address, token and CA, and `stdin` as input.
fn run(server: &TestServer, token: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .env("CRYPTAINER_ADDR", &server.addr)
        .env("CRYPTAINER_TOKEN", token)
        .env("CRYPTAINER_CACERT", &server.cacert)
        .env_remove("CRYPTAINER_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the client");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("client output")
}

/// Runs a command that must succeed and returns its `--json` answer.
fn json(server: &TestServer, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let output = run(server, &server.token, &all, None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{args:?} printed no JSON ({error}): {}",
            text(&output.stdout)
        )
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Checks a failed command: its exit code, and an `error:` line followed by a
/// `hint:` line containing `hint`.
fn assert_fails(output: &Output, code: i32, hint: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let error_line = lines
        .iter()
        .position(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error: line in {stderr:?}"));
    let hint_line = lines.get(error_line + 1).copied().unwrap_or_default();
    assert!(hint_line.starts_with("hint: "), "{stderr}");
    assert!(hint_line.contains(hint), "{hint:?} not in {stderr}");
}

#[test]
fn key_life_cycle_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());

    let created = json(
        &server,
        &[
            "key",
            "create",
            "db",
            "--algorithm",
            "aes-128",
            "--label",
            "app=pg",
            "--label",
            "team=ops",
        ],
    );
    assert_eq!(created["name"], "db");
    assert_eq!(created["state"], "active");
    assert_eq!(created["length"], 128);
    assert_eq!(created["labels"]["app"], "pg");
    assert_eq!(created["labels"]["team"], "ops");
    let id = created["id"].as_str().unwrap().to_owned();

    let listed = json(&server, &["key", "list"]);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["keys"][0]["id"], id.as_str());
    let table = run(&server, &server.token, &["key", "list"], None);
    let table = text(&table.stdout);
    assert!(table.starts_with("ID "), "{table}");
    assert!(table.lines().nth(1).unwrap().contains(" db "), "{table}");

    assert_eq!(json(&server, &["key", "show", "db"])["id"], id.as_str());
    assert_eq!(json(&server, &["key", "show", &id])["name"], "db");

    let first = json(&server, &["key", "material", "db"]);
    assert_eq!(first["version"], 1);
    let rotated = json(&server, &["key", "rotate", "db"]);
    assert_eq!(rotated["version"], 2);
    let plain = run(
        &server,
        &server.token,
        &["key", "material", "db", "--version", "1"],
        None,
    );
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));
    assert_eq!(
        text(&plain.stdout).trim(),
        first["material"].as_str().unwrap()
    );
    let newest = json(&server, &["key", "material", "db"]);
    assert_eq!(newest["version"], 2);
    assert_ne!(newest["material"], first["material"]);

    // Destroying an active key is the server's "conflict"; without --yes and
    // without a terminal the client refuses before asking the server.
    let refused = run(&server, &server.token, &["key", "destroy", "db"], None);
    assert_fails(&refused, 2, "--yes");
    let active = run(
        &server,
        &server.token,
        &["key", "destroy", "db", "--yes"],
        None,
    );
    assert_fails(&active, 1, "revoked before it is destroyed");

    let revoked = json(&server, &["key", "revoke", "db", "--reason", "superseded"]);
    assert_eq!(revoked["state"], "deactivated");
    assert_eq!(revoked["revocation_reason"], "superseded");
    let destroyed = json(&server, &["key", "destroy", &id, "--yes"]);
    assert_eq!(destroyed["state"], "destroyed");
    let listed = json(&server, &["key", "list", "--state", "destroyed"]);
    assert_eq!(listed["total"], 1);
    let listed = json(&server, &["key", "list", "--state", "active"]);
    assert_eq!(listed["total"], 0);
}

#[test]
fn server_refusals_exit_1_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());

    let unknown = run(
        &server,
        &server.token,
        &["key", "show", "no-such-key"],
        None,
    );
    assert_fails(&unknown, 1, "cryptainer key list");
    assert!(text(&unknown.stderr).contains("no-such-key"));

    let bad_token = run(
        &server,
        "cpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &["key", "list"],
        None,
    );
    assert_fails(
        &bad_token,
        1,
        "your token is expired or revoked; ask an admin for a new one",
    );

    let no_token = run(&server, "", &["key", "list"], None);
    assert_fails(&no_token, 2, "CRYPTAINER_TOKEN");

    // Names with characters that need escaping in a URL reach the server intact.
    let odd = run(&server, &server.token, &["key", "show", "a/b?c"], None);
    assert_fails(&odd, 1, "cryptainer key list");
}

#[test]
fn tokens_status_and_audit_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());

    let status = run(&server, "", &["status", "--json"], None);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        (status["initialized"].clone(), status["sealed"].clone()),
        (Value::Bool(true), Value::Bool(false))
    );

    let created = json(
        &server,
        &[
            "token", "create", "--role", "auditor", "--tenant", "default", "--ttl", "90m",
            "--name", "ci",
        ],
    );
    let auditor = created["token"].as_str().unwrap().to_owned();
    let token_id = created["id"].as_str().unwrap().to_owned();
    assert!(auditor.starts_with("cpt_"));
    assert_eq!(created["display_name"], "ci");
    let listed = json(&server, &["token", "list"]);
    assert!(
        listed["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|token| token["id"] == token_id.as_str())
    );

    // The auditor may list keys but not read material.
    let listing = run(&server, &auditor, &["key", "list"], None);
    assert_eq!(listing.status.code(), Some(0), "{}", text(&listing.stderr));
    json(&server, &["key", "create", "k1"]);
    let material = run(&server, &auditor, &["key", "material", "k1"], None);
    assert_fails(&material, 1, "role");

    let revoked = json(&server, &["token", "revoke", &token_id]);
    assert!(revoked["revoked_at"].is_string());
    let after = run(&server, &auditor, &["key", "list"], None);
    assert_fails(&after, 1, "expired or revoked");

    let verify = run(&server, &server.token, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stderr));
    assert!(text(&verify.stdout).contains("intact"));
    let records = json(&server, &["audit", "list", "--after", "1", "--limit", "3"]);
    let records = records["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["seq"], 2);
}

#[test]
fn seal_then_unseal_with_the_passphrase_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(dir.path());

    let sealed = run(&server, &server.token, &["operator", "seal"], None);
    assert_eq!(sealed.status.code(), Some(0), "{}", text(&sealed.stderr));
    let refused = run(&server, &server.token, &["key", "list"], None);
    assert_fails(&refused, 1, "unseal it with `cryptainer operator unseal`");

    let wrong = run(
        &server,
        "",
        &["operator", "unseal", "--passphrase"],
        Some("not the passphrase\n"),
    );
    assert_fails(&wrong, 1, "does not open this server's root key");

    // Development mode keeps its passphrase beside the data.
    let passphrase = std::fs::read_to_string(dir.path().join("dev-unseal.key")).unwrap();
    let opened = run(
        &server,
        "",
        &["operator", "unseal", "--passphrase"],
        Some(&format!("{passphrase}\n")),
    );
    assert_eq!(opened.status.code(), Some(0), "{}", text(&opened.stderr));
    assert!(text(&opened.stdout).contains("Unsealed"));
    assert_eq!(json(&server, &["key", "list"])["total"], 0);
}

#[test]
fn shamir_init_and_unseal_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_minimal_config(dir.path(), free_port());

    let early = run(&server, "", &["key", "list"], None);
    assert_fails(&early, 2, "CRYPTAINER_TOKEN");
    let early = run(&server, "cpt_x", &["key", "list"], None);
    assert_fails(&early, 1, "cryptainer operator init");

    let init = run(
        &server,
        "",
        &["operator", "init", "--shares", "3", "--threshold", "2"],
        None,
    );
    assert_eq!(init.status.code(), Some(0), "{}", text(&init.stderr));
    let printed = text(&init.stdout);
    assert!(printed.contains("ONCE"), "{printed}");
    let shares: Vec<String> = printed
        .lines()
        .filter_map(|line| line.split_once("Unseal share ").map(|(_, rest)| rest))
        .map(|rest| rest.split_once(": ").unwrap().1.to_owned())
        .collect();
    assert_eq!(shares.len(), 3, "{printed}");
    let root = printed
        .lines()
        .find_map(|line| line.strip_prefix("Root token: "))
        .unwrap()
        .to_owned();
    server.token = root;

    let again = run(&server, "", &["operator", "init"], None);
    assert_fails(&again, 1, "cryptainer status");

    let one = run(
        &server,
        "",
        &["operator", "unseal"],
        Some(&format!("{}\n", shares[2])),
    );
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert!(
        text(&one.stdout).contains("1 of 2 shares"),
        "{}",
        text(&one.stdout)
    );
    let two = run(
        &server,
        "",
        &["operator", "unseal"],
        Some(&format!("{}\n", shares[0])),
    );
    assert!(
        text(&two.stdout).contains("Unsealed"),
        "{}",
        text(&two.stdout)
    );

    json(&server, &["key", "create", "survivor"]);
    let rotated = run(&server, &server.token, &["operator", "rotate-root"], None);
    assert_eq!(rotated.status.code(), Some(0), "{}", text(&rotated.stderr));
    let status = json(&server, &["status"]);
    assert_eq!(status["seal"], "shamir");
    assert_eq!(status["threshold"], 2);
    server.stop();
}

#[test]
fn no_server_exits_3_with_a_hint_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_dev(dir.path());
    server.stop();
    let output = run(&server, &server.token, &["key", "list"], None);
    assert_fails(
        &output,
        3,
        "is the server running? start it with `cryptainer server --dev`",
    );
}

#[test]
fn a_missing_address_is_a_usage_error() {
    let output = Command::new(binary())
        .args(["key", "list"])
        .env_remove("CRYPTAINER_ADDR")
        .env_remove("CRYPTAINER_CACERT")
        .env("CRYPTAINER_TOKEN", "cpt_x")
        .output()
        .unwrap();
    assert_fails(
        &output,
        2,
        "run `source <data-dir>/dev.env` printed by `cryptainer server --dev`",
    );

    let output = Command::new(binary())
        .args([
            "key",
            "list",
            "--addr",
            "https://127.0.0.1:1",
            "--cacert",
            "no-such-ca.pem",
        ])
        .env("CRYPTAINER_TOKEN", "cpt_x")
        .output()
        .unwrap();
    assert_fails(&output, 2, "CRYPTAINER_CACERT");
}

#[test]
fn bad_arguments_exit_2_before_anything_is_sent() {
    let output = Command::new(binary())
        .args(["key", "create", "db", "--label", "app"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("label 'app' has no '='"),
        "{}",
        text(&output.stderr)
    );

    let output = Command::new(binary())
        .args(["token", "create", "--role", "operator", "--ttl", "3w"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("unknown unit 'w'"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn help_documents_exit_codes_and_environment() {
    let output = Command::new(binary()).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    for needle in [
        "Exit codes:",
        "CRYPTAINER_ADDR",
        "CRYPTAINER_TOKEN",
        "CRYPTAINER_CACERT",
        "CRYPTAINER_LOG",
        "3  the server could not be reached",
    ] {
        assert!(help.contains(needle), "{needle:?} missing from:\n{help}");
    }
    for command in [
        &["server"][..],
        &["operator", "unseal"],
        &["key", "create"],
        &["token", "create"],
        &["audit", "verify"],
        &["key", "material"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let output = Command::new(binary()).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(
            text(&output.stdout).contains("Usage: cryptainer"),
            "{args:?}"
        );
    }
}

#[test]
fn audit_verify_exits_1_naming_the_altered_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_dev(dir.path());
    for n in 0..20 {
        json(&server, &["key", "create", &format!("k{n}")]);
    }
    server.stop();
    let database = rusqlite::Connection::open(dir.path().join("cryptainer.audit.db")).unwrap();
    database
        .execute_batch("UPDATE audit SET record = replace(record, '\"key.create\"', '\"key.show\"') WHERE seq = 12")
        .unwrap();
    drop(database);

    let server = TestServer::start_dev(dir.path());
    let verify = run(&server, &server.token, &["audit", "verify"], None);
    assert_fails(&verify, 1, "records up to 11 are intact");
    let stderr = text(&verify.stderr);
    assert!(
        stderr.starts_with("error: the audit log is NOT intact: "),
        "{stderr}"
    );
    assert!(stderr.contains("12"), "{stderr}");

    // With --json the report is printed as the server sent it, and the exit code
    // still says the log is not intact.
    let verify = run(&server, &server.token, &["audit", "verify", "--json"], None);
    assert_eq!(verify.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["last_good_seq"], 11);
}
