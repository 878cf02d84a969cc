//! The JSON bodies of Docker's volume plugin protocol, as Docker documents them
//! (docs "Docker volume plugins", API version 1.2 of the plugin protocol).
//!
//! Field names are Docker's (`Name`, `Opts`, `ID`, `Mountpoint`, `Err`), so the
//! structs rename every field. Requests tolerate fields Docker may add later;
//! responses carry exactly what Docker reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The media type Docker sends and expects on plugin calls.
pub const MEDIA_TYPE: &str = "application/vnd.docker.plugins.v1.2+json";

/// Answer to `/Plugin.Activate`: the subsystems this plugin implements.
#[derive(Debug, Serialize)]
pub struct ActivateResponse {
    /// For example `["VolumeDriver"]`.
    #[serde(rename = "Implements")]
    pub implements: Vec<&'static str>,
}

/// `/VolumeDriver.Create`.
#[derive(Debug, Deserialize)]
pub struct CreateRequest {
    /// The volume's name as the user gave it.
    #[serde(rename = "Name")]
    pub name: String,
    /// `--opt key=value` pairs; Docker sends `null` when there are none.
    #[serde(rename = "Opts", default)]
    pub options: Option<BTreeMap<String, String>>,
}

/// `/VolumeDriver.Remove`, `/VolumeDriver.Path` and `/VolumeDriver.Get`.
#[derive(Debug, Deserialize)]
pub struct NameRequest {
    /// The volume's name.
    #[serde(rename = "Name")]
    pub name: String,
}

/// `/VolumeDriver.Mount` and `/VolumeDriver.Unmount`.
#[derive(Debug, Deserialize)]
pub struct MountRequest {
    /// The volume's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Who mounts: a container id, unique per caller. Docker reuses it (for
    /// example `docker cp` into a running container mounts again with the
    /// container's id) and unmounts per id.
    #[serde(rename = "ID")]
    pub id: String,
}

/// An answer that carries only an error (empty when the call succeeded).
#[derive(Debug, Serialize)]
pub struct ErrResponse {
    /// The error Docker shows the user; empty on success.
    #[serde(rename = "Err")]
    pub err: String,
}

/// Answer to `/VolumeDriver.Mount` and `/VolumeDriver.Path`.
#[derive(Debug, Serialize)]
pub struct MountpointResponse {
    /// Where the volume is mounted on the host; empty when it is not.
    #[serde(rename = "Mountpoint")]
    pub mountpoint: String,
    /// Empty on success.
    #[serde(rename = "Err")]
    pub err: String,
}

/// One volume as `/VolumeDriver.Get` and `/VolumeDriver.List` describe it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Volume {
    /// The volume's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Where it is mounted, if it is.
    #[serde(rename = "Mountpoint", skip_serializing_if = "String::is_empty")]
    pub mountpoint: String,
    /// RFC 3339 creation time, if known.
    #[serde(rename = "CreatedAt", skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    /// Driver-specific facts shown by `docker volume inspect` (never secrets).
    #[serde(rename = "Status", skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, String>,
}

/// Answer to `/VolumeDriver.Get`.
#[derive(Debug, Serialize)]
pub struct GetResponse {
    /// The volume.
    #[serde(rename = "Volume")]
    pub volume: Volume,
    /// Empty on success.
    #[serde(rename = "Err")]
    pub err: String,
}

/// Answer to `/VolumeDriver.List`.
#[derive(Debug, Serialize)]
pub struct ListResponse {
    /// Every volume the driver knows.
    #[serde(rename = "Volumes")]
    pub volumes: Vec<Volume>,
    /// Empty on success.
    #[serde(rename = "Err")]
    pub err: String,
}

/// Whether volumes are visible on this host only or on every host of a cluster.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum Scope {
    /// Volumes exist on one host (storage on a local directory).
    #[serde(rename = "local")]
    Local,
    /// Volumes are the same on every host (storage on a shared mount).
    #[serde(rename = "global")]
    Global,
}

/// The capabilities structure.
#[derive(Debug, Serialize)]
pub struct Capabilities {
    /// The driver's scope.
    #[serde(rename = "Scope")]
    pub scope: Scope,
}

/// Answer to `/VolumeDriver.Capabilities`.
#[derive(Debug, Serialize)]
pub struct CapabilitiesResponse {
    /// The capabilities.
    #[serde(rename = "Capabilities")]
    pub capabilities: Capabilities,
}

/// `/SecretProvider.GetSecret`: Docker Swarm asks for the value of a secret
/// created with `docker secret create --driver <plugin>`, for one task
/// (swarmkit's `SecretsProviderRequest`). Engines up to 20.10 send the secret
/// and service names, the service's labels, hostname and endpoint; newer ones
/// also the secret's labels and the service, task and image. Unknown fields
/// are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct SecretRequest {
    /// The secret's name in the swarm.
    #[serde(rename = "SecretName", default)]
    pub secret_name: String,
    /// The secret's labels (newer engines).
    #[serde(rename = "SecretLabels", default)]
    pub secret_labels: Option<BTreeMap<String, String>>,
    /// The name of the service whose task needs the secret.
    #[serde(rename = "ServiceName", default)]
    pub service_name: Option<String>,
    /// The service's id (newer engines).
    #[serde(rename = "ServiceID", default)]
    pub service_id: Option<String>,
    /// The service's labels.
    #[serde(rename = "ServiceLabels", default)]
    pub service_labels: Option<BTreeMap<String, String>>,
    /// The hostname the service's containers get.
    #[serde(rename = "ServiceHostname", default)]
    pub service_hostname: Option<String>,
    /// The task's id (newer engines).
    #[serde(rename = "TaskID", default)]
    pub task_id: Option<String>,
    /// The task's name (newer engines).
    #[serde(rename = "TaskName", default)]
    pub task_name: Option<String>,
    /// The task's image (newer engines).
    #[serde(rename = "TaskImage", default)]
    pub task_image: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_accepts_null_options_as_docker_sends_them() {
        let request: CreateRequest =
            serde_json::from_str(r#"{"Name":"pgdata","Opts":null}"#).unwrap();
        assert_eq!(request.name, "pgdata");
        assert!(request.options.is_none());
    }

    #[test]
    fn mount_reads_the_callers_id() {
        let request: MountRequest =
            serde_json::from_str(r#"{"Name":"pgdata","ID":"abc123"}"#).unwrap();
        assert_eq!(
            (request.name.as_str(), request.id.as_str()),
            ("pgdata", "abc123")
        );
    }

    #[test]
    fn rejects_a_mount_without_an_id() {
        assert!(serde_json::from_str::<MountRequest>(r#"{"Name":"pgdata"}"#).is_err());
    }

    #[test]
    fn volume_omits_empty_fields_and_keeps_docker_names() {
        let volume = Volume {
            name: "v".to_owned(),
            mountpoint: String::new(),
            created_at: String::new(),
            status: BTreeMap::new(),
        };
        assert_eq!(serde_json::to_string(&volume).unwrap(), r#"{"Name":"v"}"#);
        let scope = serde_json::to_string(&CapabilitiesResponse {
            capabilities: Capabilities {
                scope: Scope::Local,
            },
        })
        .unwrap();
        assert_eq!(scope, r#"{"Capabilities":{"Scope":"local"}}"#);
    }

    #[test]
    fn secret_request_reads_what_docker_20_10_sends() {
        let request: SecretRequest = serde_json::from_str(
            r#"{"SecretName":"db-password","ServiceName":"web","ServiceLabels":{"tier":"front"},"ServiceHostname":"h","ServiceEndpointSpec":{"Mode":1}}"#,
        )
        .unwrap();
        assert_eq!(request.secret_name, "db-password");
        assert_eq!(request.service_name.as_deref(), Some("web"));
        assert!(request.task_image.is_none());
        let newer: SecretRequest = serde_json::from_str(
            r#"{"SecretName":"s","TaskImage":"app:1@sha256:ab","ServiceID":"x1"}"#,
        )
        .unwrap();
        assert_eq!(newer.task_image.as_deref(), Some("app:1@sha256:ab"));
    }
}
