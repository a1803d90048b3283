//! Calls, hold, transfers and conferences through the switch with fake
//! phones and a fake trunk in virtual time: signalling, who hears whom,
//! agent states and records.

mod harness;

use harness::{CallState, Harness};
use switchboard_call::{Command, Target};
use switchboard_switch::AgentStatus;

/// A customer from the trunk dials the `support` DID and agent 1001 (ready) answers.
/// Returns the switch's call id; the customer is the trunk's call 0, the agent's phone call 0.
fn customer_with_1001(h: &mut Harness) -> String {
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5000");
    assert_eq!(h.state("trunk", 0), CallState::Confirmed, "queue answers");
    assert_eq!(h.state("1001", 0), CallState::Ringing, "agent offered");
    assert_eq!(h.status("1001"), "ringing");
    h.answer("1001", 0);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    assert!(
        h.hears(("trunk", 0), ("1001", 0)),
        "customer hears the agent"
    );
    assert!(
        h.hears(("1001", 0), ("trunk", 0)),
        "agent hears the customer"
    );
    assert_eq!(h.status("1001"), "on_call");
    h.only_call()
}

#[test]
fn agent_phone_calls_another_agent() {
    let mut h = Harness::new();
    h.phone_dials("1001", "1002");
    // The switch challenges the INVITE, the phone retries with credentials,
    // then the callee's phone sends 100 and 180 like a real one.
    assert_eq!(h.state("1002", 0), CallState::Ringing);
    assert_eq!(h.state("1001", 0), CallState::Ringing);
    assert!(h.phone("1001").received().contains(&"407".to_string()));
    assert_eq!(h.status("1002"), "ringing");
    h.run_for(3_000);
    h.answer("1002", 0);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    assert_eq!(h.state("1002", 0), CallState::Confirmed);
    assert!(h.hears(("1001", 0), ("1002", 0)));
    assert!(h.hears(("1002", 0), ("1001", 0)));
    let call = h.only_call();
    h.hangup("1002", 0);
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 200 });
    assert!(h.cdr_ended(&call));
    h.assert_clean();
    assert_eq!(h.status("1001"), "offline");
}

#[test]
fn unanswered_agent_times_out_with_408_to_the_caller() {
    let mut h = Harness::new();
    let now = h.now;
    h.phone("1001").dial("1002", now);
    h.run_for(25_000);
    assert!(matches!(h.state("1002", 0), CallState::Terminated { .. }));
    assert!(matches!(
        h.state("1001", 0),
        CallState::Terminated { status } if status >= 400
    ));
    h.assert_clean();
}

#[test]
fn hold_plays_music_to_the_customer() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    h.command("1001", &call, Command::Hold).expect("hold");
    assert!(h.hears_music(("trunk", 0)));
    assert!(!h.hears(("trunk", 0), ("1001", 0)));
    assert!(!h.hears(("1001", 0), ("trunk", 0)));
    h.command("1001", &call, Command::Unhold).expect("unhold");
    assert!(!h.hears_music(("trunk", 0)));
    assert!(h.hears(("trunk", 0), ("1001", 0)));
    h.hangup("trunk", 0);
    h.assert_clean();
    let ev = h.events(&call);
    for k in ["HOLD", "UNHOLD"] {
        assert!(ev.iter().any(|e| e == k), "{k} logged: {ev:?}");
    }
}

/// The defect of issue 15: real phones send 100 Trying before 180, and the
/// blind transfer must still reach its ringing phase and release agent A.
#[test]
fn blind_transfer_releases_the_agent_when_the_target_rings() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    h.set_state("1002", AgentStatus::Ready);
    h.command(
        "1001",
        &call,
        Command::BlindTransfer(Target::Agent("1002".into())),
    )
    .expect("transfer accepted");
    // 1002's phone answered the INVITE with 100 then 180.
    assert_eq!(h.state("1002", 0), CallState::Ringing);
    assert_eq!(
        h.state("1001", 0),
        CallState::Terminated { status: 200 },
        "agent A released as soon as the target rings"
    );
    assert_ne!(h.status("1001"), "on_call");
    assert!(h.hears_music(("trunk", 0)), "the customer waits with music");
    h.answer("1002", 0);
    assert!(h.hears(("trunk", 0), ("1002", 0)));
    assert!(h.hears(("1002", 0), ("trunk", 0)));
    assert_eq!(h.status("1002"), "on_call");
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn blind_transfer_declined_after_ringing_rings_agent_a_back() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    h.set_state("1002", AgentStatus::Ready);
    h.command(
        "1001",
        &call,
        Command::BlindTransfer(Target::Agent("1002".into())),
    )
    .expect("transfer accepted");
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 200 });
    h.decline("1002", 0, 486);
    // A is rung back on a new call and takes the customer again.
    assert_eq!(h.state("1001", 1), CallState::Ringing, "A rung back");
    h.answer("1001", 1);
    assert!(h.hears(("trunk", 0), ("1001", 1)));
    assert!(h.events(&call).iter().any(|e| e == "TRANSFER_RETURN"));
    h.hangup("1001", 1);
    assert_eq!(h.state("trunk", 0), CallState::Terminated { status: 200 });
    h.assert_clean();
}

#[test]
fn consultative_transfer_completed() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    h.set_state("1002", AgentStatus::Ready);
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    assert!(h.hears_music(("trunk", 0)));
    h.answer("1002", 0);
    assert!(h.hears(("1001", 0), ("1002", 0)), "A talks with B");
    assert!(
        !h.hears(("trunk", 0), ("1001", 0)),
        "customer does not hear the consultation"
    );
    h.command("1001", &call, Command::CompleteTransfer)
        .expect("complete");
    assert!(h.hears(("trunk", 0), ("1002", 0)));
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 200 });
    h.hangup("1002", 0);
    h.assert_clean();
}

#[test]
fn consultative_transfer_cancelled_while_ringing() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    h.set_state("1002", AgentStatus::Ready);
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    assert_eq!(h.state("1002", 0), CallState::Ringing);
    h.command("1001", &call, Command::CancelTransfer)
        .expect("cancel");
    assert_eq!(h.state("1002", 0), CallState::Terminated { status: 487 });
    assert!(
        h.hears(("trunk", 0), ("1001", 0)),
        "A back with the customer"
    );
    assert_eq!(h.status("1002"), "ready");
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn consultative_transfer_declined_by_the_target() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    h.set_state("1002", AgentStatus::Ready);
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    h.answer("1002", 0);
    h.hangup("1002", 0);
    assert!(h.hears(("trunk", 0), ("1001", 0)), "A keeps the customer");
    assert!(!h.hears_music(("trunk", 0)));
    h.hangup("1001", 0);
    h.assert_clean();
}

#[test]
fn three_way_conference_any_party_may_leave() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    h.set_state("1002", AgentStatus::Ready);
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    h.answer("1002", 0);
    h.command("1001", &call, Command::Confer).expect("confer");
    for (a, b) in [("trunk", "1001"), ("trunk", "1002"), ("1001", "1002")] {
        assert!(h.hears((a, 0), (b, 0)), "{a} hears {b}");
        assert!(h.hears((b, 0), (a, 0)), "{b} hears {a}");
    }
    h.hangup("1001", 0);
    assert!(
        h.hears(("trunk", 0), ("1002", 0)),
        "the other two stay connected"
    );
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn overloaded_switch_refuses_new_calls_and_keeps_established_ones() {
    let mut h = Harness::new();
    h.phone_dials("1001", "1002");
    h.answer("1002", 0);
    assert!(h.hears(("1001", 0), ("1002", 0)));
    h.switch.set_overloaded(true);
    h.phone_dials("1003", "1001");
    assert_eq!(h.state("1003", 0), CallState::Terminated { status: 503 });
    assert_eq!(h.media.leg_count(), 2, "no media port for the refused call");
    // The established call still works: hold from the phone, then hang up.
    let now = h.now;
    h.phone("1001").hold(0, now);
    h.settle();
    assert!(
        h.hears_music(("1002", 0)),
        "phone hold plays music to the other party"
    );
    h.hangup("1001", 0);
    assert_eq!(h.state("1002", 0), CallState::Terminated { status: 200 });
    h.switch.set_overloaded(false);
    h.phone_dials("1003", "1002");
    assert_eq!(
        h.state("1002", 1),
        CallState::Ringing,
        "new calls accepted again"
    );
}

/// A bug while handling one call (here a media driver that panics when a
/// recording starts) ends that call alone; the other calls and the switch go on.
#[test]
fn a_failing_call_is_ended_alone() {
    let mut h = Harness::with(harness::Setup {
        campaigns: vec![harness::campaign("support", "inbound", Some("5000"), true)],
        ..harness::Setup::default()
    });
    // A healthy call between two agents.
    h.phone_dials("1002", "1003");
    h.answer("1003", 0);
    assert!(h.hears(("1002", 0), ("1003", 0)));
    // The recorded queue call fails when 1001 answers.
    h.media.panic_on_record();
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    assert_eq!(h.state("trunk", 0), CallState::Terminated { status: 200 });
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 200 });
    assert_ne!(h.status("1001"), "on_call");
    assert_eq!(h.live_calls().len(), 1, "only the healthy call is left");
    // The healthy call still works, and new calls are accepted.
    assert!(h.hears(("1002", 0), ("1003", 0)));
    h.hangup("1003", 0);
    assert_eq!(h.state("1002", 0), CallState::Terminated { status: 200 });
    h.phone_dials("1001", "1002");
    assert_eq!(h.state("1002", 1), CallState::Ringing);
}
