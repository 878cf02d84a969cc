//! The automatic seals on the command line: `operator seal migrate`, the
//! recovery shares `operator init` and `operator rotate-root` deal with under
//! an automatic seal, and the seal's lines of `status`.

use reqwest::Method;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{field, items};
use crate::args::{InitArgs, MigrateArgs};
use crate::client::{Auth, Client, SecretJson, print_json};
use crate::failure::Failure;
use crate::prompt;
use crate::table::Table;

/// The server's status (needs no token).
async fn server_status(client: &Client) -> anyhow::Result<Value> {
    client
        .call(Method::GET, &["v1", "sys", "status"], &[], None, Auth::None)
        .await
}

fn is_automatic(kind: &str) -> bool {
    matches!(kind, "pkcs11" | "tpm2" | "kmip")
}

/// The automatic seal kind the server's `[seal]` names, if any.
pub async fn configured_automatic_seal(client: &Client) -> anyhow::Result<Option<String>> {
    let status = server_status(client).await?;
    Ok(status
        .get("seal_configured")
        .and_then(Value::as_str)
        .filter(|kind| is_automatic(kind))
        .map(str::to_owned))
}

fn count(status: &Value, name: &str) -> u64 {
    status.get(name).and_then(Value::as_u64).unwrap_or(0)
}

/// Reads `need` shares, one prompt (or standard input line) each.
fn read_shares(what: &str, need: u64) -> anyhow::Result<Vec<Zeroizing<String>>> {
    (1..=need)
        .map(|index| {
            prompt::read_secret(&format!("{what} {index} of {need}: "), what)
                .map(|share| Zeroizing::new(share.trim().to_owned()))
        })
        .collect()
}

/// Reads shares until an empty line or the end of standard input.
fn read_shares_until_done(what: &str) -> anyhow::Result<Vec<Zeroizing<String>>> {
    let mut shares = Vec::new();
    loop {
        let prompt_text = format!("{what} {} (empty to finish): ", shares.len() + 1);
        match prompt::read_secret(&prompt_text, what) {
            Ok(share) => shares.push(Zeroizing::new(share.trim().to_owned())),
            Err(_) if !shares.is_empty() => return Ok(shares),
            Err(error) => return Err(error),
        }
    }
}

fn texts(shares: &[Zeroizing<String>]) -> Vec<&str> {
    shares.iter().map(|share| share.as_str()).collect()
}

/// The consent of the people behind the server's current seal.
fn read_consent(status: &Value) -> anyhow::Result<Value> {
    let seal = status.get("seal").and_then(Value::as_str).unwrap_or("-");
    match seal {
        "shamir" => {
            let shares = read_shares("Current unseal share", count(status, "threshold"))?;
            Ok(json!({ "unseal_shares": texts(&shares) }))
        }
        "passphrase" => {
            let passphrase = prompt::read_secret("Current passphrase: ", "passphrase")?;
            Ok(json!({ "passphrase": passphrase.as_str() }))
        }
        kind if is_automatic(kind) => {
            let shares = read_shares("Recovery share", count(status, "recovery_threshold"))?;
            Ok(json!({ "recovery_shares": texts(&shares) }))
        }
        other => Err(Failure::usage(
            format!("the server has no seal to migrate from ({other})"),
            "initialize it first with `cryptainer operator init`",
        )
        .into()),
    }
}

/// `cryptainer operator seal migrate`.
pub async fn run(client: &Client, args: &MigrateArgs, json: bool) -> anyhow::Result<()> {
    if args.cancel {
        let status = client
            .call(
                Method::POST,
                &["v1", "sys", "seal", "migrate", "cancel"],
                &[],
                None,
                Auth::Token,
            )
            .await?;
        return finish(
            &status,
            json,
            "Cancelled the migration; the seal in use stays.",
        );
    }
    if args.complete {
        let shares = read_shares_until_done("New share")?;
        let body = SecretJson(json!({ "shares": texts(&shares) }));
        let status = client
            .call(
                Method::POST,
                &["v1", "sys", "seal", "migrate", "complete"],
                &[],
                Some(&*body),
                Auth::Token,
            )
            .await?;
        let message = format!(
            "Migrated: the root key is now sealed with the {} seal; no object was re-encrypted.",
            field(&status, "seal")
        );
        return finish(&status, json, &message);
    }
    let to = args.to.clone().unwrap_or_default();
    let status = server_status(client).await?;
    let consent = read_consent(&status)?;
    let new_passphrase = if to == "passphrase" {
        Some(prompt::read_new_passphrase(
            "New passphrase for the root key: ",
        )?)
    } else {
        None
    };
    let body = SecretJson(json!({
        "to": to,
        "consent": consent,
        "new_passphrase": new_passphrase.as_ref().map(|passphrase| passphrase.as_str()),
        "shares": args.shares,
        "threshold": args.threshold,
        "recovery_shares": args.recovery_shares,
        "recovery_threshold": args.recovery_threshold,
    }));
    let answer = SecretJson(
        client
            .call(
                Method::POST,
                &["v1", "sys", "seal", "migrate"],
                &[],
                Some(&*body),
                Auth::Token,
            )
            .await?,
    );
    if json {
        return print_json(&answer);
    }
    let pending = answer
        .get("pending")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !pending {
        println!(
            "Migrated the root key from the {} seal to the {} seal; no object was re-encrypted.",
            field(&answer, "from"),
            field(&answer, "to")
        );
        if is_automatic(&to) && field(&answer, "from") == "shamir" {
            println!("The unseal shares are now the recovery shares: keep them as they are.");
        }
        if to == "shamir" && is_automatic(&field(&answer, "from")) {
            println!(
                "The recovery shares are now the unseal shares: unseal with them after each restart."
            );
        }
        return Ok(());
    }
    let shares = items(&answer, "new_shares");
    let kind = if to == "shamir" { "Unseal" } else { "Recovery" };
    println!(
        "The {} seal is ready but NOT in use yet: it waits for these new shares.\n",
        field(&answer, "to")
    );
    for (index, share) in shares.iter().enumerate() {
        println!(
            "{kind} share {}: {}",
            index + 1,
            share.as_str().unwrap_or("-")
        );
    }
    println!(
        "\nHand each share to a different person, then have a quorum give them back with \
         `cryptainer operator seal migrate --complete`: only then does the new seal replace \
         the {} seal (which stays in use until then; `--cancel` forgets this migration).",
        field(&answer, "from")
    );
    Ok(())
}

fn finish(status: &Value, json: bool, message: &str) -> anyhow::Result<()> {
    if json {
        return print_json(status);
    }
    println!("{message}");
    Ok(())
}

/// The body of `rotate-root`: recovery shares under an automatic seal.
pub async fn rotate_root_body(client: &Client) -> anyhow::Result<Option<SecretJson>> {
    let status = server_status(client).await?;
    let need = count(&status, "recovery_threshold");
    if need == 0 {
        return Ok(None);
    }
    let shares = read_shares("Recovery share", need)?;
    Ok(Some(SecretJson(
        json!({ "recovery_shares": texts(&shares) }),
    )))
}

/// What `operator init` prints with an automatic seal.
pub fn print_automatic_init(answer: &Value, kind: &str, args: &InitArgs) -> anyhow::Result<()> {
    let shares = items(answer, "recovery_shares");
    println!(
        "Initialized with the {kind} seal: the server unseals itself, now and at every start.\n"
    );
    for (index, share) in shares.iter().enumerate() {
        println!(
            "Recovery share {}: {}",
            index + 1,
            share.as_str().unwrap_or("-")
        );
    }
    println!();
    println!(
        "{} of these {} recovery shares are needed to migrate the seal or rotate the root key. \
         They cannot decrypt anything by themselves.",
        args.recovery_threshold.unwrap_or(3),
        shares.len()
    );
    println!("Root token: {}\n", field(answer, "root_token"));
    println!(
        "WARNING: these secrets are shown ONCE and cannot be recovered. Store each recovery \
         share with a different person, apart from the root token. Use the root token to \
         create tokens for daily use (`cryptainer token create`), then keep it offline."
    );
    Ok(())
}

/// The seal column of `status`: the kind, and the device and key it uses.
pub fn describe_seal(status: &Value) -> String {
    let kind = field(status, "seal");
    let parts: Vec<String> = [("token", "seal_token"), ("key", "seal_key")]
        .iter()
        .filter_map(|(label, name)| {
            status
                .get(*name)
                .and_then(Value::as_str)
                .map(|value| format!("{label} {value}"))
        })
        .collect();
    if parts.is_empty() {
        kind
    } else {
        format!("{kind} ({})", parts.join(", "))
    }
}

/// The rows `status` adds for an automatic seal and a pending migration.
pub fn status_rows(status: &Value, table: &mut Table) {
    if count(status, "recovery_shares") > 0 {
        table.row(vec![
            "Recovery shares:".to_owned(),
            format!(
                "{} (threshold {})",
                field(status, "recovery_shares"),
                field(status, "recovery_threshold")
            ),
        ]);
    }
    if let Some(device) = status.get("seal_device").and_then(Value::as_str) {
        table.row(vec!["Seal device:".to_owned(), device.to_owned()]);
    }
    let state = status.get("seal_state").and_then(Value::as_str);
    if matches!(state, Some("retrying" | "refused")) {
        table.row(vec![
            "Automatic unseal:".to_owned(),
            format!(
                "{} ({})",
                field(status, "seal_state"),
                field(status, "seal_error")
            ),
        ]);
    }
    if let Some(kind) = status.get("seal_migration_pending").and_then(Value::as_str) {
        table.row(vec![
            "Pending migration:".to_owned(),
            format!("to {kind}, waiting for its new shares"),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seal_is_described_with_its_device_and_key() {
        let status = json!({"seal": "pkcs11", "seal_token": "cryptainer",
                            "seal_key": "cryptainer-root-wrap"});
        assert_eq!(
            describe_seal(&status),
            "pkcs11 (token cryptainer, key cryptainer-root-wrap)"
        );
        assert_eq!(describe_seal(&json!({"seal": "shamir"})), "shamir");
    }
}
