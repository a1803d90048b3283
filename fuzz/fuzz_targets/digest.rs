//! libFuzzer entry point of the `digest` target; the body is
//! [`switchboard_fuzz::digest`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::digest(data);
});
