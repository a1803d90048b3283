//! Hold / unhold (console and phone) with real phones: the held customer
//! hears the campaign's music, the agent hears silence, both talk again after
//! unhold; HOLD / UNHOLD are in the call's event log with their times.

mod actions_common;
mod common;

use actions_common::*;
use common::*;
use std::time::Instant;

/// Customer -> campaign DID 5000 -> agent A (auto answer). Talk, API hold,
/// API unhold, talk; the customer hangs up.
#[test]
fn hold_unhold_customer_hears_music_agent_silence() {
    let _g = serial();
    let dir = TestDir::new("actions_hold_api");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let t0 = Instant::now();
    sleep(3.0);
    let held = lab.action(&ta, &id, "hold", None);
    assert_eq!(held["state"], "held", "hold response: {held}");
    let t1 = Instant::now();
    // Repeating hold is accepted and changes nothing.
    let again = lab.action(&ta, &id, "hold", None);
    assert_eq!(again["state"], "held", "repeated hold: {again}");
    sleep(4.0);
    let resumed = lab.action(&ta, &id, "unhold", None);
    assert_eq!(resumed["state"], "connected", "unhold response: {resumed}");
    let t2 = Instant::now();
    sleep(3.0);
    let t3 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ta, &id);

    let c = Heard::last_call(&cust, "customer");
    c.hears(A_HZ, t0, t1, 0.8)
        .music(t1, t2)
        .hears(A_HZ, t2, t3, 0.8);
    let ag = Heard::last_call(&a, "agent A");
    ag.hears(CUSTOMER_HZ, t0, t1, 0.8)
        .silence(t1, t2)
        .hears(CUSTOMER_HZ, t2, t3, 0.8);

    let evs = lab.events(&ta, &id);
    let find =
        |k: &str| -> Vec<&serde_json::Value> { evs.iter().filter(|e| e["kind"] == k).collect() };
    let (hold, unhold) = (find("HOLD"), find("UNHOLD"));
    assert_eq!(
        hold.len(),
        1,
        "exactly one HOLD (repeat is a no-op): {evs:?}"
    );
    assert_eq!(unhold.len(), 1, "exactly one UNHOLD: {evs:?}");
    let (h, u) = (
        hold[0]["at"].as_i64().expect("HOLD at"),
        unhold[0]["at"].as_i64().expect("UNHOLD at"),
    );
    let held_ms = u - h;
    assert!(
        (3500..=5500).contains(&held_ms),
        "HOLD..UNHOLD lasted {held_ms} ms, expected about 4000: {evs:?}"
    );
    assert_eq!(hold[0]["actor"], "1001", "HOLD actor: {:?}", hold[0]);
    lab.assert_log_order(&ta, &id, &["ANSWERED", "HOLD", "UNHOLD", "HANGUP"]);
}

/// The agent's phone holds (baresip `hold`: re-INVITE sendonly): the server
/// maps it to a hold, so the customer hears music, not silence; `resume`
/// brings the conversation back.
#[test]
fn hold_from_agent_phone_gives_customer_music() {
    let _g = serial();
    let dir = TestDir::new("actions_hold_phone");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let t0 = Instant::now();
    sleep(2.5);
    a.hold();
    lab.wait_state(&ta, &id, "held");
    let t1 = Instant::now();
    sleep(4.0);
    a.resume();
    lab.wait_state(&ta, &id, "connected");
    let t2 = Instant::now();
    sleep(3.0);
    let t3 = Instant::now();
    lab.action(&ta, &id, "hangup", None);
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ta, &id);

    let c = Heard::last_call(&cust, "customer");
    c.hears(A_HZ, t0, t1, 0.8)
        .music(t1, t2)
        .hears(A_HZ, t2, t3, 0.8);
    // (What agent A heard is not checked here: baresip 1.0 does not reliably
    // keep dumping decoded audio after its own hold/resume re-INVITEs. The
    // API hold test checks the agent side; here the customer hearing A again
    // after the resume proves the bridge is back.)
    let v = lab.wait_ended(&ta, &id);
    assert!(v["call"]["answered_at"].is_i64(), "{v}");
    lab.assert_log_order(
        &ta,
        &id,
        &["PHONE_HOLD", "HOLD", "PHONE_RESUME", "UNHOLD", "HANGUP"],
    );
}
