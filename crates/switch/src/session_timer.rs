//! Session timers (RFC 4028), per leg, as UAS and as UAC. An INVITE whose
//! `Session-Expires` is below [`MIN_SE_SECS`] gets `422` with `Min-SE`;
//! otherwise our 2xx carries `Session-Expires` with the refresher (and
//! `Require: timer` when the peer supports it). Our INVITEs advertise
//! `Supported: timer` and honour the `Session-Expires` of the 2xx. When we
//! refresh, a re-INVITE (same SDP, version + 1) goes out at half the
//! interval; when the peer refreshes and no refresh comes before the
//! session expires (less the RFC's margin), the leg is ended with BYE. A
//! refresh (re-INVITE or UPDATE) from the peer restarts the timer.
//! Everything runs on deadlines, earliest first; nothing scans the legs.

use std::collections::BTreeSet;

use switchboard_call::{Event, LegId};
use switchboard_sip::builder::{new_branch, response_to};
use switchboard_sip::sdp::AudioSdp;
use switchboard_sip::{CSeq, Headers, Peer, Request, Response, TxKey};

use super::leg::LegState;
use super::sip_in::{codec, ALLOW};
use super::{Purpose, Switch};

/// The shortest session interval we accept (seconds; RFC 4028's default `Min-SE`).
pub const MIN_SE_SECS: u32 = 90;

/// After a failed refresh of ours (491 glare, 5xx...), the next attempt (ms).
const RETRY_MS: u64 = 5_000;

/// A leg's negotiated session timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimer {
    /// Session interval (seconds).
    pub interval_secs: u32,
    /// Whether we send the refreshes (otherwise the peer does).
    pub we_refresh: bool,
    /// Whether the peer supports `timer` (our 2xx then carry `Require: timer`).
    pub peer_supports: bool,
    /// When the session was last refreshed (ms; 0 until the 2xx).
    pub since: u64,
    /// The next deadline (ms): our refresh, or the session's expiry.
    pub due: u64,
    /// One of our refresh re-INVITEs is outstanding.
    pub refreshing: bool,
}

impl SessionTimer {
    fn new(interval_secs: u32, we_refresh: bool, peer_supports: bool) -> SessionTimer {
        SessionTimer {
            interval_secs,
            we_refresh,
            peer_supports,
            since: 0,
            due: 0,
            refreshing: false,
        }
    }

    /// When the session expires if nobody refreshes it, less the margin of
    /// RFC 4028 §10 (the smaller of 32 s and a third of the interval).
    fn expiry(&self) -> u64 {
        let secs = u64::from(self.interval_secs);
        self.since + (secs - (secs / 3).min(32)) * 1000
    }

    /// Restarted at `now` (a refresh went through).
    fn restart(mut self, now: u64) -> SessionTimer {
        self.since = now;
        self.refreshing = false;
        self.due = if self.we_refresh {
            now + u64::from(self.interval_secs) * 500
        } else {
            self.expiry()
        };
        self
    }

    /// `Session-Expires` value in a message whose sender is the UAC (`as_uac`) or the UAS.
    fn header(&self, as_uac: bool) -> String {
        let refresher = if self.we_refresh == as_uac {
            "uac"
        } else {
            "uas"
        };
        format!("{};refresher={refresher}", self.interval_secs)
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negotiation {
    /// No `Session-Expires`.
    Absent,
    /// Below [`MIN_SE_SECS`]: answer `422`.
    TooSmall,
    /// Accepted.
    Timer(SessionTimer),
}

/// Whether `timer` is in the message's `Supported` or `Require`.
fn supports_timer(h: &Headers) -> bool {
    ["Supported", "Require"]
        .iter()
        .flat_map(|n| h.get_all(n))
        .any(|o| o.trim().eq_ignore_ascii_case("timer"))
}

/// `Session-Expires`: the interval and `refresher=uac` (true) / `uas` (false), if given.
fn session_expires(h: &Headers) -> Option<(u32, Option<bool>)> {
    let v = h.get("Session-Expires")?;
    let mut parts = v.split(';');
    let secs = parts.next()?.trim().parse::<u32>().ok()?;
    let refresher = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("refresher"))
        .and_then(|(_, v)| match v.trim().to_ascii_lowercase().as_str() {
            "uac" => Some(true),
            "uas" => Some(false),
            _ => None,
        });
    Some((secs, refresher))
}

/// The session timer a request from the peer asks of us, its UAS (RFC 4028 §9).
pub(crate) fn negotiate(req: &Request) -> Negotiation {
    let Some((secs, refresher)) = session_expires(&req.headers) else {
        return Negotiation::Absent;
    };
    if secs < MIN_SE_SECS {
        return Negotiation::TooSmall;
    }
    let supports = supports_timer(&req.headers);
    // The peer refreshes when it says so, or when it left the choice to us
    // and supports timers; a peer without timer support cannot refresh.
    let peer_refreshes = supports && refresher.unwrap_or(true);
    Negotiation::Timer(SessionTimer::new(secs, !peer_refreshes, supports))
}

/// The session timer a 2xx to our INVITE sets (RFC 4028 §7.2): none without
/// `Session-Expires`; we refresh unless it names the UAS.
fn from_answer(resp: &Response) -> Option<SessionTimer> {
    let (secs, refresher) = session_expires(&resp.headers)?;
    Some(SessionTimer::new(
        secs.max(MIN_SE_SECS),
        refresher != Some(false),
        true,
    ))
}

/// Deadlines of the legs' session timers, earliest first; an entry whose
/// leg is gone or has another deadline by now is skipped when due.
#[derive(Debug, Default)]
pub(crate) struct Timers(BTreeSet<(u64, LegId)>);

impl Timers {
    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<u64> {
        self.0.first().map(|(d, _)| *d)
    }

    /// Arm `leg`'s deadline `due` (a leg moved to another id keeps its timer).
    pub(crate) fn insert(&mut self, due: u64, leg: LegId) {
        self.0.insert((due, leg));
    }
}

impl Switch {
    /// `422 Session Interval Too Small` with our `Min-SE`.
    pub(super) fn reject_too_small(&mut self, req: &Request, peer: Peer, tag: Option<&str>) {
        let mut r = response_to(req, 422, "Session Interval Too Small", tag);
        r.headers.push("Min-SE", MIN_SE_SECS.to_string());
        self.tl.respond(r, peer, self.now);
    }

    /// The session headers of a 2xx we send to the peer's (re-)INVITE or UPDATE.
    pub(super) fn session_headers(&self, leg: LegId, r: &mut Response) {
        let Some(t) = self.legs.get(&leg).and_then(|l| l.session_timer) else {
            return;
        };
        r.headers.push("Supported", "timer");
        if t.peer_supports {
            r.headers.push("Require", "timer");
        }
        r.headers.push("Session-Expires", t.header(false));
    }

    /// (Re)start a leg's session timer at `now` (its 2xx went out or came in).
    pub(super) fn session_started(&mut self, leg: LegId) {
        let now = self.now;
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if let Some(t) = l.session_timer {
            let t = t.restart(now);
            l.session_timer = Some(t);
            self.session_timers.0.insert((t.due, leg));
        }
    }

    /// A refresh (re-INVITE or UPDATE) from the peer, before we answer it 2xx:
    /// renegotiate and restart. `false` when it was answered `422`.
    pub(super) fn session_refresh_in(&mut self, leg: LegId, req: &Request, from: Peer) -> bool {
        let timer = match negotiate(req) {
            Negotiation::TooSmall => {
                self.reject_too_small(req, from, None);
                return false;
            }
            Negotiation::Timer(t) => Some(t),
            // Without Session-Expires the peer still refreshed: keep the terms.
            Negotiation::Absent => self.legs.get(&leg).and_then(|l| l.session_timer),
        };
        if let Some(l) = self.legs.get_mut(&leg) {
            l.session_timer = timer;
        }
        true
    }

    /// The 2xx to our INVITE: the timer it sets, started now.
    pub(super) fn session_answered(&mut self, leg: LegId, resp: &Response) {
        if let Some(l) = self.legs.get_mut(&leg) {
            l.session_timer = from_answer(resp);
        }
        self.session_started(leg);
    }

    /// Fire the due session-timer deadlines.
    pub(super) fn session_timers_tick(&mut self, now: u64) {
        while let Some(&(due, leg)) = self.session_timers.0.first() {
            if due > now {
                break;
            }
            self.session_timers.0.pop_first();
            let Some(l) = self.legs.get_mut(&leg) else {
                continue;
            };
            let Some(mut t) = l.session_timer.filter(|t| t.due == due) else {
                continue;
            };
            if l.state != LegState::Confirmed {
                continue;
            }
            let expiry = t.expiry();
            if t.we_refresh && !t.refreshing && now < expiry {
                t.refreshing = true;
                t.due = expiry;
                l.session_timer = Some(t);
                self.session_timers.0.insert((expiry, leg));
                self.send_refresh(leg, t);
            } else {
                self.session_expired(leg, "no session refresh before the session expired");
            }
        }
    }

    /// Our refresh: a re-INVITE with our SDP (version + 1) and the timer's terms.
    fn send_refresh(&mut self, leg: LegId, t: SessionTimer) {
        let Some((dir, t_)) = self
            .legs
            .get(&leg)
            .map(|l| (l.remote_direction.answer(), l.dialog.peer.transport))
        else {
            return;
        };
        let (via, contact) = (self.via_host_for(t_), self.contact_for(t_));
        let body = self.our_sdp(leg, dir);
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let mut inv = l.dialog.request("INVITE", &via, &contact, &new_branch());
        inv.headers.push("Allow", ALLOW);
        inv.headers.push("Supported", "timer");
        inv.headers.push("Session-Expires", t.header(true));
        inv.headers.push("Content-Type", "application/sdp");
        inv.body = body;
        let peer = l.dialog.peer;
        tracing::debug!(leg, "session refresh");
        if let Some(k) = self.tl.send_request(inv, peer, self.now) {
            self.client_tx.insert(k, (leg, Purpose::Refresh));
        }
    }

    /// A response to our refresh re-INVITE.
    pub(super) fn on_refresh_response(&mut self, resp: Response, key: TxKey, leg: LegId) {
        if resp.status < 200 {
            return;
        }
        self.client_tx.remove(&key);
        match resp.status {
            200..=299 => {
                let seq = resp
                    .header("CSeq")
                    .and_then(|c| CSeq::parse(c).ok())
                    .map_or(1, |c| c.seq);
                self.send_ack(leg, seq);
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.dialog.refresh_target(&resp);
                }
                let ans = AudioSdp::parse(&resp.body).ok();
                if let Some(ans) = &ans {
                    // New keys in the answer to our re-INVITE are taken; none: ours stay.
                    self.key_from_answer(leg, ans);
                }
                let Some(l) = self.legs.get_mut(&leg) else {
                    return;
                };
                if let Some(ans) = ans {
                    l.remote_direction = ans.direction;
                    if !ans.addr.is_unspecified() {
                        let pt = ans.g711().unwrap_or(l.codec_pt);
                        self.media
                            .set_remote(l.media, ans.socket_addr(), codec(pt), ans.dtmf_pt);
                    }
                }
                // The 2xx may change the terms; without Session-Expires we keep ours.
                if let Some(t) = from_answer(&resp) {
                    l.session_timer = Some(t);
                }
                self.session_started(leg);
            }
            408 | 481 => self.refresh_failed(leg, resp.status),
            status => {
                // Glare (491) or a passing failure: try again, the expiry stays.
                tracing::info!(leg, status, "session refresh refused: retrying");
                let Some(l) = self.legs.get_mut(&leg) else {
                    return;
                };
                if let Some(mut t) = l.session_timer {
                    t.refreshing = false;
                    t.due = (self.now + RETRY_MS).min(t.expiry());
                    l.session_timer = Some(t);
                    self.session_timers.0.insert((t.due, leg));
                }
            }
        }
    }

    /// Our refresh timed out or the dialog is gone (RFC 4028 §10): end the leg.
    pub(super) fn refresh_failed(&mut self, leg: LegId, status: u16) {
        tracing::info!(leg, status, "session refresh failed");
        self.session_expired(leg, &format!("session refresh failed ({status})"));
    }

    /// End a leg whose session expired: BYE, and the call hears it hung up.
    fn session_expired(&mut self, leg: LegId, why: &str) {
        let Some(l) = self.legs.get(&leg) else {
            return;
        };
        if l.state == LegState::Terminated {
            return;
        }
        let (call, party) = (l.call.clone(), l.party.clone());
        tracing::warn!(call, leg, why, "session timer expired: hanging up the leg");
        self.log_call(&call, "SESSION_EXPIRED", &format!("{party}: {why}"), None);
        self.end_leg_signalling(leg);
        self.pending_events.push((call, Event::HungUp(leg)));
    }
}
