//! The PCI DSS setting of a campaign: whether the digits customers key in
//! its calls (DTMF) may be shown to consoles and logs (`campaigns.dtmf_clear`,
//! migration 0003; masked by default).

use crate::util::{bool_int, expect_one};
use crate::{Result, Storage};

impl Storage {
    /// Whether campaign `id` shows keyed digits in clear (false for an unknown id).
    pub async fn campaign_dtmf_clear(&self, id: &str) -> Result<bool> {
        let v: Option<i64> = sqlx::query_scalar("SELECT dtmf_clear FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(v.unwrap_or(0) != 0)
    }

    /// Let campaign `id` show keyed digits in clear (`true`) or mask them.
    pub async fn set_campaign_dtmf_clear(&self, id: &str, clear: bool) -> Result<()> {
        let done = sqlx::query("UPDATE campaigns SET dtmf_clear = $1 WHERE id = $2")
            .bind(bool_int(clear))
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one(done.rows_affected(), "campaign", id)
    }
}
