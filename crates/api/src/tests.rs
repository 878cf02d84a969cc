//! The wire shapes, checked against the JSON the server answers and the
//! clients send (docs/api.md): each answer decodes and encodes back to the
//! same JSON, field for field, so a field added, dropped or renamed fails
//! here; each request encodes to the body the server takes.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::audit::{AuditEntry, AuditRecords, AuditReport};
use crate::keys::{CreateKeyRequest, KeyInfo, KeyList, Material, RevocationReason, RevokeRequest};
use crate::kmip::ClientCertAnswer;
use crate::nodes::{
    CaStatus, CreatedJoinToken, Decommissioned, Heartbeat, IssuedNodeCertificate, JoinRequest,
    JoinTokenList, NodeList, RotatedCa,
};
use crate::policies::{
    CheckAnswer, CheckRequest, CheckedWorkload, Policy, PolicyList, WorkloadClaim,
};
use crate::seal::{CompleteMigrationRequest, Consent, MigrateAnswer, MigrateRequest};
use crate::secret::SecretString;
use crate::secrets::{DeliverRequest, SecretList, SecretValue};
use crate::sys::{
    DeviceHealth, InitAnswer, InitRequest, RotateRootRequest, Status, UnsealRequest, UnsealState,
};
use crate::tokens::{CreatedToken, TokenList};
use crate::volumes::{Acquired, LeaseRequest, VolumeList};

/// Decodes `expected` as `T` and encodes it back: the same JSON must come out.
fn answer<T: Serialize + DeserializeOwned>(expected: Value) -> T {
    let decoded: T = serde_json::from_value(expected.clone())
        .unwrap_or_else(|error| panic!("{expected} does not decode: {error}"));
    assert_eq!(serde_json::to_value(&decoded).unwrap(), expected);
    decoded
}

/// Encodes `request`: `expected` must come out.
fn request<T: Serialize>(request: &T, expected: Value) {
    assert_eq!(serde_json::to_value(request).unwrap(), expected);
}

fn key_info(name: &str) -> Value {
    json!({"id": format!("id-{name}"), "name": name, "tenant": "default",
           "object_type": "symmetric_key", "algorithm": "aes-256", "length": 256,
           "state": "active", "version": 2, "labels": {"app": "pg"},
           "created_at": "2026-11-22T18:00:00.123456789Z",
           "activation_date": "2026-11-22T18:00:00Z", "deactivation_date": null,
           "compromise_date": null, "destroy_date": null, "revocation_reason": null,
           "rotated_at": "2026-11-22T19:00:00.5Z"})
}

fn volume_info() -> Value {
    json!({"name": "pgdata", "tenant": "acme", "key_id": "4b0c", "size_bytes": 21474836480u64,
           "filesystem": "ext4", "created_at": "2026-11-23T00:00:00Z",
           "created_by": "token:tok_1", "state": "held", "holder": "node:node-1",
           "lease_expires_at": "2026-11-23T00:01:00Z", "holders": ["node:node-1"]})
}

fn token_info() -> Value {
    json!({"id": "tok_1", "role": "operator", "tenants": ["default"], "display_name": "ci",
           "created_at": "2026-11-22T00:00:00Z", "expires_at": "2026-11-23T00:00:00Z",
           "revoked_at": null})
}

fn join_token_info() -> Value {
    json!({"id": "jtk_1", "role": "agent", "tenant": "acme",
           "created_at": "2026-11-22T00:00:00Z", "expires_at": "2026-11-23T00:00:00Z",
           "revoked_at": null, "max_uses": 3, "uses": 1, "labels": {"zone": "eu"}})
}

fn node_info() -> Value {
    json!({"id": "node-1", "name": "host", "role": "agent", "tenant": "acme",
           "state": "active", "cert_serial": "0a", "cert_expires_at": "2026-11-23T00:00:00Z",
           "joined_at": "2026-11-22T00:00:00Z", "last_seen": "2026-11-22T01:00:00Z",
           "decommissioned_at": null, "join_token_id": "jtk_1", "labels": {}})
}

/// Merges the members of `extra` into the object `base`.
fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

/// A status under `seal`, without the seal's device details.
fn status(seal: Value) -> Value {
    json!({"initialized": true, "sealed": false, "seal": seal,
           "threshold": 3, "shares": 5, "progress": 0, "seal_token": null, "seal_key": null,
           "seal_mechanism": null, "recovery_threshold": 0, "recovery_shares": 0,
           "seal_migration_pending": null, "version": "0.1.0"})
}

#[test]
fn system_answers_keep_their_shapes() {
    answer::<Status>(status(json!("shamir")));
    answer::<Status>(with(
        status(Value::Null),
        json!({"initialized": false, "sealed": true, "threshold": 0, "shares": 0}),
    ));
    let init = answer::<InitAnswer>(json!({"unseal_shares": ["s1", "s2"], "recovery_shares": [],
        "seal": "shamir", "root_token": "cpt_x", "root_token_id": "tok_r"}));
    assert_eq!(init.root_token.expose_secret(), "cpt_x");
    let automatic = answer::<InitAnswer>(json!({"unseal_shares": [], "recovery_shares": ["r1"],
        "seal": "pkcs11", "root_token": "cpt_x", "root_token_id": "tok_r"}));
    assert_eq!(
        automatic
            .recovery_shares
            .first()
            .map(SecretString::expose_secret),
        Some("r1")
    );
}

#[test]
fn seal_answers_keep_their_shapes() {
    let device = with(
        status(json!("pkcs11")),
        json!({"threshold": 0, "shares": 0, "seal_token": "cryptainer",
               "seal_key": "cryptainer-root-wrap", "seal_mechanism": "aes-gcm",
               "recovery_threshold": 3, "recovery_shares": 5, "seal_migration_pending": "tpm2"}),
    );
    assert_eq!(answer::<Status>(device.clone()).automatic, None);
    // `GET /v1/sys/status` adds what the automatic seal is doing.
    let watched = answer::<Status>(with(
        device.clone(),
        json!({"seal_configured": "pkcs11", "seal_state": "retrying",
               "seal_device": "unreachable", "seal_error": "no token", "seal_attempts": 4}),
    ));
    let automatic = watched.automatic.unwrap();
    assert_eq!(automatic.seal_state, UnsealState::Retrying);
    assert_eq!(automatic.seal_device, Some(DeviceHealth::Unreachable));
    answer::<Status>(with(
        device.clone(),
        json!({"seal_configured": null, "seal_state": "idle", "seal_device": null,
               "seal_error": null, "seal_attempts": 0}),
    ));
    // A status from a server without automatic seals still reads.
    let older: Status = serde_json::from_value(json!({"initialized": true, "sealed": true,
        "seal": "shamir", "threshold": 3, "shares": 5, "progress": 1, "version": "0.1.0"}))
    .unwrap();
    assert_eq!((older.recovery_shares, older.automatic), (0, None));
    let migrated = answer::<MigrateAnswer>(with(
        device,
        json!({"from": "passphrase", "to": "pkcs11", "pending": true, "new_shares": ["n1", "n2"]}),
    ));
    assert!(migrated.pending);
    assert_eq!(migrated.new_shares.len(), 2);
    assert_eq!(migrated.status.seal.as_deref(), Some("pkcs11"));
}

#[test]
fn key_answers_keep_their_shapes() {
    let key = answer::<KeyInfo>(key_info("db"));
    assert_eq!(key.name.as_deref(), Some("db"));
    answer::<KeyInfo>(with(
        key_info("old"),
        json!({"state": "destroyed_compromised", "revocation_reason": "cessation_of_operation",
               "destroy_date": "2026-11-24T00:00:00Z", "name": null}),
    ));
    answer::<KeyList>(json!({"keys": [key_info("a"), key_info("b")], "total": 7}));
    let material = answer::<Material>(
        json!({"id": "id-db", "version": 1, "algorithm": "aes-256", "material": "AAEC"}),
    );
    assert_eq!(
        material.material.decode_base64().unwrap().as_slice(),
        [0, 1, 2]
    );
    answer::<SecretList>(json!({"secrets": [key_info("pw")], "total": 1}));
    answer::<SecretValue>(json!({"id": "id-pw", "name": "pw", "version": 3, "value": "aGk="}));
    answer::<SecretValue>(json!({"id": "id-pw", "name": null, "version": 3, "value": ""}));
}

#[test]
fn volume_answers_keep_their_shapes() {
    answer::<VolumeList>(json!({"volumes": [volume_info(), with(volume_info(),
        json!({"state": "free", "holder": null, "lease_expires_at": null, "holders": []}))]}));
    let acquired = answer::<Acquired>(json!({"volume": volume_info(), "secret": "c2VjcmV0"}));
    assert_eq!(
        acquired.secret.decode_base64().unwrap().as_slice(),
        b"secret"
    );
}

#[test]
fn token_and_node_answers_keep_their_shapes() {
    answer::<TokenList>(json!({"tokens": [token_info()]}));
    let created = answer::<CreatedToken>(with(token_info(), json!({"token": "cpt_secret"})));
    assert_eq!(created.token.expose_secret(), "cpt_secret");
    assert_eq!(created.info.id, "tok_1");
    answer::<JoinTokenList>(json!({"tokens": [join_token_info()]}));
    answer::<CreatedJoinToken>(with(join_token_info(), json!({"token": "CPTJ-1-x"})));
    answer::<NodeList>(json!({"nodes": [node_info()]}));
    answer::<Decommissioned>(
        json!({"node": with(node_info(), json!({"state": "decommissioned",
        "decommissioned_at": "2026-11-22T02:00:00Z"})), "leases_ended": 2, "shredded": ["k1"]}),
    );
    answer::<IssuedNodeCertificate>(json!({"node_id": "node-1", "name": "host", "role": "agent",
        "tenant": "acme", "cert_pem": "-----BEGIN", "ca_pem": "-----BEGIN", "serial": "0a",
        "not_after": "2026-11-23T00:00:00Z"}));
    answer::<Heartbeat>(
        json!({"node_id": "node-1", "state": "active", "cert_serial": "0a",
        "ca_digest": "ab", "renew": false}),
    );
    let older: Heartbeat = serde_json::from_value(
        json!({"node_id": "node-1", "state": "active", "cert_serial": "0a"}),
    )
    .unwrap();
    assert_eq!((older.ca_digest, older.renew), (None, None));
    answer::<CaStatus>(
        json!({"ca_fingerprint": "aa", "ca_digest": "bb", "roots": 2, "nodes": 3,
        "reissued": 1, "pending": ["node-2", "node-3"],
        "server_certificate": {"issuer": "aa", "current_root": true,
                               "not_after": "2027-01-01T00:00:00Z"}}),
    );
    answer::<RotatedCa>(json!({"ca_digest": "cc", "ca_pem": "-----BEGIN",
        "tokens": [with(join_token_info(), json!({"replaces": "jtk_0", "token": "CPTJ-1-y"}))]}));
    answer::<ClientCertAnswer>(json!({"cert_pem": "c", "ca_pem": "a", "serial": "01"}));
}

#[test]
fn policy_and_audit_answers_keep_their_shapes() {
    answer::<Policy>(json!({"name": "app-db", "tenant": "acme",
        "subject": {"image_digests": [format!("sha256:{}", "a".repeat(64))]},
        "volumes": ["pgdata"], "secrets": []}));
    answer::<PolicyList>(json!({"policies": []}));
    answer::<CheckAnswer>(json!({"allowed": true, "outcome": "allowed_unbound",
        "reason": "the node created it", "policy": null}));
    answer::<CheckAnswer>(json!({"allowed": false, "outcome": "denied",
        "reason": "no policy", "policy": null}));
    let records = answer::<AuditRecords>(json!({"records": [
        {"seq": 1, "time": "2026-11-22T18:00:00Z", "principal": "token:tok_a",
         "tenant": "default", "operation": "key.create", "object_id": "k1", "result": "ok",
         "remote": "127.0.0.1:5000", "hmacs": {"name": "ab"}, "prev_hash": "00", "hash": "11"},
        {"seq": 2, "undecodable": true}]}));
    assert!(matches!(
        records.records.get(1),
        Some(AuditEntry::Undecodable { seq: 2, .. })
    ));
    answer::<AuditReport>(json!({"ok": true, "records": 12, "last_good_seq": 12,
        "last_checkpoint": 10, "problem": null, "message": "audit log intact"}));
    answer::<AuditReport>(json!({"ok": false, "records": 12, "last_good_seq": 3,
        "last_checkpoint": null, "problem": {"kind": "checkpoint_mismatch", "seq": 10, "after": 3},
        "message": "checkpoint 10 does not match"}));
}

#[test]
fn requests_encode_to_the_bodies_the_server_takes() {
    request(&LeaseRequest::default(), json!({}));
    request(
        &LeaseRequest {
            lease_seconds: Some(60),
            workloads: vec![WorkloadClaim {
                container_id: Some("c1".to_owned()),
                image_digest: Some("sha256:ab".to_owned()),
                ..WorkloadClaim::default()
            }],
            ..LeaseRequest::default()
        },
        json!({"lease_seconds": 60, "workloads": [{"container_id": "c1", "image_digest": "sha256:ab"}]}),
    );
    request(&DeliverRequest::default(), json!({"workloads": []}));
    request(
        &InitRequest {
            shares: Some(5),
            threshold: Some(3),
            ..InitRequest::default()
        },
        json!({"shares": 5, "threshold": 3}),
    );
    request(
        &InitRequest {
            recovery_shares: Some(5),
            recovery_threshold: Some(3),
            ..InitRequest::default()
        },
        json!({"recovery_shares": 5, "recovery_threshold": 3}),
    );
    request(&RotateRootRequest::default(), json!({}));
    request(
        &RotateRootRequest {
            recovery_shares: vec![SecretString::from_str_copy("r1")],
        },
        json!({"recovery_shares": ["r1"]}),
    );
    request(
        &MigrateRequest {
            to: "shamir".to_owned(),
            consent: Consent {
                passphrase: Some(SecretString::from_str_copy("old passphrase")),
                ..Consent::default()
            },
            new_passphrase: None,
            shares: Some(3),
            threshold: Some(2),
            recovery_shares: None,
            recovery_threshold: None,
        },
        json!({"to": "shamir", "consent": {"passphrase": "old passphrase"},
               "shares": 3, "threshold": 2}),
    );
    request(
        &CompleteMigrationRequest {
            shares: vec![SecretString::from_str_copy("n1")],
        },
        json!({"shares": ["n1"]}),
    );
    request(
        &InitRequest {
            passphrase: Some(SecretString::from_str_copy("long passphrase")),
            ..InitRequest::default()
        },
        json!({"passphrase": "long passphrase"}),
    );
    request(
        &UnsealRequest {
            reset: true,
            ..UnsealRequest::default()
        },
        json!({"reset": true}),
    );
    request(
        &UnsealRequest {
            share: Some(SecretString::from_str_copy("share")),
            ..UnsealRequest::default()
        },
        json!({"share": "share"}),
    );
    request(
        &RevokeRequest {
            reason: Some(RevocationReason::Compromised),
        },
        json!({"reason": "compromised"}),
    );
    request(
        &CreateKeyRequest {
            name: "db".to_owned(),
            algorithm: Some("aes-128".to_owned()),
            ..CreateKeyRequest::default()
        },
        json!({"name": "db", "algorithm": "aes-128", "labels": {}}),
    );
    request(
        &JoinRequest {
            token: SecretString::from_str_copy("CPTJ-1-x"),
            csr_pem: "csr".to_owned(),
            name: Some("host".to_owned()),
        },
        json!({"token": "CPTJ-1-x", "csr_pem": "csr", "name": "host"}),
    );
    request(
        &CheckRequest {
            tenant: None,
            workload: CheckedWorkload {
                node_id: "node-1".to_owned(),
                claim: WorkloadClaim {
                    image: Some("postgres:16".to_owned()),
                    ..WorkloadClaim::default()
                },
            },
            volume: Some("pgdata".to_owned()),
            secret: None,
        },
        json!({"workload": {"node_id": "node-1", "image": "postgres:16"}, "volume": "pgdata"}),
    );
}

#[test]
fn rejects_requests_with_fields_the_server_does_not_know() {
    assert!(serde_json::from_value::<LeaseRequest>(json!({"lease": 5})).is_err());
    assert!(serde_json::from_value::<UnsealRequest>(json!({"shares": "x"})).is_err());
    assert!(serde_json::from_value::<DeliverRequest>(json!({"workloads": [{"pid": 1}]})).is_err());
    assert!(serde_json::from_value::<CheckRequest>(json!({"workload": {}, "extra": 1})).is_err());
    // Absent optional fields are fine.
    let empty: LeaseRequest = serde_json::from_value(json!({})).unwrap();
    assert_eq!(empty, LeaseRequest::default());
    let init: InitRequest = serde_json::from_value(json!({"passphrase": null})).unwrap();
    assert!(init.passphrase.is_none());
    assert!(
        serde_json::from_value::<MigrateRequest>(
            json!({"to": "shamir", "consent": {"pin": "1234"}})
        )
        .is_err()
    );
    let consent: Consent = serde_json::from_value(json!({"recovery_shares": ["r1"]})).unwrap();
    assert_eq!(
        (consent.unseal_shares.len(), consent.recovery_shares.len()),
        (0, 1)
    );
}

#[cfg(feature = "client")]
#[test]
fn a_decoded_answer_with_a_secret_leaves_no_copy_in_the_read_buffer() {
    use crate::memory::{Marker, Probe};
    let marker = Marker::new(b'M');
    let probe = Probe::open();
    let body = format!(
        r#"{{"id":"k","version":1,"algorithm":"aes-256","material":"{}"}}"#,
        marker.text()
    );
    let mut buffer = crate::buffer::WipedBuffer::with_capacity(body.len());
    buffer.extend_from_slice(body.as_bytes());
    drop(body);
    let answer = crate::client::Answer::<Material>::for_tests(buffer);
    let material = answer.decode().unwrap();
    let buffer_address = answer.body().as_ptr().addr();
    let offset = answer
        .body()
        .windows(marker.bytes().len())
        .position(|window| window == marker.bytes())
        .unwrap();
    let secret_address = material.material.expose_secret().as_ptr().addr();
    drop(answer);
    assert!(
        !probe.holds(buffer_address + offset, marker.bytes()),
        "the answer's buffer still holds the secret"
    );
    drop(material);
    assert!(
        !probe.holds(secret_address, marker.bytes()),
        "the decoded secret is still in memory"
    );
}

/// What `endpoint` asks for: method, path, query and whether it has a body.
fn check_request<E: crate::Endpoint>(
    endpoint: &E,
    method: crate::Method,
    path: &str,
    query: &[(&str, &str)],
    body: bool,
) {
    let request = endpoint.request().unwrap();
    assert_eq!(request.method, method, "{path}");
    assert_eq!(request.path, path);
    let pairs: Vec<(&str, &str)> = request
        .query
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    assert_eq!(pairs, query, "{path}");
    assert_eq!(request.body.is_some(), body, "{path}");
}

/// Whether `endpoint` is called as someone.
fn authenticated<E: crate::Endpoint>(_endpoint: &E) -> bool {
    E::AUTHENTICATED
}

#[test]
fn every_form_of_endpoint_asks_for_its_method_path_query_and_body() {
    use crate::Method::{Delete, Get, Post};
    use crate::ObjectRef;
    let key = ObjectRef {
        reference: "db/1",
        tenant: Some("acme"),
    };
    check_request(&crate::sys::GetStatus, Get, "/v1/sys/status", &[], false);
    assert!(!authenticated(&crate::sys::GetStatus));
    assert!(authenticated(&crate::sys::Seal));
    let init = InitRequest::default();
    check_request(&crate::sys::Init(&init), Post, "/v1/sys/init", &[], true);
    assert!(!authenticated(&crate::sys::Init(&init)));
    let rotate = RotateRootRequest::default();
    check_request(
        &crate::sys::RotateRoot(&rotate),
        Post,
        "/v1/sys/rotate-root",
        &[],
        true,
    );
    check_request(
        &crate::seal::CancelSealMigration,
        Post,
        "/v1/sys/seal/migrate/cancel",
        &[],
        false,
    );
    assert!(authenticated(&crate::seal::CancelSealMigration));
    let complete = CompleteMigrationRequest { shares: Vec::new() };
    check_request(
        &crate::seal::CompleteSealMigration(&complete),
        Post,
        "/v1/sys/seal/migrate/complete",
        &[],
        true,
    );
    check_request(
        &crate::keys::ShowKey(key),
        Get,
        "/v1/keys/db%2F1",
        &[("tenant", "acme")],
        false,
    );
    check_request(
        &crate::keys::DestroyKey(ObjectRef::named("db")),
        Delete,
        "/v1/keys/db",
        &[],
        false,
    );
    check_request(
        &crate::keys::ReadMaterial {
            key,
            version: Some(2),
        },
        Get,
        "/v1/keys/db%2F1/material",
        &[("tenant", "acme"), ("version", "2")],
        false,
    );
    check_request(
        &crate::keys::RevokeKey {
            key,
            body: &RevokeRequest::default(),
        },
        Post,
        "/v1/keys/db%2F1/revoke",
        &[("tenant", "acme")],
        true,
    );
    check_request(
        &crate::tokens::RevokeToken { id: "tok_1" },
        Delete,
        "/v1/auth/tokens/tok_1",
        &[],
        false,
    );
    check_request(
        &crate::volumes::AcquireVolume {
            name: "pgdata",
            body: &LeaseRequest::default(),
        },
        Post,
        "/v1/volumes/pgdata/acquire",
        &[],
        true,
    );
    check_request(
        &crate::volumes::ListVolumes {
            tenant: Some("acme"),
        },
        Get,
        "/v1/volumes",
        &[("tenant", "acme")],
        false,
    );
    check_request(
        &crate::keys::ListKeys(&crate::keys::KeyListQuery {
            limit: Some(10),
            offset: Some(0),
            ..crate::keys::KeyListQuery::default()
        }),
        Get,
        "/v1/keys",
        &[("limit", "10"), ("offset", "0")],
        false,
    );
    check_request(
        &crate::nodes::ReportLiveness,
        Post,
        "/v1/nodes/heartbeat",
        &[],
        false,
    );
    let rejected = crate::Endpoint::request(&crate::tokens::RevokeToken { id: ".." });
    assert!(rejected.is_err());
}
