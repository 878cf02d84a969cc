//! A LUKS2 header as a whole: choosing and validating a copy, opening keyslots, and
//! writing the header of a new Cryptainer volume.

use std::collections::BTreeMap;

use rand::RngCore;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::binary::{self, BinaryHeader, HEADER_SIZES, SECONDARY_MAGIC};
use crate::error::HeaderCopy;
use crate::metadata::{
    AntiForensic, Area, Base64, Config, DigestEntry, Kdf, Keyslot, Metadata, Segment, U64String,
};
use crate::{LuksError, SectorCipher, VOLUME_KEY_LEN, VolumeKey, af, kdf};

/// LUKS2 allows keyslot and token ids 0 to 31.
pub const MAX_OBJECT_ID: u32 = 31;
/// The only cipher we read or write, for segments and keyslot areas.
pub const CIPHER: &str = "aes-xts-plain64";
/// Keyslot areas are encrypted in 512-byte sectors, numbered from the area start.
const AREA_SECTOR_SIZE: usize = 512;
/// cryptsetup writes (and supports) 4000 AF stripes; more would only slow an open.
pub const MAX_STRIPES: u32 = 4000;

/// The metadata size of a header we write: cryptsetup's default, 16 KiB per copy
/// (4 KiB binary header + 12 KiB JSON area).
pub const NEW_HEADER_SIZE: u64 = 0x4000;
/// Where the data segment starts in a volume we write: cryptsetup's default 16 MiB,
/// which is also aligned for any device's I/O.
pub const NEW_DATA_OFFSET: u64 = 16 << 20;
/// The data segment's sector size in a volume we write.
pub const NEW_SECTOR_SIZE: u32 = 4096;
/// PBKDF2-SHA256 iterations of the keyslot KDF and the digest in a volume we write:
/// cryptsetup's minimum. The keyslot secret is 256 random bits from the key manager,
/// so stretching adds nothing; see docs/volume-format.md.
pub const NEW_PBKDF2_ITERATIONS: u32 = 1000;
/// The subsystem field of headers we write.
pub const SUBSYSTEM: &str = "cryptainer";
/// The token type naming the key manager key that opens keyslot 0.
pub const TOKEN_TYPE: &str = "cryptainer";

/// The Cryptainer token: which key manager key holds the keyslot secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptainerToken {
    /// The key manager's id of the keyslot secret.
    pub key_id: String,
    /// The key manager's address.
    pub server: String,
}

/// What `format` writes besides the keys.
#[derive(Debug, Clone)]
pub struct FormatOptions {
    /// The LUKS2 label (at most 47 bytes), for example the Docker volume name.
    pub label: String,
    /// The token pointing at the key manager.
    pub token: CryptainerToken,
}

/// A new header, ready to be written at offset 0 of the image.
pub struct NewHeader {
    /// Both metadata copies and keyslot 0's area, from device offset 0. The rest of
    /// the keyslots area up to `data_offset` is unused and must read as zeros (it
    /// does in a new sparse image).
    pub bytes: Vec<u8>,
    /// Where the data segment starts.
    pub data_offset: u64,
    /// The volume's LUKS UUID.
    pub uuid: String,
}

/// The data segment of a parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSegment {
    /// Byte offset of the encrypted data from the start of the device.
    pub offset: u64,
    /// Size in bytes, or `None` for "dynamic" (to the end of the device).
    pub size: Option<u64>,
    /// The encryption sector size.
    pub sector_size: usize,
}

/// A parsed, verified LUKS2 header.
#[derive(Debug, Clone)]
pub struct Header {
    binary: BinaryHeader,
    metadata: Metadata,
    copy: HeaderCopy,
    segment: DataSegment,
}

fn id_number(id: &str) -> Result<u32, LuksError> {
    if id.is_empty() || id.len() > 2 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LuksError::InvalidMetadata(
            "object id is not a decimal number",
        ));
    }
    match id.parse::<u32>() {
        Ok(n) if n <= MAX_OBJECT_ID => Ok(n),
        _ => Err(LuksError::InvalidMetadata("object id above 31")),
    }
}

fn check_cipher(cipher: &str) -> Result<(), LuksError> {
    if cipher == CIPHER {
        Ok(())
    } else {
        Err(LuksError::Unsupported {
            what: "cipher",
            value: cipher.to_owned(),
        })
    }
}

impl Header {
    /// Parses the header at the start of `device` (at least both metadata copies:
    /// 32 KiB for a header we wrote, up to 8 MiB for any LUKS2 header).
    ///
    /// Both copies are verified; the valid one with the higher `seqid` wins (the
    /// primary on a tie). One damaged copy is tolerated; two are an error that says
    /// what is wrong with each.
    pub fn parse(device: &[u8]) -> Result<Header, LuksError> {
        let primary = binary::decode_copy(device, 0).and_then(Header::from_copy_primary);
        let secondary = match &primary {
            Ok(header) => binary::decode_copy(device, header.binary.hdr_size)
                .and_then(Header::from_copy_secondary),
            // The primary's hdr_size cannot be trusted: the secondary is the first
            // copy with the secondary magic at one of the allowed offsets.
            Err(_) => HEADER_SIZES
                .iter()
                .find(|&&offset| {
                    usize::try_from(offset)
                        .ok()
                        .and_then(|start| device.get(start..)?.get(..SECONDARY_MAGIC.len()))
                        == Some(SECONDARY_MAGIC.as_slice())
                })
                .map_or(Err(LuksError::BadMagic(HeaderCopy::Secondary)), |&offset| {
                    binary::decode_copy(device, offset).and_then(Header::from_copy_secondary)
                }),
        };
        match (primary, secondary) {
            (Ok(primary), Ok(secondary)) if secondary.binary.seqid > primary.binary.seqid => {
                Ok(secondary)
            }
            (Ok(primary), _) => Ok(primary),
            (Err(_), Ok(secondary)) => Ok(secondary),
            (Err(primary), Err(secondary)) => Err(LuksError::NoValidHeader {
                primary: Box::new(primary),
                secondary: Box::new(secondary),
            }),
        }
    }

    fn from_copy_primary(copy: binary::Copy) -> Result<Header, LuksError> {
        Header::from_copy(copy, HeaderCopy::Primary)
    }

    fn from_copy_secondary(copy: binary::Copy) -> Result<Header, LuksError> {
        Header::from_copy(copy, HeaderCopy::Secondary)
    }

    /// Checks the rules of LUKS2 and of what we support.
    fn from_copy(copy: binary::Copy, which: HeaderCopy) -> Result<Header, LuksError> {
        let binary::Copy { binary, metadata } = copy;
        for id in metadata
            .keyslots
            .keys()
            .chain(metadata.tokens.keys())
            .chain(metadata.segments.keys())
            .chain(metadata.digests.keys())
        {
            id_number(id)?;
        }
        if let Some(requirements) = &metadata.config.requirements {
            let mandatory = requirements
                .get("mandatory")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|list| !list.is_empty());
            if mandatory {
                return Err(LuksError::Unsupported {
                    what: "mandatory requirement",
                    value: requirements.to_string(),
                });
            }
        }
        let metadata_end = binary
            .hdr_size
            .checked_mul(2)
            .ok_or(LuksError::BadHeaderSize(binary.hdr_size))?;
        let keyslots_end = metadata_end
            .checked_add(metadata.config.keyslots_size.0)
            .ok_or(LuksError::InvalidMetadata("keyslots_size overflows"))?;
        for keyslot in metadata.keyslots.values() {
            let end = keyslot
                .area
                .offset
                .0
                .checked_add(keyslot.area.size.0)
                .ok_or(LuksError::InvalidMetadata("keyslot area overflows"))?;
            if keyslot.area.offset.0 < metadata_end || end > keyslots_end {
                return Err(LuksError::InvalidMetadata(
                    "keyslot area lies outside the keyslots area",
                ));
            }
        }
        for token in metadata.tokens.values() {
            if !token.get("type").is_some_and(serde_json::Value::is_string) {
                return Err(LuksError::InvalidMetadata("token without a type string"));
            }
            let keyslots_ok = token
                .get("keyslots")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|list| list.iter().all(serde_json::Value::is_string));
            if !keyslots_ok {
                return Err(LuksError::InvalidMetadata("token without a keyslots list"));
            }
        }
        let segment = data_segment(&metadata, keyslots_end)?;
        Ok(Header {
            binary,
            metadata,
            copy: which,
            segment,
        })
    }

    /// The volume's LUKS UUID.
    pub fn uuid(&self) -> &str {
        &self.binary.uuid
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.binary.label
    }

    /// The subsystem ("cryptainer" for volumes we format).
    pub fn subsystem(&self) -> &str {
        &self.binary.subsystem
    }

    /// The sequence id of the copy in use.
    pub fn seqid(&self) -> u64 {
        self.binary.seqid
    }

    /// The metadata size of one copy.
    pub fn hdr_size(&self) -> u64 {
        self.binary.hdr_size
    }

    /// Which copy was chosen.
    pub fn copy_used(&self) -> HeaderCopy {
        self.copy
    }

    /// The JSON metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The data segment: where the encrypted data is and its sector size.
    pub fn data_segment(&self) -> DataSegment {
        self.segment
    }

    /// How many bytes from the start of the device [`Header::open`] needs: both
    /// metadata copies and the keyslots area.
    pub fn keyslots_end(&self) -> u64 {
        let metadata_end = self.binary.hdr_size.saturating_mul(2);
        metadata_end.saturating_add(self.metadata.config.keyslots_size.0)
    }

    /// How many bytes from the start of the device hold the metadata copies and the
    /// areas of the keyslots that exist: enough for [`Header::open`], and usually
    /// far less than [`keyslots_end`](Header::keyslots_end) (288 KiB for our volumes).
    pub fn keyslot_areas_end(&self) -> u64 {
        let metadata_end = self.binary.hdr_size.saturating_mul(2);
        self.metadata
            .keyslots
            .values()
            .map(|keyslot| keyslot.area.offset.0.saturating_add(keyslot.area.size.0))
            .fold(metadata_end, u64::max)
    }

    /// The first token of type "cryptainer", if any.
    pub fn cryptainer_token(&self) -> Option<CryptainerToken> {
        self.metadata.tokens.values().find_map(|token| {
            if token.get("type")?.as_str()? != TOKEN_TYPE {
                return None;
            }
            Some(CryptainerToken {
                key_id: token.get("key_id")?.as_str()?.to_owned(),
                server: token.get("server")?.as_str()?.to_owned(),
            })
        })
    }

    /// Opens the keyslots in id order with `secret` and returns the volume key of
    /// the first that accepts it. `device` is the device's first
    /// [`keyslots_end`](Header::keyslots_end) bytes (more is fine).
    pub fn open(&self, device: &[u8], secret: &[u8]) -> Result<VolumeKey, LuksError> {
        let mut ids: Vec<(u32, &String)> = self
            .metadata
            .keyslots
            .keys()
            .filter_map(|id| Some((id_number(id).ok()?, id)))
            .collect();
        ids.sort_unstable();
        let mut last_error = LuksError::WrongSecret;
        for (_, id) in ids {
            match self.open_keyslot(device, id, secret) {
                Ok(key) => return Ok(key),
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }

    /// Opens keyslot `id` with `secret`.
    pub fn open_keyslot(
        &self,
        device: &[u8],
        id: &str,
        secret: &[u8],
    ) -> Result<VolumeKey, LuksError> {
        let keyslot = self
            .metadata
            .keyslots
            .get(id)
            .ok_or_else(|| LuksError::NoSuchKeyslot(id.to_owned()))?;
        if keyslot.kind != "luks2" {
            return Err(LuksError::Unsupported {
                what: "keyslot type",
                value: keyslot.kind.clone(),
            });
        }
        if usize::try_from(keyslot.key_size).ok() != Some(VOLUME_KEY_LEN) {
            return Err(LuksError::Unsupported {
                what: "keyslot key size",
                value: keyslot.key_size.to_string(),
            });
        }
        let digest = self
            .metadata
            .digests
            .values()
            .find(|digest| digest.keyslots.iter().any(|k| k == id))
            .ok_or(LuksError::InvalidMetadata("keyslot has no digest"))?;
        if digest.kind != "pbkdf2" {
            return Err(LuksError::Unsupported {
                what: "digest type",
                value: digest.kind.clone(),
            });
        }
        kdf::check_hash(&digest.hash)?;
        let area = &keyslot.area;
        if area.kind != "raw" {
            return Err(LuksError::Unsupported {
                what: "keyslot area type",
                value: area.kind.clone(),
            });
        }
        check_cipher(&area.encryption)?;
        if usize::try_from(area.key_size).ok() != Some(VOLUME_KEY_LEN) {
            return Err(LuksError::Unsupported {
                what: "keyslot area key size",
                value: area.key_size.to_string(),
            });
        }
        if keyslot.af.kind != "luks1" {
            return Err(LuksError::Unsupported {
                what: "anti-forensic splitter",
                value: keyslot.af.kind.clone(),
            });
        }
        kdf::check_hash(&keyslot.af.hash)?;
        if keyslot.af.stripes == 0 || keyslot.af.stripes > MAX_STRIPES {
            return Err(LuksError::InvalidMetadata(
                "AF stripes out of range (1 to 4000)",
            ));
        }
        let stripes = usize::try_from(keyslot.af.stripes)
            .map_err(|_| LuksError::InvalidMetadata("AF stripes out of range (1 to 4000)"))?;
        // At most 64 × 4000 bytes, rounded up to whole area sectors.
        let material_len = (VOLUME_KEY_LEN * stripes).div_ceil(AREA_SECTOR_SIZE) * AREA_SECTOR_SIZE;
        if u64::try_from(material_len).unwrap_or(u64::MAX) > area.size.0 {
            return Err(LuksError::InvalidMetadata(
                "keyslot area is smaller than its AF material",
            ));
        }
        let start = usize::try_from(area.offset.0)
            .map_err(|_| LuksError::InvalidMetadata("keyslot area offset too large"))?;
        let encrypted = device
            .get(start..)
            .and_then(|rest| rest.get(..material_len))
            .ok_or(LuksError::Truncated {
                needed: area
                    .offset
                    .0
                    .saturating_add(u64::try_from(material_len).unwrap_or(u64::MAX)),
                available: u64::try_from(device.len()).unwrap_or(u64::MAX),
            })?;

        let mut area_key = Zeroizing::new([0u8; VOLUME_KEY_LEN]);
        kdf::derive(&keyslot.kdf, secret, area_key.as_mut_slice())?;
        let area_cipher = SectorCipher::new(
            &VolumeKey::from_bytes(area_key.as_slice())?,
            AREA_SECTOR_SIZE,
        )?;
        let mut material = Zeroizing::new(encrypted.to_vec());
        area_cipher.decrypt_sectors(0, &mut material)?;
        let candidate = af::merge(&material, VOLUME_KEY_LEN, stripes)?;

        let expected = digest.digest.decode()?;
        let computed = kdf::digest(
            &candidate,
            &digest.salt.decode()?,
            digest.iterations,
            expected.len(),
        )?;
        if bool::from(computed.ct_eq(&expected)) {
            VolumeKey::from_bytes(&candidate)
        } else {
            Err(LuksError::WrongSecret)
        }
    }
}

/// Finds and checks segment "0", the only data segment we support.
fn data_segment(metadata: &Metadata, keyslots_end: u64) -> Result<DataSegment, LuksError> {
    if metadata.segments.len() != 1 {
        return Err(LuksError::Unsupported {
            what: "segment count",
            value: metadata.segments.len().to_string(),
        });
    }
    let segment = metadata
        .segments
        .get("0")
        .ok_or(LuksError::InvalidMetadata("no segment 0"))?;
    if segment.kind != "crypt" {
        return Err(LuksError::Unsupported {
            what: "segment type",
            value: segment.kind.clone(),
        });
    }
    check_cipher(&segment.encryption)?;
    if segment.integrity.is_some() {
        return Err(LuksError::Unsupported {
            what: "segment integrity",
            value: "dm-integrity".to_owned(),
        });
    }
    if segment.iv_tweak.0 != 0 {
        return Err(LuksError::Unsupported {
            what: "segment iv_tweak",
            value: segment.iv_tweak.0.to_string(),
        });
    }
    let sector_size = usize::try_from(segment.sector_size)
        .map_err(|_| LuksError::UnsupportedSectorSize(usize::MAX))?;
    if !(crate::MIN_SECTOR_SIZE..=crate::MAX_SECTOR_SIZE).contains(&sector_size)
        || !sector_size.is_power_of_two()
    {
        return Err(LuksError::UnsupportedSectorSize(sector_size));
    }
    let offset = segment.offset.0;
    if offset % u64::from(segment.sector_size) != 0 {
        return Err(LuksError::InvalidMetadata(
            "segment offset is not sector-aligned",
        ));
    }
    if offset < keyslots_end {
        return Err(LuksError::InvalidMetadata("segment overlaps the header"));
    }
    let size = if segment.size == "dynamic" {
        None
    } else {
        let size: u64 = U64String::parse(&segment.size).ok_or(LuksError::InvalidMetadata(
            "segment size is neither \"dynamic\" nor a number",
        ))?;
        if size % u64::from(segment.sector_size) != 0 {
            return Err(LuksError::InvalidMetadata(
                "segment size is not a whole number of sectors",
            ));
        }
        Some(size)
    };
    Ok(DataSegment {
        offset,
        size,
        sector_size,
    })
}

/// Writes the header of a new volume: segment 0 (aes-xts-plain64, 4096-byte sectors,
/// data at 16 MiB, size "dynamic"), keyslot 0 holding `volume_key` under
/// `keyslot_secret` (PBKDF2-SHA256, AF 4000 stripes, area encrypted with
/// aes-xts-plain64), a PBKDF2 digest of the volume key, and token 0 of type
/// "cryptainer".
pub fn format(
    volume_key: &VolumeKey,
    keyslot_secret: &[u8],
    options: &FormatOptions,
) -> Result<NewHeader, LuksError> {
    if keyslot_secret.is_empty() {
        return Err(LuksError::InvalidOption("keyslot secret is empty"));
    }
    let uuid = uuid::Uuid::new_v4().hyphenated().to_string();
    let metadata_end = NEW_HEADER_SIZE * 2;
    let keyslots_size = NEW_DATA_OFFSET - metadata_end;
    let stripes = MAX_STRIPES;
    let material_len = VOLUME_KEY_LEN * 4000;
    // Area sizes are whole 4 KiB blocks, as cryptsetup allocates them.
    let area_size = material_len.div_ceil(4096) * 4096;

    let random = |len: usize| {
        let mut bytes = vec![0u8; len];
        OsRng.fill_bytes(&mut bytes);
        bytes
    };
    let kdf_salt = random(32);
    let digest_salt = random(32);

    // The keyslot: split the key, encrypt the split material with the KDF's key.
    let kdf = Kdf::Pbkdf2 {
        hash: "sha256".to_owned(),
        iterations: NEW_PBKDF2_ITERATIONS,
        salt: Base64::encode(&kdf_salt),
    };
    let mut area_key = Zeroizing::new([0u8; VOLUME_KEY_LEN]);
    kdf::derive(&kdf, keyslot_secret, area_key.as_mut_slice())?;
    let area_cipher = SectorCipher::new(
        &VolumeKey::from_bytes(area_key.as_slice())?,
        AREA_SECTOR_SIZE,
    )?;
    let mut material = af::split(volume_key.expose_secret(), 4000)?;
    material.resize(
        material_len.div_ceil(AREA_SECTOR_SIZE) * AREA_SECTOR_SIZE,
        0,
    );
    area_cipher.encrypt_sectors(0, &mut material)?;

    let digest = kdf::digest(
        volume_key.expose_secret(),
        &digest_salt,
        NEW_PBKDF2_ITERATIONS,
        32,
    )?;
    let to_u64 = |n: usize| u64::try_from(n).map_err(|_| LuksError::InvalidOption("size overflow"));
    let area_offset = metadata_end;
    let metadata = Metadata {
        keyslots: BTreeMap::from([(
            "0".to_owned(),
            Keyslot {
                kind: "luks2".to_owned(),
                key_size: 64,
                af: AntiForensic {
                    kind: "luks1".to_owned(),
                    stripes,
                    hash: "sha256".to_owned(),
                },
                area: Area {
                    kind: "raw".to_owned(),
                    offset: U64String(area_offset),
                    size: U64String(to_u64(area_size)?),
                    encryption: CIPHER.to_owned(),
                    key_size: 64,
                },
                kdf,
                priority: None,
            },
        )]),
        tokens: BTreeMap::from([(
            "0".to_owned(),
            serde_json::json!({
                "type": TOKEN_TYPE,
                "keyslots": ["0"],
                "key_id": options.token.key_id,
                "server": options.token.server,
            }),
        )]),
        segments: BTreeMap::from([(
            "0".to_owned(),
            Segment {
                kind: "crypt".to_owned(),
                offset: U64String(NEW_DATA_OFFSET),
                size: "dynamic".to_owned(),
                iv_tweak: U64String(0),
                encryption: CIPHER.to_owned(),
                sector_size: NEW_SECTOR_SIZE,
                integrity: None,
                flags: None,
            },
        )]),
        digests: BTreeMap::from([(
            "0".to_owned(),
            DigestEntry {
                kind: "pbkdf2".to_owned(),
                keyslots: vec!["0".to_owned()],
                segments: vec!["0".to_owned()],
                hash: "sha256".to_owned(),
                iterations: NEW_PBKDF2_ITERATIONS,
                salt: Base64::encode(&digest_salt),
                digest: Base64::encode(&digest),
            },
        )]),
        config: Config {
            json_size: U64String(NEW_HEADER_SIZE - binary::BINARY_HEADER_SIZE as u64),
            keyslots_size: U64String(keyslots_size),
            flags: None,
            requirements: None,
        },
    };
    let json = serde_json::to_vec(&metadata).map_err(LuksError::Json)?;

    let mut bytes = Vec::with_capacity(usize::try_from(area_offset).unwrap_or(0) + material.len());
    for hdr_offset in [0, NEW_HEADER_SIZE] {
        let mut salt = [0u8; 64];
        OsRng.fill_bytes(&mut salt);
        let copy = binary::encode_copy(
            &BinaryHeader {
                hdr_size: NEW_HEADER_SIZE,
                seqid: 1,
                label: options.label.clone(),
                salt,
                uuid: uuid.clone(),
                subsystem: SUBSYSTEM.to_owned(),
                hdr_offset,
            },
            &json,
        )?;
        bytes.extend_from_slice(&copy);
    }
    bytes.extend_from_slice(&material);
    Ok(NewHeader {
        bytes,
        data_offset: NEW_DATA_OFFSET,
        uuid,
    })
}
