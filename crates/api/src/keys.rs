//! Keys: metadata, the life cycle and the material (docs/api.md, "Keys").
//! [`KeyInfo`] is also how secrets are shown.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::endpoint::{Endpoint, Method, ObjectRef, Query, Request, RequestError};
use crate::routes;
use crate::secret::SecretString;

/// The KMIP states of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectState {
    /// Created but not yet usable.
    PreActive,
    /// Usable.
    Active,
    /// Revoked: usable only to process existing data.
    Deactivated,
    /// Revoked as compromised.
    Compromised,
    /// Material erased; the metadata remains.
    Destroyed,
    /// Material erased after a compromise.
    DestroyedCompromised,
}

impl ObjectState {
    /// The state's spelling in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectState::PreActive => "pre_active",
            ObjectState::Active => "active",
            ObjectState::Deactivated => "deactivated",
            ObjectState::Compromised => "compromised",
            ObjectState::Destroyed => "destroyed",
            ObjectState::DestroyedCompromised => "destroyed_compromised",
        }
    }
}

/// Why an object was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// No reason given.
    Unspecified,
    /// Known or suspected to be disclosed.
    Compromised,
    /// Replaced by a newer key.
    Superseded,
    /// No longer needed.
    CessationOfOperation,
}

impl RevocationReason {
    /// The reason's spelling in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::Compromised => "compromised",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation_of_operation",
        }
    }
}

/// An object's metadata as the API shows it (keys, key pairs, certificates,
/// secrets): never its material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The id (a UUID).
    pub id: String,
    /// The name, unique in its tenant while not destroyed.
    pub name: Option<String>,
    /// The tenant.
    pub tenant: String,
    /// `symmetric_key`, `secret_data`, `public_key`, `private_key`,
    /// `certificate`, `split_key`, `opaque_object`.
    pub object_type: String,
    /// `aes-256`, `aes-128`, `hmac-sha256`, `rsa-2048`, `ec-p256`, `none`, ...
    pub algorithm: String,
    /// Key length in bits (0 where it does not apply).
    pub length: u32,
    /// The state.
    pub state: ObjectState,
    /// The version new operations use.
    pub version: u32,
    /// The labels.
    pub labels: BTreeMap<String, String>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it became active.
    #[serde(with = "time::serde::rfc3339::option")]
    pub activation_date: Option<OffsetDateTime>,
    /// When it was deactivated.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deactivation_date: Option<OffsetDateTime>,
    /// When it was compromised.
    #[serde(with = "time::serde::rfc3339::option")]
    pub compromise_date: Option<OffsetDateTime>,
    /// When its material was destroyed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub destroy_date: Option<OffsetDateTime>,
    /// Why it was revoked.
    pub revocation_reason: Option<RevocationReason>,
    /// When its current version was made.
    #[serde(with = "time::serde::rfc3339")]
    pub rotated_at: OffsetDateTime,
}

/// Body of `POST /v1/keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// The name.
    pub name: String,
    /// `aes-256` (default), `aes-128` or `hmac-sha256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// The tenant [default: the caller's only tenant, or `default`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Query of `GET /v1/keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyListQuery {
    /// Only this tenant.
    pub tenant: Option<String>,
    /// Only this name.
    pub name: Option<String>,
    /// Only this state (its API spelling).
    pub state: Option<String>,
    /// At most this many [default: 100].
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u64>,
}

/// Answer of `GET /v1/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    /// One page of keys.
    pub keys: Vec<KeyInfo>,
    /// How many match in all.
    pub total: u64,
}

/// Answer of `GET /v1/keys/{ref}/material`.
#[derive(Serialize, Deserialize)]
pub struct Material {
    /// The key's id.
    pub id: String,
    /// The version read.
    pub version: u32,
    /// The key's algorithm.
    pub algorithm: String,
    /// Base64 of the material.
    #[serde(with = "crate::secret::exposed")]
    pub material: SecretString,
}

/// Body of `POST /v1/keys/{ref}/revoke`; optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why [default: `unspecified`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<RevocationReason>,
}

endpoints! {
    /// `POST /v1/keys`.
    CreateKey(body CreateKeyRequest): Post routes::KEYS => KeyInfo;
}

/// `GET /v1/keys`.
pub struct ListKeys<'a>(pub &'a KeyListQuery);

impl Endpoint for ListKeys<'_> {
    type Answer = KeyList;

    fn request(&self) -> Result<Request, RequestError> {
        let query = self.0;
        Ok(Request::to(Method::Get, routes::KEYS, &[])?.with_query(
            Query::new()
                .optional("limit", query.limit)
                .optional("offset", query.offset)
                .optional("tenant", query.tenant.as_deref())
                .optional("name", query.name.as_deref())
                .optional("state", query.state.as_deref())
                .pairs(),
        ))
    }
}

/// A key by id or name, in a tenant.
pub type KeyRef<'a> = ObjectRef<'a>;

/// Query of the routes on one key: its tenant, and a version (material).
pub type KeyQuery = crate::endpoint::ObjectQuery;

endpoints! {
    /// `GET /v1/keys/{ref}`.
    ShowKey(object): Get routes::KEY => KeyInfo;
    /// `POST /v1/keys/{ref}/rotate`.
    RotateKey(object): Post routes::KEY_ROTATE => KeyInfo;
}

/// `POST /v1/keys/{ref}/revoke`.
pub struct RevokeKey<'a> {
    /// The key.
    pub key: KeyRef<'a>,
    /// The body.
    pub body: &'a RevokeRequest,
}

impl Endpoint for RevokeKey<'_> {
    type Answer = KeyInfo;

    fn request(&self) -> Result<Request, RequestError> {
        self.key
            .request(Method::Post, routes::KEY_REVOKE, None)?
            .with_json(self.body)
    }
}

endpoints! {
    /// `DELETE /v1/keys/{ref}`.
    DestroyKey(object): Delete routes::KEY => KeyInfo;
}

/// `GET /v1/keys/{ref}/material`.
pub struct ReadMaterial<'a> {
    /// The key.
    pub key: KeyRef<'a>,
    /// The version [default: the newest].
    pub version: Option<u32>,
}

impl Endpoint for ReadMaterial<'_> {
    type Answer = Material;

    fn request(&self) -> Result<Request, RequestError> {
        self.key
            .request(Method::Get, routes::KEY_MATERIAL, self.version)
    }
}
