//! The audit log as the API shows it (docs/api.md, "Audit"; the record format
//! is in docs/audit-format.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, Method, Query, Request, RequestError};
use crate::routes;

/// Query of `GET /v1/audit/records`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Records after this sequence number [default: 0].
    pub after: Option<u64>,
    /// At most this many, 1 to 1000 [default: 100].
    pub limit: Option<u32>,
}

/// One audit record, exactly as it is hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When, RFC 3339 in UTC.
    pub time: String,
    /// Who.
    pub principal: String,
    /// The tenant acted in.
    pub tenant: Option<String>,
    /// What, e.g. `key.create`.
    pub operation: String,
    /// The object acted on.
    pub object_id: Option<String>,
    /// `ok` or the error code.
    pub result: String,
    /// The client's address.
    pub remote: Option<String>,
    /// Sensitive values as HMAC-SHA256 (hex), by name.
    pub hmacs: BTreeMap<String, String>,
    /// The previous record's hash (hex).
    pub prev_hash: String,
    /// This record's hash (hex).
    pub hash: String,
}

/// One entry of `GET /v1/audit/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AuditEntry {
    /// A record (boxed so that the enum stays small).
    Record(Box<AuditRecord>),
    /// A stored record that no longer decodes.
    Undecodable {
        /// Its sequence number.
        seq: u64,
        /// Always `true`.
        undecodable: bool,
    },
}

/// Answer of `GET /v1/audit/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecords {
    /// The records, in order.
    pub records: Vec<AuditEntry>,
}

/// The first thing wrong with the log: its `kind` (`altered`, `broken_link`,
/// `missing`, `truncated`, ...) and the sequence numbers that say where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProblem {
    /// What is wrong.
    pub kind: String,
    /// Where: `seq`, `after`, `last_present`, `expected_last`, ...
    #[serde(flatten)]
    pub at: BTreeMap<String, u64>,
}

/// Answer of `POST /v1/audit/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Whether the log is intact.
    pub ok: bool,
    /// Records read.
    pub records: u64,
    /// The last record known intact.
    pub last_good_seq: u64,
    /// The last checkpoint verified.
    pub last_checkpoint: Option<u64>,
    /// The first problem.
    pub problem: Option<AuditProblem>,
    /// The verdict in a sentence.
    pub message: String,
}

/// `GET /v1/audit/records`.
pub struct ListAuditRecords<'a>(pub &'a AuditQuery);

impl Endpoint for ListAuditRecords<'_> {
    type Answer = AuditRecords;

    fn request(&self) -> Result<Request, RequestError> {
        Ok(
            Request::to(Method::Get, routes::AUDIT_RECORDS, &[])?.with_query(
                Query::new()
                    .optional("after", self.0.after)
                    .optional("limit", self.0.limit)
                    .pairs(),
            ),
        )
    }
}

endpoints! {
    /// `POST /v1/audit/verify`.
    VerifyAudit: Post routes::AUDIT_VERIFY => AuditReport;
}
