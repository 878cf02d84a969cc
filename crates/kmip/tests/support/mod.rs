//! What the KMIP operation tests share: a real keystore on SQLite, sessions,
//! request messages and readers of their answers.
#![allow(
    dead_code, // Each test file uses a different part.
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use keystore::seal::PassphraseSeal;
use keystore::secret::SecretBytes;
use keystore::{Caller, Keystore, SealChoice, TenantScope};
use kmip::{Rights, Session, operation};
use ttlv::{Item, Tag, Value};

pub const PASSPHRASE: &[u8] = b"correct horse battery staple";

pub fn keystore(dir: &std::path::Path) -> Keystore {
    let keystore = Keystore::open_sqlite(&dir.join("test.db")).unwrap();
    let seal = PassphraseSeal::new_insecure_for_tests(SecretBytes::from_slice(PASSPHRASE)).unwrap();
    keystore
        .initialize(&Caller::system(), SealChoice::Passphrase(seal), Vec::new())
        .unwrap();
    keystore
        .unseal_with_passphrase(&Caller::system(), SecretBytes::from_slice(PASSPHRASE))
        .unwrap();
    keystore
}

pub fn session(tenant: &str) -> Session {
    Session::new(
        Caller {
            principal: format!("test:{tenant}"),
            remote: None,
        },
        TenantScope::Only(vec![tenant.to_owned()]),
        tenant.to_owned(),
        Rights {
            read_metadata: true,
            read_material: true,
            manage_keys: true,
            read_secret_data: true,
        },
    )
}

pub fn request(major: i32, minor: i32, items: Vec<(u32, Vec<Item>)>) -> Item {
    request_with(major, minor, Vec::new(), items)
}

/// A request whose header also carries `options` (Batch Order Option, Batch
/// Error Continuation Option).
pub fn request_with(
    major: i32,
    minor: i32,
    options: Vec<Item>,
    items: Vec<(u32, Vec<Item>)>,
) -> Item {
    let mut header = vec![Item::structure(
        Tag::PROTOCOL_VERSION,
        vec![
            Item::new(Tag::PROTOCOL_VERSION_MAJOR, Value::Integer(major)),
            Item::new(Tag::PROTOCOL_VERSION_MINOR, Value::Integer(minor)),
        ],
    )];
    header.extend(options);
    header.push(Item::new(
        Tag::BATCH_COUNT,
        Value::Integer(i32::try_from(items.len()).unwrap()),
    ));
    let mut children = vec![Item::structure(Tag::REQUEST_HEADER, header)];
    for (operation, payload) in items {
        children.push(Item::structure(
            Tag::BATCH_ITEM,
            vec![
                Item::new(Tag::OPERATION, Value::Enumeration(operation)),
                Item::structure(Tag::REQUEST_PAYLOAD, payload),
            ],
        ));
    }
    Item::structure(Tag::REQUEST_MESSAGE, children)
}

pub fn batch_items(response: &Item) -> Vec<&Item> {
    response
        .children()
        .iter()
        .filter(|item| item.tag == Tag::BATCH_ITEM)
        .collect()
}

pub fn status(item: &Item) -> u32 {
    match item.child(Tag::RESULT_STATUS).unwrap().value {
        Value::Enumeration(value) => value,
        _ => panic!("no result status"),
    }
}

pub fn reason(item: &Item) -> Option<u32> {
    match item.child(Tag::RESULT_REASON)?.value {
        Value::Enumeration(value) => Some(value),
        _ => None,
    }
}

/// Runs one operation and returns its single batch item.
pub fn call(
    keystore: &Keystore,
    session: &Session,
    version: (i32, i32),
    op: u32,
    payload: Vec<Item>,
) -> Item {
    let response = kmip::handle_message(
        keystore,
        session,
        &request(version.0, version.1, vec![(op, payload)]),
    );
    batch_items(&response)[0].clone()
}

pub fn payload_uid(item: &Item) -> String {
    match &item
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .child(Tag::UNIQUE_IDENTIFIER)
        .unwrap()
        .value
    {
        Value::TextString(id) => id.clone(),
        _ => panic!("unique identifier is not text"),
    }
}

pub fn uid(id: &str) -> Item {
    Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString(id.to_owned()))
}

/// A 1.x Attribute structure.
pub fn attribute(name: &str, value: Value) -> Item {
    Item::structure(
        Tag::ATTRIBUTE,
        vec![
            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.to_owned())),
            Item::new(Tag::ATTRIBUTE_VALUE, value),
        ],
    )
}

/// A 1.x Name attribute (Uninterpreted Text String).
pub fn name_attribute(name: &str) -> Item {
    attribute(
        "Name",
        Value::Structure(vec![
            Item::new(Tag::NAME_VALUE, Value::TextString(name.to_owned())),
            Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
        ]),
    )
}

pub fn create_aes_v1(name: &str) -> Vec<Item> {
    vec![
        Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
        Item::structure(
            Tag::TEMPLATE_ATTRIBUTE,
            vec![
                attribute("Cryptographic Algorithm", Value::Enumeration(3)),
                attribute("Cryptographic Length", Value::Integer(256)),
                attribute("Cryptographic Usage Mask", Value::Integer(12)),
                attribute(
                    "Name",
                    Value::Structure(vec![
                        Item::new(Tag::NAME_VALUE, Value::TextString(name.to_owned())),
                        Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
                    ]),
                ),
            ],
        ),
    ]
}

pub fn create_aes_v2() -> Vec<Item> {
    vec![
        Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
        Item::structure(
            Tag::ATTRIBUTES,
            vec![
                Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
                Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(128)),
            ],
        ),
    ]
}

pub fn payload_text(item: &Item, tag: Tag) -> String {
    match &item
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .child(tag)
        .unwrap()
        .value
    {
        Value::TextString(text) => text.clone(),
        _ => panic!("{tag} is not text"),
    }
}

pub fn payload_bytes(item: &Item, tag: Tag) -> Vec<u8> {
    match &item
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .child(tag)
        .unwrap()
        .value
    {
        Value::ByteString(bytes) => bytes.to_vec(),
        _ => panic!("{tag} is not bytes"),
    }
}

/// The Key Block of the object in a Get response (`tag`: Private Key, Public Key).
pub fn got_block(response: &Item, tag: Tag) -> Item {
    response
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|payload| payload.child(tag))
        .and_then(|object| object.child(Tag::KEY_BLOCK))
        .cloned()
        .unwrap_or_else(|| panic!("no {tag} key block in {response:?}"))
}

/// The Key Material of the object in a Get response.
pub fn got_material(response: &Item, tag: Tag) -> Value {
    got_block(response, tag)
        .child(Tag::KEY_VALUE)
        .and_then(|value| value.child(Tag::KEY_MATERIAL))
        .map(|material| material.value.clone())
        .unwrap_or_else(|| panic!("no key material in {response:?}"))
}

/// A Key Block with format, material and, when given, algorithm and length.
pub fn key_block(format: u32, material: Value, algorithm_and_length: Option<(u32, i32)>) -> Item {
    let mut block = vec![
        Item::new(Tag::KEY_FORMAT_TYPE, Value::Enumeration(format)),
        Item::structure(Tag::KEY_VALUE, vec![Item::new(Tag::KEY_MATERIAL, material)]),
    ];
    if let Some((algorithm, length)) = algorithm_and_length {
        block.push(Item::new(
            Tag::CRYPTOGRAPHIC_ALGORITHM,
            Value::Enumeration(algorithm),
        ));
        block.push(Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)));
    }
    Item::structure(Tag::KEY_BLOCK, block)
}

/// A Revoke payload for `id` with Revocation Reason Code `code`.
pub fn revoke(id: &str, code: u32) -> Vec<Item> {
    vec![
        uid(id),
        Item::structure(
            Tag::REVOCATION_REASON,
            vec![Item::new(
                Tag::REVOCATION_REASON_CODE,
                Value::Enumeration(code),
            )],
        ),
    ]
}

/// A Register payload for a public (object type 3) or private (4) key: a
/// Key Block with format, material and, when given, algorithm and length.
pub fn register_key(
    object: u32,
    format: u32,
    material: Value,
    algorithm_and_length: Option<(u32, i32)>,
    name: &str,
) -> Vec<Item> {
    let block = key_block(format, material, algorithm_and_length);
    let tag = if object == 4 {
        Tag::PRIVATE_KEY
    } else {
        Tag::PUBLIC_KEY
    };
    vec![
        Item::new(Tag::OBJECT_TYPE, Value::Enumeration(object)),
        Item::structure(
            Tag::TEMPLATE_ATTRIBUTE,
            vec![attribute(
                "Name",
                Value::Structure(vec![
                    Item::new(Tag::NAME_VALUE, Value::TextString(name.to_owned())),
                    Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
                ]),
            )],
        ),
        Item::structure(tag, vec![block]),
    ]
}

/// Checks that a 2.x Get Attributes of `id` lists each of `expected`.
pub fn has_attributes(keystore: &Keystore, session: &Session, id: &str, expected: &[Item]) {
    let attributes = call(
        keystore,
        session,
        (2, 0),
        operation::GET_ATTRIBUTES,
        vec![uid(id)],
    );
    let listed = attributes
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|payload| payload.child(Tag::ATTRIBUTES))
        .unwrap_or_else(|| panic!("{attributes:?}"));
    for attribute in expected {
        assert_eq!(listed.child(attribute.tag), Some(attribute), "{listed:?}");
    }
}

/// The identifiers Locate finds by Name.
pub fn located_by_name(keystore: &Keystore, session: &Session, name: &str) -> usize {
    let found = call(
        keystore,
        session,
        (1, 4),
        operation::LOCATE,
        vec![name_attribute(name)],
    );
    found
        .child(Tag::RESPONSE_PAYLOAD)
        .unwrap()
        .children()
        .iter()
        .filter(|item| item.tag == Tag::UNIQUE_IDENTIFIER)
        .count()
}
