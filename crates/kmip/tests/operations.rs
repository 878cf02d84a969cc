//! KMIP operations run through `handle_message` against a real keystore on SQLite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::sync::Arc;

use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore};
use kmip::{Session, operation};
use ttlv::{Item, Tag, Value};

use support::*;

#[test]
fn symmetric_key_lifecycle_follows_the_state_rules() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    let v = (1, 4);

    let created = call(
        &keystore,
        &session,
        v,
        kmip::operation::CREATE,
        create_aes_v1("My Key 1"),
    );
    assert_eq!(status(&created), 0, "{created:?}");
    let id = payload_uid(&created);

    // Pre-Active: Encrypt is refused with Illegal Operation in 1.x.
    let data = Item::new(Tag::DATA, Value::ByteString(b"hello".to_vec().into()));
    let refused = call(
        &keystore,
        &session,
        v,
        kmip::operation::ENCRYPT,
        vec![uid(&id), data.clone()],
    );
    assert_eq!(status(&refused), 1);
    // KMIP 1.x has no Wrong Key Lifecycle State: Permission Denied, as the
    // OASIS 1.4 test cases answer.
    assert_eq!(reason(&refused), Some(0x0C));

    let activated = call(
        &keystore,
        &session,
        v,
        kmip::operation::ACTIVATE,
        vec![uid(&id)],
    );
    assert_eq!(status(&activated), 0, "{activated:?}");
    let again = call(
        &keystore,
        &session,
        v,
        kmip::operation::ACTIVATE,
        vec![uid(&id)],
    );
    assert_eq!(status(&again), 1, "Activate only from Pre-Active");

    let encrypted = call(
        &keystore,
        &session,
        v,
        kmip::operation::ENCRYPT,
        vec![uid(&id), data],
    );
    assert_eq!(status(&encrypted), 0, "{encrypted:?}");
    let payload = encrypted.child(Tag::RESPONSE_PAYLOAD).unwrap();
    let mut decrypt = vec![uid(&id)];
    for tag in [
        Tag::DATA,
        Tag::IV_COUNTER_NONCE,
        Tag::AUTHENTICATED_ENCRYPTION_TAG,
    ] {
        decrypt.push(payload.child(tag).unwrap().clone());
    }
    let decrypted = call(&keystore, &session, v, kmip::operation::DECRYPT, decrypt);
    assert_eq!(
        decrypted
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .child(Tag::DATA)
            .unwrap()
            .value,
        Value::ByteString(b"hello".to_vec().into())
    );

    let got = call(&keystore, &session, v, kmip::operation::GET, vec![uid(&id)]);
    let material = got
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|p| p.child(Tag::SYMMETRIC_KEY))
        .and_then(|k| k.child(Tag::KEY_BLOCK))
        .and_then(|b| b.child(Tag::KEY_VALUE))
        .and_then(|v| v.child(Tag::KEY_MATERIAL))
        .unwrap();
    assert!(matches!(&material.value, Value::ByteString(bytes) if bytes.len() == 32));

    let located = call(
        &keystore,
        &session,
        v,
        kmip::operation::LOCATE,
        vec![Item::structure(
            Tag::ATTRIBUTE,
            vec![
                Item::new(Tag::ATTRIBUTE_NAME, Value::TextString("Name".to_owned())),
                Item::new(
                    Tag::ATTRIBUTE_VALUE,
                    Value::Structure(vec![
                        Item::new(Tag::NAME_VALUE, Value::TextString("My Key 1".to_owned())),
                        Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
                    ]),
                ),
            ],
        )],
    );
    assert_eq!(payload_uid(&located), id);

    let attributes = call(
        &keystore,
        &session,
        v,
        kmip::operation::GET_ATTRIBUTES,
        vec![uid(&id)],
    );
    let names: Vec<String> = attributes
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .children()
        .iter()
        .filter(|item| item.tag == Tag::ATTRIBUTE)
        .map(
            |item| match &item.child(Tag::ATTRIBUTE_NAME).unwrap().value {
                Value::TextString(name) => name.clone(),
                _ => panic!("attribute name is not text"),
            },
        )
        .collect();
    assert!(
        names.contains(&"Cryptographic Usage Mask".to_owned()),
        "{names:?}"
    );
    assert!(names.contains(&"State".to_owned()), "{names:?}");

    let destroy_active = call(
        &keystore,
        &session,
        v,
        kmip::operation::DESTROY,
        vec![uid(&id)],
    );
    assert_eq!(
        status(&destroy_active),
        1,
        "an active key must be revoked first"
    );
    let revoke = call(
        &keystore,
        &session,
        v,
        kmip::operation::REVOKE,
        vec![
            uid(&id),
            Item::structure(
                Tag::REVOCATION_REASON,
                vec![Item::new(
                    Tag::REVOCATION_REASON_CODE,
                    Value::Enumeration(6),
                )],
            ),
        ],
    );
    assert_eq!(status(&revoke), 0, "{revoke:?}");
    let destroyed = call(
        &keystore,
        &session,
        v,
        kmip::operation::DESTROY,
        vec![uid(&id)],
    );
    assert_eq!(status(&destroyed), 0, "{destroyed:?}");
    let gone = call(&keystore, &session, v, kmip::operation::GET, vec![uid(&id)]);
    assert_eq!(status(&gone), 1, "no Get of a destroyed object's material");
}

#[test]
fn version_2_uses_the_attributes_structure_and_answers_in_2_0() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request(2, 0, vec![(kmip::operation::CREATE, create_aes_v2())]),
    );
    let version = response
        .child(Tag::RESPONSE_HEADER)
        .and_then(|h| h.child(Tag::PROTOCOL_VERSION))
        .unwrap();
    assert_eq!(
        version.child(Tag::PROTOCOL_VERSION_MINOR).unwrap().value,
        Value::Integer(0)
    );
    let id = payload_uid(batch_items(&response)[0]);
    let attributes = call(
        &keystore,
        &session,
        (2, 0),
        kmip::operation::GET_ATTRIBUTES,
        vec![uid(&id)],
    );
    let structure = attributes
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|p| p.child(Tag::ATTRIBUTES))
        .unwrap();
    assert_eq!(
        structure.child(Tag::CRYPTOGRAPHIC_LENGTH).unwrap().value,
        Value::Integer(128)
    );
}

#[test]
fn other_tenants_objects_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alpha = session("alpha");
    let beta = session("beta");
    let created = call(
        &keystore,
        &alpha,
        (1, 2),
        kmip::operation::CREATE,
        create_aes_v1("shared-name"),
    );
    let id = payload_uid(&created);
    let stolen = call(
        &keystore,
        &beta,
        (1, 2),
        kmip::operation::GET,
        vec![uid(&id)],
    );
    assert_eq!(status(&stolen), 1);
    assert_eq!(reason(&stolen), Some(0x01), "Item Not Found");
    let located = call(
        &keystore,
        &beta,
        (1, 2),
        kmip::operation::LOCATE,
        Vec::new(),
    );
    assert!(
        located
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .child(Tag::UNIQUE_IDENTIFIER)
            .is_none()
    );
}

#[test]
fn unknown_operations_and_bad_payloads_get_error_results_in_the_same_message() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    // Batch Error Continuation Option 1: Continue.
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request_with(
            1,
            0,
            vec![continue_option(1)],
            vec![
                // Archive, which this server does not do.
                (0x15, Vec::new()),
                (
                    kmip::operation::CREATE,
                    vec![Item::new(Tag::OBJECT_TYPE, Value::Integer(2))],
                ),
                (
                    kmip::operation::RNG_RETRIEVE,
                    vec![Item::new(Tag::DATA_LENGTH, Value::Integer(16))],
                ),
            ],
        ),
    );
    let items = batch_items(&response);
    assert_eq!(items.len(), 3);
    assert_eq!(reason(items[0]), Some(0x05), "Operation Not Supported");
    assert_eq!(status(items[1]), 1);
    assert_eq!(status(items[2]), 0);
    let version = response
        .child(Tag::RESPONSE_HEADER)
        .and_then(|h| h.child(Tag::PROTOCOL_VERSION))
        .unwrap();
    assert_eq!(
        version.child(Tag::PROTOCOL_VERSION_MAJOR).unwrap().value,
        Value::Integer(1)
    );
    assert_eq!(
        version.child(Tag::PROTOCOL_VERSION_MINOR).unwrap().value,
        Value::Integer(0)
    );
}

#[test]
fn rejects_undecodable_bytes_with_invalid_message() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let answer = kmip::handle_bytes(
        &keystore,
        &session("alpha"),
        &[0x42, 0x00, 0x78, 0x01, 0, 0, 0, 8, 1, 2],
    );
    let response = ttlv::decode(&answer).unwrap();
    assert_eq!(reason(batch_items(&response)[0]), Some(0x04));
}

#[test]
fn a_refused_message_fails_every_item_in_its_version_and_runs_none() {
    let refused = kmip::KmipError::new(
        kmip::ResultReason::AuthenticationNotSuccessful,
        "node 'n' was decommissioned",
    );
    let message = ttlv::encode(&request(
        2,
        0,
        vec![
            (operation::CREATE, create_aes_v2()),
            (operation::QUERY, Vec::new()),
        ],
    ));
    let response = ttlv::decode(&kmip::refusal(&message, &refused)).unwrap();
    let items = batch_items(&response);
    assert_eq!(items.len(), 2);
    for (item, code) in items.iter().zip([operation::CREATE, operation::QUERY]) {
        assert_eq!(item.child_enumeration(Tag::OPERATION), Some(code));
        assert_eq!(status(item), 1);
        assert_eq!(reason(item), Some(0x03), "Authentication Not Successful");
        assert!(item.child(Tag::RESPONSE_PAYLOAD).is_none());
    }
    let version = response
        .child(Tag::RESPONSE_HEADER)
        .and_then(|header| header.child(Tag::PROTOCOL_VERSION))
        .unwrap();
    assert_eq!(version.child_i32(Tag::PROTOCOL_VERSION_MAJOR), Some(2));
    // Bytes that are no request: one failed item, in 1.4.
    let response = ttlv::decode(&kmip::refusal(&[0x42, 0x00], &refused)).unwrap();
    assert_eq!(reason(batch_items(&response)[0]), Some(0x03));
}

#[test]
fn a_node_session_cannot_get_or_derive_from_secret_data() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let meta = keystore
        .create_secret(
            &Caller::system(),
            "alpha",
            "db-password",
            std::collections::BTreeMap::new(),
            SecretBytes::from_slice(b"s3cr3t"),
        )
        .unwrap();
    let operator = session("alpha");
    let got = call(
        &keystore,
        &operator,
        (1, 2),
        kmip::operation::GET,
        vec![uid(&meta.id)],
    );
    assert_eq!(status(&got), 0, "{got:?}");
    let mut node = session("alpha");
    node.rights.read_secret_data = false;
    let refused = call(
        &keystore,
        &node,
        (1, 2),
        kmip::operation::GET,
        vec![uid(&meta.id)],
    );
    assert_eq!(status(&refused), 1);
    assert_eq!(reason(&refused), Some(0x0C), "Permission Denied");
    // Nor derive a key from it, which it could then Get.
    let refused = call(
        &keystore,
        &node,
        (2, 0),
        kmip::operation::DERIVE_KEY,
        vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
            uid(&meta.id),
            Item::new(Tag::DERIVATION_METHOD, Value::Enumeration(0x05)),
            Item::structure(
                Tag::DERIVATION_PARAMETERS,
                vec![Item::new(
                    Tag::DERIVATION_DATA,
                    Value::ByteString(b"x".to_vec().into()),
                )],
            ),
            Item::structure(
                Tag::ATTRIBUTES,
                vec![
                    Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
                    Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
                ],
            ),
        ],
    );
    assert_eq!(reason(&refused), Some(0x0C), "{refused:?}");
}

/// A Create Key Pair payload: 1.x templates or 2.x attribute structures, the
/// algorithm and length in the common part, a name for each half.
fn create_pair(version_major: i32, algorithm: u32, length: i32, name: &str) -> Vec<Item> {
    let name_value = |suffix: &str| {
        Value::Structure(vec![
            Item::new(
                Tag::NAME_VALUE,
                Value::TextString(format!("{name}-{suffix}")),
            ),
            Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
        ])
    };
    if version_major >= 2 {
        return vec![
            Item::structure(
                Tag::COMMON_ATTRIBUTES,
                vec![
                    Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(algorithm)),
                    Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)),
                ],
            ),
            Item::structure(
                Tag::PRIVATE_KEY_ATTRIBUTES,
                vec![Item::new(Tag::NAME, name_value("private"))],
            ),
            Item::structure(
                Tag::PUBLIC_KEY_ATTRIBUTES,
                vec![Item::new(Tag::NAME, name_value("public"))],
            ),
        ];
    }
    vec![
        Item::structure(
            Tag::COMMON_TEMPLATE_ATTRIBUTE,
            vec![
                attribute("Cryptographic Algorithm", Value::Enumeration(algorithm)),
                attribute("Cryptographic Length", Value::Integer(length)),
            ],
        ),
        Item::structure(
            Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
            vec![attribute("Name", name_value("private"))],
        ),
        Item::structure(
            Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
            vec![attribute("Name", name_value("public"))],
        ),
    ]
}

fn parameters(children: Vec<(Tag, u32)>) -> Item {
    Item::structure(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        children
            .into_iter()
            .map(|(tag, value)| Item::new(tag, Value::Enumeration(value)))
            .collect(),
    )
}

/// The Link attribute in a Get Attributes response, in either shape.
fn link_of(response: &Item) -> (u32, String) {
    let payload = response.child(Tag::RESPONSE_PAYLOAD).unwrap();
    let link = payload
        .child(Tag::ATTRIBUTES)
        .and_then(|attributes| attributes.child(Tag::LINK))
        .cloned()
        .or_else(|| {
            payload
                .children()
                .iter()
                .filter(|item| item.tag == Tag::ATTRIBUTE)
                .find(|item| {
                    item.child(Tag::ATTRIBUTE_NAME).map(|name| &name.value)
                        == Some(&Value::TextString("Link".to_owned()))
                })
                .map(|item| {
                    let value = item.child(Tag::ATTRIBUTE_VALUE).unwrap();
                    Item::new(Tag::LINK, value.value.clone())
                })
        })
        .expect("a Link attribute");
    let link_type = match link.child(Tag::LINK_TYPE).unwrap().value {
        Value::Enumeration(value) => value,
        _ => panic!("link type"),
    };
    let linked = match &link.child(Tag::LINKED_OBJECT_IDENTIFIER).unwrap().value {
        Value::TextString(id) => id.clone(),
        _ => panic!("linked id"),
    };
    (link_type, linked)
}

#[test]
fn key_pairs_are_linked_follow_the_state_rules_and_sign_in_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    // (version, algorithm, length): one RSA-2048 generation, EC on both curves.
    for (version, algorithm, length) in [
        ((1, 4), 0x04, 2048),
        ((2, 0), 0x06, 256),
        ((1, 2), 0x1A, 384),
    ] {
        let created = call(
            &keystore,
            &alice,
            version,
            operation::CREATE_KEY_PAIR,
            create_pair(version.0, algorithm, length, &format!("pair-{length}")),
        );
        assert_eq!(status(&created), 0, "{created:?}");
        let private = payload_text(&created, Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
        let public = payload_text(&created, Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);

        // Each half links to the other.
        let attributes = call(
            &keystore,
            &alice,
            version,
            operation::GET_ATTRIBUTES,
            vec![uid(&private)],
        );
        assert_eq!(link_of(&attributes), (0x0102, public.clone()));
        let attributes = call(
            &keystore,
            &alice,
            version,
            operation::GET_ATTRIBUTES,
            vec![uid(&public)],
        );
        assert_eq!(link_of(&attributes), (0x0103, private.clone()));

        // Get answers PKCS#8 for the private key, PKCS#1 (RSA) or X.509 (EC)
        // for the public one, and the other format when asked.
        let got = call(
            &keystore,
            &alice,
            version,
            operation::GET,
            vec![uid(&private)],
        );
        assert_eq!(status(&got), 0, "{got:?}");
        let block = got
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .child(Tag::PRIVATE_KEY)
            .unwrap()
            .child(Tag::KEY_BLOCK)
            .unwrap();
        assert_eq!(
            block.child(Tag::KEY_FORMAT_TYPE).unwrap().value,
            Value::Enumeration(4)
        );
        assert_eq!(
            block.child(Tag::CRYPTOGRAPHIC_LENGTH).unwrap().value,
            Value::Integer(length)
        );
        let got = call(
            &keystore,
            &alice,
            version,
            operation::GET,
            vec![uid(&public)],
        );
        let block = got
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .child(Tag::PUBLIC_KEY)
            .unwrap()
            .child(Tag::KEY_BLOCK)
            .unwrap();
        let expected_format = if algorithm == 0x04 { 3 } else { 5 };
        assert_eq!(
            block.child(Tag::KEY_FORMAT_TYPE).unwrap().value,
            Value::Enumeration(expected_format)
        );
        let other_format = if algorithm == 0x04 { 5 } else { 1 };
        let got = call(
            &keystore,
            &alice,
            version,
            operation::GET,
            vec![
                uid(&public),
                Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(other_format)),
            ],
        );
        assert_eq!(status(&got), 0, "{got:?}");
        let refused = call(
            &keystore,
            &alice,
            version,
            operation::GET,
            vec![
                uid(&private),
                Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(7)),
            ],
        );
        assert_eq!(reason(&refused), Some(0x10));

        // A Pre-Active private key may not sign.
        let data = Item::new(
            Tag::DATA,
            Value::ByteString(b"to be signed".to_vec().into()),
        );
        let refused = call(
            &keystore,
            &alice,
            version,
            operation::SIGN,
            vec![uid(&private), data.clone()],
        );
        let wrong_state = if version.0 >= 2 { 0x43 } else { 0x0C };
        assert_eq!(reason(&refused), Some(wrong_state), "{refused:?}");
        for id in [&private, &public] {
            assert_eq!(
                status(&call(
                    &keystore,
                    &alice,
                    version,
                    operation::ACTIVATE,
                    vec![uid(id)]
                )),
                0
            );
        }

        // Sign with the private key, verify with the public one; the public key
        // cannot sign.
        let schemes = if algorithm == 0x04 {
            vec![
                vec![(Tag::PADDING_METHOD, 0x0A), (Tag::HASHING_ALGORITHM, 0x06)],
                vec![(Tag::DIGITAL_SIGNATURE_ALGORITHM, 0x07)],
            ]
        } else {
            vec![Vec::new()]
        };
        for scheme in schemes {
            let signed = call(
                &keystore,
                &alice,
                version,
                operation::SIGN,
                vec![uid(&private), parameters(scheme.clone()), data.clone()],
            );
            assert_eq!(status(&signed), 0, "{signed:?}");
            let signature = payload_bytes(&signed, Tag::SIGNATURE_DATA);
            for (message, indicator) in [(b"to be signed".to_vec(), 1), (b"tampered".to_vec(), 2)] {
                let verified = call(
                    &keystore,
                    &alice,
                    version,
                    operation::SIGNATURE_VERIFY,
                    vec![
                        uid(&public),
                        parameters(scheme.clone()),
                        Item::new(Tag::DATA, Value::ByteString(message.into())),
                        Item::new(
                            Tag::SIGNATURE_DATA,
                            Value::ByteString(signature.clone().into()),
                        ),
                    ],
                );
                assert_eq!(
                    verified
                        .child(Tag::RESPONSE_PAYLOAD)
                        .unwrap()
                        .child(Tag::VALIDITY_INDICATOR)
                        .unwrap()
                        .value,
                    Value::Enumeration(indicator)
                );
            }
        }
        let refused = call(
            &keystore,
            &alice,
            version,
            operation::SIGN,
            vec![uid(&public), data.clone()],
        );
        assert_eq!(reason(&refused), Some(0x07), "{refused:?}");

        if algorithm == 0x04 {
            // RSA OAEP with SHA-256; PKCS#1 v1.5 encryption is refused.
            let oaep = parameters(vec![
                (Tag::PADDING_METHOD, 0x02),
                (Tag::HASHING_ALGORITHM, 0x06),
            ]);
            let sealed = call(
                &keystore,
                &alice,
                version,
                operation::ENCRYPT,
                vec![uid(&public), oaep.clone(), data.clone()],
            );
            assert_eq!(status(&sealed), 0, "{sealed:?}");
            let ciphertext = payload_bytes(&sealed, Tag::DATA);
            let opened = call(
                &keystore,
                &alice,
                version,
                operation::DECRYPT,
                vec![
                    uid(&private),
                    oaep,
                    Item::new(Tag::DATA, Value::ByteString(ciphertext.into())),
                ],
            );
            assert_eq!(payload_bytes(&opened, Tag::DATA), b"to be signed");
            let refused = call(
                &keystore,
                &alice,
                version,
                operation::ENCRYPT,
                vec![
                    uid(&public),
                    parameters(vec![(Tag::PADDING_METHOD, 0x08)]),
                    data.clone(),
                ],
            );
            assert_eq!(reason(&refused), Some(0x08), "{refused:?}");
        } else {
            // ECDSA with the other curve's hash is not supported.
            let other_hash = if length == 256 { 0x0F } else { 0x0E };
            let refused = call(
                &keystore,
                &alice,
                version,
                operation::SIGN,
                vec![
                    uid(&private),
                    parameters(vec![(Tag::DIGITAL_SIGNATURE_ALGORITHM, other_hash)]),
                    data.clone(),
                ],
            );
            assert_eq!(reason(&refused), Some(0x08), "{refused:?}");
        }

        // Another tenant sees neither half.
        let bob = session("bob");
        let hidden = call(
            &keystore,
            &bob,
            version,
            operation::SIGN,
            vec![uid(&private), data.clone()],
        );
        assert_eq!(reason(&hidden), Some(0x01));
    }

    // Unsupported sizes and curves answer precisely.
    let refused = call(
        &keystore,
        &alice,
        (2, 0),
        operation::CREATE_KEY_PAIR,
        create_pair(2, 0x04, 1024, "small"),
    );
    assert_eq!(reason(&refused), Some(0x07), "{refused:?}");
    let refused = call(
        &keystore,
        &alice,
        (2, 0),
        operation::CREATE_KEY_PAIR,
        create_pair(2, 0x06, 521, "p521"),
    );
    assert_eq!(reason(&refused), Some(0x08), "{refused:?}");
}

/// One attribute change: version, operation, the payload after the identifier,
/// the result reason expected (None: success), the Object Group afterwards.
type Step = ((i32, i32), u32, Item, Option<u32>, Option<&'static str>);

#[test]
fn attributes_are_added_modified_set_and_deleted_by_the_rules_in_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let created = call(&keystore, &alice, (2, 0), 0x01, create_aes_v2());
    let id = payload_uid(&created);
    let group = |text: &str| Value::TextString(text.to_owned());
    let new =
        |tag: Tag, value: Value| Item::structure(Tag::NEW_ATTRIBUTE, vec![Item::new(tag, value)]);
    let one = (1, 4);
    let two = (2, 0);
    let steps: Vec<Step> = vec![
        (
            one,
            operation::ADD_ATTRIBUTE,
            attribute("Object Group", group("payments")),
            None,
            Some("payments"),
        ),
        // Single-valued here: Invalid Field in 1.x.
        (
            one,
            operation::ADD_ATTRIBUTE,
            attribute("Object Group", group("other")),
            Some(0x07),
            Some("payments"),
        ),
        (
            one,
            operation::MODIFY_ATTRIBUTE,
            attribute("Object Group", group("billing")),
            None,
            Some("billing"),
        ),
        (
            one,
            operation::DELETE_ATTRIBUTE,
            Item::new(Tag::ATTRIBUTE_NAME, group("Object Group")),
            None,
            None,
        ),
        // Absent: Item Not Found in 1.x.
        (
            one,
            operation::MODIFY_ATTRIBUTE,
            attribute("Object Group", group("x")),
            Some(0x01),
            None,
        ),
        // Read-only: Permission Denied in 1.x, Attribute Read Only in 2.x.
        (
            one,
            operation::MODIFY_ATTRIBUTE,
            attribute("Cryptographic Length", Value::Integer(256)),
            Some(0x0C),
            None,
        ),
        (
            two,
            operation::SET_ATTRIBUTE,
            new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(4)),
            Some(0x22),
            None,
        ),
        // Wrong value type.
        (
            two,
            operation::SET_ATTRIBUTE,
            new(Tag::OBJECT_GROUP, Value::Integer(1)),
            Some(0x07),
            None,
        ),
        (
            two,
            operation::SET_ATTRIBUTE,
            new(Tag::OBJECT_GROUP, group("ops")),
            None,
            Some("ops"),
        ),
        // Attribute Single Valued, Attribute Not Found.
        (
            two,
            operation::ADD_ATTRIBUTE,
            new(Tag::OBJECT_GROUP, group("ops2")),
            Some(0x23),
            Some("ops"),
        ),
        (
            two,
            operation::MODIFY_ATTRIBUTE,
            new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(4)),
            Some(0x21),
            Some("ops"),
        ),
        (
            two,
            operation::DELETE_ATTRIBUTE,
            Item::new(
                Tag::ATTRIBUTE_REFERENCE,
                Value::Enumeration(Tag::OBJECT_GROUP.value()),
            ),
            None,
            None,
        ),
    ];
    for (index, (version, operation, argument, expected, group_after)) in
        steps.into_iter().enumerate()
    {
        let response = call(
            &keystore,
            &alice,
            version,
            operation,
            vec![uid(&id), argument],
        );
        assert_eq!(reason(&response), expected, "step {index}: {response:?}");
        let attributes = call(&keystore, &alice, two, 0x0B, vec![uid(&id)]);
        let current = attributes
            .child(Tag::RESPONSE_PAYLOAD)
            .and_then(|payload| payload.child(Tag::ATTRIBUTES))
            .and_then(|attributes| attributes.child(Tag::OBJECT_GROUP))
            .map(|item| item.value.clone());
        assert_eq!(current, group_after.map(group), "step {index}");
    }

    // Another tenant cannot change the object, and a role without key
    // management may not.
    let mut reader = session("alice");
    reader.rights.manage_keys = false;
    for (session, expected) in [(session("bob"), 0x01), (reader, 0x0C)] {
        let refused = call(
            &keystore,
            &session,
            two,
            operation::SET_ATTRIBUTE,
            vec![uid(&id), new(Tag::OBJECT_GROUP, group("mine"))],
        );
        assert_eq!(reason(&refused), Some(expected));
    }
}

#[test]
fn derive_key_follows_each_method_and_the_state_rules() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let base = payload_uid(&call(&keystore, &alice, (2, 0), 0x01, create_aes_v2()));
    let material = |id: &str| {
        let got = call(&keystore, &alice, (2, 0), operation::GET, vec![uid(id)]);
        let key = got
            .child(Tag::RESPONSE_PAYLOAD)
            .and_then(|payload| payload.child(Tag::SYMMETRIC_KEY))
            .and_then(|key| key.child(Tag::KEY_BLOCK))
            .and_then(|block| block.child(Tag::KEY_VALUE))
            .and_then(|value| value.child(Tag::KEY_MATERIAL))
            .map(|material| material.value.clone());
        match key {
            Some(Value::ByteString(bytes)) => bytes,
            other => panic!("no key material in {got:?}: {other:?}"),
        }
    };
    let derive = |method: u32, parameters: Vec<Item>| {
        call(
            &keystore,
            &alice,
            (2, 0),
            operation::DERIVE_KEY,
            vec![
                Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
                uid(&base),
                Item::new(Tag::DERIVATION_METHOD, Value::Enumeration(method)),
                Item::structure(Tag::DERIVATION_PARAMETERS, parameters),
                Item::structure(
                    Tag::ATTRIBUTES,
                    vec![
                        Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
                        Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
                    ],
                ),
            ],
        )
    };
    let data = Item::new(
        Tag::DERIVATION_DATA,
        Value::ByteString(b"context".to_vec().into()),
    );
    let salt = Item::new(Tag::SALT, Value::ByteString(b"salt".to_vec().into()));

    // The base key must be Active.
    let refused = derive(0x05, vec![data.clone()]);
    assert_eq!(reason(&refused), Some(0x43), "{refused:?}");
    call(
        &keystore,
        &alice,
        (2, 0),
        operation::ACTIVATE,
        vec![uid(&base)],
    );

    let mut derived = Vec::new();
    for (method, parameters) in [
        (
            0x01,
            vec![
                salt.clone(),
                Item::new(Tag::ITERATION_COUNT, Value::Integer(10)),
            ],
        ),
        (0x03, vec![salt.clone(), data.clone()]),
        (0x05, vec![data.clone()]),
        (
            0x04,
            vec![
                Item::structure(
                    Tag::CRYPTOGRAPHIC_PARAMETERS,
                    vec![
                        Item::new(Tag::BLOCK_CIPHER_MODE, Value::Enumeration(1)),
                        Item::new(Tag::PADDING_METHOD, Value::Enumeration(3)),
                    ],
                ),
                Item::new(
                    Tag::INITIALIZATION_VECTOR,
                    Value::ByteString(vec![0; 16].into()),
                ),
                Item::new(Tag::DERIVATION_DATA, Value::ByteString(vec![9; 32].into())),
            ],
        ),
    ] {
        let response = derive(method, parameters);
        assert_eq!(status(&response), 0, "method {method}: {response:?}");
        let key = material(&payload_uid(&response));
        assert_eq!(key.len(), 32);
        derived.push(key);
    }
    // The same inputs derive the same key; the methods differ from each other.
    let again = derive(0x05, vec![data.clone()]);
    assert_eq!(material(&payload_uid(&again)), derived[2]);
    derived.sort();
    derived.dedup();
    assert_eq!(derived.len(), 4);

    // Missing inputs and unsupported methods answer precisely.
    assert_eq!(reason(&derive(0x01, vec![salt.clone()])), Some(0x06));
    assert_eq!(reason(&derive(0x05, Vec::new())), Some(0x06));
    assert_eq!(reason(&derive(0x08, vec![data])), Some(0x08));
}

#[test]
fn get_wraps_key_material_with_an_active_aes_key() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let create_256 = || {
        let mut payload = create_aes_v2();
        payload[1] = Item::structure(
            Tag::ATTRIBUTES,
            vec![
                Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
                Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
            ],
        );
        payload_uid(&call(&keystore, &alice, (2, 0), 0x01, payload))
    };
    let key = create_256();
    let kek = create_256();
    let specification = |wrapping_id: &str, mode: u32| {
        Item::structure(
            Tag::KEY_WRAPPING_SPECIFICATION,
            vec![
                Item::new(Tag::WRAPPING_METHOD, Value::Enumeration(1)),
                Item::structure(
                    Tag::ENCRYPTION_KEY_INFORMATION,
                    vec![
                        uid(wrapping_id),
                        Item::structure(
                            Tag::CRYPTOGRAPHIC_PARAMETERS,
                            vec![Item::new(Tag::BLOCK_CIPHER_MODE, Value::Enumeration(mode))],
                        ),
                    ],
                ),
                Item::new(Tag::ENCODING_OPTION, Value::Enumeration(1)),
            ],
        )
    };
    let get = |version: (i32, i32), wrapping_id: &str, mode: u32| {
        call(
            &keystore,
            &alice,
            version,
            operation::GET,
            vec![uid(&key), specification(wrapping_id, mode)],
        )
    };
    // A Pre-Active wrapping key may not wrap.
    assert_eq!(reason(&get((2, 0), &kek, 0x0D)), Some(0x43));
    call(
        &keystore,
        &alice,
        (2, 0),
        operation::ACTIVATE,
        vec![uid(&kek)],
    );
    for (mode, length) in [(0x0D, 40), (0x0C, 40)] {
        let wrapped = get((1, 4), &kek, mode);
        assert_eq!(status(&wrapped), 0, "{wrapped:?}");
        let block = wrapped
            .child(Tag::RESPONSE_PAYLOAD)
            .and_then(|payload| payload.child(Tag::SYMMETRIC_KEY))
            .and_then(|key| key.child(Tag::KEY_BLOCK))
            .unwrap();
        match &block.child(Tag::KEY_VALUE).unwrap().value {
            Value::ByteString(bytes) => assert_eq!(bytes.len(), length),
            other => panic!("the key value is not wrapped bytes: {other:?}"),
        }
        let data = block.child(Tag::KEY_WRAPPING_DATA).unwrap();
        let named = data
            .child(Tag::ENCRYPTION_KEY_INFORMATION)
            .and_then(|information| information.child(Tag::UNIQUE_IDENTIFIER))
            .map(|id| id.value.clone());
        assert_eq!(named, Some(Value::TextString(kek.clone())));
    }
    // Wrapping is deterministic: the same key and KEK give the same bytes.
    assert_eq!(get((2, 0), &kek, 0x0D), get((2, 0), &kek, 0x0D));
    // Itself, an unknown key, another mode: refused precisely.
    assert_eq!(reason(&get((2, 0), &key, 0x0D)), Some(0x07));
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_eq!(reason(&get((2, 0), unknown, 0x0D)), Some(0x42));
    assert_eq!(reason(&get((1, 4), unknown, 0x0D)), Some(0x01));
    assert_eq!(reason(&get((2, 0), &kek, 0x01)), Some(0x08));
    // Another tenant's key cannot wrap.
    let bob = session("bob");
    let bob_key = payload_uid(&call(&keystore, &bob, (2, 0), 0x01, create_aes_v2()));
    let refused = call(
        &keystore,
        &bob,
        (2, 0),
        operation::GET,
        vec![uid(&bob_key), specification(&kek, 0x0D)],
    );
    assert_eq!(reason(&refused), Some(0x42));
}

/// Runs one operation that must fail and returns its result reason.
fn refusal(
    keystore: &Keystore,
    session: &Session,
    version: (i32, i32),
    op: u32,
    payload: Vec<Item>,
) -> u32 {
    let refused = call(keystore, session, version, op, payload);
    assert_eq!(status(&refused), 1, "{refused:?}");
    reason(&refused).unwrap_or_else(|| panic!("no result reason in {refused:?}"))
}

/// Activates each object, which must succeed.
fn activate_all(keystore: &Keystore, session: &Session, ids: &[&String]) {
    for id in ids {
        let activated = call(
            keystore,
            session,
            (1, 4),
            operation::ACTIVATE,
            vec![uid(id)],
        );
        assert_eq!(status(&activated), 0, "{activated:?}");
    }
}

/// Signs `data` with `private` and checks the signature with `public`.
fn signs_and_verifies(keystore: &Keystore, session: &Session, private: &str, public: &str) {
    let data = Item::new(Tag::DATA, Value::ByteString(b"registered".to_vec().into()));
    let signed = call(
        keystore,
        session,
        (1, 4),
        operation::SIGN,
        vec![uid(private), data.clone()],
    );
    assert_eq!(status(&signed), 0, "{signed:?}");
    let signature = payload_bytes(&signed, Tag::SIGNATURE_DATA);
    let verified = call(
        keystore,
        session,
        (1, 4),
        operation::SIGNATURE_VERIFY,
        vec![
            uid(public),
            data,
            Item::new(Tag::SIGNATURE_DATA, Value::ByteString(signature.into())),
        ],
    );
    assert_eq!(
        verified
            .child(Tag::RESPONSE_PAYLOAD)
            .and_then(|payload| payload.child(Tag::VALIDITY_INDICATOR))
            .map(|indicator| indicator.value.clone()),
        Some(Value::Enumeration(1)),
        "{verified:?}"
    );
}

#[test]
fn registered_key_pairs_are_checked_stored_pre_active_and_sign() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    // (algorithm, length, private format, public format, transparent public,
    // transparent private): the halves of a created pair are read back in one
    // format and registered again.
    for (
        algorithm,
        length,
        private_format,
        public_format,
        transparent_public,
        transparent_private,
    ) in [
        (0x04, 2048, 3, 3, 0x0B, Some(0x0A)),
        (0x06, 256, 4, 5, 0x15, None),
        (0x1A, 384, 4, 1, 0x0F, None),
    ] {
        let version = (1, 4);
        let created = call(
            &keystore,
            &alice,
            version,
            operation::CREATE_KEY_PAIR,
            create_pair(1, algorithm, length, &format!("source-{length}")),
        );
        let source_private = payload_text(&created, Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
        let source_public = payload_text(&created, Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);
        let get = |id: &str, format: u32| {
            let got = call(
                &keystore,
                &alice,
                version,
                operation::GET,
                vec![
                    uid(id),
                    Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(format)),
                ],
            );
            assert_eq!(status(&got), 0, "{got:?}");
            got
        };
        let private_bytes = got_material(&get(&source_private, private_format), Tag::PRIVATE_KEY);
        let public_bytes = got_material(&get(&source_public, public_format), Tag::PUBLIC_KEY);

        let register = |object: u32, format: u32, material: Value, name: &str| {
            let registered = call(
                &keystore,
                &alice,
                version,
                operation::REGISTER,
                register_key(object, format, material, Some((algorithm, length)), name),
            );
            assert_eq!(status(&registered), 0, "{registered:?}");
            payload_uid(&registered)
        };
        let private = register(4, private_format, private_bytes.clone(), "imported private");
        let public = register(3, public_format, public_bytes.clone(), "imported public");

        // Stored like the source: the same bytes in every format, Pre-Active,
        // with the key's algorithm and length.
        for format in [4, if algorithm == 0x04 { 3 } else { 4 }] {
            assert_eq!(
                got_material(&get(&private, format), Tag::PRIVATE_KEY),
                got_material(&get(&source_private, format), Tag::PRIVATE_KEY)
            );
        }
        assert_eq!(
            got_material(&get(&public, 5), Tag::PUBLIC_KEY),
            got_material(&get(&source_public, 5), Tag::PUBLIC_KEY)
        );
        has_attributes(
            &keystore,
            &alice,
            &private,
            &[
                Item::new(Tag::OBJECT_TYPE, Value::Enumeration(4)),
                Item::new(Tag::STATE, Value::Enumeration(1)),
                Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)),
            ],
        );

        // Pre-Active until activated; then the registered private key signs
        // and the registered and the source public keys verify.
        let data = Item::new(Tag::DATA, Value::ByteString(b"registered".to_vec().into()));
        assert_eq!(
            refusal(
                &keystore,
                &alice,
                version,
                operation::SIGN,
                vec![uid(&private), data]
            ),
            0x0C
        );
        activate_all(&keystore, &alice, &[&private, &public, &source_public]);
        signs_and_verifies(&keystore, &alice, &private, &public);
        signs_and_verifies(&keystore, &alice, &private, &source_public);

        // Transparent formats: Get, then Register what Get gave.
        let transparent = got_material(&get(&public, transparent_public), Tag::PUBLIC_KEY);
        assert!(
            matches!(transparent, Value::Structure(_)),
            "{transparent:?}"
        );
        let again = register(3, transparent_public, transparent, "transparent public");
        assert_eq!(
            got_material(&get(&again, 5), Tag::PUBLIC_KEY),
            got_material(&get(&public, 5), Tag::PUBLIC_KEY)
        );
        let private_transparent = if algorithm == 0x04 { 0x0A } else { 0x14 };
        let transparent = got_material(&get(&private, private_transparent), Tag::PRIVATE_KEY);
        match transparent_private {
            Some(format) => {
                let again = register(4, format, transparent, "transparent private");
                assert_eq!(
                    got_material(&get(&again, 4), Tag::PRIVATE_KEY),
                    got_material(&get(&private, 4), Tag::PRIVATE_KEY)
                );
            }
            None => {
                let Value::Structure(children) = &transparent else {
                    panic!("{transparent:?}");
                };
                assert_eq!(children.len(), 2, "Recommended Curve and D");
                // Kept as it came (the server cannot make the PKCS#8 it
                // signs with from D alone): Get gives it back, Sign says why.
                let kept = register(4, 0x14, transparent.clone(), "transparent ec private");
                assert_eq!(
                    got_material(&get(&kept, 0x14), Tag::PRIVATE_KEY),
                    transparent
                );
                activate_all(&keystore, &alice, &[&kept]);
                let data = Item::new(Tag::DATA, Value::ByteString(b"signed".into()));
                assert_eq!(
                    refusal(
                        &keystore,
                        &alice,
                        version,
                        operation::SIGN,
                        vec![uid(&kept), data]
                    ),
                    0x07
                );
            }
        }
        // A transparent format of the other family is refused.
        let other = if algorithm == 0x04 { 0x15 } else { 0x0B };
        assert_eq!(
            refusal(
                &keystore,
                &alice,
                version,
                operation::GET,
                vec![
                    uid(&public),
                    Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(other)),
                ]
            ),
            0x10
        );

        // Malformed keys, and keys of another algorithm than the one given,
        // are refused precisely and nothing is stored.
        let Value::ByteString(public_der) = &public_bytes else {
            panic!("{public_bytes:?}");
        };
        let Value::ByteString(private_der) = &private_bytes else {
            panic!("{private_bytes:?}");
        };
        let truncated = |bytes: &[u8]| Value::ByteString(bytes[..bytes.len() - 1].to_vec().into());
        let wrong_algorithm = if algorithm == 0x04 { 0x06 } else { 0x04 };
        for (object, format, material, algorithm_and_length) in [
            (3, public_format, truncated(public_der), None),
            (4, private_format, truncated(private_der), None),
            (
                4,
                private_format,
                Value::ByteString(b"not a key".to_vec().into()),
                None,
            ),
            (
                3,
                public_format,
                public_bytes.clone(),
                Some((wrong_algorithm, length)),
            ),
            // A private key sent as a public one.
            (3, 5, private_bytes.clone(), None),
        ] {
            assert_eq!(
                refusal(
                    &keystore,
                    &alice,
                    version,
                    operation::REGISTER,
                    register_key(
                        object,
                        format,
                        material,
                        algorithm_and_length,
                        "refused key",
                    )
                ),
                0x07
            );
        }
        assert_eq!(located_by_name(&keystore, &alice, "refused key"), 0);
        // A Cryptographic Length other than the key's is the client's
        // metadata: kept and reported as given.
        let mislabelled = call(
            &keystore,
            &alice,
            version,
            operation::REGISTER,
            register_key(
                4,
                private_format,
                private_bytes.clone(),
                Some((algorithm, length * 2)),
                "mislabelled key",
            ),
        );
        assert_eq!(status(&mislabelled), 0, "{mislabelled:?}");
        has_attributes(
            &keystore,
            &alice,
            &payload_uid(&mislabelled),
            &[Item::new(
                Tag::CRYPTOGRAPHIC_LENGTH,
                Value::Integer(length * 2),
            )],
        );
        // A format that does not hold this kind of key.
        assert_eq!(
            refusal(
                &keystore,
                &alice,
                version,
                operation::REGISTER,
                register_key(4, 5, private_bytes.clone(), None, "refused key")
            ),
            0x10
        );
    }
}

#[test]
fn registered_certificates_are_checked_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let issued = rcgen::generate_simple_self_signed(vec!["kmip.example".to_owned()]).unwrap();
    let der = issued.cert.der().to_vec();
    let certificate = |certificate_type: u32, value: Vec<u8>| {
        vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(1)),
            Item::structure(Tag::ATTRIBUTES, Vec::new()),
            Item::structure(
                Tag::CERTIFICATE,
                vec![
                    Item::new(Tag::CERTIFICATE_TYPE, Value::Enumeration(certificate_type)),
                    Item::new(Tag::CERTIFICATE_VALUE, Value::ByteString(value.into())),
                ],
            ),
        ]
    };
    let registered = call(
        &keystore,
        &alice,
        (2, 0),
        operation::REGISTER,
        certificate(1, der.clone()),
    );
    assert_eq!(status(&registered), 0, "{registered:?}");
    let id = payload_uid(&registered);

    // Get answers the same DER; Get Attributes the type, the public key's
    // algorithm (rcgen's default, ECDSA P-256) and Pre-Active.
    for version in [(1, 0), (2, 0)] {
        let got = call(&keystore, &alice, version, operation::GET, vec![uid(&id)]);
        let payload = got.child(Tag::RESPONSE_PAYLOAD).unwrap();
        assert_eq!(
            payload.child(Tag::OBJECT_TYPE).map(|item| &item.value),
            Some(&Value::Enumeration(1))
        );
        let value = payload
            .child(Tag::CERTIFICATE)
            .and_then(|certificate| certificate.child(Tag::CERTIFICATE_VALUE))
            .map(|item| item.value.clone());
        assert_eq!(value, Some(Value::ByteString(der.clone().into())));
    }
    has_attributes(
        &keystore,
        &alice,
        &id,
        &[
            Item::new(Tag::CERTIFICATE_TYPE, Value::Enumeration(1)),
            Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(0x06)),
            Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
            Item::new(Tag::STATE, Value::Enumeration(1)),
        ],
    );
    // Locate by Object Type Certificate finds it.
    let certificates = || {
        let located = call(
            &keystore,
            &alice,
            (2, 0),
            operation::LOCATE,
            vec![Item::structure(
                Tag::ATTRIBUTES,
                vec![Item::new(Tag::OBJECT_TYPE, Value::Enumeration(1))],
            )],
        );
        located
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .children()
            .iter()
            .filter(|item| item.tag == Tag::UNIQUE_IDENTIFIER)
            .map(|item| item.value.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(certificates(), vec![Value::TextString(id.clone())]);

    // The certificate's key, registered as a private key (ring's PKCS#8),
    // signs.
    let private = call(
        &keystore,
        &alice,
        (1, 4),
        operation::REGISTER,
        register_key(
            4,
            4,
            Value::ByteString(issued.signing_key.serialize_der().into()),
            None,
            "certificate key",
        ),
    );
    assert_eq!(status(&private), 0, "{private:?}");
    let private = payload_uid(&private);
    let public = call(
        &keystore,
        &alice,
        (1, 4),
        operation::REGISTER,
        register_key(
            3,
            5,
            Value::ByteString(
                rcgen::PublicKeyData::subject_public_key_info(&issued.signing_key).into(),
            ),
            None,
            "certificate public key",
        ),
    );
    let public = payload_uid(&public);
    activate_all(&keystore, &alice, &[&private, &public]);
    signs_and_verifies(&keystore, &alice, &private, &public);

    // Malformed X.509 certificates: Invalid Field.
    let mut trailing = der.clone();
    trailing.push(0);
    for (certificate_type, value, expected) in [
        (1, der[..der.len() - 10].to_vec(), 0x07),
        (1, trailing, 0x07),
        (1, b"not a certificate".to_vec(), 0x07),
    ] {
        assert_eq!(
            refusal(
                &keystore,
                &alice,
                (2, 0),
                operation::REGISTER,
                certificate(certificate_type, value)
            ),
            expected
        );
    }
    // Nothing refused was stored.
    assert_eq!(certificates(), vec![Value::TextString(id.clone())]);
    // A certificate of another type (PGP) is stored as it came, and read
    // back with its type.
    let pgp = call(
        &keystore,
        &alice,
        (2, 0),
        operation::REGISTER,
        certificate(2, b"a PGP key".to_vec()),
    );
    assert_eq!(status(&pgp), 0, "{pgp:?}");
    let got = call(
        &keystore,
        &alice,
        (2, 0),
        operation::GET,
        vec![uid(&payload_uid(&pgp))],
    );
    let certificate = got
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|payload| payload.child(Tag::CERTIFICATE))
        .unwrap();
    assert_eq!(
        certificate.child_enumeration(Tag::CERTIFICATE_TYPE),
        Some(2)
    );
    assert_eq!(
        certificate.child(Tag::CERTIFICATE_VALUE).unwrap().value,
        Value::ByteString(b"a PGP key".into())
    );
}

/// A Register payload for one part of a split AES-256 key.
fn register_split_part(fields: Vec<Item>, part: &[u8]) -> Vec<Item> {
    let mut split = fields;
    split.push(Item::structure(
        Tag::KEY_BLOCK,
        vec![
            Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(1)),
            Item::structure(
                Tag::KEY_VALUE,
                vec![Item::new(
                    Tag::KEY_MATERIAL,
                    Value::ByteString(part.to_vec().into()),
                )],
            ),
            Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
            Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
        ],
    ));
    vec![
        Item::new(Tag::OBJECT_TYPE, Value::Enumeration(5)),
        Item::structure(Tag::ATTRIBUTES, Vec::new()),
        Item::structure(Tag::SPLIT_KEY, split),
    ]
}

#[test]
fn split_keys_are_registered_with_their_parameters_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let integer = |tag: Tag, value: i32| Item::new(tag, Value::Integer(value));
    let xor = vec![
        integer(Tag::SPLIT_KEY_PARTS, 3),
        integer(Tag::KEY_PART_IDENTIFIER, 2),
        integer(Tag::SPLIT_KEY_THRESHOLD, 3),
        Item::new(Tag::SPLIT_KEY_METHOD, Value::Enumeration(1)),
    ];
    let prime = ttlv::BigInteger::from_signed_bytes(&[0x00, 0xFF, 0xFF, 0xFF, 0xFB]);
    let prime_field = vec![
        integer(Tag::SPLIT_KEY_PARTS, 5),
        integer(Tag::KEY_PART_IDENTIFIER, 1),
        integer(Tag::SPLIT_KEY_THRESHOLD, 3),
        Item::new(Tag::SPLIT_KEY_METHOD, Value::Enumeration(3)),
        Item::new(Tag::PRIME_FIELD_SIZE, Value::BigInteger(prime)),
    ];
    let part = [0x5A_u8; 32];
    for (version, fields) in [((2, 0), xor), ((1, 2), prime_field)] {
        let registered = call(
            &keystore,
            &alice,
            version,
            operation::REGISTER,
            register_split_part(fields.clone(), &part),
        );
        assert_eq!(status(&registered), 0, "{registered:?}");
        let id = payload_uid(&registered);

        // Get gives back every field and the part.
        let got = call(&keystore, &alice, version, operation::GET, vec![uid(&id)]);
        let split = got
            .child(Tag::RESPONSE_PAYLOAD)
            .and_then(|payload| payload.child(Tag::SPLIT_KEY))
            .unwrap_or_else(|| panic!("{got:?}"));
        for field in &fields {
            assert_eq!(split.child(field.tag), Some(field), "{split:?}");
        }
        assert_eq!(
            got_material(&got, Tag::SPLIT_KEY),
            Value::ByteString(part.to_vec().into())
        );

        // Get Attributes lists them, and the object is Pre-Active.
        let mut expected = fields.clone();
        expected.push(Item::new(Tag::OBJECT_TYPE, Value::Enumeration(5)));
        expected.push(Item::new(Tag::STATE, Value::Enumeration(1)));
        has_attributes(&keystore, &alice, &id, &expected);
    }

    // Inconsistent or missing parameters are refused.
    for (fields, expected) in [
        // Threshold above the number of parts.
        (
            vec![
                integer(Tag::SPLIT_KEY_PARTS, 2),
                integer(Tag::KEY_PART_IDENTIFIER, 1),
                integer(Tag::SPLIT_KEY_THRESHOLD, 3),
                Item::new(Tag::SPLIT_KEY_METHOD, Value::Enumeration(1)),
            ],
            0x07,
        ),
        // No method.
        (
            vec![
                integer(Tag::SPLIT_KEY_PARTS, 2),
                integer(Tag::KEY_PART_IDENTIFIER, 1),
                integer(Tag::SPLIT_KEY_THRESHOLD, 2),
            ],
            0x06,
        ),
        // Prime field sharing without the prime.
        (
            vec![
                integer(Tag::SPLIT_KEY_PARTS, 2),
                integer(Tag::KEY_PART_IDENTIFIER, 1),
                integer(Tag::SPLIT_KEY_THRESHOLD, 2),
                Item::new(Tag::SPLIT_KEY_METHOD, Value::Enumeration(3)),
            ],
            0x06,
        ),
    ] {
        assert_eq!(
            refusal(
                &keystore,
                &alice,
                (2, 0),
                operation::REGISTER,
                register_split_part(fields, &part)
            ),
            expected
        );
    }
}

/// Every Link of an object (link type, linked identifier), from a 2.x Get
/// Attributes.
fn links(keystore: &Keystore, session: &Session, id: &str) -> Vec<(u32, String)> {
    let attributes = call(
        keystore,
        session,
        (2, 0),
        operation::GET_ATTRIBUTES,
        vec![uid(id)],
    );
    attributes
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|payload| payload.child(Tag::ATTRIBUTES))
        .unwrap()
        .children()
        .iter()
        .filter(|item| item.tag == Tag::LINK)
        .map(|link| {
            match (
                &link.child(Tag::LINK_TYPE).unwrap().value,
                &link.child(Tag::LINKED_OBJECT_IDENTIFIER).unwrap().value,
            ) {
                (Value::Enumeration(link_type), Value::TextString(linked)) => {
                    (*link_type, linked.clone())
                }
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

#[test]
fn rekey_key_pair_makes_a_linked_pre_active_pair_that_takes_the_names() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let created = call(
        &keystore,
        &alice,
        (2, 0),
        operation::CREATE_KEY_PAIR,
        create_pair(2, 0x06, 256, "rekeyed"),
    );
    let old_private = payload_text(&created, Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    let old_public = payload_text(&created, Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);
    let rekey = |version: (i32, i32), id: &str| {
        call(
            &keystore,
            &alice,
            version,
            operation::REKEY_KEY_PAIR,
            vec![Item::new(
                Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
                Value::TextString(id.to_owned()),
            )],
        )
    };
    let rekeyed = rekey((1, 4), &old_private);
    assert_eq!(status(&rekeyed), 0, "{rekeyed:?}");
    let private = payload_text(&rekeyed, Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    let public = payload_text(&rekeyed, Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);
    assert!(private != old_private && public != old_public);

    // The new halves are linked to each other and to what they replace.
    assert_eq!(
        links(&keystore, &alice, &private),
        vec![(0x0102, public.clone()), (0x0107, old_private.clone())]
    );
    assert_eq!(
        links(&keystore, &alice, &public),
        vec![(0x0103, private.clone()), (0x0107, old_public.clone())]
    );
    assert_eq!(
        links(&keystore, &alice, &old_private),
        vec![(0x0102, old_public.clone()), (0x0106, private.clone())]
    );
    // In 1.x each Link carries its Attribute Index (Link may have several
    // instances), the first's 0 included.
    let attributes = call(
        &keystore,
        &alice,
        (1, 4),
        operation::GET_ATTRIBUTES,
        vec![uid(&private)],
    );
    let indices: Vec<Option<Value>> = attributes
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .children()
        .iter()
        .filter(|item| {
            item.child(Tag::ATTRIBUTE_NAME).map(|name| &name.value)
                == Some(&Value::TextString("Link".to_owned()))
        })
        .map(|item| {
            item.child(Tag::ATTRIBUTE_INDEX)
                .map(|index| index.value.clone())
        })
        .collect();
    assert_eq!(
        indices,
        vec![Some(Value::Integer(0)), Some(Value::Integer(1))]
    );

    // The names moved to the new pair.
    for (name, id) in [("rekeyed-private", &private), ("rekeyed-public", &public)] {
        let located = call(
            &keystore,
            &alice,
            (1, 4),
            operation::LOCATE,
            vec![attribute(
                "Name",
                Value::Structure(vec![
                    Item::new(Tag::NAME_VALUE, Value::TextString(name.to_owned())),
                    Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
                ]),
            )],
        );
        assert_eq!(&payload_uid(&located), id);
        assert_eq!(located_by_name(&keystore, &alice, name), 1);
    }

    // The new pair is Pre-Active, then signs like any pair.
    has_attributes(
        &keystore,
        &alice,
        &private,
        &[
            Item::new(Tag::STATE, Value::Enumeration(1)),
            Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
        ],
    );
    activate_all(&keystore, &alice, &[&private, &public]);
    signs_and_verifies(&keystore, &alice, &private, &public);

    // A pair is re-keyed once; a public key, an Offset: refused.
    assert_eq!(reason(&rekey((2, 0), &old_private)), Some(0x07));
    assert_eq!(reason(&rekey((2, 0), &public)), Some(0x07));
    let offset = refusal(
        &keystore,
        &alice,
        (1, 4),
        operation::REKEY_KEY_PAIR,
        vec![
            Item::new(
                Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
                Value::TextString(private.clone()),
            ),
            Item::new(Tag::OFFSET, Value::Interval(3600)),
        ],
    );
    assert_eq!(offset, 0x08);
    // Another tenant cannot re-key it.
    let bob = session("bob");
    let hidden = call(
        &keystore,
        &bob,
        (2, 0),
        operation::REKEY_KEY_PAIR,
        vec![Item::new(
            Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
            Value::TextString(private.clone()),
        )],
    );
    assert_eq!(reason(&hidden), Some(0x01));
}

fn continue_option(value: u32) -> Item {
    Item::new(
        Tag::BATCH_ERROR_CONTINUATION_OPTION,
        Value::Enumeration(value),
    )
}

fn response_batch_count(response: &Item) -> Value {
    response
        .child(Tag::RESPONSE_HEADER)
        .unwrap()
        .child(Tag::BATCH_COUNT)
        .unwrap()
        .value
        .clone()
}

fn attribute_of(response: &Item, name: &str) -> Value {
    response
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .children_with(Tag::ATTRIBUTE)
        .find(|attribute| attribute.child_text(Tag::ATTRIBUTE_NAME) == Some(name))
        .unwrap_or_else(|| panic!("no attribute {name} in {response:?}"))
        .child(Tag::ATTRIBUTE_VALUE)
        .unwrap()
        .value
        .clone()
}

#[test]
fn batch_items_without_an_identifier_use_the_id_placeholder() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    // Create; Activate; Get; Get Attributes: only Create names anything.
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request(
            1,
            4,
            vec![
                (operation::CREATE, create_aes_v1("placeholder-key")),
                (operation::ACTIVATE, Vec::new()),
                (operation::GET, Vec::new()),
                (
                    operation::GET_ATTRIBUTES,
                    vec![Item::new(
                        Tag::ATTRIBUTE_NAME,
                        Value::TextString("State".to_owned()),
                    )],
                ),
            ],
        ),
    );
    let items = batch_items(&response);
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|item| status(item) == 0), "{response:?}");
    let created = payload_uid(items[0]);
    for item in &items[1..] {
        assert_eq!(payload_uid(item), created);
    }
    assert_eq!(attribute_of(items[3], "State"), Value::Enumeration(2));

    // 2.0: Create Key Pair sets the placeholder to the private key; Unique
    // Identifier may also be the ID Placeholder enumeration.
    let pair = create_pair(2, 0x04, 2048, "placeholder-pair");
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request(
            2,
            0,
            vec![
                (operation::CREATE_KEY_PAIR, pair),
                (
                    operation::GET_ATTRIBUTES,
                    vec![Item::new(Tag::UNIQUE_IDENTIFIER, Value::Enumeration(1))],
                ),
            ],
        ),
    );
    let items = batch_items(&response);
    assert!(items.iter().all(|item| status(item) == 0), "{response:?}");
    let private = payload_text(items[0], Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    assert_eq!(payload_uid(items[1]), private);
    let attributes = items[1]
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .child(Tag::ATTRIBUTES)
        .unwrap();
    assert_eq!(
        attributes.child(Tag::OBJECT_TYPE).unwrap().value,
        Value::Enumeration(4)
    );

    // Locate's first match is the placeholder; a Locate that finds nothing
    // leaves none, and the next item fails rather than act on another object.
    let by_name = |name: &str| vec![name_attribute(name)];
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request_with(
            1,
            4,
            vec![continue_option(1)],
            vec![
                (operation::LOCATE, by_name("placeholder-key")),
                (operation::GET_ATTRIBUTE_LIST, Vec::new()),
                (operation::LOCATE, by_name("no-such-key")),
                (operation::GET, Vec::new()),
            ],
        ),
    );
    let items = batch_items(&response);
    assert_eq!(items.len(), 4);
    assert_eq!(payload_uid(items[1]), created);
    assert_eq!(status(items[2]), 0);
    assert_eq!(status(items[3]), 1);
    assert_eq!(reason(items[3]), Some(0x06), "Missing Data");

    // The first item has no placeholder to use.
    let item = call(&keystore, &session, (1, 4), operation::ACTIVATE, Vec::new());
    assert_eq!(reason(&item), Some(0x06), "Missing Data");
}

#[test]
fn batch_error_continuation_stops_by_default_and_continues_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    let items = || {
        vec![
            (
                operation::GET,
                vec![uid("6f9619ff-8b86-d011-b42d-00c04fc964ff")],
            ),
            (
                operation::RNG_RETRIEVE,
                vec![Item::new(Tag::DATA_LENGTH, Value::Integer(16))],
            ),
        ]
    };
    // No option, and Stop (2): the item after the failure is neither run
    // nor answered, and the Batch Count says so.
    for options in [Vec::new(), vec![continue_option(2)]] {
        let response =
            kmip::handle_message(&keystore, &session, &request_with(1, 4, options, items()));
        let answered = batch_items(&response);
        assert_eq!(answered.len(), 1, "{response:?}");
        assert_eq!(reason(answered[0]), Some(0x01), "Item Not Found");
        assert_eq!(response_batch_count(&response), Value::Integer(1));
    }
    // Continue (1), with a Batch Order Option: both answered.
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request_with(
            2,
            1,
            vec![
                Item::new(Tag::BATCH_ORDER_OPTION, Value::Boolean(true)),
                continue_option(1),
            ],
            items(),
        ),
    );
    let answered = batch_items(&response);
    assert_eq!(answered.len(), 2);
    assert_eq!(status(answered[1]), 0);
    assert_eq!(response_batch_count(&response), Value::Integer(2));
    // Undo (3) cannot be honoured over several items and is refused before
    // anything runs; with one item it is Stop.
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request_with(
            1,
            4,
            vec![continue_option(3)],
            vec![
                (operation::CREATE, create_aes_v1("undo-key")),
                (operation::ACTIVATE, Vec::new()),
            ],
        ),
    );
    let answered = batch_items(&response);
    assert_eq!(answered.len(), 1);
    assert_eq!(reason(answered[0]), Some(0x08), "Feature Not Supported");
    let located = located_by_name(&keystore, &session, "undo-key");
    assert_eq!(located, 0, "nothing of a refused Undo batch ran");
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request_with(
            1,
            4,
            vec![continue_option(3)],
            vec![(operation::CREATE, create_aes_v1("undo-key"))],
        ),
    );
    assert_eq!(status(batch_items(&response)[0]), 0);
    // An unknown option is an Invalid Message.
    let response = kmip::handle_message(
        &keystore,
        &session,
        &request_with(1, 4, vec![continue_option(9)], items()),
    );
    assert_eq!(reason(batch_items(&response)[0]), Some(0x04));
}

/// The 1.x attributes in a response payload: (name, index, value).
fn v1_attributes(response: &Item) -> Vec<(String, i32, Value)> {
    response
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .children_with(Tag::ATTRIBUTE)
        .map(|attribute| {
            (
                attribute
                    .child_text(Tag::ATTRIBUTE_NAME)
                    .unwrap()
                    .to_owned(),
                attribute.child_i32(Tag::ATTRIBUTE_INDEX).unwrap_or(0),
                attribute.child(Tag::ATTRIBUTE_VALUE).unwrap().value.clone(),
            )
        })
        .collect()
}

/// The custom 1.x attributes (`x-`, `y-`) of object `id`.
fn custom_v1(keystore: &Keystore, session: &Session, id: &str) -> Vec<(String, i32, Value)> {
    let response = call(
        keystore,
        session,
        (1, 4),
        operation::GET_ATTRIBUTES,
        vec![uid(id)],
    );
    v1_attributes(&response)
        .into_iter()
        .filter(|(name, ..)| name.starts_with("x-") || name.starts_with("y-"))
        .collect()
}

/// A 2.x vendor attribute.
fn vendor_attribute(vendor: &str, name: &str, value: Value) -> Item {
    Item::structure(
        Tag::ATTRIBUTE,
        vec![
            Item::new(
                Tag::VENDOR_IDENTIFICATION,
                Value::TextString(vendor.to_owned()),
            ),
            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
            Item::new(Tag::ATTRIBUTE_VALUE, value),
        ],
    )
}

fn vendor_reference(vendor: &str, name: &str) -> Item {
    Item::structure(
        Tag::ATTRIBUTE_REFERENCE,
        vec![
            Item::new(
                Tag::VENDOR_IDENTIFICATION,
                Value::TextString(vendor.to_owned()),
            ),
            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
        ],
    )
}

fn text(value: &str) -> Value {
    Value::TextString(value.to_owned())
}

#[test]
fn custom_attributes_round_trip_with_their_types_in_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    let mut create = create_aes_v1("custom-key");
    let Value::Structure(template) = &mut create[1].value else {
        panic!("no template");
    };
    template.push(attribute("x-Product_Version", text("7.0.3")));
    template.push(attribute(
        "x-Serial",
        Value::ByteString(vec![0, 1, 0xFF].into()),
    ));
    template.push(attribute("x-Managed", Value::Boolean(true)));
    template.push(attribute("y-Server Field", Value::Integer(-4)));
    let created = call(&keystore, &session, (1, 4), operation::CREATE, create);
    assert_eq!(status(&created), 0, "{created:?}");
    let id = payload_uid(&created);
    assert_eq!(
        custom_v1(&keystore, &session, &id),
        vec![
            ("x-Managed".to_owned(), 0, Value::Boolean(true)),
            ("x-Product_Version".to_owned(), 0, text("7.0.3")),
            (
                "x-Serial".to_owned(),
                0,
                Value::ByteString(vec![0, 1, 0xFF].into())
            ),
            ("y-Server Field".to_owned(), 0, Value::Integer(-4)),
        ]
    );
    // Asked for by name, in 1.x and 2.x.
    let named = call(
        &keystore,
        &session,
        (1, 4),
        operation::GET_ATTRIBUTES,
        vec![
            uid(&id),
            Item::new(Tag::ATTRIBUTE_NAME, text("x-Product_Version")),
        ],
    );
    assert_eq!(
        v1_attributes(&named),
        vec![("x-Product_Version".to_owned(), 0, text("7.0.3"))]
    );
    let named = call(
        &keystore,
        &session,
        (2, 0),
        operation::GET_ATTRIBUTES,
        vec![uid(&id), vendor_reference("x", "Product_Version")],
    );
    let attributes = named
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .child(Tag::ATTRIBUTES)
        .unwrap();
    assert_eq!(
        attributes.children(),
        &[vendor_attribute("x", "Product_Version", text("7.0.3"))]
    );
    // Listed once per name: 1.x names, 2.x vendor references.
    let listed = call(
        &keystore,
        &session,
        (1, 4),
        operation::GET_ATTRIBUTE_LIST,
        vec![uid(&id)],
    );
    let names: Vec<&str> = listed
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .children_with(Tag::ATTRIBUTE_NAME)
        .filter_map(|item| item.value.as_text())
        .collect();
    assert!(names.contains(&"x-Product_Version") && names.contains(&"y-Server Field"));
    let listed = call(
        &keystore,
        &session,
        (2, 0),
        operation::GET_ATTRIBUTE_LIST,
        vec![uid(&id)],
    );
    assert!(
        listed
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .children()
            .contains(&vendor_reference("x", "Managed"))
    );
    // Locate by a custom attribute's value.
    let locate = |value: &str| {
        let found = call(
            &keystore,
            &session,
            (1, 4),
            operation::LOCATE,
            vec![attribute("x-Product_Version", text(value))],
        );
        found
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .children_with(Tag::UNIQUE_IDENTIFIER)
            .count()
    };
    assert_eq!(locate("7.0.3"), 1);
    assert_eq!(locate("6.5"), 0);

    // 2.x Create with a vendor attribute.
    let mut create = create_aes_v2();
    let Value::Structure(attributes) = &mut create[1].value else {
        panic!("no attributes");
    };
    attributes.push(vendor_attribute(
        "Acme",
        "Tier",
        Value::Structure(vec![Item::new(Tag::NAME_VALUE, text("gold"))]),
    ));
    let created = call(&keystore, &session, (2, 0), operation::CREATE, create);
    let second = payload_uid(&created);
    let got = call(
        &keystore,
        &session,
        (2, 1),
        operation::GET_ATTRIBUTES,
        vec![uid(&second), vendor_reference("Acme", "Tier")],
    );
    assert_eq!(
        got.child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .child(Tag::ATTRIBUTES)
            .unwrap()
            .children(),
        &[vendor_attribute(
            "Acme",
            "Tier",
            Value::Structure(vec![Item::new(Tag::NAME_VALUE, text("gold"))]),
        )]
    );
    // A 1.x client does not see a vendor attribute that has no 1.x name.
    assert!(custom_v1(&keystore, &session, &second).is_empty());

    // Register keeps them too.
    let registered = call(
        &keystore,
        &session,
        (1, 4),
        operation::REGISTER,
        vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
            Item::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![attribute("x-Rotation", Value::Interval(86_400))],
            ),
            Item::structure(
                Tag::SYMMETRIC_KEY,
                vec![Item::structure(
                    Tag::KEY_BLOCK,
                    vec![
                        Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(1)),
                        Item::structure(
                            Tag::KEY_VALUE,
                            vec![Item::new(
                                Tag::KEY_MATERIAL,
                                Value::ByteString(vec![7; 32].into()),
                            )],
                        ),
                        Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
                        Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
                    ],
                )],
            ),
        ],
    );
    assert_eq!(
        custom_v1(&keystore, &session, &payload_uid(&registered)),
        vec![("x-Rotation".to_owned(), 0, Value::Interval(86_400))]
    );

    // A value too large to keep is refused, and nothing is created.
    let mut create = create_aes_v1("too-large");
    let Value::Structure(template) = &mut create[1].value else {
        panic!("no template");
    };
    template.push(attribute("x-Big", text(&"v".repeat(200))));
    let refused = call(&keystore, &session, (1, 4), operation::CREATE, create);
    assert_eq!(reason(&refused), Some(0x07), "{refused:?}");
    assert_eq!(located_by_name(&keystore, &session, "too-large"), 0);
}

#[test]
fn custom_attributes_are_multi_valued_by_index_in_1x_and_by_value_in_2x() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    let id = payload_uid(&call(
        &keystore,
        &session,
        (1, 4),
        operation::CREATE,
        create_aes_v1("multi"),
    ));
    let add = |value: &str| {
        call(
            &keystore,
            &session,
            (1, 4),
            operation::ADD_ATTRIBUTE,
            vec![uid(&id), attribute("x-Owner", text(value))],
        )
    };
    assert_eq!(
        v1_attributes(&add("alice")),
        vec![("x-Owner".to_owned(), 0, text("alice"))]
    );
    assert_eq!(
        v1_attributes(&add("bob")),
        vec![("x-Owner".to_owned(), 1, text("bob"))]
    );
    // Modify index 1, delete index 0: the other keeps its index.
    let indexed = |name: &str, index: i32, value: Option<Value>| {
        let mut children = vec![
            Item::new(Tag::ATTRIBUTE_NAME, text(name)),
            Item::new(Tag::ATTRIBUTE_INDEX, Value::Integer(index)),
        ];
        children.extend(value.map(|value| Item::new(Tag::ATTRIBUTE_VALUE, value)));
        Item::structure(Tag::ATTRIBUTE, children)
    };
    let modified = call(
        &keystore,
        &session,
        (1, 4),
        operation::MODIFY_ATTRIBUTE,
        vec![uid(&id), indexed("x-Owner", 1, Some(text("carol")))],
    );
    assert_eq!(
        v1_attributes(&modified),
        vec![("x-Owner".to_owned(), 1, text("carol"))]
    );
    let deleted = call(
        &keystore,
        &session,
        (1, 4),
        operation::DELETE_ATTRIBUTE,
        vec![
            uid(&id),
            Item::new(Tag::ATTRIBUTE_NAME, text("x-Owner")),
            Item::new(Tag::ATTRIBUTE_INDEX, Value::Integer(0)),
        ],
    );
    assert_eq!(
        v1_attributes(&deleted),
        vec![("x-Owner".to_owned(), 0, text("alice"))]
    );
    assert_eq!(
        custom_v1(&keystore, &session, &id),
        vec![("x-Owner".to_owned(), 1, text("carol"))]
    );
    // Index 0 is gone now: Item Not Found in 1.x.
    let missing = call(
        &keystore,
        &session,
        (1, 4),
        operation::MODIFY_ATTRIBUTE,
        vec![uid(&id), indexed("x-Owner", 0, Some(text("dave")))],
    );
    assert_eq!(reason(&missing), Some(0x01), "{missing:?}");

    // 2.x: Add, Modify naming the current value, Delete by value, then by
    // reference (every instance).
    let edit = |op: u32, fields: Vec<Item>| {
        let mut payload = vec![uid(&id)];
        payload.extend(fields);
        let item = call(&keystore, &session, (2, 0), op, payload);
        assert_eq!(status(&item), 0, "{item:?}");
    };
    let new = |value: &str| {
        Item::structure(
            Tag::NEW_ATTRIBUTE,
            vec![vendor_attribute("x", "Owner", text(value))],
        )
    };
    let current = |value: &str| {
        Item::structure(
            Tag::CURRENT_ATTRIBUTE,
            vec![vendor_attribute("x", "Owner", text(value))],
        )
    };
    edit(operation::ADD_ATTRIBUTE, vec![new("erin")]);
    edit(
        operation::MODIFY_ATTRIBUTE,
        vec![current("carol"), new("frank")],
    );
    assert_eq!(
        custom_v1(&keystore, &session, &id),
        vec![
            ("x-Owner".to_owned(), 1, text("frank")),
            ("x-Owner".to_owned(), 2, text("erin")),
        ]
    );
    edit(operation::DELETE_ATTRIBUTE, vec![current("erin")]);
    assert_eq!(custom_v1(&keystore, &session, &id).len(), 1);
    edit(operation::ADD_ATTRIBUTE, vec![new("gina")]);
    edit(
        operation::DELETE_ATTRIBUTE,
        vec![vendor_reference("x", "Owner")],
    );
    assert!(custom_v1(&keystore, &session, &id).is_empty());
    // Set replaces every instance with one.
    edit(operation::ADD_ATTRIBUTE, vec![new("h1")]);
    edit(operation::ADD_ATTRIBUTE, vec![new("h2")]);
    edit(operation::SET_ATTRIBUTE, vec![new("solo")]);
    assert_eq!(
        custom_v1(&keystore, &session, &id),
        vec![("x-Owner".to_owned(), 0, text("solo"))]
    );
    // Deleting what is not there is Attribute Not Found (2.x).
    let refused = call(
        &keystore,
        &session,
        (2, 0),
        operation::DELETE_ATTRIBUTE,
        vec![uid(&id), current("nobody")],
    );
    assert_eq!(reason(&refused), Some(0x21), "{refused:?}");
}

/// The Names of object `id` as 1.x reports them: (index, name value).
fn names_v1(keystore: &Keystore, session: &Session, id: &str) -> Vec<(i32, String)> {
    let response = call(
        keystore,
        session,
        (1, 4),
        operation::GET_ATTRIBUTES,
        vec![uid(id), Item::new(Tag::ATTRIBUTE_NAME, text("Name"))],
    );
    v1_attributes(&response)
        .into_iter()
        .map(|(name, index, value)| {
            assert_eq!(name, "Name");
            let Value::Structure(children) = value else {
                panic!("Name is not a structure");
            };
            let value = children
                .iter()
                .find(|item| item.tag == Tag::NAME_VALUE)
                .and_then(|item| item.value.as_text())
                .unwrap()
                .to_owned();
            (index, value)
        })
        .collect()
}

fn name_value(name: &str) -> Value {
    Value::Structure(vec![
        Item::new(Tag::NAME_VALUE, text(name)),
        Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
    ])
}

#[test]
fn names_are_multi_valued_and_only_the_keystore_name_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    let id = payload_uid(&call(
        &keystore,
        &session,
        (1, 4),
        operation::CREATE,
        create_aes_v1("first"),
    ));
    let v1 = |op: u32, fields: Vec<Item>| {
        let mut payload = vec![uid(&id)];
        payload.extend(fields);
        call(&keystore, &session, (1, 4), op, payload)
    };
    let added = v1(operation::ADD_ATTRIBUTE, vec![name_attribute("second")]);
    assert_eq!(
        v1_attributes(&added),
        vec![("Name".to_owned(), 1, name_value("second"))]
    );
    v1(operation::ADD_ATTRIBUTE, vec![name_attribute("third")]);
    assert_eq!(
        names_v1(&keystore, &session, &id),
        vec![
            (0, "first".to_owned()),
            (1, "second".to_owned()),
            (2, "third".to_owned())
        ]
    );
    assert_eq!(located_by_name(&keystore, &session, "second"), 1);
    // Modify and Delete by index; the others keep theirs.
    let at = |index: i32, value: Option<&str>| {
        let mut children = vec![
            Item::new(Tag::ATTRIBUTE_NAME, text("Name")),
            Item::new(Tag::ATTRIBUTE_INDEX, Value::Integer(index)),
        ];
        children.extend(value.map(|value| Item::new(Tag::ATTRIBUTE_VALUE, name_value(value))));
        Item::structure(Tag::ATTRIBUTE, children)
    };
    let modified = v1(operation::MODIFY_ATTRIBUTE, vec![at(1, Some("second-b"))]);
    assert_eq!(status(&modified), 0, "{modified:?}");
    assert_eq!(located_by_name(&keystore, &session, "second"), 0);
    assert_eq!(located_by_name(&keystore, &session, "second-b"), 1);
    let deleted = v1(
        operation::DELETE_ATTRIBUTE,
        vec![
            Item::new(Tag::ATTRIBUTE_NAME, text("Name")),
            Item::new(Tag::ATTRIBUTE_INDEX, Value::Integer(1)),
        ],
    );
    assert_eq!(
        v1_attributes(&deleted),
        vec![("Name".to_owned(), 1, name_value("second-b"))]
    );
    assert_eq!(
        names_v1(&keystore, &session, &id),
        vec![(0, "first".to_owned()), (2, "third".to_owned())]
    );
    // The keystore name is fixed (Permission Denied in 1.x), and a deleted
    // index is gone (Item Not Found).
    let fixed = v1(operation::MODIFY_ATTRIBUTE, vec![at(0, Some("zeroth"))]);
    assert_eq!(reason(&fixed), Some(0x0C), "{fixed:?}");
    let gone = v1(operation::MODIFY_ATTRIBUTE, vec![at(1, Some("again"))]);
    assert_eq!(reason(&gone), Some(0x01), "{gone:?}");

    // A name the keystore cannot hold lives only in KMIP: 2.x Modify and
    // Delete it by its current value; Set is refused for a multi-valued Name.
    let other = payload_uid(&call(
        &keystore,
        &session,
        (1, 4),
        operation::CREATE,
        create_aes_v1("has space"),
    ));
    let v2 = |op: u32, fields: Vec<Item>| {
        let mut payload = vec![uid(&other)];
        payload.extend(fields);
        call(&keystore, &session, (2, 0), op, payload)
    };
    let name_item = |name: &str| Item::new(Tag::NAME, name_value(name));
    let renamed = v2(
        operation::MODIFY_ATTRIBUTE,
        vec![
            Item::structure(Tag::CURRENT_ATTRIBUTE, vec![name_item("has space")]),
            Item::structure(Tag::NEW_ATTRIBUTE, vec![name_item("renamed")]),
        ],
    );
    assert_eq!(status(&renamed), 0, "{renamed:?}");
    assert_eq!(located_by_name(&keystore, &session, "renamed"), 1);
    let set = v2(
        operation::SET_ATTRIBUTE,
        vec![Item::structure(Tag::NEW_ATTRIBUTE, vec![name_item("set")])],
    );
    assert_eq!(reason(&set), Some(0x07), "{set:?}");
    let deleted = v2(
        operation::DELETE_ATTRIBUTE,
        vec![Item::structure(
            Tag::CURRENT_ATTRIBUTE,
            vec![name_item("renamed")],
        )],
    );
    assert_eq!(status(&deleted), 0, "{deleted:?}");
    assert!(names_v1(&keystore, &session, &other).is_empty());
}

/// The OASIS KMIP Profiles Tape Library test cases TL-M-2-13 (KMIP 1.3, `x-`
/// attributes) and TL-M-2-20 (2.0, vendor attributes), kept in the ttlv
/// crate's test data: one request that creates a key with custom attributes
/// and gets it through the ID placeholder, as a tape library does.
#[test]
fn oasis_tape_library_cases_keep_custom_attributes_and_get_by_placeholder() {
    for case in ["TL-M-2-13", "TL-M-2-20"] {
        let dir = tempfile::tempdir().unwrap();
        let keystore = keystore(dir.path());
        let session = session("alpha");
        let case_text = std::fs::read_to_string(format!(
            "{}/../ttlv/tests/data/oasis/{case}.xml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .replace("value=\"$NOW\"", "value=\"2020-01-01T00:00:00+00:00\"");
        let start = case_text.find("<RequestMessage>").unwrap();
        let end = case_text.find("</RequestMessage>").unwrap() + "</RequestMessage>".len();
        let request = ttlv::decode_xml(&case_text[start..end]).unwrap();
        let response = kmip::handle_message(&keystore, &session, &request);
        let items = batch_items(&response);
        assert_eq!(items.len(), 2, "{case}: {response:?}");
        assert!(
            items.iter().all(|item| status(item) == 0),
            "{case}: {response:?}"
        );
        let id = payload_uid(items[0]);
        assert_eq!(payload_uid(items[1]), id, "{case}");
        assert_eq!(
            custom_v1(&keystore, &session, &id),
            vec![
                ("x-Barcode".to_owned(), 0, text("XXA012A1")),
                ("x-ID".to_owned(), 0, text(case)),
                ("x-VendorAttribute1".to_owned(), 0, text("XXA012A1")),
                ("x-VendorAttribute2".to_owned(), 0, Value::Integer(0)),
                // 2020-01-01T00:00:00Z.
                (
                    "x-VendorAttribute3".to_owned(),
                    0,
                    Value::DateTime(1_577_836_800)
                ),
            ],
            "{case}"
        );
    }
}

/// The operation and result of every audit record after `after`.
fn audited_after(keystore: &Keystore, after: u64) -> Vec<(String, Option<String>, String)> {
    keystore
        .audit_records(after, 1000)
        .unwrap()
        .into_iter()
        .filter_map(|stored| match stored {
            audit::StoredRecord::Decoded(record) => {
                Some((record.operation, record.object_id, record.result))
            }
            audit::StoredRecord::Undecodable { .. } => None,
        })
        .collect()
}

/// Which way `kmip::answer` says a message runs.
fn answer_kind(keystore: &Arc<Keystore>, session: &Arc<Session>, message: &Item) -> &'static str {
    match kmip::answer(keystore, session, ttlv::encode(message).into()) {
        kmip::Answer::Ready(_) => "ready",
        kmip::Answer::Durable(_) => "durable",
        kmip::Answer::Blocking(_) => "blocking",
    }
}

/// A keystore and an `alpha` session to hand to `kmip::answer`, and an
/// Active AES-256 key named `name` in `alpha`.
fn shared_with_a_key(
    dir: &std::path::Path,
    name: &str,
) -> (Arc<Keystore>, Arc<Session>, keystore::object::ObjectMeta) {
    let keystore = Arc::new(keystore(dir));
    let key = keystore
        .create_key(
            &Caller::system(),
            "alpha",
            name,
            keystore::object::Algorithm::Aes256,
            std::collections::BTreeMap::new(),
        )
        .unwrap();
    (keystore, Arc::new(session("alpha")), key)
}

#[test]
fn quick_reads_are_answered_once_their_audit_records_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (keystore, alpha, key) = shared_with_a_key(dir.path(), "quick");
    let missing = "00000000-0000-4000-8000-000000000000";
    let continue_option = Item::new(Tag::BATCH_ERROR_CONTINUATION_OPTION, Value::Enumeration(1));
    let reads = request_with(
        2,
        1,
        vec![continue_option],
        vec![
            (operation::GET, vec![uid(&key.id)]),
            (operation::GET, vec![uid(missing)]),
            (operation::GET_ATTRIBUTES, vec![uid(&key.id)]),
        ],
    );
    assert_eq!(answer_kind(&keystore, &alpha, &reads), "durable");
    // Anything that changes state, or works longer, runs on a thread.
    let changes = request(
        2,
        1,
        vec![
            (operation::GET, vec![uid(&key.id)]),
            (operation::DESTROY, vec![]),
        ],
    );
    assert_eq!(answer_kind(&keystore, &alpha, &changes), "blocking");
    let pair = request(2, 1, vec![(operation::CREATE_KEY_PAIR, vec![])]);
    assert_eq!(answer_kind(&keystore, &alpha, &pair), "blocking");
    // Nor is a long batch of reads: it would hold the async worker too long.
    let long_batch = request(
        2,
        1,
        (0..=kmip::message::MAX_QUICK_BATCH_ITEMS)
            .map(|_| (operation::GET, vec![uid(&key.id)]))
            .collect(),
    );
    assert_eq!(answer_kind(&keystore, &alpha, &long_batch), "blocking");
    // A long message is not even decoded on the async worker.
    let long_message = request(
        2,
        1,
        vec![(
            operation::ENCRYPT,
            vec![
                uid(&key.id),
                Item::new(
                    Tag::DATA,
                    Value::ByteString(vec![0; kmip::message::MAX_QUICK_MESSAGE_BYTES].into()),
                ),
            ],
        )],
    );
    assert_eq!(answer_kind(&keystore, &alpha, &long_message), "blocking");
    // Bytes that do not decode are answered at once.
    assert!(matches!(
        kmip::answer(
            &keystore,
            &alpha,
            vec![0x42, 0x00, 0x78, 0x01, 0, 0, 0, 8, 1].into()
        ),
        kmip::Answer::Ready(_)
    ));

    let head = keystore.audit_head().unwrap().map_or(0, |(seq, _)| seq);
    let kmip::Answer::Durable(durable) =
        kmip::answer(&keystore, &alpha, ttlv::encode(&reads).into())
    else {
        panic!("quick reads are answered once durable");
    };
    let answer = durable.wait().unwrap();
    let response = ttlv::decode(&answer).unwrap();
    let items = batch_items(&response);
    assert_eq!(items.len(), 3);
    assert_eq!(status(items[0]), 0, "{:?}", items[0]);
    assert_eq!(payload_uid(items[0]), key.id);
    assert_eq!(status(items[1]), 1);
    assert_eq!(status(items[2]), 0, "{:?}", items[2]);
    // The material read and the refusal were both recorded, and were durable
    // before the answer was released.
    let records = audited_after(&keystore, head);
    assert!(
        records.iter().any(
            |(operation, object, result)| operation == "key.read_material"
                && object.as_deref() == Some(key.id.as_str())
                && result == "ok"
        ),
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .any(|(operation, _, result)| operation == "kmip.Get" && result != "ok"),
        "{records:?}"
    );
    // The same request answered the waiting way gives the same answer.
    let waited = kmip::handle_message(&keystore, &alpha, &reads);
    assert_eq!(batch_items(&waited).len(), 3);
    assert_eq!(status(batch_items(&waited)[1]), 1);
}

/// Compiles only for types whose drop wipes their memory.
fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}

#[test]
fn answers_that_carry_key_material_or_plaintext_are_wiped_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (keystore, alpha, key) = shared_with_a_key(dir.path(), "wiped");
    let material = keystore.material(&Caller::system(), &key, None).unwrap().1;
    // A Get, answered the quick way: the encoded answer and the Key
    // Material decoded from it are both wiped when dropped.
    let get = request(2, 1, vec![(operation::GET, vec![uid(&key.id)])]);
    let kmip::Answer::Durable(durable) = kmip::answer(&keystore, &alpha, ttlv::encode(&get).into())
    else {
        panic!("a Get is answered once its audit record is durable");
    };
    let answer: kmip::Response = durable.wait().unwrap();
    wiped_on_drop(&answer);
    let response = ttlv::decode(&answer).unwrap();
    let Value::ByteString(got) = got_material(batch_items(&response)[0], Tag::SYMMETRIC_KEY) else {
        panic!("raw key material is a byte string");
    };
    wiped_on_drop(&got);
    assert_eq!(got.as_slice(), material.expose_secret());
    // Decrypt's plaintext, answered on a thread, over binary and JSON.
    let sealed = call(
        &keystore,
        &alpha,
        (2, 1),
        operation::ENCRYPT,
        vec![
            uid(&key.id),
            Item::new(Tag::DATA, Value::ByteString(b"plaintext".into())),
        ],
    );
    let field = |tag: Tag| Item::new(tag, Value::ByteString(payload_bytes(&sealed, tag).into()));
    let decrypt = request(
        2,
        1,
        vec![(
            operation::DECRYPT,
            vec![
                uid(&key.id),
                field(Tag::DATA),
                field(Tag::IV_COUNTER_NONCE),
                field(Tag::AUTHENTICATED_ENCRYPTION_TAG),
            ],
        )],
    );
    let kmip::Answer::Blocking(work) =
        kmip::answer(&keystore, &alpha, ttlv::encode(&decrypt).into())
    else {
        panic!("a Decrypt runs on a thread");
    };
    let answer: kmip::Response = work.run();
    wiped_on_drop(&answer);
    let response = ttlv::decode(&answer).unwrap();
    assert_eq!(
        payload_bytes(batch_items(&response)[0], Tag::DATA),
        b"plaintext"
    );
    let json = kmip::handle_json(&keystore, &alpha, &ttlv::encode_json(&decrypt));
    wiped_on_drop(&json);
    assert!(json.contains(&hex::encode_upper(b"plaintext")), "{}", *json);
    wiped_on_drop(&kmip::handle_bytes(
        &keystore,
        &alpha,
        &ttlv::encode(&decrypt),
    ));
}

#[test]
fn mac_and_mac_verify_use_a_registered_hmac_sha256_key() {
    use hmac::Mac as _;
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    let v = (1, 4);
    let key = [0x0B_u8; 32];
    let registered = call(
        &keystore,
        &session,
        v,
        operation::REGISTER,
        vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
            Item::structure(Tag::TEMPLATE_ATTRIBUTE, vec![name_attribute("mac-key")]),
            Item::structure(
                Tag::SYMMETRIC_KEY,
                // Raw, HMAC-SHA256 (0x09), 256 bits.
                vec![key_block(
                    1,
                    Value::ByteString(key.to_vec().into()),
                    Some((0x09, 256)),
                )],
            ),
        ],
    );
    assert_eq!(status(&registered), 0, "{registered:?}");
    let id = payload_uid(&registered);
    let activated = call(&keystore, &session, v, operation::ACTIVATE, vec![uid(&id)]);
    assert_eq!(status(&activated), 0, "{activated:?}");

    let data = b"what the MAC covers".to_vec();
    let mac = call(
        &keystore,
        &session,
        v,
        operation::MAC,
        vec![
            uid(&id),
            Item::new(Tag::DATA, Value::ByteString(data.clone().into())),
        ],
    );
    assert_eq!(status(&mac), 0, "{mac:?}");
    let mut expected = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    expected.update(&data);
    let mac_data = payload_bytes(&mac, Tag::MAC_DATA);
    assert_eq!(mac_data, expected.finalize().into_bytes().to_vec());

    let verify = |mac_data: Vec<u8>| {
        let answer = call(
            &keystore,
            &session,
            v,
            operation::MAC_VERIFY,
            vec![
                uid(&id),
                Item::new(Tag::DATA, Value::ByteString(data.clone().into())),
                Item::new(Tag::MAC_DATA, Value::ByteString(mac_data.into())),
            ],
        );
        assert_eq!(status(&answer), 0, "{answer:?}");
        answer
            .child(Tag::RESPONSE_PAYLOAD)
            .and_then(|payload| payload.child(Tag::VALIDITY_INDICATOR))
            .map(|item| item.value.clone())
    };
    // Validity Indicator: 1 Valid, 2 Invalid.
    assert_eq!(verify(mac_data.clone()), Some(Value::Enumeration(1)));
    let mut altered = mac_data;
    altered[0] ^= 1;
    assert_eq!(verify(altered), Some(Value::Enumeration(2)));
}

#[test]
fn rekey_gives_a_symmetric_key_new_material_under_the_same_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let session = session("alpha");
    let v = (1, 4);
    let created = call(
        &keystore,
        &session,
        v,
        operation::CREATE,
        create_aes_v1("rekeyed"),
    );
    let id = payload_uid(&created);
    let activated = call(&keystore, &session, v, operation::ACTIVATE, vec![uid(&id)]);
    assert_eq!(status(&activated), 0, "{activated:?}");
    let before = got_material(
        &call(&keystore, &session, v, operation::GET, vec![uid(&id)]),
        Tag::SYMMETRIC_KEY,
    );

    let rekeyed = call(&keystore, &session, v, operation::REKEY, vec![uid(&id)]);
    assert_eq!(status(&rekeyed), 0, "{rekeyed:?}");
    assert_eq!(payload_uid(&rekeyed), id);
    let after = got_material(
        &call(&keystore, &session, v, operation::GET, vec![uid(&id)]),
        Tag::SYMMETRIC_KEY,
    );
    let Value::ByteString(after_bytes) = &after else {
        panic!("key material is not bytes: {after:?}");
    };
    assert_eq!(after_bytes.len(), 32);
    assert_ne!(before, after, "Re-key kept the old material");
}
