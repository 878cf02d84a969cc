//! `cryptainer status` and `cryptainer operator ...`: the seal's life cycle.

use reqwest::Method;
use serde_json::{Value, json};

use super::{field, items};
use crate::args::{InitArgs, OperatorCommand, SealArgs, SealCommand, UnsealArgs};
use crate::client::{Auth, Client, SecretJson, print_json};
use crate::failure::Failure;
use crate::prompt;
use crate::table::Table;

/// Runs an operator command.
pub async fn run(client: &Client, command: &OperatorCommand, json: bool) -> anyhow::Result<()> {
    match command {
        OperatorCommand::Init(args) => init(client, args, json).await,
        OperatorCommand::Unseal(args) => unseal(client, args, json).await,
        OperatorCommand::Seal(SealArgs {
            command: Some(SealCommand::Migrate(args)),
        }) => super::seal_migrate::run(client, args, json).await,
        OperatorCommand::Seal(SealArgs { command: None }) => {
            let status = client
                .call(Method::POST, &["v1", "sys", "seal"], &[], None, Auth::Token)
                .await?;
            print_status(
                &status,
                json,
                Some("Sealed: the root key is no longer in memory."),
            )
        }
        OperatorCommand::RotateRoot => {
            let body = super::seal_migrate::rotate_root_body(client).await?;
            let status = client
                .call(
                    Method::POST,
                    &["v1", "sys", "rotate-root"],
                    &[],
                    body.as_deref(),
                    Auth::Token,
                )
                .await?;
            print_status(
                &status,
                json,
                Some(
                    "Rotated the root key; every tenant key is wrapped under the new one. The unseal shares or passphrase are unchanged.",
                ),
            )
        }
    }
}

/// `cryptainer status`.
pub async fn status(client: &Client, json: bool) -> anyhow::Result<()> {
    let status = client
        .call(Method::GET, &["v1", "sys", "status"], &[], None, Auth::None)
        .await?;
    print_status(&status, json, None)
}

/// The unseal progress in words, e.g. `2 of 3 shares`.
fn progress(status: &Value) -> String {
    let number = |name: &str| status.get(name).and_then(Value::as_u64).unwrap_or(0);
    format!("{} of {} shares", number("progress"), number("threshold"))
}

fn print_status(status: &Value, json: bool, headline: Option<&str>) -> anyhow::Result<()> {
    if json {
        return print_json(status);
    }
    if let Some(headline) = headline {
        println!("{headline}");
    }
    let mut table = Table::new(&[]);
    table.row(vec![
        "Initialized:".to_owned(),
        field(status, "initialized"),
    ]);
    table.row(vec!["Sealed:".to_owned(), field(status, "sealed")]);
    table.row(vec![
        "Seal:".to_owned(),
        super::seal_migrate::describe_seal(status),
    ]);
    let sealed = status
        .get("sealed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if status.get("seal").and_then(Value::as_str) == Some("shamir") {
        table.row(vec![
            "Shares:".to_owned(),
            format!(
                "{} (threshold {})",
                field(status, "shares"),
                field(status, "threshold")
            ),
        ]);
        if sealed {
            table.row(vec!["Unseal progress:".to_owned(), progress(status)]);
        }
    }
    super::seal_migrate::status_rows(status, &mut table);
    table.row(vec!["Server version:".to_owned(), field(status, "version")]);
    print!("{}", table.render());
    Ok(())
}

async fn init(client: &Client, args: &InitArgs, json: bool) -> anyhow::Result<()> {
    let automatic = super::seal_migrate::configured_automatic_seal(client).await?;
    let body = if let Some(kind) = &automatic {
        if args.passphrase_stdin {
            return Err(Failure::usage(
                format!("the server is configured with a {kind} seal"),
                "an automatic seal makes recovery shares; leave out --passphrase-stdin",
            )
            .into());
        }
        SecretJson(json!({
            "recovery_shares": args.recovery_shares.unwrap_or(5),
            "recovery_threshold": args.recovery_threshold.unwrap_or(3),
        }))
    } else if args.recovery_shares.is_some() || args.recovery_threshold.is_some() {
        return Err(Failure::usage(
            "recovery shares go with an automatic seal",
            "configure [seal] kind = \"pkcs11\", \"tpm2\" or \"kmip\" on the server (docs/seals.md), or give --shares and --threshold",
        )
        .into());
    } else if args.passphrase_stdin {
        let passphrase = prompt::read_new_passphrase("Passphrase for the root key: ")?;
        SecretJson(json!({ "passphrase": passphrase.as_str() }))
    } else {
        SecretJson(json!({ "shares": args.shares, "threshold": args.threshold }))
    };
    let answer = SecretJson(
        client
            .call(
                Method::POST,
                &["v1", "sys", "init"],
                &[],
                Some(&*body),
                Auth::None,
            )
            .await?,
    );
    if json {
        return print_json(&answer);
    }
    if let Some(kind) = automatic {
        return super::seal_migrate::print_automatic_init(&answer, &kind, args);
    }
    let shares = items(&answer, "unseal_shares");
    println!("Initialized. The server is sealed: unseal it with `cryptainer operator unseal`.\n");
    if shares.is_empty() {
        println!("Sealed with the passphrase you gave. Keep it safe: it cannot be recovered.\n");
    } else {
        for (index, share) in shares.iter().enumerate() {
            println!(
                "Unseal share {}: {}",
                index + 1,
                share.as_str().unwrap_or("-")
            );
        }
        println!();
        println!(
            "{} of these {} shares are needed to unseal, after every restart.",
            args.threshold,
            shares.len()
        );
    }
    println!("Root token: {}\n", field(&answer, "root_token"));
    println!(
        "WARNING: these secrets are shown ONCE and cannot be recovered. Store each unseal \
         share with a different person, apart from each other and from the root token; \
         whoever holds {} of them can open every key. Use the root token to create \
         tokens for daily use (`cryptainer token create`), then keep it offline.",
        if shares.is_empty() { 1 } else { args.threshold }
    );
    Ok(())
}

async fn unseal(client: &Client, args: &UnsealArgs, json: bool) -> anyhow::Result<()> {
    let body = if args.reset {
        SecretJson(json!({ "reset": true }))
    } else if args.passphrase {
        let passphrase = prompt::read_secret("Unseal passphrase: ", "passphrase")?;
        SecretJson(json!({ "passphrase": passphrase.as_str() }))
    } else {
        let share = prompt::read_secret("Unseal share: ", "unseal share")?;
        SecretJson(json!({ "share": share.trim() }))
    };
    let status = client
        .call(
            Method::POST,
            &["v1", "sys", "unseal"],
            &[],
            Some(&*body),
            Auth::None,
        )
        .await?;
    if json {
        return print_json(&status);
    }
    let sealed = status
        .get("sealed")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if args.reset {
        println!("Discarded the shares given so far: {}.", progress(&status));
    } else if sealed {
        println!(
            "Share accepted: {}. Still sealed; give another share with `cryptainer operator unseal`.",
            progress(&status)
        );
    } else {
        println!("Unsealed: the server is ready.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_like_a_sentence() {
        assert_eq!(
            progress(&json!({"progress": 2, "threshold": 3})),
            "2 of 3 shares"
        );
        assert_eq!(progress(&json!({})), "0 of 0 shares");
    }
}
