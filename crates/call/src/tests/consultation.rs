//! Consultative transfers and conferences.

use super::*;

// ---------------------------------------------------------------- consultative transfer

#[test]
fn consultation_puts_customer_on_music_and_a_with_b_once_answered() {
    let (mut h, c, a) = connected();
    let out = h.cmd(Command::ConsultTransfer(agent("bob")));
    let (b, _) = dialed(&out);
    assert_eq!(kinds(&out), ["TRANSFER_CONSULT"]);
    assert_eq!(engaged(&out), ["bob"]);
    assert_eq!(h.state(), CallState::Consulting);
    assert_eq!(h.call.third(), Some((b, &agent("bob"))));
    let tr = h.call.transfer().unwrap();
    assert_eq!(
        (tr.kind, tr.phase),
        (TransferKind::Consultative, TransferPhase::Dialing)
    );
    assert!(hears_music(h.plan(), c));
    assert!(hears_silence(h.plan(), a));

    let out = h.ev(Event::Ringing(b));
    assert_eq!(kinds(&out), ["TRANSFER_RINGING"]);
    assert!(
        hangups(&out).is_empty() && released(&out).is_empty(),
        "no release in a consultation"
    );
    assert!(hears_silence(h.plan(), a));

    let out = h.ev(Event::Answered(b));
    assert_eq!(kinds(&out), ["CONSULT_ANSWERED"]);
    assert!(h.plan().connected(a, b));
    assert!(!h.plan().connected(c, a) && !h.plan().connected(c, b));
    assert!(hears_music(h.plan(), c));
    assert!(!hears_music(h.plan(), a));
    assert_eq!(h.busy(), ["alice", "bob"]);
}

#[test]
fn complete_bridges_customer_to_b_and_releases_a() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.cmd(Command::CompleteTransfer);
    assert_eq!(hangups(&out), [a]);
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(kinds(&out), ["TRANSFER_COMPLETED"]);
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((b, Some("bob"))));
    assert_eq!(h.call.third(), None);
    assert_eq!(h.call.transfer(), None);
    assert!(h.plan().connected(c, b));
    assert!(!hears_music(h.plan(), c));
    assert_eq!(h.busy(), ["bob"]);
    let msg = h.refused(Command::CompleteTransfer);
    assert!(msg.contains("no consultative transfer"), "{msg}");
}

#[test]
fn consultation_to_number_completes() {
    let (mut h, c, a, n) = consult(number("5552000"), TransferPhase::Talking);
    let out = h.cmd(Command::CompleteTransfer);
    assert_eq!(hangups(&out), [a]);
    assert_eq!(h.call.agent(), Some((n, None)));
    assert!(h.plan().connected(c, n));
    assert!(h.busy().is_empty());
}

#[test]
fn cancel_brings_a_back_to_the_customer_in_every_phase() {
    for phase in [
        TransferPhase::Dialing,
        TransferPhase::Ringing,
        TransferPhase::Talking,
    ] {
        let (mut h, c, a, b) = consult(agent("bob"), phase);
        let out = h.cmd(Command::CancelTransfer);
        assert_eq!(hangups(&out), [b], "{phase:?}");
        assert_eq!(released(&out), ["bob"]);
        assert_eq!(kinds(&out), ["TRANSFER_CANCELLED"]);
        assert_eq!(h.state(), CallState::Connected);
        assert_eq!(h.call.third(), None);
        assert_eq!(h.call.transfer(), None);
        assert!(h.plan().connected(c, a));
        assert!(!hears_music(h.plan(), c));
        assert_eq!(h.busy(), ["alice"]);
        let msg = h.refused(Command::CancelTransfer);
        assert!(msg.contains("no consultative transfer"), "{msg}");
    }
}

#[test]
fn b_declining_or_hanging_up_brings_a_back() {
    // Declines while ringing.
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Ringing);
    let out = h.ev(Event::Failed(b, 603));
    assert_eq!(kinds(&out), ["TRANSFER_DECLINED"]);
    assert_eq!(released(&out), ["bob"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(c, a));
    // Hangs up after talking to A.
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.ev(Event::HungUp(b));
    assert_eq!(kinds(&out), ["TRANSFER_DECLINED"]);
    assert_eq!(released(&out), ["bob"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(c, a));
    assert_eq!(h.busy(), ["alice"]);
}

#[test]
fn customer_hanging_up_mid_consultation_ends_everything() {
    for phase in [
        TransferPhase::Dialing,
        TransferPhase::Ringing,
        TransferPhase::Talking,
    ] {
        let (mut h, c, a, b) = consult(agent("bob"), phase);
        let out = h.ev(Event::HungUp(c));
        assert_eq!(hangups(&out), sorted(vec![a, b]), "{phase:?}");
        assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
        assert_eq!(out.last(), Some(&Action::Ended));
        assert_eq!(h.state(), CallState::Ended);
    }
}

#[test]
fn a_hanging_up_while_talking_to_b_completes() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.ev(Event::HungUp(a));
    assert_eq!(kinds(&out), ["TRANSFER_COMPLETED"]);
    assert_eq!(released(&out), ["alice"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((b, Some("bob"))));
    assert!(h.plan().connected(c, b));
    assert_eq!(h.busy(), ["bob"]);
}

#[test]
fn a_hanging_up_while_b_rings_continues_as_blind() {
    for phase in [TransferPhase::Dialing, TransferPhase::Ringing] {
        let (mut h, c, a, b) = consult(agent("bob"), phase);
        let out = h.ev(Event::HungUp(a));
        assert_eq!(kinds(&out), ["TRANSFER_BLIND"]);
        assert_eq!(released(&out), ["alice"]);
        assert!(hangups(&out).is_empty(), "B keeps ringing: {out:?}");
        assert_eq!(h.state(), CallState::Transferring);
        assert_eq!(h.call.transfer().unwrap().kind, TransferKind::Blind);
        assert_eq!(h.call.third(), None);
        assert!(hears_music(h.plan(), c));
        if phase == TransferPhase::Dialing {
            let out = h.ev(Event::Ringing(b));
            assert!(hangups(&out).is_empty() && released(&out).is_empty());
        }
        let out = h.ev(Event::Answered(b));
        assert_eq!(kinds(&out), ["TRANSFER_COMPLETED"]);
        assert!(h.plan().connected(c, b));
        assert_eq!(h.busy(), ["bob"]);
    }
    // ... and if B then fails, A is rung back like any blind transfer.
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Ringing);
    h.ev(Event::HungUp(a));
    let out = h.ev(Event::Failed(b, 408));
    let (back, t) = dialed(&out);
    assert_eq!(t, agent("alice"));
    h.ev(Event::Answered(back));
    assert!(h.plan().connected(c, back));
}

#[test]
fn complete_and_confer_need_an_answer() {
    for phase in [TransferPhase::Dialing, TransferPhase::Ringing] {
        let (mut h, _, _, _) = consult(agent("bob"), phase);
        let msg = h.refused(Command::CompleteTransfer);
        assert!(msg.contains("before the target answers"), "{msg}");
        let msg = h.refused(Command::Confer);
        assert!(msg.contains("before the consulted party answers"), "{msg}");
    }
}

#[test]
fn same_consultation_again_is_idempotent() {
    for phase in [
        TransferPhase::Dialing,
        TransferPhase::Ringing,
        TransferPhase::Talking,
    ] {
        let (mut h, _, _, _) = consult(agent("bob"), phase);
        assert!(h.cmd(Command::ConsultTransfer(agent("bob"))).is_empty());
        let msg = h.refused(Command::ConsultTransfer(agent("carol")));
        assert!(msg.contains("already in progress"), "{msg}");
        let msg = h.refused(Command::BlindTransfer(agent("bob")));
        assert!(msg.contains("already in progress"), "{msg}");
    }
}

#[test]
fn consultation_from_hold_then_cancel() {
    let (mut h, c, a) = held();
    let out = h.cmd(Command::ConsultTransfer(agent("bob")));
    let (b, _) = dialed(&out);
    h.ev(Event::Answered(b));
    assert!(h.plan().connected(a, b) && hears_music(h.plan(), c));
    h.cmd(Command::CancelTransfer);
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(c, a));
}

#[test]
fn hangup_command_mid_consultation() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), sorted(vec![c, a, b]));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

// ---------------------------------------------------------------- conference

#[test]
fn confer_puts_all_three_in_one_room() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.cmd(Command::Confer);
    assert_eq!(kinds(&out), ["CONFERENCE"]);
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    assert_eq!(h.state(), CallState::Conference);
    assert_eq!(h.plan().groups.len(), 1);
    assert_eq!(
        sorted(h.plan().groups[0].legs.clone()),
        sorted(vec![c, a, b])
    );
    assert!(
        h.plan().groups[0].music.is_none(),
        "no music in the conference"
    );
    assert_eq!(h.call.transfer(), None);
    assert_eq!(h.call.third(), Some((b, &agent("bob"))));
    assert_eq!(h.busy(), ["alice", "bob"]);
    // Idempotent.
    assert!(h.cmd(Command::Confer).is_empty());
}

#[test]
fn customer_leaving_conference_leaves_a_with_b() {
    let (mut h, c, a, b) = conference();
    let out = h.ev(Event::HungUp(c));
    assert_eq!(kinds(&out), ["CONFERENCE_LEFT"]);
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(a, b));
    assert_eq!(h.call.agent(), Some((a, Some("alice"))));
    assert_eq!(h.call.customer_leg(), Some(b));
    assert_eq!(h.busy(), ["alice", "bob"]);
    // Bob, now the served party, is released when the call ends.
    let out = h.ev(Event::HungUp(a));
    assert_eq!(hangups(&out), [b]);
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

#[test]
fn a_leaving_conference_hands_the_call_to_b() {
    let (mut h, c, a, b) = conference();
    let out = h.ev(Event::HungUp(a));
    assert_eq!(released(&out), ["alice"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((b, Some("bob"))));
    assert_eq!(h.call.controller(), Some("bob"));
    assert!(h.plan().connected(c, b));
    // bob now controls the call.
    h.cmd(Command::Hold);
    assert!(hears_music(h.plan(), c) && hears_silence(h.plan(), b));
    let out = h.ev(Event::HungUp(c));
    assert_eq!(released(&out), ["bob"]);
}

#[test]
fn b_leaving_conference_leaves_customer_with_a() {
    let (mut h, c, a, b) = conference();
    let out = h.ev(Event::HungUp(b));
    assert_eq!(released(&out), ["bob"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.third(), None);
    assert!(h.plan().connected(c, a));
    assert_eq!(h.busy(), ["alice"]);
}

#[test]
fn conference_with_an_external_number() {
    let (mut h, c, a, n) = consult(number("5552000"), TransferPhase::Talking);
    h.cmd(Command::Confer);
    assert!(h.plan().connected(c, n) && h.plan().connected(a, n));
    // A leaves: customer and number stay, nobody controls the call.
    h.ev(Event::HungUp(a));
    assert!(h.plan().connected(c, n));
    assert_eq!(h.call.controller(), None);
    assert!(h.busy().is_empty());
}

#[test]
fn mute_in_conference() {
    let (mut h, c, a, b) = conference();
    let out = h.cmd(Command::Mute {
        leg: c,
        muted: true,
    });
    assert_eq!(kinds(&out), ["MUTE"]);
    assert_eq!(h.plan().muted, vec![c]);
    assert!(
        h.plan().connected(c, a),
        "a muted party still hears the others"
    );
    assert!(
        h.cmd(Command::Mute {
            leg: c,
            muted: true
        })
        .is_empty(),
        "idempotent mute"
    );
    h.cmd(Command::Mute {
        leg: b,
        muted: true,
    });
    assert_eq!(sorted(h.plan().muted.clone()), sorted(vec![c, b]));
    let out = h.cmd(Command::Mute {
        leg: c,
        muted: false,
    });
    assert_eq!(kinds(&out), ["UNMUTE"]);
    assert_eq!(h.plan().muted, vec![b]);
    assert!(
        h.cmd(Command::Mute {
            leg: a,
            muted: false
        })
        .is_empty(),
        "idempotent unmute"
    );
    let msg = h.refused(Command::Mute {
        leg: 4242,
        muted: true,
    });
    assert!(msg.contains("not part of this conference"), "{msg}");
    // Mutes end with the conference.
    h.cmd(Command::Mute {
        leg: a,
        muted: true,
    });
    h.ev(Event::HungUp(b));
    assert!(h.plan().muted.is_empty());
    assert!(h.plan().connected(c, a));
}

#[test]
fn hangup_command_ends_the_conference() {
    let (mut h, c, a, b) = conference();
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), sorted(vec![c, a, b]));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

#[test]
fn conference_dwindles_to_one_then_ends() {
    let (mut h, c, a, b) = conference();
    h.ev(Event::HungUp(c));
    let out = h.ev(Event::HungUp(b));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn agent_to_agent_call_conference_where_callee_leaves() {
    // alice calls bob from her phone, consults carol, confers; bob (the served party) leaves.
    let (mut h, a, out) = H::from_phone("alice", agent("bob"));
    let (b, _) = dialed(&out);
    h.ev(Event::Answered(b));
    let out = h.cmd(Command::ConsultTransfer(agent("carol")));
    let (cl, _) = dialed(&out);
    h.ev(Event::Answered(cl));
    h.cmd(Command::Confer);
    let out = h.ev(Event::HungUp(b));
    assert_eq!(released(&out), ["bob"]);
    assert!(h.plan().connected(a, cl));
    let out = h.cmd(Command::Hangup);
    assert_eq!(sorted_names(released(&out)), ["alice", "carol"]);
}
