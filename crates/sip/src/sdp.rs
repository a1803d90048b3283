//! The slice of SDP (RFC 4566, offer/answer RFC 3264) a G.711 B2BUA needs:
//! the audio address and port, payload types (PCMU 0, PCMA 8,
//! telephone-event), the direction attribute used for hold, and the SDES
//! `a=crypto` keys of an `RTP/SAVP` stream (see [`crate::sdes`]).

use std::net::{IpAddr, SocketAddr};

use crate::sdes::CryptoAttribute;
use crate::ParseError;

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    SendRecv,
    /// Sender only (the peer is putting us on hold).
    SendOnly,
    /// Receiver only.
    RecvOnly,
    /// No media.
    Inactive,
}

impl Direction {
    /// SDP attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
    /// The direction an answerer uses for this offer (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }
    /// Does the side that wrote this SDP want to receive media?
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// The audio stream of a session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSdp {
    /// Connection address (may be 0.0.0.0 for old-style hold).
    pub addr: IpAddr,
    /// RTP port (0 = stream rejected).
    pub port: u16,
    /// Payload types in preference order.
    pub payloads: Vec<u8>,
    /// telephone-event payload type, if offered.
    pub dtmf_pt: Option<u8>,
    /// Direction (media-level, else session-level, else sendrecv).
    pub direction: Direction,
    /// Every m= line of the description, in order (audio included), so an
    /// answer can keep the offer's layout (RFC 3264 §6).
    pub media: Vec<MediaLine>,
    /// Index of the audio stream in `media`.
    pub audio_index: usize,
    /// The audio stream's `a=crypto` lines we could use (suite we
    /// implement, valid key), in the order written. Unusable lines are left out.
    pub crypto: Vec<CryptoAttribute>,
}

/// One m= line: media kind, transport protocol and formats, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLine {
    /// `audio`, `video`, `application`...
    pub kind: String,
    /// `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`...
    pub proto: String,
    /// The format list (payload types), as written.
    pub formats: String,
}

impl AudioSdp {
    /// Parse the first audio stream of an SDP body.
    pub fn parse(body: &[u8]) -> Result<AudioSdp, ParseError> {
        let text = std::str::from_utf8(body).map_err(|_| ParseError::new("SDP is not UTF-8"))?;
        let mut session_addr: Option<IpAddr> = None;
        let mut media_addr: Option<IpAddr> = None;
        let mut session_dir = None;
        let mut media_dir = None;
        let mut in_audio = false;
        let mut seen_audio = false;
        let mut port = 0u16;
        let mut payloads = Vec::new();
        let mut dtmf_pt = None;
        let mut rtpmap: Vec<(u8, String)> = Vec::new();
        let mut media = Vec::new();
        let mut audio_index = 0;
        let mut crypto = Vec::new();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            match k {
                "m" => {
                    in_audio = false;
                    let mut fields = v.split_whitespace();
                    let kind = fields.next().unwrap_or_default().to_string();
                    let _port = fields.next();
                    let proto = fields.next().unwrap_or("RTP/AVP").to_string();
                    let formats = fields.collect::<Vec<_>>().join(" ");
                    media.push(MediaLine {
                        kind,
                        proto,
                        formats: if formats.is_empty() {
                            "0".into()
                        } else {
                            formats
                        },
                    });
                    if seen_audio {
                        continue;
                    }
                    let mut it = v.split_whitespace();
                    if it.next() == Some("audio") {
                        audio_index = media.len() - 1;
                        in_audio = true;
                        seen_audio = true;
                        port = it
                            .next()
                            .and_then(|p| p.split('/').next())
                            .and_then(|p| p.parse().ok())
                            .ok_or_else(|| ParseError::new("bad m= port"))?;
                        let _proto = it.next();
                        payloads = it.filter_map(|p| p.parse().ok()).collect();
                    }
                }
                "c" => {
                    let addr = v
                        .split_whitespace()
                        .nth(2)
                        .and_then(|a| a.split('/').next())
                        .and_then(|a| a.parse().ok())
                        .ok_or_else(|| ParseError::new(format!("bad c= line {v:?}")))?;
                    if in_audio {
                        media_addr = Some(addr);
                    } else if !seen_audio {
                        session_addr = Some(addr);
                    }
                }
                "a" => {
                    let dir = match v {
                        "sendrecv" => Some(Direction::SendRecv),
                        "sendonly" => Some(Direction::SendOnly),
                        "recvonly" => Some(Direction::RecvOnly),
                        "inactive" => Some(Direction::Inactive),
                        _ => None,
                    };
                    if let Some(d) = dir {
                        if in_audio {
                            media_dir = Some(d);
                        } else if !seen_audio {
                            session_dir = Some(d);
                        }
                    } else if in_audio {
                        if let Some(c) = v.strip_prefix("crypto:") {
                            if let Ok(c) = CryptoAttribute::parse(c) {
                                crypto.push(c);
                            }
                        } else if let Some(m) = v.strip_prefix("rtpmap:") {
                            let mut it = m.split_whitespace();
                            if let (Some(pt), Some(enc)) = (it.next(), it.next()) {
                                if let Ok(pt) = pt.parse::<u8>() {
                                    rtpmap.push((pt, enc.to_ascii_lowercase()));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if !seen_audio {
            return Err(ParseError::new("no audio stream in SDP"));
        }
        for (pt, enc) in &rtpmap {
            if enc.starts_with("telephone-event/") {
                dtmf_pt = Some(*pt);
            }
        }
        let addr = media_addr
            .or(session_addr)
            .ok_or_else(|| ParseError::new("SDP without connection address"))?;
        let mut direction = media_dir.or(session_dir).unwrap_or(Direction::SendRecv);
        if addr.is_unspecified() && direction == Direction::SendRecv {
            direction = Direction::SendOnly; // RFC 2543 style hold
        }
        Ok(AudioSdp {
            addr,
            port,
            payloads,
            dtmf_pt,
            direction,
            media,
            audio_index,
            crypto,
        })
    }

    /// The audio stream's transport protocol (`RTP/AVP`, `RTP/SAVP`...).
    pub fn audio_proto(&self) -> &str {
        self.media
            .get(self.audio_index)
            .map_or("RTP/AVP", |m| m.proto.as_str())
    }

    /// Whether the audio stream is secure RTP (`RTP/SAVP`, `RTP/SAVPF`,
    /// `UDP/TLS/RTP/SAVP`...): plain RTP must not be answered to it.
    pub fn audio_secure(&self) -> bool {
        self.audio_proto().to_ascii_uppercase().contains("SAVP")
    }

    /// Where to send RTP.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }

    /// First G.711 payload type offered (0 = PCMU, 8 = PCMA).
    pub fn g711(&self) -> Option<u8> {
        self.payloads.iter().copied().find(|p| *p == 0 || *p == 8)
    }
}

/// Build an SDP body for our side: one plain RTP audio stream on `addr:port`.
pub fn build(
    addr: IpAddr,
    port: u16,
    session_id: u64,
    version: u64,
    payloads: &[u8],
    dtmf_pt: Option<u8>,
    dir: Direction,
) -> Vec<u8> {
    build_in_layout(
        &[],
        0,
        addr,
        port,
        session_id,
        version,
        payloads,
        dtmf_pt,
        dir,
        Keying::default(),
    )
}

/// How our audio stream is protected: its m= protocol and our `a=crypto`
/// lines. The default is plain `RTP/AVP` without keys.
#[derive(Debug, Clone, Copy)]
pub struct Keying<'a> {
    /// `RTP/AVP` or `RTP/SAVP` (or the offer's `RTP/SAVPF`).
    pub proto: &'a str,
    /// Our keys, one line each.
    pub crypto: &'a [CryptoAttribute],
}

impl Default for Keying<'_> {
    fn default() -> Self {
        Keying {
            proto: "RTP/AVP",
            crypto: &[],
        }
    }
}

/// Build our SDP keeping the peer's m= line layout (`layout`, audio at
/// `audio_index`): every stream but audio is refused with port 0, in its
/// place, as an answer must (RFC 3264 §6) and later offers keep
/// (RFC 3264 §8). An empty layout gives a single audio stream.
#[allow(clippy::too_many_arguments)]
pub fn build_in_layout(
    layout: &[MediaLine],
    audio_index: usize,
    addr: IpAddr,
    port: u16,
    session_id: u64,
    version: u64,
    payloads: &[u8],
    dtmf_pt: Option<u8>,
    dir: Direction,
    keying: Keying<'_>,
) -> Vec<u8> {
    let ipv = if addr.is_ipv6() { "IP6" } else { "IP4" };
    let mut s = format!(
        "v=0\r\no=switchboard {session_id} {version} IN {ipv} {addr}\r\ns=switchboard\r\nc=IN {ipv} {addr}\r\nt=0 0\r\n"
    );
    let audio = audio_stream(port, payloads, dtmf_pt, dir, keying);
    if layout.is_empty() {
        s.push_str(&audio);
    }
    for (i, m) in layout.iter().enumerate() {
        if i == audio_index {
            s.push_str(&audio);
        } else {
            s.push_str(&format!("m={} 0 {} {}\r\n", m.kind, m.proto, m.formats));
        }
    }
    s.into_bytes()
}

fn audio_stream(
    port: u16,
    payloads: &[u8],
    dtmf_pt: Option<u8>,
    dir: Direction,
    keying: Keying<'_>,
) -> String {
    let mut pts: Vec<String> = payloads.iter().map(|p| p.to_string()).collect();
    if let Some(d) = dtmf_pt {
        pts.push(d.to_string());
    }
    let mut s = format!("m=audio {port} {} {}\r\n", keying.proto, pts.join(" "));
    for p in payloads {
        match p {
            0 => s.push_str("a=rtpmap:0 PCMU/8000\r\n"),
            8 => s.push_str("a=rtpmap:8 PCMA/8000\r\n"),
            _ => {}
        }
    }
    if let Some(d) = dtmf_pt {
        s.push_str(&format!(
            "a=rtpmap:{d} telephone-event/8000\r\na=fmtp:{d} 0-16\r\n"
        ));
    }
    s.push_str("a=ptime:20\r\n");
    s.push_str(&format!("a={}\r\n", dir.as_str()));
    for c in keying.crypto {
        s.push_str(&format!("a=crypto:{}\r\n", c.value()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offer_and_builds_answer() {
        let offer = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n";
        let a = AudioSdp::parse(offer).unwrap();
        assert_eq!(a.socket_addr().to_string(), "10.0.0.1:4000");
        assert_eq!(a.g711(), Some(8));
        assert_eq!(a.dtmf_pt, Some(101));
        assert_eq!(a.direction, Direction::SendOnly);
        let ans = build(
            "127.0.0.1".parse().unwrap(),
            5000,
            1,
            1,
            &[8],
            a.dtmf_pt,
            a.direction.answer(),
        );
        let back = AudioSdp::parse(&ans).unwrap();
        assert_eq!(back.direction, Direction::RecvOnly);
        assert_eq!(back.port, 5000);
        assert!(AudioSdp::parse(b"v=0\r\n").is_err());
    }

    #[test]
    fn zero_address_means_hold() {
        let a = AudioSdp::parse(b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n").unwrap();
        assert_eq!(a.direction, Direction::SendOnly);
    }

    #[test]
    fn an_answer_keeps_the_offer_layout_and_refuses_video() {
        let offer = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=video 5002 RTP/AVP 96 97\r\na=rtpmap:96 H264/90000\r\n\
m=audio 5000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\n\
m=application 5004 UDP/BFCP *\r\n";
        let o = AudioSdp::parse(offer).unwrap();
        assert_eq!((o.port, o.audio_index, o.media.len()), (5000, 1, 3));
        assert_eq!(o.dtmf_pt, None);
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let ans = build_in_layout(
            &o.media,
            o.audio_index,
            ip,
            40000,
            9,
            2,
            &[8],
            o.dtmf_pt,
            Direction::SendRecv,
            Keying::default(),
        );
        let text = String::from_utf8(ans.clone()).unwrap();
        let m: Vec<&str> = text.lines().filter(|l| l.starts_with("m=")).collect();
        assert_eq!(
            m,
            [
                "m=video 0 RTP/AVP 96 97",
                "m=audio 40000 RTP/AVP 8",
                "m=application 0 UDP/BFCP *"
            ]
        );
        assert!(
            !text.contains("telephone-event"),
            "not offered, not answered"
        );
        let back = AudioSdp::parse(&ans).unwrap();
        assert_eq!(
            (back.port, back.payloads.clone(), back.audio_index),
            (40000, vec![8], 1)
        );
        // A plain audio offer gets a plain audio answer.
        let plain = build_in_layout(
            &[],
            0,
            ip,
            40000,
            9,
            2,
            &[0],
            Some(101),
            Direction::SendOnly,
            Keying::default(),
        );
        assert_eq!(AudioSdp::parse(&plain).unwrap().media.len(), 1);
        assert!(String::from_utf8(plain)
            .unwrap()
            .contains("telephone-event/8000"));
    }

    #[test]
    fn savp_offer_keys_are_parsed_and_answered() {
        let offer = b"v=0\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n\
a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzWVNfX19zZW1jdGwgKCkgewkyMjA7fQ==\r\n\
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\r\n\
a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:bad\r\n";
        let o = AudioSdp::parse(offer).unwrap();
        assert!(o.audio_secure());
        assert_eq!(o.audio_proto(), "RTP/SAVP");
        assert_eq!(o.crypto.iter().map(|c| c.tag).collect::<Vec<_>>(), [2]);
        let ans = build_in_layout(
            &o.media,
            o.audio_index,
            "192.0.2.9".parse().unwrap(),
            5000,
            1,
            1,
            &[0],
            None,
            Direction::SendRecv,
            Keying {
                proto: o.audio_proto(),
                crypto: &o.crypto,
            },
        );
        let text = String::from_utf8(ans.clone()).unwrap();
        assert!(text.contains("m=audio 5000 RTP/SAVP 0\r\n"), "{text}");
        assert!(text.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"));
        let back = AudioSdp::parse(&ans).unwrap();
        // Our line carries tag, suite and key (no lifetime, no MKI).
        let (b, o1) = (&back.crypto[0], &o.crypto[0]);
        assert_eq!(
            (b.tag, b.suite, &b.key, b.lifetime),
            (o1.tag, o1.suite, &o1.key, None)
        );
        let plain =
            AudioSdp::parse(b"v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n").unwrap();
        assert!(!plain.audio_secure() && plain.crypto.is_empty());
    }
}
