//! The calls of a `FakePhone` (observable state plus the dialog data needed to
//! build in-dialog requests), its behaviour knobs, its retransmission timers,
//! and small SIP helpers.

use std::net::{IpAddr, SocketAddr};

use switchboard_sip::builder::response_to;
use switchboard_sip::digest::answer_challenge;
use switchboard_sip::sdp::{self, AudioSdp, Direction};
use switchboard_sip::{CSeq, Headers, Message, NameAddr, Request, Response, Uri, Via};

/// RFC 3261 T1 (ms): first retransmission interval.
pub(crate) const T1: u64 = 500;
/// RFC 3261 T2 (ms): retransmission interval cap for non-INVITE requests and responses.
pub(crate) const T2: u64 = 4000;
/// Methods the phone understands (Allow header).
pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, REFER, INFO, UPDATE";

/// Where a call stands, as the phone's user would see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Outgoing INVITE sent, no provisional response other than 100 yet.
    Calling,
    /// Incoming and alerting (180 sent), or outgoing after a 180/183.
    Ringing,
    /// Incoming, and the last provisional we sent was a 183 with SDP (early media).
    Early,
    /// 2xx exchanged and ACKed (for incoming calls: our 2xx was ACKed).
    Confirmed,
    /// Over: the final non-2xx status, 200 after a BYE, 487 when cancelled, 408 on timeout.
    Terminated {
        /// The status that ended the call.
        status: u16,
    },
}

/// One call (dialog) of the phone.
#[derive(Debug, Clone)]
pub struct PhoneCall {
    /// Call-ID of the dialog.
    pub call_id: String,
    /// True when the switch called us.
    pub incoming: bool,
    /// Current state.
    pub state: CallState,
    /// Where the other side wants RTP, from the last SDP received.
    pub remote_rtp: Option<SocketAddr>,
    /// `sendrecv`/`sendonly`/`recvonly`/`inactive` from the last SDP received.
    pub remote_direction: Option<String>,
    /// Our (fake) RTP port, as put in our SDP.
    pub local_port: u16,
    /// First lines of the `message/sipfrag` bodies of NOTIFYs received (REFER progress).
    pub refer_notifies: Vec<String>,
    /// Our dialog tag.
    pub local_tag: String,
    /// The switch's dialog tag, once known.
    pub remote_tag: Option<String>,
    /// Our From (outgoing) / To (incoming) value, with our tag.
    pub(crate) local_hdr: String,
    /// The peer's name-addr, with its tag once known.
    pub(crate) remote_hdr: String,
    pub(crate) remote_target: Uri,
    pub(crate) route_set: Vec<String>,
    pub(crate) local_cseq: u32,
    /// Outgoing: the initial INVITE (for CANCEL). Incoming: the INVITE awaiting a final response.
    pub(crate) invite: Option<Request>,
    /// Incoming: the INVITE that started the call, kept (its From, P-Asserted-Identity...).
    pub received: Option<Request>,
    /// Incoming: the Via branch of the initial INVITE (to match a CANCEL).
    pub(crate) invite_branch: String,
    pub(crate) offer: Option<AudioSdp>,
    pub(crate) provisional: bool,
    pub(crate) cancel_pending: bool,
    pub(crate) bye_after_2xx: bool,
    /// CSeq number and bytes of the last ACK we sent (re-sent for retransmitted finals).
    pub(crate) last_ack: Option<(u32, Vec<u8>)>,
    pub(crate) uas_retx: Option<Retx>,
    pub(crate) auto_answer_at: Option<u64>,
    pub(crate) sdp_version: u64,
}

impl PhoneCall {
    /// A fresh call towards/from `target`; dialog headers are filled in by the phone.
    pub(crate) fn new(call_id: &str, incoming: bool, local_port: u16, target: Uri) -> PhoneCall {
        PhoneCall {
            call_id: call_id.to_string(),
            incoming,
            state: if incoming {
                CallState::Ringing
            } else {
                CallState::Calling
            },
            remote_rtp: None,
            remote_direction: None,
            local_port,
            refer_notifies: Vec::new(),
            local_tag: switchboard_sip::builder::new_tag(),
            remote_tag: None,
            local_hdr: String::new(),
            remote_hdr: String::new(),
            remote_target: target,
            route_set: Vec::new(),
            local_cseq: 1,
            invite: None,
            received: None,
            invite_branch: String::new(),
            offer: None,
            provisional: false,
            cancel_pending: false,
            bye_after_2xx: false,
            last_ack: None,
            uas_retx: None,
            auto_answer_at: None,
            sdp_version: 1,
        }
    }

    /// Not yet answered and not over.
    pub(crate) fn is_early(&self) -> bool {
        matches!(
            self.state,
            CallState::Calling | CallState::Ringing | CallState::Early
        )
    }

    /// Over.
    pub(crate) fn is_over(&self) -> bool {
        matches!(self.state, CallState::Terminated { .. })
    }

    /// Record the SDP of a received message (ignored when absent or unparseable).
    pub(crate) fn note_sdp(&mut self, body: &[u8]) -> Option<AudioSdp> {
        let sdp = AudioSdp::parse(body).ok()?;
        self.remote_rtp = Some(sdp.socket_addr());
        self.remote_direction = Some(sdp.direction.as_str().to_string());
        Some(sdp)
    }

    /// Learn the dialog (remote tag, target, route set) from a response to our initial INVITE.
    pub(crate) fn learn_dialog(&mut self, r: &Response) {
        if !self.is_early() {
            return;
        }
        if let Some(tag) = name_addr(&r.headers, "To").and_then(|t| t.tag().map(str::to_string)) {
            self.remote_tag = Some(tag);
            self.remote_hdr = r.header("To").unwrap_or_default().to_string();
        }
        if let Some(t) = name_addr(&r.headers, "Contact") {
            self.remote_target = t.uri;
        }
        let rr = r.headers_all("Record-Route");
        self.route_set = rr.iter().rev().map(|s| s.to_string()).collect();
    }

    /// Our SDP: an answer to `offer` (its G.711 payloads), or an offer of PCMU, PCMA, DTMF.
    pub(crate) fn sdp(&self, ip: IpAddr, offer: Option<&AudioSdp>, dir: Direction) -> Vec<u8> {
        let (pts, dtmf): (Vec<u8>, _) = match offer {
            Some(o) => {
                let g711 = o.payloads.iter().copied().filter(|p| *p == 0 || *p == 8);
                (g711.collect(), o.dtmf_pt)
            }
            None => (vec![0, 8], Some(101)),
        };
        let (port, version) = (self.local_port, self.sdp_version);
        sdp::build(ip, port, u64::from(port), version, &pts, dtmf, dir)
    }

    /// Our SDP answer to `offer` (sendonly -> recvonly, ...), or an offer when there was none.
    pub(crate) fn answer_sdp(&self, ip: IpAddr, offer: Option<&AudioSdp>) -> Vec<u8> {
        let dir = offer.map_or(Direction::SendRecv, |o| o.direction.answer());
        self.sdp(ip, offer, dir)
    }

    /// A request in this dialog (remote target, route set) with CSeq `seq`.
    pub(crate) fn request(&self, method: &str, seq: u32, via: String, contact: &str) -> Request {
        let (from, to, cid) = (&self.local_hdr, &self.remote_hdr, &self.call_id);
        let mut r = request(
            method,
            self.remote_target.clone(),
            [from, to, cid],
            seq,
            via,
            contact,
        );
        for (k, route) in self.route_set.iter().enumerate() {
            r.headers.0.insert(1 + k, ("Route".into(), route.clone()));
        }
        r
    }
}

/// A new request: Via, Max-Forwards, From, To, Call-ID, CSeq, Contact (where useful).
pub(crate) fn request(
    method: &str,
    uri: Uri,
    [from, to, call_id]: [&str; 3],
    seq: u32,
    via: String,
    contact: &str,
) -> Request {
    let mut h = Headers::default();
    h.push("Via", via);
    h.push("Max-Forwards", "70");
    h.push("From", from);
    h.push("To", to);
    h.push("Call-ID", call_id);
    h.push("CSeq", format!("{seq} {method}"));
    if matches!(method, "INVITE" | "REGISTER" | "REFER" | "UPDATE") {
        h.push("Contact", contact);
    }
    if method == "INVITE" {
        h.push("Allow", ALLOW);
    }
    h.push("User-Agent", "FakePhone");
    let version = "SIP/2.0".into();
    Request {
        method: method.into(),
        uri,
        version,
        headers: h,
        body: Vec::new(),
    }
}

/// A response retransmitted over "UDP" until ACKed (RFC 3261 §13.3.1.4, §17.2.1).
#[derive(Debug, Clone)]
pub(crate) struct Retx {
    pub(crate) bytes: Vec<u8>,
    pub(crate) next: u64,
    pub(crate) interval: u64,
    pub(crate) deadline: u64,
    /// A 2xx (its ACK confirms the call); otherwise a non-2xx final.
    pub(crate) ok: bool,
}

impl Retx {
    /// Start retransmitting `bytes` (sent at `now`): T1 doubling up to T2, for 64*T1.
    pub(crate) fn new(bytes: Vec<u8>, now: u64, ok: bool) -> Retx {
        let (next, deadline) = (now.saturating_add(T1), now.saturating_add(64 * T1));
        Retx {
            bytes,
            next,
            interval: T1,
            deadline,
            ok,
        }
    }

    /// The bytes to send again if due at `now` (interval doubles, capped at T2).
    pub(crate) fn due(&mut self, now: u64) -> Option<Vec<u8>> {
        if now < self.next {
            return None;
        }
        self.interval = self.interval.saturating_mul(2).min(T2);
        self.next = now.saturating_add(self.interval);
        Some(self.bytes.clone())
    }
}

/// A request we sent and retransmit until a (final) response arrives
/// (RFC 3261 §17.1: Timers A/B for INVITE, E/F for the others).
pub(crate) struct ClientTx {
    pub(crate) req: Request,
    pub(crate) call: Option<usize>,
    pub(crate) next: u64,
    pub(crate) interval: u64,
    pub(crate) deadline: u64,
    /// Already answered a digest challenge: a second one is final.
    pub(crate) auth_tried: bool,
}

impl ClientTx {
    /// A transaction for `req`, sent at `now`.
    pub(crate) fn new(req: Request, call: Option<usize>, now: u64, auth_tried: bool) -> ClientTx {
        let (next, deadline) = (now.saturating_add(T1), now.saturating_add(64 * T1));
        ClientTx {
            req,
            call,
            next,
            interval: T1,
            deadline,
            auth_tried,
        }
    }

    /// Branch of our Via.
    pub(crate) fn branch(&self) -> String {
        top_branch(&self.req.headers)
    }

    /// A provisional arrived: INVITE stops retransmitting (and never times out), others slow to T2.
    pub(crate) fn on_provisional(&mut self) {
        if self.req.method == "INVITE" {
            (self.next, self.deadline) = (u64::MAX, u64::MAX);
        } else {
            self.interval = T2;
        }
    }

    /// The bytes to send again if due at `now` (INVITE: doubling; others: capped at T2).
    pub(crate) fn due(&mut self, now: u64) -> Option<Vec<u8>> {
        if now < self.next {
            return None;
        }
        let doubled = self.interval.saturating_mul(2);
        let invite = self.req.method == "INVITE";
        self.interval = if invite { doubled } else { doubled.min(T2) };
        self.next = now.saturating_add(self.interval);
        Some(self.req.to_bytes())
    }
}

/// `req` again with our new Via, CSeq + 1 and the digest answer to `resp`'s 401/407 challenge.
pub(crate) fn with_credentials(
    req: &Request,
    resp: &Response,
    [user, password]: [&str; 2],
    via: String,
) -> Option<Request> {
    let (challenge, auth) = if resp.status == 407 {
        ("Proxy-Authenticate", "Proxy-Authorization")
    } else {
        ("WWW-Authenticate", "Authorization")
    };
    let uri = req.uri.to_string();
    let mut challenges = resp.headers_all(challenge).into_iter();
    let answer = challenges.find_map(|c| answer_challenge(c, &req.method, &uri, user, password))?;
    let mut req = req.clone();
    let seq = cseq_of(&req.headers)?.seq.wrapping_add(1);
    replace_header(&mut req.headers, "Via", via);
    replace_header(&mut req.headers, "CSeq", format!("{seq} {}", req.method));
    replace_header(&mut req.headers, auth, answer);
    Some(req)
}

/// A response from the phone: Contact on 1xx/2xx to INVITE/UPDATE, Allow where useful, SDP.
pub(crate) fn response(
    req: &Request,
    status: u16,
    tag: Option<&str>,
    sdp: Option<Vec<u8>>,
    contact: &str,
) -> Response {
    let mut r = response_to(req, status, reason(status), tag);
    r.headers.set("Server", "FakePhone");
    let method = req.method.as_str();
    if (101..300).contains(&status) && matches!(method, "INVITE" | "UPDATE") {
        r.headers.push("Contact", contact);
    }
    if (200..300).contains(&status) && matches!(method, "INVITE" | "OPTIONS") || status == 501 {
        r.headers.push("Allow", ALLOW);
    }
    if let Some(body) = sdp {
        r.headers.push("Content-Type", "application/sdp");
        r.body = body;
    }
    r
}

/// Has the headers every message needs (Via, Call-ID, From, To, a CSeq matching the method).
pub(crate) fn well_formed(m: &Message) -> bool {
    let h = m.headers();
    let cseq_ok = match (m, cseq_of(h)) {
        (Message::Request(r), Some(c)) => c.method == r.method,
        (_, c) => c.is_some(),
    };
    let via_ok = h
        .get_all("Via")
        .first()
        .is_some_and(|v| Via::parse(v).is_ok());
    let has = |n| name_addr(h, n).is_some();
    cseq_ok && via_ok && h.get("Call-ID").is_some() && has("From") && has("To")
}

/// Knobs for how the phone treats incoming calls.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Provisional responses sent to an incoming INVITE, in order, immediately
    /// (default `[100, 180]`); 183 means "183 Session Progress" with an SDP answer.
    pub provisional: Vec<u16>,
    /// Answer automatically this many ms after the INVITE (`None` = wait for `answer()`).
    pub auto_answer_after: Option<u64>,
    /// Reject every incoming INVITE with this status after the provisionals.
    pub auto_decline: Option<u16>,
    /// Headers added to the INVITEs the phone sends and to its 2xx to INVITEs
    /// (e.g. `Session-Expires`).
    pub extra_headers: Vec<(&'static str, String)>,
}

impl Default for Behaviour {
    fn default() -> Behaviour {
        Behaviour {
            provisional: vec![100, 180],
            auto_answer_after: None,
            auto_decline: None,
            extra_headers: Vec::new(),
        }
    }
}

/// Branch of the top Via ("" when missing).
pub(crate) fn top_branch(h: &Headers) -> String {
    let via = h.get_all("Via").first().and_then(|v| Via::parse(v).ok());
    via.and_then(|v| v.branch().map(str::to_string))
        .unwrap_or_default()
}

/// The parsed CSeq header.
pub(crate) fn cseq_of(h: &Headers) -> Option<CSeq> {
    h.get("CSeq").and_then(|c| CSeq::parse(c).ok())
}

/// The first value of a name-addr header, parsed.
pub(crate) fn name_addr(h: &Headers, name: &str) -> Option<NameAddr> {
    h.get_all(name)
        .first()
        .and_then(|v| NameAddr::parse(v).ok())
}

/// Replace the first `name` header in place (dropping the others), or append it.
pub(crate) fn replace_header(h: &mut Headers, name: &str, value: String) {
    match h.0.iter().position(|(k, _)| k.eq_ignore_ascii_case(name)) {
        Some(i) => {
            h.0[i].1 = value;
            let mut n = 0;
            h.0.retain(|(k, _)| {
                !k.eq_ignore_ascii_case(name) || {
                    n += 1;
                    n == 1
                }
            });
        }
        None => h.push(name, value),
    }
}

/// Reason phrase for the statuses the phone sends.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        501 => "Not Implemented",
        603 => "Decline",
        _ => "Unknown",
    }
}
