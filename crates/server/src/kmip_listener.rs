//! The KMIP listeners: TTLV over mutual TLS (port 5696 by default), and the
//! `POST /kmip` (binary TTLV) and `POST /kmip/2_1` (JSON TTLV) routes of the
//! HTTPS API.
//!
//! Framing: read the 8-byte TTLV header, check the length against
//! [`ttlv::MAX_MESSAGE_SIZE`], read the body, answer; many messages per
//! connection. A message that frames but does not parse gets an Invalid Message
//! response; one that cannot be framed closes that connection only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keystore::Keystore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::app::App;
use crate::error::ApiError;
use crate::kmip_auth::{principal_from_certificate, session_for};

/// Default KMIP port (IANA "kmip").
pub const DEFAULT_KMIP_PORT: u16 = 5696;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may stay idle between messages, or take to send the
/// rest of a message once its header arrived, before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Most KMIP connections served at once; more wait in the accept queue.
const MAX_KMIP_CONNECTIONS: usize = 8192;

/// The TLS configuration of the KMIP listener: the server certificate, and a
/// client certificate from `ca_pem` required.
pub fn tls_config(
    material: &pki::ServerTlsMaterial,
) -> Result<Arc<rustls::ServerConfig>, crate::Error> {
    let ca_pem = material.ca_pem().ok_or_else(|| {
        crate::Error::InvalidConfig(
            "the KMIP listener needs a CA to check client certificates; set tls.ca_file".to_owned(),
        )
    })?;
    let config = material.server_config(pki::ClientAuth::Required(ca_pem.to_owned()))?;
    Ok(Arc::new(config))
}

/// The TLS configuration of the KMIP listener with the built-in CA: it presents the
/// HTTPS listener's server certificate slot (replaced while running), and client
/// certificates are required and checked by `verifier` (the HTTPS listener's, whose
/// roots follow CA rotation and which refuses decommissioned nodes).
pub fn tls_config_with_verifier(
    server_cert: Arc<pki::ServerCertSlot>,
    verifier: Arc<crate::peer::NodeClientVerifier>,
) -> Result<Arc<rustls::ServerConfig>, crate::Error> {
    let config = pki::server_config_with_verifier(server_cert, Arc::new(verifier.required()))?;
    Ok(Arc::new(config))
}

/// Accepts KMIP connections until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    keystore: Arc<Keystore>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_KMIP_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "KMIP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let keystore = Arc::clone(&keystore);
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => serve_connection(stream, peer, keystore).await,
                Ok(Err(error)) => tracing::debug!(%peer, %error, "KMIP TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "KMIP TLS handshake timed out"),
            }
        });
    }
}

async fn serve_connection(
    mut stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    peer: SocketAddr,
    keystore: Arc<Keystore>,
) {
    let Some(cert) = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| cert.as_ref().to_vec())
    else {
        tracing::debug!(%peer, "KMIP client sent no certificate");
        return;
    };
    let principal = {
        let keystore = Arc::clone(&keystore);
        match tokio::task::spawn_blocking(move || principal_from_certificate(&keystore, &cert))
            .await
        {
            Ok(Ok(principal)) => principal,
            Ok(Err(error)) => {
                tracing::info!(%peer, %error, "KMIP client certificate refused");
                return;
            }
            Err(error) => {
                tracing::error!(%peer, %error, "KMIP certificate check failed");
                return;
            }
        }
    };
    let session = Arc::new(session_for(&principal, Some(peer.to_string())));
    loop {
        let mut header = [0_u8; 8];
        match tokio::time::timeout(IDLE_TIMEOUT, stream.read_exact(&mut header)).await {
            Ok(Ok(_)) => {}
            // End of stream, a reset, or idle too long: the client is gone.
            Ok(Err(_)) | Err(_) => return,
        }
        let length = match ttlv::frame_length(&header) {
            Ok(Some(length)) if length <= ttlv::MAX_MESSAGE_SIZE => length,
            Ok(_) | Err(_) => {
                tracing::info!(%peer, "KMIP message cannot be framed; closing the connection");
                return;
            }
        };
        let mut message = vec![0_u8; length];
        let (head, body) = message.split_at_mut(header.len().min(length));
        head.copy_from_slice(header.get(..head.len()).unwrap_or_default());
        match tokio::time::timeout(IDLE_TIMEOUT, stream.read_exact(body)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return,
        }
        // A short message is decoded here; a long one (which cannot be a few
        // quick reads anyway) on the blocking pool.
        let decoded = if message.len() <= kmip::message::MAX_QUICK_MESSAGE_BYTES {
            match kmip::decode_request(&message) {
                Ok(request) => Some(request),
                Err(answer) => {
                    if stream.write_all(&answer).await.is_err() || stream.flush().await.is_err() {
                        return;
                    }
                    continue;
                }
            }
        } else {
            None
        };
        // Quick reads (Get, Encrypt, Get Attributes, ...) run here and await
        // their audit records without holding a thread, as the HTTPS API's key
        // reads do; anything that changes state or works longer (key pair
        // generation, a long message) runs on the blocking pool.
        let answer = match decoded {
            // With a database server behind the store, reads wait on the
            // network: on the blocking pool, not on this task.
            Some(request) if kmip::is_quick(&request) && !keystore.reads_wait() => {
                kmip::answer_deferred(&keystore, &session, &request)
                    .finish()
                    .await
            }
            decoded => {
                let keystore = Arc::clone(&keystore);
                let session = Arc::clone(&session);
                let handled = tokio::task::spawn_blocking(move || match decoded {
                    Some(request) => {
                        ttlv::encode(&kmip::handle_message(&keystore, &session, &request))
                    }
                    None => kmip::handle_bytes(&keystore, &session, &message),
                })
                .await;
                match handled {
                    Ok(response) => Ok(response),
                    Err(error) => {
                        tracing::error!(%peer, %error, "KMIP request handler failed");
                        return;
                    }
                }
            }
        };
        let response = match answer {
            Ok(response) => response,
            Err(error) => {
                // The audit records of the answer did not become durable: it
                // must not be sent.
                tracing::error!(%peer, %error, "KMIP answer withheld: its audit records were not written; closing the connection");
                return;
            }
        };
        if stream.write_all(&response).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
}

/// Authenticates an HTTPS KMIP request by its bearer token and runs `body` with
/// the session, on the blocking pool.
async fn with_session<T: Send + 'static>(
    app: &App,
    headers: &HeaderMap,
    body: impl FnOnce(&Keystore, &kmip::Session) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let app = Arc::clone(app);
    tokio::task::spawn_blocking(move || {
        let keystore = &app.keystore;
        keystore.require_unsealed().map_err(ApiError::from)?;
        let caller = keystore::Caller {
            principal: "anonymous".to_owned(),
            remote: None,
        };
        let principal = match crate::auth::authenticate(keystore, authorization.as_deref()) {
            Ok(principal) => principal,
            Err(error) => {
                keystore.audit_refusal(&caller, "kmip", None, None, error.code.as_str());
                return Err(error);
            }
        };
        let session = session_for(&principal, None);
        Ok(body(keystore, &session))
    })
    .await
    .unwrap_or_else(|error| {
        tracing::error!(%error, "KMIP request handler failed");
        Err(ApiError::new(
            crate::error::Code::Internal,
            "the KMIP request failed inside the server; see its log",
        ))
    })
}

/// `POST /kmip`: one binary TTLV request message in, its response out.
pub async fn http_binary(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    match with_session(&app, &headers, move |keystore, session| {
        kmip::handle_bytes(keystore, session, &body)
    })
    .await
    {
        Ok(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `POST /kmip/2_1`: one JSON TTLV request message in, its response out.
pub async fn http_json(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return ApiError::new(crate::error::Code::BadRequest, "the body is not UTF-8 JSON")
            .into_response();
    };
    match with_session(&app, &headers, move |keystore, session| {
        kmip::handle_json(keystore, session, &text)
    })
    .await
    {
        Ok(json) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// Longest validity of a KMIP client certificate: one year.
const CLIENT_CERT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

pub use api::kmip::{ClientCertAnswer, ClientCertRequest};

/// `POST /v1/kmip/client-certs` (admin): signs a KMIP client's CSR with the
/// server's CA, writing the tenant and role into the certificate.
pub async fn issue_client_cert(
    State(app): State<App>,
    headers: HeaderMap,
    crate::app::JsonBody(request): crate::app::JsonBody<ClientCertRequest>,
) -> Result<axum::Json<ClientCertAnswer>, ApiError> {
    use crate::error::Code;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let app = Arc::clone(&app);
    tokio::task::spawn_blocking(move || {
        let keystore = &app.keystore;
        let mut caller = keystore::Caller {
            principal: "anonymous".to_owned(),
            remote: None,
        };
        let operation = "kmip.issue_client_cert";
        let principal = crate::auth::authenticate(keystore, authorization.as_deref())
            .inspect_err(|error| {
                keystore.audit_refusal(&caller, operation, None, None, error.code.as_str());
            })?;
        caller.principal = principal.audit_name();
        principal
            .authorize(crate::auth::Permission::ManageTokens)
            .inspect_err(|error| {
                keystore.audit_refusal(&caller, operation, None, None, error.code.as_str());
            })?;
        let Some(identity) = app.identity.clone() else {
            return Err(ApiError::new(
                Code::Conflict,
                "this server uses operator-supplied TLS material and holds no CA key; issue KMIP client certificates with your own CA",
            ));
        };
        let tenant = request
            .tenant
            .unwrap_or_else(|| keystore::object::DEFAULT_TENANT.to_owned());
        keystore::object::validate_name("tenant", &tenant)
            .map_err(|error| ApiError::new(Code::BadRequest, error.to_string()))?;
        let role = request.role.unwrap_or_else(|| "operator".to_owned());
        if keystore::model::Role::parse(&role).is_none() {
            return Err(ApiError::new(
                Code::BadRequest,
                format!("unknown role '{role}'; use admin, operator or auditor"),
            ));
        }
        let client = pki::ClientIdentity::new(request.name)
            .with_tenant(tenant.clone())
            .with_role(role);
        // Signed by the current root (after a rotation, the new one), and
        // answered with the bundle the server's own certificate chains to.
        let (issued, bundle) = identity
            .sign_client_csr(&request.csr_pem, &client, CLIENT_CERT_VALIDITY)
            .map_err(|error| ApiError::new(Code::BadRequest, error.to_string()))?;
        keystore
            .record(&caller, operation, Some(&tenant), None, "ok")
            .map_err(ApiError::from)?;
        Ok(axum::Json(ClientCertAnswer {
            cert_pem: issued.cert_pem,
            ca_pem: bundle,
            serial: issued.serial_hex,
        }))
    })
    .await
    .unwrap_or_else(|_| {
        Err(ApiError::new(
            Code::Internal,
            "issuing the certificate failed inside the server; see its log",
        ))
    })
}
