//! Fuzzes the parsers of the keys and certificates KMIP clients register
//! (Register of public and private keys in every Key Format Type, read first
//! for what they are and then as the server uses them, and of X.509
//! certificates): none may panic, whatever the bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    // The first byte picks the Key Format Type: codes 1 to 32 cover every
    // format KMIP 1.x and 2.x define, and some it does not.
    let format = u32::from(selector % 32) + 1;
    let _ = kmip::import::public_key_facts(format, bytes);
    let _ = kmip::import::private_key_facts(format, bytes);
    let _ = kmip::import::import_public(format, bytes);
    let _ = kmip::import::import_private(format, bytes);
    let _ = kmip::import::import_certificate(bytes);
});
