//! `cryptainer ca ...`: the built-in CA.

use std::time::Duration;

use clap::Subcommand;

use crate::duration::parse_duration;

/// `cryptainer ca ...`.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Rotate the built-in CA: a new root cross-signed by the old one.
    #[command(
        long_about = "Rotate the built-in CA: a new root, cross-signed by the old one. The server \
        then serves a bundle with both roots, so every node certificate stays valid and no \
        connection drops. Node certificates are then re-issued in batches (nodes.reissue_batch \
        per nodes.reissue_interval_secs): at its next liveness report, each agent of the current \
        batch renews with a new key and pins the new bundle. Live join tokens carry the old \
        bundle's digest and are replaced: the new ones are printed, ONCE. Follow the re-issue \
        with --wait or `cryptainer ca status`."
    )]
    Rotate {
        /// Wait until every active node holds a certificate from the new root,
        /// showing progress (with --json, the answer comes at the end).
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this long, e.g. 10m.
        #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
        timeout: Duration,
    },
    /// Show the current CA and how far the re-issue of node certificates has come.
    #[command(
        long_about = "Show the current CA (its SHA-256 fingerprint, the digest of the bundle \
        join tokens pin, the number of roots in the bundle) and, among the active nodes with an \
        unexpired certificate, how many hold one from the current root. Nodes still pending \
        after a rotation renew at their turn; a node that stays pending is offline or cannot \
        reach the server."
    )]
    Status {
        /// Wait until no node is pending, showing progress.
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this long, e.g. 10m.
        #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
        timeout: Duration,
    },
}
