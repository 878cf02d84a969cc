//! Fuzzes the reader of the labels that keep KMIP custom attributes: labels
//! also come from HTTPS API clients, so any key and value must be read
//! without a panic, and whatever reads as a custom attribute must be written
//! back to labels that read the same.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The label key and value, split at the first NUL; the key is also tried
    // behind the custom attribute prefix, which the fuzzer would otherwise
    // have to find before reaching anything else.
    let (key, value) = text.split_once('\0').unwrap_or((text, ""));
    check(key, value);
    check(&format!("kmip-attr.{key}"), value);
});

fn check(key: &str, value: &str) {
    let Some(item) = kmip::custom::from_label(key, value) else {
        return;
    };
    let Some((vendor, name, Some(index), value)) = kmip::custom::parts(&item) else {
        panic!("a custom attribute read from a label has no index");
    };
    let (Ok(key), Ok(value)) = (
        kmip::custom::label_key(vendor, name, index),
        kmip::custom::label_value(name, value),
    ) else {
        // Too long to write back; reading it was the point.
        return;
    };
    assert_eq!(
        kmip::custom::from_label(&key, &value).as_ref(),
        Some(&item),
        "{key} = {value}"
    );
}
