//! The error type of the `luks` crate.

/// Which of the two header copies an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderCopy {
    /// The copy at offset 0 (magic `LUKS\xba\xbe`).
    Primary,
    /// The copy after the first (magic `SKUL\xba\xbe`).
    Secondary,
}

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
    /// An out-of-place operation got buffers of different lengths.
    #[error("input of {input} bytes and output of {output} bytes differ in length")]
    LengthMismatch {
        /// Length of the input.
        input: usize,
        /// Length of the output.
        output: usize,
    },
    /// The bytes given end before a structure they should hold.
    #[error(
        "header data is truncated: {needed} bytes needed, {available} given; read more of the device"
    )]
    Truncated {
        /// How many bytes from the start of the device the structure needs.
        needed: u64,
        /// How many were given.
        available: u64,
    },
    /// The magic bytes of a header copy are wrong: not a LUKS device, or a damaged copy.
    #[error("{0:?} header has no LUKS magic")]
    BadMagic(HeaderCopy),
    /// A LUKS version other than 2 (LUKS1 is not supported).
    #[error("LUKS version {0} is not supported; only LUKS2 is")]
    UnsupportedVersion(u16),
    /// `hdr_size` is not one of the sizes LUKS2 allows (16 KiB to 4 MiB, powers of two).
    #[error("header size {0} is not a valid LUKS2 metadata size")]
    BadHeaderSize(u64),
    /// `hdr_offset` does not say where the copy was found.
    #[error("header copy at {found} claims offset {claimed}")]
    BadHeaderOffset {
        /// Where the copy is.
        found: u64,
        /// What its `hdr_offset` field says.
        claimed: u64,
    },
    /// The header checksum does not match: the copy is damaged.
    #[error("{0:?} header checksum does not match; the copy is damaged")]
    ChecksumMismatch(HeaderCopy),
    /// The JSON area has no terminating NUL byte.
    #[error("JSON metadata is not NUL-terminated within its area")]
    JsonNotTerminated,
    /// A fixed-size text field of the binary header is not UTF-8.
    #[error("binary header field {0} is not valid UTF-8")]
    BadTextField(&'static str),
    /// The JSON metadata is not valid JSON or does not have the LUKS2 shape.
    #[error("JSON metadata is malformed: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON metadata is valid JSON but breaks a LUKS2 rule.
    #[error("LUKS2 metadata is invalid: {0}")]
    InvalidMetadata(&'static str),
    /// A cipher, hash, KDF or object type we do not implement.
    #[error("unsupported {what} {value:?}")]
    Unsupported {
        /// What kind of value.
        what: &'static str,
        /// The value found.
        value: String,
    },
    /// KDF cost parameters outside our bounds (a hostile or broken header).
    #[error("KDF parameters rejected: {0}")]
    KdfParameters(&'static str),
    /// Neither header copy is valid.
    #[error("no valid LUKS2 header: primary: {primary}; secondary: {secondary}")]
    NoValidHeader {
        /// Why the primary copy was rejected.
        primary: Box<LuksError>,
        /// Why the secondary copy was rejected.
        secondary: Box<LuksError>,
    },
    /// No keyslot with this id exists.
    #[error("keyslot {0} does not exist")]
    NoSuchKeyslot(String),
    /// The secret opens no keyslot (or not the one asked for).
    #[error("the keyslot secret does not open this volume")]
    WrongSecret,
    /// A value given to `format` is unusable.
    #[error("invalid format option: {0}")]
    InvalidOption(&'static str),
}
