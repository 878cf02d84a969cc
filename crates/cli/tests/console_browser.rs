//! The web console in a real browser: Debian's chromium, driven over
//! WebDriver (chromedriver) against the real server, with a joined agent and
//! Docker volumes. A node's volume appears when its container starts and
//! goes when it stops, without a reload, also across a dropped connection
//! (the browser reaches the server through a proxy the test cuts); a node
//! is decommissioned from the page; an auditor sees everything and is
//! refused the action; markup in names and labels shows as text.
//!
//! With `CRYPTAINER_CONSOLE_SCREENSHOTS=DIR` the first test also saves a
//! screenshot of every view in DIR (how `docs/console/` is made; a relative
//! DIR is relative to `crates/cli`, where cargo runs the test).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // In tests a panic is the failure report.

mod agent_support;
mod server_support;

#[path = "../../plugin/tests/support/mod.rs"]
mod docker_support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_support::Agent;
use docker_support::{Docker, IMAGE, RemoveContainer};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use server_support::{DEADLINE, TestServer, binary, free_port, node_client};

/// A TCP proxy between the browser and the server that the test can cut:
/// every open connection is dropped and new ones are refused until it is
/// restored. TLS passes through it untouched.
struct Proxy {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (accepting, tracked) = (Arc::clone(&open), Arc::clone(&connections));
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !accepting.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tracked.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy {
            addr,
            open,
            connections,
        }
    }

    /// Drops every connection and refuses new ones.
    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Lets connections through again.
    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// chromedriver and a headless chromium session with a fresh profile.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(width: u32, height: u32) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (apt-get install chromium chromium-driver)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < DEADLINE, "chromedriver never listened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let arguments = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        // The server's certificate comes from its own throwaway CA.
        capabilities.insert("acceptInsecureCerts".to_owned(), json!(true));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "args": arguments, "binary": "/usr/bin/chromium" }),
        );
        let client = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Runs `script` in the page (a function body; `arguments` are `args`).
    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// Waits until `script` returns something truthy; returns it.
    async fn until(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.js(script, Vec::new()).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            if truthy {
                return value;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "timed out waiting for {what}; the page shows: {}",
                self.js(
                    "return document.getElementById('main').innerText",
                    Vec::new()
                )
                .await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the table row `data-id=id` of the current view, or "".
    async fn row(&self, id: &str) -> String {
        self.js(
            "const row = [...document.querySelectorAll('#main tr[data-id]')].find(r => r.dataset.id === arguments[0]); return row ? row.innerText : '';",
            vec![json!(id)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Clicks the element `css` once it is on the page. A live refresh may
    /// draw the view again between finding the element and clicking it (the
    /// agent reports every second): then the new element is found and
    /// clicked.
    async fn click(&self, css: &str) {
        let started = Instant::now();
        loop {
            let clicked = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.click().await,
                Err(error) => Err(error),
            };
            match clicked {
                Ok(()) => return,
                Err(error) => assert!(started.elapsed() < DEADLINE, "{css}: {error}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the field `css` once it is on the page (see `click`).
    async fn type_into(&self, css: &str, text: &str) {
        let started = Instant::now();
        loop {
            let typed = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.send_keys(text).await,
                Err(error) => Err(error),
            };
            match typed {
                Ok(()) => return,
                Err(error) => assert!(started.elapsed() < DEADLINE, "{css}: {error}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Goes to view `route` (`#/nodes?...`) and waits until it is drawn.
    async fn view(&self, route: &str) {
        let view = route
            .trim_start_matches("#/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        self.js(
            "document.getElementById('main').dataset.ready = ''; window.location.hash = arguments[0];",
            vec![json!(route)],
        )
        .await;
        let drawn = self
            .until(
                &format!("the {view} view"),
                &format!(
                    "const ready = document.getElementById('main').dataset.ready; \
                     return (ready === '{view}' || ready === '{view}:error') && ready;"
                ),
            )
            .await;
        assert_eq!(
            drawn,
            json!(view),
            "the {view} view failed: {}",
            self.js(
                "return document.getElementById('main').innerText",
                Vec::new()
            )
            .await
        );
    }

    /// Signs in with `token` at `base` and waits for the overview.
    async fn sign_in(&self, base: &str, token: &str) {
        self.client.goto(&format!("{base}/ui/")).await.unwrap();
        self.until(
            "the sign-in form",
            "return !document.getElementById('signin').hidden",
        )
        .await;
        self.type_into("#token", token).await;
        self.click("#signin-submit").await;
        self.until(
            "the overview",
            "return document.getElementById('main').dataset.ready === 'overview'",
        )
        .await;
    }

    /// Saves a screenshot as `name`.png in the screenshot directory, if one
    /// is set.
    async fn screenshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("CRYPTAINER_CONSOLE_SCREENSHOTS") {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            // Clicks scroll the page; every picture starts at its top bar.
            self.js("window.scrollTo(0, 0);", Vec::new()).await;
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The server's socket address.
fn socket_of(server: &TestServer) -> SocketAddr {
    server.addr.trim_start_matches("https://").parse().unwrap()
}

/// `cryptainer ...` against `server`, expected to succeed; its JSON answer.
fn cli_json(server: &TestServer, args: &[&str]) -> Value {
    let output = server.cli(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// A runtime whose worker threads keep the proxy serving while the test
/// blocks on a `docker` command.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs a blocking `docker` command off the runtime's workers.
async fn docker(args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || {
        let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
        Docker.ok(&borrowed)
    })
    .await
    .unwrap()
}

#[test]
fn the_console_follows_a_node_live_across_a_dropped_connection_and_decommissions_it() {
    let docker_cli = Docker::connect();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let agent = Agent::start_with(
        &server,
        dir.path(),
        "console",
        &dir.path().join("storage"),
        &["--heartbeat-interval", "1s"],
    );
    let node_id = agent.node_id();
    let node_name = cli_json(&server, &["node", "show", &node_id, "--json"])["name"]
        .as_str()
        .unwrap()
        .to_owned();
    cli_json(
        &server,
        &["node", "label", &node_id, "zone=eu-west", "rack=r12"],
    );
    let volume = format!("{}-pgdata", agent.driver);
    let secrets = format!("{}-secrets", agent.driver);
    let container = format!("{}-app", agent.driver);
    let image_digest = docker_cli
        .ok(&["image", "inspect", "--format", "{{.Id}}", IMAGE])
        .trim()
        .to_owned();
    // What the views show besides: a secret delivered under a policy, a
    // key, and the volume, all for the container of the test image.
    let output = server.cli_with_input(&["secret", "create", "db-password"], b"s3cret");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    cli_json(
        &server,
        &["key", "create", "backup-key", "--label", "app=billing"],
    );
    agent.create_volume(&volume, "256M");
    cli_json(
        &server,
        &[
            "policy",
            "create",
            "billing-app",
            "--secret",
            "db-password",
            "--volume",
            &volume,
            "--image-digest",
            &image_digest,
            "--node-label",
            "zone=eu-west",
        ],
    );
    docker_cli.ok(&[
        "volume",
        "create",
        "-d",
        &agent.driver,
        "--opt",
        "type=secrets",
        "--opt",
        "secrets=db-password",
        &secrets,
    ]);
    let _remove_container = RemoveContainer::new(&docker_cli, &container);

    runtime().block_on(async {
        let proxy = Proxy::start(socket_of(&server)).await;
        let base = format!("https://{}", proxy.addr);
        let browser = Browser::start(1280, 860).await;
        browser.client.goto(&format!("{base}/ui/")).await.unwrap();
        browser
            .until("the sign-in form", "return !document.getElementById('signin').hidden")
            .await;
        browser.screenshot("signin").await;
        browser.sign_in(&base, &server.token).await;
        // Set by the test: a reload of the page would lose it.
        browser.js("window.consoleTestMarker = 'kept';", Vec::new()).await;

        browser.view("#/volumes").await;
        let row = browser.row(&volume).await;
        assert!(row.contains("Free"), "{row}");

        docker(
            [
                "run", "-d", "--name", &container, "--network", "none", "-v",
                &format!("{volume}:/data"), "-v", &format!("{secrets}:/run/secrets:ro"), IMAGE,
                "sleep", "600",
            ]
            .map(str::to_owned)
            .to_vec(),
        )
        .await;
        let script = format!(
            "const row = [...document.querySelectorAll('#main tr[data-id]')].find(r => r.dataset.id === '{volume}'); \
             return row && row.innerText.includes('Held') && row.innerText.includes('{node_name}') && row.innerText.includes('{container}');"
        );
        browser.until("the volume held by the node, for the container", &script).await;
        assert_eq!(
            browser.js("return window.consoleTestMarker", Vec::new()).await,
            json!("kept"),
            "the page was reloaded"
        );

        // Every view, for the documentation.
        if std::env::var_os("CRYPTAINER_CONSOLE_SCREENSHOTS").is_some() {
            browser.view("#/overview").await;
            browser.screenshot("overview").await;
            browser.view("#/nodes").await;
            browser.click(&format!("#toggle-{node_id}")).await;
            browser
                .until("the node's details", &format!("return document.getElementById('details-{node_id}') !== null"))
                .await;
            browser.screenshot("nodes").await;
            browser.view("#/volumes").await;
            browser.screenshot("volumes").await;
            browser.view("#/objects?filter=secrets").await;
            let secret_id = browser
                .js("return document.querySelector('#main tr[data-id]').dataset.id", Vec::new())
                .await;
            browser.click(&format!("#toggle-{}", secret_id.as_str().unwrap())).await;
            browser
                .until("the secret's recipients", "return document.querySelector('.version') !== null")
                .await;
            browser.screenshot("keys-and-secrets").await;
            browser.view("#/workloads").await;
            browser.screenshot("workloads").await;
            browser.view("#/policies").await;
            browser.type_into("#check-resource", "db-password").await;
            browser.type_into("#check-node", &node_id).await;
            browser.type_into("#check-digest", &image_digest).await;
            browser.click("#check-submit").await;
            browser
                .until("the check's answer", "return document.querySelector('[data-test=check-answer]') !== null")
                .await;
            browser.screenshot("policies").await;
            browser.view("#/audit").await;
            browser.click("#audit-verify").await;
            browser
                .until("the chain's verdict", "return document.querySelector('[data-test=audit-verdict]') !== null")
                .await;
            browser.screenshot("audit").await;
            browser.client.set_window_size(390, 844).await.unwrap();
            browser.view("#/overview").await;
            browser.screenshot("phone-overview").await;
            browser.view("#/nodes").await;
            browser.screenshot("phone-nodes").await;
            browser.client.set_window_size(1280, 860).await.unwrap();
            browser.view("#/volumes").await;
        }

        // The connection drops; meanwhile the container stops and its node
        // releases the volume.
        proxy.cut();
        browser
            .until("the page to notice the drop", "return document.getElementById('live').dataset.state === 'reconnecting'")
            .await;
        docker(["rm", "-f", &container].map(str::to_owned).to_vec()).await;
        let api = server.client();
        let started = Instant::now();
        loop {
            let shown = api
                .get(format!("{}/v1/volumes/{volume}", server.addr))
                .bearer_auth(&server.token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap();
            if shown["state"] == "free" {
                break;
            }
            assert!(started.elapsed() < DEADLINE, "the volume was never released: {shown}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        proxy.restore();
        let script = format!(
            "const row = [...document.querySelectorAll('#main tr[data-id]')].find(r => r.dataset.id === '{volume}'); \
             return row && row.innerText.includes('Free') && !row.innerText.includes('{container}') \
                 && document.getElementById('live').dataset.state === 'live';"
        );
        browser.until("the volume free again after the reconnection", &script).await;
        assert_eq!(
            browser.js("return window.consoleTestMarker", Vec::new()).await,
            json!("kept"),
            "the page was reloaded"
        );

        // Decommission from the page, confirming with the node's name.
        browser.view("#/nodes").await;
        if browser.js(&format!("return document.getElementById('details-{node_id}') === null"), Vec::new()).await == json!(true) {
            browser.click(&format!("#toggle-{node_id}")).await;
        }
        browser.click(&format!("#decommission-{node_id}")).await;
        let dialog = browser
            .until("the confirmation", "return document.getElementById('dialog').open && document.getElementById('dialog-body').innerText")
            .await;
        let dialog = dialog.as_str().unwrap();
        assert!(dialog.contains(&node_name) && dialog.contains("refuses"), "{dialog}");
        browser.type_into("#confirm-name", &node_name).await;
        browser.click("#dialog-confirm").await;
        browser
            .until(
                "the node shown decommissioned",
                &format!(
                    "const row = [...document.querySelectorAll('#main tr[data-id]')].find(r => r.dataset.id === '{node_id}'); \
                     return row && row.innerText.includes('Decommissioned');"
                ),
            )
            .await;
        browser.close().await;
    });
    let shown = cli_json(&server, &["node", "show", &node_id, "--json"]);
    assert_eq!(shown["state"], "decommissioned", "{shown}");
    // Clean-up only: whether Docker can still remove the secret volume
    // depends on whether the agent noticed its node's decommission yet.
    let _ = Command::new("docker")
        .args(["volume", "rm", "-f", &secrets])
        .output();
}

/// Joins a node named `name` without running its agent: its data directory
/// and id.
fn join(server: &TestServer, dir: &Path, name: &str) -> (PathBuf, String) {
    let created = cli_json(server, &["node", "token", "create", "--json"]);
    let data_dir = dir.join(name);
    let output = Command::new(binary())
        .args(["agent", "join", "--server", &server.addr, "--token"])
        .arg(created["token"].as_str().unwrap())
        .args(["--name", name, "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let state: Value =
        serde_json::from_slice(&std::fs::read(data_dir.join("node.json")).unwrap()).unwrap();
    (data_dir, state["node_id"].as_str().unwrap().to_owned())
}

#[test]
fn an_auditor_is_refused_the_action_and_markup_in_names_and_labels_shows_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("server"));
    let (node_dir, node_id) = join(&server, dir.path(), "host-x");
    let markup = r#"<img src=x onerror="document.title='pwned'">"#;
    let bold = "<b>bold</b>";
    cli_json(
        &server,
        &[
            "node",
            "label",
            &node_id,
            &format!("note={markup}"),
            &format!("html={bold}"),
        ],
    );
    let script_name = "<script>document.title='pwned'</script>";
    let auditor = cli_json(
        &server,
        &[
            "token", "create", "--role", "auditor", "--tenant", "*", "--json",
        ],
    );
    runtime().block_on(async {
        // The node reports a container whose name and image carry markup
        // (a node's report is only as trustworthy as the node).
        let report = json!({"containers": [{
            "container_id": "c0ffee", "container_name": script_name,
            "image": bold, "volumes": ["vol"],
            "container_labels": {"x": markup}
        }]});
        let answer = node_client(&node_dir)
            .post(format!("{}/v1/nodes/heartbeat", server.addr))
            .json(&report)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);

        let browser = Browser::start(1280, 860).await;
        browser.sign_in(&server.addr, auditor["token"].as_str().unwrap()).await;
        browser.view("#/nodes").await;
        browser.click(&format!("#toggle-{node_id}")).await;
        browser
            .until("the node's details", &format!("return document.getElementById('details-{node_id}') !== null"))
            .await;
        let chips = browser
            .js("return [...document.querySelectorAll('#main .chip')].map(c => c.textContent)", Vec::new())
            .await;
        let chips: Vec<String> = serde_json::from_value(chips).unwrap();
        assert!(chips.contains(&format!("note={markup}")), "{chips:?}");
        assert!(chips.contains(&format!("html={bold}")), "{chips:?}");
        browser.view("#/workloads").await;
        let text = browser.js("return document.getElementById('main').textContent", Vec::new()).await;
        let text = text.as_str().unwrap();
        assert!(text.contains(script_name) && text.contains(bold), "{text}");
        let injected = browser
            .js("return document.querySelectorAll('#main img, #main b, #main script').length", Vec::new())
            .await;
        assert_eq!(injected, json!(0), "markup became elements");
        assert_ne!(browser.js("return document.title", Vec::new()).await, json!("pwned"));

        // The auditor sees the action, disabled, with why; and the server
        // refuses it when the page is made to send it anyway.
        browser.view("#/nodes").await;
        let button = browser
            .js(&format!("const b = document.getElementById('decommission-{node_id}'); return [b.disabled, document.getElementById('decommission-why-{node_id}').textContent];"), Vec::new())
            .await;
        assert_eq!(button[0], json!(true), "{button}");
        assert!(button[1].as_str().unwrap().contains("auditor"), "{button}");
        let forged = browser
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch('/v1/console/session').then(r => r.json()).then(s =>
                   fetch('/v1/nodes/' + arguments[0] + '/decommission', {
                     method: 'POST',
                     headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token},
                     body: JSON.stringify({shred: false}),
                   })).then(r => r.json().then(body => done([r.status, body.error.message])));",
                vec![json!(node_id)],
            )
            .await
            .unwrap();
        assert_eq!(forged[0], json!(403), "{forged}");
        assert!(forged[1].as_str().unwrap().contains("auditor"), "{forged}");
        browser.close().await;
    });
    let shown = cli_json(&server, &["node", "show", &node_id, "--json"]);
    assert_eq!(shown["state"], "active", "{shown}");
}
