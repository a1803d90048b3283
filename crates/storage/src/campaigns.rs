//! Campaigns (queues): routing DID, queue strategy and timers, dialer
//! settings, ordered disposition set, and agent membership.
//!
//! `dialer_ratio` is an `f64` in the API and stored as BIGINT per-mille
//! (`dialer_ratio_permille` = round(ratio * 1000)), so it keeps three decimals.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::agents::{self, AgentRow};
use crate::util::{bool_int, decode_all, expect_one, get_bool, get_enum, new_id, now_ms, str_enum};
use crate::{col, Result, Storage, StorageError};

str_enum! {
    /// How calls of a campaign are made.
    CampaignKind {
        /// Customers call a DID and wait in queue.
        Inbound => "inbound",
        /// Agents dial numbers themselves.
        Manual => "manual",
        /// Agents see the contact first, then dial.
        Preview => "preview",
        /// Predictive/progressive dialer calls contacts.
        Dialer => "dialer",
    }
}

str_enum! {
    /// How a queued call picks an agent.
    QueueStrategy {
        /// Agent idle for the longest time.
        LongestIdle => "longest_idle",
        /// Next agent in turn.
        RoundRobin => "round_robin",
        /// Every available agent rings at once.
        RingAll => "ring_all",
    }
}

/// A campaign as stored, with its disposition set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CampaignRow {
    /// Row id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Kind of campaign.
    pub kind: CampaignKind,
    /// Number routed to this campaign (unique when set).
    pub did: Option<String>,
    /// Record every call automatically.
    pub auto_recording: bool,
    /// Music-on-hold class (a directory of files).
    pub music_class: String,
    /// Queue strategy.
    pub strategy: QueueStrategy,
    /// Seconds a caller waits in queue before overflow.
    pub queue_timeout_secs: i64,
    /// Where queue overflow goes (extension, number, campaign...), if anywhere.
    pub overflow_target: Option<String>,
    /// After-call-work seconds.
    pub acw_secs: i64,
    /// Dialer calls per available agent (three decimals kept).
    pub dialer_ratio: f64,
    /// Maximum dial attempts per contact.
    pub max_attempts: i64,
    /// Seconds before a failed contact is retried.
    pub retry_delay_secs: i64,
    /// Whether the campaign takes/makes calls.
    pub active: bool,
    /// ISO 3166 country (e.g. `ES`) used to read national numbers of imported contacts.
    pub default_country: Option<String>,
    /// Calling hours (JSON, checked by the web layer); `None`: any time.
    pub calling_hours: Option<serde_json::Value>,
    /// Disposition names in display order.
    pub dispositions: Vec<String>,
    /// Creation time, unix ms.
    pub created_at: i64,
}

/// Every settable field of a campaign, for create and (full) update.
/// Missing JSON fields take the [`Default`] values.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct CampaignInput {
    /// Unique name.
    pub name: String,
    /// Kind (default inbound).
    pub kind: CampaignKind,
    /// Routed number.
    pub did: Option<String>,
    /// Record automatically (default false).
    pub auto_recording: bool,
    /// Music-on-hold class (default "default").
    pub music_class: String,
    /// Queue strategy (default longest_idle).
    pub strategy: QueueStrategy,
    /// Queue timeout (default 60 s).
    pub queue_timeout_secs: i64,
    /// Overflow target.
    pub overflow_target: Option<String>,
    /// After-call work (default 10 s).
    pub acw_secs: i64,
    /// Dialer ratio (default 1.0).
    pub dialer_ratio: f64,
    /// Max attempts (default 3).
    pub max_attempts: i64,
    /// Retry delay (default 3600 s).
    pub retry_delay_secs: i64,
    /// Active (default true).
    pub active: bool,
    /// Country for national numbers of imported contacts (ISO 3166 code, e.g. `ES`).
    pub default_country: Option<String>,
    /// Calling hours: `{"zone": ..., "days": {"mon-fri": "09:00-21:00"}, "holidays": [...]}`.
    pub calling_hours: Option<serde_json::Value>,
    /// Disposition names in display order.
    pub dispositions: Vec<String>,
}

impl Default for CampaignInput {
    fn default() -> Self {
        CampaignInput {
            name: String::new(),
            kind: CampaignKind::Inbound,
            did: None,
            auto_recording: false,
            music_class: "default".into(),
            strategy: QueueStrategy::LongestIdle,
            queue_timeout_secs: 60,
            overflow_target: None,
            acw_secs: 10,
            dialer_ratio: 1.0,
            max_attempts: 3,
            retry_delay_secs: 3600,
            active: true,
            default_country: None,
            calling_hours: None,
            dispositions: Vec::new(),
        }
    }
}

impl CampaignInput {
    /// Defaults with a name and kind.
    pub fn new(name: &str, kind: CampaignKind) -> Self {
        CampaignInput {
            name: name.to_string(),
            kind,
            ..Default::default()
        }
    }

    /// The default country, upper-cased, `None` when unset or blank.
    fn country(&self) -> Option<String> {
        self.default_country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase)
    }

    fn hours_json(&self) -> Option<String> {
        self.calling_hours
            .as_ref()
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(StorageError::Invalid(m.to_string()));
        if self.name.trim().is_empty() {
            return bad("empty campaign name");
        }
        if !self.dialer_ratio.is_finite() || self.dialer_ratio < 0.0 {
            return bad("dialer_ratio must be a finite number >= 0");
        }
        if self.queue_timeout_secs < 0
            || self.acw_secs < 0
            || self.max_attempts < 0
            || self.retry_delay_secs < 0
        {
            return bad("timers and attempts must be >= 0");
        }
        if let Some(c) = self.country() {
            crate::import::country_id(&c)?;
        }
        validate_dispositions(&self.dispositions)
    }
}

fn validate_dispositions(names: &[String]) -> Result<()> {
    for (i, n) in names.iter().enumerate() {
        if n.trim().is_empty() {
            return Err(StorageError::Invalid("empty disposition name".into()));
        }
        if names[..i].iter().any(|m| m.trim() == n.trim()) {
            return Err(StorageError::Invalid(format!(
                "duplicate disposition {n:?}"
            )));
        }
    }
    Ok(())
}

fn ratio_to_permille(r: f64) -> i64 {
    (r * 1000.0).round() as i64
}

const COLUMNS: &str = "id, name, kind, did, auto_recording, music_class, strategy, \
    queue_timeout_secs, overflow_target, acw_secs, dialer_ratio_permille, max_attempts, \
    retry_delay_secs, active, default_country, calling_hours_json, created_at";

pub(crate) fn decode(row: &AnyRow) -> Result<CampaignRow> {
    Ok(CampaignRow {
        id: col(row, "id")?,
        name: col(row, "name")?,
        kind: get_enum(row, "kind")?,
        did: col(row, "did")?,
        auto_recording: get_bool(row, "auto_recording")?,
        music_class: col(row, "music_class")?,
        strategy: get_enum(row, "strategy")?,
        queue_timeout_secs: col(row, "queue_timeout_secs")?,
        overflow_target: col(row, "overflow_target")?,
        acw_secs: col(row, "acw_secs")?,
        dialer_ratio: col::<i64>(row, "dialer_ratio_permille")? as f64 / 1000.0,
        max_attempts: col(row, "max_attempts")?,
        retry_delay_secs: col(row, "retry_delay_secs")?,
        active: get_bool(row, "active")?,
        default_country: col(row, "default_country")?,
        calling_hours: col::<Option<String>>(row, "calling_hours_json")?
            .and_then(|j| serde_json::from_str(&j).ok()),
        dispositions: Vec::new(),
        created_at: col(row, "created_at")?,
    })
}

async fn write_dispositions(
    tx: &mut Transaction<'static, Any>,
    campaign_id: &str,
    names: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM campaign_dispositions WHERE campaign_id = $1")
        .bind(campaign_id)
        .execute(&mut **tx)
        .await?;
    for (pos, name) in names.iter().enumerate() {
        sqlx::query(
            "INSERT INTO campaign_dispositions (campaign_id, name, position) VALUES ($1, $2, $3)",
        )
        .bind(campaign_id)
        .bind(name.trim())
        .bind(pos as i64)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn conflict_msg(e: sqlx::Error, input: &CampaignInput) -> StorageError {
    match StorageError::from(e) {
        StorageError::Conflict(_) => StorageError::Conflict(format!(
            "campaign name {:?} or DID {:?} already in use",
            input.name, input.did
        )),
        other => other,
    }
}

impl Storage {
    /// Creates a campaign with its disposition set. A taken name or DID gives
    /// [`StorageError::Conflict`].
    pub async fn create_campaign(&self, input: &CampaignInput) -> Result<CampaignRow> {
        input.validate()?;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO campaigns (id, name, kind, did, auto_recording, music_class, strategy, \
             queue_timeout_secs, overflow_target, acw_secs, dialer_ratio_permille, max_attempts, \
             retry_delay_secs, active, created_at, default_country, calling_hours_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(&id)
        .bind(input.name.trim())
        .bind(input.kind.as_str())
        .bind(input.did.clone())
        .bind(bool_int(input.auto_recording))
        .bind(&input.music_class)
        .bind(input.strategy.as_str())
        .bind(input.queue_timeout_secs)
        .bind(input.overflow_target.clone())
        .bind(input.acw_secs)
        .bind(ratio_to_permille(input.dialer_ratio))
        .bind(input.max_attempts)
        .bind(input.retry_delay_secs)
        .bind(bool_int(input.active))
        .bind(now_ms())
        .bind(input.country())
        .bind(input.hours_json())
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_msg(e, input))?;
        write_dispositions(&mut tx, &id, &input.dispositions).await?;
        tx.commit().await?;
        self.get_campaign(&id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("campaign {id}")))
    }

    /// Replaces every field (and the disposition set) of a campaign.
    pub async fn update_campaign(&self, id: &str, input: &CampaignInput) -> Result<CampaignRow> {
        input.validate()?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE campaigns SET name = $1, kind = $2, did = $3, auto_recording = $4, \
             music_class = $5, strategy = $6, queue_timeout_secs = $7, overflow_target = $8, \
             acw_secs = $9, dialer_ratio_permille = $10, max_attempts = $11, \
             retry_delay_secs = $12, active = $13, default_country = $14, \
             calling_hours_json = $15 WHERE id = $16",
        )
        .bind(input.name.trim())
        .bind(input.kind.as_str())
        .bind(input.did.clone())
        .bind(bool_int(input.auto_recording))
        .bind(&input.music_class)
        .bind(input.strategy.as_str())
        .bind(input.queue_timeout_secs)
        .bind(input.overflow_target.clone())
        .bind(input.acw_secs)
        .bind(ratio_to_permille(input.dialer_ratio))
        .bind(input.max_attempts)
        .bind(input.retry_delay_secs)
        .bind(bool_int(input.active))
        .bind(input.country())
        .bind(input.hours_json())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_msg(e, input))?;
        expect_one(done.rows_affected(), "campaign", id)?;
        write_dispositions(&mut tx, id, &input.dispositions).await?;
        tx.commit().await?;
        self.get_campaign(id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("campaign {id}")))
    }

    /// Replaces only the disposition set of a campaign.
    pub async fn set_campaign_dispositions(&self, id: &str, names: &[String]) -> Result<()> {
        validate_dispositions(names)?;
        if self.get_campaign(id).await?.is_none() {
            return Err(StorageError::NotFound(format!("campaign {id}")));
        }
        let mut tx = self.begin_write().await?;
        write_dispositions(&mut tx, id, names).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn one_campaign(&self, where_sql: &str, value: &str) -> Result<Option<CampaignRow>> {
        let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE {where_sql} = $1");
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut c = decode(&row)?;
        c.dispositions = self.campaign_dispositions(&c.id).await?;
        Ok(Some(c))
    }

    async fn campaign_dispositions(&self, id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT name FROM campaign_dispositions WHERE campaign_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| col(r, "name")).collect()
    }

    /// The campaign with this id.
    pub async fn get_campaign(&self, id: &str) -> Result<Option<CampaignRow>> {
        self.one_campaign("id", id).await
    }

    /// The campaign with this name.
    pub async fn get_campaign_by_name(&self, name: &str) -> Result<Option<CampaignRow>> {
        self.one_campaign("name", name).await
    }

    /// The campaign routed from this DID (active or not: check `active`).
    pub async fn get_campaign_by_did(&self, did: &str) -> Result<Option<CampaignRow>> {
        self.one_campaign("did", did).await
    }

    /// Every campaign with its dispositions, ordered by name.
    pub async fn list_campaigns(&self) -> Result<Vec<CampaignRow>> {
        let sql = format!("SELECT {COLUMNS} FROM campaigns ORDER BY name");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        let mut list = decode_all(&rows, decode)?;
        let disp = sqlx::query(
            "SELECT campaign_id, name FROM campaign_dispositions ORDER BY campaign_id, position",
        )
        .fetch_all(self.pool())
        .await?;
        let mut by_campaign: HashMap<String, Vec<String>> = HashMap::new();
        for r in &disp {
            by_campaign
                .entry(col(r, "campaign_id")?)
                .or_default()
                .push(col(r, "name")?);
        }
        for c in &mut list {
            c.dispositions = by_campaign.remove(&c.id).unwrap_or_default();
        }
        Ok(list)
    }

    /// Deletes a campaign with its dispositions and memberships. A campaign
    /// still referenced by calls, contacts, recordings or agenda entries
    /// gives [`StorageError::Conflict`]: deactivate it instead.
    pub async fn delete_campaign(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM campaigns WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one(done.rows_affected(), "campaign", id)
    }

    /// Adds an agent to a campaign (no error if already a member).
    pub async fn add_campaign_agent(&self, campaign_id: &str, agent_id: &str) -> Result<()> {
        let res =
            sqlx::query("INSERT INTO campaign_agents (campaign_id, agent_id) VALUES ($1, $2)")
                .bind(campaign_id)
                .bind(agent_id)
                .execute(self.pool())
                .await;
        match res {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an agent from a campaign (no error if not a member).
    pub async fn remove_campaign_agent(&self, campaign_id: &str, agent_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM campaign_agents WHERE campaign_id = $1 AND agent_id = $2")
            .bind(campaign_id)
            .bind(agent_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Members of a campaign, ordered by username.
    pub async fn list_campaign_agents(&self, campaign_id: &str) -> Result<Vec<AgentRow>> {
        let rows = sqlx::query(
            "SELECT a.id, a.username, a.display_name, a.password_hash, a.sip_realm, \
             a.sip_ha1_md5, a.sip_ha1_sha256, a.role, a.agent_groups, a.audio, a.enabled, a.created_at \
             FROM agents a JOIN campaign_agents ca ON ca.agent_id = a.id \
             WHERE ca.campaign_id = $1 ORDER BY a.username",
        )
        .bind(campaign_id)
        .fetch_all(self.pool())
        .await?;
        decode_all(&rows, agents::decode)
    }

    /// Campaigns an agent belongs to, ordered by name.
    pub async fn list_agent_campaigns(&self, agent_id: &str) -> Result<Vec<CampaignRow>> {
        let rows = sqlx::query("SELECT campaign_id FROM campaign_agents WHERE agent_id = $1")
            .bind(agent_id)
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = col(r, "campaign_id")?;
            if let Some(c) = self.get_campaign(&id).await? {
                out.push(c);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
