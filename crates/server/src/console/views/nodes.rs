//! The nodes and volumes views (`/v1/fleet/nodes`, `/v1/fleet/volumes`).

use super::*;

/// `GET /v1/fleet/nodes`.
pub(crate) async fn nodes(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<NodePage>, ApiError> {
    app.call(context, "fleet.nodes", Permission::ReadFleet, move |call| {
        let fleet = Fleet::read(call, query.tenant.as_deref())?;
        let text = TextFilter::new(query.q.as_deref());
        let attention_only = query.filter.as_deref() == Some("attention");
        let mut matching: Vec<&NodeRow> = fleet
            .nodes
            .values()
            .filter(|node| {
                let labels = node
                    .labels
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"));
                let labels: Vec<String> = labels.collect();
                text.matches(
                    [node.id.as_str(), node.name.as_str(), node.tenant.as_str()]
                        .into_iter()
                        .chain(labels.iter().map(String::as_str)),
                )
            })
            .collect();
        if attention_only {
            matching.retain(|node| {
                let entry = fleet.node_entry(node);
                node.state == NodeState::Active
                    && (entry.liveness != Liveness::Live
                        || !entry.fenced.is_empty()
                        || entry.containers.iter().any(|c| c.flag.is_some())
                        || node.cert_expires_at - fleet.now < NODE_CERT_WARNING)
            });
        }
        // Active first, then by name.
        matching.sort_by(|a, b| {
            (a.state != NodeState::Active, &a.name, &a.id).cmp(&(
                b.state != NodeState::Active,
                &b.name,
                &b.id,
            ))
        });
        let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
        let nodes = page(matching, page_of(&query))
            .into_iter()
            .map(|node| fleet.node_entry(node))
            .collect();
        call.keystore
            .record(&call.caller, "fleet.nodes", None, None, "ok")?;
        Ok(Json(NodePage { nodes, total }))
    })
    .await
}

/// `GET /v1/fleet/volumes`.
pub(crate) async fn volumes(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<VolumePage>, ApiError> {
    app.call(
        context,
        "fleet.volumes",
        Permission::ReadFleet,
        move |call| {
            let fleet = Fleet::read(call, query.tenant.as_deref())?;
            let text = TextFilter::new(query.q.as_deref());
            let mut entries: Vec<VolumeEntry> = Vec::new();
            for volume in &fleet.volumes {
                let lease = volume
                    .lease
                    .as_ref()
                    .filter(|lease| lease.expires_at > fleet.now);
                let holder_node = lease
                    .and_then(|lease| lease.holder.strip_prefix(keystore::NODE_PRINCIPAL_PREFIX))
                    .map(str::to_owned);
                let holder_name = holder_node.as_deref().map(|id| fleet.node_name(id));
                if !text.matches([
                    volume.name.as_str(),
                    volume.tenant.as_str(),
                    holder_name.as_deref().unwrap_or_default(),
                    holder_node.as_deref().unwrap_or_default(),
                ]) {
                    continue;
                }
                let report = holder_node
                    .as_deref()
                    .and_then(|id| fleet.snapshot.reports.get(id));
                let mounted = report.and_then(|report| {
                    report
                        .report
                        .volumes
                        .iter()
                        .find(|mounted| mounted.name == volume.name)
                });
                let containers = report
                    .map(|report| {
                        report
                            .report
                            .containers
                            .iter()
                            .filter(|container| container.volumes.contains(&volume.name))
                            .map(|container| ContainerRef {
                                container_id: Some(container.container_id.clone()),
                                container_name: container.container_name.clone(),
                                image: container.image.clone(),
                                image_digest: container.image_digest.clone(),
                                service: container.service.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let entry = VolumeEntry {
                    name: volume.name.clone(),
                    tenant: volume.tenant.clone(),
                    size_bytes: volume.size_bytes,
                    filesystem: volume.filesystem.clone(),
                    state: if lease.is_some() {
                        api::volumes::VolumeState::Held
                    } else {
                        api::volumes::VolumeState::Free
                    },
                    holder: lease.map(|lease| lease.holder.clone()),
                    holder_node,
                    holder_name,
                    lease_expires_at: lease.map(|lease| lease.expires_at),
                    held_since: lease.map(|lease| lease.acquired_at),
                    engine: mounted.and_then(|mounted| mounted.engine.clone()),
                    fenced: mounted.and_then(|mounted| mounted.fenced.clone()),
                    containers,
                    created_at: volume.created_at,
                    created_by: volume.created_by.clone(),
                };
                let keep = match query.filter.as_deref() {
                    Some("held") => entry.state == api::volumes::VolumeState::Held,
                    Some("free") => entry.state == api::volumes::VolumeState::Free,
                    Some("attention") => entry.fenced.is_some(),
                    _ => true,
                };
                if keep {
                    entries.push(entry);
                }
            }
            entries.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
            let total = u64::try_from(entries.len()).unwrap_or(u64::MAX);
            call.keystore
                .record(&call.caller, "fleet.volumes", None, None, "ok")?;
            Ok(Json(VolumePage {
                volumes: page(entries, page_of(&query)),
                total,
            }))
        },
    )
    .await
}
