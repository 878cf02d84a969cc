//! The policy routes (create, list, show, remove, check) and the two places
//! policies are enforced: a node acquiring a volume's lease, and a node
//! receiving a secret for its containers.
//!
//! Deny by default. A node says which containers it acts for (its
//! `WorkloadClaim`s, read by its agent from the Docker engine); the key
//! manager adds what it knows itself (the node's id, role and labels from the
//! inventory), decides each workload and records each decision as
//! `policy.decide`, and releases nothing unless every one is allowed. What
//! it hands back is the proof of that decision ([`VolumeRelease`],
//! [`SecretRelease`]), which the only calls that release material require.

use api::policies::WorkloadClaim;
use keystore::object::ObjectMeta;
use keystore::{
    ClaimedWorkload, KeystoreError, ReleaseDecision, SecretRelease, UNNAMED_WORKLOAD, VolumeRelease,
};
use policy::{Decision, Resource, Workload};

use crate::app::Call;
use crate::console::fleet::{RefusalEntry, ResourceKind};
use crate::error::{ApiError, Code};

/// The container of `claim` as people name it in a refusal.
fn describe(claim: &WorkloadClaim) -> String {
    let container = claim
        .container_name
        .as_deref()
        .or(claim.container_id.as_deref());
    let image = claim
        .image_digest
        .as_deref()
        .or(claim.image.as_deref())
        .or(claim.repo_digests.first().map(String::as_str));
    match (container, image) {
        (Some(container), Some(image)) => format!("container '{container}' (image {image})"),
        (Some(container), None) => format!("container '{container}'"),
        (None, Some(image)) => format!("a container of image {image}"),
        (None, None) => UNNAMED_WORKLOAD.to_owned(),
    }
}

/// What the key manager decides for `claim`: the container as the node
/// describes it (the node's own id, role and labels come from the inventory,
/// never from the request).
fn claimed_workload(claim: &WorkloadClaim) -> ClaimedWorkload {
    ClaimedWorkload {
        workload: Workload {
            image_digest: claim.image_digest.clone(),
            repo_digests: claim.repo_digests.clone(),
            image: claim.image.clone(),
            service: claim.service.clone(),
            container_labels: claim.container_labels.clone(),
            ..Workload::default()
        },
        description: describe(claim),
    }
}

/// Decides whether the calling node may receive the secret of volume `name`
/// of `tenant` for the workloads it claims (`Keystore::decide_volume_release`:
/// each decision audited as `policy.decide`), and refuses with
/// `policy_denied` unless all are allowed. A caller that is not a node gets
/// the release at once: its role decided. A volume outside the caller's
/// reach is `not_found`, as a missing one.
pub(crate) fn release_volume(
    call: &Call<'_>,
    tenant: &str,
    name: &str,
    claims: &[WorkloadClaim],
) -> Result<VolumeRelease, ApiError> {
    let decision = call
        .keystore
        .decide_volume_release(&call.caller, tenant, name, &claimed(claims))
        .map_err(|error| decision_error(error, crate::app::hidden("volume", name)))?;
    allowed(
        call,
        tenant,
        decision,
        &Resource::Volume {
            name,
            creator_node: None,
        },
    )
}

/// [`release_volume`] for the value of the secret `meta`.
pub(crate) fn release_secret(
    call: &Call<'_>,
    meta: &ObjectMeta,
    claims: &[WorkloadClaim],
) -> Result<SecretRelease, ApiError> {
    let decision = call
        .keystore
        .decide_secret_release(&call.caller, meta, &claimed(claims))
        .map_err(|error| decision_error(error, ApiError::from))?;
    let name = meta.name.as_deref().unwrap_or(&meta.id);
    allowed(call, &meta.tenant, decision, &Resource::Secret { name })
}

/// What the key manager decides for `claims`.
fn claimed(claims: &[WorkloadClaim]) -> Vec<ClaimedWorkload> {
    claims.iter().map(claimed_workload).collect()
}

/// The release, or the 403 of its refused workload (recorded in the fleet
/// model, for the console's refused releases).
fn allowed<R>(
    call: &Call<'_>,
    tenant: &str,
    decision: ReleaseDecision<R>,
    resource: &Resource<'_>,
) -> Result<R, ApiError> {
    match decision {
        ReleaseDecision::Allowed(release) => Ok(release),
        ReleaseDecision::Denied(denial) => {
            if let Some(node_id) = call.principal().node_id() {
                let (kind, name) = match resource {
                    Resource::Volume { name, .. } => (ResourceKind::Volume, *name),
                    Resource::Secret { name } => (ResourceKind::Secret, *name),
                };
                call.console.fleet.record_refusal(RefusalEntry {
                    at: time::OffsetDateTime::now_utc(),
                    node_id: node_id.to_owned(),
                    kind,
                    resource: name.to_owned(),
                    tenant: tenant.to_owned(),
                    workload: denial.workload.clone(),
                    reason: denial.decision.reasons.join("; "),
                });
            }
            Err(refused(resource, &denial.workload, &denial.decision))
        }
    }
}

/// A failure to decide: an unknown calling node is unauthenticated (its
/// certificate names a node the inventory does not know); the rest as
/// `otherwise` maps them.
fn decision_error(error: KeystoreError, otherwise: impl Fn(KeystoreError) -> ApiError) -> ApiError {
    match error {
        KeystoreError::NotFound {
            what: "node",
            reference,
        } => ApiError::new(Code::Unauthenticated, format!("unknown node '{reference}'")),
        other => otherwise(other),
    }
}

/// Refuses a node a direct read of secret data (a secret's value, a volume's
/// secret): nodes receive those only through `deliver` and `acquire`, where
/// policies decide. Keys a node made itself stay readable.
pub(crate) fn refuse_direct_read(call: &Call<'_>, meta: &ObjectMeta) -> Result<(), ApiError> {
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
