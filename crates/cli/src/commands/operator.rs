//! `cryptainer status` and `cryptainer operator ...`: the seal's life cycle.

use api::SecretString;
use api::sys::{GetStatus, Init, InitRequest, RotateRoot, Seal, Status, Unseal, UnsealRequest};

use super::{text, yes_no};
use crate::args::{InitArgs, OperatorCommand, UnsealArgs};
use crate::client::Client;
use crate::failure::Failure;
use crate::prompt;
use crate::table::Table;

/// Runs an operator command.
pub async fn run(client: &Client, command: &OperatorCommand, json: bool) -> anyhow::Result<()> {
    match command {
        OperatorCommand::Init(args) => init(client, args, json).await,
        OperatorCommand::Unseal(args) => unseal(client, args, json).await,
        OperatorCommand::Seal => seal(client, json).await,
        OperatorCommand::RotateRoot => rotate_root(client, json).await,
    }
}

/// `cryptainer status`: of the server, or of each server of a cluster
/// (each is sealed and unsealed on its own). With several, `--json` prints
/// one JSON document per server, a line `# <address>` before each.
pub async fn status(client: &Client, json: bool) -> anyhow::Result<()> {
    if client.server_count() == 1 {
        return client
            .show(&GetStatus, json, |status| {
                print_status(&status, None);
                Ok(())
            })
            .await;
    }
    let mut failures = 0_usize;
    for (server, one) in client.each_server() {
        println!("{}{server}", if json { "# " } else { "Server " });
        let shown = one
            .show(&GetStatus, json, |status| {
                print!("{}", status_table(&status));
                Ok(())
            })
            .await;
        if let Err(error) = shown {
            failures += 1;
            println!("  cannot tell: {error:#}");
        }
        if !json {
            println!();
        }
    }
    if failures == client.server_count() {
        return Err(Failure::failed(
            "no server answered",
            "check the addresses in CRYPTAINER_ADDR (--addr) and that the servers run",
        )
        .into());
    }
    Ok(())
}

/// `cryptainer operator seal`.
async fn seal(client: &Client, json: bool) -> anyhow::Result<()> {
    client
        .show(&Seal, json, |status| {
            print_status(
                &status,
                Some("Sealed: the root key is no longer in memory."),
            );
            Ok(())
        })
        .await
}

/// `cryptainer operator rotate-root`.
async fn rotate_root(client: &Client, json: bool) -> anyhow::Result<()> {
    client
        .show(&RotateRoot, json, |status| {
            print_status(
                &status,
                Some(
                    "Rotated the root key; every tenant key is wrapped under the new one. The unseal shares or passphrase are unchanged.",
                ),
            );
            Ok(())
        })
        .await
}

/// The unseal progress in words, e.g. `2 of 3 shares`.
fn progress(status: &Status) -> String {
    format!("{} of {} shares", status.progress, status.threshold)
}

/// The status, one field per line, under `headline`.
fn status_table(status: &Status) -> String {
    let mut table = Table::new(&[]);
    table.row(vec!["Initialized:".to_owned(), yes_no(status.initialized)]);
    table.row(vec!["Sealed:".to_owned(), yes_no(status.sealed)]);
    table.row(vec!["Seal:".to_owned(), text(status.seal.as_deref())]);
    if status.seal.as_deref() == Some("shamir") {
        table.row(vec![
            "Shares:".to_owned(),
            format!("{} (threshold {})", status.shares, status.threshold),
        ]);
        if status.sealed {
            table.row(vec!["Unseal progress:".to_owned(), progress(status)]);
        }
    }
    table.row(vec!["Server version:".to_owned(), status.version.clone()]);
    table.render()
}

fn print_status(status: &Status, headline: Option<&str>) {
    if let Some(headline) = headline {
        println!("{headline}");
    }
    print!("{}", status_table(status));
}

/// `cryptainer operator init`.
async fn init(client: &Client, args: &InitArgs, json: bool) -> anyhow::Result<()> {
    let request = if args.passphrase_stdin {
        let passphrase = prompt::read_secret("Passphrase for the root key: ", "passphrase")?;
        if prompt::stdin_is_terminal() {
            let again = prompt::read_secret("The same passphrase again: ", "passphrase")?;
            if again.as_str() != passphrase.as_str() {
                return Err(Failure::usage(
                    "the two passphrases differ",
                    "run the command again and type the same passphrase twice",
                )
                .into());
            }
        }
        InitRequest {
            passphrase: Some(SecretString::from_str_copy(&passphrase)),
            ..InitRequest::default()
        }
    } else {
        InitRequest {
            shares: Some(args.shares),
            threshold: Some(args.threshold),
            passphrase: None,
        }
    };
    client
        .show(&Init(&request), json, |answer| {
            let shares = &answer.unseal_shares;
            println!(
                "Initialized. The server is sealed: unseal it with `cryptainer operator unseal`.\n"
            );
            if shares.is_empty() {
                println!(
                    "Sealed with the passphrase you gave. Keep it safe: it cannot be recovered.\n"
                );
            } else {
                for (index, share) in shares.iter().enumerate() {
                    println!("Unseal share {}: {}", index + 1, share.expose_secret());
                }
                println!();
                println!(
                    "{} of these {} shares are needed to unseal, after every restart.",
                    args.threshold,
                    shares.len()
                );
            }
            println!("Root token: {}\n", answer.root_token.expose_secret());
            println!(
                "WARNING: these secrets are shown ONCE and cannot be recovered. Store each unseal \
                 share with a different person, apart from each other and from the root token; \
                 whoever holds {} of them can open every key. Use the root token to create \
                 tokens for daily use (`cryptainer token create`), then keep it offline.",
                if shares.is_empty() { 1 } else { args.threshold }
            );
            Ok(())
        })
        .await
}

/// `cryptainer operator unseal`.
async fn unseal(client: &Client, args: &UnsealArgs, json: bool) -> anyhow::Result<()> {
    let request = if args.reset {
        UnsealRequest {
            reset: true,
            ..UnsealRequest::default()
        }
    } else if args.passphrase {
        let passphrase = prompt::read_secret("Unseal passphrase: ", "passphrase")?;
        UnsealRequest {
            passphrase: Some(SecretString::from_str_copy(&passphrase)),
            ..UnsealRequest::default()
        }
    } else {
        let share = prompt::read_secret("Unseal share: ", "unseal share")?;
        UnsealRequest {
            share: Some(SecretString::from_str_copy(share.trim())),
            ..UnsealRequest::default()
        }
    };
    client
        .show(&Unseal(&request), json, |status| {
            if args.reset {
                println!("Discarded the shares given so far: {}.", progress(&status));
            } else if status.sealed {
                println!(
                    "Share accepted: {}. Still sealed; give another share with `cryptainer operator unseal`.",
                    progress(&status)
                );
            } else {
                println!("Unsealed: the server is ready.");
            }
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(seal: Option<&str>, sealed: bool) -> Status {
        Status {
            initialized: true,
            sealed,
            seal: seal.map(str::to_owned),
            threshold: 3,
            shares: 5,
            progress: 2,
            version: "0.1.0".to_owned(),
        }
    }

    #[test]
    fn progress_reads_like_a_sentence() {
        assert_eq!(progress(&status(Some("shamir"), true)), "2 of 3 shares");
    }

    #[test]
    fn the_status_shows_shares_only_for_a_shamir_seal() {
        assert_eq!(
            status_table(&status(Some("shamir"), true)),
            "Initialized:      yes\n\
             Sealed:           yes\n\
             Seal:             shamir\n\
             Shares:           5 (threshold 3)\n\
             Unseal progress:  2 of 3 shares\n\
             Server version:   0.1.0\n"
        );
        assert_eq!(
            status_table(&status(None, true)),
            "Initialized:     yes\n\
             Sealed:          yes\n\
             Seal:            -\n\
             Server version:  0.1.0\n"
        );
    }
}
