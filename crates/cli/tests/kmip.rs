//! The KMIP listener of the real `cryptainer server --dev`, spoken to in raw TTLV
//! over mutual TLS with client certificates issued by `cryptainer kmip client-cert`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use server_support::TestServer;
use ttlv::{Item, Tag, Value};

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Issues a client certificate with the CLI and returns its directory.
fn issue(server: &TestServer, dir: &Path, name: &str, tenant: &str) -> std::path::PathBuf {
    let out = dir.join(name);
    let output = server.cli(&[
        "kmip",
        "client-cert",
        name,
        "--tenant",
        tenant,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "client-cert failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(out.join("key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "key.pem must be private");
    out
}

/// A KMIP connection with the certificate `cryptainer kmip client-cert` wrote
/// to `cert_dir`.
fn connect(server: &TestServer, cert_dir: &Path) -> Tls {
    connect_as(server, cert_dir, "cert.pem", "key.pem")
}

/// A KMIP connection with the certificate `cert` and key `key` of `dir`, which
/// also holds the CA bundle `ca.pem`.
fn connect_as(server: &TestServer, dir: &Path, cert: &str, key: &str) -> Tls {
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    let config = pki::client_config(&read("ca.pem"), Some((&read(cert), &read(key)))).unwrap();
    let addr = server
        .kmip_addr
        .clone()
        .expect("dev.env names the KMIP address");
    let tcp = TcpStream::connect(&addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    rustls::StreamOwned::new(connection, tcp)
}

/// Reads one framed response; `None` when the server closed the connection.
fn read_message(stream: &mut Tls) -> Option<Item> {
    let mut header = [0_u8; 8];
    stream.read_exact(&mut header).ok()?;
    let length = ttlv::frame_length(&header).unwrap().unwrap();
    let mut message = header.to_vec();
    message.resize(length, 0);
    stream.read_exact(&mut message[8..]).unwrap();
    Some(ttlv::decode(&message).unwrap())
}

fn exchange(stream: &mut Tls, request: &Item) -> Item {
    stream.write_all(&ttlv::encode(request)).unwrap();
    stream.flush().unwrap();
    read_message(stream).expect("a response")
}

fn request(minor_version: (i32, i32), items: Vec<(u32, Vec<Item>)>) -> Item {
    let mut children = vec![Item::structure(
        Tag::REQUEST_HEADER,
        vec![
            Item::structure(
                Tag::PROTOCOL_VERSION,
                vec![
                    Item::new(Tag::PROTOCOL_VERSION_MAJOR, Value::Integer(minor_version.0)),
                    Item::new(Tag::PROTOCOL_VERSION_MINOR, Value::Integer(minor_version.1)),
                ],
            ),
            Item::new(
                Tag::BATCH_COUNT,
                Value::Integer(i32::try_from(items.len()).unwrap()),
            ),
        ],
    )];
    for (index, (operation, payload)) in items.into_iter().enumerate() {
        children.push(Item::structure(
            Tag::BATCH_ITEM,
            vec![
                Item::new(Tag::OPERATION, Value::Enumeration(operation)),
                Item::new(
                    Tag::UNIQUE_BATCH_ITEM_ID,
                    Value::ByteString(vec![u8::try_from(index).unwrap()].into()),
                ),
                Item::structure(Tag::REQUEST_PAYLOAD, payload),
            ],
        ));
    }
    Item::structure(Tag::REQUEST_MESSAGE, children)
}

fn batch(response: &Item) -> Vec<&Item> {
    response
        .children()
        .iter()
        .filter(|item| item.tag == Tag::BATCH_ITEM)
        .collect()
}

fn enumeration(item: &Item, tag: Tag) -> Option<u32> {
    match item.child(tag)?.value {
        Value::Enumeration(value) => Some(value),
        _ => None,
    }
}

fn response_version(response: &Item) -> (Value, Value) {
    let version = response
        .child(Tag::RESPONSE_HEADER)
        .and_then(|header| header.child(Tag::PROTOCOL_VERSION))
        .unwrap();
    (
        version
            .child(Tag::PROTOCOL_VERSION_MAJOR)
            .unwrap()
            .value
            .clone(),
        version
            .child(Tag::PROTOCOL_VERSION_MINOR)
            .unwrap()
            .value
            .clone(),
    )
}

fn create_aes_2_0() -> Vec<Item> {
    vec![
        Item::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
        Item::structure(
            Tag::ATTRIBUTES,
            vec![
                Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
                Item::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
            ],
        ),
    ]
}

fn created_id(item: &Item) -> String {
    match &item
        .child(Tag::RESPONSE_PAYLOAD)
        .and_then(|payload| payload.child(Tag::UNIQUE_IDENTIFIER))
        .unwrap()
        .value
    {
        Value::TextString(id) => id.clone(),
        other => panic!("unique identifier is {other:?}"),
    }
}

fn uid(id: &str) -> Item {
    Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString(id.to_owned()))
}

#[test]
fn kmip_over_mutual_tls_keeps_tenants_apart_and_survives_bad_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("data"));
    let alice = issue(&server, dir.path(), "alice", "alpha");
    let bob = issue(&server, dir.path(), "bob", "beta");

    let mut stream = connect(&server, &alice);
    // Several batch items in one message, answered in order with their ids.
    let response = exchange(
        &mut stream,
        &request(
            (2, 0),
            vec![
                (kmip::CREATE, create_aes_2_0()),
                (kmip::DISCOVER_VERSIONS, Vec::new()),
            ],
        ),
    );
    let items = batch(&response);
    assert_eq!(items.len(), 2);
    assert_eq!(
        enumeration(items[0], Tag::RESULT_STATUS),
        Some(0),
        "{response:?}"
    );
    assert_eq!(enumeration(items[1], Tag::RESULT_STATUS), Some(0));
    assert_eq!(
        items[1].child(Tag::UNIQUE_BATCH_ITEM_ID).unwrap().value,
        Value::ByteString(vec![1].into())
    );
    let id = created_id(items[0]);

    // Unknown operation (Archive): Operation Not Supported on the same
    // connection.
    let response = exchange(&mut stream, &request((1, 4), vec![(0x15, Vec::new())]));
    assert_eq!(
        enumeration(batch(&response)[0], Tag::RESULT_REASON),
        Some(0x05)
    );

    // A message that frames but does not parse: an Invalid Message answer, and
    // the connection keeps working.
    let mut garbage = vec![0x42, 0x00, 0x78, 0x01, 0, 0, 0, 16];
    garbage.extend_from_slice(&[0x42, 0x00, 0x77, 0x09, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0]);
    stream.write_all(&garbage).unwrap();
    let response = read_message(&mut stream).expect("an error response");
    assert_eq!(
        enumeration(batch(&response)[0], Tag::RESULT_REASON),
        Some(0x04)
    );

    // Protocol version 1.0 is answered in 1.0.
    let response = exchange(
        &mut stream,
        &request((1, 0), vec![(kmip::GET, vec![uid(&id)])]),
    );
    assert_eq!(
        response_version(&response),
        (Value::Integer(1), Value::Integer(0))
    );
    // Created keys are Pre-Active, but their material can be read.
    assert_eq!(
        enumeration(batch(&response)[0], Tag::RESULT_STATUS),
        Some(0),
        "{response:?}"
    );

    // Tenant beta cannot see tenant alpha's object.
    let mut other = connect(&server, &bob);
    let response = exchange(
        &mut other,
        &request((1, 4), vec![(kmip::GET, vec![uid(&id)])]),
    );
    assert_eq!(
        enumeration(batch(&response)[0], Tag::RESULT_REASON),
        Some(0x01)
    );

    // A message that cannot be framed closes only its connection.
    other
        .write_all(&[0x42, 0x00, 0x78, 0x07, 0xFF, 0xFF, 0xFF, 0xF0])
        .unwrap();
    let _ = other.flush();
    assert!(
        read_message(&mut other).is_none(),
        "the connection is closed"
    );
    let response = exchange(
        &mut stream,
        &request((1, 4), vec![(kmip::ACTIVATE, vec![uid(&id)])]),
    );
    assert_eq!(
        enumeration(batch(&response)[0], Tag::RESULT_STATUS),
        Some(0)
    );
    let mut again = connect(&server, &bob);
    let response = exchange(
        &mut again,
        &request((1, 4), vec![(kmip::DISCOVER_VERSIONS, Vec::new())]),
    );
    assert_eq!(
        enumeration(batch(&response)[0], Tag::RESULT_STATUS),
        Some(0)
    );
}

#[test]
fn kmip_over_https_takes_binary_and_json_ttlv_with_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("data"));
    let client = server.client();
    let runtime = server_support::runtime();
    let body = ttlv::encode(&request((1, 4), vec![(kmip::CREATE, create_aes_2_0())]));
    let (status, bytes) = runtime.block_on(async {
        let response = client
            .post(format!("{}/kmip", server.addr))
            .bearer_auth(&server.token)
            .header("content-type", "application/octet-stream")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.bytes().await.unwrap())
    });
    assert_eq!(status, 200);
    let response = ttlv::decode(&bytes).unwrap();
    assert_eq!(
        enumeration(batch(&response)[0], Tag::RESULT_STATUS),
        Some(0),
        "{response:?}"
    );

    let json = ttlv::encode_json(&request(
        (2, 1),
        vec![(kmip::DISCOVER_VERSIONS, Vec::new())],
    ));
    let (status, text) = runtime.block_on(async {
        let response = client
            .post(format!("{}/kmip/2_1", server.addr))
            .bearer_auth(&server.token)
            .body(json)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    });
    assert_eq!(status, 200);
    let response = ttlv::decode_json(&text).unwrap();
    assert_eq!(
        response_version(&response),
        (Value::Integer(2), Value::Integer(1))
    );

    // Without a token: refused like every other HTTPS route.
    let status = runtime.block_on(async {
        client
            .post(format!("{}/kmip", server.addr))
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 401);
}

/// KMIP operation codes used here.
mod kmip {
    pub const CREATE: u32 = 0x01;
    pub const GET: u32 = 0x0A;
    pub const ACTIVATE: u32 = 0x12;
    pub const DISCOVER_VERSIONS: u32 = 0x1E;
}

#[test]
fn kmip_follows_a_ca_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("data"));
    let before = issue(&server, dir.path(), "before", "alpha");
    let output = server.cli(&["ca", "rotate", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Issued by the new root, answered with the bundle of both roots.
    let after = issue(&server, dir.path(), "after", "alpha");
    let bundle = std::fs::read_to_string(after.join("ca.pem")).unwrap();
    assert_eq!(bundle.matches("BEGIN CERTIFICATE").count(), 2);
    // A certificate from each root is accepted on 5696 without a restart.
    for cert_dir in [&before, &after] {
        let mut stream = connect(&server, cert_dir);
        let response = exchange(
            &mut stream,
            &request((2, 0), vec![(kmip::DISCOVER_VERSIONS, Vec::new())]),
        );
        assert_eq!(
            enumeration(batch(&response)[0], Tag::RESULT_STATUS),
            Some(0),
            "{response:?}"
        );
    }
}

#[test]
fn an_open_kmip_connection_of_a_decommissioned_node_is_refused_at_its_next_message() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_dev(&dir.path().join("data"));
    let node_dir = dir.path().join("node");
    let node_id = server_support::join_node(&server, &["--tenant", "alpha"], &node_dir);
    let mut stream = connect_as(&server, &node_dir, "node.crt", "node.key");
    let response = exchange(
        &mut stream,
        &request((2, 0), vec![(kmip::CREATE, create_aes_2_0())]),
    );
    let id = created_id(batch(&response)[0]);
    let response = exchange(
        &mut stream,
        &request((2, 0), vec![(kmip::GET, vec![uid(&id)])]),
    );
    assert_eq!(
        enumeration(batch(&response)[0], Tag::RESULT_STATUS),
        Some(0),
        "{response:?}"
    );

    let output = server.cli(&["node", "decommission", &node_id]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The same connection's next message: every batch item fails with
    // Authentication Not Successful (0x03), in the request's version, and
    // says why; nothing is run.
    let response = exchange(
        &mut stream,
        &request(
            (1, 4),
            vec![
                (kmip::GET, vec![uid(&id)]),
                (kmip::DISCOVER_VERSIONS, Vec::new()),
            ],
        ),
    );
    assert_eq!(
        response_version(&response),
        (Value::Integer(1), Value::Integer(4))
    );
    let items = batch(&response);
    assert_eq!(items.len(), 2, "{response:?}");
    for (index, item) in items.iter().enumerate() {
        assert_eq!(
            enumeration(item, Tag::RESULT_STATUS),
            Some(1),
            "{response:?}"
        );
        assert_eq!(enumeration(item, Tag::RESULT_REASON), Some(0x03));
        assert_eq!(
            item.child(Tag::UNIQUE_BATCH_ITEM_ID).unwrap().value,
            Value::ByteString(vec![u8::try_from(index).unwrap()].into())
        );
        assert!(item.child(Tag::RESPONSE_PAYLOAD).is_none());
    }
    assert_eq!(enumeration(items[0], Tag::OPERATION), Some(kmip::GET));
    let message = items[0].child_text(Tag::RESULT_MESSAGE).unwrap();
    assert!(message.contains("decommissioned"), "{message}");
    // Then the server closes the connection, and a new one is refused at
    // the handshake.
    assert!(
        read_message(&mut stream).is_none(),
        "the connection is closed"
    );
    let mut again = connect_as(&server, &node_dir, "node.crt", "node.key");
    let _ = again.write_all(&ttlv::encode(&request(
        (2, 0),
        vec![(kmip::DISCOVER_VERSIONS, Vec::new())],
    )));
    let _ = again.flush();
    assert!(
        read_message(&mut again).is_none(),
        "the handshake is refused"
    );
}
