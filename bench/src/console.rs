//! `cryptainer-bench console`: time to first render of each view of the web
//! console, in Debian's chromium driven over WebDriver, with a large fleet
//! (1,000 nodes, 10,000 volumes by default) against a small one (10 nodes,
//! 100 volumes) measured in the same run; the ratio says how much the size
//! of the fleet costs a view.
//!
//! The fleet is made through the real API: nodes join with join tokens and
//! their own keys, each node creates its volumes and takes their leases for
//! a container (a policy decision each), receives a secret for its first
//! container, and reports its running containers in a liveness report.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::server::{DevEnv, ScratchDir, ServerProcess};

/// The views, in the console's order.
const VIEWS: [&str; 7] = [
    "overview",
    "nodes",
    "volumes",
    "objects",
    "workloads",
    "policies",
    "audit",
];

/// How long one step of the browser may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// Arguments of `cryptainer-bench console`.
#[derive(clap::Args, Debug)]
pub struct ConsoleArgs {
    /// The `cryptainer` binary [default: next to this one].
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Nodes in the large fleet.
    #[arg(long, default_value_t = 1000)]
    pub nodes: u32,
    /// Volumes in the large fleet (spread over the nodes).
    #[arg(long, default_value_t = 10_000)]
    pub volumes: u32,
    /// Nodes in the baseline fleet.
    #[arg(long, default_value_t = 10)]
    pub baseline_nodes: u32,
    /// Volumes in the baseline fleet.
    #[arg(long, default_value_t = 100)]
    pub baseline_volumes: u32,
    /// Renders measured per view (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: u32,
    /// Requests in flight while the fleet is made.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Keep the data directories.
    #[arg(long)]
    pub keep_data: bool,
}

/// The figures of one fleet.
struct Figures {
    /// Median time (ms) from load to the overview drawn.
    cold_load: f64,
    /// Median time (ms) from a view's route to it drawn, per view.
    views: Vec<(&'static str, f64)>,
}

fn default_server_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("cryptainer")))
        .unwrap_or_else(|| PathBuf::from("cryptainer"))
}

/// Runs the benchmark and prints its table.
pub async fn run(args: &ConsoleArgs) -> anyhow::Result<()> {
    let server_bin = args.server_bin.clone().unwrap_or_else(default_server_bin);
    let baseline = measure_fleet(
        args,
        &server_bin,
        args.baseline_nodes,
        args.baseline_volumes,
    )
    .await?;
    let full = measure_fleet(args, &server_bin, args.nodes, args.volumes).await?;
    println!();
    println!(
        "Time to first render of each console view: {} nodes and {} volumes against {} nodes and {} volumes (median of {} renders, ms)",
        args.nodes, args.volumes, args.baseline_nodes, args.baseline_volumes, args.rounds
    );
    println!(
        "{:<28} {:>10} {:>10} {:>8}",
        "view", "baseline", "large", "ratio"
    );
    let row = |name: &str, small: f64, large: f64| {
        println!(
            "{name:<28} {small:>10.1} {large:>10.1} {:>7.2}x",
            large / small.max(0.001)
        );
    };
    row("page load to overview", baseline.cold_load, full.cold_load);
    for ((view, small), (_, large)) in baseline.views.iter().zip(&full.views) {
        row(view, *small, *large);
    }
    Ok(())
}

/// Starts a server, makes a fleet of `nodes` and `volumes`, measures it.
async fn measure_fleet(
    args: &ConsoleArgs,
    server_bin: &std::path::Path,
    nodes: u32,
    volumes: u32,
) -> anyhow::Result<Figures> {
    let scratch = ScratchDir::create(args.keep_data)?;
    let mut server = ServerProcess::start(server_bin, scratch.path())?;
    let env = server.wait_for_dev_env()?;
    eprintln!("fleet of {nodes} nodes and {volumes} volumes: making it");
    let started = Instant::now();
    seed(&env, nodes, volumes, args.concurrency).await?;
    eprintln!(
        "  made in {:.1} s; measuring",
        started.elapsed().as_secs_f64()
    );
    let figures = measure(&env, args.rounds).await;
    server.stop()?;
    figures
}

/// An HTTPS client trusting only the server's CA, presenting `identity`.
fn client(env: &DevEnv, identity: Option<reqwest::Identity>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&env.ca_pem)?)
        .timeout(Duration::from_secs(60));
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    Ok(builder.build()?)
}

/// `POST path` with `body`; the JSON answer, or why not.
async fn post(
    client: &reqwest::Client,
    env: &DevEnv,
    token: Option<&str>,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = client.post(format!("{}{path}", env.address)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {path}"))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("POST {path} answered {status}: {answer}");
    }
    Ok(answer)
}

/// Makes the fleet through the API.
async fn seed(env: &DevEnv, nodes: u32, volumes: u32, concurrency: usize) -> anyhow::Result<()> {
    let admin = client(env, None)?;
    let token = Some(env.token.as_str());
    let digest = |index: u32| format!("sha256:{index:064x}");
    for index in 0..10_u32 {
        post(
            &admin,
            env,
            token,
            "/v1/secrets",
            json!({"name": format!("app-{index}-password"), "value": "c2VjcmV0"}),
        )
        .await?;
        post(
            &admin,
            env,
            token,
            "/v1/policies",
            json!({"name": format!("app-{index}"), "subject": {"image_digests": [digest(index)]}, "secrets": [format!("app-{index}-password")]}),
        )
        .await?;
    }
    let join = post(
        &admin,
        env,
        token,
        "/v1/nodes/tokens",
        json!({"max_uses": nodes, "ttl_secs": 86400, "labels": {"zone": "bench"}}),
    )
    .await?;
    let join_token = join
        .get("token")
        .and_then(Value::as_str)
        .context("no join token")?
        .to_owned();
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let env = Arc::new(DevEnv {
        address: env.address.clone(),
        token: env.token.clone(),
        ca_pem: env.ca_pem.clone(),
    });
    for node in 0..nodes {
        // Volumes spread evenly: the first `volumes % nodes` nodes get one more.
        let count = volumes / nodes + u32::from(node < volumes % nodes);
        let (env, join_token, slots) = (Arc::clone(&env), join_token.clone(), Arc::clone(&slots));
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await?;
            seed_node(&env, &join_token, node, count).await
        });
    }
    let mut done = 0_u32;
    while let Some(result) = tasks.join_next().await {
        result??;
        done += 1;
        if done % 100 == 0 {
            eprintln!("  {done} nodes joined with their volumes");
        }
    }
    Ok(())
}

/// One node: joins, makes and takes `count` volumes for a container each,
/// receives a secret for the first, reports its containers.
async fn seed_node(env: &DevEnv, join_token: &str, node: u32, count: u32) -> anyhow::Result<()> {
    let anonymous = client(env, None)?;
    let name = format!("host-{node:04}");
    let request = pki::node_key_request(&name)?;
    let issued = post(
        &anonymous,
        env,
        None,
        "/v1/nodes/join",
        json!({"token": join_token, "csr_pem": request.csr_pem, "name": name}),
    )
    .await?;
    let certificate = issued
        .get("cert_pem")
        .and_then(Value::as_str)
        .context("no certificate")?;
    let mut identity_pem = certificate.as_bytes().to_vec();
    identity_pem.extend_from_slice(request.key_pem.as_bytes());
    let node_client = client(env, Some(reqwest::Identity::from_pem(&identity_pem)?))?;
    let digest = format!("sha256:{:064x}", node % 10);
    let mut containers = Vec::new();
    let mut mounted = Vec::new();
    for index in 0..count {
        let volume = format!("vol-{node:04}-{index:02}");
        let container = format!("c{node:04}{index:02}");
        post(
            &node_client,
            env,
            None,
            "/v1/volumes",
            json!({"name": volume, "size_bytes": 1u64 << 30}),
        )
        .await?;
        let claim = json!({"container_id": container, "container_name": format!("app-{node}-{index}"), "image": "app:1", "image_digest": digest});
        post(
            &node_client,
            env,
            None,
            &format!("/v1/volumes/{volume}/acquire"),
            json!({"lease_seconds": 3600, "workloads": [claim]}),
        )
        .await?;
        if index == 0 {
            post(
                &node_client,
                env,
                None,
                &format!("/v1/secrets/app-{}-password/deliver", node % 10),
                json!({"workloads": [claim]}),
            )
            .await?;
        }
        containers.push(json!({"container_id": container, "container_name": format!("app-{node}-{index}"), "image": "app:1", "image_digest": digest, "volumes": [volume]}));
        mounted.push(json!({"name": volume, "engine": "userspace"}));
    }
    post(
        &node_client,
        env,
        None,
        "/v1/nodes/heartbeat",
        json!({"containers": containers, "volumes": mounted}),
    )
    .await?;
    Ok(())
}

/// A headless chromium driven by chromedriver.
struct Browser {
    client: fantoccini::Client,
    driver: Child,
    _profile: ScratchDir,
}

impl Browser {
    async fn start() -> anyhow::Result<Browser> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromedriver (apt-get install chromium chromium-driver)")?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > BROWSER_TIMEOUT {
                bail!("chromedriver never listened");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = ScratchDir::create(false)?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert("acceptInsecureCerts".to_owned(), json!(true));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({"args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                format!("--user-data-dir={}", profile.path().display()), "--window-size=1280,860",
            ]}),
        );
        let client = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .context("cannot open a chromium session")?;
        Ok(Browser {
            client,
            driver,
            _profile: profile,
        })
    }

    async fn js(&self, script: &str) -> anyhow::Result<Value> {
        Ok(self.client.execute(script, Vec::new()).await?)
    }

    /// Waits until the view `view` is drawn.
    async fn drawn(&self, view: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let ready = self
                .js(&format!(
                    "return document.getElementById('main').dataset.ready === '{view}'"
                ))
                .await?;
            if ready == json!(true) {
                return Ok(());
            }
            if started.elapsed() > BROWSER_TIMEOUT {
                bail!(
                    "the {view} view was not drawn within {} s",
                    BROWSER_TIMEOUT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Signs in and measures each view `rounds` times.
async fn measure(env: &DevEnv, rounds: u32) -> anyhow::Result<Figures> {
    let browser = Browser::start().await?;
    let outcome = measure_with(&browser, env, rounds).await;
    browser.stop().await;
    outcome
}

async fn measure_with(browser: &Browser, env: &DevEnv, rounds: u32) -> anyhow::Result<Figures> {
    use fantoccini::Locator;
    browser.client.goto(&format!("{}/ui/", env.address)).await?;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#token"))
        .await?;
    browser
        .client
        .find(Locator::Css("#token"))
        .await?
        .send_keys(&env.token)
        .await?;
    browser
        .client
        .find(Locator::Css("#signin-submit"))
        .await?
        .click()
        .await?;
    browser.drawn("overview").await?;
    // Page load to the overview drawn: the page's own timeline, whose
    // origin is the navigation's start.
    let mut cold = Vec::new();
    for _ in 0..rounds {
        browser
            .js("document.getElementById('main').dataset.ready = ''; location.reload();")
            .await?;
        browser.drawn("overview").await?;
        let end = browser
            .js("const m = performance.getEntriesByName('view:overview'); return m.length ? m[0].startTime + m[0].duration : null;")
            .await?;
        cold.push(end.as_f64().context("no render measure")?);
    }
    let mut views = Vec::new();
    for view in VIEWS {
        let mut times = Vec::new();
        for round in 0..rounds {
            // Away first, so that each round routes to the view afresh.
            let away = if view == "overview" {
                "nodes"
            } else {
                "overview"
            };
            browser.js(&format!("document.getElementById('main').dataset.ready = ''; location.hash = '#/{away}?r={round}';")).await?;
            browser.drawn(away).await?;
            browser.js(&format!("performance.clearMeasures('view:{view}'); document.getElementById('main').dataset.ready = ''; location.hash = '#/{view}?r={round}';")).await?;
            browser.drawn(view).await?;
            let took = browser
                .js(&format!("const m = performance.getEntriesByName('view:{view}'); return m.length ? m[m.length - 1].duration : null;"))
                .await?;
            times.push(took.as_f64().context("no render measure")?);
        }
        eprintln!("  {view}: {:.1} ms", median(times.clone()));
        views.push((view, median(times)));
    }
    Ok(Figures {
        cold_load: median(cold),
        views,
    })
}
