//! A browser session against a real WebRTC peer in memory: a str0m client
//! (full ICE, like a browser) offers audio, our ICE-lite session answers;
//! datagrams move between them in virtual time. ICE and DTLS complete,
//! then RTP flows both ways encrypted, and comes out plain with its
//! payload type, sequence number and timestamp. Bad offers are refused
//! with a reason.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Event, Input, Output, Rtc};
use switchboard_webrtc::{BrowserSession, PlainRtp, SessionOutput, SessionState, WebrtcError};

const SERVER: &str = "10.0.0.1:20000";
const BROWSER: &str = "10.0.0.2:50000";

struct Pair {
    now: Instant,
    client: Rtc,
    mid: Mid,
    server: BrowserSession,
    /// Plain RTP the server session gave out.
    from_browser: Vec<PlainRtp>,
    /// RTP the client received: (pt, seq, ts, payload).
    at_browser: Vec<(u8, u16, u32, Vec<u8>)>,
    client_connected: bool,
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

fn offer_from_client(now: Instant) -> (Rtc, Mid, str0m::change::SdpPendingOffer, String) {
    let mut cfg = Rtc::builder().set_rtp_mode(true).clear_codecs();
    cfg.codec_config().enable_opus(true, false);
    cfg.codec_config().enable_pcmu(true, false);
    cfg.codec_config().enable_pcma(true, false);
    let mut client = cfg.build(now);
    let c = Candidate::host(addr(BROWSER), "udp").expect("candidate");
    let _ = client.add_local_candidate(c);
    let mut change = client.sdp_api();
    let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    let (offer, pending) = change.apply().expect("offer");
    (client, mid, pending, offer.to_sdp_string())
}

impl Pair {
    fn new() -> Pair {
        Pair::with_answer(|a| a)
    }

    /// A pair where the client sees our answer through `tamper`.
    fn with_answer(tamper: impl FnOnce(String) -> String) -> Pair {
        let now = Instant::now();
        let (mut client, mid, pending, offer) = offer_from_client(now);
        let (server, answer) = BrowserSession::accept(now, &offer, addr(SERVER)).expect("accepted");
        let answer_for_client = tamper(answer.clone());
        assert!(answer.contains("a=ice-lite"), "ICE-lite answer:\n{answer}");
        assert!(answer.contains("PCMU/8000"), "G.711 answered:\n{answer}");
        assert!(!answer.contains("opus"), "no Opus in RTP mode:\n{answer}");
        client
            .sdp_api()
            .accept_answer(
                pending,
                SdpAnswer::from_sdp_string(&answer_for_client).expect("answer"),
            )
            .expect("answer accepted");
        Pair {
            now,
            client,
            mid,
            server,
            from_browser: Vec::new(),
            at_browser: Vec::new(),
            client_connected: false,
        }
    }

    /// Move datagrams and time for `ms` milliseconds of virtual time.
    fn run(&mut self, ms: u64) {
        let end = self.now + Duration::from_millis(ms);
        while self.now < end {
            let mut to_server = Vec::new();
            loop {
                let Ok(out) = self.client.poll_output() else {
                    break;
                };
                match out {
                    Output::Timeout(_) => break,
                    Output::Transmit(t) => to_server.push(t.contents.to_vec()),
                    Output::Event(Event::Connected) => self.client_connected = true,
                    Output::Event(Event::RtpPacket(p)) => self.at_browser.push((
                        *p.header.payload_type,
                        p.header.sequence_number,
                        p.header.timestamp,
                        p.payload.to_vec(),
                    )),
                    Output::Event(_) => {}
                }
            }
            for d in to_server {
                self.server
                    .handle_datagram(self.now, addr(BROWSER), addr(SERVER), &d);
            }
            self.server.handle_timeout(self.now);
            while let Some(o) = self.server.poll() {
                match o {
                    SessionOutput::Transmit { to, data, .. } => {
                        assert_eq!(to, addr(BROWSER));
                        let r = Receive::new(Protocol::Udp, addr(SERVER), addr(BROWSER), &data)
                            .expect("datagram");
                        let _ = self.client.handle_input(Input::Receive(self.now, r));
                    }
                    SessionOutput::Rtp(p) => self.from_browser.push(p),
                    SessionOutput::StateChanged => {}
                }
            }
            self.now += Duration::from_millis(5);
            let _ = self.client.handle_input(Input::Timeout(self.now));
        }
    }

    fn client_sends(&mut self, seq: u64, ts: u32, payload: &[u8]) {
        let now = self.now;
        let mut api = self.client.direct_api();
        let tx = api.stream_tx_by_mid(self.mid, None).expect("client stream");
        tx.write_rtp(RtpWrite::new(
            0.into(),
            SeqNo::from(seq),
            ts,
            now,
            Arc::<[u8]>::from(payload),
        ));
    }
}

#[test]
fn ice_lite_and_dtls_connect_then_rtp_flows_both_ways() {
    let mut p = Pair::new();
    assert_eq!(p.server.negotiated().audio_pt, 0);
    p.run(2000);
    assert!(p.client_connected, "the browser side connected");
    assert!(
        matches!(p.server.state(), SessionState::Connected { peer } if *peer == addr(BROWSER)),
        "{:?}",
        p.server.state()
    );
    // Browser -> server: comes out plain, numbers untouched.
    for i in 0..5u64 {
        p.client_sends(1000 + i, 8000 + 160 * i as u32, &[0x55; 160]);
        p.run(20);
    }
    let got: Vec<_> = p.from_browser.iter().filter(|r| r.pt == 0).collect();
    assert!(got.len() >= 5, "browser RTP received: {}", got.len());
    assert_eq!(got[0].seq, 1000);
    assert_eq!(got[0].ts, 8000);
    assert_eq!(got[0].payload, vec![0x55; 160]);
    // Server -> browser (what the media engine sends), across a sequence wrap.
    let now = p.now;
    for i in 0..5u16 {
        p.server.send_rtp(
            now,
            &PlainRtp {
                pt: 0,
                seq: 65533u16.wrapping_add(i),
                ts: 160 * u32::from(i),
                marker: i == 0,
                payload: vec![0xd5; 160],
            },
        );
        p.run(20);
    }
    let seqs: Vec<u16> = p
        .at_browser
        .iter()
        .filter(|r| r.0 == 0)
        .map(|r| r.1)
        .collect();
    assert_eq!(
        seqs,
        vec![65533, 65534, 65535, 0, 1],
        "sent in order across the wrap"
    );
    assert!(p.at_browser.iter().all(|r| r.3 == vec![0xd5; 160]));
}

#[test]
fn a_silent_browser_ends_the_session() {
    let mut p = Pair::new();
    p.run(1000);
    assert!(matches!(p.server.state(), SessionState::Connected { .. }));
    // The browser vanishes: only time passes for the server.
    let mut now = p.now;
    for _ in 0..120 {
        now += Duration::from_millis(500);
        p.server.handle_timeout(now);
        while p.server.poll().is_some() {}
    }
    assert!(
        matches!(p.server.state(), SessionState::Closed { .. }),
        "{:?}",
        p.server.state()
    );
}

#[test]
fn garbage_and_audio_less_offers_are_refused_with_a_reason() {
    let now = Instant::now();
    let err = BrowserSession::accept(now, "hello", addr(SERVER)).expect_err("garbage");
    assert!(matches!(err, WebrtcError::BadOffer(_)), "{err}");
    assert!(err.to_string().contains("bad SDP offer"), "{err}");
    // An offer with Opus only: no G.711 to agree on.
    let (_, _, _, offer) = offer_from_client(now);
    let opus_only: String = offer
        .lines()
        .filter(|l| !l.contains("PCMU") && !l.contains("PCMA"))
        .filter(|l| !l.starts_with("a=rtcp-fb:0 ") && !l.starts_with("a=rtcp-fb:8 "))
        // Static payload types 0 and 8 need no rtpmap: drop them from m= too.
        .map(|l| match l.starts_with("m=audio") {
            true => l.replace(" 0 8", "").replace(" 0", "").replace(" 8", ""),
            false => l.to_string(),
        })
        .map(|l| format!("{l}\r\n"))
        .collect();
    let err = BrowserSession::accept(now, &opus_only, addr(SERVER)).expect_err("no G.711");
    assert!(err.to_string().contains("PCMU or PCMA"), "{err}");
}

/// Replace the value of the SDP attribute `a=<name>:` with `value`.
fn replace_attr(sdp: &str, name: &str, value: &str) -> String {
    sdp.lines()
        .map(|l| match l.starts_with(&format!("a={name}:")) {
            true => format!("a={name}:{value}\r\n"),
            false => format!("{l}\r\n"),
        })
        .collect()
}

#[test]
fn wrong_ice_credentials_never_connect_and_the_session_closes() {
    // The browser signs its checks with a password that is not ours.
    let mut p = Pair::with_answer(|a| replace_attr(&a, "ice-pwd", "notthepasswordweansweredxx"));
    p.run(3000);
    assert!(!p.client_connected);
    assert!(matches!(p.server.state(), SessionState::Connecting { .. }));
    p.run(18_000);
    match p.server.state() {
        SessionState::Closed { reason } => assert!(reason.contains("did not connect"), "{reason}"),
        s => panic!("still {s:?}"),
    }
}

#[test]
fn a_dtls_fingerprint_mismatch_never_connects_and_the_session_closes() {
    // The browser expects another certificate than the one we present.
    let fake = (0..32).map(|_| "AB").collect::<Vec<_>>().join(":");
    let mut p = Pair::with_answer(|a| replace_attr(&a, "fingerprint", &format!("sha-256 {fake}")));
    p.run(21_000);
    assert!(
        !matches!(p.server.state(), SessionState::Connected { .. }),
        "{:?}",
        p.server.state()
    );
    assert!(p.from_browser.is_empty(), "no media without DTLS");
    assert!(
        matches!(p.server.state(), SessionState::Closed { .. }),
        "{:?}",
        p.server.state()
    );
}
