//! `cryptainer status` and `cryptainer operator ...`: the seal's life cycle.

use api::SecretString;
use api::sys::{GetStatus, Init, InitRequest, RotateRoot, Seal, Status, Unseal, UnsealRequest};

use super::{seal as automatic, yes_no};
use crate::args::{
    BackupArgs, InitArgs, MigrateStoreArgs, OperatorCommand, RestoreArgs, SealArgs, SealCommand,
    UnsealArgs,
};
use crate::client::Client;
use crate::failure::Failure;
use crate::prompt;
use crate::table::Table;

/// Runs an operator command.
pub async fn run(client: &Client, command: &OperatorCommand, json: bool) -> anyhow::Result<()> {
    match command {
        OperatorCommand::Init(args) => init(client, args, json).await,
        OperatorCommand::Unseal(args) => unseal(client, args, json).await,
        OperatorCommand::Seal(SealArgs { command: None }) => seal(client, json).await,
        OperatorCommand::Seal(SealArgs {
            command: Some(SealCommand::Migrate(args)),
        }) => automatic::migrate(client, args, json).await,
        OperatorCommand::RotateRoot => rotate_root(client, json).await,
        OperatorCommand::Backup(args) => backup(client, args, json).await,
        OperatorCommand::Restore(args) => restore(client, args, json).await,
        // Dispatched before a client is made: it talks to no server.
        OperatorCommand::Migrate(args) => migrate(args, json).await,
    }
}

/// `cryptainer operator backup`: into `<out>.partial`, checked, then renamed.
async fn backup(client: &Client, args: &BackupArgs, json: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let out = &args.out;
    if out.exists() {
        return Err(Failure::usage(
            format!("{} exists", out.display()),
            "give a new file name with --out: a backup never replaces a file",
        )
        .into());
    }
    let mut partial_name = out.as_os_str().to_owned();
    partial_name.push(".partial");
    let partial = std::path::PathBuf::from(partial_name);
    let cannot_write = |error: std::io::Error| {
        anyhow::Error::new(error).context(Failure::usage(
            format!("cannot write {}", partial.display()),
            "give --out a file in a directory you can write to",
        ))
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(cannot_write)?;
    let mut progress = Progress::new(&mut file);
    let downloaded = client.download_backup(&mut progress).await;
    progress.finish();
    let checked = downloaded.and_then(|_| {
        file.sync_all().map_err(cannot_write)?;
        let reread = std::fs::File::open(&partial).map_err(cannot_write)?;
        keystore::backup::verify(std::io::BufReader::new(reread)).map_err(|error| {
            anyhow::Error::new(error).context(Failure::failed(
                "the backup received is not whole",
                "the transfer was cut or the server failed part-way (its log says why); take \
                 the backup again",
            ))
        })
    });
    let summary = match checked {
        Ok(summary) => summary,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, out).map_err(|error| {
        anyhow::Error::new(error).context(Failure::usage(
            format!("cannot name the backup {}", out.display()),
            "check the directory of --out",
        ))
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "Backed up to {}: {} objects ({} versions), {} tenant keys, {} tokens, {} volumes, \
             {} nodes, {} policies, {} audit records (through record {}). Key material is \
             still wrapped: restoring it needs this cluster's unseal shares or passphrase.",
            out.display(),
            summary.objects,
            summary.versions,
            summary.tenant_keys,
            summary.tokens,
            summary.volumes,
            summary.nodes,
            summary.policies,
            summary.audit_records,
            summary.audit_head
        );
    }
    Ok(())
}

/// The file a backup is written to, with the bytes received so far shown on
/// a terminal's stderr (once a second at most), so a long backup shows it
/// moves; nothing is shown when stderr is not a terminal.
struct Progress<'file> {
    file: &'file mut std::fs::File,
    written: u64,
    shown: Option<std::time::Instant>,
    terminal: bool,
}

impl<'file> Progress<'file> {
    fn new(file: &'file mut std::fs::File) -> Progress<'file> {
        use std::io::IsTerminal as _;
        Progress {
            file,
            written: 0,
            shown: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&self) {
        let tenths = self.written.saturating_mul(10) / 1_048_576;
        eprint!("\rreceived {}.{} MiB", tenths / 10, tenths % 10);
    }

    /// Ends the progress line.
    fn finish(&self) {
        if self.terminal && self.shown.is_some() {
            self.show();
            eprintln!();
        }
    }
}

impl std::io::Write for Progress<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(bytes)?;
        self.written = self
            .written
            .saturating_add(u64::try_from(written).unwrap_or(u64::MAX));
        let due = self
            .shown
            .is_none_or(|shown| shown.elapsed() >= std::time::Duration::from_secs(1));
        if self.terminal && due {
            self.shown = Some(std::time::Instant::now());
            self.show();
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// `cryptainer operator restore`: checked here first, then by the server.
async fn restore(client: &Client, args: &RestoreArgs, json: bool) -> anyhow::Result<()> {
    let file = std::fs::File::open(&args.file).map_err(|error| {
        anyhow::Error::new(error).context(Failure::usage(
            format!("cannot read {}", args.file.display()),
            "give the backup file `cryptainer operator backup` wrote",
        ))
    })?;
    eprintln!("checking {}", args.file.display());
    keystore::backup::verify(std::io::BufReader::new(file)).map_err(|error| {
        anyhow::Error::new(error).context(Failure::usage(
            format!("{} is refused; nothing was sent", args.file.display()),
            "restore from a whole, unaltered backup (take another one if this one is damaged)",
        ))
    })?;
    eprintln!("the file is whole: sending it (the server checks it again before it writes)");
    let summary = client.upload_restore(&args.file).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "Restored {} objects and {} audit records (through record {}). The server is \
             sealed: unseal it with the shares or passphrase of the server backed up \
             (`cryptainer operator unseal`).",
            summary.objects, summary.audit_records, summary.audit_head
        );
    }
    Ok(())
}

/// `cryptainer operator migrate`.
pub async fn migrate(args: &MigrateStoreArgs, json: bool) -> anyhow::Result<()> {
    let data_dir = match (&args.data_dir, &args.config) {
        (Some(data_dir), _) => data_dir.clone(),
        (None, Some(config)) => server::ServerConfig::from_file(config)?.data_dir,
        (None, None) => {
            return Err(Failure::usage(
                "no data directory given",
                "give the stopped server's --data-dir or --config",
            )
            .into());
        }
    };
    eprintln!(
        "copying the store of {} (a backup, checked, then restored into PostgreSQL in one \
         transaction)",
        data_dir.display()
    );
    let to = args.to.clone();
    let moving = data_dir.clone();
    let summary = tokio::task::spawn_blocking(move || server::migrate::migrate(&moving, &to))
        .await?
        .map_err(|error| {
            let hint = match &error {
                server::Error::DataDirInUse { .. } => {
                    "stop the server of that data directory first: a migration copies a \
                     store nobody changes"
                }
                _ => {
                    "check the URL (the database must exist, be empty, and be reachable as \
                     the server will reach it) and the data directory"
                }
            };
            anyhow::Error::new(error).context(Failure::failed("the migration failed", hint))
        })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "Migrated {} objects, {} tenant keys, {} tokens, {} nodes, {} volumes, {} policies \
             and {} audit records from {} into PostgreSQL. Now set `storage` to that URL in the \
             server's configuration (or --storage), start it with the same data directory, and \
             unseal it as before.",
            summary.objects,
            summary.tenant_keys,
            summary.tokens,
            summary.nodes,
            summary.volumes,
            summary.policies,
            summary.audit_records,
            data_dir.display()
        );
    }
    Ok(())
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

/// `cryptainer operator rotate-root`: under an automatic seal, with a quorum
/// of recovery shares.
async fn rotate_root(client: &Client, json: bool) -> anyhow::Result<()> {
    let request = automatic::rotate_root_request(client).await?;
    client
        .show(&RotateRoot(&request), json, |status| {
            print_status(
                &status,
                Some(
                    "Rotated the root key; every tenant key is wrapped under the new one. The unseal shares, passphrase or recovery shares are unchanged.",
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
    table.row(vec!["Seal:".to_owned(), automatic::describe_seal(status)]);
    if status.seal.as_deref() == Some("shamir") {
        table.row(vec![
            "Shares:".to_owned(),
            format!("{} (threshold {})", status.shares, status.threshold),
        ]);
        if status.sealed {
            table.row(vec!["Unseal progress:".to_owned(), progress(status)]);
        }
    }
    automatic::status_rows(status, &mut table);
    table.row(vec!["Server version:".to_owned(), status.version.clone()]);
    table.render()
}

fn print_status(status: &Status, headline: Option<&str>) {
    if let Some(headline) = headline {
        println!("{headline}");
    }
    print!("{}", status_table(status));
}

/// `cryptainer operator init`: unseal shares or a passphrase, or, when the
/// server names an automatic seal, recovery shares.
async fn init(client: &Client, args: &InitArgs, json: bool) -> anyhow::Result<()> {
    let seal = automatic::configured_automatic_seal(client).await?;
    let request = if let Some(kind) = &seal {
        if args.passphrase_stdin {
            return Err(Failure::usage(
                format!("the server is configured with a {kind} seal"),
                "an automatic seal makes recovery shares; leave out --passphrase-stdin",
            )
            .into());
        }
        InitRequest {
            recovery_shares: Some(
                args.recovery_shares
                    .unwrap_or(automatic::DEFAULT_RECOVERY_SHARES),
            ),
            recovery_threshold: Some(
                args.recovery_threshold
                    .unwrap_or(automatic::DEFAULT_RECOVERY_THRESHOLD),
            ),
            ..InitRequest::default()
        }
    } else if args.recovery_shares.is_some() || args.recovery_threshold.is_some() {
        return Err(Failure::usage(
            "recovery shares go with an automatic seal",
            "configure [seal] kind = \"pkcs11\", \"tpm2\" or \"kmip\" on the server (docs/seals.md), or give --shares and --threshold",
        )
        .into());
    } else if args.passphrase_stdin {
        let passphrase = prompt::read_new_passphrase("Passphrase for the root key: ")?;
        InitRequest {
            passphrase: Some(SecretString::from_str_copy(&passphrase)),
            ..InitRequest::default()
        }
    } else {
        InitRequest {
            shares: Some(args.shares),
            threshold: Some(args.threshold),
            ..InitRequest::default()
        }
    };
    client
        .show(&Init(&request), json, |answer| {
            if seal.is_some() {
                automatic::print_automatic_init(&answer, args);
                return Ok(());
            }
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
            seal_token: None,
            seal_key: None,
            seal_mechanism: None,
            recovery_threshold: 0,
            recovery_shares: 0,
            seal_migration_pending: None,
            automatic: None,
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

    #[test]
    fn the_status_shows_an_automatic_seal_with_its_device_key_and_recovery_shares() {
        let mut status = status(Some("pkcs11"), false);
        status.seal_token = Some("cryptainer".to_owned());
        status.seal_key = Some("cryptainer-root-wrap".to_owned());
        (status.recovery_shares, status.recovery_threshold) = (5, 3);
        status.seal_migration_pending = Some("tpm2".to_owned());
        status.automatic = Some(api::sys::AutomaticUnseal {
            seal_configured: Some("pkcs11".to_owned()),
            seal_state: api::sys::UnsealState::Retrying,
            seal_device: Some(api::sys::DeviceHealth::Unreachable),
            seal_error: Some("the token is gone".to_owned()),
            seal_attempts: 2,
        });
        assert_eq!(
            status_table(&status),
            "Initialized:        yes\n\
             Sealed:             no\n\
             Seal:               pkcs11 (token cryptainer, key cryptainer-root-wrap)\n\
             Recovery shares:    5 (threshold 3)\n\
             Seal device:        unreachable\n\
             Automatic unseal:   retrying (the token is gone)\n\
             Pending migration:  to tpm2, waiting for its new shares\n\
             Server version:     0.1.0\n"
        );
    }
}
