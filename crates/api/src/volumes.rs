//! Volumes and their leases (docs/api.md, "Volumes").

use serde::{Deserialize, Serialize};

use crate::endpoint::ObjectRef;
use crate::policies::WorkloadClaim;
use crate::routes;
use crate::secret::SecretString;

/// Whether a lease on a volume runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeState {
    /// A lease runs: `holder` holds it.
    Held,
    /// Nobody holds it.
    Free,
}

impl VolumeState {
    /// The state's spelling in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            VolumeState::Held => "held",
            VolumeState::Free => "free",
        }
    }
}

/// A volume as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeInfo {
    /// The name, unique in its tenant.
    pub name: String,
    /// The tenant.
    pub tenant: String,
    /// The id of the key that holds its secret.
    pub key_id: String,
    /// Its size.
    pub size_bytes: u64,
    /// The filesystem inside.
    pub filesystem: String,
    /// When it was made, RFC 3339.
    pub created_at: String,
    /// Who made it (`node:...`, `token:...`).
    pub created_by: String,
    /// Whether a lease runs.
    pub state: VolumeState,
    /// Who holds the lease.
    pub holder: Option<String>,
    /// When the lease ends, RFC 3339.
    pub lease_expires_at: Option<String>,
    /// Everyone who has held it.
    pub holders: Vec<String>,
}

/// Body of `POST /v1/volumes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVolumeRequest {
    /// The name.
    pub name: String,
    /// The size, 64 MiB to 64 TiB.
    pub size_bytes: u64,
    /// The filesystem [default: `ext4`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<String>,
    /// The tenant [default: the caller's only tenant, or `default`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// Body of acquire, renew and release; optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    /// The volume's tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The lease asked for [default: 60].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u32>,
    /// The containers a node acquires the volume for (acquire only; policies
    /// decide each). Ignored for callers that are not nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<WorkloadClaim>,
}

/// Answer of `GET /v1/volumes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeList {
    /// The volumes.
    pub volumes: Vec<VolumeInfo>,
}

/// Answer of `POST /v1/volumes/{name}/acquire`.
#[derive(Serialize, Deserialize)]
pub struct Acquired {
    /// The volume, with the caller's lease.
    pub volume: VolumeInfo,
    /// Base64 of the secret that opens the volume's keyslot.
    #[serde(with = "crate::secret::exposed")]
    pub secret: SecretString,
}

/// A volume by name, in a tenant.
pub type VolumeRef<'a> = ObjectRef<'a>;

/// Query of the routes on volumes: the tenant.
pub type VolumeQuery = crate::endpoint::TenantQuery;

endpoints! {
    /// `POST /v1/volumes`.
    CreateVolume(body CreateVolumeRequest): Post routes::VOLUMES => VolumeInfo;
}

endpoints! {
    /// `GET /v1/volumes`.
    ListVolumes(tenant): Get routes::VOLUMES => VolumeList;
}

endpoints! {
    /// `GET /v1/volumes/{name}`.
    ShowVolume(object): Get routes::VOLUME => VolumeInfo;
    /// `DELETE /v1/volumes/{name}`.
    RemoveVolume(object): Delete routes::VOLUME => VolumeInfo;
    /// `POST /v1/volumes/{name}/acquire`. The tenant travels in the body.
    AcquireVolume { name, body: LeaseRequest }: Post routes::VOLUME_ACQUIRE => Acquired;
    /// `POST /v1/volumes/{name}/renew`.
    RenewVolume { name, body: LeaseRequest }: Post routes::VOLUME_RENEW => VolumeInfo;
    /// `POST /v1/volumes/{name}/release`.
    ReleaseVolume { name, body: LeaseRequest }: Post routes::VOLUME_RELEASE => VolumeInfo;
}
