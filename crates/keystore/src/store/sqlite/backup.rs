//! The SQLite backend's side of backups: reading every row from a snapshot
//! the writer opened between two groups, and writing a backup's rows into an
//! empty store, the audit log first and the key store second, each in one
//! transaction, as the writer commits.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior, params};

use super::rows::{corrupt, decode_meta, read_version_row, to_i64, version_row};
use super::schema::{AUDIT_APPLIED, MIRROR_ALL_CURRENT};
use crate::backup::Item;
use crate::store::{StoreError, TenantKeyRow};

/// System values that say how this backend keeps itself (which records the
/// key store applied), not what it holds: left out of backups.
const INTERNAL_PREFIX: &str = "store.";

/// Hands every row of the snapshot `keys` and `log` (read transactions the
/// writer opened) to `sink`, in the backup's order.
pub(super) fn snapshot(
    keys: &Connection,
    log: &Connection,
    sink: &mut dyn FnMut(Item) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut statement = keys.prepare("SELECT name, value FROM system ORDER BY name")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        if !name.starts_with(INTERNAL_PREFIX) {
            sink(Item::System {
                name,
                value: row.get(1)?,
            })?;
        }
    }
    let mut statement =
        keys.prepare("SELECT tenant, version, wrapped FROM tenant_keys ORDER BY tenant, version")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        sink(Item::TenantKey(TenantKeyRow {
            tenant: row.get(0)?,
            version: super::rows::to_u32(row.get(1)?, "tenant key version")?,
            wrapped: row.get(2)?,
        }))?;
    }
    let mut statement = keys.prepare("SELECT meta, created FROM objects ORDER BY created")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let text: String = row.get(0)?;
        let created: i64 = row.get(1)?;
        sink(Item::Object {
            meta: Box::new(decode_meta(&text)?),
            created: u64::try_from(created).map_err(|_| corrupt("object order", created))?,
        })?;
    }
    let mut statement = keys.prepare(
        "SELECT object_id, version, tenant, kek_version, wrapped FROM object_versions \
         ORDER BY object_id, version",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        sink(Item::Version(version_row(read_version_row(row)?)?))?;
    }
    json_rows(
        keys,
        "SELECT info FROM tokens ORDER BY id",
        "token",
        sink,
        Item::Token,
    )?;
    json_rows(
        keys,
        "SELECT info FROM volumes ORDER BY tenant, name",
        "volume",
        sink,
        |row| Item::Volume(Box::new(row)),
    )?;
    json_rows(
        keys,
        "SELECT info FROM join_tokens ORDER BY id",
        "join token",
        sink,
        Item::JoinToken,
    )?;
    json_rows(
        keys,
        "SELECT info FROM nodes ORDER BY id",
        "node",
        sink,
        |row| Item::Node(Box::new(row)),
    )?;
    json_rows(
        keys,
        "SELECT body FROM policies ORDER BY tenant, name",
        "policy",
        sink,
        |row| Item::Policy(Box::new(row)),
    )?;
    let mut statement = log.prepare("SELECT seq, record FROM audit ORDER BY seq")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        sink(Item::Audit {
            seq: u64::try_from(seq).map_err(|_| corrupt("audit record", seq))?,
            text: row.get(1)?,
        })?;
    }
    let mut statement =
        log.prepare("SELECT seq, checkpoint FROM audit_checkpoints ORDER BY seq")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        sink(Item::Checkpoint {
            seq: u64::try_from(seq).map_err(|_| corrupt("audit checkpoint", seq))?,
            text: row.get(1)?,
        })?;
    }
    Ok(())
}

/// Each JSON row `query` selects, decoded and made an item.
fn json_rows<T: serde::de::DeserializeOwned>(
    connection: &Connection,
    query: &str,
    what: &'static str,
    sink: &mut dyn FnMut(Item) -> Result<(), StoreError>,
    item: impl Fn(T) -> Item,
) -> Result<(), StoreError> {
    let mut statement = connection.prepare(query)?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let text: String = row.get(0)?;
        sink(item(
            serde_json::from_str(&text).map_err(|error| corrupt(what, error))?,
        ))?;
    }
    Ok(())
}

/// Writes `items` into the empty store at `keys_path` with its log at
/// `log_path`; returns the restored chain's head. Nothing is committed until
/// every item was read (a refused backup changes nothing), then the log
/// first and the key store second.
pub(super) fn restore(
    keys_path: &Path,
    log_path: &Path,
    items: &mut dyn Iterator<Item = Result<Item, StoreError>>,
) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    let mut keys = Connection::open(keys_path)?;
    super::configure_writer(&keys)?;
    let mut log = Connection::open(log_path)?;
    super::configure_writer(&log)?;
    let log_transaction = log.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let keys_transaction = keys.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let records: i64 =
        log_transaction.query_row("SELECT count(*) FROM audit", [], |row| row.get(0))?;
    let state: i64 = keys_transaction.query_row(
        "SELECT (SELECT count(*) FROM system WHERE name NOT LIKE 'store.%') \
         + (SELECT count(*) FROM objects) + (SELECT count(*) FROM tokens)",
        [],
        |row| row.get(0),
    )?;
    if records != 0 || state != 0 {
        return Err(crate::store::not_empty(records, state));
    }
    let mut last: Option<(u64, String)> = None;
    for item in items {
        match item? {
            Item::System { name, value } => {
                keys_transaction.execute(
                    "INSERT INTO system (name, value) VALUES (?1, ?2)",
                    params![name, value],
                )?;
            }
            Item::TenantKey(row) => {
                keys_transaction.execute(
                    "INSERT INTO tenant_keys (tenant, version, wrapped) VALUES (?1, ?2, ?3)",
                    params![row.tenant, row.version, row.wrapped],
                )?;
            }
            Item::Object { meta, created } => {
                let text = serde_json::to_string(&meta)
                    .map_err(|error| corrupt("object metadata", error))?;
                keys_transaction.execute(
                    "INSERT INTO objects \
                     (id, created, tenant, name, state, object_type, meta, current_version) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        meta.id,
                        to_i64(created, "object order")?,
                        meta.tenant,
                        meta.name,
                        meta.state.as_str(),
                        meta.object_type.as_str(),
                        text,
                        meta.version
                    ],
                )?;
            }
            Item::Version(row) => {
                keys_transaction.execute(
                    "INSERT INTO object_versions (object_id, version, tenant, kek_version, wrapped) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        row.object_id,
                        row.version,
                        row.tenant,
                        row.kek_version,
                        row.wrapped
                    ],
                )?;
            }
            Item::Token(row) => {
                let text = serde_json::to_string(&row).map_err(|error| corrupt("token", error))?;
                keys_transaction.execute(
                    "INSERT INTO tokens (digest, id, info) VALUES (?1, ?2, ?3)",
                    params![row.digest, row.id, text],
                )?;
            }
            Item::Volume(row) => {
                let text = serde_json::to_string(&row).map_err(|error| corrupt("volume", error))?;
                keys_transaction.execute(
                    "INSERT INTO volumes (tenant, name, revision, info) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        row.tenant,
                        row.name,
                        to_i64(row.revision, "volume revision")?,
                        text
                    ],
                )?;
            }
            Item::JoinToken(row) => {
                let text =
                    serde_json::to_string(&row).map_err(|error| corrupt("join token", error))?;
                keys_transaction.execute(
                    "INSERT INTO join_tokens (digest, id, info) VALUES (?1, ?2, ?3)",
                    params![row.digest, row.id, text],
                )?;
            }
            Item::Node(row) => {
                let text = serde_json::to_string(&row).map_err(|error| corrupt("node", error))?;
                keys_transaction.execute(
                    "INSERT INTO nodes (id, info) VALUES (?1, ?2)",
                    params![row.id, text],
                )?;
            }
            Item::Policy(policy) => {
                let text =
                    serde_json::to_string(&policy).map_err(|error| corrupt("policy", error))?;
                keys_transaction.execute(
                    "INSERT INTO policies (tenant, name, body) VALUES (?1, ?2, ?3)",
                    params![policy.tenant, policy.name, text],
                )?;
            }
            Item::Audit { seq, text } => {
                log_transaction.execute(
                    "INSERT INTO audit (seq, record) VALUES (?1, ?2)",
                    params![to_i64(seq, "audit seq")?, text],
                )?;
                last = Some((seq, text));
            }
            Item::Checkpoint { seq, text } => {
                log_transaction.execute(
                    "INSERT INTO audit_checkpoints (seq, checkpoint) VALUES (?1, ?2)",
                    params![to_i64(seq, "audit seq")?, text],
                )?;
            }
        }
    }
    keys_transaction.execute_batch(MIRROR_ALL_CURRENT)?;
    let head = match &last {
        Some((seq, text)) => {
            // The key store holds everything the log describes.
            keys_transaction.execute(
                "INSERT OR REPLACE INTO system (name, value) VALUES (?1, ?2)",
                params![AUDIT_APPLIED, seq.to_be_bytes().to_vec()],
            )?;
            Some((*seq, crate::store::record_hash(text)?))
        }
        None => None,
    };
    // The records first: a change is never durable without its record.
    log_transaction.commit()?;
    keys_transaction.commit()?;
    Ok(head)
}
