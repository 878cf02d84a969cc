//! `cryptainer operator backup`, `restore` and `migrate` as an operator runs
//! them, on real servers: a backup taken from a running SQLite server is
//! restored onto a fresh one, which then needs the same passphrase; the same
//! store is migrated into a real PostgreSQL and served from there. After
//! each, every key reads back with the material first read and `audit
//! verify` passes; a damaged or truncated backup is refused before anything
//! is sent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use server_support::{TestServer, binary, free_port};

/// The text of a command's output, both streams.
fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `args` run against the server at `addr` with `token`, `input` on stdin.
fn cli(
    server: &TestServer,
    addr: &str,
    token: &str,
    args: &[&str],
    input: &[u8],
) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new(binary())
        .args(args)
        .env("CRYPTAINER_ADDR", addr)
        .env("CRYPTAINER_TOKEN", token)
        .env("CRYPTAINER_CACERT", &server.cacert)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Every key of `materials` reads back from `server` (with `token`) with the
/// material first read, and the audit log verifies.
fn check(server: &TestServer, token: &str, materials: &BTreeMap<String, String>) {
    for (id, material) in materials {
        let read = cli(
            server,
            &server.addr,
            token,
            &["key", "material", id, "--json"],
            b"",
        );
        assert!(read.status.success(), "{}", text(&read));
        let read: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
        assert_eq!(read["material"].as_str().unwrap(), material, "{id}");
    }
    let verify = cli(
        server,
        &server.addr,
        token,
        &["audit", "verify", "--json"],
        b"",
    );
    assert!(verify.status.success(), "{}", text(&verify));
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
}

#[test]
fn a_backup_restores_onto_a_fresh_server_and_a_sqlite_store_migrates_into_postgresql() {
    let source_dir = tempfile::tempdir().unwrap();
    let mut source = TestServer::start_dev(source_dir.path());
    let mut materials = BTreeMap::new();
    for name in ["one", "two", "three"] {
        let created = source.cli(&["key", "create", name, "--json"]);
        assert!(created.status.success(), "{}", text(&created));
        let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let read = source.cli(&["key", "material", &id, "--json"]);
        assert!(read.status.success(), "{}", text(&read));
        let read: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
        materials.insert(id, read["material"].as_str().unwrap().to_owned());
    }

    // Online: the server goes on serving while the backup is taken.
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("km.backup");
    let file_arg = file.to_str().unwrap();
    let backup = source.cli(&["operator", "backup", "--out", file_arg, "--json"]);
    assert!(backup.status.success(), "{}", text(&backup));
    let summary: serde_json::Value = serde_json::from_slice(&backup.stdout).unwrap();
    assert_eq!(summary["source"], "sqlite", "{summary}");
    assert_eq!(summary["objects"], 3, "{summary}");
    assert!(summary["audit_records"].as_u64().unwrap() > 3, "{summary}");
    let again = source.cli(&["operator", "backup", "--out", file_arg]);
    assert!(!again.status.success());
    assert!(text(&again).contains("exists"), "{}", text(&again));

    // A fresh, uninitialized server (production mode, no token yet).
    let target_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = target_dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen_addr = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\n",
            target_dir.path().display()
        ),
    )
    .unwrap();
    let target = TestServer::start_config(&config, target_dir.path(), port);
    let whole = std::fs::read(&file).unwrap();
    let truncated = scratch.path().join("truncated.backup");
    std::fs::write(&truncated, &whole[..whole.len() - 40]).unwrap();
    let damaged = scratch.path().join("damaged.backup");
    let mut flipped = whole.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    std::fs::write(&damaged, &flipped).unwrap();
    for bad in [&truncated, &damaged] {
        let refused = cli(
            &target,
            &target.addr,
            "",
            &["operator", "restore", bad.to_str().unwrap()],
            b"",
        );
        assert!(!refused.status.success(), "{}", text(&refused));
        assert!(
            text(&refused).contains("nothing was sent"),
            "{}",
            text(&refused)
        );
    }
    let status = cli(&target, &target.addr, "", &["status", "--json"], b"");
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["initialized"], false, "{status}");

    let restored = cli(
        &target,
        &target.addr,
        "",
        &["operator", "restore", file_arg, "--json"],
        b"",
    );
    assert!(restored.status.success(), "{}", text(&restored));
    let restored: serde_json::Value = serde_json::from_slice(&restored.stdout).unwrap();
    assert_eq!(restored["objects"], 3, "{restored}");
    let twice = cli(
        &target,
        &target.addr,
        "",
        &["operator", "restore", file_arg],
        b"",
    );
    assert!(!twice.status.success(), "{}", text(&twice));

    // Sealed under the backup's root: the source's passphrase opens it, and
    // the source's tokens were restored with everything else.
    let passphrase = std::fs::read(source_dir.path().join("dev-unseal.key")).unwrap();
    let mut line = passphrase.clone();
    line.push(b'\n');
    let unsealed = cli(
        &target,
        &target.addr,
        "",
        &["operator", "unseal", "--passphrase"],
        &line,
    );
    assert!(unsealed.status.success(), "{}", text(&unsealed));
    check(&target, &source.token, &materials);

    // The migration refuses a running server's data directory, then moves
    // the stopped one's store into PostgreSQL.
    let postgres = throwaway_postgres::Cluster::start().unwrap();
    postgres.create_database("migrated").unwrap();
    let url = postgres.url("migrated");
    let migrate = |json: bool| {
        let mut command = Command::new(binary());
        command
            .args(["operator", "migrate", "--data-dir"])
            .arg(source_dir.path())
            .env("CRYPTAINER_MIGRATE_TO", &url);
        if json {
            command.arg("--json");
        }
        command.output().unwrap()
    };
    let busy = migrate(false);
    assert!(!busy.status.success());
    assert!(text(&busy).contains("stop"), "{}", text(&busy));
    source.stop();
    let migrated = migrate(true);
    assert!(migrated.status.success(), "{}", text(&migrated));
    let migrated: serde_json::Value = serde_json::from_slice(&migrated.stdout).unwrap();
    assert_eq!(migrated["objects"], 3, "{migrated}");
    let twice = migrate(false);
    assert!(
        !twice.status.success(),
        "into a database that is no longer empty"
    );

    // The same data directory (its TLS material, its dev-unseal.key), now
    // on PostgreSQL.
    let on_postgres = TestServer::start_dev_with(source_dir.path(), &["--storage", &url]);
    check(&on_postgres, &source.token, &materials);
}
