//! Transaction layer (RFC 3261 §17, with the RFC 6026 "Accepted" state), as a
//! sans-IO state machine: feed it received messages, requests/responses to
//! send and the current time; drain [`TxEvent`]s (bytes to transmit,
//! messages for the transaction user, timeouts). Retransmission timers run
//! only over unreliable transports.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;

use crate::{CSeq, Message, Request, Response, Shrink, Via};

/// Timer T1 (RTT estimate), ms.
pub const T1: u64 = 500;
/// Timer T2 (max retransmit interval for non-INVITE), ms.
pub const T2: u64 = 4000;
/// Timer T4 (max message lifetime), ms.
pub const T4: u64 = 5000;
/// How long an INVITE that got a provisional response may wait for its final
/// one (ms): Timer C of RFC 3261 §16.6 (more than 3 minutes), restarted by
/// each provisional. Its TU normally CANCELs long before (ring timeout); this
/// bounds a peer that rang and then vanished.
pub const TIMER_C: u64 = 180_500;

/// Transport of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP (unreliable: we retransmit).
    Udp,
    /// TCP (reliable).
    Tcp,
    /// TLS over TCP (reliable, encrypted; RFC 3261 §26.2).
    Tls,
}

impl Transport {
    /// Via token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }
}

/// A remote SIP endpoint: address plus transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Remote address.
    pub addr: SocketAddr,
    /// Transport to use.
    pub transport: Transport,
}

/// Identifies a transaction: top Via branch and sent-by plus method (ACK
/// maps to INVITE), as RFC 3261 §17.2.3 matches requests: two peers that
/// happen to use one branch are two transactions, and a request cannot be
/// taken for another peer's retransmission.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxKey {
    /// Branch parameter.
    pub branch: String,
    /// Sent-by of the top Via: host lower-cased, port (the transport's
    /// default when absent).
    pub sent_by: String,
    /// Method of the transaction.
    pub method: String,
}

/// The comparable sent-by of a Via (RFC 3261 §18.2.2 default ports).
fn sent_by(via: &Via) -> String {
    let default = if via.transport.eq_ignore_ascii_case("TLS") {
        5061
    } else {
        5060
    };
    format!(
        "{}:{}",
        via.host.to_ascii_lowercase(),
        via.port.unwrap_or(default)
    )
}

impl TxKey {
    /// The transaction a request belongs to (top Via's branch and sent-by, method).
    pub fn of_request(req: &Request) -> Option<TxKey> {
        let via = Via::parse(req.headers_all("Via").first()?).ok()?;
        let method = if req.method == "ACK" {
            "INVITE"
        } else {
            req.method.as_str()
        };
        Some(TxKey {
            branch: via.branch().unwrap_or_default().to_string(),
            sent_by: sent_by(&via),
            method: method.to_string(),
        })
    }
    fn of_response(resp: &Response) -> Option<TxKey> {
        let via = Via::parse(resp.headers_all("Via").first()?).ok()?;
        let cseq = CSeq::parse(resp.header("CSeq")?).ok()?;
        Some(TxKey {
            branch: via.branch().unwrap_or_default().to_string(),
            sent_by: sent_by(&via),
            method: cseq.method,
        })
    }
}

/// What the layer asks the outside world to do, or tells the transaction user.
#[derive(Debug, Clone)]
pub enum TxEvent {
    /// Transmit these bytes.
    Send {
        /// Destination.
        peer: Peer,
        /// Serialized message.
        bytes: Vec<u8>,
    },
    /// A new request (not a retransmission) for the transaction user.
    Request {
        /// The request.
        req: Request,
        /// Where it came from.
        from: Peer,
    },
    /// A response to one of our client transactions (or a stray 2xx retransmission).
    Response {
        /// The response.
        resp: Response,
        /// The client transaction it belongs to.
        key: TxKey,
    },
    /// A client transaction got no final response in time (act as if 408).
    Timeout {
        /// The transaction.
        key: TxKey,
    },
    /// A 2xx we sent to an INVITE was never ACKed (RFC 3261 §13.3.1.4: end the dialog).
    AckTimeout {
        /// Call-ID of the dialog.
        call_id: String,
    },
}

#[derive(Debug, PartialEq, Eq)]
enum SState {
    Proceeding,
    Completed,
    Accepted,
    Confirmed,
}

struct ServerTx {
    peer: Peer,
    is_invite: bool,
    state: SState,
    last_response: Option<Vec<u8>>,
    call_id: String,
    cseq: u32,
    retransmit_at: Option<u64>,
    interval: u64,
    expire_at: Option<u64>,
}

impl ServerTx {
    /// ACK received for our non-2xx final response: stop retransmitting and
    /// absorb stray ACKs for Timer I (T4 over UDP, none over TCP).
    fn confirm(&mut self, now: u64) {
        self.state = SState::Confirmed;
        self.retransmit_at = None;
        self.expire_at = Some(
            now + if self.peer.transport == Transport::Udp {
                T4
            } else {
                0
            },
        );
    }
}

#[derive(Debug, PartialEq, Eq)]
enum CState {
    Calling,
    Proceeding,
    Completed,
    Accepted,
}

struct ClientTx {
    peer: Peer,
    request: Request,
    bytes: Vec<u8>,
    is_invite: bool,
    state: CState,
    retransmit_at: Option<u64>,
    interval: u64,
    timeout_at: u64,
    /// When its Timer B entry comes due (64*T1 after sending): for a
    /// ringing INVITE, that entry re-arms Timer C.
    timer_b_at: u64,
    ack: Option<Vec<u8>>,
}

/// Which table a timer entry points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Table {
    Server,
    Client,
}

/// The transaction layer.
///
/// Timers live in a min-heap of (deadline, transaction) entries; an entry is
/// checked against the transaction's current deadlines when it comes due, so
/// a cancelled or moved timer costs nothing but its stale entry. Server
/// INVITE transactions are also indexed by (Call-ID, CSeq) so an ACK is
/// matched in O(1) however many transactions are live.
#[derive(Default)]
pub struct TransactionLayer {
    server: HashMap<TxKey, ServerTx>,
    client: HashMap<TxKey, ClientTx>,
    invites: HashMap<(String, u32), TxKey>,
    timers: BinaryHeap<Reverse<(u64, Table, TxKey)>>,
    events: VecDeque<TxEvent>,
}

impl TransactionLayer {
    /// An empty layer.
    pub fn new() -> TransactionLayer {
        TransactionLayer::default()
    }

    /// Next event to act on.
    pub fn poll_event(&mut self) -> Option<TxEvent> {
        self.events.pop_front()
    }

    /// Number of live transactions (server, client).
    pub fn len(&self) -> (usize, usize) {
        (self.server.len(), self.client.len())
    }

    /// Pending timer entries (including stale ones not yet due).
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    /// True when no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.server.is_empty() && self.client.is_empty()
    }

    /// Feed a received message.
    pub fn on_message(&mut self, msg: Message, from: Peer, now: u64) {
        match msg {
            Message::Request(r) => self.on_request(r, from, now),
            Message::Response(r) => self.on_response(r, now),
        }
    }

    fn on_request(&mut self, req: Request, from: Peer, now: u64) {
        let Some(key) = TxKey::of_request(&req) else {
            return;
        };
        if req.method == "ACK" {
            if let Some(tx) = self.server.get_mut(&key) {
                if tx.state == SState::Completed {
                    tx.confirm(now);
                    let at = tx.expire_at;
                    self.arm(Table::Server, &key, at);
                    return;
                }
                if tx.state == SState::Confirmed {
                    return;
                }
            }
            let call_id = req.header("Call-ID").unwrap_or_default();
            let seq = req
                .header("CSeq")
                .and_then(|c| CSeq::parse(c).ok())
                .map(|c| c.seq);
            let invite = seq
                .and_then(|seq| self.invites.get(&(call_id.to_string(), seq)))
                .cloned();
            if let Some(k) = invite {
                if let Some(tx) = self.server.get_mut(&k) {
                    match tx.state {
                        // RFC 2543-style ACK for a non-2xx with a different branch (some
                        // UAs, sipp's [branch]): matched by Call-ID and CSeq number.
                        SState::Completed => {
                            tx.confirm(now);
                            let at = tx.expire_at;
                            self.arm(Table::Server, &k, at);
                            return;
                        }
                        // ACK for a 2xx: stop retransmitting that 2xx, hand it to the TU.
                        SState::Accepted => tx.retransmit_at = None,
                        _ => {}
                    }
                }
            }
            self.events.push_back(TxEvent::Request { req, from });
            return;
        }
        if let Some(tx) = self.server.get(&key) {
            // Retransmission: answer with the last response, if any.
            if let Some(b) = &tx.last_response {
                self.events.push_back(TxEvent::Send {
                    peer: tx.peer,
                    bytes: b.clone(),
                });
            }
            return;
        }
        let is_invite = req.method == "INVITE";
        let call_id = req.header("Call-ID").unwrap_or_default().to_string();
        let cseq = req
            .header("CSeq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(0);
        let mut tx = ServerTx {
            peer: from,
            is_invite,
            state: SState::Proceeding,
            last_response: None,
            call_id,
            cseq,
            retransmit_at: None,
            interval: T1,
            expire_at: None,
        };
        if is_invite {
            let trying = crate::builder::response_to(&req, 100, "Trying", None);
            let b = trying.to_bytes();
            tx.last_response = Some(b.clone());
            self.events.push_back(TxEvent::Send {
                peer: from,
                bytes: b,
            });
        }
        if is_invite {
            self.invites.insert((tx.call_id.clone(), cseq), key.clone());
        }
        self.server.insert(key, tx);
        self.events.push_back(TxEvent::Request { req, from });
    }

    /// Send a response within its server transaction (matched by Via branch and CSeq method).
    /// Responses without a transaction (e.g. to a stray request) are sent to `fallback`.
    pub fn respond(&mut self, resp: Response, fallback: Peer, now: u64) {
        let bytes = resp.to_bytes();
        let Some(key) = TxKey::of_response(&resp) else {
            self.events.push_back(TxEvent::Send {
                peer: fallback,
                bytes,
            });
            return;
        };
        let Some(tx) = self.server.get_mut(&key) else {
            self.events.push_back(TxEvent::Send {
                peer: fallback,
                bytes,
            });
            return;
        };
        if tx.state != SState::Proceeding {
            return; // already answered finally: the TU cannot answer twice
        }
        let udp = tx.peer.transport == Transport::Udp;
        tx.last_response = Some(bytes.clone());
        if resp.status >= 200 {
            if tx.is_invite && resp.status < 300 {
                tx.state = SState::Accepted;
                tx.retransmit_at = udp.then_some(now + T1);
                tx.interval = T1;
                tx.expire_at = Some(now + 64 * T1);
            } else if tx.is_invite {
                tx.state = SState::Completed;
                tx.retransmit_at = udp.then_some(now + T1);
                tx.interval = T1;
                tx.expire_at = Some(now + 64 * T1);
            } else {
                tx.state = SState::Completed;
                tx.expire_at = Some(now + if udp { 64 * T1 } else { 0 });
            }
        }
        let (peer, retransmit_at, expire_at) = (tx.peer, tx.retransmit_at, tx.expire_at);
        self.events.push_back(TxEvent::Send { peer, bytes });
        self.arm(Table::Server, &key, retransmit_at);
        self.arm(Table::Server, &key, expire_at);
    }

    /// Start a client transaction. The request must carry our Via with a fresh branch.
    pub fn send_request(&mut self, req: Request, peer: Peer, now: u64) -> Option<TxKey> {
        let key = TxKey::of_request(&req)?;
        let bytes = req.to_bytes();
        let is_invite = req.method == "INVITE";
        if req.method == "ACK" {
            self.events.push_back(TxEvent::Send { peer, bytes });
            return None;
        }
        if req.method == "CANCEL" {
            // The INVITE it cancels ends 64*T1 from now at the latest (RFC 3261 §9.1).
            let invite = TxKey {
                method: "INVITE".into(),
                ..key.clone()
            };
            if let Some(tx) = self.client.get_mut(&invite) {
                tx.timeout_at = tx.timeout_at.min(now + 64 * T1);
                let at = tx.timeout_at;
                self.arm(Table::Client, &invite, Some(at));
            }
        }
        let udp = peer.transport == Transport::Udp;
        self.events.push_back(TxEvent::Send {
            peer,
            bytes: bytes.clone(),
        });
        self.client.insert(
            key.clone(),
            ClientTx {
                peer,
                request: req,
                bytes,
                is_invite,
                state: CState::Calling,
                retransmit_at: udp.then_some(now + T1),
                interval: T1,
                timeout_at: now + 64 * T1,
                timer_b_at: now + 64 * T1,
                ack: None,
            },
        );
        self.arm(Table::Client, &key, udp.then_some(now + T1));
        self.arm(Table::Client, &key, Some(now + 64 * T1));
        Some(key)
    }

    fn on_response(&mut self, resp: Response, now: u64) {
        let Some(key) = TxKey::of_response(&resp) else {
            return;
        };
        let timer_key = key.clone();
        let Some(tx) = self.client.get_mut(&key) else {
            if resp.status >= 200 && resp.status < 300 {
                // 2xx retransmission after the transaction ended: the TU re-ACKs.
                self.events.push_back(TxEvent::Response { resp, key });
            }
            return;
        };
        let udp = tx.peer.transport == Transport::Udp;
        match tx.state {
            CState::Calling | CState::Proceeding => {
                if resp.status < 200 {
                    tx.state = CState::Proceeding;
                    if tx.is_invite {
                        // Timer B runs in Calling only (RFC 3261 §17.1.1.2):
                        // a ringing INVITE lasts until its final response, 64*T1
                        // after its CANCEL (§9.1, in `send_request`), or Timer C
                        // after its last provisional response.
                        tx.retransmit_at = None;
                        tx.timeout_at = now + TIMER_C;
                    } else if udp {
                        tx.interval = T2;
                    }
                    self.events.push_back(TxEvent::Response { resp, key });
                } else if tx.is_invite && resp.status < 300 {
                    tx.state = CState::Accepted;
                    tx.retransmit_at = None;
                    // Never retransmitted again: keep only what a late 2xx needs.
                    tx.bytes = Vec::new();
                    tx.timeout_at = now + 64 * T1;
                    self.events.push_back(TxEvent::Response { resp, key });
                } else if tx.is_invite {
                    let ack = crate::builder::ack_for_non_2xx(&tx.request, &resp).to_bytes();
                    self.events.push_back(TxEvent::Send {
                        peer: tx.peer,
                        bytes: ack.clone(),
                    });
                    tx.ack = Some(ack);
                    tx.state = CState::Completed;
                    tx.retransmit_at = None;
                    tx.bytes = Vec::new();
                    tx.timeout_at = now + if udp { 32_000 } else { 0 };
                    self.events.push_back(TxEvent::Response { resp, key });
                } else {
                    tx.state = CState::Completed;
                    tx.retransmit_at = None;
                    tx.bytes = Vec::new();
                    tx.timeout_at = now + if udp { T4 } else { 0 };
                    self.events.push_back(TxEvent::Response { resp, key });
                }
            }
            CState::Completed => {
                if let Some(ack) = &tx.ack {
                    self.events.push_back(TxEvent::Send {
                        peer: tx.peer,
                        bytes: ack.clone(),
                    });
                }
            }
            CState::Accepted => {
                if (200..300).contains(&resp.status) {
                    self.events.push_back(TxEvent::Response { resp, key });
                }
            }
        }
        // A ringing INVITE's Timer C is not armed here: the entry of its
        // Timer B re-arms it when it comes due (see `client_timer`), so
        // calls answered within 32 s leave no extra heap entry behind.
        let timeout = self
            .client
            .get(&timer_key)
            .filter(|t| !(t.is_invite && t.state == CState::Proceeding))
            .map(|t| t.timeout_at);
        self.arm(Table::Client, &timer_key, timeout);
    }

    /// Give up on a client transaction that got no response at all (a
    /// trunk host that does not answer, before Timer B): no more
    /// retransmissions, no timeout event; a late response is then treated
    /// as a stray. Returns whether the transaction was live.
    pub fn abandon(&mut self, key: &TxKey) -> bool {
        self.client.remove(key).is_some()
    }

    /// Whether a request belongs to a live server transaction (a retransmission).
    pub fn has_server_transaction(&self, req: &Request) -> bool {
        TxKey::of_request(req).is_some_and(|k| self.server.contains_key(&k))
    }

    /// Where a live client transaction sends its request.
    pub fn client_peer(&self, key: &TxKey) -> Option<Peer> {
        self.client.get(key).map(|t| t.peer)
    }

    /// The original request of a live client transaction (to build CANCEL/ACK).
    pub fn client_request(&self, key: &TxKey) -> Option<&Request> {
        self.client.get(key).map(|t| &t.request)
    }

    /// Earliest time at which [`TransactionLayer::on_timeout`] may have work
    /// (possibly earlier than needed, never later).
    pub fn next_timeout(&self) -> Option<u64> {
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Remember that `key` has a deadline at `at`.
    fn arm(&mut self, table: Table, key: &TxKey, at: Option<u64>) {
        if let Some(at) = at {
            self.timers.push(Reverse((at, table, key.clone())));
        }
    }

    /// Run due timers.
    pub fn on_timeout(&mut self, now: u64) {
        self.fire_timers(now);
        // Tables sized for a past burst of calls give their memory back.
        self.server.shrink_idle();
        self.client.shrink_idle();
        self.invites.shrink_idle();
        self.timers.shrink_idle();
        self.events.shrink_idle();
    }

    fn fire_timers(&mut self, now: u64) {
        while let Some(Reverse((at, _, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, table, key))) = self.timers.pop() else {
                break;
            };
            match table {
                Table::Server => self.server_timer(key, now),
                Table::Client => self.client_timer(key, now),
            }
        }
    }

    fn server_timer(&mut self, key: TxKey, now: u64) {
        let Some(tx) = self.server.get_mut(&key) else {
            return;
        };
        if tx.expire_at.is_some_and(|t| t <= now) {
            if tx.state == SState::Accepted && tx.retransmit_at.is_some() {
                self.events.push_back(TxEvent::AckTimeout {
                    call_id: tx.call_id.clone(),
                });
            }
            if let Some(tx) = self.server.remove(&key) {
                if tx.is_invite {
                    let k = (tx.call_id, tx.cseq);
                    if self.invites.get(&k) == Some(&key) {
                        self.invites.remove(&k);
                    }
                }
            }
            return;
        }
        if tx.retransmit_at.is_none_or(|at| at > now) {
            return;
        }
        if let Some(b) = &tx.last_response {
            self.events.push_back(TxEvent::Send {
                peer: tx.peer,
                bytes: b.clone(),
            });
        }
        tx.interval = (tx.interval * 2).min(T2);
        let next = now + tx.interval;
        tx.retransmit_at = Some(next);
        self.arm(Table::Server, &key, Some(next));
    }

    fn client_timer(&mut self, key: TxKey, now: u64) {
        let Some(tx) = self.client.get_mut(&key) else {
            return;
        };
        if tx.timeout_at <= now {
            if matches!(tx.state, CState::Calling | CState::Proceeding) {
                self.events.push_back(TxEvent::Timeout { key: key.clone() });
            }
            self.client.remove(&key);
            return;
        }
        if tx.retransmit_at.is_none_or(|at| at > now) {
            // Timer B's entry (not a stale retransmission one) of a ringing
            // INVITE: Timer C takes over.
            if tx.is_invite && tx.state == CState::Proceeding && now >= tx.timer_b_at {
                let at = tx.timeout_at;
                self.arm(Table::Client, &key, Some(at));
            }
            return;
        }
        self.events.push_back(TxEvent::Send {
            peer: tx.peer,
            bytes: tx.bytes.clone(),
        });
        tx.interval = if tx.is_invite {
            tx.interval * 2
        } else {
            (tx.interval * 2).min(T2)
        };
        let next = now + tx.interval;
        tx.retransmit_at = Some(next);
        self.arm(Table::Client, &key, Some(next));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::response_to;
    use crate::parse_message;

    fn peer(port: u16) -> Peer {
        Peer {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            transport: Transport::Udp,
        }
    }

    fn request(method: &str, branch: &str, cseq: u32) -> Request {
        let raw = format!(
            "{method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}\r\nFrom: <sip:alice@h>;tag=a\r\nTo: <sip:bob@h>\r\nCall-ID: c1\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        match parse_message(raw.as_bytes()).unwrap() {
            Message::Request(r) => r,
            _ => unreachable!(),
        }
    }

    fn drain(tl: &mut TransactionLayer) -> Vec<TxEvent> {
        std::iter::from_fn(|| tl.poll_event()).collect()
    }

    fn sent_status(ev: &TxEvent) -> Option<String> {
        match ev {
            TxEvent::Send { bytes, .. } => Some(
                String::from_utf8_lossy(bytes)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            ),
            _ => None,
        }
    }

    #[test]
    fn same_branch_from_another_sent_by_is_another_transaction() {
        let mut tl = TransactionLayer::new();
        let a = request("OPTIONS", "z9hG4bKsame", 1);
        let raw = String::from_utf8(a.to_bytes())
            .unwrap()
            .replace("127.0.0.1:5070", "10.0.0.9:5080");
        let Message::Request(b) = parse_message(raw.as_bytes()).unwrap() else {
            unreachable!()
        };
        tl.on_message(Message::Request(a.clone()), peer(5070), 0);
        tl.on_message(Message::Request(b), peer(5080), 1);
        let delivered = |ev: &[TxEvent]| {
            ev.iter()
                .filter(|e| matches!(e, TxEvent::Request { .. }))
                .count()
        };
        assert_eq!(delivered(&drain(&mut tl)), 2, "two peers, two requests");
        assert_eq!(tl.len().0, 2);
        // A retransmission from the first peer is still absorbed.
        tl.on_message(Message::Request(a), peer(5070), 100);
        assert_eq!(delivered(&drain(&mut tl)), 0);
        // Host case and the default port do not make another transaction.
        let via = |v: &str| Via::parse(v).unwrap();
        assert_eq!(
            sent_by(&via("SIP/2.0/UDP EXAMPLE.com;branch=z9hG4bKx")),
            sent_by(&via("SIP/2.0/UDP example.com:5060;branch=z9hG4bKx"))
        );
        assert_ne!(
            sent_by(&via("SIP/2.0/TLS example.com;branch=z9hG4bKx")),
            sent_by(&via("SIP/2.0/TLS example.com:5060;branch=z9hG4bKx"))
        );
    }

    #[test]
    fn invite_server_sends_trying_absorbs_retransmissions_and_retransmits_final_until_ack() {
        let mut tl = TransactionLayer::new();
        let inv = request("INVITE", "z9hG4bKa", 1);
        tl.on_message(Message::Request(inv.clone()), peer(5070), 0);
        let ev = drain(&mut tl);
        assert_eq!(sent_status(&ev[0]).as_deref(), Some("SIP/2.0 100 Trying"));
        assert!(matches!(ev[1], TxEvent::Request { .. }));
        // A retransmitted INVITE is absorbed: the TU does not see it again, 100 is resent.
        tl.on_message(Message::Request(inv.clone()), peer(5070), 100);
        let ev = drain(&mut tl);
        assert_eq!(ev.len(), 1);
        assert_eq!(sent_status(&ev[0]).as_deref(), Some("SIP/2.0 100 Trying"));
        // 486 is retransmitted with Timer G doubling until the ACK arrives.
        tl.respond(
            response_to(&inv, 486, "Busy Here", Some("t")),
            peer(5070),
            200,
        );
        assert_eq!(drain(&mut tl).len(), 1);
        tl.on_timeout(200 + T1);
        assert_eq!(
            sent_status(&drain(&mut tl)[0]).as_deref(),
            Some("SIP/2.0 486 Busy Here")
        );
        tl.on_timeout(200 + T1 + 2 * T1);
        assert_eq!(drain(&mut tl).len(), 1);
        tl.on_message(
            Message::Request(request("ACK", "z9hG4bKa", 1)),
            peer(5070),
            2000,
        );
        assert!(drain(&mut tl).is_empty(), "ACK for a non-2xx is absorbed");
        tl.on_timeout(10_000);
        assert!(drain(&mut tl).is_empty());
        assert!(tl.is_empty(), "Timer I ended the transaction");
    }

    #[test]
    fn accepted_2xx_is_retransmitted_until_the_ack_and_ack_timeout_is_reported() {
        let mut tl = TransactionLayer::new();
        let inv = request("INVITE", "z9hG4bKb", 7);
        tl.on_message(Message::Request(inv.clone()), peer(5070), 0);
        drain(&mut tl);
        tl.respond(response_to(&inv, 200, "OK", Some("t")), peer(5070), 0);
        drain(&mut tl);
        tl.on_timeout(T1);
        assert_eq!(
            sent_status(&drain(&mut tl)[0]).as_deref(),
            Some("SIP/2.0 200 OK")
        );
        // No ACK ever: after 64*T1 the TU is told to end the dialog.
        let mut saw_timeout = false;
        let mut now = T1;
        while now <= 64 * T1 {
            now += T1;
            tl.on_timeout(now);
            saw_timeout |= drain(&mut tl)
                .iter()
                .any(|e| matches!(e, TxEvent::AckTimeout { call_id } if call_id == "c1"));
        }
        assert!(saw_timeout);
        // With an ACK (new branch, same CSeq number) the retransmissions stop and the TU gets the ACK.
        let mut tl = TransactionLayer::new();
        tl.on_message(Message::Request(inv.clone()), peer(5070), 0);
        drain(&mut tl);
        tl.respond(response_to(&inv, 200, "OK", Some("t")), peer(5070), 0);
        drain(&mut tl);
        tl.on_message(
            Message::Request(request("ACK", "z9hG4bKnew", 7)),
            peer(5070),
            10,
        );
        assert!(drain(&mut tl)
            .iter()
            .any(|e| matches!(e, TxEvent::Request { req, .. } if req.method == "ACK")));
        tl.on_timeout(T1 * 4);
        assert!(
            drain(&mut tl).iter().all(|e| sent_status(e).is_none()),
            "no 2xx retransmission after ACK"
        );
    }

    #[test]
    fn rfc2543_style_ack_with_another_branch_confirms_the_failed_invite() {
        let mut tl = TransactionLayer::new();
        let inv = request("INVITE", "z9hG4bKc", 1);
        tl.on_message(Message::Request(inv.clone()), peer(5070), 0);
        tl.respond(
            response_to(&inv, 407, "Proxy Authentication Required", Some("t")),
            peer(5070),
            0,
        );
        drain(&mut tl);
        tl.on_message(
            Message::Request(request("ACK", "z9hG4bKother", 1)),
            peer(5070),
            10,
        );
        assert!(drain(&mut tl).is_empty());
        tl.on_timeout(T1 * 8);
        assert!(
            drain(&mut tl).is_empty(),
            "no 407 retransmission after the ACK"
        );
    }

    #[test]
    fn invite_client_retransmits_acks_failures_and_times_out() {
        let mut tl = TransactionLayer::new();
        let inv = request("INVITE", "z9hG4bKd", 1);
        let key = tl.send_request(inv.clone(), peer(5080), 0).unwrap();
        assert_eq!(drain(&mut tl).len(), 1);
        tl.on_timeout(T1);
        assert_eq!(drain(&mut tl).len(), 1, "Timer A retransmission");
        tl.on_timeout(T1 + 2 * T1);
        assert_eq!(drain(&mut tl).len(), 1, "Timer A doubles");
        // 180 stops retransmissions and reaches the TU.
        let ringing = response_to(&inv, 180, "Ringing", Some("r"));
        tl.on_message(Message::Response(ringing), peer(5080), 2000);
        assert!(
            matches!(&drain(&mut tl)[..], [TxEvent::Response { resp, .. }] if resp.status == 180)
        );
        tl.on_timeout(4000);
        assert!(drain(&mut tl).is_empty());
        // 486: the layer ACKs it itself and reports it once; a retransmitted 486 is re-ACKed only.
        let busy = response_to(&inv, 486, "Busy Here", Some("r"));
        tl.on_message(Message::Response(busy.clone()), peer(5080), 4100);
        let ev = drain(&mut tl);
        assert!(ev
            .iter()
            .any(|e| matches!(e, TxEvent::Send { bytes, .. } if bytes.starts_with(b"ACK "))));
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, TxEvent::Response { .. }))
                .count(),
            1
        );
        tl.on_message(Message::Response(busy), peer(5080), 4200);
        let ev = drain(&mut tl);
        assert_eq!(ev.len(), 1);
        assert!(matches!(&ev[0], TxEvent::Send { bytes, .. } if bytes.starts_with(b"ACK ")));
        assert_eq!(
            tl.client_request(&key).map(|r| r.method.as_str()),
            Some("INVITE")
        );
        // Another INVITE that is never answered times out (Timer B).
        let inv2 = request("INVITE", "z9hG4bKe", 2);
        let key2 = tl.send_request(inv2, peer(5080), 0).unwrap();
        let mut timed_out = false;
        for t in (0..=64 * T1 + T1).step_by(T1 as usize) {
            tl.on_timeout(t);
            timed_out |= drain(&mut tl)
                .iter()
                .any(|e| matches!(e, TxEvent::Timeout { key } if *key == key2));
        }
        assert!(timed_out);
        // One that got a provisional response rings on past Timer B.
        let inv3 = request("INVITE", "z9hG4bKg", 3);
        let key3 = tl.send_request(inv3.clone(), peer(5080), 0).unwrap();
        let ringing = response_to(&inv3, 180, "Ringing", Some("t3"));
        tl.on_message(Message::Response(ringing), peer(5080), 100);
        tl.on_timeout(64 * T1 + T1);
        assert!(!drain(&mut tl)
            .iter()
            .any(|e| matches!(e, TxEvent::Timeout { key } if *key == key3)));
        // Cancelled: it ends 64*T1 after the CANCEL if no final response comes.
        let cancel = crate::builder::cancel_for(&inv3);
        tl.send_request(cancel, peer(5080), 40_000).unwrap();
        drain(&mut tl);
        tl.on_timeout(40_000 + 64 * T1);
        assert!(drain(&mut tl)
            .iter()
            .any(|e| matches!(e, TxEvent::Timeout { key } if *key == key3)));
        // A peer that rang and vanished: Timer C ends it.
        let inv4 = request("INVITE", "z9hG4bKh", 4);
        let key4 = tl.send_request(inv4.clone(), peer(5081), 100_000).unwrap();
        let ringing = response_to(&inv4, 180, "Ringing", Some("t4"));
        tl.on_message(Message::Response(ringing), peer(5081), 100_100);
        tl.on_timeout(100_100 + TIMER_C - 1);
        assert!(!drain(&mut tl)
            .iter()
            .any(|e| matches!(e, TxEvent::Timeout { key } if *key == key4)));
        tl.on_timeout(100_100 + TIMER_C);
        assert!(drain(&mut tl)
            .iter()
            .any(|e| matches!(e, TxEvent::Timeout { key } if *key == key4)));
    }

    #[test]
    fn non_invite_client_caps_retransmissions_at_t2() {
        let mut tl = TransactionLayer::new();
        tl.send_request(request("BYE", "z9hG4bKf", 3), peer(5080), 0)
            .unwrap();
        drain(&mut tl);
        let mut sends = Vec::new();
        for t in (0..=20_000).step_by(100) {
            tl.on_timeout(t);
            if drain(&mut tl)
                .iter()
                .any(|e| matches!(e, TxEvent::Send { .. }))
            {
                sends.push(t);
            }
        }
        let gaps: Vec<u64> = sends.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g <= T2 + 100), "{gaps:?}");
        assert!(gaps.iter().any(|g| *g >= T2), "reaches T2: {gaps:?}");
    }

    #[test]
    fn tcp_transactions_do_not_retransmit() {
        let mut tl = TransactionLayer::new();
        let tcp = Peer {
            transport: Transport::Tcp,
            ..peer(5080)
        };
        tl.send_request(request("INVITE", "z9hG4bKg", 1), tcp, 0)
            .unwrap();
        drain(&mut tl);
        tl.on_timeout(10 * T1);
        assert!(drain(&mut tl).is_empty());
    }
}
