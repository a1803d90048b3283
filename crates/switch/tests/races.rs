//! What real networks and real phones do to a call: CANCEL crossing a 200
//! OK, lost datagrams recovered by retransmission, a blind transfer started
//! from the phone (REFER), with phones that answer 100 then 180.

mod harness;

use harness::{CallState, Harness};
use switchboard_switch::AgentStatus;

/// The caller cancels at the moment the callee answers; the CANCEL reaches
/// the switch first. The callee's late 200 is ACKed and hung up.
#[test]
fn cancel_crossing_the_callees_answer() {
    let mut h = Harness::new();
    h.phone_dials("1001", "1002");
    assert_eq!(h.state("1002", 0), CallState::Ringing);
    let now = h.now;
    h.phone("1001").hangup(0, now); // CANCEL (delivered first: "1001" < "1002")
    h.phone("1002").answer(0, now); // 200 OK on its way
    h.settle();
    h.run_for(1_000);
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 487 });
    assert!(
        matches!(h.state("1002", 0), CallState::Terminated { .. }),
        "the callee's answered leg was ended"
    );
    h.assert_clean();
    assert_eq!(h.status("1002"), "offline");
    h.run_for(40_000);
    let byes = h
        .phone("1002")
        .received()
        .iter()
        .filter(|m| *m == "BYE")
        .count();
    assert_eq!(byes, 1, "one BYE, no retransmission storm");
}

/// The callee's 200 reaches the switch first and the caller's CANCEL comes
/// too late: the caller gets the 200, ACKs it and hangs up with BYE.
#[test]
fn cancel_arriving_after_the_answer() {
    let mut h = Harness::new();
    h.phone_dials("1002", "1001");
    let now = h.now;
    h.phone("1001").answer(0, now); // delivered first
    h.phone("1002").hangup(0, now); // CANCEL crosses the 200
    h.settle();
    h.run_for(2_000);
    assert!(matches!(h.state("1002", 0), CallState::Terminated { .. }));
    assert!(matches!(h.state("1001", 0), CallState::Terminated { .. }));
    h.assert_clean();
}

/// The callee's 200 OK is lost once and the caller's ACK is lost once:
/// UDP retransmissions (T1 = 500 ms) complete the call anyway.
#[test]
fn lost_answer_and_lost_ack_are_retransmitted() {
    let mut h = Harness::new();
    h.phone_dials("1001", "1002");
    h.lose("1002", true, 1); // the callee's 200 OK
    h.answer("1002", 0);
    assert_eq!(h.state("1001", 0), CallState::Ringing, "200 lost");
    h.lose("1001", true, 1); // the caller's first ACK
    h.run_for(600);
    assert_eq!(
        h.state("1001", 0),
        CallState::Confirmed,
        "200 retransmitted"
    );
    h.run_for(2_000);
    assert_eq!(h.state("1002", 0), CallState::Confirmed);
    assert!(h.hears(("1001", 0), ("1002", 0)));
    // The call outlives every transaction timer (64 x T1) without a stray BYE.
    h.run_for(40_000);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    assert_eq!(h.state("1002", 0), CallState::Confirmed);
    h.hangup("1001", 0);
    assert_eq!(h.state("1002", 0), CallState::Terminated { status: 200 });
    h.assert_clean();
}

/// A lost BYE is retransmitted and the call still ends on both sides.
#[test]
fn lost_bye_is_retransmitted() {
    let mut h = Harness::new();
    h.phone_dials("1001", "1002");
    h.answer("1002", 0);
    h.lose("1002", false, 1); // the switch's BYE to 1002
    h.hangup("1001", 0);
    assert_eq!(h.state("1002", 0), CallState::Confirmed, "BYE lost");
    h.run_for(1_000);
    assert_eq!(h.state("1002", 0), CallState::Terminated { status: 200 });
    h.assert_clean();
}

/// The agent's phone transfers the customer with REFER: the target rings,
/// the phone is told how it went (NOTIFY sipfrag), and the customer ends up
/// with the target.
#[test]
fn blind_transfer_from_the_phone_with_refer() {
    let mut h = Harness::new();
    h.set_state("1001", AgentStatus::Ready);
    h.set_state("1002", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    assert!(h.hears(("trunk", 0), ("1001", 0)));
    let now = h.now;
    h.phone("1001").refer(0, "1002", now);
    h.settle();
    assert_eq!(h.state("1002", 0), CallState::Ringing, "target rings");
    assert!(
        !h.phone("1001").calls()[0].refer_notifies.is_empty(),
        "the phone is told how the transfer goes"
    );
    assert!(
        matches!(h.state("1001", 0), CallState::Terminated { .. }) || h.hears_music(("trunk", 0)),
        "the customer waits with music while the target rings"
    );
    h.answer("1002", 0);
    assert!(h.hears(("trunk", 0), ("1002", 0)));
    if h.state("1001", 0) == CallState::Confirmed {
        h.hangup("1001", 0);
    }
    assert!(h.hears(("trunk", 0), ("1002", 0)), "still together");
    h.hangup("trunk", 0);
    h.assert_clean();
}

/// Hundreds of calls of every kind leave nothing behind once they are over
/// and the transaction timers ran out: memory does not grow with calls.
#[test]
fn nothing_is_kept_after_calls_end() {
    let mut h = Harness::new();
    h.set_state("1003", AgentStatus::Ready);
    for i in 0..150 {
        // Agent to number, answered and hung up by either side.
        let c = h.phone_dials("1001", "5551234");
        let t = h.phone("trunk").calls().len() - 1;
        h.answer("trunk", t);
        let now = h.now;
        if i % 2 == 0 {
            h.phone("1001").hangup(c, now);
        } else {
            h.phone("trunk").hangup(t, now);
        }
        h.settle();
        // Agent to agent, cancelled while ringing.
        let c = h.phone_dials("1001", "1002");
        h.hangup("1001", c);
        // A customer through the queue, answered by 1003.
        let t = h.customer_calls("5000");
        let a = h.phone("1003").calls().len() - 1;
        h.answer("1003", a);
        let now = h.now;
        h.phone("trunk").hangup(t, now);
        h.run_for(100);
    }
    let busy = h.switch.stats();
    assert!(busy.dialogs == 0 && busy.legs == 0, "{busy:?}");
    h.run_for(70_000);
    let idle = h.switch.stats();
    assert_eq!(
        idle,
        switchboard_switch::SwitchStats::default(),
        "every table empty once calls and transactions are over"
    );
}
