//! Live calls and agent actions: presence, click-to-call, hold, transfers,
//! conference, recording on demand, tags, history.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_call::{Command, Target};
use switchboard_center::{AgentStatus, EngineRequest};
use switchboard_storage::CallQuery;

use crate::error::bad_json;
use crate::{AppState, Caller, HttpError};

/// `GET /api/agents`: every agent with live status.
pub async fn agents(State(st): State<AppState>, _c: Caller) -> Result<Json<Value>, HttpError> {
    let snap = st.ask(EngineRequest::Snapshot).await?;
    Ok(Json(json!({"agents": snap["agents"]})))
}

/// State change body.
#[derive(Deserialize)]
pub struct StateBody {
    state: String,
    #[serde(default)]
    reason: Option<String>,
}

/// `PUT /api/agents/me/state`.
pub async fn set_state(
    State(st): State<AppState>,
    c: Caller,
    body: Result<Json<StateBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    let Json(b) = body.map_err(bad_json)?;
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
    let agent = c.agent.username.clone();
    let v = st
        .ask(|reply| EngineRequest::SetAgentState {
            agent,
            state,
            reason: b.reason,
            reply,
        })
        .await?;
    Ok(Json(v))
}

/// `GET /api/calls`: live calls (agents see their own).
pub async fn list(State(st): State<AppState>, c: Caller) -> Result<Json<Value>, HttpError> {
    let snap = st.ask(EngineRequest::Snapshot).await?;
    let calls: Vec<Value> = snap["calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|call| c.is_supervisor() || involves(call, &c.agent.username))
        .collect();
    Ok(Json(json!({"calls": calls})))
}

fn involves(call: &Value, user: &str) -> bool {
    call["agent"] == user
        || call["agent_leg"]["agent"] == user
        || call["customer"]["agent"] == user
        || call["third"]["agent"] == user
        || call["pending"]["agent"] == user
}

/// `GET /api/calls/{id}`: a live call, or the stored record of an ended one.
pub async fn get(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, HttpError> {
    let snap = st.ask(EngineRequest::Snapshot).await?;
    if let Some(call) = snap["calls"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["call_id"] == id.as_str()))
    {
        if c.is_supervisor() || involves(call, &c.agent.username) {
            return Ok(Json(json!({"live": true, "call": call})));
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
    Ok(Json(
        json!({"live": false, "call": row, "disposition": disposition}),
    ))
}

/// `GET /api/calls/{id}/events`: the call's event log.
pub async fn events(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, HttpError> {
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
    Ok(Json(json!({"events": st.storage.list_events(&id).await?})))
}

/// Destination in API bodies: exactly one of agent / number / campaign.
#[derive(Deserialize, Default)]
pub struct TargetBody {
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    campaign: Option<String>,
}

impl TargetBody {
    fn target(self) -> Result<Target, HttpError> {
        match (self.agent, self.number, self.campaign) {
            (Some(a), None, None) => Ok(Target::Agent(a.trim().to_string())),
            (None, Some(n), None) => Ok(Target::Number(n.trim().to_string())),
            (None, None, Some(c)) => Ok(Target::Campaign(c.trim().to_string())),
            _ => Err(HttpError::new(
                400,
                "give exactly one of \"agent\", \"number\" or \"campaign\"",
            )),
        }
    }
}

/// Body of `POST /api/calls`.
#[derive(Deserialize)]
pub struct DialBody {
    /// Agent to call.
    #[serde(default)]
    agent: Option<String>,
    /// Number or PBX extension to call.
    #[serde(default)]
    number: Option<String>,
    /// Manual/preview campaign the call is part of (absent: out of campaign).
    #[serde(default)]
    campaign: Option<String>,
    /// Contact being called (its number is dialled when no number is given).
    #[serde(default)]
    contact_id: Option<String>,
}

/// `POST /api/calls`: call an agent or a number, out of campaign or for a
/// contact of a manual/preview campaign.
pub async fn dial(
    State(st): State<AppState>,
    c: Caller,
    body: Result<Json<DialBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    let Json(b) = body.map_err(bad_json)?;
    let contact = match &b.contact_id {
        Some(id) => Some(
            st.storage
                .get_contact(id)
                .await?
                .ok_or_else(|| HttpError::new(404, format!("no contact {id}")))?,
        ),
        None => None,
    };
    let target = match (b.agent, b.number, &contact) {
        (Some(a), None, _) => Target::Agent(a.trim().to_string()),
        (None, Some(n), _) => Target::Number(n.trim().to_string()),
        (None, None, Some(c)) => Target::Number(c.phone.clone()),
        _ => {
            return Err(HttpError::new(
                400,
                "give exactly one of \"agent\" or \"number\" (or a \"contact_id\")",
            ))
        }
    };
    let actor = c.actor();
    let (campaign, contact_id) = (b.campaign, contact.map(|c| c.id));
    Ok(Json(
        st.ask(|reply| EngineRequest::Dial {
            actor,
            target,
            campaign,
            contact_id,
            reply,
        })
        .await?,
    ))
}

/// Body of actions that take options.
#[derive(Deserialize, Default)]
pub struct ActionBody {
    #[serde(default)]
    mode: Option<String>,
    #[serde(flatten)]
    target: TargetBody,
    #[serde(default)]
    leg: Option<u64>,
    #[serde(default)]
    muted: Option<bool>,
}

async fn command(
    st: &AppState,
    c: &Caller,
    id: String,
    command: Command,
) -> Result<Json<Value>, HttpError> {
    let actor = c.actor();
    Ok(Json(
        st.ask(|reply| EngineRequest::CallCommand {
            actor,
            call: id,
            command,
            reply,
        })
        .await?,
    ))
}

/// `POST /api/calls/{id}/{hold|unhold|hangup|transfer|confer|mute}`.
pub async fn action(
    State(st): State<AppState>,
    c: Caller,
    Path((id, action)): Path<(String, String)>,
    body: Result<Option<Json<Value>>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    let b: ActionBody = match body.map_err(bad_json)? {
        Some(Json(v)) => serde_json::from_value(v)
            .map_err(|e| HttpError::new(400, format!("invalid body: {e}")))?,
        None => ActionBody::default(),
    };
    let cmd = match action.as_str() {
        "hold" => Command::Hold,
        "unhold" => Command::Unhold,
        "hangup" => Command::Hangup,
        "confer" => Command::Confer,
        "mute" | "unmute" => Command::Mute {
            leg: b
                .leg
                .ok_or_else(|| HttpError::new(400, "mute needs \"leg\""))?,
            muted: b.muted.unwrap_or(action == "mute"),
        },
        "transfer" => {
            let t = b.target.target()?;
            match b.mode.as_deref() {
                Some("blind") => Command::BlindTransfer(t),
                Some("consultative") | Some("consult") => Command::ConsultTransfer(t),
                other => {
                    return Err(HttpError::new(
                        400,
                        format!(
                            "transfer mode must be \"blind\" or \"consultative\", not {other:?}"
                        ),
                    ))
                }
            }
        }
        other => {
            return Err(HttpError::new(
                404,
                format!("unknown call action {other:?}"),
            ))
        }
    };
    command(&st, &c, id, cmd).await
}

/// `POST /api/calls/{id}/transfer/{complete|cancel}`.
pub async fn transfer_step(
    State(st): State<AppState>,
    c: Caller,
    Path((id, step)): Path<(String, String)>,
) -> Result<Json<Value>, HttpError> {
    let cmd = match step.as_str() {
        "complete" => Command::CompleteTransfer,
        "cancel" => Command::CancelTransfer,
        other => {
            return Err(HttpError::new(
                404,
                format!("unknown transfer step {other:?}: complete or cancel"),
            ))
        }
    };
    command(&st, &c, id, cmd).await
}

/// `POST /api/calls/{id}/recording/{start|stop}`.
pub async fn recording(
    State(st): State<AppState>,
    c: Caller,
    Path((id, step)): Path<(String, String)>,
) -> Result<Json<Value>, HttpError> {
    let start = match step.as_str() {
        "start" => true,
        "stop" => false,
        other => {
            return Err(HttpError::new(
                404,
                format!("unknown recording step {other:?}: start or stop"),
            ))
        }
    };
    let actor = c.actor();
    Ok(Json(
        st.ask(|reply| EngineRequest::Recording {
            actor,
            call: id,
            start,
            reply,
        })
        .await?,
    ))
}

/// Tag body.
#[derive(Deserialize)]
pub struct TagBody {
    text: String,
}

/// `POST /api/calls/{id}/tags`.
pub async fn tag(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Result<Json<TagBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    let Json(b) = body.map_err(bad_json)?;
    let actor = c.actor();
    Ok(Json(
        st.ask(|reply| EngineRequest::Tag {
            actor,
            call: id,
            text: b.text,
            reply,
        })
        .await?,
    ))
}

/// History filter.
#[derive(Deserialize)]
pub struct HistoryQuery {
    agent: Option<String>,
    campaign: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/history`: stored calls (agents: their own; default today).
pub async fn history(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, HttpError> {
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
    Ok(Json(json!({"calls": calls})))
}
