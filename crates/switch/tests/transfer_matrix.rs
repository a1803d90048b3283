//! The transfer matrix: every transfer kind × recording on/off × what the
//! target (or the customer, or agent A) does, with phones that behave like
//! real ones (100 Trying, 180 Ringing, sometimes 183 early media). Each
//! scenario checks who hears whom on the way, and at the end that nothing
//! is left: no live call, no media leg or room, no agent stuck ringing or on
//! a call, one closed CDR, no recording still running.

mod harness;

use harness::{campaign, CallState, Harness, Setup};
use serde_json::Value;
use switchboard_call::{Command, Target};
use switchboard_switch::{AgentStatus, StoreOp};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    BlindAgent,
    BlindNumber,
    BlindCampaign,
    ConsultAgent,
    ConsultNumber,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// The target answers (consultative: then A completes).
    Answers,
    /// The target plays early media (183) before answering.
    EarlyMediaThenAnswers,
    /// The target rings, then declines with 486.
    BusyAfterRinging,
    /// The target declines at once (100 Trying, then 486; never rings).
    BusyAtOnce,
    /// Nobody answers until the ring timeout.
    NoAnswer,
    /// The customer hangs up while the target rings.
    CustomerHangsUpWhileRinging,
    /// Consultative: A cancels while the target rings.
    CancelWhileRinging,
    /// Consultative: the target answers, then hangs up (does not take it).
    TargetDeclinesAfterTalking,
    /// Consultative: the customer hangs up while A talks with the target.
    CustomerHangsUpWhileConsulting,
    /// Consultative: A hangs up while talking with the target (completes).
    AgentHangsUpWhileConsulting,
    /// Consultative: A hangs up while the target rings (continues as blind).
    AgentHangsUpWhileRinging,
    /// Consultative: three-way conference, then A leaves.
    ConferenceThenAgentLeaves,
}

const CUSTOMER: (&str, usize) = ("trunk", 0);
const AGENT_A: (&str, usize) = ("1001", 0);
const AGENT_A_RUNG_BACK: (&str, usize) = ("1001", 1);

fn target_party(kind: Kind) -> (&'static str, usize) {
    match kind {
        Kind::BlindAgent | Kind::ConsultAgent => ("1002", 0),
        Kind::BlindNumber | Kind::ConsultNumber => ("trunk", 1),
        Kind::BlindCampaign => ("1003", 0),
    }
}

fn target(kind: Kind) -> Target {
    match kind {
        Kind::BlindAgent | Kind::ConsultAgent => Target::Agent("1002".into()),
        Kind::BlindNumber | Kind::ConsultNumber => Target::Number("5551234".into()),
        Kind::BlindCampaign => Target::Campaign("sales".into()),
    }
}

fn blind(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::BlindAgent | Kind::BlindNumber | Kind::BlindCampaign
    )
}

/// Run one scenario; panics with the scenario's name on the first failed check.
fn run(kind: Kind, recording: bool, outcome: Outcome) {
    let name = format!("{kind:?} / recording {recording} / {outcome:?}");
    let mut support = campaign("support", "inbound", Some("5000"), recording);
    support.agents = vec!["1001".into()];
    let mut sales = campaign("sales", "inbound", Some("6000"), false);
    sales.agents = vec!["1003".into()];
    let mut h = Harness::with(Setup {
        campaigns: vec![support, sales],
        ..Setup::default()
    });
    let t = target_party(kind);
    // How the target's phone behaves.
    {
        let b = h.phone(t.0).behaviour_mut();
        match outcome {
            Outcome::EarlyMediaThenAnswers => b.provisional = vec![100, 183],
            Outcome::BusyAtOnce => {
                b.provisional = vec![100];
                b.auto_decline = Some(486);
            }
            _ => {}
        }
    }
    // The customer reaches agent A through the support queue.
    h.set_state("1001", AgentStatus::Ready);
    h.set_state("1002", AgentStatus::Ready);
    h.set_state("1003", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    assert!(h.hears(CUSTOMER, AGENT_A), "{name}: customer talks with A");
    let call = h.only_call();
    let command = if blind(kind) {
        Command::BlindTransfer(target(kind))
    } else {
        Command::ConsultTransfer(target(kind))
    };
    h.command("1001", &call, command)
        .unwrap_or_else(|e| panic!("{name}: transfer refused: {e}"));

    // Who is with the customer at the end, to hang up last.
    let mut last: Option<(&str, usize)> = None;
    match outcome {
        Outcome::Answers | Outcome::EarlyMediaThenAnswers => {
            if outcome == Outcome::EarlyMediaThenAnswers && !matches!(kind, Kind::BlindCampaign) {
                assert_eq!(h.state(t.0, t.1), CallState::Early, "{name}: 183 sent");
            }
            h.answer(t.0, t.1);
            if !blind(kind) {
                assert!(h.hears(AGENT_A, t), "{name}: A consults the target");
                assert!(h.hears_music(CUSTOMER), "{name}: customer on hold");
                h.command("1001", &call, Command::CompleteTransfer)
                    .unwrap_or_else(|e| panic!("{name}: complete refused: {e}"));
            }
            assert!(h.hears(CUSTOMER, t), "{name}: customer with the target");
            assert!(h.hears(t, CUSTOMER), "{name}: target hears the customer");
            assert!(
                matches!(h.state("1001", 0), CallState::Terminated { .. }),
                "{name}: A released"
            );
            last = Some(t);
        }
        Outcome::BusyAfterRinging | Outcome::NoAnswer => {
            assert_eq!(
                h.state(t.0, t.1),
                CallState::Ringing,
                "{name}: target rings"
            );
            if outcome == Outcome::NoAnswer {
                h.run_for(21_000);
            } else {
                h.decline(t.0, t.1, 486);
            }
            if blind(kind) {
                assert_eq!(
                    h.state(AGENT_A_RUNG_BACK.0, AGENT_A_RUNG_BACK.1),
                    CallState::Ringing,
                    "{name}: A rung back"
                );
                h.answer("1001", 1);
                assert!(h.hears(CUSTOMER, AGENT_A_RUNG_BACK), "{name}: back with A");
                last = Some(AGENT_A_RUNG_BACK);
            } else {
                assert!(h.hears(CUSTOMER, AGENT_A), "{name}: A keeps the customer");
                assert!(!h.hears_music(CUSTOMER), "{name}: music stopped");
                last = Some(AGENT_A);
            }
        }
        Outcome::BusyAtOnce => {
            assert!(
                matches!(h.state(t.0, t.1), CallState::Terminated { status: 486 }),
                "{name}: target declined"
            );
            assert_eq!(
                h.state("1001", 0),
                CallState::Confirmed,
                "{name}: A never left"
            );
            assert!(
                h.hears(CUSTOMER, AGENT_A),
                "{name}: A back with the customer"
            );
            last = Some(AGENT_A);
        }
        Outcome::CustomerHangsUpWhileRinging => {
            assert_eq!(
                h.state(t.0, t.1),
                CallState::Ringing,
                "{name}: target rings"
            );
            h.hangup(CUSTOMER.0, CUSTOMER.1);
            assert_eq!(
                h.state(t.0, t.1),
                CallState::Terminated { status: 487 },
                "{name}: target's ringing cancelled"
            );
        }
        Outcome::CancelWhileRinging => {
            h.command("1001", &call, Command::CancelTransfer)
                .unwrap_or_else(|e| panic!("{name}: cancel refused: {e}"));
            assert_eq!(h.state(t.0, t.1), CallState::Terminated { status: 487 });
            assert!(
                h.hears(CUSTOMER, AGENT_A),
                "{name}: A back with the customer"
            );
            last = Some(AGENT_A);
        }
        Outcome::TargetDeclinesAfterTalking => {
            h.answer(t.0, t.1);
            h.hangup(t.0, t.1);
            assert!(
                h.hears(CUSTOMER, AGENT_A),
                "{name}: A back with the customer"
            );
            last = Some(AGENT_A);
        }
        Outcome::CustomerHangsUpWhileConsulting => {
            h.answer(t.0, t.1);
            h.hangup(CUSTOMER.0, CUSTOMER.1);
            assert!(
                matches!(h.state(t.0, t.1), CallState::Terminated { .. }),
                "{name}: consultation ended with the call"
            );
            assert!(
                matches!(h.state("1001", 0), CallState::Terminated { .. }),
                "{name}: A's leg ended"
            );
        }
        Outcome::AgentHangsUpWhileConsulting => {
            h.answer(t.0, t.1);
            h.hangup(AGENT_A.0, AGENT_A.1);
            assert!(h.hears(CUSTOMER, t), "{name}: the transfer completed");
            last = Some(t);
        }
        Outcome::AgentHangsUpWhileRinging => {
            h.hangup(AGENT_A.0, AGENT_A.1);
            assert!(h.hears_music(CUSTOMER), "{name}: customer waits with music");
            h.answer(t.0, t.1);
            assert!(
                h.hears(CUSTOMER, t),
                "{name}: continued as a blind transfer"
            );
            last = Some(t);
        }
        Outcome::ConferenceThenAgentLeaves => {
            h.answer(t.0, t.1);
            h.command("1001", &call, Command::Confer)
                .unwrap_or_else(|e| panic!("{name}: confer refused: {e}"));
            for (a, b) in [(CUSTOMER, AGENT_A), (CUSTOMER, t), (AGENT_A, t)] {
                assert!(
                    h.hears(a, b) && h.hears(b, a),
                    "{name}: {a:?} and {b:?} talk"
                );
            }
            h.hangup(AGENT_A.0, AGENT_A.1);
            assert!(h.hears(CUSTOMER, t), "{name}: the other two stay");
            last = Some(t);
        }
    }
    if let Some(p) = last {
        h.hangup(p.0, p.1);
    }
    h.run_for(1_000);

    // Nothing left behind.
    let calls = h.live_calls();
    assert!(calls.is_empty(), "{name}: no live call left: {calls:?}");
    assert_eq!(h.media.leg_count(), 0, "{name}: media legs released");
    assert_eq!(h.media.room_count(), 0, "{name}: rooms destroyed");
    for a in ["1001", "1002", "1003"] {
        let s = h.status(a);
        assert!(
            s == "ready" || s == "after_call_work",
            "{name}: agent {a} is {s}"
        );
    }
    for (p, c) in [CUSTOMER, AGENT_A, t] {
        if let Some(pc) = h.phone(p).calls().get(c) {
            assert!(
                matches!(pc.state, CallState::Terminated { .. }),
                "{name}: {p} call {c} ended ({:?})",
                pc.state
            );
        }
    }
    let ended = h
        .stored
        .iter()
        .filter(|o| matches!(o, StoreOp::CallEnded { call: c, .. } if *c == call))
        .count();
    assert_eq!(ended, 1, "{name}: one closed CDR");
    let started = h
        .stored
        .iter()
        .filter(|o| matches!(o, StoreOp::RecordingStarted { call: c, .. } if *c == call))
        .count();
    if recording {
        assert!(started >= 1, "{name}: recorded");
    } else {
        assert_eq!(started, 0, "{name}: not recorded");
    }
    assert!(
        h.media.recordings().iter().all(|(_, running)| !running),
        "{name}: no recording left running"
    );
    // Every published call view is well-formed JSON with an id.
    assert!(h
        .published
        .iter()
        .filter(|v| v["type"] == "call")
        .all(|v| v["call"]["call_id"].is_string() || v["call"] == Value::Null));
}

fn matrix(kinds: &[Kind], outcomes: &[Outcome]) {
    for &kind in kinds {
        for recording in [false, true] {
            for &outcome in outcomes {
                run(kind, recording, outcome);
            }
        }
    }
}

#[test]
fn blind_transfers_to_agents_and_numbers() {
    matrix(
        &[Kind::BlindAgent, Kind::BlindNumber],
        &[
            Outcome::Answers,
            Outcome::EarlyMediaThenAnswers,
            Outcome::BusyAfterRinging,
            Outcome::BusyAtOnce,
            Outcome::NoAnswer,
            Outcome::CustomerHangsUpWhileRinging,
        ],
    );
}

#[test]
fn blind_transfers_to_a_campaign_queue() {
    matrix(
        &[Kind::BlindCampaign],
        &[
            Outcome::Answers,
            Outcome::EarlyMediaThenAnswers,
            Outcome::CustomerHangsUpWhileRinging,
        ],
    );
}

#[test]
fn consultative_transfers_to_agents_and_numbers() {
    matrix(
        &[Kind::ConsultAgent, Kind::ConsultNumber],
        &[
            Outcome::Answers,
            Outcome::EarlyMediaThenAnswers,
            Outcome::BusyAfterRinging,
            Outcome::BusyAtOnce,
            Outcome::NoAnswer,
            Outcome::CustomerHangsUpWhileRinging,
            Outcome::CancelWhileRinging,
            Outcome::TargetDeclinesAfterTalking,
            Outcome::CustomerHangsUpWhileConsulting,
            Outcome::AgentHangsUpWhileConsulting,
            Outcome::AgentHangsUpWhileRinging,
            Outcome::ConferenceThenAgentLeaves,
        ],
    );
}
