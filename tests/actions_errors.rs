//! Bad input for the call actions, on a real live call: unknown call 404,
//! someone else's call 403, malformed requests 400, actions that do not fit
//! the call's state 409 with the reason, repeated actions idempotent, and
//! the call still works afterwards.

mod actions_common;
mod common;

use actions_common::*;
use common::*;
use serde_json::json;
use std::time::Instant;

#[test]
fn call_action_errors_on_a_live_call() {
    let _g = serial();
    let dir = TestDir::new("actions_errors");
    let mut manual = campaign("outbound", "7000", &["1001"], false);
    manual.kind = "manual".into();
    manual.did = None;
    let lab = Lab::start(
        &dir,
        vec![campaign("support", "5000", &["1001"], false), manual],
    );
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let tb = lab.server.login("1002", "pw1002");
    let sup = lab.server.login("9000", "pw9000");
    let cust = lab.customer(&dir);
    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let call = |a: &str| format!("/api/calls/{id}/{a}");

    // Unknown call: 404 for every action.
    for (m, p, body) in [
        ("GET", "/api/calls/nope".to_string(), None),
        ("POST", "/api/calls/nope/hold".to_string(), None),
        ("POST", "/api/calls/nope/unhold".to_string(), None),
        (
            "POST",
            "/api/calls/nope/transfer".to_string(),
            Some(json!({"mode": "blind", "agent": "1002"})),
        ),
        (
            "POST",
            "/api/calls/nope/transfer/complete".to_string(),
            None,
        ),
        ("POST", "/api/calls/nope/confer".to_string(), None),
        ("POST", "/api/calls/nope/hangup".to_string(), None),
        ("POST", "/api/calls/nope/recording/start".to_string(), None),
        (
            "POST",
            "/api/calls/nope/tags".to_string(),
            Some(json!({"text": "x"})),
        ),
    ] {
        lab.refused(404, "nope", m, &p, body, &ta);
    }
    lab.refused(404, "", "GET", "/api/calls/nope/events", None, &ta);

    // Another agent's call: 403 (a supervisor may look).
    lab.refused(
        403,
        "not your",
        "GET",
        &format!("/api/calls/{id}"),
        None,
        &tb,
    );
    lab.refused(403, "not yours", "POST", &call("hold"), None, &tb);
    lab.refused(403, "not yours", "POST", &call("hangup"), None, &tb);
    lab.refused(
        403,
        "not yours",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "blind", "agent": "1002"})),
        &tb,
    );
    lab.ok("GET", &format!("/api/calls/{id}"), None, &sup);
    // Not logged in.
    let (st, _) = lab.server.api("POST", &call("hold"), None, None);
    assert_eq!(st, 401, "hold without a token");

    // Malformed transfers: 400.
    lab.refused(
        400,
        "mode",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "sideways", "agent": "1002"})),
        &ta,
    );
    lab.refused(
        400,
        "mode",
        "POST",
        &call("transfer"),
        Some(json!({"agent": "1002"})),
        &ta,
    );
    lab.refused(
        400,
        "exactly one",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "blind"})),
        &ta,
    );
    lab.refused(
        400,
        "exactly one",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "blind", "agent": "1002", "number": "555"})),
        &ta,
    );
    lab.refused(
        400,
        "invalid number",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "blind", "number": "55x; rm"})),
        &ta,
    );
    lab.refused(
        400,
        "leg",
        "POST",
        &call("mute"),
        Some(json!({"muted": true})),
        &ta,
    );
    lab.refused(404, "frobnicate", "POST", &call("frobnicate"), None, &ta);
    lab.refused(
        404,
        "complete or cancel",
        "POST",
        &call("transfer/finish"),
        None,
        &ta,
    );
    lab.refused(
        404,
        "start, stop, pause or resume",
        "POST",
        &call("recording/rewind"),
        None,
        &ta,
    );
    // Pausing a recording the call does not have: refused with the reason.
    lab.refused(
        409,
        "not being recorded",
        "POST",
        &call("recording/pause"),
        None,
        &ta,
    );

    // Invalid JSON bodies: 400 (and, as every API error, a JSON {"error"} body:
    // checked at the end so that the rest of the test still runs).
    let mut not_json_errors = Vec::new();
    for p in [
        call("transfer"),
        call("mute"),
        call("tags"),
        "/api/calls".to_string(),
    ] {
        let (st, body) = lab.post_raw(&p, "{\"mode\": \"blind\", ", &ta);
        assert_eq!(st, 400, "POST {p} with broken JSON -> {st} {body}");
        let ok =
            serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| v["error"].is_string());
        if !ok {
            not_json_errors.push(format!("POST {p}: {body:?}"));
        }
    }

    // Wrong state: 409 with the reason.
    lab.refused(
        409,
        "no answered consultation",
        "POST",
        &call("confer"),
        None,
        &ta,
    );
    lab.refused(
        409,
        "no consultative transfer",
        "POST",
        &call("transfer/complete"),
        None,
        &ta,
    );
    lab.refused(
        409,
        "no consultative transfer",
        "POST",
        &call("transfer/cancel"),
        None,
        &ta,
    );
    lab.refused(
        409,
        "conference",
        "POST",
        &call("mute"),
        Some(json!({"leg": 1, "muted": true})),
        &ta,
    );
    lab.refused(
        409,
        "yourself",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "blind", "agent": "1001"})),
        &ta,
    );
    lab.refused(
        409,
        "not registered",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "consultative", "agent": "1004"})),
        &ta,
    );
    lab.refused(
        409,
        "blind",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "consultative", "campaign": "support"})),
        &ta,
    );
    let (st, v) = lab.api(
        "POST",
        &call("transfer"),
        Some(json!({"mode": "blind", "campaign": "no-such-campaign"})),
        &ta,
    );
    assert!(
        st == 404
            && v["error"]
                .as_str()
                .is_some_and(|e| e.contains("no-such-campaign")),
        "unknown campaign: {st} {v}"
    );
    lab.refused(
        409,
        "not an inbound campaign",
        "POST",
        &call("transfer"),
        Some(json!({"mode": "blind", "campaign": "outbound"})),
        &ta,
    );
    // Unhold while not held: accepted, nothing changes.
    let v = lab.action(&ta, &id, "unhold", None);
    assert_eq!(v["state"], "connected", "{v}");

    // Hold twice: 200 both times, state unchanged, one HOLD event.
    let v = lab.action(&ta, &id, "hold", None);
    assert_eq!(v["state"], "held", "{v}");
    let v = lab.action(&ta, &id, "hold", None);
    assert_eq!(v["state"], "held", "{v}");
    let m = lab.refused(409, "on hold", "POST", &call("confer"), None, &ta);
    eprintln!("confer while held: {m}");
    lab.refused(
        409,
        "on hold",
        "POST",
        &call("mute"),
        Some(json!({"leg": 1, "muted": true})),
        &ta,
    );
    let v = lab.action(&ta, &id, "unhold", None);
    assert_eq!(v["state"], "connected", "{v}");
    let kinds = lab.event_kinds(&ta, &id);
    assert_eq!(
        kinds.iter().filter(|k| *k == "HOLD").count(),
        1,
        "a repeated hold must not log twice: {kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "UNHOLD").count(),
        1,
        "unhold while connected must not log: {kinds:?}"
    );
    assert!(
        !kinds.iter().any(|k| k.starts_with("TRANSFER")),
        "refused transfers must leave no trace: {kinds:?}"
    );

    // After all the refusals the call still carries audio both ways.
    let t0 = Instant::now();
    sleep(3.0);
    let t1 = Instant::now();
    let v = lab.action(&ta, &id, "hangup", None);
    assert_eq!(v["state"], "ended", "{v}");
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    Heard::last_call(&cust, "customer").hears(A_HZ, t0, t1, 0.8);
    Heard::last_call(&a, "agent A").hears(CUSTOMER_HZ, t0, t1, 0.8);

    // The call is over: actions on it are 404 (no live call) or 409.
    let (st, v) = lab.api("POST", &call("hold"), None, &ta);
    assert!(matches!(st, 404 | 409), "hold on an ended call: {st} {v}");
    let (st, v) = lab.api("POST", &call("hangup"), None, &ta);
    assert!(matches!(st, 404 | 409), "hangup on an ended call: {st} {v}");
    lab.assert_all_idle(&sup);
    assert!(
        not_json_errors.is_empty(),
        "broken JSON is refused with 400 but the error body is not {{\"error\": ..}} \
         (README: every error is JSON); crates/web/src/calls.rs `action` takes \
         Option<Json<Value>> whose rejection is plain text:\n{}",
        not_json_errors.join("\n")
    );
}
