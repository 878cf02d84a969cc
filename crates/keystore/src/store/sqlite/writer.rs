//! The SQLite backend's writer thread: it gathers the commits waiting at a
//! moment into one group, applies each commit's writes in a savepoint of the
//! key store's transaction, appends one audit record per commit to the log's
//! transaction, commits the log first and the key store second, and answers
//! every caller of the group.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::rows::{corrupt, decode_meta, to_i64};
use super::schema::AUDIT_APPLIED;
use crate::journal::Journal;
use crate::model::{NodeRow, VolumeRow};
use crate::store::{CommitReply, StoreError, VersionRow, Write};

/// Most commits gathered into one transaction. Bounds the latency of the first
/// commit in a group and the size of one transaction.
const MAX_GROUP: usize = 256;

/// One commit waiting for the writer.
pub(super) struct Pending {
    pub(super) writes: Vec<Write>,
    pub(super) event: audit::AuditEvent,
    pub(super) reply: CommitReply,
}

/// What the writer thread is asked to do.
// Nearly every job is a commit: boxing it would cost an allocation per
// commit to shrink the rare snapshot request.
#[allow(clippy::large_enum_variant)]
pub(super) enum Job {
    /// A commit.
    Commit(Pending),
    /// A read transaction on each database, opened between two groups (so
    /// that the log and the key store agree: no group is half committed),
    /// for a backup to read while the writer goes on.
    Snapshot(SyncSender<Result<(Connection, Connection), StoreError>>),
}

/// The writer thread's two connections, and the files, for snapshots.
pub(super) struct Writer {
    pub(super) keys: Connection,
    pub(super) log: Connection,
    pub(super) keys_path: PathBuf,
    pub(super) log_path: PathBuf,
}

impl Writer {
    /// A read connection to each database, each in a read transaction that
    /// sees what is committed now and nothing later.
    fn snapshot(&self) -> Result<(Connection, Connection), StoreError> {
        let open = |path: &PathBuf, probe: &str| -> Result<Connection, StoreError> {
            let connection = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            connection.busy_timeout(std::time::Duration::from_secs(10))?;
            connection.execute_batch("BEGIN")?;
            // A read transaction takes its snapshot at its first read.
            connection.query_row(probe, [], |row| row.get::<_, i64>(0))?;
            Ok(connection)
        };
        Ok((
            open(&self.keys_path, "SELECT count(*) FROM system")?,
            open(&self.log_path, "SELECT count(*) FROM audit")?,
        ))
    }
}

/// Runs the writer: answers commits group by group until every sender of
/// `queue` is gone (the store was dropped), then returns.
pub(super) fn writer_loop(mut writer: Writer, queue: Receiver<Job>, journal: Arc<Mutex<Journal>>) {
    let mut waiting: Option<Job> = None;
    loop {
        let first = match waiting.take() {
            Some(job) => job,
            None => match queue.recv() {
                Ok(job) => job,
                Err(_) => break,
            },
        };
        let first = match first {
            Job::Snapshot(reply) => {
                let _ = reply.send(writer.snapshot());
                continue;
            }
            Job::Commit(pending) => pending,
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(Job::Commit(next)) => group.push(next),
                // After this group: its commits must not be half in a snapshot.
                Ok(snapshot) => {
                    waiting = Some(snapshot);
                    break;
                }
                Err(_) => break,
            }
        }
        let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((first, last)) = run_group(&mut writer, group, &mut journal) {
            // Record at once that those records describe changes the store
            // does not hold. Its own failure is not chased further: the check
            // at the next open finds the same records.
            let (reply, _ignored) = crate::store::pending::channel();
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
            event.result = crate::store::refused_result(error).to_owned();
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
pub(super) fn not_applied(first: u64, last: u64) -> (Vec<Write>, audit::AuditEvent) {
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

fn apply_writes(transaction: &Connection, writes: &[Write]) -> Result<(), StoreError> {
    for write in writes {
        match write {
            Write::PutSystem { name, value } => {
                transaction
                    .prepare_cached("INSERT OR REPLACE INTO system (name, value) VALUES (?1, ?2)")?
                    .execute(params![name, value])?;
            }
            Write::ExpectSystem { name, value } => {
                let stored: Option<Vec<u8>> = transaction
                    .prepare_cached("SELECT value FROM system WHERE name = ?1")?
                    .query_row([name], |row| row.get(0))
                    .optional()?;
                if stored != *value {
                    return Err(StoreError::Stale {
                        what: format!("the system value {name}"),
                    });
                }
            }
            Write::ExpectObject(expected) => {
                let stored: Option<String> = transaction
                    .prepare_cached("SELECT meta FROM objects WHERE id = ?1")?
                    .query_row([&expected.id], |row| row.get(0))
                    .optional()?;
                let stored = stored.as_deref().map(decode_meta).transpose()?;
                if stored.as_ref() != Some(expected.as_ref()) {
                    return Err(StoreError::Stale {
                        what: format!("object {}", expected.id),
                    });
                }
            }
            Write::ExpectTenantKeyCount(expected) => {
                let count: i64 =
                    transaction
                        .query_row("SELECT count(*) FROM tenant_keys", [], |row| row.get(0))?;
                if u64::try_from(count).ok() != Some(*expected) {
                    return Err(StoreError::Stale {
                        what: "the set of tenant keys".to_owned(),
                    });
                }
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
                check_newest_tenant_key(transaction, &row.tenant, row.kek_version)?;
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
                copy_if_current(transaction, row)?;
            }
            Write::RewrapVersion { row, from_kek } => {
                let changed = transaction
                    .prepare_cached(
                        "UPDATE object_versions SET kek_version = ?3, wrapped = ?4 \
                         WHERE object_id = ?1 AND version = ?2 AND kek_version = ?5",
                    )?
                    .execute(params![
                        row.object_id,
                        row.version,
                        row.kek_version,
                        row.wrapped,
                        from_kek
                    ])?;
                if changed == 1 {
                    copy_if_current(transaction, row)?;
                }
            }
            Write::EraseVersions { object_id } => {
                transaction
                    .prepare_cached("DELETE FROM object_versions WHERE object_id = ?1")?
                    .execute(params![object_id])?;
                mirror_current(transaction, object_id)?;
            }
            Write::InsertTenantKey(row) => {
                let inserted = transaction
                    .prepare_cached(
                        "INSERT INTO tenant_keys (tenant, version, wrapped) VALUES (?1, ?2, ?3) \
                         ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![row.tenant, row.version, row.wrapped])?;
                if inserted != 1 {
                    return Err(StoreError::Stale {
                        what: format!("key version {} of tenant '{}'", row.version, row.tenant),
                    });
                }
            }
            Write::RewrapTenantKey(row) => {
                transaction
                    .prepare_cached(
                        "UPDATE tenant_keys SET wrapped = ?3 WHERE tenant = ?1 AND version = ?2",
                    )?
                    .execute(params![row.tenant, row.version, row.wrapped])?;
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
            Write::PutJoinToken { row, expected_uses } => {
                let text =
                    serde_json::to_string(row).map_err(|error| corrupt("join token", error))?;
                let changed = match expected_uses {
                    None => transaction
                        .prepare_cached(
                            "INSERT INTO join_tokens (digest, id, info) VALUES (?1, ?2, ?3) \
                             ON CONFLICT DO NOTHING",
                        )?
                        .execute(params![row.digest, row.id, text])?,
                    Some(uses) => transaction
                        .prepare_cached(
                            "UPDATE join_tokens SET info = ?2 \
                             WHERE id = ?1 AND json_extract(info, '$.uses') = ?3",
                        )?
                        .execute(params![row.id, text, uses])?,
                };
                if changed != 1 {
                    return Err(StoreError::Stale {
                        what: format!("join token {}", row.id),
                    });
                }
            }
            Write::PutNode { row, expected } => {
                let text = serde_json::to_string(row).map_err(|error| corrupt("node", error))?;
                let unchanged = match expected {
                    None => transaction
                        .prepare_cached(
                            "INSERT INTO nodes (id, info) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                        )?
                        .execute(params![row.id, text])?
                        == 1,
                    Some(expected) => {
                        let stored: Option<String> = transaction
                            .prepare_cached("SELECT info FROM nodes WHERE id = ?1")?
                            .query_row([&row.id], |row| row.get(0))
                            .optional()?;
                        let stored: Option<NodeRow> = stored
                            .map(|text| {
                                serde_json::from_str(&text).map_err(|error| corrupt("node", error))
                            })
                            .transpose()?;
                        stored.as_ref() == Some(expected.as_ref())
                            && transaction
                                .prepare_cached("UPDATE nodes SET info = ?2 WHERE id = ?1")?
                                .execute(params![row.id, text])?
                                == 1
                    }
                };
                if !unchanged {
                    return Err(StoreError::Stale {
                        what: format!("node {}", row.id),
                    });
                }
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

/// Refuses material wrapped under a tenant key older than the tenant's newest
/// (see [`Write::PutVersion`]).
fn check_newest_tenant_key(
    transaction: &Connection,
    tenant: &str,
    kek_version: u32,
) -> Result<(), StoreError> {
    let newest: Option<i64> = transaction
        .prepare_cached("SELECT max(version) FROM tenant_keys WHERE tenant = ?1")?
        .query_row([tenant], |row| row.get(0))?;
    if newest == Some(i64::from(kek_version)) {
        Ok(())
    } else {
        Err(StoreError::TenantKeyChanged {
            tenant: tenant.to_owned(),
        })
    }
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

fn stale_volume(tenant: &str, name: &str) -> StoreError {
    StoreError::Stale {
        what: format!("volume '{name}' of tenant '{tenant}'"),
    }
}

/// Copies `row` into its object's row when it is the object's current version.
fn copy_if_current(transaction: &Connection, row: &VersionRow) -> Result<(), StoreError> {
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
