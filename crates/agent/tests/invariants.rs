//! Checks ARCHITECTURE.md's invariant that the agent knows nothing of SQL or of the
//! server's internals: neither is in its dependency tree; nor does it read or
//! write a volume's LUKS2 header, which is the `volume` crate's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

/// `cargo tree` of the agent's normal dependencies, one package a line,
/// with `more` arguments.
fn agent_tree(more: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", "agent", "-e", "normal", "--prefix", "none",
        ])
        .args(more)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn agent_depends_on_neither_sql_nor_the_server() {
    let tree = agent_tree(&[]);
    assert!(tree.contains("pki v"), "{tree}");
    for forbidden in ["rusqlite ", "keystore ", "server ", "libsqlite3-sys "] {
        assert!(
            !tree.lines().any(|line| line.starts_with(forbidden)),
            "the agent depends on {forbidden}:\n{tree}"
        );
    }
}

/// Issue 19: the agent wrote and read the LUKS2 header itself, beside the
/// `volume` crate. It now hands the leased secret to `volume`, which owns
/// the image, and does not depend on the format's crate at all.
#[test]
fn the_agent_leaves_the_luks2_format_to_the_volume_crate() {
    let direct = agent_tree(&["--depth", "1"]);
    assert!(
        direct.lines().any(|line| line.starts_with("volume v")),
        "{direct}"
    );
    assert!(
        !direct.lines().any(|line| line.starts_with("luks v")),
        "the agent depends on luks directly:\n{direct}"
    );
}
