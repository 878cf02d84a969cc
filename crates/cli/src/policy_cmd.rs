//! `cryptainer policy ...`: workload policies, which containers may open
//! which volumes and receive which secrets (deny by default), and `policy
//! check`, which explains a decision.

use clap::{ArgGroup, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Auth, Client, print_json};
use crate::commands::{field, items};
use crate::failure::{Exit, Failure};
use crate::labels::parse_label;
use crate::node::{collect, member};
use crate::table::Table;

/// `cryptainer policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Grant volumes and secrets to the workloads a subject selects (admin,
    /// operator).
    #[command(
        long_about = "Grant volumes and secrets of a tenant to the workloads a subject selects \
        (admin, operator). Every selector given must match; a selector left out matches anything; \
        at least one is required, since a policy that selects everyone is refused. The strong \
        binding is --image-digest (sha256:<64 hex>, `docker image inspect --format '{{.Id}}'` \
        or a repository digest): a digest names exactly one image content, an image name can \
        be re-pointed. A volume no policy names stays with the node that created it; a secret \
        no policy names is refused to every node."
    )]
    Create {
        /// The policy's name, unique in its tenant.
        name: String,
        /// Tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
        /// A volume granted (repeatable).
        #[arg(long = "volume", value_name = "VOLUME")]
        volumes: Vec<String>,
        /// A secret granted (repeatable).
        #[arg(long = "secret", value_name = "SECRET")]
        secrets: Vec<String>,
        /// The image digest is one of these, sha256:<64 hex> (repeatable).
        #[arg(long = "image-digest", value_name = "DIGEST")]
        image_digests: Vec<String>,
        /// The image name is one of these, e.g. postgres:16 (repeatable).
        #[arg(long = "image", value_name = "IMAGE")]
        images: Vec<String>,
        /// The container's Swarm or Compose service is one of these (repeatable).
        #[arg(long = "service", value_name = "SERVICE")]
        services: Vec<String>,
        /// The node id is one of these, node-... (repeatable).
        #[arg(long = "node", value_name = "NODE")]
        nodes: Vec<String>,
        /// The node role is one of these, e.g. agent (repeatable).
        #[arg(long = "node-role", value_name = "ROLE")]
        node_roles: Vec<String>,
        /// The node has this label, KEY=VALUE (repeatable; all must match).
        #[arg(long = "node-label", value_name = "KEY=VALUE", value_parser = parse_label)]
        node_labels: Vec<(String, String)>,
        /// The container has this label, KEY=VALUE (repeatable; all must match).
        #[arg(long = "container-label", value_name = "KEY=VALUE", value_parser = parse_label)]
        container_labels: Vec<(String, String)>,
    },
    /// List policies (admin, operator, auditor).
    List {
        /// Only policies of this tenant [default: every tenant of the token].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Show one policy.
    Show {
        /// The policy's name.
        name: String,
        /// Its tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Remove a policy: what it granted is refused from the next request on.
    Rm {
        /// The policy's name.
        name: String,
        /// Its tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Say whether a workload would get a volume or a secret, and why.
    #[command(
        long_about = "Say whether a workload would get a volume or a secret, and why, without \
        releasing anything (admin, operator, auditor). Prints ALLOWED or REFUSED and the reason \
        in plain words. Exit code 0 when allowed, 4 when refused. With --node naming a node of \
        the tenant, its role and labels come from the inventory.",
        group(ArgGroup::new("resource").required(true).args(["volume", "secret"]))
    )]
    Check {
        /// The volume asked for.
        #[arg(long, value_name = "VOLUME")]
        volume: Option<String>,
        /// The secret asked for.
        #[arg(long, value_name = "SECRET")]
        secret: Option<String>,
        /// The node the workload runs on (node-...).
        #[arg(long, value_name = "NODE")]
        node: Option<String>,
        /// The image's digest, sha256:<64 hex>.
        #[arg(long = "image-digest", value_name = "DIGEST")]
        image_digest: Option<String>,
        /// A repository digest of the image, NAME@sha256:<64 hex> (repeatable).
        #[arg(long = "repo-digest", value_name = "DIGEST")]
        repo_digests: Vec<String>,
        /// The image name the container runs.
        #[arg(long, value_name = "IMAGE")]
        image: Option<String>,
        /// The container's service.
        #[arg(long, value_name = "SERVICE")]
        service: Option<String>,
        /// A container label, KEY=VALUE (repeatable).
        #[arg(long = "container-label", value_name = "KEY=VALUE", value_parser = parse_label)]
        container_labels: Vec<(String, String)>,
        /// Tenant [default: the token's only tenant, or `default`].
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
}

fn tenant_query(tenant: Option<&String>) -> Vec<(&'static str, String)> {
    tenant
        .iter()
        .map(|tenant| ("tenant", (*tenant).clone()))
        .collect()
}

/// Inserts `value` under `key` when it is set.
fn put(object: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(value) = value {
        object.insert(key.to_owned(), Value::String(value.clone()));
    }
}

/// Runs a policy command.
pub async fn run(client: &Client, command: &PolicyCommand, json: bool) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Create {
            name,
            tenant,
            volumes,
            secrets,
            image_digests,
            images,
            services,
            nodes,
            node_roles,
            node_labels,
            container_labels,
        } => {
            let mut body = Map::new();
            body.insert("name".to_owned(), Value::String(name.clone()));
            put(&mut body, "tenant", tenant.as_ref());
            body.insert(
                "subject".to_owned(),
                json!({
                    "node_ids": nodes,
                    "node_roles": node_roles,
                    "node_labels": collect(node_labels)?,
                    "image_digests": image_digests,
                    "images": images,
                    "services": services,
                    "container_labels": collect(container_labels)?,
                }),
            );
            body.insert("volumes".to_owned(), json!(volumes));
            body.insert("secrets".to_owned(), json!(secrets));
            let policy = client
                .call(
                    Method::POST,
                    &["v1", "policies"],
                    &[],
                    Some(&Value::Object(body)),
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&policy);
            }
            println!("Created policy '{}'.", field(&policy, "name"));
            print_policy(&policy);
            Ok(())
        }
        PolicyCommand::List { tenant } => {
            let list = client
                .call(
                    Method::GET,
                    &["v1", "policies"],
                    &tenant_query(tenant.as_ref()),
                    None,
                    Auth::Token,
                )
                .await?;
            if json {
                return print_json(&list);
            }
            let mut table = Table::new(&["NAME", "TENANT", "VOLUMES", "SECRETS", "SUBJECT"]);
            for policy in items(&list, "policies") {
                table.row(vec![
                    field(policy, "name"),
                    field(policy, "tenant"),
                    names(member(policy, "volumes")),
                    names(member(policy, "secrets")),
                    subject_text(member(policy, "subject")),
                ]);
            }
            print!("{}", table.render());
            Ok(())
        }
        PolicyCommand::Show { name, tenant } => {
            let policy = by_name(client, Method::GET, name, tenant.as_ref()).await?;
            if json {
                return print_json(&policy);
            }
            print_policy(&policy);
            Ok(())
        }
        PolicyCommand::Rm { name, tenant } => {
            let policy = by_name(client, Method::DELETE, name, tenant.as_ref()).await?;
            if json {
                return print_json(&policy);
            }
            println!(
                "Removed policy '{name}': what it granted is refused from the next request on."
            );
            Ok(())
        }
        PolicyCommand::Check {
            volume,
            secret,
            node,
            image_digest,
            repo_digests,
            image,
            service,
            container_labels,
            tenant,
        } => {
            let mut workload = Map::new();
            put(&mut workload, "node_id", node.as_ref());
            put(&mut workload, "image_digest", image_digest.as_ref());
            put(&mut workload, "image", image.as_ref());
            put(&mut workload, "service", service.as_ref());
            workload.insert("repo_digests".to_owned(), json!(repo_digests));
            workload.insert(
                "container_labels".to_owned(),
                json!(collect(container_labels)?),
            );
            let mut body = Map::new();
            put(&mut body, "tenant", tenant.as_ref());
            put(&mut body, "volume", volume.as_ref());
            put(&mut body, "secret", secret.as_ref());
            body.insert("workload".to_owned(), Value::Object(workload));
            let answer = client
                .call(
                    Method::POST,
                    &["v1", "policies", "check"],
                    &[],
                    Some(&Value::Object(body)),
                    Auth::Token,
                )
                .await?;
            let allowed = member(&answer, "allowed").as_bool() == Some(true);
            if json {
                print_json(&answer)?;
            } else {
                println!(
                    "{}: {}",
                    if allowed { "ALLOWED" } else { "REFUSED" },
                    field(&answer, "reason")
                );
            }
            if allowed {
                Ok(())
            } else {
                Err(Failure::new(
                    Exit::Refused,
                    "the policies refuse this workload",
                    "`cryptainer policy create` grants access; `cryptainer policy list` shows what is granted",
                )
                .into())
            }
        }
    }
}

/// `method` on `/v1/policies/{name}`.
async fn by_name(
    client: &Client,
    method: Method,
    name: &str,
    tenant: Option<&String>,
) -> anyhow::Result<Value> {
    client
        .call(
            method,
            &["v1", "policies", name],
            &tenant_query(tenant),
            None,
            Auth::Token,
        )
        .await
}

/// `a, b`, or `-` for none.
fn names(list: &Value) -> String {
    let names: Vec<&str> = list
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() {
        "-".to_owned()
    } else {
        names.join(", ")
    }
}

/// The subject's selectors, `what=a|b` separated by spaces.
fn subject_text(subject: &Value) -> String {
    let Some(selectors) = subject.as_object() else {
        return "-".to_owned();
    };
    selectors
        .iter()
        .map(|(what, value)| match value {
            Value::Array(_) => format!("{what}={}", names(value).replace(", ", "|")),
            other => format!("{what}={}", crate::node::labels_text(other)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_policy(policy: &Value) {
    println!("{:<10} {}", "Name", field(policy, "name"));
    println!("{:<10} {}", "Tenant", field(policy, "tenant"));
    println!("{:<10} {}", "Volumes", names(member(policy, "volumes")));
    println!("{:<10} {}", "Secrets", names(member(policy, "secrets")));
    println!(
        "{:<10} {}",
        "Subject",
        subject_text(member(policy, "subject"))
    );
}
