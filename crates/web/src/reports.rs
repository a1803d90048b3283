//! Reports per agent and per campaign, rebuilt from the persisted call and
//! event log, over a window whose day boundaries follow an IANA zone
//! (`tz=Europe/Madrid`; UTC by default).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::TimeZone;
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::exports::{instant, time, zone};
use crate::{AppState, Caller, HttpError};

/// Time window; defaults to today (from midnight in `tz`) until now.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Window {
    /// From (inclusive): unix ms, a date (`2026-12-01`: midnight in `tz`),
    /// a local date-time (`2026-12-01T08:00`) or RFC 3339.
    from: Option<String>,
    /// To (exclusive), in the same forms (`to=2026-12-02` ends Dec 1st in `tz`).
    to: Option<String>,
    /// IANA zone for dates and the default day (`Europe/Madrid`); UTC when absent.
    tz: Option<String>,
}

/// Midnight of the day `at_ms` falls on in `tz` (the earliest, should the
/// clocks repeat it; the first instant of the day, should they skip it).
fn midnight(tz: Tz, at_ms: i64) -> i64 {
    let Some(day) = tz
        .timestamp_millis_opt(at_ms)
        .single()
        .map(|t| t.date_naive())
    else {
        return at_ms;
    };
    (0..24 * 60)
        .step_by(15)
        .find_map(|m| {
            let local = day.and_hms_opt(0, 0, 0)? + chrono::Duration::minutes(m);
            tz.from_local_datetime(&local).earliest()
        })
        .map_or(at_ms, |t| t.timestamp_millis())
}

/// The zone and `[from, to)` of a request.
fn window(q: Result<Query<Window>, QueryRejection>) -> Result<(Tz, i64, i64), HttpError> {
    let Query(w) =
        q.map_err(|e| HttpError::new(400, format!("invalid query: {}", e.body_text())))?;
    let tz = zone(w.tz.as_deref())?;
    let now = switchboard_storage::now_ms();
    let from = match w.from.as_deref() {
        Some(v) => instant(v, tz)?,
        None => midnight(tz, now),
    };
    let to = match w.to.as_deref() {
        Some(v) => instant(v, tz)?,
        None => now + 1,
    };
    Ok((tz, from, to))
}

/// The window as the response shows it: the zone and its local bounds.
fn shown(tz: Tz, from: i64, to: i64) -> Value {
    json!({"tz": tz.name(), "from": time(Some(from), tz), "to": time(Some(to), tz)})
}

/// `GET /api/reports/agents/{username}`.
#[utoipa::path(get, path = "/api/reports/agents/{username}", tag = "reports", params(("username" = String, Path, description = "Agent"), Window), responses((status = 200, description = "Call stats and time per status of the agent; `window` gives the zone and local bounds", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn agent(
    State(st): State<AppState>,
    c: Caller,
    Path(u): Path<String>,
    q: Result<Query<Window>, QueryRejection>,
) -> Result<Json<Value>, HttpError> {
    if u != c.agent.username {
        c.require_supervisor()?;
    }
    let a = st.agent_named(&u).await?;
    let (tz, from, to) = window(q)?;
    let report = st.storage.agent_report(&a.id, from, to).await?;
    Ok(Json(
        json!({"agent": u, "window": shown(tz, from, to), "report": report}),
    ))
}

/// `GET /api/reports/campaigns/{name}`.
#[utoipa::path(get, path = "/api/reports/campaigns/{name}", tag = "reports", params(("name" = String, Path, description = "Campaign"), Window), responses((status = 200, description = "Call stats and dispositions of the campaign; `window` gives the zone and local bounds", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn campaign(
    State(st): State<AppState>,
    c: Caller,
    Path(n): Path<String>,
    q: Result<Query<Window>, QueryRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_supervisor()?;
    let camp = st.campaign_named(&n).await?;
    let (tz, from, to) = window(q)?;
    let report = st.storage.campaign_report(&camp.id, from, to).await?;
    Ok(Json(
        json!({"campaign": n, "window": shown(tz, from, to), "report": report}),
    ))
}

#[cfg(test)]
mod tests;
