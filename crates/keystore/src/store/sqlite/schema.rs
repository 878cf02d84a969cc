//! The SQLite backend's tables, in the key store and in the audit log, and
//! what opening a store brings up to date: layouts of earlier versions (an
//! objects table with rowids, or without the copy of the current version,
//! audit records in the key store's own file) and the check that the log
//! holds every record the key store applied changes for.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::corrupt;
use crate::store::StoreError;

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
/// (`writer::mirror_current`), each in the same transaction.
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

pub(super) const SCHEMA: &str = concat!(
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
pub(super) const AUDIT_SCHEMA: &str = "
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
pub(super) const AUDIT_APPLIED: &str = "store.audit_applied";

/// The last audit record the key store applied changes for
/// ([`AUDIT_APPLIED`]), if any group of changes was committed since the log
/// had a file of its own.
pub(super) fn applied_seq(keys: &Connection) -> Result<Option<u64>, StoreError> {
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
pub(super) fn check_log_is_whole(applied: Option<u64>, log: &Connection) -> Result<(), StoreError> {
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
pub(super) fn unapplied_group(
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
pub(super) fn move_records_out(keys: &Connection, log: &mut Connection) -> Result<(), StoreError> {
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
pub(super) fn drop_objects_rowid(keys: &mut Connection) -> Result<(), StoreError> {
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

/// Fills the copy of every object's current version (see `objects_columns!`)
/// from `object_versions`: for a store made before the objects table had it.
pub(super) const MIRROR_ALL_CURRENT: &str = "
UPDATE objects SET current_version = json_extract(meta, '$.version');
UPDATE objects SET (current_kek, current_wrapped) =
    (SELECT kek_version, wrapped FROM object_versions
     WHERE object_id = objects.id AND version = objects.current_version);";

/// Adds the copy of the current version to the objects table of a store made
/// before it had one, and fills it, in one transaction.
pub(super) fn add_current_columns(keys: &mut Connection) -> Result<(), StoreError> {
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
