//! Decoding rows of the SQLite backend: numbers that must fit, metadata and
//! records stored as JSON, a failure to decode named as corruption.

use crate::object::ObjectMeta;
use crate::store::{StoreError, VersionRow};

impl From<rusqlite::Error> for StoreError {
    /// A statement of the SQLite backend failed.
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Database {
            backend: "sqlite",
            source: Box::new(error),
        }
    }
}

pub(super) fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.to_string(),
    }
}

pub(super) use crate::store::stored_u32 as to_u32;

pub(super) fn to_i64(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| corrupt(what, format!("value {value} out of range")))
}

pub(super) fn decode_meta(text: &str) -> Result<ObjectMeta, StoreError> {
    serde_json::from_str(text).map_err(|error| corrupt("object metadata", error))
}

pub(super) fn read_version_row(
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

pub(super) fn version_row(
    raw: (String, i64, String, i64, Vec<u8>),
) -> Result<VersionRow, StoreError> {
    let (object_id, version, tenant, kek_version, wrapped) = raw;
    Ok(VersionRow {
        object_id,
        version: to_u32(version, "object version")?,
        tenant,
        kek_version: to_u32(kek_version, "tenant key version")?,
        wrapped,
    })
}
