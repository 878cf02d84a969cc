//! Measures the sector cipher's single-core throughput: `cargo run --release -p luks
//! --example xts_throughput`. Prints encrypt and decrypt rates in GB/s over a 64 MiB
//! buffer of 4096-byte sectors.

use std::time::Instant;

use luks::{LuksError, SectorCipher, VolumeKey};

fn main() -> Result<(), LuksError> {
    let cipher = SectorCipher::new(&VolumeKey::generate(), 4096)?;
    let mut data = vec![0x5au8; 64 << 20];
    let rounds = 8;
    // One warm-up pass so page faults and CPU frequency ramp-up are not measured.
    cipher.encrypt_sectors(0, &mut data)?;
    let start = Instant::now();
    for _ in 0..rounds {
        cipher.encrypt_sectors(0, &mut data)?;
    }
    let encrypt = start.elapsed();
    let start = Instant::now();
    for _ in 0..rounds {
        cipher.decrypt_sectors(0, &mut data)?;
    }
    let decrypt = start.elapsed();
    let bytes = (data.len() * rounds) as f64;
    println!(
        "aes-256-xts-plain64, 4096-byte sectors, one core: encrypt {:.2} GB/s, decrypt {:.2} GB/s",
        bytes / encrypt.as_secs_f64() / 1e9,
        bytes / decrypt.as_secs_f64() / 1e9
    );
    Ok(())
}
