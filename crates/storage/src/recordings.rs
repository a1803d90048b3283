//! Call recordings (one file per segment: a call can be recorded, paused and
//! recorded again) and the tags agents attach to calls while listening or
//! talking; plus the recording search used by supervisors.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::{decode_all, like_contains, new_id, Sql};
use crate::{col, Result, Storage, StorageError};

/// A recording segment with the context needed to list and search it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RecordingRow {
    /// Row id.
    pub id: String,
    /// Recorded call.
    pub call_id: String,
    /// Segment number within the call, from 1.
    pub segment: i64,
    /// File path of the audio.
    pub path: String,
    /// Start time, unix ms.
    pub started_at: i64,
    /// End time, unix ms (`None` while recording).
    pub ended_at: Option<i64>,
    /// Length in ms (`None` while recording).
    pub duration_ms: Option<i64>,
    /// Agent recorded (the recording's, else the call's).
    pub agent_id: Option<String>,
    /// Campaign (the recording's, else the call's).
    pub campaign_id: Option<String>,
    /// The call's calling number.
    pub caller: String,
    /// The call's called number.
    pub callee: String,
    /// Username of `agent_id`.
    pub agent_username: Option<String>,
    /// Name of `campaign_id`.
    pub campaign_name: Option<String>,
    /// Disposition name of the call, if set.
    pub disposition: Option<String>,
    /// Every tag of the call, by time.
    pub tags: Vec<TagRow>,
}

/// A tag on a call (optionally pinned to one recording segment).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TagRow {
    /// Row id.
    pub id: String,
    /// Tagged call.
    pub call_id: String,
    /// Segment it refers to, if any.
    pub recording_id: Option<String>,
    /// Username of the author.
    pub author: String,
    /// Tag text.
    pub text: String,
    /// When it was added, unix ms.
    pub at: i64,
    /// Position in the recording/call, ms from its start.
    pub offset_ms: i64,
}

/// Fields of a new recording segment (the segment number is assigned).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NewRecording {
    /// Recorded call.
    pub call_id: String,
    /// File path.
    pub path: String,
    /// Start time, unix ms.
    pub started_at: i64,
    /// Agent recorded.
    pub agent_id: Option<String>,
    /// Campaign.
    pub campaign_id: Option<String>,
}

/// Fields of a new tag.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NewTag {
    /// Tagged call.
    pub call_id: String,
    /// Segment, if any.
    pub recording_id: Option<String>,
    /// Author username.
    pub author: String,
    /// Text.
    pub text: String,
    /// Time added, unix ms.
    pub at: i64,
    /// Position, ms.
    pub offset_ms: i64,
}

/// Filter for [`Storage::search_recordings`]; every field optional.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct RecordingQuery {
    /// Started at or after (unix ms).
    pub from: Option<i64>,
    /// Started before (unix ms).
    pub to: Option<i64>,
    /// Agent (the recording's, else the call's).
    pub agent_id: Option<String>,
    /// Campaign (the recording's, else the call's).
    pub campaign_id: Option<String>,
    /// Substring of the caller or callee number.
    pub number: Option<String>,
    /// Disposition name (case-insensitive, exact).
    pub disposition: Option<String>,
    /// Case-insensitive substring of any tag of the call.
    pub tag_text: Option<String>,
    /// Maximum rows (default 100, at most 1000).
    pub limit: Option<i64>,
}

const TAG_COLUMNS: &str = "id, call_id, recording_id, author, text, at, offset_ms";

const SELECT: &str = "SELECT r.id, r.call_id, r.segment, r.path, r.started_at, r.ended_at, \
    r.duration_ms, COALESCE(r.agent_id, c.agent_id) AS agent_id, \
    COALESCE(r.campaign_id, c.campaign_id) AS campaign_id, c.caller, c.callee, \
    a.username AS agent_username, k.name AS campaign_name, d.name AS disposition \
    FROM recordings r \
    JOIN calls c ON c.id = r.call_id \
    LEFT JOIN agents a ON a.id = COALESCE(r.agent_id, c.agent_id) \
    LEFT JOIN campaigns k ON k.id = COALESCE(r.campaign_id, c.campaign_id) \
    LEFT JOIN dispositions d ON d.call_id = r.call_id \
    WHERE 1 = 1";

fn decode(row: &AnyRow) -> Result<RecordingRow> {
    Ok(RecordingRow {
        id: col(row, "id")?,
        call_id: col(row, "call_id")?,
        segment: col(row, "segment")?,
        path: col(row, "path")?,
        started_at: col(row, "started_at")?,
        ended_at: col(row, "ended_at")?,
        duration_ms: col(row, "duration_ms")?,
        agent_id: col(row, "agent_id")?,
        campaign_id: col(row, "campaign_id")?,
        caller: col(row, "caller")?,
        callee: col(row, "callee")?,
        agent_username: col(row, "agent_username")?,
        campaign_name: col(row, "campaign_name")?,
        disposition: col(row, "disposition")?,
        tags: Vec::new(),
    })
}

fn decode_tag(row: &AnyRow) -> Result<TagRow> {
    Ok(TagRow {
        id: col(row, "id")?,
        call_id: col(row, "call_id")?,
        recording_id: col(row, "recording_id")?,
        author: col(row, "author")?,
        text: col(row, "text")?,
        at: col(row, "at")?,
        offset_ms: col(row, "offset_ms")?,
    })
}

impl Storage {
    /// Starts a recording segment, numbered after the call's previous ones.
    pub async fn insert_recording(&self, rec: &NewRecording) -> Result<RecordingRow> {
        let id = new_id();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = self.begin_write().await?;
            let row = sqlx::query(
                "SELECT COALESCE(MAX(segment), 0) + 1 AS next_segment FROM recordings \
                 WHERE call_id = $1",
            )
            .bind(&rec.call_id)
            .fetch_one(&mut *tx)
            .await?;
            let segment: i64 = col(&row, "next_segment")?;
            let res = sqlx::query(
                "INSERT INTO recordings (id, call_id, segment, path, started_at, agent_id, \
                 campaign_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(&rec.call_id)
            .bind(segment)
            .bind(&rec.path)
            .bind(rec.started_at)
            .bind(rec.agent_id.clone())
            .bind(rec.campaign_id.clone())
            .execute(&mut *tx)
            .await;
            match res {
                Ok(_) => {
                    tx.commit().await?;
                    break;
                }
                // Two segments of one call started at once (PostgreSQL): retry.
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() && attempt < 3 => {
                    tx.rollback().await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.get_recording(&id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("recording {id}")))
    }

    /// Ends a recording segment. `duration_ms` defaults to
    /// `ended_at - started_at` when `None`.
    pub async fn finish_recording(
        &self,
        id: &str,
        ended_at: i64,
        duration_ms: Option<i64>,
    ) -> Result<RecordingRow> {
        let done = sqlx::query(
            "UPDATE recordings SET ended_at = $1, \
             duration_ms = COALESCE($2, $3 - started_at) WHERE id = $4",
        )
        .bind(ended_at)
        .bind(duration_ms)
        .bind(ended_at)
        .bind(id)
        .execute(self.pool())
        .await?;
        crate::util::expect_one(done.rows_affected(), "recording", id)?;
        self.get_recording(id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("recording {id}")))
    }

    /// Adds a tag to a call.
    pub async fn add_tag(&self, tag: &NewTag) -> Result<TagRow> {
        if tag.text.trim().is_empty() {
            return Err(StorageError::Invalid("empty tag".into()));
        }
        let row = TagRow {
            id: new_id(),
            call_id: tag.call_id.clone(),
            recording_id: tag.recording_id.clone(),
            author: tag.author.clone(),
            text: tag.text.trim().to_string(),
            at: tag.at,
            offset_ms: tag.offset_ms,
        };
        sqlx::query(
            "INSERT INTO recording_tags (id, call_id, recording_id, author, text, at, offset_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(&row.call_id)
        .bind(row.recording_id.clone())
        .bind(&row.author)
        .bind(&row.text)
        .bind(row.at)
        .bind(row.offset_ms)
        .execute(self.pool())
        .await?;
        Ok(row)
    }

    /// Tags of a call, by time.
    pub async fn list_tags(&self, call_id: &str) -> Result<Vec<TagRow>> {
        let sql =
            format!("SELECT {TAG_COLUMNS} FROM recording_tags WHERE call_id = $1 ORDER BY at, id");
        let rows = sqlx::query(&sql)
            .bind(call_id)
            .fetch_all(self.pool())
            .await?;
        decode_all(&rows, decode_tag)
    }

    /// The recording with this id, with its call context and tags.
    pub async fn get_recording(&self, id: &str) -> Result<Option<RecordingRow>> {
        let mut sql = Sql::new(SELECT);
        let p = sql.arg(id);
        sql.push(&format!(" AND r.id = {p}"));
        Ok(self.fetch_recordings(&sql).await?.pop())
    }

    /// Every segment of a call, in order.
    pub async fn list_recordings_for_call(&self, call_id: &str) -> Result<Vec<RecordingRow>> {
        let mut sql = Sql::new(SELECT);
        let p = sql.arg(call_id);
        sql.push(&format!(" AND r.call_id = {p} ORDER BY r.segment"));
        self.fetch_recordings(&sql).await
    }

    /// Recordings matching `query`, newest first.
    pub async fn search_recordings(&self, query: &RecordingQuery) -> Result<Vec<RecordingRow>> {
        let mut sql = Sql::new(SELECT);
        if let Some(v) = query.from {
            let p = sql.arg(v);
            sql.push(&format!(" AND r.started_at >= {p}"));
        }
        if let Some(v) = query.to {
            let p = sql.arg(v);
            sql.push(&format!(" AND r.started_at < {p}"));
        }
        if let Some(v) = &query.agent_id {
            let p = sql.arg(v.clone());
            sql.push(&format!(" AND COALESCE(r.agent_id, c.agent_id) = {p}"));
        }
        if let Some(v) = &query.campaign_id {
            let p = sql.arg(v.clone());
            sql.push(&format!(
                " AND COALESCE(r.campaign_id, c.campaign_id) = {p}"
            ));
        }
        if let Some(v) = query
            .number
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            let a = sql.arg(like_contains(v));
            let b = sql.arg(like_contains(v));
            sql.push(&format!(
                " AND (c.caller LIKE {a} ESCAPE '\\' OR c.callee LIKE {b} ESCAPE '\\')"
            ));
        }
        if let Some(v) = query
            .disposition
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            let p = sql.arg(v);
            sql.push(&format!(" AND LOWER(d.name) = LOWER({p})"));
        }
        if let Some(v) = query
            .tag_text
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            let p = sql.arg(like_contains(v));
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM recording_tags t WHERE t.call_id = r.call_id \
                 AND LOWER(t.text) LIKE LOWER({p}) ESCAPE '\\')"
            ));
        }
        let limit = sql.arg(query.limit.unwrap_or(100).clamp(1, 1000));
        sql.push(&format!(
            " ORDER BY r.started_at DESC, r.segment, r.id LIMIT {limit}"
        ));
        self.fetch_recordings(&sql).await
    }

    /// Runs a recording SELECT and attaches each call's tags.
    async fn fetch_recordings(&self, sql: &Sql) -> Result<Vec<RecordingRow>> {
        let rows = sql.query().fetch_all(self.pool()).await?;
        let mut recs = decode_all(&rows, decode)?;
        if recs.is_empty() {
            return Ok(recs);
        }
        let mut call_ids: Vec<String> = recs.iter().map(|r| r.call_id.clone()).collect();
        call_ids.sort();
        call_ids.dedup();
        let mut tags_by_call: HashMap<String, Vec<TagRow>> = HashMap::new();
        for chunk in call_ids.chunks(500) {
            let mut q = Sql::new(&format!(
                "SELECT {TAG_COLUMNS} FROM recording_tags WHERE call_id IN ("
            ));
            let ph: Vec<String> = chunk.iter().map(|id| q.arg(id.clone())).collect();
            q.push(&ph.join(", ")).push(") ORDER BY at, id");
            for row in q.query().fetch_all(self.pool()).await? {
                let tag = decode_tag(&row)?;
                tags_by_call
                    .entry(tag.call_id.clone())
                    .or_default()
                    .push(tag);
            }
        }
        for r in &mut recs {
            r.tags = tags_by_call.get(&r.call_id).cloned().unwrap_or_default();
        }
        Ok(recs)
    }
}
