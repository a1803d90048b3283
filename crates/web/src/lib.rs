//! HTTP layer: the JSON API (documented by `/openapi.json`), the WebSocket
//! event stream and the embedded web console. Handlers check the caller's
//! session and role, then ask storage or the switch engine.

mod actions;
mod admin;
mod agenda;
mod auth;
mod calls;
mod campaign_outbound;
pub mod campaign_supervision;
mod console;
mod dnc;
mod error;
mod exports;
mod hardening;
mod import;
mod metrics;
mod openapi;
mod recordings;
mod reports;
mod supervise;
mod supervisors;
mod trunks;
pub mod turn;
mod webphone;
mod ws;
mod ws_filter;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use serde_json::Value;
use switchboard_center::{ApiError, EngineRequest};
use switchboard_storage::Storage;
use tokio::sync::{broadcast, mpsc, oneshot};

pub use admin::{agent_info, campaign_info, sip_ha1};
pub use auth::Caller;
pub use campaign_outbound::outbound_row;
pub use dnc::dnc_entries;
pub use error::HttpError;
pub use webphone::{ClientMessage, ServerMessage};

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
    /// SIP digest realm: SIP passwords are stored as HA1s computed for it.
    pub sip_realm: String,
    /// Browser audio sessions (WebRTC), when enabled.
    pub webphone: Option<switchboard_webrtc::Gateway>,
    /// Supervisors whose campaigns an admin just changed (by username): their
    /// open walls re-read the scope and get a fresh snapshot.
    pub scope_changes: broadcast::Sender<String>,
    /// TURN relay for browser audio, when configured.
    pub turn: Option<turn::TurnConfig>,
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

    /// Send a request to the engine and wait for its typed answer.
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, ApiError>>) -> EngineRequest,
    ) -> Result<T, HttpError> {
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
    let routes = routes()
        .into_iter()
        .fold(Router::new(), |r, (path, methods)| r.route(path, methods))
        .fallback(error::not_found);
    hardening::harden(routes).with_state(state)
}

/// Every route: path and handlers. `/openapi.json` documents each of them
/// (checked by the tests of [`openapi`]).
fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/", get(console::index)),
        ("/assets/{file}", get(console::asset)),
        ("/openapi.json", get(openapi::serve)),
        ("/api/health", get(openapi::health)),
        ("/api/login", post(auth::login)),
        ("/api/logout", post(auth::logout)),
        ("/api/me", get(auth::me)),
        ("/api/webphone/ice", get(turn::ice)),
        ("/api/agents", get(calls::agents)),
        ("/api/agents/me/state", put(calls::set_state)),
        ("/api/agents/{username}/state", put(calls::set_agent_state)),
        ("/api/calls", get(calls::list).post(actions::dial)),
        ("/api/calls/{id}", get(calls::get)),
        ("/api/calls/{id}/events", get(calls::events)),
        ("/api/calls/{id}/{action}", post(actions::action)),
        ("/api/calls/{id}/supervise", post(supervise::supervise)),
        (
            "/api/calls/{id}/transfer/{step}",
            post(actions::transfer_step),
        ),
        ("/api/calls/{id}/recording/{step}", post(actions::recording)),
        ("/api/calls/{id}/tags", post(actions::tag)),
        ("/api/calls/{id}/disposition", post(agenda::disposition)),
        ("/api/history", get(calls::history)),
        ("/api/agenda", get(agenda::list)),
        ("/api/agenda/{id}/{step}", post(agenda::step)),
        ("/api/recordings", get(recordings::search)),
        ("/api/recordings/export", get(recordings::export::export)),
        ("/api/recordings/{id}", get(recordings::get)),
        ("/api/recordings/{id}/audio", get(recordings::audio)),
        ("/api/contacts", get(admin::contacts)),
        ("/api/contacts/{id}", get(admin::contact)),
        (
            "/api/contacts/import",
            post(import::import).layer(DefaultBodyLimit::max(import::MAX_IMPORT_BYTES)),
        ),
        (
            "/api/campaigns",
            get(admin::campaigns).post(admin::create_campaign),
        ),
        ("/api/campaigns/{id}", put(admin::update_campaign)),
        (
            "/api/campaigns/{id}/next-contact",
            post(admin::next_contact),
        ),
        (
            "/api/pause-reasons",
            get(admin::pause_reasons).post(admin::create_pause_reason),
        ),
        (
            "/api/admin/agents",
            get(admin::list_agents).post(admin::create_agent),
        ),
        (
            "/api/admin/agents/{id}",
            put(admin::update_agent).delete(admin::delete_agent),
        ),
        (
            "/api/admin/supervisors/{username}/campaigns",
            get(supervisors::get).put(supervisors::set),
        ),
        ("/api/music-classes", get(admin::music_classes)),
        ("/api/reports/agents/{username}", get(reports::agent)),
        ("/api/reports/campaigns/{name}", get(reports::campaign)),
        ("/api/dnc", get(dnc::list).post(dnc::add)),
        (
            "/api/dnc/import",
            post(dnc::import).layer(DefaultBodyLimit::max(import::MAX_IMPORT_BYTES)),
        ),
        ("/api/dnc/{phone}", delete(dnc::remove)),
        ("/api/exports/calls", get(exports::calls)),
        ("/api/exports/dispositions", get(exports::dispositions)),
        ("/api/exports/contacts", get(exports::contacts)),
        ("/api/exports/agents", get(exports::reports::agents)),
        ("/api/exports/campaigns", get(exports::reports::campaigns)),
        ("/api/ws", get(ws::upgrade)),
        ("/api/metrics", get(metrics::json)),
        ("/api/trunks", get(trunks::list)),
        ("/metrics", get(metrics::prometheus)),
    ]
}
