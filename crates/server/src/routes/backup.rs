//! The backup routes: `GET /v1/sys/backup` streams a backup of the whole
//! store as it is taken (an admin of every tenant; the file is still
//! wrapped, but it is everything), and `POST /v1/sys/restore` restores one
//! into an uninitialized server's empty store (no token, as `init`: such a
//! server has none, and anyone who reaches it could initialize it anyway).

use std::io::Write as _;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use crate::app::{App, RequestContext, require_all_tenants};
use crate::auth::Permission;
use crate::error::{ApiError, Code};

/// Largest backup a restore takes. It is written to the data directory
/// first (the whole file is checked before anything is restored), so this
/// bounds the disk an unauthenticated request to an uninitialized server
/// can fill; a store of ten million keys fits.
const MAX_RESTORE_BYTES: u64 = 64 << 30;

/// Bytes the backup's writer hands to the response at a time.
const CHUNK_BYTES: usize = 256 * 1024;

/// An `io::Write` that sends what is written, in chunks, to the response
/// body; a client that went away makes the backup fail.
struct BodyWriter {
    chunk: Vec<u8>,
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl std::io::Write for BodyWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.chunk,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client stopped reading the backup"))
    }
}

/// `GET /v1/sys/backup`.
pub(crate) async fn backup(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Response, ApiError> {
    let caller = app
        .call(context, "sys.backup", Permission::ManageSeal, |call| {
            require_all_tenants(call.principal())?;
            Ok(call.caller.clone())
        })
        .await?;
    let (sender, mut chunks) = tokio::sync::mpsc::channel(4);
    let keystore = std::sync::Arc::clone(&app.keystore);
    tokio::task::spawn_blocking(move || {
        let mut out = BodyWriter {
            chunk: Vec::with_capacity(CHUNK_BYTES),
            sender: sender.clone(),
        };
        let written = keystore
            .backup(&caller, &mut out)
            .map_err(|error| std::io::Error::other(error.to_string()))
            .and_then(|_| out.flush());
        if let Err(error) = written {
            // The body ends with an error: the client sees a transfer cut
            // short, and the file it has lacks its checksum.
            tracing::error!(%error, "a backup failed part-way");
            let _ = sender.blocking_send(Err(error));
        }
    });
    let body = futures_util::stream::poll_fn(move |context| chunks.poll_recv(context));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"cryptainer.backup\"",
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// `POST /v1/sys/restore`: the body is the backup.
pub(crate) async fn restore(
    State(app): State<App>,
    context: RequestContext,
    body: Body,
) -> Result<Json<api::sys::BackupSummary>, ApiError> {
    let remote = context.remote;
    if app.keystore.is_unsealed() {
        return Err(already_initialized());
    }
    // Into the data directory first: the whole file is checked before
    // anything is written to the store.
    let path = app
        .data_dir
        .join(format!("restore-{}.backup", std::process::id()));
    let received = receive(body, &path).await;
    if let Err(error) = received {
        let _ = std::fs::remove_file(&path);
        return Err(error);
    }
    let restoring = path.clone();
    let restored = app
        .call_public("sys.restore", move |keystore| {
            let caller = keystore::Caller {
                principal: "anonymous".to_owned(),
                remote,
            };
            let restored = keystore.restore(&caller, &restoring);
            if let Err(error) = &restored {
                keystore.audit_refusal(&caller, "sys.restore", None, None, "refused");
                tracing::warn!(%error, "a restore was refused");
            }
            Ok(restored?)
        })
        .await;
    let _ = std::fs::remove_file(&path);
    let summary = restored?;
    Ok(Json(api::sys::BackupSummary {
        source: summary.source,
        taken_at: summary.taken_at,
        objects: summary.objects,
        versions: summary.versions,
        tenant_keys: summary.tenant_keys,
        tokens: summary.tokens,
        volumes: summary.volumes,
        nodes: summary.nodes,
        policies: summary.policies,
        audit_records: summary.audit_records,
        audit_head: summary.audit_head,
    }))
}

fn already_initialized() -> ApiError {
    ApiError::new(
        Code::Conflict,
        "this server is initialized: a backup is restored only into a new, empty store",
    )
}

/// Writes the request's body to `path` (readable by the owner only), at most
/// [`MAX_RESTORE_BYTES`].
async fn receive(body: Body, path: &std::path::Path) -> Result<(), ApiError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let failed = |error: std::io::Error| {
        tracing::error!(%error, path = %path.display(), "cannot keep the backup being restored");
        ApiError::new(
            Code::Internal,
            format!("the server cannot keep the backup while it checks it: {error}"),
        )
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    let mut stream = body.into_data_stream();
    let mut size = 0_u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::bad_request(format!("the backup was not received whole: {error}"))
        })?;
        size = size.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if size > MAX_RESTORE_BYTES {
            return Err(ApiError::new(
                Code::PayloadTooLarge,
                format!("a backup to restore is at most {MAX_RESTORE_BYTES} bytes"),
            ));
        }
        file.write_all(&chunk).map_err(failed)?;
    }
    file.sync_all().map_err(failed)
}
