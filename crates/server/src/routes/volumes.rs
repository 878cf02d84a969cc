//! The volume routes: create, list, show and remove volumes, and take, renew
//! and release the lease that lets one holder open a volume.
//!
//! The holder is the caller's identity (its audit name): a node's certificate,
//! or a token. A volume outside the caller's tenants is answered `not_found`.

use api::SecretString;
use api::volumes::{
    Acquired, CreateVolumeRequest, LeaseRequest, VolumeInfo, VolumeList, VolumeQuery,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keystore::model::VolumeRow;
use keystore::{KeystoreError, NewVolume};

use crate::app::{App, Call, JsonBody, OptionalJsonBody, QueryParams, RequestContext};
use crate::auth::Permission;
use crate::console::fleet::{Released, ResourceKind};
use crate::error::ApiError;
use crate::wire::{self, SecretJson};

/// Lease length when the request names none.
const DEFAULT_LEASE_SECS: u32 = 60;

/// The tenant a volume request acts on, refused as `not_found` outside the
/// caller's scope so nothing is learned about other tenants.
fn tenant(call: &Call<'_>, requested: Option<&str>, name: &str) -> Result<String, ApiError> {
    crate::app::scoped_tenant(call, requested, "volume", name)
}

/// `POST /v1/volumes`.
pub(crate) async fn create(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreateVolumeRequest>,
) -> Result<(StatusCode, Json<VolumeInfo>), ApiError> {
    app.call(
        context,
        "volume.create",
        Permission::UseVolumes,
        move |call| {
            let tenant = call
                .principal()
                .creatable_tenant(request.tenant.as_deref(), "volumes")?;
            let row = call.keystore.create_volume(
                &call.caller,
                NewVolume {
                    tenant,
                    name: request.name,
                    size_bytes: request.size_bytes,
                    filesystem: request.filesystem.unwrap_or_else(|| "ext4".to_owned()),
                },
            )?;
            Ok((StatusCode::CREATED, Json(wire::volume_info(row))))
        },
    )
    .await
}

/// `GET /v1/volumes`.
pub(crate) async fn list(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<VolumeQuery>,
) -> Result<Json<VolumeList>, ApiError> {
    app.call(
        context,
        "volume.list",
        Permission::ReadMetadata,
        move |call| {
            let tenants = call.principal().listable_tenants(query.tenant.as_deref());
            let volumes = call.keystore.list_volumes(tenants.as_deref())?;
            call.keystore
                .record(&call.caller, "volume.list", None, None, "ok")?;
            Ok(Json(VolumeList {
                volumes: volumes.into_iter().map(wire::volume_info).collect(),
            }))
        },
    )
    .await
}

/// Turns a missing volume into the same answer as one in another tenant.
fn hidden(name: &str) -> impl Fn(KeystoreError) -> ApiError + '_ {
    crate::app::hidden("volume", name)
}

/// `GET /v1/volumes/{name}`.
pub(crate) async fn show(
    State(app): State<App>,
    context: RequestContext,
    Path(name): Path<String>,
    QueryParams(query): QueryParams<VolumeQuery>,
) -> Result<Json<VolumeInfo>, ApiError> {
    app.call(
        context,
        "volume.show",
        Permission::ReadMetadata,
        move |call| {
            let tenant = tenant(call, query.tenant.as_deref(), &name)?;
            let row = call
                .keystore
                .volume(&tenant, &name)
                .map_err(hidden(&name))?;
            call.keystore.record(
                &call.caller,
                "volume.show",
                Some(&tenant),
                Some(&row.key_id),
                "ok",
            )?;
            Ok(Json(wire::volume_info(row)))
        },
    )
    .await
}

/// `DELETE /v1/volumes/{name}`: destroys the volume's key (crypto-shredding).
pub(crate) async fn remove(
    State(app): State<App>,
    context: RequestContext,
    Path(name): Path<String>,
    QueryParams(query): QueryParams<VolumeQuery>,
) -> Result<Json<VolumeInfo>, ApiError> {
    app.call(
        context,
        "volume.remove",
        Permission::UseVolumes,
        move |call| {
            let tenant = tenant(call, query.tenant.as_deref(), &name)?;
            let row = call
                .keystore
                .remove_volume(&call.caller, &tenant, &name)
                .map_err(hidden(&name))?;
            Ok(Json(wire::volume_info(row)))
        },
    )
    .await
}

/// `POST /v1/volumes/{name}/acquire`: takes (or extends) the caller's lease
/// and returns the secret that opens the volume. A node gets it only when
/// policies allow every workload it names (`policies::release_volume`).
pub(crate) async fn acquire(
    State(app): State<App>,
    context: RequestContext,
    Path(name): Path<String>,
    OptionalJsonBody(request): OptionalJsonBody<LeaseRequest>,
) -> Result<SecretJson<Acquired>, ApiError> {
    app.call(
        context,
        "volume.acquire",
        Permission::UseVolumes,
        move |call| {
            let tenant = tenant(call, request.tenant.as_deref(), &name)?;
            let release =
                crate::policies::release_volume(call, &tenant, &name, &request.workloads)?;
            let grants = release.grants().to_vec();
            let durable = call
                .keystore
                .acquire_volume(
                    &call.caller,
                    release,
                    request.lease_seconds.unwrap_or(DEFAULT_LEASE_SECS),
                )
                .map_err(hidden(&name))?;
            let (row, secret) = durable.wait()?;
            call.console.fleet.record_release(
                &Released {
                    kind: ResourceKind::Volume,
                    tenant: &row.tenant,
                    resource: &row.name,
                    object_id: &row.key_id,
                    // A volume's secret has one version: it is never rotated.
                    version: 1,
                    recipient: &call.caller.principal,
                },
                &request.workloads,
                &grants,
            );
            Ok(SecretJson(Acquired {
                volume: wire::volume_info(row),
                secret: SecretString::encode_base64(secret.expose_secret()),
            }))
        },
    )
    .await
}

/// Runs a lease change of the caller on volume `name` and answers the volume.
async fn change_lease(
    app: App,
    context: RequestContext,
    name: String,
    request: LeaseRequest,
    operation: &'static str,
    change: fn(&Call<'_>, &str, &str, &str, u32) -> Result<VolumeRow, KeystoreError>,
) -> Result<Json<VolumeInfo>, ApiError> {
    app.call(context, operation, Permission::UseVolumes, move |call| {
        let tenant = tenant(call, request.tenant.as_deref(), &name)?;
        let holder = call.principal().audit_name();
        let lease_secs = request.lease_seconds.unwrap_or(DEFAULT_LEASE_SECS);
        let row = change(call, &tenant, &name, &holder, lease_secs).map_err(hidden(&name))?;
        Ok(Json(wire::volume_info(row)))
    })
    .await
}

/// `POST /v1/volumes/{name}/renew`.
pub(crate) async fn renew(
    State(app): State<App>,
    context: RequestContext,
    Path(name): Path<String>,
    OptionalJsonBody(request): OptionalJsonBody<LeaseRequest>,
) -> Result<Json<VolumeInfo>, ApiError> {
    change_lease(
        app,
        context,
        name,
        request,
        "volume.renew",
        |call, tenant, name, holder, secs| {
            call.keystore
                .renew_volume(&call.caller, tenant, name, holder, secs)
        },
    )
    .await
}

/// `POST /v1/volumes/{name}/release`.
pub(crate) async fn release(
    State(app): State<App>,
    context: RequestContext,
    Path(name): Path<String>,
    OptionalJsonBody(request): OptionalJsonBody<LeaseRequest>,
) -> Result<Json<VolumeInfo>, ApiError> {
    change_lease(
        app,
        context,
        name,
        request,
        "volume.release",
        |call, tenant, name, holder, _| {
            call.keystore
                .release_volume(&call.caller, tenant, name, holder)
        },
    )
    .await
}
