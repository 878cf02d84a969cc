//! What KMIP clients rely on (issue 20), checked against a real keystore:
//! Register keeps what clients send, destroyed objects are gone for the
//! operations that would use them and out of Locate, an Activation Date
//! that has come makes an object Active, Locate compares as KMIP says, and
//! Application Specific Information and Derive Key behave as PyKMIP's own
//! suite expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use keystore::Keystore;
use kmip::{Session, operation};
use ttlv::{Item, Tag, Value};

use support::*;

/// KMIP Cryptographic Algorithm values used here.
const AES: u32 = 0x03;
const RSA: u32 = 0x04;
const BLOWFISH: u32 = 0x10;
const IDEA: u32 = 0x13;

/// A Register payload of a symmetric key (2.x attributes) whose Key Block
/// holds `block_extra` after the Key Value.
fn register_symmetric(material: Value, algorithm: u32, length: i32) -> Vec<Item> {
    vec![
        Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
        Item::structure(Tag::ATTRIBUTES, Vec::new()),
        Item::structure(
            Tag::SYMMETRIC_KEY,
            vec![Item::structure(
                Tag::KEY_BLOCK,
                vec![
                    Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(1)),
                    Item::structure(Tag::KEY_VALUE, vec![Item::new(Tag::KEY_MATERIAL, material)]),
                    Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(algorithm)),
                    Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)),
                ],
            )],
        ),
    ]
}

/// The identifiers a Locate answered, in order.
fn located(answer: &Item) -> Vec<String> {
    answer
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .children()
        .iter()
        .filter(|item| item.tag == Tag::UNIQUE_IDENTIFIER)
        .map(|item| item.value.as_text().unwrap().to_owned())
        .collect()
}

/// A 2.x Locate of objects with these attributes.
fn locate(attributes: Vec<Item>) -> Vec<Item> {
    vec![Item::structure(Tag::ATTRIBUTES, attributes)]
}

#[test]
fn register_keeps_keys_of_any_algorithm_and_length_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    for (algorithm, bytes) in [(BLOWFISH, 16_u8), (IDEA, 16), (AES, 64), (AES, 20)] {
        let material: Vec<u8> = (0..bytes).collect();
        let length = i32::from(bytes) * 8;
        let registered = call(
            &keystore,
            &alice,
            (2, 0),
            operation::REGISTER,
            register_symmetric(
                Value::ByteString(material.clone().into()),
                algorithm,
                length,
            ),
        );
        assert_eq!(status(&registered), 0, "{registered:?}");
        let id = payload_uid(&registered);
        for version in [(1, 2), (2, 0)] {
            let got = call(&keystore, &alice, version, operation::GET, vec![uid(&id)]);
            let block = got_block(&got, Tag::SYMMETRIC_KEY);
            assert_eq!(
                got_material(&got, Tag::SYMMETRIC_KEY),
                Value::ByteString(material.clone().into())
            );
            assert_eq!(
                block.child_enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM),
                Some(algorithm)
            );
            assert_eq!(block.child_i32(Tag::CRYPTOGRAPHIC_LENGTH), Some(length));
        }
        has_attributes(
            &keystore,
            &alice,
            &id,
            &[
                Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(algorithm)),
                Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)),
            ],
        );
    }
    // A key the server does not use is still refused where it would be
    // used, saying why.
    let blowfish = call(
        &keystore,
        &alice,
        (2, 0),
        operation::REGISTER,
        register_symmetric(Value::ByteString(vec![7; 16].into()), BLOWFISH, 128),
    );
    let id = payload_uid(&blowfish);
    let refused = activate_and_encrypt(&keystore, &alice, &id);
    assert_eq!(reason(&refused), Some(0x07), "{refused:?}");
    let message = refused.child_text(Tag::RESULT_MESSAGE).unwrap();
    assert!(
        message.contains("not a key for Encrypt and Decrypt"),
        "{message}"
    );
}

#[test]
fn a_private_key_is_read_back_byte_for_byte_in_the_format_it_was_registered_in() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    let pkcs1 = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&key)
        .unwrap()
        .as_bytes()
        .to_vec();
    // PKCS#1 bytes a client labels PKCS#8 (PyKMIP's suite does), and a key
    // size the server does not use: stored and answered as they came.
    let registered = call(
        &keystore,
        &alice,
        (1, 4),
        operation::REGISTER,
        register_key(
            4,
            0x04,
            Value::ByteString(pkcs1.clone().into()),
            Some((RSA, 1024)),
            "small key",
        ),
    );
    assert_eq!(status(&registered), 0, "{registered:?}");
    let id = payload_uid(&registered);
    let got = call(&keystore, &alice, (1, 4), operation::GET, vec![uid(&id)]);
    let block = got_block(&got, Tag::PRIVATE_KEY);
    assert_eq!(block.child_enumeration(Tag::KEY_FORMAT_TYPE), Some(0x04));
    assert_eq!(
        got_material(&got, Tag::PRIVATE_KEY),
        Value::ByteString(pkcs1.into())
    );
    assert_eq!(block.child_i32(Tag::CRYPTOGRAPHIC_LENGTH), Some(1024));
    // Signing with it is what the server cannot do, and it says so there.
    call(
        &keystore,
        &alice,
        (1, 4),
        operation::ACTIVATE,
        vec![uid(&id)],
    );
    let refused = call(
        &keystore,
        &alice,
        (1, 4),
        operation::SIGN,
        vec![
            uid(&id),
            Item::new(Tag::DATA, Value::ByteString(b"to sign".into())),
        ],
    );
    assert_eq!(status(&refused), 1, "{refused:?}");
    let message = refused.child_text(Tag::RESULT_MESSAGE).unwrap();
    assert!(message.contains("1024 bits"), "{message}");
}

#[test]
fn a_wrapped_key_block_is_kept_wrapped_and_answered_as_registered() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let wrapping_data = Item::structure(
        Tag::KEY_WRAPPING_DATA,
        vec![
            Item::new(Tag::WRAPPING_METHOD, Value::Enumeration(1)),
            Item::structure(
                Tag::ENCRYPTION_KEY_INFORMATION,
                vec![
                    uid("42"),
                    Item::structure(
                        Tag::CRYPTOGRAPHIC_PARAMETERS,
                        vec![Item::new(Tag::BLOCK_CIPHER_MODE, Value::Enumeration(0x0D))],
                    ),
                ],
            ),
            Item::new(Tag::ENCODING_OPTION, Value::Enumeration(1)),
        ],
    );
    let block = Item::structure(
        Tag::KEY_BLOCK,
        vec![
            Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(1)),
            Item::new(Tag::KEY_VALUE, Value::ByteString(vec![0xA5; 24].into())),
            Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(AES)),
            Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(128)),
            wrapping_data,
        ],
    );
    let registered = call(
        &keystore,
        &alice,
        (2, 0),
        operation::REGISTER,
        vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
            Item::structure(Tag::ATTRIBUTES, Vec::new()),
            Item::structure(Tag::SYMMETRIC_KEY, vec![block.clone()]),
        ],
    );
    assert_eq!(status(&registered), 0, "{registered:?}");
    let id = payload_uid(&registered);
    let got = call(&keystore, &alice, (2, 0), operation::GET, vec![uid(&id)]);
    assert_eq!(got_block(&got, Tag::SYMMETRIC_KEY), block);
    has_attributes(
        &keystore,
        &alice,
        &id,
        &[
            Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(AES)),
            Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(128)),
        ],
    );
    // The server cannot unwrap it: another format, wrapping it again, or
    // using it are refused, each saying why.
    let other_format = call(
        &keystore,
        &alice,
        (2, 0),
        operation::GET,
        vec![
            uid(&id),
            Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(0x07)),
        ],
    );
    assert_eq!(reason(&other_format), Some(0x10), "{other_format:?}");
    let used = activate_and_encrypt(&keystore, &alice, &id);
    assert_eq!(reason(&used), Some(0x07), "{used:?}");
    assert!(
        used.child_text(Tag::RESULT_MESSAGE)
            .unwrap()
            .contains("registered wrapped")
    );
}

#[test]
fn destroyed_objects_are_item_not_found_and_left_out_of_locate() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    for version in [(1, 2), (2, 0)] {
        let created = call(
            &keystore,
            &alice,
            version,
            operation::CREATE,
            create_aes_v2(),
        );
        let id = payload_uid(&created);
        let destroyed = call(
            &keystore,
            &alice,
            version,
            operation::DESTROY,
            vec![uid(&id)],
        );
        assert_eq!(status(&destroyed), 0, "{destroyed:?}");
        let revocation = Item::structure(
            Tag::REVOCATION_REASON,
            vec![Item::new(
                Tag::REVOCATION_REASON_CODE,
                Value::Enumeration(2),
            )],
        );
        for (op, payload) in [
            (operation::GET, vec![uid(&id)]),
            (operation::DESTROY, vec![uid(&id)]),
            (operation::ACTIVATE, vec![uid(&id)]),
            (operation::REVOKE, vec![uid(&id), revocation.clone()]),
        ] {
            let refused = call(&keystore, &alice, version, op, payload);
            assert_eq!(reason(&refused), Some(0x01), "{version:?} {refused:?}");
        }
        // Its attributes remain, and Locate finds it when asked for its state.
        let attributes = call(
            &keystore,
            &alice,
            version,
            operation::GET_ATTRIBUTES,
            vec![uid(&id)],
        );
        assert_eq!(status(&attributes), 0, "{attributes:?}");
        let everything = located(&call(
            &keystore,
            &alice,
            (2, 0),
            operation::LOCATE,
            locate(vec![]),
        ));
        assert!(!everything.contains(&id), "{everything:?}");
        let destroyed = located(&call(
            &keystore,
            &alice,
            (2, 0),
            operation::LOCATE,
            locate(vec![Item::new(Tag::STATE, Value::Enumeration(5))]),
        ));
        assert!(destroyed.contains(&id), "{destroyed:?}");
    }
    // Revoking a compromised key for a compromise again changes nothing and
    // succeeds (clean-ups revoke whatever they find).
    let created = call(
        &keystore,
        &alice,
        (1, 2),
        operation::CREATE,
        create_aes_v2(),
    );
    let id = payload_uid(&created);
    let compromise = || {
        call(
            &keystore,
            &alice,
            (1, 2),
            operation::REVOKE,
            vec![
                uid(&id),
                Item::structure(
                    Tag::REVOCATION_REASON,
                    vec![Item::new(
                        Tag::REVOCATION_REASON_CODE,
                        Value::Enumeration(2),
                    )],
                ),
            ],
        )
    };
    assert_eq!(status(&compromise()), 0);
    assert_eq!(status(&compromise()), 0);
    has_attributes(
        &keystore,
        &alice,
        &id,
        &[Item::new(Tag::STATE, Value::Enumeration(4))],
    );
}

#[test]
fn an_activation_date_that_has_come_makes_a_new_object_active() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (at, state) in [(now - 3600, 2), (now + 86_400, 1)] {
        let mut register = register_symmetric(Value::ByteString(vec![1; 16].into()), AES, 128);
        register[1] = Item::structure(
            Tag::ATTRIBUTES,
            vec![Item::new(Tag::ACTIVATION_DATE, Value::DateTime(at))],
        );
        let registered = call(&keystore, &alice, (2, 0), operation::REGISTER, register);
        let id = payload_uid(&registered);
        has_attributes(
            &keystore,
            &alice,
            &id,
            &[
                Item::new(Tag::STATE, Value::Enumeration(state)),
                Item::new(Tag::ACTIVATION_DATE, Value::DateTime(at)),
            ],
        );
        let mut create = create_aes_v2();
        if let Value::Structure(attributes) = &mut create[1].value {
            attributes.push(Item::new(Tag::ACTIVATION_DATE, Value::DateTime(at)));
        }
        let created = call(&keystore, &alice, (2, 0), operation::CREATE, create);
        has_attributes(
            &keystore,
            &alice,
            &payload_uid(&created),
            &[Item::new(Tag::STATE, Value::Enumeration(state))],
        );
    }
}

#[test]
fn locate_takes_date_ranges_usage_bits_and_identifiers_and_answers_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let mut ids = Vec::new();
    for mask in [4, 4 | 8, 1] {
        let mut create = create_aes_v2();
        if let Value::Structure(attributes) = &mut create[1].value {
            attributes.push(Item::new(
                Tag::CRYPTOGRAPHIC_USAGE_MASK,
                Value::Integer(mask),
            ));
        }
        let created = call(&keystore, &alice, (1, 4), operation::CREATE, create);
        ids.push(payload_uid(&created));
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    let all = call(&keystore, &alice, (1, 4), operation::LOCATE, locate(vec![]));
    assert_eq!(located(&all), newest_first);
    // Offset and Maximum Items cut the list; Located Items counts every match.
    let page = call(
        &keystore,
        &alice,
        (1, 4),
        operation::LOCATE,
        vec![
            Item::new(Tag::MAXIMUM_ITEMS, Value::Integer(1)),
            Item::new(Tag::OFFSET_ITEMS, Value::Integer(1)),
        ],
    );
    assert_eq!(located(&page), vec![ids[1].clone()]);
    assert_eq!(
        page.child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .child_i32(Tag::LOCATED_ITEMS),
        Some(3)
    );
    // A usage mask matches the objects that have all its bits.
    let encrypting = call(
        &keystore,
        &alice,
        (2, 0),
        operation::LOCATE,
        locate(vec![Item::new(
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Value::Integer(4),
        )]),
    );
    assert_eq!(located(&encrypting), vec![ids[1].clone(), ids[0].clone()]);
    // Two Initial Dates are a range; one is the exact date.
    let initial = |id: &str| {
        let attributes = call(
            &keystore,
            &alice,
            (2, 0),
            operation::GET_ATTRIBUTES,
            vec![uid(id)],
        );
        match attributes
            .child(Tag::RESPONSE_PAYLOAD)
            .and_then(|payload| payload.child(Tag::ATTRIBUTES))
            .and_then(|attributes| attributes.child(Tag::INITIAL_DATE))
            .map(|item| &item.value)
        {
            Some(Value::DateTime(at)) => *at,
            other => panic!("no Initial Date: {other:?}"),
        }
    };
    let first = initial(&ids[0]);
    let in_range = call(
        &keystore,
        &alice,
        (2, 0),
        operation::LOCATE,
        locate(vec![
            Item::new(Tag::INITIAL_DATE, Value::DateTime(first - 60)),
            Item::new(Tag::INITIAL_DATE, Value::DateTime(first + 60)),
        ]),
    );
    assert_eq!(located(&in_range), newest_first);
    let before = call(
        &keystore,
        &alice,
        (2, 0),
        operation::LOCATE,
        locate(vec![
            Item::new(Tag::INITIAL_DATE, Value::DateTime(first - 120)),
            Item::new(Tag::INITIAL_DATE, Value::DateTime(first - 60)),
        ]),
    );
    assert!(located(&before).is_empty());
    // By identifier, and by the Operation Policy Name every object has in
    // 1.x unless a client set another.
    let by_id = call(
        &keystore,
        &alice,
        (2, 0),
        operation::LOCATE,
        locate(vec![uid(&ids[2])]),
    );
    assert_eq!(located(&by_id), vec![ids[2].clone()]);
    let by_policy = call(
        &keystore,
        &alice,
        (1, 2),
        operation::LOCATE,
        vec![Item::structure(
            Tag::TEMPLATE_ATTRIBUTE,
            vec![attribute(
                "Operation Policy Name",
                Value::TextString("default".to_owned()),
            )],
        )],
    );
    assert_eq!(located(&by_policy), newest_first);
}

#[test]
fn application_specific_information_is_kept_several_times_and_edited_by_index() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let info = |namespace: &str, data: &str| {
        attribute(
            "Application Specific Information",
            Value::Structure(vec![
                Item::new(
                    Tag::APPLICATION_NAMESPACE,
                    Value::TextString(namespace.to_owned()),
                ),
                Item::new(Tag::APPLICATION_DATA, Value::TextString(data.to_owned())),
            ]),
        )
    };
    let mut create = create_aes_v1("with app info");
    if let Value::Structure(attributes) = &mut create[1].value {
        attributes.push(info("ssl", "www.example.com"));
        attributes.push(info("Testing3", "Testing4"));
    }
    let created = call(&keystore, &alice, (1, 2), operation::CREATE, create);
    let id = payload_uid(&created);
    let listed = |version: (i32, i32)| {
        let attributes = call(
            &keystore,
            &alice,
            version,
            operation::GET_ATTRIBUTES,
            vec![
                uid(&id),
                Item::new(
                    Tag::ATTRIBUTE_NAME,
                    Value::TextString("Application Specific Information".to_owned()),
                ),
            ],
        );
        attributes
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .children()
            .iter()
            .filter(|item| item.tag == Tag::ATTRIBUTE)
            .map(|item| {
                let value = item.child(Tag::ATTRIBUTE_VALUE).unwrap();
                (
                    item.child_i32(Tag::ATTRIBUTE_INDEX),
                    value
                        .child_text(Tag::APPLICATION_NAMESPACE)
                        .unwrap()
                        .to_owned(),
                    value.child_text(Tag::APPLICATION_DATA).unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let both = vec![
        (Some(0), "ssl".to_owned(), "www.example.com".to_owned()),
        (Some(1), "Testing3".to_owned(), "Testing4".to_owned()),
    ];
    assert_eq!(listed((1, 2)), both);
    let names = call(
        &keystore,
        &alice,
        (1, 2),
        operation::GET_ATTRIBUTE_LIST,
        vec![uid(&id)],
    );
    assert!(
        names
            .child(Tag::RESPONSE_PAYLOAD)
            .unwrap()
            .children()
            .iter()
            .any(|item| item.value.as_text() == Some("Application Specific Information")),
        "{names:?}"
    );
    // Modify the second by its index; the answer names the index.
    let mut modified = info("Testing3", "changed");
    if let Value::Structure(children) = &mut modified.value {
        children.insert(1, Item::new(Tag::ATTRIBUTE_INDEX, Value::Integer(1)));
    }
    let answer = call(
        &keystore,
        &alice,
        (1, 2),
        operation::MODIFY_ATTRIBUTE,
        vec![uid(&id), modified],
    );
    assert_eq!(status(&answer), 0, "{answer:?}");
    let echoed = answer
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|payload| payload.child(Tag::ATTRIBUTE))
        .unwrap();
    assert_eq!(echoed.child_i32(Tag::ATTRIBUTE_INDEX), Some(1));
    // Delete the first; the second keeps its index.
    let deleted = call(
        &keystore,
        &alice,
        (1, 2),
        operation::DELETE_ATTRIBUTE,
        vec![
            uid(&id),
            Item::new(
                Tag::ATTRIBUTE_NAME,
                Value::TextString("Application Specific Information".to_owned()),
            ),
            Item::new(Tag::ATTRIBUTE_INDEX, Value::Integer(0)),
        ],
    );
    assert_eq!(status(&deleted), 0, "{deleted:?}");
    assert_eq!(
        listed((1, 2)),
        vec![(Some(1), "Testing3".to_owned(), "changed".to_owned())]
    );
}

#[test]
fn derive_key_takes_a_pre_active_base_that_allows_derivation_and_blowfish() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    // The classic Blowfish CBC vector (Eric Young's): what PyKMIP's suite
    // derives by encryption with a Blowfish key it registered.
    let key = hex("0123456789ABCDEFF0E1D2C3B4A59687");
    let register = |mask: Option<i32>| {
        let mut payload = register_symmetric(Value::ByteString(key.clone().into()), BLOWFISH, 128);
        if let Some(mask) = mask {
            payload[1] = Item::structure(
                Tag::ATTRIBUTES,
                vec![Item::new(
                    Tag::CRYPTOGRAPHIC_USAGE_MASK,
                    Value::Integer(mask),
                )],
            );
        }
        payload_uid(&call(
            &keystore,
            &alice,
            (2, 0),
            operation::REGISTER,
            payload,
        ))
    };
    let derive = |base: &str| {
        call(
            &keystore,
            &alice,
            (2, 0),
            operation::DERIVE_KEY,
            vec![
                Item::new(Tag::OBJECT_TYPE, Value::Enumeration(7)),
                uid(base),
                Item::new(Tag::DERIVATION_METHOD, Value::Enumeration(0x04)),
                Item::structure(
                    Tag::DERIVATION_PARAMETERS,
                    vec![
                        Item::structure(
                            Tag::CRYPTOGRAPHIC_PARAMETERS,
                            vec![
                                Item::new(Tag::BLOCK_CIPHER_MODE, Value::Enumeration(1)),
                                Item::new(Tag::PADDING_METHOD, Value::Enumeration(3)),
                                Item::new(
                                    Tag::CRYPTOGRAPHIC_ALGORITHM,
                                    Value::Enumeration(BLOWFISH),
                                ),
                            ],
                        ),
                        Item::new(
                            Tag::INITIALIZATION_VECTOR,
                            Value::ByteString(hex("FEDCBA9876543210").into()),
                        ),
                        Item::new(
                            Tag::DERIVATION_DATA,
                            Value::ByteString(b"7654321 Now is the time for \0".into()),
                        ),
                    ],
                ),
                Item::structure(
                    Tag::ATTRIBUTES,
                    vec![Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256))],
                ),
            ],
        )
    };
    // Pre-Active without Derive Key in its usage mask: refused.
    let refused = derive(&register(None));
    assert_eq!(status(&refused), 1, "{refused:?}");
    // Pre-Active with it (0x200): derived.
    let derived = derive(&register(Some(0x200)));
    assert_eq!(status(&derived), 0, "{derived:?}");
    let got = call(
        &keystore,
        &alice,
        (2, 0),
        operation::GET,
        vec![uid(&payload_uid(&derived))],
    );
    assert_eq!(
        got_material(&got, Tag::SECRET_DATA),
        Value::ByteString(
            hex("6B77B4D63006DEE605B156E27403979358DEB9E7154616D9749DECBEC05D264B").into()
        )
    );
}

/// Activates object `id` and asks it to encrypt four bytes (AES-GCM): the
/// answer.
fn activate_and_encrypt(keystore: &Keystore, session: &Session, id: &str) -> Item {
    call(
        keystore,
        session,
        (2, 0),
        operation::ACTIVATE,
        vec![uid(id)],
    );
    call(
        keystore,
        session,
        (2, 0),
        operation::ENCRYPT,
        vec![
            uid(id),
            Item::new(Tag::DATA, Value::ByteString(b"data".into())),
        ],
    )
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
        .collect()
}

#[test]
fn an_aes_192_key_is_created_and_encrypts_and_decrypts() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let alice = session("alice");
    let created = call(
        &keystore,
        &alice,
        (2, 0),
        operation::CREATE,
        vec![
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
            Item::structure(
                Tag::ATTRIBUTES,
                vec![
                    Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(AES)),
                    Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(192)),
                ],
            ),
        ],
    );
    assert_eq!(status(&created), 0, "{created:?}");
    let id = payload_uid(&created);
    has_attributes(
        &keystore,
        &alice,
        &id,
        &[
            Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(AES)),
            Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(192)),
        ],
    );
    call(
        &keystore,
        &alice,
        (2, 0),
        operation::ACTIVATE,
        vec![uid(&id)],
    );
    for mode in [None, Some(1)] {
        let parameters: Vec<Item> = mode
            .map(|mode| {
                Item::structure(
                    Tag::CRYPTOGRAPHIC_PARAMETERS,
                    vec![Item::new(Tag::BLOCK_CIPHER_MODE, Value::Enumeration(mode))],
                )
            })
            .into_iter()
            .collect();
        // Two whole blocks: ECB and CBC pad only when asked to.
        let mut encrypt = vec![
            uid(&id),
            Item::new(
                Tag::DATA,
                Value::ByteString(b"attack at dawn, not at dusk!!!!!".into()),
            ),
        ];
        encrypt.extend(parameters.clone());
        let sealed = call(&keystore, &alice, (2, 0), operation::ENCRYPT, encrypt);
        assert_eq!(status(&sealed), 0, "{sealed:?}");
        let mut decrypt = vec![uid(&id)];
        decrypt.extend(parameters);
        for tag in [
            Tag::DATA,
            Tag::IV_COUNTER_NONCE,
            Tag::AUTHENTICATED_ENCRYPTION_TAG,
        ] {
            if let Some(item) = sealed.child(Tag::RESPONSE_PAYLOAD).unwrap().child(tag) {
                decrypt.push(item.clone());
            }
        }
        let opened = call(&keystore, &alice, (2, 0), operation::DECRYPT, decrypt);
        assert_eq!(
            payload_bytes(&opened, Tag::DATA),
            b"attack at dawn, not at dusk!!!!!",
            "{opened:?}"
        );
    }
}
