//! Requests from the HTTP API handled by the engine. Replies are the typed
//! views of `switchboard_center::views`, built here (and only here).

use switchboard_call::{Call, Command, Target};
use switchboard_center::views::{ActionReply, CallDirection, CallView, EndedCall, Snapshot};
use switchboard_center::views::{LegStatus, LegView, TagReply, TransferView};
pub use switchboard_center::{Actor, ApiError, EngineRequest};

use super::LegState;
use super::{CallEntry, Switch};

impl Switch {
    /// Register a new call placed by the server (console or dialer) and run its first actions.
    fn start_call(
        &mut self,
        id: &str,
        entry: CallEntry,
        contact_id: Option<String>,
        actions: Vec<switchboard_call::Action>,
    ) -> Result<CallView, ApiError> {
        self.calls.insert(id.to_string(), entry);
        self.contact_of_call.insert(id.to_string(), contact_id);
        self.cdr_started(id);
        self.apply(id, actions);
        self.drain();
        self.live_call(id)
    }

    /// The view of a call that must still be live (it ended at once otherwise).
    fn live_call(&self, call: &str) -> Result<CallView, ApiError> {
        self.call_view(call)
            .ok_or_else(|| ApiError::new(409, format!("call {call} ended at once")))
    }

    pub(super) fn on_api(&mut self, r: EngineRequest) {
        match r {
            EngineRequest::Snapshot(reply) => {
                let _ = reply.send(Ok(self.snapshot()));
            }
            EngineRequest::SetAgentState {
                agent,
                state,
                reason,
                by,
                reply,
            } => {
                let res = if self.agents.get(&agent).is_none() {
                    Err(ApiError::new(404, format!("unknown agent {agent}")))
                } else {
                    Ok(())
                };
                let res = res
                    .and_then(|_| {
                        self.set_agent_choice(&agent, state, reason, by)
                            .map_err(|e| ApiError::new(400, e))
                    })
                    .and_then(|_| {
                        self.agents
                            .get(&agent)
                            .cloned()
                            .ok_or_else(|| ApiError::new(404, format!("unknown agent {agent}")))
                    });
                let _ = reply.send(res);
            }
            EngineRequest::Dial {
                actor,
                target,
                campaign,
                contact_id,
                timezone,
                reply,
            } => {
                let zone = timezone.as_deref();
                let _ = reply.send(self.api_dial(&actor, target, campaign, contact_id, zone));
            }
            EngineRequest::CallCommand {
                actor,
                call,
                command,
                reply,
            } => {
                let res = self.api_command(&actor, &call, command);
                let _ = reply.send(res);
            }
            EngineRequest::Supervise {
                actor,
                call,
                action,
                phone,
                reply,
            } => {
                let res = self.api_supervise(&actor, &call, action, phone);
                let _ = reply.send(res);
            }
            EngineRequest::Recording {
                actor,
                call,
                start,
                reply,
            } => {
                let res = self
                    .check_actor(&actor, &call)
                    .and_then(|_| self.api_recording(&actor, &call, start));
                let _ = reply.send(res);
            }
            EngineRequest::RecordingPause {
                actor,
                call,
                pause,
                reply,
            } => {
                let res = self
                    .check_actor(&actor, &call)
                    .and_then(|_| self.pause_recording(&call, pause, &actor.username))
                    .and_then(|_| {
                        self.publish_call(&call);
                        self.live_call(&call)
                    });
                let _ = reply.send(res);
            }
            EngineRequest::Tag {
                actor,
                call,
                text,
                reply,
            } => {
                let res = self.api_tag(&actor, &call, &text);
                let _ = reply.send(res);
            }
            EngineRequest::UpsertAgent(info) => {
                let username = info.username.clone();
                self.agents.upsert(info, self.now);
                // The audio setting may have changed where the agent is reachable.
                let registered = self.registrar.is_registered(&username, self.now);
                self.agents_registration_changed(&username, registered);
            }
            EngineRequest::RemoveAgent(u) => self.agents.remove(&u),
            EngineRequest::UpsertCampaign(c) => {
                self.campaigns.retain(|x| x.id != c.id);
                self.campaigns.push(*c);
                self.campaigns_changed();
            }
            EngineRequest::DialerCall {
                campaign,
                number,
                contact_id,
                timezone,
                reply,
            } => {
                let res = self.dialer_call(&campaign, &number, contact_id, timezone.as_deref());
                let _ = reply.send(res);
            }
            EngineRequest::SetDnc(entries) => self.dnc.set(entries),
            EngineRequest::AddDnc(entry) => self.dnc.add(entry),
            EngineRequest::RemoveDnc(entry) => self.dnc.remove(&entry),
            EngineRequest::BrowserAudio {
                agent,
                media_leg,
                auto_answer,
                reply,
            } => {
                let _ = reply.send(self.browser_audio(&agent, media_leg, auto_answer));
            }
            EngineRequest::BrowserDetach {
                agent,
                media_leg,
                reply,
            } => {
                let _ = reply.send(self.browser_detach(&agent, media_leg));
            }
            EngineRequest::BrowserHangup { agent, reply } => {
                let _ = reply.send(self.browser_hangup(&agent));
            }
            EngineRequest::BrowserAnswer { agent, reply } => {
                let _ = reply.send(self.browser_answer(&agent));
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            agents: self.agents.all(),
            calls: self
                .calls
                .keys()
                .filter_map(|c| self.call_view(c))
                .collect(),
            campaigns: self.campaigns.clone(),
            music_classes: self.media.music_classes(),
            queues: self.queue_views(),
            sip_security: {
                let s = self.abuse.stats(self.now);
                switchboard_center::views::SipSecurity {
                    banned_sources: s.banned_sources as u64,
                    dropped_requests: s.dropped,
                    auth_failures: s.auth_failures,
                }
            },
            trunks: self.trunks.views(self.now),
            supervision_notices: self.all_notices(),
            call_quality: self.quality_totals.clone(),
        }
    }

    /// View of a live call (None once it is over).
    pub(super) fn call_view(&self, call: &str) -> Option<CallView> {
        let e = self.calls.get(call)?;
        let c = &e.call;
        let leg_view = |l: Option<u64>| {
            let l = self.legs.get(&l?)?;
            Some(LegView {
                leg: l.id,
                party: l.party.clone(),
                agent: l.agent.clone(),
                state: match l.state {
                    LegState::Setup => LegStatus::Setup,
                    LegState::Confirmed => LegStatus::Confirmed,
                    LegState::Terminated => LegStatus::Terminated,
                },
                quality: l.quality,
            })
        };
        Some(CallView {
            call_id: call.to_string(),
            state: c.state(),
            campaign: e.campaign.clone(),
            direction: CallDirection::from_name(e.direction),
            caller: e.caller.clone(),
            callee: e.callee.clone(),
            started_at: e.started_at,
            answered_at: e.answered_at,
            agent: c.controller().map(str::to_string),
            customer: leg_view(c.customer_leg()),
            agent_leg: leg_view(c.agent().map(|a| a.0)),
            third: leg_view(c.third().map(|t| t.0)),
            pending: leg_view(c.pending().map(|p| p.0)),
            transfer: c.transfer().map(|t| TransferView {
                kind: t.kind,
                target: t.target.clone(),
                phase: t.phase,
            }),
            recording: e.recording.is_some(),
            recording_paused: e
                .recording
                .as_ref()
                .is_some_and(|r| r.paused_since.is_some()),
            auto_recording: e.auto_recording,
            music_class: c.music().to_string(),
            muted: c.plan().muted.clone(),
            contact_id: self.contact_of_call.get(call).cloned().flatten(),
            participants: e.participants.clone(),
            supervisions: c.supervisions().iter().map(Into::into).collect(),
        })
    }

    fn check_actor(&self, actor: &Actor, call: &str) -> Result<(), ApiError> {
        let Some(e) = self.calls.get(call) else {
            return Err(ApiError::new(404, format!("no live call {call}")));
        };
        if actor.supervisor {
            return Ok(());
        }
        let mine = e.call.controller() == Some(actor.username.as_str())
            || e.call
                .transfer()
                .is_some_and(|t| t.by_agent == actor.username && e.call.controller().is_none());
        if mine {
            Ok(())
        } else {
            Err(ApiError::new(403, format!("call {call} is not yours")))
        }
    }

    pub(super) fn api_command(
        &mut self,
        actor: &Actor,
        call: &str,
        command: Command,
    ) -> Result<ActionReply, ApiError> {
        self.check_actor(actor, call)?;
        if let Command::BlindTransfer(t) | Command::ConsultTransfer(t) = &command {
            // Transferring to oneself: the call refuses it with that reason
            // (the target check would only say the agent is busy).
            let own = matches!(t, Target::Agent(a)
                if self.calls.get(call).and_then(|e| e.call.controller()) == Some(a.as_str()));
            if !own {
                self.check_target(t)?;
            }
        }
        let entry = self.calls.get_mut(call).expect("checked");
        let actions = entry
            .call
            .command(command)
            .map_err(|r| ApiError::new(409, r.0))?;
        self.apply(call, actions);
        self.drain();
        Ok(match self.call_view(call) {
            Some(v) => ActionReply::Live(Box::new(v)),
            None => ActionReply::Ended(EndedCall::new(call)),
        })
    }

    fn check_target(&self, t: &Target) -> Result<(), ApiError> {
        match t {
            Target::Agent(a) => {
                if let Some(why) = self.agents.unavailable_reason(a) {
                    return Err(ApiError::new(409, why));
                }
            }
            Target::Number(n) => {
                if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit() || "+*#".contains(c)) {
                    return Err(ApiError::new(
                        400,
                        format!("invalid number {n:?}: digits, +, * and # only"),
                    ));
                }
                if self.trunks.is_empty() {
                    return Err(ApiError::new(
                        409,
                        "no trunk is configured for external numbers",
                    ));
                }
            }
            Target::Campaign(c) => match self.campaign(c) {
                None => return Err(ApiError::new(404, format!("unknown campaign {c}"))),
                Some(c) if c.kind != "inbound" => {
                    return Err(ApiError::new(
                        409,
                        format!("campaign {} is not an inbound campaign", c.name),
                    ))
                }
                _ => {}
            },
        }
        Ok(())
    }

    fn api_dial(
        &mut self,
        actor: &Actor,
        target: Target,
        campaign: Option<String>,
        contact_id: Option<String>,
        timezone: Option<&str>,
    ) -> Result<CallView, ApiError> {
        self.accepting_calls()?;
        if let Some(why) = self.agents.unavailable_reason(&actor.username) {
            return Err(ApiError::new(409, format!("cannot place a call: {why}")));
        }
        if target == Target::Agent(actor.username.clone()) {
            return Err(ApiError::new(400, "cannot call yourself"));
        }
        if matches!(target, Target::Campaign(_)) {
            return Err(ApiError::new(
                400,
                "a call goes to an agent or a number; campaigns are transfer targets",
            ));
        }
        self.check_target(&target)?;
        let mut warning = None;
        let camp = match &campaign {
            Some(name) => {
                let c = self
                    .campaign(name)
                    .cloned()
                    .ok_or_else(|| ApiError::new(404, format!("unknown campaign {name}")))?;
                if c.kind != "manual" && c.kind != "preview" && c.kind != "dialer" {
                    return Err(ApiError::new(409, format!("campaign {name} is {}: agents place calls only in manual, preview or dialer campaigns", c.kind)));
                }
                if !c.agents.contains(&actor.username) {
                    return Err(ApiError::new(
                        403,
                        format!("you are not a member of campaign {name}"),
                    ));
                }
                if let Target::Number(n) = &target {
                    let refused =
                        self.dnc_refusal(n, &c, contact_id.clone(), Some(&actor.username));
                    if let Some(refused) = refused {
                        return Err(refused);
                    }
                    warning = crate::dnc::outside_hours(&c, n, timezone, self.now);
                }
                Some(c)
            }
            None => None,
        };
        let music = camp
            .as_ref()
            .map(|c| c.music_class.clone())
            .unwrap_or_else(|| "default".into());
        self.call_counter += 1;
        let id = format!("{:x}-{}", self.now, self.call_counter);
        let (call, actions) = Call::agent_originated(
            &id,
            self.call_counter,
            &music,
            &actor.username,
            target.clone(),
        );
        let (direction, callee) = match &target {
            Target::Agent(a) => ("internal", a.clone()),
            Target::Number(n) => ("outbound", n.clone()),
            Target::Campaign(c) => ("internal", c.clone()),
        };
        let entry = CallEntry::new(
            call,
            direction,
            actor.username.clone(),
            callee,
            camp.as_ref(),
            self.now,
        );
        let view = self.start_call(&id, entry, contact_id, actions)?;
        if let Some(w) = warning {
            // Placed all the same (the agent decided), with the warning logged.
            self.log_call(&id, "OUTSIDE_HOURS", &w.message, Some(&actor.username));
        }
        Ok(view)
    }

    fn api_recording(
        &mut self,
        actor: &Actor,
        call: &str,
        start: bool,
    ) -> Result<CallView, ApiError> {
        let e = self.calls.get(call).expect("checked");
        if e.auto_recording {
            return Err(ApiError::new(409, "this campaign records every call automatically; on-demand recording is not available"));
        }
        if start {
            if e.recording.is_some() {
                return self.live_call(call);
            }
            if e.call.state() == switchboard_call::CallState::Originating
                || e.call.state() == switchboard_call::CallState::Ringing
            {
                return Err(ApiError::new(
                    409,
                    "cannot record before the call is answered",
                ));
            }
            self.start_recording(call, Some(&actor.username))
                .map_err(|m| ApiError::new(500, m))?;
        } else {
            if e.recording.is_none() {
                return self.live_call(call);
            }
            self.stop_recording_internal(call, &format!("stopped by {}", actor.username));
        }
        self.publish_call(call);
        self.live_call(call)
    }

    fn api_tag(&mut self, actor: &Actor, call: &str, text: &str) -> Result<TagReply, ApiError> {
        self.check_actor(actor, call)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(ApiError::new(400, "a tag needs some text"));
        }
        if text.chars().count() > 2000 {
            return Err(ApiError::new(400, "a tag is limited to 2000 characters"));
        }
        let e = self.calls.get(call).expect("checked");
        let now = self.now;
        // A tag pinned to a running recording marks a position in that recording.
        let base = e
            .recording
            .as_ref()
            .map(|r| r.started_at)
            .or(e.answered_at)
            .unwrap_or(e.started_at);
        let offset = now.saturating_sub(base);
        let rec = e.recording.as_ref().map(|r| r.key.clone());
        self.sink.store(crate::StoreOp::Tag {
            call: call.to_string(),
            recording_key: rec.clone(),
            author: actor.username.clone(),
            text: text.to_string(),
            at: now as i64,
            offset_ms: offset as i64,
        });
        self.log_call(call, "TAG", text, Some(&actor.username));
        Ok(TagReply {
            call_id: call.to_string(),
            author: actor.username.clone(),
            text: text.to_string(),
            at: now,
            offset_ms: offset,
            recording: rec.is_some(),
        })
    }

    /// Place a dialer call to a contact (not on the do-not-call list, inside
    /// the campaign's calling hours): answered calls enter the campaign queue.
    fn dialer_call(
        &mut self,
        campaign: &str,
        number: &str,
        contact_id: Option<String>,
        timezone: Option<&str>,
    ) -> Result<CallView, ApiError> {
        self.accepting_calls()?;
        let Some(c) = self.campaign(campaign).cloned() else {
            return Err(ApiError::new(404, format!("unknown campaign {campaign}")));
        };
        if let Some(refused) = self.dnc_refusal(number, &c, contact_id.clone(), None) {
            return Err(refused);
        }
        if let Some(closed) = crate::dnc::outside_hours(&c, number, timezone, self.now) {
            return Err(closed);
        }
        self.call_counter += 1;
        let id = format!("{:x}-{}", self.now, self.call_counter);
        let (call, actions) = Call::dialer(
            &id,
            self.call_counter,
            &c.music_class,
            Target::Number(number.to_string()),
            Target::Campaign(c.name.clone()),
        );
        let entry = CallEntry::new(
            call,
            "outbound",
            c.name.clone(),
            number.to_string(),
            Some(&c),
            self.now,
        );
        self.start_call(&id, entry, contact_id, actions)
    }
}
