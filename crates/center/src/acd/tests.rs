//! Unit tests of the ACD state machine.

use super::*;

const RETRY: u64 = 2_000;

fn acd(strategy: Strategy, members: &[&str]) -> Acd<u32> {
    let mut a = Acd::new(RETRY);
    a.set_queue(cfg("q", strategy, members, 60_000));
    a
}

fn cfg(name: &str, strategy: Strategy, members: &[&str], timeout_ms: u64) -> QueueConfig {
    QueueConfig {
        name: name.into(),
        strategy,
        members: members.iter().map(|m| m.to_string()).collect(),
        timeout_ms,
    }
}

/// Every decision at `now`, offers as (call, agents).
fn drain(a: &mut Acd<u32>, now: u64) -> Vec<Decision<u32>> {
    std::iter::from_fn(|| a.poll_decision(now)).collect()
}

fn offer(call: u32, agents: &[&str]) -> Decision<u32> {
    Decision::Offer {
        call,
        queue: "q".into(),
        agents: agents.iter().map(|a| a.to_string()).collect(),
    }
}

#[test]
fn longest_idle_offers_the_agent_idle_longest() {
    let mut a = acd(Strategy::LongestIdle, &["a", "b", "c"]);
    a.agent_available("a", 300);
    a.agent_available("b", 100);
    a.agent_available("c", 200);
    a.enqueue(1, "q", 1_000);
    a.enqueue(2, "q", 1_000);
    assert_eq!(
        drain(&mut a, 1_000),
        vec![offer(1, &["b"]), offer(2, &["c"])]
    );
    assert!(!a.is_ready("b") && !a.is_ready("c") && a.is_ready("a"));
    // A new idle time moves the agent within the order.
    a.agent_available("a", 50);
    a.enqueue(3, "q", 1_000);
    assert_eq!(drain(&mut a, 1_000), vec![offer(3, &["a"])]);
}

#[test]
fn round_robin_rotates_over_the_members() {
    let mut a = acd(Strategy::RoundRobin, &["a", "b", "c"]);
    for m in ["a", "b", "c"] {
        a.agent_available(m, 0);
    }
    let mut order = Vec::new();
    for call in 1..=5 {
        a.enqueue(call, "q", 0);
        for d in drain(&mut a, 0) {
            let Decision::Offer { agents, .. } = d else {
                panic!("offer expected")
            };
            order.push(agents[0].clone());
            // The agent takes the call and comes back at once.
            a.remove(&call);
            a.agent_unavailable(&agents[0]);
            a.agent_available(&agents[0], call as u64);
        }
    }
    assert_eq!(order, ["a", "b", "c", "a", "b"]);
    // A member who is not ready is passed over; the turn continues after the one offered.
    a.agent_unavailable("c");
    a.enqueue(6, "q", 0);
    assert_eq!(drain(&mut a, 0), vec![offer(6, &["a"])]);
}

#[test]
fn callers_are_offered_in_arrival_order() {
    let mut a = acd(Strategy::LongestIdle, &["a"]);
    for call in [7, 3, 9] {
        a.enqueue(call, "q", 0);
    }
    assert!(drain(&mut a, 0).is_empty(), "nobody ready");
    let mut got = Vec::new();
    a.agent_available("a", 0);
    while let Some(Decision::Offer { call, .. }) = a.poll_decision(0) {
        got.push(call);
        a.remove(&call);
        a.agent_available("a", got.len() as u64);
    }
    assert_eq!(got, [7, 3, 9]);
    assert_eq!(a.callers("q").count(), 0);
}

#[test]
fn an_agent_who_missed_is_skipped_then_offered_again_when_alone() {
    let mut a = acd(Strategy::LongestIdle, &["a", "b"]);
    a.agent_available("a", 0);
    a.agent_available("b", 10);
    a.enqueue(1, "q", 0);
    assert_eq!(drain(&mut a, 0), vec![offer(1, &["a"])]);
    a.offer_failed(&1, "a", 500);
    assert_eq!(drain(&mut a, 500), vec![offer(1, &["b"])], "b next");
    a.offer_failed(&1, "b", 600);
    assert!(drain(&mut a, 600).is_empty(), "both cool down");
    // Once the cool-down is over, "a" (idle longest) still missed the caller, as did "b":
    // the only agents there are get the caller again.
    assert_eq!(a.next_deadline(), Some(500 + RETRY));
    assert_eq!(drain(&mut a, 500 + RETRY), vec![offer(1, &["a"])]);
    // A member who never missed the caller is preferred over the ones who did.
    a.offer_failed(&1, "a", 3_000);
    a.agent_available("c", 0);
    a.set_queue(cfg("q", Strategy::LongestIdle, &["a", "b", "c"], 60_000));
    assert_eq!(drain(&mut a, 5_000), vec![offer(1, &["c"])]);
}

#[test]
fn ring_all_claims_every_ready_member_and_the_rest_wait() {
    let mut a = acd(Strategy::RingAll, &["a", "b", "c"]);
    a.agent_available("a", 0);
    a.agent_available("b", 0);
    a.enqueue(1, "q", 0);
    a.enqueue(2, "q", 0);
    assert_eq!(drain(&mut a, 0), vec![offer(1, &["a", "b"])]);
    // "a" declines: "b" still rings, caller 1 is not offered again yet.
    a.offer_failed(&1, "a", 10);
    assert!(drain(&mut a, 10).is_empty());
    // "b" answers: caller 1 leaves; "c" becomes ready and rings for caller 2.
    a.remove(&1);
    a.agent_unavailable("b");
    a.agent_available("c", 0);
    assert_eq!(drain(&mut a, 20), vec![offer(2, &["c"])]);
    // "a" is back after its cool-down but caller 2 is already being offered.
    assert!(drain(&mut a, 10 + RETRY).is_empty());
    assert!(a.is_ready("a"));
}

#[test]
fn queue_timeouts_are_deadlines_and_wait_for_a_ringing_offer() {
    let mut a = Acd::new(RETRY);
    a.set_queue(cfg("q", Strategy::LongestIdle, &["a"], 10_000));
    a.set_queue(cfg("other", Strategy::LongestIdle, &["b"], 5_000));
    a.enqueue(1, "q", 0);
    a.enqueue(2, "q", 1_000);
    assert_eq!(a.next_deadline(), Some(10_000));
    assert!(drain(&mut a, 9_999).is_empty());
    let out = drain(&mut a, 10_000);
    assert_eq!(
        out,
        vec![Decision::TimedOut {
            call: 1,
            queue: "q".into()
        }]
    );
    // Overflow into another queue: a new timeout there, the same arrival order.
    assert!(a.enqueue(1, "other", 10_000));
    assert_eq!(a.queue_of(&1), Some("other"));
    assert_eq!(a.next_deadline(), Some(11_000));
    // Caller 2 rings "a" when its timeout passes: it times out when the offer fails.
    a.agent_available("a", 0);
    assert_eq!(drain(&mut a, 10_500), vec![offer(2, &["a"])]);
    assert!(drain(&mut a, 11_000).is_empty());
    a.offer_failed(&2, "a", 12_000);
    let out = drain(&mut a, 12_000);
    assert_eq!(
        out,
        vec![Decision::TimedOut {
            call: 2,
            queue: "q".into()
        }]
    );
    assert_eq!(a.next_deadline(), Some(12_000 + RETRY), "a's cool-down");
    let out = drain(&mut a, 15_000);
    assert_eq!(
        out,
        vec![Decision::TimedOut {
            call: 1,
            queue: "other".into()
        }]
    );
    assert_eq!(a.next_deadline(), None);
    assert!(!a.enqueue(3, "nowhere", 0));
}

#[test]
fn an_agent_in_several_queues_is_offered_once_to_the_longest_waiting_caller() {
    let mut a = Acd::new(RETRY);
    a.set_queue(cfg("sales", Strategy::LongestIdle, &["x"], 60_000));
    a.set_queue(cfg("support", Strategy::RoundRobin, &["y", "x"], 60_000));
    a.enqueue(1, "support", 0);
    a.enqueue(2, "sales", 0);
    a.enqueue(3, "support", 0);
    a.agent_available("x", 0);
    let got = drain(&mut a, 0);
    assert_eq!(
        got,
        vec![Decision::Offer {
            call: 1,
            queue: "support".into(),
            agents: vec!["x".into()]
        }]
    );
    // "x" misses caller 1: caller 2 (sales) is not offered "x" during its cool-down either.
    a.offer_failed(&1, "x", 0);
    assert!(drain(&mut a, 1).is_empty());
    let got = drain(&mut a, RETRY);
    assert_eq!(
        got,
        vec![Decision::Offer {
            call: 1,
            queue: "support".into(),
            agents: vec!["x".into()]
        }],
        "the caller waiting longest, across the agent's queues"
    );
    // A claim that could not be carried out is given back without penalty.
    a.revoke(&1, "x");
    assert!(!a.is_ready("x"));
    a.agent_available("y", 0);
    assert_eq!(
        drain(&mut a, RETRY),
        vec![Decision::Offer {
            call: 1,
            queue: "support".into(),
            agents: vec!["y".into()]
        }]
    );
}
