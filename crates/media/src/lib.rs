//! Switchboard media engine.
//!
//! Every call leg's RTP terminates on a server port. Audio is decoded to
//! 8 kHz 16-bit PCM, mixed in *rooms* and re-encoded per leg. That one model
//! covers a two-party bridge (a room with two legs), hold (a leg alone in a
//! room with music), conferences (N legs, each hears the others), PCMU/PCMA
//! transcoding and call recording.
//!
//! The pure building blocks (codecs, RTP framing, DTMF, playout buffer,
//! mixing, music, recording) live in their own modules; [`engine`] wires
//! them to UDP sockets and a 20 ms tick on the tokio runtime.

#![warn(missing_docs)]

pub mod bench;
pub mod dtmf;
pub mod engine;
pub mod error;
pub mod fifo;
pub mod g711;
pub mod mixer;
pub mod music;
pub mod recorder;
pub mod rtp;

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
