//! Target `transaction`: a script (see [`crate::script`]) driving the SIP
//! transaction layer as the switch does.
//!
//! Steps:
//! * `sip P` / `raw P` / `tcp P`: peer `P` (0-4) sends the payload (a sipp
//!   template for `sip` and `tcp`, bytes as they are for `raw`); it is parsed
//!   and, as in the switch, a request reaches the layer only once
//!   `validate_request` accepts it;
//! * `answer K S`: the transaction user answers the `K`-th latest request it
//!   got with status `S`;
//! * `send P`: the payload (a template) is a request we send to peer `P`;
//! * `wait MS`: time passes (at most 10 minutes a step), timers fire.
//!
//! Asserts that every message the layer asks to send parses, that timers
//! never stall (a due deadline that does not move), and, at the end, once
//! every request got a final answer and enough time passed, that no
//! transaction and no timer is left (no leak).

use std::net::SocketAddr;

use switchboard_sip::{
    builder, parse_message, validate_request, Message, Peer, Request, TransactionLayer, Transport,
    TxEvent,
};

use crate::script::{expand, steps, PeerState};

/// Virtual start time (ms).
const T0: u64 = 1_796_126_400_000;

struct Tu {
    tl: TransactionLayer,
    now: u64,
    peers: Vec<PeerState>,
    /// Requests the transaction user got and has not answered finally.
    pending: Vec<(Request, Peer)>,
}

impl Tu {
    fn peer_index(&self, addr: SocketAddr) -> Option<usize> {
        self.peers.iter().position(|p| p.addr == addr)
    }

    fn drain(&mut self) {
        while let Some(ev) = self.tl.poll_event() {
            match ev {
                TxEvent::Send { peer, bytes } => {
                    let parsed = parse_message(&bytes);
                    assert!(
                        parsed.is_ok(),
                        "the transaction layer sends what does not parse: {parsed:?}\n{}",
                        String::from_utf8_lossy(&bytes)
                    );
                    if let Some(i) = self.peer_index(peer.addr) {
                        self.peers[i].receive(&bytes);
                    }
                }
                TxEvent::Request { req, from } => {
                    if req.method != "ACK" {
                        self.pending.push((req, from));
                    }
                }
                TxEvent::Response { .. } | TxEvent::Timeout { .. } | TxEvent::AckTimeout { .. } => {
                }
            }
        }
    }

    fn inbound(&mut self, bytes: &[u8], from: Peer) {
        match parse_message(bytes) {
            Ok(Message::Request(req)) => {
                if let Err(rej) = validate_request(&req) {
                    if req.method != "ACK" {
                        let resp = builder::response_to(&req, rej.status, &rej.reason, None);
                        self.tl.respond(resp, from, self.now);
                    }
                    return;
                }
                self.tl.on_message(Message::Request(req), from, self.now);
            }
            Ok(resp) => self.tl.on_message(resp, from, self.now),
            Err(_) => {}
        }
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        let mut stalled = 0;
        while let Some(t) = self.tl.next_timeout() {
            if t > end {
                break;
            }
            if t <= self.now {
                stalled += 1;
                assert!(stalled < 10_000, "a due timer never goes away (busy loop)");
            } else {
                stalled = 0;
            }
            self.now = self.now.max(t);
            self.tl.on_timeout(self.now);
            self.drain();
        }
        self.now = end;
        self.tl.on_timeout(self.now);
        self.drain();
    }
}

/// The peers of the stateful targets: the trunk, three agent phones and a
/// stranger.
pub fn peers() -> Vec<PeerState> {
    vec![
        PeerState::new("127.0.0.1:5090", "pstn", ""),
        PeerState::new("127.0.1.1:5060", "1001", "secret"),
        PeerState::new("127.0.1.2:5060", "1002", "secret"),
        PeerState::new("127.0.1.3:5060", "1003", "secret"),
        PeerState::new("127.0.9.9:5070", "1004", "guess"),
    ]
}

/// Target `transaction` (see the module doc).
pub fn transaction(data: &[u8]) {
    let mut tu = Tu {
        tl: TransactionLayer::new(),
        now: T0,
        peers: peers(),
        pending: Vec::new(),
    };
    for step in steps(data).into_iter().take(64) {
        match step.cmd {
            "sip" | "raw" | "tcp" => {
                let i = step.idx(0, tu.peers.len());
                let bytes = if step.cmd == "raw" {
                    step.payload.to_vec()
                } else {
                    expand(step.payload, &mut tu.peers[i], "5000")
                };
                let transport = if step.cmd == "tcp" {
                    Transport::Tcp
                } else {
                    Transport::Udp
                };
                let from = Peer {
                    addr: tu.peers[i].addr,
                    transport,
                };
                tu.inbound(&bytes, from);
            }
            "answer" => {
                if tu.pending.is_empty() {
                    continue;
                }
                let k = tu.pending.len() - 1 - step.idx(0, tu.pending.len());
                let status = (step.args[1] % 600).max(100) as u16;
                let (req, from) = tu.pending[k].clone();
                let resp = builder::response_to(&req, status, "Fuzz", Some("fz-tu"));
                tu.tl.respond(resp, from, tu.now);
                if status >= 200 {
                    tu.pending.remove(k);
                }
            }
            "send" => {
                let i = step.idx(0, tu.peers.len());
                let bytes = expand(step.payload, &mut tu.peers[i], "1001");
                if let Ok(Message::Request(req)) = parse_message(&bytes) {
                    let peer = Peer {
                        addr: tu.peers[i].addr,
                        transport: Transport::Udp,
                    };
                    let _ = tu.tl.send_request(req, peer, tu.now);
                }
            }
            "wait" => tu.advance(step.args[0].min(600_000)),
            _ => {}
        }
        tu.drain();
    }
    // The transaction user answers everything still open, then time passes:
    // every transaction must end and every timer entry go.
    for (req, from) in std::mem::take(&mut tu.pending) {
        let resp = builder::response_to(&req, 500, "Fuzz End", Some("fz-tu"));
        tu.tl.respond(resp, from, tu.now);
    }
    tu.drain();
    tu.advance(3_600_000);
    assert!(
        tu.tl.is_empty(),
        "transactions left after every request was answered and an hour passed: {:?}",
        tu.tl.len()
    );
    assert_eq!(tu.tl.timer_count(), 0, "timer entries left");
}
