//! What every handler shares: the application state, the request extractors
//! (JSON bodies and query strings whose every rejection is a JSON error), and
//! [`AppState::call`], which checks the seal, authenticates, authorizes and
//! audits refusals in one place before a handler's body runs.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use keystore::{Caller, Durable, Keystore, TenantScope};
use serde::de::DeserializeOwned;

use crate::auth::{self, Authorized, Permission, Principal};
use crate::console::Console;
use crate::console::session::{SessionRequest, console_may, console_route, cookie_value};
use crate::error::{ApiError, Code};
use crate::identity::Identity;
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
    pub identity: Option<Arc<Identity>>,
    /// The data directory (a backup being restored is kept there while it is
    /// checked).
    pub data_dir: std::path::PathBuf,
    /// The automatic seals and their unseal and health tasks.
    pub seals: Arc<crate::seal_runtime::SealRuntime>,
    /// The web console: its sessions, the fleet model, live updates.
    pub console: Console,
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
    /// The console's session cookie and the headers that guard it.
    pub(crate) session: Option<SessionRequest>,
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
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let session = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(cookie_value)
            .map(|cookie| SessionRequest {
                cookie: cookie.to_owned(),
                csrf: header(api::fleet::CSRF_HEADER),
                safe_method: parts.method == axum::http::Method::GET
                    || parts.method == axum::http::Method::HEAD,
                fetch_site: header("sec-fetch-site"),
                route_allowed: console_route(&parts.method, parts.uri.path()),
            });
        Ok(RequestContext {
            authorization,
            remote,
            peer_certificate,
            session,
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
    /// The console: the fleet model handlers record releases in, and the
    /// hub they tell what changed.
    pub(crate) console: &'a Console,
}

impl Call<'_> {
    pub(crate) fn principal(&self) -> &Principal {
        self.authorized.principal()
    }
}

impl AppState {
    /// Node identity, for the routes that need the built-in CA; a conflict
    /// with operator-supplied TLS files.
    pub(crate) fn node_identity(&self) -> Result<Arc<Identity>, ApiError> {
        self.identity.clone().ok_or_else(|| {
            ApiError::new(
                Code::Conflict,
                "node identity needs the built-in CA, and this server uses operator-supplied TLS files",
            )
        })
    }

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
            let call = match admit(&app, context, permission) {
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
    /// only do short work (point reads, one unwrap): no key derivation. When
    /// the store's reads wait on a database server (PostgreSQL), the body runs
    /// on the blocking pool instead, so that no async worker waits on the
    /// network; the wait for durability stays async.
    pub(crate) async fn call_inline<T: Send + 'static>(
        self: &Arc<Self>,
        context: RequestContext,
        operation: &'static str,
        permission: Permission,
        body: impl FnOnce(&Call<'_>) -> Result<Durable<T>, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        let app = Arc::clone(self);
        let run = move || match admit(&app, context, permission) {
            Ok(call) => (body(&call), call.caller),
            Err((error, caller)) => (Err(error), caller),
        };
        let (ran, caller) = if self.keystore.reads_wait() {
            match tokio::task::spawn_blocking(run).await {
                Ok(ran) => ran,
                Err(join_error) => return self.finish(operation, started, Err(join_error)),
            }
        } else {
            run()
        };
        let result = match ran {
            Ok(durable) => durable.finish().await.map_err(ApiError::from),
            Err(error) => Err(error),
        };
        let keystore = &self.keystore;
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
        // What the request changed, for the console's live views (refusals
        // too: the audit log and the refused releases are views).
        self.console
            .hub
            .publish(crate::console::events::topics_of(operation));
        outcome
    }
}

/// Checks that the server is unsealed, authenticates the caller and authorizes
/// `permission`. A refusal comes back with the caller to audit it under.
///
/// A caller is a bearer token, else a node's client certificate, else a
/// console session (its token, re-read; only on the console's routes, never
/// for a permission that reads material: [`console_may`]).
fn admit<'a>(
    app: &'a AppState,
    context: RequestContext,
    permission: Permission,
) -> Result<Call<'a>, (ApiError, Caller)> {
    let keystore = &*app.keystore;
    let mut caller = Caller {
        principal: "anonymous".to_owned(),
        remote: context.remote,
    };
    if let Err(error) = keystore.require_unsealed() {
        return Err((ApiError::from(error), caller));
    }
    // A bearer token wins; without one, a client certificate (a node);
    // without either, the console's session.
    let mut console_session = false;
    let authenticated = match (
        &context.authorization,
        &context.peer_certificate,
        &context.session,
    ) {
        (None, Some(certificate), _) => {
            crate::peer::principal_from_certificate(keystore, &certificate.0)
        }
        (None, None, Some(session)) => {
            console_session = true;
            app.console.sessions.authenticate(keystore, session)
        }
        (authorization, _, _) => auth::authenticate(keystore, authorization.as_deref()),
    };
    let principal = match authenticated {
        Ok(principal) => principal,
        Err(error) => return Err((error, caller)),
    };
    caller.principal = principal.audit_name();
    if console_session && !console_may(permission) {
        return Err((
            ApiError::new(
                Code::Forbidden,
                "the console never reads key material or secret values; use the API with a token",
            ),
            caller,
        ));
    }
    let authorized = match principal.authorize(permission) {
        Ok(authorized) => authorized,
        Err(error) => return Err((error, caller)),
    };
    Ok(Call {
        keystore,
        authorized,
        caller,
        console: &app.console,
    })
}

/// Refuses unless `principal` acts for every tenant (an admin token for
/// `*`): what changes the whole server needs.
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
