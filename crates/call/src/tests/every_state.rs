//! The ended call, every command in every state (the refusal matrix) and the
//! state invariants.

use super::*;

// ---------------------------------------------------------------- ended

#[test]
fn ended_call_ignores_events_and_refuses_commands() {
    let mut h = ended();
    for l in 0..8u64 {
        let l = (1 << 16) | l;
        for e in [
            Event::Ringing(l),
            Event::EarlyMedia(l),
            Event::Answered(l),
            Event::Failed(l, 486),
            Event::HungUp(l),
            Event::Assigned(l, "x".into()),
        ] {
            assert!(h.call.on_event(e).is_empty());
        }
    }
    for c in all_commands(1 << 16 | 1) {
        let name = c.name();
        let msg = h.refused(c);
        assert_eq!(msg, format!("cannot {name}: the call has ended"));
    }
}

// ---------------------------------------------------------------- refusal matrix

fn all_commands(leg: LegId) -> Vec<Command> {
    vec![
        Command::Hold,
        Command::Unhold,
        Command::BlindTransfer(agent("carol")),
        Command::ConsultTransfer(agent("carol")),
        Command::CompleteTransfer,
        Command::CancelTransfer,
        Command::Confer,
        Command::Mute { leg, muted: true },
        Command::Supervise {
            supervisor: "boss".into(),
            phone: "boss".into(),
            action: crate::SupervisorAction::Mode(crate::SuperviseMode::Listen),
        },
        Command::Hangup,
    ]
}

/// Every state the public API can build, with a leg of it (for mute).
fn states() -> Vec<(&'static str, H, LegId)> {
    let mut v = Vec::new();
    let (h, out) = H::originated("alice", number("5551000"));
    let a = dialed(&out).0;
    v.push(("originating", h, a));
    let (h, out) = H::dialer(number("5554000"), campaign("sales"));
    let c = dialed(&out).0;
    v.push(("originating (dialer)", h, c));
    let (h, c, _) = H::incoming(agent("alice"));
    v.push(("ringing", h, c));
    let (h, c, _) = H::incoming(campaign("sales"));
    v.push(("ringing (queued)", h, c));
    let (h, a, _) = H::from_phone("alice", number("5551000"));
    v.push(("ringing (agent phone)", h, a));
    let (mut h, out) = H::originated("alice", number("5551000"));
    let a = dialed(&out).0;
    h.ev(Event::Answered(a));
    v.push(("ringing (click-to-call)", h, a));
    let (mut h, out) = H::dialer(number("5554000"), campaign("sales"));
    let c = dialed(&out).0;
    h.ev(Event::Answered(c));
    v.push(("ringing (dialer queue)", h, c));
    let (h, c, _) = connected();
    v.push(("connected", h, c));
    let (h, c, _) = held();
    v.push(("held", h, c));
    let (h, c, _, _) = blind(agent("bob"));
    v.push(("transferring dialing", h, c));
    let (mut h, c, _, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    v.push(("transferring ringing", h, c));
    let (mut h, c, _, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    h.ev(Event::Failed(b, 486));
    v.push(("transferring back", h, c));
    for (name, phase) in [
        ("consulting dialing", TransferPhase::Dialing),
        ("consulting ringing", TransferPhase::Ringing),
        ("consulting talking", TransferPhase::Talking),
    ] {
        let (h, c, _, _) = consult(agent("bob"), phase);
        v.push((name, h, c));
    }
    let (h, c, _, _) = conference();
    v.push(("conference", h, c));
    v.push(("ended", ended(), 1 << 16 | 1));
    v
}

/// The refusal expected for a command in a state (None = accepted), as a
/// fragment of its message.
fn expected_refusal(state: &str, cmd: &Command) -> Option<&'static str> {
    use Command::*;
    let consult_unanswered = state == "consulting dialing" || state == "consulting ringing";
    match (cmd, state) {
        (_, "ended") => Some("the call has ended"),
        (Hangup, _) => None,
        (Hold | Unhold, "connected" | "held") => None,
        (Hold, _) => Some("cannot hold while the call is"),
        (Unhold, _) => Some("cannot unhold while the call is"),
        (BlindTransfer(_) | ConsultTransfer(_), "connected" | "held") => None,
        (BlindTransfer(_) | ConsultTransfer(_), s)
            if s.starts_with("transferring") || s.starts_with("consulting") =>
        {
            Some("a transfer is already in progress")
        }
        (BlindTransfer(_), _) => Some("cannot start a blind transfer while the call is"),
        (ConsultTransfer(_), _) => Some("cannot start a consultative transfer while the call is"),
        (CompleteTransfer, "consulting talking") => None,
        (CompleteTransfer, _) if consult_unanswered => Some("before the target answers"),
        (CancelTransfer, s) if s.starts_with("consulting") => None,
        (CompleteTransfer | CancelTransfer, _) => Some("no consultative transfer in progress"),
        (Confer, "consulting talking" | "conference") => None,
        (Confer, _) if consult_unanswered => Some("before the consulted party answers"),
        (Confer, _) => Some("cannot confer: no answered consultation"),
        (Mute { .. }, "conference") => None,
        (Mute { .. }, _) => Some("only conference parties can be muted"),
        (AdoptAgentSide { .. }, "connected" | "held") => None,
        (AdoptAgentSide { .. }, _) => Some("cannot adopt the agent side while the call is"),
        (Detach(_), _) => None,
        (Supervise { .. }, s) if s.starts_with("originating") || s.starts_with("ringing") => {
            Some("cannot supervise while the call is")
        }
        (Supervise { .. }, _) => None,
    }
}

/// How the refusal names the state it was refused in.
fn state_words(state: &str) -> &'static str {
    match state.split(' ').next().unwrap() {
        "originating" => "ringing the agent's phone",
        "ringing" => "ringing",
        "connected" => "connected",
        "held" => "on hold",
        "transferring" => "being transferred",
        "consulting" => "in a consultation",
        "conference" => "in a conference",
        _ => "ended",
    }
}

#[test]
fn every_command_in_every_state() {
    let mut refused = 0;
    for (state, h0, leg) in states() {
        // The builder reached the state it is named after.
        let kind = state.split(' ').next().unwrap();
        assert_eq!(
            format!("{:?}", h0.state()).to_lowercase(),
            kind,
            "builder for {state}"
        );
        for cmd in all_commands(leg) {
            let mut h = h0.clone();
            let name = cmd.name();
            match (expected_refusal(state, &cmd), h.try_cmd(cmd.clone())) {
                (None, Ok(_)) => {}
                (None, Err(msg)) => panic!("{name} refused in {state}: {msg}"),
                (Some(frag), Ok(out)) => {
                    panic!("{name} accepted in {state} (expected '{frag}'): {out:?}")
                }
                (Some(frag), Err(msg)) => {
                    refused += 1;
                    assert!(
                        msg.contains(frag),
                        "{name} in {state}: '{msg}' lacks '{frag}'"
                    );
                    let generic = msg.contains("while the call is") || msg.contains("(call is");
                    if generic {
                        assert!(
                            msg.contains(state_words(state)),
                            "{name} in {state}: '{msg}' does not say the state"
                        );
                    }
                    let stem = name.split(' ').next().unwrap();
                    assert!(
                        msg.contains(stem) || msg.contains("transfer") || msg.contains("ended"),
                        "{name} in {state}: '{msg}' does not say what was refused"
                    );
                }
            }
        }
    }
    assert!(refused > 80, "only {refused} refusals checked");
}

#[test]
fn hold_and_unhold_refused_mid_transfer_and_conference() {
    // Spot-check full messages.
    let (mut h, _, _, _) = consult(agent("bob"), TransferPhase::Talking);
    assert_eq!(
        h.refused(Command::Hold),
        "cannot hold while the call is in a consultation"
    );
    let (mut h, _, _, _) = blind(agent("bob"));
    assert_eq!(
        h.refused(Command::Unhold),
        "cannot unhold while the call is being transferred"
    );
    let (mut h, _, _, _) = conference();
    assert_eq!(
        h.refused(Command::Hold),
        "cannot hold while the call is in a conference"
    );
    assert_eq!(
        h.refused(Command::BlindTransfer(agent("carol"))),
        "cannot start a blind transfer while the call is in a conference"
    );
    let (mut h, _, _) = connected();
    assert_eq!(
        h.refused(Command::CompleteTransfer),
        "cannot complete transfer: no consultative transfer in progress (call is connected)"
    );
    assert_eq!(
        h.refused(Command::Mute {
            leg: 1,
            muted: true
        }),
        "cannot mute: only conference parties can be muted (call is connected)"
    );
}

/// The harness checks after every step the invariants the state types leave
/// open; this makes sure the check is not vacuous.
#[test]
fn state_invariant_check_catches_what_the_types_allow() {
    use crate::state::State;
    for (name, h, _) in states() {
        let v = h.call.state.violations();
        assert!(v.is_empty(), "{name}: {v:?}");
    }
    let broken = |h: &H, f: &dyn Fn(&mut State)| {
        let mut s = h.call.state.clone();
        f(&mut s);
        assert!(!s.violations().is_empty(), "not caught: {s:?}");
    };
    let (h, _, _, _) = blind(agent("bob"));
    broken(&h, &|s| {
        let State::Transferring { transfer, .. } = s else {
            panic!("{s:?}")
        };
        // The agent is released once the target rings.
        transfer.phase = TransferPhase::Ringing;
    });
    broken(&h, &|s| {
        let State::Transferring { transfer, .. } = s else {
            panic!("{s:?}")
        };
        transfer.kind = TransferKind::Consultative;
    });
    let (mut h, _, _, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    h.ev(Event::Failed(b, 486));
    broken(&h, &|s| {
        let State::RingingBack { transfer, .. } = s else {
            panic!("{s:?}")
        };
        transfer.target = agent("carol");
    });
    let (h, _, _, _) = consult(agent("bob"), TransferPhase::Ringing);
    broken(&h, &|s| {
        let State::Consulting { transfer, .. } = s else {
            panic!("{s:?}")
        };
        transfer.kind = TransferKind::Blind;
    });
    broken(&h, &|s| {
        let State::Consulting { transfer, .. } = s else {
            panic!("{s:?}")
        };
        transfer.target = campaign("sales");
    });
    let (h, c, _, _) = conference();
    broken(&h, &|s| {
        let State::Conference { muted, .. } = s else {
            panic!("{s:?}")
        };
        muted.push(12345);
    });
    broken(&h, &|s| {
        let State::Conference { muted, .. } = s else {
            panic!("{s:?}")
        };
        muted.extend([c, c]);
    });
    let (h, c, _) = connected();
    broken(&h, &|s| {
        let State::Connected { agent, .. } = s else {
            panic!("{s:?}")
        };
        agent.leg = c;
    });
    let (h, _) = H::originated("alice", agent("bob"));
    broken(&h, &|s| {
        let State::CallingAgent {
            agent, destination, ..
        } = s
        else {
            panic!("{s:?}")
        };
        destination.0 = *agent;
    });
}
