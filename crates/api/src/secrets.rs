//! Secrets: values people put in, versioned like keys (docs/api.md,
//! "Secrets"). A value travels only in a body, base64.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, Method, ObjectRef, Query, Request, RequestError};
use crate::keys::KeyInfo;
use crate::policies::WorkloadClaim;
use crate::routes;
use crate::secret::SecretString;

/// Body of `POST /v1/secrets`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSecretRequest {
    /// The name.
    pub name: String,
    /// Base64 of the value.
    #[serde(with = "crate::secret::exposed")]
    pub value: SecretString,
    /// The tenant [default: the caller's only tenant, or `default`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Body of `POST /v1/secrets/{ref}/rotate`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// Base64 of the new value.
    #[serde(with = "crate::secret::exposed")]
    pub value: SecretString,
}

/// Query of `GET /v1/secrets`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretListQuery {
    /// Only this tenant.
    pub tenant: Option<String>,
    /// At most this many [default: 100].
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u64>,
}

/// Answer of `GET /v1/secrets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretList {
    /// One page of secrets (metadata).
    pub secrets: Vec<KeyInfo>,
    /// How many secret data objects there are in all.
    pub total: u64,
}

/// Answer of `GET /v1/secrets/{ref}/value` and `POST /v1/secrets/{ref}/deliver`.
#[derive(Serialize, Deserialize)]
pub struct SecretValue {
    /// The secret's id.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// The version read.
    pub version: u32,
    /// Base64 of the value.
    #[serde(with = "crate::secret::exposed")]
    pub value: SecretString,
}

/// Body of `POST /v1/secrets/{ref}/deliver`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverRequest {
    /// The secret's tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The containers the node asks for.
    #[serde(default)]
    pub workloads: Vec<WorkloadClaim>,
}

/// A secret by id or name, in a tenant.
pub type SecretRef<'a> = ObjectRef<'a>;

/// Query of the routes on one secret: its tenant, and a version (value).
pub type SecretQuery = crate::endpoint::ObjectQuery;

endpoints! {
    /// `POST /v1/secrets`.
    CreateSecret(body CreateSecretRequest): Post routes::SECRETS => KeyInfo;
}

/// `GET /v1/secrets`.
pub struct ListSecrets<'a>(pub &'a SecretListQuery);

impl Endpoint for ListSecrets<'_> {
    type Answer = SecretList;

    fn request(&self) -> Result<Request, RequestError> {
        Ok(Request::to(Method::Get, routes::SECRETS, &[])?.with_query(
            Query::new()
                .optional("tenant", self.0.tenant.as_deref())
                .optional("limit", self.0.limit)
                .optional("offset", self.0.offset)
                .pairs(),
        ))
    }
}

endpoints! {
    /// `GET /v1/secrets/{ref}`.
    ShowSecret(object): Get routes::SECRET => KeyInfo;
}

/// `GET /v1/secrets/{ref}/value`.
pub struct ReadSecret<'a> {
    /// The secret.
    pub secret: SecretRef<'a>,
    /// The version [default: the newest].
    pub version: Option<u32>,
}

impl Endpoint for ReadSecret<'_> {
    type Answer = SecretValue;

    fn request(&self) -> Result<Request, RequestError> {
        self.secret
            .request(Method::Get, routes::SECRET_VALUE, self.version)
    }
}

/// `POST /v1/secrets/{ref}/rotate`.
pub struct RotateSecret<'a> {
    /// The secret.
    pub secret: SecretRef<'a>,
    /// The new value.
    pub body: &'a RotateSecretRequest,
}

impl Endpoint for RotateSecret<'_> {
    type Answer = KeyInfo;

    fn request(&self) -> Result<Request, RequestError> {
        self.secret
            .request(Method::Post, routes::SECRET_ROTATE, None)?
            .with_json(self.body)
    }
}

endpoints! {
    /// `DELETE /v1/secrets/{ref}`.
    DestroySecret(object): Delete routes::SECRET => KeyInfo;
    /// `POST /v1/secrets/{ref}/deliver`. The tenant travels in the body.
    DeliverSecret { reference, body: DeliverRequest }: Post routes::SECRET_DELIVER => SecretValue;
}
