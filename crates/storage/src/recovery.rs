//! Closing what a server left open when it stopped without ending its calls
//! (`kill -9`, a crash, power loss, or a shutdown with calls up), run once at
//! startup before anything else writes:
//!
//! * recording segments still open are listed ([`Storage::open_recordings`])
//!   so the binary can repair their files, then closed with the length of the
//!   audio actually on disk ([`Storage::close_open_recording`]);
//! * calls still open are ended at the moment the server stopped, estimated
//!   by [`Storage::last_activity`], with end reason [`END_INTERRUPTED`] and an
//!   `INTERRUPTED` event in their log ([`Storage::close_interrupted`]);
//! * agents whose last logged state was not `offline` get an `offline` entry
//!   at that moment (reason [`RESTART_REASON`]): the engine starts every
//!   agent offline, and reports must not count the downtime as talk or ready
//!   time;
//! * global callbacks claimed (`fired`) but never marked placed are settled
//!   ([`Storage::recover_claimed_callbacks`]): placed if the campaign called
//!   that number after the claim, otherwise due again.
//!
//! Every step only touches rows still open, so running it twice (or after a
//! clean stop) changes nothing more. It assumes one server per database.

use serde::Serialize;

use crate::events::event_kind;
use crate::util::{new_id, next_seq};
use crate::{col, Result, Storage};

/// `calls.end_reason` of a call the server stopped during.
pub const END_INTERRUPTED: &str = "interrupted";
/// `agent_state_log.reason` of the `offline` entry written at restart.
pub const RESTART_REASON: &str = "server restart";

/// A recording segment left open: its file may miss its header sizes.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct OpenRecording {
    /// Recording id.
    pub id: String,
    /// Recorded call.
    pub call_id: String,
    /// WAV file.
    pub path: String,
    /// Start time, unix ms.
    pub started_at: i64,
}

/// What [`Storage::close_interrupted`] closed.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Interrupted {
    /// Calls ended with [`END_INTERRUPTED`].
    pub calls: Vec<String>,
    /// Agents (ids) logged `offline`.
    pub agents: Vec<String>,
}

/// What [`Storage::recover_claimed_callbacks`] settled.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackRecovery {
    /// Entries whose call had been placed: now `done`, linked to that call.
    pub placed: Vec<String>,
    /// Entries claimed but never dialled: `pending` again, so due now.
    pub requeued: Vec<String>,
}

impl Storage {
    /// Recording segments with no end, oldest first.
    pub async fn open_recordings(&self) -> Result<Vec<OpenRecording>> {
        let rows = sqlx::query(
            "SELECT id, call_id, path, started_at FROM recordings WHERE ended_at IS NULL \
             ORDER BY started_at, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OpenRecording {
                    id: col(r, "id")?,
                    call_id: col(r, "call_id")?,
                    path: col(r, "path")?,
                    started_at: col(r, "started_at")?,
                })
            })
            .collect()
    }

    /// Closes a segment still open (false if it was closed already).
    pub async fn close_open_recording(
        &self,
        id: &str,
        ended_at: i64,
        duration_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recordings SET ended_at = $1, duration_ms = $2 \
             WHERE id = $3 AND ended_at IS NULL",
        )
        .bind(ended_at)
        .bind(duration_ms)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The latest moment the database saw activity: call and recording
    /// starts, answers and events of calls still open, agent state changes.
    /// After a crash it is when the server stopped, give or take the last
    /// uncommitted writes (without the audio of open recordings, which the
    /// caller adds). Each part is an index lookup.
    pub async fn last_activity(&self) -> Result<Option<i64>> {
        let mut last: Option<i64> = None;
        for sql in [
            "SELECT MAX(started_at) AS at FROM calls",
            "SELECT MAX(started_at) AS at FROM recordings",
            "SELECT MAX(answered_at) AS at FROM calls WHERE ended_at IS NULL",
            "SELECT MAX(e.at) AS at FROM call_events e JOIN calls c ON c.id = e.call_id \
             WHERE c.ended_at IS NULL",
            "SELECT MAX(x.at) AS at FROM (SELECT (SELECT MAX(s.at) FROM agent_state_log s \
             WHERE s.agent_id = a.id) AS at FROM agents a) x",
        ] {
            let row = sqlx::query(sql).fetch_one(self.pool()).await?;
            let at: Option<i64> = col(&row, "at")?;
            last = last.max(at);
        }
        Ok(last)
    }

    /// Ends every open call at `at` (or its own last activity, if later) with
    /// reason [`END_INTERRUPTED`] and an `INTERRUPTED` event, and logs
    /// `offline` at `at` for every agent whose last state was something else.
    pub async fn close_interrupted(&self, at: i64) -> Result<Interrupted> {
        let mut out = Interrupted::default();
        let open = sqlx::query(
            "SELECT c.id, c.started_at, c.answered_at, \
             (SELECT MAX(e.at) FROM call_events e WHERE e.call_id = c.id) AS last_event \
             FROM calls c WHERE c.ended_at IS NULL ORDER BY c.started_at, c.id",
        )
        .fetch_all(self.pool())
        .await?;
        for row in &open {
            let id: String = col(row, "id")?;
            let started: i64 = col(row, "started_at")?;
            let answered: Option<i64> = col(row, "answered_at")?;
            let last_event: Option<i64> = col(row, "last_event")?;
            let end = at
                .max(started)
                .max(answered.unwrap_or(0))
                .max(last_event.unwrap_or(0));
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(
                "UPDATE calls SET ended_at = $1, end_reason = $2, status = 'ended' \
                 WHERE id = $3 AND ended_at IS NULL",
            )
            .bind(end)
            .bind(END_INTERRUPTED)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                let detail = serde_json::json!({
                    "text": "the server stopped during the call; closed when it restarted"
                });
                sqlx::query(
                    "INSERT INTO call_events (id, call_id, seq, at, kind, actor, detail_json) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new_id())
                .bind(&id)
                .bind(next_seq())
                .bind(end)
                .bind(event_kind::INTERRUPTED)
                .bind("system")
                .bind(detail.to_string())
                .execute(&mut *tx)
                .await?;
                out.calls.push(id);
            }
            tx.commit().await?;
        }
        let agents = sqlx::query("SELECT id FROM agents ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        for row in &agents {
            let id: String = col(row, "id")?;
            let Some(last) = self.last_agent_state(&id, i64::MAX).await? else {
                continue;
            };
            if last.state != "offline" {
                self.add_agent_state(&id, "offline", Some(RESTART_REASON), at.max(last.at))
                    .await?;
                out.agents.push(id);
            }
        }
        Ok(out)
    }

    /// Settles global callbacks left `fired` without a call (claimed, then
    /// the server stopped before recording the outcome): when the campaign
    /// called that number since the claim, the entry is `done` with that call
    /// (it fired once); otherwise it is `pending` again, due at once.
    pub async fn recover_claimed_callbacks(&self) -> Result<CallbackRecovery> {
        let mut out = CallbackRecovery::default();
        let entries = sqlx::query(
            "SELECT id, campaign_id, phone, fired_at FROM agenda \
             WHERE kind = 'global' AND status = 'fired' AND call_id IS NULL ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        for row in &entries {
            let id: String = col(row, "id")?;
            let campaign: Option<String> = col(row, "campaign_id")?;
            let phone: String = col(row, "phone")?;
            let fired: Option<i64> = col(row, "fired_at")?;
            let call = sqlx::query(
                "SELECT id FROM calls WHERE campaign_id = $1 AND callee = $2 AND started_at >= $3 \
                 ORDER BY started_at, id LIMIT 1",
            )
            .bind(campaign)
            .bind(&phone)
            .bind(fired.unwrap_or(0))
            .fetch_optional(self.pool())
            .await?;
            let call: Option<String> = call.as_ref().map(|r| col(r, "id")).transpose()?;
            let done = match &call {
                Some(c) => sqlx::query(
                    "UPDATE agenda SET status = 'done', call_id = $1 \
                     WHERE id = $2 AND status = 'fired'",
                )
                .bind(c)
                .bind(&id),
                None => sqlx::query(
                    "UPDATE agenda SET status = 'pending', fired_at = NULL \
                     WHERE id = $1 AND status = 'fired'",
                )
                .bind(&id),
            }
            .execute(self.pool())
            .await?;
            if done.rows_affected() == 1 {
                match call {
                    Some(_) => out.placed.push(id),
                    None => out.requeued.push(id),
                }
            }
        }
        Ok(out)
    }
}
