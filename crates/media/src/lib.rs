//! Switchboard media engine.
//!
//! Every call leg's RTP terminates on a server port, and legs are put in
//! *rooms* that say who hears whom. A two-party bridge forwards each packet
//! to the other party as it arrives (payload untouched, renumbered onto the
//! receiver's continuous stream). Rooms that need it (hold music, a
//! conference, a recording) decode audio to 8 kHz 16-bit PCM through a
//! jitter buffer, mix it on a 20 ms tick and re-encode per leg. A call moves
//! between the two modes without a sequence or timestamp jump.
//!
//! The pure building blocks (codecs, RTP framing, DTMF, jitter buffer,
//! outgoing stream numbering, mixing, music, recording) live in their own
//! modules; [`engine`] wires them to UDP sockets, receive tasks and a 20 ms
//! tick on the tokio runtime.

#![warn(missing_docs)]

pub mod bench;
pub mod dtmf;
pub mod engine;
pub mod error;
pub mod forward;
pub mod g711;
pub mod jitter;
pub mod mixer;
pub mod music;
pub mod quality;
pub mod recorder;
pub mod rtcp;
pub mod rtp;
pub mod srtp;
pub mod timeline;

pub use engine::{
    LegId, LegInfo, LegStats, MediaConfig, MediaEngine, MediaEvent, RecordingId, RoomId,
};
pub use error::MediaError;
pub use g711::Codec;
pub use recorder::RecordingSummary;

/// Sample rate of all PCM handled by the engine (narrowband telephony).
pub const SAMPLE_RATE: u32 = 8000;

/// Samples in one 20 ms frame at [`SAMPLE_RATE`]; the tick and packet size.
pub const FRAME_SAMPLES: usize = 160;

/// One 20 ms frame of 16-bit PCM.
pub type Frame = [i16; FRAME_SAMPLES];

/// A frame of digital silence.
pub const SILENCE: Frame = [0; FRAME_SAMPLES];
