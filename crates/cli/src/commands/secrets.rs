//! `cryptainer secret ...`: secrets whose values come from files or standard
//! input, never from arguments, and leave only through `get`.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::Path;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{confirm_irreversible, field, items};
use crate::args::{SecretCommand, SecretRef};
use crate::client::{Auth, Client, SecretJson, print_json, stdout_is_terminal};
use crate::failure::Failure;
use crate::labels::collect_labels;
use crate::prompt;
use crate::table::Table;

/// Largest value read; the server refuses more than 64 KiB anyway.
const MAX_VALUE: u64 = 64 * 1024;

/// Runs a secret command.
pub async fn run(client: &Client, command: &SecretCommand, json: bool) -> anyhow::Result<()> {
    match command {
        SecretCommand::Create {
            name,
            from_file,
            tenant,
            labels,
        } => {
            let labels = collect_labels(labels.clone()).map_err(|error| {
                anyhow::Error::new(error).context(Failure::usage(
                    "the labels were refused",
                    "give each label once as --label KEY=VALUE",
                ))
            })?;
            let value = read_value(from_file.as_deref())?;
            let mut body =
                SecretJson(json!({ "name": name, "value": value.as_str(), "labels": labels }));
            if let (Some(tenant), Some(object)) = (tenant, body.0.as_object_mut()) {
                object.insert("tenant".to_owned(), Value::String(tenant.clone()));
            }
            let info = client
                .call(
                    Method::POST,
                    &["v1", "secrets"],
                    &[],
                    Some(&body),
                    Auth::Token,
                )
                .await?;
            print_secret(&info, json, "Created")
        }
        SecretCommand::List { tenant } => {
            let query: Vec<(&str, String)> = tenant
                .iter()
                .map(|tenant| ("tenant", tenant.clone()))
                .collect();
            let list = client
                .call(Method::GET, &["v1", "secrets"], &query, None, Auth::Token)
                .await?;
            if json {
                return print_json(&list);
            }
            print!("{}", secret_table(&list));
            Ok(())
        }
        SecretCommand::Show(secret) => {
            let info = client
                .call(
                    Method::GET,
                    &["v1", "secrets", &secret.reference],
                    &tenant_query(secret),
                    None,
                    Auth::Token,
                )
                .await?;
            print_secret(&info, json, "")
        }
        SecretCommand::Get {
            secret,
            version,
            out,
        } => {
            let mut query = tenant_query(secret);
            if let Some(version) = version {
                query.push(("version", version.to_string()));
            }
            let answer = SecretJson(
                client
                    .call(
                        Method::GET,
                        &["v1", "secrets", &secret.reference, "value"],
                        &query,
                        None,
                        Auth::Token,
                    )
                    .await?,
            );
            let encoded = answer.get("value").and_then(Value::as_str).ok_or_else(|| {
                Failure::failed(
                    "the server's answer has no value",
                    "check that the server and this client are the same version",
                )
            })?;
            let value = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| {
                        Failure::failed(
                            "the server's answer is not base64",
                            "check that the server and this client are the same version",
                        )
                    })?,
            );
            match out {
                Some(path) => write_private(path, &value),
                None => {
                    if stdout_is_terminal() {
                        eprintln!(
                            "warning: printing a secret to a terminal; it may stay in the \
                             scrollback. Use --out FILE or pipe it to the program that needs it."
                        );
                    }
                    std::io::stdout().write_all(&value)?;
                    Ok(())
                }
            }
        }
        SecretCommand::Rotate { secret, from_file } => {
            let value = read_value(from_file.as_deref())?;
            let body = SecretJson(json!({ "value": value.as_str() }));
            let info = client
                .call(
                    Method::POST,
                    &["v1", "secrets", &secret.reference, "rotate"],
                    &tenant_query(secret),
                    Some(&body),
                    Auth::Token,
                )
                .await?;
            print_secret(&info, json, "Rotated")
        }
        SecretCommand::Destroy { secret, yes } => {
            confirm_irreversible(
                *yes,
                &format!("destroy secret '{}'", secret.reference),
                "destroying erases every version of the value for good",
                &format!(
                    "Destroy every version of secret '{}' for good?",
                    secret.reference
                ),
            )?;
            let info = client
                .call(
                    Method::DELETE,
                    &["v1", "secrets", &secret.reference],
                    &tenant_query(secret),
                    None,
                    Auth::Token,
                )
                .await?;
            print_secret(&info, json, "Destroyed")
        }
    }
}

/// The value, base64-encoded: the exact bytes of the file or of standard
/// input, or typed twice without echo at a terminal.
fn read_value(from_file: Option<&Path>) -> anyhow::Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new(Vec::new());
    match from_file {
        Some(path) if path != Path::new("-") => {
            let file = std::fs::File::open(path).map_err(|error| {
                anyhow::Error::new(error).context(Failure::usage(
                    format!("cannot read {}", path.display()),
                    "check the path given to --from-file",
                ))
            })?;
            file.take(MAX_VALUE + 1).read_to_end(&mut bytes)?;
        }
        _ if std::io::stdin().is_terminal() => {
            let first = prompt::read_secret("Value: ", "secret value")?;
            let second = prompt::read_secret("Value again: ", "secret value")?;
            if first.as_bytes() != second.as_bytes() {
                return Err(Failure::usage(
                    "the two values differ",
                    "type the same value twice, or use --from-file",
                )
                .into());
            }
            bytes.extend_from_slice(first.as_bytes());
        }
        _ => {
            std::io::stdin()
                .lock()
                .take(MAX_VALUE + 1)
                .read_to_end(&mut bytes)?;
        }
    }
    if bytes.is_empty() {
        return Err(Failure::usage(
            "the secret value is empty",
            "give the value in --from-file or on standard input; never as an argument",
        )
        .into());
    }
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_VALUE {
        return Err(Failure::usage(
            "the secret value is larger than 64 KiB",
            "secrets are for passwords, tokens and certificates; store large data in a volume",
        )
        .into());
    }
    Ok(Zeroizing::new(
        base64::engine::general_purpose::STANDARD.encode(&*bytes),
    ))
}

/// Writes `value` to a new file readable by its owner only.
fn write_private(path: &Path, value: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| {
            anyhow::Error::new(error).context(Failure::usage(
                format!("cannot create {}", path.display()),
                "give --out a path that does not exist yet",
            ))
        })?;
    file.write_all(value)?;
    file.sync_all()?;
    Ok(())
}

fn tenant_query(secret: &SecretRef) -> Vec<(&'static str, String)> {
    secret
        .tenant
        .iter()
        .map(|tenant| ("tenant", tenant.clone()))
        .collect()
}

fn secret_table(list: &Value) -> String {
    let secrets = items(list, "secrets");
    if secrets.is_empty() {
        return "No secrets.\n".to_owned();
    }
    let mut table = Table::new(&["NAME", "TENANT", "STATE", "VERSION", "UPDATED"]);
    for secret in secrets {
        table.row(vec![
            field(secret, "name"),
            field(secret, "tenant"),
            field(secret, "state"),
            field(secret, "version"),
            field(secret, "rotated_at"),
        ]);
    }
    table.render()
}

fn print_secret(secret: &Value, json: bool, verb: &str) -> anyhow::Result<()> {
    if json {
        return print_json(secret);
    }
    if !verb.is_empty() {
        println!("{verb} secret {}.", field(secret, "name"));
    }
    let mut table = Table::new(&["FIELD", "VALUE"]);
    for name in [
        "id",
        "name",
        "tenant",
        "state",
        "version",
        "labels",
        "created_at",
        "rotated_at",
    ] {
        table.row(vec![name.to_owned(), field(secret, name)]);
    }
    print!("{}", table.render());
    Ok(())
}
