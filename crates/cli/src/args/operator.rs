//! `cryptainer operator ...`: initialize, unseal, seal, rotate the root key,
//! migrate the seal.

use clap::{Args, Subcommand};

/// `cryptainer operator ...`.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Initialize a new server: create its root key and print the unseal shares and
    /// the root token, ONCE.
    #[command(
        long_about = "Initialize a new server: create its root key and print the unseal shares (or \
        use a passphrase) and the root token. They are shown ONCE and cannot be recovered: hand \
        each share to a different person and store them apart from each other and from the \
        root token. Needs no token."
    )]
    Init(InitArgs),
    /// Give one unseal share (or the passphrase); repeat until the threshold is met.
    #[command(
        long_about = "Give one unseal share, or the passphrase with --passphrase. It is read from \
        the terminal without echo, or as one line from standard input when that is not a \
        terminal; never from an argument, which other users could see. Prints the progress, \
        e.g. \"2 of 3 shares\". Needs no token."
    )]
    Unseal(UnsealArgs),
    /// Seal the server: forget the root key until it is unsealed again (admin, all
    /// tenants); `seal migrate` moves the root key to another seal.
    #[command(
        long_about = "Seal the server: forget the root key until it is unsealed again (admin, all \
        tenants). A server with an automatic seal (pkcs11, tpm2, kmip) unseals itself again \
        at its next start. `cryptainer operator seal migrate` moves the root key to another \
        seal instead (docs/seals.md)."
    )]
    Seal(SealArgs),
    /// Make a new root key and re-wrap every tenant key under it (admin, all tenants).
    ///
    /// The unseal shares or passphrase stay the same. Under an automatic seal a
    /// quorum of recovery shares is asked for (one per line on standard input when
    /// it is not a terminal).
    RotateRoot,
    /// Write a backup of the whole store to a file (admin, all tenants): one
    /// consistent snapshot taken while the servers go on serving, key
    /// material still wrapped, the audit log with it, and a checksum.
    #[command(
        long_about = "Write a backup of the whole store to a file (admin, all tenants): one \
        consistent snapshot taken while the servers go on serving, key material still wrapped \
        under the root key, the audit log with it, and a checksum. The file is checked once \
        written; a transfer cut short leaves no file. Restoring it needs the unseal shares or \
        passphrase of the server backed up."
    )]
    Backup(BackupArgs),
    /// Restore a backup into a new, uninitialized server (needs no token).
    #[command(
        long_about = "Restore a backup into a new, uninitialized server with an empty store \
        (needs no token, as `operator init`). The file is checked whole, here and by the \
        server, before anything is written: a damaged or truncated backup is refused and the \
        server stays as it was. Afterwards the server is sealed: unseal it with the shares or \
        passphrase of the server backed up."
    )]
    Restore(RestoreArgs),
    /// Move a stopped server's SQLite store into PostgreSQL, everything kept.
    #[command(
        long_about = "Move a stopped server's SQLite store (in its data directory) into an \
        empty PostgreSQL database, everything kept: keys still wrapped, tokens, nodes, volumes, \
        policies, the CA, and the audit log (which records the move). The SQLite files are left \
        as they were. Then set `storage` in the server's configuration to the URL and start it \
        with the same data directory (its TLS material) and unseal material. Talks to no \
        server: the server must be stopped."
    )]
    Migrate(MigrateStoreArgs),
}

/// `cryptainer operator backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (refused if it exists).
    #[arg(long, value_name = "FILE")]
    pub out: std::path::PathBuf,
}

/// `cryptainer operator restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
}

/// `cryptainer operator migrate`.
#[derive(Debug, Args)]
pub struct MigrateStoreArgs {
    /// The PostgreSQL database to move the store into, empty:
    /// postgres://USER@HOST/DATABASE?sslmode=verify-full&sslrootcert=CA.pem.
    /// From the environment, its password stays out of the process list.
    #[arg(
        long,
        env = "CRYPTAINER_MIGRATE_TO",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub to: String,

    /// The stopped server's data directory [default: data_dir of --config].
    #[arg(long, value_name = "DIR", required_unless_present = "config")]
    pub data_dir: Option<std::path::PathBuf>,

    /// The stopped server's configuration file, for its data directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

/// `cryptainer operator seal [migrate]`.
#[derive(Debug, Args)]
pub struct SealArgs {
    /// Without a subcommand: seal the server now.
    #[command(subcommand)]
    pub command: Option<SealCommand>,
}

/// `cryptainer operator seal ...`.
#[derive(Debug, Subcommand)]
pub enum SealCommand {
    /// Move the root key to another seal kind; no object is re-encrypted.
    #[command(
        long_about = "Move the root key to another seal kind (shamir, passphrase, pkcs11, tpm2, \
        kmip), both ways; no tenant key or object is re-encrypted. The people behind the \
        current seal consent: a quorum of its unseal shares, its passphrase, or, under an \
        automatic seal, a quorum of the recovery shares, read from the terminal without echo \
        (or one per line on standard input). An automatic target must be the server's \
        [seal] (keep the current automatic seal as [previous_seal] until done). Unseal \
        shares carry over as recovery shares and back; when the migration must make new \
        shares (from a passphrase), it waits until a quorum of them is given back with \
        --complete. A process killed at any point leaves the old seal or the new one."
    )]
    Migrate(MigrateArgs),
}

/// `cryptainer operator seal migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The seal kind to move to.
    #[arg(long, value_name = "KIND", required_unless_present_any = ["complete", "cancel"],
          value_parser = ["shamir", "passphrase", "pkcs11", "tpm2", "kmip"])]
    pub to: Option<String>,

    /// Unseal shares to make, when moving to shamir from a passphrase.
    #[arg(long, value_name = "N", conflicts_with_all = ["complete", "cancel"])]
    pub shares: Option<u8>,

    /// Unseal shares needed, when moving to shamir from a passphrase.
    #[arg(long, value_name = "N", conflicts_with_all = ["complete", "cancel"])]
    pub threshold: Option<u8>,

    /// Recovery shares to make, when moving to an automatic seal from a passphrase.
    #[arg(long, value_name = "N", conflicts_with_all = ["complete", "cancel"])]
    pub recovery_shares: Option<u8>,

    /// Recovery shares needed, when moving to an automatic seal from a passphrase.
    #[arg(long, value_name = "N", conflicts_with_all = ["complete", "cancel"])]
    pub recovery_threshold: Option<u8>,

    /// Finish a migration that waits for its new shares: give a quorum of them.
    #[arg(long, conflicts_with_all = ["to", "cancel"])]
    pub complete: bool,

    /// Forget a migration that waits for its new shares; the current seal stays.
    #[arg(long, conflicts_with_all = ["to", "complete"])]
    pub cancel: bool,
}

/// `cryptainer operator init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Number of unseal shares to make (Shamir seal), 1 to 32.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub shares: u8,

    /// Number of shares needed to unseal, 2 to --shares (1 only with a single share).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub threshold: u8,

    /// Seal with a passphrase instead of shares: read it from standard input (from
    /// the terminal without echo, asked twice, when standard input is a terminal).
    #[arg(long, conflicts_with_all = ["shares", "threshold"])]
    pub passphrase_stdin: bool,

    /// With an automatic seal ([seal] kind = pkcs11, tpm2 or kmip on the server):
    /// recovery shares to make, 1 to 32 (default 5). They authorize seal
    /// migrations and root rotations and open nothing by themselves.
    #[arg(long, value_name = "N", conflicts_with_all = ["shares", "threshold", "passphrase_stdin"])]
    pub recovery_shares: Option<u8>,

    /// With an automatic seal: recovery shares needed (default 3).
    #[arg(long, value_name = "N", conflicts_with_all = ["shares", "threshold", "passphrase_stdin"])]
    pub recovery_threshold: Option<u8>,
}

/// `cryptainer operator unseal`.
#[derive(Debug, Args)]
pub struct UnsealArgs {
    /// Read the passphrase instead of a share (passphrase-sealed servers).
    #[arg(long)]
    pub passphrase: bool,

    /// Discard the shares given so far instead of giving one.
    #[arg(long, conflicts_with = "passphrase")]
    pub reset: bool,
}
