//! Faults in a cluster of three real servers on one PostgreSQL, under a mixed
//! load of creates, gets, KMIP Encrypt and Decrypt, and volume leases taken
//! and renewed, sent through the api crate's failover client (and, for KMIP,
//! to the next server's KMIP port when one drops):
//!
//! - one server killed with SIGKILL at random, twenty times, and restarted;
//! - PostgreSQL itself stopped at once (`pg_ctl stop -m immediate`) and
//!   started again;
//! - one server cut off from the database (its connections dropped).
//!
//! Afterwards every acknowledged write is there, the audit log is one chain
//! `audit verify` accepts, no answer was wrong, and no two holders were told
//! they held one volume at overlapping times.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cluster_support;
mod server_support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::keys::{CreateKey, CreateKeyRequest, ReadMaterial};
use api::volumes::{AcquireVolume, CreateVolume, CreateVolumeRequest, LeaseRequest, RenewVolume};
use api::{ClientError, ErrorCode, ObjectRef};
use cluster_support::{Cluster, text, wait_until};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ttlv::{Item, Tag, Value};

/// Lease length the volume load asks for.
const LEASE_SECS: u32 = 2;

/// Volumes the holders compete for.
const VOLUMES: usize = 2;

/// How a call that was not answered with success ended, as the load counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Every server answered 503 or could not be reached before the request
    /// was sent: nothing happened.
    Refused,
    /// The server went away with the request, or the database was lost at
    /// the commit (answered 500 as such): it may or may not have happened.
    Unknown,
}

/// What the load saw.
#[derive(Default)]
struct Ledger {
    /// Acknowledged keys: id → material as first read (when read).
    keys: Mutex<BTreeMap<String, Option<String>>>,
    /// Every lease a holder was told it has: (volume, holder, from, until).
    leases: Mutex<Vec<(String, String, OffsetDateTime, OffsetDateTime)>>,
    created: AtomicU64,
    reads: AtomicU64,
    kmip: AtomicU64,
    lease_grants: AtomicU64,
    refused: AtomicU64,
    unknown: AtomicU64,
    /// Answers that contradict what was acknowledged: must stay 0.
    wrong: Mutex<Vec<String>>,
}

impl Ledger {
    fn count(&self, outcome: Outcome) {
        match outcome {
            Outcome::Refused => {
                self.refused.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Unknown => {
                self.unknown.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn wrong(&self, what: String) {
        self.wrong.lock().unwrap().push(what);
    }
}

/// How a failed call counts; a failure that is an answer contradicting the
/// cluster's state is wrong.
fn outcome_of(error: &ClientError, ledger: &Ledger, what: &str) -> Outcome {
    match error {
        ClientError::Refused { status: 503, .. } => Outcome::Refused,
        ClientError::Refused {
            status: 500,
            message,
            ..
        } if message.contains("may or may not have taken effect") => Outcome::Unknown,
        ClientError::Unreachable(unreachable) if unreachable.maybe_sent() => Outcome::Unknown,
        ClientError::Unreachable(_) => Outcome::Refused,
        other => {
            ledger.wrong(format!("{what}: {other}"));
            Outcome::Unknown
        }
    }
}

/// Creates keys with names never used before, and records those acknowledged.
async fn create_keys(
    client: api::HttpsClient,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    who: usize,
) {
    let mut next = 0_u64;
    while !stop.load(Ordering::Relaxed) {
        next += 1;
        let request = CreateKeyRequest {
            name: format!("load-{who}-{next}"),
            ..CreateKeyRequest::default()
        };
        match client.send(&CreateKey(&request)).await {
            Ok(info) => {
                ledger.keys.lock().unwrap().insert(info.id, None);
                ledger.created.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                let outcome = outcome_of(&error, &ledger, "create");
                ledger.count(outcome);
                if outcome == Outcome::Refused {
                    // The whole cluster is refusing (the database is down):
                    // pace the retries.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// Reads acknowledged keys' material; a key not found, or whose material
/// changed, is a wrong answer.
async fn read_keys(client: api::HttpsClient, ledger: Arc<Ledger>, stop: Arc<AtomicBool>, who: u64) {
    let mut turn = who;
    while !stop.load(Ordering::Relaxed) {
        turn = turn
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let picked = {
            let keys = ledger.keys.lock().unwrap();
            let count = keys.len();
            if count == 0 {
                None
            } else {
                let index = usize::try_from(turn >> 33).unwrap() % count;
                keys.keys().nth(index).cloned()
            }
        };
        let Some(id) = picked else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        match client
            .send(&ReadMaterial {
                key: ObjectRef::named(&id),
                version: None,
            })
            .await
        {
            Ok(material) => {
                let read = material.material.expose_secret().to_owned();
                let mut keys = ledger.keys.lock().unwrap();
                let first = keys.entry(id.clone()).or_insert(None);
                match first {
                    Some(first) if *first != read => {
                        ledger.wrong(format!("key {id}: its material changed"))
                    }
                    Some(_) => {}
                    None => *first = Some(read),
                }
                ledger.reads.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) if error.code() == Some(ErrorCode::NotFound) => {
                ledger.wrong(format!("acknowledged key {id} not found"));
            }
            Err(error) => {
                let outcome = outcome_of(&error, &ledger, "read");
                ledger.count(outcome);
                if outcome == Outcome::Refused {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// Takes and renews volume leases as `holder`; records every lease it is
/// told it holds, from the database's clock (the lease ends `LEASE_SECS`
/// after it is granted: its start is its end minus that).
async fn hold_volumes(
    client: api::HttpsClient,
    holder: String,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) {
    let request = LeaseRequest {
        lease_seconds: Some(LEASE_SECS),
        ..LeaseRequest::default()
    };
    let mut turn = 0_usize;
    while !stop.load(Ordering::Relaxed) {
        turn += 1;
        let name = format!("vol-{}", turn % VOLUMES);
        let granted = match client
            .send(&AcquireVolume {
                name: &name,
                body: &request,
            })
            .await
        {
            Ok(acquired) => Some(acquired.volume),
            Err(error) if error.code() == Some(ErrorCode::Conflict) => None,
            Err(error) => {
                ledger.count(outcome_of(&error, &ledger, "acquire"));
                None
            }
        };
        let Some(volume) = granted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        record_lease(&ledger, &name, &holder, &volume);
        tokio::time::sleep(Duration::from_millis(300)).await;
        match client
            .send(&RenewVolume {
                name: &name,
                body: &request,
            })
            .await
        {
            Ok(volume) => record_lease(&ledger, &name, &holder, &volume),
            Err(error) if error.code() == Some(ErrorCode::BadRequest) => {}
            Err(error) if error.code() == Some(ErrorCode::Conflict) => {}
            Err(error) => ledger.count(outcome_of(&error, &ledger, "renew")),
        }
    }
}

fn record_lease(ledger: &Ledger, volume: &str, holder: &str, info: &api::volumes::VolumeInfo) {
    let (Some(told), Some(until)) = (&info.holder, &info.lease_expires_at) else {
        ledger.wrong(format!("{volume}: a lease answer without its holder"));
        return;
    };
    if told != holder {
        ledger.wrong(format!("{volume}: {holder} was answered a lease of {told}"));
    }
    let until = OffsetDateTime::parse(until, &Rfc3339).unwrap();
    let from = until - time::Duration::seconds(i64::from(LEASE_SECS));
    ledger
        .leases
        .lock()
        .unwrap()
        .push((volume.to_owned(), holder.to_owned(), from, until));
    ledger.lease_grants.fetch_add(1, Ordering::Relaxed);
}

/// No two holders were told they held one volume at overlapping times.
fn check_leases(ledger: &Ledger) {
    let mut leases = ledger.leases.lock().unwrap().clone();
    leases.sort_by_key(|(volume, _, from, _)| (volume.clone(), *from));
    for (index, (volume, holder, from, until)) in leases.iter().enumerate() {
        for (other_volume, other, other_from, _) in &leases[index + 1..] {
            if other_volume == volume && other != holder && other_from < until {
                panic!(
                    "{volume}: {holder} held it from {from} until {until}, and {other} was \
                     granted it at {other_from}"
                );
            }
        }
    }
}

/// A TLS stream to a KMIP port.
type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn kmip_request(operation: u32, payload: Vec<Item>) -> Item {
    Item::structure(
        Tag::REQUEST_MESSAGE,
        vec![
            Item::structure(
                Tag::REQUEST_HEADER,
                vec![
                    Item::structure(
                        Tag::PROTOCOL_VERSION,
                        vec![
                            Item::new(Tag::PROTOCOL_VERSION_MAJOR, Value::Integer(1)),
                            Item::new(Tag::PROTOCOL_VERSION_MINOR, Value::Integer(4)),
                        ],
                    ),
                    Item::new(Tag::BATCH_COUNT, Value::Integer(1)),
                ],
            ),
            Item::structure(
                Tag::BATCH_ITEM,
                vec![
                    Item::new(Tag::OPERATION, Value::Enumeration(operation)),
                    Item::structure(Tag::REQUEST_PAYLOAD, payload),
                ],
            ),
        ],
    )
}

/// Sends one message and reads the answer; `None` when the connection failed.
fn kmip_exchange(stream: &mut Tls, request: &Item) -> Option<Item> {
    stream.write_all(&ttlv::encode(request)).ok()?;
    stream.flush().ok()?;
    let mut header = [0_u8; 8];
    stream.read_exact(&mut header).ok()?;
    let length = ttlv::frame_length(&header).ok()??;
    let mut message = header.to_vec();
    message.resize(length, 0);
    stream.read_exact(&mut message[8..]).ok()?;
    ttlv::decode(&message).ok()
}

/// The payload of a successful single-item answer.
fn kmip_payload(response: &Item) -> Option<&Item> {
    let item = response.child(Tag::BATCH_ITEM)?;
    match item.child(Tag::RESULT_STATUS)?.value {
        Value::Enumeration(0) => item.child(Tag::RESPONSE_PAYLOAD),
        _ => None,
    }
}

/// Encrypts and decrypts with `key_id` over KMIP, moving to the next
/// server's KMIP port when a connection fails; a decryption that does not
/// give back the plaintext is a wrong answer.
fn kmip_load(
    ports: Vec<u16>,
    certs: std::path::PathBuf,
    key_id: String,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) {
    let read = |file: &str| std::fs::read_to_string(certs.join(file)).unwrap();
    let config = Arc::new(
        pki::client_config(&read("ca.pem"), Some((&read("cert.pem"), &read("key.pem")))).unwrap(),
    );
    let mut server = 0_usize;
    let mut round = 0_u64;
    while !stop.load(Ordering::Relaxed) {
        let port = ports[server % ports.len()];
        let Ok(tcp) = TcpStream::connect(("127.0.0.1", port)) else {
            server += 1;
            ledger.count(Outcome::Refused);
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let connection = rustls::ClientConnection::new(Arc::clone(&config), name).unwrap();
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        while !stop.load(Ordering::Relaxed) {
            round += 1;
            let plaintext = format!("kmip round {round}").into_bytes();
            let uid = Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString(key_id.clone()));
            let encrypt = kmip_request(
                0x1F,
                vec![
                    uid.clone(),
                    Item::new(Tag::DATA, Value::ByteString(plaintext.clone().into())),
                ],
            );
            let Some(encrypted) = kmip_exchange(&mut stream, &encrypt) else {
                break;
            };
            let Some(payload) = kmip_payload(&encrypted) else {
                // An error answer (the database out of reach): try again.
                ledger.count(Outcome::Refused);
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            let mut decrypt = vec![uid];
            for tag in [
                Tag::DATA,
                Tag::IV_COUNTER_NONCE,
                Tag::AUTHENTICATED_ENCRYPTION_TAG,
            ] {
                match payload.child(tag) {
                    Some(item) => decrypt.push(item.clone()),
                    None => ledger.wrong(format!("KMIP Encrypt answered without {tag:?}")),
                }
            }
            let Some(decrypted) = kmip_exchange(&mut stream, &kmip_request(0x20, decrypt)) else {
                break;
            };
            match kmip_payload(&decrypted).and_then(|payload| payload.child(Tag::DATA)) {
                Some(Item {
                    value: Value::ByteString(back),
                    ..
                }) if *back == plaintext => {
                    ledger.kmip.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => ledger.wrong("KMIP Decrypt gave back another plaintext".to_owned()),
                None => ledger.count(Outcome::Refused),
            }
        }
        // The connection dropped (its server was killed): the next server.
        server += 1;
    }
}

/// The load's tasks and threads, and a way to stop them.
struct Load {
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    runtime: tokio::runtime::Runtime,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    kmip: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    /// Starts the mixed load on `cluster`: two creators, two readers, three
    /// volume holders, and (when `kmip`) one KMIP client.
    fn start(cluster: &Cluster, kmip: bool) -> Load {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let ledger = Arc::new(Ledger::default());
        let stop = Arc::new(AtomicBool::new(false));
        let admin = cluster.client();
        // Holders (operator tokens: each is its own holder) and volumes.
        let holders: Vec<(String, api::HttpsClient)> = runtime.block_on(async {
            for index in 0..VOLUMES {
                admin
                    .send(&CreateVolume(&CreateVolumeRequest {
                        name: format!("vol-{index}"),
                        size_bytes: 1 << 30,
                        filesystem: None,
                        tenant: None,
                    }))
                    .await
                    .unwrap();
            }
            let mut holders = Vec::new();
            for index in 0..3 {
                let created = admin
                    .send(&api::tokens::CreateToken(
                        &api::tokens::CreateTokenRequest {
                            role: "operator".to_owned(),
                            tenants: None,
                            ttl_secs: None,
                            display_name: Some(format!("holder {index}")),
                        },
                    ))
                    .await
                    .unwrap();
                let client = cluster.client_of(&cluster.addresses(), created.token.expose_secret());
                holders.push((format!("token:{}", created.info.id), client));
            }
            holders
        });
        let mut tasks = Vec::new();
        for who in 0..2 {
            tasks.push(runtime.spawn(create_keys(
                cluster.client(),
                Arc::clone(&ledger),
                Arc::clone(&stop),
                who,
            )));
            tasks.push(runtime.spawn(read_keys(
                cluster.client(),
                Arc::clone(&ledger),
                Arc::clone(&stop),
                u64::try_from(who).unwrap() + 1,
            )));
        }
        for (holder, client) in holders {
            tasks.push(runtime.spawn(hold_volumes(
                client,
                holder,
                Arc::clone(&ledger),
                Arc::clone(&stop),
            )));
        }
        let kmip = kmip.then(|| {
            let certs = cluster_support::kmip_client_cert(cluster, "load");
            let key = runtime
                .block_on(admin.send(&CreateKey(&CreateKeyRequest {
                    name: "kmip-load".to_owned(),
                    ..CreateKeyRequest::default()
                })))
                .unwrap();
            let ports = cluster
                .members
                .iter()
                .map(|member| member.kmip_port)
                .collect();
            let (ledger, stop) = (Arc::clone(&ledger), Arc::clone(&stop));
            std::thread::spawn(move || kmip_load(ports, certs, key.id, ledger, stop))
        });
        Load {
            ledger,
            stop,
            runtime,
            tasks,
            kmip,
        }
    }

    /// Waits until the load has made `writes` more acknowledged creates.
    fn progress(&self, writes: u64) {
        let from = self.ledger.created.load(Ordering::Relaxed);
        wait_until("the load to make progress", || {
            self.ledger.created.load(Ordering::Relaxed) >= from + writes
        });
    }

    /// Stops the load and returns what it saw.
    fn stop(self) -> Arc<Ledger> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            self.runtime.block_on(task).unwrap();
        }
        if let Some(kmip) = self.kmip {
            kmip.join().unwrap();
        }
        self.ledger
    }
}

/// Every acknowledged key reads back (with the material first read), the
/// audit log verifies, no answer was wrong, no lease was held twice.
fn check_nothing_lost(cluster: &Cluster, ledger: &Ledger) {
    let wrong = ledger.wrong.lock().unwrap().clone();
    assert!(wrong.is_empty(), "wrong answers: {wrong:#?}");
    check_leases(ledger);
    let client = cluster.client();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let keys = ledger.keys.lock().unwrap().clone();
    assert!(!keys.is_empty(), "the load acknowledged no create");
    runtime.block_on(async {
        for (id, first) in &keys {
            let material = client
                .send(&ReadMaterial {
                    key: ObjectRef::named(id),
                    version: None,
                })
                .await
                .unwrap_or_else(|error| panic!("acknowledged key {id} lost: {error}"));
            if let Some(first) = first {
                assert_eq!(material.material.expose_secret(), first, "key {id}");
            }
        }
    });
    let verified = cluster.cli(&["audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(text(&verified).contains("intact"), "{}", text(&verified));
}

fn summary(what: &str, ledger: &Ledger) -> String {
    format!(
        "{what}: {} creates acknowledged (lost: 0), {} reads, {} KMIP encrypt+decrypt, {} leases \
         granted, {} refused (503 or unreachable), {} of unknown outcome, 0 wrong",
        ledger.created.load(Ordering::Relaxed),
        ledger.reads.load(Ordering::Relaxed),
        ledger.kmip.load(Ordering::Relaxed),
        ledger.lease_grants.load(Ordering::Relaxed),
        ledger.refused.load(Ordering::Relaxed),
        ledger.unknown.load(Ordering::Relaxed),
    )
}

/// A pseudo-random sequence seeded from the clock (the seed is printed, so a
/// failing order can be replayed with CRYPTAINER_KILL_SEED).
fn kill_order(servers: usize, kills: usize) -> (u64, Vec<usize>) {
    let seed = std::env::var("CRYPTAINER_KILL_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_007).unwrap()
        });
    let mut state = seed | 1;
    let order = (0..kills)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % u64::try_from(servers).unwrap()).unwrap()
        })
        .collect();
    (seed, order)
}

#[test]
fn three_servers_lose_nothing_acknowledged_when_one_is_killed_twenty_times() {
    let mut cluster = Cluster::start(3);
    let load = Load::start(&cluster, true);
    load.progress(20);
    let (seed, order) = kill_order(3, 20);
    println!("kill order (seed {seed}): {order:?}");
    for (round, victim) in order.iter().enumerate() {
        cluster.kill(*victim);
        // The others serve meanwhile: the load goes on without it.
        load.progress(5);
        cluster.restart(*victim);
        load.progress(5);
        println!(
            "kill {} of 20: server {victim} killed and restarted",
            round + 1
        );
    }
    let ledger = load.stop();
    check_nothing_lost(&cluster, &ledger);
    println!("{}", summary("20 kills", &ledger));
    assert!(
        ledger.kmip.load(Ordering::Relaxed) > 0,
        "no KMIP round trip succeeded"
    );
    assert!(
        ledger.lease_grants.load(Ordering::Relaxed) > 0,
        "no lease was granted"
    );
}

#[test]
fn postgresql_stopped_under_load_gives_503s_never_wrong_answers_and_loses_nothing() {
    let mut cluster = Cluster::start(3);
    let load = Load::start(&cluster, false);
    load.progress(20);
    cluster.postgres.stop_immediate().unwrap();
    let refused_before = load.ledger.refused.load(Ordering::Relaxed);
    wait_until(
        "the servers to answer 503 while the database is down",
        || load.ledger.refused.load(Ordering::Relaxed) > refused_before + 20,
    );
    let created = load.ledger.created.load(Ordering::Relaxed);
    cluster.postgres.start_again().unwrap();
    // Back by themselves: the load succeeds again, on every server.
    wait_until("creates to succeed again", || {
        load.ledger.created.load(Ordering::Relaxed) > created + 20
    });
    let ledger = load.stop();
    for index in 0..3 {
        let alone = cluster.cli_at(
            &cluster.members[index].addr(),
            &["key", "create", &format!("after-{index}")],
            b"",
        );
        assert!(alone.status.success(), "server {index}: {}", text(&alone));
    }
    check_nothing_lost(&cluster, &ledger);
    println!("{}", summary("PostgreSQL stopped and started", &ledger));
}

#[test]
fn a_server_cut_off_from_the_database_stops_answering_writes_at_once() {
    let mut cluster = Cluster::start(2);
    let link = throwaway_postgres::Link::start(("127.0.0.1", cluster.postgres.port())).unwrap();
    let linked_url = throwaway_postgres::url_for(link.port(), "cryptainer");
    let cut_off = cluster.add(linked_url);
    let load = Load::start(&cluster, false);
    load.progress(20);
    let alone = cluster.client_of(&cluster.members[cut_off].addr(), &cluster.token);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let probe = runtime
        .block_on(alone.send(&CreateKey(&CreateKeyRequest {
            name: "probe".to_owned(),
            ..CreateKeyRequest::default()
        })))
        .unwrap();
    link.cut();
    // The very next write to it is refused: 503, nothing taken effect.
    let Err(refused) = runtime.block_on(alone.send(&CreateKey(&CreateKeyRequest {
        name: "cut-off".to_owned(),
        ..CreateKeyRequest::default()
    }))) else {
        panic!("a server cut off from the database acknowledged a write");
    };
    assert_eq!(refused.code(), Some(ErrorCode::Unavailable), "{refused}");
    let Err(read) = runtime.block_on(alone.send(&api::keys::ShowKey(ObjectRef::named(&probe.id))))
    else {
        panic!("a server cut off from the database answered a read");
    };
    assert_eq!(read.status(), Some(503), "{read}");
    // The others keep serving the load.
    load.progress(20);
    link.restore();
    wait_until("the cut-off server to serve again", || {
        runtime
            .block_on(alone.send(&CreateKey(&CreateKeyRequest {
                name: format!("back-{}", OffsetDateTime::now_utc().unix_timestamp_nanos()),
                ..CreateKeyRequest::default()
            })))
            .is_ok()
    });
    let ledger = load.stop();
    check_nothing_lost(&cluster, &ledger);
    println!(
        "{}",
        summary("one server partitioned from the database", &ledger)
    );
}
