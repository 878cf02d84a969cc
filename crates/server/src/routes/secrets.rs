//! The secret routes: create, list, show, read, rotate and destroy secrets.
//!
//! A value travels only in request and response bodies (base64), never in a
//! path or query string, so it stays out of access logs; every read is
//! audited before it is answered.

use api::SecretString;
use api::keys::KeyInfo;
use api::secrets::{
    CreateSecretRequest, DeliverRequest, RotateSecretRequest, SecretList, SecretListQuery,
    SecretQuery, SecretValue,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use keystore::model::ListFilter;
use keystore::object::{ObjectMeta, ObjectType, RevocationReason, State as ObjectState};
use keystore::secret::SecretBytes;
use zeroize::Zeroizing;

use crate::app::{App, Call, JsonBody, QueryParams, RequestContext};
use crate::auth::Permission;
use crate::console::fleet::{Released, ResourceKind};
use crate::error::{ApiError, Code};
use crate::routes::keys::resolve_object;
use crate::wire::{self, SecretJson};

/// Label the key manager puts on the secret that opens a volume; those are
/// volume keys, not user secrets, and are not listed here.
const VOLUME_LABEL: &str = "cryptainer.volume";

/// Decodes a base64 value into wiped memory.
fn decode_value(text: &str) -> Result<SecretBytes, ApiError> {
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| ApiError::bad_request("the value must be base64 (standard alphabet)"))?,
    );
    Ok(SecretBytes::from_slice(&bytes))
}

/// The answer that carries version `version` of a secret's value; the
/// encoded body is wiped once sent.
fn secret_value(meta: ObjectMeta, version: u32, value: &SecretBytes) -> SecretJson<SecretValue> {
    SecretJson(SecretValue {
        id: meta.id,
        name: meta.name,
        version,
        value: SecretString::encode_base64(value.expose_secret()),
    })
}

/// A secret by id or name in the caller's tenants; keys and volume secrets
/// answer `not_found`.
fn resolve_secret(
    call: &Call<'_>,
    reference: &str,
    tenant: Option<&str>,
) -> Result<ObjectMeta, ApiError> {
    let meta = resolve_object(call, reference, tenant, "secret")?;
    if meta.object_type != ObjectType::SecretData || meta.labels.contains_key(VOLUME_LABEL) {
        return Err(ApiError::new(
            Code::NotFound,
            format!("no secret '{reference}'"),
        ));
    }
    Ok(meta)
}

/// `POST /v1/secrets`.
pub(crate) async fn create(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreateSecretRequest>,
) -> Result<(StatusCode, Json<KeyInfo>), ApiError> {
    app.call(
        context,
        "secret.create",
        Permission::ManageKeys,
        move |call| {
            let tenant = call
                .principal()
                .creatable_tenant(request.tenant.as_deref(), "secrets")?;
            if request.labels.contains_key(VOLUME_LABEL) {
                return Err(ApiError::bad_request(format!(
                    "the label {VOLUME_LABEL} is reserved for volume keys"
                )));
            }
            let value = decode_value(request.value.expose_secret())?;
            let meta = call.keystore.create_secret(
                &call.caller,
                &tenant,
                &request.name,
                request.labels,
                value,
            )?;
            Ok((StatusCode::CREATED, Json(wire::key_info(meta))))
        },
    )
    .await
}

/// `GET /v1/secrets`.
pub(crate) async fn list(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<SecretListQuery>,
) -> Result<Json<SecretList>, ApiError> {
    app.call(
        context,
        "secret.list",
        Permission::ReadMetadata,
        move |call| {
            let tenants = call.principal().listable_tenants(query.tenant.as_deref());
            let (objects, total) = call.keystore.list(&ListFilter {
                tenants,
                name: None,
                state: None,
                object_type: Some(ObjectType::SecretData),
                limit: query.limit.unwrap_or(100),
                offset: query.offset.unwrap_or(0),
            })?;
            call.keystore
                .record(&call.caller, "secret.list", None, None, "ok")?;
            let secrets: Vec<KeyInfo> = objects
                .into_iter()
                .filter(|meta| !meta.labels.contains_key(VOLUME_LABEL))
                .map(wire::key_info)
                .collect();
            Ok(Json(SecretList { secrets, total }))
        },
    )
    .await
}

/// `GET /v1/secrets/{reference}`: metadata only.
pub(crate) async fn show(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<SecretQuery>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call(
        context,
        "secret.show",
        Permission::ReadMetadata,
        move |call| {
            let meta = resolve_secret(call, &reference, query.tenant.as_deref())?;
            call.keystore.record(
                &call.caller,
                "secret.show",
                Some(&meta.tenant),
                Some(&meta.id),
                "ok",
            )?;
            Ok(Json(wire::key_info(meta)))
        },
    )
    .await
}

/// `GET /v1/secrets/{reference}/value`: the value, once the read is audited.
pub(crate) async fn value(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<SecretQuery>,
) -> Result<SecretJson<SecretValue>, ApiError> {
    app.call_inline(
        context,
        "secret.read",
        Permission::ReadMaterial,
        move |call| {
            let meta = resolve_secret(call, &reference, query.tenant.as_deref())?;
            crate::policies::refuse_direct_read(call, &meta)?;
            // Only people get here (a node is refused above): their role decided.
            let release = crate::policies::release_secret(call, &meta, &[])?;
            record_release(
                call,
                &meta,
                query.version.unwrap_or(meta.version),
                &[],
                release.grants(),
            );
            let durable = call
                .keystore
                .read_secret(&call.caller, release, query.version)?;
            Ok(durable.map(|(version, value)| secret_value(meta, version, &value)))
        },
    )
    .await
}

/// `POST /v1/secrets/{reference}/deliver`: the value, to a node, for the
/// workloads it names, when a policy grants the secret to every one of them
/// (deny by default). Audited as `policy.decide` per workload and
/// `secret.read`.
pub(crate) async fn deliver(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    JsonBody(request): JsonBody<DeliverRequest>,
) -> Result<SecretJson<SecretValue>, ApiError> {
    app.call(
        context,
        "secret.read",
        Permission::ReceiveSecrets,
        move |call| {
            if call.principal().node_id().is_none() {
                return Err(ApiError::new(
                    Code::Forbidden,
                    "only a node, with its certificate, receives secrets for its workloads; people read a value with GET /v1/secrets/{ref}/value",
                ));
            }
            let meta = resolve_secret(call, &reference, request.tenant.as_deref())?;
            let release = crate::policies::release_secret(call, &meta, &request.workloads)?;
            let grants = release.grants().to_vec();
            let (version, value) = call
                .keystore
                .read_secret(&call.caller, release, None)?
                .wait()?;
            record_release(call, &meta, version, &request.workloads, &grants);
            Ok(secret_value(meta, version, &value))
        },
    )
    .await
}

/// Records in the fleet model that version `version` of `meta` went to the
/// caller for `claims`.
fn record_release(
    call: &Call<'_>,
    meta: &ObjectMeta,
    version: u32,
    claims: &[api::policies::WorkloadClaim],
    grants: &[keystore::GrantBasis],
) {
    call.console.fleet.record_release(
        &Released {
            kind: ResourceKind::Secret,
            tenant: &meta.tenant,
            resource: meta.name.as_deref().unwrap_or(&meta.id),
            object_id: &meta.id,
            version,
            recipient: &call.caller.principal,
        },
        claims,
        grants,
    );
}

/// `POST /v1/secrets/{reference}/rotate`: a new version with the given value.
pub(crate) async fn rotate(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<SecretQuery>,
    JsonBody(request): JsonBody<RotateSecretRequest>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call(
        context,
        "secret.rotate",
        Permission::ManageKeys,
        move |call| {
            let meta = resolve_secret(call, &reference, query.tenant.as_deref())?;
            let value = decode_value(request.value.expose_secret())?;
            Ok(Json(wire::key_info(call.keystore.rotate_secret(
                &call.caller,
                &meta,
                value,
            )?)))
        },
    )
    .await
}

/// `DELETE /v1/secrets/{reference}`: revokes the secret (if active) and
/// destroys every version of its value; a tombstone stays for the audit.
pub(crate) async fn destroy(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<SecretQuery>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call(
        context,
        "secret.destroy",
        Permission::ManageKeys,
        move |call| {
            let mut meta = resolve_secret(call, &reference, query.tenant.as_deref())?;
            if meta.state == ObjectState::Active {
                meta = call.keystore.revoke(
                    &call.caller,
                    &meta,
                    RevocationReason::CessationOfOperation,
                )?;
            }
            Ok(Json(wire::key_info(
                call.keystore.destroy(&call.caller, &meta)?,
            )))
        },
    )
    .await
}
