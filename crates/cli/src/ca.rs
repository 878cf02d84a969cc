//! `cryptainer ca ...`: the built-in CA (admin of all tenants).

use std::time::{Duration, Instant};

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Auth, Client, SecretJson, print_json};
use crate::commands::{field, items};
use crate::duration::parse_duration;
use crate::failure::Failure;

/// How often `--wait` asks the server for progress.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// `cryptainer ca ...`.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Rotate the built-in CA: a new root cross-signed by the old one.
    #[command(
        long_about = "Rotate the built-in CA: a new root, cross-signed by the old one. The server \
        then serves a bundle with both roots, so every node certificate stays valid and no \
        connection drops. Node certificates are then re-issued in batches (nodes.reissue_batch \
        per nodes.reissue_interval_secs): at its next liveness report, each agent of the current \
        batch renews with a new key and pins the new bundle. Live join tokens carry the old \
        bundle's digest and are replaced: the new ones are printed, ONCE. Follow the re-issue \
        with --wait or `cryptainer ca status`."
    )]
    Rotate {
        /// Wait until every active node holds a certificate from the new root,
        /// showing progress (with --json, the answer comes at the end).
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this long, e.g. 10m.
        #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
        timeout: Duration,
    },
    /// Show the current CA and how far the re-issue of node certificates has come.
    #[command(
        long_about = "Show the current CA (its SHA-256 fingerprint, the digest of the bundle \
        join tokens pin, the number of roots in the bundle) and, among the active nodes with an \
        unexpired certificate, how many hold one from the current root. Nodes still pending \
        after a rotation renew at their turn; a node that stays pending is offline or cannot \
        reach the server."
    )]
    Status {
        /// Wait until no node is pending, showing progress.
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this long, e.g. 10m.
        #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
        timeout: Duration,
    },
}

/// Runs a CA command.
pub async fn run(client: &Client, command: &CaCommand, json: bool) -> anyhow::Result<()> {
    match command {
        CaCommand::Rotate { wait, timeout } => {
            let rotated = SecretJson(
                client
                    .call(
                        Method::POST,
                        &["v1", "ca", "rotate"],
                        &[],
                        None,
                        Auth::Token,
                    )
                    .await?,
            );
            if !json {
                println!(
                    "CA rotated; bundle SHA-256 {}",
                    field(&rotated, "ca_digest")
                );
                for token in items(&rotated, "tokens") {
                    println!(
                        "Join token {} replaces {}: {}",
                        field(token, "id"),
                        field(token, "replaces"),
                        field(token, "token")
                    );
                }
            }
            let status = if *wait {
                Some(wait_for_reissue(client, *timeout, json).await?)
            } else {
                if !json {
                    println!(
                        "Node certificates are re-issued in batches; follow with `cryptainer ca status --wait`."
                    );
                }
                None
            };
            if json {
                let mut answer = rotated.0.clone();
                if let (Some(status), Some(object)) = (status, answer.as_object_mut()) {
                    object.insert("reissue".to_owned(), status);
                }
                return print_json(&SecretJson(answer));
            }
            Ok(())
        }
        CaCommand::Status { wait, timeout } => {
            let status = if *wait {
                wait_for_reissue(client, *timeout, json).await?
            } else {
                ca_status(client).await?
            };
            if json {
                return print_json(&status);
            }
            println!(
                "CA fingerprint (SHA-256): {}",
                field(&status, "ca_fingerprint")
            );
            println!(
                "Bundle digest (join tokens pin it): {}",
                field(&status, "ca_digest")
            );
            println!("Roots in the bundle: {}", field(&status, "roots"));
            println!("{}", progress_line(&status));
            for node in items(&status, "pending") {
                println!("  pending: {}", node.as_str().unwrap_or_default());
            }
            if let Some(line) = server_cert_line(&status) {
                println!("{line}");
            }
            Ok(())
        }
    }
}

async fn ca_status(client: &Client) -> anyhow::Result<Value> {
    client
        .call(Method::GET, &["v1", "ca", "status"], &[], None, Auth::Token)
        .await
}

fn count(status: &Value, name: &str) -> u64 {
    status.get(name).and_then(Value::as_u64).unwrap_or(0)
}

fn progress_line(status: &Value) -> String {
    format!(
        "Node certificates from the current root: {}/{}",
        count(status, "reissued"),
        count(status, "nodes")
    )
}

/// Whether the current root issued the server's own certificate; `None` from a
/// server that does not say.
fn server_cert_current(status: &Value) -> Option<bool> {
    status
        .get("server_certificate")?
        .get("current_root")?
        .as_bool()
}

fn server_cert_line(status: &Value) -> Option<String> {
    let current = server_cert_current(status)?;
    let not_after = status
        .get("server_certificate")
        .and_then(|cert| cert.get("not_after"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some(if current {
        format!("Server certificate: from the current root (expires {not_after})")
    } else {
        "Server certificate: from the previous root; it moves to the current root once every node has renewed".to_owned()
    })
}

/// Polls `GET /v1/ca/status` until no node is pending and the server's own
/// certificate comes from the current root, printing each change of progress on
/// standard error; fails after `timeout` naming what is left.
async fn wait_for_reissue(
    client: &Client,
    timeout: Duration,
    quiet: bool,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + timeout;
    let mut shown = None;
    loop {
        let status = ca_status(client).await?;
        let server_current = server_cert_current(&status).unwrap_or(true);
        let progress = (
            count(&status, "reissued"),
            count(&status, "nodes"),
            server_current,
        );
        if !quiet && shown != Some(progress) {
            eprintln!("{}", progress_line(&status));
            if let Some(line) = server_cert_line(&status) {
                eprintln!("{line}");
            }
            shown = Some(progress);
        }
        if progress.0 >= progress.1 && server_current {
            return Ok(status);
        }
        if Instant::now() >= deadline && progress.0 >= progress.1 {
            return Err(Failure::failed(
                "every node renewed, but the server still presents a certificate from the previous root",
                "the server replaces it within a minute of the last renewal; see its log for `server certificate check failed`",
            )
            .into());
        }
        if Instant::now() >= deadline {
            let pending: Vec<&str> = items(&status, "pending")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            return Err(Failure::failed(
                format!(
                    "{} node(s) still hold a certificate from the previous root: {}",
                    pending.len(),
                    pending.join(", ")
                ),
                "check that those agents run and reach the server (`cryptainer node show NODE` gives the last report); they renew at their turn, and their certificates stay valid meanwhile",
            )
            .into());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
