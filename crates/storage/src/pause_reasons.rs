//! Pause reasons offered to agents (lunch, training, ...).

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::{decode_all, expect_one, new_id};
use crate::{col, Result, Storage, StorageError};

/// A pause reason.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PauseReasonRow {
    /// Row id.
    pub id: String,
    /// Unique name shown to agents.
    pub name: String,
}

fn decode(row: &AnyRow) -> Result<PauseReasonRow> {
    Ok(PauseReasonRow {
        id: col(row, "id")?,
        name: col(row, "name")?,
    })
}

impl Storage {
    /// Creates a pause reason; a duplicate name gives [`StorageError::Conflict`].
    pub async fn create_pause_reason(&self, name: &str) -> Result<PauseReasonRow> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StorageError::Invalid("empty pause reason".into()));
        }
        let row = PauseReasonRow {
            id: new_id(),
            name: name.to_string(),
        };
        sqlx::query("INSERT INTO pause_reasons (id, name) VALUES ($1, $2)")
            .bind(&row.id)
            .bind(&row.name)
            .execute(self.pool())
            .await?;
        Ok(row)
    }

    /// Every pause reason, ordered by name.
    pub async fn list_pause_reasons(&self) -> Result<Vec<PauseReasonRow>> {
        let rows = sqlx::query("SELECT id, name FROM pause_reasons ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        decode_all(&rows, decode)
    }

    /// Deletes a pause reason (past state-log entries keep their text).
    pub async fn delete_pause_reason(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM pause_reasons WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one(done.rows_affected(), "pause reason", id)
    }
}
