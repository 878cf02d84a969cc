//! The PostgreSQL backend's writer: one task per server, with a connection of
//! its own, that gathers the commits waiting at a moment into one
//! transaction (group commit), as the SQLite writer does.
//!
//! Each transaction first locks the audit chain's head row (`SELECT ... FOR
//! UPDATE`): while it holds the lock no other server can append, so the
//! writes of every server happen in one order, the chain's. Under the lock
//! it applies each commit's writes (a commit that is refused rolls back to
//! its savepoint alone, its record still written with the refusal), appends
//! one audit record per commit chained from the head it locked, moves the
//! head, tells the other servers what they must reload (`NOTIFY`), and
//! commits: changes and records in one durable transaction. A server whose
//! connection drops mid-transaction holds no lock any more, and its
//! transaction never commits; the next group reads the head afresh.
//!
//! The commits that are one statement whose outcome its row count tells (a
//! key created, a volume's lease) are sent together without waiting for each
//! answer (the driver pipelines them); the others run one at a time, each in
//! a savepoint.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc::UnboundedReceiver;
use tokio_postgres::types::ToSql;

use super::pool::{Connection, Connector, OPERATION_TIMEOUT};
use super::{classify, unavailable};
use crate::journal::Journal;
use crate::model::{NodeRow, VolumeRow};
use crate::object::ObjectMeta;
use crate::store::{
    Change, Changes, CommitReply, StoreError, VersionRow, Write, changes_of, refused_result,
};

/// Most commits gathered into one transaction.
const MAX_GROUP: usize = 512;

/// The channel other servers listen on for what to reload.
pub(super) const CHANNEL: &str = "cryptainer_changes";

/// One commit waiting for the writer.
pub(super) struct Pending {
    pub(super) writes: Vec<Write>,
    pub(super) event: audit::AuditEvent,
    pub(super) reply: CommitReply,
}

/// What the writer shares with the store.
pub(super) struct WriterContext {
    pub(super) connector: Arc<Connector>,
    pub(super) journal: Arc<Mutex<Journal>>,
    pub(super) changes: Arc<Changes>,
    /// This store's id in notifications, so it skips its own.
    pub(super) instance: String,
}

/// Answers commits group by group until the queue closes (the store was
/// dropped), then returns.
pub(super) async fn writer_loop(mut queue: UnboundedReceiver<Pending>, context: WriterContext) {
    let mut connection: Option<Connection> = None;
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        if connection
            .as_ref()
            .is_none_or(|connection| connection.client.is_closed())
        {
            connection = match context.connector.connect().await {
                Ok(connection) => Some(connection),
                Err(error) => {
                    fail_group(group, error);
                    continue;
                }
            };
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        let committing = AtomicBool::new(false);
        let ran = tokio::time::timeout(
            OPERATION_TIMEOUT,
            run_group(open, &group, &context, &committing),
        )
        .await
        .unwrap_or_else(|_| {
            Err(if committing.load(Ordering::SeqCst) {
                StoreError::OutcomeUnknown {
                    source: "the database did not answer the commit in time".into(),
                }
            } else {
                unavailable("the database did not answer in time")
            })
        });
        match ran {
            Ok(committed) => {
                context
                    .journal
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .commit(committed.checkpoint.as_ref());
                if committed.tenant_keys_changed {
                    context.changes.bump(&[Change::TenantKeys]);
                }
                for (pending, outcome) in group.into_iter().zip(committed.outcomes) {
                    pending.reply.send(outcome);
                }
            }
            Err(error) => {
                context
                    .journal
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .rollback();
                // Its state is unknown (an aborted transaction, a lost
                // link): closing it rolls back whatever it held.
                connection = None;
                tracing::error!(%error, commits = group.len(), "database commit failed");
                fail_group(group, error);
            }
        }
    }
}

/// Answers every commit of `group` with `error`.
fn fail_group(group: Vec<Pending>, error: StoreError) {
    let shared = Arc::new(error);
    for pending in group {
        pending.reply.send(Err(StoreError::GroupCommit {
            source: Arc::clone(&shared),
        }));
    }
}

/// What a group's transaction produced.
struct Committed {
    outcomes: Vec<Result<audit::AuditRecord, StoreError>>,
    checkpoint: Option<audit::Checkpoint>,
    /// A commit found a tenant key newer than the one its material was
    /// wrapped under: this server's copy is behind.
    tenant_keys_changed: bool,
}

const BEGIN_AND_LOCK_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
const APPEND_RECORDS: &str =
    "INSERT INTO audit (seq, record) SELECT * FROM unnest($1::bigint[], $2::text[])";
const PUT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints (seq, checkpoint) VALUES ($1, $2) \
     ON CONFLICT (seq) DO UPDATE SET checkpoint = EXCLUDED.checkpoint";
const MOVE_HEAD: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";
const NOTIFY: &str = "SELECT pg_notify($1, $2)";

/// One transaction: lock the head, apply, append the records, move the
/// head, notify, commit.
async fn run_group(
    connection: &mut Connection,
    group: &[Pending],
    context: &WriterContext,
    committing: &AtomicBool,
) -> Result<Committed, StoreError> {
    let lock = connection.statement(BEGIN_AND_LOCK_HEAD).await?;
    let (begun, head) = futures_util::future::join(
        connection.client.batch_execute("BEGIN"),
        connection.client.query_one(&lock, &[]),
    )
    .await;
    begun.map_err(classify)?;
    let head = head.map_err(classify)?;
    let seq: i64 = head.try_get(0).map_err(classify)?;
    let hash: Option<Vec<u8>> = head.try_get(1).map_err(classify)?;
    let head = match (u64::try_from(seq), hash) {
        (Ok(0), _) => None,
        (Ok(seq), Some(hash)) => Some((
            seq,
            <[u8; 32]>::try_from(hash.as_slice())
                .map_err(|_| super::corrupt("audit head", "the hash is not 32 bytes"))?,
        )),
        _ => return Err(super::corrupt("audit head", "no hash for a record")),
    };

    let applied = apply_group(connection, group).await?;
    let tenant_keys_changed = applied
        .iter()
        .any(|outcome| matches!(outcome, Err(StoreError::TenantKeyChanged { .. })));
    let mut changes = Vec::new();
    for (pending, outcome) in group.iter().zip(&applied) {
        if outcome.is_ok() {
            for change in changes_of(&pending.writes) {
                if !changes.contains(&change) {
                    changes.push(change);
                }
            }
        }
    }

    let (records, checkpoint) = {
        let mut journal = context
            .journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        journal.continue_from(head);
        let mut records = Vec::with_capacity(group.len());
        for (pending, outcome) in group.iter().zip(&applied) {
            let mut event = pending.event.clone();
            if let Err(error) = outcome {
                event.result = refused_result(error).to_owned();
            }
            records.push(
                journal
                    .next(&event)
                    .map_err(|error| super::corrupt("audit chain", error))?,
            );
        }
        (records, journal.checkpoint_due())
    };
    let mut seqs = Vec::with_capacity(records.len());
    let mut texts = Vec::with_capacity(records.len());
    for record in &records {
        seqs.push(to_i64(record.seq)?);
        texts.push(
            serde_json::to_string(record).map_err(|error| super::corrupt("audit record", error))?,
        );
    }
    let last = records
        .last()
        .ok_or_else(|| super::corrupt("audit group", "a group without commits"))?;
    let append = connection.statement(APPEND_RECORDS).await?;
    let move_head = connection.statement(MOVE_HEAD).await?;
    let last_seq = to_i64(last.seq)?;
    let last_hash = last.hash.to_vec();
    let checkpoint_row = match &checkpoint {
        Some(checkpoint) => Some((
            to_i64(checkpoint.seq)?,
            serde_json::to_string(checkpoint)
                .map_err(|error| super::corrupt("audit checkpoint", error))?,
        )),
        None => None,
    };
    let put_checkpoint = match checkpoint_row {
        Some(_) => Some(connection.statement(PUT_CHECKPOINT).await?),
        None => None,
    };
    let notify = match changes.is_empty() {
        true => None,
        false => Some(connection.statement(NOTIFY).await?),
    };
    let payload = format!(
        "{} {}",
        context.instance,
        changes
            .iter()
            .map(|change| change.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let client = &connection.client;
    let channel = CHANNEL;
    // From here the commit may reach the database: a lost connection no
    // longer means that nothing happened.
    committing.store(true, Ordering::SeqCst);
    // Sent back to back; the answers are read in order.
    let (appended, moved, checkpointed, notified, committed) = futures_util::future::join5(
        client.execute(&append, &[&seqs, &texts]),
        client.execute(&move_head, &[&last_seq, &last_hash]),
        async {
            match (&put_checkpoint, &checkpoint_row) {
                (Some(statement), Some((seq, text))) => {
                    client.execute(statement, &[seq, text]).await.map(drop)
                }
                _ => Ok(()),
            }
        },
        async {
            match &notify {
                Some(statement) => client
                    .execute(statement, &[&channel, &payload])
                    .await
                    .map(drop),
                None => Ok(()),
            }
        },
        client.batch_execute("COMMIT"),
    )
    .await;
    // A statement the database refused turns the commit into a rollback:
    // nothing happened. A lost connection leaves the outcome unknown.
    for outcome in [appended.map(drop), moved.map(drop), checkpointed, notified] {
        outcome.map_err(classify).map_err(unknown_if_lost)?;
    }
    committed.map_err(classify).map_err(unknown_if_lost)?;
    let outcomes = applied
        .into_iter()
        .zip(records)
        .map(|(outcome, record)| outcome.map(|()| record))
        .collect();
    Ok(Committed {
        outcomes,
        checkpoint,
        tenant_keys_changed,
    })
}

/// A failure while the commit was on its way: unknown outcome if the
/// connection was lost, as it is otherwise.
fn unknown_if_lost(error: StoreError) -> StoreError {
    match error {
        StoreError::Unavailable { source } => StoreError::OutcomeUnknown { source },
        other => other,
    }
}

fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| super::corrupt("audit record", "sequence number overflow"))
}

fn to_i64_32(value: u32) -> i64 {
    i64::from(value)
}

/// A commit that is one statement whose row count tells its outcome, sent
/// without waiting for the answers of the ones before it.
// Most shots are creates: boxing their object would cost an allocation on
// the path a create takes, to shrink the rarer lease.
#[allow(clippy::large_enum_variant)]
enum Shot {
    /// A key created: the object and its first version (see [`CREATE`]).
    Create {
        meta: ObjectMeta,
        version: VersionRow,
    },
    /// A volume stored, if its revision is the one read.
    PutVolume {
        row: Box<VolumeRow>,
        expected: Option<u64>,
    },
}

/// Inserts the object and its first version if no live object of the tenant
/// has its name and its tenant key is still the newest, in one statement:
/// the version is inserted from what the object insert returned, so it is
/// never stored without its object.
const CREATE: &str = "WITH inserted AS (
    INSERT INTO objects (id, tenant, name, state, object_type, meta, current_version, \
     current_kek, current_wrapped)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
    WHERE $8 = (SELECT max(version) FROM tenant_keys WHERE tenant = $2)
    ON CONFLICT DO NOTHING
    RETURNING id)
 INSERT INTO object_versions (object_id, version, tenant, kek_version, wrapped)
 SELECT id, $7, $2, $8, $9 FROM inserted";
const NEWEST_TENANT_KEY: &str = "SELECT max(version) FROM tenant_keys WHERE tenant = $1";
const INSERT_VOLUME: &str = "INSERT INTO volumes (tenant, name, revision, info) \
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
const UPDATE_VOLUME: &str = "UPDATE volumes SET revision = $3, info = $4 \
     WHERE tenant = $1 AND name = $2 AND revision = $5";

/// The shot a commit's writes make, if they are one.
fn shot_of(writes: &[Write]) -> Option<Shot> {
    match writes {
        [Write::InsertObject(meta), Write::PutVersion(version)]
            if version.object_id == meta.id
                && version.version == meta.version
                && version.tenant == meta.tenant =>
        {
            Some(Shot::Create {
                meta: meta.clone(),
                version: version.clone(),
            })
        }
        [
            Write::PutVolume {
                row,
                expected_revision,
            },
        ] => Some(Shot::PutVolume {
            row: Box::new(row.clone()),
            expected: *expected_revision,
        }),
        _ => None,
    }
}

/// A statement with owned parameters.
struct Prepared {
    statement: tokio_postgres::Statement,
    parameters: Vec<Box<dyn ToSql + Send + Sync>>,
}

/// Applies each commit of the group in order; a commit refused is its
/// outcome, a failure of the transaction itself is the error.
async fn apply_group(
    connection: &mut Connection,
    group: &[Pending],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut outcomes: Vec<Result<(), StoreError>> = Vec::with_capacity(group.len());
    let mut index = 0;
    while let Some(pending) = group.get(index) {
        if pending.writes.is_empty() {
            outcomes.push(Ok(()));
            index += 1;
            continue;
        }
        // The run of shots from here, sent together.
        let mut shots = Vec::new();
        while let Some(shot) = group
            .get(index + shots.len())
            .and_then(|next| shot_of(&next.writes))
        {
            shots.push(shot);
        }
        if shots.is_empty() {
            outcomes.push(apply_in_savepoint(connection, &pending.writes).await?);
            index += 1;
            continue;
        }
        index += shots.len();
        let mut prepared = Vec::with_capacity(shots.len());
        for shot in &shots {
            prepared.push(prepare_shot(connection, shot).await?);
        }
        let parameters: Vec<Vec<&(dyn ToSql + Sync)>> = prepared
            .iter()
            .map(|prepared| {
                prepared
                    .parameters
                    .iter()
                    .map(|parameter| parameter.as_ref() as &(dyn ToSql + Sync))
                    .collect()
            })
            .collect();
        let client = &connection.client;
        let counts = futures_util::future::join_all(
            prepared
                .iter()
                .zip(&parameters)
                .map(|(prepared, parameters)| client.execute(&prepared.statement, parameters)),
        )
        .await;
        for (shot, count) in shots.iter().zip(counts) {
            let count = count.map_err(classify)?;
            outcomes.push(match (shot, count) {
                (_, 1) => Ok(()),
                (Shot::Create { meta, version }, _) => {
                    Err(why_not_created(connection, meta, version).await?)
                }
                (Shot::PutVolume { row, .. }, _) => Err(stale_volume(&row.tenant, &row.name)),
            });
        }
    }
    Ok(outcomes)
}

/// The statement and parameters of a shot.
async fn prepare_shot(connection: &mut Connection, shot: &Shot) -> Result<Prepared, StoreError> {
    Ok(match shot {
        Shot::Create { meta, version } => Prepared {
            statement: connection.statement(CREATE).await?,
            parameters: vec![
                Box::new(meta.id.clone()),
                Box::new(meta.tenant.clone()),
                Box::new(meta.name.clone()),
                Box::new(meta.state.as_str().to_owned()),
                Box::new(meta.object_type.as_str().to_owned()),
                Box::new(encode_meta(meta)?),
                Box::new(to_i64_32(version.version)),
                Box::new(to_i64_32(version.kek_version)),
                Box::new(version.wrapped.clone()),
            ],
        },
        Shot::PutVolume { row, expected } => {
            let info = serde_json::to_string(row.as_ref())
                .map_err(|error| super::corrupt("volume", error))?;
            let revision = to_i64(row.revision)?;
            match expected {
                None => Prepared {
                    statement: connection.statement(INSERT_VOLUME).await?,
                    parameters: vec![
                        Box::new(row.tenant.clone()),
                        Box::new(row.name.clone()),
                        Box::new(revision),
                        Box::new(info),
                    ],
                },
                Some(expected) => Prepared {
                    statement: connection.statement(UPDATE_VOLUME).await?,
                    parameters: vec![
                        Box::new(row.tenant.clone()),
                        Box::new(row.name.clone()),
                        Box::new(revision),
                        Box::new(info),
                        Box::new(to_i64(*expected)?),
                    ],
                },
            }
        }
    })
}

/// Why a create stored nothing: its tenant key is no longer the newest, or
/// the name is taken.
async fn why_not_created(
    connection: &mut Connection,
    meta: &ObjectMeta,
    version: &VersionRow,
) -> Result<StoreError, StoreError> {
    if !newest_tenant_key_is(connection, &meta.tenant, version.kek_version).await? {
        return Ok(StoreError::TenantKeyChanged {
            tenant: meta.tenant.clone(),
        });
    }
    Ok(StoreError::NameTaken {
        tenant: meta.tenant.clone(),
        name: meta.name.clone().unwrap_or_default(),
    })
}

async fn newest_tenant_key_is(
    connection: &mut Connection,
    tenant: &str,
    kek_version: u32,
) -> Result<bool, StoreError> {
    let statement = connection.statement(NEWEST_TENANT_KEY).await?;
    let newest: Option<i64> = connection
        .client
        .query_one(&statement, &[&tenant])
        .await
        .map_err(classify)?
        .try_get(0)
        .map_err(classify)?;
    Ok(newest == Some(i64::from(kek_version)))
}

fn encode_meta(meta: &ObjectMeta) -> Result<String, StoreError> {
    serde_json::to_string(meta).map_err(|error| super::corrupt("object metadata", error))
}

fn stale_volume(tenant: &str, name: &str) -> StoreError {
    StoreError::Stale {
        what: format!("volume '{name}' of tenant '{tenant}'"),
    }
}

/// Applies one commit's writes in a savepoint: a refused write rolls the
/// commit back alone. A failure of the connection ends the group.
async fn apply_in_savepoint(
    connection: &mut Connection,
    writes: &[Write],
) -> Result<Result<(), StoreError>, StoreError> {
    connection
        .client
        .batch_execute("SAVEPOINT pending")
        .await
        .map_err(classify)?;
    let mut outcome = Ok(());
    for write in writes {
        if let Err(error) = apply_write(connection, write).await {
            if error.is_unavailable() {
                return Err(error);
            }
            outcome = Err(error);
            break;
        }
    }
    if outcome.is_err() {
        connection
            .client
            .batch_execute("ROLLBACK TO SAVEPOINT pending")
            .await
            .map_err(classify)?;
    }
    connection
        .client
        .batch_execute("RELEASE SAVEPOINT pending")
        .await
        .map_err(classify)?;
    Ok(outcome)
}

/// Runs `sql` with `parameters` and returns the rows it changed.
async fn execute(
    connection: &mut Connection,
    sql: &'static str,
    parameters: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let statement = connection.statement(sql).await?;
    connection
        .client
        .execute(&statement, parameters)
        .await
        .map_err(classify)
}

/// The rows `sql` selects.
async fn query(
    connection: &mut Connection,
    sql: &'static str,
    parameters: &[&(dyn ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, StoreError> {
    let statement = connection.statement(sql).await?;
    connection
        .client
        .query(&statement, parameters)
        .await
        .map_err(classify)
}

/// The first column of the row `sql` selects, if any.
async fn optional_value<T: for<'a> tokio_postgres::types::FromSql<'a>>(
    connection: &mut Connection,
    sql: &'static str,
    parameters: &[&(dyn ToSql + Sync)],
) -> Result<Option<T>, StoreError> {
    match query(connection, sql, parameters).await?.first() {
        Some(row) => Ok(Some(row.try_get(0).map_err(classify)?)),
        None => Ok(None),
    }
}

/// The JSON row `sql` selects by `id`, decoded, if any.
async fn stored_json<T: serde::de::DeserializeOwned>(
    connection: &mut Connection,
    sql: &'static str,
    id: &str,
    what: &'static str,
) -> Result<Option<T>, StoreError> {
    let text: Option<String> = optional_value(connection, sql, &[&id]).await?;
    text.map(|text| serde_json::from_str(&text).map_err(|error| super::corrupt(what, error)))
        .transpose()
}

/// Copies `row` into its object's row when it is the object's current version.
async fn copy_if_current(connection: &mut Connection, row: &VersionRow) -> Result<(), StoreError> {
    execute(
        connection,
        "UPDATE objects SET current_kek = $3, current_wrapped = $4 \
         WHERE id = $1 AND current_version = $2",
        &[
            &row.object_id,
            &to_i64_32(row.version),
            &to_i64_32(row.kek_version),
            &row.wrapped,
        ],
    )
    .await?;
    Ok(())
}

/// Copies the current version's row into the object's row.
const MIRROR_CURRENT: &str = "UPDATE objects SET (current_kek, current_wrapped) = \
     (SELECT kek_version, wrapped FROM object_versions \
      WHERE object_id = objects.id AND version = objects.current_version) \
     WHERE id = $1";

/// Applies one write inside the open transaction.
async fn apply_write(connection: &mut Connection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::PutSystem { name, value } => {
            execute(
                connection,
                "INSERT INTO system (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[name, value],
            )
            .await?;
        }
        Write::ExpectSystem { name, value } => {
            let stored: Option<Vec<u8>> = optional_value(
                connection,
                "SELECT value FROM system WHERE name = $1",
                &[name],
            )
            .await?;
            if stored != *value {
                return Err(StoreError::Stale {
                    what: format!("the system value {name}"),
                });
            }
        }
        Write::ExpectObject(expected) => {
            let stored: Option<ObjectMeta> = stored_json(
                connection,
                "SELECT meta FROM objects WHERE id = $1",
                &expected.id,
                "object metadata",
            )
            .await?;
            if stored.as_ref() != Some(expected.as_ref()) {
                return Err(StoreError::Stale {
                    what: format!("object {}", expected.id),
                });
            }
        }
        Write::ExpectTenantKeyCount(expected) => {
            let count: Option<i64> =
                optional_value(connection, "SELECT count(*) FROM tenant_keys", &[]).await?;
            if count.and_then(|count| u64::try_from(count).ok()) != Some(*expected) {
                return Err(StoreError::Stale {
                    what: "the set of tenant keys".to_owned(),
                });
            }
        }
        Write::InsertObject(meta) => {
            let inserted = execute(
                connection,
                "INSERT INTO objects (id, tenant, name, state, object_type, meta, current_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &meta.id,
                    &meta.tenant,
                    &meta.name,
                    &meta.state.as_str(),
                    &meta.object_type.as_str(),
                    &encode_meta(meta)?,
                    &to_i64_32(meta.version),
                ],
            )
            .await?;
            if inserted != 1 {
                return Err(StoreError::NameTaken {
                    tenant: meta.tenant.clone(),
                    name: meta.name.clone().unwrap_or_default(),
                });
            }
        }
        Write::UpdateObject(meta) => {
            let updated = execute(
                connection,
                "UPDATE objects SET name = $2, state = $3, meta = $4, current_version = $5 \
                 WHERE id = $1",
                &[
                    &meta.id,
                    &meta.name,
                    &meta.state.as_str(),
                    &encode_meta(meta)?,
                    &to_i64_32(meta.version),
                ],
            )
            .await;
            match updated {
                Err(error) if is_unique_violation(&error) => {
                    return Err(StoreError::NameTaken {
                        tenant: meta.tenant.clone(),
                        name: meta.name.clone().unwrap_or_default(),
                    });
                }
                other => other?,
            };
            execute(connection, MIRROR_CURRENT, &[&meta.id]).await?;
        }
        Write::PutVersion(row) => {
            if !newest_tenant_key_is(connection, &row.tenant, row.kek_version).await? {
                return Err(StoreError::TenantKeyChanged {
                    tenant: row.tenant.clone(),
                });
            }
            let version = to_i64_32(row.version);
            let kek = to_i64_32(row.kek_version);
            execute(
                connection,
                "INSERT INTO object_versions (object_id, version, tenant, kek_version, wrapped) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (object_id, version) DO UPDATE \
                 SET tenant = EXCLUDED.tenant, kek_version = EXCLUDED.kek_version, \
                 wrapped = EXCLUDED.wrapped",
                &[&row.object_id, &version, &row.tenant, &kek, &row.wrapped],
            )
            .await?;
            copy_if_current(connection, row).await?;
        }
        Write::RewrapVersion { row, from_kek } => {
            let version = to_i64_32(row.version);
            let kek = to_i64_32(row.kek_version);
            let changed = execute(
                connection,
                "UPDATE object_versions SET kek_version = $3, wrapped = $4 \
                 WHERE object_id = $1 AND version = $2 AND kek_version = $5",
                &[
                    &row.object_id,
                    &version,
                    &kek,
                    &row.wrapped,
                    &to_i64_32(*from_kek),
                ],
            )
            .await?;
            if changed == 1 {
                copy_if_current(connection, row).await?;
            }
        }
        Write::EraseVersions { object_id } => {
            execute(
                connection,
                "DELETE FROM object_versions WHERE object_id = $1",
                &[object_id],
            )
            .await?;
            execute(connection, MIRROR_CURRENT, &[object_id]).await?;
        }
        Write::InsertTenantKey(row) => {
            let inserted = execute(
                connection,
                "INSERT INTO tenant_keys (tenant, version, wrapped) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[&row.tenant, &to_i64_32(row.version), &row.wrapped],
            )
            .await?;
            if inserted != 1 {
                return Err(StoreError::Stale {
                    what: format!("key version {} of tenant '{}'", row.version, row.tenant),
                });
            }
        }
        Write::RewrapTenantKey(row) => {
            execute(
                connection,
                "UPDATE tenant_keys SET wrapped = $3 WHERE tenant = $1 AND version = $2",
                &[&row.tenant, &to_i64_32(row.version), &row.wrapped],
            )
            .await?;
        }
        Write::PutToken(row) => {
            let info =
                serde_json::to_string(row).map_err(|error| super::corrupt("token", error))?;
            execute(
                connection,
                "INSERT INTO tokens (digest, id, info) VALUES ($1, $2, $3) \
                 ON CONFLICT (digest) DO UPDATE SET id = EXCLUDED.id, info = EXCLUDED.info",
                &[&row.digest, &row.id, &info],
            )
            .await?;
        }
        Write::PutVolume {
            row,
            expected_revision,
        } => {
            let shot = Shot::PutVolume {
                row: Box::new(row.clone()),
                expected: *expected_revision,
            };
            let prepared = prepare_shot(connection, &shot).await?;
            let parameters: Vec<&(dyn ToSql + Sync)> = prepared
                .parameters
                .iter()
                .map(|parameter| parameter.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let changed = connection
                .client
                .execute(&prepared.statement, &parameters)
                .await
                .map_err(classify)?;
            if changed != 1 {
                return Err(stale_volume(&row.tenant, &row.name));
            }
        }
        Write::DeleteVolume {
            tenant,
            name,
            expected_revision,
        } => {
            let deleted = execute(
                connection,
                "DELETE FROM volumes WHERE tenant = $1 AND name = $2 AND revision = $3",
                &[tenant, name, &to_i64(*expected_revision)?],
            )
            .await?;
            if deleted != 1 {
                return Err(stale_volume(tenant, name));
            }
        }
        Write::PutJoinToken { row, expected_uses } => {
            let info =
                serde_json::to_string(row).map_err(|error| super::corrupt("join token", error))?;
            let changed = match expected_uses {
                None => {
                    execute(
                        connection,
                        "INSERT INTO join_tokens (digest, id, info) VALUES ($1, $2, $3) \
                         ON CONFLICT DO NOTHING",
                        &[&row.digest, &row.id, &info],
                    )
                    .await?
                }
                Some(uses) => {
                    execute(
                        connection,
                        "UPDATE join_tokens SET info = $2 \
                         WHERE id = $1 AND (info::jsonb ->> 'uses')::bigint = $3",
                        &[&row.id, &info, &to_i64_32(*uses)],
                    )
                    .await?
                }
            };
            if changed != 1 {
                return Err(StoreError::Stale {
                    what: format!("join token {}", row.id),
                });
            }
        }
        Write::PutNode { row, expected } => {
            let info = serde_json::to_string(row).map_err(|error| super::corrupt("node", error))?;
            let stored = match expected {
                None => {
                    execute(
                        connection,
                        "INSERT INTO nodes (id, info) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        &[&row.id, &info],
                    )
                    .await?
                        == 1
                }
                Some(expected) => {
                    let current: Option<NodeRow> = stored_json(
                        connection,
                        "SELECT info FROM nodes WHERE id = $1",
                        &row.id,
                        "node",
                    )
                    .await?;
                    current.as_ref() == Some(expected.as_ref())
                        && execute(
                            connection,
                            "UPDATE nodes SET info = $2 WHERE id = $1",
                            &[&row.id, &info],
                        )
                        .await?
                            == 1
                }
            };
            if !stored {
                return Err(StoreError::Stale {
                    what: format!("node {}", row.id),
                });
            }
        }
        Write::PutPolicy { policy, replace } => {
            let body =
                serde_json::to_string(policy).map_err(|error| super::corrupt("policy", error))?;
            let changed = if *replace {
                execute(
                    connection,
                    "INSERT INTO policies (tenant, name, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant, name) DO UPDATE SET body = EXCLUDED.body",
                    &[&policy.tenant, &policy.name, &body],
                )
                .await?
            } else {
                execute(
                    connection,
                    "INSERT INTO policies (tenant, name, body) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    &[&policy.tenant, &policy.name, &body],
                )
                .await?
            };
            if changed != 1 {
                return Err(StoreError::NameTaken {
                    tenant: policy.tenant.clone(),
                    name: policy.name.clone(),
                });
            }
        }
        Write::DeletePolicy { tenant, name } => {
            execute(
                connection,
                "DELETE FROM policies WHERE tenant = $1 AND name = $2",
                &[tenant, name],
            )
            .await?;
        }
    }
    Ok(())
}

/// Whether a statement failed on a unique index (a name taken).
fn is_unique_violation(error: &StoreError) -> bool {
    match error {
        StoreError::Database { source, .. } => source
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(tokio_postgres::Error::code)
            .is_some_and(|code| *code == tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
        _ => false,
    }
}
