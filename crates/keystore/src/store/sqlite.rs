//! The embedded default backend: two SQLite databases in WAL mode with
//! synchronous commits, the key store (`cryptainer.db`: objects, tenant keys,
//! tokens, nodes, volumes, policies) and the audit log beside it
//! (`cryptainer.audit.db`: the hash-chained records and signed checkpoints).
//!
//! Writes go through a single writer thread that gathers the commits waiting at
//! that moment into one group (group commit): each commit's writes are a
//! savepoint of the key store's transaction, so a refused commit (a name clash)
//! rolls back alone while its audit record still lands. The audit transaction
//! commits first, then the key store's, so no change is ever durable without
//! its record. A group of key reads only (their records, nothing else) touches
//! the audit log alone: the key store's file and WAL stay as they were, and the
//! read connections keep their page caches. That is why the log has a file of
//! its own: SQLite drops a connection's whole cache whenever the database's WAL
//! changed, and with the records in the same file every audited read did so.
//!
//! A crash between the two commits leaves records of changes that were not
//! applied. The log keeps the sequence numbers of the last group with changes
//! (`write_groups`), the key store the last one it applied
//! (`store.audit_applied`); at open a mismatch is recorded as
//! `store.writes_not_applied` naming those records, so the log never claims
//! silently what the store does not hold. Reads use small pools of read-only
//! connections and never wait for the writer.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{
    CommitReply, ObjectRef, PendingCommit, Store, StoreError, TenantKeyRow, VersionRow, Write,
};
use crate::journal::Journal;
use crate::model::{JoinTokenRow, ListFilter, MAX_LIST, NodeRow, TokenRow, VolumeRow};
use crate::object::ObjectMeta;

/// Most commits gathered into one transaction. Bounds the latency of the first
/// commit in a group and the size of one transaction.
const MAX_GROUP: usize = 256;

/// Commits that may wait for the writer before callers block; back-pressure.
const QUEUE_DEPTH: usize = 4096;

/// Read connections kept open between requests.
const READ_POOL: usize = 16;

/// The columns of the `objects` table. It has no rowid: a get looks an object
/// up by its id, and with the id as the table's key that is one B-tree descent
/// instead of two (the id index, then the table). `created` numbers objects in
/// the order they were stored, which is the order lists are in. Both indexes
/// on it grow at their end, so a create changes one random page of the table
/// (and one of `object_versions`), not one of every index as well.
///
/// `current_kek` and `current_wrapped` repeat the `object_versions` row of
/// version `current_version` (the object's current one; both NULL while there
/// is none, as once it is erased: reads then look the version up), so that a read of the current material finds everything in the
/// object's row: one descent instead of two, which is most of what a get
/// costs over a large store. `object_versions` stays the record of every
/// version. Writing a version updates the copy when it is the current one,
/// changing an object's metadata or erasing its versions copies the row anew
/// ([`mirror_current`]), each in the same transaction.
macro_rules! objects_columns {
    () => {
        "(
    id          TEXT PRIMARY KEY,
    created     INTEGER NOT NULL,
    tenant      TEXT NOT NULL,
    name        TEXT,
    state       TEXT NOT NULL,
    object_type TEXT NOT NULL,
    meta        TEXT NOT NULL,
    current_version INTEGER NOT NULL DEFAULT 0,
    current_kek     INTEGER,
    current_wrapped BLOB
) WITHOUT ROWID"
    };
}

const SCHEMA: &str = concat!(
    "
CREATE TABLE IF NOT EXISTS system (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tenant_keys (
    tenant  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    wrapped BLOB    NOT NULL,
    PRIMARY KEY (tenant, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects ",
    objects_columns!(),
    ";
CREATE UNIQUE INDEX IF NOT EXISTS objects_live_name ON objects (tenant, name)
    WHERE name IS NOT NULL AND state NOT IN ('destroyed', 'destroyed_compromised');
CREATE INDEX IF NOT EXISTS objects_of_tenant ON objects (tenant, created);
CREATE INDEX IF NOT EXISTS objects_in_order ON objects (created);
CREATE TABLE IF NOT EXISTS object_versions (
    object_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    tenant      TEXT    NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped     BLOB    NOT NULL,
    PRIMARY KEY (object_id, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS object_versions_by_kek ON object_versions (tenant, kek_version);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    id     TEXT NOT NULL UNIQUE,
    info   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS volumes (
    tenant   TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    info     TEXT    NOT NULL,
    PRIMARY KEY (tenant, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS join_tokens (
    digest TEXT PRIMARY KEY,
    id     TEXT NOT NULL UNIQUE,
    info   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes (
    id   TEXT PRIMARY KEY,
    info TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS policies (
    tenant TEXT NOT NULL,
    name   TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
) WITHOUT ROWID;
"
);

/// The audit log's own database.
const AUDIT_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
    seq    INTEGER PRIMARY KEY,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    checkpoint TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS write_groups (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL
);
";

/// The key store's `system` row naming the last audit record of the last group
/// of changes it committed.
const AUDIT_APPLIED: &str = "store.audit_applied";

/// How much of the key store a reader maps (SQLite caps it at its compile-time
/// maximum, 2 GiB for the bundled build).
const READER_MMAP_BYTES: i64 = 2 << 30;

/// Audit read connections kept open (the log is read at open and by verify).
const AUDIT_READ_POOL: usize = 2;

/// One commit waiting for the writer.
struct Pending {
    writes: Vec<Write>,
    event: audit::AuditEvent,
    reply: CommitReply,
}

/// The SQLite backend.
pub struct SqliteStore {
    readers: ReaderPool,
    audit_readers: ReaderPool,
    queue: Mutex<Option<SyncSender<Pending>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    journal: Arc<Mutex<Journal>>,
}

/// Read-only connections to one database, reused between requests (the most
/// recently returned first, so the warmest cache serves the next read).
struct ReaderPool {
    path: PathBuf,
    keep: usize,
    /// How much of the file each connection maps (`mmap_size`).
    map_bytes: i64,
    connections: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    fn new(path: &Path, keep: usize, map_bytes: i64) -> ReaderPool {
        ReaderPool {
            path: path.to_path_buf(),
            keep,
            map_bytes,
            connections: Mutex::new(Vec::new()),
        }
    }

    fn with<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match pooled {
            Some(connection) => connection,
            None => {
                let connection = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                connection.busy_timeout(std::time::Duration::from_secs(10))?;
                // Key store readers map the database. Pages read through read(2) are
                // unmapped page cache, which a host's proactive reclaim
                // (DAMON pageout, as on our benchmark machines) evicts once
                // they have been idle for seconds, so that gets over a large
                // store went to the disk; mapped pages are left alone, and
                // under the server's mlockall(ONFAULT) they stay resident once
                // touched. SQLite unmaps the whole file at the next read
                // transaction whenever the WAL changed (each munmap flushes
                // the TLB of every core): with the audit records in a file of
                // their own, only changes to keys do that, never key reads.
                // The audit log changes with every record and is read rarely
                // (at open and by verify): its readers do not map it.
                connection.pragma_update(None, "mmap_size", self.map_bytes)?;
                connection
            }
        };
        let result = read(&connection);
        let mut pool = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if pool.len() < self.keep {
            pool.push(connection);
        }
        result
    }
}

/// The writer thread's two connections.
struct Writer {
    keys: Connection,
    log: Connection,
}

/// Where the audit log of the key store at `path` lives: beside it, with
/// `.audit.db` for its extension (`cryptainer.db` → `cryptainer.audit.db`).
pub fn audit_path_of(path: &Path) -> PathBuf {
    path.with_extension("audit.db")
}

fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.to_string(),
    }
}

fn configure(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL lets readers run beside the writer; FULL makes every commit durable
    // before it returns; secure_delete overwrites erased material.
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "secure_delete", "ON")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the key store at `path` and its audit log
    /// beside it ([`audit_path_of`]), and starts the writer. A store whose
    /// records are still in its own file (the layout before the log had one)
    /// has them moved. Records of changes a crash kept from the key store are
    /// named by a `store.writes_not_applied` record.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::DataDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let audit_path = audit_path_of(path);
        let mut keys = Connection::open(path)?;
        configure(&keys)?;
        drop_objects_rowid(&mut keys)?;
        add_current_columns(&mut keys)?;
        keys.execute_batch(SCHEMA)?;
        restrict_permissions(path);
        let mut log = Connection::open(&audit_path)?;
        configure(&log)?;
        log.execute_batch(AUDIT_SCHEMA)?;
        restrict_permissions(&audit_path);
        move_records_out(&keys, &mut log)?;
        let applied = applied_seq(&keys)?;
        check_log_is_whole(applied, &log)?;
        let unapplied = unapplied_group(applied, &log)?;

        let store = SqliteStore {
            readers: ReaderPool::new(path, READ_POOL, READER_MMAP_BYTES),
            audit_readers: ReaderPool::new(&audit_path, AUDIT_READ_POOL, 0),
            queue: Mutex::new(None),
            writer: Mutex::new(None),
            journal: Arc::new(Mutex::new(Journal::new(None))),
        };
        let head = store.audit_head()?;
        store
            .journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reset_head(head);

        let (sender, receiver) = sync_channel::<Pending>(QUEUE_DEPTH);
        let journal = Arc::clone(&store.journal);
        let handle = std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || writer_loop(Writer { keys, log }, receiver, journal))
            .map_err(|source| StoreError::DataDir {
                path: path.to_path_buf(),
                source,
            })?;
        *store.queue.lock().unwrap_or_else(PoisonError::into_inner) = Some(sender);
        *store.writer.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        if let Some((first, last)) = unapplied {
            tracing::error!(
                first,
                last,
                "audit records {first} to {last} describe changes the key store does not \
                 hold (the server stopped between the two commits); recording that"
            );
            let (writes, event) = not_applied(first, last);
            store.commit(writes, event)?;
        }
        Ok(store)
    }

    /// The token a one-parameter query selects.
    fn token_where(&self, query: &str, value: &str) -> Result<Option<TokenRow>, StoreError> {
        self.with_reader(|connection| {
            let text: Option<String> = connection
                .prepare_cached(query)?
                .query_row([value], |row| row.get(0))
                .optional()?;
            text.map(|text| serde_json::from_str(&text).map_err(|error| corrupt("token", error)))
                .transpose()
        })
    }

    /// Every JSON row a parameterless query selects, decoded.
    fn json_rows<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        what: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        self.with_reader(|connection| {
            let mut statement = connection.prepare_cached(query)?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
            let mut decoded = Vec::new();
            for row in rows {
                decoded.push(serde_json::from_str(&row?).map_err(|error| corrupt(what, error))?);
            }
            Ok(decoded)
        })
    }

    /// The JSON rows (second column) of a query whose first column is the
    /// tenant, decoded, keeping only `tenants` (`None`: all).
    fn tenant_json_rows<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        tenants: Option<&[String]>,
        what: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        self.with_reader(|connection| {
            let mut statement = connection.prepare_cached(query)?;
            let mut rows = statement.query([])?;
            let mut decoded = Vec::new();
            while let Some(row) = rows.next()? {
                let tenant: String = row.get(0)?;
                if tenants.is_some_and(|tenants| !tenants.contains(&tenant)) {
                    continue;
                }
                let text: String = row.get(1)?;
                decoded.push(serde_json::from_str(&text).map_err(|error| corrupt(what, error))?);
            }
            Ok(decoded)
        })
    }

    /// The JSON row a query by tenant and name selects, decoded.
    fn tenant_json_row<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        tenant: &str,
        name: &str,
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.with_reader(|connection| {
            let text: Option<String> = connection
                .prepare_cached(query)?
                .query_row([tenant, name], |row| row.get(0))
                .optional()?;
            text.map(|text| serde_json::from_str(&text).map_err(|error| corrupt(what, error)))
                .transpose()
        })
    }

    /// The JSON row a one-parameter query selects, decoded.
    fn json_row<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        value: &str,
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.with_reader(|connection| {
            let text: Option<String> = connection
                .prepare_cached(query)?
                .query_row([value], |row| row.get(0))
                .optional()?;
            text.map(|text| serde_json::from_str(&text).map_err(|error| corrupt(what, error)))
                .transpose()
        })
    }

    fn with_reader<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.readers.with(read)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is queued and exit.
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = handle.join();
        }
    }
}

/// Keeps the database and its WAL readable by the owner only.
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

fn decode_meta(text: &str) -> Result<ObjectMeta, StoreError> {
    serde_json::from_str(text).map_err(|error| corrupt("object metadata", error))
}

fn to_u32(value: i64, what: &'static str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(what, format!("value {value} out of range")))
}

fn read_version_row(
    row: &rusqlite::Row<'_>,
) -> Result<(String, i64, String, i64, Vec<u8>), rusqlite::Error> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn version_row(raw: (String, i64, String, i64, Vec<u8>)) -> Result<VersionRow, StoreError> {
    let (object_id, version, tenant, kek_version, wrapped) = raw;
    Ok(VersionRow {
        object_id,
        version: to_u32(version, "object version")?,
        tenant,
        kek_version: to_u32(kek_version, "tenant key version")?,
        wrapped,
    })
}

impl Store for SqliteStore {
    fn get_system(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_reader(|connection| {
            Ok(connection
                .prepare_cached("SELECT value FROM system WHERE name = ?1")?
                .query_row([name], |row| row.get(0))
                .optional()?)
        })
    }

    fn tenant_keys(&self) -> Result<Vec<TenantKeyRow>, StoreError> {
        self.with_reader(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT tenant, version, wrapped FROM tenant_keys ORDER BY tenant, version",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                ))
            })?;
            let mut keys = Vec::new();
            for row in rows {
                let (tenant, version, wrapped) = row?;
                keys.push(TenantKeyRow {
                    tenant,
                    version: to_u32(version, "tenant key version")?,
                    wrapped,
                });
            }
            Ok(keys)
        })
    }

    fn get_object(&self, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.with_reader(|connection| {
            let text: Option<String> = connection
                .prepare_cached("SELECT meta FROM objects WHERE id = ?1")?
                .query_row([id], |row| row.get(0))
                .optional()?;
            text.as_deref().map(decode_meta).transpose()
        })
    }

    fn get_object_current(
        &self,
        by: ObjectRef<'_>,
    ) -> Result<Option<(ObjectMeta, Option<VersionRow>)>, StoreError> {
        type Columns = (String, i64, Option<i64>, Option<Vec<u8>>);
        let columns = |row: &rusqlite::Row<'_>| -> Result<Columns, rusqlite::Error> {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        };
        let found = self.with_reader(|connection| {
            Ok(match by {
                ObjectRef::Id(id) => connection
                    .prepare_cached(
                        "SELECT meta, current_version, current_kek, current_wrapped \
                         FROM objects WHERE id = ?1",
                    )?
                    .query_row([id], columns)
                    .optional()?,
                ObjectRef::Name { tenant, name } => connection
                    .prepare_cached(
                        "SELECT meta, current_version, current_kek, current_wrapped \
                         FROM objects WHERE tenant = ?1 AND name = ?2 \
                         AND state NOT IN ('destroyed', 'destroyed_compromised')",
                    )?
                    .query_row([tenant, name], columns)
                    .optional()?,
            })
        })?;
        let Some((text, current_version, kek_version, wrapped)) = found else {
            return Ok(None);
        };
        let meta = decode_meta(&text)?;
        if i64::from(meta.version) != current_version {
            // Never expected: every write keeps the two in step. The record
            // of every version answers instead.
            tracing::error!(
                object = %meta.id,
                copied = current_version,
                current = meta.version,
                "an object's row copies another version than its current one; \
                 reading the current one from object_versions"
            );
            let current = self.get_version(&meta.id, meta.version)?;
            return Ok(Some((meta, current)));
        }
        let current = match (kek_version, wrapped) {
            (Some(kek_version), Some(wrapped)) => Some(VersionRow {
                object_id: meta.id.clone(),
                version: meta.version,
                tenant: meta.tenant.clone(),
                kek_version: to_u32(kek_version, "tenant key version")?,
                wrapped,
            }),
            _ => None,
        };
        Ok(Some((meta, current)))
    }

    fn find_object_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        self.with_reader(|connection| {
            let text: Option<String> = connection
                .prepare_cached(
                    "SELECT meta FROM objects WHERE tenant = ?1 AND name = ?2 \
                     AND state NOT IN ('destroyed', 'destroyed_compromised')",
                )?
                .query_row([tenant, name], |row| row.get(0))
                .optional()?;
            text.as_deref().map(decode_meta).transpose()
        })
    }

    fn list_objects(&self, filter: &ListFilter) -> Result<(Vec<ObjectMeta>, u64), StoreError> {
        let mut conditions: Vec<String> = Vec::new();
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(tenants) = &filter.tenants {
            if tenants.is_empty() {
                return Ok((Vec::new(), 0));
            }
            let marks: Vec<String> = tenants
                .iter()
                .map(|tenant| {
                    values.push(tenant.clone().into());
                    format!("?{}", values.len())
                })
                .collect();
            conditions.push(format!("tenant IN ({})", marks.join(", ")));
        }
        if let Some(name) = &filter.name {
            values.push(name.clone().into());
            conditions.push(format!("name = ?{}", values.len()));
        }
        if let Some(state) = filter.state {
            values.push(state.as_str().to_owned().into());
            conditions.push(format!("state = ?{}", values.len()));
        }
        if let Some(object_type) = filter.object_type {
            values.push(object_type.as_str().to_owned().into());
            conditions.push(format!("object_type = ?{}", values.len()));
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let limit = filter.limit.clamp(1, MAX_LIST);
        let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
        self.with_reader(|connection| {
            let total: i64 = connection.query_row(
                &format!("SELECT count(*) FROM objects {where_clause}"),
                rusqlite::params_from_iter(values.iter()),
                |row| row.get(0),
            )?;
            let mut statement = connection.prepare(&format!(
                "SELECT meta FROM objects {where_clause} ORDER BY created LIMIT {limit} OFFSET {offset}"
            ))?;
            let rows = statement.query_map(rusqlite::params_from_iter(values.iter()), |row| {
                row.get::<_, String>(0)
            })?;
            let mut objects = Vec::new();
            for row in rows {
                objects.push(decode_meta(&row?)?);
            }
            Ok((objects, u64::try_from(total).unwrap_or(0)))
        })
    }

    fn get_version(&self, object_id: &str, version: u32) -> Result<Option<VersionRow>, StoreError> {
        self.with_reader(|connection| {
            let raw = connection
                .prepare_cached(
                    "SELECT object_id, version, tenant, kek_version, wrapped FROM object_versions \
                     WHERE object_id = ?1 AND version = ?2",
                )?
                .query_row(params![object_id, version], read_version_row)
                .optional()?;
            raw.map(version_row).transpose()
        })
    }

    fn versions_below_kek(
        &self,
        tenant: &str,
        kek_version: u32,
        limit: u32,
    ) -> Result<Vec<VersionRow>, StoreError> {
        self.with_reader(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT object_id, version, tenant, kek_version, wrapped FROM object_versions \
                 WHERE tenant = ?1 AND kek_version < ?2 LIMIT ?3",
            )?;
            let rows =
                statement.query_map(params![tenant, kek_version, limit], read_version_row)?;
            let mut versions = Vec::new();
            for row in rows {
                versions.push(version_row(row?)?);
            }
            Ok(versions)
        })
    }

    fn get_token_by_digest(&self, digest: &str) -> Result<Option<TokenRow>, StoreError> {
        self.token_where("SELECT info FROM tokens WHERE digest = ?1", digest)
    }

    fn get_token_by_id(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        self.token_where("SELECT info FROM tokens WHERE id = ?1", id)
    }

    fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.with_reader(|connection| {
            let mut statement = connection.prepare_cached("SELECT info FROM tokens ORDER BY id")?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
            let mut tokens = Vec::new();
            for row in rows {
                tokens.push(serde_json::from_str(&row?).map_err(|error| corrupt("token", error))?);
            }
            Ok(tokens)
        })
    }

    fn get_volume(&self, tenant: &str, name: &str) -> Result<Option<VolumeRow>, StoreError> {
        self.tenant_json_row(
            "SELECT info FROM volumes WHERE tenant = ?1 AND name = ?2",
            tenant,
            name,
            "volume",
        )
    }

    fn list_volumes(&self, tenants: Option<&[String]>) -> Result<Vec<VolumeRow>, StoreError> {
        self.tenant_json_rows(
            "SELECT tenant, info FROM volumes ORDER BY tenant, name",
            tenants,
            "volume",
        )
    }

    fn get_join_token_by_digest(&self, digest: &str) -> Result<Option<JoinTokenRow>, StoreError> {
        self.json_row(
            "SELECT info FROM join_tokens WHERE digest = ?1",
            digest,
            "join token",
        )
    }

    fn get_join_token_by_id(&self, id: &str) -> Result<Option<JoinTokenRow>, StoreError> {
        self.json_row(
            "SELECT info FROM join_tokens WHERE id = ?1",
            id,
            "join token",
        )
    }

    fn list_join_tokens(&self) -> Result<Vec<JoinTokenRow>, StoreError> {
        self.json_rows("SELECT info FROM join_tokens ORDER BY id", "join token")
    }

    fn get_node(&self, id: &str) -> Result<Option<NodeRow>, StoreError> {
        self.json_row("SELECT info FROM nodes WHERE id = ?1", id, "node")
    }

    fn list_nodes(&self) -> Result<Vec<NodeRow>, StoreError> {
        self.json_rows("SELECT info FROM nodes ORDER BY id", "node")
    }

    fn get_policy(&self, tenant: &str, name: &str) -> Result<Option<policy::Policy>, StoreError> {
        self.tenant_json_row(
            "SELECT body FROM policies WHERE tenant = ?1 AND name = ?2",
            tenant,
            name,
            "policy",
        )
    }

    fn list_policies(&self, tenants: Option<&[String]>) -> Result<Vec<policy::Policy>, StoreError> {
        self.tenant_json_rows(
            "SELECT tenant, body FROM policies ORDER BY tenant, name",
            tenants,
            "policy",
        )
    }

    fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        self.audit_readers.with(|connection| {
            let text: Option<String> = connection
                .prepare_cached("SELECT record FROM audit ORDER BY seq DESC LIMIT 1")?
                .query_row([], |row| row.get(0))
                .optional()?;
            match text {
                None => Ok(None),
                Some(text) => {
                    let record: audit::AuditRecord = serde_json::from_str(&text)
                        .map_err(|error| corrupt("audit record", error))?;
                    Ok(Some((record.seq, record.hash)))
                }
            }
        })
    }

    fn audit_records(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<audit::StoredRecord>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.audit_readers.with(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT seq, record FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = statement.query_map(params![after, limit], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })?;
            let mut records = Vec::new();
            for row in rows {
                let (seq, text) = row?;
                // An edited row that no longer decodes is a finding for the
                // verifier, not a storage error.
                records.push(match serde_json::from_str::<audit::AuditRecord>(&text) {
                    Ok(record) => audit::StoredRecord::Decoded(Box::new(record)),
                    Err(_) => audit::StoredRecord::Undecodable {
                        seq: u64::try_from(seq).unwrap_or(0),
                    },
                });
            }
            Ok(records)
        })
    }

    fn audit_checkpoints(&self) -> Result<Vec<audit::Checkpoint>, StoreError> {
        self.audit_readers.with(|connection| {
            let mut statement = connection
                .prepare_cached("SELECT checkpoint FROM audit_checkpoints ORDER BY seq")?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
            let mut checkpoints = Vec::new();
            for row in rows {
                checkpoints.push(
                    serde_json::from_str(&row?)
                        .map_err(|error| corrupt("audit checkpoint", error))?,
                );
            }
            Ok(checkpoints)
        })
    }

    fn journal(&self) -> &Arc<Mutex<Journal>> {
        &self.journal
    }

    fn submit(
        &self,
        writes: Vec<Write>,
        event: audit::AuditEvent,
    ) -> Result<PendingCommit, StoreError> {
        let (reply, pending) = super::pending::channel();
        let sender = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(StoreError::WriterStopped)?;
        sender
            .send(Pending {
                writes,
                event,
                reply,
            })
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(pending)
    }
}

fn writer_loop(mut writer: Writer, queue: Receiver<Pending>, journal: Arc<Mutex<Journal>>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((first, last)) = run_group(&mut writer, group, &mut journal) {
            // Record at once that those records describe changes the store
            // does not hold. Its own failure is not chased further: the check
            // at the next open finds the same records.
            let (reply, _ignored) = super::pending::channel();
            let (writes, event) = not_applied(first, last);
            let notice = Pending {
                writes,
                event,
                reply,
            };
            run_group(&mut writer, vec![notice], &mut journal);
        }
    }
}

/// Commits one group and answers its callers. Returns the sequence numbers of
/// its records when they became durable but the key store's changes did not.
fn run_group(
    writer: &mut Writer,
    group: Vec<Pending>,
    journal: &mut Journal,
) -> Option<(u64, u64)> {
    match commit_group(writer, &group, journal) {
        Ok(committed) => {
            journal.commit(committed.checkpoint.as_ref());
            let not_applied = committed.store_failure.as_ref().map(|_| committed.seqs);
            let store_failure = committed.store_failure.map(Arc::new);
            for (pending, outcome) in group.into_iter().zip(committed.outcomes) {
                // The records are durable either way; a commit with changes
                // fails when the key store's commit did.
                let outcome = match (&store_failure, pending.writes.is_empty(), outcome) {
                    (Some(failure), false, Ok(_)) => Err(StoreError::GroupCommit {
                        source: Arc::clone(failure),
                    }),
                    (_, _, outcome) => outcome,
                };
                pending.reply.send(outcome);
            }
            not_applied
        }
        Err(error) => {
            journal.rollback();
            tracing::error!(%error, commits = group.len(), "storage commit failed");
            // Every caller of the group gets the same failure.
            let shared = Arc::new(error);
            for pending in group {
                pending.reply.send(Err(StoreError::GroupCommit {
                    source: Arc::clone(&shared),
                }));
            }
            None
        }
    }
}

/// What a group's commit produced.
struct Committed {
    outcomes: Vec<Result<audit::AuditRecord, StoreError>>,
    checkpoint: Option<audit::Checkpoint>,
    /// The first and last sequence numbers of the group's records.
    seqs: (u64, u64),
    /// The key store's commit failed after the records became durable.
    store_failure: Option<StoreError>,
}

/// Rolls back `connection`'s open transaction, if any, after a failure.
fn roll_back(connection: &Connection) {
    if !connection.is_autocommit() {
        if let Err(rollback) = connection.execute_batch("ROLLBACK") {
            tracing::error!(error = %rollback, "could not roll back a failed commit");
        }
    }
}

fn commit_group(
    writer: &mut Writer,
    group: &[Pending],
    journal: &mut Journal,
) -> Result<Committed, StoreError> {
    // Transaction control goes through cached statements: parsing BEGIN, COMMIT
    // and SAVEPOINT anew for every group showed in the profile of key reads.
    let changes = group.iter().any(|pending| !pending.writes.is_empty());
    let filled = (|| {
        if changes {
            writer.keys.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        }
        writer.log.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let filled = fill_group(writer, group, journal)?;
        if changes {
            let (first, last) = filled.seqs;
            writer
                .keys
                .prepare_cached("INSERT OR REPLACE INTO system (name, value) VALUES (?1, ?2)")?
                .execute(params![AUDIT_APPLIED, last.to_be_bytes().to_vec()])?;
            writer
                .log
                .prepare_cached(
                    "INSERT OR REPLACE INTO write_groups (id, first_seq, last_seq) \
                     VALUES (1, ?1, ?2)",
                )?
                .execute(params![
                    to_i64(first, "audit seq")?,
                    to_i64(last, "audit seq")?
                ])?;
        }
        // The records first: a change is never durable without its record.
        writer.log.prepare_cached("COMMIT")?.execute([])?;
        Ok(filled)
    })();
    let mut committed = match filled {
        Ok(committed) => committed,
        Err(error) => {
            roll_back(&writer.log);
            roll_back(&writer.keys);
            return Err(error);
        }
    };
    if changes {
        if let Err(error) = writer
            .keys
            .prepare_cached("COMMIT")
            .and_then(|mut commit| commit.execute([]))
        {
            roll_back(&writer.keys);
            tracing::error!(
                %error,
                first = committed.seqs.0,
                last = committed.seqs.1,
                "the key store's commit failed after its audit records were written"
            );
            committed.store_failure = Some(error.into());
        }
    }
    Ok(committed)
}

/// Applies each commit of the group inside the key store's open transaction,
/// each commit's writes in a savepoint of their own so that a refused commit (a
/// name clash) leaves the others intact, and appends one audit record per
/// commit to the log's open transaction.
fn fill_group(
    writer: &Writer,
    group: &[Pending],
    journal: &mut Journal,
) -> Result<Committed, StoreError> {
    let keys = &writer.keys;
    let mut outcomes = Vec::with_capacity(group.len());
    let mut seqs: Option<(u64, u64)> = None;
    for pending in group {
        let applied = if pending.writes.is_empty() {
            // A record-only commit (a key read, a refusal) needs no savepoint.
            Ok(())
        } else {
            keys.prepare_cached("SAVEPOINT pending")?.execute([])?;
            let applied = apply_writes(keys, &pending.writes);
            if applied.is_err() {
                keys.prepare_cached("ROLLBACK TO pending")?.execute([])?;
            }
            keys.prepare_cached("RELEASE pending")?.execute([])?;
            applied
        };
        let mut event = pending.event.clone();
        if let Err(error) = &applied {
            event.result = match error {
                StoreError::NameTaken { .. } | StoreError::Stale { .. } => "conflict".to_owned(),
                _ => "internal".to_owned(),
            };
        }
        let record = journal
            .next(&event)
            .map_err(|error| corrupt("audit chain", error))?;
        let text =
            serde_json::to_string(&record).map_err(|error| corrupt("audit record", error))?;
        let seq = i64::try_from(record.seq).map_err(|_| corrupt("audit record", "seq overflow"))?;
        writer
            .log
            .prepare_cached("INSERT INTO audit (seq, record) VALUES (?1, ?2)")?
            .execute(params![seq, text])?;
        seqs = Some(seqs.map_or((record.seq, record.seq), |(first, _)| (first, record.seq)));
        outcomes.push(applied.map(|()| record));
    }
    let checkpoint = journal.checkpoint_due();
    if let Some(checkpoint) = &checkpoint {
        let text = serde_json::to_string(&checkpoint)
            .map_err(|error| corrupt("audit checkpoint", error))?;
        let seq = i64::try_from(checkpoint.seq)
            .map_err(|_| corrupt("audit checkpoint", "seq overflow"))?;
        writer
            .log
            .prepare_cached(
                "INSERT OR REPLACE INTO audit_checkpoints (seq, checkpoint) VALUES (?1, ?2)",
            )?
            .execute(params![seq, text])?;
    }
    Ok(Committed {
        outcomes,
        checkpoint,
        seqs: seqs.unwrap_or_default(),
        store_failure: None,
    })
}

/// The commit that records that audit records `first` to `last` describe
/// changes the key store does not hold. Its one change marks them handled (the
/// key store then has a group applied again), so the next open does not record
/// them a second time.
fn not_applied(first: u64, last: u64) -> (Vec<Write>, audit::AuditEvent) {
    let mut event = audit::AuditEvent::new(
        time::OffsetDateTime::now_utc(),
        "server",
        "store.writes_not_applied",
        "internal",
    );
    event.object_id = Some(format!("audit:{first}-{last}"));
    let marker = Write::PutSystem {
        name: "store.recovered_through".to_owned(),
        value: last.to_be_bytes().to_vec(),
    };
    (vec![marker], event)
}

/// The last audit record the key store applied changes for
/// ([`AUDIT_APPLIED`]), if any group of changes was committed since the log
/// had a file of its own.
fn applied_seq(keys: &Connection) -> Result<Option<u64>, StoreError> {
    let applied: Option<Vec<u8>> = keys
        .query_row(
            "SELECT value FROM system WHERE name = ?1",
            [AUDIT_APPLIED],
            |row| row.get(0),
        )
        .optional()?;
    applied
        .map(|bytes| {
            bytes
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| corrupt("system value", format!("{AUDIT_APPLIED} is not 8 bytes")))
        })
        .transpose()
}

/// Refuses a log that ends before the last record the key store applied
/// changes for: the log file was truncated, replaced or lost (restored
/// without the key store, say), and going on would start the chain again
/// over records that existed.
fn check_log_is_whole(applied: Option<u64>, log: &Connection) -> Result<(), StoreError> {
    let Some(applied) = applied else {
        return Ok(());
    };
    let head: Option<i64> = log.query_row("SELECT max(seq) FROM audit", [], |row| row.get(0))?;
    let head = head.map_or(0, |seq| u64::try_from(seq).unwrap_or(0));
    if head < applied {
        return Err(StoreError::AuditLogBehind { head, applied });
    }
    Ok(())
}

/// The first and last sequence numbers of the last group of changes whose
/// records are in the log but whose changes the key store never committed.
fn unapplied_group(
    applied: Option<u64>,
    log: &Connection,
) -> Result<Option<(u64, u64)>, StoreError> {
    let group: Option<(i64, i64)> = log
        .query_row(
            "SELECT first_seq, last_seq FROM write_groups WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((first, last)) = group else {
        return Ok(None);
    };
    let first = u64::try_from(first).map_err(|_| corrupt("write group", "negative seq"))?;
    let last = u64::try_from(last).map_err(|_| corrupt("write group", "negative seq"))?;
    Ok((applied < Some(last)).then_some((first, last)))
}

/// Moves the records of a key store made before the log had a file of its own
/// into the log, then drops them from the key store. Safe to repeat after a
/// crash part-way: rows already moved are skipped.
fn move_records_out(keys: &Connection, log: &mut Connection) -> Result<(), StoreError> {
    let old: i64 = keys.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit'",
        [],
        |row| row.get(0),
    )?;
    if old == 0 {
        return Ok(());
    }
    let moving = log.transaction()?;
    {
        let mut insert =
            moving.prepare("INSERT OR IGNORE INTO audit (seq, record) VALUES (?1, ?2)")?;
        let mut select = keys.prepare("SELECT seq, record FROM audit ORDER BY seq")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            insert.execute(params![row.get::<_, i64>(0)?, row.get::<_, String>(1)?])?;
        }
        let mut insert = moving
            .prepare("INSERT OR IGNORE INTO audit_checkpoints (seq, checkpoint) VALUES (?1, ?2)")?;
        let mut select =
            keys.prepare("SELECT seq, checkpoint FROM audit_checkpoints ORDER BY seq")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            insert.execute(params![row.get::<_, i64>(0)?, row.get::<_, String>(1)?])?;
        }
    }
    moving.commit()?;
    keys.execute_batch("DROP TABLE audit; DROP TABLE IF EXISTS audit_checkpoints;")?;
    tracing::info!("moved the audit records into the audit log's own database");
    Ok(())
}

/// Rebuilds an `objects` table made with a rowid (stores made before it had
/// none) in the current layout, keeping the order objects were stored in, in
/// one transaction: a crash part-way leaves the old table as it was. Its
/// indexes go with it; the schema makes them again.
fn drop_objects_rowid(keys: &mut Connection) -> Result<(), StoreError> {
    let definition: Option<String> = keys
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'objects'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let Some(definition) = definition else {
        return Ok(());
    };
    if definition.to_ascii_uppercase().contains("WITHOUT ROWID") {
        return Ok(());
    }
    let count: i64 = keys.query_row("SELECT count(*) FROM objects", [], |row| row.get(0))?;
    tracing::info!(
        objects = count,
        "rebuilding the objects table without rowids (once, for a store made by an earlier version)"
    );
    let rebuild = keys.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    rebuild.execute_batch(concat!(
        "CREATE TABLE objects_rebuilt ",
        objects_columns!(),
        ";
        INSERT INTO objects_rebuilt (id, created, tenant, name, state, object_type, meta)
            SELECT id, rowid, tenant, name, state, object_type, meta FROM objects ORDER BY id;
        DROP TABLE objects;
        ALTER TABLE objects_rebuilt RENAME TO objects;"
    ))?;
    rebuild.execute_batch(MIRROR_ALL_CURRENT)?;
    rebuild.commit()?;
    tracing::info!(objects = count, "objects table rebuilt");
    Ok(())
}

/// Copies the current version's row of `object_versions` into the object's
/// row (NULLs when there is none: not written yet, or erased).
fn mirror_current(transaction: &Connection, object_id: &str) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "UPDATE objects SET (current_kek, current_wrapped) = \
             (SELECT kek_version, wrapped FROM object_versions \
              WHERE object_id = objects.id AND version = objects.current_version) \
             WHERE id = ?1",
        )?
        .execute(params![object_id])?;
    Ok(())
}

/// Fills the copy of every object's current version (see `objects_columns!`)
/// from `object_versions`: for a store made before the objects table had it.
const MIRROR_ALL_CURRENT: &str = "
UPDATE objects SET current_version = json_extract(meta, '$.version');
UPDATE objects SET (current_kek, current_wrapped) =
    (SELECT kek_version, wrapped FROM object_versions
     WHERE object_id = objects.id AND version = objects.current_version);";

/// Adds the copy of the current version to the objects table of a store made
/// before it had one, and fills it, in one transaction.
fn add_current_columns(keys: &mut Connection) -> Result<(), StoreError> {
    let columns: Vec<String> = keys
        .prepare("SELECT name FROM pragma_table_info('objects')")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if columns.is_empty() || columns.iter().any(|column| column == "current_version") {
        return Ok(());
    }
    tracing::info!(
        "adding a copy of each object's current material to its row \
         (once, for a store made by an earlier version)"
    );
    let change = keys.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    change.execute_batch(
        "ALTER TABLE objects ADD COLUMN current_version INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE objects ADD COLUMN current_kek INTEGER;
         ALTER TABLE objects ADD COLUMN current_wrapped BLOB;",
    )?;
    change.execute_batch(MIRROR_ALL_CURRENT)?;
    change.commit()?;
    Ok(())
}

fn stale_volume(tenant: &str, name: &str) -> StoreError {
    StoreError::Stale {
        what: format!("volume '{name}' of tenant '{tenant}'"),
    }
}

fn to_i64(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| corrupt(what, format!("value {value} out of range")))
}

/// Inserts or conditionally updates a volume (see [`Write::PutVolume`]).
fn put_volume(
    transaction: &Connection,
    row: &VolumeRow,
    expected_revision: Option<u64>,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(row).map_err(|error| corrupt("volume", error))?;
    let revision = to_i64(row.revision, "volume revision")?;
    let changed = match expected_revision {
        None => transaction
            .prepare_cached(
                "INSERT INTO volumes (tenant, name, revision, info) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![row.tenant, row.name, revision, text])?,
        Some(expected) => transaction
            .prepare_cached(
                "UPDATE volumes SET revision = ?3, info = ?4 \
                 WHERE tenant = ?1 AND name = ?2 AND revision = ?5",
            )?
            .execute(params![
                row.tenant,
                row.name,
                revision,
                text,
                to_i64(expected, "volume revision")?
            ])?,
    };
    if changed != 1 {
        return Err(stale_volume(&row.tenant, &row.name));
    }
    Ok(())
}

fn apply_writes(transaction: &Connection, writes: &[Write]) -> Result<(), StoreError> {
    for write in writes {
        match write {
            Write::PutSystem { name, value } => {
                transaction
                    .prepare_cached("INSERT OR REPLACE INTO system (name, value) VALUES (?1, ?2)")?
                    .execute(params![name, value])?;
            }
            Write::InsertObject(meta) => {
                let text = serde_json::to_string(meta)
                    .map_err(|error| corrupt("object metadata", error))?;
                let inserted = transaction
                    .prepare_cached(
                        "INSERT INTO objects \
                         (id, created, tenant, name, state, object_type, meta, current_version) \
                         VALUES (?1, (SELECT coalesce(max(created), 0) + 1 FROM objects), \
                         ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        meta.id,
                        meta.tenant,
                        meta.name,
                        meta.state.as_str(),
                        meta.object_type.as_str(),
                        text,
                        meta.version
                    ]);
                // The copy of the current version is filled by its PutVersion,
                // which callers write after the object.
                match inserted {
                    Ok(_) => {}
                    Err(rusqlite::Error::SqliteFailure(failure, _))
                        if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        return Err(StoreError::NameTaken {
                            tenant: meta.tenant.clone(),
                            name: meta.name.clone().unwrap_or_default(),
                        });
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            Write::UpdateObject(meta) => {
                let text = serde_json::to_string(meta)
                    .map_err(|error| corrupt("object metadata", error))?;
                transaction
                    .prepare_cached(
                        "UPDATE objects SET name = ?2, state = ?3, meta = ?4, current_version = ?5 \
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        meta.id,
                        meta.name,
                        meta.state.as_str(),
                        text,
                        meta.version
                    ])?;
                mirror_current(transaction, &meta.id)?;
            }
            Write::PutVersion(row) => {
                transaction
                    .prepare_cached(
                        "INSERT OR REPLACE INTO object_versions \
                         (object_id, version, tenant, kek_version, wrapped) \
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        row.object_id,
                        row.version,
                        row.tenant,
                        row.kek_version,
                        row.wrapped
                    ])?;
                transaction
                    .prepare_cached(
                        "UPDATE objects SET current_kek = ?3, current_wrapped = ?4 \
                         WHERE id = ?1 AND current_version = ?2",
                    )?
                    .execute(params![
                        row.object_id,
                        row.version,
                        row.kek_version,
                        row.wrapped
                    ])?;
            }
            Write::EraseVersions { object_id } => {
                transaction
                    .prepare_cached("DELETE FROM object_versions WHERE object_id = ?1")?
                    .execute(params![object_id])?;
                mirror_current(transaction, object_id)?;
            }
            Write::PutTenantKey(row) => {
                transaction.prepare_cached("INSERT OR REPLACE INTO tenant_keys (tenant, version, wrapped) VALUES (?1, ?2, ?3)")?.execute(
                    params![row.tenant, row.version, row.wrapped],
                )?;
            }
            Write::PutVolume {
                row,
                expected_revision,
            } => put_volume(transaction, row, *expected_revision)?,
            Write::DeleteVolume {
                tenant,
                name,
                expected_revision,
            } => {
                let revision = to_i64(*expected_revision, "volume revision")?;
                let deleted = transaction
                    .prepare_cached(
                        "DELETE FROM volumes WHERE tenant = ?1 AND name = ?2 AND revision = ?3",
                    )?
                    .execute(params![tenant, name, revision])?;
                if deleted != 1 {
                    return Err(stale_volume(tenant, name));
                }
            }
            Write::PutToken(row) => {
                let text = serde_json::to_string(row).map_err(|error| corrupt("token", error))?;
                transaction
                    .prepare_cached(
                        "INSERT OR REPLACE INTO tokens (digest, id, info) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![row.digest, row.id, text])?;
            }
            Write::PutJoinToken(row) => {
                let text =
                    serde_json::to_string(row).map_err(|error| corrupt("join token", error))?;
                transaction
                    .prepare_cached(
                        "INSERT OR REPLACE INTO join_tokens (digest, id, info) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![row.digest, row.id, text])?;
            }
            Write::PutNode(row) => {
                let text = serde_json::to_string(row).map_err(|error| corrupt("node", error))?;
                transaction
                    .prepare_cached("INSERT OR REPLACE INTO nodes (id, info) VALUES (?1, ?2)")?
                    .execute(params![row.id, text])?;
            }
            Write::PutPolicy { policy, replace } => {
                let text =
                    serde_json::to_string(policy).map_err(|error| corrupt("policy", error))?;
                let statement = if *replace {
                    "INSERT OR REPLACE INTO policies (tenant, name, body) VALUES (?1, ?2, ?3)"
                } else {
                    "INSERT INTO policies (tenant, name, body) VALUES (?1, ?2, ?3)"
                };
                match transaction.prepare_cached(statement)?.execute(params![
                    policy.tenant,
                    policy.name,
                    text
                ]) {
                    Ok(_) => {}
                    Err(rusqlite::Error::SqliteFailure(failure, _))
                        if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        return Err(StoreError::NameTaken {
                            tenant: policy.tenant.clone(),
                            name: policy.name.clone(),
                        });
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            Write::DeletePolicy { tenant, name } => {
                transaction
                    .prepare_cached("DELETE FROM policies WHERE tenant = ?1 AND name = ?2")?
                    .execute(params![tenant, name])?;
            }
        }
    }
    Ok(())
}
