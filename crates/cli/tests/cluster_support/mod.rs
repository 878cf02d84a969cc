//! Several real `cryptainer server` processes on one PostgreSQL of their own:
//! what the cluster tests start, kill, restart and talk to.
//!
//! Every server runs in development mode with the same unseal passphrase
//! (`dev-unseal.key` written beforehand), on a port of its own that it keeps
//! across restarts. The first initializes the database; the others find it
//! initialized, unseal, and take the cluster's CA from the store before they
//! serve (so each one's `tls/ca.pem` is the cluster's).
#![allow(clippy::zombie_processes)] // Cluster kills and reaps its children in Drop.
#![allow(dead_code)] // Each test file uses a different part of the support code.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)] // In tests a panic is the failure report.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::server_support::{free_port, wait_until};

/// The unseal passphrase of every server (`dev-unseal.key`).
pub const PASSPHRASE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// How long a server may take to be ready (Argon2id at unseal): generous,
/// CI machines are slow and shared.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// One server of the cluster.
pub struct Member {
    /// Its HTTPS port on 127.0.0.1 (kept across restarts).
    pub port: u16,
    /// Its KMIP port on 127.0.0.1.
    pub kmip_port: u16,
    /// Its data directory (TLS material, dev.env, log).
    pub data_dir: PathBuf,
    /// The storage URL it was started with.
    pub storage: String,
    child: Option<Child>,
}

impl Member {
    /// `https://127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Its CA file (the cluster's, once it took it).
    pub fn cacert(&self) -> PathBuf {
        self.data_dir.join("tls").join("ca.pem")
    }

    /// Whether its process runs.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

/// A PostgreSQL and the servers on it.
pub struct Cluster {
    pub postgres: throwaway_postgres::Cluster,
    /// The database's URL (servers may be given another: a [`throwaway_postgres::Link`]).
    pub url: String,
    pub members: Vec<Member>,
    /// An admin token for every tenant.
    pub token: String,
    dir: tempfile::TempDir,
}

fn parse_env(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("export {name}=")))
        .map(str::to_owned)
}

impl Cluster {
    /// A PostgreSQL and `count` servers on it, every one ready.
    pub fn start(count: usize) -> Cluster {
        let postgres = throwaway_postgres::Cluster::start().expect("start PostgreSQL");
        postgres
            .create_database("cryptainer")
            .expect("create the database");
        let url = postgres.url("cryptainer");
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut cluster = Cluster {
            postgres,
            url: url.clone(),
            members: Vec::new(),
            token: String::new(),
            dir,
        };
        for _ in 0..count {
            cluster.add(url.clone());
        }
        cluster
    }

    /// Starts one more server, on `storage` (the database's URL, or a link
    /// to it), and returns its index.
    pub fn add(&mut self, storage: String) -> usize {
        let index = self.members.len();
        let data_dir = self.dir.path().join(format!("server{index}"));
        std::fs::create_dir_all(&data_dir).unwrap();
        write_private(&data_dir.join("dev-unseal.key"), PASSPHRASE.as_bytes());
        self.members.push(Member {
            port: free_port(),
            kmip_port: free_port(),
            data_dir,
            storage,
            child: None,
        });
        self.restart(index);
        assert_eq!(
            std::fs::read_to_string(self.members[index].cacert()).unwrap(),
            std::fs::read_to_string(self.cacert()).unwrap(),
            "server {index} took the cluster's CA"
        );
        index
    }

    /// Every server's address, as a comma list (CRYPTAINER_ADDR).
    pub fn addresses(&self) -> String {
        self.members
            .iter()
            .map(Member::addr)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The cluster's CA file (the first server's).
    pub fn cacert(&self) -> PathBuf {
        self.members[0].cacert()
    }

    /// Starts server `index` (again) and waits until it serves.
    pub fn restart(&mut self, index: usize) {
        let member = &mut self.members[index];
        assert!(member.child.is_none(), "server {index} already runs");
        let env_file = member.data_dir.join("dev.env");
        let _ = std::fs::remove_file(&env_file);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(member.data_dir.join("server.log"))
            .unwrap();
        let child = Command::new(crate::server_support::binary())
            .args(["server", "--dev", "--listen"])
            .arg(format!("127.0.0.1:{}", member.port))
            .arg("--kmip-listen")
            .arg(format!("127.0.0.1:{}", member.kmip_port))
            .arg("--data-dir")
            .arg(&member.data_dir)
            .env("CRYPTAINER_STORAGE", &member.storage)
            .env("CRYPTAINER_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start the server");
        member.child = Some(child);
        let started = Instant::now();
        let token = loop {
            if let Ok(text) = std::fs::read_to_string(&env_file) {
                if let Some(token) = parse_env(&text, "CRYPTAINER_TOKEN") {
                    break token;
                }
            }
            if let Some(Ok(Some(status))) = member.child.as_mut().map(Child::try_wait) {
                panic!(
                    "server {index} exited early ({status}):\n{}",
                    std::fs::read_to_string(member.data_dir.join("server.log")).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "server {index} did not become ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        if self.token.is_empty() {
            self.token = token;
        }
        // dev.env is written before the listener serves: wait for it.
        while std::net::TcpStream::connect(("127.0.0.1", member.port)).is_err() {
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "server {index} never listened"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills server `index` with SIGKILL and reaps it.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.members[index].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The log of server `index`.
    pub fn log(&self, index: usize) -> String {
        std::fs::read_to_string(self.members[index].data_dir.join("server.log")).unwrap_or_default()
    }

    /// The api crate's client of every server (the failover client), with
    /// the admin token.
    pub fn client(&self) -> api::HttpsClient {
        self.client_of(&self.addresses(), &self.token)
    }

    /// The api crate's client of the servers of `addresses` (a comma list)
    /// with `token`.
    pub fn client_of(&self, addresses: &str, token: &str) -> api::HttpsClient {
        let urls: Vec<api::Url> = addresses
            .split(',')
            .map(|address| api::Url::parse(address).unwrap())
            .collect();
        let roots = api::CaRoots::from_pem(&std::fs::read(self.cacert()).unwrap()).unwrap();
        let settings = api::ClientSettings {
            user_agent: "cluster-test",
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        };
        api::HttpsClient::with_roots(api::Servers::new(urls).unwrap(), roots, &settings)
            .unwrap()
            .with_bearer_token(&api::SecretString::from_str_copy(token))
            .unwrap()
    }

    /// A `cryptainer` client command against `addresses` (a comma list).
    pub fn cli_at(&self, addresses: &str, args: &[&str], input: &[u8]) -> std::process::Output {
        use std::io::Write as _;
        let mut child = Command::new(crate::server_support::binary())
            .args(args)
            .env("CRYPTAINER_ADDR", addresses)
            .env("CRYPTAINER_TOKEN", &self.token)
            .env("CRYPTAINER_CACERT", self.cacert())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the client");
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().expect("client output")
    }

    /// A `cryptainer` client command against every server.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.cli_at(&self.addresses(), args, b"")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for index in 0..self.members.len() {
            self.kill(index);
        }
    }
}

/// A KMIP client certificate `name` of tenant `default`, issued by the
/// cluster's CA with the CLI; returns its directory (cert.pem, key.pem,
/// ca.pem).
pub fn kmip_client_cert(cluster: &Cluster, name: &str) -> PathBuf {
    let out = cluster.dir.path().join(format!("kmip-{name}"));
    let output = cluster.cli(&[
        "kmip",
        "client-cert",
        name,
        "--tenant",
        "default",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    out
}

/// Writes `contents` readable by the owner only.
fn write_private(path: &Path, contents: &[u8]) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    file.write_all(contents).unwrap();
}

/// The text of a command's output, both streams.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
