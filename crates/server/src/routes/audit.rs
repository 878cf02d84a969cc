//! The audit routes (`/v1/audit/...`): read the records, verify the chain.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::app::{App, QueryParams, RequestContext, require_all_tenants};
use crate::auth::Permission;
use crate::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    after: Option<u64>,
    limit: Option<u32>,
}

/// `GET /v1/audit/records`.
pub(crate) async fn audit_records(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    app.call(context, "audit.list", Permission::ReadAudit, move |call| {
        require_all_tenants(call.principal())?;
        let limit = query.limit.unwrap_or(100).clamp(1, 1000);
        let records = call
            .keystore
            .audit_records(query.after.unwrap_or(0), limit)?;
        call.keystore
            .record(&call.caller, "audit.list", None, None, "ok")?;
        let records: Vec<serde_json::Value> = records
            .into_iter()
            .map(|record| match record {
                audit::StoredRecord::Decoded(record) => {
                    serde_json::to_value(record).unwrap_or(serde_json::Value::Null)
                }
                audit::StoredRecord::Undecodable { seq } => {
                    serde_json::json!({ "seq": seq, "undecodable": true })
                }
                #[allow(unreachable_patterns)] // Other kinds may follow.
                _ => serde_json::Value::Null,
            })
            .collect();
        Ok(Json(serde_json::json!({ "records": records })))
    })
    .await
}

/// `POST /v1/audit/verify`.
pub(crate) async fn audit_verify(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<serde_json::Value>, ApiError> {
    app.call(context, "audit.verify", Permission::ReadAudit, |call| {
        require_all_tenants(call.principal())?;
        let report = call.keystore.verify_audit()?;
        let body = crate::audit_report_json(&report);
        call.keystore.record(
            &call.caller,
            "audit.verify",
            None,
            None,
            if report.is_ok() { "ok" } else { "tampered" },
        )?;
        Ok(Json(body))
    })
    .await
}
