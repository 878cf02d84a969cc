//! `cryptainer ca ...`: the built-in CA (admin of all tenants).

use std::time::{Duration, Instant};

use api::Answer;
use api::nodes::{CaStatus, GetCaStatus, RotateCa};

use crate::args::CaCommand;
use crate::client::{Client, SecretJson, print_answer, print_json};
use crate::failure::Failure;

/// How often `--wait` asks the server for progress.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Runs a CA command.
pub async fn run(client: &Client, command: &CaCommand, json: bool) -> anyhow::Result<()> {
    match command {
        CaCommand::Rotate { wait, timeout } => rotate(client, *wait, *timeout, json).await,
        CaCommand::Status { wait, timeout } => status(client, *wait, *timeout, json).await,
    }
}

/// `cryptainer ca rotate`: prints the replaced join tokens, once; with
/// `--json --wait`, the rotation's answer with the final re-issue status
/// under `reissue`.
async fn rotate(client: &Client, wait: bool, timeout: Duration, json: bool) -> anyhow::Result<()> {
    let answer = client.call(&RotateCa).await?;
    if !json {
        let rotated = client.decode(&answer)?;
        println!("CA rotated; bundle SHA-256 {}", rotated.ca_digest);
        for token in &rotated.tokens {
            println!(
                "Join token {} replaces {}: {}",
                token.info.id,
                token.replaces,
                token.token.expose_secret()
            );
        }
    }
    let status = if wait {
        Some(wait_for_reissue(client, timeout, json).await?)
    } else {
        if !json {
            println!(
                "Node certificates are re-issued in batches; follow with `cryptainer ca status --wait`."
            );
        }
        None
    };
    if json {
        let Some(status) = status else {
            return print_answer(&answer);
        };
        let mut rotated = SecretJson(serde_json::from_slice(answer.body())?);
        let reissue: serde_json::Value = serde_json::from_slice(status.body())?;
        if let Some(object) = rotated.0.as_object_mut() {
            object.insert("reissue".to_owned(), reissue);
        }
        return print_json(&rotated);
    }
    Ok(())
}

/// `cryptainer ca status`.
async fn status(client: &Client, wait: bool, timeout: Duration, json: bool) -> anyhow::Result<()> {
    let answer = if wait {
        wait_for_reissue(client, timeout, json).await?
    } else {
        client.call(&GetCaStatus).await?
    };
    if json {
        return print_answer(&answer);
    }
    let status = client.decode(&answer)?;
    println!("CA fingerprint (SHA-256): {}", status.ca_fingerprint);
    println!("Bundle digest (join tokens pin it): {}", status.ca_digest);
    println!("Roots in the bundle: {}", status.roots);
    println!("{}", progress_line(&status));
    for node in &status.pending {
        println!("  pending: {node}");
    }
    println!("{}", server_cert_line(&status));
    Ok(())
}

fn progress_line(status: &CaStatus) -> String {
    format!(
        "Node certificates from the current root: {}/{}",
        status.reissued, status.nodes
    )
}

fn server_cert_line(status: &CaStatus) -> String {
    let certificate = &status.server_certificate;
    if certificate.current_root {
        format!(
            "Server certificate: from the current root (expires {})",
            certificate.not_after
        )
    } else {
        "Server certificate: from the previous root; it moves to the current root once every node has renewed".to_owned()
    }
}

/// Polls `GET /v1/ca/status` until no node is pending and the server's own
/// certificate comes from the current root, printing each change of progress on
/// standard error; fails after `timeout` naming what is left.
async fn wait_for_reissue(
    client: &Client,
    timeout: Duration,
    quiet: bool,
) -> anyhow::Result<Answer<CaStatus>> {
    let deadline = Instant::now() + timeout;
    let mut shown = None;
    loop {
        let answer = client.call(&GetCaStatus).await?;
        let status = client.decode(&answer)?;
        let server_current = status.server_certificate.current_root;
        let progress = (status.reissued, status.nodes, server_current);
        if !quiet && shown != Some(progress) {
            eprintln!("{}", progress_line(&status));
            eprintln!("{}", server_cert_line(&status));
            shown = Some(progress);
        }
        if progress.0 >= progress.1 && server_current {
            return Ok(answer);
        }
        if Instant::now() >= deadline && progress.0 >= progress.1 {
            return Err(Failure::failed(
                "every node renewed, but the server still presents a certificate from the previous root",
                "the server replaces it within a minute of the last renewal; see its log for `server certificate check failed`",
            )
            .into());
        }
        if Instant::now() >= deadline {
            return Err(Failure::failed(
                format!(
                    "{} node(s) still hold a certificate from the previous root: {}",
                    status.pending.len(),
                    status.pending.join(", ")
                ),
                "check that those agents run and reach the server (`cryptainer node show NODE` gives the last report); they renew at their turn, and their certificates stay valid meanwhile",
            )
            .into());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
