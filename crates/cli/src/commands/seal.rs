//! The automatic seals on the command line: `operator seal migrate`, the
//! recovery shares `operator init` and `operator rotate-root` deal with under
//! an automatic seal, and the seal's lines of `status`.

use api::SecretString;
use api::seal::{
    CancelSealMigration, CompleteMigrationRequest, CompleteSealMigration, Consent, MigrateAnswer,
    MigrateRequest, MigrateSeal,
};
use api::sys::{DeviceHealth, GetStatus, InitAnswer, RotateRootRequest, Status, UnsealState};

use super::text;
use crate::args::{InitArgs, MigrateArgs};
use crate::client::Client;
use crate::failure::Failure;
use crate::prompt;
use crate::table::Table;

/// Recovery shares made by default, as the server makes them.
pub const DEFAULT_RECOVERY_SHARES: u8 = 5;

/// Recovery shares needed by default, as the server makes them.
pub const DEFAULT_RECOVERY_THRESHOLD: u8 = 3;

fn is_automatic(kind: &str) -> bool {
    matches!(kind, "pkcs11" | "tpm2" | "kmip")
}

/// The automatic seal kind the server's `[seal]` names, if any.
pub async fn configured_automatic_seal(client: &Client) -> anyhow::Result<Option<String>> {
    let status = client.send(&GetStatus).await?;
    Ok(status
        .automatic
        .and_then(|automatic| automatic.seal_configured)
        .filter(|kind| is_automatic(kind)))
}

/// One share as typed or piped, without surrounding white space.
fn read_share(prompt_text: &str, what: &str) -> anyhow::Result<SecretString> {
    let share = prompt::read_secret(prompt_text, what)?;
    Ok(SecretString::from_str_copy(share.trim()))
}

/// Reads `need` shares, one prompt (or standard input line) each.
fn read_shares(what: &str, need: u8) -> anyhow::Result<Vec<SecretString>> {
    (1..=need)
        .map(|index| read_share(&format!("{what} {index} of {need}: "), what))
        .collect()
}

/// Reads shares until an empty line or the end of standard input.
fn read_shares_until_done(what: &str) -> anyhow::Result<Vec<SecretString>> {
    let mut shares = Vec::new();
    loop {
        let prompt_text = format!("{what} {} (empty to finish): ", shares.len() + 1);
        match read_share(&prompt_text, what) {
            Ok(share) => shares.push(share),
            Err(_) if !shares.is_empty() => return Ok(shares),
            Err(error) => return Err(error),
        }
    }
}

/// The consent of the people behind the server's current seal.
fn read_consent(status: &Status) -> anyhow::Result<Consent> {
    match status.seal.as_deref() {
        Some("shamir") => Ok(Consent {
            unseal_shares: read_shares("Current unseal share", status.threshold)?,
            ..Consent::default()
        }),
        Some("passphrase") => {
            let passphrase = prompt::read_secret("Current passphrase: ", "passphrase")?;
            Ok(Consent {
                passphrase: Some(SecretString::from_str_copy(&passphrase)),
                ..Consent::default()
            })
        }
        Some(kind) if is_automatic(kind) => Ok(Consent {
            recovery_shares: read_shares("Recovery share", status.recovery_threshold)?,
            ..Consent::default()
        }),
        other => Err(Failure::usage(
            format!("the server has no seal to migrate from ({})", text(other)),
            "initialize it first with `cryptainer operator init`",
        )
        .into()),
    }
}

/// `cryptainer operator seal migrate [--complete | --cancel]`.
pub async fn migrate(client: &Client, args: &MigrateArgs, json: bool) -> anyhow::Result<()> {
    if args.cancel {
        return client
            .show(&CancelSealMigration, json, |_| {
                println!("Cancelled the migration; the seal in use stays.");
                Ok(())
            })
            .await;
    }
    if args.complete {
        let request = CompleteMigrationRequest {
            shares: read_shares_until_done("New share")?,
        };
        return client
            .show(&CompleteSealMigration(&request), json, |status| {
                println!(
                    "Migrated: the root key is now sealed with the {} seal; no object was re-encrypted.",
                    text(status.seal.as_deref())
                );
                Ok(())
            })
            .await;
    }
    let to = args.to.clone().unwrap_or_default();
    let status = client.send(&GetStatus).await?;
    let consent = read_consent(&status)?;
    let new_passphrase = if to == "passphrase" {
        let passphrase = prompt::read_new_passphrase("New passphrase for the root key: ")?;
        Some(SecretString::from_str_copy(&passphrase))
    } else {
        None
    };
    let request = MigrateRequest {
        to: to.clone(),
        consent,
        new_passphrase,
        shares: args.shares,
        threshold: args.threshold,
        recovery_shares: args.recovery_shares,
        recovery_threshold: args.recovery_threshold,
    };
    client
        .show(&MigrateSeal(&request), json, |answer| {
            print_migration(&answer);
            Ok(())
        })
        .await
}

/// What a migration prints: done, or waiting for its new shares.
fn print_migration(answer: &MigrateAnswer) {
    let (from, to) = (answer.from.as_str(), answer.to.as_str());
    if !answer.pending {
        println!(
            "Migrated the root key from the {from} seal to the {to} seal; no object was re-encrypted."
        );
        if is_automatic(to) && from == "shamir" {
            println!("The unseal shares are now the recovery shares: keep them as they are.");
        }
        if to == "shamir" && is_automatic(from) {
            println!(
                "The recovery shares are now the unseal shares: unseal with them after each restart."
            );
        }
        return;
    }
    let kind = if to == "shamir" { "Unseal" } else { "Recovery" };
    println!("The {to} seal is ready but NOT in use yet: it waits for these new shares.\n");
    for (index, share) in answer.new_shares.iter().enumerate() {
        println!("{kind} share {}: {}", index + 1, share.expose_secret());
    }
    println!(
        "\nHand each share to a different person, then have a quorum give them back with \
         `cryptainer operator seal migrate --complete`: only then does the new seal replace \
         the {from} seal (which stays in use until then; `--cancel` forgets this migration)."
    );
}

/// The body of `rotate-root`: a quorum of recovery shares under an automatic
/// seal, nothing otherwise.
pub async fn rotate_root_request(client: &Client) -> anyhow::Result<RotateRootRequest> {
    let status = client.send(&GetStatus).await?;
    if status.recovery_threshold == 0 {
        return Ok(RotateRootRequest::default());
    }
    Ok(RotateRootRequest {
        recovery_shares: read_shares("Recovery share", status.recovery_threshold)?,
    })
}

/// What `operator init` prints with an automatic seal.
pub fn print_automatic_init(answer: &InitAnswer, args: &InitArgs) {
    let shares = &answer.recovery_shares;
    println!(
        "Initialized with the {} seal: the server unseals itself, now and at every start.\n",
        answer.seal
    );
    for (index, share) in shares.iter().enumerate() {
        println!("Recovery share {}: {}", index + 1, share.expose_secret());
    }
    println!();
    println!(
        "{} of these {} recovery shares are needed to migrate the seal or rotate the root key. \
         They cannot decrypt anything by themselves.",
        args.recovery_threshold
            .unwrap_or(DEFAULT_RECOVERY_THRESHOLD),
        shares.len()
    );
    println!("Root token: {}\n", answer.root_token.expose_secret());
    println!(
        "WARNING: these secrets are shown ONCE and cannot be recovered. Store each recovery \
         share with a different person, apart from the root token. Use the root token to \
         create tokens for daily use (`cryptainer token create`), then keep it offline."
    );
}

/// The seal line of `status`: the kind, and the device and key it uses.
pub fn describe_seal(status: &Status) -> String {
    let kind = text(status.seal.as_deref());
    let parts: Vec<String> = [("token", &status.seal_token), ("key", &status.seal_key)]
        .into_iter()
        .filter_map(|(label, value)| value.as_ref().map(|value| format!("{label} {value}")))
        .collect();
    if parts.is_empty() {
        kind
    } else {
        format!("{kind} ({})", parts.join(", "))
    }
}

/// The rows `status` adds for an automatic seal and a pending migration.
pub fn status_rows(status: &Status, table: &mut Table) {
    if status.recovery_shares > 0 {
        table.row(vec![
            "Recovery shares:".to_owned(),
            format!(
                "{} (threshold {})",
                status.recovery_shares, status.recovery_threshold
            ),
        ]);
    }
    if let Some(automatic) = &status.automatic {
        if let Some(device) = automatic.seal_device {
            let device = match device {
                DeviceHealth::Reachable => "reachable",
                DeviceHealth::Unreachable => "unreachable",
            };
            table.row(vec!["Seal device:".to_owned(), device.to_owned()]);
        }
        let state = match automatic.seal_state {
            UnsealState::Retrying => Some("retrying"),
            UnsealState::Refused => Some("refused"),
            UnsealState::Idle | UnsealState::Unsealed => None,
        };
        if let Some(state) = state {
            table.row(vec![
                "Automatic unseal:".to_owned(),
                format!("{state} ({})", text(automatic.seal_error.as_deref())),
            ]);
        }
    }
    if let Some(kind) = &status.seal_migration_pending {
        table.row(vec![
            "Pending migration:".to_owned(),
            format!("to {kind}, waiting for its new shares"),
        ]);
    }
}
