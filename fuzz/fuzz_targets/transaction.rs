//! libFuzzer entry point of the `transaction` target; the body is
//! [`switchboard_fuzz::transaction`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::transaction(data);
});
