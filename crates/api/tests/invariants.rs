//! Checks ARCHITECTURE.md's invariants of the wire contract mechanically:
//! `api` knows nothing of HTTP servers, storage or keys, and the clients write
//! no route of their own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../../../tests/support/dependency_tree.rs"]
mod dependency_tree;

use std::path::{Path, PathBuf};

#[test]
fn api_depends_on_no_server_storage_or_key_crate() {
    dependency_tree::assert_dependency_tree(
        "api",
        "reqwest",
        &[
            "axum", "server", "keystore", "pki", "audit", "rusqlite", "agent",
        ],
    );
}

/// The Rust files under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn the_agent_and_the_cli_write_no_route_of_their_own() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    for client in ["agent", "cli"] {
        for file in sources(&crates.join(client).join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                for route in ["\"/v1/", "\"/kmip", "\"/metrics"] {
                    assert!(
                        !line.contains(route),
                        "{}:{}: a route written outside the api crate: {line}",
                        file.display(),
                        number + 1
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} files found");
}
