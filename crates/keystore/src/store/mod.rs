//! The storage seam: what the key hierarchy needs from a database, as a trait, so
//! that the embedded SQLite backend and a later PostgreSQL backend are
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
//! The trait stays backend-neutral (no SQLite type in it) for the PostgreSQL
//! backend to come.

mod pending;
pub(crate) mod sqlite;

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
#[derive(Debug, Clone)]
pub(crate) enum Write {
    /// Sets a system value (the sealed root, configuration markers).
    PutSystem {
        /// Key.
        name: String,
        /// Value.
        value: Vec<u8>,
    },
    /// Adds an object; fails with [`StoreError::NameTaken`] when a live object of
    /// the tenant already has the name.
    InsertObject(ObjectMeta),
    /// Replaces an object's metadata.
    UpdateObject(ObjectMeta),
    /// Adds or replaces one version's wrapped material.
    PutVersion(VersionRow),
    /// Erases every version of an object's material for good.
    EraseVersions {
        /// The object.
        object_id: String,
    },
    /// Adds or replaces a tenant key version.
    PutTenantKey(TenantKeyRow),
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
    /// Adds or replaces a join token (see [`JoinTokenRow`]).
    PutJoinToken(JoinTokenRow),
    /// Adds or replaces a node of the inventory (see [`NodeRow`]).
    PutNode(NodeRow),
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
    /// The database could not be opened or queried.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
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
    /// A conditional write found the record changed since it was read.
    #[error("{what} was changed by another request at the same time; retry")]
    Stale {
        /// What changed.
        what: String,
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
