//! The console's sessions: a person signs in with an API token, which the
//! server trades for a short-lived session cookie (`__Host-`, HttpOnly,
//! Secure, SameSite=Strict) and a CSRF token the page sends back in the
//! `X-CSRF-Token` header of every action.
//!
//! A session stands for its token: every request re-reads the token (a
//! revoked or expired token ends its sessions at once) and is authorized by
//! the token's role and tenants, as the API authorizes the token itself. On
//! top of that, a session reaches only the routes the console uses
//! ([`console_route`]) and never a permission that reads key material or a
//! secret's value ([`console_may`]): the browser never receives either.
//!
//! Sessions live in memory only (a restart signs everyone out), stored by
//! the SHA-256 of their id, so a memory dump shows no usable cookie.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keystore::Keystore;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::auth::{self, Permission, Principal};
use crate::error::{ApiError, Code};

/// Random bytes in a session id and a CSRF token (256 bits).
const RANDOM_BYTES: usize = 32;

/// Length of a session id or CSRF token: 32 bytes in unpadded base64url.
const TOKEN_TEXT_LEN: usize = 43;

/// Most sessions at once; past it the oldest is ended.
const MAX_SESSIONS: usize = 10_000;

/// What a request says about a console session: its cookie and the headers
/// that guard actions. Made by the request extractor, checked by
/// [`Sessions::authenticate`].
#[derive(Debug, Clone)]
pub struct SessionRequest {
    /// The cookie's value.
    pub(crate) cookie: String,
    /// The `X-CSRF-Token` header.
    pub(crate) csrf: Option<String>,
    /// Whether the method changes nothing (GET, HEAD).
    pub(crate) safe_method: bool,
    /// The `Sec-Fetch-Site` header, which browsers send.
    pub(crate) fetch_site: Option<String>,
    /// Whether the route is one the console uses.
    pub(crate) route_allowed: bool,
}

/// One signed-in person.
struct Session {
    /// SHA-256 (hex) of the token signed in with: re-read on every request.
    token_digest: String,
    csrf: String,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
}

/// A session just made: the cookie's value (shown to the browser once) and
/// what the page needs.
pub(crate) struct NewSession {
    /// The cookie's value.
    pub(crate) cookie: Zeroizing<String>,
    /// The token's row.
    pub(crate) token: keystore::model::TokenRow,
    /// The CSRF token.
    pub(crate) csrf: String,
    /// When it ends.
    pub(crate) expires_at: OffsetDateTime,
    /// How long it lasts from now: the console's session lifetime, or less
    /// when the token expires sooner.
    pub(crate) lifetime: time::Duration,
}

/// The sessions of this server.
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    lifetime: time::Duration,
}

/// 256 random bits as unpadded base64url.
fn random_text() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0_u8; RANDOM_BYTES]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

/// SHA-256 (hex) of a session id: the key it is stored under.
fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Whether `text` has the shape of a session id or CSRF token.
fn well_formed(text: &str) -> bool {
    text.len() == TOKEN_TEXT_LEN
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(Code::Unauthenticated, message)
}

/// Whether the console may use `permission` at all: reading the fleet, the
/// metadata, the policies and the audit log, and decommissioning nodes.
/// Never key material, a secret's value, a volume's lease (which carries
/// its secret), tokens or the seal.
pub(crate) fn console_may(permission: Permission) -> bool {
    match permission {
        Permission::ReadMetadata
        | Permission::ReadFleet
        | Permission::ReadAudit
        | Permission::ReadPolicies
        | Permission::ManageNodes => true,
        Permission::ReadMaterial
        | Permission::ManageKeys
        | Permission::ManageTokens
        | Permission::ManageSeal
        | Permission::UseVolumes
        | Permission::NodeSelf
        | Permission::ManagePolicies
        | Permission::ReceiveSecrets => false,
    }
}

/// Whether a console session may call `method` on `path`: the fleet views,
/// its event stream and session, and the actions the console offers
/// (decommission, a policy check, an audit verification).
pub(crate) fn console_route(method: &axum::http::Method, path: &str) -> bool {
    use api::routes;
    use axum::http::Method;
    let fleet = [
        routes::FLEET_OVERVIEW,
        routes::FLEET_NODES,
        routes::FLEET_VOLUMES,
        routes::FLEET_OBJECTS,
        routes::FLEET_WORKLOADS,
        routes::FLEET_POLICIES,
        routes::FLEET_AUDIT,
        routes::CONSOLE_EVENTS,
        routes::CONSOLE_SESSION,
        routes::TOKEN_SELF,
    ];
    match *method {
        Method::GET | Method::HEAD => fleet.contains(&path),
        Method::DELETE => path == routes::CONSOLE_SESSION,
        Method::POST => {
            path == routes::POLICY_CHECK
                || path == routes::AUDIT_VERIFY
                || path
                    .strip_prefix("/v1/nodes/")
                    .and_then(|rest| rest.strip_suffix("/decommission"))
                    .is_some_and(|id| !id.is_empty() && !id.contains('/'))
        }
        _ => false,
    }
}

/// The session cookie's value in a `Cookie` header, if there is one.
pub(crate) fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == api::fleet::SESSION_COOKIE).then_some(value.trim())
    })
}

/// The `Set-Cookie` value that stores `value` for `lifetime`.
pub(crate) fn set_cookie(value: &str, lifetime: time::Duration) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "{}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        api::fleet::SESSION_COOKIE,
        lifetime.whole_seconds().max(0)
    ))
}

/// The `Set-Cookie` value that removes the cookie.
pub(crate) fn clear_cookie() -> String {
    format!(
        "{}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
        api::fleet::SESSION_COOKIE
    )
}

impl Sessions {
    /// No sessions yet; each will last `lifetime` (at most its token's).
    pub fn new(lifetime: std::time::Duration) -> Sessions {
        Sessions {
            sessions: Mutex::new(HashMap::new()),
            lifetime: time::Duration::try_from(lifetime).unwrap_or(time::Duration::MINUTE),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Signs in with `token` (an API token's secret): the session, or why
    /// not (the same refusals as a bearer token). Blocking: reads the store.
    pub(crate) fn sign_in(
        &self,
        keystore: &Keystore,
        token: &str,
    ) -> Result<(Principal, NewSession), ApiError> {
        let header = Zeroizing::new(format!("Bearer {}", token.trim()));
        let principal = auth::authenticate(keystore, Some(&header))?;
        let secret = auth::parse_bearer(Some(&header))?;
        let token_digest = auth::digest(secret);
        let row = keystore
            .token_by_digest(&token_digest)?
            .ok_or_else(|| unauthenticated("unknown token; ask an admin for a valid one"))?;
        let now = OffsetDateTime::now_utc();
        let lifetime = self.lifetime.min(row.expires_at - now);
        let expires_at = now + lifetime;
        let cookie = random_text();
        let csrf = random_text().to_string();
        let mut sessions = self.lock();
        sessions.retain(|_, session| session.expires_at > now);
        if sessions.len() >= MAX_SESSIONS {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, session)| session.created_at)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            digest(&cookie),
            Session {
                token_digest,
                csrf: csrf.clone(),
                expires_at,
                created_at: now,
            },
        );
        Ok((
            principal,
            NewSession {
                cookie,
                token: row,
                csrf,
                expires_at,
                lifetime,
            },
        ))
    }

    /// The principal of a request's session: its token's, re-read now.
    /// Refused when the session is unknown or over, its token revoked or
    /// expired, the route not one the console uses, or an action lacks the
    /// session's CSRF token or comes from another site. Blocking.
    pub(crate) fn authenticate(
        &self,
        keystore: &Keystore,
        request: &SessionRequest,
    ) -> Result<Principal, ApiError> {
        if !request.route_allowed {
            return Err(unauthenticated(
                "the console's session does not reach this endpoint; call it with 'Authorization: Bearer <token>'",
            ));
        }
        if let Some(site) = &request.fetch_site {
            if site != "same-origin" && site != "none" {
                return Err(ApiError::new(
                    Code::Forbidden,
                    "a console request must come from the console's own pages",
                ));
            }
        }
        if !well_formed(&request.cookie) {
            return Err(unauthenticated(
                "the console's session is not valid; sign in again",
            ));
        }
        let key = digest(&request.cookie);
        let now = OffsetDateTime::now_utc();
        let (token_digest, csrf) = {
            let mut sessions = self.lock();
            match sessions.get(&key) {
                Some(session) if session.expires_at > now => {
                    (session.token_digest.clone(), session.csrf.clone())
                }
                Some(_) => {
                    sessions.remove(&key);
                    return Err(unauthenticated(
                        "the console's session has ended; sign in again",
                    ));
                }
                None => {
                    return Err(unauthenticated(
                        "the console's session has ended; sign in again",
                    ));
                }
            }
        };
        if !request.safe_method {
            let sent = request.csrf.as_deref().unwrap_or_default();
            if !keystore::secret::constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                return Err(ApiError::new(
                    Code::Forbidden,
                    "this action lacks the console's CSRF token; reload the console and try again",
                ));
            }
        }
        let row = keystore.token_by_digest(&token_digest)?;
        match row {
            Some(row) if row.revoked_at.is_none() && row.expires_at > now => Ok(Principal {
                token_id: row.id.clone(),
                role: row.role,
                scope: auth::scope_of(&row),
            }),
            _ => {
                self.lock().remove(&key);
                Err(unauthenticated(
                    "the token this session was opened with was revoked or has expired; sign in with a valid one",
                ))
            }
        }
    }

    /// Ends the session of `cookie`, if it exists.
    pub(crate) fn sign_out(&self, cookie: &str) {
        self.lock().remove(&digest(cookie));
    }

    /// The CSRF token and end of the session of `cookie`.
    pub(crate) fn details(&self, cookie: &str) -> Option<(String, OffsetDateTime)> {
        self.lock()
            .get(&digest(cookie))
            .map(|session| (session.csrf.clone(), session.expires_at))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::*;

    #[test]
    fn the_console_reaches_only_its_own_routes() {
        for (method, path) in [
            (Method::GET, "/v1/fleet/overview"),
            (Method::GET, "/v1/fleet/audit"),
            (Method::GET, "/v1/console/events"),
            (Method::DELETE, "/v1/console/session"),
            (Method::POST, "/v1/nodes/node-1/decommission"),
            (Method::POST, "/v1/policies/check"),
            (Method::POST, "/v1/audit/verify"),
        ] {
            assert!(console_route(&method, path), "{method} {path}");
        }
        for (method, path) in [
            (Method::GET, "/v1/keys/db/material"),
            (Method::GET, "/v1/secrets/db/value"),
            (Method::POST, "/v1/volumes/pgdata/acquire"),
            (Method::POST, "/v1/secrets/db/deliver"),
            (Method::POST, "/v1/auth/tokens"),
            (Method::POST, "/v1/sys/seal"),
            (Method::POST, "/v1/nodes//decommission"),
            (Method::POST, "/v1/nodes/a/b/decommission"),
            (Method::DELETE, "/v1/keys/db"),
            (Method::POST, "/v1/fleet/overview"),
        ] {
            assert!(!console_route(&method, path), "{method} {path}");
        }
    }

    #[test]
    fn the_console_never_holds_a_permission_that_reads_material() {
        assert!(!console_may(Permission::ReadMaterial));
        assert!(!console_may(Permission::ReceiveSecrets));
        assert!(!console_may(Permission::UseVolumes));
        assert!(!console_may(Permission::ManageTokens));
        assert!(console_may(Permission::ReadFleet));
        assert!(console_may(Permission::ManageNodes));
    }

    #[test]
    fn the_cookie_is_found_among_others_and_set_with_every_guard() {
        let name = api::fleet::SESSION_COOKIE;
        assert_eq!(cookie_value(&format!("a=1; {name}=xyz; b=2")), Some("xyz"));
        assert_eq!(cookie_value("a=1; b=2"), None);
        assert_eq!(cookie_value(&format!("x{name}=1")), None);
        let set = set_cookie("abc", time::Duration::minutes(30));
        for guard in [
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=1800",
        ] {
            assert!(set.contains(guard), "{}", set.as_str());
        }
        assert!(name.starts_with("__Host-"));
        assert!(clear_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn rejects_session_ids_of_the_wrong_shape() {
        assert!(well_formed(&random_text()));
        assert!(!well_formed("short"));
        assert!(!well_formed(&"a".repeat(42)));
        assert!(!well_formed(&format!("{}=", "a".repeat(42))));
    }
}
