//! LUKS2 for Cryptainer volumes: the on-disk header format, keyslots, and the
//! AES-256-XTS sector cipher.
//!
//! Everything here is a pure function over byte slices — no files, devices, clocks
//! or sockets — so the format can be fuzzed and tested in isolation. The `volume`
//! crate reads and writes the bytes.
//!
//! * [`SectorCipher`]: AES-256-XTS-plain64 over 512..=4096-byte sectors, the data
//!   segment cipher (dm-crypt compatible, `iv_large_sectors` semantics).
//! * [`VolumeKey`]: the 512-bit segment key, opaque and zeroized.

#![forbid(unsafe_code)]

mod error;
mod key;
mod sector;

pub use error::LuksError;
pub use key::{VOLUME_KEY_LEN, VolumeKey};
pub use sector::{MAX_SECTOR_SIZE, MIN_SECTOR_SIZE, SectorCipher};
