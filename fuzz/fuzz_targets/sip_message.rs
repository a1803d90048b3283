//! libFuzzer entry point of the `sip_message` target; the body is
//! [`switchboard_fuzz::sip_message`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::sip_message(data);
});
