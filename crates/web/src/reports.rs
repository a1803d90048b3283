//! Reports per agent and per campaign, rebuilt from the persisted call and event log.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{AppState, Caller, HttpError};

/// Time window (unix ms); defaults to today.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Window {
    from: Option<i64>,
    to: Option<i64>,
}

fn window(w: &Window) -> (i64, i64) {
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_millis())
        .unwrap_or(0);
    (
        w.from.unwrap_or(today),
        w.to.unwrap_or_else(|| switchboard_storage::now_ms() + 1),
    )
}

/// `GET /api/reports/agents/{username}`.
#[utoipa::path(get, path = "/api/reports/agents/{username}", tag = "reports", params(("username" = String, Path, description = "Agent"), Window), responses((status = 200, description = "Call stats and time per status of the agent", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn agent(
    State(st): State<AppState>,
    c: Caller,
    Path(u): Path<String>,
    Query(w): Query<Window>,
) -> Result<Json<Value>, HttpError> {
    if u != c.agent.username {
        c.require_supervisor()?;
    }
    let a = st.agent_named(&u).await?;
    let (from, to) = window(&w);
    Ok(Json(
        json!({"agent": u, "report": st.storage.agent_report(&a.id, from, to).await?}),
    ))
}

/// `GET /api/reports/campaigns/{name}`.
#[utoipa::path(get, path = "/api/reports/campaigns/{name}", tag = "reports", params(("name" = String, Path, description = "Campaign"), Window), responses((status = 200, description = "Call stats and dispositions of the campaign", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn campaign(
    State(st): State<AppState>,
    c: Caller,
    Path(n): Path<String>,
    Query(w): Query<Window>,
) -> Result<Json<Value>, HttpError> {
    c.require_supervisor()?;
    let camp = st.campaign_named(&n).await?;
    let (from, to) = window(&w);
    Ok(Json(
        json!({"campaign": n, "report": st.storage.campaign_report(&camp.id, from, to).await?}),
    ))
}
