//! libFuzzer entry point of the `forward` target; the body is
//! [`switchboard_fuzz::forward`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::forward(data);
});
