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
use zeroize::Zeroizing;

use crate::app::App;
use crate::error::ApiError;
use crate::kmip_auth::{CertificateRefused, ClientCertificate, session_for};

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
    let Some(certificate) = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| ClientCertificate::read(cert.as_ref()))
    else {
        tracing::debug!(%peer, "KMIP client sent no certificate");
        return;
    };
    let certificate = match certificate {
        Ok(certificate) => certificate,
        Err(error) => {
            tracing::info!(%peer, %error, "KMIP client certificate refused");
            return;
        }
    };
    let remote = Some(peer.to_string());
    let mut principal = match certificate.principal(&keystore) {
        Ok(principal) => principal,
        Err(error) => {
            tracing::info!(%peer, %error, "KMIP client certificate refused");
            return;
        }
    };
    let mut session = Arc::new(session_for(&principal, remote.clone()));
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
        // The request may carry key material (Register) or plaintext
        // (Encrypt): wiped when dropped, like the response.
        let mut message = Zeroizing::new(vec![0_u8; length]);
        let (head, body) = message.split_at_mut(header.len().min(length));
        head.copy_from_slice(header.get(..head.len()).unwrap_or_default());
        match tokio::time::timeout(IDLE_TIMEOUT, stream.read_exact(body)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return,
        }
        // Rights are checked on every message, as the HTTPS API checks them on
        // every request: a node decommissioned (or whose inventory entry
        // changed) or a certificate expired since the last message is refused
        // now, not when the connection ends.
        match certificate.principal(&keystore) {
            Ok(now) => {
                if now.token_id != principal.token_id
                    || now.role != principal.role
                    || now.scope != principal.scope
                {
                    session = Arc::new(session_for(&now, remote.clone()));
                    principal = now;
                }
            }
            Err(error) => {
                refuse_message(&mut stream, peer, &keystore, &session, &message, &error).await;
                return;
            }
        }
        // `kmip` decides how the message runs: answered at once, quick reads
        // here (their audit records awaited without holding a thread, as
        // the HTTPS API's key reads do), or anything that changes state or
        // works longer on the blocking pool.
        let answered = if keystore.reads_wait() {
            // With a database server behind the store, every read waits on
            // the network: the whole message runs on the blocking pool, not
            // on this task; only the wait for its audit records stays here.
            let (keystore, session) = (Arc::clone(&keystore), Arc::clone(&session));
            let on_pool = tokio::task::spawn_blocking(move || {
                match kmip::answer(&keystore, &session, message) {
                    kmip::Answer::Blocking(work) => kmip::Answer::Ready(work.run()),
                    answer => answer,
                }
            });
            match on_pool.await {
                Ok(answer) => answer,
                Err(error) => {
                    tracing::error!(%peer, %error, "KMIP request handler failed");
                    return;
                }
            }
        } else {
            kmip::answer(&keystore, &session, message)
        };
        let answer = match answered {
            kmip::Answer::Ready(response) => Ok(response),
            kmip::Answer::Durable(durable) => durable.finish().await,
            kmip::Answer::Blocking(work) => {
                match tokio::task::spawn_blocking(|| work.run()).await {
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

/// Answers a message whose sender's certificate is no longer accepted: every
/// batch item fails with Authentication Not Successful (KMIP's reason for
/// credentials the server cannot validate), the refusal is audited under the
/// principal the connection had, and the caller then closes the connection:
/// its certificate would be refused on every later message, and a new
/// connection with it is refused at the handshake.
async fn refuse_message(
    stream: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    peer: SocketAddr,
    keystore: &Keystore,
    session: &kmip::Session,
    message: &[u8],
    error: &CertificateRefused,
) {
    tracing::info!(%peer, %error, "KMIP client refused on an open connection; closing it");
    match keystore.record_deferred(&session.caller, "kmip", None, None, "unauthenticated") {
        Ok(durable) => {
            if let Err(error) = durable.finish().await {
                tracing::error!(%peer, %error, "could not audit a refused KMIP message");
            }
        }
        Err(error) => tracing::error!(%peer, %error, "could not audit a refused KMIP message"),
    }
    let answer = kmip::refusal(
        message,
        &kmip::KmipError::new(
            kmip::ResultReason::AuthenticationNotSuccessful,
            error.to_string(),
        ),
    );
    if stream.write_all(&answer).await.is_ok() {
        let _ = stream.flush().await;
    }
    let _ = stream.shutdown().await;
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

/// The HTTP answer of a KMIP request: the KMIP answer as a `content_type`
/// body that owns the wiped buffer (a KMIP answer may carry key material)
/// until the HTTP stack releases it, so it is wiped then rather than copied
/// into a buffer that is not; or the error.
fn http_answer<T: AsRef<[u8]> + Send + 'static>(
    answer: Result<T, ApiError>,
    content_type: &'static str,
) -> Response {
    match answer {
        Ok(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, content_type)],
            axum::body::Body::from(Bytes::from_owner(bytes)),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `POST /kmip`: one binary TTLV request message in, its response out.
pub async fn http_binary(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = with_session(&app, &headers, move |keystore, session| {
        kmip::handle_bytes(keystore, session, &body)
    })
    .await;
    http_answer(answer, "application/octet-stream")
}

/// `POST /kmip/2_1`: one JSON TTLV request message in, its response out.
pub async fn http_json(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if std::str::from_utf8(&body).is_err() {
        return ApiError::new(crate::error::Code::BadRequest, "the body is not UTF-8 JSON")
            .into_response();
    }
    let answer = with_session(&app, &headers, move |keystore, session| {
        kmip::handle_json(
            keystore,
            session,
            std::str::from_utf8(&body).unwrap_or_default(),
        )
    })
    .await;
    http_answer(answer, "application/json")
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
