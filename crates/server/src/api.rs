//! The HTTPS JSON API, version 1 (docs/api.md): the routing table, one line
//! per route (each path the wire contract's, `api::routes`), to the handlers
//! of each resource in `routes`. Every handler runs
//! its work through [`AppState::call`](crate::app::AppState::call) (or its
//! inline and public variants), which checks the seal, authenticates,
//! authorizes and audits refusals in one place.

use api::routes as route;
use axum::Router;
use axum::extract::Query;
use axum::routing::{delete, get, post};
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::auth;
use crate::console::{self, assets, views};
use crate::error::{ApiError, Code};
use crate::kmip_listener;
use crate::routes::{
    audit, backup, ca, join_tokens, keys, nodes, policies, seal, secrets, sys, tokens, volumes,
};

/// Builds the router.
pub fn router(state: App) -> Router {
    let max_body = state.max_body_bytes;
    Router::new()
        .route(route::HEALTH, get(sys::health))
        .route(route::READY, get(sys::ready))
        .route(route::STATUS, get(sys::status))
        .route(route::INIT, post(seal::init))
        .route(route::UNSEAL, post(sys::unseal))
        .route(route::SEAL, post(sys::seal))
        .route(route::ROTATE_ROOT, post(seal::rotate_root))
        .route(route::SEAL_MIGRATE, post(seal::migrate))
        .route(route::SEAL_MIGRATE_COMPLETE, post(seal::complete))
        .route(route::SEAL_MIGRATE_CANCEL, post(seal::cancel))
        .route(route::TENANT_ROTATE_KEY, post(sys::rotate_tenant))
        .route(route::BACKUP, get(backup::backup))
        .route(route::RESTORE, post(backup::restore))
        .route(route::KEYS, post(keys::create_key).get(keys::list_keys))
        .route(route::KEY, get(keys::show_key).delete(keys::destroy_key))
        .route(route::KEY_MATERIAL, get(keys::key_material))
        .route(route::KEY_ROTATE, post(keys::rotate_key))
        .route(route::KEY_REVOKE, post(keys::revoke_key))
        .route(
            route::TOKENS,
            post(tokens::create_token).get(tokens::list_tokens),
        )
        .route(route::TOKEN, delete(tokens::revoke_token))
        .route(route::TOKEN_SELF, get(tokens::token_self))
        .route(route::AUDIT_RECORDS, get(audit::audit_records))
        .route(route::AUDIT_VERIFY, post(audit::audit_verify))
        .route(route::VOLUMES, post(volumes::create).get(volumes::list))
        .route(route::VOLUME, get(volumes::show).delete(volumes::remove))
        .route(route::VOLUME_ACQUIRE, post(volumes::acquire))
        .route(route::VOLUME_RENEW, post(volumes::renew))
        .route(route::VOLUME_RELEASE, post(volumes::release))
        .route(route::SECRETS, post(secrets::create).get(secrets::list))
        .route(route::SECRET, get(secrets::show).delete(secrets::destroy))
        .route(route::SECRET_VALUE, get(secrets::value))
        .route(route::SECRET_ROTATE, post(secrets::rotate))
        .route(route::SECRET_DELIVER, post(secrets::deliver))
        .route(route::POLICIES, post(policies::create).get(policies::list))
        .route(route::POLICY_CHECK, post(policies::check))
        .route(route::POLICY, get(policies::show).delete(policies::remove))
        .route(route::CA, get(ca::ca_bundle))
        .route(route::CA_ROTATE, post(ca::rotate_ca))
        .route(route::CA_STATUS, get(ca::ca_status))
        .route(route::NODES, get(nodes::list_nodes))
        .route(route::NODE_JOIN, post(nodes::join))
        .route(route::NODE_RENEW, post(nodes::renew))
        .route(route::NODE_HEARTBEAT, post(nodes::heartbeat))
        .route(
            route::JOIN_TOKENS,
            post(join_tokens::create_token).get(join_tokens::list_tokens),
        )
        .route(route::JOIN_TOKEN, delete(join_tokens::revoke_token))
        .route(route::JOIN_TOKEN_ROTATE, post(join_tokens::rotate_token))
        .route(route::NODE, get(nodes::show_node))
        .route(route::NODE_DECOMMISSION, post(nodes::decommission))
        .route(
            route::NODE_LABELS,
            post(nodes::label_node).put(nodes::label_node),
        )
        .route(route::OPENAPI, get(sys::openapi))
        .route(route::METRICS, get(sys::metrics))
        .route(route::KMIP_BINARY, post(kmip_listener::http_binary))
        .route(route::KMIP_JSON, post(kmip_listener::http_json))
        .route(
            route::KMIP_CLIENT_CERTS,
            post(kmip_listener::issue_client_cert),
        )
        .route(route::FLEET_OVERVIEW, get(views::overview))
        .route(route::FLEET_NODES, get(views::nodes))
        .route(route::FLEET_VOLUMES, get(views::volumes))
        .route(route::FLEET_OBJECTS, get(views::objects))
        .route(route::FLEET_WORKLOADS, get(views::workloads))
        .route(route::FLEET_POLICIES, get(views::policies))
        .route(route::FLEET_AUDIT, get(views::audit_view))
        .route(
            route::CONSOLE_SESSION,
            post(console::sign_in)
                .get(console::show_session)
                .delete(console::sign_out),
        )
        .route(route::CONSOLE_EVENTS, get(console::events))
        .route("/", get(assets::to_console))
        .route("/ui", get(assets::to_console))
        .route("/ui/", get(assets::index))
        .route("/ui/assets/{name}", get(assets::asset))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::map_response(console::secure_headers))
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

/// Feeds untrusted bytes through every request decoder the API has (the JSON
/// bodies of the `api` crate, query strings, the Authorization header), as the
/// fuzz target does. The first
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
    match selector % 31 {
        0 => drop(serde_json::from_slice::<api::keys::CreateKeyRequest>(input)),
        1 => drop(serde_json::from_slice::<api::sys::InitRequest>(input)),
        2 => drop(serde_json::from_slice::<api::sys::UnsealRequest>(input)),
        3 => drop(serde_json::from_slice::<api::tokens::CreateTokenRequest>(
            input,
        )),
        4 => drop(serde_json::from_slice::<api::keys::RevokeRequest>(input)),
        5 => query::<api::keys::KeyListQuery>(input),
        6 => query::<api::keys::KeyQuery>(input),
        7 => query::<api::audit::AuditQuery>(input),
        8 => drop(serde_json::from_slice::<api::volumes::CreateVolumeRequest>(
            input,
        )),
        9 => drop(serde_json::from_slice::<api::volumes::LeaseRequest>(input)),
        10 => drop(serde_json::from_slice::<api::secrets::CreateSecretRequest>(
            input,
        )),
        11 => drop(serde_json::from_slice::<api::secrets::RotateSecretRequest>(
            input,
        )),
        12 => drop(serde_json::from_slice::<api::secrets::DeliverRequest>(
            input,
        )),
        13 => drop(serde_json::from_slice::<api::policies::CreatePolicyRequest>(input)),
        14 => drop(serde_json::from_slice::<api::policies::CheckRequest>(input)),
        15 => drop(serde_json::from_slice::<api::nodes::CreateJoinTokenRequest>(input)),
        16 => drop(serde_json::from_slice::<api::nodes::JoinRequest>(input)),
        17 => drop(serde_json::from_slice::<api::nodes::RenewRequest>(input)),
        18 => drop(serde_json::from_slice::<api::nodes::LabelRequest>(input)),
        19 => drop(serde_json::from_slice::<api::nodes::DecommissionRequest>(
            input,
        )),
        20 => drop(serde_json::from_slice::<api::kmip::ClientCertRequest>(
            input,
        )),
        21 => query::<api::secrets::SecretListQuery>(input),
        22 => drop(serde_json::from_slice::<api::sys::RotateRootRequest>(input)),
        23 => drop(serde_json::from_slice::<api::seal::MigrateRequest>(input)),
        24 => drop(serde_json::from_slice::<api::seal::CompleteMigrationRequest>(input)),
        25 => query::<api::fleet::FleetQuery>(input),
        26 => query::<api::fleet::AuditFilter>(input),
        27 => drop(serde_json::from_slice::<api::fleet::SignInRequest>(input)),
        28 => drop(serde_json::from_slice::<api::nodes::LivenessReport>(input)),
        29 => {
            if let Ok(text) = std::str::from_utf8(input) {
                let _ = crate::console::session::cookie_value(text);
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(input) {
                let _ = auth::parse_bearer(Some(text));
            }
        }
    }
}
