//! The HTTPS client of the API: reqwest on rustls, trusting only what it is
//! given (a CA bundle it pins, with the node's certificate for the agent; the
//! CA certificates of a file for the CLI), sending a bearer token when it has
//! one, and reading every answer into a [`WipedBuffer`].
//!
//! [`fetch_ca_bundle_unverified`] is the one request made without verifying the
//! server: a joining node's `GET /v1/ca`, whose answer it checks against the
//! join token before it sends anything else.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::buffer::{WipedBuffer, wipe_if_unshared};
use crate::endpoint::{Endpoint, Method, Request, RequestError};
use crate::error::ErrorCode;
use crate::secret::SecretString;

pub use reqwest::Url;

/// Largest answer a client reads: a thousand audit records fit many times.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Largest CA bundle accepted from [`fetch_ca_bundle_unverified`].
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024;

/// Longest piece of an answer that is not an API error quoted in the error.
const QUOTED_BODY_CHARS: usize = 200;

/// How a client presents itself and how long it waits.
#[derive(Debug, Clone, Copy)]
pub struct ClientSettings {
    /// The `User-Agent`, e.g. `cryptainer-agent/0.1.0`.
    pub user_agent: &'static str,
    /// How long one request may take, answer included.
    pub request_timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
}

/// What went wrong on the way to the server, read from the error's causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Nothing listens there.
    ConnectionRefused,
    /// The server's certificate is not signed by a trusted CA.
    UnknownCa,
    /// The server's certificate was refused otherwise (name, expiry).
    BadCertificate,
    /// The server refused the client's certificate as revoked in the TLS
    /// handshake: what a decommissioned node meets on a new connection.
    CertificateRevoked,
    /// Another TLS failure.
    Tls,
    /// No answer in time.
    Timeout,
    /// Anything else (name resolution, a connection reset, ...).
    Other,
}

/// A request that got no answer: the cause, and what kind of failure it is.
#[derive(Debug)]
pub struct Unreachable {
    transport: Transport,
    /// Whether the request may have reached the server (the failure came
    /// after the connection was made): then it may have taken effect.
    maybe_sent: bool,
    cause: Cause,
}

#[derive(Debug)]
enum Cause {
    Http(reqwest::Error),
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl Unreachable {
    /// A failure of kind `transport` caused by `cause` (for implementations
    /// of the client traits other than HTTPS).
    pub fn new(
        transport: Transport,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Unreachable {
        Unreachable {
            transport,
            maybe_sent: true,
            cause: Cause::Other(cause.into()),
        }
    }

    /// A failure of kind `transport` before anything was sent (connecting
    /// failed): the server cannot have acted on the request.
    pub fn before_sending(
        transport: Transport,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Unreachable {
        Unreachable {
            maybe_sent: false,
            ..Unreachable::new(transport, cause)
        }
    }

    fn from_http(error: reqwest::Error) -> Unreachable {
        Unreachable {
            transport: classify(&error),
            // A failure to connect (TCP, TLS handshake) sent nothing.
            maybe_sent: !error.is_connect(),
            cause: Cause::Http(error),
        }
    }

    /// Whether the request may have reached the server, and so may have
    /// taken effect: false only when the connection itself failed.
    pub fn maybe_sent(&self) -> bool {
        self.maybe_sent
    }

    /// What kind of failure it is.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The same failure without the request's URL in its message.
    pub fn without_url(self) -> Unreachable {
        match self.cause {
            Cause::Http(error) => Unreachable {
                transport: self.transport,
                maybe_sent: self.maybe_sent,
                cause: Cause::Http(error.without_url()),
            },
            other @ Cause::Other(_) => Unreachable {
                transport: self.transport,
                maybe_sent: self.maybe_sent,
                cause: other,
            },
        }
    }

    fn cause(&self) -> &(dyn std::error::Error + 'static) {
        match &self.cause {
            Cause::Http(error) => error,
            Cause::Other(error) => error.as_ref(),
        }
    }
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.cause(), formatter)
    }
}

impl std::error::Error for Unreachable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause().source()
    }
}

/// Everything a call of the API can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached, or did not answer.
    #[error(transparent)]
    Unreachable(Unreachable),
    /// The server answered with an error.
    #[error("{message} (HTTP {status}, {})", .code.map_or("unexpected", ErrorCode::as_str))]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error code; `None` when the answer is not an API error (a
        /// proxy's page, another server).
        code: Option<ErrorCode>,
        /// The server's message, or a short quote of what it sent.
        message: String,
    },
    /// A success answer that is not what the endpoint answers.
    #[error("the server's answer is not what this client expects: {detail}")]
    BadAnswer {
        /// What was wrong.
        detail: String,
    },
    /// An answer larger than [`MAX_ANSWER_BYTES`].
    #[error("the server's answer is larger than {limit} bytes; is this a Cryptainer server?")]
    AnswerTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The request could not be made.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The HTTPS client could not be set up.
    #[error("cannot set up the HTTPS client: {source}")]
    Setup {
        /// The HTTP client's error.
        source: reqwest::Error,
    },
    /// No TLS configuration could be made.
    #[error("cannot set up TLS: {source}")]
    Tls {
        /// Why.
        source: rustls::Error,
    },
    /// A token that cannot be sent in a header.
    #[error("the token holds characters an HTTP header cannot carry; check it for line breaks")]
    InvalidToken,
    /// A call about one server (its seal, its status) for a client of several.
    #[error(
        "this concerns one server (each is sealed and unsealed on its own) and {servers} were \
         given; name one server"
    )]
    OneServerOnly {
        /// How many servers the client has.
        servers: usize,
    },
    /// No server address was given.
    #[error("no server address was given")]
    NoServer,
}

impl ClientError {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error code of an error answer.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Refused { code, .. } => *code,
            _ => None,
        }
    }

    /// The transport failure, if the request got no answer.
    pub fn transport(&self) -> Option<Transport> {
        match self {
            ClientError::Unreachable(unreachable) => Some(unreachable.transport()),
            _ => None,
        }
    }

    /// The error of an answer with `status` and `body` that is not a success.
    pub fn from_answer(status: u16, body: &[u8]) -> ClientError {
        #[derive(serde::Deserialize)]
        struct Shape {
            error: Detail,
        }
        #[derive(serde::Deserialize)]
        struct Detail {
            code: String,
            message: String,
        }
        if let Ok(Shape { error }) = serde_json::from_slice::<Shape>(body) {
            return ClientError::Refused {
                status,
                code: ErrorCode::parse(&error.code),
                message: error.message,
            };
        }
        let text = String::from_utf8_lossy(body);
        let quoted: String = text.trim().chars().take(QUOTED_BODY_CHARS).collect();
        ClientError::Refused {
            status,
            code: None,
            message: if quoted.is_empty() {
                format!("the server answered HTTP {status} without an error body")
            } else {
                format!("the server answered HTTP {status}: {quoted}")
            },
        }
    }
}

/// A success answer, as the server sent it, in a buffer wiped when dropped.
pub struct Answer<T> {
    body: WipedBuffer,
    answer: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Answer<T> {
    /// The answer decoded. Secrets in it are copied into their own wiped
    /// types; this buffer stays until the answer is dropped.
    pub fn decode(&self) -> Result<T, ClientError> {
        serde_json::from_slice(self.body.as_slice()).map_err(|error| ClientError::BadAnswer {
            detail: error.to_string(),
        })
    }

    /// The JSON exactly as the server sent it (for `--json`).
    pub fn body(&self) -> &[u8] {
        self.body.as_slice()
    }

    /// An answer of `body`, as if read from a server.
    #[cfg(test)]
    pub(crate) fn for_tests(body: WipedBuffer) -> Answer<T> {
        Answer {
            body,
            answer: PhantomData,
        }
    }
}

/// The CA certificates a client trusts, read from PEM.
pub struct CaRoots {
    certificates: Vec<reqwest::Certificate>,
}

/// Why PEM does not give CA certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaRootsError {
    /// It holds no `BEGIN CERTIFICATE` block.
    #[error("it holds no PEM certificate")]
    NoCertificate,
    /// A certificate block does not parse.
    #[error("a certificate does not parse: {0}")]
    Invalid(reqwest::Error),
}

impl CaRoots {
    /// The certificates of the PEM text `pem`.
    pub fn from_pem(pem: &[u8]) -> Result<CaRoots, CaRootsError> {
        const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
        if !pem.windows(BEGIN.len()).any(|window| window == BEGIN) {
            return Err(CaRootsError::NoCertificate);
        }
        let certificates =
            reqwest::Certificate::from_pem_bundle(pem).map_err(CaRootsError::Invalid)?;
        if certificates.is_empty() {
            return Err(CaRootsError::NoCertificate);
        }
        Ok(CaRoots { certificates })
    }
}

/// The servers a client may send a call to: the servers of a cluster, all
/// equal, the first tried first. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers {
    first: Url,
    more: Vec<Url>,
}

impl Servers {
    /// `urls`, in order; `None` when there are none.
    pub fn new(urls: Vec<Url>) -> Option<Servers> {
        let mut urls = urls.into_iter();
        let first = urls.next()?;
        Some(Servers {
            first,
            more: urls.collect(),
        })
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        1 + self.more.len()
    }

    /// Never: a list of servers is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Server `index`, from 0.
    pub fn get(&self, index: usize) -> Option<&Url> {
        match index.checked_sub(1) {
            None => Some(&self.first),
            Some(more) => self.more.get(more),
        }
    }

    /// The servers, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Url> {
        std::iter::once(&self.first).chain(&self.more)
    }
}

impl From<Url> for Servers {
    fn from(url: Url) -> Servers {
        Servers {
            first: url,
            more: Vec::new(),
        }
    }
}

/// A client of a server, or of the servers of a cluster, over HTTPS.
///
/// With several servers a call goes to the one that answered last; it moves
/// to the next when the connection fails or the server answers 503 (sealed,
/// starting, or cut off from the database: it did nothing). A call that may
/// have reached a server that then vanished moves on only when repeating it
/// is harmless (a `GET`, or [`Endpoint::REPEATABLE`]); otherwise its failure
/// is answered, since it may have taken effect.
#[derive(Clone)]
pub struct HttpsClient {
    http: reqwest::Client,
    servers: Arc<Servers>,
    /// The server that answered last, shared by every clone.
    current: Arc<AtomicUsize>,
    /// `Bearer <token>`, in memory wiped when the last clone is dropped.
    authorization: Option<reqwest::header::HeaderValue>,
}

/// Runs `$attempt` (an expression of `$base`, the server's URL, that may
/// `.await`, giving `Result<T, (ClientError, moves_on)>`) on the server that
/// answered last, then on the next while it fails with an error that moves
/// on; the server that answered, or failed for good, is the one the next
/// call goes to first. A macro, not a function taking an async closure: the
/// futures of the callers must stay `Send`.
macro_rules! fail_over {
    ($client:expr, |$base:ident| $attempt:expr) => {{
        let client = $client;
        let count = client.servers.len();
        let first = client.current.load(Ordering::Relaxed);
        let mut failure = None;
        let mut answer = None;
        for offset in 0..count {
            let index = first.wrapping_add(offset) % count;
            let Some($base) = client.servers.get(index) else {
                continue;
            };
            match $attempt {
                Err((error, true)) => failure = Some(error),
                settled => {
                    client.current.store(index, Ordering::Relaxed);
                    answer = Some(settled.map_err(|(error, _)| error));
                    break;
                }
            }
        }
        answer.unwrap_or_else(|| Err(failure.unwrap_or(ClientError::NoServer)))
    }};
}

impl HttpsClient {
    /// A client that uses `tls` as it is: the agent's, which trusts only the
    /// CA bundle it pinned and presents the node's certificate.
    pub fn with_tls(
        servers: impl Into<Servers>,
        tls: rustls::ClientConfig,
        settings: &ClientSettings,
    ) -> Result<HttpsClient, ClientError> {
        let http = builder(settings)
            .use_preconfigured_tls(tls)
            .build()
            .map_err(|source| ClientError::Setup { source })?;
        Ok(HttpsClient::over(http, servers.into()))
    }

    fn over(http: reqwest::Client, servers: Servers) -> HttpsClient {
        HttpsClient {
            http,
            servers: Arc::new(servers),
            current: Arc::new(AtomicUsize::new(0)),
            authorization: None,
        }
    }

    /// A client that trusts only `roots`, never the system's: the CLI's.
    pub fn with_roots(
        servers: impl Into<Servers>,
        roots: CaRoots,
        settings: &ClientSettings,
    ) -> Result<HttpsClient, ClientError> {
        let mut builder = builder(settings).tls_built_in_root_certs(false);
        for certificate in roots.certificates {
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder
            .build()
            .map_err(|source| ClientError::Setup { source })?;
        Ok(HttpsClient::over(http, servers.into()))
    }

    /// The client, sending `token` as a bearer token with every
    /// authenticated request.
    pub fn with_bearer_token(mut self, token: &SecretString) -> Result<HttpsClient, ClientError> {
        const PREFIX: &str = "Bearer ";
        let token = token.expose_secret();
        let mut text = Zeroizing::new(Vec::with_capacity(PREFIX.len() + token.len()));
        text.extend_from_slice(PREFIX.as_bytes());
        text.extend_from_slice(token.as_bytes());
        // The header keeps this memory (no copy) and wipes it with the client.
        let mut value =
            reqwest::header::HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(text))
                .map_err(|_| ClientError::InvalidToken)?;
        value.set_sensitive(true);
        self.authorization = Some(value);
        Ok(self)
    }

    /// The base address of the server calls go to now (the one that
    /// answered last).
    pub fn base(&self) -> &Url {
        let index = self.current.load(Ordering::Relaxed);
        self.servers.get(index).unwrap_or(&self.servers.first)
    }

    /// Every server, in order.
    pub fn servers(&self) -> &Servers {
        &self.servers
    }

    /// A client of server `index` alone (sharing this one's connections and
    /// token), for what concerns one server: its status, its seal.
    pub fn only(&self, index: usize) -> Option<HttpsClient> {
        let url = self.servers.get(index)?.clone();
        Some(HttpsClient {
            http: self.http.clone(),
            servers: Arc::new(Servers::from(url)),
            current: Arc::new(AtomicUsize::new(0)),
            authorization: self.authorization.clone(),
        })
    }

    /// Sends `endpoint` and returns the success answer as it came, from the
    /// server that answered last or, when it cannot, from the next (see
    /// [`HttpsClient`]).
    pub async fn call<E: Endpoint>(&self, endpoint: &E) -> Result<Answer<E::Answer>, ClientError> {
        let request = endpoint.request()?;
        let count = self.servers.len();
        if E::PER_SERVER && count > 1 {
            return Err(ClientError::OneServerOnly { servers: count });
        }
        let repeatable = request.method == Method::Get || E::REPEATABLE;
        fail_over!(self, |base| self
            .call_one(base, &request, E::AUTHENTICATED)
            .await
            .map_err(|error| {
                let next = moves_on(&error, repeatable);
                (error, next)
            }))
    }

    /// Sends `request` to the server at `base`.
    async fn call_one<T>(
        &self,
        base: &Url,
        request: &Request,
        authenticated: bool,
    ) -> Result<Answer<T>, ClientError> {
        let url = url_for(base, &request.path);
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.http.request(method, url);
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if authenticated {
            if let Some(authorization) = &self.authorization {
                builder = builder.header(reqwest::header::AUTHORIZATION, authorization.clone());
            }
        }
        if let Some(body) = &request.body {
            // Sent from a copy of its own, wiped once the request is done with
            // it (another server may need the body again).
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes::Bytes::from_owner(body.clone()));
        }
        let response = builder.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = read_body(response, MAX_ANSWER_BYTES).await?;
        if status.is_success() {
            Ok(Answer {
                body,
                answer: PhantomData,
            })
        } else {
            Err(ClientError::from_answer(status.as_u16(), body.as_slice()))
        }
    }

    /// Sends `endpoint` and decodes its answer.
    pub async fn send<E: Endpoint>(&self, endpoint: &E) -> Result<E::Answer, ClientError> {
        self.call(endpoint).await?.decode()
    }

    /// Downloads a backup of the whole store (`GET /v1/sys/backup`) into
    /// `out`, as the server streams it; returns its size. From the server
    /// that answered last, or the next (a backup changes nothing but the
    /// audit log). The caller checks the file: a transfer cut short is a
    /// file without its checksum.
    pub async fn download_backup(&self, out: &mut dyn std::io::Write) -> Result<u64, ClientError> {
        let request = Request::new(Method::Get, crate::routes::BACKUP.to_owned());
        fail_over!(self, |base| self
            .download_one(base, &request, out)
            .await
            .map_err(|(error, written)| {
                // Only while nothing was written: the next server's backup
                // would start the file again.
                let next = written == 0 && moves_on(&error, true);
                (error, next)
            }))
    }

    async fn download_one(
        &self,
        base: &Url,
        request: &Request,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, (ClientError, u64)> {
        let mut builder = self.http.get(url_for(base, &request.path));
        if let Some(authorization) = &self.authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, authorization.clone());
        }
        let mut response = builder
            .send()
            .await
            .map_err(|error| (unreachable(error), 0))?;
        let status = response.status();
        if !status.is_success() {
            let body = read_body(response, MAX_ANSWER_BYTES)
                .await
                .map_err(|error| (error, 0))?;
            return Err((
                ClientError::from_answer(status.as_u16(), body.as_slice()),
                0,
            ));
        }
        let mut written = 0_u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| (unreachable(error), written))?
        {
            out.write_all(&chunk).map_err(|error| {
                (
                    ClientError::Unreachable(Unreachable::new(Transport::Other, error)),
                    written,
                )
            })?;
            written = written.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        }
        Ok(written)
    }

    /// Sends a backup file (`POST /v1/sys/restore`) to restore into the
    /// server, which must be uninitialized with an empty store; streamed from
    /// the file. A restore is not sent again to another server once it may
    /// have reached one.
    pub async fn upload_restore(
        &self,
        file: &std::path::Path,
    ) -> Result<crate::sys::BackupSummary, ClientError> {
        let request = Request::new(Method::Post, crate::routes::RESTORE.to_owned());
        fail_over!(self, |base| self
            .restore_one(base, &request, file)
            .await
            .map_err(|error| {
                let next = moves_on(&error, false);
                (error, next)
            }))
    }

    async fn restore_one(
        &self,
        base: &Url,
        request: &Request,
        file: &std::path::Path,
    ) -> Result<crate::sys::BackupSummary, ClientError> {
        let opened = tokio::fs::File::open(file).await.map_err(|error| {
            ClientError::Request(RequestError::File {
                path: file.to_path_buf(),
                source: error,
            })
        })?;
        let response = self
            .http
            .post(url_for(base, &request.path))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::from(opened))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let body = read_body(response, MAX_ANSWER_BYTES).await?;
        if status.is_success() {
            serde_json::from_slice(body.as_slice()).map_err(|error| ClientError::BadAnswer {
                detail: error.to_string(),
            })
        } else {
            Err(ClientError::from_answer(status.as_u16(), body.as_slice()))
        }
    }
}

/// Whether a call that failed with `error` moves to the next server: the
/// server did nothing (503: sealed, starting, cut off from its database), or
/// nothing reached it, or repeating the call is harmless. A certificate the
/// server refused as revoked is the cluster's answer, not one server's.
fn moves_on(error: &ClientError, repeatable: bool) -> bool {
    match error {
        ClientError::Refused { status, .. } => *status == 503,
        ClientError::Unreachable(unreachable) => {
            unreachable.transport() != Transport::CertificateRevoked
                && (repeatable || !unreachable.maybe_sent())
        }
        _ => false,
    }
}

/// The URL of `path` (already percent-encoded) on the server at `base`, under
/// `base`'s own path if it has one.
fn url_for(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
    url
}

fn builder(settings: &ClientSettings) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .https_only(true)
        .timeout(settings.request_timeout)
        .connect_timeout(settings.connect_timeout)
        .user_agent(settings.user_agent)
}

fn unreachable(error: reqwest::Error) -> ClientError {
    ClientError::Unreachable(Unreachable::from_http(error))
}

/// Reads an answer's body, at most `limit` bytes, into a wiped buffer.
async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<WipedBuffer, ClientError> {
    let expected = response
        .content_length()
        .and_then(|length| usize::try_from(length).ok())
        .unwrap_or(0)
        .min(limit);
    let mut body = WipedBuffer::with_capacity(expected);
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if body.len().saturating_add(chunk.len()) > limit {
            wipe_if_unshared(chunk);
            return Err(ClientError::AnswerTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
        wipe_if_unshared(chunk);
    }
    Ok(body)
}

/// What kind of transport failure `error` is, from its causes.
fn classify(error: &reqwest::Error) -> Transport {
    if error.is_timeout() {
        return Transport::Timeout;
    }
    // io::Error's `source` skips the error it wraps (and rustls errors arrive
    // wrapped twice), so the walk also descends into `get_ref`. Bounded in case
    // a chain ever loops.
    let mut pending: Vec<&(dyn std::error::Error + 'static)> = vec![error];
    let mut visited = 0;
    while let Some(current) = pending.pop() {
        visited += 1;
        if visited > 64 {
            break;
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Transport::ConnectionRefused,
                std::io::ErrorKind::TimedOut => return Transport::Timeout,
                _ => {}
            }
            if let Some(inner) = io.get_ref() {
                pending.push(inner);
            }
        }
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRevoked) => {
                    Transport::CertificateRevoked
                }
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
                    Transport::UnknownCa
                }
                rustls::Error::InvalidCertificate(_) => Transport::BadCertificate,
                _ => Transport::Tls,
            };
        }
        if let Some(next) = current.source() {
            pending.push(next);
        }
    }
    Transport::Other
}

/// Accepts any server certificate, but still checks that the server holds the
/// key of the certificate it sent. Only for [`fetch_ca_bundle_unverified`].
#[derive(Debug)]
struct AcceptAnyServer {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Fetches `GET /v1/ca` from `base` without verifying the server: the one
/// request a joining node makes before it can trust anything. The caller
/// checks the bundle against its join token before it sends anything else;
/// this function sends nothing but that `GET`, and reads at most
/// [`MAX_BUNDLE_BYTES`].
pub async fn fetch_ca_bundle_unverified(
    base: &Url,
    settings: &ClientSettings,
) -> Result<Vec<u8>, ClientError> {
    let provider: CryptoProvider = rustls::crypto::ring::default_provider();
    let verifier = Arc::new(AcceptAnyServer {
        algorithms: provider.signature_verification_algorithms,
    });
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|source| ClientError::Tls { source })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let http = builder(settings)
        .use_preconfigured_tls(tls)
        .build()
        .map_err(|source| ClientError::Setup { source })?;
    let response = http
        .get(url_for(base, crate::routes::CA))
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let body = match read_body(response, MAX_BUNDLE_BYTES).await {
        Ok(body) => body,
        Err(ClientError::AnswerTooLarge { .. }) => {
            return Err(ClientError::BadAnswer {
                detail: format!("status {status}, more than {MAX_BUNDLE_BYTES} bytes"),
            });
        }
        Err(error) => return Err(error),
    };
    if !status.is_success() {
        return Err(ClientError::BadAnswer {
            detail: format!("status {status}, {} bytes", body.len()),
        });
    }
    Ok(body.as_slice().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_are_read_from_the_documented_shape() {
        let error = ClientError::from_answer(
            404,
            br#"{"error":{"code":"not_found","message":"no key 'db'"}}"#,
        );
        assert_eq!(error.status(), Some(404));
        assert_eq!(error.code(), Some(ErrorCode::NotFound));
        assert_eq!(error.to_string(), "no key 'db' (HTTP 404, not_found)");
    }

    #[test]
    fn other_error_answers_are_quoted_briefly() {
        let error =
            ClientError::from_answer(502, format!("<html>{}</html>", "x".repeat(500)).as_bytes());
        assert_eq!(error.code(), None);
        let text = error.to_string();
        assert!(
            text.starts_with("the server answered HTTP 502: <html>xxx"),
            "{text}"
        );
        assert!(text.ends_with("(HTTP 502, unexpected)"), "{text}");
        assert!(text.chars().count() < 260, "{text}");
        assert_eq!(
            ClientError::from_answer(500, b"").to_string(),
            "the server answered HTTP 500 without an error body (HTTP 500, unexpected)"
        );
        let unknown = ClientError::from_answer(
            418,
            br#"{"error":{"code":"teapot","message":"short and stout"}}"#,
        );
        assert_eq!(unknown.code(), None);
        assert_eq!(
            unknown.to_string(),
            "short and stout (HTTP 418, unexpected)"
        );
    }

    #[test]
    fn paths_keep_their_encoding_under_the_base() {
        let check = |base: &str, parameter: &str, expected: &str| {
            let path = crate::routes::path(crate::routes::KEY, &[parameter]).unwrap();
            let url = url_for(&Url::parse(base).unwrap(), &path);
            assert_eq!(url.as_str(), expected);
        };
        check("https://h:1", "db", "https://h:1/v1/keys/db");
        check("https://h:1/", "a/b c%", "https://h:1/v1/keys/a%2Fb%20c%25");
        check("https://h:1/kms/?x=1#f", "db", "https://h:1/kms/v1/keys/db");
    }

    #[test]
    fn rejects_pem_without_certificates() {
        assert!(matches!(
            CaRoots::from_pem(b"not a certificate"),
            Err(CaRootsError::NoCertificate)
        ));
    }

    #[test]
    fn a_call_moves_on_only_when_the_server_did_nothing_or_repeating_is_harmless() {
        let check = |error: ClientError, repeatable: bool, expected: bool| {
            let shown = error.to_string();
            assert_eq!(
                moves_on(&error, repeatable),
                expected,
                "{shown}, {repeatable}"
            );
        };
        let answered = |status: u16, code: &str| {
            ClientError::from_answer(
                status,
                format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#).as_bytes(),
            )
        };
        let refused = || {
            Unreachable::before_sending(
                Transport::ConnectionRefused,
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            )
        };
        let lost = || Unreachable::new(Transport::Other, std::io::Error::other("reset"));
        for repeatable in [false, true] {
            // Sealed, starting, cut off from the database: nothing was done.
            check(answered(503, "sealed"), repeatable, true);
            check(answered(503, "unavailable"), repeatable, true);
            // Nothing reached the server.
            check(ClientError::Unreachable(refused()), repeatable, true);
            // A definitive answer, from any server.
            check(answered(409, "conflict"), repeatable, false);
            check(answered(500, "internal"), repeatable, false);
            check(answered(401, "unauthenticated"), repeatable, false);
            check(
                ClientError::Unreachable(Unreachable::before_sending(
                    Transport::CertificateRevoked,
                    std::io::Error::other("revoked"),
                )),
                repeatable,
                false,
            );
        }
        // Lost after it may have reached the server: only a harmless repeat.
        check(ClientError::Unreachable(lost()), false, false);
        check(ClientError::Unreachable(lost()), true, true);
    }

    #[test]
    fn a_list_of_servers_is_never_empty_and_keeps_its_order() {
        assert!(Servers::new(Vec::new()).is_none());
        let urls: Vec<Url> = ["https://a:1", "https://b:2", "https://c:3"]
            .iter()
            .map(|text| Url::parse(text).unwrap())
            .collect();
        let servers = Servers::new(urls.clone()).unwrap();
        assert_eq!(servers.len(), 3);
        assert_eq!(servers.iter().cloned().collect::<Vec<_>>(), urls);
        assert_eq!(servers.get(2), urls.get(2));
        assert_eq!(servers.get(3), None);
    }

    #[test]
    fn a_transport_failure_keeps_its_kind_and_cause() {
        let error = ClientError::Unreachable(Unreachable::new(
            Transport::CertificateRevoked,
            std::io::Error::other("certificate revoked"),
        ));
        assert_eq!(error.transport(), Some(Transport::CertificateRevoked));
        assert_eq!(error.to_string(), "certificate revoked");
        assert_eq!(error.status(), None);
    }
}
