//! The HTTPS JSON API, version 1 (docs/api.md): the routing table, one line
//! per route, to the handlers of each resource in `routes`. Every handler runs
//! its work through [`AppState::call`](crate::app::AppState::call) (or its
//! inline and public variants), which checks the seal, authenticates,
//! authorizes and audits refusals in one place.

use axum::Router;
use axum::extract::Query;
use axum::routing::{delete, get, post};
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::auth;
use crate::error::{ApiError, Code};
use crate::kmip_listener;
use crate::routes::{audit, ca, join_tokens, keys, nodes, policies, secrets, sys, tokens, volumes};

/// Builds the router.
pub fn router(state: App) -> Router {
    let max_body = state.max_body_bytes;
    Router::new()
        .route("/v1/sys/health", get(sys::health))
        .route("/v1/sys/ready", get(sys::ready))
        .route("/v1/sys/status", get(sys::status))
        .route("/v1/sys/init", post(sys::init))
        .route("/v1/sys/unseal", post(sys::unseal))
        .route("/v1/sys/seal", post(sys::seal))
        .route("/v1/sys/rotate-root", post(sys::rotate_root))
        .route("/v1/tenants/{tenant}/rotate-key", post(sys::rotate_tenant))
        .route("/v1/keys", post(keys::create_key).get(keys::list_keys))
        .route(
            "/v1/keys/{reference}",
            get(keys::show_key).delete(keys::destroy_key),
        )
        .route("/v1/keys/{reference}/material", get(keys::key_material))
        .route("/v1/keys/{reference}/rotate", post(keys::rotate_key))
        .route("/v1/keys/{reference}/revoke", post(keys::revoke_key))
        .route(
            "/v1/auth/tokens",
            post(tokens::create_token).get(tokens::list_tokens),
        )
        .route("/v1/auth/tokens/{id}", delete(tokens::revoke_token))
        .route("/v1/auth/self", get(tokens::token_self))
        .route("/v1/audit/records", get(audit::audit_records))
        .route("/v1/audit/verify", post(audit::audit_verify))
        .route("/v1/volumes", post(volumes::create).get(volumes::list))
        .route(
            "/v1/volumes/{name}",
            get(volumes::show).delete(volumes::remove),
        )
        .route("/v1/volumes/{name}/acquire", post(volumes::acquire))
        .route("/v1/volumes/{name}/renew", post(volumes::renew))
        .route("/v1/volumes/{name}/release", post(volumes::release))
        .route("/v1/secrets", post(secrets::create).get(secrets::list))
        .route(
            "/v1/secrets/{reference}",
            get(secrets::show).delete(secrets::destroy),
        )
        .route("/v1/secrets/{reference}/value", get(secrets::value))
        .route("/v1/secrets/{reference}/rotate", post(secrets::rotate))
        .route("/v1/secrets/{reference}/deliver", post(secrets::deliver))
        .route("/v1/policies", post(policies::create).get(policies::list))
        .route("/v1/policies/check", post(policies::check))
        .route(
            "/v1/policies/{name}",
            get(policies::show).delete(policies::remove),
        )
        .route("/v1/ca", get(ca::ca_bundle))
        .route("/v1/ca/rotate", post(ca::rotate_ca))
        .route("/v1/ca/status", get(ca::ca_status))
        .route("/v1/nodes", get(nodes::list_nodes))
        .route("/v1/nodes/join", post(nodes::join))
        .route("/v1/nodes/renew", post(nodes::renew))
        .route("/v1/nodes/heartbeat", post(nodes::heartbeat))
        .route(
            "/v1/nodes/tokens",
            post(join_tokens::create_token).get(join_tokens::list_tokens),
        )
        .route("/v1/nodes/tokens/{id}", delete(join_tokens::revoke_token))
        .route(
            "/v1/nodes/tokens/{id}/rotate",
            post(join_tokens::rotate_token),
        )
        .route("/v1/nodes/{id}", get(nodes::show_node))
        .route("/v1/nodes/{id}/decommission", post(nodes::decommission))
        .route(
            "/v1/nodes/{id}/labels",
            post(nodes::label_node).put(nodes::label_node),
        )
        .route("/v1/openapi.json", get(sys::openapi))
        .route("/metrics", get(sys::metrics))
        .route("/kmip", post(kmip_listener::http_binary))
        .route("/kmip/2_1", post(kmip_listener::http_json))
        .route(
            "/v1/kmip/client-certs",
            post(kmip_listener::issue_client_cert),
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
        0 => drop(serde_json::from_slice::<keys::CreateKeyRequest>(input)),
        1 => drop(serde_json::from_slice::<sys::InitRequest>(input)),
        2 => drop(serde_json::from_slice::<sys::UnsealRequest>(input)),
        3 => drop(serde_json::from_slice::<tokens::CreateTokenRequest>(input)),
        4 => drop(serde_json::from_slice::<keys::RevokeRequest>(input)),
        5 => query::<keys::ListQuery>(input),
        6 => query::<keys::TenantQuery>(input),
        7 => query::<audit::AuditQuery>(input),
        _ => {
            if let Ok(text) = std::str::from_utf8(input) {
                let _ = auth::parse_bearer(Some(text));
            }
        }
    }
}
