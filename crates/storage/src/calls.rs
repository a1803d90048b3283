//! Call detail records: one row per call, updated as it is answered,
//! handed to agents and finished.
//!
//! `status` is free text maintained by these functions: `ringing` on insert,
//! `answered` by [`Storage::update_call_answered`], `ended` by
//! [`Storage::finish_call`]; [`Storage::set_call_status`] sets anything else
//! (e.g. `queued`).

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::{decode_all, expect_one, get_enum, new_id, str_enum, Sql};
use crate::{col, Result, Storage, StorageError};

str_enum! {
    /// Direction of a call.
    CallDirection {
        /// From a customer to the center.
        Inbound => "inbound",
        /// From the center to a customer.
        Outbound => "outbound",
        /// Between two agents/extensions.
        Internal => "internal",
    }
}

/// A call as stored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CallRow {
    /// Row id (given by the caller or generated).
    pub id: String,
    /// Direction.
    pub direction: CallDirection,
    /// Campaign it belongs to.
    pub campaign_id: Option<String>,
    /// Contact it was made to/from.
    pub contact_id: Option<String>,
    /// Calling number or extension.
    pub caller: String,
    /// Called number or extension.
    pub callee: String,
    /// Agent currently (or last) handling it.
    pub agent_id: Option<String>,
    /// Start time, unix ms.
    pub started_at: i64,
    /// Answer time, unix ms.
    pub answered_at: Option<i64>,
    /// End time, unix ms.
    pub ended_at: Option<i64>,
    /// Why it ended (free text, e.g. `caller_hangup`, `agent_hangup`, `timeout`).
    pub end_reason: Option<String>,
    /// Current status (`ringing`, `queued`, `answered`, `ended`, ...).
    pub status: String,
    /// Final media quality of the customer's and the agent's legs.
    pub quality: crate::CallQualityRow,
}

/// Fields of a new call.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NewCall {
    /// Id to use (e.g. the call-control id); generated when `None`.
    pub id: Option<String>,
    /// Direction.
    pub direction: CallDirection,
    /// Campaign.
    pub campaign_id: Option<String>,
    /// Contact.
    pub contact_id: Option<String>,
    /// Calling number.
    pub caller: String,
    /// Called number.
    pub callee: String,
    /// Handling agent.
    pub agent_id: Option<String>,
    /// Start time, unix ms.
    pub started_at: i64,
}

/// Filter for [`Storage::list_calls`]; every field optional.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct CallQuery {
    /// Only calls handled by this agent.
    pub agent_id: Option<String>,
    /// Only calls of this campaign.
    pub campaign_id: Option<String>,
    /// Only calls with this contact.
    pub contact_id: Option<String>,
    /// Started at or after (unix ms).
    pub from: Option<i64>,
    /// Started before (unix ms).
    pub to: Option<i64>,
    /// Maximum rows (default 100, at most 10000).
    pub limit: Option<i64>,
}

/// Every column of a call row (the quality columns are those of migration 0007).
pub(crate) const COLUMNS: &str = "id, direction, campaign_id, contact_id, caller, callee, \
    agent_id, started_at, answered_at, ended_at, end_reason, status, \
    customer_packets_received, customer_packets_lost, customer_loss_x100, customer_jitter_us, \
    customer_mos_x100, agent_packets_received, agent_packets_lost, agent_loss_x100, \
    agent_jitter_us, agent_mos_x100";

pub(crate) fn decode(row: &AnyRow) -> Result<CallRow> {
    Ok(CallRow {
        id: col(row, "id")?,
        direction: get_enum(row, "direction")?,
        campaign_id: col(row, "campaign_id")?,
        contact_id: col(row, "contact_id")?,
        caller: col(row, "caller")?,
        callee: col(row, "callee")?,
        agent_id: col(row, "agent_id")?,
        started_at: col(row, "started_at")?,
        answered_at: col(row, "answered_at")?,
        ended_at: col(row, "ended_at")?,
        end_reason: col(row, "end_reason")?,
        status: col(row, "status")?,
        quality: crate::call_quality::decode(row)?,
    })
}

impl Storage {
    /// Inserts a call with status `ringing`. A duplicate id gives
    /// [`StorageError::Conflict`].
    pub async fn insert_call(&self, call: &NewCall) -> Result<CallRow> {
        let row = CallRow {
            id: call.id.clone().unwrap_or_else(new_id),
            direction: call.direction,
            campaign_id: call.campaign_id.clone(),
            contact_id: call.contact_id.clone(),
            caller: call.caller.clone(),
            callee: call.callee.clone(),
            agent_id: call.agent_id.clone(),
            started_at: call.started_at,
            answered_at: None,
            ended_at: None,
            end_reason: None,
            status: "ringing".into(),
            quality: Default::default(),
        };
        sqlx::query(
            "INSERT INTO calls (id, direction, campaign_id, contact_id, caller, callee, agent_id, \
             started_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&row.id)
        .bind(row.direction.as_str())
        .bind(row.campaign_id.clone())
        .bind(row.contact_id.clone())
        .bind(&row.caller)
        .bind(&row.callee)
        .bind(row.agent_id.clone())
        .bind(row.started_at)
        .bind(&row.status)
        .execute(self.pool())
        .await?;
        Ok(row)
    }

    /// Runs a guarded single-call UPDATE; "no row changed" becomes NotFound
    /// when the call does not exist, Conflict (`conflict` text) otherwise.
    async fn update_call(&self, id: &str, sql: Sql, conflict: &str) -> Result<()> {
        let done = sql.query().execute(self.pool()).await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        if self.get_call(id).await?.is_none() {
            return Err(StorageError::NotFound(format!("call {id}")));
        }
        Err(StorageError::Conflict(format!("call {id} {conflict}")))
    }

    /// Records the first answer of a call (status `answered`). Answering
    /// twice gives [`StorageError::Conflict`].
    pub async fn update_call_answered(&self, id: &str, answered_at: i64) -> Result<()> {
        let mut sql = Sql::new("");
        let (a, b) = (sql.arg(answered_at), sql.arg(id));
        sql.push(&format!(
            "UPDATE calls SET answered_at = {a}, status = 'answered' \
             WHERE id = {b} AND answered_at IS NULL AND ended_at IS NULL"
        ));
        self.update_call(id, sql, "is already answered or ended")
            .await
    }

    /// Sets the agent now handling the call (after queue pick-up or transfer).
    pub async fn update_call_agent(&self, id: &str, agent_id: Option<&str>) -> Result<()> {
        let done = sqlx::query("UPDATE calls SET agent_id = $1 WHERE id = $2")
            .bind(agent_id.map(str::to_string))
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one(done.rows_affected(), "call", id)
    }

    /// Sets a free-text status (e.g. `queued`) on a call not yet ended.
    pub async fn set_call_status(&self, id: &str, status: &str) -> Result<()> {
        let mut sql = Sql::new("");
        let (a, b) = (sql.arg(status), sql.arg(id));
        sql.push(&format!(
            "UPDATE calls SET status = {a} WHERE id = {b} AND ended_at IS NULL"
        ));
        self.update_call(id, sql, "has already ended").await
    }

    /// Ends a call (status `ended`). Ending twice gives
    /// [`StorageError::Conflict`] and keeps the first end.
    pub async fn finish_call(&self, id: &str, ended_at: i64, reason: &str) -> Result<()> {
        let mut sql = Sql::new("");
        let (a, b, c) = (sql.arg(ended_at), sql.arg(reason), sql.arg(id));
        sql.push(&format!(
            "UPDATE calls SET ended_at = {a}, end_reason = {b}, status = 'ended' \
             WHERE id = {c} AND ended_at IS NULL"
        ));
        self.update_call(id, sql, "has already ended").await
    }

    /// The call with this id.
    pub async fn get_call(&self, id: &str) -> Result<Option<CallRow>> {
        let sql = format!("SELECT {COLUMNS} FROM calls WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Calls matching `query`, newest first.
    pub async fn list_calls(&self, query: &CallQuery) -> Result<Vec<CallRow>> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM calls WHERE 1 = 1"));
        if let Some(v) = &query.agent_id {
            let p = sql.arg(v.clone());
            sql.push(&format!(" AND agent_id = {p}"));
        }
        if let Some(v) = &query.campaign_id {
            let p = sql.arg(v.clone());
            sql.push(&format!(" AND campaign_id = {p}"));
        }
        if let Some(v) = &query.contact_id {
            let p = sql.arg(v.clone());
            sql.push(&format!(" AND contact_id = {p}"));
        }
        if let Some(v) = query.from {
            let p = sql.arg(v);
            sql.push(&format!(" AND started_at >= {p}"));
        }
        if let Some(v) = query.to {
            let p = sql.arg(v);
            sql.push(&format!(" AND started_at < {p}"));
        }
        let limit = sql.arg(query.limit.unwrap_or(100).clamp(1, 10_000));
        sql.push(&format!(" ORDER BY started_at DESC, id LIMIT {limit}"));
        let rows = sql.query().fetch_all(self.pool()).await?;
        decode_all(&rows, decode)
    }
}
