//! Contacts and contact lists: search, dialer claiming and per-contact
//! history (the import is in [`crate::import`]).

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::agenda::{self, AgendaRow};
use crate::calls::{self, CallRow};
use crate::dispositions::{self, DispositionRow};
use crate::util::{decode_all, expect_one, get_enum, get_json, like_contains, str_enum, Sql};
use crate::{col, Result, Storage, StorageError};

str_enum! {
    /// Where a contact is in the dialing cycle.
    ContactStatus {
        /// Never dialed.
        New => "new",
        /// Claimed by the dialer, call in progress.
        Dialing => "dialing",
        /// Finished: no more attempts.
        Done => "done",
        /// To be dialed again at `next_attempt_at`.
        Retry => "retry",
        /// A callback is scheduled in the agenda.
        Callback => "callback",
    }
}

/// A contact as stored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContactRow {
    /// Row id.
    pub id: String,
    /// List it was imported into.
    pub list_id: String,
    /// Campaign that dials it, if any.
    pub campaign_id: Option<String>,
    /// Phone number: E.164 (`+34600123456`), or digits as dialled when imported without a country.
    pub phone: String,
    /// Name (may be empty).
    pub name: String,
    /// Other CSV columns: JSON object of column name to string value.
    pub extra: serde_json::Value,
    /// The contact's IANA time zone (e.g. `Europe/Madrid`), if known.
    pub timezone: Option<String>,
    /// Dialing status.
    pub status: ContactStatus,
    /// Dial attempts made.
    pub attempts: i64,
    /// Earliest time of the next attempt, unix ms.
    pub next_attempt_at: Option<i64>,
    /// Import time, unix ms.
    pub created_at: i64,
}

/// A contact list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContactListRow {
    /// Row id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Number of contacts in the list.
    pub contact_count: i64,
}

/// Filter for [`Storage::search_contacts`]; every field optional.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct ContactQuery {
    /// Case-insensitive substring of the phone or the name.
    pub text: Option<String>,
    /// Only this campaign.
    pub campaign_id: Option<String>,
    /// Only this list.
    pub list_id: Option<String>,
    /// Only this status.
    pub status: Option<ContactStatus>,
    /// Maximum rows (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Everything that happened with a contact.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContactHistory {
    /// The contact.
    pub contact: ContactRow,
    /// Its calls, oldest first.
    pub calls: Vec<CallRow>,
    /// Dispositions of those calls, oldest first.
    pub dispositions: Vec<DispositionRow>,
    /// Agenda entries (callbacks) for it, by scheduled time.
    pub agenda: Vec<AgendaRow>,
}

const COLUMNS: &str = "id, list_id, campaign_id, phone, name, extra_json, status, attempts, \
                       next_attempt_at, created_at, timezone";

fn decode(row: &AnyRow) -> Result<ContactRow> {
    Ok(ContactRow {
        id: col(row, "id")?,
        list_id: col(row, "list_id")?,
        campaign_id: col(row, "campaign_id")?,
        phone: col(row, "phone")?,
        name: col(row, "name")?,
        extra: get_json(row, "extra_json")?,
        timezone: col(row, "timezone")?,
        status: get_enum(row, "status")?,
        attempts: col(row, "attempts")?,
        next_attempt_at: col(row, "next_attempt_at")?,
        created_at: col(row, "created_at")?,
    })
}

/// Why `phone` is not a valid number, if it is not.
pub(crate) fn phone_problem(phone: &str) -> Option<String> {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    if phone.is_empty() {
        Some("phone is empty".into())
    } else if !(3..=20).contains(&phone.chars().count()) {
        Some(format!("phone {phone:?} must be 3 to 20 characters"))
    } else if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        Some(format!(
            "phone {phone:?} must contain only digits, with an optional leading +"
        ))
    } else {
        None
    }
}

impl Storage {
    /// Every contact list with its size, ordered by name.
    pub async fn list_contact_lists(&self) -> Result<Vec<ContactListRow>> {
        let rows = sqlx::query(
            "SELECT l.id, l.name, l.created_at, \
             (SELECT COUNT(*) FROM contacts c WHERE c.list_id = l.id) AS contact_count \
             FROM contact_lists l ORDER BY l.name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ContactListRow {
                    id: col(r, "id")?,
                    name: col(r, "name")?,
                    created_at: col(r, "created_at")?,
                    contact_count: col(r, "contact_count")?,
                })
            })
            .collect()
    }

    /// The contact with this id.
    pub async fn get_contact(&self, id: &str) -> Result<Option<ContactRow>> {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Contacts matching `query`, ordered by name then phone.
    pub async fn search_contacts(&self, query: &ContactQuery) -> Result<Vec<ContactRow>> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM contacts WHERE 1 = 1"));
        if let Some(text) = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let a = sql.arg(like_contains(text));
            let b = sql.arg(like_contains(text));
            sql.push(&format!(
                " AND (LOWER(phone) LIKE LOWER({a}) ESCAPE '\\' \
                 OR LOWER(name) LIKE LOWER({b}) ESCAPE '\\')"
            ));
        }
        if let Some(v) = &query.campaign_id {
            let p = sql.arg(v.clone());
            sql.push(&format!(" AND campaign_id = {p}"));
        }
        if let Some(v) = &query.list_id {
            let p = sql.arg(v.clone());
            sql.push(&format!(" AND list_id = {p}"));
        }
        if let Some(v) = query.status {
            let p = sql.arg(v.as_str());
            sql.push(&format!(" AND status = {p}"));
        }
        let limit = sql.arg(query.limit.unwrap_or(100).clamp(1, 1000));
        sql.push(&format!(" ORDER BY name, phone, id LIMIT {limit}"));
        let rows = sql.query().fetch_all(self.pool()).await?;
        decode_all(&rows, decode)
    }

    /// Sets a contact's status and next attempt time (e.g. `Retry` with a
    /// time, `Done`, `Callback`).
    pub async fn set_contact_status(
        &self,
        id: &str,
        status: ContactStatus,
        next_attempt_at: Option<i64>,
    ) -> Result<()> {
        let done =
            sqlx::query("UPDATE contacts SET status = $1, next_attempt_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(next_attempt_at)
                .bind(id)
                .execute(self.pool())
                .await?;
        expect_one(done.rows_affected(), "contact", id)
    }

    /// Gives back a contact claimed for dialing but not dialled (outside its
    /// calling hours): `retry` at `next_attempt_at`, the attempt not counted.
    pub async fn release_contact(&self, id: &str, next_attempt_at: Option<i64>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE contacts SET status = 'retry', next_attempt_at = $1, \
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END \
             WHERE id = $2 AND status = 'dialing'",
        )
        .bind(next_attempt_at)
        .bind(id)
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), "dialing contact", id)
    }

    /// After a restart, contacts left `dialing` by calls that no longer
    /// exist become `retry` (due now). Returns how many were reset.
    pub async fn reset_dialing_contacts(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE contacts SET status = 'retry', next_attempt_at = NULL WHERE status = 'dialing'",
        )
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Atomically claims up to `limit` dialable contacts of a campaign
    /// (status `new`, or `retry` with `next_attempt_at <= now`, and fewer
    /// attempts than the campaign's `max_attempts`): each becomes `dialing`
    /// with one more attempt. A contact is never claimed twice.
    pub async fn claim_contacts_for_dialing(
        &self,
        campaign_id: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ContactRow>> {
        let mut tx = self.begin_write().await?;
        let candidates = sqlx::query(
            "SELECT c.id FROM contacts c JOIN campaigns k ON k.id = c.campaign_id \
             WHERE c.campaign_id = $1 AND c.attempts < k.max_attempts \
             AND (c.status = 'new' OR (c.status = 'retry' \
                  AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= $2))) \
             ORDER BY COALESCE(c.next_attempt_at, c.created_at), c.id LIMIT $3",
        )
        .bind(campaign_id)
        .bind(now)
        .bind(limit.max(0))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::new();
        for row in &candidates {
            let id: String = col(row, "id")?;
            let done = sqlx::query(
                "UPDATE contacts SET status = 'dialing', attempts = attempts + 1, \
                 next_attempt_at = NULL WHERE id = $1 AND status IN ('new', 'retry')",
            )
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                let sql = format!("SELECT {COLUMNS} FROM contacts WHERE id = $1");
                let row = sqlx::query(&sql).bind(&id).fetch_one(&mut *tx).await?;
                claimed.push(decode(&row)?);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// The contact with its calls, dispositions and agenda entries.
    pub async fn contact_history(&self, contact_id: &str) -> Result<ContactHistory> {
        let contact = self
            .get_contact(contact_id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("contact {contact_id}")))?;
        let calls = sqlx::query(&format!(
            "SELECT {} FROM calls WHERE contact_id = $1 ORDER BY started_at, id",
            calls::COLUMNS
        ))
        .bind(contact_id)
        .fetch_all(self.pool())
        .await?;
        let dispositions = sqlx::query(&format!(
            "SELECT {} FROM dispositions WHERE contact_id = $1 \
             OR call_id IN (SELECT id FROM calls WHERE contact_id = $2) ORDER BY at, id",
            dispositions::COLUMNS
        ))
        .bind(contact_id)
        .bind(contact_id)
        .fetch_all(self.pool())
        .await?;
        let agenda = sqlx::query(&format!(
            "SELECT {} FROM agenda WHERE contact_id = $1 ORDER BY scheduled_at, id",
            agenda::COLUMNS
        ))
        .bind(contact_id)
        .fetch_all(self.pool())
        .await?;
        Ok(ContactHistory {
            contact,
            calls: decode_all(&calls, calls::decode)?,
            dispositions: decode_all(&dispositions, dispositions::decode)?,
            agenda: decode_all(&agenda, agenda::decode)?,
        })
    }
}
