//! The API token routes (`/v1/auth/tokens`, `/v1/auth/self`): create, list
//! and revoke tokens; a token's secret is shown once, at creation, and only
//! its digest is stored.

use api::SecretString;
use api::tokens::{CreateTokenRequest, CreatedToken, TokenInfo, TokenList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keystore::TenantScope;
use keystore::model::{Role, TokenRow};
use time::OffsetDateTime;

use crate::app::{App, JsonBody, RequestContext, require_all_tenants};
use crate::auth::{self, Permission};
use crate::error::{ApiError, Code};
use crate::wire::{self, SecretJson};

/// Default token lifetime: 24 hours.
const DEFAULT_TOKEN_TTL_SECS: u64 = 24 * 3600;

/// `POST /v1/auth/tokens`: the secret is shown once.
pub(crate) async fn create_token(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreateTokenRequest>,
) -> Result<(StatusCode, SecretJson<CreatedToken>), ApiError> {
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
                SecretJson(CreatedToken {
                    token: SecretString::from_str_copy(&token.secret),
                    info: wire::token_info(token.row.clone()),
                }),
            ))
        },
    )
    .await
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

/// `GET /v1/auth/tokens`.
pub(crate) async fn list_tokens(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<TokenList>, ApiError> {
    app.call(context, "token.list", Permission::ManageTokens, |call| {
        let tokens = call
            .keystore
            .tokens()?
            .into_iter()
            .filter(|row| token_visible(&call.principal().scope, row))
            .map(wire::token_info)
            .collect();
        call.keystore
            .record(&call.caller, "token.list", None, None, "ok")?;
        Ok(Json(TokenList { tokens }))
    })
    .await
}

/// `DELETE /v1/auth/tokens/{id}`.
pub(crate) async fn revoke_token(
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
            Ok(Json(wire::token_info(revoked)))
        },
    )
    .await
}

/// `GET /v1/auth/self`.
pub(crate) async fn token_self(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<TokenInfo>, ApiError> {
    app.call(context, "token.self", Permission::ReadMetadata, |call| {
        let row = call
            .keystore
            .token_by_id(&call.principal().token_id)?
            .ok_or_else(|| ApiError::new(Code::Unauthenticated, "the token disappeared"))?;
        Ok(Json(wire::token_info(row)))
    })
    .await
}
