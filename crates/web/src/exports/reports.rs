//! Agent and campaign reports as downloads: one row per agent (or campaign)
//! with the figures of `/api/reports/...` for a window (default: today in
//! `tz`), computed one at a time and streamed like the other exports.

use std::collections::BTreeMap;
use std::future::Future;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::TimeZone;
use chrono_tz::Tz;
use serde::Serialize;
use switchboard_storage::{CallStats, ExportFilter, StorageError};
use tokio::sync::mpsc;

use super::{parse, respond, time, ExportQuery, ExportRow};
use crate::{AppState, Caller, HttpError};

/// Agent states reported as seconds, in this column order.
const STATES: [&str; 6] = [
    "ready",
    "paused",
    "ringing",
    "on_call",
    "after_call_work",
    "offline",
];

/// One agent's or campaign's figures.
#[derive(Serialize)]
pub struct ReportRow {
    /// Agent username or campaign name.
    pub name: String,
    /// Display name (agents) or kind (campaigns).
    pub detail: String,
    /// Window start, unix ms.
    pub from: i64,
    /// Window end, unix ms.
    pub to: i64,
    /// Call figures.
    pub stats: CallStats,
    /// Time per agent state, ms (agents only).
    pub state_ms: BTreeMap<String, i64>,
}

fn fields(r: &ReportRow, tz: Tz, states: bool) -> Vec<String> {
    let s = &r.stats;
    let dispositions = s
        .dispositions
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = vec![
        r.name.clone(),
        r.detail.clone(),
        time(Some(r.from), tz),
        time(Some(r.to), tz),
        s.calls.to_string(),
        s.answered.to_string(),
        (s.talk_ms / 1000).to_string(),
        (s.hold_ms / 1000).to_string(),
        s.transfers.to_string(),
        dispositions,
    ];
    if states {
        for st in STATES {
            let ms = r.state_ms.get(st).copied().unwrap_or(0);
            out.push((ms / 1000).to_string());
        }
    }
    out
}

/// An agent's row.
#[derive(Serialize)]
#[serde(transparent)]
pub struct AgentRow(ReportRow);

/// A campaign's row.
#[derive(Serialize)]
#[serde(transparent)]
pub struct CampaignRow(ReportRow);

impl ExportRow for AgentRow {
    const HEADERS: &'static [&'static str] = &[
        "agent",
        "name",
        "from",
        "to",
        "calls",
        "answered",
        "talk_s",
        "hold_s",
        "transfers",
        "dispositions",
        "ready_s",
        "paused_s",
        "ringing_s",
        "on_call_s",
        "after_call_work_s",
        "offline_s",
    ];
    fn fields(&self, tz: Tz) -> Vec<String> {
        fields(&self.0, tz, true)
    }
}

impl ExportRow for CampaignRow {
    const HEADERS: &'static [&'static str] = &[
        "campaign",
        "kind",
        "from",
        "to",
        "calls",
        "answered",
        "talk_s",
        "hold_s",
        "transfers",
        "dispositions",
    ];
    fn fields(&self, tz: Tz) -> Vec<String> {
        fields(&self.0, tz, false)
    }
}

/// The window of `f`, defaulting to today (midnight in `tz`) until now.
fn window(f: &ExportFilter, tz: Tz) -> (i64, i64) {
    let now = switchboard_storage::now_ms();
    let midnight = chrono::Utc::now()
        .with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|d| tz.from_local_datetime(&d).earliest())
        .map(|d| d.timestamp_millis())
        .unwrap_or(now);
    (f.from.unwrap_or(midnight), f.to.unwrap_or(now + 1))
}

/// Send one row per item of `items` (or the error listing them), stopping
/// at the first row that failed or when the client went away; rows sent.
async fn send_rows<I, T, Fut>(
    tx: &mpsc::Sender<Result<T, StorageError>>,
    items: Result<Vec<I>, StorageError>,
    mut row: impl FnMut(I) -> Fut,
) -> u64
where
    Fut: Future<Output = Result<T, StorageError>>,
{
    let items = match items {
        Ok(items) => items,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return 0;
        }
    };
    let mut sent = 0;
    for item in items {
        let r = row(item).await;
        let failed = r.is_err();
        if tx.send(r).await.is_err() || failed {
            break;
        }
        sent += 1;
    }
    sent
}

/// `GET /api/exports/agents`: one row per agent (or `agent=`) with calls,
/// talk and hold time, transfers, dispositions and time per state.
#[utoipa::path(get, path = "/api/exports/agents", tag = "reports", params(ExportQuery),
    responses((status = 200, description = "CSV (agent, name, from, to, calls, answered, talk_s, hold_s, \
        transfers, dispositions, ready_s, paused_s, ringing_s, on_call_s, after_call_work_s, offline_s) \
        or a JSON array", content_type = "text/csv"),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn agents(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let (format, tz, f) = parse(&st, q).await?;
    let (from, to) = window(&f, tz);
    let storage = st.storage.clone();
    Ok(respond("agents", format, tz, move |tx| async move {
        let agents = storage.list_agents().await.map(|all| {
            all.into_iter()
                .filter(|a| f.agent_id.as_ref().is_none_or(|id| *id == a.id))
                .collect()
        });
        let storage = &storage;
        send_rows(&tx, agents, |a| async move {
            storage.agent_report(&a.id, from, to).await.map(|r| {
                AgentRow(ReportRow {
                    name: a.username,
                    detail: a.display_name,
                    from,
                    to,
                    stats: r.stats,
                    state_ms: r.state_ms,
                })
            })
        })
        .await
    }))
}

/// `GET /api/exports/campaigns`: one row per campaign (or `campaign=`) with
/// calls, talk and hold time, transfers and dispositions.
#[utoipa::path(get, path = "/api/exports/campaigns", tag = "reports", params(ExportQuery),
    responses((status = 200, description = "CSV (campaign, kind, from, to, calls, answered, talk_s, hold_s, \
        transfers, dispositions) or a JSON array", content_type = "text/csv"),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn campaigns(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let (format, tz, f) = parse(&st, q).await?;
    let (from, to) = window(&f, tz);
    let storage = st.storage.clone();
    Ok(respond("campaigns", format, tz, move |tx| async move {
        let campaigns = storage.list_campaigns().await.map(|all| {
            all.into_iter()
                .filter(|k| f.campaign_id.as_ref().is_none_or(|id| *id == k.id))
                .collect()
        });
        let storage = &storage;
        send_rows(&tx, campaigns, |k| async move {
            storage.campaign_report(&k.id, from, to).await.map(|r| {
                CampaignRow(ReportRow {
                    name: k.name,
                    detail: k.kind.as_str().to_string(),
                    from,
                    to,
                    stats: r.stats,
                    state_ms: BTreeMap::new(),
                })
            })
        })
        .await
    }))
}
