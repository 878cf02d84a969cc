//! The PostgreSQL backend's side of backups: every row read in one
//! `REPEATABLE READ` transaction (one snapshot of the whole database, while
//! every server goes on writing), and a backup's rows written into an empty
//! database in one transaction that holds the audit chain's head lock, so
//! no server appends meanwhile and a refused backup changes nothing.

use std::sync::Arc;

use tokio::sync::mpsc::{Receiver, Sender};
use tokio_postgres::IsolationLevel;
use tokio_postgres::types::ToSql;

use super::pool::Connector;
use super::writer::CHANNEL;
use super::{classify, column, corrupt, decode_json, to_u32, version_row};
use crate::backup::Item;
use crate::store::{Change, StoreError, TenantKeyRow};

/// Rows fetched at a time from each table.
const PAGE: i32 = 500;

/// The tables in the backup's order, each with what its rows become.
const TABLES: &[(&str, Table)] = &[
    (
        "SELECT name, value FROM system ORDER BY name",
        Table::System,
    ),
    (
        "SELECT tenant, version, wrapped FROM tenant_keys ORDER BY tenant, version",
        Table::TenantKeys,
    ),
    (
        "SELECT meta, created FROM objects ORDER BY created",
        Table::Objects,
    ),
    (
        "SELECT object_id, version, tenant, kek_version, wrapped FROM object_versions \
         ORDER BY object_id, version",
        Table::Versions,
    ),
    ("SELECT info FROM tokens ORDER BY id", Table::Tokens),
    (
        "SELECT info FROM volumes ORDER BY tenant, name",
        Table::Volumes,
    ),
    (
        "SELECT info FROM join_tokens ORDER BY id",
        Table::JoinTokens,
    ),
    ("SELECT info FROM nodes ORDER BY id", Table::Nodes),
    (
        "SELECT body FROM policies ORDER BY tenant, name",
        Table::Policies,
    ),
    ("SELECT seq, record FROM audit ORDER BY seq", Table::Audit),
    (
        "SELECT seq, checkpoint FROM audit_checkpoints ORDER BY seq",
        Table::Checkpoints,
    ),
];

#[derive(Clone, Copy)]
enum Table {
    System,
    TenantKeys,
    Objects,
    Versions,
    Tokens,
    Volumes,
    JoinTokens,
    Nodes,
    Policies,
    Audit,
    Checkpoints,
}

/// A row of `table` as a backup item.
fn item(table: Table, row: &tokio_postgres::Row) -> Result<Item, StoreError> {
    let text = |index| column::<String>(row, index);
    Ok(match table {
        Table::System => Item::System {
            name: column(row, 0)?,
            value: column(row, 1)?,
        },
        Table::TenantKeys => Item::TenantKey(TenantKeyRow {
            tenant: column(row, 0)?,
            version: to_u32(column(row, 1)?, "tenant key version")?,
            wrapped: column(row, 2)?,
        }),
        Table::Objects => {
            let created: i64 = column(row, 1)?;
            Item::Object {
                meta: Box::new(decode_json(&text(0)?, "object metadata")?),
                created: u64::try_from(created).map_err(|_| corrupt("object order", created))?,
            }
        }
        Table::Versions => Item::Version(version_row(row)?),
        Table::Tokens => Item::Token(decode_json(&text(0)?, "token")?),
        Table::Volumes => Item::Volume(Box::new(decode_json(&text(0)?, "volume")?)),
        Table::JoinTokens => Item::JoinToken(decode_json(&text(0)?, "join token")?),
        Table::Nodes => Item::Node(Box::new(decode_json(&text(0)?, "node")?)),
        Table::Policies => Item::Policy(Box::new(decode_json(&text(0)?, "policy")?)),
        Table::Audit | Table::Checkpoints => {
            let seq: i64 = column(row, 0)?;
            let seq = u64::try_from(seq).map_err(|_| corrupt("audit record", seq))?;
            let text = text(1)?;
            match table {
                Table::Audit => Item::Audit { seq, text },
                _ => Item::Checkpoint { seq, text },
            }
        }
    })
}

/// Reads every row in one snapshot and sends each, in the backup's order;
/// a failure is sent last.
pub(super) async fn snapshot(connector: Arc<Connector>, rows: Sender<Result<Item, StoreError>>) {
    if let Err(error) = read_snapshot(&connector, &rows).await {
        let _ = rows.send(Err(error)).await;
    }
}

async fn read_snapshot(
    connector: &Connector,
    rows: &Sender<Result<Item, StoreError>>,
) -> Result<(), StoreError> {
    let mut connection = connector.connect().await?;
    let transaction = connection
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(classify)?;
    for (sql, table) in TABLES {
        let statement = transaction.prepare(sql).await.map_err(classify)?;
        let portal = transaction.bind(&statement, &[]).await.map_err(classify)?;
        loop {
            let page = transaction
                .query_portal(&portal, PAGE)
                .await
                .map_err(classify)?;
            for row in &page {
                if rows.send(item(*table, row)).await.is_err() {
                    // The reader stopped (its client went away).
                    return Ok(());
                }
            }
            if page.len() < usize::try_from(PAGE).unwrap_or(0) {
                break;
            }
        }
    }
    transaction.commit().await.map_err(classify)?;
    Ok(())
}

/// Writes the items received into the empty database, in one transaction
/// that holds the chain's head lock; commits only once every item arrived.
pub(super) async fn restore(
    connector: Arc<Connector>,
    mut items: Receiver<Result<Item, StoreError>>,
    instance: String,
) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    let mut connection = connector.connect().await?;
    let transaction = connection.client.transaction().await.map_err(classify)?;
    let head: i64 = transaction
        .query_one("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE", &[])
        .await
        .map_err(classify)?
        .try_get(0)
        .map_err(classify)?;
    let rows: i64 = transaction
        .query_one(
            "SELECT (SELECT count(*) FROM system) + (SELECT count(*) FROM objects) \
             + (SELECT count(*) FROM tokens)",
            &[],
        )
        .await
        .map_err(classify)?
        .try_get(0)
        .map_err(classify)?;
    if head != 0 || rows != 0 {
        return Err(crate::store::not_empty(head, rows));
    }
    let mut last: Option<(u64, String)> = None;
    while let Some(item) = items.recv().await {
        let item = item?;
        let (sql, parameters): (&str, Vec<Box<dyn ToSql + Send + Sync>>) = match item {
            Item::System { name, value } => (
                "INSERT INTO system (name, value) VALUES ($1, $2)",
                vec![Box::new(name), Box::new(value)],
            ),
            Item::TenantKey(row) => (
                "INSERT INTO tenant_keys (tenant, version, wrapped) VALUES ($1, $2, $3)",
                vec![
                    Box::new(row.tenant),
                    Box::new(i64::from(row.version)),
                    Box::new(row.wrapped),
                ],
            ),
            Item::Object { meta, created } => (
                "INSERT INTO objects \
                 (id, created, tenant, name, state, object_type, meta, current_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    Box::new(meta.id.clone()),
                    Box::new(i64::try_from(created).map_err(|_| corrupt("object order", created))?),
                    Box::new(meta.tenant.clone()),
                    Box::new(meta.name.clone()),
                    Box::new(meta.state.as_str().to_owned()),
                    Box::new(meta.object_type.as_str().to_owned()),
                    Box::new(
                        serde_json::to_string(&meta)
                            .map_err(|error| corrupt("object metadata", error))?,
                    ),
                    Box::new(i64::from(meta.version)),
                ],
            ),
            Item::Version(row) => (
                "INSERT INTO object_versions (object_id, version, tenant, kek_version, wrapped) \
                 VALUES ($1, $2, $3, $4, $5)",
                vec![
                    Box::new(row.object_id),
                    Box::new(i64::from(row.version)),
                    Box::new(row.tenant),
                    Box::new(i64::from(row.kek_version)),
                    Box::new(row.wrapped),
                ],
            ),
            Item::Token(row) => (
                "INSERT INTO tokens (digest, id, info) VALUES ($1, $2, $3)",
                vec![
                    Box::new(row.digest.clone()),
                    Box::new(row.id.clone()),
                    Box::new(json(&row, "token")?),
                ],
            ),
            Item::Volume(row) => (
                "INSERT INTO volumes (tenant, name, revision, info) VALUES ($1, $2, $3, $4)",
                vec![
                    Box::new(row.tenant.clone()),
                    Box::new(row.name.clone()),
                    Box::new(
                        i64::try_from(row.revision)
                            .map_err(|_| corrupt("volume revision", row.revision))?,
                    ),
                    Box::new(json(&row, "volume")?),
                ],
            ),
            Item::JoinToken(row) => (
                "INSERT INTO join_tokens (digest, id, info) VALUES ($1, $2, $3)",
                vec![
                    Box::new(row.digest.clone()),
                    Box::new(row.id.clone()),
                    Box::new(json(&row, "join token")?),
                ],
            ),
            Item::Node(row) => (
                "INSERT INTO nodes (id, info) VALUES ($1, $2)",
                vec![Box::new(row.id.clone()), Box::new(json(&row, "node")?)],
            ),
            Item::Policy(policy) => (
                "INSERT INTO policies (tenant, name, body) VALUES ($1, $2, $3)",
                vec![
                    Box::new(policy.tenant.clone()),
                    Box::new(policy.name.clone()),
                    Box::new(json(&policy, "policy")?),
                ],
            ),
            Item::Audit { seq, text } => {
                let row: (&str, Vec<Box<dyn ToSql + Send + Sync>>) = (
                    "INSERT INTO audit (seq, record) VALUES ($1, $2)",
                    vec![
                        Box::new(i64::try_from(seq).map_err(|_| corrupt("audit record", seq))?),
                        Box::new(text.clone()),
                    ],
                );
                last = Some((seq, text));
                row
            }
            Item::Checkpoint { seq, text } => (
                "INSERT INTO audit_checkpoints (seq, checkpoint) VALUES ($1, $2)",
                vec![
                    Box::new(i64::try_from(seq).map_err(|_| corrupt("audit checkpoint", seq))?),
                    Box::new(text),
                ],
            ),
        };
        let references: Vec<&(dyn ToSql + Sync)> = parameters
            .iter()
            .map(|parameter| parameter.as_ref() as &(dyn ToSql + Sync))
            .collect();
        transaction
            .execute(sql, &references)
            .await
            .map_err(classify)?;
    }
    transaction
        .batch_execute(
            "UPDATE objects SET (current_kek, current_wrapped) = \
             (SELECT kek_version, wrapped FROM object_versions \
              WHERE object_id = objects.id AND version = objects.current_version); \
             SELECT setval(pg_get_serial_sequence('objects', 'created'), \
                           coalesce((SELECT max(created) FROM objects), 0) + 1, false);",
        )
        .await
        .map_err(classify)?;
    let head = match &last {
        Some((seq, text)) => Some((*seq, crate::store::record_hash(text)?)),
        None => None,
    };
    if let Some((seq, hash)) = &head {
        let seq = i64::try_from(*seq).map_err(|_| corrupt("audit record", seq))?;
        transaction
            .execute(
                "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
                &[&seq, &hash.to_vec()],
            )
            .await
            .map_err(classify)?;
    }
    // Every other server reads everything again.
    let every: Vec<&str> = Change::SHARED
        .iter()
        .map(|change| change.as_str())
        .collect();
    let payload = format!("{instance} {}", every.join(","));
    transaction
        .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
        .await
        .map_err(classify)?;
    transaction.commit().await.map_err(classify)?;
    Ok(head)
}

fn json<T: serde::Serialize>(value: &T, what: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| corrupt(what, error))
}
