//! Starts the real `cryptainer server` binary for end-to-end tests and talks to it
//! over HTTPS with the CA it generated.
#![allow(clippy::zombie_processes)] // TestServer kills and waits for its child in Drop.
#![allow(dead_code)] // Each test file uses a different part of the support code.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)] // In tests a panic is the failure report.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_cryptainer")
}

/// How long a server may take to become ready (Argon2id at init, first TLS
/// material): generous, because CI machines are slow and shared.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server process.
pub struct TestServer {
    pub child: Child,
    pub data_dir: PathBuf,
    pub addr: String,
    pub token: String,
    pub cacert: PathBuf,
    /// The KMIP listener's `host:port`, when the server started one.
    pub kmip_addr: Option<String>,
}

fn parse_env(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("export {name}=")))
        .map(str::to_owned)
}

impl TestServer {
    /// `cryptainer server --dev` on a free port in `data_dir`.
    pub fn start_dev(data_dir: &Path) -> TestServer {
        TestServer::spawn_dev(data_dir, &[], "warn", Stdio::inherit())
    }

    /// `cryptainer server --dev` on a free port in `data_dir`, with more flags.
    pub fn start_dev_with(data_dir: &Path, extra_args: &[&str]) -> TestServer {
        TestServer::spawn_dev(data_dir, extra_args, "warn", Stdio::inherit())
    }

    /// `cryptainer server --dev` on the given HTTPS and KMIP addresses, so that
    /// it can be stopped and started again where its clients expect it.
    pub fn start_dev_at(data_dir: &Path, listen: &str, kmip_listen: &str) -> TestServer {
        TestServer::spawn_dev_at(
            data_dir,
            &[],
            "warn",
            Stdio::inherit(),
            (listen, kmip_listen),
        )
    }

    /// `cryptainer server --dev` logging at debug level to `log`.
    pub fn start_dev_logged(data_dir: &Path, log: &Path) -> TestServer {
        let file = std::fs::File::create(log).expect("create the log file");
        TestServer::spawn_dev(data_dir, &[], "debug", Stdio::from(file))
    }

    fn spawn_dev(data_dir: &Path, extra_args: &[&str], level: &str, stderr: Stdio) -> TestServer {
        // Tests run side by side: each picks free ports (dev.env names them).
        let any_port = ("127.0.0.1:0", "127.0.0.1:0");
        TestServer::spawn_dev_at(data_dir, extra_args, level, stderr, any_port)
    }

    fn spawn_dev_at(
        data_dir: &Path,
        extra_args: &[&str],
        level: &str,
        stderr: Stdio,
        (listen, kmip_listen): (&str, &str),
    ) -> TestServer {
        let env_file = data_dir.join("dev.env");
        let _ = std::fs::remove_file(&env_file);
        let child = Command::new(binary())
            .args(["server", "--dev", "--listen", listen])
            .args(["--kmip-listen", kmip_listen, "--data-dir"])
            .arg(data_dir)
            .args(extra_args)
            .env("CRYPTAINER_LOG", level)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the server");
        let started = Instant::now();
        let mut server = loop {
            if let Ok(text) = std::fs::read_to_string(&env_file) {
                if let (Some(addr), Some(token), Some(cacert)) = (
                    parse_env(&text, "CRYPTAINER_ADDR"),
                    parse_env(&text, "CRYPTAINER_TOKEN"),
                    parse_env(&text, "CRYPTAINER_CACERT"),
                ) {
                    break TestServer {
                        child,
                        data_dir: data_dir.to_path_buf(),
                        addr,
                        token,
                        cacert: PathBuf::from(cacert),
                        kmip_addr: parse_env(&text, "CRYPTAINER_KMIP_ADDR"),
                    };
                }
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "the dev server did not write dev.env in time"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        server.wait_listening();
        server
    }

    /// `cryptainer server --config FILE` (production mode) listening on `port`.
    pub fn start_config(config: &Path, data_dir: &Path, port: u16) -> TestServer {
        TestServer::start_config_with_env(config, data_dir, port, &[])
    }

    /// [`TestServer::start_config`] with more environment variables (a seal's
    /// PIN, SOFTHSM2_CONF, a crash point).
    pub fn start_config_with_env(
        config: &Path,
        data_dir: &Path,
        port: u16,
        env: &[(&str, &str)],
    ) -> TestServer {
        let child = Command::new(binary())
            .args(["server", "--config"])
            .arg(config)
            .env("CRYPTAINER_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        let mut server = TestServer {
            child,
            data_dir: data_dir.to_path_buf(),
            addr: format!("https://127.0.0.1:{port}"),
            token: String::new(),
            cacert: data_dir.join("tls").join("ca.pem"),
            kmip_addr: None,
        };
        let started = Instant::now();
        while !server.cacert.exists() {
            assert!(started.elapsed() < READY_TIMEOUT, "no CA file written");
            std::thread::sleep(Duration::from_millis(50));
        }
        server.wait_listening();
        server
    }

    fn wait_listening(&mut self) {
        // A plain TCP connect: the listener is bound before the server is ready
        // to answer, and the TLS handshake then queues.
        let host_port = self.addr.trim_start_matches("https://").to_owned();
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(&host_port).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited early: {status}");
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "the server never listened"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// An HTTPS client that trusts only the server's CA.
    pub fn client(&self) -> reqwest::Client {
        let pem = std::fs::read(&self.cacert).expect("read the CA file");
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA PEM"))
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client")
    }

    /// Kills the server with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn stop(&mut self) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY-free: `kill` through the command line keeps this test crate free
        // of unsafe code.
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// A client command against this server with `input` on standard input.
    pub fn cli_with_input(&self, args: &[&str], input: &[u8]) -> std::process::Output {
        use std::io::Write as _;
        let mut child = Command::new(binary())
            .args(args)
            .env("CRYPTAINER_ADDR", &self.addr)
            .env("CRYPTAINER_TOKEN", &self.token)
            .env("CRYPTAINER_CACERT", &self.cacert)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the client");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
        child.wait_with_output().expect("client output")
    }

    /// A client command against this server.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(binary())
            .args(args)
            .env("CRYPTAINER_ADDR", &self.addr)
            .env("CRYPTAINER_TOKEN", &self.token)
            .env("CRYPTAINER_CACERT", &self.cacert)
            .stdin(Stdio::null())
            .output()
            .expect("run the client")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTPS client presenting the node certificate in `data_dir` (written by
/// `cryptainer agent join`), trusting only the CA the node pinned.
pub fn node_client(data_dir: &Path) -> reqwest::Client {
    let ca = std::fs::read(data_dir.join("ca.pem")).unwrap();
    let mut identity = std::fs::read(data_dir.join("node.crt")).unwrap();
    identity.extend(std::fs::read(data_dir.join("node.key")).unwrap());
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A single-threaded runtime for blocking test code.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A response's status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Answer {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// Sends a request with the token and returns status and JSON.
pub async fn request(
    client: &reqwest::Client,
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Answer {
    let mut builder = client.request(method, format!("{}{path}", server.addr));
    if let Some(token) = token {
        builder = builder.bearer_auth(token);
    }
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    let response = builder.send().await.expect("send");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    Answer { status, body }
}

/// How long a condition may take to become true: generous, CI machines are slow.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// Polls `condition` every 100 ms until it holds; fails the test after
/// [`DEADLINE`], naming `what` it waited for.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
