//! Tagging a recording and on-demand recording with real phones: start/stop
//! through the API, tags found by the recordings search, the stereo WAV
//! (customer left, agent right) lasting the recorded span, access control,
//! 409 on auto-recording campaigns, an unstopped recording running to the
//! end of the call.

mod actions_common;
mod common;

use actions_common::*;
use common::*;
use serde_json::{json, Value};
use std::time::Instant;

fn recordings_of(lab: &Lab, token: &str, query: &str, call: &str) -> Vec<Value> {
    let v = lab.ok("GET", &format!("/api/recordings{query}"), None, token);
    let mut r: Vec<Value> = v["recordings"]
        .as_array()
        .unwrap_or_else(|| panic!("GET /api/recordings{query}: {v}"))
        .iter()
        .filter(|r| r["call_id"] == call)
        .cloned()
        .collect();
    r.sort_by_key(|r| r["segment"].as_i64());
    r
}

/// Fetch a recording's WAV as `token` and save it under the test dir.
fn fetch_wav(lab: &Lab, dir: &TestDir, id: &str, token: &str) -> std::path::PathBuf {
    let (st, body) = lab.get_bytes(&format!("/api/recordings/{id}/audio"), token);
    assert_eq!(st, 200, "GET audio: {}", String::from_utf8_lossy(&body));
    let p = dir.join(&format!("rec-{id}.wav"));
    std::fs::write(&p, &body).unwrap();
    p
}

/// Left channel = customer (1000 Hz), right = agent (440 Hz), about `secs` long.
fn assert_stereo(path: &std::path::Path, secs: f64, right_hz: f32, what: &str) {
    let s = read_stereo(path);
    assert_eq!(s.channels, 2, "{what}: recording is not stereo");
    assert_eq!(s.rate, 8000, "{what}: rate");
    let d = s.left.duration();
    assert!(
        (d - secs).abs() <= 0.8,
        "{what}: recording lasts {d:.2}s, expected about {secs:.2}s"
    );
    let (t1, t2) = (0.3, d - 0.3);
    assert!(
        tone_heard_between(&s.left, CUSTOMER_HZ, t1, t2, 0.8),
        "{what}: left channel should be the customer's {CUSTOMER_HZ} Hz: {}",
        describe(&s.left)
    );
    assert!(
        tone_heard_between(&s.right, right_hz, t1, t2, 0.8),
        "{what}: right channel should be the agent's {right_hz} Hz: {}",
        describe(&s.right)
    );
    assert!(
        !tone_heard_between(&s.left, right_hz, t1, t2, 0.05),
        "{what}: agent leaks into the customer channel: {}",
        describe(&s.left)
    );
}

/// Campaign without automatic recording: A records part of the call on
/// demand and tags it; the recordings search finds it by tag substring with
/// the tag's author, text and offset; the WAV is stereo and lasts the
/// recorded span; A and a supervisor can fetch it, another agent cannot.
#[test]
fn on_demand_recording_with_tag_search_and_access() {
    let _g = serial();
    let dir = TestDir::new("actions_rec_on_demand");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let tb = lab.server.login("1002", "pw1002");
    let sup = lab.server.login("9000", "pw9000");
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let v = lab.call(&ta, &id);
    assert_eq!(v["call"]["auto_recording"], false, "{v}");
    assert_eq!(v["call"]["recording"], false, "{v}");
    sleep(1.0);
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/recording/start"),
        None,
        &ta,
    );
    assert_eq!(v["recording"], true, "start response: {v}");
    let r1 = Instant::now();
    // Starting again is accepted and changes nothing.
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/recording/start"),
        None,
        &ta,
    );
    assert_eq!(v["recording"], true, "{v}");
    sleep(2.0);
    let tag = lab.ok(
        "POST",
        &format!("/api/calls/{id}/tags"),
        Some(json!({"text": "Customer asked for a REFUND of order 42"})),
        &ta,
    );
    let tag_after = r1.elapsed().as_millis() as i64;
    assert_eq!(tag["author"], "1001", "{tag}");
    assert_eq!(tag["recording"], true, "{tag}");
    sleep(2.0);
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/recording/stop"),
        None,
        &ta,
    );
    assert_eq!(v["recording"], false, "stop response: {v}");
    let rec1_secs = r1.elapsed().as_secs_f64();
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/recording/stop"),
        None,
        &ta,
    );
    assert_eq!(v["recording"], false, "repeated stop: {v}");
    // Another agent can neither record nor tag A's call.
    lab.refused(
        403,
        "not yours",
        "POST",
        &format!("/api/calls/{id}/recording/start"),
        None,
        &tb,
    );
    lab.refused(
        403,
        "not yours",
        "POST",
        &format!("/api/calls/{id}/tags"),
        Some(json!({"text": "x"})),
        &tb,
    );
    lab.refused(
        400,
        "text",
        "POST",
        &format!("/api/calls/{id}/tags"),
        Some(json!({"text": "   "})),
        &ta,
    );
    sleep(1.5);
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ta, &id);

    // Search by tag substring (case-insensitive), as the agent.
    let found = wait_until(T, std::time::Duration::from_millis(200), || {
        let r = recordings_of(&lab, &ta, "?tag=refund", &id);
        (r.len() == 1 && r[0]["ended_at"].is_i64()).then_some(r)
    })
    .unwrap_or_else(|| {
        panic!(
            "GET /api/recordings?tag=refund should find one finished segment of {id}: {}",
            lab.ok("GET", "/api/recordings", None, &sup)
        )
    });
    let rec = &found[0];
    assert_eq!(rec["segment"], 1, "{rec}");
    assert_eq!(rec["agent_username"], "1001", "{rec}");
    assert_eq!(rec["campaign_name"], "support", "{rec}");
    let dur = rec["duration_ms"].as_i64().expect("duration_ms");
    assert!(
        (dur as f64 - rec1_secs * 1000.0).abs() < 800.0,
        "duration {dur} ms, recorded for {rec1_secs:.2}s: {rec}"
    );
    let tags = rec["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 1, "{rec}");
    let t = &tags[0];
    assert_eq!(t["author"], "1001", "{t}");
    assert_eq!(t["text"], "Customer asked for a REFUND of order 42", "{t}");
    let off = t["offset_ms"].as_i64().expect("offset_ms");
    assert!(
        (off - tag_after).abs() < 700,
        "tag offset {off} ms: the tag was set {tag_after} ms into the recording: {t}"
    );
    assert!(
        t["recording_id"] == rec["id"],
        "tag pinned to the segment: {t} / {rec}"
    );
    assert!(
        recordings_of(&lab, &ta, "?tag=no-such-words", &id).is_empty(),
        "a non-matching tag search found the recording"
    );
    assert_eq!(
        recordings_of(&lab, &sup, "?tag=ReFuNd&agent=1001", &id).len(),
        1
    );

    // The WAV: stereo, customer left, agent right, about the recorded span.
    let rid = rec["id"].as_str().unwrap().to_string();
    let p = fetch_wav(&lab, &dir, &rid, &ta);
    assert_stereo(&p, rec1_secs, A_HZ, "on-demand segment");
    // Access: the supervisor may, another agent may not.
    fetch_wav(&lab, &dir, &rid, &sup);
    let (st, body) = lab.get_bytes(&format!("/api/recordings/{rid}/audio"), &tb);
    assert_eq!(
        st,
        403,
        "another agent fetched the recording: {}",
        String::from_utf8_lossy(&body)
    );
    lab.refused(
        403,
        "own",
        "GET",
        &format!("/api/recordings/{rid}"),
        None,
        &tb,
    );
    assert!(
        recordings_of(&lab, &tb, "", &id).is_empty(),
        "another agent's search lists A's recording"
    );
    lab.assert_log_order(
        &ta,
        &id,
        &["RECORDING_STARTED", "TAG", "RECORDING_STOPPED", "HANGUP"],
    );
}

/// A campaign that records automatically refuses on-demand recording (409);
/// its call is recorded anyway. Then a call without campaign (the customer
/// dials the agent's extension): a recording started and never stopped runs
/// to the end of the call.
#[test]
fn auto_recording_campaign_refuses_and_unstopped_recording_runs_to_end() {
    let _g = serial();
    let dir = TestDir::new("actions_rec_auto");
    let lab = Lab::start(&dir, vec![campaign("vip", "5001", &["1001"], true)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let cust = lab.customer(&dir);

    // 1. Auto-recording campaign.
    let id = customer_calls(&lab, &cust, "5001", &a, &ta);
    let v = lab.call(&ta, &id);
    assert_eq!(v["call"]["auto_recording"], true, "{v}");
    assert_eq!(v["call"]["recording"], true, "auto recording runs: {v}");
    lab.refused(
        409,
        "automatically",
        "POST",
        &format!("/api/calls/{id}/recording/start"),
        None,
        &ta,
    );
    lab.refused(
        409,
        "automatically",
        "POST",
        &format!("/api/calls/{id}/recording/stop"),
        None,
        &ta,
    );
    // Tagging works on auto-recorded calls too.
    lab.ok(
        "POST",
        &format!("/api/calls/{id}/tags"),
        Some(json!({"text": "vip complaint"})),
        &ta,
    );
    sleep(2.0);
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ta, &id);
    let r = wait_until(T, std::time::Duration::from_millis(200), || {
        let r = recordings_of(&lab, &ta, "?tag=complaint", &id);
        (r.len() == 1 && r[0]["ended_at"].is_i64()).then_some(r)
    });
    assert!(r.is_some(), "the auto recording should be found by its tag");

    // 2. No campaign: the customer calls extension 1001 directly.
    sleep(1.1); // new dump file names (per second)
    let id2 = customer_calls(&lab, &cust, "1001", &a, &ta);
    let v = lab.call(&ta, &id2);
    assert!(v["call"]["campaign"].is_null(), "{v}");
    assert_eq!(v["call"]["recording"], false, "{v}");
    sleep(1.0);
    lab.ok(
        "POST",
        &format!("/api/calls/{id2}/recording/start"),
        None,
        &ta,
    );
    let r1 = Instant::now();
    sleep(3.0);
    lab.action(&ta, &id2, "hangup", None);
    let span = r1.elapsed().as_secs_f64();
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ta, &id2);
    let recs = wait_until(T, std::time::Duration::from_millis(200), || {
        let r = recordings_of(&lab, &ta, "", &id2);
        (r.len() == 1 && r[0]["ended_at"].is_i64()).then_some(r)
    })
    .unwrap_or_else(|| {
        panic!(
            "the unstopped recording should be closed at the call's end: {:?}",
            recordings_of(&lab, &ta, "", &id2)
        )
    });
    let rec = &recs[0];
    assert!(rec["campaign_name"].is_null(), "{rec}");
    let dur = rec["duration_ms"].as_i64().unwrap();
    assert!(
        (dur as f64 - span * 1000.0).abs() < 800.0,
        "unstopped recording lasted {dur} ms, the call went on {span:.2}s after the start"
    );
    let p = fetch_wav(&lab, &dir, rec["id"].as_str().unwrap(), &ta);
    assert_stereo(&p, span, A_HZ, "unstopped segment");
    let kinds = lab.event_kinds(&ta, &id2);
    let stop = kinds.iter().position(|k| k == "RECORDING_STOPPED");
    let hang = kinds.iter().position(|k| k == "HANGUP");
    assert!(
        stop.is_some() && hang.is_some(),
        "recording stopped by the call's end: {kinds:?}"
    );
}

/// Pausing the recording while a customer keys a card number: on an
/// auto-recorded call the agent pauses, then resumes; the WAV is silent on
/// both channels for exactly that span (placed by the server's event times)
/// and holds both parties before and after; the log shows the pause; a
/// call that is not recorded refuses a pause with 409.
#[test]
fn recording_paused_during_card_entry_is_silence_in_the_file() {
    let _g = serial();
    let dir = TestDir::new("actions_rec_pause");
    let lab = Lab::start(
        &dir,
        vec![
            campaign("cards", "5002", &["1001"], true),
            campaign("plain", "5003", &["1001"], false),
        ],
    );
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5002", &a, &ta);
    sleep(2.0);
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/recording/pause"),
        None,
        &ta,
    );
    assert_eq!(
        (v["recording"].as_bool(), v["recording_paused"].as_bool()),
        (Some(true), Some(true)),
        "{v}"
    );
    sleep(2.5);
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/recording/resume"),
        None,
        &ta,
    );
    assert_eq!(v["recording_paused"], false, "{v}");
    sleep(2.0);
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ta, &id);
    lab.assert_log_order(
        &ta,
        &id,
        &[
            "RECORDING_STARTED",
            "RECORDING_PAUSED",
            "RECORDING_RESUMED",
            "HANGUP",
        ],
    );
    let at = |kind: &str| -> i64 {
        let e = lab.wait_log(&ta, &id, kind);
        e["at"]
            .as_i64()
            .unwrap_or_else(|| panic!("{kind} without time: {e}"))
    };
    let (paused_at, resumed_at) = (at("RECORDING_PAUSED"), at("RECORDING_RESUMED"));
    let recs = wait_until(T, std::time::Duration::from_millis(200), || {
        let r = recordings_of(&lab, &ta, "", &id);
        (r.len() == 1 && r[0]["ended_at"].is_i64()).then_some(r)
    })
    .expect("one finished recording");
    let started = recs[0]["started_at"].as_i64().unwrap();
    let p = fetch_wav(&lab, &dir, recs[0]["id"].as_str().unwrap(), &ta);
    let s = read_stereo(&p);
    let (p0, r0, end) = (
        (paused_at - started) as f64 / 1000.0,
        (resumed_at - started) as f64 / 1000.0,
        s.left.duration(),
    );
    assert!(
        (2.5..=3.2).contains(&(r0 - p0)),
        "paused for {:.2} s",
        r0 - p0
    );
    for (ch, hz, who) in [
        (&s.left, CUSTOMER_HZ, "customer"),
        (&s.right, A_HZ, "agent"),
    ] {
        assert!(
            tone_heard_between(ch, hz, 0.5, p0 - 0.3, 0.8),
            "{who} recorded before the pause (0.5-{p0:.2} s): {}",
            describe(ch)
        );
        assert!(
            mostly_silence(ch, p0 + 0.3, r0 - 0.3, 0.95),
            "{who} channel silent while paused ({p0:.2}-{r0:.2} s): {}",
            describe(ch)
        );
        assert!(
            tone_heard_between(ch, hz, r0 + 0.4, end - 0.3, 0.8),
            "{who} recorded again after resuming ({r0:.2}-{end:.2} s): {}",
            describe(ch)
        );
    }

    // A call that is not being recorded refuses a pause.
    sleep(1.1);
    let id2 = customer_calls(&lab, &cust, "5003", &a, &ta);
    lab.refused(
        409,
        "not being recorded",
        "POST",
        &format!("/api/calls/{id2}/recording/pause"),
        None,
        &ta,
    );
    lab.action(&ta, &id2, "hangup", None);
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ta, &id2);
}
