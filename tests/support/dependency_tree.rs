//! Reads a workspace package's dependency tree for the tests that check
//! ARCHITECTURE.md's "knows nothing of" invariants mechanically; each crate's
//! `tests/invariants.rs` includes this file with `#[path]`.
#![allow(clippy::expect_used)] // In tests a panic is the failure report.

use std::process::Command;

/// `cargo tree` of `package`'s normal dependencies, one `name vX.Y.Z` a
/// line, with `more` arguments (`--depth 1` for the direct ones).
pub fn tree(package: &str, more: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", package, "-e", "normal", "--prefix", "none",
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

/// Asserts that `package`'s normal dependency tree (`cargo tree`) holds
/// `expected`, a sign that the tree was read at all, and none of `forbidden`.
pub fn assert_dependency_tree(package: &str, expected: &str, forbidden: &[&str]) {
    let tree = tree(package, &[]);
    assert!(tree.contains(&format!("{expected} v")), "{tree}");
    for name in forbidden {
        // `cargo tree --prefix none` writes one `name vX.Y.Z` a line.
        assert!(
            !tree
                .lines()
                .any(|line| line.starts_with(&format!("{name} "))),
            "{package} depends on {name}:
{tree}"
        );
    }
}
