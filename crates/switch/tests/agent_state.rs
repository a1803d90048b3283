//! A supervisor pauses, readies or logs out an agent: the state log names
//! the supervisor, the agent's console gets the live event, an agent on a
//! call keeps it and takes the new state after it, and bad requests are
//! refused.

mod harness;

use harness::{Harness, Setup};
use serde_json::Value;
use switchboard_center::ApiError;
use switchboard_switch::{AgentStatus, EngineRequest, StoreOp};

const CUSTOMER: (&str, usize) = ("trunk", 0);
const AGENT: (&str, usize) = ("1001", 0);

fn harness() -> Harness {
    Harness::with(Setup {
        agents: vec!["1001", "1002", "9001"],
        ..Setup::default()
    })
}

fn set_by(
    h: &mut Harness,
    agent: &str,
    state: AgentStatus,
    reason: Option<&str>,
    by: &str,
) -> Result<Value, ApiError> {
    let (agent, reason, by) = (
        agent.to_string(),
        reason.map(str::to_string),
        by.to_string(),
    );
    h.api(|reply| EngineRequest::SetAgentState {
        agent,
        state,
        reason,
        by: Some(by),
        reply,
    })
}

/// The agent's state log: (status, reason, by).
fn state_log(h: &Harness) -> Vec<(AgentStatus, Option<String>, Option<String>)> {
    h.stored
        .iter()
        .filter_map(|o| match o {
            StoreOp::AgentState {
                status, reason, by, ..
            } => Some((*status, reason.clone(), by.clone())),
            _ => None,
        })
        .collect()
}

fn last_event_of(h: &Harness, agent: &str) -> Value {
    h.published
        .iter()
        .rev()
        .find(|e| e["type"] == "agent_state" && e["agent"] == agent)
        .cloned()
        .expect("an agent_state event")
}

#[test]
fn a_supervisor_pauses_readies_and_logs_out_an_idle_agent() {
    let mut h = harness();
    h.set_state("1002", AgentStatus::Ready);
    assert_eq!(state_log(&h), vec![(AgentStatus::Ready, None, None)]);

    let p = set_by(
        &mut h,
        "1002",
        AgentStatus::Paused,
        Some("Coaching"),
        "9001",
    )
    .unwrap();
    assert_eq!(p["status"], "paused");
    assert_eq!(p["pause_reason"], "Coaching");
    assert_eq!(p["chosen_by"], "9001");
    let ev = last_event_of(&h, "1002");
    assert_eq!(ev["status"], "paused");
    assert_eq!(ev["chosen_by"], "9001");
    assert_eq!(ev["pause_reason"], "Coaching");

    set_by(&mut h, "1002", AgentStatus::Ready, None, "9001").unwrap();
    assert_eq!(h.status("1002"), "ready");
    set_by(&mut h, "1002", AgentStatus::Offline, None, "9001").unwrap();
    assert_eq!(h.status("1002"), "offline");
    assert_eq!(
        state_log(&h)[1..],
        [
            (
                AgentStatus::Paused,
                Some("Coaching".into()),
                Some("9001".into())
            ),
            (AgentStatus::Ready, None, Some("9001".into())),
            (AgentStatus::Offline, None, Some("9001".into())),
        ]
    );
    // The agent's own choice afterwards is the agent's.
    h.set_state("1002", AgentStatus::Ready);
    assert_eq!(
        state_log(&h).last(),
        Some(&(AgentStatus::Ready, None, None))
    );
    assert_eq!(last_event_of(&h, "1002")["chosen_by"], Value::Null);
}

#[test]
fn an_agent_paused_on_a_call_keeps_it_and_is_paused_after_it() {
    let mut h = harness();
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    assert!(h.hears(CUSTOMER, AGENT) && h.hears(AGENT, CUSTOMER));
    let before = state_log(&h).len();

    let p = set_by(&mut h, "1001", AgentStatus::Paused, Some("Lunch"), "9001").unwrap();
    assert_eq!(p["status"], "on_call");
    assert_eq!(p["chosen"], "paused");
    assert!(h.hears(CUSTOMER, AGENT) && h.hears(AGENT, CUSTOMER));
    assert_eq!(h.live_calls().len(), 1);
    // The on-call entry is not the supervisor's doing.
    assert_eq!(
        state_log(&h)[before..],
        [(AgentStatus::OnCall, Some("Lunch".into()), None)]
    );

    h.hangup("1001", 0);
    assert!(h.live_calls().is_empty());
    assert_eq!(h.status("1001"), "paused");
    assert_eq!(
        state_log(&h).last(),
        Some(&(
            AgentStatus::Paused,
            Some("Lunch".into()),
            Some("9001".into())
        ))
    );
    // Paused: the next customer waits in the queue, 1001's phone stays quiet.
    let next = h.customer_calls("5000");
    h.run_for(5_000);
    assert_eq!(h.phone("1001").calls().len(), 1);
    assert_eq!(h.status("1001"), "paused");
    h.hangup("trunk", next);
    h.assert_clean();
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let mut h = harness();
    h.set_state("1002", AgentStatus::Ready);
    let n = state_log(&h).len();
    let e = set_by(&mut h, "nobody", AgentStatus::Paused, Some("Lunch"), "9001").unwrap_err();
    assert_eq!(e.status, 404, "{e}");
    let e = set_by(&mut h, "1002", AgentStatus::Paused, Some("  "), "9001").unwrap_err();
    assert_eq!(e.status, 400, "{e}");
    let e = set_by(&mut h, "1002", AgentStatus::OnCall, None, "9001").unwrap_err();
    assert_eq!(e.status, 400, "{e}");
    assert_eq!(h.status("1002"), "ready");
    assert_eq!(state_log(&h).len(), n);
}
