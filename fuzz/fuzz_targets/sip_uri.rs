//! libFuzzer entry point of the `sip_uri` target; the body is
//! [`switchboard_fuzz::sip_uri`] so stable tests run it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard_fuzz::sip_uri(data);
});
