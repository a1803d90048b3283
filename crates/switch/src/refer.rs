//! Transfers requested by a phone: REFER (blind, RFC 3515) and REFER with
//! Replaces (attended, RFC 3891), with the NOTIFY of their progress.

use switchboard_call::Target;
use switchboard_sip::{NameAddr, Peer, Request};

use super::leg::LegState;
use super::{Purpose, Switch};

impl Switch {
    /// Blind transfer requested by the agent's phone (RFC 3515): mapped to the
    /// same blind-transfer command as the API, with NOTIFY progress (sipfrag).
    /// With Replaces in the Refer-To it is an attended transfer ([`Self::on_refer_replaces`]).
    pub(super) fn on_refer(&mut self, req: Request, from: Peer, leg_id: u64) {
        let Some(l) = self.legs.get(&leg_id) else {
            return;
        };
        let call = l.call.clone();
        let Some(refer_to) = req.header("Refer-To").and_then(|r| NameAddr::parse(r).ok()) else {
            self.respond(
                &req,
                from,
                400,
                "Bad Request (Refer-To missing or invalid)",
                None,
            );
            return;
        };
        if let Some(replaces) = refer_to.uri.headers.as_deref().and_then(replaces_param) {
            self.on_refer_replaces(&req, from, leg_id, &replaces);
            return;
        }
        let controller = self.calls.get(&call).and_then(|e| {
            e.call
                .agent()
                .filter(|a| a.0 == leg_id)
                .and(e.call.controller().map(str::to_string))
        });
        let Some(agent) = controller else {
            self.respond(
                &req,
                from,
                403,
                "Forbidden (only the agent handling the call can transfer it)",
                None,
            );
            return;
        };
        let dialed = refer_to.uri.user.clone().unwrap_or_default();
        let Some(target) = self.route(&dialed, true) else {
            self.respond(&req, from, 404, "Not Found (transfer target)", None);
            return;
        };
        let actor = switchboard_center::Actor {
            username: agent,
            supervisor: false,
            campaigns: None,
        };
        match self.api_command(
            &actor,
            &call,
            switchboard_call::Command::BlindTransfer(target),
        ) {
            Ok(_) => {
                self.respond(&req, from, 202, "Accepted", None);
                self.notify_refer(leg_id, "SIP/2.0 200 OK", true);
            }
            Err(e) => {
                tracing::info!(call, e.message, "phone transfer refused");
                self.respond(&req, from, 603, "Decline", None);
            }
        }
    }

    /// Attended transfer requested by the agent's phone (REFER with Replaces,
    /// RFC 3515 + RFC 3891): the phone has two dialogs with us, one per call;
    /// the REFER comes on one and Replaces names the other. The older call
    /// (the customer's) keeps going: the party of the other call takes the
    /// agent's place in it, and the other call ends without hanging that party up.
    fn on_refer_replaces(&mut self, req: &Request, from: Peer, leg_id: u64, replaces: &str) {
        let mut parts = replaces.split(';');
        let call_id = parts.next().unwrap_or_default().trim().to_string();
        // Match leniently: either tag may be our local tag for that dialog.
        let other = parts
            .filter_map(|p| p.split_once('='))
            .filter(|(k, _)| {
                let k = k.trim().to_ascii_lowercase();
                k == "to-tag" || k == "from-tag"
            })
            .find_map(|(_, v)| self.dialogs.get(&(call_id.clone(), v.trim().to_string())))
            .copied()
            .filter(|o| *o != leg_id && self.legs.contains_key(o));
        let Some(other) = other else {
            self.respond(
                req,
                from,
                481,
                "Call Does Not Exist (Replaces dialog)",
                None,
            );
            return;
        };
        let (cx, cy) = (
            self.legs[&leg_id].call.clone(),
            self.legs[&other].call.clone(),
        );
        let (Some(ex), Some(ey)) = (self.calls.get(&cx), self.calls.get(&cy)) else {
            self.respond(
                req,
                from,
                481,
                "Call Does Not Exist (Replaces dialog)",
                None,
            );
            return;
        };
        if cx == cy {
            self.respond(
                req,
                from,
                403,
                "Forbidden (Replaces names the same call)",
                None,
            );
            return;
        }
        // The customer's call is the older one: it stays.
        let refer_on = cx.clone();
        let ((keep, ak), (donor, ad)) = if ey.started_at < ex.started_at {
            ((cy, other), (cx, leg_id))
        } else {
            ((cx, leg_id), (cy, other))
        };
        let k = &self.calls[&keep].call;
        let agent = k
            .agent()
            .filter(|a| a.0 == ak)
            .and(k.controller().map(str::to_string));
        let d = &self.calls[&donor].call;
        // The phone's leg in the other call is its agent side (it dialled, or was
        // called) or its customer side (another agent called it); the party on
        // the far side moves.
        let moved = match (d.agent(), d.customer_leg()) {
            (Some((a, Some(name))), Some(c)) if a == ad && Some(name) == agent.as_deref() => {
                Some(c)
            }
            (Some((a, _)), Some(c)) if c == ad => Some(a),
            _ => None,
        }
        .filter(|_| {
            matches!(
                d.state(),
                switchboard_call::CallState::Connected | switchboard_call::CallState::Held
            )
        })
        .filter(|m| {
            self.legs
                .get(m)
                .is_some_and(|l| l.state == LegState::Confirmed)
        });
        let (Some(agent), Some(moved)) = (agent, moved) else {
            self.respond(
                req,
                from,
                403,
                "Forbidden (only the agent handling both calls can transfer them)",
                None,
            );
            return;
        };
        let m = &self.legs[&moved];
        let name = m.agent.clone().or_else(|| {
            d.agent()
                .filter(|a| a.0 == moved)
                .and_then(|a| a.1.map(str::to_string))
        });
        let target = match name {
            Some(b) => Target::Agent(b),
            None => Target::Number(m.party.clone()),
        };
        let entry = self.calls.get_mut(&keep).expect("checked");
        let actions = match entry
            .call
            .command(switchboard_call::Command::AdoptAgentSide {
                leg: moved,
                target: target.clone(),
            }) {
            Ok(a) => a,
            Err(e) => {
                tracing::info!(call = keep, why = e.0, "phone attended transfer refused");
                self.respond(req, from, 603, "Decline", None);
                return;
            }
        };
        tracing::info!(
            call = keep,
            from_call = donor,
            refer_on,
            %target,
            agent,
            "attended transfer by phone"
        );
        // Accept and report success before the phone's legs get their BYE.
        self.respond(req, from, 202, "Accepted", None);
        self.notify_refer(leg_id, "SIP/2.0 200 OK", true);
        if let Some(mut l) = self.remove_leg(moved) {
            l.call = keep.clone();
            self.insert_leg(l);
        }
        self.apply(&keep, actions);
        if let Some(e) = self.calls.get_mut(&donor) {
            match e.call.command(switchboard_call::Command::Detach(moved)) {
                Ok(actions) => self.apply(&donor, actions),
                Err(e) => tracing::warn!(call = donor, why = e.0, "detach refused"),
            }
        }
        self.drain();
    }

    /// NOTIFY the transferor of a REFER's progress.
    fn notify_refer(&mut self, leg: u64, sipfrag: &str, last: bool) {
        let Some(t) = self.legs.get(&leg).map(|l| l.dialog.peer.transport) else {
            return;
        };
        let (via, contact) = (self.via_host_for(t), self.contact_for(t));
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let mut n = l.request("NOTIFY", &via, &contact);
        n.headers.push("Event", "refer");
        n.headers.push(
            "Subscription-State",
            if last {
                "terminated;reason=noresource"
            } else {
                "active;expires=60"
            },
        );
        n.headers
            .push("Content-Type", "message/sipfrag;version=2.0");
        n.body = format!("{sipfrag}\r\n").into_bytes();
        let peer = l.dialog.peer;
        if let Some(k) = self.tl.send_request(n, peer, self.now) {
            self.client_tx.insert(k, (leg, Purpose::InDialog));
        }
    }
}

/// The Replaces value of a Refer-To URI's header part (`Replaces=...&...`),
/// percent-decoded.
fn replaces_param(headers: &str) -> Option<String> {
    let v = headers
        .split('&')
        .filter_map(|h| h.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("replaces"))?
        .1;
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(x)) => {
                out.push(x);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
