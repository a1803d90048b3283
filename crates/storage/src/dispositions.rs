//! Dispositions: the outcome an agent records for a call (one per call).

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::new_id;
use crate::{col, Result, Storage, StorageError};

/// A call's disposition.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DispositionRow {
    /// Row id.
    pub id: String,
    /// Call it qualifies (unique).
    pub call_id: String,
    /// Agent who set it.
    pub agent_id: String,
    /// Campaign of the call.
    pub campaign_id: Option<String>,
    /// Contact of the call.
    pub contact_id: Option<String>,
    /// Disposition name (normally one of the campaign's set).
    pub name: String,
    /// Free note.
    pub note: String,
    /// When it was set, unix ms.
    pub at: i64,
}

/// Fields of a new disposition.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NewDisposition {
    /// Call.
    pub call_id: String,
    /// Agent.
    pub agent_id: String,
    /// Campaign.
    pub campaign_id: Option<String>,
    /// Contact.
    pub contact_id: Option<String>,
    /// Name.
    pub name: String,
    /// Note (may be empty).
    #[serde(default)]
    pub note: String,
    /// Time, unix ms.
    pub at: i64,
}

pub(crate) const COLUMNS: &str = "id, call_id, agent_id, campaign_id, contact_id, name, note, at";

pub(crate) fn decode(row: &AnyRow) -> Result<DispositionRow> {
    Ok(DispositionRow {
        id: col(row, "id")?,
        call_id: col(row, "call_id")?,
        agent_id: col(row, "agent_id")?,
        campaign_id: col(row, "campaign_id")?,
        contact_id: col(row, "contact_id")?,
        name: col(row, "name")?,
        note: col(row, "note")?,
        at: col(row, "at")?,
    })
}

impl Storage {
    /// Records the disposition of a call. The name is not checked against
    /// the campaign's set (the caller does that). A second disposition for
    /// the same call gives [`StorageError::Conflict`].
    pub async fn add_disposition(&self, d: &NewDisposition) -> Result<DispositionRow> {
        let name = d.name.trim();
        if name.is_empty() {
            return Err(StorageError::Invalid("empty disposition name".into()));
        }
        let row = DispositionRow {
            id: new_id(),
            call_id: d.call_id.clone(),
            agent_id: d.agent_id.clone(),
            campaign_id: d.campaign_id.clone(),
            contact_id: d.contact_id.clone(),
            name: name.to_string(),
            note: d.note.clone(),
            at: d.at,
        };
        sqlx::query(
            "INSERT INTO dispositions (id, call_id, agent_id, campaign_id, contact_id, name, note, \
             at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.id)
        .bind(&row.call_id)
        .bind(&row.agent_id)
        .bind(row.campaign_id.clone())
        .bind(row.contact_id.clone())
        .bind(&row.name)
        .bind(&row.note)
        .bind(row.at)
        .execute(self.pool())
        .await
        .map_err(|e| match StorageError::from(e) {
            StorageError::Conflict(m) if m.starts_with("already exists") => StorageError::Conflict(
                format!("call {} already has a disposition", row.call_id),
            ),
            other => other,
        })?;
        Ok(row)
    }

    /// The disposition of a call, if set.
    pub async fn get_disposition_for_call(&self, call_id: &str) -> Result<Option<DispositionRow>> {
        let sql = format!("SELECT {COLUMNS} FROM dispositions WHERE call_id = $1");
        let row = sqlx::query(&sql)
            .bind(call_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }
}
