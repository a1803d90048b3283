//! Fuzz targets for Switchboard, as plain functions of `&[u8]`.
//!
//! Each `fuzz_targets/NAME.rs` binary is a one-line libFuzzer wrapper around
//! the function of the same name here, so the same code also runs on the
//! stable toolchain: the unit tests at the end feed every seed of
//! `seeds/NAME/` (and every saved crash of `regressions/NAME/`) through its
//! function. A target fails by panicking; a few also assert a property the
//! code under test promises (said at each target).
//!
//! Why each target exists:
//!
//! * [`sip_message`]: every UDP/TCP datagram from the Internet goes through
//!   `parse_message`, then `validate_request`, the typed header views and the
//!   response builder; none of it may panic on any input.
//! * [`sip_uri`]: Request-URIs, Contact and digest `uri` values are parsed
//!   and printed back (registrar bindings, routing, digest URI check).
//! * [`sip_headers`]: the typed header parsers (Via, name-addr, CSeq,
//!   parameters, comma lists) on their own, so the fuzzer need not build a
//!   whole message to reach them.
//! * [`digest`]: `Authorization` headers are attacker-controlled before any
//!   authentication; the target also mints valid nonces so the fuzzer gets
//!   past the HMAC check, and asserts that a header accepted once is never
//!   accepted again (replay protection).
//! * [`sdp`]: every offer and answer body; also checks that the SDP we build
//!   from what we parsed parses back.
//! * [`rtp`]: every datagram on every media port; checks the writer/parser
//!   round trip.
//! * [`rtcp`]: compound RTCP packets from phones (reports that feed the
//!   call quality figures), and the receive statistics behind our reports.
//! * [`dtmf`]: RFC 4733 payloads and the once-per-key-press detector.
//! * [`jitter`], [`forward`], [`timeline`]: the media engine's per-packet
//!   state machines fed arbitrary (reordered, duplicated, jumping, wrapping)
//!   packet timings; a panic there ends the media task of a live call.
//! * [`transaction`]: sequences of SIP messages, responses and timer ticks
//!   through the transaction layer; checks every transaction ends once
//!   answered and time passes (no leak).
//! * [`switch`]: sequences of SIP messages (sipp-style templates from the
//!   project's scenarios), answers, console commands, media events and time
//!   through the whole switch with an in-memory media engine; any panic,
//!   even one the switch's per-call guard would catch, is a finding.

#![warn(missing_docs)]

pub mod media_targets;
pub mod parsers;
pub mod script;
pub mod switch_target;
pub mod transaction_target;

pub use media_targets::{forward, jitter, timeline};
pub use parsers::{digest, dtmf, rtcp, rtp, sdp, sip_headers, sip_message, sip_uri};
pub use switch_target::switch;
pub use transaction_target::transaction;

/// A fuzz target: runs one input, panics on a finding.
pub type Target = fn(&[u8]);

/// Every target by name, for tests and tools that run them all.
pub const TARGETS: &[(&str, Target)] = &[
    ("sip_message", sip_message),
    ("sip_uri", sip_uri),
    ("sip_headers", sip_headers),
    ("digest", digest),
    ("sdp", sdp),
    ("rtp", rtp),
    ("rtcp", rtcp),
    ("dtmf", dtmf),
    ("jitter", jitter),
    ("forward", forward),
    ("timeline", timeline),
    ("transaction", transaction),
    ("switch", switch),
];

#[cfg(test)]
mod tests;
