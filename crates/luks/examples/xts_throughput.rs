//! Measures the sector cipher's single-core throughput: `cargo run --release -p luks
//! --example xts_throughput`. Prints encrypt and decrypt rates in GB/s over a 64 MiB
//! buffer of 4096-byte sectors, in place and from one buffer into another (against
//! a copy followed by encryption in place), and, as a baseline measured in the same run, raw
//! AES-256 (ECB over the same buffer, the most any AES mode can reach here): the
//! ratio says how much the XTS layer costs, independent of the machine's load.

use std::time::Instant;

use aes::Aes256;
use aes::cipher::{BlockEncrypt, KeyInit};
use luks::{LuksError, SectorCipher, VolumeKey};

const ROUNDS: usize = 8;

fn rate(bytes: usize, seconds: f64) -> f64 {
    (bytes * ROUNDS) as f64 / seconds / 1e9
}

fn main() -> Result<(), LuksError> {
    let key = VolumeKey::generate();
    let cipher = SectorCipher::new(&key, 4096)?;
    let mut data = vec![0x5au8; 64 << 20];
    // One warm-up pass so page faults and CPU frequency ramp-up are not measured.
    cipher.encrypt_sectors(0, &mut data)?;

    let start = Instant::now();
    for _ in 0..ROUNDS {
        cipher.encrypt_sectors(0, &mut data)?;
    }
    let encrypt = rate(data.len(), start.elapsed().as_secs_f64());
    let start = Instant::now();
    for _ in 0..ROUNDS {
        cipher.decrypt_sectors(0, &mut data)?;
    }
    let decrypt = rate(data.len(), start.elapsed().as_secs_f64());
    // Encrypting a request into the buffer it is written from: straight from
    // the request, against a copy first and then in place.
    let source = data.clone();
    let mut target = vec![0u8; data.len()];
    cipher.encrypt_sectors_to(0, &source, &mut target)?;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        cipher.encrypt_sectors_to(0, &source, &mut target)?;
    }
    let out_of_place = rate(data.len(), start.elapsed().as_secs_f64());
    let start = Instant::now();
    for _ in 0..ROUNDS {
        target.copy_from_slice(&source);
        cipher.encrypt_sectors(0, &mut target)?;
    }
    let copy_in_place = rate(data.len(), start.elapsed().as_secs_f64());

    let aes = Aes256::new_from_slice(key.expose_secret().get(..32).unwrap_or_default()).map_err(
        |_| LuksError::WrongKeyLength {
            expected: 32,
            actual: 0,
        },
    )?;
    let mut blocks = vec![aes::Block::default(); data.len() / 16];
    aes.encrypt_blocks(&mut blocks);
    let start = Instant::now();
    for _ in 0..ROUNDS {
        aes.encrypt_blocks(&mut blocks);
    }
    let baseline = rate(data.len(), start.elapsed().as_secs_f64());

    println!("aes-256-xts-plain64, 4096-byte sectors, one core:");
    println!(
        "  encrypt {encrypt:.2} GB/s ({:.2} of raw AES-256)",
        encrypt / baseline
    );
    println!(
        "  decrypt {decrypt:.2} GB/s ({:.2} of raw AES-256)",
        decrypt / baseline
    );
    println!(
        "  encrypt into another buffer {out_of_place:.2} GB/s (copy, then in place: {copy_in_place:.2})"
    );
    println!("  baseline: raw AES-256 ECB {baseline:.2} GB/s");
    Ok(())
}
