//! Switchboard's SIP protocol core (RFC 3261 and friends), sans-IO: message
//! parsing/serialization, typed header views, digest authentication, SDP
//! for G.711 audio, the transaction state machines and dialogs. Sockets live in the
//! binary; nothing here does I/O.

pub mod builder;
pub mod dialog;
pub mod digest;
pub mod headers;
pub mod message;
pub mod sdes;
pub mod sdp;
pub mod shrink;
pub mod transaction;
pub mod uri;
pub mod validate;

pub use dialog::{Dialog, MessageRef};
pub use headers::{CSeq, NameAddr, Via};
pub use message::{parse_message, stream_frame_len, Headers, Message, Request, Response};
pub use shrink::Shrink;
pub use transaction::{Peer, TransactionLayer, Transport, TxEvent, TxKey};
pub use uri::Uri;
pub use validate::{validate_request, Rejection};

/// A message or URI that could not be parsed; says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SIP parse error: {0}")]
pub struct ParseError(pub String);

impl ParseError {
    /// New error with a message.
    pub fn new(msg: impl Into<String>) -> ParseError {
        ParseError(msg.into())
    }
}
