//! How much a read of a key's current material costs in the SQLite store, by
//! the two ways of reading it: the metadata, then the version's row (two
//! lookups), or the object's row with its copy of the current version (one).
//! Both run on the same store in alternating rounds, so the machine's drift
//! touches both alike.
//!
//! `cargo run --release -p keystore --example store_reads -- [KEYS] [ROUNDS]`
//! (default 1,000,000 keys, 6 rounds of 200,000 reads each way). The store is
//! made in a temporary directory and deleted at the end; it takes about 1.5 GB
//! at a million keys.
//!
//! The store is private to the keystore crate, so the keys are made through
//! `Keystore` and the reads run the store's own queries (`src/store/sqlite`)
//! on a read-only connection set up as the store's readers are (the database
//! mapped): what is measured is SQLite's work for each layout, as before.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing
)] // A measuring tool: a panic is its error report.

// The integration tests' store: initialized and unsealed, in a temporary directory.
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use keystore::Caller;
use keystore::object::{Algorithm, ObjectMeta};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

/// What the store's readers map of the database (`READER_MMAP_BYTES`).
const READER_MMAP_BYTES: i64 = 2 << 30;

/// The metadata, as `get_object` reads it.
const GET_OBJECT: &str = "SELECT meta FROM objects WHERE id = ?1";

/// One version's wrapped material, as `get_version` reads it.
const GET_VERSION: &str = "SELECT object_id, version, tenant, kek_version, wrapped \
     FROM object_versions WHERE object_id = ?1 AND version = ?2";

/// The metadata with the copy of the current version, as `get_object_current` reads it.
const GET_OBJECT_CURRENT: &str = "SELECT meta, current_version, current_kek, current_wrapped \
     FROM objects WHERE id = ?1";

/// The wrapped material of `id`'s current version, read the two-lookup way.
fn read_two_lookups(connection: &Connection, id: &str) -> Option<Vec<u8>> {
    let text: String = connection
        .prepare_cached(GET_OBJECT)
        .unwrap()
        .query_row([id], |row| row.get(0))
        .unwrap();
    let meta: ObjectMeta = serde_json::from_str(&text).unwrap();
    connection
        .prepare_cached(GET_VERSION)
        .unwrap()
        .query_row(params![id, meta.version], |row| {
            let _: (String, i64, String, i64) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            row.get::<_, Vec<u8>>(4)
        })
        .optional()
        .unwrap()
}

/// The wrapped material of `id`'s current version, from the object's row.
fn read_one_lookup(connection: &Connection, id: &str) -> Option<Vec<u8>> {
    let (text, _version, _kek, wrapped): (String, i64, Option<i64>, Option<Vec<u8>>) = connection
        .prepare_cached(GET_OBJECT_CURRENT)
        .unwrap()
        .query_row([id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap();
    let _meta: ObjectMeta = serde_json::from_str(&text).unwrap();
    wrapped
}

const READS_PER_ROUND: usize = 200_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let keys: usize = args.next().map_or(1_000_000, |n| n.parse().expect("KEYS"));
    let rounds: usize = args.next().map_or(6, |n| n.parse().expect("ROUNDS"));
    let (dir, keystore) = support::unsealed();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(keys);
    while ids.len() < keys {
        let batch = (keys - ids.len()).min(2048);
        let pending: Vec<_> = (0..batch)
            .map(|n| {
                keystore
                    .create_key_deferred(
                        &Caller::system(),
                        "default",
                        &format!("key-{}", ids.len() + n),
                        Algorithm::Aes256,
                        BTreeMap::new(),
                    )
                    .unwrap()
            })
            .collect();
        ids.extend(
            pending
                .into_iter()
                .map(|created| created.wait().unwrap().id),
        );
    }
    println!(
        "{keys} keys stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let connection = Connection::open_with_flags(
        dir.path().join("test.db"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    connection
        .pragma_update(None, "mmap_size", READER_MMAP_BYTES)
        .unwrap();

    let mut random = 0x9E37_79B9_7F4A_7C15_u64;
    let mut pick = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        usize::try_from(random % keys as u64).unwrap()
    };
    let mut two_lookups = Duration::ZERO;
    let mut one_lookup = Duration::ZERO;
    for round in 0..rounds {
        for two in [round % 2 == 0, round % 2 != 0] {
            let started = Instant::now();
            for _ in 0..READS_PER_ROUND {
                let id = &ids[pick()];
                let row = if two {
                    read_two_lookups(&connection, id)
                } else {
                    read_one_lookup(&connection, id)
                };
                assert!(row.is_some());
            }
            let took = started.elapsed();
            if two {
                two_lookups += took;
            } else {
                one_lookup += took;
            }
        }
    }
    let reads = u32::try_from(READS_PER_ROUND * rounds).unwrap();
    let per = |total: Duration| total.as_secs_f64() * 1e6 / f64::from(reads);
    println!(
        "per read of the current material over {keys} keys, one thread, {reads} reads each way:\n  \
         metadata, then version row: {:.2} us\n  object row with its copy:   {:.2} us\n  ratio one / two lookups:    {:.2}",
        per(two_lookups),
        per(one_lookup),
        per(one_lookup) / per(two_lookups)
    );
}
