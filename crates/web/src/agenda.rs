//! Dispositions and the agenda: every call ends with a disposition from its
//! campaign's set; the built-in "Agenda" schedules a personal or global callback.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_center::agenda;
use switchboard_storage::{AgendaKind, CallDirection, NewAgenda, NewDisposition};

use crate::error::bad_json;
use crate::{AppState, Caller, HttpError};

/// The built-in disposition that opens the agenda form.
pub const AGENDA: &str = "Agenda";

/// Agenda part of a disposition.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AgendaBody {
    kind: String,
    at: String,
    /// IANA zone (`Europe/Madrid`, daylight saving applied) or UTC offset
    /// (`+01:00`); default: the contact's zone.
    #[serde(default)]
    tz: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    phone: Option<String>,
}

/// Disposition body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DispositionBody {
    disposition: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    agenda: Option<AgendaBody>,
    /// The customer asked not to be called again: put the call's number on the
    /// campaign's do-not-call list (campaign calls only; not with Agenda).
    #[serde(default)]
    dnc: bool,
}

/// `POST /api/calls/{id}/disposition`.
#[utoipa::path(post, path = "/api/calls/{id}/disposition", tag = "agenda", params(("id" = String, Path, description = "Call id")), request_body = DispositionBody, responses((status = 200, description = "`disposition` (and `agenda` entry)", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn disposition(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Result<Json<DispositionBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    let Json(b) = body.map_err(bad_json)?;
    let call = st
        .storage
        .get_call(&id)
        .await?
        .ok_or_else(|| HttpError::new(404, format!("no call {id}")))?;
    let handled = call.agent_id.as_deref() == Some(c.agent.id.as_str())
        || call.caller == c.agent.username
        || call.callee == c.agent.username;
    if !handled && !c.is_supervisor() {
        let evs = st.storage.list_events(&id).await?;
        if !evs
            .iter()
            .any(|e| e.actor.as_deref() == Some(c.agent.username.as_str()))
        {
            return Err(HttpError::new(
                403,
                "you can only disposition your own calls",
            ));
        }
    }
    let campaign = match &call.campaign_id {
        Some(cid) => st.storage.get_campaign(cid).await?,
        None => None,
    };
    let name = b.disposition.trim().to_string();
    if name.is_empty() {
        return Err(HttpError::new(400, "choose a disposition"));
    }
    if let Some(camp) = &campaign {
        if name != AGENDA && !camp.dispositions.is_empty() && !camp.dispositions.contains(&name) {
            return Err(HttpError::new(
                400,
                format!(
                    "{name:?} is not a disposition of campaign {}; choose one of: {}, {AGENDA}",
                    camp.name,
                    camp.dispositions.join(", ")
                ),
            ));
        }
    }
    let mut agenda_row = None;
    let mut new_agenda = None;
    if name == AGENDA {
        let a = b.agenda.ok_or_else(|| {
            HttpError::new(
                400,
                "the Agenda disposition needs an \"agenda\" object (kind, at, tz, reason)",
            )
        })?;
        let kind = agenda::Kind::parse(&a.kind).map_err(|m| HttpError::new(400, m))?;
        if kind == agenda::Kind::Global {
            agenda::check_global_allowed(campaign.as_ref().map(|c| c.kind.as_str()))
                .map_err(|m| HttpError::new(409, m))?;
        }
        // The zone given (the agent's browser sends its own), else the contact's.
        let contact_tz = match &call.contact_id {
            Some(cid) => st.storage.get_contact(cid).await?.and_then(|c| c.timezone),
            None => None,
        };
        let tz = a.tz.clone().filter(|t| !t.trim().is_empty()).or(contact_tz);
        let when = agenda::parse_when(&a.at, tz.as_deref()).map_err(|m| HttpError::new(400, m))?;
        let customer = if call.direction == CallDirection::Inbound {
            call.caller.clone()
        } else {
            call.callee.clone()
        };
        let phone = a.phone.unwrap_or(customer);
        new_agenda = Some(NewAgenda {
            kind: if kind == agenda::Kind::Global {
                AgendaKind::Global
            } else {
                AgendaKind::Personal
            },
            agent_id: c.agent.id.clone(),
            contact_id: call.contact_id.clone(),
            campaign_id: call.campaign_id.clone(),
            phone,
            scheduled_at: when,
            tz: tz
                .map(|t| t.trim().to_string())
                .unwrap_or_else(|| "UTC".into()),
            reason: a.reason,
            origin_call_id: Some(id.clone()),
        });
    } else if b.agenda.is_some() {
        return Err(HttpError::new(
            400,
            format!("an agenda is only given with the {AGENDA} disposition"),
        ));
    }
    if b.dnc && name == AGENDA {
        return Err(HttpError::new(
            400,
            "a callback and the do-not-call list contradict each other: choose one",
        ));
    }
    let dnc_campaign = match (&call.campaign_id, b.dnc) {
        (Some(cid), true) => Some(cid.clone()),
        (None, true) => {
            return Err(HttpError::new(
                409,
                "only a campaign call's number can go on a do-not-call list (this call has no campaign)",
            ))
        }
        (_, false) => None,
    };
    let d = st
        .storage
        .add_disposition(&NewDisposition {
            call_id: id.clone(),
            agent_id: c.agent.id.clone(),
            campaign_id: call.campaign_id.clone(),
            contact_id: call.contact_id.clone(),
            name: name.clone(),
            note: b.note,
            at: switchboard_storage::now_ms(),
        })
        .await?;
    if let Some(na) = new_agenda {
        let row = st.storage.add_agenda(&na).await?;
        if let (Some(cid), AgendaKind::Global) = (&call.contact_id, na.kind) {
            let _ = st
                .storage
                .set_contact_status(
                    cid,
                    switchboard_storage::ContactStatus::Callback,
                    Some(na.scheduled_at),
                )
                .await;
        }
        agenda_row = Some(row);
    }
    let _ = st
        .storage
        .add_event(
            &id,
            switchboard_storage::now_ms(),
            "DISPOSITION",
            Some(&c.agent.username),
            json!({"text": name}),
        )
        .await;
    let mut dnc_row = None;
    if let Some(cid) = dnc_campaign {
        let contact = match &call.contact_id {
            Some(id) => st.storage.get_contact(id).await?,
            None => None,
        };
        let phone = match &contact {
            Some(c) => c.phone.clone(),
            None if call.direction == CallDirection::Inbound => call.caller.clone(),
            None => call.callee.clone(),
        };
        let reason = format!("asked on call {id}");
        let row = st
            .storage
            .add_dnc(&phone, Some(&cid), &reason, Some(&c.agent.username), None)
            .await?;
        let entry = crate::dnc_entries(std::slice::from_ref(&row)).remove(0);
        let _ = st
            .engine
            .send(switchboard_center::EngineRequest::AddDnc(entry))
            .await;
        if let Some(contact) = contact {
            let done = switchboard_storage::ContactStatus::Done;
            st.storage
                .set_contact_status(&contact.id, done, None)
                .await?;
        }
        let detail = json!({"text": format!("{} added to the do-not-call list", row.phone)});
        let now = switchboard_storage::now_ms();
        let _ = st
            .storage
            .add_event(&id, now, "DNC_ADDED", Some(&c.agent.username), detail)
            .await;
        dnc_row = Some(row);
    }
    Ok(Json(
        json!({"disposition": d, "agenda": agenda_row, "dnc": dnc_row}),
    ))
}

/// Agenda listing filter.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct AgendaQuery {
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    include_done: bool,
}

/// `GET /api/agenda`: the caller's agenda (supervisors may pass `agent`).
#[utoipa::path(get, path = "/api/agenda", tag = "agenda", params(AgendaQuery), responses((status = 200, description = "`agenda`: entries", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<AgendaQuery>,
) -> Result<Json<Value>, HttpError> {
    let agent_id = match q.agent {
        Some(u) if u != c.agent.username => {
            if !c.is_supervisor() {
                return Err(HttpError::new(403, "agents can only read their own agenda"));
            }
            st.agent_named(&u).await?.id
        }
        _ => c.agent.id.clone(),
    };
    Ok(Json(
        json!({"agenda": st.storage.list_agenda_for_agent(&agent_id, q.include_done).await?}),
    ))
}

/// What to do with an agenda entry.
#[allow(dead_code)] // documents the path parameter (parsed from its string)
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AgendaStep {
    /// Mark it done.
    Done,
    /// Cancel it.
    Cancel,
    /// Call the contact now (the entry is marked done with the call).
    Call,
}

/// `POST /api/agenda/{id}/{done|cancel|call}`.
#[utoipa::path(post, path = "/api/agenda/{id}/{step}", tag = "agenda", params(("id" = String, Path, description = "Agenda entry id"), ("step" = AgendaStep, Path, description = "done, cancel or call")), responses((status = 200, description = "`agenda` entry, or `call` for `call`", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn step(
    State(st): State<AppState>,
    c: Caller,
    Path((id, step)): Path<(String, String)>,
) -> Result<Json<Value>, HttpError> {
    let row = st
        .storage
        .get_agenda(&id)
        .await?
        .ok_or_else(|| HttpError::new(404, format!("no agenda entry {id}")))?;
    if row.agent_id != c.agent.id && !c.is_supervisor() {
        return Err(HttpError::new(403, "not your agenda entry"));
    }
    match step.as_str() {
        "done" => st.storage.mark_agenda_done(&id, None).await?,
        "cancel" => st.storage.cancel_agenda(&id).await?,
        "call" => {
            let actor = c.actor();
            // An internal extension is called as that agent, anything else through the trunk.
            let target = match st.storage.get_agent_by_username(&row.phone).await? {
                Some(a) if a.enabled => switchboard_call::Target::Agent(a.username),
                _ => switchboard_call::Target::Number(row.phone.clone()),
            };
            // Call back within the entry's campaign when agents dial in it (manual/preview/dialer).
            let campaign = match &row.campaign_id {
                Some(cid) => st
                    .storage
                    .get_campaign(cid)
                    .await?
                    .filter(|c| c.kind != switchboard_storage::CampaignKind::Inbound)
                    .map(|c| c.name),
                None => None,
            };
            let contact_id = row.contact_id.clone();
            let v = st
                .ask(|reply| switchboard_center::EngineRequest::Dial {
                    actor,
                    target,
                    campaign,
                    contact_id,
                    timezone: None,
                    reply,
                })
                .await?;
            let call_id = Some(v.call_id.clone());
            // The call's record is written by the engine's storage queue: wait for it.
            (st.flush)().await;
            st.storage.mark_agenda_done(&id, call_id.as_deref()).await?;
            return Ok(Json(json!({"call": v})));
        }
        other => {
            return Err(HttpError::new(
                404,
                format!("unknown agenda step {other:?}: done, cancel or call"),
            ))
        }
    }
    Ok(Json(json!({"agenda": st.storage.get_agenda(&id).await?})))
}

#[cfg(test)]
mod tests;
