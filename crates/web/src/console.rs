//! The embedded web console (HTML/JS/CSS compiled into the binary).

use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use crate::HttpError;

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");
const API_JS: &str = include_str!("../assets/api.js");
const DOM_JS: &str = include_str!("../assets/dom.js");
const STORE_JS: &str = include_str!("../assets/store.js");
const AGENT_JS: &str = include_str!("../assets/agent.js");
const SUPERVISOR_JS: &str = include_str!("../assets/supervisor.js");
const ADMIN_JS: &str = include_str!("../assets/admin.js");
const WEBPHONE_JS: &str = include_str!("../assets/webphone.js");

/// `GET /`.
#[utoipa::path(get, path = "/", tag = "console", security(()),
    responses((status = 200, description = "The console page", content_type = "text/html")))]
pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// `GET /assets/{file}`.
#[utoipa::path(get, path = "/assets/{file}", tag = "console", security(()),
    params(("file" = String, Path, description = "Script or stylesheet of the console")),
    responses((status = 200, description = "The asset", content_type = "text/javascript"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn asset(Path(file): Path<String>) -> Result<Response, HttpError> {
    let (body, ty) = match file.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "api.js" => (API_JS, "text/javascript; charset=utf-8"),
        "dom.js" => (DOM_JS, "text/javascript; charset=utf-8"),
        "store.js" => (STORE_JS, "text/javascript; charset=utf-8"),
        "agent.js" => (AGENT_JS, "text/javascript; charset=utf-8"),
        "supervisor.js" => (SUPERVISOR_JS, "text/javascript; charset=utf-8"),
        "admin.js" => (ADMIN_JS, "text/javascript; charset=utf-8"),
        "webphone.js" => (WEBPHONE_JS, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return Err(HttpError::new(404, format!("no asset {file}"))),
    };
    Ok((
        [
            (header::CONTENT_TYPE, ty),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `import ... from './x.js'` of a served module names a served asset,
    /// and the page's stylesheet and entry module are served too.
    #[tokio::test]
    async fn every_imported_module_is_served() {
        let mut wanted = vec!["app.js".to_string(), "style.css".to_string()];
        for src in [
            APP_JS,
            API_JS,
            DOM_JS,
            STORE_JS,
            AGENT_JS,
            SUPERVISOR_JS,
            ADMIN_JS,
        ] {
            for part in src.split("from './").skip(1) {
                let name = part.split('\'').next().unwrap_or_default();
                wanted.push(name.to_string());
            }
        }
        assert!(INDEX.contains("/assets/app.js") && INDEX.contains("/assets/style.css"));
        for name in wanted {
            let r = asset(Path(name.clone())).await;
            assert!(r.is_ok(), "asset {name} is imported but not served");
        }
        assert!(asset(Path("nope.js".into())).await.is_err());
    }
}
