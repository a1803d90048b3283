//! Call bookkeeping: CDR rows, the per-call event log, WebSocket call
//! updates and recordings (automatic or on demand, several segments per call).

use switchboard_call::CallState;

use super::{now_ms, Engine};

impl Engine {
    /// Allocate a media leg (RTP port pair).
    pub(super) fn new_media_leg(&self) -> Option<switchboard_media::LegInfo> {
        // Creating a leg binds a socket; the engine is async-free, so use the blocking helper.
        match self.media.create_leg_now() {
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
        self.sink.call_started(
            call,
            e.direction,
            campaign_id,
            contact,
            &e.caller,
            &e.callee,
            agent_id,
            e.started_at,
        );
        self.sink
            .publish(serde_json::json!({"type": "call", "call": self.call_json(call)}));
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
            self.sink.call_agent(call, &id);
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
        let at = *e.answered_at.get_or_insert(now_ms());
        if first {
            self.sink.call_answered(call, at);
        }
        let (auto, recording) = (e.auto_recording, e.recording.is_some());
        if auto && !recording {
            if let Err(m) = self.start_recording(call, None) {
                tracing::error!(call, m, "automatic recording failed");
            }
        }
    }

    pub(super) fn cdr_ended(&mut self, call: &str, entry: &super::CallEntry) {
        // The state machine has released everyone by now: the last controller handled it.
        let agent_id = entry
            .call
            .controller()
            .or(entry.last_agent.as_deref())
            .and_then(|a| self.agents.get(a))
            .map(|p| p.info.id.clone());
        self.sink.call_ended(call, now_ms(), agent_id);
        if let Some(Some(contact)) = self.contact_of_call.remove(call) {
            self.sink
                .contact_outcome(&contact, entry.answered_at.is_some());
        }
    }

    /// Write a call event (persisted and published).
    pub(super) fn log_call(&mut self, call: &str, kind: &str, detail: &str, actor: Option<&str>) {
        let at = now_ms();
        tracing::info!(call, kind, detail, actor, "call event");
        self.sink.call_event(call, at, kind, actor, detail);
        self.sink.publish(serde_json::json!({"type": "call_event", "call_id": call, "kind": kind, "detail": detail, "actor": actor, "at": at}));
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
            let v = self.call_json(call);
            self.sink
                .publish(serde_json::json!({"type": "call", "call": v}));
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
        let dir = self
            .cfg
            .server
            .data_dir
            .join("recordings")
            .join(chrono::Utc::now().format("%Y-%m-%d").to_string());
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(format!("{call}-{seg}.wav"));
        let rec = self
            .media
            .start_recording(cust.media, &path)
            .map_err(|e| e.to_string())?;
        let key = format!("{call}#{seg}");
        let (campaign_id, agent_id) = self.storage_ids(e);
        let now = now_ms();
        self.sink.recording_started(
            &key,
            call,
            &path.to_string_lossy(),
            now,
            agent_id,
            campaign_id,
        );
        let e = self.calls.get_mut(call).expect("exists");
        e.segments = seg;
        e.recording = Some((rec, key, now));
        self.log_call(call, "RECORDING_STARTED", &format!("segment {seg}"), by);
        Ok(())
    }

    /// Stop the running recording segment, if any.
    pub(super) fn stop_recording_internal(&mut self, call: &str, why: &str) {
        let Some(e) = self.calls.get_mut(call) else {
            return;
        };
        let Some((rec, key, _)) = e.recording.take() else {
            return;
        };
        let summary = self.media.stop_recording(rec);
        let duration = summary.map(|s| s.duration_ms as i64);
        self.sink.recording_stopped(&key, now_ms(), duration);
        self.log_call(call, "RECORDING_STOPPED", why, None);
    }
}
