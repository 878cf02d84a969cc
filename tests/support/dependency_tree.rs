//! Reads a workspace package's dependency tree for the tests that check
//! ARCHITECTURE.md's "knows nothing of" invariants mechanically; each crate's
//! `tests/invariants.rs` includes this file with `#[path]`.
#![allow(clippy::expect_used)] // In tests a panic is the failure report.

use std::process::Command;

/// Asserts that `package`'s normal dependency tree (`cargo tree`) holds
/// `expected`, a sign that the tree was read at all, and none of `forbidden`.
pub fn assert_dependency_tree(package: &str, expected: &str, forbidden: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", package, "-e", "normal", "--prefix", "none",
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
    assert!(tree.contains(&format!("{expected} v")), "{tree}");
    for name in forbidden {
        // `cargo tree --prefix none` writes one `name vX.Y.Z` a line.
        assert!(
            !tree
                .lines()
                .any(|line| line.starts_with(&format!("{name} "))),
            "{package} depends on {name}:\n{tree}"
        );
    }
}
