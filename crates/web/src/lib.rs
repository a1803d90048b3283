//! HTTP layer: the JSON API (documented by `/openapi.json`), the WebSocket
//! event stream and the embedded web console. Handlers check the caller's
//! session and role, then ask storage or the switch engine.

mod admin;
mod agenda;
mod auth;
mod calls;
mod console;
mod error;
mod metrics;
mod recordings;
mod reports;
mod ws;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use axum::routing::{get, post, put};
use axum::Router;
use serde_json::Value;
use switchboard_center::{ApiError, EngineRequest};
use switchboard_storage::Storage;
use tokio::sync::{broadcast, mpsc, oneshot};

pub use admin::{agent_info, campaign_info};
pub use auth::Caller;
pub use error::HttpError;

/// Shared state of the HTTP layer.
#[derive(Clone)]
pub struct AppState {
    /// Database.
    pub storage: Storage,
    /// Requests to the switch engine.
    pub engine: mpsc::Sender<EngineRequest>,
    /// Live events for WebSockets.
    pub events: Arc<dyn Fn() -> broadcast::Receiver<Value> + Send + Sync>,
    /// Data folder (recordings live under it).
    pub data_dir: PathBuf,
    /// Wait until the engine's queued storage writes are applied, so a
    /// request sees every call fact that happened before it (read-your-writes).
    pub flush: Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>,
    /// Failed console logins per username in the current minute (brute-force guard).
    pub login_failures: Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>>,
}

impl AppState {
    /// A campaign by name, or a 404 that names it.
    pub async fn campaign_named(
        &self,
        name: &str,
    ) -> Result<switchboard_storage::CampaignRow, HttpError> {
        self.storage
            .get_campaign_by_name(name)
            .await?
            .ok_or_else(|| HttpError::new(404, format!("unknown campaign {name}")))
    }

    /// An agent by username, or a 404 that names it.
    pub async fn agent_named(
        &self,
        username: &str,
    ) -> Result<switchboard_storage::AgentRow, HttpError> {
        self.storage
            .get_agent_by_username(username)
            .await?
            .ok_or_else(|| HttpError::new(404, format!("unknown agent {username}")))
    }

    /// Send a request to the engine and wait for its JSON answer.
    pub async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<Value, ApiError>>) -> EngineRequest,
    ) -> Result<Value, HttpError> {
        let (tx, rx) = oneshot::channel();
        self.engine
            .send(make(tx))
            .await
            .map_err(|_| HttpError::new(503, "the switch engine is not running"))?;
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(HttpError::new(e.status, e.message)),
            Err(_) => Err(HttpError::new(503, "the switch engine did not answer")),
        }
    }
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(console::index))
        .route("/assets/{file}", get(console::asset))
        .route("/openapi.json", get(console::openapi))
        .route(
            "/api/health",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/agents", get(calls::agents))
        .route("/api/agents/me/state", put(calls::set_state))
        .route("/api/calls", get(calls::list).post(calls::dial))
        .route("/api/calls/{id}", get(calls::get))
        .route("/api/calls/{id}/events", get(calls::events))
        .route("/api/calls/{id}/{action}", post(calls::action))
        .route(
            "/api/calls/{id}/transfer/{step}",
            post(calls::transfer_step),
        )
        .route("/api/calls/{id}/recording/{step}", post(calls::recording))
        .route("/api/calls/{id}/tags", post(calls::tag))
        .route("/api/calls/{id}/disposition", post(agenda::disposition))
        .route("/api/history", get(calls::history))
        .route("/api/agenda", get(agenda::list))
        .route("/api/agenda/{id}/{step}", post(agenda::step))
        .route("/api/recordings", get(recordings::search))
        .route("/api/recordings/{id}", get(recordings::get))
        .route("/api/recordings/{id}/audio", get(recordings::audio))
        .route("/api/contacts", get(admin::contacts))
        .route("/api/contacts/{id}", get(admin::contact))
        .route("/api/contacts/import", post(admin::import))
        .route(
            "/api/campaigns",
            get(admin::campaigns).post(admin::create_campaign),
        )
        .route("/api/campaigns/{id}", put(admin::update_campaign))
        .route(
            "/api/campaigns/{id}/next-contact",
            post(admin::next_contact),
        )
        .route(
            "/api/pause-reasons",
            get(admin::pause_reasons).post(admin::create_pause_reason),
        )
        .route(
            "/api/admin/agents",
            get(admin::list_agents).post(admin::create_agent),
        )
        .route(
            "/api/admin/agents/{id}",
            put(admin::update_agent).delete(admin::delete_agent),
        )
        .route("/api/music-classes", get(admin::music_classes))
        .route("/api/reports/agents/{username}", get(reports::agent))
        .route("/api/reports/campaigns/{name}", get(reports::campaign))
        .route("/api/ws", get(ws::upgrade))
        .route("/api/metrics", get(metrics::json))
        .route("/metrics", get(metrics::prometheus))
        .fallback(error::not_found)
        .with_state(state)
}
