//! Who is asking: the caller an audit record names, the tenants a caller may
//! see, and the audit event of an operation.

use time::OffsetDateTime;

/// How a node is named as a caller, a lease holder and a volume's creator:
/// `node:<node id>` (an API token is `token:<id>`, so the two never meet).
pub const NODE_PRINCIPAL_PREFIX: &str = "node:";

/// Who is asking, for the audit record.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `token:<id>`, `node:<id>`, `anonymous`, `system`.
    pub principal: String,
    /// The peer address, when known.
    pub remote: Option<String>,
}

impl Caller {
    /// The server itself (start-up, dev-mode initialization).
    pub fn system() -> Caller {
        Caller {
            principal: "system".to_owned(),
            remote: None,
        }
    }

    /// The node's id, when the caller is a node (`node:<id>`).
    pub fn node_id(&self) -> Option<&str> {
        self.principal.strip_prefix(NODE_PRINCIPAL_PREFIX)
    }
}

/// Which tenants a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    /// Every tenant.
    All,
    /// Only these.
    Only(Vec<String>),
}

impl TenantScope {
    /// Whether `tenant` is visible.
    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Only(tenants) => tenants.iter().any(|allowed| allowed == tenant),
        }
    }
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The audit event of an operation.
pub(crate) fn event(
    caller: &Caller,
    operation: &str,
    tenant: Option<&str>,
    object_id: Option<&str>,
) -> audit::AuditEvent {
    audit::AuditEvent {
        time: now(),
        principal: caller.principal.clone(),
        tenant: tenant.map(str::to_owned),
        operation: operation.to_owned(),
        object_id: object_id.map(str::to_owned),
        result: "ok".to_owned(),
        remote: caller.remote.clone(),
        sensitive: Vec::new(),
    }
}
