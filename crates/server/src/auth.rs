//! Authentication (bearer tokens, stored only as digests) and authorization (roles
//! scoped to tenants, deny by default).
//!
//! A handler can only act after it holds an [`Authorized`], which only
//! [`Principal::authorize`] makes: the check cannot be forgotten.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keystore::model::{Role, TokenRow};
use keystore::{Keystore, TenantScope};
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{ApiError, Code};

/// Prefix of every token secret, so leaked tokens are easy to scan for.
pub const TOKEN_PREFIX: &str = "cpt_";

/// Length of a token secret: the prefix and 43 base64url characters (256 bits).
const TOKEN_LEN: usize = 4 + 43;

/// Longest token lifetime: one year.
pub const MAX_TOKEN_TTL_SECS: u64 = 366 * 24 * 3600;

/// What a caller may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Key metadata.
    ReadMetadata,
    /// Key material.
    ReadMaterial,
    /// Create, rotate, revoke, destroy keys.
    ManageKeys,
    /// Create, list, revoke tokens.
    ManageTokens,
    /// Seal the server, rotate the root or tenant keys.
    ManageSeal,
    /// Read and verify the audit log.
    ReadAudit,
    /// Create and remove volumes, take and release their leases (which reads
    /// the secret that opens them).
    UseVolumes,
    /// Join tokens and the node inventory: create, list, decommission.
    ManageNodes,
    /// A node's own identity: renew its certificate, report liveness.
    NodeSelf,
    /// Create and remove policies.
    ManagePolicies,
    /// List, show and check policies.
    ReadPolicies,
    /// Receive secrets for the node's workloads, as policies allow.
    ReceiveSecrets,
    /// Read the fleet: who holds which volume, key and secret (the console's
    /// views); metadata only.
    ReadFleet,
}

/// Whether `role` grants `permission`. Everything not listed is denied.
fn grants(role: Role, permission: Permission) -> bool {
    match role {
        Role::Admin => true,
        Role::Operator => matches!(
            permission,
            Permission::ReadMetadata
                | Permission::ReadFleet
                | Permission::ReadMaterial
                | Permission::ManageKeys
                | Permission::UseVolumes
                | Permission::ManagePolicies
                | Permission::ReadPolicies
        ),
        Role::Auditor => matches!(
            permission,
            Permission::ReadMetadata
                | Permission::ReadFleet
                | Permission::ReadAudit
                | Permission::ReadPolicies
        ),
        Role::Agent => matches!(
            permission,
            Permission::ReadMetadata
                | Permission::ReadMaterial
                | Permission::ManageKeys
                | Permission::UseVolumes
                | Permission::NodeSelf
                | Permission::ReceiveSecrets
        ),
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's public id.
    pub token_id: String,
    /// Its role.
    pub role: Role,
    /// The tenants it may act on.
    pub scope: TenantScope,
}

/// Proof that a principal may do one thing. Only [`Principal::authorize`] makes it.
#[derive(Debug)]
pub struct Authorized {
    principal: Principal,
    permission: Permission,
}

impl Authorized {
    /// Who was authorized.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// For what.
    pub fn permission(&self) -> Permission {
        self.permission
    }
}

/// Prefix of the `token_id` of a principal authenticated by a node certificate
/// (`node:<node id>`); token ids start with `tok_`, so the two never collide.
/// The key manager names nodes the same way (their audit name, lease holder
/// and policy subject), so it is its constant.
pub use keystore::NODE_PRINCIPAL_PREFIX;

impl Principal {
    /// The audit name of the principal: `token:<id>` or `node:<id>`.
    pub fn audit_name(&self) -> String {
        if self.node_id().is_some() {
            self.token_id.clone()
        } else {
            format!("token:{}", self.token_id)
        }
    }

    /// The node id, when the principal is a node authenticated by its certificate.
    pub fn node_id(&self) -> Option<&str> {
        self.token_id.strip_prefix(NODE_PRINCIPAL_PREFIX)
    }

    /// Checks the role; deny by default.
    pub fn authorize(&self, permission: Permission) -> Result<Authorized, ApiError> {
        if grants(self.role, permission) {
            Ok(Authorized {
                principal: self.clone(),
                permission,
            })
        } else {
            Err(ApiError::new(
                Code::Forbidden,
                format!(
                    "a token with role '{}' may not do this; ask an admin for a token with the right role",
                    self.role.as_str()
                ),
            ))
        }
    }

    /// The tenants a list request covers: the one named if the caller may see it
    /// (none otherwise), else every tenant of the caller (`None`: all).
    pub fn listable_tenants(&self, requested: Option<&str>) -> Option<Vec<String>> {
        match (requested, &self.scope) {
            (Some(tenant), scope) if scope.allows(tenant) => Some(vec![tenant.to_owned()]),
            (Some(_), _) => Some(Vec::new()),
            (None, TenantScope::All) => None,
            (None, TenantScope::Only(tenants)) => Some(tenants.clone()),
        }
    }

    /// The tenant a create request puts its object in, refused when outside
    /// the caller's tenants.
    pub fn creatable_tenant(
        &self,
        requested: Option<&str>,
        what: &str,
    ) -> Result<String, ApiError> {
        let tenant = self.tenant_for(requested);
        if self.scope.allows(&tenant) {
            Ok(tenant)
        } else {
            Err(ApiError::new(
                Code::Forbidden,
                format!("this caller may not create {what} in tenant '{tenant}'"),
            ))
        }
    }

    /// The tenant a request acts on: the one named, or the token's only tenant, or
    /// `default`.
    pub fn tenant_for(&self, requested: Option<&str>) -> String {
        match (requested, &self.scope) {
            (Some(tenant), _) => tenant.to_owned(),
            (None, TenantScope::Only(tenants)) if tenants.len() == 1 => {
                tenants.first().cloned().unwrap_or_default()
            }
            _ => keystore::object::DEFAULT_TENANT.to_owned(),
        }
    }
}

/// A new token: the secret (shown once) and the row to store.
pub struct NewToken {
    /// The secret, `cpt_...`; zeroized on drop.
    pub secret: Zeroizing<String>,
    /// What is stored.
    pub row: TokenRow,
}

/// SHA-256 of a token secret, hex. Tokens carry 256 random bits, so a fast hash
/// is enough: there is nothing to brute-force.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Makes a token.
pub fn new_token(role: Role, tenants: Vec<String>, display_name: &str, ttl_secs: u64) -> NewToken {
    let mut random = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(random.as_mut());
    let secret = Zeroizing::new(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random.as_ref())
    ));
    let mut id_bytes = [0u8; 9];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    let now = OffsetDateTime::now_utc();
    let ttl = i64::try_from(ttl_secs.min(MAX_TOKEN_TTL_SECS)).unwrap_or(0);
    let row = TokenRow {
        id: format!("tok_{}", URL_SAFE_NO_PAD.encode(id_bytes)),
        digest: digest(&secret),
        role,
        tenants,
        display_name: display_name.to_owned(),
        created_at: now,
        expires_at: now + time::Duration::seconds(ttl),
        revoked_at: None,
    };
    NewToken { secret, row }
}

/// The scope a stored token grants.
pub fn scope_of(row: &TokenRow) -> TenantScope {
    if row.tenants.iter().any(|tenant| tenant == "*") {
        TenantScope::All
    } else {
        TenantScope::Only(row.tenants.clone())
    }
}

/// Extracts the token secret from an `Authorization` header value, checking its
/// shape before anything is looked up.
pub fn parse_bearer(header: Option<&str>) -> Result<&str, ApiError> {
    let unauthenticated = |message: &str| ApiError::new(Code::Unauthenticated, message);
    let header = header.ok_or_else(|| {
        unauthenticated(
            "no token given; send 'Authorization: Bearer <token>' (set CRYPTAINER_TOKEN)",
        )
    })?;
    let secret = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .ok_or_else(|| unauthenticated("the Authorization header must be 'Bearer <token>'"))?;
    let well_formed = secret.len() == TOKEN_LEN
        && secret.starts_with(TOKEN_PREFIX)
        && secret
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    if !well_formed {
        return Err(unauthenticated(
            "the token is malformed; tokens look like cpt_ followed by 43 characters",
        ));
    }
    Ok(secret)
}

/// Looks up the bearer token of a request. Blocking (reads the store).
pub fn authenticate(keystore: &Keystore, header: Option<&str>) -> Result<Principal, ApiError> {
    let unauthenticated = |message: &str| ApiError::new(Code::Unauthenticated, message);
    let secret = parse_bearer(header)?;
    let wanted = digest(secret);
    let row = keystore
        .token_by_digest(&wanted)?
        .ok_or_else(|| unauthenticated("unknown token; ask an admin for a valid one"))?;
    // The row was found by its digest; compare again in constant time so the
    // check does not depend on the database's string comparison.
    if !keystore::secret::constant_time_eq(row.digest.as_bytes(), wanted.as_bytes()) {
        return Err(unauthenticated(
            "unknown token; ask an admin for a valid one",
        ));
    }
    if row.revoked_at.is_some() {
        return Err(unauthenticated(
            "this token was revoked; ask an admin for a new one",
        ));
    }
    if row.expires_at <= OffsetDateTime::now_utc() {
        return Err(unauthenticated(
            "this token has expired; ask an admin for a new one",
        ));
    }
    Ok(Principal {
        token_id: row.id.clone(),
        role: row.role,
        scope: scope_of(&row),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_deny_by_default() {
        assert!(grants(Role::Admin, Permission::ManageSeal));
        assert!(grants(Role::Operator, Permission::ReadMaterial));
        assert!(!grants(Role::Operator, Permission::ManageTokens));
        assert!(!grants(Role::Operator, Permission::ReadAudit));
        assert!(!grants(Role::Auditor, Permission::ReadMaterial));
        assert!(!grants(Role::Auditor, Permission::ManageKeys));
        assert!(grants(Role::Auditor, Permission::ReadAudit));
        assert!(grants(Role::Auditor, Permission::ReadPolicies));
        assert!(!grants(Role::Auditor, Permission::ManagePolicies));
        assert!(grants(Role::Operator, Permission::ManagePolicies));
        assert!(!grants(Role::Agent, Permission::ManagePolicies));
        assert!(!grants(Role::Agent, Permission::ReadPolicies));
        assert!(grants(Role::Agent, Permission::ReceiveSecrets));
        assert!(!grants(Role::Operator, Permission::ReceiveSecrets));
        assert!(grants(Role::Auditor, Permission::ReadFleet));
        assert!(grants(Role::Operator, Permission::ReadFleet));
        assert!(!grants(Role::Agent, Permission::ReadFleet));
    }

    #[test]
    fn token_shape() {
        let token = new_token(Role::Admin, vec!["*".to_owned()], "t", 60);
        assert_eq!(token.secret.len(), TOKEN_LEN);
        assert!(token.secret.starts_with(TOKEN_PREFIX));
        assert_eq!(token.row.digest, digest(&token.secret));
        assert!(!token.row.digest.contains(token.secret.as_str()));
    }
}
