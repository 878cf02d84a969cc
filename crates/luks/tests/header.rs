//! Header round trips and rejection of damaged or hostile headers: format → parse →
//! open, one damaged copy tolerated, two reported, limits enforced, no panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    // Offsets in tests are small constants.
    clippy::cast_possible_truncation
)]

use luks::{CryptainerToken, FormatOptions, Header, HeaderCopy, LuksError, VolumeKey};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const HDR: usize = 16384;
const SECRET: [u8; 32] = [0x42; 32];

fn options() -> FormatOptions {
    FormatOptions {
        label: "volume".to_owned(),
        token: CryptainerToken {
            key_id: "key-1".to_owned(),
            server: "https://km.example".to_owned(),
        },
    }
}

/// A formatted header region and its volume key.
fn formatted() -> (Vec<u8>, VolumeKey) {
    let key = VolumeKey::generate();
    let header = luks::format(&key, &SECRET, &options()).unwrap();
    (header.bytes, key)
}

/// Recomputes the checksum of the copy at `offset` after a test edited it.
fn rechecksum(device: &mut [u8], offset: usize) {
    let size = u64::from_be_bytes(device[offset + 8..offset + 16].try_into().unwrap()) as usize;
    let size = size.min(device.len() - offset);
    device[offset + 448..offset + 512].fill(0);
    let sum = Sha256::digest(&device[offset..offset + size]);
    device[offset + 448..offset + 480].copy_from_slice(&sum);
}

/// Replaces the JSON of the copy at `offset` with `json` (NUL-padded) and fixes the
/// checksum, so only the JSON is wrong.
fn replace_json(device: &mut [u8], offset: usize, json: &[u8]) {
    let area = &mut device[offset + 4096..offset + HDR];
    area.fill(0);
    area[..json.len()].copy_from_slice(json);
    rechecksum(device, offset);
}

/// Edits the JSON of both copies through `edit` and fixes their checksums.
fn edit_json(device: &mut [u8], edit: impl Fn(&mut serde_json::Value)) {
    for offset in [0, HDR] {
        let area = &device[offset + 4096..offset + HDR];
        let end = area.iter().position(|&b| b == 0).unwrap();
        let mut value: serde_json::Value = serde_json::from_slice(&area[..end]).unwrap();
        edit(&mut value);
        replace_json(device, offset, &serde_json::to_vec(&value).unwrap());
    }
}

#[test]
fn parses_what_format_writes() {
    let (device, key) = formatted();
    let header = Header::parse(&device).unwrap();
    assert_eq!(header.copy_used(), HeaderCopy::Primary);
    assert_eq!(header.seqid(), 1);
    assert_eq!(header.hdr_size(), 16384);
    assert_eq!(header.label(), "volume");
    assert_eq!(header.subsystem(), "cryptainer");
    assert_eq!(header.keyslots_end(), 16 << 20);
    assert_eq!(header.keyslot_areas_end(), 32768 + 258048);
    let segment = header.data_segment();
    assert_eq!(
        (segment.offset, segment.size, segment.sector_size),
        (16 << 20, None, 4096)
    );
    assert_eq!(header.cryptainer_token(), Some(options().token));
    let opened = header.open(&device, &SECRET).unwrap();
    assert_eq!(opened.expose_secret(), key.expose_secret());
    let by_id = header.open_keyslot(&device, "0", &SECRET).unwrap();
    assert_eq!(by_id.expose_secret(), key.expose_secret());
}

#[test]
fn rejects_a_wrong_secret() {
    let (device, _) = formatted();
    let header = Header::parse(&device).unwrap();
    assert!(matches!(
        header.open(&device, &[0x43; 32]),
        Err(LuksError::WrongSecret)
    ));
    assert!(matches!(
        header.open_keyslot(&device, "1", &SECRET),
        Err(LuksError::NoSuchKeyslot(id)) if id == "1"
    ));
}

#[test]
fn rejects_an_empty_secret_and_long_labels_at_format() {
    let key = VolumeKey::generate();
    assert!(matches!(
        luks::format(&key, &[], &options()),
        Err(LuksError::InvalidOption(_))
    ));
    let mut long = options();
    long.label = "x".repeat(48);
    assert!(matches!(
        luks::format(&key, &SECRET, &long),
        Err(LuksError::InvalidOption(_))
    ));
}

#[test]
fn one_corrupted_magic_still_opens_through_the_other_copy() {
    let (mut device, key) = formatted();
    device[0] ^= 0xff;
    let header = Header::parse(&device).unwrap();
    assert_eq!(header.copy_used(), HeaderCopy::Secondary);
    assert_eq!(
        header.open(&device, &SECRET).unwrap().expose_secret(),
        key.expose_secret()
    );

    let (mut device, key) = formatted();
    device[HDR] ^= 0xff;
    let header = Header::parse(&device).unwrap();
    assert_eq!(header.copy_used(), HeaderCopy::Primary);
    assert_eq!(
        header.open(&device, &SECRET).unwrap().expose_secret(),
        key.expose_secret()
    );
}

#[test]
fn rejects_corrupted_magic_in_both_copies() {
    let (mut device, _) = formatted();
    device[0] ^= 0xff;
    device[HDR] ^= 0xff;
    match Header::parse(&device) {
        Err(LuksError::NoValidHeader { primary, secondary }) => {
            assert!(matches!(*primary, LuksError::BadMagic(HeaderCopy::Primary)));
            assert!(matches!(
                *secondary,
                LuksError::BadMagic(HeaderCopy::Secondary)
            ));
        }
        other => panic!("expected NoValidHeader, got {other:?}"),
    }
}

#[test]
fn rejects_bad_checksums_and_uses_the_intact_copy() {
    let (mut device, key) = formatted();
    device[4096 + 10] ^= 1; // inside the primary's JSON
    let header = Header::parse(&device).unwrap();
    assert_eq!(header.copy_used(), HeaderCopy::Secondary);
    assert_eq!(
        header.open(&device, &SECRET).unwrap().expose_secret(),
        key.expose_secret()
    );

    device[HDR + 4096 + 10] ^= 1;
    match Header::parse(&device) {
        Err(LuksError::NoValidHeader { primary, secondary }) => {
            assert!(matches!(
                *primary,
                LuksError::ChecksumMismatch(HeaderCopy::Primary)
            ));
            assert!(matches!(
                *secondary,
                LuksError::ChecksumMismatch(HeaderCopy::Secondary)
            ));
        }
        other => panic!("expected NoValidHeader, got {other:?}"),
    }
}

#[test]
fn the_copy_with_the_higher_seqid_wins() {
    let (mut device, _) = formatted();
    device[HDR + 16..HDR + 24].copy_from_slice(&2u64.to_be_bytes());
    rechecksum(&mut device, HDR);
    let header = Header::parse(&device).unwrap();
    assert_eq!(header.copy_used(), HeaderCopy::Secondary);
    assert_eq!(header.seqid(), 2);
}

#[test]
fn rejects_truncated_json() {
    let (mut device, _) = formatted();
    let area = &device[4096..HDR];
    let end = area.iter().position(|&b| b == 0).unwrap();
    let truncated = area[..end / 2].to_vec();
    for offset in [0, HDR] {
        replace_json(&mut device, offset, &truncated);
    }
    match Header::parse(&device) {
        Err(LuksError::NoValidHeader { primary, .. }) => {
            assert!(matches!(*primary, LuksError::Json(_)), "{primary:?}");
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn rejects_json_without_a_terminator() {
    let (mut device, _) = formatted();
    device[4096..HDR].fill(b' ');
    rechecksum(&mut device, 0);
    let error = Header::parse(&device[..HDR + 4096]).unwrap_err();
    match error {
        LuksError::NoValidHeader { primary, .. } => {
            assert!(
                matches!(*primary, LuksError::JsonNotTerminated),
                "{primary:?}"
            );
        }
        other => panic!("expected NoValidHeader, got {other:?}"),
    }
}

#[test]
fn rejects_truncated_input() {
    let (device, _) = formatted();
    for len in [0, 100, 4095, 4096, HDR - 1] {
        assert!(
            matches!(
                Header::parse(&device[..len]),
                Err(LuksError::NoValidHeader { .. })
            ),
            "parsed {len} bytes"
        );
    }
    // Only the primary copy present: still parses.
    let header = Header::parse(&device[..HDR]).unwrap();
    assert_eq!(header.copy_used(), HeaderCopy::Primary);
    // The keyslot area missing: opening says how much is needed.
    assert!(matches!(
        header.open(&device[..2 * HDR + 1000], &SECRET),
        Err(LuksError::Truncated { .. })
    ));
}

#[test]
fn rejects_absurd_header_sizes() {
    for size in [0u64, 4096, 0x4001, 1 << 40, u64::MAX] {
        let (mut device, _) = formatted();
        for offset in [0, HDR] {
            device[offset + 8..offset + 16].copy_from_slice(&size.to_be_bytes());
        }
        match Header::parse(&device) {
            Err(LuksError::NoValidHeader { primary, .. }) => {
                assert!(
                    matches!(*primary, LuksError::BadHeaderSize(s) if s == size),
                    "{primary:?}"
                );
            }
            other => panic!("expected BadHeaderSize for {size}, got {other:?}"),
        }
    }
}

#[test]
fn rejects_absurd_metadata_values() {
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 9] = [
        ("keyslots_size past 2^64", |v| {
            v["config"]["keyslots_size"] = "18446744073709551615".into()
        }),
        ("json_size mismatch", |v| {
            v["config"]["json_size"] = "4096".into()
        }),
        ("area past the keyslots area", |v| {
            v["keyslots"]["0"]["area"]["offset"] = "99999999999".into()
        }),
        ("area inside the metadata", |v| {
            v["keyslots"]["0"]["area"]["offset"] = "4096".into()
        }),
        ("unaligned segment", |v| {
            v["segments"]["0"]["offset"] = "16777217".into()
        }),
        ("segment over the header", |v| {
            v["segments"]["0"]["offset"] = "32768".into()
        }),
        ("odd sector size", |v| {
            v["segments"]["0"]["sector_size"] = 3000.into()
        }),
        ("object id 32", |v| {
            let token = v["tokens"]["0"].clone();
            v["tokens"]["32"] = token;
        }),
        ("negative number string", |v| {
            v["segments"]["0"]["offset"] = "-1".into()
        }),
    ];
    for (name, edit) in edits {
        let (mut device, _) = formatted();
        edit_json(&mut device, edit);
        assert!(
            matches!(Header::parse(&device), Err(LuksError::NoValidHeader { .. })),
            "accepted {name}"
        );
    }
}

#[test]
fn rejects_hostile_kdf_parameters_before_running_them() {
    type Edit = fn(&mut serde_json::Value);
    let edits: [Edit; 4] = [
        |v| v["keyslots"]["0"]["kdf"]["iterations"] = 4_000_000_000u32.into(),
        |v| v["digests"]["0"]["iterations"] = 4_000_000_000u32.into(),
        |v| {
            v["keyslots"]["0"]["kdf"] = serde_json::json!({
                "type": "argon2id", "time": 4, "memory": 4_294_967_295u32, "cpus": 4,
                "salt": "AAAA"
            })
        },
        |v| v["keyslots"]["0"]["af"]["stripes"] = 4_000_000u32.into(),
    ];
    for edit in edits {
        let (mut device, _) = formatted();
        edit_json(&mut device, edit);
        let header = Header::parse(&device).unwrap();
        assert!(matches!(
            header.open(&device, &SECRET),
            Err(LuksError::KdfParameters(_) | LuksError::InvalidMetadata(_))
        ));
    }
}

#[test]
fn rejects_unsupported_ciphers() {
    let (mut device, _) = formatted();
    edit_json(&mut device, |v| {
        v["segments"]["0"]["encryption"] = "serpent-xts-plain64".into()
    });
    match Header::parse(&device) {
        Err(LuksError::NoValidHeader { primary, .. }) => assert!(matches!(
            *primary,
            LuksError::Unsupported { what: "cipher", ref value } if value == "serpent-xts-plain64"
        )),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn keeps_foreign_tokens() {
    let (mut device, _) = formatted();
    edit_json(
        &mut device,
        |v| {
            v["tokens"]["1"] =
                serde_json::json!({"type": "systemd-tpm2", "keyslots": [], "tpm2-pcrs": [7]})
        },
    );
    let header = Header::parse(&device).unwrap();
    assert_eq!(header.metadata().tokens["1"]["tpm2-pcrs"][0], 7);
    assert_eq!(header.cryptainer_token(), Some(options().token));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn format_parse_open_round_trips(
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        label in "[a-z0-9_.-]{0,47}",
        key_id in "[ -~]{0,80}",
        server in "[ -~]{0,80}",
    ) {
        let key = VolumeKey::generate();
        let options = FormatOptions {
            label: label.clone(),
            token: CryptainerToken { key_id, server },
        };
        let new = luks::format(&key, &secret, &options).unwrap();
        let header = Header::parse(&new.bytes).unwrap();
        prop_assert_eq!(header.uuid(), new.uuid.as_str());
        prop_assert_eq!(header.label(), label.as_str());
        prop_assert_eq!(header.cryptainer_token(), Some(options.token));
        let opened = header.open(&new.bytes, &secret).unwrap();
        prop_assert_eq!(opened.expose_secret(), key.expose_secret());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random bytes and random damage to a valid header never panic.
    #[test]
    fn parse_never_panics(
        garbage in proptest::collection::vec(any::<u8>(), 0..40_000),
        flips in proptest::collection::vec((0usize..2 * HDR, any::<u8>()), 1..8),
    ) {
        let _ = Header::parse(&garbage);
        let mut device = formatted_once();
        for (at, value) in flips {
            device[at] = value;
        }
        rechecksum(&mut device, 0);
        if let Ok(header) = Header::parse(&device) {
            let _ = header.open(&device, &SECRET);
        }
    }
}

/// One formatted header shared by the panic property (formatting splits a key
/// into 4000 stripes; doing it per case would dominate the run time).
fn formatted_once() -> Vec<u8> {
    use std::sync::OnceLock;
    static DEVICE: OnceLock<Vec<u8>> = OnceLock::new();
    DEVICE.get_or_init(|| formatted().0).clone()
}
