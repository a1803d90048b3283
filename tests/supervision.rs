//! Supervision with real phones and tones: the customer (baresip) plays
//! 1000 Hz, agent 1001 440 Hz, supervisor 9000 700 Hz. Listen: the
//! supervisor hears both and nobody hears 700 Hz; whisper: only the agent
//! hears it; barge: everyone hears everyone; key 5 on the supervisor's
//! phone: whisper again (no gap in the customer's or the agent's audio
//! across the mode changes); take over: the customer talks
//! with the supervisor and the agent's phone is released. Each window's
//! tones are judged on what each phone recorded. A listening supervisor
//! follows a consultation, a conference and the agent leaving it.

mod actions_common;
mod common;
mod console_driver;

use actions_common::*;
use common::*;
use serde_json::json;
use std::time::Instant;

/// The supervisor's tone (no hold music in this test: its 698 Hz note
/// would be confused with it).
const SUP_HZ: f32 = 700.0;

#[test]
fn listen_whisper_barge_takeover_with_tones() {
    let _g = serial();
    let dir = TestDir::new("supervision_tones");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (s, ts) = lab.agent(&dir, "9000", SUP_HZ, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let path = format!("/api/calls/{id}/supervise");
    // An agent cannot supervise, even its own call.
    lab.refused(
        403,
        "only supervisors",
        "POST",
        &path,
        Some(json!({"mode": "listen"})),
        &ta,
    );
    lab.refused(400, "", "POST", &path, Some(json!({"mode": "spy"})), &ts);

    let v = lab.ok("POST", &path, Some(json!({"mode": "listen"})), &ts);
    assert_eq!(v["supervisions"][0]["supervisor"], "9000", "{v}");
    s.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ts, &id, "SUPERVISE_ANSWERED");
    sleep(0.5);
    let t1 = Instant::now();
    sleep(3.0);
    let t2 = Instant::now();
    let v = lab.ok("POST", &path, Some(json!({"mode": "whisper"})), &ts);
    assert_eq!(v["supervisions"][0]["mode"], "whisper", "{v}");
    let t3 = Instant::now();
    sleep(3.0);
    let t4 = Instant::now();
    lab.ok("POST", &path, Some(json!({"mode": "barge"})), &ts);
    let t5 = Instant::now();
    sleep(3.0);
    let t6 = Instant::now();
    // Key 5 on the supervisor's phone: back to whisper, without the console.
    s.command("sndcode", "5")
        .unwrap_or_else(|e| panic!("sndcode: {e}\n{}", s.log_tail(20)));
    lab.wait_call(&ts, &id, "whisper from the phone's key 5", |c| {
        c["call"]["supervisions"][0]["mode"] == "whisper"
    });
    let t6a = Instant::now();
    sleep(3.0);
    let t6b = Instant::now();
    let v = lab.ok("POST", &path, Some(json!({"mode": "takeover"})), &ts);
    assert_eq!(v["agent"], "9000", "the supervisor handles the call: {v}");
    a.wait_event("CALL_CLOSED", T);
    lab.wait_free(&ts, "1001");
    let t7 = Instant::now();
    sleep(3.0);
    let t8 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    s.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ts, &id);

    let c = Heard::last_call(&cust, "customer");
    let ha = Heard::last_call(&a, "agent");
    let hs = Heard::last_call(&s, "supervisor");
    // The mode changes (listen -> whisper -> barge -> whisper) leave no gap
    // in what the customer and the agent hear.
    c.no_gap(t1, t6b, 40);
    ha.no_gap(t1, t6b, 40);
    // Listen: the supervisor hears both; nobody hears the supervisor.
    hs.mix(&[CUSTOMER_HZ, A_HZ], &[SUP_HZ], t1, t2);
    c.mix(&[A_HZ], &[SUP_HZ, CUSTOMER_HZ], t1, t2);
    ha.mix(&[CUSTOMER_HZ], &[SUP_HZ, A_HZ], t1, t2);
    // Whisper: the agent hears the supervisor, the customer does not.
    ha.mix(&[CUSTOMER_HZ, SUP_HZ], &[A_HZ], t3, t4);
    c.mix(&[A_HZ], &[SUP_HZ, CUSTOMER_HZ], t3, t4);
    hs.mix(&[CUSTOMER_HZ, A_HZ], &[SUP_HZ], t3, t4);
    // Barge: all hear all.
    c.mix(&[A_HZ, SUP_HZ], &[CUSTOMER_HZ], t5, t6);
    ha.mix(&[CUSTOMER_HZ, SUP_HZ], &[A_HZ], t5, t6);
    hs.mix(&[CUSTOMER_HZ, A_HZ], &[SUP_HZ], t5, t6);
    // Whisper again from the phone's key 5.
    ha.mix(&[CUSTOMER_HZ, SUP_HZ], &[A_HZ], t6a, t6b);
    c.mix(&[A_HZ], &[SUP_HZ, CUSTOMER_HZ], t6a, t6b);
    // Take over: customer and supervisor, the agent gone.
    c.hears(SUP_HZ, t7, t8, 0.8).not_hears(A_HZ, t7, t8);
    hs.hears(CUSTOMER_HZ, t7, t8, 0.8).not_hears(A_HZ, t7, t8);
    lab.assert_log_order(
        &ts,
        &id,
        &[
            "SUPERVISE_START",
            "SUPERVISE_ANSWERED",
            "SUPERVISE_MODE",
            "SUPERVISE_MODE",
            "SUPERVISE_MODE",
            "SUPERVISE_TAKEOVER",
            "HANGUP",
        ],
    );
    // Ended: the reason says so.
    lab.refused(
        409,
        "has ended",
        "POST",
        &path,
        Some(json!({"mode": "listen"})),
        &ts,
    );
    lab.assert_all_idle(&ts);
}

/// A listening supervisor follows the call with real phones: during agent
/// 1001's consultation of 1002 the supervisor hears the two agents; in the
/// conference, all three parties; after 1001 leaves, the customer and 1002.
/// Nobody ever hears the supervisor.
#[test]
fn a_listening_supervisor_follows_a_consultation_and_a_conference() {
    let _g = serial();
    let dir = TestDir::new("supervision_follow");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, _tb) = lab.agent(&dir, "1002", B_HZ, true);
    let (s, ts) = lab.agent(&dir, "9000", SUP_HZ, true);
    let cust = lab.customer(&dir);
    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let path = format!("/api/calls/{id}/supervise");
    lab.ok("POST", &path, Some(json!({"mode": "listen"})), &ts);
    s.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ts, &id, "SUPERVISE_ANSWERED");

    lab.action(
        &ta,
        &id,
        "transfer",
        Some(json!({"mode": "consultative", "agent": "1002"})),
    );
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    sleep(0.5);
    let t1 = Instant::now();
    sleep(3.0);
    let t2 = Instant::now();
    let v = lab.action(&ta, &id, "confer", None);
    assert_eq!(v["state"], "conference", "{v}");
    sleep(0.5);
    let t3 = Instant::now();
    sleep(3.0);
    let t4 = Instant::now();
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    lab.wait_free(&ts, "1001");
    let v = lab.call(&ts, &id);
    assert_eq!(v["call"]["supervisions"][0]["supervisor"], "9000", "{v}");
    sleep(0.5);
    let t5 = Instant::now();
    sleep(3.0);
    let t6 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    s.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ts, &id);

    let c = Heard::last_call(&cust, "customer");
    let ha = Heard::last_call(&a, "agent 1001");
    let hb = Heard::last_call(&b, "agent 1002");
    let hs = Heard::last_call(&s, "supervisor");
    // Consultation: the supervisor stays with the agent and hears both agents.
    hs.mix(&[A_HZ, B_HZ], &[SUP_HZ, CUSTOMER_HZ], t1, t2);
    ha.mix(&[B_HZ], &[SUP_HZ, A_HZ], t1, t2);
    hb.mix(&[A_HZ], &[SUP_HZ, B_HZ], t1, t2);
    // Conference: the supervisor hears all three; nobody hears the supervisor.
    hs.mix(&[CUSTOMER_HZ, A_HZ, B_HZ], &[SUP_HZ], t3, t4);
    c.mix(&[A_HZ, B_HZ], &[SUP_HZ, CUSTOMER_HZ], t3, t4);
    hb.mix(&[CUSTOMER_HZ, A_HZ], &[SUP_HZ, B_HZ], t3, t4);
    // 1001 left: the supervisor hears the customer and 1002.
    hs.mix(&[CUSTOMER_HZ, B_HZ], &[SUP_HZ, A_HZ], t5, t6);
    c.mix(&[B_HZ], &[SUP_HZ, CUSTOMER_HZ, A_HZ], t5, t6);
}

/// The supervisor wall in headless Chromium: the queue's figures change as
/// a caller abandons (hangs up while waiting, no agent ready), as the next
/// caller is answered, and (average handle time) as that call ends.
#[test]
fn the_wall_counts_abandoned_and_answered_callers() {
    let _g = serial();
    let dir = TestDir::new("supervision_wall_sl");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let b = console_driver::Browser::start(&dir);
    b.goto(&format!("http://127.0.0.1:{}/", lab.server.http_port));
    b.wait_visible("#login-username", T);
    b.type_text("#login-username", "9000");
    b.type_text("#login-password", "pw9000");
    b.click("#login-submit");
    b.wait_visible("#queue-row-support", T);
    assert_eq!(b.text("#queue-sl-support"), "—");

    // Nobody ready: the caller waits, then hangs up.
    let cust = lab.customer(&dir);
    cust.dial(&lab.uri("5000"));
    b.wait_until("a caller waiting", T, |b| {
        b.text("#queue-waiting-support") == "1"
    });
    cust.hangup();
    b.wait_until("the abandoned caller counted", T, |b| {
        b.text("#queue-abandoned-support") == "1"
    });
    assert_eq!(b.text("#queue-waiting-support"), "0");
    assert!(
        b.text("#queue-sl-support").starts_with("0%"),
        "{}",
        b.text("#queue-sl-support")
    );

    // An agent is ready: the next caller is answered within the threshold.
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    b.wait_until("the answered caller counted", T, |b| {
        b.text("#queue-answered-support").starts_with("1 (1 in")
    });
    b.wait_text("#queue-sl-support", "50%", T);
    assert_eq!(b.text("#queue-aht-support"), "—", "no call has ended yet");
    sleep(2.0);
    cust.hangup();
    lab.wait_ended(&ta, &id);
    // The ended call's handle time (answer to hang-up) is the queue's average.
    b.wait_until("the average handle time", T, |b| {
        b.text("#queue-aht-support").starts_with("0:0")
    });
}
