//! Checks ARCHITECTURE.md's invariant that the keystore knows nothing of KMIP,
//! HTTP or the seal devices: the PKCS#11, TPM and KMIP code lives in the
//! `seals` crate, which implements the keystore's `Seal` trait.

#[path = "../../../tests/support/dependency_tree.rs"]
mod dependency_tree;

#[test]
fn keystore_depends_on_no_protocol_and_no_device_library() {
    dependency_tree::assert_dependency_tree(
        "keystore",
        "rusqlite",
        &[
            "ttlv",
            "kmip",
            "seals",
            "cryptoki",
            "tss-esapi",
            "axum",
            "hyper",
            // rustls itself is allowed: the PostgreSQL backend speaks TLS to
            // its database (tokio-rustls), which is storage, not a protocol
            // the keystore serves; HTTP (hyper, axum) and KMIP stay out.
        ],
    );
}
