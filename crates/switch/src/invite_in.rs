//! Incoming INVITEs (UAS side): authentication, offer check, routing to an
//! agent, a campaign queue or a number, the new call and its first leg; CANCEL
//! of a pending INVITE; the 2xx answer.

use switchboard_call::{Call, Event, Target};
use switchboard_sip::builder::{new_tag, response_to};
use switchboard_sip::sdp::AudioSdp;
use switchboard_sip::{Dialog, NameAddr, Peer, Request};

use super::leg::{Leg, LegState, Side};
use super::session_timer::{negotiate, Negotiation};
use super::sip_in::{codec, ALLOW};
use super::{CallEntry, Switch};

impl Switch {
    pub(super) fn on_invite(&mut self, req: Request, from: Peer) {
        let tag = new_tag();
        let from_trunk = self.trunks.inbound(from.addr);
        let trunk = from_trunk.is_some();
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
        if super::srtp::offer_keys(&offer) == super::srtp::OfferKeys::Refused {
            // RTP/SAVP whose keys we cannot use: refused, never answered in clear.
            self.respond(&req, from, 488, super::srtp::NO_SUITE, Some(&tag));
            return;
        }
        if let Some(agent) = &caller {
            self.note_phone_srtp(agent, &offer);
        }
        let session_timer = match negotiate(&req) {
            Negotiation::TooSmall => return self.reject_too_small(&req, from, Some(&tag)),
            Negotiation::Timer(t) => Some(t),
            Negotiation::Absent => None,
        };
        let dialed = self.dialed(&req, from_trunk);
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
        let dialog = Dialog::uas(&req, &tag, from);
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
            remote_media: (offer.media.clone(), offer.audio_index),
            ring_deadline: None,
            trunk_auth: None,
            route: None,
            session_timer,
            reliable: super::prack::required(&req),
            srtp: None,
            quality: None,
            quality_side: None,
        };
        self.dialogs
            .insert((leg.dialog.call_id.clone(), tag.clone()), leg_id);
        self.invites_by_branch.insert(branch, leg_id);
        self.insert_leg(leg);
        // Checked above: the offer is plain or has keys we use.
        let _ = self.key_from_offer(leg_id, &offer);
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

    /// The number an INVITE dials: its Request-URI user, except for a call
    /// from a provider we register with that sends it to our registered
    /// contact (Request-URI user = our account): then the DID is in To.
    fn dialed(&self, req: &Request, trunk: Option<usize>) -> String {
        let ruri = req.uri.user.clone().unwrap_or_default();
        let account = trunk
            .and_then(|i| self.trunks.list.get(i))
            .filter(|t| t.registration.is_some())
            .and_then(|t| t.cfg.username.as_deref());
        if account.is_some_and(|a| a == ruri) {
            if let Some(to) = req
                .header("To")
                .and_then(|t| NameAddr::parse(t).ok())
                .and_then(|t| t.uri.user)
            {
                return to;
            }
        }
        ruri
    }

    /// Decide where a dialled number goes.
    pub(super) fn route(&self, dialed: &str, from_agent: bool) -> Option<Target> {
        if self.agents.exists(dialed) {
            return Some(Target::Agent(dialed.to_string()));
        }
        if let Some(c) = self.campaign_by_did(dialed) {
            return Some(Target::Campaign(c));
        }
        if from_agent && !dialed.is_empty() && !self.trunks.is_empty() {
            return Some(Target::Number(dialed.to_string()));
        }
        None
    }

    pub(super) fn on_cancel(&mut self, req: Request, from: Peer) {
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

    /// A response with our SDP answer (and our Contact) to a pending
    /// incoming leg's INVITE, and where it goes; None once it was answered.
    pub(super) fn response_with_sdp(
        &mut self,
        leg: u64,
        status: u16,
        reason: &str,
    ) -> Option<(switchboard_sip::Response, Peer)> {
        let l = self.legs.get(&leg)?;
        let Side::Incoming {
            invite,
            answered: false,
        } = &l.side
        else {
            return None;
        };
        let invite = invite.clone();
        let (peer, tag, dir) = (
            l.dialog.peer,
            l.dialog.local_tag.clone(),
            l.remote_direction.answer(),
        );
        let body = self.our_sdp(leg, dir);
        let mut r = response_to(&invite, status, reason, Some(&tag));
        r.headers.push("Contact", self.contact_for(peer.transport));
        r.headers.push("Content-Type", "application/sdp");
        r.body = body;
        Some((r, peer))
    }

    /// Answer an incoming leg with our SDP.
    pub(super) fn answer_leg(&mut self, leg: u64) {
        let Some((mut r, peer)) = self.response_with_sdp(leg, 200, "OK") else {
            return;
        };
        r.headers.push("Allow", ALLOW);
        self.session_headers(leg, &mut r);
        self.tl.respond(r, peer, self.now);
        if let Some(l) = self.legs.get_mut(&leg) {
            if let Side::Incoming { answered, .. } = &mut l.side {
                *answered = true;
            }
        }
        self.session_started(leg);
    }
}
