//! A campaign's outbound routing (migration 0008): the trunks its calls to
//! numbers leave through, in order (`campaign_trunks`), and the caller ID
//! they present (`campaigns.caller_id_number`, `caller_id_name`,
//! `caller_id_privacy`). Trunk names are checked against the configuration
//! by the web layer; here they are stored as given. Every node sharing the
//! database reads the same settings.

use serde::{Deserialize, Serialize};

use crate::util::{bool_int, expect_one, get_bool};
use crate::{col, Result, Storage, StorageError};

/// A campaign's outbound routing as stored.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundRow {
    /// Trunk names in the order to try (empty: the trunks' dialling rules).
    pub trunks: Vec<String>,
    /// Caller ID number (None: the trunk's caller ID).
    pub caller_id_number: Option<String>,
    /// Caller ID display name.
    pub caller_id_name: Option<String>,
    /// Withhold the caller ID.
    pub caller_id_privacy: bool,
}

impl OutboundRow {
    /// No line breaks or other control characters anywhere (they would end
    /// up in SIP headers); the finer rules are the web layer's.
    fn validate(&self) -> Result<()> {
        let fields = self
            .trunks
            .iter()
            .chain(&self.caller_id_number)
            .chain(&self.caller_id_name);
        for f in fields {
            if f.chars().any(char::is_control) {
                return Err(StorageError::Invalid(format!(
                    "outbound setting {f:?} contains a control character"
                )));
            }
        }
        if self.trunks.iter().any(|t| t.trim().is_empty()) {
            return Err(StorageError::Invalid("empty trunk name".into()));
        }
        Ok(())
    }
}

impl Storage {
    /// Outbound routing of campaign `id` (the defaults for an unknown id).
    pub async fn campaign_outbound(&self, id: &str) -> Result<OutboundRow> {
        let row = sqlx::query(
            "SELECT caller_id_number, caller_id_name, caller_id_privacy FROM campaigns \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            return Ok(OutboundRow::default());
        };
        let trunks = sqlx::query(
            "SELECT trunk_name FROM campaign_trunks WHERE campaign_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(OutboundRow {
            trunks: trunks
                .iter()
                .map(|t| col(t, "trunk_name"))
                .collect::<Result<_>>()?,
            caller_id_number: col(&r, "caller_id_number")?,
            caller_id_name: col(&r, "caller_id_name")?,
            caller_id_privacy: get_bool(&r, "caller_id_privacy")?,
        })
    }

    /// Replace the outbound routing of campaign `id` (one transaction).
    pub async fn set_campaign_outbound(&self, id: &str, o: &OutboundRow) -> Result<()> {
        o.validate()?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE campaigns SET caller_id_number = $1, caller_id_name = $2, \
             caller_id_privacy = $3 WHERE id = $4",
        )
        .bind(o.caller_id_number.clone())
        .bind(o.caller_id_name.clone())
        .bind(bool_int(o.caller_id_privacy))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        expect_one(done.rows_affected(), "campaign", id)?;
        sqlx::query("DELETE FROM campaign_trunks WHERE campaign_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for (pos, name) in o.trunks.iter().enumerate() {
            sqlx::query(
                "INSERT INTO campaign_trunks (campaign_id, position, trunk_name) \
                 VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(pos as i64)
            .bind(name.trim())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
