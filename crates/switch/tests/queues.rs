//! Inbound queues through the switch with fake phones in virtual time:
//! strategies, offers made the moment an agent is free, skipped agents,
//! timeouts and overflow, and a large queue.

mod harness;

use harness::{campaign, CallState, Harness, Setup};
use switchboard_switch::{AgentStatus, CampaignInfo};

/// The `support` queue (DID 5000) with `members` and `strategy`.
fn support(members: &[&str], strategy: &str) -> CampaignInfo {
    let mut c = campaign("support", "inbound", Some("5000"), false);
    c.strategy = strategy.into();
    c.agents = members.iter().map(|m| m.to_string()).collect();
    c
}

/// A switch with `agents` registered, `campaigns`, and the `ready` agents ready.
fn switch(agents: &[&'static str], campaigns: Vec<CampaignInfo>, ready: &[&str]) -> Harness {
    let mut h = Harness::with(Setup {
        agents: agents.to_vec(),
        campaigns,
        ring_timeout_secs: 20,
        ..Setup::default()
    });
    for a in ready {
        h.set_state(a, AgentStatus::Ready);
    }
    h
}

/// The three default agents in `support` with `strategy`, all ready.
fn three_ready(strategy: &str) -> Harness {
    let agents = ["1001", "1002", "1003"];
    switch(&agents, vec![support(&agents, strategy)], &agents)
}

/// The index of the call ringing on `agent`'s phone, if one is.
fn ringing(h: &mut Harness, agent: &str) -> Option<usize> {
    h.phone(agent)
        .calls()
        .iter()
        .rposition(|c| c.incoming && c.state == CallState::Ringing)
}

/// Which of `agents` have a call ringing.
fn ringing_agents<'a>(h: &mut Harness, agents: &[&'a str]) -> Vec<&'a str> {
    agents
        .iter()
        .copied()
        .filter(|a| ringing(h, a).is_some())
        .collect()
}

/// `agent` answers its ringing call; returns the call's index.
fn answer(h: &mut Harness, agent: &str) -> usize {
    let i = ringing(h, agent).unwrap_or_else(|| panic!("{agent} is ringing"));
    h.answer(agent, i);
    assert_eq!(h.state(agent, i), CallState::Confirmed);
    i
}

/// `phone` hangs up its call `i`.
fn hang_up(h: &mut Harness, phone: &str, i: usize) {
    h.hangup(phone, i);
}

/// Event kinds logged for every call so far.
fn all_events(h: &Harness) -> Vec<String> {
    h.stored
        .iter()
        .filter_map(|o| match o {
            switchboard_switch::StoreOp::CallEvent { kind, .. } => Some(kind.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn longest_idle_offers_the_agent_idle_longest() {
    let mut h = three_ready("longest_idle");
    h.customer_calls("5000");
    assert_eq!(ringing_agents(&mut h, &["1001", "1002", "1003"]), ["1001"]);
    let a = answer(&mut h, "1001");
    h.customer_calls("5000");
    assert_eq!(ringing_agents(&mut h, &["1002", "1003"]), ["1002"]);
    let b = answer(&mut h, "1002");
    // 1002 finishes first, then 1001; 1003 never had a call.
    h.run_for(1_000);
    hang_up(&mut h, "1002", b);
    h.run_for(1_000);
    hang_up(&mut h, "1001", a);
    h.customer_calls("5000");
    assert_eq!(ringing_agents(&mut h, &["1001", "1002", "1003"]), ["1003"]);
    answer(&mut h, "1003");
    h.customer_calls("5000");
    assert_eq!(
        ringing_agents(&mut h, &["1001", "1002"]),
        ["1002"],
        "1002 has been idle longer than 1001"
    );
}

#[test]
fn round_robin_rotates_through_the_members() {
    let mut h = three_ready("round_robin");
    h.customer_calls("5000");
    let a = answer(&mut h, "1001");
    h.customer_calls("5000");
    let b = answer(&mut h, "1002");
    hang_up(&mut h, "1002", b);
    h.run_for(1_000);
    hang_up(&mut h, "1001", a);
    h.set_state("1003", AgentStatus::Paused);
    // Longest idle would pick 1002; the turn after 1002 is 1003 (paused), then 1001.
    h.customer_calls("5000");
    assert_eq!(ringing_agents(&mut h, &["1001", "1002", "1003"]), ["1001"]);
    answer(&mut h, "1001");
    h.customer_calls("5000");
    assert_eq!(ringing_agents(&mut h, &["1002", "1003"]), ["1002"]);
}

#[test]
fn ring_all_rings_every_ready_member_and_the_first_answer_wins() {
    let mut h = three_ready("ring_all");
    h.customer_calls("5000");
    let all = ["1001", "1002", "1003"];
    assert_eq!(ringing_agents(&mut h, &all), all);
    for a in all {
        assert_eq!(h.status(a), "ringing");
    }
    answer(&mut h, "1002");
    for a in ["1001", "1003"] {
        assert_eq!(h.state(a, 0), CallState::Terminated { status: 487 });
        assert!(h.phone(a).received().contains(&"CANCEL".to_string()));
        assert_eq!(h.status(a), "ready");
    }
    assert_eq!(h.status("1002"), "on_call");
    assert!(h.hears(("trunk", 0), ("1002", 0)));
    assert!(h.hears(("1002", 0), ("trunk", 0)));
    let call = h.only_call();
    assert!(h.events(&call).contains(&"QUEUE_RING_ALL".to_string()));
    // The next caller rings the two agents still free.
    h.customer_calls("5000");
    assert_eq!(ringing_agents(&mut h, &all), ["1001", "1003"]);
}

#[test]
fn a_freed_agent_is_offered_the_next_caller_at_once() {
    let agents = ["1001", "1002", "1003"];
    let mut h = switch(&agents, vec![support(&agents, "longest_idle")], &["1001"]);
    h.customer_calls("5000");
    let first = answer(&mut h, "1001");
    h.customer_calls("5000");
    h.customer_calls("5000");
    assert_eq!(
        h.state("trunk", 1),
        CallState::Confirmed,
        "queued with music"
    );
    assert!(h.hears_music(("trunk", 1)));
    assert!(ringing(&mut h, "1001").is_none());
    // The call ends: the next caller rings 1001 within the same input, no time passing.
    hang_up(&mut h, "trunk", 0);
    assert_eq!(ringing(&mut h, "1001"), Some(first + 1));
    assert_eq!(h.status("1001"), "ringing");
    // An agent who becomes ready takes the caller after it, also at once.
    h.set_state("1002", AgentStatus::Ready);
    assert_eq!(ringing(&mut h, "1002"), Some(0));
}

#[test]
fn after_call_work_ends_on_its_deadline_with_the_next_offer() {
    let agents = ["1001", "1002", "1003"];
    let mut c = support(&agents, "longest_idle");
    c.acw_secs = 5;
    let mut h = switch(&agents, vec![c], &["1001"]);
    h.customer_calls("5000");
    let first = answer(&mut h, "1001");
    h.customer_calls("5000");
    hang_up(&mut h, "1001", first);
    assert_eq!(h.status("1001"), "after_call_work");
    h.run_for(4_999);
    assert!(ringing(&mut h, "1001").is_none(), "still wrapping up");
    h.run_for(1);
    assert_eq!(ringing(&mut h, "1001"), Some(first + 1));
}

#[test]
fn an_agent_who_does_not_answer_is_skipped_and_the_caller_stays_queued() {
    let agents = ["1001", "1002", "1003"];
    let mut h = switch(
        &agents,
        vec![support(&agents, "longest_idle")],
        &["1001", "1002"],
    );
    h.customer_calls("5000");
    assert_eq!(ringing_agents(&mut h, &agents), ["1001"]);
    h.decline("1001", 0, 486);
    assert_eq!(
        ringing_agents(&mut h, &agents),
        ["1002"],
        "next agent at once"
    );
    assert_eq!(h.state("trunk", 0), CallState::Confirmed);
    assert!(h.hears_music(("trunk", 0)));
    // 1002 lets it ring out; 1001, who declined earlier, is the only one left.
    h.run_for(20_000);
    assert_eq!(h.state("1002", 0), CallState::Terminated { status: 487 });
    assert_eq!(ringing_agents(&mut h, &agents), ["1001"]);
    let kinds = all_events(&h);
    let skipped = kinds.iter().filter(|k| *k == "QUEUE_NO_ANSWER").count();
    assert_eq!(skipped, 2, "{kinds:?}");
    answer(&mut h, "1001");
    assert!(h.hears(("trunk", 0), ("1001", 1)));
}

#[test]
fn a_lone_agent_who_declines_is_offered_the_caller_again_after_a_pause() {
    let agents = ["1001", "1002", "1003"];
    let mut h = switch(&agents, vec![support(&agents, "round_robin")], &["1001"]);
    h.phone("1001").behaviour_mut().auto_decline = Some(486);
    h.customer_calls("5000");
    assert_eq!(h.phone("1001").calls().len(), 1, "no offer loop");
    h.run_for(2_000);
    assert_eq!(h.phone("1001").calls().len(), 2, "offered again");
    assert_eq!(h.state("trunk", 0), CallState::Confirmed);
}

#[test]
fn queue_timeout_ends_the_call_without_overflow() {
    let agents = ["1001", "1002", "1003"];
    let mut c = support(&agents, "longest_idle");
    c.queue_timeout_secs = 10;
    let mut h = switch(&agents, vec![c], &[]);
    h.customer_calls("5000");
    let call = h.only_call();
    h.run_for(9_999);
    assert_eq!(h.state("trunk", 0), CallState::Confirmed);
    h.run_for(1);
    assert!(matches!(h.state("trunk", 0), CallState::Terminated { .. }));
    assert!(h.events(&call).contains(&"QUEUE_TIMEOUT".to_string()));
    assert!(h.live_calls().is_empty());
}

#[test]
fn queue_timeout_overflows_to_a_campaign_an_agent_or_a_number() {
    let agents = ["1001", "1002", "1003"];
    for (target, expect) in [
        ("campaign:sales", "1003"),
        ("agent:1002", "1002"),
        ("number:555", "trunk"),
    ] {
        let mut c = support(&["1001"], "longest_idle");
        c.queue_timeout_secs = 10;
        c.overflow_target = Some(target.into());
        let mut sales = campaign("sales", "inbound", Some("6000"), false);
        sales.agents = vec!["1003".into()];
        let mut h = switch(&agents, vec![c, sales], &["1003"]);
        h.customer_calls("5000");
        let call = h.only_call();
        h.run_for(10_000);
        let events = h.events(&call);
        assert!(
            events.contains(&"QUEUE_OVERFLOW".to_string()),
            "{target}: {events:?}"
        );
        if expect == "trunk" {
            let out = h.phone("trunk").calls().iter().any(|c| c.incoming);
            assert!(out, "{target}: the number is dialled");
        } else {
            assert_eq!(ringing_agents(&mut h, &agents), [expect], "{target}");
            answer(&mut h, expect);
            assert!(h.hears(("trunk", 0), (expect, 0)), "{target}");
        }
    }
}

#[test]
fn queue_positions_are_published_in_arrival_order() {
    let agents = ["1001", "1002", "1003"];
    let mut h = switch(&agents, vec![support(&agents, "longest_idle")], &[]);
    for _ in 0..3 {
        h.customer_calls("5000");
    }
    h.run_for(1_000);
    let last = h
        .published
        .iter()
        .rev()
        .find(|v| v["type"] == "queues")
        .expect("a queues event")
        .clone();
    let q = &last["queues"][0];
    assert_eq!(q["waiting"], 3, "{q}");
    let waits: Vec<u64> = (0..3)
        .map(|i| q["calls"][i]["wait_ms"].as_u64().unwrap())
        .collect();
    assert!(waits[0] >= waits[1] && waits[1] >= waits[2], "{waits:?}");
    assert_eq!(q["calls"][2]["position"], 3);
    h.set_state("1001", AgentStatus::Ready);
    h.run_for(1_000);
    let last = h
        .published
        .iter()
        .rev()
        .find(|v| v["type"] == "queues")
        .unwrap();
    assert_eq!(last["queues"][0]["calls"][0]["ringing"], "1001");
}

#[test]
fn two_hundred_agents_and_five_hundred_callers() {
    let started = std::time::Instant::now();
    let agents: Vec<&'static str> = (0..200)
        .map(|i| &*Box::leak(format!("{}", 2000 + i).into_boxed_str()))
        .collect();
    let mut h = switch(&agents, vec![support(&agents, "longest_idle")], &agents);
    for _ in 0..500 {
        h.customer_calls("5000");
    }
    let mut served = 0;
    while served < 500 {
        let rung = ringing_agents(&mut h, &agents);
        assert_eq!(
            rung.len(),
            (500 - served).min(200),
            "every free agent rings"
        );
        let calls: Vec<(&str, usize)> = rung.iter().map(|a| (*a, answer(&mut h, a))).collect();
        served += calls.len();
        assert_eq!(h.snapshot()["queues"][0]["waiting"], 500 - served);
        // Each hang-up offers the agent the next caller at once.
        for (a, i) in calls {
            hang_up(&mut h, a, i);
        }
    }
    assert!(h.live_calls().is_empty());
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
}

#[test]
fn an_expired_registration_takes_the_agent_out_of_the_queue() {
    let agents = ["1001", "1002", "1003"];
    let mut h = switch(&agents, vec![support(&agents, "longest_idle")], &["1001"]);
    // The phones registered for an hour and never refresh.
    h.run_for(3_600_000);
    let gone = h
        .published
        .iter()
        .filter(|v| v["type"] == "agent_registration" && v["registered"] == false)
        .count();
    assert_eq!(gone, 3, "each expiry noticed once, on its deadline");
    h.customer_calls("5000");
    assert!(
        ringing(&mut h, "1001").is_none(),
        "not offered: unreachable"
    );
    // Registering again makes 1001 available: the waiting caller rings it at once.
    let now = h.now;
    h.phone("1001").register(now);
    h.settle();
    assert_eq!(ringing(&mut h, "1001"), Some(0));
}
