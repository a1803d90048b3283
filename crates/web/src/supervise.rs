//! `POST /api/calls/{id}/supervise`: a supervisor listens to, whispers to,
//! barges into or takes over a live call, or stops, from the console.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use switchboard_call::{SuperviseMode, SupervisorAction};
use switchboard_center::{ActionReply, EngineRequest};
use utoipa::ToSchema;

use crate::error::{bad_json, ErrorBody};
use crate::{AppState, Caller, HttpError};

/// What a supervisor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuperviseAction {
    /// Hear agent and customer; nobody hears the supervisor (starts the supervision).
    Listen,
    /// Speak to the agent only.
    Whisper,
    /// Speak to both.
    Barge,
    /// Replace the agent (who is released); the supervisor handles the call.
    Takeover,
    /// Stop supervising; the call goes on as it was.
    Stop,
}

impl From<SuperviseAction> for SupervisorAction {
    fn from(a: SuperviseAction) -> SupervisorAction {
        match a {
            SuperviseAction::Listen => SupervisorAction::Mode(SuperviseMode::Listen),
            SuperviseAction::Whisper => SupervisorAction::Mode(SuperviseMode::Whisper),
            SuperviseAction::Barge => SupervisorAction::Mode(SuperviseMode::Barge),
            SuperviseAction::Takeover => SupervisorAction::TakeOver,
            SuperviseAction::Stop => SupervisorAction::Stop,
        }
    }
}

/// Body of `POST /api/calls/{id}/supervise`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseBody {
    /// listen, whisper, barge, takeover or stop. The first listen, whisper
    /// or barge rings the supervisor's phone; later ones change the mode live.
    mode: SuperviseAction,
    /// Extension rung when the supervision starts (default: the supervisor's own).
    #[serde(default)]
    phone: Option<String>,
}

/// `POST /api/calls/{id}/supervise` (supervisors only).
#[utoipa::path(post, path = "/api/calls/{id}/supervise", tag = "actions",
    params(("id" = String, Path, description = "Call id")),
    request_body = SuperviseBody,
    responses((status = 200, description = "The call now (its `supervisions`), or its end", body = ActionReply),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
        (status = 404, description = "No such live call, or unknown extension", body = ErrorBody),
        (status = 409, description = "Not possible now (the reason says why: call ended, ringing, another supervisor speaking...)", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub async fn supervise(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Result<Json<SuperviseBody>, JsonRejection>,
) -> Result<Json<ActionReply>, HttpError> {
    c.require_supervisor()
        .map_err(|_| HttpError::new(403, "only supervisors can supervise calls"))?;
    let Json(b) = body.map_err(bad_json)?;
    let actor = c.actor();
    let call = id.clone();
    let res = st
        .ask(|reply| EngineRequest::Supervise {
            actor,
            call,
            action: b.mode.into(),
            phone: b.phone,
            reply,
        })
        .await;
    match res {
        Ok(r) => Ok(Json(r)),
        // Not live: say so when the call existed and is over.
        Err(e) if e.status == 404 && ended(&st, &id).await => Err(HttpError::new(
            409,
            format!("call {id} has ended: nothing to supervise"),
        )),
        Err(e) => Err(e),
    }
}

/// Whether storage knows the call as ended.
async fn ended(st: &AppState, id: &str) -> bool {
    matches!(st.storage.get_call(id).await, Ok(Some(row)) if row.ended_at.is_some())
}
