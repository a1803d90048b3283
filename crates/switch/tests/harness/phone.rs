//! A sans-IO fake SIP phone for in-memory tests of the switch: it exchanges
//! datagrams with the switch in virtual time (`now` in ms) and behaves like a
//! real UDP phone (retransmissions, digest auth, provisional responses, ACKs).
#![allow(dead_code)]

#[path = "phone_call.rs"]
mod phone_call;

use std::collections::VecDeque;
use std::net::SocketAddr;

use phone_call::{cseq_of, name_addr, request, top_branch, ClientTx, Retx};
use phone_call::{response, well_formed, with_credentials};
pub use phone_call::{Behaviour, CallState, PhoneCall};
use switchboard_sip::builder::{ack_for_non_2xx, cancel_for, new_branch, new_call_id, new_tag};
use switchboard_sip::sdp::{AudioSdp, Direction};
use switchboard_sip::{parse_message, Message, NameAddr, Request, Response, Uri};

/// A fake SIP phone (user agent) driven by datagrams and virtual time.
pub struct FakePhone {
    user: String,
    password: String,
    addr: SocketAddr,
    server: SocketAddr,
    behaviour: Behaviour,
    calls: Vec<PhoneCall>,
    received: Vec<String>,
    /// Every datagram received, as text.
    raw: Vec<String>,
    out: VecDeque<Vec<u8>>,
    txs: Vec<ClientTx>,
    /// Last response per server transaction ("branch METHOD"), re-sent for retransmitted requests.
    server_txs: VecDeque<(String, Vec<u8>)>,
    registered: bool,
    /// Call-ID, From tag and CSeq of our registration.
    reg: (String, String, u32),
    /// The private address the phone believes it has (Contact, Via), when
    /// it sits behind a NAT that rewrites its source to `addr`.
    private: Option<SocketAddr>,
}

impl FakePhone {
    /// A phone for SIP user `user` (digest `password`) at `addr`, talking to the switch at `server`.
    pub fn new(user: &str, password: &str, addr: SocketAddr, server: SocketAddr) -> FakePhone {
        FakePhone {
            user: user.to_string(),
            password: password.to_string(),
            addr,
            server,
            behaviour: Behaviour::default(),
            calls: Vec::new(),
            received: Vec::new(),
            raw: Vec::new(),
            out: VecDeque::new(),
            txs: Vec::new(),
            server_txs: VecDeque::new(),
            registered: false,
            reg: (new_call_id(), new_tag(), 0),
            private: None,
        }
    }

    /// The same phone behind a NAT: it advertises `private` in Contact and
    /// Via while its datagrams arrive from its public `addr`.
    pub fn behind_nat(mut self, private: SocketAddr) -> FakePhone {
        self.private = Some(private);
        self
    }

    /// The phone's own address (source of its datagrams).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Knobs for incoming calls.
    pub fn behaviour_mut(&mut self) -> &mut Behaviour {
        &mut self.behaviour
    }

    /// True after a 2xx to our REGISTER (false after a failure or timeout).
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The calls so far, indexed by the numbers `dial` returns.
    pub fn calls(&self) -> &[PhoneCall] {
        &self.calls
    }

    /// Log of what was received: request methods, response status codes, or "garbage".
    pub fn received(&self) -> &[String] {
        &self.received
    }

    /// Every datagram received, as text, in order.
    pub fn messages(&self) -> &[String] {
        &self.raw
    }

    /// Output: the next datagram to deliver to the switch.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    /// The earliest time `handle_timeout` has something to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        let txs = self.txs.iter().map(|t| t.next.min(t.deadline));
        let calls = self.calls.iter().flat_map(|c| {
            let retx = c.uas_retx.as_ref().map(|r| r.next.min(r.deadline));
            retx.into_iter().chain(c.auto_answer_at)
        });
        txs.chain(calls).filter(|t| *t != u64::MAX).min()
    }

    fn server_uri(&self, user: Option<&str>) -> Uri {
        Uri::sip(
            user,
            &self.server.ip().to_string(),
            Some(self.server.port()),
        )
    }

    fn contact(&self) -> String {
        let a = self.private.unwrap_or(self.addr);
        let (ip, port) = (a.ip().to_string(), a.port());
        NameAddr::new(Uri::sip(Some(&self.user), &ip, Some(port))).to_string()
    }

    fn via(&self) -> String {
        let a = self.private.unwrap_or(self.addr);
        format!("SIP/2.0/UDP {a};branch={};rport", new_branch())
    }

    /// A new call record with a fake RTP port distinct per phone port (mod 500) and call.
    fn new_call(&mut self, call_id: &str, incoming: bool, target: Uri) -> usize {
        let i = self.calls.len();
        let port = 10_000 + (self.addr.port() % 500) * 100 + (i % 50) as u16 * 2;
        self.calls
            .push(PhoneCall::new(call_id, incoming, port, target));
        i
    }

    /// The next request (CSeq + 1) in the dialog of call `i`.
    fn in_dialog(&mut self, i: usize, method: &str) -> Request {
        let (via, contact) = (self.via(), self.contact());
        let c = &mut self.calls[i];
        c.local_cseq = c.local_cseq.wrapping_add(1);
        c.request(method, c.local_cseq, via, &contact)
    }

    fn sdp(&self, i: usize, offer: Option<&AudioSdp>, dir: Direction) -> Vec<u8> {
        self.calls[i].sdp(self.addr.ip(), offer, dir)
    }

    fn send_request(&mut self, req: Request, call: Option<usize>, now: u64, auth_tried: bool) {
        self.out.push_back(req.to_bytes());
        self.txs.push(ClientTx::new(req, call, now, auth_tried));
    }

    /// Send a response to `req` (To tag `tag`, optional SDP body); remembered for retransmissions.
    fn reply(
        &mut self,
        req: &Request,
        status: u16,
        tag: Option<&str>,
        sdp: Option<Vec<u8>>,
    ) -> Vec<u8> {
        let mut resp = response(req, status, tag, sdp, &self.contact());
        if req.method == "INVITE" && (200..300).contains(&status) {
            self.add_extra(&mut resp.headers);
        }
        let bytes = resp.to_bytes();
        let key = format!("{} {}", top_branch(&req.headers), req.method);
        self.server_txs.retain(|(k, _)| *k != key);
        self.server_txs.push_back((key, bytes.clone()));
        if self.server_txs.len() > 64 {
            self.server_txs.pop_front();
        }
        self.out.push_back(bytes.clone());
        bytes
    }

    fn add_extra(&self, h: &mut switchboard_sip::Headers) {
        for (k, v) in &self.behaviour.extra_headers {
            h.push(k, v.clone());
        }
    }

    /// Send REGISTER (Expires 3600); a 401/407 challenge is answered once.
    pub fn register(&mut self, now: u64) {
        self.reg.2 = self.reg.2.wrapping_add(1);
        let aor = NameAddr::new(self.server_uri(Some(&self.user))).to_string();
        let from = format!("{aor};tag={}", self.reg.1);
        let dialog = [from.as_str(), &aor, &self.reg.0];
        let uri = self.server_uri(None);
        let mut req = request(
            "REGISTER",
            uri,
            dialog,
            self.reg.2,
            self.via(),
            &self.contact(),
        );
        req.headers.push("Expires", "3600");
        self.send_request(req, None, now, false);
    }

    /// Call `number` at the switch with an SDP offer; returns the call index.
    pub fn dial(&mut self, number: &str, now: u64) -> usize {
        let target = self.server_uri(Some(number));
        let i = self.new_call(&new_call_id(), false, target.clone());
        let me = NameAddr::new(self.server_uri(Some(&self.user)));
        let c = &mut self.calls[i];
        c.local_hdr = format!("{me};tag={}", c.local_tag);
        c.remote_hdr = NameAddr::new(target).to_string();
        let mut req = self.calls[i].request("INVITE", 1, self.via(), &self.contact());
        self.add_extra(&mut req.headers);
        req.headers.push("Content-Type", "application/sdp");
        req.body = self.sdp(i, None, Direction::SendRecv);
        self.calls[i].invite = Some(req.clone());
        self.send_request(req, Some(i), now, false);
        i
    }

    /// Answer an incoming ringing call: 200 OK with SDP, retransmitted until ACKed.
    pub fn answer(&mut self, call: usize, now: u64) {
        let Some(c) = self
            .calls
            .get_mut(call)
            .filter(|c| c.incoming && c.is_early())
        else {
            return;
        };
        let (Some(inv), offer) = (c.invite.take(), c.offer.clone()) else {
            return;
        };
        c.auto_answer_at = None;
        let body = c.answer_sdp(self.addr.ip(), offer.as_ref());
        let tag = self.calls[call].local_tag.clone();
        let bytes = self.reply(&inv, 200, Some(&tag), Some(body));
        self.calls[call].uas_retx = Some(Retx::new(bytes, now, true));
    }

    /// Reject an incoming ringing call with `status` (e.g. 486, 603); its ACK is absorbed.
    pub fn decline(&mut self, call: usize, status: u16, now: u64) {
        let Some(c) = self
            .calls
            .get_mut(call)
            .filter(|c| c.incoming && c.is_early())
        else {
            return;
        };
        let Some(inv) = c.invite.take().filter(|_| (300..700).contains(&status)) else {
            return;
        };
        c.auto_answer_at = None;
        c.state = CallState::Terminated { status };
        let tag = c.local_tag.clone();
        let bytes = self.reply(&inv, status, Some(&tag), None);
        self.calls[call].uas_retx = Some(Retx::new(bytes, now, false));
    }

    /// End a call: BYE once answered; CANCEL for our ringing INVITE (sent only once a
    /// provisional arrived); 603 Decline for an unanswered incoming call.
    pub fn hangup(&mut self, call: usize, now: u64) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        if c.incoming && c.invite.is_some() {
            self.decline(call, 603, now);
        } else if !c.incoming && c.is_early() {
            c.bye_after_2xx = true;
            c.cancel_pending = !c.provisional;
            if c.provisional {
                self.send_cancel(call, now);
            }
        } else if !c.is_over() {
            self.send_bye(call, now, 200);
        }
    }

    fn send_cancel(&mut self, i: usize, now: u64) {
        if let Some(req) = self.calls[i].invite.as_ref().map(cancel_for) {
            self.send_request(req, Some(i), now, true);
        }
    }

    fn send_bye(&mut self, i: usize, now: u64, status: u16) {
        self.calls[i].uas_retx = None;
        self.calls[i].state = CallState::Terminated { status };
        let req = self.in_dialog(i, "BYE");
        self.send_request(req, Some(i), now, false);
    }

    /// Put the call on hold: re-INVITE with `a=sendonly`.
    pub fn hold(&mut self, call: usize, now: u64) {
        self.reinvite(call, Direction::SendOnly, now);
    }

    /// Take the call off hold: re-INVITE with `a=sendrecv`.
    pub fn unhold(&mut self, call: usize, now: u64) {
        self.reinvite(call, Direction::SendRecv, now);
    }

    fn reinvite(&mut self, i: usize, dir: Direction, now: u64) {
        if self.calls.get(i).map(|c| c.state) != Some(CallState::Confirmed) {
            return;
        }
        self.calls[i].sdp_version += 1;
        let mut req = self.in_dialog(i, "INVITE");
        self.add_extra(&mut req.headers);
        req.headers.push("Content-Type", "application/sdp");
        req.body = self.sdp(i, None, dir);
        self.send_request(req, Some(i), now, false);
    }

    /// Blind transfer: REFER with `Refer-To: <sip:target@server>`.
    pub fn refer(&mut self, call: usize, target: &str, now: u64) {
        if self.calls.get(call).map(|c| c.state) != Some(CallState::Confirmed) {
            return;
        }
        let mut req = self.in_dialog(call, "REFER");
        let refer_to = NameAddr::new(self.server_uri(Some(target)));
        req.headers.push("Refer-To", refer_to.to_string());
        let by = NameAddr::new(self.server_uri(Some(&self.user)));
        req.headers.push("Referred-By", by.to_string());
        self.send_request(req, Some(call), now, false);
    }

    /// Input: one datagram from the switch. Never panics; junk and responses that belong
    /// to nothing we know are logged as "garbage" and ignored.
    pub fn receive(&mut self, datagram: &[u8], now: u64) {
        self.raw
            .push(String::from_utf8_lossy(datagram).into_owned());
        let msg = parse_message(datagram).ok().filter(well_formed);
        let label = match msg {
            Some(Message::Request(r)) => {
                self.received.push(r.method.clone());
                return self.on_request(r, now);
            }
            Some(Message::Response(r)) if self.on_response(&r, now) => r.status.to_string(),
            _ => "garbage".to_string(),
        };
        self.received.push(label);
    }

    /// The call whose local tag is in header `tag_header` (To for requests, From for responses).
    fn find_call(&self, h: &switchboard_sip::Headers, tag_header: &str) -> Option<usize> {
        let (cid, na) = (h.get("Call-ID")?, name_addr(h, tag_header)?);
        let tag = na.tag()?;
        self.calls
            .iter()
            .position(|c| c.call_id == cid && c.local_tag == tag)
    }

    fn on_request(&mut self, r: Request, now: u64) {
        let key = format!("{} {}", top_branch(&r.headers), r.method);
        if let Some((_, resp)) = self.server_txs.iter().find(|(k, _)| *k == key) {
            return self.out.push_back(resp.clone());
        }
        let tagged = name_addr(&r.headers, "To").is_some_and(|t| t.tag().is_some());
        let idx = self.find_call(&r.headers, "To");
        match (r.method.as_str(), idx) {
            ("ACK", Some(i)) => {
                let c = &mut self.calls[i];
                if c.uas_retx.take().is_some_and(|x| x.ok) && !c.is_over() {
                    c.state = CallState::Confirmed;
                    c.note_sdp(&r.body);
                }
            }
            ("ACK", None) => {}
            ("CANCEL", _) => self.on_cancel(&r, now),
            ("INVITE", _) if !tagged => self.on_invite(r, now),
            (_, None) if tagged || r.method == "BYE" => drop(self.reply(&r, 481, None, None)),
            ("INVITE" | "UPDATE", Some(i)) => self.on_reoffer(i, &r, now),
            ("BYE", Some(i)) => {
                self.reply(&r, 200, None, None);
                self.calls[i].uas_retx = None;
                self.calls[i].state = CallState::Terminated { status: 200 };
            }
            ("NOTIFY" | "INFO" | "OPTIONS", i) => {
                let ctype = r
                    .header("Content-Type")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if let (Some(i), "NOTIFY", true) =
                    (i, &*r.method, ctype.starts_with("message/sipfrag"))
                {
                    let body = String::from_utf8_lossy(&r.body);
                    let line = body.lines().next().unwrap_or_default().trim().to_string();
                    self.calls[i].refer_notifies.push(line);
                }
                self.reply(&r, 200, None, None);
            }
            _ => drop(self.reply(&r, 501, None, None)),
        }
    }

    /// A new incoming INVITE: provisionals per `behaviour`, then auto-answer/decline.
    fn on_invite(&mut self, r: Request, now: u64) {
        let (Some(from), Some(cseq)) = (name_addr(&r.headers, "From"), cseq_of(&r.headers)) else {
            return;
        };
        let target = name_addr(&r.headers, "Contact").map_or(from.uri.clone(), |c| c.uri);
        let i = self.new_call(r.header("Call-ID").unwrap_or_default(), true, target);
        let c = &mut self.calls[i];
        c.local_hdr = format!("{};tag={}", r.header("To").unwrap_or_default(), c.local_tag);
        c.remote_hdr = r.header("From").unwrap_or_default().to_string();
        c.remote_tag = from.tag().map(str::to_string);
        c.route_set = r
            .headers_all("Record-Route")
            .iter()
            .map(|s| s.to_string())
            .collect();
        c.local_cseq = cseq.seq.wrapping_mul(7) % 10_000; // independent of the peer's
        c.offer = if r.body.is_empty() {
            None
        } else {
            c.note_sdp(&r.body)
        };
        let unusable = !r.body.is_empty() && c.offer.as_ref().and_then(AudioSdp::g711).is_none();
        c.invite_branch = top_branch(&r.headers);
        c.invite = Some(r.clone());
        c.received = Some(r.clone());
        let tag = c.local_tag.clone();
        if unusable {
            return self.decline(i, 488, now);
        }
        for p in self.behaviour.provisional.clone() {
            if p == 183 {
                let c = &self.calls[i];
                let body = c
                    .offer
                    .as_ref()
                    .map(|o| c.answer_sdp(self.addr.ip(), Some(o)));
                self.reply(&r, 183, Some(&tag), body);
                self.calls[i].state = CallState::Early;
            } else if (100..200).contains(&p) {
                self.reply(&r, p, Some(&tag), None); // (no To tag on 100: response_to)
                if p > 100 {
                    self.calls[i].state = CallState::Ringing;
                }
            }
        }
        if let Some(status) = self.behaviour.auto_decline {
            self.decline(i, status, now);
        } else if let Some(after) = self.behaviour.auto_answer_after {
            self.calls[i].auto_answer_at = Some(now.saturating_add(after));
            if after == 0 {
                self.answer(i, now);
            }
        }
    }

    /// An in-dialog re-INVITE or UPDATE: 200 OK with an SDP answer (or offer, if none came).
    fn on_reoffer(&mut self, i: usize, r: &Request, now: u64) {
        let offer = if r.body.is_empty() {
            None
        } else {
            self.calls[i].note_sdp(&r.body)
        };
        if !r.body.is_empty() && offer.as_ref().and_then(AudioSdp::g711).is_none() {
            return drop(self.reply(r, 488, None, None));
        }
        if let Some(t) = name_addr(&r.headers, "Contact") {
            self.calls[i].remote_target = t.uri;
        }
        self.calls[i].sdp_version += 1;
        let body = self.calls[i].answer_sdp(self.addr.ip(), offer.as_ref());
        let bytes = self.reply(r, 200, None, Some(body));
        if r.method == "INVITE" {
            self.calls[i].uas_retx = Some(Retx::new(bytes, now, true));
        }
    }

    fn on_cancel(&mut self, r: &Request, now: u64) {
        let (branch, cid) = (
            top_branch(&r.headers),
            r.header("Call-ID").unwrap_or_default(),
        );
        let found = self
            .calls
            .iter()
            .position(|c| c.incoming && c.call_id == cid && c.invite_branch == branch);
        let Some(i) = found else {
            return drop(self.reply(r, 481, None, None));
        };
        let tag = self.calls[i].local_tag.clone();
        self.reply(r, 200, Some(&tag), None);
        self.decline(i, 487, now); // no-op when a final response was already sent
    }

    /// Handle a response; false when it matches no transaction and no call of ours.
    fn on_response(&mut self, r: &Response, now: u64) -> bool {
        let (branch, Some(cseq)) = (top_branch(&r.headers), cseq_of(&r.headers)) else {
            return false;
        };
        let pos = self
            .txs
            .iter()
            .position(|t| t.branch() == branch && t.req.method == cseq.method);
        let Some(pos) = pos else {
            // A retransmitted final response to an INVITE we already ACKed: ACK again.
            let Some(i) = self.find_call(&r.headers, "From") else {
                return r.header("Call-ID") == Some(&self.reg.0);
            };
            let ack = self.calls[i]
                .last_ack
                .as_ref()
                .filter(|(n, _)| *n == cseq.seq);
            if let (Some((_, ack)), "INVITE", 200..) = (ack, &*cseq.method, r.status) {
                self.out.push_back(ack.clone());
            }
            return true;
        };
        let invite = cseq.method == "INVITE";
        if r.status < 200 {
            self.txs[pos].on_provisional();
            if let (Some(i), true) = (self.txs[pos].call, invite) {
                self.on_invite_provisional(i, r, now);
            }
            return true;
        }
        let tx = self.txs.remove(pos);
        if matches!(r.status, 401 | 407) && !tx.auth_tried {
            let creds = [self.user.as_str(), &self.password];
            if let Some(req) = with_credentials(&tx.req, r, creds, self.via()) {
                if invite {
                    self.out.push_back(ack_for_non_2xx(&tx.req, r).to_bytes());
                }
                let seq = cseq_of(&req.headers).map_or(0, |c| c.seq);
                match tx.call.and_then(|i| self.calls.get_mut(i)) {
                    Some(c) => {
                        c.local_cseq = seq;
                        if invite && c.is_early() {
                            c.invite = Some(req.clone());
                        }
                    }
                    None => self.reg.2 = seq,
                }
                self.send_request(req, tx.call, now, true);
                return true;
            }
        }
        match (tx.req.method.as_str(), tx.call) {
            ("REGISTER", _) => self.registered = (200..300).contains(&r.status),
            ("INVITE", Some(i)) => self.on_invite_final(i, &tx.req, r, now),
            _ => {}
        }
        true
    }

    fn on_invite_provisional(&mut self, i: usize, r: &Response, now: u64) {
        let c = &mut self.calls[i];
        if r.status > 100 && c.is_early() {
            c.learn_dialog(r);
            c.state = CallState::Ringing;
            c.note_sdp(&r.body);
        }
        c.provisional = true;
        if std::mem::take(&mut c.cancel_pending) {
            self.send_cancel(i, now);
        }
    }

    /// A final response to our INVITE (initial or re-INVITE): ACK it, update the call.
    fn on_invite_final(&mut self, i: usize, invite: &Request, r: &Response, now: u64) {
        let (seq, via) = (cseq_of(&invite.headers).map_or(0, |c| c.seq), self.via());
        let c = &mut self.calls[i];
        let initial = c.is_early();
        if (200..300).contains(&r.status) {
            c.learn_dialog(r);
            c.note_sdp(&r.body);
            if let Some(t) = name_addr(&r.headers, "Contact") {
                c.remote_target = t.uri;
            }
            let ack = c.request("ACK", seq, via, "").to_bytes();
            self.out.push_back(ack.clone());
            let c = &mut self.calls[i];
            c.last_ack = Some((seq, ack));
            if c.bye_after_2xx || c.is_over() {
                self.send_bye(i, now, 200); // cancelled (or given up) but answered anyway
            } else {
                c.state = CallState::Confirmed;
            }
        } else {
            let ack = ack_for_non_2xx(invite, r).to_bytes();
            self.out.push_back(ack.clone());
            c.last_ack = Some((seq, ack));
            if initial {
                c.state = CallState::Terminated { status: r.status };
                c.invite = None;
            }
        }
    }

    /// Retransmit what is due, give up on what timed out (64*T1), auto-answer.
    pub fn handle_timeout(&mut self, now: u64) {
        let mut k = 0;
        while k < self.txs.len() {
            let tx = &mut self.txs[k];
            if now >= tx.deadline {
                let tx = self.txs.remove(k);
                match (tx.req.method.as_str(), tx.call) {
                    ("REGISTER", _) => self.registered = false,
                    ("INVITE", Some(i)) if self.calls[i].is_early() => {
                        self.calls[i].state = CallState::Terminated { status: 408 };
                    }
                    _ => {}
                }
                continue;
            }
            self.out.extend(tx.due(now));
            k += 1;
        }
        for i in 0..self.calls.len() {
            if self.calls[i].auto_answer_at.is_some_and(|t| now >= t) {
                self.calls[i].auto_answer_at = None;
                self.answer(i, now);
            }
            let Some(x) = self.calls[i].uas_retx.as_mut() else {
                continue;
            };
            if now < x.deadline {
                self.out.extend(x.due(now));
            } else if self.calls[i].uas_retx.take().is_some_and(|x| x.ok)
                && !self.calls[i].is_over()
            {
                self.send_bye(i, now, 408); // our 2xx was never ACKed (RFC 3261 §13.3.1.4)
            }
        }
    }
}
