//! libFuzzer entry point of the `rtcp` target; the body is
//! [`switchboard_fuzz::rtcp`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::rtcp(data);
});
