//! `cryptainer audit ...`: the audit log.

use clap::Subcommand;

/// `cryptainer audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain and signed checkpoints.
    ///
    /// Exits 0 when the log is intact, 1 when a record was altered, removed or
    /// reordered, naming the first one.
    Verify,
    /// List audit records in order.
    List {
        /// Start after this sequence number.
        #[arg(long, default_value_t = 0, value_name = "SEQ")]
        after: u64,

        /// Most records to show, 1 to 1000.
        #[arg(long, default_value_t = 100, value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
}
