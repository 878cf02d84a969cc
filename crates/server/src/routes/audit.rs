//! The audit routes (`/v1/audit/...`): read the records, verify the chain.

use api::audit::{AuditQuery, AuditRecords, AuditReport};
use axum::Json;
use axum::extract::State;

use crate::app::{App, QueryParams, RequestContext, require_all_tenants};
use crate::auth::Permission;
use crate::error::ApiError;
use crate::wire;

/// `GET /v1/audit/records`.
pub(crate) async fn audit_records(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditRecords>, ApiError> {
    app.call(context, "audit.list", Permission::ReadAudit, move |call| {
        require_all_tenants(call.principal())?;
        let limit = query.limit.unwrap_or(100).clamp(1, 1000);
        let records = call
            .keystore
            .audit_records(query.after.unwrap_or(0), limit)?;
        call.keystore
            .record(&call.caller, "audit.list", None, None, "ok")?;
        Ok(Json(AuditRecords {
            records: records.into_iter().map(wire::audit_entry).collect(),
        }))
    })
    .await
}

/// `POST /v1/audit/verify`.
pub(crate) async fn audit_verify(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<AuditReport>, ApiError> {
    app.call(context, "audit.verify", Permission::ReadAudit, |call| {
        require_all_tenants(call.principal())?;
        let report = call.keystore.verify_audit()?;
        let body = wire::audit_report(&report)?;
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
