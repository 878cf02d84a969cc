//! PyKMIP 0.11's own integration suite (`kmip/tests/integration/services/`
//! `test_integration.py` and `test_proxykmipclient.py` from its source
//! distribution, run as PyKMIP ships them) against `cryptainer server --dev`:
//! the client's own expectations are the judge, not a script of ours. It runs
//! at the client's default protocol version (KMIP 1.2) and again at KMIP 2.0,
//! each time as a new tenant.
//!
//! Every one of the 37 tests must pass, but for the few where PyKMIP itself
//! is wrong, listed in [`CLIENT_ERRORS`] with the error PyKMIP raises and why
//! (docs/kmip.md cites the sections): those must fail exactly so, which
//! keeps the list honest. PyKMIP's own server passes 37 at 1.2 and 29 at 2.0
//! against the same suite.
//!
//! The source distribution is `pykmip==0.11.0` from PyPI: the one in
//! `CRYPTAINER_PYKMIP_SDIST` (a path to the `.tar.gz`, which `.ci/run`
//! downloads), or else one `pip download` fetches into a temporary directory.
//! Needs python3 with `pykmip==0.11.0` and `pytest` installed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use server_support::TestServer;

/// The version of PyKMIP whose suite is the judge.
const PYKMIP_VERSION: &str = "0.11.0";

/// How many tests the two files hold (15 and 22).
const SUITE_TESTS: usize = 37;

/// The tests that fail because of PyKMIP, not the server, by run: the test,
/// the error PyKMIP raises (in the output), and why.
const CLIENT_ERRORS: &[(&str, &str, &str, &str)] = &[
    (
        "default",
        "test_proxykmipclient.py::TestProxyKmipClientIntegration::test_create_get_wrapped_destroy",
        "ReadValueError: Tried to read Base.type: expected 1, received 8",
        "a wrapped Key Value is a Byte String (KMIP 1.4 sections 2.1.3, Table 7, and 2.1.4), which PyKMIP reads as a structure",
    ),
    (
        "2.0",
        "test_proxykmipclient.py::TestProxyKmipClientIntegration::test_create_get_wrapped_destroy",
        "ReadValueError: Tried to read Base.type: expected 1, received 8",
        "a wrapped Key Value is a Byte String (KMIP 2.1 sections 3.1, Table 12, and 3.2), which PyKMIP reads as a structure",
    ),
    (
        "2.0",
        "test_integration.py::TestIntegration::test_modify_delete_attribute",
        "AttributeError: 'NoneType' object has no attribute 'value'",
        "the test reads an Attribute Index from a 2.0 Get Attributes answer; KMIP 2.x attributes carry none",
    ),
    (
        "2.0",
        "test_integration.py::TestIntegration::test_symmetric_key_create_getattributes_locate_destroy",
        "AttributeNotSupported: Attribute OPERATION_POLICY_NAME is not supported by KMIP 2.0",
        "PyKMIP refuses to send the Locate (Operation Policy Name is not a KMIP 2.0 attribute)",
    ),
    (
        "2.0",
        "test_proxykmipclient.py::TestProxyKmipClientIntegration::test_create_getattributes_locate_destroy",
        "AttributeNotSupported: Attribute OPERATION_POLICY_NAME is not supported by KMIP 2.0",
        "PyKMIP refuses to send the Locate (Operation Policy Name is not a KMIP 2.0 attribute)",
    ),
    (
        "2.0",
        "test_proxykmipclient.py::TestProxyKmipClientIntegration::test_modify_delete_attribute",
        "InvalidField: The ModifyAttribute request payload is missing the new attribute field",
        "PyKMIP refuses to send a 1.x Modify Attribute payload in 2.0",
    ),
];

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The `pykmip-0.11.0.tar.gz` source distribution.
fn sdist(scratch: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("CRYPTAINER_PYKMIP_SDIST") {
        return PathBuf::from(path);
    }
    let output = Command::new("python3")
        .args(["-m", "pip", "download", "--quiet", "--no-deps"])
        .args(["--no-binary", ":all:"])
        .arg(format!("pykmip=={PYKMIP_VERSION}"))
        .arg("--dest")
        .arg(scratch)
        .output()
        .expect("run python3 -m pip");
    assert!(
        output.status.success(),
        "pip could not download the pykmip {PYKMIP_VERSION} source distribution:\n{}",
        text(&output)
    );
    std::fs::read_dir(scratch)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().ends_with(".tar.gz"))
        .expect("pip downloaded a .tar.gz")
}

/// Extracts the suite (`kmip/tests/integration/`, its `conftest.py` and
/// `services/`) from the source distribution into `into`, and returns the
/// directory holding `conftest.py`.
fn extract_suite(sdist: &Path, into: &Path) -> PathBuf {
    let script = r#"
import sys, tarfile
with tarfile.open(sys.argv[1]) as archive:
    members = [m for m in archive.getmembers()
               if "/kmip/tests/integration/" in m.name and m.isfile()]
    archive.extractall(sys.argv[2], members=members, filter="data")
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(sdist)
        .arg(into)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "extracting the suite failed:\n{}",
        text(&output)
    );
    let root = std::fs::read_dir(into)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .next()
        .expect("the archive's top directory");
    root.join("kmip/tests/integration")
}

/// Runs the two test files against `kmip_addr` with the certificate in
/// `certs`, PyKMIP's configuration in a fresh HOME, at `version` (None: the
/// client's default); returns pytest's output.
fn run_suite(
    suite: &Path,
    home: &Path,
    certs: &Path,
    kmip_addr: &str,
    version: Option<&str>,
) -> Output {
    let (host, port) = kmip_addr.rsplit_once(':').unwrap();
    let config = format!(
        "[client]\nhost={host}\nport={port}\ncertfile={}\nkeyfile={}\nca_certs={}\n\
         cert_reqs=CERT_REQUIRED\nssl_version=PROTOCOL_SSLv23\n\
         do_handshake_on_connect=True\nsuppress_ragged_eofs=True\n",
        certs.join("cert.pem").display(),
        certs.join("key.pem").display(),
        certs.join("ca.pem").display(),
    );
    std::fs::create_dir_all(home.join(".pykmip")).unwrap();
    std::fs::write(home.join(".pykmip/pykmip.conf"), config).unwrap();
    let plugin_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop");
    let mut command = Command::new("python3");
    command
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "pykmip_version",
        ])
        .args(["--config", "client", "-q", "-rfE", "--color=no"])
        .arg(suite.join("services/test_integration.py"))
        .arg(suite.join("services/test_proxykmipclient.py"))
        .current_dir(suite)
        .env("HOME", home)
        .env("PYTHONPATH", &plugin_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    match version {
        Some(version) => command.env("CRYPTAINER_KMIP_VERSION", version),
        None => command.env_remove("CRYPTAINER_KMIP_VERSION"),
    };
    command
        .output()
        .expect("run python3 -m pytest (pip install pytest)")
}

/// The number pytest reports before `word` in its summary line.
fn count(summary: &str, word: &str) -> usize {
    summary
        .split([',', ' '])
        .collect::<Vec<_>>()
        .windows(2)
        .find(|pair| pair[1].starts_with(word))
        .and_then(|pair| pair[0].parse().ok())
        .unwrap_or(0)
}

#[test]
fn pykmip_own_integration_suite_passes_at_its_default_version_and_at_kmip_2_0() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("data"));
    let kmip_addr = server
        .kmip_addr
        .clone()
        .expect("dev.env names the KMIP address");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let suite = extract_suite(&sdist(&downloads), &dir.path().join("suite"));
    let mut failures = Vec::new();
    for (run, version) in [("default", None), ("2.0", Some("2.0"))] {
        // Each run as a tenant of its own: the suite's clean-up locates and
        // destroys every object the client can see.
        let certs = dir.path().join(format!("certs-{run}"));
        let output = server.cli(&[
            "kmip",
            "client-cert",
            "pykmip-suite",
            "--tenant",
            &format!("pykmip-{}", run.replace('.', "-")),
            "--out",
            certs.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", text(&output));
        let home = dir.path().join(format!("home-{run}"));
        let output = run_suite(&suite, &home, &certs, &kmip_addr, version);
        let report = text(&output);
        let summary = report
            .lines()
            .rev()
            .find(|line| line.contains(" passed") || line.contains(" failed"))
            .unwrap_or_default()
            .to_owned();
        println!("PyKMIP {PYKMIP_VERSION} suite, KMIP {run}: {summary}");
        let failed: Vec<&str> = report
            .lines()
            .filter_map(|line| line.strip_prefix("FAILED services/"))
            .map(|line| line.split_once(" - ").map_or(line, |(test, _)| test))
            .collect();
        let expected: Vec<&(&str, &str, &str, &str)> = CLIENT_ERRORS
            .iter()
            .filter(|(client_run, ..)| *client_run == run)
            .collect();
        for (_, test, error, why) in &expected {
            println!("  fails because of PyKMIP: {test}: {why}");
            if !failed.contains(test) || !report.contains(error) {
                failures.push(format!(
                    "KMIP {run}: {test} was expected to fail in PyKMIP with {error:?} ({why})"
                ));
            }
        }
        let unexpected: Vec<&&str> = failed
            .iter()
            .filter(|test| !expected.iter().any(|(_, known, ..)| known == *test))
            .collect();
        let passed = count(&summary, "passed");
        if !unexpected.is_empty() || passed != SUITE_TESTS - expected.len() {
            failures.push(format!(
                "KMIP {run}: {passed} of {SUITE_TESTS} passed; failing because of the server: {unexpected:?}\n{report}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
