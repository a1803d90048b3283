//! The do-not-call list: numbers barred in every campaign (global) or in
//! one campaign, with the reason and who added them. Numbers are stored
//! normalised like imported contacts (E.164 with a country, or a leading
//! `+`; digits as dialled otherwise).

use phonenumber::country::Id as CountryId;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::import::{country_id, normalise_phone, parse_file, ImportError, ImportOptions};
use crate::util::now_ms;
use crate::{col, csv, Result, Storage, StorageError};

/// One barred number.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DncRow {
    /// The number (normalised).
    pub phone: String,
    /// Campaign id; `None` for the global list.
    pub campaign_id: Option<String>,
    /// Why it is barred.
    pub reason: String,
    /// Username of who added it.
    pub added_by: Option<String>,
    /// When, unix ms.
    pub created_at: i64,
}

/// Outcome of [`Storage::import_dnc`]: all numbers added (`errors` empty) or none.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DncImportReport {
    /// Numbers newly barred.
    pub added: usize,
    /// Numbers that were already on the list (or twice in the file).
    pub already: usize,
    /// Every bad line.
    pub errors: Vec<ImportError>,
    /// Encoding the file was read with.
    pub encoding: String,
}

fn decode(r: &AnyRow) -> Result<DncRow> {
    let campaign: String = col(r, "campaign_id")?;
    Ok(DncRow {
        phone: col(r, "phone")?,
        campaign_id: (!campaign.is_empty()).then_some(campaign),
        reason: col(r, "reason")?,
        added_by: col(r, "added_by")?,
        created_at: col(r, "created_at")?,
    })
}

impl Storage {
    /// The country that reads national numbers for `campaign_id`: `country`
    /// when given, else the campaign's default.
    async fn dnc_country(
        &self,
        campaign_id: Option<&str>,
        country: Option<&str>,
    ) -> Result<Option<CountryId>> {
        let mut code = country
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if let (None, Some(cid)) = (&code, campaign_id) {
            let camp = self
                .get_campaign(cid)
                .await?
                .ok_or_else(|| StorageError::NotFound(format!("campaign {cid}")))?;
            code = camp.default_country;
        }
        code.as_deref().map(country_id).transpose()
    }

    /// Bars `phone` globally (`campaign_id` `None`) or in a campaign; adding
    /// it again updates the reason. National numbers are read with `country`
    /// or the campaign's default country. Returns the stored row.
    pub async fn add_dnc(
        &self,
        phone: &str,
        campaign_id: Option<&str>,
        reason: &str,
        added_by: Option<&str>,
        country: Option<&str>,
    ) -> Result<DncRow> {
        let country = self.dnc_country(campaign_id, country).await?;
        let phone = normalise_phone(phone, country).map_err(StorageError::Invalid)?;
        let row = DncRow {
            phone,
            campaign_id: campaign_id.map(str::to_string),
            reason: reason.trim().to_string(),
            added_by: added_by.map(str::to_string),
            created_at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO dnc (phone, campaign_id, reason, added_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (phone, campaign_id) \
             DO UPDATE SET reason = excluded.reason",
        )
        .bind(&row.phone)
        .bind(campaign_id.unwrap_or("").to_string())
        .bind(&row.reason)
        .bind(row.added_by.clone())
        .bind(row.created_at)
        .execute(self.pool())
        .await?;
        Ok(row)
    }

    /// Takes `phone` (as listed) off the global list or a campaign's.
    pub async fn remove_dnc(&self, phone: &str, campaign_id: Option<&str>) -> Result<()> {
        let done = sqlx::query("DELETE FROM dnc WHERE phone = $1 AND campaign_id = $2")
            .bind(phone.trim())
            .bind(campaign_id.unwrap_or("").to_string())
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!(
                "{} is not on that do-not-call list",
                phone.trim()
            )));
        }
        Ok(())
    }

    /// Every barred number, global ones first, then by campaign and number.
    pub async fn list_dnc(&self) -> Result<Vec<DncRow>> {
        let rows = sqlx::query(
            "SELECT phone, campaign_id, reason, added_by, created_at FROM dnc \
             ORDER BY campaign_id, phone",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode).collect()
    }

    /// Bars every number of a CSV file (a phone column, an optional
    /// `reason`/`motivo` column), read like a contact import. All or
    /// nothing: a bad line and none is added.
    pub async fn import_dnc(
        &self,
        bytes: &[u8],
        campaign_id: Option<&str>,
        opts: &ImportOptions,
        added_by: Option<&str>,
    ) -> Result<DncImportReport> {
        let country = self
            .dnc_country(campaign_id, opts.country.as_deref())
            .await?;
        let decoded =
            csv::decode(bytes, opts.encoding.as_deref()).map_err(StorageError::Invalid)?;
        let delimiter = match opts.delimiter {
            Some(d) if d.is_ascii() => d as u8,
            _ => csv::detect_delimiter(&decoded.text),
        };
        let parsed = parse_file(&decoded.text, delimiter, opts, country);
        let mut report = DncImportReport {
            encoding: decoded.encoding.name().to_string(),
            already: parsed.duplicates.len(),
            ..Default::default()
        };
        if !parsed.errors.is_empty() {
            report.errors = parsed.errors;
            report.already = 0;
            return Ok(report);
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for c in &parsed.contacts {
            let extra: serde_json::Value = serde_json::from_str(&c.extra).unwrap_or_default();
            let reason = extra
                .as_object()
                .and_then(|m| {
                    m.iter()
                        .find(|(k, _)| matches!(k.to_lowercase().as_str(), "reason" | "motivo"))
                })
                .and_then(|(_, v)| v.as_str())
                .unwrap_or("")
                .trim()
                .to_string();
            let done = sqlx::query(
                "INSERT INTO dnc (phone, campaign_id, reason, added_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (phone, campaign_id) DO NOTHING",
            )
            .bind(&c.phone)
            .bind(campaign_id.unwrap_or("").to_string())
            .bind(reason)
            .bind(added_by.map(str::to_string))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                report.added += 1;
            } else {
                report.already += 1;
            }
        }
        tx.commit().await?;
        tracing::info!(added = report.added, "do-not-call numbers imported");
        Ok(report)
    }
}
