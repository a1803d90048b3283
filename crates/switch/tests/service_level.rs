//! Live service level of a queue: answered within the threshold (20 s),
//! answered later, abandoned while waiting, and timed out, as the queue
//! view (snapshot and `queues` events) shows them.

mod harness;

use harness::{campaign, CallState, Harness, Setup};
use serde_json::Value;
use switchboard_switch::AgentStatus;

fn support_level(h: &mut Harness) -> Value {
    let s = h.snapshot();
    let q = s["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["campaign"] == "support"))
        .cloned()
        .expect("support queue");
    q["service_level"].clone()
}

#[test]
fn answered_within_answered_late_abandoned_and_timed_out() {
    let mut support = campaign("support", "inbound", Some("5000"), false);
    support.queue_timeout_secs = 60;
    let mut h = Harness::with(Setup {
        agents: vec!["1001"],
        campaigns: vec![support],
        ..Setup::default()
    });
    let level = support_level(&mut h);
    assert_eq!(level["threshold_secs"], 20);
    assert_eq!(level["percent"], Value::Null, "nobody left the queue yet");

    // Answered after 5 s: within.
    h.customer_calls("5000");
    h.run_for(5_000);
    h.set_state("1001", AgentStatus::Ready);
    h.answer("1001", 0);
    assert_eq!(support_level(&mut h)["answered_within"], 1);
    h.hangup("trunk", 0);

    // Answered after 30 s: late.
    h.set_state("1001", AgentStatus::Paused);
    h.customer_calls("5000");
    h.run_for(30_000);
    h.set_state("1001", AgentStatus::Ready);
    h.answer("1001", 1);
    h.hangup("trunk", 1);

    // Hangs up while waiting: abandoned.
    h.set_state("1001", AgentStatus::Paused);
    h.customer_calls("5000");
    h.run_for(3_000);
    h.hangup("trunk", 2);

    // Waits the queue's timeout.
    h.customer_calls("5000");
    h.run_for(61_000);
    assert!(matches!(h.state("trunk", 3), CallState::Terminated { .. }));

    let level = support_level(&mut h);
    assert_eq!(level["answered"], 2, "{level}");
    assert_eq!(level["answered_within"], 1, "{level}");
    assert_eq!(level["abandoned"], 1, "{level}");
    assert_eq!(level["timed_out"], 1, "{level}");
    assert_eq!(level["percent"], 25, "1 of 4 within 20 s: {level}");
    h.assert_clean();
    // The queues event carries it too.
    let last = h
        .published
        .iter()
        .rev()
        .find(|e| e["type"] == "queues")
        .cloned()
        .expect("a queues event");
    assert!(last.to_string().contains("\"abandoned\":1"), "{last}");
}
