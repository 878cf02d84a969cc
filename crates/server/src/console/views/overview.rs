//! The overview (`/v1/fleet/overview`): the seal, the counts, and what needs attention.

use super::*;

/// `GET /v1/fleet/overview`.
pub(crate) async fn overview(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<Overview>, ApiError> {
    let identity = app.identity.clone();
    let seals = Arc::clone(&app.seals);
    app.call(context, "fleet.overview", Permission::ReadFleet, move |call| {
        let fleet = Fleet::read(call, None)?;
        let tenants = call.principal().listable_tenants(None);
        let count = |object_type: Option<ObjectType>| -> Result<u64, ApiError> {
            let (_, total) = call.keystore.list(&ListFilter {
                tenants: tenants.clone(),
                name: None,
                state: Some(ObjectState::Active),
                object_type,
                limit: 1,
                offset: 0,
            })?;
            Ok(total)
        };
        let active = count(None)?;
        let secret_data = count(Some(ObjectType::SecretData))?;
        let volumes = u64::try_from(fleet.volumes.len()).unwrap_or(u64::MAX);
        let running = fleet.all_running();
        let active_nodes: Vec<&NodeRow> = fleet
            .nodes
            .values()
            .filter(|node| node.state == NodeState::Active)
            .collect();
        let counts = FleetCounts {
            nodes: u64::try_from(active_nodes.len()).unwrap_or(u64::MAX),
            nodes_live: u64::try_from(
                active_nodes
                    .iter()
                    .filter(|node| liveness(node, fleet.now) == Liveness::Live)
                    .count(),
            )
            .unwrap_or(u64::MAX),
            volumes,
            volumes_held: u64::try_from(
                fleet
                    .volumes
                    .iter()
                    .filter(|volume| volume.lease.as_ref().is_some_and(|l| l.expires_at > fleet.now))
                    .count(),
            )
            .unwrap_or(u64::MAX),
            keys: active.saturating_sub(secret_data),
            // Each volume has one active secret of its own.
            secrets: secret_data.saturating_sub(volumes),
            policies: u64::try_from(fleet.policies.len()).unwrap_or(u64::MAX),
            containers: u64::try_from(running.len()).unwrap_or(u64::MAX),
        };
        let mut attention = attention(&fleet, &active_nodes, &running);
        if let Some(identity) = &identity {
            if require_all_tenants(call.principal()).is_ok() {
                let (_, not_after) = identity.server_cert().issued_by();
                if not_after - fleet.now < SERVER_CERT_WARNING {
                    attention.insert(
                        0,
                        Attention {
                            kind: AttentionKind::CertificateExpiring,
                            subject: "the server's certificate".to_owned(),
                            message: format!(
                                "the server's certificate expires at {}; the server renews it itself: check its log",
                                rfc3339(not_after)
                            ),
                            view: "overview".to_owned(),
                            reference: String::new(),
                        },
                    );
                }
            }
        }
        let status = call.keystore.status();
        let automatic = seals.status(!status.sealed);
        if let Some(item) = seal_attention(&automatic) {
            attention.insert(0, item);
        }
        attention.truncate(MAX_ATTENTION);
        let refusals: Vec<Refusal> = fleet
            .snapshot
            .refusals
            .iter()
            .rev()
            .map(|refusal| Refusal {
                at: refusal.at,
                node_id: refusal.node_id.clone(),
                node_name: fleet.node_name(&refusal.node_id),
                resource_kind: refusal.kind.as_str().to_owned(),
                resource: refusal.resource.clone(),
                tenant: refusal.tenant.clone(),
                workload: refusal.workload.clone(),
                reason: refusal.reason.clone(),
            })
            .collect();
        call.keystore
            .record(&call.caller, "fleet.overview", None, None, "ok")?;
        Ok(Json(Overview {
            seal: SealSummary {
                initialized: status.initialized,
                sealed: status.sealed,
                seal: status.seal.map(str::to_owned),
                device: automatic.seal_device,
            },
            counts,
            attention,
            refused_last_hour: u64::try_from(refusals.len()).unwrap_or(u64::MAX),
            recent_refusals: refusals.into_iter().take(10).collect(),
            generated_at: fleet.now,
        }))
    })
    .await
}

/// The automatic seal's device, when it needs attention: it did not answer
/// its last check, or refused to unseal. The server stays unsealed while it
/// runs; a restart would wait for the device.
pub(super) fn seal_attention(automatic: &AutomaticUnseal) -> Option<Attention> {
    let kind = automatic.seal_configured.as_deref().unwrap_or("automatic");
    let why = automatic
        .seal_error
        .as_deref()
        .unwrap_or("no reason was given");
    let message = match (automatic.seal_state, automatic.seal_device) {
        (UnsealState::Refused, _) => format!(
            "the {kind} seal's device refused to unseal ({why}); fix the [seal] configuration and restart the server"
        ),
        (_, Some(DeviceHealth::Unreachable)) => format!(
            "the {kind} seal's device did not answer its last check ({why}); the server stays unsealed, but a restart would wait for the device"
        ),
        _ => return None,
    };
    Some(Attention {
        kind: AttentionKind::SealDevice,
        subject: format!("the {kind} seal"),
        message,
        view: "overview".to_owned(),
        reference: String::new(),
    })
}

/// What needs attention, most urgent first.
fn attention(
    fleet: &Fleet,
    active_nodes: &[&NodeRow],
    running: &[(&NodeRow, RunningEntry)],
) -> Vec<Attention> {
    let mut items = Vec::new();
    for node in active_nodes {
        let state = liveness(node, fleet.now);
        if state != Liveness::Live {
            let when = node
                .last_seen
                .map_or_else(|| "never".to_owned(), |seen| ago(seen, fleet.now));
            items.push(Attention {
                kind: AttentionKind::NodeNotSeen,
                subject: format!("node '{}'", node.name),
                message: format!(
                    "node '{}' last reported {when}; its agent may be down or cut off from the key manager",
                    node.name
                ),
                view: "nodes".to_owned(),
                reference: node.id.clone(),
            });
        }
    }
    for (node_id, report) in &fleet.snapshot.reports {
        for volume in &report.report.volumes {
            if let Some(reason) = &volume.fenced {
                items.push(Attention {
                    kind: AttentionKind::VolumeFenced,
                    subject: format!("volume '{}'", volume.name),
                    message: format!(
                        "volume '{}' is fenced on node '{}': {reason}; restart its containers once the key manager is reachable",
                        volume.name,
                        fleet.node_name(node_id)
                    ),
                    view: "volumes".to_owned(),
                    reference: volume.name.clone(),
                });
            }
        }
    }
    for node in active_nodes {
        if node.cert_expires_at - fleet.now < NODE_CERT_WARNING {
            let message = if node.cert_expires_at <= fleet.now {
                format!(
                    "the certificate of node '{}' expired at {}; the node must join again",
                    node.name,
                    rfc3339(node.cert_expires_at)
                )
            } else {
                format!(
                    "the certificate of node '{}' expires at {} and was not renewed; check its agent",
                    node.name,
                    rfc3339(node.cert_expires_at)
                )
            };
            items.push(Attention {
                kind: AttentionKind::CertificateExpiring,
                subject: format!("node '{}'", node.name),
                message,
                view: "nodes".to_owned(),
                reference: node.id.clone(),
            });
        }
    }
    // Refusals, one item per node and resource.
    let mut refused: BTreeMap<(String, &'static str, String), (usize, &str, &str)> =
        BTreeMap::new();
    for refusal in &fleet.snapshot.refusals {
        let slot = refused
            .entry((
                refusal.node_id.clone(),
                refusal.kind.as_str(),
                refusal.resource.clone(),
            ))
            .or_insert((0, "", ""));
        slot.0 = slot.0.saturating_add(1);
        slot.1 = &refusal.workload;
        slot.2 = &refusal.reason;
    }
    for ((node_id, kind, resource), (times, workload, reason)) in refused {
        items.push(Attention {
            kind: AttentionKind::ReleaseRefused,
            subject: format!("{kind} '{resource}'"),
            message: format!(
                "{kind} '{resource}' was refused to {workload} on node '{}' {times} time(s) in the last hour: {reason}",
                fleet.node_name(&node_id)
            ),
            view: "audit".to_owned(),
            reference: resource,
        });
    }
    for (node, entry) in running {
        let name = entry
            .container
            .container_name
            .clone()
            .or_else(|| entry.container.container_id.clone())
            .unwrap_or_default();
        if let Some(flag) = &entry.flag {
            items.push(Attention {
                kind: AttentionKind::ContainerUnbound,
                subject: format!("container '{name}'"),
                message: format!("container '{name}' on node '{}': {flag}", node.name),
                view: "workloads".to_owned(),
                reference: name.clone(),
            });
        }
        for secret in &entry.secrets {
            if secret.version < secret.current {
                items.push(Attention {
                    kind: AttentionKind::VersionInUse,
                    subject: format!("secret '{}'", secret.name),
                    message: format!(
                        "container '{name}' on node '{}' still holds version {} of secret '{}', rotated to version {}; restart it to pick up the new one",
                        node.name, secret.version, secret.name, secret.current
                    ),
                    view: "objects".to_owned(),
                    reference: secret.name.clone(),
                });
            }
        }
    }
    let rank = |kind: AttentionKind| match kind {
        AttentionKind::SealDevice | AttentionKind::VolumeFenced => 0,
        AttentionKind::NodeNotSeen => 1,
        AttentionKind::ReleaseRefused => 2,
        AttentionKind::ContainerUnbound => 3,
        AttentionKind::CertificateExpiring => 4,
        AttentionKind::VersionInUse => 5,
    };
    items.sort_by_key(|item| rank(item.kind));
    items
}
