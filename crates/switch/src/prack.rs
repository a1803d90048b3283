//! Reliable provisional responses (RFC 3262) as UAS, for callers whose
//! INVITE carries `Require: 100rel` (some providers insist on it): our 18x
//! then carries `Require: 100rel` and an `RSeq`, and is retransmitted (T1,
//! doubling) until the caller's PRACK acknowledges it; the PRACK is answered
//! 200. Without a PRACK within 64*T1 the INVITE is refused with 500 and the
//! call ends (RFC 3262 §3). A caller that only supports `100rel` gets plain
//! provisional responses. Retransmissions run on deadlines, earliest first.

use std::collections::BTreeSet;

use switchboard_call::{Event, LegId};
use switchboard_sip::{CSeq, Peer, Request, Response};

use super::leg::{LegState, Side};
use super::Switch;

/// RFC 3261 T1 (ms): the first retransmission interval.
const T1: u64 = 500;

/// A leg's reliable provisional responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reliable {
    /// None is waiting for a PRACK; `next_rseq` numbers the next one.
    Idle {
        /// RSeq of the next reliable provisional response.
        next_rseq: u32,
    },
    /// One is retransmitted until its PRACK arrives.
    Pending {
        /// Its RSeq.
        rseq: u32,
        /// The response as sent.
        bytes: Vec<u8>,
        /// Next retransmission (ms).
        next: u64,
        /// Current interval (ms).
        interval: u64,
        /// When to give up (ms).
        give_up: u64,
    },
}

/// Whether an INVITE requires reliable provisional responses.
pub(crate) fn required(req: &Request) -> Option<Reliable> {
    let required = req
        .headers_all("Require")
        .iter()
        .any(|o| o.trim().eq_ignore_ascii_case("100rel"));
    // RFC 3262 §3: the first RSeq is random, between 1 and 2**31 - 1.
    required.then(|| Reliable::Idle {
        next_rseq: rand::random::<u32>() % 0x7fff_0000 + 1,
    })
}

/// Retransmission deadlines of pending reliable provisional responses.
#[derive(Debug, Default)]
pub(crate) struct Timers(BTreeSet<(u64, LegId)>);

impl Timers {
    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<u64> {
        self.0.first().map(|(d, _)| *d)
    }
}

impl Switch {
    /// Send a provisional response on an incoming leg: reliably when its
    /// INVITE required `100rel` (and none is waiting for its PRACK: then
    /// this one is left out, RFC 3262 §3), plainly otherwise.
    pub(super) fn send_provisional(&mut self, leg: LegId, mut r: Response) {
        let now = self.now;
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let peer = l.dialog.peer;
        match l.reliable {
            None => {}
            Some(Reliable::Pending { .. }) => return,
            Some(Reliable::Idle { next_rseq }) => {
                r.headers.push("Require", "100rel");
                r.headers.push("RSeq", next_rseq.to_string());
                l.reliable = Some(Reliable::Pending {
                    rseq: next_rseq,
                    bytes: r.to_bytes(),
                    next: now + T1,
                    interval: T1,
                    give_up: now + 64 * T1,
                });
                self.prack_timers.0.insert((now + T1, leg));
            }
        }
        self.tl.respond(r, peer, now);
    }

    /// Retransmit the due reliable provisional responses; give up on those
    /// never acknowledged.
    pub(super) fn prack_tick(&mut self, now: u64) {
        while let Some(&(due, leg)) = self.prack_timers.0.first() {
            if due > now {
                break;
            }
            self.prack_timers.0.pop_first();
            let Some(l) = self.legs.get_mut(&leg) else {
                continue;
            };
            let Some(Reliable::Pending {
                rseq,
                bytes,
                next,
                interval,
                give_up,
            }) = l.reliable.as_mut()
            else {
                continue;
            };
            let unanswered = l.state == LegState::Setup
                && matches!(
                    l.side,
                    Side::Incoming {
                        answered: false,
                        ..
                    }
                );
            if *next != due || !unanswered {
                continue;
            }
            if now >= *give_up {
                let (call, rseq) = (l.call.clone(), *rseq);
                l.reliable = Some(Reliable::Idle {
                    next_rseq: rseq.wrapping_add(1),
                });
                tracing::info!(
                    call,
                    leg,
                    "no PRACK for our reliable provisional: refusing the call"
                );
                self.reject_leg(leg, 500);
                self.pending_events.push((call, Event::HungUp(leg)));
                continue;
            }
            *interval *= 2;
            *next = (now + *interval).min(*give_up);
            let (next, bytes, peer) = (*next, bytes.clone(), l.dialog.peer);
            self.prack_timers.0.insert((next, leg));
            self.sink.send(peer, bytes);
        }
    }

    /// A PRACK: acknowledges the pending reliable provisional response its
    /// `RAck` names (200), or matches none (481).
    pub(super) fn on_prack(&mut self, req: Request, from: Peer, leg: LegId) {
        let rack = req.header("RAck").and_then(|v| {
            let mut it = v.split_whitespace();
            let rseq = it.next()?.parse::<u32>().ok()?;
            let cseq = CSeq::parse(&it.collect::<Vec<_>>().join(" ")).ok()?;
            Some((rseq, cseq))
        });
        let matched = self.legs.get_mut(&leg).is_some_and(|l| {
            let invite_cseq = match &l.side {
                Side::Incoming { invite, .. } => invite
                    .header("CSeq")
                    .and_then(|c| CSeq::parse(c).ok())
                    .map(|c| c.seq),
                Side::Outgoing { .. } | Side::Browser => None,
            };
            let Some(Reliable::Pending { rseq, .. }) = l.reliable else {
                return false;
            };
            let ok = rack.as_ref().is_some_and(|(r, c)| {
                *r == rseq && c.method == "INVITE" && Some(c.seq) == invite_cseq
            });
            if ok {
                l.reliable = Some(Reliable::Idle {
                    next_rseq: rseq.wrapping_add(1),
                });
            }
            ok
        });
        if matched {
            self.respond(&req, from, 200, "OK", None);
        } else {
            self.respond(&req, from, 481, "Call/Transaction Does Not Exist", None);
        }
    }
}
