//! The generated document against the router.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use switchboard_storage::Storage;
use tokio::sync::{broadcast, mpsc};
use tower::ServiceExt;

use super::document;
use crate::AppState;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

/// A state whose engine is gone (503) and whose database is empty.
async fn state() -> AppState {
    let storage = Storage::connect("sqlite::memory:").await.expect("storage");
    let (engine, _) = mpsc::channel(1);
    let (events, _) = broadcast::channel(1);
    AppState {
        storage,
        engine,
        events: Arc::new(move || events.subscribe()),
        data_dir: std::env::temp_dir(),
        flush: Arc::new(|| Box::pin(async {})),
        login_failures: Default::default(),
        sip_realm: "switchboard".into(),
        webphone: None,
        scope_changes: tokio::sync::broadcast::channel(16).0,
        turn: None,
    }
}

/// A concrete path for a route template (`{id}` -> `x`).
fn sample(template: &str) -> String {
    let segs: Vec<&str> = template
        .split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect();
    segs.join("/")
}

/// Whether the router has a handler for `method` on `template`: not a 405,
/// nor the fallback's 404.
async fn routed(router: &Router, template: &str, method: &Method) -> bool {
    let req = Request::builder()
        .method(method.clone())
        .uri(sample(template))
        .body(Body::empty())
        .expect("request");
    let res = router.clone().oneshot(req).await.expect("infallible");
    match res.status() {
        StatusCode::METHOD_NOT_ALLOWED => false,
        StatusCode::NOT_FOUND => {
            let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .expect("body");
            !String::from_utf8_lossy(&body).contains("no such endpoint")
        }
        _ => true,
    }
}

fn doc() -> Value {
    serde_json::from_str(document()).expect("the document is JSON")
}

/// (path, method) of every documented operation.
fn documented() -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc()["paths"].as_object().expect("paths") {
        for m in METHODS {
            let m = m.as_str().to_lowercase();
            if item.get(&m).is_some() {
                ops.insert((path.clone(), m));
            }
        }
    }
    ops
}

/// Every (path, method) the router serves, and only those, is documented.
#[tokio::test]
async fn every_route_is_documented_and_every_operation_routed() {
    let router = crate::router(state().await);
    let mut served = BTreeSet::new();
    for (path, _) in crate::routes() {
        for m in METHODS {
            if routed(&router, path, &m).await {
                served.insert((path.to_string(), m.as_str().to_lowercase()));
            }
        }
    }
    assert!(served.len() > 40, "found only {} operations", served.len());
    let documented = documented();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(undocumented.is_empty(), "not documented: {undocumented:?}");
    let unrouted: Vec<_> = documented.difference(&served).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
    // The probe tells a routed method from an unrouted one.
    assert!(!routed(&router, "/api/calls", &Method::DELETE).await);
    assert!(!routed(&router, "/api/nothing", &Method::GET).await);
}

/// Every path parameter of a documented path is declared, and every `$ref` resolves.
#[test]
fn parameters_are_declared_and_refs_resolve() {
    let doc = doc();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    let path_params = ps.iter().filter(|p| p["in"] == "path");
                    path_params.filter_map(|p| p["name"].as_str()).collect()
                })
                .unwrap_or_default();
            for seg in path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    declared.contains(&name),
                    "{method} {path}: {name} not declared"
                );
            }
        }
    }
    let text = document();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for part in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap_or_default();
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
}

/// The live call's schema lists exactly the fields the consoles read.
#[test]
fn call_schema_has_the_published_fields() {
    let doc = doc();
    let mut props: Vec<&String> = doc["components"]["schemas"]["Call"]["properties"]
        .as_object()
        .expect("Call schema")
        .keys()
        .collect();
    props.sort();
    let mut want = vec![
        "call_id",
        "state",
        "campaign",
        "direction",
        "caller",
        "callee",
        "started_at",
        "answered_at",
        "agent",
        "customer",
        "agent_leg",
        "third",
        "pending",
        "transfer",
        "recording",
        "recording_paused",
        "auto_recording",
        "music_class",
        "muted",
        "contact_id",
        "participants",
        "supervisions",
    ];
    want.sort();
    assert_eq!(props, want);
    let events = doc["components"]["schemas"]["WsEvent"].to_string();
    for t in [
        "snapshot",
        "call",
        "call_event",
        "call_ended",
        "agent_state",
        "agent_registration",
        "queues",
        "agenda_reminder",
    ] {
        assert!(events.contains(&format!("\"{t}\"")), "WsEvent lacks {t}");
    }
}
