//! The CA routes (`/v1/ca`, `/v1/ca/status`, `/v1/ca/rotate`): the bundle
//! joining nodes fetch without trusting it, how far the re-issue after a
//! rotation has come, and the rotation itself.

use api::SecretString;
use api::nodes::{CaStatus, ReplacedJoinToken, RotatedCa};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::app::{App, RequestContext, require_all_tenants};
use crate::auth::Permission;
use crate::error::{ApiError, Code};
use crate::identity::{CaError, pending_nodes};
use crate::routes::join_tokens::new_join_token;
use crate::wire::{self, SecretJson};

/// `GET /v1/ca`: the CA bundle (PEM), unauthenticated. A joining node fetches it
/// without trusting it, then checks its SHA-256 against its join token.
pub(crate) async fn ca_bundle(State(app): State<App>) -> Result<Response, ApiError> {
    let identity = app.node_identity()?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        identity.bundle_pem(),
    )
        .into_response())
}

/// `GET /v1/ca/status`: the current CA, and how far the re-issue of node
/// certificates after the last rotation has come (nodes of the caller's tenants
/// that are active and hold an unexpired certificate).
pub(crate) async fn ca_status(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<CaStatus>, ApiError> {
    let identity = app.node_identity()?;
    app.call(context, "ca.status", Permission::ManageNodes, move |call| {
        let current = identity.ca_fingerprint_hex();
        let nodes = pending_nodes(call.keystore, &current, |tenant| {
            call.principal().scope.allows(tenant)
        })?;
        let bundle = identity.bundle_pem();
        let count = |count: usize| u64::try_from(count).unwrap_or(u64::MAX);
        Ok(Json(CaStatus {
            ca_digest: identity.bundle_digest_hex(),
            roots: count(bundle.matches("BEGIN CERTIFICATE").count()),
            nodes: count(nodes.total),
            reissued: count(nodes.total - nodes.pending.len()),
            pending: nodes.pending,
            server_certificate: identity.server_cert().status(&current),
            ca_fingerprint: current,
        }))
    })
    .await
}

/// `POST /v1/ca/rotate` (admin of all tenants): a new root, cross-signed by the old
/// one; the bundle holds both, so every node certificate stays valid while agents
/// pick up the new root at their next renewal (which the heartbeat answer's
/// `ca_digest` brings forward); live join tokens are re-made for the new bundle.
pub(crate) async fn rotate_ca(
    State(app): State<App>,
    context: RequestContext,
) -> Result<SecretJson<RotatedCa>, ApiError> {
    let identity = app.node_identity()?;
    app.call(context, "ca.rotate", Permission::ManageNodes, move |call| {
        require_all_tenants(call.principal())?;
        let bundle =
            identity
                .rotate_ca(call.keystore, &call.caller)
                .map_err(|error| match error {
                    // Refused by the store (another server rotated at the same
                    // time), or the store out of reach: as the store says.
                    CaError::Keystore(error) => ApiError::from(error),
                    CaError::Pki(error) => {
                        tracing::error!(%error, "CA rotation failed");
                        ApiError::new(Code::Internal, format!("the CA rotation failed: {error}"))
                    }
                })?;

        // Live join tokens carry the old bundle's digest: re-make them.
        let now = OffsetDateTime::now_utc();
        let mut revoked = Vec::new();
        let mut remade = Vec::new();
        let mut tokens = Vec::new();
        for mut old in call.keystore.join_tokens()? {
            if old.revoked_at.is_some() || old.expires_at <= now || old.uses >= old.max_uses {
                continue;
            }
            let ttl = u64::try_from((old.expires_at - now).whole_seconds())
                .unwrap_or(1)
                .max(1);
            let (row, text) = new_join_token(
                &identity,
                old.role,
                old.tenant.clone(),
                ttl,
                old.max_uses.saturating_sub(old.uses).max(1),
                old.labels.clone(),
            )?;
            old.revoked_at = Some(now);
            tokens.push(ReplacedJoinToken {
                replaces: old.id.clone(),
                token: SecretString::from_str_copy(&text),
                info: wire::join_token_info(&row),
            });
            revoked.push(old);
            remade.push(row);
        }
        let digest = hex::encode(pki::bundle_digest(bundle.as_bytes()));
        call.keystore.put_join_tokens(
            &call.caller,
            "ca.rotate",
            None,
            Some(&digest),
            revoked,
            remade,
        )?;
        tracing::info!(ca_digest = %digest, tokens = tokens.len(), "CA rotated");
        Ok(SecretJson(RotatedCa {
            ca_digest: digest,
            ca_pem: bundle,
            tokens,
        }))
    })
    .await
}
