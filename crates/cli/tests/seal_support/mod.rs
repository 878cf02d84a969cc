//! The devices behind the automatic seals, started by the tests themselves in
//! temporary directories: a SoftHSM2 token, a swtpm TPM on loopback ports, a
//! second Cryptainer as a remote KMIP key manager, and PyKMIP's server; and a
//! server configured with one of them.
#![allow(dead_code)] // Each test file uses a different part of the support code.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)] // In tests a panic is the failure report.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::server_support::{Answer, TestServer, free_port, request, runtime, wait_until};

/// The PIN of the test tokens.
pub const PIN: &str = "87654321";

/// The variable the seal reads the PIN from in these tests.
pub const PIN_ENV: &str = "CRYPTAINER_TEST_HSM_PIN";

/// Debian's SoftHSM2 module.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A SoftHSM2 configuration and token directory of its own, with one token.
pub struct SoftHsm {
    pub conf: PathBuf,
}

impl SoftHsm {
    /// A fresh token labelled `label` (user PIN [`PIN`]) under `dir`.
    pub fn new(dir: &Path, label: &str) -> SoftHsm {
        let tokens = dir.join("softhsm-tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let output = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label, "--pin", PIN])
            .args(["--so-pin", "12345678"])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .expect("run softhsm2-util (apt-get install softhsm2)");
        assert!(
            output.status.success(),
            "softhsm2-util: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        SoftHsm { conf }
    }

    /// The `[seal]` table of a PKCS#11 seal on this token.
    pub fn seal_toml(&self, table: &str, label: &str, extra: &str) -> String {
        format!(
            "[{table}]\nkind = \"pkcs11\"\nmodule = \"{SOFTHSM_MODULE}\"\ntoken_label = \"{label}\"\n\
             pin_env = \"{PIN_ENV}\"\n{extra}"
        )
    }
}

/// A software TPM 2.0 (swtpm) on two loopback ports, its state in a directory.
pub struct Swtpm {
    child: Option<Child>,
    pub port: u16,
    pub state: PathBuf,
}

/// Two consecutive free loopback ports (swtpm's command and control ports).
fn free_port_pair() -> u16 {
    loop {
        let port = free_port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

impl Swtpm {
    /// A new TPM whose state lives in `state`.
    pub fn start(state: &Path) -> Swtpm {
        std::fs::create_dir_all(state).unwrap();
        let mut tpm = Swtpm {
            child: None,
            port: free_port_pair(),
            state: state.to_path_buf(),
        };
        tpm.resume();
        tpm
    }

    /// Starts the TPM again on the same ports, with the state in `self.state`.
    pub fn resume(&mut self) {
        std::fs::create_dir_all(&self.state).unwrap();
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate"])
            .arg(format!("dir={}", self.state.display()))
            .arg("--server")
            .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", self.port))
            .arg("--ctrl")
            .arg(format!(
                "type=tcp,port={},bindaddr=127.0.0.1",
                self.port + 1
            ))
            .args(["--flags", "not-need-init,startup-clear"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start swtpm (apt-get install swtpm swtpm-tools)");
        self.child = Some(child);
        let port = self.port;
        wait_until("swtpm to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// Stops the TPM (the device vanishes).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The `[seal]` table of a TPM seal bound to `pcrs`.
    pub fn seal_toml(&self, table: &str, pcrs: &str) -> String {
        format!(
            "[{table}]\nkind = \"tpm2\"\ntcti = \"swtpm:host=127.0.0.1,port={}\"\npcrs = {pcrs}\n",
            self.port
        )
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A second Cryptainer (development mode) whose KMIP listener holds the key of
/// a remote KMIP seal, on fixed ports so that it can be stopped and started.
pub struct RemoteKms {
    pub server: Option<TestServer>,
    pub data_dir: PathBuf,
    pub https_port: u16,
    pub kmip_port: u16,
    /// `cert.pem`, `key.pem`, `ca.pem` of the sealing server's client certificate.
    pub client_dir: PathBuf,
}

impl RemoteKms {
    /// Starts it and issues a client certificate for the sealing server.
    pub fn start(dir: &Path) -> RemoteKms {
        let mut remote = RemoteKms {
            server: None,
            data_dir: dir.join("remote-kms"),
            https_port: free_port(),
            kmip_port: free_port(),
            client_dir: dir.join("remote-kms-client"),
        };
        remote.resume();
        let output = remote.server.as_ref().unwrap().cli(&[
            "kmip",
            "client-cert",
            "sealer",
            "--tenant",
            "default",
            "--out",
            remote.client_dir.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "client-cert: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        remote
    }

    /// Starts it again on the same ports and data.
    pub fn resume(&mut self) {
        let https = format!("127.0.0.1:{}", self.https_port);
        let kmip = format!("127.0.0.1:{}", self.kmip_port);
        self.server = Some(TestServer::start_dev_at(&self.data_dir, &https, &kmip));
    }

    /// Stops it (the device vanishes).
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.kill();
        }
    }

    /// The `[seal]` table of a KMIP seal on this server.
    pub fn seal_toml(&self, table: &str, method: &str) -> String {
        kmip_seal_toml(
            table,
            &format!("127.0.0.1:{}", self.kmip_port),
            &self.client_dir,
            method,
        )
    }
}

/// The `[seal]` table of a KMIP seal with the client files in `client_dir`.
pub fn kmip_seal_toml(table: &str, server: &str, client_dir: &Path, method: &str) -> String {
    format!(
        "[{table}]\nkind = \"kmip\"\nserver = \"{server}\"\nca_file = \"{}\"\ncert_file = \"{}\"\n\
         key_file = \"{}\"\nmethod = \"{method}\"\n",
        client_dir.join("ca.pem").display(),
        client_dir.join("cert.pem").display(),
        client_dir.join("key.pem").display(),
    )
}

/// PyKMIP's own server with certificates of a throwaway CA.
pub struct PyKmip {
    child: Child,
    pub address: String,
    pub client_dir: PathBuf,
}

impl PyKmip {
    /// Starts `pykmip-server` on a free loopback port under `dir`.
    pub fn start(dir: &Path) -> PyKmip {
        let dir = dir.join("pykmip");
        let client_dir = dir.join("client");
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        std::fs::create_dir_all(&client_dir).unwrap();
        let ca =
            pki::CertificateAuthority::generate("seal test CA", Duration::from_secs(3600)).unwrap();
        let (server_cert, server_key) = ca
            .issue_server_cert_and_key(&["127.0.0.1".to_owned()], Duration::from_secs(3600))
            .unwrap();
        let client = ca
            .issue_client_cert(
                &pki::ClientIdentity::new("cryptainer-seal"),
                Duration::from_secs(3600),
            )
            .unwrap();
        std::fs::write(dir.join("server.pem"), &server_cert.cert_pem).unwrap();
        std::fs::write(dir.join("server-key.pem"), server_key.as_bytes()).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.cert_pem()).unwrap();
        std::fs::write(client_dir.join("ca.pem"), ca.cert_pem()).unwrap();
        std::fs::write(client_dir.join("cert.pem"), &client.cert_pem).unwrap();
        std::fs::write(
            client_dir.join("key.pem"),
            client.key_pem_secret().unwrap().as_bytes(),
        )
        .unwrap();
        let port = free_port();
        // PyKMIP offers only ECDSA suites in its TLS 1.2 mode, which our
        // P-256 certificates fit.
        std::fs::write(
            dir.join("server.conf"),
            format!(
                "[server]\nhostname=127.0.0.1\nport={port}\ncertificate_path={0}/server.pem\n\
                 key_path={0}/server-key.pem\nca_path={0}/ca.pem\nauth_suite=TLS1.2\n\
                 policy_path={0}/policies\nenable_tls_client_auth=True\nlogging_level=WARNING\n\
                 database_path={0}/pykmip.db\n",
                dir.display()
            ),
        )
        .unwrap();
        let child = Command::new("pykmip-server")
            .arg("-f")
            .arg(dir.join("server.conf"))
            .arg("-l")
            .arg(dir.join("pykmip.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pykmip-server (pip install pykmip)");
        let address = format!("127.0.0.1:{port}");
        let probe = address.clone();
        wait_until("pykmip-server to listen", || {
            std::net::TcpStream::connect(&probe).is_ok()
        });
        PyKmip {
            child,
            address,
            client_dir,
        }
    }
}

impl Drop for PyKmip {
    fn drop(&mut self) {
        // SIGTERM: pykmip-server then stops its policy monitor process, which
        // a SIGKILL would leave running.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A server configured with a seal, its files under one directory.
pub struct SealedServer {
    pub dir: PathBuf,
    pub port: u16,
    pub env: Vec<(String, String)>,
    pub server: Option<TestServer>,
    pub token: String,
}

impl SealedServer {
    /// A server in `dir` whose configuration ends with `seal_tables`.
    pub fn new(dir: &Path, seal_tables: &str, env: &[(&str, &str)]) -> SealedServer {
        let sealed = SealedServer {
            dir: dir.to_path_buf(),
            port: free_port(),
            env: env
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            server: None,
            token: String::new(),
        };
        sealed.configure(seal_tables);
        sealed
    }

    /// Rewrites the configuration's seal tables (takes effect at the next start).
    pub fn configure(&self, seal_tables: &str) {
        std::fs::write(
            self.dir.join("server.toml"),
            format!(
                "listen_addr = \"127.0.0.1:{}\"\ndata_dir = \"{}\"\nmlock = false\n\
                 seal_retry_max_secs = 1\nseal_check_interval_secs = 1\n{seal_tables}",
                self.port,
                self.dir.join("data").display()
            ),
        )
        .unwrap();
    }

    /// Starts the server with the configured environment and `extra` on top.
    pub fn start_with(&mut self, extra: &[(&str, &str)]) -> &TestServer {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        env.extend_from_slice(extra);
        let mut server = TestServer::start_config_with_env(
            &self.dir.join("server.toml"),
            &self.dir.join("data"),
            self.port,
            &env,
        );
        server.token.clone_from(&self.token);
        self.server = Some(server);
        self.server.as_ref().unwrap()
    }

    /// Starts the server.
    pub fn start(&mut self) -> &TestServer {
        self.start_with(&[])
    }

    /// The running server.
    pub fn running(&self) -> &TestServer {
        self.server.as_ref().expect("the server runs")
    }

    /// Kills the server with SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.kill();
        }
    }

    /// Waits for the server process to end on its own (a crash point).
    pub fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let mut server = self.server.take().expect("the server runs");
        server.child.wait().expect("wait for the server")
    }

    /// A request with the root token.
    pub fn api(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let server = self.running();
        runtime().block_on(request(
            &server.client(),
            server,
            method,
            path,
            Some(&self.token),
            body,
        ))
    }

    /// `GET /v1/sys/status`.
    pub fn status(&self) -> Value {
        let answer = self.api(Method::GET, "/v1/sys/status", None);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    }

    /// Waits until the server is unsealed (by its device, without a person).
    pub fn wait_unsealed(&self) {
        wait_until("the server to unseal itself", || {
            self.status()["sealed"] == false
        });
    }

    /// Initializes with the configured automatic seal; returns the recovery shares.
    pub fn init_automatic(&mut self, shares: u8, threshold: u8) -> Vec<String> {
        let answer = self.api(
            Method::POST,
            "/v1/sys/init",
            Some(json!({"recovery_shares": shares, "recovery_threshold": threshold})),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["unseal_shares"], json!([]));
        self.adopt_token(&answer);
        strings(&answer.body["recovery_shares"])
    }

    /// Initializes with Shamir shares; returns them.
    pub fn init_shamir(&mut self, shares: u8, threshold: u8) -> Vec<String> {
        let answer = self.api(
            Method::POST,
            "/v1/sys/init",
            Some(json!({"shares": shares, "threshold": threshold})),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        self.adopt_token(&answer);
        strings(&answer.body["unseal_shares"])
    }

    fn adopt_token(&mut self, answer: &Answer) {
        self.token = answer.body["root_token"].as_str().unwrap().to_owned();
        if let Some(server) = self.server.as_mut() {
            server.token.clone_from(&self.token);
        }
    }

    /// Gives unseal shares one by one.
    pub fn unseal_with(&self, shares: &[String]) {
        for share in shares {
            let answer = self.api(
                Method::POST,
                "/v1/sys/unseal",
                Some(json!({"share": share})),
            );
            assert_eq!(answer.status, 200, "{}", answer.body);
        }
    }

    /// Makes a key and returns its material (base64).
    pub fn make_key(&self, name: &str) -> String {
        let answer = self.api(
            Method::POST,
            "/v1/keys",
            Some(json!({"name": name, "algorithm": "aes-256"})),
        );
        assert_eq!(answer.status, 201, "{}", answer.body);
        self.material(name)
    }

    /// A key's material (base64).
    pub fn material(&self, name: &str) -> String {
        let answer = self.api(Method::GET, &format!("/v1/keys/{name}/material"), None);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["material"].as_str().unwrap().to_owned()
    }

    /// The audit records of `operation`, oldest first.
    pub fn audited(&self, operation: &str) -> Vec<Value> {
        let answer = self.api(Method::GET, "/v1/audit/records?limit=1000", None);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["records"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|record| record["operation"] == operation)
            .collect()
    }

    /// `/metrics`.
    pub fn metrics(&self) -> String {
        let server = self.running();
        runtime().block_on(async {
            server
                .client()
                .get(format!("{}/metrics", server.addr))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    }
}

impl Drop for SealedServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The strings of a JSON array.
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

impl SealedServer {
    /// A request that may find the server gone (it aborted at a crash point):
    /// `None` when no answer came.
    pub fn try_api(&self, method: Method, path: &str, body: Value) -> Option<Answer> {
        let server = self.running();
        runtime().block_on(async {
            let response = server
                .client()
                .request(method, format!("{}{path}", server.addr))
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await
                .ok()?;
            let status = response.status().as_u16();
            let text = response.text().await.ok()?;
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            Some(Answer { status, body })
        })
    }
}
