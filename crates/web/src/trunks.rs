//! `GET /api/trunks`: each trunk's addresses, health and registration at
//! its provider, for supervisors and admins (no credentials).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use switchboard_center::{EngineRequest, TrunkView};
use utoipa::ToSchema;

use crate::error::ErrorBody;
use crate::{AppState, Caller, HttpError};

/// The trunks.
#[derive(Serialize, ToSchema)]
pub struct TrunkList {
    /// In configuration order.
    pub trunks: Vec<TrunkView>,
}

/// `GET /api/trunks` (supervisors and admins).
#[utoipa::path(get, path = "/api/trunks", tag = "admin",
    responses((status = 200, body = TrunkList), (status = "4XX", body = ErrorBody)))]
pub async fn list(State(st): State<AppState>, c: Caller) -> Result<Json<TrunkList>, HttpError> {
    c.require_supervisor()?;
    let snap = st.ask(EngineRequest::Snapshot).await?;
    Ok(Json(TrunkList {
        trunks: snap.trunks,
    }))
}
