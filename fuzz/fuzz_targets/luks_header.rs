//! Fuzzes the LUKS2 header parser and keyslot opening. None may panic.
//!
//! The first input byte picks a mode:
//! * 0: the rest is a raw device prefix handed to `Header::parse`.
//! * 1: the rest is JSON, wrapped in a binary header with a correct checksum, so
//!   the fuzzer reaches the metadata checks instead of failing at the checksum.
//! * 2: the rest is a list of (offset: u16, byte) patches applied to the JSON of a
//!   header `luks::format` wrote; the result is re-checksummed, parsed, and, if it
//!   parses, opened with the right secret (KDF costs stay small: a patch cannot
//!   lengthen a number).
#![no_main]

use std::sync::OnceLock;

use luks::{CryptainerToken, FormatOptions, Header, VolumeKey};
use sha2::{Digest, Sha256};

const HDR: usize = 16384;
const SECRET: &[u8] = b"fuzzing secret, 32 bytes long!!!";

fn template() -> &'static Vec<u8> {
    static DEVICE: OnceLock<Vec<u8>> = OnceLock::new();
    DEVICE.get_or_init(|| {
        let options = FormatOptions {
            label: "fuzz".to_owned(),
            token: CryptainerToken {
                key_id: "key".to_owned(),
                server: "https://km".to_owned(),
            },
        };
        luks::format(&VolumeKey::generate(), SECRET, &options)
            .map(|header| header.bytes)
            .unwrap_or_default()
    })
}

/// Writes a primary copy holding `json` at the start of `device` and checksums it.
fn write_primary(device: &mut [u8], json: &[u8]) {
    let json = &json[..json.len().min(HDR - 4096 - 1)];
    device[..HDR].fill(0);
    device[..6].copy_from_slice(b"LUKS\xba\xbe");
    device[6..8].copy_from_slice(&2u16.to_be_bytes());
    device[8..16].copy_from_slice(&(HDR as u64).to_be_bytes());
    device[72..78].copy_from_slice(b"sha256");
    device[4096..4096 + json.len()].copy_from_slice(json);
    let sum = Sha256::digest(&device[..HDR]);
    device[448..480].copy_from_slice(&sum);
}

fn exercise(device: &[u8], open: bool) {
    if let Ok(header) = Header::parse(device) {
        let _ = header.cryptainer_token();
        let _ = header.data_segment();
        let _ = header.keyslots_end();
        if open {
            let _ = header.open(device, SECRET);
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => exercise(rest, false),
        1 => {
            let mut device = vec![0u8; 2 * HDR];
            write_primary(&mut device, rest);
            exercise(&device, false);
        }
        _ => {
            let mut device = template().clone();
            if device.len() < 2 * HDR {
                return;
            }
            let area = &device[4096..HDR];
            let end = area.iter().position(|&b| b == 0).unwrap_or(0);
            let mut json = area[..end].to_vec();
            for patch in rest.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([patch[0], patch[1]]));
                if let Some(byte) = json.get_mut(at % end.max(1)) {
                    *byte = patch[2];
                }
            }
            write_primary(&mut device, &json);
            // Damage the secondary so the patched primary is the one parsed.
            device[HDR] ^= 0xff;
            exercise(&device, true);
        }
    }
});
