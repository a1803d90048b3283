//! libFuzzer entry point of the `jitter` target; the body is
//! [`switchboard_fuzz::jitter`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::jitter(data);
});
