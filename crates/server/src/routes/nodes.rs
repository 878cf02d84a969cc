//! The node routes (`/v1/nodes`): joining with a join token, certificate
//! renewal, liveness, the inventory (list, show, label) and decommissioning
//! (docs/identity.md).

use std::collections::BTreeMap;

use api::nodes::{
    DecommissionRequest, Decommissioned, Heartbeat, IssuedNodeCertificate, JoinRequest,
    LabelRequest, LivenessReport, NodeInfo, NodeList, RenewRequest,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keystore::model::{NodeRow, NodeState};
use keystore::{Caller, Keystore};
use rand::RngCore;
use time::OffsetDateTime;

use crate::app::{App, JsonBody, OptionalJsonBody, RequestContext, require_all_tenants};
use crate::auth::{Permission, Principal};
use crate::console::events::Topics;
use crate::error::{ApiError, Code};
use crate::identity::Identity;
use crate::wire;

/// Longest node name (the host name given at join), in bytes.
const MAX_NODE_NAME_LEN: usize = 64;

/// Node labels follow the object label rules: keys are names, values are
/// printable and short.
pub(crate) fn validate_labels(labels: &BTreeMap<String, String>) -> Result<(), ApiError> {
    keystore::object::validate_labels(labels)
        .map_err(|error| ApiError::bad_request(format!("node labels: {error}")))
}

/// A certificate issued to `node`, as join and renew answer it.
fn issued(node: &NodeRow, certificate: pki::IssuedCert, ca_pem: String) -> IssuedNodeCertificate {
    IssuedNodeCertificate {
        node_id: node.id.clone(),
        name: node.name.clone(),
        role: wire::role(node.role),
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
    let token = pki::JoinToken::parse(request.token.expose_secret())
        .map_err(|error| ApiError::new(Code::Unauthenticated, error.to_string()))?;
    let mut bundle = identity.bundle_pem();
    if !token.matches_bundle(bundle.as_bytes()) {
        // The token may name a CA another server of the cluster rotated to a
        // moment ago: follow the store's CA, then compare again.
        if let Err(error) = identity.sync_ca(keystore) {
            tracing::warn!(%error, "could not follow the cluster's CA for a join");
        }
        bundle = identity.bundle_pem();
    }
    if !token.matches_bundle(bundle.as_bytes()) {
        return Err(refused(
            "the join token was made for another CA (or before the CA was rotated); create a new one with `cryptainer node token create`",
        ));
    }
    let _serialized = identity.serialize_join();
    let wanted = token.secret_digest_hex();
    let row = keystore
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
    // Counted only if nobody took a use meanwhile, on this server or another.
    keystore.join_node(caller, &row, &node)?;
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

/// `POST /v1/nodes/renew`: a node with a valid certificate gets a new one for a
/// new key.
pub(crate) async fn renew(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<RenewRequest>,
) -> Result<Json<IssuedNodeCertificate>, ApiError> {
    let identity = app.node_identity()?;
    app.call(context, "node.renew", Permission::NodeSelf, move |call| {
        let read = own_node(call.keystore, call.principal())?;
        let mut node = read.clone();
        let certificate = identity.sign(&request.csr_pem, &mut node)?;
        node.last_seen = Some(OffsetDateTime::now_utc());
        call.keystore
            .put_node(&call.caller, "node.renew", &node, Some(&read))?;
        Ok(Json(issued(&node, certificate, identity.bundle_pem())))
    })
    .await
}

/// `POST /v1/nodes/heartbeat`: the node is alive, and runs what its report
/// says (no body: an agent that reports liveness only).
pub(crate) async fn heartbeat(
    State(app): State<App>,
    context: RequestContext,
    OptionalJsonBody(report): OptionalJsonBody<Option<LivenessReport>>,
) -> Result<Json<Heartbeat>, ApiError> {
    let identity = app.node_identity()?;
    app.call(
        context,
        "node.heartbeat",
        Permission::NodeSelf,
        move |call| {
            let read = own_node(call.keystore, call.principal())?;
            let mut node = read.clone();
            let now = OffsetDateTime::now_utc();
            node.last_seen = Some(now);
            call.keystore
                .put_node(&call.caller, "node.heartbeat", &node, Some(&read))?;
            if call.console.fleet.record_report(&node.id, report) {
                call.console.hub.publish(
                    Topics::NODES
                        .and(Topics::VOLUMES)
                        .and(Topics::WORKLOADS)
                        .and(Topics::OVERVIEW)
                        .and(Topics::POLICIES),
                );
            }
            // After a CA rotation, `renew` tells the nodes whose certificate the
            // previous root issued to renew now, one batch at a time; the renewal
            // answer carries the new bundle, which the agent then pins.
            let renew = node.issuer != identity.ca_fingerprint_hex() && identity.admit_reissue();
            Ok(Json(Heartbeat {
                node_id: node.id,
                state: wire::node_state(node.state),
                cert_serial: node.cert_serial,
                ca_digest: Some(identity.bundle_digest_hex()),
                renew: Some(renew),
            }))
        },
    )
    .await
}

/// `GET /v1/nodes`.
pub(crate) async fn list_nodes(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<NodeList>, ApiError> {
    app.call(context, "node.list", Permission::ManageNodes, move |call| {
        let nodes = call
            .keystore
            .nodes()?
            .iter()
            .filter(|row| call.principal().scope.allows(&row.tenant))
            .map(wire::node_info)
            .collect();
        call.keystore
            .record(&call.caller, "node.list", None, None, "ok")?;
        Ok(Json(NodeList { nodes }))
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
        Ok(Json(wire::node_info(&node)))
    })
    .await
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
            let read = find_node(call.keystore, call.principal(), &id)?;
            let mut node = read.clone();
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
            call.keystore
                .put_node(&call.caller, "node.label", &node, Some(&read))?;
            Ok(Json(wire::node_info(&node)))
        },
    )
    .await
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
            let read = find_node(call.keystore, call.principal(), &id)?;
            let mut node = read.clone();
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
            if let Err(error) =
                call.keystore
                    .put_node(&call.caller, "node.decommission", &node, Some(&read))
            {
                // Not decommissioned after all (changed meanwhile, or the
                // database is out of reach): the deny list follows the store.
                identity.reload_deny_list(call.keystore);
                return Err(error.into());
            }
            call.console.fleet.forget_node(&node.id);
            let leases_ended = call.keystore.end_node_leases(&call.caller, &node.id)?;
            let shredded = if request.shred {
                call.keystore.shred_node_objects(&call.caller, &node.id)?
            } else {
                Vec::new()
            };
            tracing::info!(node_id = %node.id, shredded = shredded.len(), "node decommissioned");
            Ok(Json(Decommissioned {
                node: wire::node_info(&node),
                leases_ended: u64::try_from(leases_ended).unwrap_or(u64::MAX),
                shredded,
            }))
        },
    )
    .await
}
