//! One browser's audio session, sans-IO: a str0m [`Rtc`] in ICE-lite and
//! RTP mode, fed datagrams and time, giving datagrams to send and the
//! browser's RTP packets (plain, decrypted) to relay.
//!
//! The session answers the browser's offer with audio only: PCMU, PCMA
//! and telephone-event at 8 kHz. Whatever the browser sends in RTP mode
//! comes out untouched (payload type, sequence number, timestamp), so the
//! media engine sees exactly what a SIP phone would send it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::SdpOffer;
use str0m::format::{Codec, FormatParams};
use str0m::media::{Frequency, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

use crate::WebrtcError;

/// Payload type we propose for telephone-event when the offer has none at 8 kHz.
const TELE_PT: u8 = 101;

/// How long a browser has to complete ICE and DTLS after our answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// The audio codecs agreed with the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// G.711 payload type the browser sends and expects (0 PCMU or 8 PCMA).
    pub audio_pt: u8,
    /// telephone-event payload type at 8 kHz, if the browser offered one.
    pub dtmf_pt: Option<u8>,
}

/// Lifecycle of the session; each state holds what is valid in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Answered; waiting for ICE and DTLS until `deadline`.
    Connecting {
        /// Then the session closes (wrong credentials, DTLS failure, UDP blocked).
        deadline: Instant,
    },
    /// ICE and DTLS done: audio flows both ways.
    Connected {
        /// The browser's address.
        peer: SocketAddr,
    },
    /// Over (ICE timed out, DTLS failed, closed).
    Closed {
        /// Why, for the agent's page.
        reason: String,
    },
}

/// What the session asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOutput {
    /// Send a datagram from `from` (our WebRTC socket) to the browser.
    Transmit {
        /// Local address.
        from: SocketAddr,
        /// Browser address.
        to: SocketAddr,
        /// Bytes.
        data: Vec<u8>,
    },
    /// An RTP packet from the browser (decrypted).
    Rtp(PlainRtp),
    /// The session changed state (see [`BrowserSession::state`]).
    StateChanged,
}

/// An unencrypted RTP packet: header fields and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainRtp {
    /// Payload type.
    pub pt: u8,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub ts: u32,
    /// Marker bit.
    pub marker: bool,
    /// Payload.
    pub payload: Vec<u8>,
}

/// One browser's audio session.
pub struct BrowserSession {
    rtc: Rtc,
    mid: Mid,
    negotiated: Negotiated,
    state: SessionState,
    /// Extended sequence number of what we send (str0m wants the rollover).
    last_seq: Option<SeqNo>,
    timeout: Instant,
    /// Source of the last datagram from the browser.
    last_from: Option<SocketAddr>,
    outputs: std::collections::VecDeque<SessionOutput>,
}

impl std::fmt::Debug for BrowserSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSession")
            .field("state", &self.state)
            .field("negotiated", &self.negotiated)
            .finish()
    }
}

impl BrowserSession {
    /// Accept a browser's SDP offer: `local` is the address of our one
    /// WebRTC UDP port as the browser must reach it (the ICE-lite host
    /// candidate). Returns the session and the SDP answer.
    pub fn accept(
        now: Instant,
        offer: &str,
        local: SocketAddr,
    ) -> Result<(BrowserSession, String), WebrtcError> {
        let offer = SdpOffer::from_sdp_string(offer)
            .map_err(|e| WebrtcError::BadOffer(format!("not an SDP offer: {e}")))?;
        let (mid, negotiated) = negotiated(&offer)?;
        let mut cfg = Rtc::builder()
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .clear_codecs();
        let codecs = cfg.codec_config();
        codecs.enable_pcmu(true, false);
        codecs.enable_pcma(true, false);
        codecs.add_config(
            TELE_PT.into(),
            None,
            Codec::Tele,
            Frequency::EIGHT_KHZ,
            None,
            FormatParams::parse_line("0-16"),
        );
        let mut rtc = cfg.build(now);
        let candidate = Candidate::host(local, "udp")
            .map_err(|e| WebrtcError::Internal(format!("host candidate {local}: {e}")))?;
        let _ = rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| WebrtcError::BadOffer(e.to_string()))?;
        let session = BrowserSession {
            rtc,
            mid,
            negotiated,
            state: SessionState::Connecting {
                deadline: now + CONNECT_TIMEOUT,
            },
            last_seq: None,
            timeout: now,
            last_from: None,
            outputs: Default::default(),
        };
        Ok((session, answer.to_sdp_string()))
    }

    /// The codecs agreed with the browser.
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// Where the session is.
    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// Whether a datagram that came to our WebRTC port from `from` belongs
    /// to this session (its ICE credentials or its browser's address).
    pub fn accepts(&self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) -> bool {
        match Receive::new(Protocol::Udp, from, to, data) {
            Ok(r) => self.rtc.accepts(&Input::Receive(now, r)),
            Err(_) => false,
        }
    }

    /// A datagram from the browser. Unparseable data is dropped.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let Ok(r) = Receive::new(Protocol::Udp, from, to, data) else {
            return;
        };
        self.last_from = Some(from);
        if let Err(e) = self.rtc.handle_input(Input::Receive(now, r)) {
            self.close(format!("WebRTC error: {e}"));
        }
        self.drain();
    }

    /// Time passed (call at [`BrowserSession::next_timeout`] or later).
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.rtc.is_alive() {
            return;
        }
        if let SessionState::Connecting { deadline } = self.state {
            if now >= deadline {
                self.close(
                    "the browser did not connect (ICE or DTLS failed, or UDP is blocked)".into(),
                );
                return;
            }
        }
        if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
            self.close(format!("WebRTC error: {e}"));
        }
        self.drain();
    }

    /// When [`BrowserSession::handle_timeout`] is due.
    pub fn next_timeout(&self) -> Instant {
        match self.state {
            SessionState::Connecting { deadline } => self.timeout.min(deadline),
            _ => self.timeout,
        }
    }

    /// Send one RTP packet (from the media engine) to the browser, encrypted.
    /// Dropped until the session is connected.
    pub fn send_rtp(&mut self, now: Instant, rtp: &PlainRtp) {
        if !matches!(self.state, SessionState::Connected { .. }) {
            return;
        }
        let seq = match self.last_seq {
            // Extend the 16-bit number past the last one sent (or just before it).
            Some(last) => {
                let last = *last;
                let diff = rtp.seq.wrapping_sub(last as u16) as i16;
                SeqNo::from(last.wrapping_add_signed(i64::from(diff)))
            }
            None => SeqNo::from(u64::from(rtp.seq)),
        };
        if self.last_seq.is_none_or(|l| seq > l) {
            self.last_seq = Some(seq);
        }
        let pt: Pt = rtp.pt.into();
        let mut api = self.rtc.direct_api();
        let Some(stream) = api.stream_tx_by_mid(self.mid, None) else {
            return;
        };
        stream.write_rtp(
            RtpWrite::new(
                pt,
                seq,
                rtp.ts,
                now,
                std::sync::Arc::<[u8]>::from(rtp.payload.as_slice()),
            )
            .marker(rtp.marker),
        );
        self.drain();
    }

    /// Close the session (the agent left, a newer tab took over).
    pub fn close(&mut self, reason: String) {
        if matches!(self.state, SessionState::Closed { .. }) {
            return;
        }
        self.rtc.disconnect();
        self.state = SessionState::Closed { reason };
        self.outputs.push_back(SessionOutput::StateChanged);
    }

    /// The next thing to do, if any.
    pub fn poll(&mut self) -> Option<SessionOutput> {
        self.outputs.pop_front()
    }

    /// Move str0m's outputs into ours until it asks for a timeout.
    fn drain(&mut self) {
        while self.rtc.is_alive() {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.timeout = t;
                    break;
                }
                Ok(Output::Transmit(t)) => self.outputs.push_back(SessionOutput::Transmit {
                    from: t.source,
                    to: t.destination,
                    data: t.contents.to_vec(),
                }),
                Ok(Output::Event(e)) => self.on_event(e),
                Err(e) => {
                    self.close(format!("WebRTC error: {e}"));
                    break;
                }
            }
        }
        if !self.rtc.is_alive() && !matches!(self.state, SessionState::Closed { .. }) {
            self.state = SessionState::Closed {
                reason: "the browser's connection was lost".into(),
            };
            self.outputs.push_back(SessionOutput::StateChanged);
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::RtpPacket(p) => self.outputs.push_back(SessionOutput::Rtp(PlainRtp {
                pt: *p.header.payload_type,
                seq: p.header.sequence_number,
                ts: p.header.timestamp,
                marker: p.header.marker,
                payload: p.payload.to_vec(),
            })),
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                let reason = match self.state {
                    SessionState::Connecting { .. } => {
                        "the browser did not connect (its ICE checks failed)"
                    }
                    _ => "the browser stopped answering ICE checks",
                };
                self.close(reason.into());
            }
            Event::Connected => {
                let peer = self
                    .last_from
                    .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
                self.state = SessionState::Connected { peer };
                self.outputs.push_back(SessionOutput::StateChanged);
            }
            _ => {}
        }
    }
}

/// The audio m= line of an offer and the G.711 and telephone-event
/// payload types the browser numbered (an answer keeps the offer's numbers).
fn negotiated(offer: &SdpOffer) -> Result<(Mid, Negotiated), WebrtcError> {
    for line in offer.media_lines.iter().filter(|l| !l.disabled) {
        let params = line.rtp_params();
        let find = |codec: Codec| {
            params
                .iter()
                .find(|p| p.spec().codec == codec && p.spec().clock_rate == Frequency::EIGHT_KHZ)
                .map(|p| *p.pt())
        };
        if let Some(audio_pt) = find(Codec::PCMU).or_else(|| find(Codec::PCMA)) {
            let dtmf_pt = find(Codec::Tele);
            return Ok((line.mid(), Negotiated { audio_pt, dtmf_pt }));
        }
    }
    Err(WebrtcError::BadOffer(
        "the offer has no audio stream with PCMU or PCMA".into(),
    ))
}
