//! Where the engine's facts go: a broadcast of JSON events for WebSocket
//! consoles, and an ordered queue of writes applied to storage by one
//! writer task (so the switch core never waits on the database).

use std::collections::HashMap;

use serde_json::{json, Value};
use switchboard_storage::{CallDirection, NewCall, NewRecording, NewTag, Storage};
use tokio::sync::{broadcast, mpsc};

use crate::engine::AgentStatus;

/// One write to storage.
#[derive(Debug)]
enum DbOp {
    CallStarted(NewCall),
    CallAnswered(String, i64),
    CallAgent(String, String),
    CallEnded(String, i64, Option<String>),
    Event(String, i64, String, Option<String>, String),
    AgentState(String, String, Option<String>, i64),
    RecordingStarted(String, NewRecording),
    RecordingStopped(String, i64, Option<i64>),
    Tag(NewTag, Option<String>),
    ContactOutcome(String, bool),
    Registrations(String, Vec<switchboard_storage::RegistrationRow>),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Handle used by the engine.
#[derive(Clone)]
pub struct EventSink {
    events: broadcast::Sender<Value>,
    db: mpsc::UnboundedSender<DbOp>,
}

impl EventSink {
    /// Start the writer task over `storage`.
    pub fn start(storage: Storage) -> EventSink {
        let (events, _) = broadcast::channel(4096);
        let (db, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(storage, rx));
        EventSink { events, db }
    }

    /// Subscribe to live events.
    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.events.subscribe()
    }

    /// Publish a live event.
    pub fn publish(&self, v: Value) {
        let _ = self.events.send(v);
    }

    /// Wait until every write queued so far is applied.
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.db.send(DbOp::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    fn send(&self, op: DbOp) {
        let _ = self.db.send(op);
    }

    /// CDR insert.
    #[allow(clippy::too_many_arguments)]
    pub fn call_started(
        &self,
        id: &str,
        direction: &str,
        campaign_id: Option<String>,
        contact_id: Option<String>,
        caller: &str,
        callee: &str,
        agent_id: Option<String>,
        at: u64,
    ) {
        let direction = match direction {
            "inbound" => CallDirection::Inbound,
            "outbound" => CallDirection::Outbound,
            _ => CallDirection::Internal,
        };
        self.send(DbOp::CallStarted(NewCall {
            id: Some(id.to_string()),
            direction,
            campaign_id,
            contact_id,
            caller: caller.to_string(),
            callee: callee.to_string(),
            agent_id,
            started_at: at as i64,
        }));
    }
    /// CDR answered.
    pub fn call_answered(&self, id: &str, at: u64) {
        self.send(DbOp::CallAnswered(id.into(), at as i64));
    }
    /// CDR: the agent now handling the call.
    pub fn call_agent(&self, id: &str, agent_id: &str) {
        self.send(DbOp::CallAgent(id.into(), agent_id.into()));
    }
    /// CDR ended.
    pub fn call_ended(&self, id: &str, at: u64, agent_id: Option<String>) {
        self.send(DbOp::CallEnded(id.into(), at as i64, agent_id));
    }
    /// Call event log.
    pub fn call_event(&self, call: &str, at: u64, kind: &str, actor: Option<&str>, detail: &str) {
        self.send(DbOp::Event(
            call.into(),
            at as i64,
            kind.into(),
            actor.map(str::to_string),
            detail.into(),
        ));
    }
    /// Agent state log.
    pub fn agent_state(&self, agent_id: &str, status: AgentStatus, reason: Option<&str>) {
        let s = serde_json::to_value(status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.send(DbOp::AgentState(
            agent_id.into(),
            s,
            reason.map(str::to_string),
            crate::engine::now_ms() as i64,
        ));
    }
    /// Recording segment started; `key` names it until storage assigns an id.
    pub fn recording_started(
        &self,
        key: &str,
        call: &str,
        path: &str,
        at: u64,
        agent_id: Option<String>,
        campaign_id: Option<String>,
    ) {
        self.send(DbOp::RecordingStarted(
            key.into(),
            NewRecording {
                call_id: call.into(),
                path: path.into(),
                started_at: at as i64,
                agent_id,
                campaign_id,
            },
        ));
    }
    /// Recording segment stopped.
    pub fn recording_stopped(&self, key: &str, at: u64, duration_ms: Option<i64>) {
        self.send(DbOp::RecordingStopped(key.into(), at as i64, duration_ms));
    }
    /// A user's registrar bindings changed.
    pub fn registrations(&self, user: &str, rows: Vec<switchboard_storage::RegistrationRow>) {
        self.send(DbOp::Registrations(user.into(), rows));
    }

    /// A dialer call to a contact ended: done when answered, else retried by the campaign's rule.
    pub fn contact_outcome(&self, contact_id: &str, answered: bool) {
        self.send(DbOp::ContactOutcome(contact_id.into(), answered));
    }

    /// Recording tag.
    pub fn tag(
        &self,
        call: &str,
        recording_key: Option<&str>,
        author: &str,
        text: &str,
        at: u64,
        offset_ms: u64,
    ) {
        self.send(DbOp::Tag(
            NewTag {
                call_id: call.into(),
                recording_id: None,
                author: author.into(),
                text: text.into(),
                at: at as i64,
                offset_ms: offset_ms as i64,
            },
            recording_key.map(str::to_string),
        ));
    }
}

async fn contact_outcome(
    storage: &Storage,
    id: &str,
    answered: bool,
) -> switchboard_storage::Result<()> {
    use switchboard_storage::ContactStatus;
    let Some(c) = storage.get_contact(id).await? else {
        return Ok(());
    };
    if c.status == ContactStatus::Callback {
        return Ok(()); // an Agenda disposition already scheduled it
    }
    let campaign = match &c.campaign_id {
        Some(cid) => storage.get_campaign(cid).await?,
        None => None,
    };
    let (max, delay) = campaign
        .map(|k| (k.max_attempts, k.retry_delay_secs))
        .unwrap_or((1, 0));
    if answered || c.attempts >= max {
        storage
            .set_contact_status(id, ContactStatus::Done, None)
            .await
    } else {
        let next = crate::engine::now_ms() as i64 + delay.max(0) * 1000;
        storage
            .set_contact_status(id, ContactStatus::Retry, Some(next))
            .await
    }
}

async fn writer(storage: Storage, mut rx: mpsc::UnboundedReceiver<DbOp>) {
    let mut recordings: HashMap<String, String> = HashMap::new();
    while let Some(op) = rx.recv().await {
        let res = match op {
            DbOp::CallStarted(c) => storage.insert_call(&c).await.map(|_| ()),
            DbOp::CallAnswered(id, at) => storage.update_call_answered(&id, at).await,
            DbOp::CallAgent(id, agent) => storage.update_call_agent(&id, Some(&agent)).await,
            DbOp::CallEnded(id, at, agent) => {
                if agent.is_some() {
                    let _ = storage.update_call_agent(&id, agent.as_deref()).await;
                }
                storage.finish_call(&id, at, "ended").await
            }
            DbOp::Event(call, at, kind, actor, detail) => storage
                .add_event(&call, at, &kind, actor.as_deref(), json!({"text": detail}))
                .await
                .map(|_| ()),
            DbOp::AgentState(agent, state, reason, at) => storage
                .add_agent_state(&agent, &state, reason.as_deref(), at)
                .await
                .map(|_| ()),
            DbOp::RecordingStarted(key, r) => match storage.insert_recording(&r).await {
                Ok(row) => {
                    recordings.insert(key, row.id);
                    Ok(())
                }
                Err(e) => Err(e),
            },
            DbOp::RecordingStopped(key, at, d) => match recordings.get(&key) {
                Some(id) => storage.finish_recording(id, at, d).await.map(|_| ()),
                None => Ok(()),
            },
            DbOp::Tag(mut t, key) => {
                t.recording_id = key.and_then(|k| recordings.get(&k).cloned());
                storage.add_tag(&t).await.map(|_| ())
            }
            DbOp::Registrations(user, rows) => storage.save_registrations(&user, &rows).await,
            DbOp::ContactOutcome(id, answered) => contact_outcome(&storage, &id, answered).await,
            DbOp::Flush(tx) => {
                let _ = tx.send(());
                Ok(())
            }
        };
        if let Err(e) = res {
            tracing::error!(%e, "storage write failed");
        }
    }
}
