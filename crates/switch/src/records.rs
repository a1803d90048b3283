//! Call bookkeeping: CDR rows, the per-call event log, WebSocket call
//! updates and recordings (automatic or on demand, several segments per call).

use switchboard_call::CallState;
use switchboard_center::{ApiError, LiveEvent};

use super::Switch;
use crate::MediaRecording;

/// A recording segment being written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRecording {
    /// The media engine's recording.
    pub media: MediaRecording,
    /// Key of the segment for storage writes (`call#segment`).
    pub key: String,
    /// When it started (ms since the epoch).
    pub started_at: u64,
    /// Paused since then (ms since the epoch); `None` while audio is written.
    pub paused_since: Option<u64>,
}

impl Switch {
    /// Allocate a media leg (RTP port pair).
    pub(super) fn new_media_leg(&mut self) -> Option<crate::LegInfo> {
        match self.media.create_leg() {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(%e, "no media leg");
                None
            }
        }
    }

    /// Storage ids of the call's campaign and controlling agent.
    fn storage_ids(&self, e: &super::CallEntry) -> (Option<String>, Option<String>) {
        let campaign_id = e
            .campaign
            .as_deref()
            .and_then(|c| self.campaign(c))
            .map(|c| c.id.clone());
        let agent_id = e
            .call
            .controller()
            .and_then(|a| self.agents.get(a))
            .map(|p| p.info.id.clone());
        (campaign_id, agent_id)
    }

    pub(super) fn cdr_started(&mut self, call: &str) {
        let Some(e) = self.calls.get(call) else {
            return;
        };
        let (campaign_id, agent_id) = self.storage_ids(e);
        let contact = self.contact_of_call.get(call).cloned().flatten();
        let direction = match e.direction {
            "inbound" => crate::Direction::Inbound,
            "outbound" => crate::Direction::Outbound,
            _ => crate::Direction::Internal,
        };
        let op = crate::StoreOp::CallStarted {
            call: call.to_string(),
            direction,
            campaign_id,
            contact_id: contact,
            caller: e.caller.clone(),
            callee: e.callee.clone(),
            agent_id,
            at: e.started_at as i64,
        };
        self.sink.store(op);
        // The row already names the controlling agent: no separate update for it.
        if let Some(e) = self.calls.get_mut(call) {
            e.last_agent = e
                .call
                .controller()
                .filter(|a| !a.is_empty() && self.agents.get(a).is_some())
                .map(str::to_string);
        }
        if let Some(v) = self.call_view(call) {
            let ev = LiveEvent::Call { call: Box::new(v) };
            self.sink.publish(ev.to_json());
        }
    }

    /// Keep the CDR's handling agent current (the last agent who controlled the call).
    fn cdr_agent(&mut self, call: &str) {
        let Some(e) = self.calls.get(call) else {
            return;
        };
        let Some(agent) = e
            .call
            .controller()
            .filter(|a| !a.is_empty())
            .map(str::to_string)
        else {
            return;
        };
        if e.last_agent.as_deref() == Some(agent.as_str()) {
            return;
        }
        if let Some(id) = self.agents.get(&agent).map(|p| p.info.id.clone()) {
            self.sink.store(crate::StoreOp::CallAgent {
                call: call.to_string(),
                agent_id: id,
            });
        }
        if let Some(e) = self.calls.get_mut(call) {
            e.last_agent = Some(agent);
        }
    }

    /// Mark the CDR answered (once) and start automatic recording.
    pub(super) fn call_answered(&mut self, call: &str) {
        let Some(e) = self.calls.get_mut(call) else {
            return;
        };
        let first = e.answered_at.is_none();
        let at = *e.answered_at.get_or_insert(self.now);
        if first {
            self.sink.store(crate::StoreOp::CallAnswered {
                call: call.to_string(),
                at: at as i64,
            });
        }
        let (auto, recording) = (e.auto_recording, e.recording.is_some());
        if auto && !recording {
            if let Err(m) = self.start_recording(call, None) {
                tracing::error!(call, m, "automatic recording failed");
            }
        }
    }

    pub(super) fn cdr_ended(&mut self, call: &str, entry: &super::CallEntry) {
        // The state machine has released everyone by now: the last controller
        // handled it. The row already has the last agent written: only a
        // controller not written yet needs an update.
        let agent_id = entry
            .call
            .controller()
            .filter(|a| Some(*a) != entry.last_agent.as_deref())
            .and_then(|a| self.agents.get(a))
            .map(|p| p.info.id.clone());
        self.sink.store(crate::StoreOp::CallEnded {
            call: call.to_string(),
            at: self.now as i64,
            agent_id,
            reason: entry.end_reason.to_string(),
        });
        if let Some(Some(contact)) = self.contact_of_call.remove(call) {
            self.sink.store(crate::StoreOp::ContactOutcome {
                contact_id: contact,
                answered: entry.answered_at.is_some(),
                at: self.now as i64,
            });
        }
    }

    /// Write a call event (persisted and published).
    /// Whether the digits keyed in `call` may be shown (its campaign says so).
    pub(super) fn dtmf_clear(&self, call: &str) -> bool {
        self.calls
            .get(call)
            .and_then(|e| e.campaign.as_deref())
            .and_then(|c| self.campaign(c))
            .is_some_and(|c| c.dtmf_clear)
    }

    pub(super) fn log_call(&mut self, call: &str, kind: &str, detail: &str, actor: Option<&str>) {
        let at = self.now;
        tracing::info!(call, kind, detail, actor, "call event");
        self.sink.store(crate::StoreOp::CallEvent {
            call: call.to_string(),
            at: at as i64,
            kind: kind.to_string(),
            actor: actor.map(str::to_string),
            detail: detail.to_string(),
        });
        let ev = LiveEvent::CallEvent {
            call_id: call.to_string(),
            kind: kind.to_string(),
            detail: detail.to_string(),
            actor: actor.map(str::to_string),
            at,
        };
        self.sink.publish(ev.to_json());
    }

    /// Publish the call's current view to consoles.
    pub(super) fn publish_call(&mut self, call: &str) {
        if self.calls.contains_key(call) {
            // Answer time and agent status follow leg states.
            let answered = self.calls.get(call).is_some_and(|e| {
                e.call.state() != CallState::Ringing && e.call.state() != CallState::Originating
            });
            if answered {
                self.call_answered(call);
            }
            self.refresh_agents_of_call(call);
            self.cdr_agent(call);
            self.remember_sides(call);
            if let Some(v) = self.call_view(call) {
                let ev = LiveEvent::Call { call: Box::new(v) };
                self.sink.publish(ev.to_json());
            }
            self.update_notices(call);
        }
    }

    /// Start a recording segment of the call (customer leg: left = customer, right = everyone else).
    pub(super) fn start_recording(&mut self, call: &str, by: Option<&str>) -> Result<(), String> {
        let Some(e) = self.calls.get(call) else {
            return Err("no such call".into());
        };
        let Some(cust) = e.call.customer_leg().and_then(|l| self.legs.get(&l)) else {
            return Err("the call has no customer leg to record".into());
        };
        let seg = e.segments + 1;
        let day = chrono::DateTime::from_timestamp_millis(self.now as i64)
            .unwrap_or_default()
            .format("%Y-%m-%d")
            .to_string();
        let dir = self.cfg.recordings_dir.join(day);
        let path = dir.join(format!("{call}-{seg}.wav"));
        let rec = self.media.start_recording(cust.media, &path)?;
        let key = format!("{call}#{seg}");
        let (campaign_id, agent_id) = self.storage_ids(e);
        let now = self.now;
        self.sink.store(crate::StoreOp::RecordingStarted {
            key: key.clone(),
            call: call.to_string(),
            path: path.to_string_lossy().into_owned(),
            at: now as i64,
            agent_id,
            campaign_id,
        });
        let e = self.calls.get_mut(call).expect("exists");
        e.segments = seg;
        e.recording = Some(ActiveRecording {
            media: rec,
            key,
            started_at: now,
            paused_since: None,
        });
        self.log_call(call, "RECORDING_STARTED", &format!("segment {seg}"), by);
        Ok(())
    }

    /// Stop the running recording segment, if any.
    pub(super) fn stop_recording_internal(&mut self, call: &str, why: &str) {
        let Some(e) = self.calls.get_mut(call) else {
            return;
        };
        let Some(ActiveRecording { media, key, .. }) = e.recording.take() else {
            return;
        };
        let duration = self.media.stop_recording(media).map(|d| d as i64);
        self.sink.store(crate::StoreOp::RecordingStopped {
            key,
            at: self.now as i64,
            duration_ms: duration,
        });
        self.log_call(call, "RECORDING_STOPPED", why, None);
    }

    /// Pause (`true`) or resume the call's running recording segment (a
    /// customer keys a card number): the paused span is silence in the file,
    /// and `RECORDING_PAUSED` / `RECORDING_RESUMED` go to the call's log.
    /// Repeating the current state changes nothing; a call not being
    /// recorded is refused (409).
    pub(super) fn pause_recording(
        &mut self,
        call: &str,
        pause: bool,
        by: &str,
    ) -> Result<(), ApiError> {
        let what = if pause { "pause" } else { "resume" };
        let Some(e) = self.calls.get_mut(call) else {
            return Err(ApiError::new(404, format!("no live call {call}")));
        };
        let Some(r) = e.recording.as_mut() else {
            return Err(ApiError::new(
                409,
                format!("cannot {what} the recording: the call is not being recorded"),
            ));
        };
        if r.paused_since.is_some() == pause {
            return Ok(());
        }
        if !self.media.set_recording_paused(r.media, pause) {
            return Err(ApiError::new(
                409,
                format!("cannot {what} the recording: it is no longer being written"),
            ));
        }
        let now = self.now;
        let since = std::mem::replace(&mut r.paused_since, pause.then_some(now));
        let seg = e.segments;
        if pause {
            let detail = format!("segment {seg} paused by {by}");
            self.log_call(call, "RECORDING_PAUSED", &detail, Some(by));
        } else {
            let secs = now.saturating_sub(since.unwrap_or(now)) as f64 / 1000.0;
            let detail = format!("segment {seg} resumed by {by} after {secs:.1} s of silence");
            self.log_call(call, "RECORDING_RESUMED", &detail, Some(by));
        }
        Ok(())
    }
}
