//! Targets for the stateless parsers: SIP messages, URIs, header values,
//! digest credentials, SDP, RTP and RFC 4733 payloads.

use std::net::SocketAddr;

use md5::Digest as _;
use switchboard_media::dtmf::{DtmfDetector, TelephoneEvent};
use switchboard_media::g711::Codec;
use switchboard_media::quality::{Quality, ReceiveStats, RemoteReport};
use switchboard_media::rtcp::{build_report, ntp_middle, parse_report};
use switchboard_media::rtp::{RtpHeader, RtpPacket};
use switchboard_sip::digest::{
    self as sipdigest, Algorithm, AuthOutcome, Challenged, DigestParams, DigestServer,
};
use switchboard_sip::headers::parse_params;
use switchboard_sip::message::split_list;
use switchboard_sip::sdp::{self as sipsdp, AudioSdp};
use switchboard_sip::{
    builder, parse_message, stream_frame_len, validate_request, CSeq, Dialog, Message, NameAddr,
    Peer, Transport, Uri, Via,
};

/// Realm of the digest target (the harness's).
const REALM: &str = "switchboard";
/// Virtual time of the digest target (2026-12-01 12:00 UTC, ms).
const T0: u64 = 1_796_126_400_000;

fn peer() -> Peer {
    Peer {
        addr: SocketAddr::from(([127, 0, 0, 1], 5062)),
        transport: Transport::Udp,
    }
}

/// Typed views of every header a B2BUA reads, as the switch reads them.
fn read_headers(h: &switchboard_sip::Headers) {
    for v in h.get_all("Via") {
        if let Ok(via) = Via::parse(v) {
            let _ = (via.branch(), via.param("received"), via.has_param("rport"));
        }
    }
    for name in [
        "From",
        "To",
        "Refer-To",
        "Referred-By",
        "P-Asserted-Identity",
    ] {
        if let Some(v) = h.get(name) {
            if let Ok(na) = NameAddr::parse(v) {
                let _ = (na.tag(), na.to_string(), na.uri.host_port());
            }
        }
    }
    for name in ["Contact", "Route", "Record-Route"] {
        for v in h.get_all(name) {
            if let Ok(na) = NameAddr::parse(v) {
                let _ = (na.param("expires"), na.to_string());
            }
        }
    }
    if let Some(c) = h.get("CSeq") {
        let _ = CSeq::parse(c);
    }
    for name in ["Authorization", "Proxy-Authorization", "WWW-Authenticate"] {
        if let Some(v) = h.get(name) {
            let _ = DigestParams::parse(v);
            let _ = DigestServer::username(v);
        }
    }
}

/// Target `sip_message`: a datagram through the parser, the validator, the
/// typed headers, the dialog constructors and the response builder.
///
/// Asserts that a response we build to a request that passed validation
/// parses back (the switch sends such responses to the request's source).
pub fn sip_message(data: &[u8]) {
    let _ = stream_frame_len(data);
    let Ok(msg) = parse_message(data) else {
        return;
    };
    read_headers(msg.headers());
    let _ = parse_message(&msg.to_bytes());
    match &msg {
        Message::Request(req) => {
            let valid = validate_request(req).is_ok();
            let _ = (req.uri.to_string(), req.uri.host_port());
            for (status, tag) in [(100, None), (401, Some("fz1")), (200, Some("fz2"))] {
                let resp = builder::response_to(req, status, "Reason", tag);
                let bytes = resp.to_bytes();
                let back = parse_message(&bytes);
                if valid {
                    assert!(
                        back.is_ok(),
                        "a response to a valid request does not parse: {back:?}\n{}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
                if req.method == "INVITE" && status >= 300 {
                    let _ = builder::ack_for_non_2xx(req, &resp).to_bytes();
                }
            }
            if req.method == "INVITE" {
                let _ = builder::cancel_for(req).to_bytes();
                let mut d = Dialog::uas(req, "fz-local", peer());
                d.refresh_target(req);
                d.check_remote_cseq(req);
                let bye = d.request(
                    "BYE",
                    "127.0.0.1:5060",
                    "<sip:switchboard@127.0.0.1>",
                    "z9hG4bKfz",
                );
                let _ = parse_message(&bye.to_bytes());
                let _ = d.ack(
                    1,
                    "127.0.0.1:5060",
                    "<sip:switchboard@127.0.0.1>",
                    "z9hG4bKfz",
                );
            }
            if !req.body.is_empty() {
                let _ = AudioSdp::parse(&req.body);
            }
        }
        Message::Response(resp) => {
            let local = NameAddr::parse("<sip:switchboard@127.0.0.1>").expect("static");
            let remote = NameAddr::parse("<sip:1001@127.0.0.1>").expect("static");
            let target = Uri::parse("sip:1001@127.0.0.1:5062").expect("static");
            let mut d = Dialog::uac(
                "fz".into(),
                "fz-local".into(),
                local,
                remote,
                target,
                peer(),
            );
            let invite = d.request(
                "INVITE",
                "127.0.0.1:5060",
                "<sip:switchboard@127.0.0.1>",
                "z9hG4bKfz",
            );
            d.confirm(resp);
            d.refresh_target(resp);
            let _ = d.request(
                "BYE",
                "127.0.0.1:5060",
                "<sip:switchboard@127.0.0.1>",
                "z9hG4bKfz2",
            );
            let _ = d.auth_retry(&invite, resp, "1001", "secret", "z9hG4bKfz3");
            if !resp.body.is_empty() {
                let _ = AudioSdp::parse(&resp.body);
            }
        }
    }
}

/// Target `sip_uri`: one URI through the parser and the printer.
pub fn sip_uri(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(u) = Uri::parse(s) else {
        return;
    };
    let _ = (
        u.is_sip(),
        u.host_port(),
        u.param("transport"),
        u.param("lr"),
    );
    let printed = u.to_string();
    // What we print goes into Contact, Request-URI and digest `uri`; it is
    // parsed again by us and by phones.
    let _ = Uri::parse(&printed);
    let _ = NameAddr::parse(&format!("<{printed}>"));
}

/// Target `sip_headers`: the first byte picks the header parser, the rest is
/// the value.
pub fn sip_headers(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let v = String::from_utf8_lossy(rest);
    match which % 6 {
        0 => {
            if let Ok(via) = Via::parse(&v) {
                let _ = (via.branch(), via.param("received"), via.has_param("rport"));
            }
        }
        1 => {
            if let Ok(na) = NameAddr::parse(&v) {
                let printed = na.to_string();
                let _ = NameAddr::parse(&printed);
                let mut na = na;
                na.set_param("tag", Some("fz"));
                let _ = na.to_string();
            }
        }
        2 => {
            let _ = CSeq::parse(&v);
        }
        3 => {
            let _ = parse_params(&v);
        }
        4 => {
            for part in split_list(&v) {
                let _ = NameAddr::parse(part);
                let _ = Via::parse(part);
            }
        }
        _ => {
            let mut h = switchboard_sip::Headers::default();
            h.push("Via", v.as_ref());
            h.push("Contact", v.as_ref());
            h.push("Record-Route", v.as_ref());
            read_headers(&h);
        }
    }
}

fn hash(alg: Algorithm, s: &str) -> String {
    let bytes: Vec<u8> = match alg {
        Algorithm::Md5 => md5::Md5::digest(s.as_bytes()).to_vec(),
        Algorithm::Sha256 => sha2::Sha256::digest(s.as_bytes()).to_vec(),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Target `digest`: `[flags][Authorization header text]`.
///
/// The header text may contain the placeholders `NONCE` (replaced by a nonce
/// the server just minted, when flag bit 0 is set) and `RESPONSE` (replaced
/// by the correct response for the header's own parameters, bit 1), so the
/// fuzzer reaches the checks behind the HMAC and the password. Bits 2-3 pick
/// the algorithms challenged, bits 4-5 how much time passes before the
/// answer, bit 6 the method. The header is also answered as a challenge by
/// the client side (a trunk's challenge is attacker-controlled too).
///
/// Asserts that a header accepted once is refused when replayed.
pub fn digest(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if let Some(p) = DigestParams::parse(text) {
        let _ = (p.get("username"), p.get("nc"), p.get("qop"));
    }
    let _ = DigestServer::username(text);
    let method = if flags & 0x40 != 0 {
        "REGISTER"
    } else {
        "INVITE"
    };
    let _ = sipdigest::answer_challenge(text, method, "sip:5000@127.0.0.1", "1001", "secret");

    let algorithms: &[Algorithm] = match (flags >> 2) & 3 {
        0 => &[Algorithm::Md5],
        1 => &[Algorithm::Sha256],
        2 => &[Algorithm::Sha256, Algorithm::Md5],
        _ => &[],
    };
    let mut server = DigestServer::new(REALM, [7; 32])
        .with_algorithms(algorithms)
        .with_max_tracked_nonces(4);
    let challenges = server.challenges(T0, false);
    let nonce = challenges
        .first()
        .and_then(|c| DigestParams::parse(c))
        .and_then(|p| p.get("nonce").map(str::to_string))
        .unwrap_or_default();
    let mut header = text.to_string();
    if flags & 1 != 0 {
        header = header.replace("NONCE", &nonce);
    }
    let params = DigestParams::parse(&header);
    let uri_param = params
        .as_ref()
        .and_then(|p| p.get("uri"))
        .unwrap_or("sip:5000@127.0.0.1")
        .to_string();
    if flags & 2 != 0 {
        if let Some(p) = &params {
            let alg = DigestServer::algorithm(p.get("algorithm").unwrap_or("MD5"))
                .unwrap_or(Algorithm::Md5);
            let user = p.get("username").unwrap_or("1001");
            let ha1 = sipdigest::ha1(alg, user, REALM, "secret");
            let ha2 = hash(alg, &format!("{method}:{uri_param}"));
            let n = p.get("nonce").unwrap_or_default();
            let resp = match p.get("qop") {
                Some(q) if q.eq_ignore_ascii_case("auth") => hash(
                    alg,
                    &format!(
                        "{ha1}:{n}:{}:{}:{q}:{ha2}",
                        p.get("nc").unwrap_or(""),
                        p.get("cnonce").unwrap_or("")
                    ),
                ),
                _ => hash(alg, &format!("{ha1}:{n}:{ha2}")),
            };
            header = header.replace("RESPONSE", &resp);
        }
    }
    let request_uri = Uri::parse(&uri_param)
        .unwrap_or_else(|_| Uri::parse("sip:5000@127.0.0.1").expect("static"));
    let now = T0
        + match (flags >> 4) & 3 {
            0 => 0,
            1 => 1_000,
            2 => sipdigest::NONCE_TTL_MS + 1,
            _ => 3_600_000,
        };
    let known = |user: &str, alg: Algorithm| {
        ["1001", "1002"]
            .contains(&user)
            .then(|| sipdigest::ha1(alg, user, REALM, "secret"))
    };
    let req = Challenged {
        method,
        uri: &request_uri,
    };
    let first = server.verify(&header, req, now, known);
    if first == AuthOutcome::Ok {
        let again = server.verify(&header, req, now, known);
        assert_ne!(
            again,
            AuthOutcome::Ok,
            "a replayed Authorization header was accepted: {header:?}"
        );
    }
    server.expire(now + 10 * sipdigest::NONCE_TTL_MS);
    let _ = server.tracked_nonces();
}

/// Target `sdp`: a body through the SDP parser.
///
/// Asserts that the SDP we build from what we parsed (as an answer does)
/// parses back with the same address and port.
pub fn sdp(data: &[u8]) {
    let Ok(a) = AudioSdp::parse(data) else {
        return;
    };
    let _ = (
        a.socket_addr(),
        a.g711(),
        a.direction.answer(),
        a.direction.receives(),
    );
    let built = sipsdp::build(
        a.addr,
        a.port,
        1,
        2,
        &a.payloads,
        a.dtmf_pt,
        a.direction.answer(),
    );
    let back = AudioSdp::parse(&built);
    match back {
        Ok(b) => assert_eq!(
            (b.addr, b.port),
            (a.addr, a.port),
            "{}",
            String::from_utf8_lossy(&built)
        ),
        Err(e) => panic!(
            "our own SDP does not parse ({e}):\n{}",
            String::from_utf8_lossy(&built)
        ),
    }
}

/// Target `rtp`: a datagram through the RTP parser, the G.711 decoder and
/// the telephone-event parser.
///
/// Asserts the writer/parser round trip of what was parsed.
pub fn rtp(data: &[u8]) {
    let Ok(p) = RtpPacket::parse(data) else {
        return;
    };
    let _ = p.is_rtcp();
    if let Some(codec) = Codec::from_payload_type(p.payload_type) {
        let mut pcm = vec![0i16; p.payload.len()];
        let n = codec.decode(p.payload, &mut pcm);
        assert!(n <= pcm.len());
    }
    let _ = TelephoneEvent::parse(p.payload);
    let h = RtpHeader {
        payload_type: p.payload_type,
        marker: p.marker,
        sequence: p.sequence,
        timestamp: p.timestamp,
        ssrc: p.ssrc,
    };
    let mut buf = vec![0u8; p.payload.len() + 12];
    let n = h.write_packet(&mut buf, p.payload).expect("buffer sized");
    let q = RtpPacket::parse(&buf[..n]).expect("what we write parses");
    assert_eq!(p, q, "RTP round trip");
}

/// Target `dtmf`: a stream of `[timestamp delta: u16][len: u8][payload]`
/// telephone-event packets through the parser and the detector.
///
/// Asserts the event write/parse round trip and that the detector reports
/// only DTMF characters, only on end packets, and never twice in a row for
/// one event timestamp.
pub fn dtmf(data: &[u8]) {
    let mut det = DtmfDetector::new();
    let mut ts: u32 = 0;
    let mut last: Option<u32> = None;
    let mut rest = data;
    while rest.len() >= 3 {
        ts = ts.wrapping_add(u32::from(u16::from_be_bytes([rest[0], rest[1]])));
        let len = usize::from(rest[2] % 8).min(rest.len() - 3);
        let payload = &rest[3..3 + len];
        rest = &rest[3 + len..];
        if let Ok(ev) = TelephoneEvent::parse(payload) {
            let mut out = [0u8; 4];
            ev.write(&mut out);
            assert_eq!(TelephoneEvent::parse(&out), Ok(ev), "event round trip");
        }
        if let Some(d) = det.on_packet(ts, payload) {
            assert!("0123456789*#ABCD".contains(d), "digit {d:?}");
            let ev = TelephoneEvent::parse(payload).expect("a digit comes from a valid event");
            assert!(ev.end, "digit reported before the end packet");
            assert_ne!(last, Some(ts), "digit reported twice for one event");
            last = Some(ts);
        }
    }
}

/// Target `rtcp`: `[our SSRC: u32][k: u8][k x (seq: u16, ts: u32, arrival:
/// u32)][compound RTCP packet]`. The `k` RTP packets feed the receive
/// statistics (RFC 3550 A.1, A.8) and their report blocks; the compound
/// packet goes through `rtcp::parse_report` as if a phone sent it, and what
/// it reports goes into the call's quality figures.
///
/// Asserts that a report we build with the block we read parses back with
/// that block, and that the quality figures are finite numbers.
pub fn rtcp(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let ours = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let k = usize::from(data[4] % 32);
    let mut rest = &data[5..];
    let mut rx = ReceiveStats::default();
    let mut now_ms = 0u64;
    for i in 0..k {
        if rest.len() < 10 {
            break;
        }
        let seq = u16::from_be_bytes([rest[0], rest[1]]);
        let ts = u32::from_be_bytes([rest[2], rest[3], rest[4], rest[5]]);
        let arrival = u32::from_be_bytes([rest[6], rest[7], rest[8], rest[9]]);
        rest = &rest[10..];
        rx.on_packet(0x5150, seq, ts, arrival);
        now_ms += 20;
        if i % 5 == 4 {
            let _ = rx.report_block(now_ms);
        }
    }
    let _ = (
        rx.ssrc(),
        rx.extended_max(),
        rx.received(),
        rx.expected(),
        rx.lost(),
        rx.jitter_ms(),
    );
    let Some(r) = parse_report(rest, ours) else {
        return;
    };
    let mut now_middle = 0;
    if let Some((_, ntp)) = r.sender_report {
        rx.on_sender_report(ntp, now_ms);
        now_middle = ntp_middle(ntp).wrapping_add(65_536);
        let _ = rx.report_block(now_ms + 1000);
    }
    let remote = r.about_us.map(|b| RemoteReport::from_block(&b, now_middle));
    let q = Quality::of(&rx, remote);
    assert!(
        q.mos.is_finite() && q.r_factor.is_finite() && q.loss_percent.is_finite(),
        "quality figures are not numbers: {q:?}"
    );
    if let Some(b) = r.about_us {
        let mut buf = [0u8; 1500];
        if let Some(n) = build_report(ours ^ 1, None, Some(b), "fuzz@switchboard", &mut buf) {
            let back = parse_report(&buf[..n], b.ssrc);
            assert!(
                back.is_some_and(|x| x.about_us.is_some_and(|y| y.ssrc == b.ssrc)),
                "our own report does not parse back: {back:?}"
            );
        }
    }
}
