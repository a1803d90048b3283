//! Typed errors of the media engine's public API.

use thiserror::Error;

/// Errors returned by the media engine and its recorder.
#[derive(Debug, Error)]
pub enum MediaError {
    /// The configured RTP port range holds no even/odd port pair.
    #[error("invalid RTP port range {min}-{max}: need at least one even port pair")]
    InvalidPortRange {
        /// Lowest port of the range.
        min: u16,
        /// Highest port of the range.
        max: u16,
    },
    /// Every port pair of the range is in use.
    #[error("no free RTP port pair in {min}-{max}")]
    NoFreePort {
        /// Lowest port of the range.
        min: u16,
        /// Highest port of the range.
        max: u16,
    },
    /// The leg id is not (or no longer) known to the engine.
    #[error("unknown leg {0}")]
    UnknownLeg(u64),
    /// A socket or file operation failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Creating or finalizing a WAV file failed.
    #[error("WAV error: {0}")]
    Wav(#[from] hound::Error),
    /// The recording writer thread died unexpectedly.
    #[error("recording writer failed: {0}")]
    RecorderFailed(String),
}
