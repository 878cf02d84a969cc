//! Policies, the workloads nodes claim, and `policy check` (docs/api.md,
//! "Policies"). A policy's shape is the `policy` crate's own [`Policy`] and
//! [`Selector`]: what the server stores is what it answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::ObjectRef;
use crate::routes;

pub use policy::{Policy, Selector};

/// One container a node acts for, as its agent reads it from the Docker
/// engine. Exactly as trustworthy as the node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadClaim {
    /// The container's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// The container's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// The image name the container was started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The image's content digest (`sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    /// The image's repository digests (`name@sha256:...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    /// The Swarm or Compose service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The container's labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub container_labels: BTreeMap<String, String>,
}

/// Body of `POST /v1/policies`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicyRequest {
    /// The name, unique in its tenant.
    pub name: String,
    /// The tenant [default: the caller's only tenant, or `default`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Who.
    pub subject: Selector,
    /// Volumes granted.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Secrets granted.
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// Answer of `GET /v1/policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyList {
    /// The policies.
    pub policies: Vec<Policy>,
}

/// The workload of a `policy check`: a claim, and the node it runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckedWorkload {
    /// The node (its role and labels come from the inventory).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_id: String,
    /// The container.
    #[serde(flatten)]
    pub claim: WorkloadClaim,
}

/// Body of `POST /v1/policies/check`: exactly one of `volume` and `secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Who asks.
    pub workload: CheckedWorkload,
    /// The volume asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// The secret asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A decision's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// A policy grants it.
    Allowed,
    /// A volume no policy names, asked for by the node that created it.
    AllowedUnbound,
    /// Refused.
    Denied,
}

/// Answer of `POST /v1/policies/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckAnswer {
    /// Whether the workload would get it.
    pub allowed: bool,
    /// The verdict.
    pub outcome: CheckOutcome,
    /// Why, in sentences.
    pub reason: String,
    /// The policy that granted it.
    pub policy: Option<String>,
}

endpoints! {
    /// `POST /v1/policies`.
    CreatePolicy(body CreatePolicyRequest): Post routes::POLICIES => Policy;
}

endpoints! {
    /// `GET /v1/policies`.
    ListPolicies(tenant): Get routes::POLICIES => PolicyList;
}

/// A policy by name, in a tenant.
pub type PolicyRef<'a> = ObjectRef<'a>;

/// Query of the routes on policies: the tenant.
pub type PolicyQuery = crate::endpoint::TenantQuery;

endpoints! {
    /// `GET /v1/policies/{name}`.
    ShowPolicy(object): Get routes::POLICY => Policy;
    /// `DELETE /v1/policies/{name}`.
    RemovePolicy(object): Delete routes::POLICY => Policy;
    /// `POST /v1/policies/check`.
    CheckPolicy(body CheckRequest): Post routes::POLICY_CHECK => CheckAnswer;
}
