//! Where the switch's outputs go: a broadcast of JSON events for WebSocket
//! consoles, and an ordered queue of storage writes applied by one writer
//! task (so the switch core never waits on the database).

use std::collections::HashMap;

use serde_json::{json, Value};
use switchboard_storage::{CallDirection, NewCall, NewRecording, NewTag, RegistrationRow, Storage};
use switchboard_switch::{Direction, StoreOp};
use tokio::sync::{broadcast, mpsc};

/// One item of the writer's queue.
#[derive(Debug)]
enum DbOp {
    Store(StoreOp),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Handle used by the switch driver, the scheduler and the web layer.
#[derive(Clone)]
pub struct EventSink {
    events: broadcast::Sender<Value>,
    db: mpsc::UnboundedSender<DbOp>,
}

impl EventSink {
    /// Start the writer task over `storage` (best a [`Storage::batch_writer`]).
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

    /// Queue a flush marker now; the receiver completes once every write
    /// queued before it is applied.
    pub fn flush_marker(&self) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = self.db.send(DbOp::Flush(tx));
        rx
    }

    /// Queue a storage write.
    pub fn store(&self, op: StoreOp) {
        let _ = self.db.send(DbOp::Store(op));
    }
}

async fn contact_outcome(
    storage: &Storage,
    id: &str,
    answered: bool,
    now: i64,
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
        let next = now + delay.max(0) * 1000;
        storage
            .set_contact_status(id, ContactStatus::Retry, Some(next))
            .await
    }
}

/// Writes that are single statements, grouped into one transaction per
/// batch; the others run their own transaction between batches.
fn batchable(op: &StoreOp) -> bool {
    !matches!(
        op,
        StoreOp::RecordingStarted { .. }
            | StoreOp::Registrations { .. }
            | StoreOp::ContactOutcome { .. }
    )
}

/// Most writes grouped in one transaction.
const BATCH: usize = 512;

/// How long the writer lets writes gather after the first one of a batch.
/// A call produces its writes one by one (CDR, agent states, call log), so
/// without it a quiet server commits a transaction of one or two statements
/// each time; 10 ms later the same commit carries the writes of a few calls
/// (`perf` at 100 calls/s: begin, commit and WAL frames were a sixth of the
/// server's CPU). A flush (every authenticated API request reads its own
/// writes) ends the wait at once. A kill -9 loses what is queued in memory
/// either way; restart recovery closes the calls whose end was not written.
const GATHER: std::time::Duration = std::time::Duration::from_millis(10);

async fn writer(storage: Storage, mut rx: mpsc::UnboundedReceiver<DbOp>) {
    let mut recordings: HashMap<String, String> = HashMap::new();
    while let Some(first) = rx.recv().await {
        // Writes arriving within GATHER go in the same batch; a flush (an API
        // request reading its own writes) ends the gathering at once.
        let gather = tokio::time::sleep(GATHER);
        tokio::pin!(gather);
        let mut flushed = matches!(first, DbOp::Flush(_));
        let mut batch = vec![first];
        while !flushed && batch.len() < BATCH {
            tokio::select! {
                op = rx.recv() => match op {
                    Some(op) => {
                        flushed = matches!(op, DbOp::Flush(_));
                        batch.push(op);
                    }
                    None => break,
                },
                _ = &mut gather => break,
            }
        }
        // Everything queued meanwhile goes in the same batch.
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let mut open = false;
        // Consecutive call-log entries go out as multi-row INSERTs.
        let mut events = Vec::new();
        for op in batch {
            if !matches!(op, DbOp::Store(StoreOp::CallEvent { .. })) {
                flush_events(&storage, &mut events).await;
            }
            match op {
                DbOp::Flush(tx) => {
                    if std::mem::take(&mut open) {
                        commit(&storage).await;
                    }
                    let _ = tx.send(());
                }
                DbOp::Store(StoreOp::CallEvent {
                    call,
                    at,
                    kind,
                    actor,
                    detail,
                }) => {
                    if !open {
                        open = storage.begin_batch().await.is_ok();
                    }
                    events.push((call, at, kind, actor, json!({ "text": detail })));
                }
                DbOp::Store(op) => {
                    if batchable(&op) && !open {
                        open = match storage.begin_batch().await {
                            Ok(()) => true,
                            Err(e) => {
                                tracing::error!(%e, "storage: cannot begin a batch");
                                false
                            }
                        };
                    } else if !batchable(&op) && std::mem::take(&mut open) {
                        commit(&storage).await;
                    }
                    if let Err(e) = apply(&storage, &mut recordings, op).await {
                        tracing::error!(%e, "storage write failed");
                    }
                }
            }
        }
        flush_events(&storage, &mut events).await;
        if open {
            commit(&storage).await;
        }
    }
}

/// Write the call-log entries gathered so far.
async fn flush_events(
    storage: &Storage,
    events: &mut Vec<(String, i64, String, Option<String>, Value)>,
) {
    if events.is_empty() {
        return;
    }
    if let Err(e) = storage.add_events(events).await {
        tracing::error!(%e, "storage: a call event could not be written");
    }
    events.clear();
}

async fn commit(storage: &Storage) {
    if let Err(e) = storage.commit_batch().await {
        tracing::error!(%e, "storage: committing a batch failed");
    }
}

/// Apply one write; `recordings` maps recording keys to storage ids.
async fn apply(
    storage: &Storage,
    recordings: &mut HashMap<String, String>,
    op: StoreOp,
) -> switchboard_storage::Result<()> {
    match op {
        StoreOp::CallStarted {
            call,
            direction,
            campaign_id,
            contact_id,
            caller,
            callee,
            agent_id,
            at,
        } => {
            let direction = match direction {
                Direction::Inbound => CallDirection::Inbound,
                Direction::Outbound => CallDirection::Outbound,
                Direction::Internal => CallDirection::Internal,
            };
            let c = NewCall {
                id: Some(call),
                direction,
                campaign_id,
                contact_id,
                caller,
                callee,
                agent_id,
                started_at: at,
            };
            storage.insert_call(&c).await.map(|_| ())
        }
        StoreOp::CallAnswered { call, at } => storage.update_call_answered(&call, at).await,
        StoreOp::CallAgent { call, agent_id } => {
            storage.update_call_agent(&call, Some(&agent_id)).await
        }
        StoreOp::CallEnded {
            call,
            at,
            agent_id,
            reason,
        } => {
            if agent_id.is_some() {
                let _ = storage.update_call_agent(&call, agent_id.as_deref()).await;
            }
            storage.finish_call(&call, at, &reason).await
        }
        StoreOp::CallQuality { call, quality } => {
            storage
                .set_call_quality(&call, &quality_row(&quality))
                .await
        }
        StoreOp::CallEvent {
            call,
            at,
            kind,
            actor,
            detail,
        } => storage
            .add_event(&call, at, &kind, actor.as_deref(), json!({"text": detail}))
            .await
            .map(|_| ()),
        StoreOp::AgentState {
            agent_id,
            status,
            reason,
            by,
            at,
        } => {
            let s = serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            storage
                .add_agent_state_by(&agent_id, &s, reason.as_deref(), by.as_deref(), at)
                .await
                .map(|_| ())
        }
        StoreOp::RecordingStarted {
            key,
            call,
            path,
            at,
            agent_id,
            campaign_id,
        } => {
            let r = NewRecording {
                call_id: call,
                path,
                started_at: at,
                agent_id,
                campaign_id,
            };
            let row = storage.insert_recording(&r).await?;
            recordings.insert(key, row.id);
            Ok(())
        }
        StoreOp::RecordingStopped {
            key,
            at,
            duration_ms,
        } => match recordings.get(&key) {
            Some(id) => storage
                .finish_recording(id, at, duration_ms)
                .await
                .map(|_| ()),
            None => Ok(()),
        },
        StoreOp::Tag {
            call,
            recording_key,
            author,
            text,
            at,
            offset_ms,
        } => {
            let t = NewTag {
                call_id: call,
                recording_id: recording_key.and_then(|k| recordings.get(&k).cloned()),
                author,
                text,
                at,
                offset_ms,
            };
            storage.add_tag(&t).await.map(|_| ())
        }
        StoreOp::Registrations { username, rows } => {
            let rows: Vec<RegistrationRow> = rows
                .into_iter()
                .map(|r| RegistrationRow {
                    username: r.username,
                    contact: r.contact,
                    peer_addr: r.peer_addr,
                    transport: r.transport,
                    expires_at: r.expires_at,
                })
                .collect();
            storage.save_registrations(&username, &rows).await
        }
        StoreOp::ContactOutcome {
            contact_id,
            answered,
            at,
        } => contact_outcome(storage, &contact_id, answered, at).await,
    }
}

/// A call's quality as its CDR stores it.
pub fn quality_row(q: &switchboard_center::CallQuality) -> switchboard_storage::CallQualityRow {
    let side = |q: Option<switchboard_center::LegQuality>| {
        q.map(|q| switchboard_storage::SideQuality {
            packets_received: i64::try_from(q.packets_received).unwrap_or(i64::MAX),
            packets_lost: i64::try_from(q.packets_lost).unwrap_or(i64::MAX),
            loss_percent: q.loss_percent,
            jitter_ms: q.jitter_ms,
            mos: q.mos,
        })
    };
    switchboard_storage::CallQualityRow {
        customer: side(q.customer),
        agent: side(q.agent),
    }
}
