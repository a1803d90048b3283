//! The OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! attributes and the types' `ToSchema` derives, served at `/openapi.json`.
//! The tests check it against the router: every routed path and method is
//! documented, and every documented operation is routed.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::{
    actions, admin, agenda, auth, calls, console, dnc, exports, import, metrics, recordings,
    reports, supervise, supervisors, trunks, ws,
};

const DESCRIPTION: &str = "Contact-center call control: agents' presence and call actions \
(call out of campaign, hold, blind and consultative transfers, conference, recording on demand, \
tags), dispositions and the agenda, recordings, administration and reports.\n\n\
All bodies are JSON unless stated. Every error is `{\"error\": \"message\"}` with a 4xx/5xx \
status; the message is meant for the user. Authenticate with POST /api/login, then send the \
token as `Authorization: Bearer <token>`, or rely on the `sb_token` cookie it sets (or \
`?token=` for media and WebSocket URLs).\n\n\
The WebSocket `/api/ws` sends a `snapshot` first, then live events: see the `WsEvent` schema.";

/// The document's root: paths from the handlers, plus the schemas no handler names.
#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = DESCRIPTION, license(name = "MIT")),
    paths(
        console::index, console::asset, serve, health,
        auth::login, auth::logout, auth::me,
        calls::agents, calls::set_state, calls::set_agent_state, calls::list, actions::dial, calls::get, calls::events,
        actions::action, actions::transfer_step, actions::recording, actions::tag,
        supervise::supervise,
        agenda::disposition, calls::history, agenda::list, agenda::step,
        recordings::search, recordings::export::export, recordings::get, recordings::audio,
        admin::contacts, admin::contact, import::import,
        admin::campaigns, admin::create_campaign, admin::update_campaign, admin::next_contact,
        admin::pause_reasons, admin::create_pause_reason,
        admin::list_agents, admin::create_agent, admin::update_agent, admin::delete_agent,
        supervisors::get, supervisors::set,
        admin::music_classes, reports::agent, reports::campaign,
        exports::calls, exports::dispositions, exports::contacts,
        exports::reports::agents, exports::reports::campaigns,
        dnc::list, dnc::add, dnc::remove, dnc::import,
        ws::upgrade, crate::turn::ice, metrics::json, metrics::prometheus, trunks::list,
    ),
    components(schemas(
        switchboard_center::LiveEvent, switchboard_center::Snapshot,
        switchboard_center::SupervisionSettings,
        switchboard_center::CampaignOutbound, switchboard_center::CallerId,
        actions::CallAction, actions::TransferStep, actions::RecordingStep, agenda::AgendaStep,
        crate::webphone::ClientMessage, crate::webphone::ServerMessage,
    )),
    modifiers(&Security),
    tags(
        (name = "console", description = "The web console and this document"),
        (name = "auth", description = "Sessions"),
        (name = "agents", description = "Presence"),
        (name = "calls", description = "Live and stored calls"),
        (name = "actions", description = "Agent actions on a live call"),
        (name = "agenda", description = "Dispositions and callbacks"),
        (name = "recordings", description = "Recordings and tags"),
        (name = "admin", description = "Agents, campaigns, contacts, pause reasons"),
        (name = "reports", description = "Reports and metrics"),
        (name = "live", description = "WebSocket events"),
    )
)]
pub struct ApiDoc;

/// Session token as a bearer header, the `sb_token` cookie or `?token=`.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        c.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let cookie = ApiKey::Cookie(ApiKeyValue::new("sb_token"));
        c.add_security_scheme("cookie", SecurityScheme::ApiKey(cookie));
        let query = ApiKey::Query(ApiKeyValue::new("token"));
        c.add_security_scheme("query", SecurityScheme::ApiKey(query));
        doc.security = Some(
            ["bearer", "cookie", "query"]
                .into_iter()
                .map(|s| SecurityRequirement::new(s, Vec::<String>::new()))
                .collect(),
        );
    }
}

/// The document as served.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serializes")
    })
}

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "console", security(()),
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json")))]
pub async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

/// Liveness.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// `GET /api/health`.
#[utoipa::path(get, path = "/api/health", tag = "console", security(()),
    responses((status = 200, description = "The server runs", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[cfg(test)]
mod tests;
