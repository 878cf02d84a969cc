//! The error type of the `luks` crate.

/// Why a LUKS2 operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LuksError {
    /// A volume key was built from a slice of the wrong length.
    #[error("volume key must be exactly {expected} bytes (AES-256-XTS), got {actual}")]
    WrongKeyLength {
        /// The required length.
        expected: usize,
        /// The length that was given.
        actual: usize,
    },
    /// A sector size outside 512..=4096 or not a power of two.
    #[error("sector size {0} is not supported; use a power of two from 512 to 4096")]
    UnsupportedSectorSize(usize),
    /// A buffer handed to the sector cipher is not a whole number of sectors.
    #[error("buffer of {length} bytes is not a whole number of {sector_size}-byte sectors")]
    PartialSector {
        /// The length of the buffer.
        length: usize,
        /// The cipher's sector size.
        sector_size: usize,
    },
    /// The sector numbers of a request run past 2^64.
    #[error("sector number overflows 64 bits")]
    SectorOverflow,
}
