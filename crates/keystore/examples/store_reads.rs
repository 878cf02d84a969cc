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
use keystore::object::Algorithm;
use keystore::store::{ObjectRef, Store};

const READS_PER_ROUND: usize = 200_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let keys: usize = args.next().map_or(1_000_000, |n| n.parse().expect("KEYS"));
    let rounds: usize = args.next().map_or(6, |n| n.parse().expect("ROUNDS"));
    let (_dir, store, keystore) = support::unsealed();
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
                    let meta = store.get_object(id).unwrap().unwrap();
                    store.get_version(id, meta.version).unwrap()
                } else {
                    store
                        .get_object_current(ObjectRef::Id(id))
                        .unwrap()
                        .unwrap()
                        .1
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
