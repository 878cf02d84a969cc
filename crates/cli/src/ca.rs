//! `cryptainer ca ...`: the built-in CA (admin of all tenants).

use clap::Subcommand;
use reqwest::Method;

use crate::client::{Auth, Client, SecretJson, print_json};
use crate::commands::{field, items};

/// `cryptainer ca ...`.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Rotate the built-in CA: a new root cross-signed by the old one.
    #[command(
        long_about = "Rotate the built-in CA: a new root, cross-signed by the old one. The server \
        then serves a bundle with both roots, so every node certificate stays valid; agents \
        renew at their next liveness report and pin the new bundle. Live join tokens carry \
        the old bundle's digest and are replaced: the new ones are printed, ONCE."
    )]
    Rotate,
}

/// Runs a CA command.
pub async fn run(client: &Client, command: &CaCommand, json: bool) -> anyhow::Result<()> {
    match command {
        CaCommand::Rotate => {
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
            if json {
                return print_json(&rotated);
            }
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
            Ok(())
        }
    }
}
