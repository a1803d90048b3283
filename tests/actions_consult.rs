//! Consultative transfers with real phones: to an agent and to an external
//! number (complete), cancel while the target rings, the target declining or
//! hanging up (A is back with the customer), and the customer hanging up
//! during the consultation (every leg closed, nobody left on a call).

mod actions_common;
mod common;

use actions_common::*;
use common::*;
use serde_json::json;
use std::time::Instant;

fn consult(lab: &Lab, token: &str, id: &str, target: serde_json::Value) -> serde_json::Value {
    let mut body = target;
    body["mode"] = json!("consultative");
    let v = lab.action(token, id, "transfer", Some(body));
    assert_eq!(v["state"], "consulting", "consult response: {v}");
    v
}

/// While A consults B the customer hears music and A and B talk; complete
/// bridges the customer to B and closes A's call.
#[test]
fn consultative_transfer_to_agent_complete() {
    let _g = serial();
    let dir = TestDir::new("actions_consult_agent");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, tb) = lab.agent(&dir, "1002", B_HZ, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let t0 = Instant::now();
    sleep(2.5);
    let t1 = Instant::now();
    consult(&lab, &ta, &id, json!({"agent": "1002"}));
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    let v = lab.call(&ta, &id);
    assert_eq!(v["call"]["transfer"]["phase"], "talking", "{v}");
    assert_eq!(v["call"]["transfer"]["kind"], "consultative", "{v}");
    let t2 = Instant::now();
    sleep(3.0);
    let t3 = Instant::now();
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/transfer/complete"),
        None,
        &ta,
    );
    assert_eq!(v["state"], "connected", "complete response: {v}");
    assert_eq!(
        v["agent"], "1002",
        "B controls the call after complete: {v}"
    );
    a.wait_event("CALL_CLOSED", T);
    let t4 = Instant::now();
    lab.wait_free(&ta, "1001");
    lab.wait_on_call(&tb, "1002");
    sleep(3.0);
    let t5 = Instant::now();
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    cust.wait_event("CALL_CLOSED", T);

    Heard::last_call(&cust, "customer")
        .hears(A_HZ, t0, t1, 0.8)
        .music(t2, t3)
        .hears(B_HZ, t4, t5, 0.8);
    Heard::last_call(&a, "agent A")
        .hears(CUSTOMER_HZ, t0, t1, 0.8)
        .hears(B_HZ, t2, t3, 0.8)
        .not_hears(CUSTOMER_HZ, t2, t3);
    Heard::last_call(&b, "agent B")
        .hears(A_HZ, t2, t3, 0.8)
        .not_hears(CUSTOMER_HZ, t2, t3)
        .hears(CUSTOMER_HZ, t4, t5, 0.8);
    lab.assert_log_order(
        &tb,
        &id,
        &[
            "TRANSFER_CONSULT",
            "CONSULT_ANSWERED",
            "TRANSFER_COMPLETED",
            "HANGUP",
        ],
    );
    lab.wait_free(&ta, "1002");
}

/// Same with an external number behind the trunk.
#[test]
fn consultative_transfer_to_external_number_complete() {
    let _g = serial();
    let dir = TestDir::new("actions_consult_number");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let ext = lab.external(&dir, true);
    let cust = lab.customer(&dir);
    let sup = lab.server.login("9000", "pw9000");

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let t0 = Instant::now();
    sleep(2.5);
    let t1 = Instant::now();
    consult(&lab, &ta, &id, json!({"number": EXT_NUMBER}));
    ext.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    let t2 = Instant::now();
    sleep(3.0);
    let t3 = Instant::now();
    lab.ok(
        "POST",
        &format!("/api/calls/{id}/transfer/complete"),
        None,
        &ta,
    );
    a.wait_event("CALL_CLOSED", T);
    let t4 = Instant::now();
    lab.wait_free(&sup, "1001");
    sleep(3.0);
    let t5 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    ext.wait_event("CALL_CLOSED", T);

    Heard::last_call(&cust, "customer")
        .hears(A_HZ, t0, t1, 0.8)
        .music(t2, t3)
        .hears(EXT_HZ, t4, t5, 0.8);
    Heard::last_call(&a, "agent A").hears(EXT_HZ, t2, t3, 0.8);
    Heard::last_call(&ext, "external")
        .hears(A_HZ, t2, t3, 0.8)
        .hears(CUSTOMER_HZ, t4, t5, 0.8);
    lab.assert_log_order(
        &sup,
        &id,
        &[
            "TRANSFER_CONSULT",
            "CONSULT_ANSWERED",
            "TRANSFER_COMPLETED",
            "HANGUP",
        ],
    );
    lab.assert_all_idle(&sup);
}

/// B does not pick up: complete and confer are refused while B rings;
/// cancel stops B's ringing and A is back with the customer.
#[test]
fn consultative_transfer_cancel_while_ringing() {
    let _g = serial();
    let dir = TestDir::new("actions_consult_cancel");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, tb) = lab.agent(&dir, "1002", B_HZ, false);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    sleep(1.0);
    consult(&lab, &ta, &id, json!({"agent": "1002"}));
    b.wait_event("CALL_INCOMING", T);
    let t1 = Instant::now();
    lab.refused(
        409,
        "before the target answers",
        "POST",
        &format!("/api/calls/{id}/transfer/complete"),
        None,
        &ta,
    );
    lab.refused(
        409,
        "before the consulted party answers",
        "POST",
        &format!("/api/calls/{id}/confer"),
        None,
        &ta,
    );
    // Another transfer while one is in progress is refused too.
    lab.refused(
        409,
        "already in progress",
        "POST",
        &format!("/api/calls/{id}/transfer"),
        Some(json!({"mode": "blind", "number": EXT_NUMBER})),
        &ta,
    );
    sleep(2.0);
    let t2 = Instant::now();
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/transfer/cancel"),
        None,
        &ta,
    );
    assert_eq!(v["state"], "connected", "cancel response: {v}");
    assert!(v["transfer"].is_null(), "{v}");
    b.wait_event("CALL_CLOSED", T);
    let t3 = Instant::now();
    lab.wait_free(&ta, "1002");
    // Cancelling again: nothing to cancel any more.
    lab.refused(
        409,
        "no consultative transfer",
        "POST",
        &format!("/api/calls/{id}/transfer/cancel"),
        None,
        &ta,
    );
    sleep(3.0);
    let t4 = Instant::now();
    lab.action(&ta, &id, "hangup", None);
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);

    Heard::last_call(&cust, "customer")
        .music(t1, t2)
        .hears(A_HZ, t3, t4, 0.8);
    Heard::last_call(&a, "agent A")
        .silence(t1, t2)
        .hears(CUSTOMER_HZ, t3, t4, 0.8);
    assert!(b.events_of("CALL_ESTABLISHED").is_empty());
    let _ = tb;
    lab.assert_log_order(
        &ta,
        &id,
        &["TRANSFER_CONSULT", "TRANSFER_CANCELLED", "HANGUP"],
    );
}

/// B rejects while ringing -> A back with the customer; B accepts a second
/// consultation and then hangs up -> A back again; the external number
/// answers a third consultation and hangs up -> A back again.
#[test]
fn consultative_transfer_target_declines_or_hangs_up() {
    let _g = serial();
    let dir = TestDir::new("actions_consult_declined");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, _tb) = lab.agent(&dir, "1002", B_HZ, false);
    let ext = lab.external(&dir, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    sleep(1.0);
    // 1. B declines while ringing.
    consult(&lab, &ta, &id, json!({"agent": "1002"}));
    b.wait_event("CALL_INCOMING", T);
    sleep(0.5);
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    lab.wait_state(&ta, &id, "connected");
    let t1 = Instant::now();
    lab.wait_free(&ta, "1002");
    sleep(2.5);
    let t2 = Instant::now();

    // 2. B answers, then hangs up.
    consult(&lab, &ta, &id, json!({"agent": "1002"}));
    b.wait_event("CALL_INCOMING", T);
    b.accept();
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    sleep(1.5);
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    lab.wait_state(&ta, &id, "connected");
    let t3 = Instant::now();
    sleep(2.5);
    let t4 = Instant::now();

    // 3. The external number answers, then hangs up.
    consult(&lab, &ta, &id, json!({"number": EXT_NUMBER}));
    ext.wait_event("CALL_ESTABLISHED", T);
    sleep(1.5);
    ext.hangup();
    ext.wait_event("CALL_CLOSED", T);
    lab.wait_state(&ta, &id, "connected");
    let t5 = Instant::now();
    sleep(2.5);
    let t6 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);

    Heard::last_call(&cust, "customer")
        .hears(A_HZ, t1, t2, 0.8)
        .hears(A_HZ, t3, t4, 0.8)
        .hears(A_HZ, t5, t6, 0.8);
    Heard::last_call(&a, "agent A")
        .hears(CUSTOMER_HZ, t1, t2, 0.8)
        .hears(CUSTOMER_HZ, t3, t4, 0.8)
        .hears(CUSTOMER_HZ, t5, t6, 0.8);
    let kinds = lab.event_kinds(&ta, &id);
    let declined = kinds.iter().filter(|k| *k == "TRANSFER_DECLINED").count();
    assert_eq!(declined, 3, "three declined consultations: {kinds:?}");
    assert!(
        !kinds.iter().any(|k| k == "TRANSFER_COMPLETED"),
        "{kinds:?}"
    );
    let sup = lab.server.login("9000", "pw9000");
    lab.assert_all_idle(&sup);
}

/// The customer hangs up while A talks with B: the consultation and the
/// call end; A's and B's calls are closed and nobody is left on a call.
#[test]
fn consultative_transfer_customer_hangs_up_mid_consultation() {
    let _g = serial();
    let dir = TestDir::new("actions_consult_customer_bye");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, _tb) = lab.agent(&dir, "1002", B_HZ, true);
    let cust = lab.customer(&dir);
    let sup = lab.server.login("9000", "pw9000");

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    sleep(1.0);
    consult(&lab, &ta, &id, json!({"agent": "1002"}));
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    sleep(1.5);
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    let ca = a.wait_event("CALL_CLOSED", T);
    let cb = b.wait_event("CALL_CLOSED", T);
    eprintln!("A closed: {:?}, B closed: {:?}", ca.param, cb.param);
    let rec = lab.wait_ended(&sup, &id);
    assert!(rec["call"]["ended_at"].is_i64(), "{rec}");
    lab.assert_all_idle(&sup);
    let evs = lab.events(&sup, &id);
    let hangup = evs.iter().find(|e| e["kind"] == "HANGUP").expect("HANGUP");
    assert!(
        hangup["detail"].to_string().contains("customer"),
        "HANGUP should say the customer hung up: {hangup}"
    );
    // Every phone is idle: a new call to A works right away.
    lab.login_ready("1001");
    let v = lab.ok("POST", "/api/calls", Some(json!({"agent": "1002"})), &ta);
    let id2 = v["call_id"].as_str().unwrap().to_string();
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_state(&ta, &id2, "connected");
    lab.action(&ta, &id2, "hangup", None);
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
}

/// A hangs up their phone during a consultation: while talking with B the
/// transfer completes (customer with B); while B still rings it carries on
/// as a blind transfer and B gets the customer on answering.
#[test]
fn consultative_transfer_agent_hangs_up_completes_or_goes_blind() {
    let _g = serial();
    let dir = TestDir::new("actions_consult_agent_bye");
    let lab = Lab::start(&dir, vec![]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, tb) = lab.agent(&dir, "1002", B_HZ, false);
    let cust = lab.customer(&dir);
    let sup = lab.server.login("9000", "pw9000");

    // 1. Talking with B: A hangs up -> transfer completed.
    let id = customer_calls(&lab, &cust, "1001", &a, &ta);
    sleep(1.0);
    consult(&lab, &ta, &id, json!({"agent": "1002"}));
    b.wait_event("CALL_INCOMING", T);
    b.accept();
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    sleep(1.0);
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    let v = lab.wait_state(&tb, &id, "connected");
    assert_eq!(v["call"]["agent"], "1002", "{v}");
    let t1 = Instant::now();
    lab.wait_free(&sup, "1001");
    sleep(2.5);
    let t2 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
    Heard::last_call(&cust, "customer (1)").hears(B_HZ, t1, t2, 0.8);
    Heard::last_call(&b, "agent B (1)").hears(CUSTOMER_HZ, t1, t2, 0.8);
    lab.assert_log_order(
        &sup,
        &id,
        &["TRANSFER_CONSULT", "TRANSFER_COMPLETED", "HANGUP"],
    );
    lab.assert_all_idle(&sup);

    // 2. B still ringing: A hangs up -> continues as a blind transfer.
    sleep(1.1); // new dump file names (per second)
    lab.login_ready("1001");
    let id = customer_calls(&lab, &cust, "1001", &a, &ta);
    sleep(1.0);
    consult(&lab, &ta, &id, json!({"agent": "1002"}));
    b.wait_event("CALL_INCOMING", T);
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    lab.wait_log(&sup, &id, "TRANSFER_BLIND");
    let t3 = Instant::now();
    lab.wait_free(&sup, "1001");
    sleep(2.0);
    let t4 = Instant::now();
    b.accept();
    b.wait_event("CALL_ESTABLISHED", T);
    let v = lab.wait_state(&tb, &id, "connected");
    assert_eq!(v["call"]["agent"], "1002", "{v}");
    let t5 = Instant::now();
    sleep(2.5);
    let t6 = Instant::now();
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    cust.wait_event("CALL_CLOSED", T);
    Heard::last_call(&cust, "customer (2)")
        .music(t3, t4)
        .hears(B_HZ, t5, t6, 0.8);
    Heard::last_call(&b, "agent B (2)").hears(CUSTOMER_HZ, t5, t6, 0.8);
    lab.assert_log_order(
        &sup,
        &id,
        &[
            "TRANSFER_CONSULT",
            "TRANSFER_BLIND",
            "TRANSFER_COMPLETED",
            "HANGUP",
        ],
    );
    lab.assert_all_idle(&sup);
}
