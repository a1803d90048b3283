//! Live calls and presence: agents, the calls in progress, one call (live or
//! stored), its event log, and the call history.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_center::{AgentPresence, AgentStatus, CallView, EngineRequest};
use switchboard_storage::{CallEventRow, CallQuery, CallRow, DispositionRow};
use utoipa::{IntoParams, ToSchema};

use crate::error::{bad_json, ErrorBody};
use crate::{AppState, Caller, HttpError};

/// Agents with live presence.
#[derive(Serialize, ToSchema)]
pub struct AgentList {
    /// Every agent.
    pub agents: Vec<AgentPresence>,
}

/// `GET /api/agents`: every agent with live status.
#[utoipa::path(get, path = "/api/agents", tag = "agents",
    responses((status = 200, body = AgentList), (status = "4XX", body = ErrorBody)))]
pub async fn agents(State(st): State<AppState>, _c: Caller) -> Result<Json<AgentList>, HttpError> {
    let snap = st.ask(EngineRequest::Snapshot).await?;
    Ok(Json(AgentList {
        agents: snap.agents,
    }))
}

/// State change body.
#[derive(Deserialize, ToSchema)]
pub struct StateBody {
    /// ready | paused | offline.
    state: String,
    /// Pause reason (one of `/api/pause-reasons` when any are defined).
    #[serde(default)]
    reason: Option<String>,
}

/// `PUT /api/agents/me/state`.
#[utoipa::path(put, path = "/api/agents/me/state", tag = "agents",
    request_body = StateBody,
    responses((status = 200, description = "The caller's presence", body = AgentPresence),
        (status = "4XX", body = ErrorBody)))]
pub async fn set_state(
    State(st): State<AppState>,
    c: Caller,
    body: Result<Json<StateBody>, JsonRejection>,
) -> Result<Json<AgentPresence>, HttpError> {
    let Json(b) = body.map_err(bad_json)?;
    let agent = c.agent.username.clone();
    change_state(&st, agent, b, None).await
}

/// `PUT /api/agents/{username}/state`: a supervisor or admin pauses, readies
/// or logs out an agent. Same rules as `PUT /api/agents/me/state`; the change
/// is logged with the supervisor's username and the agent's console gets it
/// live. An agent on a call keeps the call and is in the new state after it.
#[utoipa::path(put, path = "/api/agents/{username}/state", tag = "agents",
    params(("username" = String, Path, description = "The agent's username")),
    request_body = StateBody,
    responses((status = 200, description = "The agent's presence", body = AgentPresence),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
        (status = 404, description = "Unknown agent", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub async fn set_agent_state(
    State(st): State<AppState>,
    c: Caller,
    Path(username): Path<String>,
    body: Result<Json<StateBody>, JsonRejection>,
) -> Result<Json<AgentPresence>, HttpError> {
    c.require_supervisor()?;
    let Json(b) = body.map_err(bad_json)?;
    let by = c.agent.username.clone();
    change_state(&st, username, b, Some(by)).await
}

/// Check a state change (state name, pause reason) and ask the engine for it.
async fn change_state(
    st: &AppState,
    agent: String,
    b: StateBody,
    by: Option<String>,
) -> Result<Json<AgentPresence>, HttpError> {
    let state = match b.state.as_str() {
        "ready" => AgentStatus::Ready,
        "paused" => AgentStatus::Paused,
        "offline" => AgentStatus::Offline,
        other => {
            return Err(HttpError::new(
                400,
                format!("state must be ready, paused or offline, not {other:?}"),
            ))
        }
    };
    if state == AgentStatus::Paused {
        let reasons = st.storage.list_pause_reasons().await?;
        let r = b.reason.clone().unwrap_or_default();
        if !reasons.is_empty() && !reasons.iter().any(|x| x.name == r) {
            let names: Vec<String> = reasons.into_iter().map(|x| x.name).collect();
            return Err(HttpError::new(
                400,
                format!(
                    "unknown pause reason {r:?}; choose one of: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    let v = st
        .ask(|reply| EngineRequest::SetAgentState {
            agent,
            state,
            reason: b.reason,
            by,
            reply,
        })
        .await?;
    Ok(Json(v))
}

/// Live calls.
#[derive(Serialize, ToSchema)]
pub struct CallList {
    /// Calls in progress.
    pub calls: Vec<CallView>,
}

/// `GET /api/calls`: live calls (agents see their own).
#[utoipa::path(get, path = "/api/calls", tag = "calls",
    responses((status = 200, body = CallList), (status = "4XX", body = ErrorBody)))]
pub async fn list(State(st): State<AppState>, c: Caller) -> Result<Json<CallList>, HttpError> {
    let snap = st.ask(EngineRequest::Snapshot).await?;
    let calls = snap
        .calls
        .into_iter()
        .filter(|call| c.sees_call(call))
        .map(|call| c.view_of(call))
        .collect();
    Ok(Json(CallList { calls }))
}

/// One call: live, or the stored record of an ended one.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum CallDetail {
    /// A call in progress.
    Live {
        /// Always true.
        live: bool,
        /// The call.
        call: Box<CallView>,
    },
    /// An ended call.
    Stored {
        /// Always false.
        live: bool,
        /// The call record.
        #[schema(value_type = Object)]
        call: Box<CallRow>,
        /// Its disposition, once given.
        #[schema(value_type = Option<Object>)]
        disposition: Option<DispositionRow>,
    },
}

/// `GET /api/calls/{id}`: a live call, or the stored record of an ended one.
#[utoipa::path(get, path = "/api/calls/{id}", tag = "calls",
    params(("id" = String, Path, description = "Call id")),
    responses((status = 200, body = CallDetail), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Json<CallDetail>, HttpError> {
    let snap = st.ask(EngineRequest::Snapshot).await?;
    if let Some(call) = snap.calls.into_iter().find(|x| x.call_id == id) {
        if c.sees_call(&call) {
            let call = c.view_of(call);
            return Ok(Json(CallDetail::Live {
                live: true,
                call: Box::new(call),
            }));
        }
        return Err(HttpError::new(403, "not your call"));
    }
    let row = st
        .storage
        .get_call(&id)
        .await?
        .ok_or_else(|| HttpError::new(404, format!("no call {id}")))?;
    if !c.is_supervisor() && row.agent_id.as_deref() != Some(c.agent.id.as_str()) {
        return Err(HttpError::new(403, "not your call"));
    }
    let disposition = st.storage.get_disposition_for_call(&id).await?;
    Ok(Json(CallDetail::Stored {
        live: false,
        call: Box::new(row),
        disposition,
    }))
}

/// A call's event log.
#[derive(Serialize, ToSchema)]
pub struct EventList {
    /// Events in order.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<CallEventRow>,
}

/// `GET /api/calls/{id}/events`: the call's event log.
#[utoipa::path(get, path = "/api/calls/{id}/events", tag = "calls",
    params(("id" = String, Path, description = "Call id")),
    responses((status = 200, body = EventList), (status = "4XX", body = ErrorBody)))]
pub async fn events(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Json<EventList>, HttpError> {
    let row = st
        .storage
        .get_call(&id)
        .await?
        .ok_or_else(|| HttpError::new(404, format!("no call {id}")))?;
    if !c.is_supervisor()
        && row.agent_id.as_deref() != Some(c.agent.id.as_str())
        && row.caller != c.agent.username
        && row.callee != c.agent.username
    {
        let evs = st.storage.list_events(&id).await?;
        if !evs
            .iter()
            .any(|e| e.actor.as_deref() == Some(c.agent.username.as_str()))
        {
            return Err(HttpError::new(403, "not your call"));
        }
    }
    let events = st.storage.list_events(&id).await?;
    Ok(Json(EventList { events }))
}

/// History filter.
#[derive(Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// Agent username (supervisors; agents see their own).
    agent: Option<String>,
    /// Campaign name.
    campaign: Option<String>,
    /// From (ms since the epoch; default: today 00:00 UTC).
    from: Option<i64>,
    /// To (ms since the epoch).
    to: Option<i64>,
    /// At most this many (default 200).
    limit: Option<i64>,
}

/// Stored calls.
#[derive(Serialize, ToSchema)]
pub struct CallHistory {
    /// Call records, newest first.
    #[schema(value_type = Vec<Object>)]
    pub calls: Vec<CallRow>,
}

/// `GET /api/history`: stored calls (agents: their own; default today).
#[utoipa::path(get, path = "/api/history", tag = "calls", params(HistoryQuery),
    responses((status = 200, body = CallHistory), (status = "4XX", body = ErrorBody)))]
pub async fn history(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<CallHistory>, HttpError> {
    let agent_id = match q.agent {
        Some(u) if c.is_supervisor() => Some(st.agent_named(&u).await?.id),
        Some(u) if u != c.agent.username => {
            return Err(HttpError::new(403, "agents see only their own history"))
        }
        _ if c.is_supervisor() => None,
        _ => Some(c.agent.id.clone()),
    };
    let campaign_id = match q.campaign {
        Some(n) => Some(st.campaign_named(&n).await?.id),
        None => None,
    };
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_millis());
    let mut calls = st
        .storage
        .list_calls(&CallQuery {
            agent_id: agent_id.clone(),
            campaign_id,
            from: q.from.or(today),
            to: q.to,
            limit: q.limit.or(Some(200)),
            ..Default::default()
        })
        .await?;
    if let Some(aid) = agent_id {
        // Also the calls the agent placed or received without being the final handler.
        let username = st
            .storage
            .get_agent(&aid)
            .await?
            .map(|a| a.username)
            .unwrap_or_default();
        let more = st
            .storage
            .list_calls(&CallQuery {
                from: q.from.or(today),
                to: q.to,
                limit: Some(500),
                ..Default::default()
            })
            .await?;
        for m in more {
            if (m.caller == username || m.callee == username) && !calls.iter().any(|x| x.id == m.id)
            {
                calls.push(m);
            }
        }
        calls.sort_by_key(|c| std::cmp::Reverse(c.started_at));
    }
    Ok(Json(CallHistory { calls }))
}

#[cfg(test)]
mod tests;
