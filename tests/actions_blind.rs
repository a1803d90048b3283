//! Blind transfers with real phones: to an agent, to an external number, to
//! an inbound campaign's queue, and to an agent who does not answer (the
//! customer comes back to the transferring agent).

mod actions_common;
mod common;

use actions_common::*;
use common::*;
use serde_json::json;
use std::time::Instant;

/// Customer (via DID 5000) talks to A; A blind-transfers to B (auto
/// answer): the customer ends up with B, A's call is closed and A is free.
#[test]
fn blind_transfer_to_agent() {
    let _g = serial();
    let dir = TestDir::new("actions_blind_agent");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, tb) = lab.agent(&dir, "1002", B_HZ, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let t0 = Instant::now();
    sleep(2.5);
    let t1 = Instant::now();
    lab.action(
        &ta,
        &id,
        "transfer",
        Some(json!({"mode": "blind", "agent": "1002"})),
    );
    b.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_log(&tb, &id, "TRANSFER_COMPLETED");
    let live = lab.wait_state(&tb, &id, "connected");
    assert_eq!(
        live["call"]["agent"], "1002",
        "B now controls the call: {live}"
    );
    let t2 = Instant::now();
    lab.wait_free(&ta, "1001");
    lab.wait_on_call(&ta, "1002");
    // A has left: the call is no longer A's to act on.
    lab.refused(
        403,
        "not yours",
        "POST",
        &format!("/api/calls/{id}/hold"),
        None,
        &ta,
    );
    sleep(3.0);
    let t3 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);

    Heard::last_call(&cust, "customer")
        .hears(A_HZ, t0, t1, 0.8)
        .hears(B_HZ, t2, t3, 0.8)
        .not_hears(A_HZ, t2, t3);
    Heard::last_call(&b, "agent B").hears(CUSTOMER_HZ, t2, t3, 0.8);
    Heard::last_call(&a, "agent A").hears(CUSTOMER_HZ, t0, t1, 0.8);
    lab.assert_log_order(
        &tb,
        &id,
        &["ANSWERED", "TRANSFER_BLIND", "TRANSFER_COMPLETED", "HANGUP"],
    );
    lab.wait_ended(&tb, &id);
    lab.wait_free(&ta, "1002");
}

/// A blind-transfers the customer to an external number through the trunk.
#[test]
fn blind_transfer_to_external_number() {
    let _g = serial();
    let dir = TestDir::new("actions_blind_number");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let ext = lab.external(&dir, true);
    let cust = lab.customer(&dir);
    let sup = lab.server.login("9000", "pw9000");

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let t0 = Instant::now();
    sleep(2.5);
    let t1 = Instant::now();
    lab.action(
        &ta,
        &id,
        "transfer",
        Some(json!({"mode": "blind", "number": EXT_NUMBER})),
    );
    ext.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_log(&sup, &id, "TRANSFER_COMPLETED");
    let t2 = Instant::now();
    lab.wait_free(&ta, "1001");
    sleep(3.0);
    let t3 = Instant::now();
    ext.hangup();
    ext.wait_event("CALL_CLOSED", T);
    cust.wait_event("CALL_CLOSED", T);

    Heard::last_call(&cust, "customer")
        .hears(A_HZ, t0, t1, 0.8)
        .hears(EXT_HZ, t2, t3, 0.8);
    Heard::last_call(&ext, "external").hears(CUSTOMER_HZ, t2, t3, 0.8);
    assert!(
        ext.log().contains(&format!("INVITE sip:{EXT_NUMBER}@")),
        "trunk INVITE for the dialled number:\n{}",
        ext.log_tail(30)
    );
    lab.assert_log_order(
        &sup,
        &id,
        &["TRANSFER_BLIND", "TRANSFER_COMPLETED", "HANGUP"],
    );
    lab.assert_all_idle(&sup);
}

/// A blind-transfers the customer to another inbound campaign ("sales",
/// DID 6000, member B): the customer waits in that queue with music and B
/// (ready, auto answer) gets the call.
#[test]
fn blind_transfer_to_campaign_queue() {
    let _g = serial();
    let dir = TestDir::new("actions_blind_campaign");
    let lab = Lab::start(
        &dir,
        vec![
            campaign("support", "5000", &["1001"], false),
            campaign("sales", "6000", &["1002"], false),
        ],
    );
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, tb) = lab.agent(&dir, "1002", B_HZ, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let t0 = Instant::now();
    sleep(2.5);
    let t1 = Instant::now();
    lab.action(
        &ta,
        &id,
        "transfer",
        Some(json!({"mode": "blind", "campaign": "sales"})),
    );
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&tb, &id, "TRANSFER_COMPLETED");
    let t2 = Instant::now();
    lab.wait_free(&ta, "1001");
    lab.wait_on_call(&tb, "1002");
    sleep(3.0);
    let t3 = Instant::now();
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    cust.wait_event("CALL_CLOSED", T);

    Heard::last_call(&cust, "customer")
        .hears(A_HZ, t0, t1, 0.8)
        .hears(B_HZ, t2, t3, 0.8);
    Heard::last_call(&b, "agent B").hears(CUSTOMER_HZ, t2, t3, 0.8);
    let evs = lab.events(&tb, &id);
    let assigned = evs
        .iter()
        .find(|e| e["kind"] == "QUEUE_ASSIGNED" && e["detail"].to_string().contains("1002"));
    assert!(assigned.is_some(), "sales queue should assign B: {evs:?}");
    lab.assert_log_order(
        &tb,
        &id,
        &["TRANSFER_BLIND", "TRANSFER_COMPLETED", "HANGUP"],
    );
}

/// The target agent does not answer (manual answer, 4 s ring timeout): A was
/// released when B's phone rang, but the customer is not lost: A's phone is
/// rung back (TRANSFER_RETURN) and the customer talks to A again.
#[test]
fn blind_transfer_no_answer_returns_to_agent() {
    let _g = serial();
    let dir = TestDir::new("actions_blind_noanswer");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, _tb) = lab.agent(&dir, "1002", B_HZ, false);
    let cust = lab.customer(&dir);
    let sup = lab.server.login("9000", "pw9000");

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let t0 = Instant::now();
    sleep(2.5);
    let t1 = Instant::now();
    lab.action(
        &ta,
        &id,
        "transfer",
        Some(json!({"mode": "blind", "agent": "1002"})),
    );
    b.wait_event("CALL_INCOMING", T);
    // Released as soon as the target rings.
    a.wait_event("CALL_CLOSED", T);
    lab.wait_free(&sup, "1001");
    let ringing = Instant::now();
    // Ring timeout: B's phone stops ringing, A's rings again (auto answer).
    b.wait_event("CALL_CLOSED", T);
    lab.wait_log(&sup, &id, "TRANSFER_RETURN");
    a.wait_event("CALL_ESTABLISHED", T);
    let back = lab.wait_state(&sup, &id, "connected");
    assert_eq!(back["call"]["agent"], "1001", "A has the call back: {back}");
    let t2 = Instant::now();
    let rang = (t2 - ringing).as_secs_f64();
    assert!(
        rang >= RING_TIMEOUT_SECS as f64 - 1.0 && rang <= RING_TIMEOUT_SECS as f64 + 4.0,
        "B rang for {rang:.1}s, ring timeout is {RING_TIMEOUT_SECS}s"
    );
    sleep(3.0);
    let t3 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);

    Heard::last_call(&cust, "customer")
        .hears(A_HZ, t0, t1, 0.8)
        .music(ringing, t2)
        .hears(A_HZ, t2, t3, 0.8);
    Heard::last_call(&a, "agent A (rung back)").hears(CUSTOMER_HZ, t2, t3, 0.8);
    assert!(
        b.events_of("CALL_ESTABLISHED").is_empty(),
        "B never answered: {}",
        b.event_summary()
    );
    lab.assert_log_order(
        &sup,
        &id,
        &[
            "TRANSFER_BLIND",
            "TRANSFER_RINGING",
            "AGENT_RELEASED",
            "TRANSFER_FAILED",
            "TRANSFER_RETURN",
            "TRANSFER_RETURNED",
            "HANGUP",
        ],
    );
    lab.assert_all_idle(&sup);
}
