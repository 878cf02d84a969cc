//! `cryptainer secret ...`: secrets whose values come from files or standard
//! input, never from arguments, and leave only through `get`.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::Path;

use api::SecretString;
use api::keys::KeyInfo;
use api::secrets::{
    CreateSecret, CreateSecretRequest, DestroySecret, ListSecrets, ReadSecret, RotateSecret,
    RotateSecretRequest, SecretList, SecretListQuery, SecretRef, ShowSecret,
};
use zeroize::Zeroizing;

use super::{collect_labels, confirm_irreversible, pairs, text, time};
use crate::args::{self, SecretCommand};
use crate::client::{Client, stdout_is_terminal};
use crate::failure::Failure;
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
            create(
                client,
                name,
                from_file.as_deref(),
                tenant.as_deref(),
                labels,
                json,
            )
            .await
        }
        SecretCommand::List { tenant } => list(client, tenant.as_deref(), json).await,
        SecretCommand::Show(secret) => show(client, secret, json).await,
        SecretCommand::Get {
            secret,
            version,
            out,
        } => get(client, secret, *version, out.as_deref()).await,
        SecretCommand::Rotate { secret, from_file } => {
            rotate(client, secret, from_file.as_deref(), json).await
        }
        SecretCommand::Destroy { secret, yes } => destroy(client, secret, *yes, json).await,
    }
}

/// The secret the arguments name.
fn secret_ref(secret: &args::SecretRef) -> SecretRef<'_> {
    SecretRef {
        reference: &secret.reference,
        tenant: secret.tenant.as_deref(),
    }
}

/// `cryptainer secret create`.
async fn create(
    client: &Client,
    name: &str,
    from_file: Option<&Path>,
    tenant: Option<&str>,
    labels: &[(String, String)],
    json: bool,
) -> anyhow::Result<()> {
    let labels = collect_labels(labels)?;
    let request = CreateSecretRequest {
        name: name.to_owned(),
        value: read_value(from_file)?,
        tenant: tenant.map(str::to_owned),
        labels,
    };
    client
        .show(&CreateSecret(&request), json, |secret| {
            print_secret(&secret, "Created");
            Ok(())
        })
        .await
}

/// `cryptainer secret list`.
async fn list(client: &Client, tenant: Option<&str>, json: bool) -> anyhow::Result<()> {
    let query = SecretListQuery {
        tenant: tenant.map(str::to_owned),
        ..SecretListQuery::default()
    };
    client
        .show(&ListSecrets(&query), json, |list| {
            print!("{}", secret_table(&list));
            Ok(())
        })
        .await
}

/// `cryptainer secret show`.
async fn show(client: &Client, secret: &args::SecretRef, json: bool) -> anyhow::Result<()> {
    client
        .show(&ShowSecret(secret_ref(secret)), json, |secret| {
            print_secret(&secret, "");
            Ok(())
        })
        .await
}

/// `cryptainer secret get`: the value, to a new private file or standard
/// output.
async fn get(
    client: &Client,
    secret: &args::SecretRef,
    version: Option<u32>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let answer = client
        .send(&ReadSecret {
            secret: secret_ref(secret),
            version,
        })
        .await?;
    let value = answer.value.decode_base64().map_err(|_| {
        Failure::failed(
            "the server's answer is not base64",
            "check that the server and this client are the same version",
        )
    })?;
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

/// `cryptainer secret rotate`.
async fn rotate(
    client: &Client,
    secret: &args::SecretRef,
    from_file: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let body = RotateSecretRequest {
        value: read_value(from_file)?,
    };
    let endpoint = RotateSecret {
        secret: secret_ref(secret),
        body: &body,
    };
    client
        .show(&endpoint, json, |secret| {
            print_secret(&secret, "Rotated");
            Ok(())
        })
        .await
}

/// `cryptainer secret destroy`.
async fn destroy(
    client: &Client,
    secret: &args::SecretRef,
    yes: bool,
    json: bool,
) -> anyhow::Result<()> {
    confirm_irreversible(
        yes,
        &format!("destroy secret '{}'", secret.reference),
        "destroying erases every version of the value for good",
        &format!(
            "Destroy every version of secret '{}' for good?",
            secret.reference
        ),
    )?;
    client
        .show(&DestroySecret(secret_ref(secret)), json, |secret| {
            print_secret(&secret, "Destroyed");
            Ok(())
        })
        .await
}

/// The value, base64-encoded: the exact bytes of the file or of standard
/// input, or typed twice without echo at a terminal.
fn read_value(from_file: Option<&Path>) -> anyhow::Result<SecretString> {
    // Room for the largest value at once: a growing buffer would leave
    // copies of the value behind.
    let capacity = usize::try_from(MAX_VALUE + 1).unwrap_or(usize::MAX);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
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
    Ok(SecretString::encode_base64(&bytes))
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

fn secret_table(list: &SecretList) -> String {
    if list.secrets.is_empty() {
        return "No secrets.\n".to_owned();
    }
    let mut table = Table::new(&["NAME", "TENANT", "STATE", "VERSION", "UPDATED"]);
    for secret in &list.secrets {
        table.row(vec![
            text(secret.name.as_deref()),
            secret.tenant.clone(),
            secret.state.as_str().to_owned(),
            secret.version.to_string(),
            time(secret.rotated_at),
        ]);
    }
    table.render()
}

fn print_secret(secret: &KeyInfo, verb: &str) {
    if !verb.is_empty() {
        println!("{verb} secret {}.", text(secret.name.as_deref()));
    }
    let mut table = Table::new(&["FIELD", "VALUE"]);
    for (name, value) in [
        ("id", secret.id.clone()),
        ("name", text(secret.name.as_deref())),
        ("tenant", secret.tenant.clone()),
        ("state", secret.state.as_str().to_owned()),
        ("version", secret.version.to_string()),
        ("labels", pairs(&secret.labels)),
        ("created_at", time(secret.created_at)),
        ("rotated_at", time(secret.rotated_at)),
    ] {
        table.row(vec![name.to_owned(), value]);
    }
    print!("{}", table.render());
}
