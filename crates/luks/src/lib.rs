//! LUKS2 for Cryptainer volumes: the on-disk header format, keyslots, and the
//! AES-256-XTS sector cipher.
//!
//! Everything here is a pure function over byte slices — no files, devices, clocks
//! or sockets — so the format can be fuzzed and tested in isolation. The `volume`
//! crate reads and writes the bytes.
//!
//! * [`SectorCipher`]: AES-256-XTS-plain64 over 512..=4096-byte sectors, the data
//!   segment cipher, with dm-crypt's IV counting for LUKS2 (512-byte units).
//! * [`VolumeKey`]: the 512-bit segment key, opaque and zeroized.
//! * [`format()`]: the header of a new volume (our profile, `docs/volume-format.md`).
//! * [`Header::parse`] and [`Header::open`]: read any cryptsetup LUKS2 header with
//!   an aes-xts-plain64 segment and open a keyslot (PBKDF2, Argon2i or Argon2id).
//!
//! ```
//! use luks::{CryptainerToken, FormatOptions, Header, SectorCipher, VolumeKey};
//!
//! // Create: the key manager supplies the keyslot secret; the caller writes
//! // `new.bytes` at offset 0 of a new sparse image.
//! let volume_key = VolumeKey::generate();
//! let secret = [7u8; 32];
//! let options = FormatOptions {
//!     label: "pgdata".to_owned(),
//!     token: CryptainerToken { key_id: "key-1".to_owned(), server: "https://km".to_owned() },
//! };
//! let new = luks::format(&volume_key, &secret, &options)?;
//!
//! // Mount: read the header region back, open the keyslot, build the cipher.
//! let header = Header::parse(&new.bytes)?;
//! let opened = header.open(&new.bytes, &secret)?;
//! let segment = header.data_segment();
//! let cipher = SectorCipher::new(&opened, segment.sector_size)?;
//!
//! let mut sectors = vec![0u8; 2 * segment.sector_size];
//! cipher.encrypt_sectors(0, &mut sectors)?;
//! cipher.decrypt_sectors(0, &mut sectors)?;
//! assert_eq!(sectors, vec![0u8; 2 * segment.sector_size]);
//! # Ok::<(), luks::LuksError>(())
//! ```

#![forbid(unsafe_code)]

mod af;
mod binary;
mod error;
mod header;
mod kdf;
mod key;
pub mod metadata;
mod sector;

pub use binary::{BINARY_HEADER_SIZE, HEADER_SIZES, PRIMARY_MAGIC, SECONDARY_MAGIC};
pub use error::{HeaderCopy, LuksError};
pub use header::{
    CIPHER, CryptainerToken, DataSegment, FormatOptions, Header, MAX_OBJECT_ID, MAX_STRIPES,
    NEW_DATA_OFFSET, NEW_HEADER_SIZE, NEW_PBKDF2_ITERATIONS, NEW_SECTOR_SIZE, NewHeader, SUBSYSTEM,
    TOKEN_TYPE, format,
};
pub use kdf::{MAX_ARGON2_LANES, MAX_ARGON2_MEMORY_KIB, MAX_ARGON2_TIME, MAX_PBKDF2_ITERATIONS};
pub use key::{VOLUME_KEY_LEN, VolumeKey};
pub use sector::{MAX_SECTOR_SIZE, MIN_SECTOR_SIZE, SectorCipher};
