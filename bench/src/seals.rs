//! `cryptainer-bench seals`: for each seal kind, the time from process start to
//! ready (unsealed), and key create and get throughput once unsealed, with
//! ratios against the passphrase seal measured in the same run.
//!
//! The devices are the ones the tests use, started here in a scratch
//! directory: a SoftHSM2 token (`softhsm2-util`), a software TPM (`swtpm`) on
//! loopback ports, and a second Cryptainer as the remote KMIP key manager. A
//! kind whose tool is missing is skipped and said so. The manual seals are
//! unsealed by the benchmark as soon as the server listens, as a person with
//! the material at hand would: their time includes that request (and Argon2id
//! for the passphrase).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::client::ApiClient;
use crate::load::{self, Workload};
use crate::server::{DevEnv, ScratchDir, terminate};

/// How long a server may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How often readiness is polled while timing a start.
const READY_POLL: Duration = Duration::from_millis(5);

/// The PIN of the benchmark's token.
const PIN: &str = "87654321";

/// Arguments of `cryptainer-bench seals`.
#[derive(Args, Debug)]
pub struct SealArgs {
    /// The `cryptainer` binary (default: next to this one).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Concurrent HTTPS clients of the load phases.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Length of each measured load phase.
    #[arg(long, value_parser = parse_secs, default_value = "3")]
    pub duration: Duration,
    /// Starts timed per seal kind (the median is printed).
    #[arg(long, default_value_t = 3)]
    pub starts: usize,
    /// Keys made before the get phase.
    #[arg(long, default_value_t = 1000)]
    pub keys: usize,
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim_end_matches('s');
    trimmed
        .parse::<f64>()
        .ok()
        .filter(|secs| secs.is_finite() && *secs > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("'{text}' is not a number of seconds"))
}

/// What one seal kind measured.
struct Measured {
    kind: &'static str,
    ready: Duration,
    creates_per_sec: f64,
    gets_per_sec: f64,
}

/// The process a kind's device needs (swtpm, the remote key manager), kept
/// alive while the kind is measured and stopped with SIGTERM after.
struct Device(Option<Child>);

impl Drop for Device {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            drop(terminate(child));
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn wait_for_port(port: u16) -> anyhow::Result<()> {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > READY_TIMEOUT {
            bail!("nothing listens on port {port}");
        }
        std::thread::sleep(READY_POLL);
    }
    Ok(())
}

/// A kind's device, its `[seal]` table, and the environment the server needs.
type Setup = (Device, String, Vec<(String, String)>);

/// Sets up the device of `kind` in `dir`.
fn device(kind: &str, dir: &Path, server_bin: &Path) -> anyhow::Result<Setup> {
    match kind {
        "passphrase" | "shamir" => Ok((Device(None), String::new(), Vec::new())),
        "pkcs11" => {
            let tokens = dir.join("tokens");
            std::fs::create_dir_all(&tokens)?;
            let conf = dir.join("softhsm2.conf");
            std::fs::write(
                &conf,
                format!(
                    "directories.tokendir = {}\nobjectstore.backend = file\n",
                    tokens.display()
                ),
            )?;
            let status = Command::new("softhsm2-util")
                .args([
                    "--init-token",
                    "--free",
                    "--label",
                    "bench",
                    "--pin",
                    PIN,
                    "--so-pin",
                    "12345678",
                ])
                .env("SOFTHSM2_CONF", &conf)
                .stdout(Stdio::null())
                .status()
                .context("softhsm2-util is not installed (apt-get install softhsm2)")?;
            if !status.success() {
                bail!("softhsm2-util could not make a token");
            }
            let table = "[seal]\nkind = \"pkcs11\"\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\n\
                 token_label = \"bench\"\npin_env = \"BENCH_HSM_PIN\"\n"
                .to_owned();
            let env = vec![
                ("BENCH_HSM_PIN".to_owned(), PIN.to_owned()),
                ("SOFTHSM2_CONF".to_owned(), conf.display().to_string()),
            ];
            Ok((Device(None), table, env))
        }
        "tpm2" => {
            let state = dir.join("tpm");
            std::fs::create_dir_all(&state)?;
            let port = loop {
                let port = free_port()?;
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
                .context("swtpm is not installed (apt-get install swtpm swtpm-tools)")?;
            let device = Device(Some(child));
            wait_for_port(port)?;
            let table = format!(
                "[seal]\nkind = \"tpm2\"\ntcti = \"swtpm:host=127.0.0.1,port={port}\"\npcrs = [0, 7]\n"
            );
            Ok((device, table, Vec::new()))
        }
        "kmip" => {
            let data = dir.join("remote");
            let https = free_port()?;
            let kmip = free_port()?;
            let child = Command::new(server_bin)
                .args(["server", "--dev", "--data-dir"])
                .arg(&data)
                .args(["--listen", &format!("127.0.0.1:{https}")])
                .args(["--kmip-listen", &format!("127.0.0.1:{kmip}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("cannot start the remote Cryptainer")?;
            let device = Device(Some(child));
            let env_file = data.join("dev.env");
            let started = Instant::now();
            let text = loop {
                if let Ok(text) = std::fs::read_to_string(&env_file) {
                    break text;
                }
                if started.elapsed() > READY_TIMEOUT {
                    bail!("the remote Cryptainer did not start");
                }
                std::thread::sleep(READY_POLL);
            };
            let client_dir = dir.join("kmip-client");
            let mut issue = Command::new(server_bin);
            issue.args([
                "kmip",
                "client-cert",
                "bench-seal",
                "--tenant",
                "default",
                "--out",
            ]);
            issue.arg(&client_dir);
            for line in text.lines() {
                if let Some((name, value)) = line.trim_start_matches("export ").split_once('=') {
                    issue.env(name, value);
                }
            }
            let issued = issue
                .output()
                .context("cannot run `cryptainer kmip client-cert`")?;
            if !issued.status.success() {
                bail!("client-cert: {}", String::from_utf8_lossy(&issued.stderr));
            }
            let table = format!(
                "[seal]\nkind = \"kmip\"\nserver = \"127.0.0.1:{kmip}\"\nca_file = \"{0}/ca.pem\"\n\
                 cert_file = \"{0}/cert.pem\"\nkey_file = \"{0}/key.pem\"\n",
                client_dir.display()
            );
            Ok((device, table, Vec::new()))
        }
        other => bail!("unknown seal kind {other}"),
    }
}

/// One server under a seal: its configuration and how to reach it.
struct Sealed {
    server_bin: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
    address: String,
    ca_file: PathBuf,
    kind: &'static str,
    /// The unseal material of a manual seal: a share or the passphrase.
    unseal: Option<Value>,
    token: String,
}

impl Sealed {
    fn spawn(&self) -> anyhow::Result<Child> {
        Command::new(&self.server_bin)
            .args(["server", "--config"])
            .arg(&self.config)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env("CRYPTAINER_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start the server")
    }

    fn http(&self) -> anyhow::Result<reqwest::Client> {
        let pem = std::fs::read(&self.ca_file)?;
        Ok(reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
            .timeout(Duration::from_secs(30))
            .build()?)
    }

    /// Starts the server and returns it with the time it took to be ready.
    async fn start_timed(&self) -> anyhow::Result<(Child, Duration)> {
        let started = Instant::now();
        let child = self.spawn()?;
        let port = self
            .address
            .rsplit(':')
            .next()
            .and_then(|port| port.parse::<u16>().ok())
            .context("the address has no port")?;
        wait_for_port(port)?;
        while !self.ca_file.exists() {
            tokio::time::sleep(READY_POLL).await;
        }
        let http = self.http()?;
        if let Some(unseal) = &self.unseal {
            let answer = http
                .post(format!("{}/v1/sys/unseal", self.address))
                .json(unseal)
                .send()
                .await?;
            if !answer.status().is_success() {
                bail!("unseal answered {}", answer.status());
            }
        }
        loop {
            let ready = http
                .get(format!("{}/v1/sys/ready", self.address))
                .send()
                .await;
            if ready.is_ok_and(|answer| answer.status().is_success()) {
                return Ok((child, started.elapsed()));
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!(
                    "the {} server was not ready within {READY_TIMEOUT:?}",
                    self.kind
                );
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }
}

async fn measure(
    kind: &'static str,
    args: &SealArgs,
    scratch: &Path,
    server_bin: &Path,
) -> anyhow::Result<Measured> {
    let dir = scratch.join(kind);
    std::fs::create_dir_all(&dir)?;
    let (_device, table, env) = device(kind, &dir, server_bin)?;
    let port = free_port()?;
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen_addr = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\n{table}",
            dir.join("data").display()
        ),
    )?;
    let mut sealed = Sealed {
        server_bin: server_bin.to_path_buf(),
        config,
        env,
        address: format!("https://127.0.0.1:{port}"),
        ca_file: dir.join("data").join("tls").join("ca.pem"),
        kind,
        unseal: None,
        token: String::new(),
    };
    // Initialize once.
    let child = sealed.spawn()?;
    wait_for_port(port)?;
    while !sealed.ca_file.exists() {
        tokio::time::sleep(READY_POLL).await;
    }
    let init_body = match kind {
        "passphrase" => json!({"passphrase": "benchmark passphrase, not secret"}),
        "shamir" => json!({"shares": 1, "threshold": 1}),
        _ => json!({"recovery_shares": 1, "recovery_threshold": 1}),
    };
    let init: Value = sealed
        .http()?
        .post(format!("{}/v1/sys/init", sealed.address))
        .json(&init_body)
        .send()
        .await?
        .json()
        .await?;
    sealed.token = init
        .get("root_token")
        .and_then(Value::as_str)
        .context("init gave no root token")?
        .to_owned();
    sealed.unseal = match kind {
        "passphrase" => Some(json!({"passphrase": "benchmark passphrase, not secret"})),
        "shamir" => Some(json!({"share": init.pointer("/unseal_shares/0")})),
        _ => None,
    };
    terminate(child)?;

    let mut starts = Vec::with_capacity(args.starts);
    for _ in 0..args.starts.max(1) {
        let (child, ready) = sealed.start_timed().await?;
        starts.push(ready);
        terminate(child)?;
    }
    starts.sort();
    let ready = starts.get(starts.len() / 2).copied().unwrap_or_default();

    let (child, _) = sealed.start_timed().await?;
    let server_pid = Some(child.id());
    let env = DevEnv {
        address: sealed.address.clone(),
        token: sealed.token.clone(),
        ca_pem: std::fs::read(&sealed.ca_file)?,
    };
    let clients = (0..args.clients.max(1))
        .map(|_| ApiClient::new(&env))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let creates = load::timed(
        &clients,
        Duration::from_millis(500),
        args.duration,
        Workload::Create {
            prefix: format!("seal-bench-{kind}-"),
        },
        server_pid,
    )
    .await?;
    let mut ids = creates.created.clone();
    while ids.len() < args.keys {
        let id = clients
            .first()
            .context("no client")?
            .create_key(&format!("seal-bench-fill-{}", ids.len()))
            .await?;
        ids.push(id.into_boxed_str());
    }
    let gets = load::timed(
        &clients,
        Duration::from_millis(500),
        args.duration,
        Workload::GetMaterial { ids: Arc::new(ids) },
        server_pid,
    )
    .await?;
    terminate(child)?;
    if creates.errors > 0 || gets.errors > 0 {
        bail!(
            "{kind}: {} create and {} get errors, first: {:?}",
            creates.errors,
            gets.errors,
            creates.first_error.or(gets.first_error)
        );
    }
    Ok(Measured {
        kind,
        ready,
        creates_per_sec: creates.ops_per_sec,
        gets_per_sec: gets.ops_per_sec,
    })
}

/// Runs the benchmark and prints the table.
pub async fn run(args: &SealArgs) -> anyhow::Result<()> {
    let server_bin = args
        .server_bin
        .clone()
        .unwrap_or_else(crate::api::default_server_bin);
    let scratch = ScratchDir::create(false)?;
    let mut results: Vec<Measured> = Vec::new();
    for kind in ["passphrase", "shamir", "pkcs11", "tpm2", "kmip"] {
        match measure(kind, args, scratch.path(), &server_bin).await {
            Ok(measured) => results.push(measured),
            Err(error) => println!("{kind}: skipped: {error:#}"),
        }
    }
    let Some(baseline) = results
        .iter()
        .find(|measured| measured.kind == "passphrase")
    else {
        bail!("the passphrase baseline could not be measured");
    };
    println!(
        "seal         ready (median of {})   creates/s   gets/s   (ratios: against passphrase, same run)",
        args.starts
    );
    for measured in &results {
        println!(
            "{:<12} {:>8.0} ms               {:>8.0} ({:.2})  {:>7.0} ({:.2})",
            measured.kind,
            measured.ready.as_secs_f64() * 1000.0,
            measured.creates_per_sec,
            measured.creates_per_sec / baseline.creates_per_sec,
            measured.gets_per_sec,
            measured.gets_per_sec / baseline.gets_per_sec,
        );
    }
    Ok(())
}
