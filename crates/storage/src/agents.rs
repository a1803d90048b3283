//! Agents (users): login name doubling as SIP extension, password hash for
//! the web login, SIP digest HA1s (never the SIP password), role, groups,
//! soft delete.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::{
    bool_int, decode_all, expect_one, get_bool, get_enum, new_id, now_ms, str_enum, Sql,
};
use crate::{col, Result, Storage, StorageError};

str_enum! {
    /// What an agent may do.
    AgentRole {
        /// Takes calls.
        Agent => "agent",
        /// Monitors agents and campaigns.
        Supervisor => "supervisor",
        /// Configures everything.
        Admin => "admin",
    }
}

str_enum! {
    /// Where an agent's audio may come from (set by an admin).
    #[derive(Default)]
    AgentAudio {
        /// The agent chooses at each login: browser audio or a SIP phone.
        #[default]
        Either => "either",
        /// Browser audio only: the agent's SIP phone is never rung.
        Browser => "browser",
        /// A SIP phone only: the console cannot open browser audio.
        Phone => "phone",
    }
}

/// An agent as stored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AgentRow {
    /// Row id.
    pub id: String,
    /// Unique login name, also the SIP extension.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Argon2 PHC string of the web password (computed by the caller).
    /// Never serialized to JSON.
    #[serde(skip_serializing, default)]
    pub password_hash: String,
    /// Digest HA1s of the SIP password. Never serialized to JSON.
    #[serde(skip_serializing, default)]
    pub sip_ha1: SipHa1,
    /// Role.
    pub role: AgentRole,
    /// Groups the agent belongs to.
    pub groups: Vec<String>,
    /// Where the agent's audio may come from.
    #[serde(default)]
    pub audio: AgentAudio,
    /// False once deleted (agents are never removed, calls refer to them).
    pub enabled: bool,
    /// Creation time, unix ms.
    pub created_at: i64,
}

/// Fields of a new agent.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct NewAgent {
    /// Unique login name / SIP extension.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Argon2 PHC string of the web password.
    pub password_hash: String,
    /// Digest HA1s of the SIP password.
    pub sip_ha1: SipHa1,
    /// Role.
    pub role: AgentRole,
    /// Groups (names must not contain commas).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Where the agent's audio may come from.
    #[serde(default)]
    pub audio: AgentAudio,
}

/// Partial update of an agent: `None` leaves a field unchanged.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct AgentUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New Argon2 PHC string.
    pub password_hash: Option<String>,
    /// New SIP password, as its digest HA1s.
    pub sip_ha1: Option<SipHa1>,
    /// New role.
    pub role: Option<AgentRole>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New group list (replaces the old one).
    pub groups: Option<Vec<String>>,
    /// New audio setting.
    pub audio: Option<AgentAudio>,
}

/// Columns [`decode`] reads.
pub(crate) const COLUMNS: &str = "id, username, display_name, password_hash, sip_realm, \
                       sip_ha1_md5, sip_ha1_sha256, role, agent_groups, audio, enabled, created_at";

/// A SIP password as stored: `H(username:realm:password)` per digest
/// algorithm (RFC 7616 §3.4.2), valid for the realm it was computed in.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct SipHa1 {
    /// Realm the HA1s were computed for.
    pub realm: String,
    /// MD5 HA1, 32 hex digits.
    pub md5: String,
    /// SHA-256 HA1, 64 hex digits.
    pub sha256: String,
}

pub(crate) fn decode(row: &AnyRow) -> Result<AgentRow> {
    let groups: String = col(row, "agent_groups")?;
    Ok(AgentRow {
        id: col(row, "id")?,
        username: col(row, "username")?,
        display_name: col(row, "display_name")?,
        password_hash: col(row, "password_hash")?,
        sip_ha1: SipHa1 {
            realm: col(row, "sip_realm")?,
            md5: col(row, "sip_ha1_md5")?,
            sha256: col(row, "sip_ha1_sha256")?,
        },
        role: get_enum(row, "role")?,
        groups: split_groups(&groups),
        audio: get_enum(row, "audio")?,
        enabled: get_bool(row, "enabled")?,
        created_at: col(row, "created_at")?,
    })
}

fn split_groups(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

fn join_groups(groups: &[String]) -> Result<String> {
    let mut out: Vec<&str> = Vec::new();
    for g in groups {
        let g = g.trim();
        if g.contains(',') {
            return Err(StorageError::Invalid(format!(
                "group name contains a comma: {g:?}"
            )));
        }
        if !g.is_empty() && !out.contains(&g) {
            out.push(g);
        }
    }
    Ok(out.join(","))
}

impl Storage {
    /// Creates an agent. A taken username gives [`StorageError::Conflict`].
    pub async fn create_agent(&self, agent: &NewAgent) -> Result<AgentRow> {
        let username = agent.username.trim();
        if username.is_empty() {
            return Err(StorageError::Invalid("empty username".into()));
        }
        let row = AgentRow {
            id: new_id(),
            username: username.to_string(),
            display_name: agent.display_name.clone(),
            password_hash: agent.password_hash.clone(),
            sip_ha1: agent.sip_ha1.clone(),
            role: agent.role,
            groups: split_groups(&join_groups(&agent.groups)?),
            audio: agent.audio,
            enabled: true,
            created_at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO agents (id, username, display_name, password_hash, sip_password, \
             sip_realm, sip_ha1_md5, sip_ha1_sha256, role, agent_groups, audio, enabled, created_at) \
             VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&row.id)
        .bind(&row.username)
        .bind(&row.display_name)
        .bind(&row.password_hash)
        .bind(&row.sip_ha1.realm)
        .bind(&row.sip_ha1.md5)
        .bind(&row.sip_ha1.sha256)
        .bind(row.role.as_str())
        .bind(join_groups(&row.groups)?)
        .bind(row.audio.as_str())
        .bind(bool_int(row.enabled))
        .bind(row.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| match StorageError::from(e) {
            StorageError::Conflict(_) => {
                StorageError::Conflict(format!("username {username:?} already exists"))
            }
            other => other,
        })?;
        Ok(row)
    }

    /// The agent with this id (enabled or not).
    pub async fn get_agent(&self, id: &str) -> Result<Option<AgentRow>> {
        let sql = format!("SELECT {COLUMNS} FROM agents WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// The agent with this username (enabled or not: check `enabled`).
    pub async fn get_agent_by_username(&self, username: &str) -> Result<Option<AgentRow>> {
        let sql = format!("SELECT {COLUMNS} FROM agents WHERE username = $1");
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Every agent, disabled ones included, ordered by username.
    pub async fn list_agents(&self) -> Result<Vec<AgentRow>> {
        let sql = format!("SELECT {COLUMNS} FROM agents ORDER BY username");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        decode_all(&rows, decode)
    }

    /// Applies the `Some` fields of `update` and returns the updated agent.
    pub async fn update_agent(&self, id: &str, update: &AgentUpdate) -> Result<AgentRow> {
        let mut sql = Sql::new("UPDATE agents SET ");
        let mut sets = Vec::new();
        if let Some(v) = &update.display_name {
            sets.push(format!("display_name = {}", sql.arg(v.clone())));
        }
        if let Some(v) = &update.password_hash {
            sets.push(format!("password_hash = {}", sql.arg(v.clone())));
        }
        if let Some(v) = &update.sip_ha1 {
            sets.push(format!("sip_realm = {}", sql.arg(v.realm.clone())));
            sets.push(format!("sip_ha1_md5 = {}", sql.arg(v.md5.clone())));
            sets.push(format!("sip_ha1_sha256 = {}", sql.arg(v.sha256.clone())));
            sets.push("sip_password = ''".to_string());
        }
        if let Some(v) = update.audio {
            sets.push(format!("audio = {}", sql.arg(v.as_str())));
        }
        if let Some(v) = update.role {
            sets.push(format!("role = {}", sql.arg(v.as_str())));
        }
        if let Some(v) = update.enabled {
            sets.push(format!("enabled = {}", sql.arg(bool_int(v))));
        }
        if let Some(v) = &update.groups {
            sets.push(format!("agent_groups = {}", sql.arg(join_groups(v)?)));
        }
        if !sets.is_empty() {
            let id_ph = sql.arg(id);
            sql.push(&sets.join(", "))
                .push(&format!(" WHERE id = {id_ph}"));
            let done = sql.query().execute(self.pool()).await?;
            expect_one(done.rows_affected(), "agent", id)?;
        }
        self.get_agent(id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("agent {id}")))
    }

    /// Replaces every SIP password still stored in clear (rows written before
    /// migration 0003) by its HA1s, computed by `hash(username, password)`,
    /// and empties the clear column. Returns how many rows were converted.
    /// Run at start, with the configured realm; a no-op once done.
    pub async fn hash_clear_sip_passwords(
        &self,
        hash: impl Fn(&str, &str) -> SipHa1,
    ) -> Result<usize> {
        let rows =
            sqlx::query("SELECT id, username, sip_password FROM agents WHERE sip_password <> ''")
                .fetch_all(self.pool())
                .await?;
        let mut tx = self.begin_write().await?;
        for row in &rows {
            let (id, user, clear): (String, String, String) = (
                col(row, "id")?,
                col(row, "username")?,
                col(row, "sip_password")?,
            );
            let h = hash(&user, &clear);
            sqlx::query(
                "UPDATE agents SET sip_realm = $1, sip_ha1_md5 = $2, sip_ha1_sha256 = $3, \
                 sip_password = '' WHERE id = $4",
            )
            .bind(&h.realm)
            .bind(&h.md5)
            .bind(&h.sha256)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Soft-deletes an agent (sets `enabled` to false) and drops its sessions.
    pub async fn delete_agent(&self, id: &str) -> Result<()> {
        let done = sqlx::query("UPDATE agents SET enabled = 0 WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one(done.rows_affected(), "agent", id)?;
        sqlx::query("DELETE FROM sessions WHERE agent_id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
