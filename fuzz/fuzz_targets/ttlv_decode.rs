//! Fuzzes the three TTLV decoders: binary, JSON and XML. None may panic, and
//! whatever one accepts must survive a re-encoding unchanged.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(item) = ttlv::decode(data) {
        // Binary TTLV keeps every byte, so a decoded message re-encodes exactly.
        assert_eq!(ttlv::encode(&item), data, "binary re-encoding differs");
        check_text_round_trips(&item);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(item) = ttlv::decode_json(text) {
            check_text_round_trips(&item);
        }
        if let Ok(item) = ttlv::decode_xml(text) {
            check_text_round_trips(&item);
        }
    }
});

/// Checks that an accepted tree survives every encoding.
fn check_text_round_trips(item: &ttlv::Item) {
    let binary = ttlv::encode(item);
    assert_eq!(ttlv::decode(&binary).as_ref().ok(), Some(item), "binary");
    let json = ttlv::encode_json(item);
    assert_eq!(ttlv::decode_json(&json).as_ref().ok(), Some(item), "JSON {json}");
    let xml = ttlv::encode_xml(item);
    assert_eq!(ttlv::decode_xml(&xml).as_ref().ok(), Some(item), "XML {xml}");
}
