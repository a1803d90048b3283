//! Calls to numbers through the trunks: the first address of the best
//! trunk gets the INVITE (Request-URI and To in the provider's domain,
//! caller ID in From and P-Asserted-Identity, or withheld; a campaign's
//! own trunks and caller ID replace the trunks' rules); when it answers
//! 408/5xx, or nothing at all within the trunk's `failover_ms`, the next
//! address or trunk gets a fresh INVITE on the same leg (RFC 3263 §4.3),
//! so the call and the agent never see the failed attempt.

use switchboard_call::{Event, LegId};
use switchboard_center::TrunkHealth;
use switchboard_sip::{NameAddr, Peer, TxKey, Uri};

use crate::leg::{LegState, Side, TrunkRoute};
use crate::uac::OutInvite;
use crate::Switch;

/// Final responses after which the next trunk or address is tried: the
/// destination is busy or broken (RFC 3263 §4.3, and what carriers'
/// dispatchers do), rather than the number (404, 486) or the callee (603).
pub(crate) fn fails_over(status: u16) -> bool {
    matches!(status, 408 | 500 | 502 | 503 | 504)
}

impl Switch {
    /// Dial `number` for `caller` on `leg` through the trunks.
    /// A call of a campaign with outbound settings leaves through the
    /// campaign's trunks (in its order) with the campaign's caller ID.
    pub(crate) fn dial_number(&mut self, call: &str, leg: LegId, number: &str, caller: &str) {
        let outbound = self
            .calls
            .get(call)
            .and_then(|e| e.campaign.as_deref())
            .and_then(|c| self.campaign(c))
            .map(|c| c.outbound.clone())
            .unwrap_or_default();
        let mut candidates = if outbound.trunks.is_empty() {
            self.trunks.candidates(number)
        } else {
            self.trunks.candidates_named(&outbound.trunks)
        };
        if candidates.is_empty() && !outbound.trunks.is_empty() {
            let names = outbound.trunks.join(", ");
            tracing::warn!(
                call,
                number,
                names,
                "none of the campaign's trunks is configured or resolved"
            );
            let why = format!("none of the campaign's trunks ({names}) is configured or resolved");
            self.log_call(call, "NO_TRUNK", &why, None);
            self.pending_events
                .push((call.to_string(), Event::Failed(leg, 503)));
            return;
        }
        if candidates.is_empty() {
            tracing::warn!(
                call,
                number,
                "no trunk carries the number (or none resolved)"
            );
            self.log_call(call, "NO_TRUNK", "no trunk can carry this number", None);
            self.pending_events
                .push((call.to_string(), Event::Failed(leg, 503)));
            return;
        }
        let current = candidates.remove(0);
        let route = TrunkRoute {
            number: number.to_string(),
            caller: caller.to_string(),
            current,
            rest: candidates,
            failover_at: None,
            caller_id: outbound.caller_id,
        };
        self.invite_trunk(call, leg, route, false);
    }

    /// Send the INVITE of `route.current`.
    fn invite_trunk(&mut self, call: &str, leg: LegId, mut route: TrunkRoute, ringing: bool) {
        let (i, addr) = route.current;
        let Some(t) = self.trunks.list.get(i).map(|t| t.cfg.clone()) else {
            return;
        };
        tracing::info!(call, trunk = t.name, to = %addr, number = route.number, "dialling out");
        let domain = t.domain();
        let our_host = self.cfg.public_ip().to_string();
        let user_host = if t.username.is_some() {
            domain.clone()
        } else {
            our_host
        };
        // The campaign's caller ID replaces the trunk's (number, name and privacy).
        let (shown, display, privacy, asserted) = match &route.caller_id {
            Some(c) => (c.number.clone(), c.name.clone(), c.privacy, true),
            None => (
                t.caller_id
                    .clone()
                    .or_else(|| t.username.clone())
                    .unwrap_or_else(|| route.caller.clone()),
                None,
                t.privacy,
                t.caller_id.is_some() || t.privacy,
            ),
        };
        let mut identity = NameAddr::new(Uri::sip(Some(&shown), &user_host, None));
        identity.display = display;
        let mut headers = Vec::new();
        let from = if privacy {
            headers.push(("Privacy", "id".to_string()));
            let mut f = NameAddr::new(Uri::sip(Some("anonymous"), "anonymous.invalid", None));
            f.display = Some("Anonymous".into());
            f
        } else {
            identity.clone()
        };
        if asserted {
            headers.push(("P-Asserted-Identity", identity.to_string()));
        }
        let out = OutInvite {
            from,
            to: NameAddr::new(Uri::sip(Some(&route.number), &domain, None)),
            request_uri: Uri::sip(Some(&route.number), &domain, t.port),
            peer: Peer {
                addr,
                transport: t.transport,
            },
            party: route.number.clone(),
            headers,
            agent: None,
            srtp: t.srtp,
        };
        self.invite_out_with(call, leg, out);
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if let (Some(u), Some(p)) = (t.username, t.password) {
            l.trunk_auth = Some((u, p));
        }
        if let Side::Outgoing { ringing: r, .. } = &mut l.side {
            *r = ringing;
        }
        if !route.rest.is_empty() && t.failover_ms > 0 {
            let at = self.now + t.failover_ms;
            route.failover_at = Some(at);
            self.failover_timers.insert((at, leg));
        }
        l.route = Some(route);
    }

    /// Try the next trunk or address of `leg` after its current one failed
    /// (`why`); false when there is none left (the failure stands).
    pub(crate) fn failover(&mut self, leg: LegId, why: &str) -> bool {
        let Some(l) = self.legs.get(&leg) else {
            return false;
        };
        let cancelled = matches!(
            l.side,
            Side::Outgoing {
                cancelled: true,
                ..
            }
        );
        let ringing = matches!(l.side, Side::Outgoing { ringing: true, .. });
        let Some(route) = l.route.clone() else {
            return false;
        };
        if cancelled || l.state == LegState::Confirmed || route.rest.is_empty() {
            return false;
        }
        let call = l.call.clone();
        let key = (l.dialog.call_id.clone(), l.dialog.local_tag.clone());
        let (i, addr) = route.current;
        if why == "no response" {
            self.trunks
                .mark(i, addr, TrunkHealth::Down, "no response to INVITE");
        }
        let name = self.trunks.list.get(i).map(|t| t.cfg.name.clone());
        tracing::info!(call, trunk = name, to = %addr, why, "trunk failed: trying the next");
        let detail = format!("{} ({addr}): {why}", name.unwrap_or_default());
        self.log_call(&call, "TRUNK_FAILOVER", &detail, None);
        self.release_leg_media(leg);
        self.dialogs.remove(&key);
        let mut rest = route.rest;
        let next = TrunkRoute {
            current: rest.remove(0),
            rest,
            failover_at: None,
            ..route
        };
        self.invite_trunk(&call, leg, next, ringing);
        true
    }

    /// INVITEs to trunk addresses that did not answer at all in time: give
    /// up on them (no CANCEL is possible without a provisional) and fail over.
    pub(crate) fn failover_tick(&mut self) {
        let now = self.now;
        while let Some(&(d, leg)) = self.failover_timers.first() {
            if d > now {
                break;
            }
            self.failover_timers.pop_first();
            let Some(l) = self.legs.get(&leg) else {
                continue;
            };
            let Side::Outgoing {
                invite,
                provisional: false,
                cancelled: false,
                ..
            } = &l.side
            else {
                continue;
            };
            // Only the attempt this timer was armed for (not a later one).
            if l.state != LegState::Setup || l.route.as_ref().and_then(|r| r.failover_at) != Some(d)
            {
                continue;
            }
            let Some(key) = TxKey::of_request(invite) else {
                continue;
            };
            if !self.client_tx.contains_key(&key) {
                continue;
            }
            self.tl.abandon(&key);
            self.client_tx.remove(&key);
            self.failover(leg, "no response");
        }
    }

    /// A response from a trunk address shows it is alive (and the
    /// no-answer failover is off for this attempt).
    pub(crate) fn trunk_answered(&mut self, leg: LegId) {
        let Some(route) = self.legs.get_mut(&leg).and_then(|l| l.route.as_mut()) else {
            return;
        };
        route.failover_at = None;
        let (i, addr) = route.current;
        self.trunks.mark(i, addr, TrunkHealth::Up, "");
    }
}
