//! Fuzzes every decoder of the HTTPS API's untrusted input: JSON bodies, query
//! strings and the Authorization header. None may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    server::api::decode_for_fuzzing(data);
});
