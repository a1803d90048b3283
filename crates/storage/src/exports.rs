//! Exports streamed from the database: call detail records, dispositions
//! with the agenda entries they scheduled, contacts with their outcomes.
//! Rows are decoded one at a time and sent down a bounded channel, so a
//! month of calls is never held in memory and a slow reader slows the
//! query instead of growing a buffer.

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use tokio::sync::mpsc;

use crate::contacts::ContactStatus;
use crate::util::{get_json, Sql};
use crate::{col, Result, Storage};

/// What to export; every field optional. Times filter calls by start,
/// dispositions by time, contacts by import time.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct ExportFilter {
    /// At or after (unix ms).
    pub from: Option<i64>,
    /// Before (unix ms).
    pub to: Option<i64>,
    /// Only this agent (id).
    pub agent_id: Option<String>,
    /// Only this campaign (id).
    pub campaign_id: Option<String>,
    /// Only this contact list (id; contacts only).
    pub list_id: Option<String>,
    /// Only contacts with this status.
    pub status: Option<ContactStatus>,
}

/// One call detail record with names resolved and its disposition.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CallExport {
    /// Call id.
    pub id: String,
    /// inbound | outbound | internal.
    pub direction: String,
    /// Campaign name.
    pub campaign: Option<String>,
    /// Handling agent's username.
    pub agent: Option<String>,
    /// Calling number or extension.
    pub caller: String,
    /// Called number or extension.
    pub callee: String,
    /// Contact id.
    pub contact_id: Option<String>,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Start, unix ms.
    pub started_at: i64,
    /// Answer, unix ms.
    pub answered_at: Option<i64>,
    /// End, unix ms.
    pub ended_at: Option<i64>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Final status.
    pub status: String,
    /// Disposition name.
    pub disposition: Option<String>,
    /// Disposition note.
    pub note: Option<String>,
    /// Final media quality of the customer's and the agent's legs.
    pub quality: crate::CallQualityRow,
}

/// One disposition with the agenda entry it scheduled, if any.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DispositionExport {
    /// Call id.
    pub call_id: String,
    /// When it was given, unix ms.
    pub at: i64,
    /// Agent's username.
    pub agent: Option<String>,
    /// Campaign name.
    pub campaign: Option<String>,
    /// Disposition name.
    pub disposition: String,
    /// Note.
    pub note: String,
    /// Contact phone (the call's customer number when there is no contact).
    pub phone: String,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Agenda entry id.
    pub agenda_id: Option<String>,
    /// personal | global.
    pub agenda_kind: Option<String>,
    /// Callback time, unix ms.
    pub agenda_at: Option<i64>,
    /// Time zone given for it.
    pub agenda_tz: Option<String>,
    /// Its reason.
    pub agenda_reason: Option<String>,
    /// pending | fired | done | cancelled...
    pub agenda_status: Option<String>,
}

/// One contact with what happened to it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContactExport {
    /// Contact id.
    pub id: String,
    /// List name.
    pub list: String,
    /// Campaign name.
    pub campaign: Option<String>,
    /// Phone.
    pub phone: String,
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Dialing status.
    pub status: String,
    /// Dial attempts.
    pub attempts: i64,
    /// Calls made to or from it.
    pub calls: i64,
    /// Last call start, unix ms.
    pub last_call_at: Option<i64>,
    /// Latest disposition.
    pub last_disposition: Option<String>,
    /// Extra imported columns.
    pub extra: serde_json::Value,
    /// Import time, unix ms.
    pub created_at: i64,
}

fn decode_call(r: &AnyRow) -> Result<CallExport> {
    Ok(CallExport {
        id: col(r, "id")?,
        direction: col(r, "direction")?,
        campaign: col(r, "campaign")?,
        agent: col(r, "agent")?,
        caller: col(r, "caller")?,
        callee: col(r, "callee")?,
        contact_id: col(r, "contact_id")?,
        contact_name: col(r, "contact_name")?,
        started_at: col(r, "started_at")?,
        answered_at: col(r, "answered_at")?,
        ended_at: col(r, "ended_at")?,
        end_reason: col(r, "end_reason")?,
        status: col(r, "status")?,
        disposition: col(r, "disposition")?,
        note: col(r, "note")?,
        quality: crate::call_quality::decode(r)?,
    })
}

fn decode_disposition(r: &AnyRow) -> Result<DispositionExport> {
    let contact_phone: Option<String> = col(r, "contact_phone")?;
    let direction: String = col(r, "direction")?;
    let customer: String = col(
        r,
        if direction == "inbound" {
            "caller"
        } else {
            "callee"
        },
    )?;
    Ok(DispositionExport {
        call_id: col(r, "call_id")?,
        at: col(r, "at")?,
        agent: col(r, "agent")?,
        campaign: col(r, "campaign")?,
        disposition: col(r, "disposition")?,
        note: col(r, "note")?,
        phone: contact_phone.unwrap_or(customer),
        contact_name: col(r, "contact_name")?,
        agenda_id: col(r, "agenda_id")?,
        agenda_kind: col(r, "agenda_kind")?,
        agenda_at: col(r, "agenda_at")?,
        agenda_tz: col(r, "agenda_tz")?,
        agenda_reason: col(r, "agenda_reason")?,
        agenda_status: col(r, "agenda_status")?,
    })
}

fn decode_contact(r: &AnyRow) -> Result<ContactExport> {
    Ok(ContactExport {
        id: col(r, "id")?,
        list: col(r, "list")?,
        campaign: col(r, "campaign")?,
        phone: col(r, "phone")?,
        name: col(r, "name")?,
        timezone: col(r, "timezone")?,
        status: col(r, "status")?,
        attempts: col(r, "attempts")?,
        calls: col(r, "calls")?,
        last_call_at: col(r, "last_call_at")?,
        last_disposition: col(r, "last_disposition")?,
        extra: get_json(r, "extra_json")?,
        created_at: col(r, "created_at")?,
    })
}

/// Appends ` AND <column> = <value>` / range conditions of `f` to `sql`.
fn push_filter(sql: &mut Sql, f: &ExportFilter, time: &str, agent: &str, campaign: &str) {
    if let Some(v) = f.from {
        let p = sql.arg(v);
        sql.push(&format!(" AND {time} >= {p}"));
    }
    if let Some(v) = f.to {
        let p = sql.arg(v);
        sql.push(&format!(" AND {time} < {p}"));
    }
    if let Some(v) = &f.agent_id {
        let p = sql.arg(v.clone());
        sql.push(&format!(" AND {agent} = {p}"));
    }
    if let Some(v) = &f.campaign_id {
        let p = sql.arg(v.clone());
        sql.push(&format!(" AND {campaign} = {p}"));
    }
}

impl Storage {
    /// Runs `sql` and sends each decoded row to `out`, stopping early when
    /// the receiver is gone. A failure is sent as the last item. Returns
    /// the number of rows sent.
    async fn stream_rows<T>(
        &self,
        sql: Sql,
        decode: fn(&AnyRow) -> Result<T>,
        out: &mpsc::Sender<Result<T>>,
    ) -> u64 {
        let mut rows = sql.query().fetch(self.pool());
        let mut sent = 0;
        loop {
            let item = match rows.try_next().await {
                Ok(Some(row)) => decode(&row),
                Ok(None) => return sent,
                Err(e) => Err(e.into()),
            };
            let failed = item.is_err();
            if out.send(item).await.is_err() || failed {
                return sent;
            }
            sent += 1;
        }
    }

    /// Call detail records matching `f` (agent = the handling agent), oldest
    /// first, sent to `out` one by one.
    pub async fn export_calls(
        &self,
        f: &ExportFilter,
        out: mpsc::Sender<Result<CallExport>>,
    ) -> u64 {
        let mut sql = Sql::new(
            "SELECT c.id, c.direction, k.name AS campaign, a.username AS agent, c.caller, \
             c.callee, c.contact_id, ct.name AS contact_name, c.started_at, c.answered_at, \
             c.ended_at, c.end_reason, c.status, d.name AS disposition, d.note AS note, \
             c.customer_packets_received, c.customer_packets_lost, c.customer_loss_x100, \
             c.customer_jitter_us, c.customer_mos_x100, c.agent_packets_received, \
             c.agent_packets_lost, c.agent_loss_x100, c.agent_jitter_us, c.agent_mos_x100 \
             FROM calls c LEFT JOIN campaigns k ON k.id = c.campaign_id \
             LEFT JOIN agents a ON a.id = c.agent_id \
             LEFT JOIN contacts ct ON ct.id = c.contact_id \
             LEFT JOIN dispositions d ON d.call_id = c.id WHERE 1 = 1",
        );
        push_filter(&mut sql, f, "c.started_at", "c.agent_id", "c.campaign_id");
        sql.push(" ORDER BY c.started_at, c.id");
        self.stream_rows(sql, decode_call, &out).await
    }

    /// Dispositions matching `f` with the agenda entry each scheduled,
    /// oldest first, sent to `out` one by one.
    pub async fn export_dispositions(
        &self,
        f: &ExportFilter,
        out: mpsc::Sender<Result<DispositionExport>>,
    ) -> u64 {
        let mut sql = Sql::new(
            "SELECT d.call_id, d.at, ag.username AS agent, k.name AS campaign, \
             d.name AS disposition, d.note, ct.phone AS contact_phone, ct.name AS contact_name, \
             c.direction, c.caller, c.callee, e.id AS agenda_id, e.kind AS agenda_kind, \
             e.scheduled_at AS agenda_at, e.tz AS agenda_tz, e.reason AS agenda_reason, \
             e.status AS agenda_status \
             FROM dispositions d JOIN calls c ON c.id = d.call_id \
             LEFT JOIN agents ag ON ag.id = d.agent_id \
             LEFT JOIN campaigns k ON k.id = d.campaign_id \
             LEFT JOIN contacts ct ON ct.id = d.contact_id \
             LEFT JOIN agenda e ON e.origin_call_id = d.call_id WHERE 1 = 1",
        );
        push_filter(&mut sql, f, "d.at", "d.agent_id", "d.campaign_id");
        sql.push(" ORDER BY d.at, d.id, e.id");
        self.stream_rows(sql, decode_disposition, &out).await
    }

    /// Contacts matching `f` with their call count, last call and latest
    /// disposition, by list, import, name and phone, sent to `out` one by one.
    pub async fn export_contacts(
        &self,
        f: &ExportFilter,
        out: mpsc::Sender<Result<ContactExport>>,
    ) -> u64 {
        let mut sql = Sql::new(
            "SELECT ct.id, l.name AS list, k.name AS campaign, ct.phone, ct.name, ct.timezone, \
             ct.status, ct.attempts, ct.extra_json, ct.created_at, \
             (SELECT COUNT(*) FROM calls x WHERE x.contact_id = ct.id) AS calls, \
             (SELECT MAX(x.started_at) FROM calls x WHERE x.contact_id = ct.id) AS last_call_at, \
             (SELECT d.name FROM dispositions d WHERE d.contact_id = ct.id \
              ORDER BY d.at DESC, d.id DESC LIMIT 1) AS last_disposition \
             FROM contacts ct JOIN contact_lists l ON l.id = ct.list_id \
             LEFT JOIN campaigns k ON k.id = ct.campaign_id WHERE 1 = 1",
        );
        let by_import = ExportFilter {
            agent_id: None,
            ..f.clone()
        };
        push_filter(&mut sql, &by_import, "ct.created_at", "", "ct.campaign_id");
        if let Some(v) = &f.list_id {
            let p = sql.arg(v.clone());
            sql.push(&format!(" AND ct.list_id = {p}"));
        }
        if let Some(v) = f.status {
            let p = sql.arg(v.as_str());
            sql.push(&format!(" AND ct.status = {p}"));
        }
        sql.push(" ORDER BY l.name, ct.created_at, ct.name, ct.phone, ct.id");
        self.stream_rows(sql, decode_contact, &out).await
    }
}
