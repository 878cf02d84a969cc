//! `cryptainer policy ...`: workload policies, which containers may open
//! which volumes and receive which secrets (deny by default), and `policy
//! check`, which explains a decision.

use api::policies::{
    CheckPolicy, CheckRequest, CheckedWorkload, CreatePolicy, CreatePolicyRequest, ListPolicies,
    Policy, PolicyRef, RemovePolicy, Selector, ShowPolicy, WorkloadClaim,
};

use super::{collect_labels, labels_text, names};
use crate::args::PolicyCommand;
use crate::client::{Client, print_answer};
use crate::failure::{Exit, Failure};
use crate::table::Table;

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
            let request = CreatePolicyRequest {
                name: name.clone(),
                tenant: tenant.clone(),
                subject: Selector {
                    node_ids: nodes.clone(),
                    node_roles: node_roles.clone(),
                    node_labels: collect_labels(node_labels)?,
                    image_digests: image_digests.clone(),
                    images: images.clone(),
                    services: services.clone(),
                    container_labels: collect_labels(container_labels)?,
                },
                volumes: volumes.clone(),
                secrets: secrets.clone(),
            };
            create(client, &request, json).await
        }
        PolicyCommand::List { tenant } => list(client, tenant.as_deref(), json).await,
        PolicyCommand::Show { name, tenant } => show(client, name, tenant.as_deref(), json).await,
        PolicyCommand::Rm { name, tenant } => remove(client, name, tenant.as_deref(), json).await,
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
            let request = CheckRequest {
                tenant: tenant.clone(),
                workload: CheckedWorkload {
                    node_id: node.clone().unwrap_or_default(),
                    claim: WorkloadClaim {
                        image: image.clone(),
                        image_digest: image_digest.clone(),
                        repo_digests: repo_digests.clone(),
                        service: service.clone(),
                        container_labels: collect_labels(container_labels)?,
                        ..WorkloadClaim::default()
                    },
                },
                volume: volume.clone(),
                secret: secret.clone(),
            };
            check(client, &request, json).await
        }
    }
}

/// `cryptainer policy create`.
async fn create(client: &Client, request: &CreatePolicyRequest, json: bool) -> anyhow::Result<()> {
    client
        .show(&CreatePolicy(request), json, |policy| {
            println!("Created policy '{}'.", policy.name);
            print_policy(&policy);
            Ok(())
        })
        .await
}

/// `cryptainer policy list`.
async fn list(client: &Client, tenant: Option<&str>, json: bool) -> anyhow::Result<()> {
    client
        .show(&ListPolicies { tenant }, json, |list| {
            let mut table = Table::new(&["NAME", "TENANT", "VOLUMES", "SECRETS", "SUBJECT"]);
            for policy in &list.policies {
                table.row(vec![
                    policy.name.clone(),
                    policy.tenant.clone(),
                    names(&policy.volumes),
                    names(&policy.secrets),
                    subject_text(&policy.subject),
                ]);
            }
            print!("{}", table.render());
            Ok(())
        })
        .await
}

/// `cryptainer policy show`.
async fn show(client: &Client, name: &str, tenant: Option<&str>, json: bool) -> anyhow::Result<()> {
    let policy = PolicyRef {
        reference: name,
        tenant,
    };
    client
        .show(&ShowPolicy(policy), json, |policy| {
            print_policy(&policy);
            Ok(())
        })
        .await
}

/// `cryptainer policy rm`.
async fn remove(
    client: &Client,
    name: &str,
    tenant: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let policy = PolicyRef {
        reference: name,
        tenant,
    };
    client
        .show(&RemovePolicy(policy), json, |_| {
            println!(
                "Removed policy '{name}': what it granted is refused from the next request on."
            );
            Ok(())
        })
        .await
}

/// `cryptainer policy check`: exit code 4 when refused, with `--json` too.
async fn check(client: &Client, request: &CheckRequest, json: bool) -> anyhow::Result<()> {
    let answer = client.call(&CheckPolicy(request)).await?;
    let decision = client.decode(&answer)?;
    if json {
        print_answer(&answer)?;
    } else {
        println!(
            "{}: {}",
            if decision.allowed {
                "ALLOWED"
            } else {
                "REFUSED"
            },
            decision.reason
        );
    }
    if decision.allowed {
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

/// The subject's selectors that are set, `what=a|b` separated by spaces, in
/// the order of their names.
fn subject_text(subject: &Selector) -> String {
    let list = |what: &str, values: &[String]| {
        (!values.is_empty()).then(|| format!("{what}={}", values.join("|")))
    };
    let map = |what: &str, values: &std::collections::BTreeMap<String, String>| {
        (!values.is_empty()).then(|| format!("{what}={}", labels_text(values)))
    };
    [
        map("container_labels", &subject.container_labels),
        list("image_digests", &subject.image_digests),
        list("images", &subject.images),
        list("node_ids", &subject.node_ids),
        map("node_labels", &subject.node_labels),
        list("node_roles", &subject.node_roles),
        list("services", &subject.services),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

fn print_policy(policy: &Policy) {
    println!("{:<10} {}", "Name", policy.name);
    println!("{:<10} {}", "Tenant", policy.tenant);
    println!("{:<10} {}", "Volumes", names(&policy.volumes));
    println!("{:<10} {}", "Secrets", names(&policy.secrets));
    println!("{:<10} {}", "Subject", subject_text(&policy.subject));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_reads_as_its_selectors_in_name_order() {
        let subject = Selector {
            services: vec!["db".to_owned()],
            image_digests: vec!["sha256:a".to_owned(), "sha256:b".to_owned()],
            node_labels: std::collections::BTreeMap::from([
                ("zone".to_owned(), "eu".to_owned()),
                ("disk".to_owned(), "ssd".to_owned()),
            ]),
            ..Selector::default()
        };
        assert_eq!(
            subject_text(&subject),
            "image_digests=sha256:a|sha256:b node_labels=disk=ssd, zone=eu services=db"
        );
        assert_eq!(subject_text(&Selector::default()), "");
    }
}
