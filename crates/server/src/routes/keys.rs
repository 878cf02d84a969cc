//! The key routes (`/v1/keys`): create, list, show, read the material of,
//! rotate, revoke and destroy keys; and resolving a reference (an id, or a name
//! in a tenant) within the caller's tenants, which the secret routes share.

use api::SecretString;
use api::keys::{
    CreateKeyRequest, KeyInfo, KeyList, KeyListQuery, KeyQuery, Material, RevokeRequest,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keystore::model::ListFilter;
use keystore::object::{Algorithm, ObjectMeta, RevocationReason, State as ObjectState};
use keystore::{Found, Keystore, KeystoreError};

use crate::app::{App, Call, JsonBody, QueryParams, RequestContext};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, Code};
use crate::wire::{self, SecretJson};

/// Checks that the caller may act on `tenant`; outside its scope the answer is
/// `not_found` so nothing is learned about other tenants.
fn check_tenant(principal: &Principal, tenant: &str, what: &str) -> Result<(), ApiError> {
    if principal.scope.allows(tenant) {
        Ok(())
    } else {
        Err(ApiError::new(Code::NotFound, format!("no {what}")))
    }
}

/// `POST /v1/keys`.
pub(crate) async fn create_key(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreateKeyRequest>,
) -> Result<(StatusCode, Json<KeyInfo>), ApiError> {
    app.call_inline(context, "key.create", Permission::ManageKeys, move |call| {
        let tenant = call
            .principal()
            .creatable_tenant(request.tenant.as_deref(), "keys")?;
        let algorithm_text = request.algorithm.as_deref().unwrap_or("aes-256");
        let algorithm = Algorithm::parse(algorithm_text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown algorithm '{algorithm_text}'; use aes-256, aes-128 or hmac-sha256"
            ))
        })?;
        let durable = call.keystore.create_key_deferred(
            &call.caller,
            &tenant,
            &request.name,
            algorithm,
            request.labels,
        )?;
        Ok(durable.map(|meta| (StatusCode::CREATED, Json(wire::key_info(meta)))))
    })
    .await
}

/// `GET /v1/keys`.
pub(crate) async fn list_keys(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<KeyListQuery>,
) -> Result<Json<KeyList>, ApiError> {
    app.call(context, "key.list", Permission::ReadMetadata, move |call| {
        let state = query
            .state
            .as_deref()
            .map(|text| {
                ObjectState::parse(text).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "unknown state '{text}'; use pre_active, active, deactivated, compromised, destroyed or destroyed_compromised"
                    ))
                })
            })
            .transpose()?;
        let tenants = call.principal().listable_tenants(query.tenant.as_deref());
        let filter = ListFilter {
            tenants,
            name: query.name,
            state,
            object_type: None,
            limit: query.limit.unwrap_or(100),
            offset: query.offset.unwrap_or(0),
        };
        let (keys, total) = call.keystore.list(&filter)?;
        call.keystore
            .record(&call.caller, "key.list", None, None, "ok")?;
        Ok(Json(KeyList {
            keys: keys.into_iter().map(wire::key_info).collect(),
            total,
        }))
    })
    .await
}

/// Resolves `{reference}` within the caller's tenants.
fn resolve(call: &Call<'_>, reference: &str, tenant: Option<&str>) -> Result<ObjectMeta, ApiError> {
    resolve_object(call, reference, tenant, "key")
}

/// Resolves `{reference}` (an id, or a name in the tenant) within the caller's
/// tenants; outside them the answer is `no {what} ...`, exactly as for a
/// missing object.
pub(crate) fn resolve_object(
    call: &Call<'_>,
    reference: &str,
    tenant: Option<&str>,
    what: &str,
) -> Result<ObjectMeta, ApiError> {
    resolve_with(call, reference, tenant, what, Keystore::find, |meta| meta)
}

/// [`resolve_object`] for a read of the key's material: the lookup also
/// brings its current version ([`Keystore::find_for_read`]).
fn resolve_for_read(
    call: &Call<'_>,
    reference: &str,
    tenant: Option<&str>,
) -> Result<Found, ApiError> {
    resolve_with(
        call,
        reference,
        tenant,
        "key",
        Keystore::find_for_read,
        |found| &found.meta,
    )
}

/// Looks `reference` up with `find` in the caller's tenant (or `tenant`) and
/// hides what lies outside the caller's tenants as missing.
fn resolve_with<T>(
    call: &Call<'_>,
    reference: &str,
    tenant: Option<&str>,
    what: &str,
    find: impl FnOnce(&Keystore, &str, &str) -> Result<T, KeystoreError>,
    meta_of: impl FnOnce(&T) -> &ObjectMeta,
) -> Result<T, ApiError> {
    let tenant = call.principal().tenant_for(tenant);
    let hidden = || ApiError::new(Code::NotFound, format!("no {what} '{reference}'"));
    let found = match find(call.keystore, &tenant, reference) {
        Ok(found) => found,
        Err(KeystoreError::NotFound { .. }) => return Err(hidden()),
        Err(error) => return Err(error.into()),
    };
    check_tenant(call.principal(), &meta_of(&found).tenant, what).map_err(|_| hidden())?;
    Ok(found)
}

/// `GET /v1/keys/{reference}`: metadata only.
pub(crate) async fn show_key(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<KeyQuery>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call_inline(context, "key.show", Permission::ReadMetadata, move |call| {
        let meta = resolve(call, &reference, query.tenant.as_deref())?;
        let durable = call.keystore.record_deferred(
            &call.caller,
            "key.show",
            Some(&meta.tenant),
            Some(&meta.id),
            "ok",
        )?;
        Ok(durable.map(|()| Json(wire::key_info(meta))))
    })
    .await
}

/// `GET /v1/keys/{reference}/material`.
pub(crate) async fn key_material(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<KeyQuery>,
) -> Result<SecretJson<Material>, ApiError> {
    app.call_inline(
        context,
        "key.read_material",
        Permission::ReadMaterial,
        move |call| {
            let found = resolve_for_read(call, &reference, query.tenant.as_deref())?;
            crate::policies::refuse_direct_read(call, &found.meta)?;
            let durable =
                call.keystore
                    .found_material_deferred(&call.caller, &found, query.version)?;
            let meta = found.meta;
            Ok(durable.map(|(version, material)| {
                SecretJson(Material {
                    id: meta.id,
                    version,
                    algorithm: meta.algorithm.as_str().to_owned(),
                    material: SecretString::encode_base64(material.expose_secret()),
                })
            }))
        },
    )
    .await
}

/// `POST /v1/keys/{reference}/rotate`.
pub(crate) async fn rotate_key(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<KeyQuery>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call(context, "key.rotate", Permission::ManageKeys, move |call| {
        let meta = resolve(call, &reference, query.tenant.as_deref())?;
        Ok(Json(wire::key_info(
            call.keystore.rotate(&call.caller, &meta)?,
        )))
    })
    .await
}

/// `POST /v1/keys/{reference}/revoke`.
pub(crate) async fn revoke_key(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<KeyQuery>,
    body: axum::body::Bytes,
) -> Result<Json<KeyInfo>, ApiError> {
    // The body is optional: no body means reason "unspecified".
    let request: RevokeRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RevokeRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError::bad_request(format!(
                "the request body is not a valid revoke request: {error}"
            ))
        })?
    };
    app.call(context, "key.revoke", Permission::ManageKeys, move |call| {
        let meta = resolve(call, &reference, query.tenant.as_deref())?;
        let reason = request.reason.map_or(
            RevocationReason::Unspecified,
            wire::stored_revocation_reason,
        );
        Ok(Json(wire::key_info(call.keystore.revoke(
            &call.caller,
            &meta,
            reason,
        )?)))
    })
    .await
}

/// `DELETE /v1/keys/{reference}`.
pub(crate) async fn destroy_key(
    State(app): State<App>,
    context: RequestContext,
    Path(reference): Path<String>,
    QueryParams(query): QueryParams<KeyQuery>,
) -> Result<Json<KeyInfo>, ApiError> {
    app.call(
        context,
        "key.destroy",
        Permission::ManageKeys,
        move |call| {
            let meta = resolve(call, &reference, query.tenant.as_deref())?;
            Ok(Json(wire::key_info(
                call.keystore.destroy(&call.caller, &meta)?,
            )))
        },
    )
    .await
}
