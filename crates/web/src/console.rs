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
    Ok((
        [
            (header::CONTENT_TYPE, ty),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
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

    /// The OpenAPI document is valid JSON and documents every routed path
    /// (a route's `{param}` segment may be documented as concrete paths).
    #[test]
    fn openapi_is_json_and_lists_the_routes() {
        let v: serde_json::Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        assert_eq!(v["openapi"], "3.0.3");
        let documented: Vec<&String> = v["paths"].as_object().expect("paths").keys().collect();
        let lib = include_str!("lib.rs");
        let routes: Vec<&str> = lib
            .split("\"/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(routes.len() > 30, "found only {} routes", routes.len());
        let seg_match = |route: &str, doc: &str| {
            let (r, d): (Vec<&str>, Vec<&str>) =
                (route.split('/').collect(), doc.split('/').collect());
            r.len() == d.len() && r.iter().zip(&d).all(|(a, b)| a == b || a.starts_with('{'))
        };
        for route in routes {
            let route = format!("/{route}");
            if route == "/" || route.starts_with("/assets/") {
                continue;
            }
            assert!(
                documented.iter().any(|d| seg_match(&route, d)),
                "openapi.json lacks {route}"
            );
        }
    }
}
