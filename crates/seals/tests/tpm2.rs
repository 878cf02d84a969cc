//! The TPM 2.0 seal against a real software TPM (swtpm, started here on
//! loopback ports): bound to a PCR, the root opens only while the PCR holds
//! the value it had at sealing, and the refusal is one the server does not
//! retry. (The server-level tests cover start, restart, a lost TPM and another
//! TPM: `crates/cli/tests/seals.rs`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::{Child, Command, Stdio};
use std::str::FromStr as _;

use keystore::seal::{Seal, SealError};
use keystore::secret::Key256;
use seals::tpm2::{Tpm2Config, Tpm2Seal};
use tss_esapi::Context;
use tss_esapi::handles::PcrHandle;
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::structures::{Digest, DigestValues};
use tss_esapi::tcti_ldr::TctiNameConf;

struct Swtpm(Child);

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh swtpm on two consecutive free ports; returns it and its TCTI.
fn swtpm(state: &std::path::Path) -> (Swtpm, String) {
    let port = loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            break port;
        }
    };
    let child = Command::new("swtpm")
        .args(["socket", "--tpm2", "--tpmstate"])
        .arg(format!("dir={}", state.display()))
        .arg("--server")
        .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
        .arg("--ctrl")
        .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
        .args(["--flags", "not-need-init,startup-clear"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start swtpm (apt-get install swtpm swtpm-tools)");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed().as_secs() < 60, "swtpm did not listen");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (Swtpm(child), format!("swtpm:host=127.0.0.1,port={port}"))
}

#[test]
fn a_pcr_bound_root_opens_only_while_the_pcr_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (_tpm, tcti) = swtpm(dir.path());
    // PCR 16 is the debug PCR: extendable and resettable from software.
    let seal = Tpm2Seal::new(Tpm2Config {
        tcti: tcti.clone(),
        pcrs: vec![16],
    });
    let root = Key256::generate();
    let sealed = seal.seal_root(&root).unwrap();
    assert!(seal.unseal_root(&sealed).unwrap().ct_eq(&root));
    seal.check().unwrap();

    let mut context = Context::new(TctiNameConf::from_str(&tcti).unwrap()).unwrap();
    let mut measurement = DigestValues::new();
    measurement.set(
        HashingAlgorithm::Sha256,
        Digest::try_from(vec![0x5a; 32]).unwrap(),
    );
    context
        .execute_with_nullauth_session(|context| context.pcr_extend(PcrHandle::Pcr16, measurement))
        .unwrap();
    match seal.unseal_root(&sealed) {
        Err(SealError::DeviceRefused { source, .. }) => {
            assert!(source.to_string().contains("PCRs 16"), "{source}");
        }
        other => panic!("a changed PCR must be a refusal, not {other:?}"),
    }

    // Back to the value it had at sealing, the root opens again.
    context
        .execute_with_nullauth_session(|context| context.pcr_reset(PcrHandle::Pcr16))
        .unwrap();
    assert!(seal.unseal_root(&sealed).unwrap().ct_eq(&root));
}
