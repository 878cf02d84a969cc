//! Tamper tests: build a real chain with checkpoints, damage it the ways an
//! attacker with write access to the storage could, and check that `verify` names
//! the first altered, removed or missing record.

// Helpers here run only under the test harness; clippy allows panics in tests
// only inside items marked `cfg(test)`.
#![cfg(test)]

use std::convert::Infallible;

use audit::{
    AuditChain, AuditEvent, AuditHmacKey, AuditRecord, Checkpoint, CheckpointSigner, Problem,
    StoredRecord, VerifyReport, VerifyingKey, verify,
};
use time::{Duration, OffsetDateTime, macros::datetime};

const START: OffsetDateTime = datetime!(2024-01-01 00:00 UTC);
const RECORDS: u64 = 55;
const CHECKPOINT_EVERY: u64 = 10;

/// A stored log: what the storage layer holds, plus the head the server keeps.
#[derive(Clone)]
struct Log {
    records: Vec<StoredRecord>,
    checkpoints: Vec<Checkpoint>,
    head: Option<(u64, [u8; 32])>,
}

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(&[0x5a; 32])
}

fn attacker() -> CheckpointSigner {
    CheckpointSigner::from_seed(&[0xa5; 32])
}

fn event(seq: u64) -> AuditEvent {
    let operations = [
        "key.create",
        "key.get",
        "key.rotate",
        "key.destroy",
        "token.create",
    ];
    let mut event = AuditEvent::new(
        START + Duration::seconds(i64::try_from(seq).unwrap()),
        format!("token:tok_{}", seq % 3),
        operations[usize::try_from(seq).unwrap() % operations.len()],
        if seq % 7 == 0 { "not_found" } else { "ok" },
    );
    event.tenant = (seq % 2 == 0).then(|| "default".to_owned());
    event.object_id = Some(format!("obj_{seq:04}"));
    event.remote = Some("192.0.2.7:5000".to_owned());
    event
        .sensitive
        .push(("key_name".to_owned(), format!("payroll-{seq}").into_bytes()));
    event
}

/// A log of `RECORDS` records with a checkpoint every `CHECKPOINT_EVERY`.
fn build_log() -> Log {
    let mut chain = AuditChain::new(AuditHmacKey::from_bytes([0x11; 32]), None);
    let signer = signer();
    let mut log = Log {
        records: Vec::new(),
        checkpoints: Vec::new(),
        head: None,
    };
    for seq in 1..=RECORDS {
        let record = chain.prepare(&event(seq)).unwrap();
        chain.commit(&record).unwrap();
        if seq % CHECKPOINT_EVERY == 0 {
            log.checkpoints
                .push(signer.sign(seq, record.hash, START + Duration::hours(1)));
        }
        log.records.push(record.into());
    }
    log.head = chain.head();
    log
}

fn run(log: &Log, with_head: bool) -> VerifyReport {
    verify(
        log.records.iter().cloned().map(Ok::<_, Infallible>),
        &log.checkpoints,
        &signer().verifying_key(),
        if with_head { log.head } else { None },
    )
    .unwrap()
}

/// Applies `mutation` to a fresh log and checks the first problem `verify` names,
/// with and without the server's expected head. `expected` lists the problem
/// without the head, then with it.
fn check(mutation: impl Fn(&mut Log), without_head: Option<Problem>, with_head: Option<Problem>) {
    let mut log = build_log();
    mutation(&mut log);
    for (use_head, expected) in [(false, without_head), (true, with_head)] {
        let report = run(&log, use_head);
        assert_eq!(report.problem, expected, "with head: {use_head}; {report}");
        assert_eq!(report.is_ok(), expected.is_none());
    }
}

/// Like [`check`] when the head makes no difference.
fn check_both(mutation: impl Fn(&mut Log), expected: Option<Problem>) {
    check(mutation, expected, expected);
}

fn record(log: &mut Log, seq: u64) -> &mut AuditRecord {
    let index = usize::try_from(seq - 1).unwrap();
    match &mut log.records[index] {
        StoredRecord::Decoded(record) => record,
        StoredRecord::Undecodable { .. } => panic!("record {seq} is undecodable"),
    }
}

fn remove(log: &mut Log, seq: u64) {
    log.records.remove(usize::try_from(seq - 1).unwrap());
}

/// Recomputes `prev_hash` and `hash` of every record from position `from_seq`
/// on, as an attacker covering an edit would.
fn rechain(log: &mut Log, from_seq: u64) {
    let mut prev_hash = [0u8; 32];
    for stored in &mut log.records {
        let StoredRecord::Decoded(record) = stored else {
            panic!("undecodable record")
        };
        if record.seq >= from_seq {
            record.prev_hash = prev_hash;
            record.hash = record.compute_hash();
        }
        prev_hash = record.hash;
    }
}

/// A named edit of one field of a record.
type FieldEdit = (&'static str, fn(&mut AuditRecord));

fn altered(seq: u64) -> Option<Problem> {
    Some(Problem::Altered { seq })
}

#[test]
fn intact_log_verifies() {
    check_both(|_| {}, None);
    let report = run(&build_log(), true);
    assert_eq!(report.records, RECORDS);
    assert_eq!(report.last_good_seq, RECORDS);
    assert_eq!(report.last_checkpoint, Some(50));
    assert_eq!(
        report.to_string(),
        "audit log intact: 55 records, last checkpoint at 50"
    );
}

#[test]
fn empty_log_verifies() {
    let report = verify(
        Vec::<Result<AuditRecord, Infallible>>::new(),
        &[],
        &signer().verifying_key(),
        None,
    )
    .unwrap();
    assert!(report.is_ok());
    assert_eq!(
        report.to_string(),
        "audit log intact: 0 records, no checkpoint yet"
    );
}

#[test]
fn editing_any_field_names_the_record() {
    let edits: [FieldEdit; 13] = [
        ("seq", |r| r.seq = 99),
        ("time", |r| r.time.replace_range(0..4, "2023")),
        ("principal", |r| r.principal = "token:admin".to_owned()),
        ("tenant set", |r| r.tenant = Some("other".to_owned())),
        ("tenant toggled", |r| {
            r.tenant = match r.tenant {
                Some(_) => None,
                None => Some(String::new()),
            }
        }),
        ("operation", |r| r.operation = "key.list".to_owned()),
        ("object_id", |r| r.object_id = None),
        ("result", |r| r.result = "ok".to_owned() + "!"),
        ("remote", |r| r.remote = Some("198.51.100.1:1".to_owned())),
        ("hmac value", |r| {
            r.hmacs.insert("key_name".to_owned(), "00".repeat(32));
        }),
        ("hmac name", |r| {
            let value = r.hmacs.remove("key_name").unwrap();
            r.hmacs.insert("object_name".to_owned(), value);
        }),
        ("prev_hash", |r| r.prev_hash[0] ^= 1),
        ("hash", |r| r.hash[31] ^= 1),
    ];
    for (field, edit) in edits {
        // A middle record, the first, a checkpointed one and the last.
        for seq in [23, 1, 30, RECORDS] {
            let mut log = build_log();
            let before = record(&mut log, seq).clone();
            edit(record(&mut log, seq));
            assert_ne!(
                *record(&mut log, seq),
                before,
                "{field} edit changed nothing"
            );
            for use_head in [false, true] {
                let report = run(&log, use_head);
                assert_eq!(
                    report.problem,
                    altered(seq),
                    "{field} of record {seq}: {report}"
                );
                assert_eq!(report.last_good_seq, seq - 1);
            }
        }
    }
}

#[test]
fn deleting_a_record_names_it_missing() {
    check_both(|log| remove(log, 23), Some(Problem::Missing { seq: 23 }));
    check_both(|log| remove(log, 1), Some(Problem::Missing { seq: 1 }));
    check_both(|log| remove(log, 30), Some(Problem::Missing { seq: 30 }));
    check_both(
        |log| {
            for _ in 0..3 {
                remove(log, 23);
            }
        },
        Some(Problem::Missing { seq: 23 }),
    );
}

#[test]
fn truncation_is_detected_by_checkpoints_and_by_the_expected_head() {
    let truncate = |count: usize| {
        move |log: &mut Log| {
            let keep = log.records.len() - count;
            log.records.truncate(keep);
        }
    };
    let truncated = |last_present, expected_last| {
        Some(Problem::Truncated {
            last_present,
            expected_last,
        })
    };
    // Past the latest checkpoint only the head shows it: the documented window.
    check(truncate(3), None, truncated(52, 55));
    // Into the checkpointed part: the checkpoint at 50 shows it.
    check(truncate(8), truncated(47, 50), truncated(47, 55));
    // The attacker also deletes the checkpoints beyond the new end.
    check(
        |log| {
            truncate(8)(log);
            log.checkpoints.retain(|checkpoint| checkpoint.seq <= 47);
        },
        None,
        truncated(47, 55),
    );
    // Everything deleted.
    check(truncate(55), truncated(0, 50), truncated(0, 55));
}

#[test]
fn moving_records_names_the_first_position() {
    check_both(
        |log| log.records.swap(22, 36),
        Some(Problem::Reordered {
            expected: 23,
            found: 37,
        }),
    );
    check_both(
        |log| log.records.swap(22, 23),
        Some(Problem::Reordered {
            expected: 23,
            found: 24,
        }),
    );
    // A copy of an old record appended at the end.
    check_both(
        |log| log.records.push(log.records[22].clone()),
        Some(Problem::Reordered {
            expected: 56,
            found: 23,
        }),
    );
}

#[test]
fn duplicating_a_record_names_it() {
    check_both(
        |log| log.records.insert(23, log.records[22].clone()),
        Some(Problem::Duplicate { seq: 23 }),
    );
}

#[test]
fn recomputing_the_chain_after_an_edit_is_caught_by_the_next_checkpoint() {
    let edit_and_rechain = |seq: u64| {
        move |log: &mut Log| {
            record(log, seq).result = "ok".to_owned();
            record(log, seq).principal = "token:someone-else".to_owned();
            rechain(log, seq);
        }
    };
    check_both(
        edit_and_rechain(23),
        Some(Problem::CheckpointMismatch { seq: 30, after: 20 }),
    );
    check_both(
        edit_and_rechain(1),
        Some(Problem::CheckpointMismatch { seq: 10, after: 0 }),
    );
    // After the latest checkpoint only the head shows it.
    check(
        edit_and_rechain(53),
        None,
        Some(Problem::HeadMismatch { seq: 55 }),
    );

    let mut log = build_log();
    edit_and_rechain(23)(&mut log);
    let report = run(&log, false);
    assert_eq!(report.last_good_seq, 20);
    assert_eq!(
        report.to_string(),
        "records 21 to 30 were rewritten: the signed checkpoint at 30 does not match record 30"
    );
}

#[test]
fn removing_a_record_and_renumbering_is_caught_by_the_next_checkpoint() {
    check_both(
        |log| {
            remove(log, 23);
            for seq in 23..RECORDS {
                record(log, seq).seq = seq;
            }
            rechain(log, 23);
        },
        Some(Problem::CheckpointMismatch { seq: 30, after: 20 }),
    );
}

#[test]
fn replacing_a_record_with_a_self_consistent_forgery_breaks_the_next_link() {
    let forge = |seq: u64| {
        move |log: &mut Log| {
            let record = record(log, seq);
            record.result = "ok".to_owned() + "?";
            record.hash = record.compute_hash();
        }
    };
    check_both(forge(23), Some(Problem::BrokenLink { seq: 24 }));
    // At a checkpoint the checkpoint shows it first.
    check_both(
        forge(20),
        Some(Problem::CheckpointMismatch { seq: 20, after: 10 }),
    );
    // The last record: only the head shows it.
    check(forge(55), None, Some(Problem::HeadMismatch { seq: 55 }));
    // A forged link: prev_hash edited and the hash recomputed.
    check_both(
        |log| {
            let record = record(log, 23);
            record.prev_hash = [7; 32];
            record.hash = record.compute_hash();
        },
        Some(Problem::BrokenLink { seq: 23 }),
    );
}

#[test]
fn forged_checkpoints_fail_their_signature() {
    // The chain recomputed and every checkpoint re-signed with another key.
    check_both(
        |log| {
            record(log, 23).principal = "token:someone-else".to_owned();
            rechain(log, 23);
            let head = log.records.len();
            for checkpoint in &mut log.checkpoints {
                let StoredRecord::Decoded(record) =
                    &log.records[usize::try_from(checkpoint.seq - 1).unwrap()]
                else {
                    panic!("undecodable")
                };
                assert!(head >= 50);
                *checkpoint = attacker().sign(checkpoint.seq, record.hash, checkpoint.time);
            }
        },
        Some(Problem::BadCheckpointSignature { seq: 10 }),
    );
    // One checkpoint's hash edited under its old signature.
    check_both(
        |log| log.checkpoints[2].hash[0] ^= 1,
        Some(Problem::BadCheckpointSignature { seq: 30 }),
    );
    // A forged checkpoint beyond the end claims a longer log.
    check_both(
        |log| log.checkpoints.push(attacker().sign(60, [1; 32], START)),
        Some(Problem::BadCheckpointSignature { seq: 60 }),
    );
    // The key id edited.
    check_both(
        |log| log.checkpoints[0].key_id = attacker().key_id().to_owned(),
        Some(Problem::BadCheckpointSignature { seq: 10 }),
    );
}

#[test]
fn undecodable_record_is_named() {
    check_both(
        |log| log.records[22] = StoredRecord::Undecodable { seq: 23 },
        Some(Problem::Undecodable { seq: 23 }),
    );
}

#[test]
fn the_first_problem_in_sequence_order_wins() {
    check_both(
        |log| {
            record(log, 40).operation = "x".to_owned();
            remove(log, 12);
        },
        Some(Problem::Missing { seq: 12 }),
    );
    check_both(
        |log| {
            log.checkpoints[3].signature[0] ^= 1;
            record(log, 17).operation = "x".to_owned();
        },
        altered(17),
    );
}

#[test]
fn checkpoint_order_in_storage_does_not_matter() {
    check_both(|log| log.checkpoints.reverse(), None);
}

#[test]
fn storage_read_error_is_returned_not_reported() {
    let log = build_log();
    let items = log
        .records
        .iter()
        .take(10)
        .cloned()
        .map(Ok)
        .chain([Err("disk read failed")]);
    let result = verify(items, &log.checkpoints, &signer().verifying_key(), None);
    assert_eq!(result.unwrap_err(), "disk read failed");
}

#[test]
fn report_json_for_the_api() {
    let mut log = build_log();
    record(&mut log, 23).operation = "key.list".to_owned();
    let report = run(&log, false);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "ok": false,
            "records": 23,
            "last_good_seq": 22,
            "last_checkpoint": 20,
            "problem": {"kind": "altered", "seq": 23},
            "message": "record 23 was altered: its hash does not match its content",
        })
    );
    let back: VerifyReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn sensitive_values_are_never_stored_in_the_clear() {
    let key = AuditHmacKey::from_bytes([0x11; 32]);
    let mut event = event(1);
    event.sensitive = vec![
        ("key_name".to_owned(), b"PAYROLL-MASTER-KEY".to_vec()),
        ("label".to_owned(), b"QUARTERLY-BONUS".to_vec()),
    ];
    let record = AuditChain::new(AuditHmacKey::from_bytes([0x11; 32]), None)
        .prepare(&event)
        .unwrap();
    let json = serde_json::to_string(&record).unwrap();
    for (name, value) in &event.sensitive {
        let plaintext = std::str::from_utf8(value).unwrap();
        assert!(
            !json.contains(plaintext),
            "{plaintext} stored in the clear: {json}"
        );
        assert_eq!(record.hmacs[name], key.hmac_hex(name, value));
        assert!(json.contains(&record.hmacs[name]));
    }
}

#[test]
fn verifying_key_must_match_the_signer() {
    let log = build_log();
    let wrong: VerifyingKey = attacker().verifying_key();
    let report = verify(
        log.records.iter().cloned().map(Ok::<_, Infallible>),
        &log.checkpoints,
        &wrong,
        None,
    )
    .unwrap();
    assert_eq!(
        report.problem,
        Some(Problem::BadCheckpointSignature { seq: 10 })
    );
}
