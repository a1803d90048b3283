//! Agenda (scheduled callbacks). A `personal` entry is for its owner agent
//! (reminders); a `global` entry is fired by the system when due and given to
//! any agent of the campaign. [`Storage::claim_due_global`] marks due global
//! entries `fired` atomically, so an entry fires once even across restarts
//! or with several claimers.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::{decode_all, expect_one, get_enum, new_id, now_ms, str_enum};
use crate::{col, Result, Storage, StorageError};

str_enum! {
    /// Who a callback is for.
    AgendaKind {
        /// Only the owner agent calls back.
        Personal => "personal",
        /// Any agent of the campaign calls back.
        Global => "global",
    }
}

str_enum! {
    /// Lifecycle of an agenda entry.
    AgendaStatus {
        /// Waiting for its time.
        Pending => "pending",
        /// Due and handed out (claimed), not yet done.
        Fired => "fired",
        /// Called back.
        Done => "done",
        /// Cancelled.
        Cancelled => "cancelled",
    }
}

/// An agenda entry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AgendaRow {
    /// Row id.
    pub id: String,
    /// Personal or global.
    pub kind: AgendaKind,
    /// Creator / owner agent.
    pub agent_id: String,
    /// Contact to call back.
    pub contact_id: Option<String>,
    /// Campaign of the callback.
    pub campaign_id: Option<String>,
    /// Number to call.
    pub phone: String,
    /// When to call, unix ms UTC.
    pub scheduled_at: i64,
    /// Time zone the user gave (IANA name or offset), for display only.
    pub tz: String,
    /// Why / notes.
    pub reason: String,
    /// Lifecycle status.
    pub status: AgendaStatus,
    /// When it fired, unix ms.
    pub fired_at: Option<i64>,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Call that completed it.
    pub call_id: Option<String>,
    /// Call whose disposition scheduled it.
    pub origin_call_id: Option<String>,
}

/// Fields of a new agenda entry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NewAgenda {
    /// Personal or global.
    pub kind: AgendaKind,
    /// Creator / owner agent.
    pub agent_id: String,
    /// Contact.
    pub contact_id: Option<String>,
    /// Campaign.
    pub campaign_id: Option<String>,
    /// Number to call.
    pub phone: String,
    /// When, unix ms UTC.
    pub scheduled_at: i64,
    /// Display time zone (default `UTC`).
    #[serde(default = "default_tz")]
    pub tz: String,
    /// Reason.
    #[serde(default)]
    pub reason: String,
    /// Call whose disposition scheduled it.
    #[serde(default)]
    pub origin_call_id: Option<String>,
}

fn default_tz() -> String {
    "UTC".into()
}

pub(crate) const COLUMNS: &str =
    "id, kind, agent_id, contact_id, campaign_id, phone, scheduled_at, \
                                  tz, reason, status, fired_at, created_at, call_id, origin_call_id";

pub(crate) fn decode(row: &AnyRow) -> Result<AgendaRow> {
    Ok(AgendaRow {
        id: col(row, "id")?,
        kind: get_enum(row, "kind")?,
        agent_id: col(row, "agent_id")?,
        contact_id: col(row, "contact_id")?,
        campaign_id: col(row, "campaign_id")?,
        phone: col(row, "phone")?,
        scheduled_at: col(row, "scheduled_at")?,
        tz: col(row, "tz")?,
        reason: col(row, "reason")?,
        status: get_enum(row, "status")?,
        fired_at: col(row, "fired_at")?,
        created_at: col(row, "created_at")?,
        call_id: col(row, "call_id")?,
        origin_call_id: col(row, "origin_call_id")?,
    })
}

impl Storage {
    /// Schedules a callback (status `pending`). The phone must be 3-20
    /// digits with an optional leading `+`.
    pub async fn add_agenda(&self, entry: &NewAgenda) -> Result<AgendaRow> {
        let phone = entry.phone.trim();
        if let Some(problem) = crate::contacts::phone_problem(phone) {
            return Err(StorageError::Invalid(problem));
        }
        let row = AgendaRow {
            id: new_id(),
            kind: entry.kind,
            agent_id: entry.agent_id.clone(),
            contact_id: entry.contact_id.clone(),
            campaign_id: entry.campaign_id.clone(),
            phone: phone.to_string(),
            scheduled_at: entry.scheduled_at,
            tz: if entry.tz.trim().is_empty() {
                default_tz()
            } else {
                entry.tz.trim().to_string()
            },
            reason: entry.reason.clone(),
            status: AgendaStatus::Pending,
            fired_at: None,
            created_at: now_ms(),
            call_id: None,
            origin_call_id: entry.origin_call_id.clone(),
        };
        sqlx::query(
            "INSERT INTO agenda (id, kind, agent_id, contact_id, campaign_id, phone, scheduled_at, \
             tz, reason, status, created_at, origin_call_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&row.id)
        .bind(row.kind.as_str())
        .bind(&row.agent_id)
        .bind(row.contact_id.clone())
        .bind(row.campaign_id.clone())
        .bind(&row.phone)
        .bind(row.scheduled_at)
        .bind(&row.tz)
        .bind(&row.reason)
        .bind(row.status.as_str())
        .bind(row.created_at)
        .bind(row.origin_call_id.clone())
        .execute(self.pool())
        .await?;
        Ok(row)
    }

    /// The agenda entry with this id.
    pub async fn get_agenda(&self, id: &str) -> Result<Option<AgendaRow>> {
        let sql = format!("SELECT {COLUMNS} FROM agenda WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Entries owned by an agent (personal and global ones it created), by
    /// scheduled time; only `pending`/`fired` unless `include_done`.
    pub async fn list_agenda_for_agent(
        &self,
        agent_id: &str,
        include_done: bool,
    ) -> Result<Vec<AgendaRow>> {
        let filter = if include_done {
            ""
        } else {
            " AND status IN ('pending', 'fired')"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM agenda WHERE agent_id = $1{filter} ORDER BY scheduled_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(agent_id)
            .fetch_all(self.pool())
            .await?;
        decode_all(&rows, decode)
    }

    /// Global entries still pending whose time has come (`scheduled_at <= now`).
    pub async fn list_pending_global_due(&self, now: i64) -> Result<Vec<AgendaRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agenda WHERE kind = 'global' AND status = 'pending' \
             AND scheduled_at <= $1 ORDER BY scheduled_at, id"
        );
        let rows = sqlx::query(&sql).bind(now).fetch_all(self.pool()).await?;
        decode_all(&rows, decode)
    }

    /// Atomically marks up to `limit` due pending global entries `fired`
    /// (with `fired_at = now`) and returns them. Each entry is returned by
    /// exactly one call, ever, whatever the number of concurrent claimers.
    pub async fn claim_due_global(&self, now: i64, limit: i64) -> Result<Vec<AgendaRow>> {
        let mut tx = self.begin_write().await?;
        let candidates = sqlx::query(
            "SELECT id FROM agenda WHERE kind = 'global' AND status = 'pending' \
             AND scheduled_at <= $1 ORDER BY scheduled_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit.max(0))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for row in &candidates {
            let id: String = col(row, "id")?;
            let done = sqlx::query(
                "UPDATE agenda SET status = 'fired', fired_at = $1 \
                 WHERE id = $2 AND status = 'pending'",
            )
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                let sql = format!("SELECT {COLUMNS} FROM agenda WHERE id = $1");
                let row = sqlx::query(&sql).bind(&id).fetch_one(&mut *tx).await?;
                claimed.push(decode(&row)?);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Marks one pending entry `fired` (e.g. a personal reminder shown).
    /// Returns false if it was not pending any more (already fired, done...).
    pub async fn mark_agenda_fired(&self, id: &str, at: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE agenda SET status = 'fired', fired_at = $1 WHERE id = $2 AND status = 'pending'",
        )
        .bind(at)
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 && self.get_agenda(id).await?.is_none() {
            return Err(StorageError::NotFound(format!("agenda entry {id}")));
        }
        Ok(done.rows_affected() == 1)
    }

    async fn close_agenda(
        &self,
        id: &str,
        status: AgendaStatus,
        call_id: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE agenda SET status = $1, call_id = COALESCE($2, call_id) \
             WHERE id = $3 AND status IN ('pending', 'fired')",
        )
        .bind(status.as_str())
        .bind(call_id.map(str::to_string))
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        match self.get_agenda(id).await? {
            None => Err(StorageError::NotFound(format!("agenda entry {id}"))),
            Some(e) => Err(StorageError::Conflict(format!(
                "agenda entry {id} is already {}",
                e.status
            ))),
        }
    }

    /// Marks an entry done, optionally with the call that completed it.
    /// Entries already done or cancelled give [`StorageError::Conflict`].
    pub async fn mark_agenda_done(&self, id: &str, call_id: Option<&str>) -> Result<()> {
        self.close_agenda(id, AgendaStatus::Done, call_id).await
    }

    /// Puts a fired entry back to `pending` at a new time (a global callback
    /// due outside its campaign's calling hours waits for the next window;
    /// the agenda shows the new time).
    pub async fn reschedule_agenda(&self, id: &str, at: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE agenda SET status = 'pending', scheduled_at = $1, fired_at = NULL \
             WHERE id = $2 AND status IN ('pending', 'fired')",
        )
        .bind(at)
        .bind(id)
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), "open agenda entry", id)
    }

    /// Cancels an entry. Entries already done or cancelled give
    /// [`StorageError::Conflict`].
    pub async fn cancel_agenda(&self, id: &str) -> Result<()> {
        self.close_agenda(id, AgendaStatus::Cancelled, None).await
    }

    /// Pending personal entries of an agent due within `within_ms` from
    /// `now` (overdue ones included), soonest first: reminders to show.
    pub async fn upcoming_personal(
        &self,
        agent_id: &str,
        now: i64,
        within_ms: i64,
    ) -> Result<Vec<AgendaRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agenda WHERE agent_id = $1 AND kind = 'personal' \
             AND status = 'pending' AND scheduled_at <= $2 ORDER BY scheduled_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(agent_id)
            .bind(now.saturating_add(within_ms))
            .fetch_all(self.pool())
            .await?;
        decode_all(&rows, decode)
    }
}
