//! libFuzzer entry point of the `sdp` target; the body is
//! [`switchboard_fuzz::sdp`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::sdp(data);
});
