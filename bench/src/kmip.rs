//! `cryptainer-bench kmip`: KMIP Get, Create and Encrypt (4 KiB AES-GCM) over
//! mutual TLS at 1 and 16 connections against the real server, the server's
//! memory with 1,000 idle KMIP connections, and the same operations against
//! PyKMIP's own server (`pykmip-server`) in the same run, printed as ratios.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use ttlv::{Item, Tag, Value};

use crate::latency::{Latencies, Summary};
use crate::server::{ScratchDir, ServerProcess, memory_of, terminate};

/// Arguments of `cryptainer-bench kmip`.
#[derive(clap::Args, Debug)]
pub struct KmipArgs {
    /// The server binary.
    #[arg(long, default_value = "target/release/cryptainer")]
    server_bin: PathBuf,
    /// Length of each measured phase.
    #[arg(long, default_value = "5s", value_parser = parse_seconds)]
    duration: Duration,
    /// Idle connections opened for the memory figure.
    #[arg(long, default_value_t = 1000)]
    idle_connections: usize,
    /// Skip the pykmip-server comparison.
    #[arg(long)]
    no_pykmip: bool,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.trim_end_matches('s')
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|error| format!("'{text}' is not a whole number of seconds: {error}"))
}

/// One KMIP operation to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Get,
    Create,
    Encrypt,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Get => "Get",
            Operation::Create => "Create",
            Operation::Encrypt => "Encrypt 4 KiB",
        }
    }
}

/// What a phase measured.
struct Phase {
    ops_per_sec: f64,
    summary: Summary,
}

fn message(version: (i32, i32), operation: u32, payload: Vec<Item>) -> Vec<u8> {
    let request = Item::structure(
        Tag::REQUEST_MESSAGE,
        vec![
            Item::structure(
                Tag::REQUEST_HEADER,
                vec![
                    Item::structure(
                        Tag::PROTOCOL_VERSION,
                        vec![
                            Item::new(Tag::PROTOCOL_VERSION_MAJOR, Value::Integer(version.0)),
                            Item::new(Tag::PROTOCOL_VERSION_MINOR, Value::Integer(version.1)),
                        ],
                    ),
                    Item::new(Tag::BATCH_COUNT, Value::Integer(1)),
                ],
            ),
            Item::structure(
                Tag::BATCH_ITEM,
                vec![
                    Item::new(Tag::OPERATION, Value::Enumeration(operation)),
                    Item::structure(Tag::REQUEST_PAYLOAD, payload),
                ],
            ),
        ],
    );
    ttlv::encode(&request)
}

fn attribute(name: &str, value: Value) -> Item {
    Item::structure(
        Tag::ATTRIBUTE,
        vec![
            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
            Item::new(Tag::ATTRIBUTE_VALUE, value),
        ],
    )
}

/// A KMIP 1.2 Create of an AES-256 key (1.2: PyKMIP's server default).
fn create_request() -> Vec<u8> {
    message(
        (1, 2),
        0x01,
        vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
            Item::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![
                    attribute("Cryptographic Algorithm", Value::Enumeration(3)),
                    attribute("Cryptographic Length", Value::Integer(256)),
                    // Encrypt | Decrypt.
                    attribute("Cryptographic Usage Mask", Value::Integer(12)),
                ],
            ),
        ],
    )
}

fn uid(id: &str) -> Item {
    Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString(id.to_owned()))
}

fn request_for(operation: Operation, key_id: &str, gcm: bool) -> Vec<u8> {
    match operation {
        Operation::Create => create_request(),
        Operation::Get => message((1, 2), 0x0A, vec![uid(key_id)]),
        Operation::Encrypt => {
            // In the order KMIP defines the structure (PyKMIP reads it in that
            // order): mode, padding, algorithm. GCM, or CBC with PKCS5 padding
            // for a server without GCM.
            let mut parameters = vec![Item::new(
                Tag::BLOCK_CIPHER_MODE,
                Value::Enumeration(if gcm { 9 } else { 1 }),
            )];
            if !gcm {
                parameters.push(Item::new(Tag::PADDING_METHOD, Value::Enumeration(3)));
            }
            parameters.push(Item::new(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                Value::Enumeration(3),
            ));
            message(
                (1, 2),
                0x1F,
                vec![
                    uid(key_id),
                    Item::structure(Tag::CRYPTOGRAPHIC_PARAMETERS, parameters),
                    Item::new(Tag::DATA, Value::ByteString(vec![0x5A; 4096].into())),
                    Item::new(
                        Tag::IV_COUNTER_NONCE,
                        Value::ByteString(vec![7; if gcm { 12 } else { 16 }].into()),
                    ),
                ],
            )
        }
    }
}

/// Where and how to connect.
#[derive(Clone)]
struct Target {
    address: String,
    tls: Arc<rustls::ClientConfig>,
}

async fn connect(target: &Target) -> anyhow::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(&target.address)
        .await
        .with_context(|| format!("cannot connect to {}", target.address))?;
    tcp.set_nodelay(true)?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1")?.to_owned();
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&target.tls));
    connector
        .connect(name, tcp)
        .await
        .with_context(|| format!("TLS handshake with {} failed", target.address))
}

/// Sends one message and reads its response; fails unless the one batch item
/// succeeded.
async fn exchange(stream: &mut TlsStream<TcpStream>, request: &[u8]) -> anyhow::Result<Item> {
    stream.write_all(request).await?;
    stream.flush().await?;
    let mut header = [0_u8; 8];
    stream.read_exact(&mut header).await?;
    let length = ttlv::frame_length(&header)?.context("short header")?;
    let mut response = header.to_vec();
    response.resize(length, 0);
    stream
        .read_exact(response.get_mut(8..).context("short message")?)
        .await?;
    let response = ttlv::decode(&response)?;
    let item = response
        .child(Tag::BATCH_ITEM)
        .context("the response has no batch item")?;
    match item.child(Tag::RESULT_STATUS).map(|status| &status.value) {
        Some(Value::Enumeration(0)) => Ok(item.clone()),
        _ => bail!(
            "the operation failed: {:?}",
            item.child(Tag::RESULT_MESSAGE)
        ),
    }
}

fn created_id(item: &Item) -> anyhow::Result<String> {
    match item
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|payload| payload.child(Tag::UNIQUE_IDENTIFIER))
        .map(|id| &id.value)
    {
        Some(Value::TextString(id)) => Ok(id.clone()),
        _ => bail!("the response names no object"),
    }
}

/// Creates and activates the key the Get and Encrypt phases use.
async fn prepare_key(target: &Target) -> anyhow::Result<String> {
    let mut stream = connect(target).await?;
    let created = exchange(&mut stream, &create_request()).await?;
    let id = created_id(&created)?;
    exchange(&mut stream, &message((1, 2), 0x12, vec![uid(&id)])).await?;
    Ok(id)
}

async fn phase(
    target: &Target,
    operation: Operation,
    key_id: &str,
    connections: usize,
    duration: Duration,
    gcm: bool,
) -> anyhow::Result<Phase> {
    let request = Arc::new(request_for(operation, key_id, gcm));
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        streams.push(connect(target).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for mut stream in streams {
        let request = Arc::clone(&request);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::with_capacity(64 * 1024);
            while Instant::now() < deadline {
                let sent = Instant::now();
                exchange(&mut stream, &request).await?;
                latencies.record(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Latencies::with_capacity(1024 * 1024);
    for task in tasks {
        all.merge(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let count = all.len();
    #[allow(clippy::cast_precision_loss)] // A count of operations fits an f64 exactly enough.
    let ops_per_sec = count as f64 / elapsed;
    Ok(Phase {
        ops_per_sec,
        summary: all.summarize(),
    })
}

/// Every phase against one server: (operation, connections) → result.
async fn measure(
    label: &str,
    target: &Target,
    duration: Duration,
    gcm: bool,
) -> anyhow::Result<Vec<(Operation, usize, Phase)>> {
    let key_id = prepare_key(target).await?;
    let mut results = Vec::new();
    for operation in [Operation::Get, Operation::Create, Operation::Encrypt] {
        for connections in [1, 16] {
            let result = phase(target, operation, &key_id, connections, duration, gcm).await?;
            println!(
                "{label:<16} {:<14} {connections:>3} conn  {:>9.0} ops/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
                operation.name(),
                result.ops_per_sec,
                result.summary.p50_ms,
                result.summary.p99_ms
            );
            results.push((operation, connections, result));
        }
    }
    Ok(results)
}

fn read_file(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn dev_env_value(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("export {name}=")))
        .map(str::to_owned)
}

/// Runs the benchmark.
pub async fn run(args: &KmipArgs) -> anyhow::Result<()> {
    let scratch = ScratchDir::create(false)?;
    let mut server = ServerProcess::start(&args.server_bin, scratch.path())?;
    let dev = server.wait_for_dev_env()?;
    let env_text = read_file(&server.data_dir().join("dev.env"))?;
    let kmip_address = dev_env_value(&env_text, "CRYPTAINER_KMIP_ADDR")
        .context("dev.env names no KMIP address; is the server new enough?")?;
    let ca_file = dev_env_value(&env_text, "CRYPTAINER_CACERT").context("no CA file")?;
    let certs = scratch.path().join("client");
    let status = Command::new(&args.server_bin)
        .args(["kmip", "client-cert", "bench", "--out"])
        .arg(&certs)
        .env("CRYPTAINER_ADDR", &dev.address)
        .env("CRYPTAINER_TOKEN", &dev.token)
        .env("CRYPTAINER_CACERT", &ca_file)
        .stdout(Stdio::null())
        .status()
        .context("cannot run `cryptainer kmip client-cert`")?;
    if !status.success() {
        bail!("`cryptainer kmip client-cert` failed");
    }
    let ca_pem = read_file(&certs.join("ca.pem"))?;
    let cert_pem = read_file(&certs.join("cert.pem"))?;
    let key_pem = read_file(&certs.join("key.pem"))?;
    let tls = Arc::new(pki::client_config(&ca_pem, Some((&cert_pem, &key_pem)))?);
    let target = Target {
        address: kmip_address,
        tls: Arc::clone(&tls),
    };
    println!(
        "KMIP over mutual TLS, {} s per phase",
        args.duration.as_secs()
    );
    let ours = measure("cryptainer", &target, args.duration, true).await?;
    print_targets(&ours);
    // The data directory's disk, measured in the same run as the phases.
    let flush = match flush_time(scratch.path()) {
        Ok(flush) => {
            println!(
                "durable flush (4 KiB append + fdatasync, median of {FLUSH_SAMPLES}) on the data directory's disk: {:.3} ms",
                flush.as_secs_f64() * 1000.0
            );
            Some(flush)
        }
        Err(error) => {
            println!("flush time not measured: {error:#}");
            None
        }
    };

    // Memory with idle connections.
    let pid = server.pid().context("the server is not running")?;
    let before = memory_of(pid)?;
    let mut idle = Vec::with_capacity(args.idle_connections);
    for _ in 0..args.idle_connections {
        idle.push(connect(&target).await?);
    }
    // One exchange on the last connection proves the server has accepted them all.
    if let Some(last) = idle.last_mut() {
        exchange(last, &message((1, 2), 0x1E, Vec::new())).await?;
    }
    let with_idle = memory_of(pid)?;
    println!(
        "cryptainer RSS: {:.1} MiB before, {:.1} MiB with {} idle KMIP connections (target < 64 MiB)",
        mib(before.rss_bytes),
        mib(with_idle.rss_bytes),
        args.idle_connections
    );
    // The key store's pages, mapped once by each of the server's read
    // connections, count in RSS once per mapping: the server's own memory is
    // the part that grows with connections.
    println!(
        "  of which own memory (RssAnon): {:.1} MiB before, {:.1} MiB with the idle connections; \
         mapped database and binary (RssFile): {:.1} / {:.1} MiB",
        mib(before.anon_bytes),
        mib(with_idle.anon_bytes),
        mib(before.file_bytes),
        mib(with_idle.file_bytes)
    );
    drop(idle);

    if !args.no_pykmip {
        let tls_dir = server.data_dir().join("tls");
        match pykmip_run(args, scratch.path(), &tls_dir, &tls).await {
            Ok(theirs) => print_ratios(&ours, &theirs, flush),
            Err(error) => println!("pykmip-server comparison skipped: {error:#}"),
        }
    }
    server.stop()?;
    Ok(())
}

#[allow(clippy::cast_precision_loss)] // Display only.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The rate at 16 connections each operation must keep (issue 20: the
/// figures must not fall), in operations per second.
fn target_at_16(operation: Operation) -> f64 {
    match operation {
        Operation::Get => 30_000.0,
        Operation::Create => 10_000.0,
        Operation::Encrypt => 20_000.0,
    }
}

/// Prints each operation's rate at 16 connections against its target.
fn print_targets(ours: &[(Operation, usize, Phase)]) {
    println!("cryptainer at 16 connections:");
    for (operation, connections, phase) in ours.iter().filter(|(_, conns, _)| *conns == 16) {
        let target = target_at_16(*operation);
        println!(
            "  {:<14} {connections:>3} conn  {:>9.0} ops/s  (target >= {target:.0}/s) {}",
            operation.name(),
            phase.ops_per_sec,
            if phase.ops_per_sec >= target {
                "PASS"
            } else {
                "MISS"
            }
        );
    }
}

/// How many appends `flush_time` times.
const FLUSH_SAMPLES: usize = 200;

/// The time one small durable write takes on the disk that holds `dir`: the
/// median of [`FLUSH_SAMPLES`] appends of 4 KiB, each followed by
/// `fdatasync`, as each commit of an audit record is. At one connection a
/// key read waits for one such flush, so `1 / flush` is that rate's ceiling.
fn flush_time(dir: &Path) -> anyhow::Result<Duration> {
    use std::io::Write as _;
    let path = dir.join("flush-probe");
    let mut file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let block = [0x5A_u8; 4096];
    let mut samples = Vec::with_capacity(FLUSH_SAMPLES);
    for _ in 0..FLUSH_SAMPLES {
        file.write_all(&block)?;
        let started = Instant::now();
        file.sync_data()?;
        samples.push(started.elapsed());
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    samples.sort_unstable();
    Ok(samples
        .get(FLUSH_SAMPLES / 2)
        .copied()
        .unwrap_or(Duration::ZERO))
}

fn print_ratios(
    ours: &[(Operation, usize, Phase)],
    theirs: &[(Operation, usize, Phase)],
    flush: Option<Duration>,
) {
    println!(
        "ratio cryptainer / pykmip-server (target >= 40x at 16 connections; at one connection \
         each key read or change waits for one durable flush of its audit record)"
    );
    for (operation, connections, phase) in ours {
        if let Some((_, _, other)) = theirs
            .iter()
            .find(|(op, conns, _)| op == operation && conns == connections)
        {
            let ratio = phase.ops_per_sec / other.ops_per_sec.max(f64::MIN_POSITIVE);
            let beside = match (connections, flush) {
                (1, Some(flush)) if !flush.is_zero() => format!(
                    "  (flush {:.3} ms in this run: at most {:.0} messages/s on one connection)",
                    flush.as_secs_f64() * 1000.0,
                    1.0 / flush.as_secs_f64()
                ),
                (16, _) => format!("  {}", if ratio >= 40.0 { "PASS" } else { "MISS" }),
                _ => String::new(),
            };
            println!(
                "  {:<14} {connections:>3} conn  {ratio:>7.1}x{beside}",
                operation.name(),
            );
        }
    }
}

/// Starts pykmip-server with an ECDSA P-256 certificate from our CA (it offers
/// only ECDSA suites in TLS 1.2 mode) and measures it like ours.
async fn pykmip_run(
    args: &KmipArgs,
    scratch: &Path,
    tls_dir: &Path,
    client_tls: &Arc<rustls::ClientConfig>,
) -> anyhow::Result<Vec<(Operation, usize, Phase)>> {
    let ca = pki::CertificateAuthority::from_pem(
        &read_file(&tls_dir.join(pki::CA_CERT_FILE))?,
        &read_file(&tls_dir.join(pki::CA_KEY_FILE))?,
    )?;
    let issued = ca.issue_server_cert(
        &["127.0.0.1".to_owned(), "localhost".to_owned()],
        Duration::from_secs(24 * 3600),
    )?;
    let key_pem = issued
        .key_pem_secret()
        .context("the CA generated no key for pykmip-server")?;
    let dir = scratch.join("pykmip");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("server.pem"), &issued.cert_pem)?;
    std::fs::write(dir.join("server-key.pem"), key_pem.as_bytes())?;
    std::fs::write(dir.join("ca.pem"), ca.cert_pem())?;
    std::fs::create_dir_all(dir.join("policies"))?;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let config = format!(
        "[server]\nhostname=127.0.0.1\nport={port}\ncertificate_path={0}/server.pem\n\
         key_path={0}/server-key.pem\nca_path={0}/ca.pem\nauth_suite=TLS1.2\n\
         policy_path={0}/policies\nenable_tls_client_auth=True\nlogging_level=WARNING\n\
         database_path={0}/pykmip.db\n",
        dir.display()
    );
    // The TLS layer requires a client certificate from our CA, and
    // `enable_tls_client_auth` adds PyKMIP's own check of its Extended Key
    // Usage (read with Python `cryptography`), as a production pykmip-server
    // would run.
    std::fs::write(dir.join("server.conf"), config)?;
    let log = std::fs::File::create(dir.join("server.log"))?;
    let child = Command::new("pykmip-server")
        .arg("-f")
        .arg(dir.join("server.conf"))
        .arg("-l")
        .arg(dir.join("pykmip.log"))
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start pykmip-server (pip install pykmip)")?;
    let target = Target {
        address: format!("127.0.0.1:{port}"),
        tls: Arc::clone(client_tls),
    };
    let started = Instant::now();
    let result = loop {
        if TcpStream::connect(&target.address).await.is_ok() {
            break measure("pykmip-server", &target, args.duration, false).await;
        }
        if started.elapsed() > Duration::from_secs(30) {
            break Err(anyhow::anyhow!("pykmip-server did not listen within 30 s"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // SIGTERM, not SIGKILL: pykmip-server then stops its policy monitor
    // process, which a SIGKILL would leave running.
    let _ = terminate(child);
    result
}
