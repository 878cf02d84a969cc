//! Checks ARCHITECTURE.md's invariant that the agent knows nothing of SQL or of the
//! server's internals: neither is in its dependency tree.

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
