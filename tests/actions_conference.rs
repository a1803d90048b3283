//! Three-way conference from a consultation (confer): each party hears the
//! other two and not itself (Goertzel energy shares per 200 ms block), a
//! muted party is not heard by the others, and when the agent leaves the
//! other two stay connected.

mod actions_common;
mod common;

use actions_common::*;
use common::*;
use serde_json::json;
use std::time::Instant;

/// Customer, A and B (agent): confer, mute B, A leaves.
#[test]
fn conference_with_agent_mute_and_agent_leaves() {
    let _g = serial();
    let dir = TestDir::new("actions_conf_agent");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (b, tb) = lab.agent(&dir, "1002", B_HZ, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    sleep(1.0);
    lab.action(
        &ta,
        &id,
        "transfer",
        Some(json!({"mode": "consultative", "agent": "1002"})),
    );
    b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    sleep(1.0);
    let v = lab.action(&ta, &id, "confer", None);
    assert_eq!(v["state"], "conference", "confer response: {v}");
    // Repeating confer changes nothing.
    let v2 = lab.action(&ta, &id, "confer", None);
    assert_eq!(v2["state"], "conference", "{v2}");
    let b_leg = v["third"]["leg"].as_u64().expect("third leg id");
    let t1 = Instant::now();
    sleep(3.0);
    let t2 = Instant::now();
    let m = lab.action(&ta, &id, "mute", Some(json!({"leg": b_leg, "muted": true})));
    assert_eq!(m["state"], "conference", "{m}");
    let t3 = Instant::now();
    sleep(3.0);
    let t4 = Instant::now();
    lab.action(
        &ta,
        &id,
        "mute",
        Some(json!({"leg": b_leg, "muted": false})),
    );
    // A leaves from the phone: customer and B stay together.
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    let v = lab.wait_state(&tb, &id, "connected");
    assert_eq!(v["call"]["agent"], "1002", "B controls the call now: {v}");
    let t5 = Instant::now();
    lab.wait_free(&tb, "1001");
    sleep(3.0);
    let t6 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);

    let c = Heard::last_call(&cust, "customer");
    let ha = Heard::last_call(&a, "agent A");
    let hb = Heard::last_call(&b, "agent B");
    // Conference: everyone hears the two others, not themselves.
    c.mix(&[A_HZ, B_HZ], &[CUSTOMER_HZ], t1, t2);
    ha.mix(&[CUSTOMER_HZ, B_HZ], &[A_HZ], t1, t2);
    hb.mix(&[CUSTOMER_HZ, A_HZ], &[B_HZ], t1, t2);
    // B muted: customer and A no longer hear B; B still hears both.
    c.mix(&[A_HZ], &[B_HZ, CUSTOMER_HZ], t3, t4);
    ha.mix(&[CUSTOMER_HZ], &[B_HZ, A_HZ], t3, t4);
    hb.mix(&[CUSTOMER_HZ, A_HZ], &[B_HZ], t3, t4);
    // A left: customer and B talk.
    c.hears(B_HZ, t5, t6, 0.8).not_hears(A_HZ, t5, t6);
    hb.hears(CUSTOMER_HZ, t5, t6, 0.8).not_hears(A_HZ, t5, t6);
    lab.assert_log_order(
        &tb,
        &id,
        &[
            "TRANSFER_CONSULT",
            "CONSULT_ANSWERED",
            "CONFERENCE",
            "MUTE",
            "UNMUTE",
            "CONFERENCE_LEFT",
            "HANGUP",
        ],
    );
    let sup = lab.server.login("9000", "pw9000");
    lab.assert_all_idle(&sup);
}

/// Customer, agent and an external number: confer after consulting the
/// number; mute the customer; then the external party leaves and the
/// customer and A are still connected.
#[test]
fn conference_with_external_number() {
    let _g = serial();
    let dir = TestDir::new("actions_conf_number");
    let lab = Lab::start(&dir, vec![campaign("support", "5000", &["1001"], false)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let ext = lab.external(&dir, true);
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    sleep(1.0);
    lab.action(
        &ta,
        &id,
        "transfer",
        Some(json!({"mode": "consultative", "number": EXT_NUMBER})),
    );
    ext.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    sleep(1.0);
    let v = lab.action(&ta, &id, "confer", None);
    let cust_leg = v["customer"]["leg"].as_u64().expect("customer leg id");
    let t1 = Instant::now();
    sleep(3.0);
    let t2 = Instant::now();
    lab.action(
        &ta,
        &id,
        "mute",
        Some(json!({"leg": cust_leg, "muted": true})),
    );
    let t3 = Instant::now();
    sleep(3.0);
    let t4 = Instant::now();
    ext.hangup();
    ext.wait_event("CALL_CLOSED", T);
    let v = lab.wait_state(&ta, &id, "connected");
    assert_eq!(v["call"]["agent"], "1001", "{v}");
    let t5 = Instant::now();
    sleep(3.0);
    let t6 = Instant::now();
    lab.action(&ta, &id, "hangup", None);
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);

    let c = Heard::last_call(&cust, "customer");
    let ha = Heard::last_call(&a, "agent A");
    let he = Heard::last_call(&ext, "external");
    c.mix(&[A_HZ, EXT_HZ], &[CUSTOMER_HZ], t1, t2);
    ha.mix(&[CUSTOMER_HZ, EXT_HZ], &[A_HZ], t1, t2);
    he.mix(&[CUSTOMER_HZ, A_HZ], &[EXT_HZ], t1, t2);
    // Customer muted: A and the external party hear only each other.
    ha.mix(&[EXT_HZ], &[CUSTOMER_HZ, A_HZ], t3, t4);
    he.mix(&[A_HZ], &[CUSTOMER_HZ, EXT_HZ], t3, t4);
    c.mix(&[A_HZ, EXT_HZ], &[CUSTOMER_HZ], t3, t4);
    // External left: customer and A connected again (mute cleared).
    c.hears(A_HZ, t5, t6, 0.8);
    ha.hears(CUSTOMER_HZ, t5, t6, 0.8);
    lab.assert_log_order(
        &ta,
        &id,
        &["CONFERENCE", "MUTE", "CONFERENCE_LEFT", "HANGUP"],
    );
}
