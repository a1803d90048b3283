//! Incoming SIP requests and responses, mapped to leg and call events.

use switchboard_call::{Call, Event, Target};
use switchboard_sip::builder::{new_tag, response_to};
use switchboard_sip::sdp::{self, AudioSdp};
use switchboard_sip::{CSeq, NameAddr, Peer, Request, Response, TxKey, Uri};

use super::leg::{Dialog, Leg, LegState, Side};
use super::registrar::Auth;
use super::{CallEntry, Purpose, Switch};

/// Methods we answer (the `Allow` header).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, NOTIFY, REFER";

impl Switch {
    pub(super) fn respond(
        &mut self,
        req: &Request,
        peer: Peer,
        status: u16,
        reason: &str,
        tag: Option<&str>,
    ) {
        let resp = response_to(req, status, reason, tag);
        self.tl.respond(resp, peer, self.now);
    }

    pub(super) fn on_request(&mut self, req: Request, from: Peer) {
        let to_tag = req
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.tag().map(str::to_string));
        if let Some(tag) = to_tag {
            return self.in_dialog(req, from, tag);
        }
        match req.method.as_str() {
            "ACK" => {}
            "CANCEL" => self.on_cancel(req, from),
            "REGISTER" => self.on_register(req, from),
            "OPTIONS" => {
                let mut r = response_to(&req, 200, "OK", Some(&new_tag()));
                r.headers.push("Allow", ALLOW);
                r.headers.push("Accept", "application/sdp");
                r.headers.push("Supported", "replaces");
                self.tl.respond(r, from, self.now);
            }
            "INVITE" => self.on_invite(req, from),
            "BYE" | "INFO" | "UPDATE" | "NOTIFY" | "REFER" | "PRACK" => {
                self.respond(&req, from, 481, "Call/Transaction Does Not Exist", None)
            }
            "SUBSCRIBE" | "PUBLISH" | "MESSAGE" => {
                let mut r = response_to(&req, 405, "Method Not Allowed", Some(&new_tag()));
                r.headers.push("Allow", ALLOW);
                self.tl.respond(r, from, self.now);
            }
            _ => {
                let mut r = response_to(&req, 501, "Not Implemented", Some(&new_tag()));
                r.headers.push("Allow", ALLOW);
                self.tl.respond(r, from, self.now);
            }
        }
    }

    fn challenge(&mut self, req: &Request, from: Peer, proxy: bool, stale: bool) {
        let (status, reason, header) = if proxy {
            (407, "Proxy Authentication Required", "Proxy-Authenticate")
        } else {
            (401, "Unauthorized", "WWW-Authenticate")
        };
        let mut r = response_to(req, status, reason, Some(&new_tag()));
        for c in self.registrar.digest.challenges(self.now / 1000, stale) {
            r.headers.push(header, c);
        }
        self.tl.respond(r, from, self.now);
    }

    fn authenticate(&mut self, req: &Request, from: Peer, proxy: bool) -> Option<String> {
        let header = if proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        let agents = &self.agents;
        match self
            .registrar
            .authenticate(req, &from, header, self.now, |u| agents.sip_password(u))
        {
            Auth::Ok(u) => Some(u),
            Auth::Challenge(stale) => {
                self.challenge(req, from, proxy, stale);
                None
            }
            Auth::Forbidden => {
                tracing::info!(from = %from.addr, "wrong SIP credentials");
                self.respond(req, from, 403, "Forbidden", Some(&new_tag()));
                None
            }
            Auth::RateLimited => {
                self.respond(req, from, 403, "Too Many Failed Attempts", Some(&new_tag()));
                None
            }
        }
    }

    fn on_register(&mut self, req: Request, from: Peer) {
        let Some(user) = self.authenticate(&req, from, false) else {
            return;
        };
        let to_user = req
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.uri.user);
        if to_user.as_deref() != Some(user.as_str()) {
            self.respond(
                &req,
                from,
                403,
                "Authenticated user does not match To",
                Some(&new_tag()),
            );
            return;
        }
        match self.registrar.register(&user, &req, from, self.now) {
            Ok(bindings) => {
                let mut r = response_to(&req, 200, "OK", Some(&new_tag()));
                for (uri, exp) in &bindings {
                    r.headers.push("Contact", format!("<{uri}>;expires={exp}"));
                }
                r.headers.push("Date", httpdate(self.now));
                self.tl.respond(r, from, self.now);
                self.agents_registration_changed(&user, !bindings.is_empty());
                let rows = self
                    .registrar
                    .bindings_of(&user)
                    .into_iter()
                    .map(|b| crate::RegistrationRecord {
                        username: user.clone(),
                        contact: b.contact.to_string(),
                        peer_addr: b.peer.addr.to_string(),
                        transport: b.peer.transport.as_str().to_string(),
                        expires_at: b.expires_at as i64,
                    })
                    .collect();
                self.sink.store(crate::StoreOp::Registrations {
                    username: user.clone(),
                    rows,
                });
            }
            Err((status, reason)) => self.respond(&req, from, status, &reason, Some(&new_tag())),
        }
    }

    fn on_cancel(&mut self, req: Request, from: Peer) {
        let branch = req
            .headers_all("Via")
            .first()
            .and_then(|v| switchboard_sip::Via::parse(v).ok())
            .and_then(|v| v.branch().map(str::to_string));
        let leg = branch.and_then(|b| self.invites_by_branch.get(&b).copied());
        let Some(leg) = leg else {
            self.respond(&req, from, 481, "Call/Transaction Does Not Exist", None);
            return;
        };
        self.respond(&req, from, 200, "OK", None);
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if let Side::Incoming { invite, answered } = &mut l.side {
            if !*answered {
                *answered = true;
                let inv = invite.clone();
                let tag = l.dialog.local_tag.clone();
                l.state = LegState::Terminated;
                let call = l.call.clone();
                self.respond(&inv, from, 487, "Request Terminated", Some(&tag));
                self.release_leg_media(leg);
                self.pending_events.push((call, Event::HungUp(leg)));
            }
        }
    }

    fn on_invite(&mut self, req: Request, from: Peer) {
        let tag = new_tag();
        let trunk = self
            .cfg
            .trunks
            .iter()
            .any(|t| t.inbound_from.contains(&from.addr));
        let caller = if trunk {
            None
        } else {
            match self.authenticate(&req, from, true) {
                Some(u) => Some(u),
                None => return,
            }
        };
        let offer = match AudioSdp::parse(&req.body) {
            Ok(o) if o.g711().is_some() => o,
            Ok(_) => {
                self.respond(
                    &req,
                    from,
                    488,
                    "Not Acceptable Here (PCMU or PCMA required)",
                    Some(&tag),
                );
                return;
            }
            Err(_) => {
                self.respond(
                    &req,
                    from,
                    488,
                    "Not Acceptable Here (SDP offer required)",
                    Some(&tag),
                );
                return;
            }
        };
        let dialed = req.uri.user.clone().unwrap_or_default();
        let target = self.route(&dialed, caller.is_some());
        let Some(target) = target else {
            self.respond(&req, from, 404, "Not Found", Some(&tag));
            return;
        };
        if let Target::Agent(a) = &target {
            if caller.as_deref() == Some(a.as_str()) {
                self.respond(&req, from, 486, "Busy Here (calling yourself)", Some(&tag));
                return;
            }
        }
        let from_na = req.header("From").and_then(|f| NameAddr::parse(f).ok());
        let caller_id = caller
            .clone()
            .or_else(|| from_na.as_ref().and_then(|n| n.uri.user.clone()))
            .unwrap_or_else(|| "anonymous".into());
        let campaign = match &target {
            Target::Campaign(c) => Some(c.clone()),
            _ => None,
        };
        self.call_counter += 1;
        let id = format!("{:x}-{}", self.now, self.call_counter);
        let music = self.music_for(campaign.as_deref());
        let (call, leg_id, actions) = match &caller {
            Some(agent) => {
                Call::from_agent_phone(&id, self.call_counter, &music, agent, target.clone())
            }
            None => Call::incoming(&id, self.call_counter, &music, target.clone()),
        };
        let media = match self.new_media_leg() {
            Some(m) => m,
            None => {
                self.respond(
                    &req,
                    from,
                    503,
                    "Service Unavailable (no media ports)",
                    Some(&tag),
                );
                return;
            }
        };
        let pt = offer.g711().unwrap_or(0);
        self.media
            .set_remote(media.id, offer.socket_addr(), codec(pt), offer.dtmf_pt);
        self.media.set_sending(media.id, offer.direction.receives());
        let contact_uri = req
            .header("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
            .map(|n| n.uri)
            .unwrap_or_else(|| req.uri.clone());
        let dialog = Dialog {
            call_id: req.header("Call-ID").unwrap_or_default().to_string(),
            local_tag: tag.clone(),
            remote_tag: from_na.as_ref().and_then(|n| n.tag().map(str::to_string)),
            local_uri: req
                .header("To")
                .and_then(|t| NameAddr::parse(t).ok())
                .map(|mut n| {
                    n.params.retain(|(k, _)| k != "tag");
                    n
                })
                .unwrap_or_else(|| NameAddr::new(req.uri.clone())),
            remote_uri: from_na
                .clone()
                .map(|mut n| {
                    n.params.retain(|(k, _)| k != "tag");
                    n
                })
                .unwrap_or_else(|| NameAddr::new(req.uri.clone())),
            remote_target: contact_uri,
            route_set: req
                .headers_all("Record-Route")
                .into_iter()
                .map(str::to_string)
                .collect(),
            local_cseq: 1,
            peer: from,
        };
        let branch = req
            .headers_all("Via")
            .first()
            .and_then(|v| switchboard_sip::Via::parse(v).ok())
            .and_then(|v| v.branch().map(str::to_string))
            .unwrap_or_default();
        let leg = Leg {
            id: leg_id,
            call: id.clone(),
            side: Side::Incoming {
                invite: req.clone(),
                answered: false,
            },
            state: LegState::Setup,
            dialog,
            media: media.id,
            rtp_port: media.local_port,
            codec_pt: pt,
            dtmf_pt: offer.dtmf_pt,
            sdp_session: rand::random::<u32>() as u64,
            sdp_version: 1,
            party: caller_id.clone(),
            agent: caller.clone(),
            remote_direction: offer.direction,
            ring_deadline: None,
            trunk_auth: None,
        };
        self.dialogs
            .insert((leg.dialog.call_id.clone(), tag.clone()), leg_id);
        self.invites_by_branch.insert(branch, leg_id);
        self.insert_leg(leg);
        let (auto_recording, direction) = match &campaign {
            Some(c) => (self.campaign_records(c), "inbound"),
            None if caller.is_some() => (
                false,
                if matches!(target, Target::Agent(_)) {
                    "internal"
                } else {
                    "outbound"
                },
            ),
            None => (false, "inbound"),
        };
        let campaign_info = campaign.as_deref().and_then(|c| self.campaign(c)).cloned();
        let mut entry = CallEntry::new(
            call,
            direction,
            caller_id,
            dialed.clone(),
            campaign_info.as_ref(),
            self.now,
        );
        entry.auto_recording = auto_recording;
        self.calls.insert(id.clone(), entry);
        self.cdr_started(&id);
        if campaign.is_some() {
            // Queue: answer now so the caller hears the queue's music.
            self.answer_leg(leg_id);
        }
        self.apply(&id, actions);
    }

    /// Decide where a dialled number goes.
    pub(super) fn route(&self, dialed: &str, from_agent: bool) -> Option<Target> {
        if self.agents.exists(dialed) {
            return Some(Target::Agent(dialed.to_string()));
        }
        if let Some(c) = self.campaign_by_did(dialed) {
            return Some(Target::Campaign(c));
        }
        if from_agent && !dialed.is_empty() && !self.cfg.trunks.is_empty() {
            return Some(Target::Number(dialed.to_string()));
        }
        None
    }

    fn in_dialog(&mut self, req: Request, from: Peer, tag: String) {
        let call_id = req.header("Call-ID").unwrap_or_default().to_string();
        let Some(&leg_id) = self.dialogs.get(&(call_id, tag.clone())) else {
            if req.method != "ACK" {
                self.respond(&req, from, 481, "Call/Transaction Does Not Exist", None);
            }
            return;
        };
        match req.method.as_str() {
            "ACK" => {
                let mut confirmed = None;
                if let Some(l) = self.legs.get_mut(&leg_id) {
                    if l.state == LegState::Setup {
                        l.state = LegState::Confirmed;
                        confirmed = Some(l.call.clone());
                    }
                }
                // An agent's own phone leg is only confirmed now: ringing -> on call.
                if let Some(call) = confirmed {
                    self.publish_call(&call);
                }
            }
            "BYE" => {
                self.respond(&req, from, 200, "OK", None);
                let Some(l) = self.legs.get_mut(&leg_id) else {
                    return;
                };
                if l.state == LegState::Terminated {
                    return;
                }
                l.state = LegState::Terminated;
                let call = l.call.clone();
                self.release_leg_media(leg_id);
                self.pending_events.push((call, Event::HungUp(leg_id)));
            }
            "INVITE" | "UPDATE" => self.on_reinvite(req, from, leg_id),
            "INFO" | "NOTIFY" | "OPTIONS" => self.respond(&req, from, 200, "OK", None),
            "REFER" => self.on_refer(req, from, leg_id),
            _ => {
                let mut r = response_to(&req, 405, "Method Not Allowed", None);
                r.headers.push("Allow", ALLOW);
                self.tl.respond(r, from, self.now);
            }
        }
    }

    /// The agent's phone put the call on hold (or resumed): same as the console's
    /// hold, so the customer hears music rather than silence.
    fn phone_hold(&mut self, call: &str, leg: u64, held: bool) {
        let Some(agent) = self.calls.get(call).and_then(|e| {
            e.call
                .agent()
                .filter(|a| a.0 == leg)
                .and(e.call.controller().map(str::to_string))
        }) else {
            return;
        };
        let actor = switchboard_center::Actor {
            username: agent,
            supervisor: false,
        };
        let cmd = if held {
            switchboard_call::Command::Hold
        } else {
            switchboard_call::Command::Unhold
        };
        if let Err(e) = self.api_command(&actor, call, cmd) {
            tracing::debug!(call, e.message, "phone hold not applied");
        }
    }

    /// Blind transfer requested by the agent's phone (RFC 3515): mapped to the
    /// same blind-transfer command as the API, with NOTIFY progress (sipfrag).
    /// With Replaces in the Refer-To it is an attended transfer ([`Self::on_refer_replaces`]).
    fn on_refer(&mut self, req: Request, from: Peer, leg_id: u64) {
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
        let (via, contact) = (self.via_host(), self.contact());
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

    fn on_reinvite(&mut self, req: Request, from: Peer, leg_id: u64) {
        let Some(l) = self.legs.get_mut(&leg_id) else {
            return;
        };
        let media = l.media;
        if !req.body.is_empty() {
            match AudioSdp::parse(&req.body) {
                Ok(offer) if offer.g711().is_some() => {
                    let was_held = !l.remote_direction.receives();
                    l.remote_direction = offer.direction;
                    l.codec_pt = offer.g711().unwrap_or(l.codec_pt);
                    if !offer.addr.is_unspecified() {
                        self.media.set_remote(
                            media,
                            offer.socket_addr(),
                            codec(l.codec_pt),
                            offer.dtmf_pt,
                        );
                    }
                    self.media.set_sending(media, offer.direction.receives());
                    let (call, party) = (l.call.clone(), l.party.clone());
                    let held = !offer.direction.receives();
                    if held != was_held {
                        self.log_call(
                            &call,
                            if held { "PHONE_HOLD" } else { "PHONE_RESUME" },
                            &party,
                            None,
                        );
                        self.phone_hold(&call, leg_id, held);
                    }
                }
                _ => {
                    self.respond(&req, from, 488, "Not Acceptable Here", None);
                    return;
                }
            }
        }
        let l = &self.legs[&leg_id];
        let body = self.our_sdp(leg_id, l.remote_direction.answer());
        let mut r = response_to(&req, 200, "OK", None);
        r.headers.push("Contact", self.contact());
        if req.method == "INVITE" || !req.body.is_empty() {
            r.headers.push("Content-Type", "application/sdp");
            r.body = body;
        }
        self.tl.respond(r, from, self.now);
    }

    /// Our SDP for a leg (bumps the version).
    pub(super) fn our_sdp(&mut self, leg: u64, dir: sdp::Direction) -> Vec<u8> {
        let ip = self.cfg.public_ip();
        let l = self.legs.get_mut(&leg).expect("leg exists");
        l.sdp_version += 1;
        sdp::build(
            ip,
            l.rtp_port,
            l.sdp_session,
            l.sdp_version,
            &[l.codec_pt],
            Some(l.dtmf_pt.unwrap_or(101)),
            dir,
        )
    }

    pub(super) fn on_response(&mut self, resp: Response, key: TxKey) {
        let Some(&(leg_id, purpose)) = self.client_tx.get(&key) else {
            // A 2xx retransmission for a dialog we already ACKed: ACK again.
            if (200..300).contains(&resp.status) {
                self.reack(&resp);
            }
            return;
        };
        match purpose {
            Purpose::Invite => self.on_invite_response(resp, key, leg_id),
            Purpose::InDialog | Purpose::Cancel => {
                if resp.status >= 200 {
                    self.client_tx.remove(&key);
                }
            }
        }
    }

    fn reack(&mut self, resp: &Response) {
        let call_id = resp.header("Call-ID").unwrap_or_default().to_string();
        let from_tag = resp
            .header("From")
            .and_then(|f| NameAddr::parse(f).ok())
            .and_then(|n| n.tag().map(str::to_string))
            .unwrap_or_default();
        let Some(&leg) = self.dialogs.get(&(call_id, from_tag)) else {
            return;
        };
        let seq = resp
            .header("CSeq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(1);
        self.send_ack(leg, seq);
    }

    pub(super) fn send_ack(&mut self, leg: u64, seq: u32) {
        let (via, contact) = (self.via_host(), self.contact());
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let saved = l.dialog.local_cseq;
        let mut ack = l.request("ACK", &via, &contact);
        l.dialog.local_cseq = saved;
        ack.headers.set("CSeq", format!("{seq} ACK"));
        let peer = l.dialog.peer;
        self.tl.send_request(ack, peer, self.now);
    }

    fn on_invite_response(&mut self, resp: Response, key: TxKey, leg_id: u64) {
        let Some(l) = self.legs.get_mut(&leg_id) else {
            return;
        };
        let call = l.call.clone();
        let status = resp.status;
        if status < 200 {
            if let Side::Outgoing {
                provisional,
                ringing,
                cancelled,
                invite,
            } = &mut l.side
            {
                let first = !*provisional;
                *provisional = true;
                if *cancelled && first {
                    let cancel = switchboard_sip::builder::cancel_for(invite);
                    let peer = l.dialog.peer;
                    if let Some(k) = self.tl.send_request(cancel, peer, self.now) {
                        self.client_tx.insert(k, (leg_id, Purpose::Cancel));
                    }
                    return;
                }
                // Real peers send 100 Trying first: the call rings at the first 180/183.
                if (status == 180 || status == 183) && !*ringing && !*cancelled {
                    *ringing = true;
                    self.pending_events.push((call, Event::Ringing(leg_id)));
                }
            }
            return;
        }
        if (status == 401 || status == 407) && l.trunk_auth.is_some() {
            // The trunk wants digest credentials: answer the challenge once, same dialog.
            let (user, pw) = l.trunk_auth.take().expect("checked");
            let header = if status == 401 {
                "WWW-Authenticate"
            } else {
                "Proxy-Authenticate"
            };
            let reply = if status == 401 {
                "Authorization"
            } else {
                "Proxy-Authorization"
            };
            if let (Some(ch), Side::Outgoing { invite, .. }) =
                (resp.header(header).map(str::to_string), &l.side)
            {
                let mut inv = invite.clone();
                let uri = inv.uri.to_string();
                if let Some(auth) =
                    switchboard_sip::digest::answer_challenge(&ch, "INVITE", &uri, &user, &pw)
                {
                    l.dialog.local_cseq += 1;
                    let via = inv
                        .headers_all("Via")
                        .first()
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    let new_via = match via.split_once(";branch=") {
                        Some((head, rest)) => {
                            let tail = rest
                                .split_once(';')
                                .map(|(_, t)| format!(";{t}"))
                                .unwrap_or_default();
                            format!(
                                "{head};branch={}{tail}",
                                switchboard_sip::builder::new_branch()
                            )
                        }
                        None => via,
                    };
                    inv.headers.set("Via", new_via);
                    inv.headers
                        .set("CSeq", format!("{} INVITE", l.dialog.local_cseq));
                    inv.headers.set(reply, auth);
                    let peer = l.dialog.peer;
                    self.client_tx.remove(&key);
                    if let Some(k) = self.tl.send_request(inv.clone(), peer, self.now) {
                        self.client_tx.insert(k, (leg_id, Purpose::Invite));
                    }
                    if let Some(l) = self.legs.get_mut(&leg_id) {
                        if let Side::Outgoing { invite, .. } = &mut l.side {
                            *invite = inv;
                        }
                    }
                    return;
                }
            }
        }
        if status >= 300 {
            self.client_tx.remove(&key);
            let was_cancelled = matches!(
                l.side,
                Side::Outgoing {
                    cancelled: true,
                    ..
                }
            );
            l.state = LegState::Terminated;
            self.release_leg_media(leg_id);
            if !was_cancelled {
                self.pending_events
                    .push((call, Event::Failed(leg_id, status)));
            }
            return;
        }
        // 2xx
        let seq = resp
            .header("CSeq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(1);
        if l.state != LegState::Setup {
            self.send_ack(leg_id, seq);
            return;
        }
        let to_tag = resp
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.tag().map(str::to_string));
        l.dialog.remote_tag = to_tag;
        if let Some(c) = resp.header("Contact").and_then(|c| NameAddr::parse(c).ok()) {
            l.dialog.remote_target = c.uri;
        }
        let mut rr: Vec<String> = resp
            .headers_all("Record-Route")
            .into_iter()
            .map(str::to_string)
            .collect();
        rr.reverse();
        l.dialog.route_set = rr;
        l.state = LegState::Confirmed;
        l.ring_deadline = None;
        let cancelled = matches!(
            l.side,
            Side::Outgoing {
                cancelled: true,
                ..
            }
        );
        if let Ok(ans) = AudioSdp::parse(&resp.body) {
            l.codec_pt = ans.g711().unwrap_or(0);
            l.dtmf_pt = ans.dtmf_pt;
            l.remote_direction = ans.direction;
            self.media
                .set_remote(l.media, ans.socket_addr(), codec(l.codec_pt), ans.dtmf_pt);
            self.media.set_sending(l.media, ans.direction.receives());
        }
        self.send_ack(leg_id, seq);
        if cancelled {
            // Answered after we gave up on it: end it right away.
            self.send_bye(leg_id);
            return;
        }
        self.pending_events.push((call, Event::Answered(leg_id)));
    }

    /// Place the INVITE of an outgoing leg.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn invite_out(
        &mut self,
        call: &str,
        leg_id: u64,
        request_uri: Uri,
        peer: Peer,
        to_user: &str,
        from_user: &str,
        agent: Option<String>,
    ) {
        let Some(media) = self.new_media_leg() else {
            self.pending_events
                .push((call.to_string(), Event::Failed(leg_id, 503)));
            return;
        };
        let host = self.cfg.public_ip().to_string();
        let local_uri = NameAddr {
            display: None,
            uri: Uri::sip(Some(from_user), &host, None),
            params: Vec::new(),
        };
        let remote_uri = NameAddr::new(Uri::sip(
            Some(to_user),
            &peer.addr.ip().to_string(),
            Some(peer.addr.port()),
        ));
        let mut dialog = Dialog {
            call_id: switchboard_sip::builder::new_call_id(),
            local_tag: new_tag(),
            remote_tag: None,
            local_uri,
            remote_uri,
            remote_target: request_uri,
            route_set: Vec::new(),
            local_cseq: 0,
            peer,
        };
        let sdp_session = rand::random::<u32>() as u64;
        let (via, contact) = (self.via_host(), self.contact());
        let mut inv = dialog.request("INVITE", &via, &contact);
        inv.headers.push("Allow", ALLOW);
        inv.headers.push("Content-Type", "application/sdp");
        inv.body = sdp::build(
            self.cfg.public_ip(),
            media.local_port,
            sdp_session,
            1,
            &[0, 8],
            Some(101),
            sdp::Direction::SendRecv,
        );
        let Some(key) = self.tl.send_request(inv.clone(), peer, self.now) else {
            return;
        };
        let ring_deadline = self.now + self.cfg.ring_timeout_secs * 1000;
        self.ring_timers.insert((ring_deadline, leg_id));
        let leg = Leg {
            id: leg_id,
            call: call.to_string(),
            side: Side::Outgoing {
                invite: inv,
                provisional: false,
                ringing: false,
                cancelled: false,
            },
            state: LegState::Setup,
            dialog,
            media: media.id,
            rtp_port: media.local_port,
            codec_pt: 0,
            dtmf_pt: Some(101),
            sdp_session,
            sdp_version: 1,
            party: to_user.to_string(),
            agent,
            remote_direction: sdp::Direction::SendRecv,
            ring_deadline: Some(ring_deadline),
            trunk_auth: None,
        };
        self.client_tx.insert(key, (leg_id, Purpose::Invite));
        self.dialogs.insert(
            (leg.dialog.call_id.clone(), leg.dialog.local_tag.clone()),
            leg_id,
        );
        self.insert_leg(leg);
    }

    /// BYE an established leg.
    pub(super) fn send_bye(&mut self, leg: u64) {
        let (via, contact) = (self.via_host(), self.contact());
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let bye = l.request("BYE", &via, &contact);
        let peer = l.dialog.peer;
        l.state = LegState::Terminated;
        if let Some(k) = self.tl.send_request(bye, peer, self.now) {
            self.client_tx.insert(k, (leg, Purpose::InDialog));
        }
        self.release_leg_media(leg);
    }

    /// Answer an incoming leg with our SDP.
    pub(super) fn answer_leg(&mut self, leg: u64) {
        let contact = self.contact();
        let Some(l) = self.legs.get(&leg) else { return };
        let Side::Incoming {
            invite,
            answered: false,
        } = &l.side
        else {
            return;
        };
        let invite = invite.clone();
        let (peer, tag, dir) = (
            l.dialog.peer,
            l.dialog.local_tag.clone(),
            l.remote_direction.answer(),
        );
        let body = self.our_sdp(leg, dir);
        let mut r = response_to(&invite, 200, "OK", Some(&tag));
        r.headers.push("Contact", contact);
        r.headers.push("Allow", ALLOW);
        r.headers.push("Content-Type", "application/sdp");
        r.body = body;
        self.tl.respond(r, peer, self.now);
        if let Some(l) = self.legs.get_mut(&leg) {
            if let Side::Incoming { answered, .. } = &mut l.side {
                *answered = true;
            }
        }
    }
}

/// Media codec for a payload type.
pub(super) fn codec(pt: u8) -> crate::Codec {
    crate::Codec::from_payload_type(pt).unwrap_or(crate::Codec::Pcmu)
}

fn httpdate(now_ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(now_ms as i64)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
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
