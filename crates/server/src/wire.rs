//! The server's side of the wire contract (the `api` crate): the key store's
//! types turned into the API's bodies, one function each, and [`SecretJson`],
//! the answer of the handlers whose body carries a secret.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use keystore::model::{JoinTokenRow, NodeRow, NodeState, Role, TokenRow, VolumeRow};
use keystore::object::{ObjectMeta, RevocationReason, State as ObjectState};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::error::{ApiError, Code};

/// An object's metadata as the API shows it.
pub fn key_info(meta: ObjectMeta) -> api::keys::KeyInfo {
    api::keys::KeyInfo {
        id: meta.id,
        name: meta.name,
        tenant: meta.tenant,
        object_type: meta.object_type.as_str().to_owned(),
        algorithm: meta.algorithm.as_str().to_owned(),
        length: meta.length,
        state: object_state(meta.state),
        version: meta.version,
        labels: meta.labels,
        created_at: meta.created_at,
        activation_date: meta.activation_date,
        deactivation_date: meta.deactivation_date,
        compromise_date: meta.compromise_date,
        destroy_date: meta.destroy_date,
        revocation_reason: meta.revocation_reason.map(revocation_reason),
        rotated_at: meta.rotated_at,
    }
}

/// An object's state in the API.
pub fn object_state(state: ObjectState) -> api::keys::ObjectState {
    match state {
        ObjectState::PreActive => api::keys::ObjectState::PreActive,
        ObjectState::Active => api::keys::ObjectState::Active,
        ObjectState::Deactivated => api::keys::ObjectState::Deactivated,
        ObjectState::Compromised => api::keys::ObjectState::Compromised,
        ObjectState::Destroyed => api::keys::ObjectState::Destroyed,
        ObjectState::DestroyedCompromised => api::keys::ObjectState::DestroyedCompromised,
    }
}

/// A revocation reason in the API.
pub fn revocation_reason(reason: RevocationReason) -> api::keys::RevocationReason {
    match reason {
        RevocationReason::Unspecified => api::keys::RevocationReason::Unspecified,
        RevocationReason::Compromised => api::keys::RevocationReason::Compromised,
        RevocationReason::Superseded => api::keys::RevocationReason::Superseded,
        RevocationReason::CessationOfOperation => api::keys::RevocationReason::CessationOfOperation,
    }
}

/// A revocation reason a request gave, for the key store.
pub fn stored_revocation_reason(reason: api::keys::RevocationReason) -> RevocationReason {
    match reason {
        api::keys::RevocationReason::Unspecified => RevocationReason::Unspecified,
        api::keys::RevocationReason::Compromised => RevocationReason::Compromised,
        api::keys::RevocationReason::Superseded => RevocationReason::Superseded,
        api::keys::RevocationReason::CessationOfOperation => RevocationReason::CessationOfOperation,
    }
}

/// A role in the API.
pub fn role(role: Role) -> api::tokens::Role {
    match role {
        Role::Admin => api::tokens::Role::Admin,
        Role::Operator => api::tokens::Role::Operator,
        Role::Auditor => api::tokens::Role::Auditor,
        Role::Agent => api::tokens::Role::Agent,
    }
}

/// A node's state in the API.
pub fn node_state(state: NodeState) -> api::nodes::NodeState {
    match state {
        NodeState::Active => api::nodes::NodeState::Active,
        NodeState::Decommissioned => api::nodes::NodeState::Decommissioned,
    }
}

/// A token as listed: never the secret or its digest.
pub fn token_info(row: TokenRow) -> api::tokens::TokenInfo {
    api::tokens::TokenInfo {
        id: row.id,
        role: role(row.role),
        tenants: row.tenants,
        display_name: row.display_name,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
    }
}

fn rfc3339(time: time::OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

/// A volume as the API shows it (never its secret); its lease only while it
/// runs.
pub fn volume_info(row: VolumeRow) -> api::volumes::VolumeInfo {
    let now = time::OffsetDateTime::now_utc();
    let live = row.lease.filter(|lease| lease.expires_at > now);
    api::volumes::VolumeInfo {
        state: if live.is_some() {
            api::volumes::VolumeState::Held
        } else {
            api::volumes::VolumeState::Free
        },
        holder: live.as_ref().map(|lease| lease.holder.clone()),
        lease_expires_at: live.as_ref().map(|lease| rfc3339(lease.expires_at)),
        name: row.name,
        tenant: row.tenant,
        key_id: row.key_id,
        size_bytes: row.size_bytes,
        filesystem: row.filesystem,
        created_at: rfc3339(row.created_at),
        created_by: row.created_by,
        holders: row.holders.into_iter().collect(),
    }
}

/// A join token as listed.
pub fn join_token_info(row: &JoinTokenRow) -> api::nodes::JoinTokenInfo {
    api::nodes::JoinTokenInfo {
        id: row.id.clone(),
        role: role(row.role),
        tenant: row.tenant.clone(),
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        max_uses: row.max_uses,
        uses: row.uses,
        labels: row.labels.clone(),
    }
}

/// A node as listed.
pub fn node_info(row: &NodeRow) -> api::nodes::NodeInfo {
    api::nodes::NodeInfo {
        id: row.id.clone(),
        name: row.name.clone(),
        role: role(row.role),
        tenant: row.tenant.clone(),
        state: node_state(row.state),
        cert_serial: row.cert_serial.clone(),
        cert_expires_at: row.cert_expires_at,
        joined_at: row.joined_at,
        last_seen: row.last_seen,
        decommissioned_at: row.decommissioned_at,
        join_token_id: row.join_token_id.clone(),
        labels: row.labels.clone(),
    }
}

/// The seal status, with this server's version (without what the automatic
/// seal is doing, which only `GET /v1/sys/status` adds).
pub fn status(status: keystore::Status) -> api::sys::Status {
    let details = status.details;
    api::sys::Status {
        initialized: status.initialized,
        sealed: status.sealed,
        seal: status.seal.map(str::to_owned),
        threshold: status.threshold,
        shares: status.shares,
        progress: status.progress,
        seal_token: details.seal_token,
        seal_key: details.seal_key,
        seal_mechanism: details.seal_mechanism,
        recovery_threshold: details.recovery_threshold,
        recovery_shares: details.recovery_shares,
        seal_migration_pending: details.seal_migration_pending.map(str::to_owned),
        automatic: None,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// A stored audit record as the API lists it.
pub fn audit_entry(record: audit::StoredRecord) -> api::audit::AuditEntry {
    match record {
        audit::StoredRecord::Decoded(record) => {
            api::audit::AuditEntry::Record(Box::new(api::audit::AuditRecord {
                seq: record.seq,
                time: record.time,
                principal: record.principal,
                tenant: record.tenant,
                operation: record.operation,
                object_id: record.object_id,
                result: record.result,
                remote: record.remote,
                hmacs: record.hmacs,
                prev_hash: hex::encode(record.prev_hash),
                hash: hex::encode(record.hash),
            }))
        }
        audit::StoredRecord::Undecodable { seq } => api::audit::AuditEntry::Undecodable {
            seq,
            undecodable: true,
        },
    }
}

/// A verification report as the API answers it: the audit crate's own report
/// shape ([`crate::audit_report_json`]), read as the API's type.
pub fn audit_report(report: &audit::VerifyReport) -> Result<api::audit::AuditReport, ApiError> {
    serde_json::from_value(crate::audit_report_json(report)).map_err(|error| {
        tracing::error!(%error, "the audit report does not have the API's shape");
        ApiError::new(Code::Internal, "the audit report could not be written")
    })
}

/// A JSON answer whose body carries a secret (key material, a secret's value,
/// a volume's secret, unseal shares, a new token). Encoded into a buffer of
/// exactly its size ([`api::encode_json`]), which is wiped when the body has
/// been sent and released; the value itself is wiped as it is dropped.
pub struct SecretJson<T>(pub T);

impl<T: Serialize> IntoResponse for SecretJson<T> {
    fn into_response(self) -> Response {
        match api::encode_json(&self.0) {
            Ok(buffer) => (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from(Bytes::from_owner(buffer)),
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "could not encode an answer");
                ApiError::new(Code::Internal, "the answer could not be encoded").into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::memory::{Marker, Probe};

    /// The answer of `GET /v1/keys/{ref}/material` holding `material`.
    fn material(material: &str) -> api::keys::Material {
        api::keys::Material {
            id: "id".to_owned(),
            version: 1,
            algorithm: "aes-256".to_owned(),
            material: api::SecretString::from_str_copy(material),
        }
    }

    #[tokio::test]
    async fn the_encoded_answer_carrying_key_material_is_wiped_once_sent() {
        let marker = Marker::new(b'K');
        let probe = Probe::open();
        let response = SecretJson(material(marker.text())).into_response();
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|value| value.as_bytes()),
            Some(&b"application/json"[..])
        );
        // What hyper would send: the body's bytes, taken without a copy.
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let offset = body
            .windows(marker.bytes().len())
            .position(|window| window == marker.bytes())
            .unwrap();
        let address = body.as_ptr().addr() + offset;
        assert!(probe.holds(address, marker.bytes()), "the body is live");
        drop(body);
        assert!(
            !probe.holds(address, marker.bytes()),
            "the sent answer's buffer still holds the key material"
        );
    }

    #[test]
    fn a_secret_answer_has_the_shape_of_a_plain_one() {
        let secret = serde_json::to_string(&material("AAEC")).unwrap();
        assert_eq!(
            secret,
            r#"{"id":"id","version":1,"algorithm":"aes-256","material":"AAEC"}"#
        );
    }
}
