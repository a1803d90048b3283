//! Requests inside an established dialog (ACK, BYE, re-INVITE/UPDATE and
//! hold from the phone, INFO, NOTIFY, OPTIONS; REFER goes to
//! [`crate::refer`]) and our BYE.

use switchboard_call::Event;
use switchboard_sip::builder::response_to;
use switchboard_sip::sdp::{self, AudioSdp};
use switchboard_sip::{Peer, Request};

use super::leg::LegState;
use super::sip_in::{codec, ALLOW};
use super::{Purpose, Switch};

impl Switch {
    /// A request with a To tag: find its leg by dialog and handle it.
    pub(super) fn in_dialog(&mut self, req: Request, from: Peer, tag: String) {
        let call_id = req.header("Call-ID").unwrap_or_default().to_string();
        let Some(&leg_id) = self.dialogs.get(&(call_id, tag.clone())) else {
            if req.method != "ACK" {
                self.respond(&req, from, 481, "Call/Transaction Does Not Exist", None);
            }
            return;
        };
        let in_order = self
            .legs
            .get_mut(&leg_id)
            .is_none_or(|l| l.dialog.check_remote_cseq(&req));
        if !in_order {
            // RFC 3261 §12.2.2: a lower CSeq than already seen is out of order.
            self.respond(
                &req,
                from,
                500,
                "Server Internal Error (CSeq out of order)",
                None,
            );
            return;
        }
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
            "PRACK" => self.on_prack(req, from, leg_id),
            _ => {
                let mut r = response_to(&req, 405, "Method Not Allowed", None);
                r.headers.push("Allow", ALLOW);
                self.tl.respond(r, from, self.now);
            }
        }
    }

    /// A re-INVITE or UPDATE from the peer: new media address or direction
    /// (hold/resume from the phone), new remote target; answered with our SDP.
    fn on_reinvite(&mut self, req: Request, from: Peer, leg_id: u64) {
        if !self.legs.contains_key(&leg_id) || !self.session_refresh_in(leg_id, &req, from) {
            return;
        }
        let Some(l) = self.legs.get_mut(&leg_id) else {
            return;
        };
        let media = l.media;
        if !req.body.is_empty() {
            match AudioSdp::parse(&req.body) {
                Ok(offer)
                    if offer.g711().is_some()
                        && super::srtp::offer_keys(&offer) != super::srtp::OfferKeys::Refused =>
                {
                    let was_held = !l.remote_direction.receives();
                    l.remote_direction = offer.direction;
                    l.codec_pt = offer.g711().unwrap_or(l.codec_pt);
                    l.dtmf_pt = offer.dtmf_pt;
                    l.remote_media = (offer.media.clone(), offer.audio_index);
                    // Same keys, new keys, or SRTP switched on or off (RFC 4568 §7.1.4).
                    let _ = self.key_from_offer(leg_id, &offer);
                    let Some(l) = self.legs.get_mut(&leg_id) else {
                        return;
                    };
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
                Ok(offer) if offer.g711().is_some() => {
                    self.respond(&req, from, 488, super::srtp::NO_SUITE, None);
                    return;
                }
                _ => {
                    self.respond(&req, from, 488, "Not Acceptable Here", None);
                    return;
                }
            }
        }
        if let Some(l) = self.legs.get_mut(&leg_id) {
            l.dialog.refresh_target(&req);
        }
        let l = &self.legs[&leg_id];
        let body = self.our_sdp(leg_id, l.remote_direction.answer());
        let mut r = response_to(&req, 200, "OK", None);
        r.headers.push("Contact", self.contact_for(from.transport));
        if req.method == "INVITE" || !req.body.is_empty() {
            r.headers.push("Content-Type", "application/sdp");
            r.body = body;
        }
        self.session_headers(leg_id, &mut r);
        self.tl.respond(r, from, self.now);
        self.session_started(leg_id);
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
            campaigns: None,
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

    /// Our SDP for a leg (bumps the version).
    pub(super) fn our_sdp(&mut self, leg: u64, dir: sdp::Direction) -> Vec<u8> {
        let ip = self.cfg.public_ip();
        let l = self.legs.get_mut(&leg).expect("leg exists");
        l.sdp_version += 1;
        // telephone-event only if the peer offered (or answered) it.
        let (layout, audio_index) = &l.remote_media;
        let keying = l.srtp.as_ref().map(|k| k.keying()).unwrap_or_default();
        sdp::build_in_layout(
            layout,
            *audio_index,
            ip,
            l.rtp_port,
            l.sdp_session,
            l.sdp_version,
            &[l.codec_pt],
            l.dtmf_pt,
            dir,
            keying,
        )
    }

    /// BYE an established leg.
    pub(super) fn send_bye(&mut self, leg: u64) {
        if self
            .legs
            .get(&leg)
            .is_some_and(|l| matches!(l.side, crate::Side::Browser))
        {
            self.end_browser_leg(leg);
            return;
        }
        let Some(t) = self.legs.get(&leg).map(|l| l.dialog.peer.transport) else {
            return;
        };
        let (via, contact) = (self.via_host_for(t), self.contact_for(t));
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
}
