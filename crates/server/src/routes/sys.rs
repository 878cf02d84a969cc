//! The system routes (`/v1/sys/...`): health, readiness and seal status,
//! unsealing and sealing, tenant key rotation; and the OpenAPI document and
//! Prometheus metrics. Initialization, root rotation and the seal's migration
//! are in `seal`.

use api::sys::{Health, Ready, Status as StatusBody, TenantKeyRotated, UnsealRequest};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use keystore::Caller;
use keystore::secret::SecretBytes;

use crate::app::{App, JsonBody, RequestContext, require_all_tenants};
use crate::auth::Permission;
use crate::error::{ApiError, Code};
use crate::wire;

/// `GET /v1/sys/health`.
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// `GET /v1/sys/ready`: 200 once unsealed, else 503.
pub(crate) async fn ready(State(app): State<App>) -> Response {
    if app.keystore.is_unsealed() {
        Json(Ready { ready: true }).into_response()
    } else {
        ApiError::new(Code::Sealed, "the key manager is sealed or not initialized").into_response()
    }
}

/// The seal status with this server's version.
pub(crate) fn status_body(status: keystore::Status) -> Json<StatusBody> {
    Json(wire::status(status))
}

/// `GET /v1/sys/status`: the seal status, and what the automatic seal is
/// doing. On the blocking pool: the status may read the store (another
/// server of the cluster may have initialized it).
pub(crate) async fn status(State(app): State<App>) -> Result<Json<StatusBody>, ApiError> {
    let Json(mut body) = app
        .call_public("sys.status", |keystore| Ok(status_body(keystore.status())))
        .await?;
    body.automatic = Some(app.seals.status(!body.sealed));
    Ok(Json(body))
}

/// `POST /v1/sys/unseal`.
pub(crate) async fn unseal(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<UnsealRequest>,
) -> Result<Json<StatusBody>, ApiError> {
    let remote = context.remote;
    app.call_public("sys.unseal", move |keystore| {
        let caller = Caller {
            principal: "anonymous".to_owned(),
            remote,
        };
        let status = match (request.share, request.passphrase, request.reset) {
            (None, None, true) => {
                keystore.reset_unseal();
                keystore.status()
            }
            (Some(share), None, false) => {
                keystore.unseal_with_share(&caller, share.expose_secret().trim())?
            }
            (None, Some(passphrase), false) => keystore.unseal_with_passphrase(
                &caller,
                SecretBytes::from_slice(passphrase.expose_secret().as_bytes()),
            )?,
            _ => {
                return Err(ApiError::bad_request(
                    "give exactly one of 'share', 'passphrase' or 'reset'",
                ));
            }
        };
        Ok(status_body(status))
    })
    .await
}

/// `POST /v1/sys/seal`.
pub(crate) async fn seal(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<StatusBody>, ApiError> {
    app.call(context, "sys.seal", Permission::ManageSeal, |call| {
        require_all_tenants(call.principal())?;
        Ok(status_body(call.keystore.seal(&call.caller)?))
    })
    .await
}

/// `POST /v1/tenants/{tenant}/rotate-key`.
pub(crate) async fn rotate_tenant(
    State(app): State<App>,
    context: RequestContext,
    Path(tenant): Path<String>,
) -> Result<Json<TenantKeyRotated>, ApiError> {
    app.call(
        context,
        "tenant.rotate_key",
        Permission::ManageSeal,
        move |call| {
            if !call.principal().scope.allows(&tenant) {
                return Err(ApiError::new(
                    Code::NotFound,
                    format!("no tenant '{tenant}'"),
                ));
            }
            let version = call.keystore.rotate_tenant_key(&call.caller, &tenant)?;
            Ok(Json(TenantKeyRotated {
                tenant,
                key_version: version,
            }))
        },
    )
    .await
}

/// `GET /v1/openapi.json`.
pub(crate) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn metrics(State(app): State<App>) -> Response {
    let sealed = !app.keystore.is_unsealed();
    let mut text = app.metrics.render(sealed);
    app.seals.render_metrics(&mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
