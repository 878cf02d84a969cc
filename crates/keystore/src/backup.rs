//! The backup file: one consistent snapshot of a store, its key material
//! still wrapped, its audit log with it, and a checksum (docs/backup-format.md
//! draws it byte by byte).
//!
//! The codec is pure: [`Writer`] frames records onto any `Write`, [`Reader`]
//! reads them back from any `Read`, never past a declared length nor beyond
//! [`MAX_RECORD_BYTES`], and refuses a file that is not one, is truncated,
//! has records out of order or twice, or whose checksum does not match.
//! [`verify`] reads a whole file that way; a restore verifies first and
//! writes only what passed.

use std::collections::HashSet;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{JoinTokenRow, NodeRow, TokenRow, VolumeRow};
use crate::object::ObjectMeta;
use crate::store::{TenantKeyRow, VersionRow};

/// The file's first bytes.
pub const MAGIC: &[u8; 18] = b"CRYPTAINER-BACKUP\n";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Largest record payload. The largest rows are an object's metadata with
/// its labels (each under 4 KiB, at most 64 of them) and a policy (a few
/// KiB); 1 MiB leaves room without letting a damaged length make a reader
/// allocate gigabytes.
pub const MAX_RECORD_BYTES: u32 = 1 << 20;

/// The kind byte of the last record, whose payload is the checksum.
const END: u8 = 0xFF;

/// Why a backup file was refused.
#[derive(Debug, thiserror::Error)]
// Not `#[non_exhaustive]`: the server maps every variant.
pub enum BackupError {
    /// The file could not be read or written.
    #[error("cannot read or write the backup: {0}")]
    Io(#[from] std::io::Error),
    /// It does not start with the backup magic.
    #[error("this is not a Cryptainer backup (it does not start with CRYPTAINER-BACKUP)")]
    NotABackup,
    /// Its format version is not one this build reads.
    #[error("the backup is in format {0}, which this Cryptainer does not read; use a newer one")]
    UnknownVersion(u32),
    /// It ends before its checksum record: cut short.
    #[error("the backup is truncated: it ends before its checksum; take it again")]
    Truncated,
    /// A record declares a length over [`MAX_RECORD_BYTES`].
    #[error(
        "record {index} declares {length} bytes, more than a backup record holds; the file is damaged"
    )]
    RecordTooLarge {
        /// Which record (from 0).
        index: u64,
        /// The length it declares.
        length: u32,
    },
    /// A record of a kind this format does not have.
    #[error("record {index} is of unknown kind {kind}; the file is damaged")]
    UnknownKind {
        /// Which record.
        index: u64,
        /// Its kind byte.
        kind: u8,
    },
    /// Records out of the format's order (or a second header).
    #[error("record {index} ({what}) is out of order; the file is damaged")]
    OutOfOrder {
        /// Which record.
        index: u64,
        /// What it is.
        what: &'static str,
    },
    /// A record whose payload does not decode.
    #[error("record {index} ({what}) does not decode: {detail}; the file is damaged")]
    Malformed {
        /// Which record.
        index: u64,
        /// What it is.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// The same row twice.
    #[error("record {index} repeats {what} {key}; the file is damaged")]
    Duplicate {
        /// Which record.
        index: u64,
        /// What it is.
        what: &'static str,
        /// Which one.
        key: String,
    },
    /// The checksum does not match the bytes before it.
    #[error("the backup's checksum does not match its content: the file was altered or damaged")]
    ChecksumMismatch,
    /// Bytes after the checksum record.
    #[error("the backup has bytes after its end; the file is damaged")]
    TrailingData,
}

/// What a backup holds, counted as it is written or read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    /// The backend it was taken from (`sqlite`, `postgresql`).
    pub source: String,
    /// When it was taken (RFC 3339).
    pub taken_at: String,
    /// System values (the sealed root, the wrapped audit and CA keys).
    pub system_values: u64,
    /// Tenant key versions.
    pub tenant_keys: u64,
    /// Objects (keys, secrets, certificates, tombstones).
    pub objects: u64,
    /// Versions of objects' material.
    pub versions: u64,
    /// API tokens (digests).
    pub tokens: u64,
    /// Volumes.
    pub volumes: u64,
    /// Join tokens (digests).
    pub join_tokens: u64,
    /// Nodes.
    pub nodes: u64,
    /// Policies.
    pub policies: u64,
    /// Audit records.
    pub audit_records: u64,
    /// The last audit record's sequence number (0: none).
    pub audit_head: u64,
    /// Signed checkpoints.
    pub checkpoints: u64,
}

/// One row of a backup.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// A system value.
    System {
        /// Its name.
        name: String,
        /// Its value.
        value: Vec<u8>,
    },
    /// A tenant key version, wrapped under the root.
    TenantKey(TenantKeyRow),
    /// An object's metadata and its place in list order.
    Object {
        /// The metadata.
        meta: Box<ObjectMeta>,
        /// Its list order (ascending).
        created: u64,
    },
    /// A version of an object's material, wrapped under a tenant key.
    Version(VersionRow),
    /// An API token.
    Token(TokenRow),
    /// A volume.
    Volume(Box<VolumeRow>),
    /// A join token.
    JoinToken(JoinTokenRow),
    /// A node.
    Node(Box<NodeRow>),
    /// A policy.
    Policy(Box<policy::Policy>),
    /// An audit record, as stored (its JSON text).
    Audit {
        /// Its sequence number.
        seq: u64,
        /// The record as stored.
        text: String,
    },
    /// A signed checkpoint, as stored.
    Checkpoint {
        /// The sequence number it signs.
        seq: u64,
        /// The checkpoint as stored.
        text: String,
    },
}

/// The kinds, in the order a file holds them.
const HEADER: u8 = 1;

impl Item {
    fn kind(&self) -> u8 {
        match self {
            Item::System { .. } => 2,
            Item::TenantKey(_) => 3,
            Item::Object { .. } => 4,
            Item::Version(_) => 5,
            Item::Token(_) => 6,
            Item::Volume(_) => 7,
            Item::JoinToken(_) => 8,
            Item::Node(_) => 9,
            Item::Policy(_) => 10,
            Item::Audit { .. } => 11,
            Item::Checkpoint { .. } => 12,
        }
    }
}

/// What each kind is called in errors.
fn kind_name(kind: u8) -> &'static str {
    match kind {
        HEADER => "header",
        2 => "system value",
        3 => "tenant key",
        4 => "object",
        5 => "object version",
        6 => "token",
        7 => "volume",
        8 => "join token",
        9 => "node",
        10 => "policy",
        11 => "audit record",
        12 => "audit checkpoint",
        END => "checksum",
        _ => "unknown record",
    }
}

/// Base64 for wrapped bytes in JSON.
mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// The header's payload.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    source: String,
    taken_at: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemRecord {
    name: String,
    #[serde(with = "base64_bytes")]
    value: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantKeyRecord {
    tenant: String,
    version: u32,
    #[serde(with = "base64_bytes")]
    wrapped: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectRecord {
    created: u64,
    meta: ObjectMeta,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionRecord {
    object_id: String,
    version: u32,
    tenant: String,
    kek_version: u32,
    #[serde(with = "base64_bytes")]
    wrapped: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredText {
    seq: u64,
    text: String,
}

/// Writes a backup: the magic, the format version, a header, the records in
/// the order [`Item`]'s kinds number them, and the checksum.
pub(crate) struct Writer<W: Write> {
    out: W,
    hasher: Sha256,
    last_kind: u8,
    summary: BackupSummary,
}

impl<W: Write> Writer<W> {
    /// Starts a backup of a `source` store taken at `taken_at` (RFC 3339).
    pub(crate) fn new(out: W, source: &str, taken_at: &str) -> Result<Writer<W>, BackupError> {
        let mut writer = Writer {
            out,
            hasher: Sha256::new(),
            last_kind: HEADER,
            summary: BackupSummary {
                source: source.to_owned(),
                taken_at: taken_at.to_owned(),
                ..BackupSummary::default()
            },
        };
        writer.raw(MAGIC)?;
        writer.raw(&FORMAT_VERSION.to_be_bytes())?;
        let header = Header {
            source: source.to_owned(),
            taken_at: taken_at.to_owned(),
        };
        writer.record(HEADER, &header)?;
        Ok(writer)
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<(), BackupError> {
        self.hasher.update(bytes);
        self.out.write_all(bytes)?;
        Ok(())
    }

    fn record<T: Serialize>(&mut self, kind: u8, payload: &T) -> Result<(), BackupError> {
        let bytes = serde_json::to_vec(payload).map_err(|error| BackupError::Malformed {
            index: 0,
            what: kind_name(kind),
            detail: error.to_string(),
        })?;
        let length = u32::try_from(bytes.len())
            .ok()
            .filter(|length| *length <= MAX_RECORD_BYTES)
            .ok_or(BackupError::RecordTooLarge {
                index: 0,
                length: u32::MAX,
            })?;
        self.raw(&[kind])?;
        self.raw(&length.to_be_bytes())?;
        self.raw(&bytes)
    }

    /// Writes one row; rows come kind by kind, in the format's order.
    pub(crate) fn item(&mut self, item: &Item) -> Result<(), BackupError> {
        let kind = item.kind();
        if kind < self.last_kind {
            return Err(BackupError::OutOfOrder {
                index: 0,
                what: kind_name(kind),
            });
        }
        self.last_kind = kind;
        let summary = &mut self.summary;
        match item {
            Item::System { name, value } => {
                summary.system_values += 1;
                let record = SystemRecord {
                    name: name.clone(),
                    value: value.clone(),
                };
                self.record(kind, &record)
            }
            Item::TenantKey(row) => {
                summary.tenant_keys += 1;
                let record = TenantKeyRecord {
                    tenant: row.tenant.clone(),
                    version: row.version,
                    wrapped: row.wrapped.clone(),
                };
                self.record(kind, &record)
            }
            Item::Object { meta, created } => {
                summary.objects += 1;
                let record = ObjectRecord {
                    created: *created,
                    meta: meta.as_ref().clone(),
                };
                self.record(kind, &record)
            }
            Item::Version(row) => {
                summary.versions += 1;
                let record = VersionRecord {
                    object_id: row.object_id.clone(),
                    version: row.version,
                    tenant: row.tenant.clone(),
                    kek_version: row.kek_version,
                    wrapped: row.wrapped.clone(),
                };
                self.record(kind, &record)
            }
            Item::Token(row) => {
                summary.tokens += 1;
                self.record(kind, row)
            }
            Item::Volume(row) => {
                summary.volumes += 1;
                self.record(kind, row)
            }
            Item::JoinToken(row) => {
                summary.join_tokens += 1;
                self.record(kind, row)
            }
            Item::Node(row) => {
                summary.nodes += 1;
                self.record(kind, row)
            }
            Item::Policy(policy) => {
                summary.policies += 1;
                self.record(kind, policy)
            }
            Item::Audit { seq, text } => {
                summary.audit_records += 1;
                summary.audit_head = *seq;
                let record = StoredText {
                    seq: *seq,
                    text: text.clone(),
                };
                self.record(kind, &record)
            }
            Item::Checkpoint { seq, text } => {
                summary.checkpoints += 1;
                let record = StoredText {
                    seq: *seq,
                    text: text.clone(),
                };
                self.record(kind, &record)
            }
        }
    }

    /// Writes the checksum record and returns what the backup holds.
    pub(crate) fn finish(mut self) -> Result<BackupSummary, BackupError> {
        let digest = std::mem::take(&mut self.hasher).finalize();
        self.out.write_all(&[END])?;
        self.out.write_all(&32_u32.to_be_bytes())?;
        self.out.write_all(&digest)?;
        self.out.flush()?;
        Ok(self.summary)
    }
}

/// Reads a backup record by record (an iterator of [`Item`]s), checking as
/// it goes; the checksum is checked at the end, so only a reader that ran to
/// its end has read a whole, unaltered backup.
pub(crate) struct Reader<R: Read> {
    input: R,
    hasher: Sha256,
    index: u64,
    last_kind: u8,
    done: bool,
    /// Digests of the keys seen, per unique index of the store (see
    /// [`Reader::unique`]).
    seen: HashSet<[u8; 16]>,
    last_audit: u64,
    last_checkpoint: u64,
    summary: BackupSummary,
}

impl<R: Read> Reader<R> {
    /// Reads and checks the magic, the version and the header.
    pub(crate) fn new(mut input: R) -> Result<Reader<R>, BackupError> {
        let mut magic = [0_u8; 18];
        read_exactly(&mut input, &mut magic).map_err(|error| match error {
            BackupError::Truncated => BackupError::NotABackup,
            other => other,
        })?;
        if &magic != MAGIC {
            return Err(BackupError::NotABackup);
        }
        let mut version = [0_u8; 4];
        read_exactly(&mut input, &mut version)?;
        let version = u32::from_be_bytes(version);
        if version != FORMAT_VERSION {
            return Err(BackupError::UnknownVersion(version));
        }
        let mut reader = Reader {
            input,
            hasher: Sha256::new(),
            index: 0,
            last_kind: 0,
            done: false,
            seen: HashSet::new(),
            last_audit: 0,
            last_checkpoint: 0,
            summary: BackupSummary::default(),
        };
        reader.hasher.update(magic);
        reader.hasher.update(version.to_be_bytes());
        let (kind, payload) = reader.frame()?;
        if kind != HEADER {
            return Err(BackupError::OutOfOrder {
                index: 0,
                what: kind_name(kind),
            });
        }
        let header: Header = decode(0, HEADER, &payload)?;
        reader.summary.source = header.source;
        reader.summary.taken_at = header.taken_at;
        reader.last_kind = HEADER;
        Ok(reader)
    }

    /// What was read so far (all of it once the reader has ended).
    pub(crate) fn summary(&self) -> &BackupSummary {
        &self.summary
    }

    /// The next record's kind and payload, read within their declared length.
    fn frame(&mut self) -> Result<(u8, Vec<u8>), BackupError> {
        let mut head = [0_u8; 5];
        read_exactly(&mut self.input, &mut head)?;
        let [kind, length @ ..] = head;
        let length = u32::from_be_bytes(length);
        if length > MAX_RECORD_BYTES {
            return Err(BackupError::RecordTooLarge {
                index: self.index,
                length,
            });
        }
        let mut payload = vec![0_u8; usize::try_from(length).unwrap_or(0)];
        read_exactly(&mut self.input, &mut payload)?;
        if kind != END {
            self.hasher.update(head);
            self.hasher.update(&payload);
        }
        Ok((kind, payload))
    }

    /// Refuses a key seen before for this unique index.
    fn unique(&mut self, what: &'static str, key: &[&str]) -> Result<(), BackupError> {
        let mut hasher = Sha256::new();
        hasher.update(what.as_bytes());
        for part in key {
            hasher.update(u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher.finalize();
        let mut short = [0_u8; 16];
        short.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
        if self.seen.insert(short) {
            Ok(())
        } else {
            Err(BackupError::Duplicate {
                index: self.index,
                what,
                key: key.join("/"),
            })
        }
    }

    fn next_item(&mut self) -> Result<Option<Item>, BackupError> {
        if self.done {
            return Ok(None);
        }
        self.index += 1;
        let index = self.index;
        let (kind, payload) = self.frame()?;
        if kind == END {
            let expected = std::mem::take(&mut self.hasher).finalize();
            if payload.as_slice() != expected.as_slice() {
                return Err(BackupError::ChecksumMismatch);
            }
            let mut more = [0_u8; 1];
            if self.input.read(&mut more)? != 0 {
                return Err(BackupError::TrailingData);
            }
            self.done = true;
            return Ok(None);
        }
        if !(2..=12).contains(&kind) {
            return Err(BackupError::UnknownKind { index, kind });
        }
        if kind < self.last_kind || kind == HEADER {
            return Err(BackupError::OutOfOrder {
                index,
                what: kind_name(kind),
            });
        }
        self.last_kind = kind;
        let summary = &mut self.summary;
        let item = match kind {
            2 => {
                let record: SystemRecord = decode(index, kind, &payload)?;
                summary.system_values += 1;
                self.unique("system value", &[&record.name])?;
                Item::System {
                    name: record.name,
                    value: record.value,
                }
            }
            3 => {
                let record: TenantKeyRecord = decode(index, kind, &payload)?;
                summary.tenant_keys += 1;
                self.unique("tenant key", &[&record.tenant, &record.version.to_string()])?;
                Item::TenantKey(TenantKeyRow {
                    tenant: record.tenant,
                    version: record.version,
                    wrapped: record.wrapped,
                })
            }
            4 => {
                let record: ObjectRecord = decode(index, kind, &payload)?;
                summary.objects += 1;
                self.unique("object", &[&record.meta.id])?;
                if let Some(name) = &record.meta.name {
                    if !record.meta.state.is_destroyed() {
                        self.unique("live name", &[&record.meta.tenant, name])?;
                    }
                }
                Item::Object {
                    meta: Box::new(record.meta),
                    created: record.created,
                }
            }
            5 => {
                let record: VersionRecord = decode(index, kind, &payload)?;
                summary.versions += 1;
                self.unique(
                    "object version",
                    &[&record.object_id, &record.version.to_string()],
                )?;
                Item::Version(VersionRow {
                    object_id: record.object_id,
                    version: record.version,
                    tenant: record.tenant,
                    kek_version: record.kek_version,
                    wrapped: record.wrapped,
                })
            }
            6 => {
                let row: TokenRow = decode(index, kind, &payload)?;
                summary.tokens += 1;
                self.unique("token", &[&row.digest])?;
                self.unique("token id", &[&row.id])?;
                Item::Token(row)
            }
            7 => {
                let row: VolumeRow = decode(index, kind, &payload)?;
                summary.volumes += 1;
                self.unique("volume", &[&row.tenant, &row.name])?;
                Item::Volume(Box::new(row))
            }
            8 => {
                let row: JoinTokenRow = decode(index, kind, &payload)?;
                summary.join_tokens += 1;
                self.unique("join token", &[&row.digest])?;
                self.unique("join token id", &[&row.id])?;
                Item::JoinToken(row)
            }
            9 => {
                let row: NodeRow = decode(index, kind, &payload)?;
                summary.nodes += 1;
                self.unique("node", &[&row.id])?;
                Item::Node(Box::new(row))
            }
            10 => {
                let policy: policy::Policy = decode(index, kind, &payload)?;
                summary.policies += 1;
                self.unique("policy", &[&policy.tenant, &policy.name])?;
                Item::Policy(Box::new(policy))
            }
            11 => {
                let record: StoredText = decode(index, kind, &payload)?;
                if record.seq <= self.last_audit {
                    return Err(BackupError::OutOfOrder {
                        index,
                        what: "audit record",
                    });
                }
                self.last_audit = record.seq;
                summary.audit_records += 1;
                summary.audit_head = record.seq;
                Item::Audit {
                    seq: record.seq,
                    text: record.text,
                }
            }
            _ => {
                let record: StoredText = decode(index, kind, &payload)?;
                if record.seq <= self.last_checkpoint {
                    return Err(BackupError::OutOfOrder {
                        index,
                        what: "audit checkpoint",
                    });
                }
                self.last_checkpoint = record.seq;
                summary.checkpoints += 1;
                Item::Checkpoint {
                    seq: record.seq,
                    text: record.text,
                }
            }
        };
        Ok(Some(item))
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Item, BackupError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_item() {
            Ok(item) => item.map(Ok),
            Err(error) => {
                // Nothing more after a refusal.
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

/// Fills `buffer`, or says the input ended first.
fn read_exactly(input: &mut impl Read, buffer: &mut [u8]) -> Result<(), BackupError> {
    input.read_exact(buffer).map_err(|error| {
        if error.kind() == std::io::ErrorKind::UnexpectedEof {
            BackupError::Truncated
        } else {
            BackupError::Io(error)
        }
    })
}

fn decode<T: serde::de::DeserializeOwned>(
    index: u64,
    kind: u8,
    payload: &[u8],
) -> Result<T, BackupError> {
    serde_json::from_slice(payload).map_err(|error| BackupError::Malformed {
        index,
        what: kind_name(kind),
        detail: error.to_string(),
    })
}

/// Reads a whole backup and checks it (format, order, uniqueness, checksum);
/// returns what it holds. Nothing is written anywhere.
pub fn verify(input: impl Read) -> Result<BackupSummary, BackupError> {
    let mut reader = Reader::new(input)?;
    for item in reader.by_ref() {
        item?;
    }
    if !reader.done {
        return Err(BackupError::Truncated);
    }
    Ok(reader.summary().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small backup of one of each kind of row.
    fn sample() -> Vec<u8> {
        let mut out = Vec::new();
        let mut writer = Writer::new(&mut out, "sqlite", "2026-12-07T00:00:00Z").unwrap();
        for item in items() {
            writer.item(&item).unwrap();
        }
        writer.finish().unwrap();
        out
    }

    fn items() -> Vec<Item> {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let meta: ObjectMeta = serde_json::from_value(serde_json::json!({
            "id": "01a2", "name": "db", "tenant": "t", "object_type": "symmetric_key",
            "algorithm": "aes-256", "length": 256, "state": "active", "version": 1,
            "labels": {}, "created_at": "1970-01-01T00:00:00Z", "activation_date": null,
            "deactivation_date": null, "compromise_date": null, "destroy_date": null,
            "revocation_reason": null, "rotated_at": "1970-01-01T00:00:00Z"
        }))
        .unwrap();
        vec![
            Item::System {
                name: "sealed_root".to_owned(),
                value: b"{}".to_vec(),
            },
            Item::TenantKey(TenantKeyRow {
                tenant: "t".to_owned(),
                version: 1,
                wrapped: vec![1, 2, 3],
            }),
            Item::Object {
                meta: Box::new(meta),
                created: 1,
            },
            Item::Version(VersionRow {
                object_id: "01a2".to_owned(),
                version: 1,
                tenant: "t".to_owned(),
                kek_version: 1,
                wrapped: vec![9; 60],
            }),
            Item::Token(TokenRow {
                id: "tok_1".to_owned(),
                digest: "ab".repeat(32),
                role: crate::model::Role::Admin,
                tenants: vec!["*".to_owned()],
                display_name: "root".to_owned(),
                created_at: now,
                expires_at: now,
                revoked_at: None,
            }),
            Item::Audit {
                seq: 1,
                text: "{\"seq\":1}".to_owned(),
            },
            Item::Audit {
                seq: 2,
                text: "{\"seq\":2}".to_owned(),
            },
            Item::Checkpoint {
                seq: 2,
                text: "{}".to_owned(),
            },
        ]
    }

    /// The kinds of what `bytes` reads back as, or the refusal.
    fn read(bytes: &[u8]) -> Result<Vec<u8>, BackupError> {
        let reader = Reader::new(bytes)?;
        let mut kinds = Vec::new();
        let mut reader = reader;
        for item in reader.by_ref() {
            kinds.push(item?.kind());
        }
        Ok(kinds)
    }

    #[test]
    fn a_backup_reads_back_row_for_row_and_counts_what_it_holds() {
        let bytes = sample();
        assert_eq!(
            read(&bytes).unwrap(),
            items().iter().map(Item::kind).collect::<Vec<_>>()
        );
        let summary = verify(bytes.as_slice()).unwrap();
        assert_eq!(
            (
                summary.objects,
                summary.versions,
                summary.audit_records,
                summary.audit_head
            ),
            (1, 1, 2, 2)
        );
        assert_eq!(summary.source, "sqlite");
        let mut reader = Reader::new(bytes.as_slice()).unwrap();
        let Some(Ok(Item::Version(version))) = reader.nth(3) else {
            panic!("the fourth row is the version");
        };
        assert_eq!(version.wrapped, vec![9; 60]);
    }

    #[test]
    fn rejects_every_truncation() {
        let bytes = sample();
        for length in 0..bytes.len() {
            assert!(
                verify(&bytes[..length]).is_err(),
                "a backup cut to {length} of {} bytes was accepted",
                bytes.len()
            );
        }
    }

    #[test]
    fn rejects_every_flipped_byte() {
        let bytes = sample();
        for index in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[index] ^= 0x01;
            assert!(
                verify(altered.as_slice()).is_err(),
                "a backup with byte {index} altered was accepted"
            );
        }
    }

    #[test]
    fn rejects_trailing_bytes_another_format_and_another_file() {
        let mut bytes = sample();
        bytes.push(0);
        assert!(matches!(
            verify(bytes.as_slice()),
            Err(BackupError::TrailingData)
        ));
        let mut other_version = sample();
        other_version[21] = 2;
        assert!(matches!(
            verify(other_version.as_slice()),
            Err(BackupError::UnknownVersion(2))
        ));
        assert!(matches!(
            verify(&b"SQLite format 3\0 and more"[..]),
            Err(BackupError::NotABackup)
        ));
        assert!(matches!(verify(&b""[..]), Err(BackupError::NotABackup)));
    }

    #[test]
    fn rejects_a_record_longer_than_the_limit_before_reading_it() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(FORMAT_VERSION.to_be_bytes());
        bytes.push(HEADER);
        bytes.extend((MAX_RECORD_BYTES + 1).to_be_bytes());
        assert!(matches!(
            verify(bytes.as_slice()),
            Err(BackupError::RecordTooLarge { .. })
        ));
    }

    /// A backup of `items` written without the writer's order check.
    fn raw(items: &[Item]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut writer = Writer::new(&mut out, "sqlite", "now").unwrap();
        for item in items {
            writer.last_kind = HEADER;
            writer.item(item).unwrap();
        }
        writer.finish().unwrap();
        out
    }

    #[test]
    fn rejects_rows_out_of_order_or_twice() {
        let all = items();
        let reversed: Vec<Item> = all.iter().rev().cloned().collect();
        assert!(matches!(
            verify(raw(&reversed).as_slice()),
            Err(BackupError::OutOfOrder { .. })
        ));
        let twice = vec![all[2].clone(), all[2].clone()];
        assert!(matches!(
            verify(raw(&twice).as_slice()),
            Err(BackupError::Duplicate { .. })
        ));
        let records_back = vec![all[6].clone(), all[5].clone()];
        assert!(matches!(
            verify(raw(&records_back).as_slice()),
            Err(BackupError::OutOfOrder { .. })
        ));
    }

    #[test]
    fn rejects_unknown_kinds_and_undecodable_rows() {
        for (kind, payload) in [(99_u8, b"{}".to_vec()), (4, b"{\"created\":1}".to_vec())] {
            let mut bytes = MAGIC.to_vec();
            bytes.extend(FORMAT_VERSION.to_be_bytes());
            let header = serde_json::to_vec(&Header {
                source: "x".to_owned(),
                taken_at: "y".to_owned(),
            })
            .unwrap();
            for (kind, payload) in [(HEADER, header), (kind, payload)] {
                bytes.push(kind);
                bytes.extend(u32::try_from(payload.len()).unwrap().to_be_bytes());
                bytes.extend(payload);
            }
            let digest = Sha256::digest(&bytes);
            bytes.push(END);
            bytes.extend(32_u32.to_be_bytes());
            bytes.extend(digest);
            let refused = verify(bytes.as_slice()).unwrap_err();
            assert!(
                matches!(
                    refused,
                    BackupError::UnknownKind { kind: 99, .. } | BackupError::Malformed { .. }
                ),
                "{refused}"
            );
        }
    }
}
