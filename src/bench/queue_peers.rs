//! The peers of `switchboard bench queue`, written with our SIP crate so
//! that each timing is taken where it happens: a pool of auto-answering
//! agents (one UDP socket, one registration per agent, calls hung up by the
//! agent after the talk time) and a pool of customers arriving through a
//! trunk (one UDP socket, a new call placed each time one ends, so the
//! number of callers in the system stays constant).

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use switchboard_sip::builder::{new_branch, new_call_id, new_tag, response_to};
use switchboard_sip::dialog::Dialog;
use switchboard_sip::sdp::{self, Direction};
use switchboard_sip::{parse_message, CSeq, Message, NameAddr, Peer, Request, Transport, Uri};

/// Where both pools send their RTP port in SDP: a socket nobody reads, so
/// the server's music and media go somewhere real and cost what they cost.
fn sink_port(sink: &UdpSocket) -> u16 {
    sink.local_addr().map(|a| a.port()).unwrap_or(9)
}

fn udp_peer(addr: SocketAddr) -> Peer {
    Peer {
        addr,
        transport: Transport::Udp,
    }
}

/// Customers arrive at most this often (200 a second).
const PLACE_GAP: Duration = Duration::from_millis(5);

/// Counters and samples the pools share with the bench.
#[derive(Default)]
pub struct Shared {
    /// Agents on a call now.
    pub busy: AtomicUsize,
    /// Calls the agents answered so far.
    pub answered: AtomicUsize,
    /// Customer calls that ended so far.
    pub ended: AtomicUsize,
    /// Customer calls in the system (placed, not ended).
    pub in_system: AtomicUsize,
    /// How many customer calls to keep in the system.
    pub target: AtomicUsize,
    /// Offer latencies (ms): an agent's BYE leaving to the next INVITE
    /// reaching that agent, counted only while callers were waiting.
    pub offer_ms: Mutex<Vec<f64>>,
    /// Whether offer latencies are being collected.
    pub sampling: AtomicBool,
    /// Offers an agent refused because it was still on a call (a bench fault if not 0).
    pub busy_refusals: AtomicUsize,
    /// Agents' calls the server hung up (the bench's agents hang up themselves).
    pub hung_up_by_server: AtomicUsize,
    /// Customer calls refused (503 under overload, say).
    pub refused: AtomicUsize,
    /// Stop both pools.
    pub stop: AtomicBool,
}

/// One agent of the pool.
struct Agent {
    /// The call the agent is on, with when it hangs up.
    call: Option<(Dialog, Instant)>,
    /// When the agent last hung up (its BYE left), if it has not been offered a call since.
    freed: Option<Instant>,
}

/// Register `users` (password `s<user>`) from one socket and answer their
/// calls until `shared.stop`; each call is hung up by the agent after `talk`.
pub fn agents(
    server: SocketAddr,
    users: Vec<String>,
    talk: Duration,
    shared: Arc<Shared>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.set_read_timeout(Some(Duration::from_millis(2)))?;
    let local = sock.local_addr()?;
    let sink = UdpSocket::bind("127.0.0.1:0")?;
    for u in &users {
        register(&sock, server, local, u).with_context(|| format!("registering agent {u}"))?;
    }
    let mut pool: HashMap<String, Agent> = users
        .into_iter()
        .map(|user| {
            let a = Agent {
                call: None,
                freed: None,
            };
            (user, a)
        })
        .collect();
    Ok(std::thread::spawn(move || {
        let _sink = &sink;
        let sdp_port = sink_port(&sink);
        let mut buf = vec![0u8; 65_536];
        let mut next_check = Instant::now();
        while !shared.stop.load(Ordering::Relaxed) {
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                if let Ok(Message::Request(req)) = parse_message(&buf[..n]) {
                    let me = Me {
                        sock: &sock,
                        local,
                        sdp_port,
                        talk,
                    };
                    agent_request(&me, &mut pool, &shared, req, from);
                }
            }
            let now = Instant::now();
            if now < next_check {
                continue;
            }
            next_check = now + Duration::from_millis(1);
            for a in pool.values_mut() {
                if a.call.as_ref().is_some_and(|(_, due)| *due <= now) {
                    let (mut d, _) = a.call.take().expect("checked");
                    let bye = d.request("BYE", &local.to_string(), "", &new_branch());
                    let _ = sock.send_to(&bye.to_bytes(), d.peer.addr);
                    a.freed = Some(Instant::now());
                    shared.busy.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }))
}

/// The agent pool's socket and settings.
struct Me<'a> {
    sock: &'a UdpSocket,
    local: SocketAddr,
    sdp_port: u16,
    talk: Duration,
}

fn agent_request(
    me: &Me<'_>,
    pool: &mut HashMap<String, Agent>,
    shared: &Shared,
    req: Request,
    from: SocketAddr,
) {
    let (sock, local, sdp_port) = (me.sock, me.local, me.sdp_port);
    let reply = |status: u16, reason: &str, tag: Option<&str>, body: Option<Vec<u8>>| {
        let mut r = response_to(&req, status, reason, tag);
        if let Some(b) = body {
            r.headers.push(
                "Contact",
                format!(
                    "<sip:{}@{local}>",
                    req.uri.user.as_deref().unwrap_or("agent")
                ),
            );
            r.headers.push("Content-Type", "application/sdp");
            r.body = b;
        }
        let _ = sock.send_to(&r.to_bytes(), from);
    };
    match req.method.as_str() {
        "INVITE" => {
            let user = req.uri.user.clone().unwrap_or_default();
            let Some(a) = pool.get_mut(&user) else {
                reply(404, "Not Found", None, None);
                return;
            };
            let call_id = req.header("Call-ID").unwrap_or_default();
            if a.call.as_ref().is_some_and(|(d, _)| d.call_id == call_id) {
                return; // a retransmission: our 200 is retransmitted by nobody, loopback does not lose it
            }
            if a.call.is_some() {
                shared.busy_refusals.fetch_add(1, Ordering::Relaxed);
                reply(486, "Busy Here", Some(&new_tag()), None);
                return;
            }
            if let Some(freed) = a.freed.take() {
                if shared.sampling.load(Ordering::Relaxed) {
                    let ms = freed.elapsed().as_secs_f64() * 1000.0;
                    if let Ok(mut v) = shared.offer_ms.lock() {
                        v.push(ms);
                    }
                }
            }
            let tag = new_tag();
            let answer = sdp::build(local.ip(), sdp_port, 1, 1, &[0], None, Direction::SendRecv);
            reply(100, "Trying", None, None);
            reply(200, "OK", Some(&tag), Some(answer));
            let d = Dialog::uas(&req, &tag, udp_peer(from));
            // 50 % to 150 % of the talk time, spread by the call's own id.
            let spread = call_id
                .bytes()
                .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            let talk = me.talk.mul_f64(0.5 + f64::from(spread % 1000) / 1000.0);
            a.call = Some((d, Instant::now() + talk));
            shared.busy.fetch_add(1, Ordering::Relaxed);
            shared.answered.fetch_add(1, Ordering::Relaxed);
        }
        "BYE" => {
            reply(200, "OK", None, None);
            let call_id = req.header("Call-ID").unwrap_or_default();
            if let Some(a) = pool
                .values_mut()
                .find(|a| a.call.as_ref().is_some_and(|(d, _)| d.call_id == call_id))
            {
                a.call = None;
                a.freed = Some(Instant::now());
                shared.busy.fetch_sub(1, Ordering::Relaxed);
                shared.hung_up_by_server.fetch_add(1, Ordering::Relaxed);
            }
        }
        "CANCEL" => reply(200, "OK", None, None),
        "ACK" => {}
        _ => reply(200, "OK", None, None),
    }
}

/// REGISTER `user` for an hour, answering the 401 challenge.
fn register(
    sock: &UdpSocket,
    server: SocketAddr,
    local: SocketAddr,
    user: &str,
) -> anyhow::Result<()> {
    let uri = Uri::parse(&format!("sip:{server}")).context("registrar URI")?;
    let aor = NameAddr::parse(&format!("<sip:{user}@{server}>")).context("AOR")?;
    let mut d = Dialog::uac(
        new_call_id(),
        new_tag(),
        aor.clone(),
        aor,
        uri.clone(),
        udp_peer(server),
    );
    let contact = format!("<sip:{user}@{local}>");
    let mut auth: Option<String> = None;
    for _ in 0..2 {
        let mut r = d.request("REGISTER", &local.to_string(), &contact, &new_branch());
        r.headers.set("To", format!("<sip:{user}@{server}>"));
        r.headers.push("Expires", "3600");
        if let Some(a) = &auth {
            r.headers.push("Authorization", a.clone());
        }
        sock.send_to(&r.to_bytes(), server)?;
        let resp = final_response(sock, &d.call_id)?;
        match resp.status {
            200 => return Ok(()),
            401 => {
                let chal = resp
                    .header("WWW-Authenticate")
                    .context("401 without a challenge")?;
                auth = switchboard_sip::digest::answer_challenge(
                    chal,
                    "REGISTER",
                    &uri.to_string(),
                    user,
                    &format!("s{user}"),
                );
            }
            s => bail!("REGISTER got {s} {}", resp.reason),
        }
    }
    bail!("REGISTER refused after the challenge")
}

fn final_response(sock: &UdpSocket, call_id: &str) -> anyhow::Result<switchboard_sip::Response> {
    let mut buf = vec![0u8; 65_536];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if let Ok(Message::Response(r)) = parse_message(&buf[..n]) {
            if r.header("Call-ID") == Some(call_id) && r.status >= 200 {
                return Ok(r);
            }
        }
    }
    bail!("no final response")
}

/// Customers calling `did` through the trunk socket `sock` (the server's
/// `inbound_from`), keeping `shared.target` calls in the system: each call
/// ends when the server hangs it up (its agent did), and the next is placed.
pub fn customers(
    sock: UdpSocket,
    server: SocketAddr,
    did: String,
    shared: Arc<Shared>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    sock.set_read_timeout(Some(Duration::from_millis(2)))?;
    let local = sock.local_addr()?;
    let sink = UdpSocket::bind("127.0.0.1:0")?;
    Ok(std::thread::spawn(move || {
        let sdp_port = sink_port(&sink);
        let mut calls: HashMap<String, Dialog> = HashMap::new();
        let mut buf = vec![0u8; 65_536];
        let mut next_place = Instant::now();
        let target_uri = match Uri::parse(&format!("sip:{did}@{server}")) {
            Ok(u) => u,
            Err(_) => return,
        };
        while !shared.stop.load(Ordering::Relaxed) {
            // Place calls up to the target, at most PLACE_RATE a second (callers
            // arriving, not a flood that the server would refuse with 503).
            while shared.in_system.load(Ordering::Relaxed) < shared.target.load(Ordering::Relaxed)
                && Instant::now() >= next_place
            {
                next_place = next_place.max(Instant::now() - PLACE_GAP) + PLACE_GAP;
                let from = NameAddr::new(Uri::sip(
                    Some(&format!("555{}", calls.len())),
                    &local.ip().to_string(),
                    Some(local.port()),
                ));
                let mut d = Dialog::uac(
                    new_call_id(),
                    new_tag(),
                    from,
                    NameAddr::new(target_uri.clone()),
                    target_uri.clone(),
                    udp_peer(server),
                );
                let mut inv = d.request(
                    "INVITE",
                    &local.to_string(),
                    &format!("<sip:customer@{local}>"),
                    &new_branch(),
                );
                inv.headers.push("Content-Type", "application/sdp");
                inv.body = sdp::build(
                    local.ip(),
                    sdp_port,
                    1,
                    1,
                    &[0, 8],
                    Some(101),
                    Direction::SendRecv,
                );
                let _ = sock.send_to(&inv.to_bytes(), server);
                calls.insert(d.call_id.clone(), d);
                shared.in_system.fetch_add(1, Ordering::Relaxed);
            }
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            match parse_message(&buf[..n]) {
                Ok(Message::Response(r)) => {
                    let id = r.header("Call-ID").unwrap_or_default().to_string();
                    let is_invite = r
                        .header("CSeq")
                        .and_then(|c| CSeq::parse(c).ok())
                        .is_some_and(|c| c.method == "INVITE");
                    if !is_invite || r.status < 200 {
                        continue;
                    }
                    let Some(d) = calls.get_mut(&id) else {
                        continue;
                    };
                    if r.status < 300 {
                        d.confirm(&r);
                        let ack = d.ack(1, &local.to_string(), "", &new_branch());
                        let _ = sock.send_to(&ack.to_bytes(), from);
                    } else {
                        // Refused (503 under overload, say): the ACK of a non-2xx
                        // is the server's transaction's business; count it as ended.
                        calls.remove(&id);
                        shared.refused.fetch_add(1, Ordering::Relaxed);
                        shared.in_system.fetch_sub(1, Ordering::Relaxed);
                        shared.ended.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(Message::Request(req)) => {
                    let r = response_to(&req, 200, "OK", None);
                    let _ = sock.send_to(&r.to_bytes(), from);
                    let id = req.header("Call-ID").unwrap_or_default().to_string();
                    if req.method == "BYE" && calls.remove(&id).is_some() {
                        shared.in_system.fetch_sub(1, Ordering::Relaxed);
                        shared.ended.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(_) => {}
            }
        }
    }))
}
