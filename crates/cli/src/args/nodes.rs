//! `cryptainer node ...`: join tokens and the node inventory.

use std::time::Duration;

use clap::Subcommand;

use crate::duration::parse_duration;
use crate::labels::parse_label;

/// `cryptainer node ...`.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Create, list, rotate and revoke join tokens (admin).
    #[command(subcommand)]
    Token(NodeTokenCommand),
    /// List nodes: id, name, role, tenant, certificate expiry, last seen, state.
    List,
    /// Show one node.
    Show {
        /// The node id (node-...).
        #[arg(value_name = "NODE")]
        node: String,
    },
    /// Set or remove labels of a node; policies select nodes by label
    /// (`policy create --node-label`), from the node's next request on.
    Label {
        /// The node id (node-...).
        #[arg(value_name = "NODE")]
        node: String,
        /// Labels to set, KEY=VALUE.
        #[arg(value_name = "KEY=VALUE", value_parser = parse_label)]
        labels: Vec<(String, String)>,
        /// A label to remove (repeatable).
        #[arg(long = "remove", value_name = "KEY")]
        remove: Vec<String>,
    },
    /// Decommission a node: from now on its certificates are refused on every
    /// connection and request, and its leases end.
    Decommission {
        /// The node id (node-...).
        #[arg(value_name = "NODE")]
        node: String,
        /// Also destroy, for good, the keys labelled `cryptainer.node=<NODE>`:
        /// those of volumes only that node used (admin of all tenants).
        #[arg(long)]
        shred: bool,
    },
}

/// `cryptainer node token ...`.
#[derive(Debug, Subcommand)]
pub enum NodeTokenCommand {
    /// Create a join token and print it, ONCE.
    #[command(
        long_about = "Create a join token and print it, ONCE. It embeds the SHA-256 of the \
        server's CA bundle, so a joining host can check it talks to this server before it \
        sends anything, and a random secret. By default a token admits one node; --max-uses \
        admits more."
    )]
    Create {
        /// The role joining nodes get (only `agent` for now).
        #[arg(long, default_value = "agent", value_name = "ROLE")]
        role: String,
        /// The tenant joining nodes belong to [default: the token's only tenant, or default].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
        /// Lifetime, e.g. 90m, 24h, 7d (at most 30d).
        #[arg(long, default_value = "24h", value_parser = parse_duration, value_name = "DURATION")]
        ttl: Duration,
        /// How many nodes may join with it.
        #[arg(long, default_value_t = 1, value_name = "N")]
        max_uses: u32,
        /// A label the joining nodes get, KEY=VALUE (repeatable); policies
        /// select nodes by label.
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
        labels: Vec<(String, String)>,
    },
    /// List join tokens (never their secrets).
    List,
    /// Revoke a join token by its id (jtk_...).
    Revoke {
        /// The token's id.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Replace a join token by a new one with the same role, tenant, lifetime and
    /// uses; the old one stops working.
    Rotate {
        /// The token's id.
        #[arg(value_name = "ID")]
        id: String,
    },
}
