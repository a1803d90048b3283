//! libFuzzer entry point of the `dtmf` target; the body is
//! [`switchboard_fuzz::dtmf`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::dtmf(data);
});
