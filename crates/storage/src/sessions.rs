//! Web login sessions: random bearer tokens with an expiry time.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::{new_token, now_ms};
use crate::{col, Result, Storage, StorageError};

/// A login session.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// Random bearer token (64 hex chars).
    pub token: String,
    /// Agent logged in.
    pub agent_id: String,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Expiry time, unix ms.
    pub expires_at: i64,
}

fn decode(row: &AnyRow) -> Result<SessionRow> {
    Ok(SessionRow {
        token: col(row, "token")?,
        agent_id: col(row, "agent_id")?,
        created_at: col(row, "created_at")?,
        expires_at: col(row, "expires_at")?,
    })
}

impl Storage {
    /// Creates a session for `agent_id` valid for `ttl_ms` milliseconds.
    pub async fn create_session(&self, agent_id: &str, ttl_ms: i64) -> Result<SessionRow> {
        if ttl_ms <= 0 {
            return Err(StorageError::Invalid("session ttl must be positive".into()));
        }
        let now = now_ms();
        let row = SessionRow {
            token: new_token(),
            agent_id: agent_id.to_string(),
            created_at: now,
            expires_at: now.saturating_add(ttl_ms),
        };
        sqlx::query(
            "INSERT INTO sessions (token, agent_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&row.token)
        .bind(&row.agent_id)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(self.pool())
        .await?;
        Ok(row)
    }

    /// The session with this token, if it exists and has not expired.
    pub async fn get_session(&self, token: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT token, agent_id, created_at, expires_at FROM sessions \
             WHERE token = $1 AND expires_at > $2",
        )
        .bind(token)
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Deletes a session (logout). Deleting a missing token is not an error.
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token = $1")
            .bind(token)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes every expired session; returns how many were removed.
    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
