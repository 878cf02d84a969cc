//! Checks ARCHITECTURE.md's invariant that the keystore knows nothing of KMIP,
//! HTTP or the seal devices: the PKCS#11, TPM and KMIP code lives in the
//! `seals` crate, which implements the keystore's `Seal` trait.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[test]
fn keystore_depends_on_no_protocol_and_no_device_library() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", "keystore", "-e", "normal", "--prefix", "none",
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
    assert!(tree.contains("rusqlite v"), "{tree}");
    for forbidden in [
        "ttlv ",
        "kmip ",
        "seals ",
        "cryptoki ",
        "tss-esapi ",
        "axum ",
        "hyper ",
        // rustls itself is allowed: the PostgreSQL backend speaks TLS to its
        // database (tokio-rustls), which is storage, not a protocol the
        // keystore serves; HTTP (hyper, axum) and KMIP stay out.
    ] {
        assert!(
            !tree.lines().any(|line| line.starts_with(forbidden)),
            "the keystore depends on {forbidden}:\n{tree}"
        );
    }
}
