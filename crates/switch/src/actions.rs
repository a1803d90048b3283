//! Carrying out the call state machine's actions: legs, media rooms,
//! agent reservations, event log and CDR.

use switchboard_call::{Action, Event, LegId, MediaPlan, Target};

use super::agents::AgentAudio;
use super::leg::{LegState, Side};
use super::Switch;

impl Switch {
    /// Feed an event to a call and apply what it decides.
    pub(super) fn call_event(&mut self, call: &str, ev: Event) {
        self.current_call = Some(call.to_string());
        if self.queue_fork_event(call, &ev) {
            return;
        }
        match &ev {
            Event::Failed(leg, _) | Event::HungUp(leg) if self.queue_ringing(*leg).is_some() => {
                // The agent rung for a queued caller did not take it: keep waiting.
                self.queue_agent_failed(*leg);
                return;
            }
            Event::Answered(leg) => self.queue_answered(*leg),
            _ => {}
        }
        let Some(entry) = self.calls.get_mut(call) else {
            return;
        };
        tracing::debug!(call, ?ev, "call event");
        // `answered_at` is set (and written to the CDR) by `call_answered` once
        // the call is connected; setting it here would skip the CDR update.
        let actions = entry.call.on_event(ev);
        self.apply(call, actions);
    }

    /// Apply actions from a call's state machine.
    pub(super) fn apply(&mut self, call: &str, actions: Vec<Action>) {
        self.current_call = Some(call.to_string());
        for a in actions {
            tracing::debug!(call, ?a, "call action");
            match a {
                Action::Dial { leg, target } => self.dial(call, leg, target),
                Action::Answer(leg) => {
                    self.answer_leg(leg);
                    self.call_answered(call);
                }
                Action::Reject(leg, status) => self.reject_leg(leg, status),
                Action::Progress(leg) => self.progress_leg(leg),
                Action::EarlyMedia(leg) => self.early_media_leg(leg),
                Action::Hangup(leg) => self.hangup_leg(leg),
                Action::Media(plan) => self.apply_plan(call, &plan),
                Action::LogBy { kind, detail, by } => self.log_call(call, kind, &detail, Some(&by)),
                Action::Log { kind, detail } => {
                    let actor = self
                        .calls
                        .get(call)
                        .and_then(|c| c.call.controller().map(str::to_string));
                    self.log_call(call, kind, &detail, actor.as_deref());
                }
                Action::AgentEngaged(a) => self.agent_engaged(&a, call),
                Action::AgentReleased(a) => self.agent_released(&a, call),
                Action::SupervisorReleased(a) => self.supervisor_released(&a, call),
                Action::Ended => self.end_call(call),
            }
        }
        self.publish_call(call);
    }

    pub(super) fn dial(&mut self, call: &str, leg: LegId, target: Target) {
        let caller = self
            .calls
            .get(call)
            .map(|c| c.caller.clone())
            .unwrap_or_default();
        match target {
            Target::Agent(agent) => self.dial_agent(call, leg, &agent, &caller),
            Target::Number(n) => self.dial_number(call, leg, &n, &caller),
            Target::Campaign(c) => {
                if !self.campaign_exists(&c) {
                    self.pending_events
                        .push((call.to_string(), Event::Failed(leg, 404)));
                    return;
                }
                self.enqueue(call, leg, &c);
                // Queued: the blind transfer has reached its target.
                self.pending_events
                    .push((call.to_string(), Event::Ringing(leg)));
            }
        }
    }

    /// Ring an agent's phone (the agent was reserved by the call's AgentEngaged).
    pub(super) fn dial_agent(&mut self, call: &str, leg: LegId, agent: &str, caller: &str) {
        let audio = self.agents.audio(agent);
        if let Some(seat) = self
            .browser_seat(agent)
            .filter(|_| audio != AgentAudio::Phone)
        {
            self.dial_browser(call, leg, agent, seat);
            return;
        }
        if audio == AgentAudio::Browser {
            // Browser audio only, and it is not connected: never ring the phone.
            self.pending_events
                .push((call.to_string(), Event::Failed(leg, 480)));
            return;
        }
        let now = self.now;
        let Some(b) = self.registrar.lookup(agent, now).into_iter().next() else {
            self.pending_events
                .push((call.to_string(), Event::Failed(leg, 480)));
            return;
        };
        self.invite_out(
            call,
            leg,
            b.contact.clone(),
            b.peer,
            agent,
            caller,
            Some(agent.to_string()),
        );
    }

    pub(super) fn reject_leg(&mut self, leg: LegId, status: u16) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if let Side::Incoming { answered: true, .. } = &l.side {
            // Already answered (queue caller): a failure now ends it with BYE.
            if l.state != LegState::Terminated {
                self.send_bye(leg);
            }
            return;
        }
        if let Side::Incoming { invite, answered } = &mut l.side {
            if !*answered {
                *answered = true;
                let inv = invite.clone();
                let (peer, tag) = (l.dialog.peer, l.dialog.local_tag.clone());
                l.state = LegState::Terminated;
                let reason = reason_phrase(status);
                self.respond(&inv, peer, status, reason, Some(&tag));
                self.release_leg_media(leg);
            }
        }
    }

    fn progress_leg(&mut self, leg: LegId) {
        let Some(l) = self.legs.get(&leg) else { return };
        if let Side::Incoming {
            invite,
            answered: false,
        } = &l.side
        {
            let tag = l.dialog.local_tag.clone();
            let mut r = switchboard_sip::builder::response_to(invite, 180, "Ringing", Some(&tag));
            r.headers
                .push("Contact", self.contact_for(l.dialog.peer.transport));
            self.send_provisional(leg, r);
        }
    }

    /// 183 Session Progress with our SDP answer on a pending incoming leg:
    /// its phone plays what its room sends (the far end's early media). The
    /// 200 later carries the same session description (RFC 3264 §5; the
    /// version moves only when the description does).
    fn early_media_leg(&mut self, leg: LegId) {
        let Some((r, _)) = self.response_with_sdp(leg, 183, "Session Progress") else {
            return;
        };
        if let Some(l) = self.legs.get_mut(&leg) {
            // The 200 repeats this answer rather than a new version of it.
            l.sdp_version = l.sdp_version.saturating_sub(1);
        }
        // Reliable (RSeq, PRACK) when the caller required 100rel.
        self.send_provisional(leg, r);
    }

    /// End a leg whatever its state: BYE, CANCEL or a final error response.
    pub(super) fn hangup_leg(&mut self, leg: LegId) {
        // A leg still queued is hung up: its caller left (or the call ended) waiting.
        self.queue_abandoned(leg);
        self.end_leg_signalling(leg);
    }

    /// BYE, CANCEL or reject a leg without touching queues.
    pub(super) fn end_leg_signalling(&mut self, leg: LegId) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if l.state == LegState::Terminated {
            return;
        }
        if matches!(l.side, Side::Browser) {
            self.end_browser_leg(leg);
            return;
        }
        match (&mut l.side, l.state) {
            (_, LegState::Confirmed) => self.send_bye(leg),
            (Side::Incoming { answered: true, .. }, LegState::Setup) => self.send_bye(leg),
            (Side::Incoming { .. }, LegState::Setup) => self.reject_leg(leg, 480),
            (
                Side::Outgoing {
                    provisional,
                    cancelled,
                    invite,
                    ..
                },
                LegState::Setup,
            ) => {
                *cancelled = true;
                if *provisional {
                    let cancel = switchboard_sip::builder::cancel_for(invite);
                    let peer = l.dialog.peer;
                    if let Some(k) = self.tl.send_request(cancel, peer, self.now) {
                        self.client_tx.insert(k, (leg, super::Purpose::Cancel));
                    }
                }
                // Without a provisional yet, the CANCEL goes out when one arrives.
                l.ring_deadline = None;
                self.release_leg_media(leg);
            }
            _ => {}
        }
    }

    /// Move a leg to another id (a ring-all fork becoming the call's queue leg),
    /// with every index that points at it.
    pub(super) fn rekey_leg(&mut self, from: LegId, to: LegId) {
        let Some(mut l) = self.remove_leg(from) else {
            return;
        };
        l.id = to;
        for v in self
            .dialogs
            .values_mut()
            .chain(self.invites_by_branch.values_mut())
        {
            if *v == from {
                *v = to;
            }
        }
        for (leg, _) in self.client_tx.values_mut() {
            if *leg == from {
                *leg = to;
            }
        }
        if let (LegState::Setup, Some(d)) = (l.state, l.ring_deadline) {
            self.ring_timers.insert((d, to));
        }
        let session_due = l.session_timer.map(|t| t.due);
        self.insert_leg(l);
        if let Some(due) = session_due {
            self.session_timers.insert(due, to);
        }
    }

    /// Free a leg's media port (idempotent).
    pub(super) fn release_leg_media(&mut self, leg: LegId) {
        self.leg_quality_final(leg);
        if let Some(l) = self.legs.get(&leg) {
            if matches!(l.side, Side::Browser) {
                // The browser session's leg outlives its calls.
                self.end_browser_leg(leg);
                return;
            }
            self.media.destroy_leg(l.media);
        }
    }

    pub(super) fn apply_plan(&mut self, call: &str, plan: &MediaPlan) {
        let Some(entry) = self.calls.get_mut(call) else {
            return;
        };
        while entry.rooms.len() < plan.groups.len() {
            entry.rooms.push(self.media.create_room());
        }
        let rooms = entry.rooms.clone();
        let mut placed = Vec::new();
        for (i, g) in plan.groups.iter().enumerate() {
            for leg in &g.legs {
                if let Some(l) = self.legs.get(leg) {
                    let media = l.media;
                    self.media.join(rooms[i], media);
                    self.media.set_muted(media, plan.muted.contains(leg));
                    let unheard: Vec<_> = plan
                        .unheard_by(*leg)
                        .iter()
                        .filter_map(|s| self.legs.get(s).map(|l| l.media))
                        .collect();
                    self.media.set_unheard(media, &unheard);
                    placed.push(*leg);
                }
            }
            self.media.set_music(rooms[i], g.music.as_deref());
        }
        for r in rooms.iter().skip(plan.groups.len()) {
            self.media.set_music(*r, None);
        }
        let legs: Vec<LegId> = self
            .legs_of(call)
            .into_iter()
            .filter(|l| !placed.contains(l))
            .collect();
        for leg in legs {
            let m = self.legs[&leg].media;
            self.media.leave(m);
        }
    }

    /// End a call whose handling failed: every leg gets BYE, CANCEL or an
    /// error response, its agents are released and its CDR closed.
    pub(super) fn abort_call(&mut self, call: &str) {
        self.pending_events.retain(|(c, _)| c != call);
        if !self.calls.contains_key(call) {
            return;
        }
        self.log_call(call, "ERROR", "internal error: the call was ended", None);
        let agents = self
            .calls
            .get(call)
            .map(|e| e.participants.clone())
            .unwrap_or_default();
        self.end_call(call);
        for a in agents {
            self.agent_released(&a, call);
        }
    }

    pub(super) fn end_call(&mut self, call: &str) {
        self.stop_recording_internal(call, "call ended");
        // Every leg's final media quality, while the call still says who is who.
        for leg in self.legs_of(call) {
            self.leg_quality_final(leg);
        }
        let Some(entry) = self.calls.remove(call) else {
            return;
        };
        for r in &entry.rooms {
            self.media.destroy_room(*r);
        }
        let legs = self.legs_of(call);
        for leg in legs {
            self.hangup_leg(leg);
            self.release_leg_media(leg);
            if let Some(l) = self.remove_leg(leg) {
                self.dialogs
                    .remove(&(l.dialog.call_id.clone(), l.dialog.local_tag.clone()));
                if let Side::Incoming { invite, .. } = &l.side {
                    let branch = invite
                        .headers_all("Via")
                        .first()
                        .and_then(|v| switchboard_sip::Via::parse(v).ok())
                        .and_then(|v| v.branch().map(str::to_string));
                    if let Some(b) = branch {
                        if self.invites_by_branch.get(&b) == Some(&leg) {
                            self.invites_by_branch.remove(&b);
                        }
                    }
                }
            }
        }
        if let Some((campaign, at)) = &entry.answered_from_queue {
            self.queue_call_handled(campaign, *at);
        }
        self.cdr_quality(call, entry.campaign.as_deref(), entry.quality);
        self.cdr_ended(call, &entry);
        self.clear_notices(entry.notices.clone());
        self.sink.publish(
            switchboard_center::LiveEvent::CallEnded {
                call_id: call.to_string(),
            }
            .to_json(),
        );
    }
}

/// Reason phrase for statuses we relay.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        404 => "Not Found",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        503 => "Service Unavailable",
        600 => "Busy Everywhere",
        603 => "Decline",
        s if s >= 600 => "Global Failure",
        s if s >= 500 => "Server Error",
        _ => "Request Failed",
    }
}
