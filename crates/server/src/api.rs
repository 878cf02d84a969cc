//! The HTTPS JSON API, version 1 (docs/api.md): routes, request decoding and
//! handlers. Every handler runs its blocking work (storage, key unwrapping) on the
//! blocking pool through [`App::call`], which checks the seal, authenticates,
//! authorizes and audits refusals in one place.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use keystore::model::{ListFilter, Role, TokenRow};
use keystore::object::{Algorithm, ObjectMeta, RevocationReason, State as ObjectState};
use keystore::seal::PassphraseSeal;
use keystore::secret::SecretBytes;
use keystore::{Caller, Durable, Found, Keystore, KeystoreError, SealChoice, TenantScope};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::auth::{self, Authorized, Permission, Principal};
use crate::error::{ApiError, Code};
use crate::metrics::Metrics;

/// Shared state of the handlers.
pub struct AppState {
    /// The key manager.
    pub keystore: Arc<Keystore>,
    /// Request counters.
    pub metrics: Metrics,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Node identity (join, renewal, inventory); `None` with operator-supplied TLS.
    pub identity: Option<Arc<crate::nodes::Identity>>,
}

/// The handlers' state handle.
pub type App = Arc<AppState>;

/// The peer address of a connection, put in each request's extensions by the
/// listener.
#[derive(Debug, Clone, Copy)]
pub struct RemoteAddr(pub std::net::SocketAddr);

/// What every request carries for authentication and audit.
pub struct RequestContext {
    authorization: Option<String>,
    pub(crate) remote: Option<String>,
    peer_certificate: Option<crate::peer::PeerCertificate>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|value| {
                value.to_str().map(str::to_owned).map_err(|_| {
                    ApiError::new(
                        Code::Unauthenticated,
                        "the Authorization header is not valid text",
                    )
                })
            })
            .transpose()?;
        let remote = parts
            .extensions
            .get::<RemoteAddr>()
            .map(|remote| remote.0.to_string());
        let peer_certificate = parts
            .extensions
            .get::<crate::peer::PeerCertificate>()
            .cloned();
        Ok(RequestContext {
            authorization,
            remote,
            peer_certificate,
        })
    }
}

/// A JSON body whose every rejection is a JSON error with a precise message.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A JSON body that may be left out: an empty body means `T::default()`.
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(Code::PayloadTooLarge, "the request body is too large")
                } else {
                    ApiError::bad_request(format!(
                        "cannot read the request body: {}",
                        rejection.body_text()
                    ))
                }
            })?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        serde_json::from_slice(&body)
            .map(OptionalJsonBody)
            .map_err(|error| {
                ApiError::bad_request(format!("the request body is not valid: {error}"))
            })
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let code = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        _ => Code::BadRequest,
    };
    let message = match &rejection {
        JsonRejection::JsonDataError(error) => {
            format!("the request body has a wrong field: {}", error.body_text())
        }
        JsonRejection::JsonSyntaxError(error) => {
            format!("the request body is not valid JSON: {}", error.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => {
            "the request body must be JSON; send 'Content-Type: application/json'".to_owned()
        }
        _ if code == Code::PayloadTooLarge => "the request body is too large".to_owned(),
        other => format!("cannot read the request body: {}", other.body_text()),
    };
    ApiError::new(code, message)
}

/// Query parameters that fail to parse answer a JSON 400.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "bad query parameters: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// What a handler's blocking body receives.
pub(crate) struct Call<'a> {
    pub(crate) keystore: &'a Keystore,
    pub(crate) authorized: Authorized,
    pub(crate) caller: Caller,
}

impl Call<'_> {
    pub(crate) fn principal(&self) -> &Principal {
        self.authorized.principal()
    }
}

impl AppState {
    /// Runs `body` on the blocking pool once the server is unsealed and the caller
    /// holds `permission`; refusals and failures are audited.
    pub(crate) async fn call<T: Send + 'static>(
        self: &Arc<Self>,
        context: RequestContext,
        operation: &'static str,
        permission: Permission,
        body: impl FnOnce(&Call<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let app = Arc::clone(self);
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            let keystore = &app.keystore;
            let call = match admit(keystore, context, permission) {
                Ok(call) => call,
                Err((error, caller)) => {
                    keystore.audit_refusal(&caller, operation, None, None, error.code.as_str());
                    return Err(error);
                }
            };
            let result = body(&call);
            if let Err(error) = &result {
                if !error.audited {
                    keystore.audit_refusal(
                        &call.caller,
                        operation,
                        None,
                        None,
                        error.code.as_str(),
                    );
                }
            }
            result
        })
        .await;
        self.finish(operation, started, outcome)
    }

    /// Like [`AppState::call`] for the hot paths (key reads and creates): `body`
    /// runs on this async worker and hands its commit to the store's writer, and
    /// the task then waits for durability without holding a thread. Bodies must
    /// only do short work (point reads, one unwrap): no key derivation.
    pub(crate) async fn call_inline<T: Send + 'static>(
        self: &Arc<Self>,
        context: RequestContext,
        operation: &'static str,
        permission: Permission,
        body: impl FnOnce(&Call<'_>) -> Result<Durable<T>, ApiError>,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        let keystore = &self.keystore;
        let (result, caller) = match admit(keystore, context, permission) {
            Ok(call) => {
                let result = match body(&call) {
                    Ok(durable) => durable.finish().await.map_err(ApiError::from),
                    Err(error) => Err(error),
                };
                (result, call.caller)
            }
            Err((error, caller)) => (Err(error), caller),
        };
        if let Err(error) = &result {
            if !error.audited {
                let recorded = match keystore.record_deferred(
                    &caller,
                    operation,
                    None,
                    None,
                    error.code.as_str(),
                ) {
                    Ok(durable) => durable.finish().await,
                    Err(recording) => Err(recording),
                };
                if let Err(recording) = recorded {
                    tracing::error!(error = %recording, operation, "could not audit a refused request");
                }
            }
        }
        self.finish(operation, started, Ok(result))
    }

    /// Runs `body` on the blocking pool without authentication (seal endpoints).
    pub(crate) async fn call_public<T: Send + 'static>(
        self: &Arc<Self>,
        operation: &'static str,
        body: impl FnOnce(&Keystore) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let app = Arc::clone(self);
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || body(&app.keystore)).await;
        self.finish(operation, started, outcome)
    }

    /// Turns a panicked handler into a 500 and counts the request.
    fn finish<T>(
        &self,
        operation: &'static str,
        started: Instant,
        outcome: Result<Result<T, ApiError>, tokio::task::JoinError>,
    ) -> Result<T, ApiError> {
        let outcome = outcome.unwrap_or_else(|join_error| {
            tracing::error!(%join_error, operation, "request handler failed");
            Err(ApiError::new(
                Code::Internal,
                "the request failed inside the server",
            ))
        });
        let code = match &outcome {
            Ok(_) => "ok",
            Err(error) => error.code.as_str(),
        };
        self.metrics.observe(operation, code, started.elapsed());
        outcome
    }
}

/// Checks that the server is unsealed, authenticates the caller and authorizes
/// `permission`. A refusal comes back with the caller to audit it under.
fn admit<'a>(
    keystore: &'a Keystore,
    context: RequestContext,
    permission: Permission,
) -> Result<Call<'a>, (ApiError, Caller)> {
    let mut caller = Caller {
        principal: "anonymous".to_owned(),
        remote: context.remote,
    };
    if let Err(error) = keystore.require_unsealed() {
        return Err((ApiError::from(error), caller));
    }
    // A bearer token wins; without one, a client certificate (a node).
    let authenticated = match (&context.authorization, &context.peer_certificate) {
        (None, Some(certificate)) => {
            crate::peer::principal_from_certificate(keystore, &certificate.0)
        }
        (authorization, _) => auth::authenticate(keystore, authorization.as_deref()),
    };
    let principal = match authenticated {
        Ok(principal) => principal,
        Err(error) => return Err((error, caller)),
    };
    caller.principal = principal.audit_name();
    let authorized = match principal.authorize(permission) {
        Ok(authorized) => authorized,
        Err(error) => return Err((error, caller)),
    };
    Ok(Call {
        keystore,
        authorized,
        caller,
    })
}

/// Builds the router.
pub fn router(state: App) -> Router {
    let max_body = state.max_body_bytes;
    Router::new()
        .route("/v1/sys/health", get(health))
        .route("/v1/sys/ready", get(ready))
        .route("/v1/sys/status", get(status))
        .route("/v1/sys/init", post(init))
        .route("/v1/sys/unseal", post(unseal))
        .route("/v1/sys/seal", post(seal))
        .route("/v1/sys/rotate-root", post(rotate_root))
        .route("/v1/tenants/{tenant}/rotate-key", post(rotate_tenant))
        .route("/v1/keys", post(create_key).get(list_keys))
        .route("/v1/keys/{reference}", get(show_key).delete(destroy_key))
        .route("/v1/keys/{reference}/material", get(key_material))
        .route("/v1/keys/{reference}/rotate", post(rotate_key))
        .route("/v1/keys/{reference}/revoke", post(revoke_key))
        .route("/v1/auth/tokens", post(create_token).get(list_tokens))
        .route("/v1/auth/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/v1/auth/self", get(token_self))
        .route("/v1/audit/records", get(audit_records))
        .route("/v1/audit/verify", post(audit_verify))
        .route(
            "/v1/volumes",
            post(crate::volumes::create).get(crate::volumes::list),
        )
        .route(
            "/v1/volumes/{name}",
            get(crate::volumes::show).delete(crate::volumes::remove),
        )
        .route("/v1/volumes/{name}/acquire", post(crate::volumes::acquire))
        .route("/v1/volumes/{name}/renew", post(crate::volumes::renew))
        .route("/v1/volumes/{name}/release", post(crate::volumes::release))
        .route(
            "/v1/secrets",
            post(crate::secrets::create).get(crate::secrets::list),
        )
        .route(
            "/v1/secrets/{reference}",
            get(crate::secrets::show).delete(crate::secrets::destroy),
        )
        .route("/v1/secrets/{reference}/value", get(crate::secrets::value))
        .route(
            "/v1/secrets/{reference}/rotate",
            post(crate::secrets::rotate),
        )
        .route(
            "/v1/policies",
            post(crate::policies::create).get(crate::policies::list),
        )
        .route("/v1/policies/check", post(crate::policies::check))
        .route(
            "/v1/policies/{name}",
            get(crate::policies::show).delete(crate::policies::remove),
        )
        .route(
            "/v1/secrets/{reference}/deliver",
            post(crate::secrets::deliver),
        )
        .route("/v1/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .merge(crate::nodes::routes())
        .route("/kmip", post(crate::kmip_listener::http_binary))
        .route("/kmip/2_1", post(crate::kmip_listener::http_json))
        .route(
            "/v1/kmip/client-certs",
            post(crate::kmip_listener::issue_client_cert),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such endpoint; see /v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this endpoint does not take that method; see /v1/openapi.json",
    )
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn ready(State(app): State<App>) -> Response {
    if app.keystore.is_unsealed() {
        Json(serde_json::json!({ "ready": true })).into_response()
    } else {
        ApiError::new(Code::Sealed, "the key manager is sealed or not initialized").into_response()
    }
}

/// `Status` with the version added.
#[derive(Serialize)]
struct StatusBody {
    #[serde(flatten)]
    status: keystore::Status,
    version: &'static str,
}

fn status_body(status: keystore::Status) -> Json<StatusBody> {
    Json(StatusBody {
        status,
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn status(State(app): State<App>) -> Json<StatusBody> {
    status_body(app.keystore.status())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InitRequest {
    shares: Option<u8>,
    threshold: Option<u8>,
    passphrase: Option<String>,
}

#[derive(Serialize)]
struct InitResponse {
    unseal_shares: Vec<String>,
    root_token: String,
    root_token_id: String,
}

/// Largest number of unseal shares.
const MAX_SHARES: u8 = 32;

async fn init(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<InitRequest>,
) -> Result<(StatusCode, Json<InitResponse>), ApiError> {
    let remote = context.remote;
    app.call_public("sys.init", move |keystore| {
        let choice = match (request.shares, request.threshold, request.passphrase) {
            (None, None, Some(passphrase)) => {
                let passphrase = zeroize::Zeroizing::new(passphrase);
                SealChoice::Passphrase(
                    PassphraseSeal::new(
                        SecretBytes::from_slice(passphrase.as_bytes()),
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
            .map(|share| share.to_string_secret().to_string())
            .collect();
        Ok((
            StatusCode::OK,
            Json(InitResponse {
                unseal_shares,
                root_token: token.secret.to_string(),
                root_token_id: token.row.id.clone(),
            }),
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnsealRequest {
    share: Option<String>,
    passphrase: Option<String>,
    #[serde(default)]
    reset: bool,
}

async fn unseal(
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
                let share = zeroize::Zeroizing::new(share);
                keystore.unseal_with_share(&caller, share.trim())?
            }
            (None, Some(passphrase), false) => {
                let passphrase = zeroize::Zeroizing::new(passphrase);
                keystore.unseal_with_passphrase(
                    &caller,
                    SecretBytes::from_slice(passphrase.as_bytes()),
                )?
            }
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

async fn seal(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<StatusBody>, ApiError> {
    app.call(context, "sys.seal", Permission::ManageSeal, |call| {
        require_all_tenants(call.principal())?;
        Ok(status_body(call.keystore.seal(&call.caller)?))
    })
    .await
}

pub(crate) fn require_all_tenants(principal: &Principal) -> Result<(), ApiError> {
    if principal.scope == TenantScope::All {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
            "only an admin token for all tenants may do this",
        ))
    }
}

async fn rotate_root(
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

async fn rotate_tenant(
    State(app): State<App>,
    context: RequestContext,
    Path(tenant): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
            Ok(Json(
                serde_json::json!({ "tenant": tenant, "key_version": version }),
            ))
        },
    )
    .await
}

/// Key metadata as the API shows it.
#[derive(Serialize)]
pub struct KeyInfo {
    id: String,
    name: Option<String>,
    tenant: String,
    object_type: &'static str,
    algorithm: &'static str,
    length: u32,
    state: ObjectState,
    version: u32,
    labels: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    activation_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    deactivation_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    compromise_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    destroy_date: Option<OffsetDateTime>,
    revocation_reason: Option<RevocationReason>,
    #[serde(with = "time::serde::rfc3339")]
    rotated_at: OffsetDateTime,
}

impl From<ObjectMeta> for KeyInfo {
    fn from(meta: ObjectMeta) -> KeyInfo {
        KeyInfo {
            id: meta.id,
            name: meta.name,
            tenant: meta.tenant,
            object_type: meta.object_type.as_str(),
            algorithm: meta.algorithm.as_str(),
            length: meta.length,
            state: meta.state,
            version: meta.version,
            labels: meta.labels,
            created_at: meta.created_at,
            activation_date: meta.activation_date,
            deactivation_date: meta.deactivation_date,
            compromise_date: meta.compromise_date,
            destroy_date: meta.destroy_date,
            revocation_reason: meta.revocation_reason,
            rotated_at: meta.rotated_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyRequest {
    name: String,
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Checks that the caller may act on `tenant`; outside its scope the answer is
/// `not_found` so nothing is learned about other tenants.
fn check_tenant(principal: &Principal, tenant: &str, what: &str) -> Result<(), ApiError> {
    if principal.scope.allows(tenant) {
        Ok(())
    } else {
        Err(ApiError::new(Code::NotFound, format!("no {what}")))
    }
}

async fn create_key(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreateKeyRequest>,
) -> Result<(StatusCode, Json<KeyInfo>), ApiError> {
    app.call_inline(context, "key.create", Permission::ManageKeys, move |call| {
        let tenant = call
            .principal()
            .creatable_tenant(request.tenant.as_deref(), "keys")?;
        let algorithm_text = request.algorithm.as_deref().unwrap_or("aes-256");
        let algorithm = Algorithm::parse(algorithm_text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown algorithm '{algorithm_text}'; use aes-256, aes-128 or hmac-sha256"
            ))
        })?;
        let durable = call.keystore.create_key_deferred(
            &call.caller,
            &tenant,
            &request.name,
            algorithm,
            request.labels,
        )?;
        Ok(durable.map(|meta| (StatusCode::CREATED, Json(KeyInfo::from(meta)))))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    tenant: Option<String>,
    name: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
    offset: Option<u64>,
}

#[derive(Serialize)]
struct KeyList {
    keys: Vec<KeyInfo>,
    total: u64,
}

async fn list_keys(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<KeyList>, ApiError> {
    app.call(context, "key.list", Permission::ReadMetadata, move |call| {
        let state = query
            .state
            .as_deref()
            .map(|text| {
                ObjectState::parse(text).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "unknown state '{text}'; use pre_active, active, deactivated, compromised, destroyed or destroyed_compromised"
                    ))
                })
            })
            .transpose()?;
        let tenants = call.principal().listable_tenants(query.tenant.as_deref());
        let filter = ListFilter {
            tenants,
            name: query.name,
            state,
            object_type: None,
            limit: query.limit.unwrap_or(100),
            offset: query.offset.unwrap_or(0),
        };
        let (keys, total) = call.keystore.list(&filter)?;
        call.keystore
            .record(&call.caller, "key.list", None, None, "ok")?;
        Ok(Json(KeyList {
            keys: keys.into_iter().map(KeyInfo::from).collect(),
            total,
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantQuery {
    tenant: Option<String>,
    version: Option<u32>,
}

/// Resolves `{reference}` within the caller's tenants.
fn resolve(call: &Call<'_>, reference: &str, tenant: Option<&str>) -> Result<ObjectMeta, ApiError> {
    resolve_object(call, reference, tenant, "key")
}

/// Resolves `{reference}` (an id, or a name in the tenant) within the caller's
/// tenants; outside them the answer is `no {what} ...`, exactly as for a
/// missing object.
pub(crate) fn resolve_object(
    call: &Call<'_>,
    reference: &str,
    tenant: Option<&str>,
    what: &str,
) -> Result<ObjectMeta, ApiError> {
    resolve_with(call, reference, tenant, what, Keystore::find, |meta| meta)
}

/// [`resolve_object`] for a read of the key's material: the lookup also
/// brings its current version ([`Keystore::find_for_read`]).
fn resolve_for_read(
    call: &Call<'_>,
    reference: &str,
    tenant: Option<&str>,
) -> Result<Found, ApiError> {
    resolve_with(
        call,
        reference,
        tenant,
        "key",
        Keystore::find_for_read,
        |found| &found.meta,
    )
}

/// Looks `reference` up with `find` in the caller's tenant (or `tenant`) and
/// hides what lies outside the caller's tenants as missing.
fn resolve_with<T>(
    call: &Call<'_>,
    reference: &str,
    tenant: Option<&str>,
    what: &str,
    find: impl FnOnce(&Keystore, &str, &str) -> Result<T, KeystoreError>,
    meta_of: impl FnOnce(&T) -> &ObjectMeta,
) -> Result<T, ApiError> {
    let tenant = call.principal().tenant_for(tenant);
    let hidden = || ApiError::new(Code::NotFound, format!("no {what} '{reference}'"));
    let found = match find(call.keystore, &tenant, reference) {
        Ok(found) => found,
        Err(KeystoreError::NotFound { .. }) => return Err(hidden()),
        Err(error) => return Err(error.into()),
    };
    check_tenant(call.principal(), &meta_of(&found).tenant, what).map_err(|_| hidden())?;
    Ok(found)
}

async fn show_key(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<TenantQuery>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call_inline(context, "key.show", Permission::ReadMetadata, move |call| {
        let meta = resolve(call, &reference, query.tenant.as_deref())?;
        let durable = call.keystore.record_deferred(
            &call.caller,
            "key.show",
            Some(&meta.tenant),
            Some(&meta.id),
            "ok",
        )?;
        Ok(durable.map(|()| Json(KeyInfo::from(meta))))
    })
    .await
}

#[derive(Serialize)]
struct Material {
    id: String,
    version: u32,
    algorithm: &'static str,
    material: String,
}

async fn key_material(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<TenantQuery>,
) -> Result<Json<Material>, ApiError> {
    app.call_inline(
        context,
        "key.read_material",
        Permission::ReadMaterial,
        move |call| {
            let found = resolve_for_read(call, &reference, query.tenant.as_deref())?;
            crate::policies::refuse_direct_read(call, &found.meta)?;
            let durable =
                call.keystore
                    .found_material_deferred(&call.caller, &found, query.version)?;
            let meta = found.meta;
            Ok(durable.map(|(version, material)| {
                Json(Material {
                    id: meta.id,
                    version,
                    algorithm: meta.algorithm.as_str(),
                    material: base64::engine::general_purpose::STANDARD
                        .encode(material.expose_secret()),
                })
            }))
        },
    )
    .await
}

async fn rotate_key(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<TenantQuery>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call(context, "key.rotate", Permission::ManageKeys, move |call| {
        let meta = resolve(call, &reference, query.tenant.as_deref())?;
        Ok(Json(KeyInfo::from(
            call.keystore.rotate(&call.caller, &meta)?,
        )))
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    reason: Option<RevocationReason>,
}

async fn revoke_key(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<TenantQuery>,
    body: axum::body::Bytes,
) -> Result<Json<KeyInfo>, ApiError> {
    // The body is optional: no body means reason "unspecified".
    let request: RevokeRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RevokeRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError::bad_request(format!(
                "the request body is not a valid revoke request: {error}"
            ))
        })?
    };
    app.call(context, "key.revoke", Permission::ManageKeys, move |call| {
        let meta = resolve(call, &reference, query.tenant.as_deref())?;
        let reason = request.reason.unwrap_or(RevocationReason::Unspecified);
        Ok(Json(KeyInfo::from(call.keystore.revoke(
            &call.caller,
            &meta,
            reason,
        )?)))
    })
    .await
}

async fn destroy_key(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<TenantQuery>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call(
        context,
        "key.destroy",
        Permission::ManageKeys,
        move |call| {
            let meta = resolve(call, &reference, query.tenant.as_deref())?;
            Ok(Json(KeyInfo::from(
                call.keystore.destroy(&call.caller, &meta)?,
            )))
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTokenRequest {
    role: String,
    #[serde(default)]
    tenants: Option<Vec<String>>,
    #[serde(default)]
    ttl_secs: Option<u64>,
    #[serde(default)]
    display_name: Option<String>,
}

/// A token as listed: never the secret or its digest.
#[derive(Serialize)]
struct TokenInfo {
    id: String,
    role: Role,
    tenants: Vec<String>,
    display_name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
}

impl From<TokenRow> for TokenInfo {
    fn from(row: TokenRow) -> TokenInfo {
        TokenInfo {
            id: row.id,
            role: row.role,
            tenants: row.tenants,
            display_name: row.display_name,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

#[derive(Serialize)]
struct CreatedToken {
    token: String,
    #[serde(flatten)]
    info: TokenInfo,
}

/// Default token lifetime: 24 hours.
const DEFAULT_TOKEN_TTL_SECS: u64 = 24 * 3600;

async fn create_token(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    app.call(
        context,
        "token.create",
        Permission::ManageTokens,
        move |call| {
            let role = Role::parse(&request.role).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown role '{}'; use admin, operator or auditor",
                    request.role
                ))
            })?;
            let tenants = request
                .tenants
                .unwrap_or_else(|| vec![keystore::object::DEFAULT_TENANT.to_owned()]);
            if tenants.is_empty() {
                return Err(ApiError::bad_request(
                    "give at least one tenant, or '*' for all",
                ));
            }
            for tenant in &tenants {
                if tenant == "*" {
                    require_all_tenants(call.principal())?;
                } else {
                    keystore::object::validate_name("tenant", tenant)
                        .map_err(|error| ApiError::bad_request(error.to_string()))?;
                    if !call.principal().scope.allows(tenant) {
                        return Err(ApiError::new(
                            Code::Forbidden,
                            format!("this token may not grant access to tenant '{tenant}'"),
                        ));
                    }
                }
            }
            let ttl = request.ttl_secs.unwrap_or(DEFAULT_TOKEN_TTL_SECS);
            if ttl == 0 || ttl > auth::MAX_TOKEN_TTL_SECS {
                return Err(ApiError::bad_request(format!(
                    "ttl_secs must be between 1 and {}",
                    auth::MAX_TOKEN_TTL_SECS
                )));
            }
            let display_name = request.display_name.unwrap_or_default();
            if display_name.len() > 128 || display_name.chars().any(char::is_control) {
                return Err(ApiError::bad_request(
                    "display_name must be at most 128 printable characters",
                ));
            }
            let token = auth::new_token(role, tenants, &display_name, ttl);
            call.keystore
                .put_token(&call.caller, "token.create", token.row.clone())?;
            Ok((
                StatusCode::CREATED,
                Json(CreatedToken {
                    token: token.secret.to_string(),
                    info: TokenInfo::from(token.row.clone()),
                }),
            ))
        },
    )
    .await
}

#[derive(Serialize)]
struct TokenList {
    tokens: Vec<TokenInfo>,
}

/// Whether every tenant of `row` is within `scope` (an admin sees only tokens
/// it could have made).
fn token_visible(scope: &TenantScope, row: &TokenRow) -> bool {
    match scope {
        TenantScope::All => true,
        TenantScope::Only(_) => row
            .tenants
            .iter()
            .all(|tenant| tenant != "*" && scope.allows(tenant)),
    }
}

async fn list_tokens(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<TokenList>, ApiError> {
    app.call(context, "token.list", Permission::ManageTokens, |call| {
        let tokens = call
            .keystore
            .tokens()?
            .into_iter()
            .filter(|row| token_visible(&call.principal().scope, row))
            .map(TokenInfo::from)
            .collect();
        call.keystore
            .record(&call.caller, "token.list", None, None, "ok")?;
        Ok(Json(TokenList { tokens }))
    })
    .await
}

async fn revoke_token(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    app.call(
        context,
        "token.revoke",
        Permission::ManageTokens,
        move |call| {
            let row = call
                .keystore
                .token_by_id(&id)?
                .filter(|row| token_visible(&call.principal().scope, row))
                .ok_or_else(|| ApiError::new(Code::NotFound, format!("no token '{id}'")))?;
            let mut revoked = row;
            if revoked.revoked_at.is_none() {
                revoked.revoked_at = Some(OffsetDateTime::now_utc());
                call.keystore
                    .put_token(&call.caller, "token.revoke", revoked.clone())?;
            }
            Ok(Json(TokenInfo::from(revoked)))
        },
    )
    .await
}

async fn token_self(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<TokenInfo>, ApiError> {
    app.call(context, "token.self", Permission::ReadMetadata, |call| {
        let row = call
            .keystore
            .token_by_id(&call.principal().token_id)?
            .ok_or_else(|| ApiError::new(Code::Unauthenticated, "the token disappeared"))?;
        Ok(Json(TokenInfo::from(row)))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    after: Option<u64>,
    limit: Option<u32>,
}

async fn audit_records(
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

async fn audit_verify(
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

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}

async fn metrics(State(app): State<App>) -> Response {
    let sealed = !app.keystore.is_unsealed();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(sealed),
    )
        .into_response()
}

/// Feeds untrusted bytes through every request decoder the API has (JSON bodies,
/// query strings, the Authorization header), as the fuzz target does. The first
/// byte picks the decoder. Decoding must never panic, whatever the input.
pub fn decode_for_fuzzing(data: &[u8]) {
    fn query<T: DeserializeOwned>(input: &[u8]) {
        if let Ok(text) = std::str::from_utf8(input) {
            if let Ok(uri) = format!("/v1/keys?{text}").parse::<axum::http::Uri>() {
                let _ = Query::<T>::try_from_uri(&uri);
            }
        }
    }
    let Some((selector, input)) = data.split_first() else {
        return;
    };
    match selector % 9 {
        0 => drop(serde_json::from_slice::<CreateKeyRequest>(input)),
        1 => drop(serde_json::from_slice::<InitRequest>(input)),
        2 => drop(serde_json::from_slice::<UnsealRequest>(input)),
        3 => drop(serde_json::from_slice::<CreateTokenRequest>(input)),
        4 => drop(serde_json::from_slice::<RevokeRequest>(input)),
        5 => query::<ListQuery>(input),
        6 => query::<TenantQuery>(input),
        7 => query::<AuditQuery>(input),
        _ => {
            if let Ok(text) = std::str::from_utf8(input) {
                let _ = auth::parse_bearer(Some(text));
            }
        }
    }
}

/// The tenant a request on `what` named `name` acts on (the requested one, or
/// the caller's own); outside the caller's tenants it does not exist, so the
/// answer is the same "not found" as for a missing one.
pub(crate) fn scoped_tenant(
    call: &Call<'_>,
    requested: Option<&str>,
    what: &str,
    name: &str,
) -> Result<String, ApiError> {
    let tenant = call.principal().tenant_for(requested);
    if call.principal().scope.allows(&tenant) {
        Ok(tenant)
    } else {
        Err(no_such(what, name))
    }
}

/// "no `what` '`name`'".
pub(crate) fn no_such(what: &str, name: &str) -> ApiError {
    ApiError::new(crate::error::Code::NotFound, format!("no {what} '{name}'"))
}

/// Maps the keystore's not-found to [`no_such`] for `what` named `name`,
/// without the store's internal identifiers.
pub(crate) fn hidden<'a>(
    what: &'a str,
    name: &'a str,
) -> impl Fn(keystore::KeystoreError) -> ApiError + 'a {
    move |error| match error {
        keystore::KeystoreError::NotFound { .. } => no_such(what, name),
        other => other.into(),
    }
}
