//! Agent state log: every state change (available, paused with a reason,
//! on call, after-call work, logged out...) with its time, for reports and
//! for restoring state after a restart.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::{decode_all, new_id, next_seq};
use crate::{col, Result, Storage, StorageError};

/// One state change of an agent.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AgentStateRow {
    /// Row id.
    pub id: String,
    /// Agent.
    pub agent_id: String,
    /// New state (free text, e.g. `available`, `paused`, `on_call`, `acw`, `offline`).
    pub state: String,
    /// Reason (e.g. the pause reason name).
    pub reason: Option<String>,
    /// Username of the supervisor or admin who put the agent in this state;
    /// None when the agent chose it (or a call, after-call work, a restart).
    pub changed_by: Option<String>,
    /// When it changed, unix ms.
    pub at: i64,
}

const COLUMNS: &str = "id, agent_id, state, reason, changed_by, at";

pub(crate) fn decode(row: &AnyRow) -> Result<AgentStateRow> {
    Ok(AgentStateRow {
        id: col(row, "id")?,
        agent_id: col(row, "agent_id")?,
        state: col(row, "state")?,
        reason: col(row, "reason")?,
        changed_by: col(row, "changed_by")?,
        at: col(row, "at")?,
    })
}

impl Storage {
    /// Logs a state change of an agent.
    pub async fn add_agent_state(
        &self,
        agent_id: &str,
        state: &str,
        reason: Option<&str>,
        at: i64,
    ) -> Result<AgentStateRow> {
        self.add_agent_state_by(agent_id, state, reason, None, at)
            .await
    }

    /// Logs a state change of an agent made by someone else: `by` is the
    /// supervisor or admin who made it (None = the agent, a call...).
    pub async fn add_agent_state_by(
        &self,
        agent_id: &str,
        state: &str,
        reason: Option<&str>,
        by: Option<&str>,
        at: i64,
    ) -> Result<AgentStateRow> {
        if state.trim().is_empty() {
            return Err(StorageError::Invalid("empty agent state".into()));
        }
        let row = AgentStateRow {
            id: new_id(),
            agent_id: agent_id.to_string(),
            state: state.to_string(),
            reason: reason.map(str::to_string),
            changed_by: by.map(str::to_string),
            at,
        };
        sqlx::query(
            "INSERT INTO agent_state_log (id, agent_id, state, reason, changed_by, at, seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(&row.agent_id)
        .bind(&row.state)
        .bind(row.reason.clone())
        .bind(row.changed_by.clone())
        .bind(row.at)
        .bind(next_seq())
        .execute(self.pool())
        .await?;
        Ok(row)
    }

    /// State changes of an agent with `from <= at < to`, oldest first.
    pub async fn list_agent_states(
        &self,
        agent_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<AgentStateRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agent_state_log WHERE agent_id = $1 AND at >= $2 AND at < $3 \
             ORDER BY at, seq"
        );
        let rows = sqlx::query(&sql)
            .bind(agent_id)
            .bind(from)
            .bind(to)
            .fetch_all(self.pool())
            .await?;
        decode_all(&rows, decode)
    }

    /// The latest state change of an agent before `before` (unix ms), if any.
    pub async fn last_agent_state(
        &self,
        agent_id: &str,
        before: i64,
    ) -> Result<Option<AgentStateRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agent_state_log WHERE agent_id = $1 AND at < $2 \
             ORDER BY at DESC, seq DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(agent_id)
            .bind(before)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }
}
