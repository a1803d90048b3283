//! Exhaustive exploration of plausible event and command sequences.

use super::*;

// ---------------------------------------------------------------- exhaustive exploration

#[derive(Debug, Clone)]
enum Input {
    Ev(Event),
    Cmd(Command),
}

/// Plausible engine events and every agent command, given what the engine
/// knows (and the supervisors' actions when `supervise`).
fn inputs(h: &H, supervise: bool) -> Vec<Input> {
    let mut v = Vec::new();
    for (&l, &s) in &h.legs {
        let queue = matches!(h.targets.get(&l), Some(Target::Campaign(_)));
        match s {
            Leg::Incoming => v.push(Input::Ev(Event::HungUp(l))),
            Leg::Dialing | Leg::Ringing => {
                if s == Leg::Dialing {
                    v.push(Input::Ev(Event::Ringing(l)));
                } else if !queue {
                    v.push(Input::Ev(Event::EarlyMedia(l)));
                }
                v.push(Input::Ev(Event::Answered(l)));
                v.push(Input::Ev(Event::Failed(l, 486)));
                if queue {
                    // Like the engine, a queue only offers callers to agents not busy with this call.
                    for q in ["qa", "qb"] {
                        if !h.busy().contains(&q) {
                            v.push(Input::Ev(Event::Assigned(l, q.into())));
                        }
                    }
                }
            }
            Leg::Up => {
                v.push(Input::Ev(Event::HungUp(l)));
                v.push(Input::Cmd(Command::Mute {
                    leg: l,
                    muted: true,
                }));
                v.push(Input::Cmd(Command::Mute {
                    leg: l,
                    muted: false,
                }));
            }
            Leg::Gone => {}
        }
    }
    for c in [
        Command::Hold,
        Command::Unhold,
        Command::BlindTransfer(agent("bob")),
        Command::BlindTransfer(number("5559000")),
        Command::BlindTransfer(campaign("support")),
        Command::BlindTransfer(agent("alice")),
        Command::ConsultTransfer(agent("bob")),
        Command::ConsultTransfer(number("5559000")),
        Command::ConsultTransfer(campaign("support")),
        Command::CompleteTransfer,
        Command::CancelTransfer,
        Command::Confer,
        Command::Hangup,
    ] {
        v.push(Input::Cmd(c));
    }
    if supervise {
        use crate::{SuperviseMode as M, SupervisorAction as A};
        for who in ["boss", "chief"] {
            for action in [
                A::Mode(M::Listen),
                A::Mode(M::Whisper),
                A::Mode(M::Barge),
                A::TakeOver,
                A::Stop,
            ] {
                v.push(Input::Cmd(Command::Supervise {
                    supervisor: who.into(),
                    phone: who.into(),
                    action,
                }));
            }
        }
    }
    v
}

fn explore(start: H, depth: usize, supervise: bool) -> usize {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([(start, 0usize, Vec::<Input>::new())]);
    let mut count = 0;
    while let Some((h, d, path)) = queue.pop_front() {
        let key = format!("{:?}|{:?}|{:?}", h.call, h.legs, h.engaged);
        if !seen.insert(key) {
            continue;
        }
        count += 1;
        // Whatever happened so far, hanging up ends the call cleanly.
        if !h.ended {
            let mut end = h.clone();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                end.cmd(Command::Hangup);
            }));
            assert!(r.is_ok(), "hangup after {path:?}");
        }
        if d == depth || h.ended {
            continue;
        }
        for input in inputs(&h, supervise) {
            let mut next = h.clone();
            let step = input.clone();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match step {
                Input::Ev(e) => {
                    next.ev(e);
                }
                Input::Cmd(c) => {
                    let _ = next.try_cmd(c);
                }
            }));
            let mut p = path.clone();
            p.push(input);
            assert!(r.is_ok(), "failed after {p:?}");
            queue.push_back((next, d + 1, p));
        }
    }
    count
}

#[test]
fn exhaustive_sequences_keep_invariants() {
    // Breadth-first over every plausible sequence (deduplicated by resulting
    // state); SWITCHBOARD_CALL_DEPTH raises the depth for a longer hunt.
    let depth = std::env::var("SWITCHBOARD_CALL_DEPTH")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(8);
    assert!(depth > 0);
    let starts = vec![
        H::incoming(agent("alice")).0,
        H::incoming(campaign("sales")).0,
        H::incoming(number("5551000")).0,
        H::from_phone("alice", agent("dave")).0,
        H::originated("alice", number("5551000")).0,
        H::originated("alice", agent("dave")).0,
        H::dialer(number("5554000"), campaign("sales")).0,
        connected().0,
        blind(campaign("support")).0,
        consult(agent("bob"), TransferPhase::Talking).0,
        conference().0,
    ];
    let total: usize = starts.into_iter().map(|h| explore(h, depth, false)).sum();
    assert!(total > 10_000, "explored only {total} states");
}

#[test]
fn supervised_sequences_keep_invariants() {
    // Two supervisors' actions on top of every call input, from an answered
    // call and from a consultation.
    let depth = std::env::var("SWITCHBOARD_CALL_DEPTH")
        .ok()
        .and_then(|d| d.parse().ok())
        .map_or(5, |d: usize| d.min(6));
    let starts = vec![
        connected().0,
        consult(agent("bob"), TransferPhase::Talking).0,
    ];
    let total: usize = starts.into_iter().map(|h| explore(h, depth, true)).sum();
    assert!(total > 1_000, "explored only {total} states");
}
