//! Interoperability with the real PyKMIP client (`pip install pykmip`): its
//! `ProxyKmipClient` drives `cryptainer server --dev` over TLS 1.2 with a client
//! certificate from `cryptainer kmip client-cert`, in every KMIP version it
//! speaks. The client script is tests/interop/pykmip_client.py.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::path::PathBuf;
use std::process::Command;

use server_support::TestServer;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/pykmip_client.py")
}

#[test]
fn pykmip_proxy_client_works_in_every_kmip_version_it_speaks() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("data"));
    let certs = dir.path().join("pykmip");
    let output = server.cli(&[
        "kmip",
        "client-cert",
        "pykmip",
        "--tenant",
        "interop",
        "--out",
        certs.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let kmip_addr = server
        .kmip_addr
        .clone()
        .expect("dev.env names the KMIP address");
    let (host, port) = kmip_addr.rsplit_once(':').unwrap();
    for version in ["1.0", "1.1", "1.2", "1.3", "1.4", "2.0"] {
        let output = Command::new("python3")
            .arg(script())
            .args([host, port])
            .arg(certs.join("cert.pem"))
            .arg(certs.join("key.pem"))
            .arg(certs.join("ca.pem"))
            .arg(version)
            .output()
            .expect("run python3 (install PyKMIP with `pip install pykmip`)");
        assert!(
            output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "ok",
            "PyKMIP with KMIP {version} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
