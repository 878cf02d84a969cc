//! Node identity over HTTPS: the CA bundle, join tokens, joining, renewal, liveness,
//! the node inventory and decommissioning (docs/identity.md).

use std::collections::BTreeMap;
use std::path::{Path as FilePath, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keystore::model::{JoinTokenRow, NodeRow, NodeState, Role};
use keystore::{Caller, Keystore, KeystoreError};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::{App, JsonBody, RequestContext, require_all_tenants};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, Code};
use crate::peer::{DenyList, NodeClientVerifier};

/// Default lifetime of a join token: 24 hours.
const DEFAULT_JOIN_TOKEN_TTL_SECS: u64 = 24 * 3600;

/// Longest lifetime of a join token: 30 days; invitations should not linger.
const MAX_JOIN_TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;

/// Most nodes one join token may admit.
const MAX_JOIN_TOKEN_USES: u32 = 10_000;

/// Longest node name (the host name given at join), in bytes.
const MAX_NODE_NAME_LEN: usize = 64;

/// File in the TLS directory holding the CA bundle nodes trust, after a rotation:
/// the current root and the one before it.
pub const CA_BUNDLE_FILE: &str = "ca-bundle.pem";

/// File in the TLS directory holding the last rotation's cross-signed certificate
/// (the new root signed by the old).
pub const CA_CROSS_FILE: &str = "ca-cross.pem";

/// The bundle nodes trust: `ca-bundle.pem` when a rotation wrote one that holds the
/// current CA, else the current CA alone.
pub fn load_bundle(tls_dir: &FilePath, ca_pem: &str) -> String {
    match std::fs::read_to_string(tls_dir.join(CA_BUNDLE_FILE)) {
        Ok(bundle) if bundle.contains(ca_pem.trim()) => bundle,
        Ok(_) => {
            tracing::warn!(
                "ca-bundle.pem does not hold the current CA (an interrupted rotation?); serving the CA alone"
            );
            ca_pem.to_owned()
        }
        Err(_) => ca_pem.to_owned(),
    }
}

/// What [`Identity::new`] needs.
pub struct IdentitySetup {
    /// The CA that signs node certificates.
    pub ca: pki::CertificateAuthority,
    /// The bundle nodes pin (PEM), holding `ca`'s certificate.
    pub bundle_pem: String,
    /// The deny list the TLS verifier consults.
    pub deny: Arc<DenyList>,
    /// The TLS verifier, whose roots a CA rotation replaces.
    pub verifier: Arc<NodeClientVerifier>,
    /// Lifetime of node certificates.
    pub cert_lifetime: Duration,
    /// Where a CA rotation persists the new CA; `None` keeps it in memory only.
    pub tls_dir: Option<PathBuf>,
    /// After a CA rotation, at most this many nodes are told to renew per
    /// `reissue_interval`: a batch.
    pub reissue_batch: u32,
    /// How long one batch of re-issues lasts.
    pub reissue_interval: Duration,
    /// The server's own certificate, which both listeners present.
    pub server_cert: crate::server_cert::ServerCert,
}

/// The re-issue batches after a CA rotation: at most `size` renew hints per
/// `interval`, so that thousands of nodes do not all renew in the same second.
struct ReissueBatches {
    size: u32,
    interval: Duration,
    window: Mutex<(std::time::Instant, u32)>,
}

impl ReissueBatches {
    /// Whether one more node may be told to renew now.
    fn admit(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let now = std::time::Instant::now();
        if now.duration_since(window.0) >= self.interval {
            *window = (now, 0);
        }
        if window.1 < self.size {
            window.1 += 1;
            true
        } else {
            false
        }
    }
}

/// The server's node identity state: the CA that signs node certificates, the
/// bundle nodes pin, the deny list, and the lifetime of node certificates.
pub struct Identity {
    ca: RwLock<pki::CertificateAuthority>,
    bundle_pem: RwLock<String>,
    deny: Arc<DenyList>,
    verifier: Arc<NodeClientVerifier>,
    cert_lifetime: Duration,
    tls_dir: Option<PathBuf>,
    /// Serializes joins, so that two joins cannot both take a join token's last use.
    join_lock: Mutex<()>,
    reissue: ReissueBatches,
    server_cert: crate::server_cert::ServerCert,
}

impl Identity {
    /// Node identity as `setup` describes.
    pub fn new(setup: IdentitySetup) -> Identity {
        Identity {
            ca: RwLock::new(setup.ca),
            bundle_pem: RwLock::new(setup.bundle_pem),
            deny: setup.deny,
            verifier: setup.verifier,
            cert_lifetime: setup.cert_lifetime,
            tls_dir: setup.tls_dir,
            join_lock: Mutex::new(()),
            reissue: ReissueBatches {
                size: setup.reissue_batch.max(1),
                interval: setup.reissue_interval,
                window: Mutex::new((std::time::Instant::now(), 0)),
            },
            server_cert: setup.server_cert,
        }
    }

    /// The server's own certificate.
    pub fn server_cert(&self) -> &crate::server_cert::ServerCert {
        &self.server_cert
    }

    /// How often the server certificate is checked for replacement.
    pub fn server_cert_check_interval(&self) -> Duration {
        crate::server_cert::check_interval(self.reissue.interval)
    }

    /// Issues a server certificate for `names` with the current CA, written to `dir`
    /// when given; returns it, its key and the issuing root's fingerprint (hex).
    pub(crate) fn issue_server_cert(
        &self,
        names: &[String],
        dir: Option<&FilePath>,
    ) -> Result<(pki::IssuedCert, zeroize::Zeroizing<String>, String), pki::PkiError> {
        let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
        let (issued, key_pem) = match dir {
            Some(dir) => pki::reissue_server_cert(dir, &ca, names)?,
            None => ca.issue_server_cert_and_key(names, pki::SERVER_CERT_VALIDITY)?,
        };
        Ok((issued, key_pem, hex::encode(ca.fingerprint_sha256())))
    }

    /// SHA-256 (hex) of the current CA certificate: the issuer of every node
    /// certificate signed from now on.
    pub fn ca_fingerprint_hex(&self) -> String {
        hex::encode(
            self.ca
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .fingerprint_sha256(),
        )
    }

    /// SHA-256 of the bundle, hex: what join tokens carry.
    pub fn bundle_digest_hex(&self) -> String {
        hex::encode(pki::bundle_digest(self.bundle_pem().as_bytes()))
    }

    /// The CA bundle exactly as served at `GET /v1/ca`.
    pub fn bundle_pem(&self) -> String {
        self.bundle_pem
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The deny list the TLS verifier consults.
    pub fn deny_list(&self) -> &Arc<DenyList> {
        &self.deny
    }

    /// The client certificate verifier of the HTTPS listener. Other TLS listeners
    /// (KMIP) should use this same verifier, so that a decommission and a CA rotation
    /// reach them at the same instant.
    pub fn client_verifier(&self) -> Arc<NodeClientVerifier> {
        Arc::clone(&self.verifier)
    }

    /// Signs a client's `csr_pem` (a KMIP client) with the current CA for
    /// `identity`; returns the certificate and the bundle clients trust.
    pub fn sign_client_csr(
        &self,
        csr_pem: &str,
        identity: &pki::ClientIdentity,
        validity: Duration,
    ) -> Result<(pki::IssuedCert, String), pki::PkiError> {
        let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
        let issued = ca.sign_csr(csr_pem, identity, validity)?;
        Ok((issued, self.bundle_pem()))
    }

    /// Signs `csr_pem` for `node`, ignoring the CSR's subject, and records the
    /// new certificate (serial, expiry, issuer) in `node`.
    fn sign(&self, csr_pem: &str, node: &mut NodeRow) -> Result<pki::IssuedCert, ApiError> {
        let identity = pki::ClientIdentity::new(node.name.clone())
            .with_node_id(node.id.clone())
            .with_tenant(node.tenant.clone())
            .with_role(node.role.as_str());
        let ca = self.ca.read().unwrap_or_else(PoisonError::into_inner);
        let certificate = ca
            .sign_csr(csr_pem, &identity, self.cert_lifetime)
            .map_err(csr_error)?;
        node.cert_serial = certificate.serial_hex.clone();
        node.cert_expires_at = certificate.not_after;
        node.issuer = hex::encode(ca.fingerprint_sha256());
        Ok(certificate)
    }
}

/// Maps a CSR refusal to a clear 400; anything else is the server's failure.
fn csr_error(error: pki::PkiError) -> ApiError {
    match error {
        pki::PkiError::WeakCsrKey { .. }
        | pki::PkiError::InvalidCsr { .. }
        | pki::PkiError::MalformedCsr { .. }
        | pki::PkiError::CsrSignature { .. }
        | pki::PkiError::MissingPem { .. }
        | pki::PkiError::NotPem { .. } => ApiError::bad_request(format!(
            "the certificate signing request is refused: {error}"
        )),
        error => {
            tracing::error!(%error, "could not sign a node certificate");
            ApiError::new(Code::Internal, "the server could not sign the certificate")
        }
    }
}

/// The node routes; merged into the API router.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/v1/ca", get(ca_bundle))
        .route("/v1/ca/rotate", post(rotate_ca))
        .route("/v1/ca/status", get(ca_status))
        .route("/v1/nodes", get(list_nodes))
        .route("/v1/nodes/join", post(join))
        .route("/v1/nodes/renew", post(renew))
        .route("/v1/nodes/heartbeat", post(heartbeat))
        .route("/v1/nodes/tokens", post(create_token).get(list_tokens))
        .route("/v1/nodes/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/v1/nodes/tokens/{id}/rotate", post(rotate_token))
        .route("/v1/nodes/{id}", get(show_node))
        .route("/v1/nodes/{id}/decommission", post(decommission))
        .route("/v1/nodes/{id}/labels", post(label_node).put(label_node))
}

fn identity_of(app: &App) -> Result<Arc<Identity>, ApiError> {
    app.identity.clone().ok_or_else(|| {
        ApiError::new(
            Code::Conflict,
            "node identity needs the built-in CA, and this server uses operator-supplied TLS files",
        )
    })
}

/// `GET /v1/ca`: the CA bundle (PEM), unauthenticated. A joining node fetches it
/// without trusting it, then checks its SHA-256 against its join token.
async fn ca_bundle(State(app): State<App>) -> Result<Response, ApiError> {
    let identity = identity_of(&app)?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        identity.bundle_pem(),
    )
        .into_response())
}

/// A join token as listed.
#[derive(Serialize)]
struct JoinTokenInfo {
    id: String,
    role: &'static str,
    tenant: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    max_uses: u32,
    uses: u32,
    labels: BTreeMap<String, String>,
}

impl From<&JoinTokenRow> for JoinTokenInfo {
    fn from(row: &JoinTokenRow) -> JoinTokenInfo {
        JoinTokenInfo {
            id: row.id.clone(),
            role: row.role.as_str(),
            tenant: row.tenant.clone(),
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            max_uses: row.max_uses,
            uses: row.uses,
            labels: row.labels.clone(),
        }
    }
}

/// A join token just made: the text is shown once.
#[derive(Serialize)]
struct CreatedJoinToken {
    token: String,
    #[serde(flatten)]
    info: JoinTokenInfo,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateJoinTokenRequest {
    role: Option<String>,
    tenant: Option<String>,
    ttl_secs: Option<u64>,
    max_uses: Option<u32>,
    /// Labels the joining nodes get.
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Node labels follow the object label rules: keys are names, values are
/// printable and short.
fn validate_labels(labels: &BTreeMap<String, String>) -> Result<(), ApiError> {
    keystore::object::validate_labels(labels)
        .map_err(|error| ApiError::bad_request(format!("node labels: {error}")))
}

/// Tenant names go into certificate URIs: ASCII letters, digits, `-`, `_`, `.`.
fn validate_tenant(tenant: &str) -> Result<(), ApiError> {
    keystore::object::validate_name("tenant", tenant)
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let valid = !tenant.is_empty()
        && tenant.len() <= pki::MAX_IDENTITY_COMPONENT_LEN
        && tenant
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "tenant '{tenant}' cannot be given to nodes; use ASCII letters, digits, '-', '_' or '.'"
        )))
    }
}

/// Makes a join token row and its text for the current CA bundle.
fn new_join_token(
    identity: &Identity,
    role: Role,
    tenant: String,
    ttl_secs: u64,
    max_uses: u32,
    labels: BTreeMap<String, String>,
) -> Result<(JoinTokenRow, zeroize::Zeroizing<String>), ApiError> {
    let token = pki::JoinToken::generate(pki::bundle_digest(identity.bundle_pem().as_bytes()))
        .map_err(|_| ApiError::new(Code::Internal, "no randomness for a join token"))?;
    let mut id_bytes = [0_u8; 9];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    let now = OffsetDateTime::now_utc();
    let row = JoinTokenRow {
        id: format!("jtk_{}", hex::encode(id_bytes)),
        digest: token.secret_digest_hex(),
        role,
        tenant,
        created_at: now,
        expires_at: now + time::Duration::seconds(i64::try_from(ttl_secs).unwrap_or(0)),
        revoked_at: None,
        max_uses,
        uses: 0,
        labels,
    };
    Ok((row, token.to_text_secret()))
}

async fn create_token(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<CreateJoinTokenRequest>,
) -> Result<(StatusCode, Json<CreatedJoinToken>), ApiError> {
    let identity = identity_of(&app)?;
    app.call(
        context,
        "node.token.create",
        Permission::ManageNodes,
        move |call| {
            let role_text = request.role.as_deref().unwrap_or("agent");
            if Role::parse(role_text) != Some(Role::Agent) {
                return Err(ApiError::bad_request(format!(
                    "nodes join with role 'agent', not '{role_text}'; people use API tokens (`cryptainer token create`)"
                )));
            }
            let tenant = call.principal().tenant_for(request.tenant.as_deref());
            validate_tenant(&tenant)?;
            if !call.principal().scope.allows(&tenant) {
                return Err(ApiError::new(
                    Code::Forbidden,
                    format!("this token may not invite nodes into tenant '{tenant}'"),
                ));
            }
            let ttl = request.ttl_secs.unwrap_or(DEFAULT_JOIN_TOKEN_TTL_SECS);
            if ttl == 0 || ttl > MAX_JOIN_TOKEN_TTL_SECS {
                return Err(ApiError::bad_request(format!(
                    "ttl_secs must be between 1 and {MAX_JOIN_TOKEN_TTL_SECS} (30 days)"
                )));
            }
            let max_uses = request.max_uses.unwrap_or(1);
            if max_uses == 0 || max_uses > MAX_JOIN_TOKEN_USES {
                return Err(ApiError::bad_request(format!(
                    "max_uses must be between 1 and {MAX_JOIN_TOKEN_USES}"
                )));
            }
            validate_labels(&request.labels)?;
            let (row, text) = new_join_token(
                &identity,
                Role::Agent,
                tenant,
                ttl,
                max_uses,
                request.labels,
            )?;
            call.keystore.put_join_tokens(
                &call.caller,
                "node.token.create",
                Some(&row.tenant),
                Some(&row.id),
                vec![row.clone()],
            )?;
            Ok((
                StatusCode::CREATED,
                Json(CreatedJoinToken {
                    token: text.to_string(),
                    info: JoinTokenInfo::from(&row),
                }),
            ))
        },
    )
    .await
}

async fn list_tokens(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<serde_json::Value>, ApiError> {
    app.call(
        context,
        "node.token.list",
        Permission::ManageNodes,
        move |call| {
            let tokens: Vec<JoinTokenInfo> = call
                .keystore
                .join_tokens()?
                .iter()
                .filter(|row| call.principal().scope.allows(&row.tenant))
                .map(JoinTokenInfo::from)
                .collect();
            call.keystore
                .record(&call.caller, "node.token.list", None, None, "ok")?;
            Ok(Json(serde_json::json!({ "tokens": tokens })))
        },
    )
    .await
}

/// The join token `id` within the caller's tenants.
fn find_token(
    keystore: &Keystore,
    principal: &Principal,
    id: &str,
) -> Result<JoinTokenRow, ApiError> {
    keystore
        .join_token_by_id(id)?
        .filter(|row| principal.scope.allows(&row.tenant))
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("no join token '{id}'")))
}

async fn revoke_token(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<JoinTokenInfo>, ApiError> {
    app.call(
        context,
        "node.token.revoke",
        Permission::ManageNodes,
        move |call| {
            let mut row = find_token(call.keystore, call.principal(), &id)?;
            if row.revoked_at.is_none() {
                row.revoked_at = Some(OffsetDateTime::now_utc());
                call.keystore.put_join_tokens(
                    &call.caller,
                    "node.token.revoke",
                    Some(&row.tenant),
                    Some(&row.id),
                    vec![row.clone()],
                )?;
            }
            Ok(Json(JoinTokenInfo::from(&row)))
        },
    )
    .await
}

async fn rotate_token(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<CreatedJoinToken>), ApiError> {
    let identity = identity_of(&app)?;
    app.call(
        context,
        "node.token.rotate",
        Permission::ManageNodes,
        move |call| {
            let mut old = find_token(call.keystore, call.principal(), &id)?;
            let now = OffsetDateTime::now_utc();
            let ttl = u64::try_from((old.expires_at - old.created_at).whole_seconds())
                .unwrap_or(DEFAULT_JOIN_TOKEN_TTL_SECS)
                .clamp(1, MAX_JOIN_TOKEN_TTL_SECS);
            let (row, text) = new_join_token(
                &identity,
                old.role,
                old.tenant.clone(),
                ttl,
                old.max_uses,
                old.labels.clone(),
            )?;
            old.revoked_at.get_or_insert(now);
            call.keystore.put_join_tokens(
                &call.caller,
                "node.token.rotate",
                Some(&row.tenant),
                Some(&row.id),
                vec![old, row.clone()],
            )?;
            Ok((
                StatusCode::CREATED,
                Json(CreatedJoinToken {
                    token: text.to_string(),
                    info: JoinTokenInfo::from(&row),
                }),
            ))
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinRequest {
    token: String,
    csr_pem: String,
    #[serde(default)]
    name: Option<String>,
}

/// A certificate issued to a node.
#[derive(Serialize)]
struct IssuedNodeCertificate {
    node_id: String,
    name: String,
    role: &'static str,
    tenant: String,
    cert_pem: String,
    ca_pem: String,
    serial: String,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
}

fn issued(node: &NodeRow, certificate: pki::IssuedCert, ca_pem: String) -> IssuedNodeCertificate {
    IssuedNodeCertificate {
        node_id: node.id.clone(),
        name: node.name.clone(),
        role: node.role.as_str(),
        tenant: node.tenant.clone(),
        cert_pem: certificate.cert_pem,
        ca_pem,
        serial: certificate.serial_hex,
        not_after: certificate.not_after,
    }
}

fn validate_node_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NODE_NAME_LEN
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "the node name must be 1 to 64 ASCII letters, digits, '-', '_' or '.' (a host name)",
        ))
    }
}

/// `POST /v1/nodes/join`: unauthenticated but for the join token in the body.
async fn join(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<JoinRequest>,
) -> Result<(StatusCode, Json<IssuedNodeCertificate>), ApiError> {
    let identity = identity_of(&app)?;
    let remote = context.remote.clone();
    app.call_public("node.join", move |keystore| {
        keystore.require_unsealed().map_err(ApiError::from)?;
        let mut caller = Caller {
            principal: "anonymous".to_owned(),
            remote,
        };
        let outcome = join_blocking(keystore, &identity, &mut caller, request);
        if let Err(error) = &outcome {
            keystore.audit_refusal(&caller, "node.join", None, None, error.code.as_str());
            tracing::info!(message = %error.message, principal = %caller.principal, "refused a join");
        }
        outcome
    })
    .await
}

fn join_blocking(
    keystore: &Keystore,
    identity: &Identity,
    caller: &mut Caller,
    request: JoinRequest,
) -> Result<(StatusCode, Json<IssuedNodeCertificate>), ApiError> {
    let refused = |message: &str| ApiError::new(Code::Unauthenticated, message);
    let token = zeroize::Zeroizing::new(request.token);
    let token = pki::JoinToken::parse(&token)
        .map_err(|error| ApiError::new(Code::Unauthenticated, error.to_string()))?;
    let bundle = identity.bundle_pem();
    if !token.matches_bundle(bundle.as_bytes()) {
        return Err(refused(
            "the join token was made for another CA (or before the CA was rotated); create a new one with `cryptainer node token create`",
        ));
    }
    let _serialized = identity
        .join_lock
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let wanted = token.secret_digest_hex();
    let mut row = keystore
        .join_token_by_digest(&wanted)?
        .filter(|row| keystore::secret::constant_time_eq(row.digest.as_bytes(), wanted.as_bytes()))
        .ok_or_else(|| {
            refused("unknown join token; create one with `cryptainer node token create`")
        })?;
    caller.principal = format!("join_token:{}", row.id);
    let now = OffsetDateTime::now_utc();
    if row.revoked_at.is_some() {
        return Err(refused(
            "this join token was revoked or rotated; ask an admin for a new one",
        ));
    }
    if row.expires_at <= now {
        return Err(refused(
            "this join token has expired; ask an admin for a new one",
        ));
    }
    if row.uses >= row.max_uses {
        return Err(refused(&format!(
            "this join token was already used {} time(s), its maximum; ask an admin for a new one",
            row.uses
        )));
    }
    let name = request.name.unwrap_or_else(|| "node".to_owned());
    validate_node_name(&name)?;
    let mut id_bytes = [0_u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    let mut node = NodeRow {
        id: format!("node-{}", hex::encode(id_bytes)),
        name,
        role: row.role,
        tenant: row.tenant.clone(),
        cert_serial: String::new(),
        cert_expires_at: now,
        joined_at: now,
        last_seen: Some(now),
        state: NodeState::Active,
        decommissioned_at: None,
        join_token_id: row.id.clone(),
        issuer: String::new(),
        labels: row.labels.clone(),
    };
    let certificate = identity.sign(&request.csr_pem, &mut node)?;
    row.uses = row.uses.saturating_add(1);
    keystore.join_node(caller, row, &node)?;
    tracing::info!(node_id = %node.id, name = %node.name, tenant = %node.tenant, "node joined");
    Ok((
        StatusCode::CREATED,
        Json(issued(&node, certificate, bundle)),
    ))
}

/// The node the caller's certificate names.
fn own_node(keystore: &Keystore, principal: &Principal) -> Result<NodeRow, ApiError> {
    let node_id = principal.node_id().ok_or_else(|| {
        ApiError::new(
            Code::Forbidden,
            "only a node, with its certificate, may do this",
        )
    })?;
    node_of(keystore, node_id)
}

/// The inventory row of `node_id`, the caller's own node; an unknown node is
/// unauthenticated.
pub(crate) fn node_of(keystore: &Keystore, node_id: &str) -> Result<NodeRow, ApiError> {
    keystore
        .node(node_id)?
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, format!("unknown node '{node_id}'")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenewRequest {
    csr_pem: String,
}

/// `POST /v1/nodes/renew`: a node with a valid certificate gets a new one for a
/// new key.
async fn renew(
    State(app): State<App>,
    context: RequestContext,
    JsonBody(request): JsonBody<RenewRequest>,
) -> Result<Json<IssuedNodeCertificate>, ApiError> {
    let identity = identity_of(&app)?;
    app.call(context, "node.renew", Permission::NodeSelf, move |call| {
        let mut node = own_node(call.keystore, call.principal())?;
        let certificate = identity.sign(&request.csr_pem, &mut node)?;
        node.last_seen = Some(OffsetDateTime::now_utc());
        call.keystore.put_node(&call.caller, "node.renew", &node)?;
        Ok(Json(issued(&node, certificate, identity.bundle_pem())))
    })
    .await
}

/// `POST /v1/nodes/heartbeat`: the node is alive.
async fn heartbeat(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<serde_json::Value>, ApiError> {
    let identity = identity_of(&app)?;
    app.call(
        context,
        "node.heartbeat",
        Permission::NodeSelf,
        move |call| {
            let mut node = own_node(call.keystore, call.principal())?;
            let now = OffsetDateTime::now_utc();
            node.last_seen = Some(now);
            call.keystore
                .put_node(&call.caller, "node.heartbeat", &node)?;
            // After a CA rotation, `renew` tells the nodes whose certificate the
            // previous root issued to renew now, one batch at a time; the renewal
            // answer carries the new bundle, which the agent then pins.
            let renew = node.issuer != identity.ca_fingerprint_hex() && identity.reissue.admit();
            Ok(Json(serde_json::json!({
                "node_id": node.id,
                "state": node.state.as_str(),
                "cert_serial": node.cert_serial,
                "ca_digest": identity.bundle_digest_hex(),
                "renew": renew,
            })))
        },
    )
    .await
}

/// A node as listed.
#[derive(Serialize)]
struct NodeInfo {
    id: String,
    name: String,
    role: &'static str,
    tenant: String,
    state: &'static str,
    cert_serial: String,
    #[serde(with = "time::serde::rfc3339")]
    cert_expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    joined_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_seen: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    decommissioned_at: Option<OffsetDateTime>,
    join_token_id: String,
    labels: BTreeMap<String, String>,
}

impl From<&NodeRow> for NodeInfo {
    fn from(row: &NodeRow) -> NodeInfo {
        NodeInfo {
            id: row.id.clone(),
            name: row.name.clone(),
            role: row.role.as_str(),
            tenant: row.tenant.clone(),
            state: row.state.as_str(),
            cert_serial: row.cert_serial.clone(),
            cert_expires_at: row.cert_expires_at,
            joined_at: row.joined_at,
            last_seen: row.last_seen,
            decommissioned_at: row.decommissioned_at,
            join_token_id: row.join_token_id.clone(),
            labels: row.labels.clone(),
        }
    }
}

async fn list_nodes(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<serde_json::Value>, ApiError> {
    app.call(context, "node.list", Permission::ManageNodes, move |call| {
        let nodes: Vec<NodeInfo> = call
            .keystore
            .nodes()?
            .iter()
            .filter(|row| call.principal().scope.allows(&row.tenant))
            .map(NodeInfo::from)
            .collect();
        call.keystore
            .record(&call.caller, "node.list", None, None, "ok")?;
        Ok(Json(serde_json::json!({ "nodes": nodes })))
    })
    .await
}

/// The node `id` within the caller's tenants; outside them it does not exist.
fn find_node(keystore: &Keystore, principal: &Principal, id: &str) -> Result<NodeRow, ApiError> {
    keystore
        .node(id)?
        .filter(|row| principal.scope.allows(&row.tenant))
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("no node '{id}'")))
}

async fn show_node(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<NodeInfo>, ApiError> {
    app.call(context, "node.show", Permission::ManageNodes, move |call| {
        let node = find_node(call.keystore, call.principal(), &id)?;
        call.keystore.record(
            &call.caller,
            "node.show",
            Some(&node.tenant),
            Some(&node.id),
            "ok",
        )?;
        Ok(Json(NodeInfo::from(&node)))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelRequest {
    /// Labels to add or change.
    #[serde(default)]
    set: BTreeMap<String, String>,
    /// Label keys to remove.
    #[serde(default)]
    remove: Vec<String>,
}

/// `POST|PUT /v1/nodes/{id}/labels`: sets and removes labels of a node;
/// policies that select by node label see the change at the next request.
async fn label_node(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<LabelRequest>,
) -> Result<Json<NodeInfo>, ApiError> {
    app.call(
        context,
        "node.label",
        Permission::ManageNodes,
        move |call| {
            let mut node = find_node(call.keystore, call.principal(), &id)?;
            if node.state == NodeState::Decommissioned {
                return Err(ApiError::new(
                    Code::Conflict,
                    format!("node '{id}' is decommissioned; its labels no longer matter"),
                ));
            }
            if let Some(key) = request
                .remove
                .iter()
                .find(|key| request.set.contains_key(*key))
            {
                return Err(ApiError::bad_request(format!(
                    "label '{key}' is both set and removed; do one or the other"
                )));
            }
            for key in &request.remove {
                node.labels.remove(key);
            }
            node.labels.extend(request.set);
            validate_labels(&node.labels)?;
            call.keystore.put_node(&call.caller, "node.label", &node)?;
            Ok(Json(NodeInfo::from(&node)))
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecommissionRequest {
    #[serde(default)]
    shred: bool,
}

/// What a decommission did.
#[derive(Serialize)]
struct Decommissioned {
    node: NodeInfo,
    leases_ended: usize,
    shredded: Vec<String>,
}

async fn decommission(
    State(app): State<App>,
    context: RequestContext,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<DecommissionRequest>,
) -> Result<Json<Decommissioned>, ApiError> {
    let identity = identity_of(&app)?;
    app.call(
        context,
        "node.decommission",
        Permission::ManageNodes,
        move |call| {
            let mut node = find_node(call.keystore, call.principal(), &id)?;
            if request.shred {
                require_all_tenants(call.principal())?;
            }
            if node.state == NodeState::Decommissioned {
                return Err(ApiError::new(
                    Code::Conflict,
                    format!("node '{id}' is already decommissioned"),
                ));
            }
            // The in-memory deny list first: from this instant no new connection
            // with the node's certificate completes its handshake. The request
            // check reads the store, which the commit below updates.
            identity.deny.deny(&node.id);
            node.state = NodeState::Decommissioned;
            node.decommissioned_at = Some(OffsetDateTime::now_utc());
            call.keystore
                .put_node(&call.caller, "node.decommission", &node)?;
            let leases_ended = call.keystore.end_node_leases(&call.caller, &node.id)?;
            let shredded = if request.shred {
                call.keystore.shred_node_objects(&call.caller, &node.id)?
            } else {
                Vec::new()
            };
            tracing::info!(node_id = %node.id, shredded = shredded.len(), "node decommissioned");
            Ok(Json(Decommissioned {
                node: NodeInfo::from(&node),
                leases_ended,
                shredded,
            }))
        },
    )
    .await
}

/// A join token re-made by a CA rotation.
#[derive(Serialize)]
struct ReplacedJoinToken {
    replaces: String,
    token: String,
    #[serde(flatten)]
    info: JoinTokenInfo,
}

/// `GET /v1/ca/status`: the current CA, and how far the re-issue of node
/// certificates after the last rotation has come (nodes of the caller's tenants
/// that are active and hold an unexpired certificate).
async fn ca_status(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<serde_json::Value>, ApiError> {
    let identity = identity_of(&app)?;
    app.call(context, "ca.status", Permission::ManageNodes, move |call| {
        let current = identity.ca_fingerprint_hex();
        let nodes = pending_nodes(call.keystore, &current, |tenant| {
            call.principal().scope.allows(tenant)
        })?;
        let bundle = identity.bundle_pem();
        Ok(Json(serde_json::json!({
            "ca_fingerprint": current,
            "ca_digest": identity.bundle_digest_hex(),
            "roots": bundle.matches("BEGIN CERTIFICATE").count(),
            "nodes": nodes.total,
            "reissued": nodes.total - nodes.pending.len(),
            "pending": nodes.pending,
            "server_certificate": identity.server_cert().status(&current),
        })))
    })
    .await
}

/// The active nodes (with a valid certificate) of the tenants `allows` admits, and
/// those among them whose certificate a root other than `current` issued.
pub(crate) struct PendingNodes {
    pub(crate) total: usize,
    pub(crate) pending: Vec<String>,
}

/// Counts the active nodes of the tenants `allows` admits, and lists those still
/// holding a certificate from a root other than `current` (hex fingerprint).
pub(crate) fn pending_nodes(
    keystore: &Keystore,
    current: &str,
    allows: impl Fn(&str) -> bool,
) -> Result<PendingNodes, KeystoreError> {
    let now = OffsetDateTime::now_utc();
    let mut nodes = PendingNodes {
        total: 0,
        pending: Vec::new(),
    };
    for node in keystore.nodes()? {
        if !allows(&node.tenant) || node.state != NodeState::Active || node.cert_expires_at <= now {
            continue;
        }
        nodes.total += 1;
        if node.issuer != current {
            nodes.pending.push(node.id);
        }
    }
    Ok(nodes)
}

/// What a CA rotation did.
#[derive(Serialize)]
struct RotatedCa {
    ca_digest: String,
    ca_pem: String,
    tokens: Vec<ReplacedJoinToken>,
}

/// `POST /v1/ca/rotate` (admin of all tenants): a new root, cross-signed by the old
/// one; the bundle holds both, so every node certificate stays valid while agents
/// pick up the new root at their next renewal (which the heartbeat answer's
/// `ca_digest` brings forward); live join tokens are re-made for the new bundle.
async fn rotate_ca(
    State(app): State<App>,
    context: RequestContext,
) -> Result<Json<RotatedCa>, ApiError> {
    let identity = identity_of(&app)?;
    app.call(context, "ca.rotate", Permission::ManageNodes, move |call| {
        require_all_tenants(call.principal())?;
        let internal = |error: pki::PkiError| {
            tracing::error!(%error, "CA rotation failed");
            ApiError::new(Code::Internal, format!("the CA rotation failed: {error}"))
        };
        let mut ca = identity.ca.write().unwrap_or_else(PoisonError::into_inner);
        let stamp = OffsetDateTime::now_utc().unix_timestamp();
        let new_ca = pki::CertificateAuthority::generate(
            &format!("{} {stamp}", pki::CA_COMMON_NAME),
            pki::CA_VALIDITY,
        )
        .map_err(internal)?;
        let cross = ca.cross_sign(&new_ca).map_err(internal)?;
        let bundle = format!("{}{}", new_ca.cert_pem(), ca.cert_pem());
        if let Some(dir) = &identity.tls_dir {
            // The bundle first: a crash before the key and certificate are replaced
            // leaves the old CA in use and a bundle that start-up ignores.
            pki::write_public_pem(&dir.join(CA_BUNDLE_FILE), &bundle).map_err(internal)?;
            pki::write_public_pem(&dir.join(CA_CROSS_FILE), &cross).map_err(internal)?;
            pki::write_secret_pem(&dir.join(pki::CA_KEY_FILE), &new_ca.key_pem_secret())
                .map_err(internal)?;
            // ca.pem holds the whole bundle, new root first: start-up loads the first
            // certificate as the CA, and clients that trust ca.pem (CRYPTAINER_CACERT)
            // accept the server's certificate whichever root issued it.
            pki::write_public_pem(&dir.join(pki::CA_CERT_FILE), &bundle).map_err(internal)?;
        }
        identity.verifier.set_roots(&bundle).map_err(internal)?;
        *identity
            .bundle_pem
            .write()
            .unwrap_or_else(PoisonError::into_inner) = bundle.clone();
        *ca = new_ca;
        drop(ca);

        // Live join tokens carry the old bundle's digest: re-make them.
        let now = OffsetDateTime::now_utc();
        let mut writes = Vec::new();
        let mut tokens = Vec::new();
        for mut old in call.keystore.join_tokens()? {
            if old.revoked_at.is_some() || old.expires_at <= now || old.uses >= old.max_uses {
                continue;
            }
            let ttl = u64::try_from((old.expires_at - now).whole_seconds())
                .unwrap_or(1)
                .max(1);
            let (row, text) = new_join_token(
                &identity,
                old.role,
                old.tenant.clone(),
                ttl,
                old.max_uses.saturating_sub(old.uses).max(1),
                old.labels.clone(),
            )?;
            old.revoked_at = Some(now);
            tokens.push(ReplacedJoinToken {
                replaces: old.id.clone(),
                token: text.to_string(),
                info: JoinTokenInfo::from(&row),
            });
            writes.push(old);
            writes.push(row);
        }
        let digest = hex::encode(pki::bundle_digest(bundle.as_bytes()));
        call.keystore
            .put_join_tokens(&call.caller, "ca.rotate", None, Some(&digest), writes)?;
        tracing::info!(ca_digest = %digest, tokens = tokens.len(), "CA rotated");
        Ok(Json(RotatedCa {
            ca_digest: digest,
            ca_pem: bundle,
            tokens,
        }))
    })
    .await
}
