//! Our outgoing INVITEs (UAC side): placing them, their provisional, 2xx and
//! error responses, the trunk's digest challenge, the ACK of a 2xx and the
//! CANCEL deferred until a provisional response.

use switchboard_call::Event;
use switchboard_sip::builder::{new_branch, new_call_id, new_tag};
use switchboard_sip::sdp::{self, AudioSdp};
use switchboard_sip::{CSeq, Dialog, NameAddr, Peer, Response, TxKey, Uri};

use super::leg::{Leg, LegState, Side};
use super::sip_in::{codec, ALLOW};
use super::{Purpose, Switch};

/// An outgoing INVITE: who it is from and to, where it goes, extra headers
/// (caller ID, privacy) and the agent whose phone it rings, if any.
pub(super) struct OutInvite {
    pub(super) from: NameAddr,
    pub(super) to: NameAddr,
    pub(super) request_uri: Uri,
    pub(super) peer: Peer,
    /// Who is on this leg, for display.
    pub(super) party: String,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) agent: Option<String>,
    /// SRTP keys in the offer (trunk setting, or the phone's own preference).
    pub(super) srtp: crate::SrtpMode,
}

impl Switch {
    /// Place the INVITE of an outgoing leg to a phone.
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
        let host = self.cfg.public_ip().to_string();
        let srtp = self.phone_srtp(agent.as_deref());
        let out = OutInvite {
            from: NameAddr::new(Uri::sip(Some(from_user), &host, None)),
            to: NameAddr::new(Uri::sip(
                Some(to_user),
                &peer.addr.ip().to_string(),
                Some(peer.addr.port()),
            )),
            request_uri,
            peer,
            party: to_user.to_string(),
            headers: Vec::new(),
            agent,
            srtp,
        };
        self.invite_out_with(call, leg_id, out);
    }

    /// Place the INVITE of an outgoing leg as `out` describes it.
    pub(super) fn invite_out_with(&mut self, call: &str, leg_id: u64, out: OutInvite) {
        let OutInvite {
            from: local_uri,
            to: remote_uri,
            request_uri,
            peer,
            party,
            headers,
            agent,
            srtp,
        } = out;
        let Some(media) = self.new_media_leg() else {
            self.pending_events
                .push((call.to_string(), Event::Failed(leg_id, 503)));
            return;
        };
        let mut dialog = Dialog::uac(
            new_call_id(),
            new_tag(),
            local_uri,
            remote_uri,
            request_uri,
            peer,
        );
        let sdp_session = rand::random::<u32>() as u64;
        let (via, contact) = (
            self.via_host_for(peer.transport),
            self.contact_for(peer.transport),
        );
        let mut inv = dialog.request("INVITE", &via, &contact, &new_branch());
        inv.headers.push("Allow", ALLOW);
        for (k, v) in headers {
            inv.headers.push(k, v);
        }
        inv.headers.push("Supported", "timer");
        inv.headers.push("Content-Type", "application/sdp");
        let keys = crate::LegKeys::offering(crate::srtp::offer_lines(), srtp);
        inv.body = sdp::build_in_layout(
            &[],
            0,
            self.cfg.public_ip(),
            media.local_port,
            sdp_session,
            1,
            &[0, 8],
            Some(101),
            sdp::Direction::SendRecv,
            keys.as_ref().map(|k| k.keying()).unwrap_or_default(),
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
            party,
            agent,
            remote_direction: sdp::Direction::SendRecv,
            remote_media: (Vec::new(), 0),
            ring_deadline: Some(ring_deadline),
            trunk_auth: None,
            route: None,
            session_timer: None,
            reliable: None,
            srtp: keys,
            quality: None,
            quality_side: None,
        };
        self.client_tx.insert(key, (leg_id, Purpose::Invite));
        self.dialogs.insert(
            (leg.dialog.call_id.clone(), leg.dialog.local_tag.clone()),
            leg_id,
        );
        self.insert_leg(leg);
    }

    /// A response to an INVITE we sent: provisional (ringing, deferred CANCEL),
    /// a challenge (one auth retry), an error, or a 2xx (confirm, ACK).
    pub(super) fn on_invite_response(&mut self, resp: Response, key: TxKey, leg_id: u64) {
        let Some(l) = self.legs.get_mut(&leg_id) else {
            // The call ended while this INVITE was out (e.g. its caller
            // cancelled): a late 2xx is ACKed and hung up at once.
            self.client_tx.remove(&key);
            if (200..300).contains(&resp.status) {
                self.end_orphan_answer(&resp, &key);
            }
            return;
        };
        let call = l.call.clone();
        let status = resp.status;
        if l.route.is_some() {
            self.trunk_answered(leg_id);
        }
        let Some(l) = self.legs.get_mut(&leg_id) else {
            return;
        };
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
                let cancelled = *cancelled;
                if (status == 180 || status == 183) && !*ringing && !cancelled {
                    *ringing = true;
                    self.pending_events
                        .push((call.clone(), Event::Ringing(leg_id)));
                }
                // Early media: an 18x with SDP is the far end's answer; its
                // audio (announcements, its own ringback) can flow now.
                if status > 100 && !cancelled && !resp.body.is_empty() {
                    let ans = AudioSdp::parse(&resp.body)
                        .ok()
                        .filter(|a| a.g711().is_some() && self.key_from_answer(leg_id, a));
                    let Some(l) = self.legs.get_mut(&leg_id) else {
                        return;
                    };
                    if let Some(ans) = ans {
                        if let Some(pt) = ans.g711() {
                            l.codec_pt = pt;
                            l.dtmf_pt = ans.dtmf_pt;
                            l.remote_direction = ans.direction;
                            l.remote_media = (ans.media.clone(), ans.audio_index);
                            self.media.set_remote(
                                l.media,
                                ans.socket_addr(),
                                codec(pt),
                                ans.dtmf_pt,
                            );
                            self.media.set_sending(l.media, ans.direction.receives());
                            self.pending_events.push((call, Event::EarlyMedia(leg_id)));
                        }
                    }
                }
            }
            return;
        }
        if (status == 401 || status == 407) && l.trunk_auth.is_some() {
            // The trunk wants digest credentials: answer the challenge once, same dialog.
            let (user, pw) = l.trunk_auth.take().expect("checked");
            if let Side::Outgoing { invite, .. } = &mut l.side {
                let retry = l
                    .dialog
                    .auth_retry(invite, &resp, &user, &pw, &new_branch());
                if let Some(inv) = retry {
                    *invite = inv.clone();
                    let peer = l.dialog.peer;
                    self.client_tx.remove(&key);
                    if let Some(k) = self.tl.send_request(inv, peer, self.now) {
                        self.client_tx.insert(k, (leg_id, Purpose::Invite));
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
            if !was_cancelled
                && crate::trunks::fails_over(status)
                && self.failover(leg_id, &format!("{} {}", status, resp.reason))
            {
                return;
            }
            let Some(l) = self.legs.get_mut(&leg_id) else {
                return;
            };
            l.state = LegState::Terminated;
            self.release_leg_media(leg_id);
            if !was_cancelled {
                self.pending_events
                    .push((call, Event::Failed(leg_id, status)));
            }
            return;
        }
        // 2xx: later retransmissions are re-ACKed through the dialog.
        self.client_tx.remove(&key);
        let seq = resp
            .header("CSeq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(1);
        if l.state != LegState::Setup {
            self.send_ack(leg_id, seq);
            return;
        }
        l.dialog.confirm(&resp);
        l.state = LegState::Confirmed;
        l.ring_deadline = None;
        let cancelled = matches!(
            l.side,
            Side::Outgoing {
                cancelled: true,
                ..
            }
        );
        let ans = AudioSdp::parse(&resp.body).ok();
        let keyed = ans.as_ref().is_none_or(|a| self.key_from_answer(leg_id, a));
        let Some(l) = self.legs.get_mut(&leg_id) else {
            return;
        };
        if !keyed {
            // Mandatory SRTP and the answer took none of our keys: no call in clear.
            tracing::warn!(leg = leg_id, "answer without our SRTP keys: ending the leg");
            self.send_ack(leg_id, seq);
            self.send_bye(leg_id);
            self.pending_events.push((call, Event::Failed(leg_id, 488)));
            return;
        }
        if let Some(ans) = ans {
            l.codec_pt = ans.g711().unwrap_or(0);
            l.dtmf_pt = ans.dtmf_pt;
            l.remote_direction = ans.direction;
            l.remote_media = (ans.media.clone(), ans.audio_index);
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
        self.session_answered(leg_id, &resp);
        self.pending_events.push((call, Event::Answered(leg_id)));
    }

    /// ACK a 2xx to the INVITE with CSeq `seq` of a leg's dialog.
    pub(super) fn send_ack(&mut self, leg: u64, seq: u32) {
        let Some(l) = self.legs.get(&leg) else {
            return;
        };
        let t = l.dialog.peer.transport;
        let (via, contact) = (self.via_host_for(t), self.contact_for(t));
        let ack = l.dialog.ack(seq, &via, &contact, &new_branch());
        let peer = l.dialog.peer;
        self.tl.send_request(ack, peer, self.now);
    }

    /// ACK again a retransmitted 2xx whose transaction is already over.
    /// ACK and BYE a 2xx to one of our INVITEs whose leg is gone, building
    /// the dialog from the INVITE and the response (RFC 3261 §13.2.2.4: a
    /// UAC that does not want the session must still ACK, then BYE).
    fn end_orphan_answer(&mut self, resp: &Response, key: &TxKey) {
        let (Some(invite), Some(peer)) = (
            self.tl.client_request(key).cloned(),
            self.tl.client_peer(key),
        ) else {
            return;
        };
        let from = invite.header("From").and_then(|f| NameAddr::parse(f).ok());
        let to = invite.header("To").and_then(|t| NameAddr::parse(t).ok());
        let (Some(mut from), Some(to)) = (from, to) else {
            return;
        };
        let Some(local_tag) = from.tag().map(str::to_string) else {
            return;
        };
        from.set_param("tag", None);
        let seq = resp
            .header("CSeq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(1);
        let call_id = invite.header("Call-ID").unwrap_or_default().to_string();
        let mut d = switchboard_sip::Dialog::uac(call_id, local_tag, from, to, invite.uri, peer);
        d.confirm(resp);
        d.local_cseq = seq;
        let (via, contact) = (
            self.via_host_for(peer.transport),
            self.contact_for(peer.transport),
        );
        let ack = d.ack(seq, &via, &contact, &new_branch());
        self.tl.send_request(ack, peer, self.now);
        let bye = d.request("BYE", &via, &contact, &new_branch());
        tracing::info!(
            call_id = d.call_id,
            "answered after its call ended: ACK and BYE"
        );
        self.tl.send_request(bye, peer, self.now);
    }

    pub(super) fn reack(&mut self, resp: &Response, key: &TxKey) {
        let call_id = resp.header("Call-ID").unwrap_or_default().to_string();
        let from_tag = resp
            .header("From")
            .and_then(|f| NameAddr::parse(f).ok())
            .and_then(|n| n.tag().map(str::to_string))
            .unwrap_or_default();
        let Some(&leg) = self.dialogs.get(&(call_id, from_tag)) else {
            let invite = resp
                .header("CSeq")
                .and_then(|c| CSeq::parse(c).ok())
                .is_some_and(|c| c.method == "INVITE");
            if invite {
                self.end_orphan_answer(resp, key);
            }
            return;
        };
        let seq = resp
            .header("CSeq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(1);
        self.send_ack(leg, seq);
    }
}
