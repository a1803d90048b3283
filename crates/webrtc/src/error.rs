//! Errors of browser audio sessions.

/// Why a browser audio session could not be set up.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum WebrtcError {
    /// The browser's SDP offer is not usable (garbage, no audio, no G.711).
    #[error("bad SDP offer: {0}")]
    BadOffer(String),
    /// No media port for the session's engine leg.
    #[error("no media resources: {0}")]
    Media(String),
    /// A local failure (socket, certificate).
    #[error("internal error: {0}")]
    Internal(String),
}
