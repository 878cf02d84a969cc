//! The web console (docs/console.md): its pages, served from the binary at
//! `/ui/` on the HTTPS listener; sign-in, which trades an API token for a
//! session cookie; the fleet views (`/v1/fleet/*`, [`views`]) over the fleet
//! model ([`fleet`]); and live updates as server-sent events ([`events`]).
//!
//! The pages are plain HTML, CSS and JavaScript modules written for this
//! project (`crates/server/ui/`), with no build step; they build every
//! element with `textContent`, and the Content-Security-Policy admits only
//! this server's own scripts and styles.

pub(crate) mod assets;
pub mod events;
pub mod fleet;
pub mod session;
pub(crate) mod views;

use std::sync::Arc;
use std::time::Duration;

use api::fleet::{ConsoleSession, SignInRequest};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keystore::Caller;

use crate::app::{App, JsonBody, RequestContext};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, Code};

/// Default lifetime of a console session: short, people sign in again.
pub const DEFAULT_SESSION_SECS: u64 = 30 * 60;

/// Default lifetime of one event stream; the browser then reconnects (and
/// is authenticated again).
pub const DEFAULT_STREAM_SECS: u64 = 5 * 60;

/// The Content-Security-Policy of every answer: the console's pages load
/// only this server's scripts, styles and images, run no inline script or
/// style, and cannot be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The console's state.
pub struct Console {
    /// Signed-in people.
    pub sessions: session::Sessions,
    /// Who holds what.
    pub fleet: fleet::Fleet,
    /// Live updates.
    pub hub: Arc<events::Hub>,
    /// How long one event stream lasts.
    pub stream_lifetime: Duration,
}

impl Console {
    /// A console whose sessions last `session_lifetime` and event streams
    /// `stream_lifetime`.
    pub fn new(session_lifetime: Duration, stream_lifetime: Duration) -> Console {
        Console {
            sessions: session::Sessions::new(session_lifetime),
            fleet: fleet::Fleet::default(),
            hub: Arc::new(events::Hub::default()),
            stream_lifetime,
        }
    }
}

impl Default for Console {
    fn default() -> Console {
        Console::new(
            Duration::from_secs(DEFAULT_SESSION_SECS),
            Duration::from_secs(DEFAULT_STREAM_SECS),
        )
    }
}

/// Sends the gathered changes twice a second, and tells the views whose
/// content ages to refresh every [`events::CLOCK_INTERVAL`]. Runs until the
/// process stops.
pub async fn run_hub(hub: Arc<events::Hub>) {
    let mut flush = tokio::time::interval(events::FLUSH_INTERVAL);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut clock = tokio::time::interval(events::CLOCK_INTERVAL);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = flush.tick() => hub.flush(),
            _ = clock.tick() => hub.publish(events::Topics::OVERVIEW.and(events::Topics::NODES)),
        }
    }
}

/// Adds the headers every answer carries: no sniffing, no framing, no
/// referrer, HTTPS only, and a CSP (the console's, which a JSON answer
/// does not weaken); answers that say nothing of caching are not cached.
pub async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=63072000"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// What the console lets `principal` do, for the page to offer.
fn abilities(principal: &Principal) -> Vec<String> {
    let mut may = Vec::new();
    if principal.authorize(Permission::ManageNodes).is_ok() {
        may.push("decommission".to_owned());
    }
    if principal.authorize(Permission::ReadPolicies).is_ok() {
        may.push("check".to_owned());
    }
    if principal.authorize(Permission::ReadAudit).is_ok()
        && principal.scope == keystore::TenantScope::All
    {
        may.push("audit".to_owned());
    }
    may
}

/// The session's answer for `principal`.
fn session_answer(
    principal: &Principal,
    row: &keystore::model::TokenRow,
    csrf: String,
    expires_at: time::OffsetDateTime,
) -> ConsoleSession {
    ConsoleSession {
        token_id: row.id.clone(),
        display_name: row.display_name.clone(),
        role: crate::wire::role(row.role),
        tenants: row.tenants.clone(),
        expires_at,
        csrf_token: csrf,
        may: abilities(principal),
    }
}

/// `POST /v1/console/session`: signs in with an API token; the answer sets
/// the session cookie.
pub(crate) async fn sign_in(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<SignInRequest>,
) -> Result<Response, ApiError> {
    let remote = context.remote.clone();
    let lifetime_app = Arc::clone(&app);
    let (cookie, answer) = app
        .call_public("console.signin", move |keystore| {
            keystore.require_unsealed().map_err(ApiError::from)?;
            let mut caller = Caller {
                principal: "anonymous".to_owned(),
                remote,
            };
            let outcome = lifetime_app
                .console
                .sessions
                .sign_in(keystore, request.token.expose_secret());
            match outcome {
                Ok((principal, session)) => {
                    caller.principal = principal.audit_name();
                    keystore.record(&caller, "console.signin", None, None, "ok")?;
                    let answer = session_answer(
                        &principal,
                        &session.token,
                        session.csrf,
                        session.expires_at,
                    );
                    Ok((
                        session::set_cookie(&session.cookie, session.lifetime),
                        answer,
                    ))
                }
                Err(error) => {
                    keystore.audit_refusal(
                        &caller,
                        "console.signin",
                        None,
                        None,
                        error.code.as_str(),
                    );
                    Err(error)
                }
            }
        })
        .await?;
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| ApiError::new(Code::Internal, "the session cookie could not be written"))?;
    let mut response = Json(answer).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The session cookie of a request, for the routes that only sessions use.
fn session_cookie(context: &RequestContext) -> Result<String, ApiError> {
    context
        .session
        .as_ref()
        .map(|session| session.cookie.clone())
        .ok_or_else(|| {
            ApiError::new(
                Code::Unauthenticated,
                "not signed in to the console; sign in at /ui/ (a bearer token needs no session)",
            )
        })
}

/// `GET /v1/console/session`: who is signed in, and the CSRF token.
pub(crate) async fn show_session(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<ConsoleSession>, ApiError> {
    let cookie = session_cookie(&context)?;
    app.call(
        context,
        "console.session",
        Permission::ReadFleet,
        move |call| {
            let (csrf, expires_at) = call
                .console
                .sessions
                .details(&cookie)
                .ok_or_else(|| ApiError::new(Code::Unauthenticated, "sign in again"))?;
            let row = call
                .keystore
                .token_by_id(&call.principal().token_id)?
                .ok_or_else(|| ApiError::new(Code::Unauthenticated, "sign in again"))?;
            Ok(Json(session_answer(
                call.principal(),
                &row,
                csrf,
                expires_at,
            )))
        },
    )
    .await
}

/// `DELETE /v1/console/session`: signs out.
pub(crate) async fn sign_out(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Response, ApiError> {
    let cookie = session_cookie(&context)?;
    app.call(
        context,
        "console.signout",
        Permission::ReadFleet,
        move |call| {
            call.console.sessions.sign_out(&cookie);
            call.keystore
                .record(&call.caller, "console.signout", None, None, "ok")?;
            Ok(())
        },
    )
    .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session::clear_cookie()).map_err(|_| {
            ApiError::new(Code::Internal, "the session cookie could not be cleared")
        })?,
    );
    Ok(response)
}

/// `GET /v1/console/events`: the live-update stream (docs/console.md).
pub(crate) async fn events(
    State(app): State<App>,
    headers: HeaderMap,
    context: RequestContext,
) -> Result<Response, ApiError> {
    app.call(context, "console.events", Permission::ReadFleet, |call| {
        call.keystore
            .record(&call.caller, "console.events", None, None, "ok")?;
        Ok(())
    })
    .await?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.len() <= 64)
        .map(str::to_owned);
    let hub = Arc::clone(&app.console.hub);
    Ok(hub
        .stream(last_event_id, app.console.stream_lifetime)
        .into_response())
}
