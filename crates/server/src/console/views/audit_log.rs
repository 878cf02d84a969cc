//! The audit view (`/v1/fleet/audit`): filtered, paged records.

use super::*;

/// Whether `record` passes the audit view's filter.
fn audit_matches(record: &audit::AuditRecord, filter: &AuditFilter, text: &TextFilter) -> bool {
    let operation = filter
        .operation
        .as_deref()
        .filter(|wanted| !wanted.is_empty())
        .is_none_or(|wanted| record.operation.starts_with(wanted));
    let principal = filter
        .principal
        .as_deref()
        .filter(|wanted| !wanted.is_empty())
        .is_none_or(|wanted| record.principal == wanted);
    let result = match filter.result.as_deref() {
        Some("ok") => record.result == "ok",
        Some("refused") => record.result != "ok",
        _ => true,
    };
    operation
        && principal
        && result
        && text.matches([
            record.object_id.as_deref().unwrap_or_default(),
            record.tenant.as_deref().unwrap_or_default(),
            record.principal.as_str(),
            record.operation.as_str(),
        ])
}

/// `GET /v1/fleet/audit`: newest first; a filtered page reads at most
/// [`MAX_AUDIT_SCAN`] records, and says where to go on.
pub(crate) async fn audit_view(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(filter): QueryParams<AuditFilter>,
) -> Result<Json<AuditPage>, ApiError> {
    app.call(context, "fleet.audit", Permission::ReadAudit, move |call| {
        require_all_tenants(call.principal())?;
        let head = call.keystore.audit_head()?.map_or(0, |(seq, _)| seq);
        let limit = usize::try_from(
            filter
                .limit
                .unwrap_or(api::fleet::DEFAULT_PAGE)
                .clamp(1, api::fleet::MAX_PAGE),
        )
        .unwrap_or(50);
        let text = TextFilter::new(filter.q.as_deref());
        // Records strictly below `upper`, newest first.
        let mut upper = filter
            .before
            .unwrap_or(u64::MAX)
            .min(head.saturating_add(1));
        let mut records = Vec::new();
        let mut scanned = 0_u64;
        let mut last_returned = None;
        while upper > 1 && records.len() < limit && scanned < MAX_AUDIT_SCAN {
            let after = upper
                .saturating_sub(u64::from(AUDIT_STEP))
                .saturating_sub(1);
            let batch = call.keystore.audit_records(after, AUDIT_STEP)?;
            let mut batch: Vec<audit::StoredRecord> = batch
                .into_iter()
                .filter(|record| stored_seq(record) < upper)
                .collect();
            batch.reverse();
            let mut lowest = upper;
            for record in batch {
                let seq = stored_seq(&record);
                lowest = seq;
                scanned = scanned.saturating_add(1);
                let keep = match &record {
                    audit::StoredRecord::Decoded(decoded) => audit_matches(decoded, &filter, &text),
                    _ => true,
                };
                if keep {
                    last_returned = Some(seq);
                    records.push(crate::wire::audit_entry(record));
                    if records.len() >= limit {
                        break;
                    }
                }
            }
            if lowest == upper {
                break;
            }
            upper = if records.len() >= limit {
                last_returned.unwrap_or(lowest)
            } else {
                lowest
            };
        }
        let next_before = (upper > 1).then_some(upper);
        call.keystore
            .record(&call.caller, "fleet.audit", None, None, "ok")?;
        Ok(Json(AuditPage {
            records,
            head,
            next_before,
            scanned,
        }))
    })
    .await
}

fn stored_seq(record: &audit::StoredRecord) -> u64 {
    match record {
        audit::StoredRecord::Decoded(decoded) => decoded.seq,
        audit::StoredRecord::Undecodable { seq } => *seq,
        #[allow(unreachable_patterns)] // Other kinds may follow.
        _ => 0,
    }
}
