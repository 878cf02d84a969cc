//! The policy routes (`/v1/policies`): create, list, show and remove
//! policies, and `check`, which says what the server would decide for a
//! workload, and why, releasing nothing.

use api::policies::{
    CheckAnswer, CheckOutcome, CheckRequest, CreatePolicyRequest, PolicyList, PolicyQuery,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keystore::KeystoreError;
use policy::{Outcome, Policy, Resource, Workload};

use crate::app::{App, Call, JsonBody, QueryParams, RequestContext};
use crate::auth::Permission;
use crate::error::{ApiError, Code};

/// The tenant a policy request acts on; outside the caller's tenants the
/// policy does not exist.
fn tenant(call: &Call<'_>, requested: Option<&str>, name: &str) -> Result<String, ApiError> {
    crate::app::scoped_tenant(call, requested, "policy", name)
}

fn hidden(name: &str) -> impl Fn(KeystoreError) -> ApiError + '_ {
    crate::app::hidden("policy", name)
}

/// `POST /v1/policies`.
pub(crate) async fn create(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreatePolicyRequest>,
) -> Result<(StatusCode, Json<Policy>), ApiError> {
    app.call(
        context,
        "policy.create",
        Permission::ManagePolicies,
        move |call| {
            let tenant = call
                .principal()
                .creatable_tenant(request.tenant.as_deref(), "policies")?;
            let policy = call.keystore.create_policy(
                &call.caller,
                Policy {
                    name: request.name,
                    tenant,
                    subject: request.subject,
                    volumes: request.volumes,
                    secrets: request.secrets,
                },
            )?;
            Ok((StatusCode::CREATED, Json(policy)))
        },
    )
    .await
}

/// `GET /v1/policies`.
pub(crate) async fn list(
    State(app): State<App>,
    context: RequestContext,
    QueryParams(query): QueryParams<PolicyQuery>,
) -> Result<Json<PolicyList>, ApiError> {
    app.call(
        context,
        "policy.list",
        Permission::ReadPolicies,
        move |call| {
            let tenants = call.principal().listable_tenants(query.tenant.as_deref());
            let policies = call.keystore.list_policies(tenants.as_deref())?;
            call.keystore
                .record(&call.caller, "policy.list", None, None, "ok")?;
            Ok(Json(PolicyList { policies }))
        },
    )
    .await
}

/// `GET /v1/policies/{name}`.
pub(crate) async fn show(
    State(app): State<App>,
    context: RequestContext,
    Path(name): Path<String>,
    QueryParams(query): QueryParams<PolicyQuery>,
) -> Result<Json<Policy>, ApiError> {
    app.call(
        context,
        "policy.show",
        Permission::ReadPolicies,
        move |call| {
            let tenant = tenant(call, query.tenant.as_deref(), &name)?;
            let policy = call
                .keystore
                .policy(&tenant, &name)
                .map_err(hidden(&name))?;
            call.keystore
                .record(&call.caller, "policy.show", Some(&tenant), None, "ok")?;
            Ok(Json(policy))
        },
    )
    .await
}

/// `DELETE /v1/policies/{name}`.
pub(crate) async fn remove(
    State(app): State<App>,
    context: RequestContext,
    Path(name): Path<String>,
    QueryParams(query): QueryParams<PolicyQuery>,
) -> Result<Json<Policy>, ApiError> {
    app.call(
        context,
        "policy.delete",
        Permission::ManagePolicies,
        move |call| {
            let tenant = tenant(call, query.tenant.as_deref(), &name)?;
            let policy = call
                .keystore
                .remove_policy(&call.caller, &tenant, &name)
                .map_err(hidden(&name))?;
            Ok(Json(policy))
        },
    )
    .await
}

/// `POST /v1/policies/check`: what the server would decide, and why; nothing
/// is released. The node's role and labels come from the inventory when
/// `node_id` names a node of the tenant.
pub(crate) async fn check(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CheckRequest>,
) -> Result<Json<CheckAnswer>, ApiError> {
    app.call(
        context,
        "policy.check",
        Permission::ReadPolicies,
        move |call| {
            let tenant = call.principal().tenant_for(request.tenant.as_deref());
            if !call.principal().scope.allows(&tenant) {
                return Err(ApiError::new(
                    Code::Forbidden,
                    format!("this caller may not check policies of tenant '{tenant}'"),
                ));
            }
            let claim = request.workload.claim;
            let mut workload = Workload {
                node_id: request.workload.node_id,
                image_digest: claim.image_digest,
                repo_digests: claim.repo_digests,
                image: claim.image,
                service: claim.service,
                container_labels: claim.container_labels,
                ..Workload::default()
            };
            if let Some(node) = call
                .keystore
                .node(&workload.node_id)?
                .filter(|node| node.tenant == tenant)
            {
                workload.node_role = node.role.as_str().to_owned();
                workload.node_labels = node.labels;
            }
            let policies = call
                .keystore
                .list_policies(Some(std::slice::from_ref(&tenant)))?;
            let decision = match (&request.volume, &request.secret) {
                (Some(volume), None) => {
                    let creator = match call.keystore.volume(&tenant, volume) {
                        Ok(row) => row
                            .created_by
                            .strip_prefix(crate::auth::NODE_PRINCIPAL_PREFIX)
                            .map(str::to_owned),
                        Err(KeystoreError::NotFound { .. }) => None,
                        Err(error) => return Err(error.into()),
                    };
                    policy::decide(
                        &policies,
                        &workload,
                        &Resource::Volume {
                            name: volume,
                            creator_node: creator.as_deref(),
                        },
                    )
                }
                (None, Some(secret)) => {
                    policy::decide(&policies, &workload, &Resource::Secret { name: secret })
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "name exactly one of \"volume\" and \"secret\" to check",
                    ));
                }
            };
            call.keystore
                .record(&call.caller, "policy.check", Some(&tenant), None, "ok")?;
            let (outcome, policy) = match decision.outcome {
                Outcome::Allowed { policy } => (CheckOutcome::Allowed, Some(policy)),
                Outcome::AllowedUnbound => (CheckOutcome::AllowedUnbound, None),
                Outcome::Denied => (CheckOutcome::Denied, None),
            };
            Ok(Json(CheckAnswer {
                allowed: outcome != CheckOutcome::Denied,
                outcome,
                reason: decision.reasons.join("; "),
                policy,
            }))
        },
    )
    .await
}
