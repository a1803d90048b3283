//! INVITE-to-200 latency with sub-millisecond resolution (sipp's
//! `-trace_rtt` has 4 ms, and sipp as the trunk adds ~3 ms of its own): a
//! small UAC and a small trunk written with our SIP crate time, on loopback
//! sockets, the authenticated INVITE leaving the caller and its 200 OK
//! arriving, through the server under test. The trunk answers 100, 180 and
//! 200 at once, so the figure is the server's own delay in both directions.
//! Calls are paced at a fixed rate and hung up right away.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use switchboard_sip::builder::{new_branch, new_call_id, new_tag};
use switchboard_sip::sdp::{self, Direction};
use switchboard_sip::{parse_message, Headers, Message, NameAddr, Request, Response, Uri};

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Calls measured.
    pub calls: usize,
}

/// Agent 1001 placing calls to 5551234 through the server under test.
pub struct Uac {
    sock: UdpSocket,
    local: SocketAddr,
    server: SocketAddr,
}

/// An answered call, to hang up later.
pub struct Established {
    call: CallIds,
    target: Uri,
    to_tag: Option<String>,
    /// The server's SDP answer: where the caller's RTP goes.
    pub answer: Vec<u8>,
}

impl Uac {
    /// A caller on a free loopback port towards `server`.
    pub fn new(server: SocketAddr) -> anyhow::Result<Uac> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(Uac {
            local: sock.local_addr()?,
            sock,
            server,
        })
    }

    /// Place one call offering RTP on `rtp_port`, answer the digest
    /// challenge, ACK the 200: the call and the time from the
    /// authenticated INVITE to its 200 OK.
    pub fn establish(&self, rtp_port: u16) -> anyhow::Result<(Established, Duration)> {
        let server = self.server;
        let uac = self;
        let uri = Uri::parse(&format!("sip:5551234@{server}")).context("request URI")?;
        let mut call = CallIds {
            id: new_call_id(),
            tag: new_tag(),
            routes: Vec::new(),
        };
        let offer = sdp::build(
            uac.local.ip(),
            rtp_port,
            1,
            1,
            &[0],
            Some(101),
            Direction::SendRecv,
        );
        let mut inv = uac.request("INVITE", &uri, &call, 1, None);
        inv.headers.push("Content-Type", "application/sdp");
        inv.body = offer.clone();
        uac.send(&inv)?;
        let chal = uac.response(&call.id, 1)?;
        let to_tag = chal
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.tag().map(str::to_string));
        let mut ack = uac.request("ACK", &uri, &call, 1, to_tag.as_deref());
        ack.headers
            .set("Via", inv.header("Via").unwrap_or_default().to_string());
        uac.send(&ack)?;
        let challenge = chal
            .header("Proxy-Authenticate")
            .context("407 with Proxy-Authenticate")?;
        let auth = switchboard_sip::digest::answer_challenge(
            challenge,
            "INVITE",
            &uri.to_string(),
            "1001",
            "secret1001",
        )
        .context("answering the challenge")?;
        let mut inv = uac.request("INVITE", &uri, &call, 2, None);
        inv.headers.push("Proxy-Authorization", auth);
        inv.headers.push("Content-Type", "application/sdp");
        inv.body = offer;
        let t0 = Instant::now();
        uac.send(&inv)?;
        let ok = uac.response(&call.id, 2)?;
        let took = t0.elapsed();
        if ok.status != 200 {
            bail!("{} {}", ok.status, ok.reason);
        }
        let to_tag = ok
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.tag().map(str::to_string));
        let mut rr: Vec<String> = ok
            .headers_all("Record-Route")
            .into_iter()
            .map(str::to_string)
            .collect();
        rr.reverse();
        call.routes = rr;
        let target = ok
            .header("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
            .map(|n| n.uri)
            .unwrap_or_else(|| uri.clone());
        uac.send(&uac.request("ACK", &target, &call, 2, to_tag.as_deref()))?;
        let established = Established {
            call,
            target,
            to_tag,
            answer: ok.body.clone(),
        };
        Ok((established, took))
    }

    /// Hang up an established call and wait for the 200.
    pub fn hang_up(&self, c: &Established) -> anyhow::Result<()> {
        self.send(&self.request("BYE", &c.target, &c.call, 3, c.to_tag.as_deref()))?;
        self.response(&c.call.id, 3)?;
        Ok(())
    }

    fn request(
        &self,
        method: &str,
        uri: &Uri,
        call: &CallIds,
        cseq: u32,
        to_tag: Option<&str>,
    ) -> Request {
        let mut h = Headers::default();
        h.push(
            "Via",
            format!("SIP/2.0/UDP {};branch={};rport", self.local, new_branch()),
        );
        for r in &call.routes {
            h.push("Route", r.clone());
        }
        h.push("Max-Forwards", "70");
        h.push(
            "From",
            format!("<sip:1001@{}>;tag={}", self.local, call.tag),
        );
        let to = match to_tag {
            Some(t) => format!("<sip:5551234@{}>;tag={t}", self.server),
            None => format!("<sip:5551234@{}>", self.server),
        };
        h.push("To", to);
        h.push("Call-ID", call.id.clone());
        h.push("CSeq", format!("{cseq} {method}"));
        h.push("Contact", format!("<sip:1001@{}>", self.local));
        Request {
            method: method.into(),
            uri: uri.clone(),
            version: "SIP/2.0".into(),
            headers: h,
            body: Vec::new(),
        }
    }

    fn send(&self, r: &Request) -> anyhow::Result<()> {
        self.sock.send_to(&r.to_bytes(), self.server)?;
        Ok(())
    }

    /// The next final response (>= 200, or any status in `want`) for this call and CSeq.
    fn response(&self, call: &str, cseq: u32) -> anyhow::Result<Response> {
        let mut buf = [0u8; 65536];
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let Ok((n, _)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            if let Ok(Message::Response(r)) = parse_message(&buf[..n]) {
                let seq = r
                    .header("CSeq")
                    .and_then(|c| switchboard_sip::CSeq::parse(c).ok())
                    .map(|c| c.seq);
                if r.header("Call-ID") == Some(call) && seq == Some(cseq) && r.status >= 200 {
                    return Ok(r);
                }
            }
        }
        bail!("no response for call {call} CSeq {cseq}")
    }
}

struct CallIds {
    id: String,
    tag: String,
    routes: Vec<String>,
}

/// A trunk that answers every INVITE at once (100, 180, 200 with SDP,
/// Record-Route mirrored) and every BYE with 200, until the socket errors.
pub struct Trunk {
    /// Its address (configure the server to send calls to numbers here).
    pub addr: SocketAddr,
    /// Where the server offered to receive RTP, one per INVITE, in order.
    pub offers: std::sync::Arc<std::sync::Mutex<Vec<SocketAddr>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Trunk {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Start the instant trunk on a free loopback port.
pub fn trunk() -> anyhow::Result<Trunk> {
    trunk_answering(41000)
}

/// The instant trunk, answering with RTP on `rtp_port` and noting where
/// the server wants the trunk's RTP.
pub fn trunk_answering(rtp_port: u16) -> anyhow::Result<Trunk> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.set_read_timeout(Some(Duration::from_millis(100)))?;
    let addr = sock.local_addr()?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let offers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let noted = offers.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let Ok(Message::Request(req)) = parse_message(&buf[..n]) else {
                continue;
            };
            let tag = "trunk";
            let reply = |status: u16, reason: &str, sdp: bool| {
                let mut r = switchboard_sip::builder::response_to(
                    &req,
                    status,
                    reason,
                    (status > 100).then_some(tag),
                );
                for rr in req.headers_all("Record-Route") {
                    r.headers.push("Record-Route", rr.to_string());
                }
                r.headers.push("Contact", format!("<sip:trunk@{addr}>"));
                if sdp {
                    r.headers.push("Content-Type", "application/sdp");
                    r.body = sdp::build(addr.ip(), rtp_port, 1, 1, &[0], None, Direction::SendRecv);
                }
                let _ = sock.send_to(&r.to_bytes(), from);
            };
            match req.method.as_str() {
                "INVITE" => {
                    if let Ok(offer) = sdp::AudioSdp::parse(&req.body) {
                        if let Ok(mut o) = noted.lock() {
                            o.push(offer.socket_addr());
                        }
                    }
                    reply(100, "Trying", false);
                    reply(180, "Ringing", false);
                    reply(200, "OK", true);
                }
                "BYE" | "CANCEL" | "OPTIONS" => reply(200, "OK", false),
                _ => {}
            }
        }
    });
    Ok(Trunk { addr, offers, stop })
}

/// Run `calls` calls at `rate` calls/s against `server` and time INVITE -> 200.
pub fn measure(server: SocketAddr, rate: u32, calls: usize) -> anyhow::Result<Latency> {
    let uac = Uac::new(server)?;
    let mut samples = Vec::with_capacity(calls);
    let start = Instant::now();
    let gap = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    for i in 0..calls {
        let due = start + gap * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let (call, took) = uac.establish(40000).with_context(|| format!("call {i}"))?;
        samples.push(took.as_secs_f64() * 1000.0);
        uac.hang_up(&call)?;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    Ok(Latency {
        p50: pct(0.50),
        p99: pct(0.99),
        calls: samples.len(),
    })
}
