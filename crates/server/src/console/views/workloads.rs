//! The workloads view (`/v1/fleet/workloads`): containers and image digests, and those no policy names.

use super::*;

/// `GET /v1/fleet/workloads`.
pub(crate) async fn workloads(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<WorkloadPage>, ApiError> {
    app.call(
        context,
        "fleet.workloads",
        Permission::ReadFleet,
        move |call| {
            let fleet = Fleet::read(call, query.tenant.as_deref())?;
            let text = TextFilter::new(query.q.as_deref());
            // One entry per container and node: what the agents report running,
            // and what the ledger says was released to it.
            let mut entries: BTreeMap<(String, String), WorkloadEntry> = BTreeMap::new();
            for (node, running) in fleet.all_running() {
                let id = running.container.container_id.clone().unwrap_or_default();
                entries.insert(
                    (node.id.clone(), id),
                    WorkloadEntry {
                        container: running.container.clone(),
                        node_id: node.id.clone(),
                        node_name: node.name.clone(),
                        running: true,
                        received: Vec::new(),
                        flag: running.flag.clone(),
                    },
                );
            }
            for release in &fleet.snapshot.releases {
                let Some(node_id) = release.node_id() else {
                    continue;
                };
                let id = release.container.container_id.clone().unwrap_or_default();
                let entry =
                    entries
                        .entry((node_id.to_owned(), id))
                        .or_insert_with(|| WorkloadEntry {
                            container: release.container.clone(),
                            node_id: node_id.to_owned(),
                            node_name: fleet.node_name(node_id),
                            running: false,
                            received: Vec::new(),
                            flag: None,
                        });
                entry.received.push(Received {
                    resource_kind: release.kind.as_str().to_owned(),
                    resource: release.resource.clone(),
                    tenant: release.tenant.clone(),
                    version: release.version,
                    basis: release.basis.clone(),
                    at: release.last_at,
                });
            }
            let mut matching: Vec<WorkloadEntry> = entries
                .into_values()
                .filter(|entry| {
                    let received: Vec<&str> =
                        entry.received.iter().map(|r| r.resource.as_str()).collect();
                    text.matches(
                        [
                            entry
                                .container
                                .container_name
                                .as_deref()
                                .unwrap_or_default(),
                            entry.container.container_id.as_deref().unwrap_or_default(),
                            entry.container.image.as_deref().unwrap_or_default(),
                            entry.container.image_digest.as_deref().unwrap_or_default(),
                            entry.container.service.as_deref().unwrap_or_default(),
                            entry.node_name.as_str(),
                        ]
                        .into_iter()
                        .chain(received),
                    ) && match query.filter.as_deref() {
                        Some("running") => entry.running,
                        Some("flagged" | "attention") => entry.flag.is_some(),
                        _ => true,
                    }
                })
                .collect();
            for entry in &mut matching {
                entry
                    .received
                    .sort_by_key(|received| std::cmp::Reverse(received.at));
            }
            // Flagged first, then running, then by node and container.
            matching.sort_by(|a, b| {
                (
                    a.flag.is_none(),
                    !a.running,
                    &a.node_name,
                    &a.container.container_name,
                )
                    .cmp(&(
                        b.flag.is_none(),
                        !b.running,
                        &b.node_name,
                        &b.container.container_name,
                    ))
            });
            let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
            call.keystore
                .record(&call.caller, "fleet.workloads", None, None, "ok")?;
            Ok(Json(WorkloadPage {
                workloads: page(matching, page_of(&query)),
                total,
            }))
        },
    )
    .await
}
