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
//!
//! Here: opening, the read pools and the reads; `writer` the writer thread
//! and how each write is applied; `schema` the tables and the changes of
//! layout made at open; `rows` decoding what is read.

mod backup;
mod rows;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use self::rows::{corrupt, decode_meta, read_version_row, to_u32, version_row};
use self::schema::{
    AUDIT_SCHEMA, SCHEMA, add_current_columns, applied_seq, check_log_is_whole, drop_objects_rowid,
    move_records_out, unapplied_group,
};
use self::writer::{Job, Pending, Writer, not_applied, writer_loop};
use super::{
    Changes, ObjectRef, PendingCommit, Store, StoreError, TenantKeyRow, VersionRow, Write,
};
use crate::journal::Journal;
use crate::model::{JoinTokenRow, ListFilter, MAX_LIST, NodeRow, TokenRow, VolumeRow};
use crate::object::ObjectMeta;

/// Commits that may wait for the writer before callers block; back-pressure.
const QUEUE_DEPTH: usize = 4096;

/// Read connections kept open between requests.
const READ_POOL: usize = 16;

/// How much of the key store a reader maps (SQLite caps it at its compile-time
/// maximum, 2 GiB for the bundled build).
const READER_MMAP_BYTES: i64 = 2 << 30;

/// Audit read connections kept open (the log is read at open and by verify).
const AUDIT_READ_POOL: usize = 2;

/// The SQLite backend.
pub struct SqliteStore {
    readers: ReaderPool,
    audit_readers: ReaderPool,
    queue: Mutex<Option<SyncSender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    journal: Arc<Mutex<Journal>>,
    /// Never bumped: no other server writes to this file.
    changes: Arc<Changes>,
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

/// Where the audit log of the key store at `path` lives: beside it, with
/// `.audit.db` for its extension (`cryptainer.db` → `cryptainer.audit.db`).
pub fn audit_path_of(path: &Path) -> PathBuf {
    path.with_extension("audit.db")
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
            changes: Arc::new(Changes::default()),
        };
        let head = store.audit_head()?;
        store
            .journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reset_head(head);

        let (sender, receiver) = sync_channel::<Job>(QUEUE_DEPTH);
        let journal = Arc::clone(&store.journal);
        let writer = Writer {
            keys,
            log,
            keys_path: path.to_path_buf(),
            log_path: audit_path.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || writer_loop(writer, receiver, journal))
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

/// Sets the connection's settings (busy timeout, WAL, durable commits).
pub(super) fn configure_writer(connection: &Connection) -> Result<(), rusqlite::Error> {
    configure(connection)
}

/// Keeps the database and its WAL readable by the owner only.
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
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
        super::with_current_copy(
            decode_meta(&text)?,
            current_version,
            kek_version,
            wrapped,
            |id, version| self.get_version(id, version),
        )
        .map(Some)
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

    fn changes(&self) -> &Arc<Changes> {
        &self.changes
    }

    fn backend(&self) -> &'static str {
        "sqlite"
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
            .send(Job::Commit(Pending {
                writes,
                event,
                reply,
            }))
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(pending)
    }

    fn snapshot(
        &self,
        sink: &mut dyn FnMut(crate::backup::Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sender = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(StoreError::WriterStopped)?;
        let (reply, opened) = sync_channel(1);
        sender
            .send(Job::Snapshot(reply))
            .map_err(|_| StoreError::WriterStopped)?;
        let (keys, log) = opened.recv().map_err(|_| StoreError::WriterStopped)??;
        backup::snapshot(&keys, &log, sink)
    }

    fn restore(
        &self,
        items: &mut dyn Iterator<Item = Result<crate::backup::Item, StoreError>>,
    ) -> Result<(), StoreError> {
        let head = backup::restore(&self.readers.path, &self.audit_readers.path, items)?;
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reset_head(head);
        Ok(())
    }
}
