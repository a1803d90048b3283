//! Agent actions on calls: click-to-call, hold, transfers, conference, mute,
//! hang-up, recording on demand and tags. Each asks the switch engine and
//! answers with its typed reply.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use switchboard_call::{Command, Target};
use switchboard_center::{ActionReply, CallView, EngineRequest, TagReply};
use utoipa::ToSchema;

use crate::error::{bad_json, ErrorBody};
use crate::{AppState, Caller, HttpError};

/// Destination in API bodies: exactly one of agent / number / campaign.
#[derive(Deserialize, Default, ToSchema)]
pub struct TargetBody {
    /// An agent, by username.
    #[serde(default)]
    agent: Option<String>,
    /// An external number or PBX extension.
    #[serde(default)]
    number: Option<String>,
    /// An inbound campaign (its queue).
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
#[derive(Deserialize, ToSchema)]
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
#[utoipa::path(post, path = "/api/calls", tag = "calls", request_body = DialBody,
    responses((status = 200, description = "The new call", body = CallView),
        (status = "4XX", body = ErrorBody)))]
pub async fn dial(
    State(st): State<AppState>,
    c: Caller,
    body: Result<Json<DialBody>, JsonRejection>,
) -> Result<Json<CallView>, HttpError> {
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
    let (contact_id, timezone) = match contact {
        Some(c) => (Some(c.id), c.timezone),
        None => (None, None),
    };
    let campaign = b.campaign;
    Ok(Json(
        st.ask(|reply| EngineRequest::Dial {
            actor,
            target,
            campaign,
            contact_id,
            timezone,
            reply,
        })
        .await?,
    ))
}

/// A call action.
#[allow(dead_code)] // documents the path parameter (parsed from its string)
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CallAction {
    /// Put the other party on hold (music).
    Hold,
    /// Resume.
    Unhold,
    /// Hang up (the agent's side; ends a two-party call).
    Hangup,
    /// Bring the consulted party into a conference.
    Confer,
    /// Mute a conference leg (`leg`).
    Mute,
    /// Unmute a conference leg (`leg`).
    Unmute,
    /// Blind or consultative transfer (`mode` and one target).
    Transfer,
}

/// Body of actions that take options (none needed for hold, unhold, hangup, confer).
#[derive(Deserialize, Default, ToSchema)]
pub struct ActionBody {
    /// transfer: `blind` or `consultative`.
    #[serde(default)]
    mode: Option<String>,
    /// transfer: the destination.
    #[serde(flatten)]
    target: TargetBody,
    /// mute/unmute: the leg (see the call's legs).
    #[serde(default)]
    leg: Option<u64>,
    /// mute/unmute: mute (default: true for mute, false for unmute).
    #[serde(default)]
    muted: Option<bool>,
}

async fn command(
    st: &AppState,
    c: &Caller,
    id: String,
    command: Command,
) -> Result<Json<ActionReply>, HttpError> {
    let actor = c.actor();
    let reply = st
        .ask(|reply| EngineRequest::CallCommand {
            actor,
            call: id,
            command,
            reply,
        })
        .await?;
    Ok(Json(match reply {
        ActionReply::Live(v) => ActionReply::Live(Box::new(c.view_of(*v))),
        ended => ended,
    }))
}

/// `POST /api/calls/{id}/{hold|unhold|hangup|transfer|confer|mute|unmute}`.
#[utoipa::path(post, path = "/api/calls/{id}/{action}", tag = "actions",
    params(("id" = String, Path, description = "Call id"),
        ("action" = CallAction, Path, description = "The action")),
    request_body(content = Option<ActionBody>, description = "Options of transfer and mute"),
    responses((status = 200, description = "The call now, or its end", body = ActionReply),
        (status = "4XX", body = ErrorBody)))]
pub async fn action(
    State(st): State<AppState>,
    c: Caller,
    Path((id, action)): Path<(String, String)>,
    body: Result<Option<Json<Value>>, JsonRejection>,
) -> Result<Json<ActionReply>, HttpError> {
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

/// A step of a consultative transfer.
#[allow(dead_code)] // documents the path parameter (parsed from its string)
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TransferStep {
    /// Bridge the customer with the consulted party.
    Complete,
    /// Abandon the consultation; back with the customer.
    Cancel,
}

/// `POST /api/calls/{id}/transfer/{complete|cancel}`.
#[utoipa::path(post, path = "/api/calls/{id}/transfer/{step}", tag = "actions",
    params(("id" = String, Path, description = "Call id"),
        ("step" = TransferStep, Path, description = "Complete or cancel")),
    responses((status = 200, description = "The call now, or its end", body = ActionReply),
        (status = "4XX", body = ErrorBody)))]
pub async fn transfer_step(
    State(st): State<AppState>,
    c: Caller,
    Path((id, step)): Path<(String, String)>,
) -> Result<Json<ActionReply>, HttpError> {
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

/// Start, stop, pause or resume.
#[allow(dead_code)] // documents the path parameter (parsed from its string)
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum RecordingStep {
    /// Start a recording segment (on-demand campaigns; 409 when automatic).
    Start,
    /// Stop the running segment (on-demand campaigns; 409 when automatic).
    Stop,
    /// Pause the running segment, e.g. while a card number is keyed: the
    /// file gets silence until resumed (409 when the call is not being recorded).
    Pause,
    /// Resume a paused segment.
    Resume,
}

/// `POST /api/calls/{id}/recording/{start|stop|pause|resume}`.
#[utoipa::path(post, path = "/api/calls/{id}/recording/{step}", tag = "actions",
    params(("id" = String, Path, description = "Call id"),
        ("step" = RecordingStep, Path, description = "start, stop, pause or resume")),
    responses((status = 200, description = "The call now (`recording`, `recording_paused`)", body = CallView),
        (status = "4XX", body = ErrorBody)))]
pub async fn recording(
    State(st): State<AppState>,
    c: Caller,
    Path((id, step)): Path<(String, String)>,
) -> Result<Json<CallView>, HttpError> {
    let actor = c.actor();
    let call = id;
    let view = match step.as_str() {
        "start" | "stop" => {
            let start = step == "start";
            st.ask(|reply| EngineRequest::Recording {
                actor,
                call,
                start,
                reply,
            })
            .await?
        }
        "pause" | "resume" => {
            let pause = step == "pause";
            st.ask(|reply| EngineRequest::RecordingPause {
                actor,
                call,
                pause,
                reply,
            })
            .await?
        }
        other => {
            return Err(HttpError::new(
                404,
                format!("unknown recording step {other:?}: start, stop, pause or resume"),
            ))
        }
    };
    Ok(Json(c.view_of(view)))
}

/// Tag body.
#[derive(Deserialize, ToSchema)]
pub struct TagBody {
    /// Text (at most 2000 characters).
    text: String,
}

/// `POST /api/calls/{id}/tags`: a note on the call, pinned to the running recording.
#[utoipa::path(post, path = "/api/calls/{id}/tags", tag = "actions",
    params(("id" = String, Path, description = "Call id")),
    request_body = TagBody,
    responses((status = 200, description = "The stored tag", body = TagReply),
        (status = "4XX", body = ErrorBody)))]
pub async fn tag(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Result<Json<TagBody>, JsonRejection>,
) -> Result<Json<TagReply>, HttpError> {
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
