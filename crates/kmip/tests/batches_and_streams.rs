//! The edges of what the OASIS test cases exercise in their plain paths:
//! Undo batches that cannot be taken back, AES-GCM streams whose key
//! changes, Sensitive keys, Usage Limits and Check, against a real keystore.
// Test code: a panic is a test failure, which is what we want.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use kmip::operation;
use ttlv::{Item, Tag, Value};

use support::*;

/// A Register payload (2.1) of an AES-128 key with `attributes`, Active.
fn register_aes(attributes: Vec<Item>) -> Vec<Item> {
    let mut attributes = attributes;
    attributes.push(Item::new(Tag::ACTIVATION_DATE, Value::DateTime(0)));
    vec![
        Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
        Item::structure(Tag::ATTRIBUTES, attributes),
        Item::structure(
            Tag::SYMMETRIC_KEY,
            vec![key_block(
                1,
                Value::ByteString([7; 16].into()),
                Some((3, 128)),
            )],
        ),
    ]
}

fn undo() -> Item {
    Item::new(Tag::BATCH_ERROR_CONTINUATION_OPTION, Value::Enumeration(3))
}

#[test]
fn an_undo_batch_that_creates_is_refused_before_any_item_runs() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let response = kmip::handle_message(
        &keystore,
        &alice,
        &request_with(
            2,
            1,
            vec![undo()],
            vec![
                (operation::CREATE, create_aes_v2()),
                (operation::ACTIVATE, Vec::new()),
            ],
        ),
    );
    let items = batch_items(&response);
    assert_eq!(items.len(), 1, "{response:?}");
    assert_eq!(reason(items[0]), Some(0x08), "Feature Not Supported");
    let found = call(&keystore, &alice, (2, 1), operation::LOCATE, Vec::new());
    assert!(
        found
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .child(Tag::UNIQUE_IDENTIFIER)
            .is_none(),
        "nothing was created: {found:?}"
    );
}

#[test]
fn an_undo_batch_takes_back_a_revocation_when_a_later_item_fails() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let id = payload_uid(&call(
        &keystore,
        &alice,
        (2, 1),
        operation::REGISTER,
        register_aes(Vec::new()),
    ));
    let revoke = revoke(&id, 2);
    // Check for a use the key has no bit for: fails, after the Revoke.
    let check = vec![
        uid(&id),
        Item::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(1)),
    ];
    let response = kmip::handle_message(
        &keystore,
        &alice,
        &request_with(
            2,
            1,
            vec![undo()],
            vec![(operation::REVOKE, revoke), (operation::CHECK, check)],
        ),
    );
    let items = batch_items(&response);
    assert_eq!(status(items[0]), 3, "Operation Undone: {response:?}");
    assert_eq!(
        reason(items[1]),
        Some(0x29),
        "Incompatible Cryptographic Usage Mask"
    );
    has_attributes(
        &keystore,
        &alice,
        &id,
        &[Item::new(Tag::STATE, Value::Enumeration(2))],
    );
}

#[test]
fn a_gcm_stream_stops_when_its_key_leaves_active() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let id = payload_uid(&call(
        &keystore,
        &alice,
        (2, 1),
        operation::REGISTER,
        register_aes(Vec::new()),
    ));
    let data = |bytes: &[u8]| Item::new(Tag::DATA, Value::ByteString(bytes.into()));
    let started = call(
        &keystore,
        &alice,
        (2, 1),
        operation::ENCRYPT,
        vec![
            uid(&id),
            data(&[1; 20]),
            Item::new(Tag::IV_COUNTER_NONCE, Value::ByteString([9; 12].into())),
            Item::new(Tag::INIT_INDICATOR, Value::Boolean(true)),
        ],
    );
    let correlation = payload_bytes(&started, Tag::CORRELATION_VALUE);
    let next = |with: Vec<Item>| {
        let mut payload = vec![
            uid(&id),
            data(&[2; 20]),
            Item::new(
                Tag::CORRELATION_VALUE,
                Value::ByteString(correlation.clone().into()),
            ),
        ];
        payload.extend(with);
        call(&keystore, &alice, (2, 1), operation::ENCRYPT, payload)
    };
    let middle = next(Vec::new());
    assert_eq!(status(&middle), 0, "{middle:?}");
    // Another session cannot continue it.
    let elsewhere = session("alice");
    let foreign = call(
        &keystore,
        &elsewhere,
        (2, 1),
        operation::ENCRYPT,
        vec![
            uid(&id),
            data(&[2; 4]),
            Item::new(
                Tag::CORRELATION_VALUE,
                Value::ByteString(correlation.clone().into()),
            ),
        ],
    );
    assert_eq!(reason(&foreign), Some(0x07), "{foreign:?}");
    call(&keystore, &alice, (2, 1), operation::REVOKE, revoke(&id, 1));
    let refused = next(vec![Item::new(Tag::FINAL_INDICATOR, Value::Boolean(true))]);
    assert_eq!(reason(&refused), Some(0x43), "{refused:?}");
    // The stream is closed.
    assert_eq!(reason(&next(Vec::new())), Some(0x07));
}

#[test]
fn a_sensitive_key_leaves_only_wrapped_and_usage_limits_count_down() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let sensitive = payload_uid(&call(
        &keystore,
        &alice,
        (2, 1),
        operation::REGISTER,
        register_aes(vec![Item::new(Tag::SENSITIVE, Value::Boolean(true))]),
    ));
    let refused = call(
        &keystore,
        &alice,
        (2, 1),
        operation::GET,
        vec![uid(&sensitive)],
    );
    assert_eq!(reason(&refused), Some(0x16), "Sensitive: {refused:?}");
    let refused = call(
        &keystore,
        &alice,
        (1, 4),
        operation::GET,
        vec![uid(&sensitive)],
    );
    assert_eq!(reason(&refused), Some(0x0C), "Permission Denied in 1.x");

    let limits = Item::structure(
        Tag::USAGE_LIMITS,
        vec![
            Item::new(Tag::USAGE_LIMITS_TOTAL, Value::LongInteger(32)),
            Item::new(Tag::USAGE_LIMITS_UNIT, Value::Enumeration(1)),
        ],
    );
    let limited = payload_uid(&call(
        &keystore,
        &alice,
        (2, 1),
        operation::REGISTER,
        register_aes(vec![limits]),
    ));
    let check = |count: i64| {
        call(
            &keystore,
            &alice,
            (2, 1),
            operation::CHECK,
            vec![
                uid(&limited),
                Item::new(Tag::USAGE_LIMITS_COUNT, Value::LongInteger(count)),
            ],
        )
    };
    assert_eq!(status(&check(32)), 0);
    assert_eq!(reason(&check(33)), Some(0x1A), "Usage Limit Exceeded");
    let encrypt = || {
        call(
            &keystore,
            &alice,
            (2, 1),
            operation::ENCRYPT,
            vec![
                uid(&limited),
                Item::new(Tag::DATA, Value::ByteString([0; 20].into())),
            ],
        )
    };
    assert_eq!(status(&encrypt()), 0);
    assert_eq!(reason(&check(13)), Some(0x1A), "12 bytes are left");
    assert_eq!(
        reason(&encrypt()),
        Some(0x0C),
        "Permission Denied past the limit"
    );
}
