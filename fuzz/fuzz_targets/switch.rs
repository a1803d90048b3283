//! libFuzzer entry point of the `switch` target; the body is
//! [`switchboard_fuzz::switch`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::switch(data);
});
