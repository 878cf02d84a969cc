//! The policy routes (create, list, show, remove, check) and the two places
//! policies are enforced: a node acquiring a volume's lease, and a node
//! receiving a secret for its containers.
//!
//! Deny by default. A node says which containers it acts for (its
//! `WorkloadClaim`s, read by its agent from the Docker engine); the server
//! adds what it knows itself (the node's id, role and labels from the
//! inventory) and every workload must be allowed, or nothing is released.
//! Every decision is audited as `policy.decide`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keystore::KeystoreError;
use policy::{Decision, Outcome, Policy, Resource, Selector, Workload};
use serde::{Deserialize, Serialize};

use crate::api::{App, Call, JsonBody, QueryParams, RequestContext};
use crate::auth::Permission;
use crate::error::{ApiError, Code};

/// Most workloads one request may claim: a host runs many containers, but a
/// volume or secret is used by a handful at once.
pub const MAX_WORKLOADS: usize = 64;

/// One container a node acts for, as its agent reads it from the Docker
/// engine. Exactly as trustworthy as the node.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadClaim {
    /// The container's id.
    #[serde(default)]
    pub container_id: Option<String>,
    /// The container's name.
    #[serde(default)]
    pub container_name: Option<String>,
    /// The image name the container was started with.
    #[serde(default)]
    pub image: Option<String>,
    /// The image's content digest (`sha256:...`).
    #[serde(default)]
    pub image_digest: Option<String>,
    /// The image's repository digests (`name@sha256:...`).
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// The Swarm or Compose service.
    #[serde(default)]
    pub service: Option<String>,
    /// The container's labels.
    #[serde(default)]
    pub container_labels: BTreeMap<String, String>,
}

impl WorkloadClaim {
    /// The container as people name it in a refusal.
    fn describe(&self) -> String {
        let container = self
            .container_name
            .as_deref()
            .or(self.container_id.as_deref());
        let image = self
            .image_digest
            .as_deref()
            .or(self.image.as_deref())
            .or(self.repo_digests.first().map(String::as_str));
        match (container, image) {
            (Some(container), Some(image)) => format!("container '{container}' (image {image})"),
            (Some(container), None) => format!("container '{container}'"),
            (None, Some(image)) => format!("a container of image {image}"),
            (None, None) => "a workload with no container information".to_owned(),
        }
    }
}

/// The workloads of a request: one per claim, or one with no container
/// information when the node claims none.
fn workloads(node: &keystore::model::NodeRow, claims: &[WorkloadClaim]) -> Vec<(Workload, String)> {
    let base = Workload {
        node_id: node.id.clone(),
        node_role: node.role.as_str().to_owned(),
        node_labels: node.labels.clone(),
        ..Workload::default()
    };
    if claims.is_empty() {
        return vec![(base, WorkloadClaim::default().describe())];
    }
    claims
        .iter()
        .map(|claim| {
            (
                Workload {
                    image_digest: claim.image_digest.clone(),
                    repo_digests: claim.repo_digests.clone(),
                    image: claim.image.clone(),
                    service: claim.service.clone(),
                    container_labels: claim.container_labels.clone(),
                    ..base.clone()
                },
                claim.describe(),
            )
        })
        .collect()
}

/// Decides every workload the calling node claims for `resource` of
/// `tenant`, audits each decision as `policy.decide` (object: `object_id`,
/// the volume's or secret's key id), and refuses with `policy_denied` unless
/// all are allowed. Callers that are not nodes are not subject to policies
/// (their role decides): the answer is `Ok` at once.
pub(crate) fn enforce(
    call: &Call<'_>,
    tenant: &str,
    resource: &Resource<'_>,
    object_id: &str,
    claims: &[WorkloadClaim],
) -> Result<(), ApiError> {
    let Some(node_id) = call.principal().node_id() else {
        return Ok(());
    };
    if claims.len() > MAX_WORKLOADS {
        return Err(ApiError::bad_request(format!(
            "a request claims at most {MAX_WORKLOADS} workloads; {} were given",
            claims.len()
        )));
    }
    let node = crate::nodes::node_of(call.keystore, node_id)?;
    let policies = call.keystore.list_policies(Some(&[tenant.to_owned()]))?;
    let mut refusal = None;
    for (workload, described) in workloads(&node, claims) {
        let decision = policy::decide(&policies, &workload, resource);
        let allowed = decision.allowed();
        let mut details = vec![("container".to_owned(), described.clone().into_bytes())];
        if let Some(digest) = &workload.image_digest {
            details.push(("image_digest".to_owned(), digest.clone().into_bytes()));
        }
        call.keystore.record_decision(
            &call.caller,
            tenant,
            object_id,
            if allowed { "ok" } else { "policy_denied" },
            details,
        )?;
        if !allowed && refusal.is_none() {
            refusal = Some(refused(resource, &described, &decision));
        }
    }
    match refusal {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Refuses a node a direct read of secret data (a secret's value, a volume's
/// secret): nodes receive those only through `deliver` and `acquire`, where
/// policies decide. Keys a node made itself stay readable.
pub(crate) fn refuse_direct_read(
    call: &Call<'_>,
    meta: &keystore::object::ObjectMeta,
) -> Result<(), ApiError> {
    if call.principal().node_id().is_some()
        && meta.object_type == keystore::object::ObjectType::SecretData
    {
        return Err(ApiError::new(
            Code::Forbidden,
            "a node receives secrets only with POST /v1/secrets/{ref}/deliver and volume secrets only with POST /v1/volumes/{name}/acquire, where policies decide",
        ));
    }
    Ok(())
}

fn what(resource: &Resource<'_>) -> String {
    match resource {
        Resource::Volume { name, .. } => format!("volume '{name}'"),
        Resource::Secret { name } => format!("secret '{name}'"),
    }
}

/// The 403 of a refused workload: which resource, which container, and why.
fn refused(resource: &Resource<'_>, described: &str, decision: &Decision) -> ApiError {
    ApiError::new(
        Code::PolicyDenied,
        format!(
            "{} is refused to {described}: {}; an admin can grant it with `cryptainer policy create`",
            what(resource),
            decision.reasons.join("; ")
        ),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatePolicyRequest {
    name: String,
    tenant: Option<String>,
    subject: Selector,
    #[serde(default)]
    volumes: Vec<String>,
    #[serde(default)]
    secrets: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyQuery {
    tenant: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct PolicyList {
    policies: Vec<Policy>,
}

/// The tenant a policy request acts on; outside the caller's tenants the
/// policy does not exist.
fn tenant(call: &Call<'_>, requested: Option<&str>, name: &str) -> Result<String, ApiError> {
    crate::api::scoped_tenant(call, requested, "policy", name)
}

fn hidden(name: &str) -> impl Fn(KeystoreError) -> ApiError + '_ {
    crate::api::hidden("policy", name)
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

/// The workload of a `policy check`: a claim, and the node it runs on.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckedWorkload {
    #[serde(default)]
    node_id: String,
    #[serde(flatten)]
    claim: WorkloadClaim,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckRequest {
    tenant: Option<String>,
    workload: CheckedWorkload,
    volume: Option<String>,
    secret: Option<String>,
}

/// What `policy check` answers.
#[derive(Serialize)]
pub(crate) struct CheckAnswer {
    allowed: bool,
    /// `allowed`, `allowed_unbound` or `denied`.
    outcome: &'static str,
    /// Why, in sentences.
    reason: String,
    /// The policy that granted it, if one did.
    policy: Option<String>,
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
                Outcome::Allowed { policy } => ("allowed", Some(policy)),
                Outcome::AllowedUnbound => ("allowed_unbound", None),
                Outcome::Denied => ("denied", None),
            };
            Ok(Json(CheckAnswer {
                allowed: outcome != "denied",
                outcome,
                reason: decision.reasons.join("; "),
                policy,
            }))
        },
    )
    .await
}
