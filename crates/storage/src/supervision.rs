//! Supervision data (migration 0006): the campaigns an admin assigned to a
//! supervisor (`supervisor_campaigns`) and a campaign's supervision settings
//! (`campaigns.supervision_notice`, `service_level_secs`,
//! `alert_service_level_below`, `alert_longest_wait_secs`).

use serde::{Deserialize, Serialize};

use crate::util::expect_one;
use crate::{col, Result, Storage};

/// A campaign's supervision settings as stored (checked by the web layer).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SupervisionRow {
    /// never | whisper_barge | always.
    pub notice: String,
    /// Service level threshold (s).
    pub service_level_secs: i64,
    /// Alert below this service level (percent), if set.
    pub alert_service_level_below: Option<i64>,
    /// Alert above this longest wait (s), if set.
    pub alert_longest_wait_secs: Option<i64>,
}

impl Default for SupervisionRow {
    fn default() -> Self {
        SupervisionRow {
            notice: "whisper_barge".into(),
            service_level_secs: 20,
            alert_service_level_below: None,
            alert_longest_wait_secs: None,
        }
    }
}

impl Storage {
    /// Names of the campaigns assigned to supervisor `agent_id`, ordered (empty: none assigned).
    pub async fn supervisor_campaigns(&self, agent_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT c.name FROM campaigns c JOIN supervisor_campaigns s ON s.campaign_id = c.id \
             WHERE s.supervisor_id = $1 ORDER BY c.name",
        )
        .bind(agent_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| col(r, "name")).collect()
    }

    /// Replace the campaigns assigned to supervisor `agent_id` (ids; empty: none).
    pub async fn set_supervisor_campaigns(
        &self,
        agent_id: &str,
        campaign_ids: &[String],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM supervisor_campaigns WHERE supervisor_id = $1")
            .bind(agent_id)
            .execute(&mut *tx)
            .await?;
        let mut done: Vec<&String> = Vec::new();
        for id in campaign_ids {
            if done.contains(&id) {
                continue;
            }
            done.push(id);
            sqlx::query(
                "INSERT INTO supervisor_campaigns (supervisor_id, campaign_id) VALUES ($1, $2)",
            )
            .bind(agent_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Supervision settings of campaign `id` (the defaults for an unknown id).
    pub async fn campaign_supervision(&self, id: &str) -> Result<SupervisionRow> {
        let row = sqlx::query(
            "SELECT supervision_notice, service_level_secs, alert_service_level_below, \
             alert_longest_wait_secs FROM campaigns WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            return Ok(SupervisionRow::default());
        };
        Ok(SupervisionRow {
            notice: col(&r, "supervision_notice")?,
            service_level_secs: col(&r, "service_level_secs")?,
            alert_service_level_below: col(&r, "alert_service_level_below")?,
            alert_longest_wait_secs: col(&r, "alert_longest_wait_secs")?,
        })
    }

    /// Store the supervision settings of campaign `id`.
    pub async fn set_campaign_supervision(&self, id: &str, s: &SupervisionRow) -> Result<()> {
        let done = sqlx::query(
            "UPDATE campaigns SET supervision_notice = $1, service_level_secs = $2, \
             alert_service_level_below = $3, alert_longest_wait_secs = $4 WHERE id = $5",
        )
        .bind(&s.notice)
        .bind(s.service_level_secs)
        .bind(s.alert_service_level_below)
        .bind(s.alert_longest_wait_secs)
        .bind(id)
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), "campaign", id)
    }
}
