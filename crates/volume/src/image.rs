//! A volume image's LUKS2 header: telling a fresh image from a formatted one,
//! writing the header of a new volume, and opening the keyslot of an existing
//! one with the secret the key manager leases. This module is the only code
//! that reads or writes the header region of an image; the engines get the
//! volume key and the data segment (offset, size, sector size) it found there.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

use luks::{DataSegment, FormatOptions, Header, LuksError, VolumeKey};
use zeroize::Zeroizing;

use crate::VolumeError;

/// How much of an image to read first for its header: both metadata copies
/// of a header of cryptsetup's default size (and ours), 2 × 16 KiB.
const FIRST_READ: u64 = 32 << 10;
/// The most a LUKS2 header's two metadata copies can take (2 × 4 MiB), read
/// when the first read was too short for a larger header.
const LARGEST_METADATA: u64 = 8 << 20;
/// The longest label, in bytes, a LUKS2 binary header keeps: 48 bytes with
/// a NUL at the end.
const MAX_LABEL: usize = 47;
/// Free space under which a failed mount is put down to a full storage.
const LOW_STORAGE_BYTES: u64 = 64 << 20;

/// The secret that opens a volume's keyslot: the LUKS2 "passphrase", which
/// the key manager keeps and leases to one node at a time. Opaque: no
/// `Debug`, `Clone` or `Serialize`, wiped on drop, read only through
/// [`expose_secret`](KeyslotSecret::expose_secret).
pub struct KeyslotSecret {
    bytes: Zeroizing<Vec<u8>>,
}

impl KeyslotSecret {
    /// Takes the secret's bytes (already in a wiped buffer).
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> KeyslotSecret {
        KeyslotSecret { bytes }
    }

    /// The secret's bytes; every call is a place where the secret leaves its
    /// wrapper.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }
}

/// What the start of an image holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageState {
    /// Only zeros: a sparse image never mounted, with no header yet.
    Fresh,
    /// A LUKS2 header (its primary magic).
    Formatted,
}

/// What the start of `image` holds. Anything but zeros or the LUKS2 magic is
/// damage or a foreign file, never formatted over.
pub(crate) fn state(image: &Path) -> Result<ImageState, VolumeError> {
    let mut start = [0_u8; 4096];
    std::os::unix::fs::FileExt::read_exact_at(&open_read(image)?, &mut start, 0)
        .map_err(|source| VolumeError::io("reading the header of", image, source))?;
    if start.starts_with(&luks::PRIMARY_MAGIC) {
        Ok(ImageState::Formatted)
    } else if start.iter().all(|byte| *byte == 0) {
        Ok(ImageState::Fresh)
    } else {
        Err(VolumeError::NotAnImage(image.to_owned()))
    }
}

/// What opening or formatting an image gives: the volume key, the data
/// segment the header describes, and the header's UUID.
pub(crate) struct Opened {
    pub key: VolumeKey,
    pub segment: DataSegment,
    pub uuid: String,
}

/// Opens the keyslot of `image` with `secret`.
pub(crate) fn open(image: &Path, secret: &[u8]) -> Result<Opened, VolumeError> {
    let header_error = |source| VolumeError::Header {
        image: image.to_owned(),
        source,
    };
    let file = open_read(image)?;
    let mut region = read_start(&file, image, FIRST_READ)?;
    let header = match Header::parse(&region) {
        Ok(header) => header,
        // A header larger than cryptsetup's default: read all it can take.
        Err(_) if region_len(&region) == FIRST_READ => {
            region = read_start(&file, image, LARGEST_METADATA)?;
            Header::parse(&region).map_err(header_error)?
        }
        Err(error) => return Err(header_error(error)),
    };
    let needed = header.keyslot_areas_end();
    if needed > region_len(&region) {
        region = read_start(&file, image, needed)?;
    }
    let key = header.open(&region, secret).map_err(|error| match error {
        LuksError::WrongSecret => VolumeError::WrongSecret(image.to_owned()),
        other => header_error(other),
    })?;
    let segment = header.data_segment();
    let length = file
        .metadata()
        .map_err(|source| VolumeError::io("reading the size of", image, source))?
        .len();
    if segment.offset >= length {
        return Err(VolumeError::Header {
            image: image.to_owned(),
            source: LuksError::InvalidMetadata("the data segment starts past the image's end"),
        });
    }
    Ok(Opened {
        key,
        segment,
        uuid: header.uuid().to_owned(),
    })
}

/// Writes the LUKS2 header of a new volume over the start of the fresh
/// `image`: a new random volume key, its keyslot opened by `secret`.
/// The header's blocks are reserved
/// first, so on a full storage nothing is written and the image stays a
/// fresh one.
pub(crate) fn format(
    image: &Path,
    secret: &[u8],
    options: &FormatOptions,
) -> Result<Opened, VolumeError> {
    let volume_key = VolumeKey::generate();
    // The binary header keeps at most 47 bytes of label; volume names run to
    // 64, and the label is only a hint for people.
    let mut options = options.clone();
    if options.label.len() > MAX_LABEL {
        let cut = (0..=MAX_LABEL)
            .rev()
            .find(|index| options.label.is_char_boundary(*index))
            .unwrap_or(0);
        options.label.truncate(cut);
    }
    let header =
        luks::format(&volume_key, secret, &options).map_err(|source| VolumeError::Header {
            image: image.to_owned(),
            source,
        })?;
    let mut file = OpenOptions::new()
        .write(true)
        .open(image)
        .map_err(|source| VolumeError::io("opening", image, source))?;
    let length = u64::try_from(header.bytes.len()).map_err(|_| VolumeError::InvalidSize(0))?;
    rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::empty(), 0, length).map_err(
        |errno| {
            let error = VolumeError::io("reserving the header of", image, errno.into());
            if errno == rustix::io::Errno::NOSPC {
                storage_full(image, error)
            } else {
                error
            }
        },
    )?;
    file.write_all(&header.bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| VolumeError::io("writing the header of", image, source))?;
    let segment = DataSegment {
        offset: header.data_offset,
        size: None,
        sector_size: usize::try_from(luks::NEW_SECTOR_SIZE)
            .map_err(|_| VolumeError::InvalidSize(0))?,
    };
    Ok(Opened {
        key: volume_key,
        segment,
        uuid: header.uuid.clone(),
    })
}

/// Empties an image formatted by a first mount that then failed (a hole of
/// its whole length), so that it reads as zeros again: a fresh image, which
/// the next mount formats. It held nothing yet.
pub(crate) fn reset(image: &Path) {
    let reset = OpenOptions::new().write(true).open(image).and_then(|file| {
        let length = file.metadata()?.len();
        file.set_len(0)?;
        file.set_len(length)?;
        file.sync_all()
    });
    if let Err(error) = reset {
        tracing::warn!(image = %image.display(), %error, "could not reset a volume whose first mount failed");
    }
}

/// `error`, or [`VolumeError::StorageFull`] around it when the storage
/// holding `image` is nearly full: the engine then sees only I/O errors, and
/// the user should hear what to free.
pub(crate) fn explain(image: &Path, error: VolumeError) -> VolumeError {
    match free_bytes(image) {
        Some(free) if free < LOW_STORAGE_BYTES => storage_full(image, error),
        _ => error,
    }
}

fn storage_full(image: &Path, error: VolumeError) -> VolumeError {
    let directory = image.parent().unwrap_or(image).to_owned();
    VolumeError::StorageFull {
        free: free_bytes(image).unwrap_or(0),
        directory,
        source: Box::new(error),
    }
}

/// The bytes available to unprivileged users on the storage holding `image`.
fn free_bytes(image: &Path) -> Option<u64> {
    let storage = image.parent().unwrap_or(image);
    rustix::fs::statvfs(storage)
        .ok()
        .map(|stat| stat.f_bavail.saturating_mul(stat.f_frsize))
}

fn open_read(image: &Path) -> Result<File, VolumeError> {
    File::open(image).map_err(|source| VolumeError::io("opening", image, source))
}

/// The first `length` bytes of the image (fewer if it is shorter), in a
/// buffer wiped on drop: the keyslot area holds the split volume key.
fn read_start(file: &File, image: &Path, length: u64) -> Result<Zeroizing<Vec<u8>>, VolumeError> {
    use std::os::unix::fs::FileExt as _;
    let file_length = file
        .metadata()
        .map_err(|source| VolumeError::io("reading the size of", image, source))?
        .len();
    let wanted =
        usize::try_from(length.min(file_length)).map_err(|_| VolumeError::InvalidSize(length))?;
    // Allocated whole at once: a buffer that grew would leave copies of what
    // it held unwiped.
    let mut region = Zeroizing::new(vec![0u8; wanted]);
    file.read_exact_at(&mut region, 0)
        .map_err(|source| VolumeError::io("reading the header of", image, source))?;
    Ok(region)
}

fn region_len(region: &[u8]) -> u64 {
    u64::try_from(region.len()).unwrap_or(u64::MAX)
}
