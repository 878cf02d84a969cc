//! The join token routes (`/v1/nodes/tokens`): create, list, revoke and
//! rotate the invitations nodes join with. A token's text (which carries the
//! CA bundle's digest) is shown once; only the digest of its secret is stored.

use std::collections::BTreeMap;

use api::SecretString;
use api::nodes::{CreateJoinTokenRequest, CreatedJoinToken, JoinTokenInfo, JoinTokenList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keystore::Keystore;
use keystore::model::{JoinTokenRow, Role};
use rand::RngCore;
use time::OffsetDateTime;

use crate::app::{App, JsonBody, RequestContext};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, Code};
use crate::identity::Identity;
use crate::routes::nodes::validate_labels;
use crate::wire::{self, SecretJson};

/// Default lifetime of a join token: 24 hours.
const DEFAULT_JOIN_TOKEN_TTL_SECS: u64 = 24 * 3600;

/// Longest lifetime of a join token: 30 days; invitations should not linger.
const MAX_JOIN_TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;

/// Most nodes one join token may admit.
const MAX_JOIN_TOKEN_USES: u32 = 10_000;

/// Tenant names go into certificate URIs: ASCII letters, digits, `-`, `_`, `.`.
fn validate_tenant(tenant: &str) -> Result<(), ApiError> {
    keystore::object::validate_name("tenant", tenant)
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let valid = !tenant.is_empty()
        && tenant.len() <= pki::MAX_IDENTITY_COMPONENT_LEN
        && tenant
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "tenant '{tenant}' cannot be given to nodes; use ASCII letters, digits, '-', '_' or '.'"
        )))
    }
}

/// Makes a join token row and its text for the current CA bundle.
pub(crate) fn new_join_token(
    identity: &Identity,
    role: Role,
    tenant: String,
    ttl_secs: u64,
    max_uses: u32,
    labels: BTreeMap<String, String>,
) -> Result<(JoinTokenRow, zeroize::Zeroizing<String>), ApiError> {
    let token = pki::JoinToken::generate(pki::bundle_digest(identity.bundle_pem().as_bytes()))
        .map_err(|_| ApiError::new(Code::Internal, "no randomness for a join token"))?;
    let mut id_bytes = [0_u8; 9];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    let now = OffsetDateTime::now_utc();
    let row = JoinTokenRow {
        id: format!("jtk_{}", hex::encode(id_bytes)),
        digest: token.secret_digest_hex(),
        role,
        tenant,
        created_at: now,
        expires_at: now + time::Duration::seconds(i64::try_from(ttl_secs).unwrap_or(0)),
        revoked_at: None,
        max_uses,
        uses: 0,
        labels,
    };
    Ok((row, token.to_text_secret()))
}

/// The answer to a new join token: its text, shown this once, and its row.
fn created(row: &JoinTokenRow, text: &str) -> (StatusCode, SecretJson<CreatedJoinToken>) {
    (
        StatusCode::CREATED,
        SecretJson(CreatedJoinToken {
            token: SecretString::from_str_copy(text),
            info: wire::join_token_info(row),
        }),
    )
}

/// `POST /v1/nodes/tokens`.
pub(crate) async fn create_token(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreateJoinTokenRequest>,
) -> Result<(StatusCode, SecretJson<CreatedJoinToken>), ApiError> {
    let identity = app.node_identity()?;
    app.call(
        context,
        "node.token.create",
        Permission::ManageNodes,
        move |call| {
            let role_text = request.role.as_deref().unwrap_or("agent");
            if Role::parse(role_text) != Some(Role::Agent) {
                return Err(ApiError::bad_request(format!(
                    "nodes join with role 'agent', not '{role_text}'; people use API tokens (`cryptainer token create`)"
                )));
            }
            let tenant = call.principal().tenant_for(request.tenant.as_deref());
            validate_tenant(&tenant)?;
            if !call.principal().scope.allows(&tenant) {
                return Err(ApiError::new(
                    Code::Forbidden,
                    format!("this token may not invite nodes into tenant '{tenant}'"),
                ));
            }
            let ttl = request.ttl_secs.unwrap_or(DEFAULT_JOIN_TOKEN_TTL_SECS);
            if ttl == 0 || ttl > MAX_JOIN_TOKEN_TTL_SECS {
                return Err(ApiError::bad_request(format!(
                    "ttl_secs must be between 1 and {MAX_JOIN_TOKEN_TTL_SECS} (30 days)"
                )));
            }
            let max_uses = request.max_uses.unwrap_or(1);
            if max_uses == 0 || max_uses > MAX_JOIN_TOKEN_USES {
                return Err(ApiError::bad_request(format!(
                    "max_uses must be between 1 and {MAX_JOIN_TOKEN_USES}"
                )));
            }
            validate_labels(&request.labels)?;
            let (row, text) = new_join_token(
                &identity,
                Role::Agent,
                tenant,
                ttl,
                max_uses,
                request.labels,
            )?;
            call.keystore.put_join_tokens(
                &call.caller,
                "node.token.create",
                Some(&row.tenant),
                Some(&row.id),
                Vec::new(),
                vec![row.clone()],
            )?;
            Ok(created(&row, &text))
        },
    )
    .await
}

/// `GET /v1/nodes/tokens`.
pub(crate) async fn list_tokens(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<JoinTokenList>, ApiError> {
    app.call(
        context,
        "node.token.list",
        Permission::ManageNodes,
        move |call| {
            let tokens = call
                .keystore
                .join_tokens()?
                .iter()
                .filter(|row| call.principal().scope.allows(&row.tenant))
                .map(wire::join_token_info)
                .collect();
            call.keystore
                .record(&call.caller, "node.token.list", None, None, "ok")?;
            Ok(Json(JoinTokenList { tokens }))
        },
    )
    .await
}

/// The join token `id` within the caller's tenants.
fn find_token(
    keystore: &Keystore,
    principal: &Principal,
    id: &str,
) -> Result<JoinTokenRow, ApiError> {
    keystore
        .join_token_by_id(id)?
        .filter(|row| principal.scope.allows(&row.tenant))
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("no join token '{id}'")))
}

/// `DELETE /v1/nodes/tokens/{id}`.
pub(crate) async fn revoke_token(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<JoinTokenInfo>, ApiError> {
    app.call(
        context,
        "node.token.revoke",
        Permission::ManageNodes,
        move |call| {
            let mut row = find_token(call.keystore, call.principal(), &id)?;
            if row.revoked_at.is_none() {
                row.revoked_at = Some(OffsetDateTime::now_utc());
                call.keystore.put_join_tokens(
                    &call.caller,
                    "node.token.revoke",
                    Some(&row.tenant),
                    Some(&row.id),
                    vec![row.clone()],
                    Vec::new(),
                )?;
            }
            Ok(Json(wire::join_token_info(&row)))
        },
    )
    .await
}

/// `POST /v1/nodes/tokens/{id}/rotate`.
pub(crate) async fn rotate_token(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<(StatusCode, SecretJson<CreatedJoinToken>), ApiError> {
    let identity = app.node_identity()?;
    app.call(
        context,
        "node.token.rotate",
        Permission::ManageNodes,
        move |call| {
            let mut old = find_token(call.keystore, call.principal(), &id)?;
            let now = OffsetDateTime::now_utc();
            let ttl = u64::try_from((old.expires_at - old.created_at).whole_seconds())
                .unwrap_or(DEFAULT_JOIN_TOKEN_TTL_SECS)
                .clamp(1, MAX_JOIN_TOKEN_TTL_SECS);
            let (row, text) = new_join_token(
                &identity,
                old.role,
                old.tenant.clone(),
                ttl,
                old.max_uses,
                old.labels.clone(),
            )?;
            old.revoked_at.get_or_insert(now);
            call.keystore.put_join_tokens(
                &call.caller,
                "node.token.rotate",
                Some(&row.tenant),
                Some(&row.id),
                vec![old],
                vec![row.clone()],
            )?;
            Ok(created(&row, &text))
        },
    )
    .await
}
