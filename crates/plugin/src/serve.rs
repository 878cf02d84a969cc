//! The plugin's HTTP server on a Unix socket, and the per-caller mount logic.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::protocol::{
    ActivateResponse, Capabilities, CapabilitiesResponse, CreateRequest, ErrResponse, GetResponse,
    ListResponse, MEDIA_TYPE, MountRequest, MountpointResponse, NameRequest, SecretRequest, Volume,
};
use crate::table::MountTable;
use crate::{DriverError, ErrorKind, PluginError, SecretProvider, SecretValue, VolumeDriver};

/// Largest request body accepted; Docker's requests are a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// A driver behind Docker's protocol, with the table of who mounts what.
pub struct Plugin<D> {
    driver: D,
    table: MountTable,
    implements: Vec<&'static str>,
    secrets: std::sync::OnceLock<Arc<dyn SecretProvider>>,
}

impl<D: VolumeDriver> Plugin<D> {
    /// Wraps `driver`; `state_file` keeps the mount table across restarts (none:
    /// in memory only).
    pub fn new(driver: D, state_file: Option<PathBuf>) -> Result<Plugin<D>, PluginError> {
        Ok(Plugin {
            driver,
            table: MountTable::open(state_file)?,
            implements: vec!["VolumeDriver"],
            secrets: std::sync::OnceLock::new(),
        })
    }

    /// Also serves Docker Swarm's secret provider protocol with `provider`
    /// (`Plugin.Activate` then lists `secretprovider`); set it before Docker
    /// activates the plugin. `false` if a provider was set already (it stays).
    pub fn set_secret_provider(&self, provider: Arc<dyn SecretProvider>) -> bool {
        self.secrets.set(provider).is_ok()
    }

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// Volumes in use with their mount points, as recorded: what a restarted
    /// agent must take back before it serves Docker again.
    pub fn mounted(&self) -> BTreeMap<String, PathBuf> {
        self.table
            .mounted()
            .into_iter()
            .filter_map(|(name, entry)| entry.mountpoint.map(|path| (name, path)))
            .collect()
    }

    /// Forgets that volume `name` is mounted, when the driver could not take it
    /// back after a restart: Docker's later unmounts of it change nothing, and
    /// the next mount mounts it afresh.
    pub async fn forget_mount(&self, name: &str) -> Result<(), DriverError> {
        let entry = self.table.entry(name);
        let mut guard = entry.lock().await;
        *guard = crate::table::Entry::default();
        self.save(name, &guard)
    }

    /// How many distinct callers use volume `name` now.
    pub async fn users(&self, name: &str) -> usize {
        self.table.entry(name).lock().await.callers.len()
    }

    /// `VolumeDriver.Create`.
    pub async fn create(
        &self,
        name: &str,
        options: BTreeMap<String, String>,
    ) -> Result<(), DriverError> {
        check_name(name)?;
        let entry = self.table.entry(name);
        let _guard = entry.lock().await;
        self.driver.create(name.to_owned(), options).await
    }

    /// `VolumeDriver.Remove`: refused while any caller uses the volume.
    pub async fn remove(&self, name: &str) -> Result<(), DriverError> {
        let entry = self.table.entry(name);
        let guard = entry.lock().await;
        if !guard.callers.is_empty() {
            return Err(DriverError::new(
                ErrorKind::Conflict,
                format!(
                    "volume '{name}' is in use by {} container(s); stop them first",
                    guard.callers.len()
                ),
            ));
        }
        self.driver.remove(name.to_owned()).await?;
        self.table.forget(name);
        Ok(())
    }

    /// `VolumeDriver.Mount`: mounts for the first caller and counts every mount
    /// per caller id, since Docker mounts again under an id already in use
    /// (`docker cp` into a running container) and unmounts once per mount.
    pub async fn mount(&self, name: &str, caller: &str) -> Result<PathBuf, DriverError> {
        let entry = self.table.entry(name);
        let mut guard = entry.lock().await;
        if let Some(mountpoint) = guard.mountpoint.clone() {
            if !guard.callers.contains_key(caller) {
                self.driver
                    .admit(name.to_owned(), caller.to_owned())
                    .await?;
            }
            let count = guard.callers.entry(caller.to_owned()).or_insert(0);
            *count = count.saturating_add(1);
            self.save(name, &guard)?;
            return Ok(mountpoint);
        }
        let mountpoint = self
            .driver
            .mount(name.to_owned(), caller.to_owned())
            .await?;
        guard.mountpoint = Some(mountpoint.clone());
        guard.callers.insert(caller.to_owned(), 1);
        self.save(name, &guard)?;
        Ok(mountpoint)
    }

    /// `VolumeDriver.Unmount`: releases one mount of `caller`, and unmounts when
    /// the last mount of the last caller goes. An id that holds no mount
    /// changes nothing.
    pub async fn unmount(&self, name: &str, caller: &str) -> Result<(), DriverError> {
        let entry = self.table.entry(name);
        let mut guard = entry.lock().await;
        let Some(count) = guard.callers.get_mut(caller) else {
            tracing::debug!(
                volume = name,
                caller,
                "unmount by a caller that holds no mount"
            );
            return Ok(());
        };
        *count = count.saturating_sub(1);
        if *count > 0 {
            self.save(name, &guard)?;
            return Ok(());
        }
        guard.callers.remove(caller);
        if guard.callers.is_empty() && guard.mountpoint.is_some() {
            if let Err(error) = self.driver.unmount(name.to_owned()).await {
                // Still in use as far as we know: a retry must find it mounted.
                guard.callers.insert(caller.to_owned(), 1);
                return Err(error);
            }
            guard.mountpoint = None;
        }
        self.save(name, &guard)?;
        Ok(())
    }

    /// `VolumeDriver.Path`.
    pub async fn path(&self, name: &str) -> PathBuf {
        self.table
            .entry(name)
            .lock()
            .await
            .mountpoint
            .clone()
            .unwrap_or_default()
    }

    /// `VolumeDriver.Get`.
    pub async fn get(&self, name: &str) -> Result<Volume, DriverError> {
        let mut volume = self.driver.get(name.to_owned()).await?;
        volume.mountpoint = self.mountpoint_text(name);
        Ok(volume)
    }

    /// `VolumeDriver.List`.
    pub async fn list(&self) -> Result<Vec<Volume>, DriverError> {
        let mut volumes = self.driver.list().await?;
        for volume in &mut volumes {
            volume.mountpoint = self.mountpoint_text(&volume.name);
        }
        Ok(volumes)
    }

    fn mountpoint_text(&self, name: &str) -> String {
        self.table
            .mountpoint(name)
            .map(|path| path.display().to_string())
            .unwrap_or_default()
    }

    fn save(&self, name: &str, entry: &crate::table::Entry) -> Result<(), DriverError> {
        self.table.save(name, entry).map_err(|error| {
            tracing::error!(%error, volume = name, "cannot save the mount table");
            DriverError::new(ErrorKind::Internal, error.to_string())
        })
    }
}

/// Docker accepts any name for a volume of another driver; ours become file
/// and key names, so they are restricted like Docker's own local volumes.
fn check_name(name: &str) -> Result<(), DriverError> {
    let valid_first = name
        .bytes()
        .next()
        .is_some_and(|byte| byte.is_ascii_alphanumeric());
    let valid_rest = name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'));
    if name.len() > 128 || !valid_first || !valid_rest {
        return Err(DriverError::new(
            ErrorKind::InvalidArgument,
            format!(
                "'{name}' is not a valid volume name; use up to 128 letters, digits, '_', '.' or '-', starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

/// A plugin socket that is bound and accepting connections (queued until
/// [`serve_bound`] answers them): once this exists, Docker can find the plugin.
pub struct BoundSocket {
    listener: tokio::net::UnixListener,
    path: PathBuf,
}

impl BoundSocket {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Binds the Unix socket `socket` (for Docker: `/run/docker/plugins/<driver
/// name>.sock`), readable by root only, replacing a stale socket of an earlier
/// run. Must be called inside a Tokio runtime.
pub fn bind(socket: &Path) -> Result<BoundSocket, PluginError> {
    let listen_error = |source| PluginError::Listen {
        path: socket.to_path_buf(),
        source,
    };
    if let Some(parent) = socket.parent() {
        std::fs::create_dir_all(parent).map_err(listen_error)?;
    }
    remove_stale_socket(socket).map_err(listen_error)?;
    let listener = tokio::net::UnixListener::bind(socket).map_err(listen_error)?;
    {
        use std::os::unix::fs::PermissionsExt;
        // Only root (the Docker engine) may drive volumes.
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
            .map_err(listen_error)?;
    }
    Ok(BoundSocket {
        listener,
        path: socket.to_path_buf(),
    })
}

/// Serves `plugin` on a bound socket until `shutdown` completes, then removes
/// the socket.
pub async fn serve_bound<D: VolumeDriver>(
    bound: BoundSocket,
    plugin: Arc<Plugin<D>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), PluginError> {
    let BoundSocket { listener, path } = bound;
    tracing::info!(socket = %path.display(), "serving Docker's volume plugin protocol");
    axum::serve(listener, router(plugin))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| PluginError::Listen {
            path: path.clone(),
            source,
        })?;
    let _ = std::fs::remove_file(&path);
    Ok(())
}

/// [`bind`], then [`serve_bound`].
pub async fn serve<D: VolumeDriver>(
    socket: &Path,
    plugin: Arc<Plugin<D>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), PluginError> {
    serve_bound(bind(socket)?, plugin, shutdown).await
}

/// Removes a socket left by a previous run; refuses to remove anything else.
fn remove_stale_socket(socket: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(socket) {
        Ok(metadata) if metadata.file_type().is_socket() => std::fs::remove_file(socket),
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a file that is not a socket is in the way",
        )),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}

/// The routes Docker calls, all `POST`.
pub(crate) fn router<D: VolumeDriver>(plugin: Arc<Plugin<D>>) -> Router {
    Router::new()
        .route("/Plugin.Activate", post(activate::<D>))
        .route("/VolumeDriver.Create", post(create::<D>))
        .route("/VolumeDriver.Remove", post(remove::<D>))
        .route("/VolumeDriver.Mount", post(mount::<D>))
        .route("/VolumeDriver.Unmount", post(unmount::<D>))
        .route("/VolumeDriver.Path", post(path::<D>))
        .route("/VolumeDriver.Get", post(get::<D>))
        .route("/VolumeDriver.List", post(list::<D>))
        .route("/VolumeDriver.Capabilities", post(capabilities::<D>))
        .route("/SecretProvider.GetSecret", post(get_secret::<D>))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(plugin)
}

fn reply(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, MEDIA_TYPE)], bytes).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot encode a plugin answer");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn failure(operation: &str, error: &DriverError) -> Response {
    let status = match error.kind {
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Refused => StatusCode::FORBIDDEN,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::warn!(operation, kind = ?error.kind, message = %error.message, "plugin call failed");
    reply(
        status,
        &ErrResponse {
            err: error.message.clone(),
        },
    )
}

/// Parses a request body; Docker sends JSON, but a malformed body gets a clear
/// answer rather than a panic or a bare 400.
fn parse<T: DeserializeOwned>(operation: &str, body: &Bytes) -> Result<T, DriverError> {
    serde_json::from_slice(body).map_err(|error| {
        DriverError::new(
            ErrorKind::InvalidArgument,
            format!("malformed {operation} request: {error}"),
        )
    })
}

async fn activate<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>) -> Response {
    reply(
        StatusCode::OK,
        &ActivateResponse {
            implements: plugin
                .implements
                .iter()
                .copied()
                .chain(plugin.secrets.get().map(|_| "secretprovider"))
                .collect(),
        },
    )
}

async fn create<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>, body: Bytes) -> Response {
    let request: CreateRequest = match parse("VolumeDriver.Create", &body) {
        Ok(request) => request,
        Err(error) => return failure("VolumeDriver.Create", &error),
    };
    match plugin
        .create(&request.name, request.options.unwrap_or_default())
        .await
    {
        Ok(()) => reply(StatusCode::OK, &ErrResponse { err: String::new() }),
        Err(error) => failure("VolumeDriver.Create", &error),
    }
}

async fn remove<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>, body: Bytes) -> Response {
    let request: NameRequest = match parse("VolumeDriver.Remove", &body) {
        Ok(request) => request,
        Err(error) => return failure("VolumeDriver.Remove", &error),
    };
    match plugin.remove(&request.name).await {
        Ok(()) => reply(StatusCode::OK, &ErrResponse { err: String::new() }),
        Err(error) => failure("VolumeDriver.Remove", &error),
    }
}

async fn mount<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>, body: Bytes) -> Response {
    let request: MountRequest = match parse("VolumeDriver.Mount", &body) {
        Ok(request) => request,
        Err(error) => return failure("VolumeDriver.Mount", &error),
    };
    match plugin.mount(&request.name, &request.id).await {
        Ok(path) => reply(
            StatusCode::OK,
            &MountpointResponse {
                mountpoint: path.display().to_string(),
                err: String::new(),
            },
        ),
        Err(error) => failure("VolumeDriver.Mount", &error),
    }
}

async fn unmount<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>, body: Bytes) -> Response {
    let request: MountRequest = match parse("VolumeDriver.Unmount", &body) {
        Ok(request) => request,
        Err(error) => return failure("VolumeDriver.Unmount", &error),
    };
    match plugin.unmount(&request.name, &request.id).await {
        Ok(()) => reply(StatusCode::OK, &ErrResponse { err: String::new() }),
        Err(error) => failure("VolumeDriver.Unmount", &error),
    }
}

async fn path<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>, body: Bytes) -> Response {
    let request: NameRequest = match parse("VolumeDriver.Path", &body) {
        Ok(request) => request,
        Err(error) => return failure("VolumeDriver.Path", &error),
    };
    let mountpoint = plugin.path(&request.name).await;
    reply(
        StatusCode::OK,
        &MountpointResponse {
            mountpoint: mountpoint.display().to_string(),
            err: String::new(),
        },
    )
}

async fn get<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>, body: Bytes) -> Response {
    let request: NameRequest = match parse("VolumeDriver.Get", &body) {
        Ok(request) => request,
        Err(error) => return failure("VolumeDriver.Get", &error),
    };
    match plugin.get(&request.name).await {
        Ok(volume) => reply(
            StatusCode::OK,
            &GetResponse {
                volume,
                err: String::new(),
            },
        ),
        Err(error) => failure("VolumeDriver.Get", &error),
    }
}

async fn list<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>) -> Response {
    match plugin.list().await {
        Ok(volumes) => reply(
            StatusCode::OK,
            &ListResponse {
                volumes,
                err: String::new(),
            },
        ),
        Err(error) => failure("VolumeDriver.List", &error),
    }
}

async fn capabilities<D: VolumeDriver>(State(plugin): State<Arc<Plugin<D>>>) -> Response {
    reply(
        StatusCode::OK,
        &CapabilitiesResponse {
            capabilities: Capabilities {
                scope: plugin.driver.scope(),
            },
        },
    )
}

/// `/SecretProvider.GetSecret`: `{"DoNotReuse":true,"Value":"<base64>"}`,
/// or `{"Err":".."}` with an error status. `DoNotReuse` asks the engine to
/// call again for every task, so each one is decided by the provider
/// (engines before 23.0 ignore it and reuse a value on the node that received
/// it). The answer is built in memory that is wiped once the HTTP stack has
/// sent it.
async fn get_secret<D: VolumeDriver>(
    State(plugin): State<Arc<Plugin<D>>>,
    body: Bytes,
) -> Response {
    const OPERATION: &str = "SecretProvider.GetSecret";
    let Some(provider) = plugin.secrets.get().cloned() else {
        return failure(
            OPERATION,
            &DriverError::new(
                ErrorKind::InvalidArgument,
                "this plugin provides no secrets",
            ),
        );
    };
    let request: SecretRequest = match parse(OPERATION, &body) {
        Ok(request) => request,
        Err(error) => return failure(OPERATION, &error),
    };
    match provider.get_secret(request).await {
        Ok(value) => secret_reply(&value),
        Err(error) => failure(OPERATION, &error),
    }
}

/// `{"DoNotReuse":true,"Value":"<base64 of value>"}` in a buffer that is
/// wiped when dropped; base64 needs no JSON escaping.
fn secret_reply(value: &SecretValue) -> Response {
    use base64::Engine as _;
    const HEAD: &[u8] = br#"{"DoNotReuse":true,"Value":""#;
    const TAIL: &[u8] = br#""}"#;
    let secret = value.expose_secret();
    let encoded_len = secret.len().div_ceil(3).saturating_mul(4);
    // Sized once, so no reallocation leaves an unwiped copy behind.
    let mut answer =
        zeroize::Zeroizing::new(Vec::with_capacity(HEAD.len() + encoded_len + TAIL.len()));
    answer.extend_from_slice(HEAD);
    answer.resize(HEAD.len() + encoded_len, 0);
    let encoded = answer
        .get_mut(HEAD.len()..)
        .map(|slot| base64::engine::general_purpose::STANDARD.encode_slice(secret, slot));
    if !matches!(encoded, Some(Ok(length)) if length == encoded_len) {
        tracing::error!("cannot encode a secret answer");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    answer.extend_from_slice(TAIL);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, MEDIA_TYPE)],
        Bytes::from_owner(answer),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A driver that records calls; volumes are names in a map.
    #[derive(Default)]
    struct Recorder {
        volumes: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
        calls: Mutex<Vec<String>>,
        refuse_admit: bool,
    }

    impl Recorder {
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl VolumeDriver for Recorder {
        async fn create(
            &self,
            name: String,
            options: BTreeMap<String, String>,
        ) -> Result<(), DriverError> {
            self.calls.lock().unwrap().push(format!("create {name}"));
            self.volumes.lock().unwrap().insert(name, options);
            Ok(())
        }
        async fn remove(&self, name: String) -> Result<(), DriverError> {
            self.calls.lock().unwrap().push(format!("remove {name}"));
            self.volumes.lock().unwrap().remove(&name);
            Ok(())
        }
        async fn mount(&self, name: String, caller: String) -> Result<PathBuf, DriverError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("mount {name} {caller}"));
            Ok(PathBuf::from(format!("/mnt/{name}")))
        }
        async fn admit(&self, name: String, caller: String) -> Result<(), DriverError> {
            if self.refuse_admit {
                return Err(DriverError::new(ErrorKind::Refused, "not this one"));
            }
            self.calls
                .lock()
                .unwrap()
                .push(format!("admit {name} {caller}"));
            Ok(())
        }
        async fn unmount(&self, name: String) -> Result<(), DriverError> {
            self.calls.lock().unwrap().push(format!("unmount {name}"));
            Ok(())
        }
        async fn get(&self, name: String) -> Result<Volume, DriverError> {
            if !self.volumes.lock().unwrap().contains_key(&name) {
                return Err(DriverError::new(ErrorKind::NotFound, "no such volume"));
            }
            Ok(Volume {
                name,
                mountpoint: String::new(),
                created_at: String::new(),
                status: BTreeMap::new(),
            })
        }
        async fn list(&self) -> Result<Vec<Volume>, DriverError> {
            Ok(Vec::new())
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn one_driver_mount_per_volume_however_many_callers() {
        runtime().block_on(async {
            let plugin = Plugin::new(Recorder::default(), None).unwrap();
            plugin.create("v", BTreeMap::new()).await.unwrap();
            assert_eq!(
                plugin.mount("v", "a").await.unwrap(),
                PathBuf::from("/mnt/v")
            );
            // Docker reuses ids (docker cp): a second Mount with the same id is
            // not a second user.
            plugin.mount("v", "a").await.unwrap();
            plugin.mount("v", "b").await.unwrap();
            assert_eq!(plugin.users("v").await, 2);
            plugin.unmount("v", "a").await.unwrap();
            assert_eq!(plugin.path("v").await, PathBuf::from("/mnt/v"));
            // An unmount by an id that holds nothing leaves the others mounted.
            plugin.unmount("v", "a").await.unwrap();
            assert_eq!(plugin.users("v").await, 1);
            plugin.unmount("v", "b").await.unwrap();
            assert_eq!(plugin.path("v").await, PathBuf::new());
            assert_eq!(
                plugin.driver().calls(),
                ["create v", "mount v a", "admit v b", "unmount v"]
            );
        });
    }

    #[test]
    fn remove_is_refused_while_mounted() {
        runtime().block_on(async {
            let plugin = Plugin::new(Recorder::default(), None).unwrap();
            plugin.create("v", BTreeMap::new()).await.unwrap();
            plugin.mount("v", "a").await.unwrap();
            let error = plugin.remove("v").await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::Conflict);
            plugin.unmount("v", "a").await.unwrap();
            plugin.remove("v").await.unwrap();
        });
    }

    #[test]
    fn a_refused_caller_is_not_counted() {
        runtime().block_on(async {
            let plugin = Plugin::new(
                Recorder {
                    refuse_admit: true,
                    ..Recorder::default()
                },
                None,
            )
            .unwrap();
            plugin.mount("v", "a").await.unwrap();
            assert_eq!(
                plugin.mount("v", "b").await.unwrap_err().kind,
                ErrorKind::Refused
            );
            assert_eq!(plugin.users("v").await, 1);
        });
    }

    #[test]
    fn a_secret_answer_is_docker_json_with_the_value_in_base64() {
        runtime().block_on(async {
            for value in [&b""[..], b"a", b"ab", b"abc", b"\x00\xffpassword"] {
                let reply =
                    secret_reply(&SecretValue::new(zeroize::Zeroizing::new(value.to_vec())));
                assert_eq!(reply.status(), StatusCode::OK);
                let body = axum::body::to_bytes(reply.into_body(), 1024).await.unwrap();
                let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(answer["DoNotReuse"], true);
                use base64::Engine as _;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(answer["Value"].as_str().unwrap())
                    .unwrap();
                assert_eq!(decoded, value);
            }
        });
    }

    #[test]
    fn rejects_names_that_cannot_be_file_names() {
        for name in ["", "../x", "a/b", ".hidden", "-x", &"x".repeat(129)] {
            assert!(check_name(name).is_err(), "{name}");
        }
        for name in ["pgdata", "app_1.data-2", "0"] {
            assert!(check_name(name).is_ok(), "{name}");
        }
    }
}
