//! The storage seam: what the key hierarchy needs from a database, as a trait, so
//! that the embedded SQLite backend and the PostgreSQL backend are
//! interchangeable.
//!
//! A backend only ever receives wrapped key material. Every change is committed
//! together with its audit record in one durable transaction: a write without its
//! record, or a record without its write, cannot exist.
//!
//! Private to the crate: nothing outside `keystore` can name a [`Write`] or
//! reach a [`Store`]. The only writers are [`Keystore`](crate::Keystore)'s
//! methods, and the material they put in a write is wrapped before the write
//! is built, so the first invariant holds by construction, not by convention.
//! The trait is backend-neutral: no SQLite or PostgreSQL type appears in it or
//! in [`StoreError`].
//!
//! Several servers may share one PostgreSQL database. What they must agree on
//! is decided inside the database's transaction, never from a server's memory:
//! the `Expect*` writes, the conditional volume, join token and node writes,
//! and the tenant key check of [`Write::PutVersion`] are evaluated by the
//! writer against what is stored when the commit runs, and refuse the commit
//! (`Stale`, `TenantKeyChanged`) when another server changed it first.

mod changes;
mod pending;
pub(crate) mod postgres;
pub(crate) mod sqlite;

pub use changes::Generations;
pub(crate) use changes::{Change, Changes};
pub(crate) use pending::{CommitReply, PendingCommit};

use crate::model::{JoinTokenRow, ListFilter, NodeRow, TokenRow, VolumeRow};
use crate::object::ObjectMeta;

/// One stored version of an object's material, wrapped under a tenant key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionRow {
    /// The object this version belongs to.
    pub object_id: String,
    /// The version number, from 1.
    pub version: u32,
    /// The object's tenant (used to find rows to re-wrap when the tenant key changes).
    pub tenant: String,
    /// The version of the tenant key that wraps `wrapped`.
    pub kek_version: u32,
    /// `wrap::wrap(tenant_key, material, aad(object_id, version))`.
    pub wrapped: Vec<u8>,
}

/// How an object is looked up: by its id, or by the name it has in a tenant
/// while it is not destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectRef<'a> {
    /// By id.
    Id(&'a str),
    /// By live name within a tenant.
    Name {
        /// The tenant.
        tenant: &'a str,
        /// The name.
        name: &'a str,
    },
}

/// A tenant's key-encryption key, wrapped under the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TenantKeyRow {
    /// Tenant name.
    pub tenant: String,
    /// Version of the tenant key; the highest is current.
    pub version: u32,
    /// `wrap::wrap(root_key, tenant_key, aad(tenant, version))`.
    pub wrapped: Vec<u8>,
}

/// One change, applied atomically with the others of its commit.
///
/// The `Expect*` variants change nothing: they refuse the whole commit with
/// [`StoreError::Stale`] unless what is stored is still what the caller read.
/// They come first in a commit, so a refused commit changed nothing.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    /// Sets a system value (the sealed root, configuration markers).
    PutSystem {
        /// Key.
        name: String,
        /// Value.
        value: Vec<u8>,
    },
    /// Refuses the commit unless the system value `name` is `value` (`None`:
    /// absent).
    ExpectSystem {
        /// Key.
        name: String,
        /// The value read.
        value: Option<Vec<u8>>,
    },
    /// Refuses the commit unless the object's stored metadata is this.
    ExpectObject(Box<ObjectMeta>),
    /// Refuses the commit unless the store holds exactly this many tenant key
    /// versions (they are never deleted, so the same count is the same set).
    ExpectTenantKeyCount(u64),
    /// Adds an object; fails with [`StoreError::NameTaken`] when a live object of
    /// the tenant already has the name.
    InsertObject(ObjectMeta),
    /// Replaces an object's metadata.
    UpdateObject(ObjectMeta),
    /// Adds or replaces one version's wrapped material; fails with
    /// [`StoreError::TenantKeyChanged`] unless `kek_version` is the tenant's
    /// newest key (another server rotated it since this one read it).
    PutVersion(VersionRow),
    /// Re-wraps a stored version under a newer tenant key, if it is still
    /// wrapped under `from_kek`: a version erased (or re-wrapped) meanwhile is
    /// left as it is, never brought back.
    RewrapVersion {
        /// The version, wrapped under its new tenant key.
        row: VersionRow,
        /// The tenant key version it was read wrapped under.
        from_kek: u32,
    },
    /// Erases every version of an object's material for good.
    EraseVersions {
        /// The object.
        object_id: String,
    },
    /// Adds a tenant key version; fails with [`StoreError::Stale`] when the
    /// version exists (another server made it first).
    InsertTenantKey(TenantKeyRow),
    /// Replaces the wrapping of an existing tenant key version (a root
    /// rotation re-wraps every one).
    RewrapTenantKey(TenantKeyRow),
    /// Adds or replaces a token.
    PutToken(TokenRow),
    /// Stores a volume if its stored revision is still `expected_revision`
    /// (`None`: the volume must not exist yet); otherwise fails with
    /// [`StoreError::Stale`], so two servers or two requests never both take a
    /// lease.
    PutVolume {
        /// The new state, with its revision one above the expected one.
        row: VolumeRow,
        /// The revision the caller read.
        expected_revision: Option<u64>,
    },
    /// Deletes a volume's record if its revision is still `expected_revision`.
    DeleteVolume {
        /// The volume's tenant.
        tenant: String,
        /// Its name.
        name: String,
        /// The revision the caller read.
        expected_revision: u64,
    },
    /// Stores a join token (see [`JoinTokenRow`]): a new one when
    /// `expected_uses` is `None` (refused as stale if it exists), else a change
    /// of one whose stored use count is still `expected_uses`, so two servers
    /// never both take a single-use token's one use.
    PutJoinToken {
        /// The token as it is to be.
        row: JoinTokenRow,
        /// The use count read.
        expected_uses: Option<u32>,
    },
    /// Stores a node of the inventory (see [`NodeRow`]): a new one when
    /// `expected` is `None` (refused as stale if it exists), else a change of
    /// the node as it was read, so a liveness report never undoes a
    /// decommission made meanwhile.
    PutNode {
        /// The node as it is to be.
        row: NodeRow,
        /// The node as read.
        expected: Option<Box<NodeRow>>,
    },
    /// Stores a policy; when `replace` is false, fails with
    /// [`StoreError::NameTaken`] if the tenant already has one of its name.
    PutPolicy {
        /// The policy (it holds names and digests, no secret).
        policy: policy::Policy,
        /// Whether an existing policy of the same name is replaced.
        replace: bool,
    },
    /// Deletes a policy; deleting a missing one changes nothing.
    DeletePolicy {
        /// Its tenant.
        tenant: String,
        /// Its name.
        name: String,
    },
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
// Not `#[non_exhaustive]`: the server and kmip map every variant by name, so a
// new one is a compile error there instead of a silent 500 or General Failure.
pub enum StoreError {
    /// The database refused or failed a statement.
    #[error("the {backend} database failed: {source}")]
    Database {
        /// Which backend (`sqlite`, `postgresql`).
        backend: &'static str,
        /// The driver's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database cannot be reached (down, restarting, partitioned away).
    /// Nothing of the request took effect unless the failure hit its commit,
    /// whose outcome is then unknown; this server answers 503 until the
    /// database is back, and clients move to another server.
    #[error(
        "the database cannot be reached: {source}; retry, or use another server of the cluster"
    )]
    Unavailable {
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A live object of the tenant already has the name.
    #[error("an object named '{name}' already exists in tenant '{tenant}'")]
    NameTaken {
        /// Tenant.
        tenant: String,
        /// Name.
        name: String,
    },
    /// A stored row could not be decoded: the database was edited or corrupted.
    #[error("stored {what} is corrupt: {detail}; restore the database from a backup")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The transaction holding this commit (and the others of its group) failed;
    /// nothing of it was written.
    #[error("the write was not made durable: {source}")]
    GroupCommit {
        /// The failure, shared by every commit of the group.
        source: std::sync::Arc<StoreError>,
    },
    /// The database was lost while a transaction's commit was on its way:
    /// the change may or may not have taken effect. Never answered as
    /// retryable elsewhere.
    #[error(
        "the database was lost while the change was being committed: it may or may not have \
         taken effect ({source}); check before repeating it"
    )]
    OutcomeUnknown {
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A conditional write found the record changed since it was read.
    #[error("{what} was changed by another request at the same time; retry")]
    Stale {
        /// What changed.
        what: String,
    },
    /// Material was wrapped under a tenant key that another server replaced
    /// meanwhile; this server reloads its tenant keys.
    #[error("the key of tenant '{tenant}' was rotated at the same time; retry")]
    TenantKeyChanged {
        /// The tenant.
        tenant: String,
    },
    /// The audit log ends before records the key store says exist.
    #[error(
        "the audit log ends at record {head}, but the key store holds changes recorded up to \
         record {applied}: the audit log file was truncated, replaced or lost; restore it from \
         the backup taken together with the key store, or find out who removed it"
    )]
    AuditLogBehind {
        /// The log's last record (0: none).
        head: u64,
        /// The last record the key store applied changes for.
        applied: u64,
    },
    /// The writer thread is gone (the server is shutting down).
    #[error("the storage writer has stopped; restart the server")]
    WriterStopped,
    /// The backend does not store this kind of row.
    #[error("this storage backend does not support {what}")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
    },
    /// The data directory could not be prepared.
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The storage URL or setting was refused.
    #[error("storage setting refused: {0}")]
    Config(String),
    /// A backup could not be read, written or restored.
    #[error(transparent)]
    Backup(#[from] crate::backup::BackupError),
}

impl StoreError {
    /// Whether the failure says the database is out of reach (answered 503:
    /// another server of the cluster may serve the request).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable { .. } => true,
            StoreError::GroupCommit { source } => source.is_unavailable(),
            _ => false,
        }
    }
}

/// A stored number that must fit a `u32` (a version); a value that does not
/// means the row was edited.
pub(crate) fn stored_u32(value: i64, what: &'static str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt {
        what,
        detail: format!("value {value} out of range"),
    })
}

/// An object read with the copy of its current version its row carries
/// (`copied_version`, `kek_version`, `wrapped`: see the objects table of
/// either backend). A copy of another version than the current one is never
/// expected; then `lookup` reads the current one from the versions instead.
pub(crate) fn with_current_copy(
    meta: ObjectMeta,
    copied_version: i64,
    kek_version: Option<i64>,
    wrapped: Option<Vec<u8>>,
    lookup: impl FnOnce(&str, u32) -> Result<Option<VersionRow>, StoreError>,
) -> Result<(ObjectMeta, Option<VersionRow>), StoreError> {
    if i64::from(meta.version) != copied_version {
        tracing::error!(
            object = %meta.id,
            copied = copied_version,
            current = meta.version,
            "an object's row copies another version than its current one; \
             reading the current one from object_versions"
        );
        let current = lookup(&meta.id, meta.version)?;
        return Ok((meta, current));
    }
    let current = match (kek_version, wrapped) {
        (Some(kek_version), Some(wrapped)) => Some(VersionRow {
            object_id: meta.id.clone(),
            version: meta.version,
            tenant: meta.tenant.clone(),
            kek_version: stored_u32(kek_version, "tenant key version")?,
            wrapped,
        }),
        _ => None,
    };
    Ok((meta, current))
}

/// The refusal of a restore into a store that already holds `records` audit
/// records (or a chain that long) and `rows` rows.
pub(crate) fn not_empty(records: i64, rows: i64) -> StoreError {
    StoreError::Stale {
        what: format!(
            "the store (it already holds {records} audit records and {rows} rows: a restore \
             needs a new, empty store, before anything else talks to the server)"
        ),
    }
}

/// The hash of the audit record stored as `text` (a restored chain's head).
pub(crate) fn record_hash(text: &str) -> Result<[u8; 32], StoreError> {
    serde_json::from_str::<audit::AuditRecord>(text)
        .map(|record| record.hash)
        .map_err(|error| StoreError::Corrupt {
            what: "audit record",
            detail: error.to_string(),
        })
}

/// The result an audit record gives a commit whose writes were refused.
pub(crate) fn refused_result(error: &StoreError) -> &'static str {
    match error {
        StoreError::NameTaken { .. }
        | StoreError::Stale { .. }
        | StoreError::TenantKeyChanged { .. } => "conflict",
        _ => "internal",
    }
}

/// What other servers must reload once `writes` are committed.
pub(crate) fn changes_of(writes: &[Write]) -> Vec<Change> {
    let mut changes = Vec::new();
    for write in writes {
        let change = match write {
            Write::PutSystem { name, .. } if name.starts_with("ca.") => Some(Change::Ca),
            Write::PutSystem { .. } => Some(Change::Root),
            Write::InsertTenantKey(_) | Write::RewrapTenantKey(_) => Some(Change::TenantKeys),
            Write::PutNode { .. } => Some(Change::Nodes),
            _ => None,
        };
        if let Some(change) = change {
            if !changes.contains(&change) {
                changes.push(change);
            }
        }
    }
    changes
}

/// The storage backend seam.
pub(crate) trait Store: Send + Sync {
    /// A system value.
    fn get_system(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every tenant key version.
    fn tenant_keys(&self) -> Result<Vec<TenantKeyRow>, StoreError>;
    /// An object's metadata by id.
    fn get_object(&self, id: &str) -> Result<Option<ObjectMeta>, StoreError>;
    /// The live (not destroyed) object with this name in the tenant.
    fn find_object_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<ObjectMeta>, StoreError>;
    /// An object's metadata with its current version's wrapped material
    /// (`None` when it has none, as once destroyed), read together: the
    /// common read of a key. `by` finds it as `get_object` or
    /// `find_object_by_name` do.
    fn get_object_current(
        &self,
        by: ObjectRef<'_>,
    ) -> Result<Option<(ObjectMeta, Option<VersionRow>)>, StoreError> {
        let found = match by {
            ObjectRef::Id(id) => self.get_object(id)?,
            ObjectRef::Name { tenant, name } => self.find_object_by_name(tenant, name)?,
        };
        let Some(meta) = found else {
            return Ok(None);
        };
        let current = self.get_version(&meta.id, meta.version)?;
        Ok(Some((meta, current)))
    }
    /// A page of objects and the total that match.
    fn list_objects(&self, filter: &ListFilter) -> Result<(Vec<ObjectMeta>, u64), StoreError>;
    /// One version of an object's wrapped material.
    fn get_version(&self, object_id: &str, version: u32) -> Result<Option<VersionRow>, StoreError>;
    /// Up to `limit` versions of the tenant wrapped under a tenant key older than
    /// `kek_version` (for re-wrapping after the tenant key is rotated).
    fn versions_below_kek(
        &self,
        tenant: &str,
        kek_version: u32,
        limit: u32,
    ) -> Result<Vec<VersionRow>, StoreError>;
    /// A token by the SHA-256 digest (hex) of its secret.
    fn get_token_by_digest(&self, digest: &str) -> Result<Option<TokenRow>, StoreError>;
    /// A token by its public id.
    fn get_token_by_id(&self, id: &str) -> Result<Option<TokenRow>, StoreError>;
    /// Every token.
    fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError>;
    /// A volume by tenant and name.
    fn get_volume(&self, tenant: &str, name: &str) -> Result<Option<VolumeRow>, StoreError>;
    /// Every volume of these tenants (`None`: every tenant), by tenant and name.
    fn list_volumes(&self, tenants: Option<&[String]>) -> Result<Vec<VolumeRow>, StoreError>;
    /// A join token by the SHA-256 digest (hex) of its secret.
    fn get_join_token_by_digest(&self, _digest: &str) -> Result<Option<JoinTokenRow>, StoreError> {
        Err(StoreError::Unsupported {
            what: "join tokens",
        })
    }
    /// A join token by its public id.
    fn get_join_token_by_id(&self, _id: &str) -> Result<Option<JoinTokenRow>, StoreError> {
        Err(StoreError::Unsupported {
            what: "join tokens",
        })
    }
    /// Every join token.
    fn list_join_tokens(&self) -> Result<Vec<JoinTokenRow>, StoreError> {
        Err(StoreError::Unsupported {
            what: "join tokens",
        })
    }
    /// A node by id.
    fn get_node(&self, _id: &str) -> Result<Option<NodeRow>, StoreError> {
        Err(StoreError::Unsupported { what: "nodes" })
    }
    /// Every node, ordered by id.
    fn list_nodes(&self) -> Result<Vec<NodeRow>, StoreError> {
        Err(StoreError::Unsupported { what: "nodes" })
    }
    /// A policy by tenant and name.
    fn get_policy(&self, _tenant: &str, _name: &str) -> Result<Option<policy::Policy>, StoreError> {
        Err(StoreError::Unsupported { what: "policies" })
    }
    /// Every policy of these tenants (`None`: every tenant), by tenant and name.
    fn list_policies(
        &self,
        _tenants: Option<&[String]>,
    ) -> Result<Vec<policy::Policy>, StoreError> {
        Err(StoreError::Unsupported { what: "policies" })
    }
    /// The last durable audit record's sequence number and hash.
    fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError>;
    /// Up to `limit` audit records with a sequence number above `after`, in order.
    fn audit_records(&self, after: u64, limit: u32)
    -> Result<Vec<audit::StoredRecord>, StoreError>;
    /// Every checkpoint, in order.
    fn audit_checkpoints(&self) -> Result<Vec<audit::Checkpoint>, StoreError>;
    /// The audit journal whose chain head this store's commits advance.
    fn journal(&self) -> &std::sync::Arc<std::sync::Mutex<crate::journal::Journal>>;
    /// What other servers changed: the counters the key manager checks before
    /// it uses what it keeps in memory.
    fn changes(&self) -> &std::sync::Arc<Changes>;
    /// The time leases are measured against: the database's clock when
    /// several servers share it, so that their own clocks never decide who
    /// holds a volume.
    fn now(&self) -> Result<time::OffsetDateTime, StoreError> {
        Ok(time::OffsetDateTime::now_utc())
    }
    /// Whether a read waits on the network (a database server), so callers on
    /// an async worker should move it to a blocking thread first.
    fn reads_wait(&self) -> bool {
        false
    }
    /// The backend's name (`sqlite`, `postgresql`).
    fn backend(&self) -> &'static str;
    /// Hands every row the store holds to `sink` (call it from a blocking
    /// thread, never an async task), from one consistent
    /// snapshot taken while the writer goes on, in the backup's order
    /// (system values, tenant keys, objects, versions, tokens, volumes, join
    /// tokens, nodes, policies, audit records, checkpoints). Rows that only
    /// say how this backend keeps itself are left out.
    fn snapshot(
        &self,
        sink: &mut dyn FnMut(crate::backup::Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Writes `items` (a verified backup's rows, in its order; from a
    /// blocking thread) into this
    /// store, which must hold nothing yet: no sealed root, no audit record
    /// (refused as stale otherwise). The journal continues from the restored
    /// chain's head.
    fn restore(
        &self,
        items: &mut dyn Iterator<Item = Result<crate::backup::Item, StoreError>>,
    ) -> Result<(), StoreError>;
    /// Hands `writes` and the audit record of `event` to the writer; the
    /// returned [`PendingCommit`] resolves once both are durable. The writes
    /// are never durable without the record (a backend that keeps them apart
    /// makes the record durable first, and names records whose writes a crash
    /// kept out). When the writes are refused (a name clash) the record is still
    /// written, with the failure as its result, and the error is returned. When
    /// the record cannot be written nothing is.
    fn submit(
        &self,
        writes: Vec<Write>,
        event: audit::AuditEvent,
    ) -> Result<PendingCommit, StoreError>;
    /// [`Store::submit`], then waits on this thread until the commit is durable.
    fn commit(
        &self,
        writes: Vec<Write>,
        event: audit::AuditEvent,
    ) -> Result<audit::AuditRecord, StoreError> {
        self.submit(writes, event)?.wait()
    }
}
