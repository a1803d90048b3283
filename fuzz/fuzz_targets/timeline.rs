//! libFuzzer entry point of the `timeline` target; the body is
//! [`switchboard_fuzz::timeline`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::timeline(data);
});
