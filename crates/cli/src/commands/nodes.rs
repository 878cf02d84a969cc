//! `cryptainer node ...`: join tokens and the node inventory (admin).

use std::time::Duration;

use api::nodes::{
    CreateJoinToken, CreateJoinTokenRequest, CreatedJoinToken, DecommissionNode,
    DecommissionRequest, LabelNode, LabelRequest, ListJoinTokens, ListNodes, NodeInfo,
    RevokeJoinToken, RotateJoinToken, ShowNode,
};

use super::{collect_labels, labels_text, time, time_or_dash};
use crate::args::{NodeCommand, NodeTokenCommand};
use crate::client::Client;
use crate::failure::Failure;
use crate::table::Table;

/// Runs a node command.
pub async fn run(client: &Client, command: &NodeCommand, json: bool) -> anyhow::Result<()> {
    match command {
        NodeCommand::Token(command) => run_token(client, command, json).await,
        NodeCommand::List => list(client, json).await,
        NodeCommand::Show { node } => show(client, node, json).await,
        NodeCommand::Label {
            node,
            labels,
            remove,
        } => label(client, node, labels, remove, json).await,
        NodeCommand::Decommission { node, shred } => decommission(client, node, *shred, json).await,
    }
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
            create_token(
                client,
                role,
                tenant.as_deref(),
                *ttl,
                *max_uses,
                labels,
                json,
            )
            .await
        }
        NodeTokenCommand::List => list_tokens(client, json).await,
        NodeTokenCommand::Revoke { id } => revoke_token(client, id, json).await,
        NodeTokenCommand::Rotate { id } => rotate_token(client, id, json).await,
    }
}

/// `cryptainer node list`.
async fn list(client: &Client, json: bool) -> anyhow::Result<()> {
    client
        .show(&ListNodes, json, |list| {
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
            for node in &list.nodes {
                table.row(vec![
                    node.id.clone(),
                    node.name.clone(),
                    node.role.as_str().to_owned(),
                    node.tenant.clone(),
                    time(node.cert_expires_at),
                    time_or_dash(node.last_seen),
                    node.state.as_str().to_owned(),
                    labels_text(&node.labels),
                ]);
            }
            print!("{}", table.render());
            Ok(())
        })
        .await
}

/// `cryptainer node show`.
async fn show(client: &Client, node: &str, json: bool) -> anyhow::Result<()> {
    client
        .show(&ShowNode { id: node }, json, |info| {
            print_node(&info);
            Ok(())
        })
        .await
}

/// `cryptainer node label`.
async fn label(
    client: &Client,
    node: &str,
    labels: &[(String, String)],
    remove: &[String],
    json: bool,
) -> anyhow::Result<()> {
    let set = collect_labels(labels)?;
    if set.is_empty() && remove.is_empty() {
        return Err(Failure::usage(
            "no label to set or remove",
            "give KEY=VALUE to set a label, --remove KEY to remove one",
        )
        .into());
    }
    let body = LabelRequest {
        set,
        remove: remove.to_vec(),
    };
    client
        .show(
            &LabelNode {
                id: node,
                body: &body,
            },
            json,
            |info| {
                print_node(&info);
                Ok(())
            },
        )
        .await
}

/// `cryptainer node decommission`.
async fn decommission(client: &Client, node: &str, shred: bool, json: bool) -> anyhow::Result<()> {
    let body = DecommissionRequest { shred };
    client
        .show(
            &DecommissionNode {
                id: node,
                body: &body,
            },
            json,
            |answer| {
                println!(
                    "Node {node} is decommissioned: its certificates are refused from now on."
                );
                println!("Leases ended: {}", answer.leases_ended);
                if shred {
                    println!("Keys destroyed: {}", answer.shredded.len());
                }
                Ok(())
            },
        )
        .await
}

/// `cryptainer node token create`: prints the token, once.
async fn create_token(
    client: &Client,
    role: &str,
    tenant: Option<&str>,
    ttl: Duration,
    max_uses: u32,
    labels: &[(String, String)],
    json: bool,
) -> anyhow::Result<()> {
    let request = CreateJoinTokenRequest {
        role: Some(role.to_owned()),
        tenant: tenant.map(str::to_owned),
        ttl_secs: Some(ttl.as_secs()),
        max_uses: Some(max_uses),
        labels: collect_labels(labels)?,
    };
    client
        .show(&CreateJoinToken(&request), json, |created| {
            print_created(&created);
            Ok(())
        })
        .await
}

/// `cryptainer node token list`.
async fn list_tokens(client: &Client, json: bool) -> anyhow::Result<()> {
    client
        .show(&ListJoinTokens, json, |list| {
            let mut table = Table::new(&["ID", "ROLE", "TENANT", "USES", "EXPIRES", "REVOKED"]);
            for token in &list.tokens {
                table.row(vec![
                    token.id.clone(),
                    token.role.as_str().to_owned(),
                    token.tenant.clone(),
                    format!("{}/{}", token.uses, token.max_uses),
                    time(token.expires_at),
                    time_or_dash(token.revoked_at),
                ]);
            }
            print!("{}", table.render());
            Ok(())
        })
        .await
}

/// `cryptainer node token revoke`.
async fn revoke_token(client: &Client, id: &str, json: bool) -> anyhow::Result<()> {
    client
        .show(&RevokeJoinToken { id }, json, |_| {
            println!("Join token {id} is revoked.");
            Ok(())
        })
        .await
}

/// `cryptainer node token rotate`: prints the new token, once.
async fn rotate_token(client: &Client, id: &str, json: bool) -> anyhow::Result<()> {
    client
        .show(&RotateJoinToken { id }, json, |created| {
            print_created(&created);
            Ok(())
        })
        .await
}

fn print_node(info: &NodeInfo) {
    for (label, value) in [
        ("ID", info.id.clone()),
        ("Name", info.name.clone()),
        ("Role", info.role.as_str().to_owned()),
        ("Tenant", info.tenant.clone()),
        ("State", info.state.as_str().to_owned()),
        ("Cert serial", info.cert_serial.clone()),
        ("Cert expires", time(info.cert_expires_at)),
        ("Joined", time(info.joined_at)),
        ("Last seen", time_or_dash(info.last_seen)),
        ("Decommissioned", time_or_dash(info.decommissioned_at)),
        ("Join token", info.join_token_id.clone()),
    ] {
        println!("{label:<15} {value}");
    }
    println!("{:<15} {}", "Labels", labels_text(&info.labels));
}

fn print_created(created: &CreatedJoinToken) {
    let info = &created.info;
    println!("Token:    {}", created.token.expose_secret());
    println!("ID:       {}", info.id);
    println!("Role:     {}", info.role.as_str());
    println!("Tenant:   {}", info.tenant);
    println!("Uses:     {}", info.max_uses);
    println!("Expires:  {}", time(info.expires_at));
    println!(
        "\nThe token is shown ONCE. On the host: cryptainer agent join --server HOST:PORT \
         --token <token>. Revoke it with `cryptainer node token revoke {}`.",
        info.id
    );
}
