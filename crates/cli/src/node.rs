//! `cryptainer node ...`: join tokens and the node inventory (admin).

use std::time::Duration;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Auth, Client, SecretJson, print_json};
use crate::commands::{field, items};
use crate::duration::parse_duration;
use crate::table::Table;

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
        #[arg(value_name = "KEY=VALUE", value_parser = crate::labels::parse_label)]
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
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = crate::labels::parse_label)]
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

/// Runs a node command.
pub async fn run(client: &Client, command: &NodeCommand, json: bool) -> anyhow::Result<()> {
    match command {
        NodeCommand::Token(command) => run_token(client, command, json).await,
        NodeCommand::List => {
            let list = client
                .call(Method::GET, &["v1", "nodes"], &[], None, Auth::Token)
                .await?;
            if json {
                return print_json(&list);
            }
            let mut table = Table::new(&[
                "ID",
                "NAME",
                "ROLE",
                "TENANT",
                "CERT EXPIRES",
                "LAST SEEN",
                "STATE",
                "LABELS",
            ]);
            for node in items(&list, "nodes") {
                table.row(vec![
                    field(node, "id"),
                    field(node, "name"),
                    field(node, "role"),
                    field(node, "tenant"),
                    field(node, "cert_expires_at"),
                    field(node, "last_seen"),
                    field(node, "state"),
                    labels_text(member(node, "labels")),
                ]);
            }
            print!("{}", table.render());
            Ok(())
        }
        NodeCommand::Show { node } => {
            let info = client
                .call(Method::GET, &["v1", "nodes", node], &[], None, Auth::Token)
                .await?;
            if json {
                return print_json(&info);
            }
            print_node(&info);
            Ok(())
        }
        NodeCommand::Label {
            node,
            labels,
            remove,
        } => {
            let set = collect(labels)?;
            if set.is_empty() && remove.is_empty() {
                return Err(crate::failure::Failure::usage(
                    "no label to set or remove",
                    "give KEY=VALUE to set a label, --remove KEY to remove one",
                )
                .into());
            }
            let body = json!({ "set": set, "remove": remove });
            let info = client
                .call(
                    Method::POST,
                    &["v1", "nodes", node, "labels"],
                    &[],
                    Some(&body),
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&info);
            }
            print_node(&info);
            Ok(())
        }
        NodeCommand::Decommission { node, shred } => {
            let body = json!({ "shred": shred });
            let answer = client
                .call(
                    Method::POST,
                    &["v1", "nodes", node, "decommission"],
                    &[],
                    Some(&body),
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&answer);
            }
            println!("Node {node} is decommissioned: its certificates are refused from now on.");
            println!("Leases ended: {}", field(&answer, "leases_ended"));
            if *shred {
                println!("Keys destroyed: {}", items(&answer, "shredded").len());
            }
            Ok(())
        }
    }
}

fn print_node(info: &Value) {
    for (label, name) in [
        ("ID", "id"),
        ("Name", "name"),
        ("Role", "role"),
        ("Tenant", "tenant"),
        ("State", "state"),
        ("Cert serial", "cert_serial"),
        ("Cert expires", "cert_expires_at"),
        ("Joined", "joined_at"),
        ("Last seen", "last_seen"),
        ("Decommissioned", "decommissioned_at"),
        ("Join token", "join_token_id"),
    ] {
        println!("{label:<15} {}", field(info, name));
    }
    println!("{:<15} {}", "Labels", labels_text(member(info, "labels")));
}

/// The member `key` of a JSON object, or null.
pub fn member<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&Value::Null)
}

/// `k=v, k2=v2`, or `-` for none.
pub fn labels_text(labels: &Value) -> String {
    let pairs: Vec<String> = labels
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        "-".to_owned()
    } else {
        pairs.join(", ")
    }
}

/// Labels given on the command line, as a map; a repeated key is a usage error.
pub fn collect(
    labels: &[(String, String)],
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    crate::labels::collect_labels(labels.to_vec()).map_err(|error| {
        anyhow::Error::new(error).context(crate::failure::Failure::usage(
            "the labels were refused",
            "give each KEY=VALUE once",
        ))
    })
}

async fn run_token(client: &Client, command: &NodeTokenCommand, json: bool) -> anyhow::Result<()> {
    match command {
        NodeTokenCommand::Create {
            role,
            tenant,
            ttl,
            max_uses,
            labels,
        } => {
            let mut body = json!({
                "role": role,
                "ttl_secs": ttl.as_secs(),
                "max_uses": max_uses,
                "labels": collect(labels)?,
            });
            if let (Some(tenant), Some(object)) = (tenant, body.as_object_mut()) {
                object.insert("tenant".to_owned(), Value::String(tenant.clone()));
            }
            let created = SecretJson(
                client
                    .call(
                        Method::POST,
                        &["v1", "nodes", "tokens"],
                        &[],
                        Some(&body),
                        Auth::Token,
                    )
                    .await?,
            );
            print_created(&created, json)
        }
        NodeTokenCommand::List => {
            let list = client
                .call(
                    Method::GET,
                    &["v1", "nodes", "tokens"],
                    &[],
                    None,
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&list);
            }
            let mut table = Table::new(&["ID", "ROLE", "TENANT", "USES", "EXPIRES", "REVOKED"]);
            for token in items(&list, "tokens") {
                table.row(vec![
                    field(token, "id"),
                    field(token, "role"),
                    field(token, "tenant"),
                    format!("{}/{}", field(token, "uses"), field(token, "max_uses")),
                    field(token, "expires_at"),
                    field(token, "revoked_at"),
                ]);
            }
            print!("{}", table.render());
            Ok(())
        }
        NodeTokenCommand::Revoke { id } => {
            let info = client
                .call(
                    Method::DELETE,
                    &["v1", "nodes", "tokens", id],
                    &[],
                    None,
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&info);
            }
            println!("Join token {id} is revoked.");
            Ok(())
        }
        NodeTokenCommand::Rotate { id } => {
            let created = SecretJson(
                client
                    .call(
                        Method::POST,
                        &["v1", "nodes", "tokens", id, "rotate"],
                        &[],
                        None,
                        Auth::Token,
                    )
                    .await?,
            );
            print_created(&created, json)
        }
    }
}

fn print_created(created: &SecretJson, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(created);
    }
    println!("Token:    {}", field(created, "token"));
    println!("ID:       {}", field(created, "id"));
    println!("Role:     {}", field(created, "role"));
    println!("Tenant:   {}", field(created, "tenant"));
    println!("Uses:     {}", field(created, "max_uses"));
    println!("Expires:  {}", field(created, "expires_at"));
    println!(
        "\nThe token is shown ONCE. On the host: cryptainer agent join --server HOST:PORT \
         --token <token>. Revoke it with `cryptainer node token revoke {}`.",
        field(created, "id")
    );
    Ok(())
}
