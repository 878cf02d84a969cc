//! Fuzzes the backup file reader (`keystore::backup::verify`), which a new
//! server runs on the body of an unauthenticated restore: it may refuse
//! anything, but never panic nor allocate past a record's declared limit.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = keystore::backup::verify(data);
});
