//! The PostgreSQL backend: several servers share one database, which orders
//! what they do (docs/ha.md).
//!
//! The driver is `tokio-postgres` (async, pipelining, no C library), with a
//! pool of our own (`pool`) and rustls for TLS (`tls`). The store runs its
//! own small tokio runtime: the `Store` trait is synchronous, and a read
//! hands its query to that runtime and waits for the answer, so the store
//! works the same from a blocking thread, a test or the CLI. The server moves
//! its request work to blocking threads when the store says its reads wait
//! on the network ([`Store::reads_wait`]).
//!
//! Here: opening (the URL, migrations, the tasks), the reads, and the
//! classification of driver errors (a database out of reach is
//! [`StoreError::Unavailable`], answered 503); `writer` the commits,
//! `listen` the notifications of other servers' changes, `schema` the
//! tables.

mod backup;
mod config;
mod listen;
mod pool;
mod schema;
mod tls;
mod writer;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc::UnboundedSender;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use self::config::DatabaseConfig;
use self::pool::{Connector, OPERATION_TIMEOUT, Pool};
use self::writer::{Pending, WriterContext, writer_loop};
use super::{
    Changes, ObjectRef, PendingCommit, Store, StoreError, TenantKeyRow, VersionRow, Write,
};
use crate::journal::Journal;
use crate::model::{JoinTokenRow, ListFilter, MAX_LIST, NodeRow, TokenRow, VolumeRow};
use crate::object::ObjectMeta;

/// Read connections per server.
const READ_POOL: usize = 16;

/// Threads of the store's runtime: the writer, the listener and the reads'
/// I/O are light; the work is the database's.
const RUNTIME_THREADS: usize = 2;

/// A query parameter the caller no longer borrows.
type Parameter = Box<dyn ToSql + Send + Sync>;

/// The PostgreSQL backend.
pub struct PostgresStore {
    /// `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    connector: Arc<Connector>,
    /// This store's id in notifications.
    instance: String,
    pool: Arc<Pool>,
    queue: Mutex<Option<UnboundedSender<Pending>>>,
    /// Answered when the writer has finished (the store is being dropped).
    writer_done: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    journal: Arc<Mutex<Journal>>,
    changes: Arc<Changes>,
}

/// A database failure that means it is out of reach, for `what`.
pub(super) fn unavailable(what: &str) -> StoreError {
    StoreError::Unavailable {
        source: what.to_owned().into(),
    }
}

pub(super) fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.to_string(),
    }
}

/// Sorts a driver error: the database out of reach (connection lost or
/// refused, shutting down, out of connections, a standby) is
/// [`StoreError::Unavailable`]; a statement the database refused is
/// [`StoreError::Database`].
pub(super) fn classify(error: tokio_postgres::Error) -> StoreError {
    let unavailable = match error.code() {
        Some(code) => {
            let code = code.code();
            // 08: connection exception; 28: authorization refused (pg_hba);
            // 53: out of resources (connections); 57P: shutting down,
            // crashed, starting; 25006: read-only (a standby after failover).
            code.starts_with("08")
                || code.starts_with("28")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "25006"
        }
        // No SQLSTATE: the connection closed, an I/O or TLS failure.
        None => true,
    };
    if unavailable {
        StoreError::Unavailable {
            source: Box::new(error),
        }
    } else {
        StoreError::Database {
            backend: "postgresql",
            source: Box::new(error),
        }
    }
}

/// The rows `sql` selects, on a pooled connection; a connection whose read
/// failed or timed out is dropped.
async fn select(
    pool: Arc<Pool>,
    sql: &'static str,
    parameters: Vec<Parameter>,
) -> Result<Vec<Row>, StoreError> {
    select_text(pool, SqlText::Static(sql), parameters).await
}

/// A query's text: a constant (prepared once per connection) or built for
/// one call (a list's filters).
enum SqlText {
    Static(&'static str),
    Built(String),
}

async fn select_text(
    pool: Arc<Pool>,
    sql: SqlText,
    parameters: Vec<Parameter>,
) -> Result<Vec<Row>, StoreError> {
    let mut pooled = pool.get().await?;
    let read = async {
        let connection = pooled.connection()?;
        let references: Vec<&(dyn ToSql + Sync)> = parameters
            .iter()
            .map(|parameter| parameter.as_ref() as &(dyn ToSql + Sync))
            .collect();
        match &sql {
            SqlText::Static(sql) => {
                let statement = connection.statement(sql).await?;
                connection
                    .client
                    .query(&statement, &references)
                    .await
                    .map_err(classify)
            }
            SqlText::Built(sql) => connection
                .client
                .query(sql.as_str(), &references)
                .await
                .map_err(classify),
        }
    };
    let result = tokio::time::timeout(OPERATION_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| Err(unavailable("the database did not answer a read in time")));
    if result.as_ref().is_err_and(StoreError::is_unavailable) {
        pooled.discard();
    }
    result
}

/// Column `index` of `row`.
fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    index: usize,
) -> Result<T, StoreError> {
    row.try_get(index).map_err(classify)
}

use super::stored_u32 as to_u32;

fn decode_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| corrupt(what, error))
}

fn version_row(row: &Row) -> Result<VersionRow, StoreError> {
    Ok(VersionRow {
        object_id: column(row, 0)?,
        version: to_u32(column(row, 1)?, "object version")?,
        tenant: column(row, 2)?,
        kek_version: to_u32(column(row, 3)?, "tenant key version")?,
        wrapped: column(row, 4)?,
    })
}

impl PostgresStore {
    /// Connects to the database at `url` (see `config` for what it accepts),
    /// applies the migrations it lacks, and starts the writer and the
    /// listener. Fails with [`StoreError::Unavailable`] when the database
    /// cannot be reached.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let config = DatabaseConfig::parse(url)?;
        let connector = Arc::new(Connector::new(&config)?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_THREADS)
            .thread_name("cryptainer-postgres")
            .enable_all()
            .build()
            .map_err(|error| {
                StoreError::Config(format!("cannot start the store's runtime: {error}"))
            })?;
        let preparing = Arc::clone(&connector);
        let head = wait_on(&runtime, async move {
            let mut connection = preparing.connect().await?;
            schema::migrate(&mut connection).await?;
            let row = connection
                .client
                .query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
                .await
                .map_err(classify)?;
            let seq: i64 = column(&row, 0)?;
            let hash: Option<Vec<u8>> = column(&row, 1)?;
            Ok((seq, hash))
        })?;
        let head = match head {
            (0, _) => None,
            (seq, Some(hash)) => Some((
                u64::try_from(seq).map_err(|_| corrupt("audit head", "negative sequence"))?,
                <[u8; 32]>::try_from(hash.as_slice())
                    .map_err(|_| corrupt("audit head", "the hash is not 32 bytes"))?,
            )),
            (_, None) => return Err(corrupt("audit head", "no hash for a record")),
        };
        let journal = Arc::new(Mutex::new(Journal::new(head)));
        let changes = Arc::new(Changes::default());
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let (queue, receiver) = tokio::sync::mpsc::unbounded_channel();
        let (done, writer_done) = std::sync::mpsc::sync_channel(1);
        let context = WriterContext {
            connector: Arc::clone(&connector),
            journal: Arc::clone(&journal),
            changes: Arc::clone(&changes),
            instance: instance.clone(),
        };
        runtime.spawn(async move {
            writer_loop(receiver, context).await;
            let _ = done.send(());
        });
        runtime.spawn(listen::listen_loop(
            Arc::clone(&connector),
            Arc::clone(&changes),
            instance.clone(),
        ));
        Ok(PostgresStore {
            pool: Arc::new(Pool::new(Arc::clone(&connector), READ_POOL)),
            connector,
            instance,
            runtime: Some(runtime),
            queue: Mutex::new(Some(queue)),
            writer_done: Mutex::new(Some(writer_done)),
            journal,
            changes,
        })
    }

    /// Runs `work` on the store's runtime and waits for it on this thread.
    fn block<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| unavailable("the store is closing"))?;
        wait_on(runtime, work)
    }

    /// The rows of `sql`.
    fn rows(&self, sql: &'static str, parameters: Vec<Parameter>) -> Result<Vec<Row>, StoreError> {
        self.block(select(Arc::clone(&self.pool), sql, parameters))
    }

    /// The first column of each row of `sql`, decoded from JSON.
    fn json_rows<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        parameters: Vec<Parameter>,
        what: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        self.rows(sql, parameters)?
            .iter()
            .map(|row| decode_json(&column::<String>(row, 0)?, what))
            .collect()
    }

    /// The first column of the row of `sql`, if any, decoded from JSON.
    fn json_row<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        parameters: Vec<Parameter>,
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.json_rows(sql, parameters, what)?.into_iter().next())
    }

    /// The rows of a table whose first column is the tenant, kept for `tenants`.
    fn tenant_json_rows<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        tenants: Option<&[String]>,
        what: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let mut decoded = Vec::new();
        for row in self.rows(sql, Vec::new())? {
            let tenant: String = column(&row, 0)?;
            if tenants.is_some_and(|tenants| !tenants.contains(&tenant)) {
                continue;
            }
            decoded.push(decode_json(&column::<String>(&row, 1)?, what)?);
        }
        Ok(decoded)
    }
}

/// Runs `work` on `runtime` and waits for it on this thread (any thread: a
/// plain channel, not the runtime's `block_on`, which refuses to run inside
/// another runtime).
fn wait_on<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = sender.send(work.await);
    });
    receiver
        .recv()
        .map_err(|_| unavailable("the store's task stopped"))?
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is queued and stop.
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(done) = self
            .writer_done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = done.recv_timeout(OPERATION_TIMEOUT);
        }
        // Without blocking: the store may be dropped on an async worker.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Store for PostgresStore {
    fn get_system(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.rows(
            "SELECT value FROM system WHERE name = $1",
            vec![Box::new(name.to_owned())],
        )?
        .first()
        .map(|row| column(row, 0))
        .transpose()
    }

    fn tenant_keys(&self) -> Result<Vec<TenantKeyRow>, StoreError> {
        self.rows(
            "SELECT tenant, version, wrapped FROM tenant_keys ORDER BY tenant, version",
            Vec::new(),
        )?
        .iter()
        .map(|row| {
            Ok(TenantKeyRow {
                tenant: column(row, 0)?,
                version: to_u32(column(row, 1)?, "tenant key version")?,
                wrapped: column(row, 2)?,
            })
        })
        .collect()
    }

    fn get_object(&self, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.json_row(
            "SELECT meta FROM objects WHERE id = $1",
            vec![Box::new(id.to_owned())],
            "object metadata",
        )
    }

    fn find_object_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        self.json_row(
            "SELECT meta FROM objects WHERE tenant = $1 AND name = $2 \
             AND state NOT IN ('destroyed', 'destroyed_compromised')",
            vec![Box::new(tenant.to_owned()), Box::new(name.to_owned())],
            "object metadata",
        )
    }

    fn get_object_current(
        &self,
        by: ObjectRef<'_>,
    ) -> Result<Option<(ObjectMeta, Option<VersionRow>)>, StoreError> {
        let rows = match by {
            ObjectRef::Id(id) => self.rows(
                "SELECT meta, current_version, current_kek, current_wrapped \
                 FROM objects WHERE id = $1",
                vec![Box::new(id.to_owned())],
            )?,
            ObjectRef::Name { tenant, name } => self.rows(
                "SELECT meta, current_version, current_kek, current_wrapped \
                 FROM objects WHERE tenant = $1 AND name = $2 \
                 AND state NOT IN ('destroyed', 'destroyed_compromised')",
                vec![Box::new(tenant.to_owned()), Box::new(name.to_owned())],
            )?,
        };
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        super::with_current_copy(
            decode_json(&column::<String>(row, 0)?, "object metadata")?,
            column(row, 1)?,
            column(row, 2)?,
            column(row, 3)?,
            |id, version| self.get_version(id, version),
        )
        .map(Some)
    }

    fn list_objects(&self, filter: &ListFilter) -> Result<(Vec<ObjectMeta>, u64), StoreError> {
        if filter.tenants.as_ref().is_some_and(Vec::is_empty) {
            return Ok((Vec::new(), 0));
        }
        // The filter's conditions and their parameters, built alike for the
        // page and for the count.
        let filtered = || {
            let mut conditions: Vec<String> = Vec::new();
            let mut parameters: Vec<Parameter> = Vec::new();
            if let Some(tenants) = &filter.tenants {
                parameters.push(Box::new(tenants.clone()));
                conditions.push(format!("tenant = ANY(${})", parameters.len()));
            }
            if let Some(name) = &filter.name {
                parameters.push(Box::new(name.clone()));
                conditions.push(format!("name = ${}", parameters.len()));
            }
            if let Some(state) = filter.state {
                parameters.push(Box::new(state.as_str().to_owned()));
                conditions.push(format!("state = ${}", parameters.len()));
            }
            if let Some(object_type) = filter.object_type {
                parameters.push(Box::new(object_type.as_str().to_owned()));
                conditions.push(format!("object_type = ${}", parameters.len()));
            }
            (conditions, parameters)
        };
        let (conditions, parameters) = filtered();
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let limit = filter.limit.clamp(1, MAX_LIST);
        let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
        // The total with the page, in one statement: one snapshot.
        let sql = format!(
            "SELECT meta, count(*) OVER () FROM objects {where_clause} \
             ORDER BY created LIMIT {limit} OFFSET {offset}"
        );
        let rows = self.block(select_text(
            Arc::clone(&self.pool),
            SqlText::Built(sql),
            parameters,
        ))?;
        let mut objects = Vec::with_capacity(rows.len());
        let mut total: i64 = 0;
        for row in &rows {
            objects.push(decode_json(&column::<String>(row, 0)?, "object metadata")?);
            total = column(row, 1)?;
        }
        if rows.is_empty() && filter.offset > 0 {
            // A page past the end still says how many there are.
            let count_sql = format!("SELECT count(*) FROM objects {where_clause}");
            let (_, parameters) = filtered();
            let counted = self.block(select_text(
                Arc::clone(&self.pool),
                SqlText::Built(count_sql),
                parameters,
            ))?;
            if let Some(row) = counted.first() {
                total = column(row, 0)?;
            }
        }
        Ok((objects, u64::try_from(total).unwrap_or(0)))
    }

    fn get_version(&self, object_id: &str, version: u32) -> Result<Option<VersionRow>, StoreError> {
        self.rows(
            "SELECT object_id, version, tenant, kek_version, wrapped FROM object_versions \
             WHERE object_id = $1 AND version = $2",
            vec![Box::new(object_id.to_owned()), Box::new(i64::from(version))],
        )?
        .first()
        .map(version_row)
        .transpose()
    }

    fn versions_below_kek(
        &self,
        tenant: &str,
        kek_version: u32,
        limit: u32,
    ) -> Result<Vec<VersionRow>, StoreError> {
        self.rows(
            "SELECT object_id, version, tenant, kek_version, wrapped FROM object_versions \
             WHERE tenant = $1 AND kek_version < $2 LIMIT $3",
            vec![
                Box::new(tenant.to_owned()),
                Box::new(i64::from(kek_version)),
                Box::new(i64::from(limit)),
            ],
        )?
        .iter()
        .map(version_row)
        .collect()
    }

    fn get_token_by_digest(&self, digest: &str) -> Result<Option<TokenRow>, StoreError> {
        self.json_row(
            "SELECT info FROM tokens WHERE digest = $1",
            vec![Box::new(digest.to_owned())],
            "token",
        )
    }

    fn get_token_by_id(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        self.json_row(
            "SELECT info FROM tokens WHERE id = $1",
            vec![Box::new(id.to_owned())],
            "token",
        )
    }

    fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.json_rows("SELECT info FROM tokens ORDER BY id", Vec::new(), "token")
    }

    fn get_volume(&self, tenant: &str, name: &str) -> Result<Option<VolumeRow>, StoreError> {
        self.json_row(
            "SELECT info FROM volumes WHERE tenant = $1 AND name = $2",
            vec![Box::new(tenant.to_owned()), Box::new(name.to_owned())],
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
            "SELECT info FROM join_tokens WHERE digest = $1",
            vec![Box::new(digest.to_owned())],
            "join token",
        )
    }

    fn get_join_token_by_id(&self, id: &str) -> Result<Option<JoinTokenRow>, StoreError> {
        self.json_row(
            "SELECT info FROM join_tokens WHERE id = $1",
            vec![Box::new(id.to_owned())],
            "join token",
        )
    }

    fn list_join_tokens(&self) -> Result<Vec<JoinTokenRow>, StoreError> {
        self.json_rows(
            "SELECT info FROM join_tokens ORDER BY id",
            Vec::new(),
            "join token",
        )
    }

    fn get_node(&self, id: &str) -> Result<Option<NodeRow>, StoreError> {
        self.json_row(
            "SELECT info FROM nodes WHERE id = $1",
            vec![Box::new(id.to_owned())],
            "node",
        )
    }

    fn list_nodes(&self) -> Result<Vec<NodeRow>, StoreError> {
        self.json_rows("SELECT info FROM nodes ORDER BY id", Vec::new(), "node")
    }

    fn get_policy(&self, tenant: &str, name: &str) -> Result<Option<policy::Policy>, StoreError> {
        self.json_row(
            "SELECT body FROM policies WHERE tenant = $1 AND name = $2",
            vec![Box::new(tenant.to_owned()), Box::new(name.to_owned())],
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
        let rows = self.rows("SELECT seq, hash FROM audit_head WHERE id = 1", Vec::new())?;
        let Some(row) = rows.first() else {
            return Err(corrupt("audit head", "the head row is missing"));
        };
        let seq: i64 = column(row, 0)?;
        let hash: Option<Vec<u8>> = column(row, 1)?;
        match (seq, hash) {
            (0, _) => Ok(None),
            (seq, Some(hash)) => Ok(Some((
                u64::try_from(seq).map_err(|_| corrupt("audit head", "negative sequence"))?,
                <[u8; 32]>::try_from(hash.as_slice())
                    .map_err(|_| corrupt("audit head", "the hash is not 32 bytes"))?,
            ))),
            (_, None) => Err(corrupt("audit head", "no hash for a record")),
        }
    }

    fn audit_records(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<audit::StoredRecord>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.rows(
            "SELECT seq, record FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
            vec![Box::new(after), Box::new(i64::from(limit))],
        )?
        .iter()
        .map(|row| {
            let seq: i64 = column(row, 0)?;
            let text: String = column(row, 1)?;
            // An edited row that no longer decodes is a finding for the
            // verifier, not a storage error.
            Ok(match serde_json::from_str::<audit::AuditRecord>(&text) {
                Ok(record) => audit::StoredRecord::Decoded(Box::new(record)),
                Err(_) => audit::StoredRecord::Undecodable {
                    seq: u64::try_from(seq).unwrap_or(0),
                },
            })
        })
        .collect()
    }

    fn audit_checkpoints(&self) -> Result<Vec<audit::Checkpoint>, StoreError> {
        self.json_rows(
            "SELECT checkpoint FROM audit_checkpoints ORDER BY seq",
            Vec::new(),
            "audit checkpoint",
        )
    }

    fn journal(&self) -> &Arc<Mutex<Journal>> {
        &self.journal
    }

    fn changes(&self) -> &Arc<Changes> {
        &self.changes
    }

    fn now(&self) -> Result<time::OffsetDateTime, StoreError> {
        let rows = self.rows(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
            Vec::new(),
        )?;
        let micros: i64 = rows
            .first()
            .map(|row| column(row, 0))
            .transpose()?
            .ok_or_else(|| corrupt("database clock", "no answer"))?;
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map_err(|error| corrupt("database clock", error))
    }

    fn reads_wait(&self) -> bool {
        true
    }

    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn snapshot(
        &self,
        sink: &mut dyn FnMut(crate::backup::Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| unavailable("the store is closing"))?;
        let (sender, mut rows) = tokio::sync::mpsc::channel(1024);
        runtime.spawn(backup::snapshot(Arc::clone(&self.connector), sender));
        while let Some(row) = rows.blocking_recv() {
            sink(row?)?;
        }
        Ok(())
    }

    fn restore(
        &self,
        items: &mut dyn Iterator<Item = Result<crate::backup::Item, StoreError>>,
    ) -> Result<(), StoreError> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| unavailable("the store is closing"))?;
        let (sender, receiver) = tokio::sync::mpsc::channel(1024);
        let (done, outcome) = std::sync::mpsc::sync_channel(1);
        let (connector, instance) = (Arc::clone(&self.connector), self.instance.clone());
        runtime.spawn(async move {
            let _ = done.send(backup::restore(connector, receiver, instance).await);
        });
        for item in items {
            let failed = item.is_err();
            // Refused early (a store that is not empty): its answer says why.
            if sender.blocking_send(item).is_err() || failed {
                break;
            }
        }
        drop(sender);
        let head = outcome
            .recv()
            .map_err(|_| unavailable("the restore's task stopped"))??;
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reset_head(head);
        Ok(())
    }

    fn submit(
        &self,
        writes: Vec<Write>,
        event: audit::AuditEvent,
    ) -> Result<PendingCommit, StoreError> {
        let (reply, pending) = super::pending::channel();
        let queue = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(StoreError::WriterStopped)?;
        queue
            .send(Pending {
                writes,
                event,
                reply,
            })
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(pending)
    }
}
