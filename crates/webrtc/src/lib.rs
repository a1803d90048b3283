//! Browser audio legs: WebRTC terminated in Switchboard itself.
//!
//! An agent's console opens one audio session for the whole shift; each
//! call is bridged to it by the switch like any other agent leg. Here:
//! [`session`], the sans-IO session of one browser (ICE-lite, DTLS-SRTP,
//! audio only, G.711 and telephone-event, RTP mode), and [`gateway`], its
//! tokio driver: one UDP port for every browser, and per session a media
//! engine leg that the session feeds with the browser's plain RTP.
//!
//! Why str0m: it is sans-IO like the rest of Switchboard (`handle_input`,
//! then drain `poll_output` until the next timeout), so a session is a
//! value we drive from our own socket and clock; it does ICE-lite (a
//! server with a known address needs no candidate gathering, so one UDP
//! port serves every browser); and its RTP mode hands us RTP packets
//! untouched, so G.711 needs no codec library and the media engine sees
//! exactly what a SIP phone would send. webrtc-rs is tokio-bound and owns
//! its sockets; libwebrtc is a C++ build. The crypto backend is aws-lc-rs:
//! str0m 0.25's `openssl` feature asks for a `str0m-openssl` release that
//! is not published, and its `rust-crypto` feature does not resolve.

#![warn(missing_docs, rust_2018_idioms)]

mod error;
pub mod gateway;
pub mod session;

pub use error::WebrtcError;
pub use gateway::{Attached, Gateway, GatewayEvent};
pub use session::{BrowserSession, Negotiated, PlainRtp, SessionOutput, SessionState};
