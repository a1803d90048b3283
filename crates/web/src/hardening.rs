//! HTTP hardening applied to every route: request body size limits that
//! answer 413 with a JSON error (before the body is read when its length is
//! declared), and security headers (Content-Security-Policy with
//! `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, no framing,
//! no referrer). The CSV import keeps its own, larger limit (set on its route).

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::HttpError;

/// Largest request body of the JSON API (bytes).
pub const API_BODY_LIMIT: usize = 1 << 20;

/// Routes with a larger limit of their own (checked by their route's layer).
const OWN_LIMIT: &[&str] = &["/api/contacts/import", "/api/dnc/import"];

/// The console's Content-Security-Policy: everything from this origin only,
/// no inline script, never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; media-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Add the limits and headers to `router`.
pub fn harden<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(middleware::from_fn(declared_length))
        .layer(middleware::map_response(headers_and_json_413))
}

/// Refuse a body whose declared length is over the limit, without reading it.
async fn declared_length(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let own = OWN_LIMIT.contains(&req.uri().path());
    if !own && declared.is_some_and(|n| n > API_BODY_LIMIT as u64) {
        return too_large().into_response();
    }
    next.run(req).await
}

fn too_large() -> HttpError {
    HttpError::new(
        413,
        format!(
            "request body too large (at most {} KiB)",
            API_BODY_LIMIT >> 10
        ),
    )
}

/// Security headers on every response; a 413 from an extractor (a streamed
/// body that went over the limit) gets the JSON error body too.
async fn headers_and_json_413(resp: Response) -> Response {
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut resp = if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
        let (parts, _) = resp.into_parts();
        let mut fresh = too_large().into_response();
        for (k, v) in parts.headers.iter() {
            if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                fresh.headers_mut().insert(k, v.clone());
            }
        }
        fresh
    } else {
        resp
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Method;
    use axum::routing::post;
    use axum::Json;
    use tower::ServiceExt;

    async fn echo(Json(v): Json<serde_json::Value>) -> Json<serde_json::Value> {
        Json(v)
    }

    /// A body of `n` bytes.
    fn body_of(n: usize) -> Body {
        Body::from(vec![b' '; n])
    }

    async fn ignore() -> &'static str {
        "ok"
    }

    fn app() -> Router {
        harden(
            Router::new()
                .route("/api/echo", post(echo))
                .route("/api/ignore", post(ignore)),
        )
    }

    async fn send(path: &str, body: Body, length: Option<usize>) -> (StatusCode, Response) {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(n) = length {
            req = req.header(header::CONTENT_LENGTH, n);
        }
        let resp = app().oneshot(req.body(body).unwrap()).await.unwrap();
        (resp.status(), resp)
    }

    async fn json_error(resp: Response) -> String {
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/json",
            "413 answers in JSON"
        );
        let b = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        v["error"].as_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn declared_oversized_body_is_refused_with_json_413() {
        let n = API_BODY_LIMIT + 1;
        for path in ["/api/echo", "/api/ignore", "/api/nowhere"] {
            // Declared only: the (empty) body is never read.
            let (st, resp) = send(path, Body::empty(), Some(n)).await;
            assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
            assert!(json_error(resp).await.contains("too large"));
        }
    }

    #[tokio::test]
    async fn streamed_oversized_body_is_refused_with_json_413() {
        // No Content-Length (chunked): the extractor stops at the limit.
        let (st, resp) = send("/api/echo", body_of(API_BODY_LIMIT + 10), None).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(json_error(resp).await.contains("too large"));
        // Under the limit is fine.
        let (st, _) = send("/api/echo", Body::from("{\"a\":1}"), Some(7)).await;
        assert_eq!(st, StatusCode::OK);
    }

    #[tokio::test]
    async fn every_response_has_the_security_headers() {
        let (_, resp) = send("/api/echo", Body::from("{}"), Some(2)).await;
        let h = resp.headers();
        assert!(h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    }
}
