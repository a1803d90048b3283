//! Call events: the timeline of a call (ringing, answer, hold, transfers,
//! recording, tags, disposition, hangup), ordered by time and then by an
//! application-generated, strictly increasing `seq`.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::{decode_all, get_json, new_id, next_seq};
use crate::{col, Result, Storage, StorageError};

/// Well-known values of [`CallEventRow::kind`] (any other text is allowed).
pub mod event_kind {
    /// The call (or an agent leg) started ringing.
    pub const RINGING: &str = "RINGING";
    /// The call was answered.
    pub const ANSWERED: &str = "ANSWERED";
    /// The call entered a queue.
    pub const QUEUED: &str = "QUEUED";
    /// Put on hold. Paired with [`UNHOLD`] for hold time in reports.
    pub const HOLD: &str = "HOLD";
    /// Taken off hold.
    pub const UNHOLD: &str = "UNHOLD";
    /// Blind transfer (counted as a transfer in reports).
    pub const TRANSFER_BLIND: &str = "TRANSFER_BLIND";
    /// Consultation call started for an attended transfer.
    pub const TRANSFER_CONSULT: &str = "TRANSFER_CONSULT";
    /// Attended transfer completed (counted as a transfer in reports).
    pub const TRANSFER_COMPLETED: &str = "TRANSFER_COMPLETED";
    /// Attended transfer abandoned.
    pub const TRANSFER_CANCELLED: &str = "TRANSFER_CANCELLED";
    /// Conference formed.
    pub const CONFERENCE: &str = "CONFERENCE";
    /// Recording started.
    pub const RECORDING_STARTED: &str = "RECORDING_STARTED";
    /// Recording stopped.
    pub const RECORDING_STOPPED: &str = "RECORDING_STOPPED";
    /// Recording paused (the paused span is silence in the file).
    pub const RECORDING_PAUSED: &str = "RECORDING_PAUSED";
    /// Recording resumed after a pause.
    pub const RECORDING_RESUMED: &str = "RECORDING_RESUMED";
    /// The server stopped during the call; closed when it restarted.
    pub const INTERRUPTED: &str = "INTERRUPTED";
    /// A tag was added.
    pub const TAG: &str = "TAG";
    /// A disposition was set.
    pub const DISPOSITION: &str = "DISPOSITION";
    /// The call ended.
    pub const HANGUP: &str = "HANGUP";
}

/// One event of a call.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CallEventRow {
    /// Row id.
    pub id: String,
    /// Call it belongs to.
    pub call_id: String,
    /// Strictly increasing insertion order (ties on `at` are ordered by it).
    pub seq: i64,
    /// When it happened, unix ms.
    pub at: i64,
    /// What happened (see [`event_kind`]).
    pub kind: String,
    /// Who did it: agent username, `system` or `customer`.
    pub actor: Option<String>,
    /// Event-specific details (JSON object, `{}` when none).
    pub detail: serde_json::Value,
}

const COLUMNS: &str = "id, call_id, seq, at, kind, actor, detail_json";

fn decode(row: &AnyRow) -> Result<CallEventRow> {
    Ok(CallEventRow {
        id: col(row, "id")?,
        call_id: col(row, "call_id")?,
        seq: col(row, "seq")?,
        at: col(row, "at")?,
        kind: col(row, "kind")?,
        actor: col(row, "actor")?,
        detail: get_json(row, "detail_json")?,
    })
}

/// Rows per multi-row INSERT (7 parameters each, under SQLite's limit).
const EVENTS_PER_INSERT: usize = 100;

impl Storage {
    /// Appends many events (to any calls) with one multi-row INSERT per 100
    /// events: the storage writer's bulk path. Rows keep the given order. If
    /// a statement fails (e.g. one event names an unknown call), its events
    /// are retried one by one so the others are kept; the first error is
    /// returned.
    pub async fn add_events(
        &self,
        events: &[(String, i64, String, Option<String>, serde_json::Value)],
    ) -> Result<()> {
        let mut first_error = None;
        for chunk in events.chunks(EVENTS_PER_INSERT) {
            let mut sql = format!("INSERT INTO call_events ({COLUMNS}) VALUES ");
            for i in 0..chunk.len() {
                let b = i * 7;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                ));
            }
            let mut q = sqlx::query(&sql);
            for (call, at, kind, actor, detail) in chunk {
                let detail = if detail.is_null() {
                    "{}".to_string()
                } else {
                    detail.to_string()
                };
                q = q
                    .bind(new_id())
                    .bind(call.clone())
                    .bind(next_seq())
                    .bind(*at)
                    .bind(kind.clone())
                    .bind(actor.clone())
                    .bind(detail);
            }
            if q.execute(self.pool()).await.is_err() {
                for (call, at, kind, actor, detail) in chunk {
                    if let Err(e) = self
                        .add_event(call, *at, kind, actor.as_deref(), detail.clone())
                        .await
                    {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Appends an event to a call's timeline. `detail` may be `Value::Null`
    /// (stored as `{}`). An unknown call gives [`StorageError::Conflict`].
    pub async fn add_event(
        &self,
        call_id: &str,
        at: i64,
        kind: &str,
        actor: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<CallEventRow> {
        if kind.trim().is_empty() {
            return Err(StorageError::Invalid("empty event kind".into()));
        }
        let detail = if detail.is_null() {
            serde_json::json!({})
        } else {
            detail
        };
        let row = CallEventRow {
            id: new_id(),
            call_id: call_id.to_string(),
            seq: next_seq(),
            at,
            kind: kind.to_string(),
            actor: actor.map(str::to_string),
            detail,
        };
        sqlx::query(
            "INSERT INTO call_events (id, call_id, seq, at, kind, actor, detail_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(&row.call_id)
        .bind(row.seq)
        .bind(row.at)
        .bind(&row.kind)
        .bind(row.actor.clone())
        .bind(row.detail.to_string())
        .execute(self.pool())
        .await?;
        Ok(row)
    }

    /// Every event of a call, ordered by `at` then insertion.
    pub async fn list_events(&self, call_id: &str) -> Result<Vec<CallEventRow>> {
        let sql = format!("SELECT {COLUMNS} FROM call_events WHERE call_id = $1 ORDER BY at, seq");
        let rows = sqlx::query(&sql)
            .bind(call_id)
            .fetch_all(self.pool())
            .await?;
        decode_all(&rows, decode)
    }
}
