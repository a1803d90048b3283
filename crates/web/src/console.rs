//! The embedded web console (HTML/JS/CSS compiled into the binary) and the OpenAPI document.

use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use crate::HttpError;

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");
const OPENAPI: &str = include_str!("../assets/openapi.json");
const API_JS: &str = include_str!("../assets/api.js");
const DOM_JS: &str = include_str!("../assets/dom.js");
const STORE_JS: &str = include_str!("../assets/store.js");
const AGENT_JS: &str = include_str!("../assets/agent.js");
const SUPERVISOR_JS: &str = include_str!("../assets/supervisor.js");
const ADMIN_JS: &str = include_str!("../assets/admin.js");

/// `GET /`.
pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// `GET /assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Result<Response, HttpError> {
    let (body, ty) = match file.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "api.js" => (API_JS, "text/javascript; charset=utf-8"),
        "dom.js" => (DOM_JS, "text/javascript; charset=utf-8"),
        "store.js" => (STORE_JS, "text/javascript; charset=utf-8"),
        "agent.js" => (AGENT_JS, "text/javascript; charset=utf-8"),
        "supervisor.js" => (SUPERVISOR_JS, "text/javascript; charset=utf-8"),
        "admin.js" => (ADMIN_JS, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return Err(HttpError::new(404, format!("no asset {file}"))),
    };
    Ok(([(header::CONTENT_TYPE, ty)], body).into_response())
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
