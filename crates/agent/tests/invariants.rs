//! Checks ARCHITECTURE.md's invariant that the agent knows nothing of SQL or of the
//! server's internals: neither is in its dependency tree.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[test]
fn agent_depends_on_neither_sql_nor_the_server() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", "agent", "-e", "normal", "--prefix", "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(tree.contains("pki v"), "{tree}");
    for forbidden in ["rusqlite ", "keystore ", "server ", "libsqlite3-sys "] {
        assert!(
            !tree.lines().any(|line| line.starts_with(forbidden)),
            "the agent depends on {forbidden}:\n{tree}"
        );
    }
}
