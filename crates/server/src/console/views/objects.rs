//! The keys and secrets view (`/v1/fleet/objects`): each version and who received it.

use super::*;

/// The kind of `meta` as the objects view names it, and the volume it opens.
fn object_kind(meta: &ObjectMeta) -> (&'static str, Option<String>) {
    match (meta.object_type, meta.labels.get(VOLUME_LABEL)) {
        (ObjectType::SecretData, Some(volume)) => ("volume_key", Some(volume.clone())),
        (ObjectType::SecretData, None) => ("secret", None),
        _ => ("key", None),
    }
}

/// `GET /v1/fleet/objects`.
pub(crate) async fn objects(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<FleetQuery>,
) -> Result<Json<ObjectPage>, ApiError> {
    app.call(
        context,
        "fleet.objects",
        Permission::ReadFleet,
        move |call| {
            let fleet = Fleet::read(call, query.tenant.as_deref())?;
            let tenants = call.principal().listable_tenants(query.tenant.as_deref());
            let text = TextFilter::new(query.q.as_deref());
            let kind_filter = query
                .filter
                .as_deref()
                .filter(|filter| matches!(*filter, "keys" | "secrets" | "volume_keys"));
            let (offset, limit) = page_of(&query);
            let (metas, total) = if text.0.is_none() && kind_filter.is_none() {
                // The store pages by itself.
                call.keystore.list(&ListFilter {
                    tenants,
                    name: None,
                    state: None,
                    object_type: None,
                    limit: u32::try_from(limit).unwrap_or(MAX_LIST),
                    offset: u64::try_from(offset).unwrap_or(u64::MAX),
                })?
            } else {
                let object_type = match kind_filter {
                    Some("secrets" | "volume_keys") => Some(ObjectType::SecretData),
                    _ => None,
                };
                let mut matching = Vec::new();
                let mut store_offset = 0_u64;
                loop {
                    let (batch, _) = call.keystore.list(&ListFilter {
                        tenants: tenants.clone(),
                        name: None,
                        state: None,
                        object_type,
                        limit: MAX_LIST,
                        offset: store_offset,
                    })?;
                    let read = batch.len();
                    matching.extend(batch.into_iter().filter(|meta| {
                        let (kind, volume) = object_kind(meta);
                        let kind_ok = match kind_filter {
                            Some("keys") => kind == "key",
                            Some("secrets") => kind == "secret",
                            Some("volume_keys") => kind == "volume_key",
                            _ => true,
                        };
                        kind_ok
                            && text.matches([
                                meta.id.as_str(),
                                meta.name.as_deref().unwrap_or_default(),
                                meta.tenant.as_str(),
                                volume.as_deref().unwrap_or_default(),
                            ])
                    }));
                    if read < usize::try_from(MAX_LIST).unwrap_or(usize::MAX) {
                        break;
                    }
                    store_offset = store_offset.saturating_add(u64::try_from(read).unwrap_or(0));
                }
                let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
                (page(matching, (offset, limit)), total)
            };
            let mut by_object: HashMap<&str, Vec<&ReleaseEntry>> = HashMap::new();
            for entry in &fleet.snapshot.releases {
                by_object.entry(&entry.object_id).or_default().push(entry);
            }
            let objects = metas
                .into_iter()
                .map(|meta| object_entry(&fleet, &by_object, meta))
                .collect();
            call.keystore
                .record(&call.caller, "fleet.objects", None, None, "ok")?;
            Ok(Json(ObjectPage { objects, total }))
        },
    )
    .await
}

fn object_entry(
    fleet: &Fleet,
    by_object: &HashMap<&str, Vec<&ReleaseEntry>>,
    meta: ObjectMeta,
) -> ObjectEntry {
    let (kind, volume_name) = object_kind(&meta);
    let releases = by_object.get(meta.id.as_str()).cloned().unwrap_or_default();
    let volume = volume_name
        .as_deref()
        .and_then(|name| fleet.volume(&meta.tenant, name))
        .filter(|volume| volume.key_id == meta.id);
    let lowest = meta.version.saturating_sub(MAX_VERSIONS - 1).max(1);
    let versions = (lowest..=meta.version)
        .rev()
        .map(|version| {
            let mut recipients: Vec<Recipient> = releases
                .iter()
                .filter(|entry| entry.version == version)
                .map(|entry| {
                    let node_id = entry
                        .node_id()
                        .map_or_else(|| entry.recipient.clone(), str::to_owned);
                    let current = match (entry.kind, volume) {
                        (ResourceKind::Volume, Some(volume)) => {
                            volume.lease.as_ref().is_some_and(|lease| {
                                lease.holder == entry.recipient && lease.expires_at > fleet.now
                            })
                        }
                        (ResourceKind::Secret, _) => {
                            fleet.is_running(&node_id, entry.container.container_id.as_deref())
                        }
                        _ => false,
                    };
                    Recipient {
                        node_name: fleet.node_name(&node_id),
                        node_id,
                        container: entry.container.clone(),
                        basis: entry.basis.clone(),
                        first_at: entry.first_at,
                        last_at: entry.last_at,
                        count: entry.count,
                        current,
                    }
                })
                .collect();
            // A lease taken before this server process started: its
            // decision is in the audit log, not in the ledger.
            if let Some(lease) = volume.and_then(|volume| volume.lease.as_ref()) {
                let recorded = releases.iter().any(|entry| entry.recipient == lease.holder);
                if version == meta.version && !recorded && lease.expires_at > fleet.now {
                    let node_id = lease
                        .holder
                        .strip_prefix(keystore::NODE_PRINCIPAL_PREFIX)
                        .unwrap_or(&lease.holder)
                        .to_owned();
                    recipients.push(Recipient {
                        node_name: fleet.node_name(&node_id),
                        node_id,
                        container: ContainerRef::default(),
                        basis: Basis::Lease,
                        first_at: lease.acquired_at,
                        last_at: lease.acquired_at,
                        count: 1,
                        current: true,
                    });
                }
            }
            recipients.sort_by_key(|recipient| std::cmp::Reverse(recipient.last_at));
            VersionEntry {
                version,
                recipients,
            }
        })
        .collect();
    ObjectEntry {
        id: meta.id.clone(),
        name: meta.name.clone(),
        tenant: meta.tenant.clone(),
        kind: kind.to_owned(),
        volume: volume_name,
        algorithm: meta.algorithm.as_str().to_owned(),
        state: crate::wire::key_info(meta.clone())
            .state
            .as_str()
            .to_owned(),
        version: meta.version,
        created_at: meta.created_at,
        versions,
    }
}
