//! The 4096-byte binary LUKS2 header that starts each metadata copy, and the
//! checksum over a whole copy (binary header + JSON area).
//!
//! Layout (all integers big-endian), per cryptsetup's on-disk format document:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 6 | magic: `LUKS\xba\xbe` (primary) or `SKUL\xba\xbe` (secondary) |
//! | 6 | 2 | version = 2 |
//! | 8 | 8 | hdr_size: binary header + JSON area |
//! | 16 | 8 | seqid, incremented on every metadata update |
//! | 24 | 48 | label, NUL-terminated |
//! | 72 | 32 | checksum algorithm, "sha256" |
//! | 104 | 64 | salt, unique per copy |
//! | 168 | 40 | uuid, NUL-terminated text |
//! | 208 | 48 | subsystem, NUL-terminated |
//! | 256 | 8 | hdr_offset: where this copy lies |
//! | 264 | 184 | zero |
//! | 448 | 64 | checksum (SHA-256 in the first 32 bytes) |
//! | 512 | 3584 | zero |

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::LuksError;
use crate::error::HeaderCopy;
use crate::metadata::Metadata;

/// The size of the binary header.
pub const BINARY_HEADER_SIZE: usize = 4096;
/// The magic of the primary copy.
pub const PRIMARY_MAGIC: [u8; 6] = *b"LUKS\xba\xbe";
/// The magic of the secondary copy.
pub const SECONDARY_MAGIC: [u8; 6] = *b"SKUL\xba\xbe";
/// The metadata sizes (`hdr_size`) LUKS2 allows; the secondary copy starts at
/// `hdr_size`, so these are also the offsets to search for it.
pub const HEADER_SIZES: [u64; 9] = [
    0x4000, 0x8000, 0x1_0000, 0x2_0000, 0x4_0000, 0x8_0000, 0x10_0000, 0x20_0000, 0x40_0000,
];

const LABEL: (usize, usize) = (24, 48);
const CHECKSUM_ALGORITHM: (usize, usize) = (72, 32);
const SALT: (usize, usize) = (104, 64);
const UUID: (usize, usize) = (168, 40);
const SUBSYSTEM: (usize, usize) = (208, 48);
const CHECKSUM: (usize, usize) = (448, 64);

/// The fields of one binary header copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BinaryHeader {
    pub hdr_size: u64,
    pub seqid: u64,
    pub label: String,
    pub salt: [u8; 64],
    pub uuid: String,
    pub subsystem: String,
    pub hdr_offset: u64,
}

/// One parsed, checksum-verified metadata copy.
pub(crate) struct Copy {
    pub binary: BinaryHeader,
    pub metadata: Metadata,
}

fn field(bytes: &[u8], (offset, len): (usize, usize)) -> Result<&[u8], LuksError> {
    bytes.get(offset..offset + len).ok_or(LuksError::Truncated {
        needed: u64::try_from(offset + len).unwrap_or(u64::MAX),
        available: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
    })
}

fn be_u64(bytes: &[u8], offset: usize) -> Result<u64, LuksError> {
    let raw: [u8; 8] = field(bytes, (offset, 8))?
        .try_into()
        .map_err(|_| LuksError::InvalidMetadata("integer field"))?;
    Ok(u64::from_be_bytes(raw))
}

fn text(bytes: &[u8], place: (usize, usize), name: &'static str) -> Result<String, LuksError> {
    let raw = field(bytes, place)?;
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let raw = raw.get(..end).unwrap_or_default();
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| LuksError::BadTextField(name))
}

fn put(buffer: &mut [u8], offset: usize, bytes: &[u8]) -> Result<(), LuksError> {
    buffer
        .get_mut(offset..offset + bytes.len())
        .ok_or(LuksError::InvalidOption("field does not fit the header"))?
        .copy_from_slice(bytes);
    Ok(())
}

fn put_text(
    buffer: &mut [u8],
    (offset, len): (usize, usize),
    value: &str,
) -> Result<(), LuksError> {
    // The field must keep at least one NUL terminator.
    if value.len() >= len || value.bytes().any(|b| b == 0) {
        return Err(LuksError::InvalidOption(
            "text field too long for the binary header or contains NUL",
        ));
    }
    put(buffer, offset, value.as_bytes())
}

/// SHA-256 over a whole copy with the checksum field read as zeros.
fn checksum(copy: &[u8]) -> Result<[u8; 32], LuksError> {
    let (before, rest) = copy
        .split_at_checked(CHECKSUM.0)
        .ok_or(LuksError::Truncated {
            needed: BINARY_HEADER_SIZE as u64,
            available: u64::try_from(copy.len()).unwrap_or(u64::MAX),
        })?;
    let after = rest.get(CHECKSUM.1..).ok_or(LuksError::Truncated {
        needed: BINARY_HEADER_SIZE as u64,
        available: u64::try_from(copy.len()).unwrap_or(u64::MAX),
    })?;
    let mut hash = Sha256::new();
    hash.update(before);
    hash.update([0u8; CHECKSUM.1]);
    hash.update(after);
    Ok(hash.finalize().into())
}

/// Builds one copy: the binary header, `json` and NUL padding to `hdr_size`, with
/// its checksum filled in.
pub(crate) fn encode_copy(header: &BinaryHeader, json: &[u8]) -> Result<Vec<u8>, LuksError> {
    let size =
        usize::try_from(header.hdr_size).map_err(|_| LuksError::BadHeaderSize(header.hdr_size))?;
    if !HEADER_SIZES.contains(&header.hdr_size) {
        return Err(LuksError::BadHeaderSize(header.hdr_size));
    }
    // The JSON must leave at least one NUL byte in its area.
    if json.len() >= size - BINARY_HEADER_SIZE {
        return Err(LuksError::InvalidOption(
            "JSON metadata does not fit the JSON area",
        ));
    }
    let mut copy = vec![0u8; size];
    let magic = if header.hdr_offset == 0 {
        PRIMARY_MAGIC
    } else {
        SECONDARY_MAGIC
    };
    put(&mut copy, 0, &magic)?;
    put(&mut copy, 6, &2u16.to_be_bytes())?;
    put(&mut copy, 8, &header.hdr_size.to_be_bytes())?;
    put(&mut copy, 16, &header.seqid.to_be_bytes())?;
    put_text(&mut copy, LABEL, &header.label)?;
    put_text(&mut copy, CHECKSUM_ALGORITHM, "sha256")?;
    put(&mut copy, SALT.0, &header.salt)?;
    put_text(&mut copy, UUID, &header.uuid)?;
    put_text(&mut copy, SUBSYSTEM, &header.subsystem)?;
    put(&mut copy, 256, &header.hdr_offset.to_be_bytes())?;
    put(&mut copy, BINARY_HEADER_SIZE, json)?;
    let sum = checksum(&copy)?;
    put(&mut copy, CHECKSUM.0, &sum)?;
    Ok(copy)
}

/// Parses and verifies the copy at `offset` of `device` (the device's first bytes).
pub(crate) fn decode_copy(device: &[u8], offset: u64) -> Result<Copy, LuksError> {
    let which = if offset == 0 {
        HeaderCopy::Primary
    } else {
        HeaderCopy::Secondary
    };
    let available = u64::try_from(device.len()).unwrap_or(u64::MAX);
    let start = usize::try_from(offset).map_err(|_| LuksError::BadHeaderOffset {
        found: offset,
        claimed: offset,
    })?;
    let truncated = |needed: u64| LuksError::Truncated { needed, available };
    let binary = device
        .get(start..)
        .and_then(|rest| rest.get(..BINARY_HEADER_SIZE))
        .ok_or_else(|| truncated(offset.saturating_add(BINARY_HEADER_SIZE as u64)))?;
    let expected_magic = match which {
        HeaderCopy::Primary => PRIMARY_MAGIC,
        HeaderCopy::Secondary => SECONDARY_MAGIC,
    };
    if field(binary, (0, 6))? != expected_magic {
        return Err(LuksError::BadMagic(which));
    }
    let version_bytes: [u8; 2] = field(binary, (6, 2))?
        .try_into()
        .map_err(|_| LuksError::InvalidMetadata("version field"))?;
    let version = u16::from_be_bytes(version_bytes);
    if version != 2 {
        return Err(LuksError::UnsupportedVersion(version));
    }
    let hdr_size = be_u64(binary, 8)?;
    if !HEADER_SIZES.contains(&hdr_size) {
        return Err(LuksError::BadHeaderSize(hdr_size));
    }
    let hdr_offset = be_u64(binary, 256)?;
    if hdr_offset != offset {
        return Err(LuksError::BadHeaderOffset {
            found: offset,
            claimed: hdr_offset,
        });
    }
    let algorithm = text(binary, CHECKSUM_ALGORITHM, "checksum_alg")?;
    if algorithm != "sha256" {
        return Err(LuksError::Unsupported {
            what: "header checksum algorithm",
            value: algorithm,
        });
    }
    // hdr_size is at most 4 MiB (checked above), so these conversions cannot fail.
    let size = usize::try_from(hdr_size).map_err(|_| LuksError::BadHeaderSize(hdr_size))?;
    let copy = device
        .get(start..)
        .and_then(|rest| rest.get(..size))
        .ok_or_else(|| truncated(offset.saturating_add(hdr_size)))?;
    let stored = field(binary, (CHECKSUM.0, 32))?;
    let computed = checksum(copy)?;
    if !bool::from(computed.ct_eq(stored)) {
        return Err(LuksError::ChecksumMismatch(which));
    }
    let json_area = copy.get(BINARY_HEADER_SIZE..).unwrap_or_default();
    let json_end = json_area
        .iter()
        .position(|&b| b == 0)
        .ok_or(LuksError::JsonNotTerminated)?;
    let json = json_area.get(..json_end).unwrap_or_default();
    let metadata: Metadata = serde_json::from_slice(json).map_err(LuksError::Json)?;
    if metadata.config.json_size.0 != hdr_size - BINARY_HEADER_SIZE as u64 {
        return Err(LuksError::InvalidMetadata(
            "config.json_size disagrees with the binary header's hdr_size",
        ));
    }
    let mut salt = [0u8; 64];
    salt.copy_from_slice(field(binary, SALT)?);
    Ok(Copy {
        binary: BinaryHeader {
            hdr_size,
            seqid: be_u64(binary, 16)?,
            label: text(binary, LABEL, "label")?,
            salt,
            uuid: text(binary, UUID, "uuid")?,
            subsystem: text(binary, SUBSYSTEM, "subsystem")?,
            hdr_offset,
        },
        metadata,
    })
}
