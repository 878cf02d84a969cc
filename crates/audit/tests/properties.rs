//! Property tests: random chains verify clean after a round trip through JSON (as
//! the storage layer keeps them), any single-byte change of any stored field is
//! named as the altered record, and sensitive values never reach the stored form.

// Helpers here run only under the test harness; clippy allows panics in tests
// only inside items marked `cfg(test)`.
#![cfg(test)]

use std::convert::Infallible;

use audit::{
    AuditChain, AuditEvent, AuditHmacKey, AuditRecord, Checkpoint, CheckpointSigner, Problem,
    verify,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

/// Lowercase so that the uppercase sensitive values below cannot occur in them.
const TEXT: &str = "[a-z0-9:._-]{0,12}";

fn event_strategy() -> impl Strategy<Value = AuditEvent> {
    (
        (0i64..4_000_000_000, 0i64..1_000_000_000),
        (TEXT, proptest::option::of(TEXT), TEXT),
        (proptest::option::of(TEXT), TEXT, proptest::option::of(TEXT)),
        proptest::collection::vec(("[a-z_]{1,8}", "[G-Z]{8,16}"), 0..3),
    )
        .prop_map(
            |(
                (secs, nanos),
                (principal, tenant, operation),
                (object_id, result, remote),
                sensitive,
            )| {
                AuditEvent {
                    time: OffsetDateTime::UNIX_EPOCH
                        + Duration::seconds(secs)
                        + Duration::nanoseconds(nanos),
                    principal,
                    tenant,
                    operation,
                    object_id,
                    result,
                    remote,
                    sensitive: sensitive
                        .into_iter()
                        .map(|(name, value)| (name, value.into_bytes()))
                        .collect(),
                }
            },
        )
}

struct Log {
    records: Vec<AuditRecord>,
    checkpoints: Vec<Checkpoint>,
    head: Option<(u64, [u8; 32])>,
}

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(&[0x42; 32])
}

/// Builds the log and passes every record and checkpoint through JSON.
fn build(events: &[AuditEvent], checkpoint_every: u64) -> Log {
    let mut chain = AuditChain::new(AuditHmacKey::from_bytes([0x24; 32]), None);
    let signer = signer();
    let mut log = Log {
        records: Vec::new(),
        checkpoints: Vec::new(),
        head: None,
    };
    for event in events {
        let record = chain.prepare(event).unwrap();
        chain.commit(&record).unwrap();
        if record.seq % checkpoint_every == 0 {
            let checkpoint = signer.sign(record.seq, record.hash, event.time);
            let json = serde_json::to_string(&checkpoint).unwrap();
            log.checkpoints.push(serde_json::from_str(&json).unwrap());
        }
        let json = serde_json::to_string(&record).unwrap();
        log.records.push(serde_json::from_str(&json).unwrap());
    }
    log.head = chain.head();
    log
}

fn first_problem(log: &Log, with_head: bool) -> Option<Problem> {
    verify(
        log.records.iter().cloned().map(Ok::<_, Infallible>),
        &log.checkpoints,
        &signer().verifying_key(),
        if with_head { log.head } else { None },
    )
    .unwrap()
    .problem
}

/// Every byte a stored record holds, by field.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Seq(usize),
    Time(usize),
    Principal(usize),
    Tenant(usize),
    Operation(usize),
    ObjectId(usize),
    Result(usize),
    Remote(usize),
    HmacName(usize, usize),
    HmacValue(usize, usize),
    PrevHash(usize),
    Hash(usize),
}

fn slots(record: &AuditRecord) -> Vec<Slot> {
    let optional = |text: &Option<String>| text.as_ref().map_or(0, String::len);
    let mut slots: Vec<Slot> = Vec::new();
    slots.extend((0..8).map(Slot::Seq));
    slots.extend((0..record.time.len()).map(Slot::Time));
    slots.extend((0..record.principal.len()).map(Slot::Principal));
    slots.extend((0..optional(&record.tenant)).map(Slot::Tenant));
    slots.extend((0..record.operation.len()).map(Slot::Operation));
    slots.extend((0..optional(&record.object_id)).map(Slot::ObjectId));
    slots.extend((0..record.result.len()).map(Slot::Result));
    slots.extend((0..optional(&record.remote)).map(Slot::Remote));
    for (entry, (name, value)) in record.hmacs.iter().enumerate() {
        slots.extend((0..name.len()).map(|byte| Slot::HmacName(entry, byte)));
        slots.extend((0..value.len()).map(|byte| Slot::HmacValue(entry, byte)));
    }
    slots.extend((0..32).map(Slot::PrevHash));
    slots.extend((0..32).map(Slot::Hash));
    slots
}

/// XORs one ASCII byte of a string with a 7-bit mask, so it stays a string.
fn flip_text(text: &mut String, byte: usize, mask: u8) {
    let mut bytes = std::mem::take(text).into_bytes();
    bytes[byte] ^= mask & 0x7f;
    *text = String::from_utf8(bytes).unwrap();
}

fn flip(record: &mut AuditRecord, slot: Slot, mask: u8) {
    match slot {
        Slot::Seq(byte) => record.seq ^= u64::from(mask) << (8 * byte),
        Slot::Time(byte) => flip_text(&mut record.time, byte, mask),
        Slot::Principal(byte) => flip_text(&mut record.principal, byte, mask),
        Slot::Tenant(byte) => flip_text(record.tenant.as_mut().unwrap(), byte, mask),
        Slot::Operation(byte) => flip_text(&mut record.operation, byte, mask),
        Slot::ObjectId(byte) => flip_text(record.object_id.as_mut().unwrap(), byte, mask),
        Slot::Result(byte) => flip_text(&mut record.result, byte, mask),
        Slot::Remote(byte) => flip_text(record.remote.as_mut().unwrap(), byte, mask),
        Slot::HmacName(entry, byte) => {
            let name = record.hmacs.keys().nth(entry).unwrap().clone();
            let value = record.hmacs.remove(&name).unwrap();
            let mut name = name;
            flip_text(&mut name, byte, mask);
            record.hmacs.insert(name, value);
        }
        Slot::HmacValue(entry, byte) => {
            flip_text(record.hmacs.values_mut().nth(entry).unwrap(), byte, mask)
        }
        Slot::PrevHash(byte) => record.prev_hash[byte] ^= mask,
        Slot::Hash(byte) => record.hash[byte] ^= mask,
    }
}

proptest! {
    #[test]
    fn random_chains_verify_clean(
        events in proptest::collection::vec(event_strategy(), 0..30),
        checkpoint_every in 1u64..8,
    ) {
        let log = build(&events, checkpoint_every);
        prop_assert_eq!(first_problem(&log, false), None);
        prop_assert_eq!(first_problem(&log, true), None);
    }

    #[test]
    fn any_single_byte_change_names_the_record(
        events in proptest::collection::vec(event_strategy(), 1..20),
        checkpoint_every in 1u64..8,
        record_choice in any::<prop::sample::Index>(),
        slot_choice in any::<prop::sample::Index>(),
        mask in 1u8..0x80,
    ) {
        let mut log = build(&events, checkpoint_every);
        let index = record_choice.index(log.records.len());
        let record = &mut log.records[index];
        let slot = *slot_choice.get(&slots(record));
        let before = record.clone();
        flip(record, slot, mask);
        prop_assert_ne!(&*record, &before);
        let seq = before.seq;
        prop_assert_eq!(first_problem(&log, false), Some(Problem::Altered { seq }), "{:?}", slot);
        prop_assert_eq!(first_problem(&log, true), Some(Problem::Altered { seq }), "{:?}", slot);
    }

    #[test]
    fn sensitive_values_never_appear_in_stored_records(
        events in proptest::collection::vec(event_strategy(), 1..10),
    ) {
        let chain = AuditChain::new(AuditHmacKey::from_bytes([0x24; 32]), None);
        for event in &events {
            let json = serde_json::to_string(&chain.prepare(event).unwrap()).unwrap();
            for (_, value) in &event.sensitive {
                let plaintext = std::str::from_utf8(value).unwrap();
                prop_assert!(!json.contains(plaintext), "{} in {}", plaintext, json);
            }
        }
    }
}
