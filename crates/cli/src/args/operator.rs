//! `cryptainer operator ...`: initialize, unseal, seal, rotate the root key.

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
    /// tenants).
    Seal,
    /// Make a new root key and re-wrap every tenant key under it (admin, all tenants).
    ///
    /// The unseal shares or passphrase stay the same.
    RotateRoot,
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
