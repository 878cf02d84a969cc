//! A small client of the Docker engine API, over its Unix socket: the agent
//! asks it which containers are mounting a volume, and what a Swarm service
//! runs, to tell the key manager which workloads it acts for
//! (`api::policies::WorkloadClaim`). The key manager checks those claims against its
//! policies; without them nothing is released (deny by default).
//!
//! Requests are HTTP/1.0 `GET`s (one connection each, the answer read to the
//! end), so the engine answers with a plain body. Only what the agent reads
//! is parsed.
//!
//! The agent never inspects a container (`/containers/{id}/json`): the engine
//! holds the lock of a container it is starting while it asks the plugin to
//! mount, so that call would wait for itself. The container list reads a
//! snapshot and carries everything a claim needs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use api::policies::WorkloadClaim;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Where the Docker engine listens unless told otherwise.
pub const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// Largest answer read from the engine; a host's container list fits easily.
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// How long one call to the engine may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Label Docker Swarm puts on a task's containers.
const SWARM_SERVICE_LABEL: &str = "com.docker.swarm.service.name";

/// Label Docker Compose puts on a service's containers.
const COMPOSE_SERVICE_LABEL: &str = "com.docker.compose.service";

/// Why the engine could not tell the agent what runs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DockerError {
    /// The socket could not be reached.
    #[error(
        "cannot reach the Docker engine at {socket}: {source}; the agent asks it which container is starting, so nothing is released without it. Start dockerd, or point `agent run --docker-socket` at its socket"
    )]
    Unreachable {
        /// The engine's socket.
        socket: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The engine did not answer in time.
    #[error(
        "the Docker engine at {socket} did not answer {path} within {seconds} s; is it overloaded?"
    )]
    Timeout {
        /// The engine's socket.
        socket: PathBuf,
        /// The call.
        path: String,
        /// The limit.
        seconds: u64,
    },
    /// The engine answered with an error status.
    #[error("the Docker engine refused {path} ({status}): {message}")]
    Refused {
        /// The call.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The engine's message.
        message: String,
    },
    /// The answer could not be understood.
    #[error("the Docker engine's answer to {path} is not what the agent expects: {detail}")]
    BadAnswer {
        /// The call.
        path: String,
        /// What was wrong.
        detail: String,
    },
}

/// A Docker engine that could not say what runs: nothing is released.
pub(crate) fn unavailable(error: DockerError) -> plugin::DriverError {
    plugin::DriverError::new(plugin::ErrorKind::Unavailable, error.to_string())
}

/// A client of the engine at one socket.
#[derive(Debug, Clone)]
pub(crate) struct DockerClient {
    socket: PathBuf,
}

/// A container as `GET /containers/json` lists it.
#[derive(Debug, Deserialize)]
struct ContainerSummary {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Names", default)]
    names: Vec<String>,
    #[serde(rename = "Image", default)]
    image: String,
    #[serde(rename = "ImageID", default)]
    image_id: String,
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "State", default)]
    state: String,
    #[serde(rename = "Mounts", default)]
    mounts: Option<Vec<MountSummary>>,
}

/// A mount of a container as `GET /containers/json` lists it.
#[derive(Debug, Deserialize)]
struct MountSummary {
    #[serde(rename = "Type", default)]
    kind: String,
    #[serde(rename = "Name", default)]
    name: Option<String>,
    #[serde(rename = "Driver", default)]
    driver: Option<String>,
}

/// The part of `GET /images/{name}/json` the agent reads.
#[derive(Debug, Deserialize)]
struct ImageInspect {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "RepoDigests", default)]
    repo_digests: Option<Vec<String>>,
}

/// The part of `GET /services/{name}` the agent reads.
#[derive(Debug, Deserialize)]
struct ServiceInspect {
    #[serde(rename = "Spec")]
    spec: ServiceSpec,
}

#[derive(Debug, Deserialize)]
struct ServiceSpec {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "TaskTemplate", default)]
    task_template: Option<TaskTemplate>,
}

#[derive(Debug, Deserialize)]
struct TaskTemplate {
    #[serde(rename = "ContainerSpec", default)]
    container_spec: Option<ContainerSpec>,
}

#[derive(Debug, Deserialize)]
struct ContainerSpec {
    #[serde(rename = "Image", default)]
    image: String,
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

/// What Docker Swarm says about the task a secret is for.
#[derive(Debug, Default, Clone)]
pub(crate) struct SwarmTask {
    /// The service's name.
    pub service_name: Option<String>,
    /// The service's id.
    pub service_id: Option<String>,
    /// The task's image, when the engine sends it (newer engines do).
    pub task_image: Option<String>,
}

impl DockerClient {
    /// A client of the engine listening on `socket`.
    pub(crate) fn new(socket: PathBuf) -> DockerClient {
        DockerClient { socket }
    }

    /// The workloads mounting volume `volume` now: every container using it
    /// that is not running (the one being started, and any other stopped
    /// one, since the agent cannot tell which of them Docker starts; the key
    /// manager must allow them all). Running containers already had their
    /// turn.
    pub(crate) async fn claims_for_volume(
        &self,
        volume: &str,
    ) -> Result<Vec<WorkloadClaim>, DockerError> {
        let filters = serde_json::json!({ "volume": [volume] }).to_string();
        let path = format!(
            "/containers/json?all=1&filters={}",
            percent_encode(&filters)
        );
        let containers: Vec<ContainerSummary> = self.get_json(&path).await?;
        let mut claims = Vec::new();
        for container in containers {
            if matches!(container.state.as_str(), "running" | "paused") {
                continue;
            }
            let image_reference = if container.image_id.is_empty() {
                container.image.clone()
            } else {
                container.image_id.clone()
            };
            let image = self.image(&image_reference).await?;
            let labels = container.labels.unwrap_or_default();
            claims.push(WorkloadClaim {
                container_name: container
                    .names
                    .first()
                    .map(|name| name.trim_start_matches('/').to_owned()),
                container_id: Some(container.id),
                image: (!container.image.is_empty()).then_some(container.image),
                image_digest: image.as_ref().map(|image| image.id.clone()),
                repo_digests: image
                    .and_then(|image| image.repo_digests)
                    .unwrap_or_default(),
                service: service_of(&labels),
                container_labels: labels,
            });
        }
        Ok(claims)
    }

    /// The running containers that mount volumes of `driver` (this agent's
    /// encrypted and secret volumes), for the liveness report: what runs
    /// here with what the key manager gave, as the console shows it.
    pub(crate) async fn running_with_driver(
        &self,
        driver: &str,
    ) -> Result<Vec<api::nodes::RunningContainer>, DockerError> {
        let containers: Vec<ContainerSummary> = self.get_json("/containers/json").await?;
        Ok(containers
            .into_iter()
            .filter_map(|container| {
                let volumes: Vec<String> = container
                    .mounts
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|mount| {
                        mount.kind == "volume" && mount.driver.as_deref() == Some(driver)
                    })
                    .filter_map(|mount| mount.name)
                    .collect();
                if volumes.is_empty() {
                    return None;
                }
                let labels = container.labels.unwrap_or_default();
                Some(api::nodes::RunningContainer {
                    container_name: container
                        .names
                        .first()
                        .map(|name| name.trim_start_matches('/').to_owned()),
                    container_id: container.id,
                    image: (!container.image.is_empty()).then_some(container.image),
                    image_digest: (!container.image_id.is_empty()).then_some(container.image_id),
                    service: service_of(&labels),
                    container_labels: labels,
                    volumes,
                })
            })
            .collect())
    }

    /// Whether a container that is not stopped (created, running, paused,
    /// restarting) uses volume `volume`: after an agent restart, a volume
    /// whose containers all exited meanwhile is unmounted.
    pub(crate) async fn volume_in_use(&self, volume: &str) -> Result<bool, DockerError> {
        let filters = serde_json::json!({ "volume": [volume] }).to_string();
        let path = format!(
            "/containers/json?all=1&filters={}",
            percent_encode(&filters)
        );
        let containers: Vec<ContainerSummary> = self.get_json(&path).await?;
        Ok(containers
            .iter()
            .any(|container| !matches!(container.state.as_str(), "exited" | "dead")))
    }

    /// The workload of a Swarm task asking for a secret: its service, and
    /// its image as this engine knows it (the task's image if the request
    /// names it, else the service's), with the image's id as digest. What
    /// cannot be found stays empty, so policies that need it refuse.
    pub(crate) async fn claim_for_task(
        &self,
        task: &SwarmTask,
    ) -> Result<WorkloadClaim, DockerError> {
        let mut claim = WorkloadClaim {
            service: task.service_name.clone(),
            ..WorkloadClaim::default()
        };
        let service_reference = task
            .service_id
            .as_deref()
            .or(task.service_name.as_deref())
            .filter(|reference| is_reference(reference));
        let mut image = task.task_image.clone();
        if let Some(reference) = service_reference {
            match self
                .get_json::<ServiceInspect>(&format!("/services/{reference}"))
                .await
            {
                Ok(service) => {
                    if !service.spec.name.is_empty() {
                        claim.service = Some(service.spec.name);
                    }
                    if let Some(spec) = service
                        .spec
                        .task_template
                        .and_then(|template| template.container_spec)
                    {
                        claim.container_labels = spec.labels.unwrap_or_default();
                        if image.is_none() && !spec.image.is_empty() {
                            image = Some(spec.image);
                        }
                    }
                }
                // Not a manager, or the service is gone: the claim says less.
                Err(DockerError::Refused { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        if let Some(name) = image {
            if let Some(inspected) = self.image(&name).await? {
                claim.image_digest = Some(inspected.id);
                claim.repo_digests = inspected.repo_digests.unwrap_or_default();
            }
            claim.image = Some(name);
        }
        Ok(claim)
    }

    /// The image `reference` (id or name), or `None` if this engine does not
    /// have it.
    async fn image(&self, reference: &str) -> Result<Option<ImageInspect>, DockerError> {
        if !is_reference(reference) {
            return Ok(None);
        }
        match self
            .get_json::<ImageInspect>(&format!("/images/{reference}/json"))
            .await
        {
            Ok(image) => Ok(Some(image)),
            Err(DockerError::Refused { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `GET path`, its JSON answer.
    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, DockerError> {
        let call = self.get(path);
        let (status, body) = tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| DockerError::Timeout {
                socket: self.socket.clone(),
                path: path.to_owned(),
                seconds: CALL_TIMEOUT.as_secs(),
            })??;
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|answer| {
                    answer
                        .get("message")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(DockerError::Refused {
                path: path.to_owned(),
                status,
                message,
            });
        }
        serde_json::from_slice(&body).map_err(|error| DockerError::BadAnswer {
            path: path.to_owned(),
            detail: error.to_string(),
        })
    }

    /// One HTTP/1.0 `GET` over the socket: status and body.
    async fn get(&self, path: &str) -> Result<(u16, Vec<u8>), DockerError> {
        let unreachable = |source| DockerError::Unreachable {
            socket: self.socket.clone(),
            source,
        };
        let mut stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(unreachable)?;
        let request =
            format!("GET {path} HTTP/1.0\r\nHost: docker\r\nAccept: application/json\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(unreachable)?;
        let mut answer = Vec::new();
        (&mut stream)
            .take(MAX_ANSWER_BYTES.saturating_add(1))
            .read_to_end(&mut answer)
            .await
            .map_err(unreachable)?;
        if u64::try_from(answer.len()).unwrap_or(u64::MAX) > MAX_ANSWER_BYTES {
            return Err(DockerError::BadAnswer {
                path: path.to_owned(),
                detail: format!("larger than {MAX_ANSWER_BYTES} bytes"),
            });
        }
        parse_response(&answer).map_err(|detail| DockerError::BadAnswer {
            path: path.to_owned(),
            detail,
        })
    }
}

/// The service a container belongs to, from the labels Swarm and Compose set.
fn service_of(labels: &BTreeMap<String, String>) -> Option<String> {
    labels
        .get(SWARM_SERVICE_LABEL)
        .or_else(|| labels.get(COMPOSE_SERVICE_LABEL))
        .cloned()
}

/// Whether `reference` can go into a path unescaped: image names, ids and
/// service names, nothing that would change the request.
fn is_reference(reference: &str) -> bool {
    !reference.is_empty()
        && reference.len() <= 512
        && !reference.contains("..")
        && reference
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"_.-:/@".contains(&byte))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Splits an HTTP/1.x answer into status and body, undoing chunked transfer
/// encoding if the engine used it.
fn parse_response(answer: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let header_end = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(answer.get(..header_end).ok_or("short answer")?)
        .map_err(|_| "headers are not text".to_owned())?;
    let body = answer.get(header_end + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|_| status_line.starts_with("HTTP/1."))
        .ok_or_else(|| format!("bad status line '{status_line}'"))?;
    let chunked = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked")
        })
    });
    if !chunked {
        return Ok((status, body.to_vec()));
    }
    let mut decoded = Vec::new();
    let mut rest = body;
    loop {
        let line_end = rest
            .windows(2)
            .position(|window| window == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = std::str::from_utf8(rest.get(..line_end).unwrap_or_default())
            .map_err(|_| "chunk size is not text".to_owned())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size '{size_text}'"))?;
        let start = line_end + 2;
        if size == 0 {
            return Ok((status, decoded));
        }
        let chunk = rest
            .get(start..start.saturating_add(size))
            .ok_or("truncated chunk")?;
        decoded.extend_from_slice(chunk);
        rest = rest
            .get(start.saturating_add(size).saturating_add(2)..)
            .ok_or("truncated chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_chunked_answers() {
        let plain = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[1,2]";
        assert_eq!(parse_response(plain), Ok((200, b"[1,2]".to_vec())));
        let chunked =
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Ok((404, b"{\"a\":1}".to_vec())));
    }

    #[test]
    fn rejects_malformed_answers() {
        for answer in [
            &b""[..],
            b"HTTP/1.0 200 OK\r\n",
            b"SMTP 200\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort",
        ] {
            assert!(parse_response(answer).is_err(), "{answer:?}");
        }
    }

    #[test]
    fn encodes_filters_and_refuses_odd_references() {
        assert_eq!(
            percent_encode(r#"{"volume":["a.b"]}"#),
            "%7B%22volume%22%3A%5B%22a.b%22%5D%7D"
        );
        assert!(is_reference("sha256:0123abcd"));
        assert!(is_reference("registry.example:5000/team/app:1.2@sha256:ab"));
        for bad in ["", "a b", "../x", "x?y", "x#y", "x%2F"] {
            assert!(!is_reference(bad), "{bad}");
        }
    }

    #[test]
    fn service_comes_from_swarm_or_compose_labels() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect()
        };
        assert_eq!(
            service_of(&labels(&[
                (SWARM_SERVICE_LABEL, "web"),
                (COMPOSE_SERVICE_LABEL, "x")
            ])),
            Some("web".to_owned())
        );
        assert_eq!(
            service_of(&labels(&[(COMPOSE_SERVICE_LABEL, "db")])),
            Some("db".to_owned())
        );
        assert_eq!(service_of(&labels(&[("other", "x")])), None);
    }
}
