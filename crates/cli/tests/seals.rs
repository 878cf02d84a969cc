//! The automatic seals end to end, with the real devices started by each test:
//! a SoftHSM2 token (PKCS#11), swtpm (TPM 2.0), a second Cryptainer and
//! PyKMIP's server (remote KMIP). Each server unseals itself without a person,
//! survives restarts, says why when its device is missing or refuses, and moves
//! its root between seals both ways, surviving SIGKILL at every step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod seal_support;
mod server_support;

use reqwest::Method;
use seal_support::{PIN, PIN_ENV, PyKmip, RemoteKms, SealedServer, SoftHsm, Swtpm, kmip_seal_toml};
use serde_json::json;
use server_support::wait_until;

const TOKEN: &str = "cryptainer";

fn softhsm_server(dir: &std::path::Path, extra: &str) -> (SoftHsm, SealedServer) {
    let hsm = SoftHsm::new(dir, TOKEN);
    let conf = hsm.conf.display().to_string();
    let server = SealedServer::new(
        dir,
        &hsm.seal_toml("seal", TOKEN, extra),
        &[(PIN_ENV, PIN), ("SOFTHSM2_CONF", &conf)],
    );
    (hsm, server)
}

#[test]
fn pkcs11_seal_unseals_itself_at_every_start() {
    let dir = tempfile::tempdir().unwrap();
    let (_hsm, mut server) = softhsm_server(dir.path(), "");
    server.start();
    let recovery = server.init_automatic(3, 2);
    assert_eq!(recovery.len(), 3);
    server.wait_unsealed();
    let status = server.status();
    assert_eq!(status["seal"], "pkcs11");
    assert_eq!(status["seal_token"], TOKEN);
    assert_eq!(status["seal_key"], "cryptainer-root-wrap");
    assert_eq!(status["seal_mechanism"], "aes-gcm");
    assert_eq!(
        (
            status["recovery_threshold"].clone(),
            status["recovery_shares"].clone()
        ),
        (json!(2), json!(3))
    );
    assert_eq!(status["seal_device"], "reachable");
    let material = server.make_key("payments");
    let unseals = server.audited("sys.unseal");
    assert!(
        unseals.iter().any(|record| record["object_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("pkcs11 token=cryptainer key=cryptainer-root-wrap"))),
        "{unseals:?}"
    );
    let output = server.running().cli(&["status"]);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("pkcs11 (token cryptainer, key cryptainer-root-wrap)"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    // SIGKILL and start again: nobody unseals, the token does.
    server.kill();
    server.start();
    server.wait_unsealed();
    assert_eq!(server.material("payments"), material);

    // Rotating the root needs the recovery shares under an automatic seal.
    let refused = server.api(Method::POST, "/v1/sys/rotate-root", None);
    assert_eq!(
        (refused.status, refused.body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("recovery shares")
    );
    let rotated = server.api(
        Method::POST,
        "/v1/sys/rotate-root",
        Some(json!({"recovery_shares": [recovery[2], recovery[0]]})),
    );
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    server.kill();
    server.start();
    server.wait_unsealed();
    assert_eq!(server.material("payments"), material);
}

#[test]
fn pkcs11_seal_uses_key_wrap_with_padding_when_told_to() {
    let dir = tempfile::tempdir().unwrap();
    let (_hsm, mut server) = softhsm_server(dir.path(), "mechanism = \"aes-key-wrap-pad\"\n");
    server.start();
    server.init_automatic(1, 1);
    server.wait_unsealed();
    assert_eq!(server.status()["seal_mechanism"], "aes-key-wrap-pad");
    let material = server.make_key("wrapped");
    server.kill();
    server.start();
    server.wait_unsealed();
    assert_eq!(server.material("wrapped"), material);
}

#[test]
fn a_wrong_pin_is_refused_once_and_never_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (_hsm, mut server) = softhsm_server(dir.path(), "");
    server.start();
    server.init_automatic(1, 1);
    server.wait_unsealed();
    server.kill();

    server.start_with(&[(PIN_ENV, "11111111")]);
    wait_until("the seal to give up", || {
        server.status()["seal_state"] == "refused"
    });
    let status = server.status();
    assert_eq!(status["sealed"], true);
    assert_eq!(
        status["seal_attempts"], 1,
        "a refused PIN is never tried again"
    );
    assert!(
        status["seal_error"]
            .as_str()
            .unwrap()
            .contains("refused the PIN"),
        "{status}"
    );
    let sealed = server.api(Method::GET, "/v1/keys", None);
    assert_eq!(sealed.status, 503);
    server.kill();

    // With the right PIN it unseals, and the log holds the one refusal.
    server.start();
    server.wait_unsealed();
    let refusals: Vec<_> = server
        .audited("sys.unseal")
        .into_iter()
        .filter(|record| record["result"] == "seal_refused")
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
}

#[test]
fn tpm2_seal_with_a_pcr_policy_opens_on_its_own_tpm_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut tpm = Swtpm::start(&dir.path().join("tpm"));
    let mut server = SealedServer::new(dir.path(), &tpm.seal_toml("seal", "[0, 7]"), &[]);
    server.start();
    server.init_automatic(1, 1);
    server.wait_unsealed();
    let status = server.status();
    assert_eq!(status["seal"], "tpm2");
    assert_eq!(status["seal_key"], "pcrs=0,7");
    let material = server.make_key("disk");
    server.kill();
    server.start();
    server.wait_unsealed();
    assert_eq!(server.material("disk"), material);
    server.kill();

    // The same disk next to another TPM (a copy on another machine): refused.
    tpm.stop();
    tpm.state = dir.path().join("another-tpm");
    tpm.resume();
    server.start();
    wait_until("the seal to give up", || {
        server.status()["seal_state"] == "refused"
    });
    let status = server.status();
    assert_eq!(status["sealed"], true);
    assert!(
        status["seal_error"]
            .as_str()
            .unwrap()
            .contains("another TPM"),
        "{status}"
    );
}

#[test]
fn a_missing_device_keeps_the_server_sealed_until_it_answers_and_a_lost_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut tpm = Swtpm::start(&dir.path().join("tpm"));
    let mut server = SealedServer::new(dir.path(), &tpm.seal_toml("seal", "[]"), &[]);
    server.start();
    server.init_automatic(1, 1);
    server.wait_unsealed();
    let material = server.make_key("kept");

    // The TPM vanishes while unsealed: the server keeps serving and says so.
    tpm.stop();
    wait_until("the loss to be seen", || {
        server.status()["seal_device"] == "unreachable"
    });
    assert!(server.metrics().contains("cryptainer_seal_device_up 0"));
    assert_eq!(server.material("kept"), material);
    tpm.resume();
    wait_until("the TPM to be seen again", || {
        server.status()["seal_device"] == "reachable"
    });
    assert!(server.metrics().contains("cryptainer_seal_device_up 1"));
    let results: Vec<_> = server
        .audited("sys.seal_device")
        .iter()
        .map(|record| record["result"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(results, ["seal_unavailable", "ok"]);

    // A start without the TPM stays sealed, says why, and unseals once it answers.
    server.kill();
    tpm.stop();
    server.start();
    wait_until("a failed attempt", || {
        server.status()["seal_error"]
            .as_str()
            .is_some_and(|error| error.contains("cannot reach"))
    });
    let status = server.status();
    assert_eq!(
        (status["sealed"].clone(), status["seal_state"].clone()),
        (json!(true), json!("retrying"))
    );
    tpm.resume();
    server.wait_unsealed();
    assert_eq!(server.material("kept"), material);
    let unavailable = server
        .audited("sys.unseal")
        .into_iter()
        .filter(|record| record["result"] == "seal_unavailable")
        .count();
    assert_eq!(unavailable, 1, "one record per outage, not per attempt");
}

#[test]
fn kmip_seal_on_a_second_cryptainer_by_encrypt_and_by_get() {
    let dir = tempfile::tempdir().unwrap();
    let remote = RemoteKms::start(dir.path());
    for method in ["encrypt", "get"] {
        let server_dir = dir.path().join(method);
        std::fs::create_dir_all(&server_dir).unwrap();
        let mut server = SealedServer::new(&server_dir, &remote.seal_toml("seal", method), &[]);
        server.start();
        server.init_automatic(1, 1);
        server.wait_unsealed();
        let status = server.status();
        assert_eq!(status["seal"], "kmip");
        assert_eq!(
            status["seal_token"],
            format!("127.0.0.1:{}", remote.kmip_port)
        );
        assert_eq!(status["seal_mechanism"], method);
        let material = server.make_key("remote");
        server.kill();
        server.start();
        server.wait_unsealed();
        assert_eq!(server.material("remote"), material, "{method}");
    }
}

#[test]
fn kmip_seal_on_pykmip_server() {
    let dir = tempfile::tempdir().unwrap();
    let pykmip = PyKmip::start(dir.path());
    let mut server = SealedServer::new(
        dir.path(),
        &kmip_seal_toml("seal", &pykmip.address, &pykmip.client_dir, "encrypt"),
        &[],
    );
    server.start();
    server.init_automatic(1, 1);
    server.wait_unsealed();
    let material = server.make_key("py");
    server.kill();
    server.start();
    server.wait_unsealed();
    assert_eq!(server.material("py"), material);
}

/// Starts the server with `crash_at`, asks for the migration, and checks that
/// the process died there.
fn migrate_and_crash(
    server: &mut SealedServer,
    crash_at: &str,
    body: serde_json::Value,
    shares: &[String],
) {
    server.start_with(&[(keystore::CRASH_AT_ENV, crash_at)]);
    if server.status()["sealed"] == true && server.status()["seal"] == "shamir" {
        server.unseal_with(shares);
    }
    server.wait_unsealed();
    let answer = server.try_api(Method::POST, "/v1/sys/seal/migrate", body);
    assert!(
        answer.is_none(),
        "the server answered instead of aborting at {crash_at}: {:?}",
        answer.map(|a| a.body)
    );
    assert!(!server.wait_for_exit().success());
}

#[test]
fn seal_migration_shamir_to_pkcs11_and_back_survives_sigkill_at_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = SoftHsm::new(dir.path(), TOKEN);
    let conf = hsm.conf.display().to_string();
    let env = [(PIN_ENV, PIN), ("SOFTHSM2_CONF", conf.as_str())];
    let mut server = SealedServer::new(dir.path(), "", &env);
    server.start();
    let shares = server.init_shamir(3, 2);
    server.unseal_with(&shares[..2]);
    let material = server.make_key("moving");
    server.kill();

    let to_pkcs11 = json!({"to": "pkcs11", "consent": {"unseal_shares": [shares[0], shares[2]]}});
    server.configure(&hsm.seal_toml("seal", TOKEN, ""));
    // Killed after the token sealed the root, before the commit: still Shamir.
    migrate_and_crash(
        &mut server,
        "seal-migrate-sealed",
        to_pkcs11.clone(),
        &shares[1..],
    );
    server.start();
    assert_eq!(server.status()["seal"], "shamir");
    server.unseal_with(&shares[1..]);
    assert_eq!(server.material("moving"), material);
    server.kill();
    // Killed right after the commit: the token unseals it.
    migrate_and_crash(
        &mut server,
        "seal-migrate-committed",
        to_pkcs11,
        &shares[..2],
    );
    server.start();
    server.wait_unsealed();
    assert_eq!(server.status()["seal"], "pkcs11");
    assert_eq!(
        server.status()["recovery_threshold"],
        2,
        "the unseal shares became the recovery shares"
    );
    assert_eq!(server.material("moving"), material);
    server.kill();

    // Back to Shamir, the PKCS#11 seal kept as [previous_seal] meanwhile.
    server.configure(&format!(
        "[seal]\nkind = \"shamir\"\n{}",
        hsm.seal_toml("previous_seal", TOKEN, "")
    ));
    let to_shamir = json!({"to": "shamir", "consent": {"recovery_shares": [shares[1], shares[2]]}});
    migrate_and_crash(&mut server, "seal-migrate-sealed", to_shamir.clone(), &[]);
    server.start();
    server.wait_unsealed();
    assert_eq!(server.status()["seal"], "pkcs11");
    server.kill();
    migrate_and_crash(&mut server, "seal-migrate-committed", to_shamir, &[]);
    server.start();
    let status = server.status();
    assert_eq!(
        (status["seal"].clone(), status["sealed"].clone()),
        (json!("shamir"), json!(true))
    );
    // The people's original shares unseal it again; nothing was re-encrypted.
    server.unseal_with(&shares[..2]);
    assert_eq!(server.material("moving"), material);
}

#[test]
fn passphrase_to_tpm2_waits_for_its_new_recovery_shares_then_moves_to_pkcs11() {
    let dir = tempfile::tempdir().unwrap();
    let tpm = Swtpm::start(&dir.path().join("tpm"));
    let hsm = SoftHsm::new(dir.path(), TOKEN);
    let conf = hsm.conf.display().to_string();
    let env = [(PIN_ENV, PIN), ("SOFTHSM2_CONF", conf.as_str())];
    let passphrase = "correct horse battery staple";
    let mut server = SealedServer::new(dir.path(), "", &env);
    server.start();
    let init = server.api(
        Method::POST,
        "/v1/sys/init",
        Some(json!({"passphrase": passphrase})),
    );
    assert_eq!(init.status, 200, "{}", init.body);
    server.token = init.body["root_token"].as_str().unwrap().to_owned();
    let unseal = server.api(
        Method::POST,
        "/v1/sys/unseal",
        Some(json!({"passphrase": passphrase})),
    );
    assert_eq!(unseal.status, 200, "{}", unseal.body);
    let material = server.make_key("moving");
    server.kill();

    server.configure(&tpm.seal_toml("seal", "[7]"));
    server.start();
    server.api(
        Method::POST,
        "/v1/sys/unseal",
        Some(json!({"passphrase": passphrase})),
    );
    let output = server.running().cli_with_input(
        &[
            "operator",
            "seal",
            "migrate",
            "--to",
            "tpm2",
            "--recovery-shares",
            "3",
            "--recovery-threshold",
            "2",
        ],
        format!("{passphrase}\n").as_bytes(),
    );
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("NOT in use yet"), "{printed}");
    let recovery: Vec<String> = printed
        .lines()
        .filter_map(|line| {
            line.strip_prefix("Recovery share ")
                .and_then(|rest| rest.split_once(": "))
                .map(|(_, share)| share.to_owned())
        })
        .collect();
    assert_eq!(recovery.len(), 3);
    assert_eq!(server.status()["seal_migration_pending"], "tpm2");

    // Killed while it waits: the passphrase still unseals.
    server.kill();
    server.start();
    assert_eq!(server.status()["seal"], "passphrase");
    server.api(
        Method::POST,
        "/v1/sys/unseal",
        Some(json!({"passphrase": passphrase})),
    );
    let output = server.running().cli_with_input(
        &["operator", "seal", "migrate", "--complete"],
        format!("{}\n{}\n", recovery[0], recovery[2]).as_bytes(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(server.status()["seal"], "tpm2");
    server.kill();
    server.start();
    server.wait_unsealed();
    assert_eq!(server.material("moving"), material);
    server.kill();

    // From one device to another: TPM to PKCS#11, with the recovery shares.
    server.configure(&format!(
        "{}{}",
        hsm.seal_toml("seal", TOKEN, ""),
        tpm.seal_toml("previous_seal", "[7]")
    ));
    server.start();
    server.wait_unsealed();
    let output = server.running().cli_with_input(
        &["operator", "seal", "migrate", "--to", "pkcs11"],
        format!("{}\n{}\n", recovery[1], recovery[2]).as_bytes(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(server.status()["seal"], "pkcs11");
    server.kill();
    server.start();
    server.wait_unsealed();
    assert_eq!(server.material("moving"), material);
}
