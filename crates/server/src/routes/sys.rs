//! The system routes (`/v1/sys/...`): health, readiness and seal status,
//! initialization, unsealing and sealing, root and tenant key rotation; and
//! the OpenAPI document and Prometheus metrics.

use api::SecretString;
use api::sys::{
    Health, InitAnswer, InitRequest, Ready, Status as StatusBody, TenantKeyRotated, UnsealRequest,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use keystore::model::Role;
use keystore::seal::PassphraseSeal;
use keystore::secret::SecretBytes;
use keystore::{Caller, KeystoreError, SealChoice};

use crate::app::{App, JsonBody, RequestContext, require_all_tenants};
use crate::auth::{self, Permission};
use crate::error::{ApiError, Code};
use crate::wire::{self, SecretJson};

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
fn status_body(status: keystore::Status) -> Json<StatusBody> {
    Json(wire::status(status))
}

/// `GET /v1/sys/status`. On the blocking pool: the status may read the
/// store (another server of the cluster may have initialized it).
pub(crate) async fn status(State(app): State<App>) -> Result<Json<StatusBody>, ApiError> {
    app.call_public("sys.status", |keystore| Ok(status_body(keystore.status())))
        .await
}

/// Largest number of unseal shares.
const MAX_SHARES: u8 = 32;

/// `POST /v1/sys/init`: the root key, sealed, and the first admin token.
pub(crate) async fn init(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<InitRequest>,
) -> Result<(StatusCode, SecretJson<InitAnswer>), ApiError> {
    let remote = context.remote;
    app.call_public("sys.init", move |keystore| {
        let choice = match (request.shares, request.threshold, request.passphrase) {
            (None, None, Some(passphrase)) => {
                SealChoice::Passphrase(
                    PassphraseSeal::new(
                        SecretBytes::from_slice(passphrase.expose_secret().as_bytes()),
                        keystore::seal::Argon2Params::default(),
                    )
                    .map_err(|error| ApiError::from(KeystoreError::from(error)))?,
                )
            }
            (shares, threshold, None) => {
                let shares = shares.unwrap_or(5);
                let threshold = threshold.unwrap_or(3);
                if shares == 0 || shares > MAX_SHARES {
                    return Err(ApiError::bad_request(format!(
                        "shares must be between 1 and {MAX_SHARES}, not {shares}"
                    )));
                }
                if threshold == 0 || threshold > shares {
                    return Err(ApiError::bad_request(format!(
                        "threshold must be between 1 and shares ({shares}), not {threshold}"
                    )));
                }
                if threshold == 1 && shares > 1 {
                    return Err(ApiError::bad_request(
                        "a threshold of 1 with several shares makes every share a full key; use a threshold of 2 or more",
                    ));
                }
                SealChoice::Shamir { shares, threshold }
            }
            (_, _, Some(_)) => {
                return Err(ApiError::bad_request(
                    "give either shares and threshold, or a passphrase, not both",
                ));
            }
        };
        let token = auth::new_token(Role::Admin, vec!["*".to_owned()], "root", auth::MAX_TOKEN_TTL_SECS);
        let caller = Caller {
            principal: "anonymous".to_owned(),
            remote,
        };
        let initialized = keystore.initialize(&caller, choice, vec![token.row.clone()])?;
        let unseal_shares = initialized
            .shares
            .iter()
            .map(|share| SecretString::from_str_copy(&share.to_string_secret()))
            .collect();
        Ok((
            StatusCode::OK,
            SecretJson(InitAnswer {
                unseal_shares,
                root_token: SecretString::from_str_copy(&token.secret),
                root_token_id: token.row.id.clone(),
            }),
        ))
    })
    .await
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

/// `POST /v1/sys/rotate-root`.
pub(crate) async fn rotate_root(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<StatusBody>, ApiError> {
    app.call(context, "sys.rotate_root", Permission::ManageSeal, |call| {
        require_all_tenants(call.principal())?;
        call.keystore.rotate_root(&call.caller)?;
        Ok(status_body(call.keystore.status()))
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
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(sealed),
    )
        .into_response()
}
