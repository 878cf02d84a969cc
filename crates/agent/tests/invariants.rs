//! Checks ARCHITECTURE.md's invariant that the agent knows nothing of SQL or of the
//! server's internals: neither is in its dependency tree; nor does it read or
//! write a volume's LUKS2 header, which is the `volume` crate's.

#[path = "../../../tests/support/dependency_tree.rs"]
mod dependency_tree;

#[test]
fn agent_depends_on_neither_sql_nor_the_server() {
    dependency_tree::assert_dependency_tree(
        "agent",
        "pki",
        &["rusqlite", "keystore", "server", "libsqlite3-sys"],
    );
}

/// Issue 19: the agent wrote and read the LUKS2 header itself, beside the
/// `volume` crate. It now hands the leased secret to `volume`, which owns
/// the image, and does not depend on the format's crate at all.
#[test]
fn the_agent_leaves_the_luks2_format_to_the_volume_crate() {
    let direct = dependency_tree::tree("agent", &["--depth", "1"]);
    assert!(
        direct.lines().any(|line| line.starts_with("volume v")),
        "{direct}"
    );
    assert!(
        !direct.lines().any(|line| line.starts_with("luks v")),
        "the agent depends on luks directly:\n{direct}"
    );
}
