//! The campaigns an admin assigns to a supervisor: a supervisor with an
//! assignment sees on the wall, and supervises, only the calls and queues of
//! those campaigns; with none, every campaign (admins always see everything).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_storage::{AgentRole, AgentRow};
use utoipa::ToSchema;

use crate::error::{bad_json, ErrorBody};
use crate::{AppState, Caller, HttpError};

/// A supervisor's campaigns.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupervisorCampaigns {
    /// The supervisor's username.
    pub supervisor: String,
    /// Campaign names assigned (empty: none assigned).
    pub campaigns: Vec<String>,
    /// Whether the supervisor is limited to `campaigns` (false: sees every campaign).
    pub limited: bool,
}

impl SupervisorCampaigns {
    fn new(supervisor: &str, campaigns: Vec<String>) -> SupervisorCampaigns {
        SupervisorCampaigns {
            supervisor: supervisor.to_string(),
            limited: !campaigns.is_empty(),
            campaigns,
        }
    }
}

/// Body of `PUT /api/admin/supervisors/{username}/campaigns`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSupervisorCampaigns {
    /// Campaign names (replaces the assignment; empty: the supervisor sees every campaign).
    campaigns: Vec<String>,
}

/// The account `username`, which must be a supervisor (404 unknown, 400 agent or admin).
async fn supervisor_named(st: &AppState, username: &str) -> Result<AgentRow, HttpError> {
    let a = st.agent_named(username).await?;
    match a.role {
        AgentRole::Supervisor => Ok(a),
        AgentRole::Agent => Err(HttpError::new(
            400,
            format!("{username} is an agent: only supervisors are assigned campaigns"),
        )),
        AgentRole::Admin => Err(HttpError::new(
            400,
            format!("{username} is an admin: admins see every campaign"),
        )),
    }
}

/// `GET /api/admin/supervisors/{username}/campaigns` (admins, or the supervisor).
#[utoipa::path(get, path = "/api/admin/supervisors/{username}/campaigns", tag = "admin",
    params(("username" = String, Path, description = "The supervisor")),
    responses((status = 200, description = "The campaigns assigned", body = SupervisorCampaigns),
        (status = 400, description = "Not a supervisor (an agent or an admin)", body = ErrorBody),
        (status = 403, description = "Neither an admin nor that supervisor", body = ErrorBody),
        (status = 404, description = "Unknown user", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    c: Caller,
    Path(username): Path<String>,
) -> Result<Json<SupervisorCampaigns>, HttpError> {
    if !c.is_admin() && c.agent.username != username {
        return Err(HttpError::new(403, "admins only"));
    }
    let a = supervisor_named(&st, &username).await?;
    let campaigns = st.storage.supervisor_campaigns(&a.id).await?;
    Ok(Json(SupervisorCampaigns::new(&username, campaigns)))
}

/// `PUT /api/admin/supervisors/{username}/campaigns` (admins).
#[utoipa::path(put, path = "/api/admin/supervisors/{username}/campaigns", tag = "admin",
    params(("username" = String, Path, description = "The supervisor")),
    request_body = SetSupervisorCampaigns,
    responses((status = 200, description = "The campaigns now assigned", body = SupervisorCampaigns),
        (status = 400, description = "Unknown campaign, or not a supervisor", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "Unknown user", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub async fn set(
    State(st): State<AppState>,
    c: Caller,
    Path(username): Path<String>,
    body: Result<Json<SetSupervisorCampaigns>, JsonRejection>,
) -> Result<Json<SupervisorCampaigns>, HttpError> {
    c.require_admin()?;
    let Json(b) = body.map_err(bad_json)?;
    let a = supervisor_named(&st, &username).await?;
    let mut ids = Vec::new();
    for name in &b.campaigns {
        let camp = st
            .storage
            .get_campaign_by_name(name.trim())
            .await?
            .ok_or_else(|| HttpError::new(400, format!("unknown campaign {name}")))?;
        ids.push(camp.id);
    }
    st.storage.set_supervisor_campaigns(&a.id, &ids).await?;
    let campaigns = st.storage.supervisor_campaigns(&a.id).await?;
    tracing::info!(supervisor = %username, by = %c.agent.username, ?campaigns, "supervisor campaigns set");
    // No open wall is fine (nobody listening).
    let _ = st.scope_changes.send(username.clone());
    Ok(Json(SupervisorCampaigns::new(&username, campaigns)))
}
