//! "Call out of campaign" from the console: call another agent
//! (POST /api/calls {"agent"}) and call a number through the trunk
//! (POST /api/calls {"number"}), with real phones and audio checks.

mod actions_common;
mod common;

use actions_common::*;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// A (manual answer) calls B (manual answer) from the console: A's phone
/// rings first and B's only once A answered; then both hear each other.
#[test]
fn call_agent_rings_caller_first_then_callee_two_way_audio() {
    let _g = serial();
    let dir = TestDir::new("actions_call_agent");
    let lab = Lab::start(&dir, vec![]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, false);
    let (b, tb) = lab.agent(&dir, "1002", B_HZ, false);

    let v = lab.ok("POST", "/api/calls", Some(json!({"agent": "1002"})), &ta);
    let id = v["call_id"].as_str().expect("call_id").to_string();
    assert_eq!(v["state"], "originating", "dial response: {v}");
    a.wait_event("CALL_INCOMING", T);
    // B must not ring while A's own phone has not answered.
    assert!(
        b.no_event_within("CALL_INCOMING", Duration::from_millis(1500)),
        "B rang before A answered: {}",
        b.event_summary()
    );
    assert_eq!(lab.call(&ta, &id)["call"]["state"], "originating");
    a.accept();
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_INCOMING", T);
    lab.wait_state(&ta, &id, "ringing");
    b.accept();
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_state(&ta, &id, "connected");
    // B sees the call too (it is on it).
    assert!(
        lab.live_calls(&tb)
            .iter()
            .any(|c| c["call_id"] == id.as_str()),
        "B's GET /api/calls should list the call: {:?}",
        lab.live_calls(&tb)
    );
    lab.wait_on_call(&ta, "1001");
    lab.wait_on_call(&ta, "1002");
    let t0 = Instant::now();
    sleep(3.0);
    let t1 = Instant::now();
    let v = lab.action(&ta, &id, "hangup", None);
    assert_eq!(v["state"], "ended", "hangup response: {v}");
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);

    Heard::last_call(&a, "agent A")
        .hears(B_HZ, t0, t1, 0.8)
        .not_hears(A_HZ, t0, t1);
    Heard::last_call(&b, "agent B")
        .hears(A_HZ, t0, t1, 0.8)
        .not_hears(B_HZ, t0, t1);

    let rec = lab.wait_ended(&ta, &id);
    let c = &rec["call"];
    assert_eq!(c["direction"], "internal", "{rec}");
    assert_eq!(c["caller"], "1001", "{rec}");
    assert_eq!(c["callee"], "1002", "{rec}");
    assert!(c["campaign_id"].is_null(), "{rec}");
    assert!(c["answered_at"].is_i64() && c["ended_at"].is_i64(), "{rec}");
    lab.assert_log_order(&ta, &id, &["DIAL", "AGENT_ANSWERED", "ANSWERED", "HANGUP"]);
    lab.wait_free(&ta, "1001");
    lab.wait_free(&ta, "1002");
}

/// Calling an agent who is busy, paused, not registered (or unknown, or
/// oneself) is refused with a clear reason and nobody's phone rings.
#[test]
fn call_agent_refused_when_busy_paused_or_unregistered() {
    let _g = serial();
    let dir = TestDir::new("actions_call_refused");
    let lab = Lab::start(&dir, vec![]);
    let ext = lab.external(&dir, true);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, tb) = lab.agent(&dir, "1002", B_HZ, true);
    let (c, tc) = lab.agent(&dir, "1003", 300.0, true);

    // B is busy: talking to the external number from its phone.
    b.dial(&lab.uri(EXT_NUMBER));
    b.wait_event("CALL_ESTABLISHED", T);
    ext.wait_event("CALL_ESTABLISHED", T);
    lab.wait_on_call(&tb, "1002");
    // C is paused.
    let v = lab.ok(
        "PUT",
        "/api/agents/me/state",
        Some(json!({"state": "paused", "reason": "lunch"})),
        &tc,
    );
    assert_eq!(v["status"], "paused", "{v}");

    let m = lab.refused(
        409,
        "busy",
        "POST",
        "/api/calls",
        Some(json!({"agent": "1002"})),
        &ta,
    );
    eprintln!("busy: {m}");
    let m = lab.refused(
        409,
        "paused",
        "POST",
        "/api/calls",
        Some(json!({"agent": "1003"})),
        &ta,
    );
    eprintln!("paused: {m}");
    let m = lab.refused(
        409,
        "not registered",
        "POST",
        "/api/calls",
        Some(json!({"agent": "1004"})),
        &ta,
    );
    eprintln!("unregistered: {m}");
    let (st, v) = lab.api("POST", "/api/calls", Some(json!({"agent": "4242"})), &ta);
    assert!(
        matches!(st, 404 | 409) && v["error"].as_str().is_some_and(|e| e.contains("4242")),
        "unknown agent: {st} {v}"
    );
    lab.refused(
        400,
        "yourself",
        "POST",
        "/api/calls",
        Some(json!({"agent": "1001"})),
        &ta,
    );
    lab.refused(
        400,
        "exactly one",
        "POST",
        "/api/calls",
        Some(json!({})),
        &ta,
    );

    // Nothing was placed: A has no call and no phone rang.
    assert!(lab.live_calls(&ta).is_empty(), "{:?}", lab.live_calls(&ta));
    assert!(
        a.no_event_within("CALL_INCOMING", Duration::from_millis(500))
            && c.events_of("CALL_INCOMING").is_empty(),
        "a refused call rang a phone: A {} / C {}",
        a.event_summary(),
        c.event_summary()
    );
    assert_eq!(
        b.events_of("CALL_INCOMING").len(),
        0,
        "{}",
        b.event_summary()
    );
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    ext.wait_event("CALL_CLOSED", T);
}

/// Out-of-campaign call to a number: A's phone rings first, then the
/// external number behind the trunk; they talk; the call is logged without a
/// campaign, with its event log.
#[test]
fn call_number_out_of_campaign_through_trunk() {
    let _g = serial();
    let dir = TestDir::new("actions_call_number");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], true)]);
    let ext = lab.external(&dir, true);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);

    let v = lab.ok(
        "POST",
        "/api/calls",
        Some(json!({"number": EXT_NUMBER})),
        &ta,
    );
    let id = v["call_id"].as_str().expect("call_id").to_string();
    assert_eq!(v["direction"], "outbound", "{v}");
    a.wait_event("CALL_ESTABLISHED", T);
    ext.wait_event("CALL_ESTABLISHED", T);
    // The agent's phone answers before the number is dialled: checked on the
    // server's event log below (AGENT_ANSWERED before ANSWERED). The phones'
    // own event times are read by one thread per phone, a few ms apart under
    // load, too coarse to order two answers 4 ms apart.
    assert!(
        ext.log().contains(&format!("INVITE sip:{EXT_NUMBER}@")),
        "the trunk INVITE should target the dialled number:\n{}",
        ext.log_tail(40)
    );
    lab.wait_state(&ta, &id, "connected");
    let live = lab.call(&ta, &id);
    assert!(live["call"]["campaign"].is_null(), "{live}");
    assert_eq!(live["call"]["auto_recording"], false, "{live}");
    let t0 = Instant::now();
    sleep(3.0);
    let t1 = Instant::now();
    ext.hangup();
    ext.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);

    Heard::last_call(&a, "agent A").hears(EXT_HZ, t0, t1, 0.8);
    Heard::last_call(&ext, "external").hears(A_HZ, t0, t1, 0.8);

    let rec = lab.wait_ended(&ta, &id);
    let c = &rec["call"];
    assert!(c["campaign_id"].is_null(), "logged with a campaign: {rec}");
    assert_eq!(c["direction"], "outbound", "{rec}");
    assert_eq!(c["caller"], "1001", "{rec}");
    assert_eq!(c["callee"], EXT_NUMBER, "{rec}");
    assert!(c["answered_at"].is_i64() && c["ended_at"].is_i64(), "{rec}");
    let evs = lab.events(&ta, &id);
    let dial = evs
        .iter()
        .find(|e| e["kind"] == "DIAL")
        .expect("DIAL event");
    assert!(
        dial["detail"].to_string().contains(EXT_NUMBER),
        "DIAL detail: {dial}"
    );
    lab.assert_log_order(&ta, &id, &["DIAL", "AGENT_ANSWERED", "ANSWERED", "HANGUP"]);
    // No recording: no campaign, nobody asked for one.
    let r = lab.ok("GET", "/api/recordings", None, &ta);
    assert!(
        !r["recordings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["call_id"] == id.as_str()),
        "an out-of-campaign call was recorded: {r}"
    );
    let h = lab.ok("GET", "/api/history", None, &ta);
    assert!(
        h["calls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id.as_str()),
        "history should list the call: {h}"
    );
    lab.wait_free(&ta, "1001");
}
