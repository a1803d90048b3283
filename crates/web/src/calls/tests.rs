//! `PUT /api/agents/{username}/state` through the router: who may call it
//! and the bad input refused before the engine is asked (the engine's own
//! rules are tested in the switch crate's `agent_state` tests).

use axum::http::StatusCode;
use switchboard_storage::AgentRole;

use crate::exports::tests::{app, json, send};

async fn put(app: &axum::Router, token: &str, uri: &str, body: &str) -> (StatusCode, String) {
    let (st, body, _) = send(
        app,
        "PUT",
        uri,
        token,
        "application/json",
        body.as_bytes().to_vec(),
    )
    .await;
    let error = json(&body)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (st, error)
}

#[tokio::test]
async fn agents_may_not_set_another_agents_state() {
    let (app, _, token) = app(AgentRole::Agent).await;
    let (st, error) = put(
        &app,
        &token,
        "/api/agents/1001/state",
        r#"{"state":"paused","reason":"Lunch"}"#,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(error.contains("supervisors only"), "{error}");
}

#[tokio::test]
async fn bad_states_and_reasons_are_refused() {
    let (app, storage, token) = app(AgentRole::Supervisor).await;
    let uri = "/api/agents/1001/state";
    let (st, error) = put(&app, &token, uri, r#"{"state":"on_call"}"#).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(error.contains("ready, paused or offline"), "{error}");
    let (st, _) = put(&app, &token, uri, r#"{"reason":"Lunch"}"#).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = put(&app, &token, uri, "not json").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    storage.create_pause_reason("Lunch").await.unwrap();
    storage.create_pause_reason("Coaching").await.unwrap();
    let (st, error) = put(&app, &token, uri, r#"{"state":"paused","reason":"Nap"}"#).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(error.contains("unknown pause reason"), "{error}");
    assert!(error.contains("Coaching"), "{error}");
    // A valid change goes to the engine (not running in this test).
    let (st, error) = put(
        &app,
        &token,
        uri,
        r#"{"state":"paused","reason":"Coaching"}"#,
    )
    .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{error}");
}
