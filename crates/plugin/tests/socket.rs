//! The plugin socket spoken to byte by byte: malformed bodies get a clear
//! error and the server keeps serving; the socket is for root only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use plugin::{
    DriverError, ErrorKind, Plugin, SecretFuture, SecretProvider, SecretRequest, SecretValue,
    Volume, VolumeDriver,
};

/// A driver that knows no volume.
struct Empty;

impl VolumeDriver for Empty {
    async fn create(&self, _: String, _: BTreeMap<String, String>) -> Result<(), DriverError> {
        Ok(())
    }
    async fn remove(&self, _: String) -> Result<(), DriverError> {
        Ok(())
    }
    async fn mount(&self, name: String, _: String) -> Result<PathBuf, DriverError> {
        Ok(PathBuf::from("/mnt").join(name))
    }
    async fn unmount(&self, _: String) -> Result<(), DriverError> {
        Ok(())
    }
    async fn get(&self, name: String) -> Result<Volume, DriverError> {
        Err(DriverError::new(
            ErrorKind::NotFound,
            format!("no volume '{name}'"),
        ))
    }
    async fn list(&self) -> Result<Vec<Volume>, DriverError> {
        Ok(Vec::new())
    }
}

/// Sends one request and returns the status code and body.
fn call(socket: &Path, path: &str, body: &str) -> (u16, String) {
    let mut stream = UnixStream::connect(socket).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/vnd.docker.plugins.v1.2+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

/// A plugin served on a socket of a temporary directory.
struct Served {
    socket: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<Result<(), plugin::PluginError>>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(plugin: Plugin<Empty>) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("plugins/test.sock");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // Bound before serving starts: once bind returns, the socket accepts.
        let bound = {
            let _runtime = runtime.enter();
            plugin::bind(&socket).unwrap()
        };
        let serving = runtime.spawn(async move {
            plugin::serve_bound(bound, Arc::new(plugin), async move {
                let _ = stopped.await;
            })
            .await
        });
        Served {
            socket,
            stop,
            serving,
            runtime,
            _dir: dir,
        }
    }

    /// Stops serving and waits for the server to end.
    fn stop(self) -> PathBuf {
        self.stop.send(()).unwrap();
        self.runtime.block_on(self.serving).unwrap().unwrap();
        self.socket
    }
}

#[test]
fn malformed_requests_get_a_clear_error_and_the_server_keeps_serving() {
    let served = Served::start(Plugin::new(Empty, None).unwrap());
    let socket = served.socket.clone();
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let (status, body) = call(&socket, "/VolumeDriver.Mount", "{not json");
    assert_eq!(status, 400);
    assert!(
        body.contains("malformed VolumeDriver.Mount request"),
        "{body}"
    );
    let (status, body) = call(&socket, "/VolumeDriver.Mount", r#"{"Name":"v"}"#);
    assert_eq!(status, 400);
    assert!(body.contains("missing field `ID`"), "{body}");
    let (status, body) = call(&socket, "/VolumeDriver.Get", r#"{"Name":"nope"}"#);
    assert_eq!(status, 404);
    assert_eq!(body, r#"{"Err":"no volume 'nope'"}"#);
    let (status, _) = call(&socket, "/VolumeDriver.Create", &"x".repeat(100_000));
    assert_eq!(status, 413);

    // Still serving after all that.
    let (status, body) = call(&socket, "/Plugin.Activate", "");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"Implements":["VolumeDriver"]}"#)
    );
    let (status, body) = call(&socket, "/VolumeDriver.Capabilities", "");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"Capabilities":{"Scope":"local"}}"#)
    );

    let (status, body) = call(
        &socket,
        "/SecretProvider.GetSecret",
        r#"{"SecretName":"a"}"#,
    );
    assert_eq!(status, 400);
    assert!(body.contains("provides no secrets"), "{body}");

    let socket = served.stop();
    assert!(!socket.exists(), "the socket is removed on shutdown");
}

/// Knows one secret, `known`, and gives it to service `web` only.
struct OneSecret;

impl SecretProvider for OneSecret {
    fn get_secret(&self, request: SecretRequest) -> SecretFuture<'_> {
        Box::pin(async move {
            if request.secret_name == "known" && request.service_name.as_deref() == Some("web") {
                Ok(SecretValue::new(zeroize::Zeroizing::new(
                    b"s3cret".to_vec(),
                )))
            } else {
                Err(DriverError::new(
                    ErrorKind::Refused,
                    format!("secret '{}' is refused", request.secret_name),
                ))
            }
        })
    }
}

#[test]
fn the_secret_provider_answers_as_docker_swarm_reads_it() {
    let plugin = Plugin::new(Empty, None).unwrap();
    assert!(plugin.set_secret_provider(Arc::new(OneSecret)));
    assert!(!plugin.set_secret_provider(Arc::new(OneSecret)));
    let served = Served::start(plugin);
    let (status, body) = call(&served.socket, "/Plugin.Activate", "");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"Implements":["VolumeDriver","secretprovider"]}"#)
    );
    // As Docker 20.10 sends it.
    let request = r#"{"SecretName":"known","ServiceName":"web","ServiceLabels":{"a":"b"},"ServiceEndpointSpec":{"Mode":1}}"#;
    let (status, body) = call(&served.socket, "/SecretProvider.GetSecret", request);
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"DoNotReuse":true,"Value":"czNjcmV0"}"#)
    );
    let request = r#"{"SecretName":"known","ServiceName":"other"}"#;
    let (status, body) = call(&served.socket, "/SecretProvider.GetSecret", request);
    assert_eq!(
        (status, body.as_str()),
        (403, r#"{"Err":"secret 'known' is refused"}"#)
    );
    let (status, body) = call(&served.socket, "/SecretProvider.GetSecret", "[");
    assert_eq!(status, 400);
    assert!(
        body.contains("malformed SecretProvider.GetSecret request"),
        "{body}"
    );
    served.stop();
}
