//! The policies view (`/v1/fleet/policies`): what each grants to whom.

use super::*;

/// `GET /v1/fleet/policies`.
pub(crate) async fn policies(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<PolicyPage>, ApiError> {
    app.call(
        context,
        "fleet.policies",
        Permission::ReadPolicies,
        move |call| {
            let fleet = Fleet::read(call, query.tenant.as_deref())?;
            let text = TextFilter::new(query.q.as_deref());
            let workloads: Vec<(String, Workload)> = fleet
                .snapshot
                .reports
                .iter()
                .filter_map(|(node_id, report)| fleet.nodes.get(node_id).map(|node| (node, report)))
                .filter(|(node, _)| node.state == NodeState::Active)
                .flat_map(|(node, report)| {
                    report.report.containers.iter().map(move |container| {
                        (
                            node.tenant.clone(),
                            Workload {
                                node_id: node.id.clone(),
                                node_role: node.role.as_str().to_owned(),
                                node_labels: node.labels.clone(),
                                image_digest: container.image_digest.clone(),
                                repo_digests: Vec::new(),
                                image: container.image.clone(),
                                service: container.service.clone(),
                                container_labels: container.container_labels.clone(),
                            },
                        )
                    })
                })
                .collect();
            let mut entries: Vec<PolicyEntry> = fleet
                .policies
                .iter()
                .filter(|policy| {
                    let subject = serde_json::to_string(&policy.subject).unwrap_or_default();
                    text.matches(
                        [
                            policy.name.as_str(),
                            policy.tenant.as_str(),
                            subject.as_str(),
                        ]
                        .into_iter()
                        .chain(policy.volumes.iter().map(String::as_str))
                        .chain(policy.secrets.iter().map(String::as_str)),
                    )
                })
                .map(|policy| PolicyEntry {
                    policy: policy.clone(),
                    selects_running: u64::try_from(
                        workloads
                            .iter()
                            .filter(|(tenant, workload)| {
                                *tenant == policy.tenant
                                    && policy.subject.mismatch(workload).is_none()
                            })
                            .count(),
                    )
                    .unwrap_or(u64::MAX),
                })
                .collect();
            entries.sort_by(|a, b| {
                (&a.policy.tenant, &a.policy.name).cmp(&(&b.policy.tenant, &b.policy.name))
            });
            let total = u64::try_from(entries.len()).unwrap_or(u64::MAX);
            call.keystore
                .record(&call.caller, "fleet.policies", None, None, "ok")?;
            Ok(Json(PolicyPage {
                policies: page(entries, page_of(&query)),
                total,
            }))
        },
    )
    .await
}
