//! libFuzzer entry point of the `rtp` target; the body is
//! [`switchboard_fuzz::rtp`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::rtp(data);
});
