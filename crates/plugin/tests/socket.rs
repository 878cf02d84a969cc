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

use plugin::{DriverError, ErrorKind, Plugin, Volume, VolumeDriver};

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

#[test]
fn malformed_requests_get_a_clear_error_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("plugins/test.sock");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let plugin = Arc::new(Plugin::new(Empty, None).unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Bound before serving starts: once bind returns, the socket accepts.
    let bound = {
        let _runtime = runtime.enter();
        plugin::bind(&socket).unwrap()
    };
    let serving = runtime.spawn(async move {
        plugin::serve_bound(bound, plugin, async move {
            let _ = stopped.await;
        })
        .await
    });
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

    stop.send(()).unwrap();
    runtime.block_on(serving).unwrap().unwrap();
    assert!(!socket.exists(), "the socket is removed on shutdown");
}
