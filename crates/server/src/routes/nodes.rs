//! The node routes (`/v1/nodes`): joining with a join token, certificate
//! renewal, liveness, the inventory (list, show, label) and decommissioning
//! (docs/identity.md).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keystore::model::{NodeRow, NodeState};
use keystore::{Caller, Keystore};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::app::{App, JsonBody, RequestContext, require_all_tenants};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, Code};
use crate::identity::Identity;

/// Longest node name (the host name given at join), in bytes.
const MAX_NODE_NAME_LEN: usize = 64;

/// Node labels follow the object label rules: keys are names, values are
/// printable and short.
pub(crate) fn validate_labels(labels: &BTreeMap<String, String>) -> Result<(), ApiError> {
    keystore::object::validate_labels(labels)
        .map_err(|error| ApiError::bad_request(format!("node labels: {error}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JoinRequest {
    token: String,
    csr_pem: String,
    #[serde(default)]
    name: Option<String>,
}

/// A certificate issued to a node.
#[derive(Serialize)]
pub(crate) struct IssuedNodeCertificate {
    node_id: String,
    name: String,
    role: &'static str,
    tenant: String,
    cert_pem: String,
    ca_pem: String,
    serial: String,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
}

fn issued(node: &NodeRow, certificate: pki::IssuedCert, ca_pem: String) -> IssuedNodeCertificate {
    IssuedNodeCertificate {
        node_id: node.id.clone(),
        name: node.name.clone(),
        role: node.role.as_str(),
        tenant: node.tenant.clone(),
        cert_pem: certificate.cert_pem,
        ca_pem,
        serial: certificate.serial_hex,
        not_after: certificate.not_after,
    }
}

fn validate_node_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NODE_NAME_LEN
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "the node name must be 1 to 64 ASCII letters, digits, '-', '_' or '.' (a host name)",
        ))
    }
}

/// `POST /v1/nodes/join`: unauthenticated but for the join token in the body.
pub(crate) async fn join(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<JoinRequest>,
) -> Result<(StatusCode, Json<IssuedNodeCertificate>), ApiError> {
    let identity = app.node_identity()?;
    let remote = context.remote.clone();
    app.call_public("node.join", move |keystore| {
        keystore.require_unsealed().map_err(ApiError::from)?;
        let mut caller = Caller {
            principal: "anonymous".to_owned(),
            remote,
        };
        let outcome = join_blocking(keystore, &identity, &mut caller, request);
        if let Err(error) = &outcome {
            keystore.audit_refusal(&caller, "node.join", None, None, error.code.as_str());
            tracing::info!(message = %error.message, principal = %caller.principal, "refused a join");
        }
        outcome
    })
    .await
}

fn join_blocking(
    keystore: &Keystore,
    identity: &Identity,
    caller: &mut Caller,
    request: JoinRequest,
) -> Result<(StatusCode, Json<IssuedNodeCertificate>), ApiError> {
    let refused = |message: &str| ApiError::new(Code::Unauthenticated, message);
    let token = zeroize::Zeroizing::new(request.token);
    let token = pki::JoinToken::parse(&token)
        .map_err(|error| ApiError::new(Code::Unauthenticated, error.to_string()))?;
    let bundle = identity.bundle_pem();
    if !token.matches_bundle(bundle.as_bytes()) {
        return Err(refused(
            "the join token was made for another CA (or before the CA was rotated); create a new one with `cryptainer node token create`",
        ));
    }
    let _serialized = identity.serialize_join();
    let wanted = token.secret_digest_hex();
    let mut row = keystore
        .join_token_by_digest(&wanted)?
        .filter(|row| keystore::secret::constant_time_eq(row.digest.as_bytes(), wanted.as_bytes()))
        .ok_or_else(|| {
            refused("unknown join token; create one with `cryptainer node token create`")
        })?;
    caller.principal = format!("join_token:{}", row.id);
    let now = OffsetDateTime::now_utc();
    if row.revoked_at.is_some() {
        return Err(refused(
            "this join token was revoked or rotated; ask an admin for a new one",
        ));
    }
    if row.expires_at <= now {
        return Err(refused(
            "this join token has expired; ask an admin for a new one",
        ));
    }
    if row.uses >= row.max_uses {
        return Err(refused(&format!(
            "this join token was already used {} time(s), its maximum; ask an admin for a new one",
            row.uses
        )));
    }
    let name = request.name.unwrap_or_else(|| "node".to_owned());
    validate_node_name(&name)?;
    let mut id_bytes = [0_u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    let mut node = NodeRow {
        id: format!("node-{}", hex::encode(id_bytes)),
        name,
        role: row.role,
        tenant: row.tenant.clone(),
        cert_serial: String::new(),
        cert_expires_at: now,
        joined_at: now,
        last_seen: Some(now),
        state: NodeState::Active,
        decommissioned_at: None,
        join_token_id: row.id.clone(),
        issuer: String::new(),
        labels: row.labels.clone(),
    };
    let certificate = identity.sign(&request.csr_pem, &mut node)?;
    row.uses = row.uses.saturating_add(1);
    keystore.join_node(caller, row, &node)?;
    tracing::info!(node_id = %node.id, name = %node.name, tenant = %node.tenant, "node joined");
    Ok((
        StatusCode::CREATED,
        Json(issued(&node, certificate, bundle)),
    ))
}

/// The node the caller's certificate names.
fn own_node(keystore: &Keystore, principal: &Principal) -> Result<NodeRow, ApiError> {
    let node_id = principal.node_id().ok_or_else(|| {
        ApiError::new(
            Code::Forbidden,
            "only a node, with its certificate, may do this",
        )
    })?;
    node_of(keystore, node_id)
}

/// The inventory row of `node_id`, the caller's own node; an unknown node is
/// unauthenticated.
fn node_of(keystore: &Keystore, node_id: &str) -> Result<NodeRow, ApiError> {
    keystore
        .node(node_id)?
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, format!("unknown node '{node_id}'")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenewRequest {
    csr_pem: String,
}

/// `POST /v1/nodes/renew`: a node with a valid certificate gets a new one for a
/// new key.
pub(crate) async fn renew(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<RenewRequest>,
) -> Result<Json<IssuedNodeCertificate>, ApiError> {
    let identity = app.node_identity()?;
    app.call(context, "node.renew", Permission::NodeSelf, move |call| {
        let mut node = own_node(call.keystore, call.principal())?;
        let certificate = identity.sign(&request.csr_pem, &mut node)?;
        node.last_seen = Some(OffsetDateTime::now_utc());
        call.keystore.put_node(&call.caller, "node.renew", &node)?;
        Ok(Json(issued(&node, certificate, identity.bundle_pem())))
    })
    .await
}

/// `POST /v1/nodes/heartbeat`: the node is alive.
pub(crate) async fn heartbeat(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<serde_json::Value>, ApiError> {
    let identity = app.node_identity()?;
    app.call(
        context,
        "node.heartbeat",
        Permission::NodeSelf,
        move |call| {
            let mut node = own_node(call.keystore, call.principal())?;
            let now = OffsetDateTime::now_utc();
            node.last_seen = Some(now);
            call.keystore
                .put_node(&call.caller, "node.heartbeat", &node)?;
            // After a CA rotation, `renew` tells the nodes whose certificate the
            // previous root issued to renew now, one batch at a time; the renewal
            // answer carries the new bundle, which the agent then pins.
            let renew = node.issuer != identity.ca_fingerprint_hex() && identity.admit_reissue();
            Ok(Json(serde_json::json!({
                "node_id": node.id,
                "state": node.state.as_str(),
                "cert_serial": node.cert_serial,
                "ca_digest": identity.bundle_digest_hex(),
                "renew": renew,
            })))
        },
    )
    .await
}

/// A node as listed.
#[derive(Serialize)]
pub(crate) struct NodeInfo {
    id: String,
    name: String,
    role: &'static str,
    tenant: String,
    state: &'static str,
    cert_serial: String,
    #[serde(with = "time::serde::rfc3339")]
    cert_expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    joined_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_seen: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    decommissioned_at: Option<OffsetDateTime>,
    join_token_id: String,
    labels: BTreeMap<String, String>,
}

impl From<&NodeRow> for NodeInfo {
    fn from(row: &NodeRow) -> NodeInfo {
        NodeInfo {
            id: row.id.clone(),
            name: row.name.clone(),
            role: row.role.as_str(),
            tenant: row.tenant.clone(),
            state: row.state.as_str(),
            cert_serial: row.cert_serial.clone(),
            cert_expires_at: row.cert_expires_at,
            joined_at: row.joined_at,
            last_seen: row.last_seen,
            decommissioned_at: row.decommissioned_at,
            join_token_id: row.join_token_id.clone(),
            labels: row.labels.clone(),
        }
    }
}

/// `GET /v1/nodes`.
pub(crate) async fn list_nodes(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<serde_json::Value>, ApiError> {
    app.call(context, "node.list", Permission::ManageNodes, move |call| {
        let nodes: Vec<NodeInfo> = call
            .keystore
            .nodes()?
            .iter()
            .filter(|row| call.principal().scope.allows(&row.tenant))
            .map(NodeInfo::from)
            .collect();
        call.keystore
            .record(&call.caller, "node.list", None, None, "ok")?;
        Ok(Json(serde_json::json!({ "nodes": nodes })))
    })
    .await
}

/// The node `id` within the caller's tenants; outside them it does not exist.
fn find_node(keystore: &Keystore, principal: &Principal, id: &str) -> Result<NodeRow, ApiError> {
    keystore
        .node(id)?
        .filter(|row| principal.scope.allows(&row.tenant))
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("no node '{id}'")))
}

/// `GET /v1/nodes/{id}`.
pub(crate) async fn show_node(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<NodeInfo>, ApiError> {
    app.call(context, "node.show", Permission::ManageNodes, move |call| {
        let node = find_node(call.keystore, call.principal(), &id)?;
        call.keystore.record(
            &call.caller,
            "node.show",
            Some(&node.tenant),
            Some(&node.id),
            "ok",
        )?;
        Ok(Json(NodeInfo::from(&node)))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelRequest {
    /// Labels to add or change.
    #[serde(default)]
    set: BTreeMap<String, String>,
    /// Label keys to remove.
    #[serde(default)]
    remove: Vec<String>,
}

/// `POST|PUT /v1/nodes/{id}/labels`: sets and removes labels of a node;
/// policies that select by node label see the change at the next request.
pub(crate) async fn label_node(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<LabelRequest>,
) -> Result<Json<NodeInfo>, ApiError> {
    app.call(
        context,
        "node.label",
        Permission::ManageNodes,
        move |call| {
            let mut node = find_node(call.keystore, call.principal(), &id)?;
            if node.state == NodeState::Decommissioned {
                return Err(ApiError::new(
                    Code::Conflict,
                    format!("node '{id}' is decommissioned; its labels no longer matter"),
                ));
            }
            if let Some(key) = request
                .remove
                .iter()
                .find(|key| request.set.contains_key(*key))
            {
                return Err(ApiError::bad_request(format!(
                    "label '{key}' is both set and removed; do one or the other"
                )));
            }
            for key in &request.remove {
                node.labels.remove(key);
            }
            node.labels.extend(request.set);
            validate_labels(&node.labels)?;
            call.keystore.put_node(&call.caller, "node.label", &node)?;
            Ok(Json(NodeInfo::from(&node)))
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecommissionRequest {
    #[serde(default)]
    shred: bool,
}

/// What a decommission did.
#[derive(Serialize)]
pub(crate) struct Decommissioned {
    node: NodeInfo,
    leases_ended: usize,
    shredded: Vec<String>,
}

/// `POST /v1/nodes/{id}/decommission`.
pub(crate) async fn decommission(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<DecommissionRequest>,
) -> Result<Json<Decommissioned>, ApiError> {
    let identity = app.node_identity()?;
    app.call(
        context,
        "node.decommission",
        Permission::ManageNodes,
        move |call| {
            let mut node = find_node(call.keystore, call.principal(), &id)?;
            if request.shred {
                require_all_tenants(call.principal())?;
            }
            if node.state == NodeState::Decommissioned {
                return Err(ApiError::new(
                    Code::Conflict,
                    format!("node '{id}' is already decommissioned"),
                ));
            }
            // The in-memory deny list first: from this instant no new connection
            // with the node's certificate completes its handshake. The request
            // check reads the store, which the commit below updates.
            identity.deny_list().deny(&node.id);
            node.state = NodeState::Decommissioned;
            node.decommissioned_at = Some(OffsetDateTime::now_utc());
            call.keystore
                .put_node(&call.caller, "node.decommission", &node)?;
            let leases_ended = call.keystore.end_node_leases(&call.caller, &node.id)?;
            let shredded = if request.shred {
                call.keystore.shred_node_objects(&call.caller, &node.id)?
            } else {
                Vec::new()
            };
            tracing::info!(node_id = %node.id, shredded = shredded.len(), "node decommissioned");
            Ok(Json(Decommissioned {
                node: NodeInfo::from(&node),
                leases_ended,
                shredded,
            }))
        },
    )
    .await
}
