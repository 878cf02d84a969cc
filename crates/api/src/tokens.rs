//! API tokens (docs/api.md, "Tokens"), and the roles tokens and nodes carry.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::routes;
use crate::secret::SecretString;

/// The roles a token or a node carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, within its tenants.
    Admin,
    /// Key life cycle and material, within its tenants.
    Operator,
    /// Metadata and the audit log, never material.
    Auditor,
    /// A node that joined with a join token.
    Agent,
}

impl Role {
    /// The role's spelling in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Agent => "agent",
        }
    }
}

/// A token as listed: never its secret or its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The id, `tok_...`.
    pub id: String,
    /// The role.
    pub role: Role,
    /// The tenants it may act on (`*`: all).
    pub tenants: Vec<String>,
    /// A name for people.
    pub display_name: String,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Body of `POST /v1/auth/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// `admin`, `operator` or `auditor`.
    pub role: String,
    /// The tenants [default: `default`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<Vec<String>>,
    /// Lifetime in seconds [default: 24 hours].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
    /// A name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// Answer of `POST /v1/auth/tokens`: the secret, shown once, and the token.
#[derive(Serialize, Deserialize)]
pub struct CreatedToken {
    /// The token, `cpt_...`.
    #[serde(with = "crate::secret::exposed")]
    pub token: SecretString,
    /// The token as listed.
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// Answer of `GET /v1/auth/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenList {
    /// The tokens the caller may see.
    pub tokens: Vec<TokenInfo>,
}

endpoints! {
    /// `POST /v1/auth/tokens`.
    CreateToken(body CreateTokenRequest): Post routes::TOKENS => CreatedToken;
    /// `GET /v1/auth/tokens`.
    ListTokens: Get routes::TOKENS => TokenList;
    /// `DELETE /v1/auth/tokens/{id}`.
    RevokeToken { id }: Delete routes::TOKEN => TokenInfo;
    /// `GET /v1/auth/self`.
    TokenSelf: Get routes::TOKEN_SELF => TokenInfo;
}
