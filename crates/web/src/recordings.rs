//! The recordings module: search (date, agent, campaign, number,
//! disposition, tag text), details with tags, and WAV playback/download
//! with access control (agents: their own recordings; supervisors: all).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_storage::{RecordingQuery, RecordingRow};

use crate::{AppState, Caller, HttpError};

/// Search parameters.
#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct SearchQuery {
    from: Option<i64>,
    to: Option<i64>,
    agent: Option<String>,
    campaign: Option<String>,
    number: Option<String>,
    disposition: Option<String>,
    tag: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/recordings`.
#[utoipa::path(get, path = "/api/recordings", tag = "recordings", params(SearchQuery), responses((status = 200, description = "`recordings` with tags", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn search(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, HttpError> {
    let agent_id = match q.agent {
        Some(u) => {
            if u != c.agent.username && !c.is_supervisor() {
                return Err(HttpError::new(
                    403,
                    "agents can only search their own recordings",
                ));
            }
            Some(st.agent_named(&u).await?.id)
        }
        None if c.is_supervisor() => None,
        None => Some(c.agent.id.clone()),
    };
    let campaign_id = match q.campaign {
        Some(n) => Some(st.campaign_named(&n).await?.id),
        None => None,
    };
    let rows = st
        .storage
        .search_recordings(&RecordingQuery {
            from: q.from,
            to: q.to,
            agent_id,
            campaign_id,
            number: q.number,
            disposition: q.disposition,
            tag_text: q.tag,
            limit: q.limit.or(Some(200)),
        })
        .await?;
    Ok(Json(json!({"recordings": rows})))
}

async fn visible(st: &AppState, c: &Caller, id: &str) -> Result<RecordingRow, HttpError> {
    let r = st
        .storage
        .get_recording(id)
        .await?
        .ok_or_else(|| HttpError::new(404, format!("no recording {id}")))?;
    if c.is_supervisor()
        || r.agent_id.as_deref() == Some(c.agent.id.as_str())
        || r.agent_username.as_deref() == Some(c.agent.username.as_str())
    {
        Ok(r)
    } else {
        Err(HttpError::new(
            403,
            "agents can only access their own recordings",
        ))
    }
}

/// `GET /api/recordings/{id}`.
#[utoipa::path(get, path = "/api/recordings/{id}", tag = "recordings", params(("id" = String, Path, description = "Id")), responses((status = 200, description = "`recording` with `tags`", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, HttpError> {
    Ok(Json(json!({"recording": visible(&st, &c, &id).await?})))
}

/// `GET /api/recordings/{id}/audio`: the WAV (`?download=1` for an attachment).
#[utoipa::path(get, path = "/api/recordings/{id}/audio", tag = "recordings", params(("id" = String, Path, description = "Recording id"), ("download" = Option<String>, Query, description = "1: as an attachment")), responses((status = 200, description = "The WAV file", content_type = "audio/wav"), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn audio(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, HttpError> {
    let r = visible(&st, &c, &id).await?;
    let path = std::path::PathBuf::from(&r.path);
    let root = st.data_dir.join("recordings");
    let ok = path
        .canonicalize()
        .ok()
        .zip(root.canonicalize().ok())
        .is_some_and(|(p, root)| p.starts_with(root));
    if !ok {
        return Err(HttpError::new(404, "recording file is missing"));
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| HttpError::new(404, format!("recording file unreadable: {e}")))?;
    let disp = if q.contains_key("download") {
        format!("attachment; filename=\"{id}.wav\"")
    } else {
        "inline".into()
    };
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav".to_string()),
            (header::CONTENT_DISPOSITION, disp),
        ],
        Body::from(bytes),
    )
        .into_response())
}

pub mod export;

#[cfg(test)]
mod tests;
