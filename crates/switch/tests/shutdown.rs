//! Graceful shutdown in virtual time: new calls get 503 while the running
//! ones go on for the grace time, then every party gets BYE (or CANCEL, or
//! 487), the CDRs are closed with reason `shutdown` and the switch reports
//! itself drained.

mod harness;

use harness::{CallState, Harness};

/// How many `method` requests (or responses with that status) `phone` received.
fn count(h: &mut Harness, phone: &str, what: &str) -> usize {
    h.phone(phone)
        .received()
        .iter()
        .filter(|m| *m == what)
        .count()
}

/// A customer calls agent `agent` from the trunk and the agent answers;
/// returns (trunk call index, agent call index, call id).
fn answered_call(h: &mut Harness, agent: &str) -> (usize, usize, String) {
    let t = h.customer_calls(agent);
    let a = h.phone(agent).calls().len() - 1;
    h.answer(agent, a);
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
    assert_eq!(h.state(agent, a), CallState::Confirmed);
    let calls = h.live_calls();
    let id = calls.last().expect("a live call")["call_id"]
        .as_str()
        .expect("id")
        .to_string();
    (t, a, id)
}

fn shutdown(h: &mut Harness, grace_ms: u64) {
    let now = h.now;
    h.switch.shutdown(now, grace_ms);
    h.settle();
}

#[test]
fn without_calls_the_switch_is_drained_at_once() {
    let mut h = Harness::new();
    assert!(!h.switch.is_drained());
    shutdown(&mut h, 30_000);
    assert!(h.switch.is_shutting_down());
    assert!(h.switch.is_drained());
}

#[test]
fn new_calls_get_503_while_running_calls_and_registrations_go_on() {
    let mut h = Harness::new();
    let (t, a, _) = answered_call(&mut h, "1001");
    shutdown(&mut h, 30_000);
    assert!(!h.switch.is_drained(), "a call is still up");
    // A new call from the trunk and one from an agent's phone: 503.
    let t2 = h.customer_calls("1002");
    assert_eq!(h.state("trunk", t2), CallState::Terminated { status: 503 });
    let retry = h
        .phone("trunk")
        .messages()
        .iter()
        .any(|m| m.starts_with("SIP/2.0 503") && m.contains("Retry-After:"));
    assert!(retry, "the 503 carries Retry-After");
    let p = h.phone_dials("1003", "1002");
    assert_eq!(h.state("1003", p), CallState::Terminated { status: 503 });
    assert!(h.phone("1002").calls().is_empty(), "1002 never rang");
    // REGISTER still works, and so do in-dialog requests (hold from the phone).
    let now = h.now;
    h.phone("1002").register(now);
    h.settle();
    assert!(h.phone("1002").is_registered());
    let now = h.now;
    h.phone("1001").hold(a, now);
    h.settle();
    assert_eq!(
        h.phone("1001").calls()[a].remote_direction.as_deref(),
        Some("recvonly")
    );
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
    // The console cannot place calls either.
    let err = h
        .dial("1003", switchboard_call::Target::Number("555".into()))
        .expect_err("refused");
    assert_eq!(err.status, 503);
}

#[test]
fn a_call_ending_within_the_grace_gets_no_extra_bye() {
    let mut h = Harness::new();
    let (t, a, id) = answered_call(&mut h, "1001");
    shutdown(&mut h, 30_000);
    h.run_for(5_000);
    h.hangup("trunk", t);
    assert_eq!(h.state("1001", a), CallState::Terminated { status: 200 });
    assert!(h.switch.is_drained(), "no call left, BYE answered");
    h.run_for(40_000);
    assert_eq!(count(&mut h, "trunk", "BYE"), 0);
    assert_eq!(count(&mut h, "1001", "BYE"), 1);
    assert_eq!(h.cdr_reason(&id).as_deref(), Some("ended"));
}

#[test]
fn after_the_grace_every_party_gets_a_bye_and_the_cdrs_are_closed() {
    let mut h = Harness::new();
    let (t1, a1, id1) = answered_call(&mut h, "1001");
    let (t2, a2, id2) = answered_call(&mut h, "1002");
    shutdown(&mut h, 10_000);
    h.run_for(9_000);
    assert_eq!(
        count(&mut h, "trunk", "BYE"),
        0,
        "not before the grace ends"
    );
    assert!(!h.switch.is_drained());
    h.run_for(2_000);
    assert_eq!(count(&mut h, "trunk", "BYE"), 2);
    assert_eq!(count(&mut h, "1001", "BYE"), 1);
    assert_eq!(count(&mut h, "1002", "BYE"), 1);
    for (phone, i) in [("trunk", t1), ("trunk", t2), ("1001", a1), ("1002", a2)] {
        assert_eq!(h.state(phone, i), CallState::Terminated { status: 200 });
    }
    assert!(h.switch.is_drained(), "every BYE answered");
    for id in [&id1, &id2] {
        assert_eq!(h.cdr_reason(id).as_deref(), Some("shutdown"));
        assert!(h.events(id).contains(&"SHUTDOWN".to_string()));
    }
    h.assert_clean();
}

#[test]
fn ringing_legs_are_cancelled_and_unanswered_callers_get_487() {
    let mut h = Harness::new();
    let t = h.customer_calls("1001");
    assert_eq!(h.state("1001", 0), CallState::Ringing);
    let id = h.only_call();
    shutdown(&mut h, 0);
    assert_eq!(count(&mut h, "1001", "CANCEL"), 1);
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 487 });
    assert_eq!(h.state("trunk", t), CallState::Terminated { status: 487 });
    assert!(h.switch.is_drained());
    assert_eq!(h.cdr_reason(&id).as_deref(), Some("shutdown"));
    h.assert_clean();
}

#[test]
fn an_unanswered_bye_does_not_hold_the_shutdown_forever() {
    let mut h = Harness::new();
    let (_, _, id) = answered_call(&mut h, "1001");
    // The agent's phone vanished: our BYE is never answered.
    h.lose("1001", false, 100);
    shutdown(&mut h, 1_000);
    h.run_for(1_000);
    assert!(!h.switch.is_drained(), "waiting for the BYE");
    h.run_for(switchboard_switch::END_WAIT_MS);
    assert!(h.switch.is_drained(), "gave up after END_WAIT_MS");
    assert_eq!(h.cdr_reason(&id).as_deref(), Some("shutdown"));
}

#[test]
fn a_second_request_shortens_the_grace() {
    let mut h = Harness::new();
    let (t, _, _) = answered_call(&mut h, "1001");
    shutdown(&mut h, 60_000);
    h.run_for(1_000);
    shutdown(&mut h, 0);
    assert_eq!(h.state("trunk", t), CallState::Terminated { status: 200 });
    assert!(h.switch.is_drained());
}
