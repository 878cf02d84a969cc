//! Mechanical checks of the crate's ARCHITECTURE.md invariants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::Path;

/// "`luks` performs no I/O": no module of the library names the standard library's
/// file, network, process, environment or clock APIs.
#[test]
fn luks_performs_no_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden = [
        "std::fs",
        "std::net",
        "std::io",
        "std::process",
        "std::env",
        "std::time",
        "File::",
        "tokio",
    ];
    let mut checked = 0;
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        for word in forbidden {
            assert!(
                !text.contains(word),
                "{} uses {word}: luks must stay free of I/O",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 8, "found only {checked} source files");
}
