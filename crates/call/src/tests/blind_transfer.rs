//! Hold, blind transfers, and attended transfers done by the agent's phone.

use super::*;

// ---------------------------------------------------------------- hold

#[test]
fn hold_plays_music_to_customer_and_silence_to_agent() {
    let (mut h, c, a) = connected();
    let out = h.cmd(Command::Hold);
    assert_eq!(h.state(), CallState::Held);
    assert_eq!(kinds(&out), ["HOLD"]);
    assert!(matches!(out.last(), Some(Action::Media(_))));
    assert!(hears_music(h.plan(), c));
    assert!(hears_silence(h.plan(), a));
    assert!(!h.plan().connected(c, a));
    assert_eq!(h.plan().group_of(c).unwrap().music.as_deref(), Some(MUSIC));

    let out = h.cmd(Command::Unhold);
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(kinds(&out), ["UNHOLD"]);
    assert!(h.plan().connected(c, a));
    assert!(!hears_music(h.plan(), c) && !hears_music(h.plan(), a));
}

#[test]
fn hold_and_unhold_are_idempotent() {
    let (mut h, _, _) = connected();
    assert!(h.cmd(Command::Unhold).is_empty(), "unhold when not held");
    h.cmd(Command::Hold);
    let plan = h.plan().clone();
    assert!(h.cmd(Command::Hold).is_empty(), "hold when held");
    assert_eq!(h.plan(), &plan);
    assert_eq!(h.state(), CallState::Held);
    h.cmd(Command::Unhold);
    assert!(h.cmd(Command::Unhold).is_empty());
}

#[test]
fn customer_hangs_up_while_held() {
    let (mut h, c, a) = held();
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn agent_hangs_up_while_held_ends_the_call() {
    let (mut h, c, a) = held();
    let out = h.ev(Event::HungUp(a));
    assert_eq!(hangups(&out), [c]);
    assert_eq!(released(&out), ["alice"]);
}

// ---------------------------------------------------------------- blind transfer

#[test]
fn blind_transfer_to_agent_releases_a_only_once_target_rings() {
    let (mut h, c, a) = connected();
    let out = h.cmd(Command::BlindTransfer(agent("bob")));
    let (b, t) = dialed(&out);
    assert_eq!(t, agent("bob"));
    assert_eq!(kinds(&out), ["TRANSFER_BLIND"]);
    assert_eq!(engaged(&out), ["bob"]);
    assert!(
        hangups(&out).is_empty() && released(&out).is_empty(),
        "A stays until the target is reached"
    );
    assert_eq!(h.state(), CallState::Transferring);
    let tr = h.call.transfer().unwrap();
    assert_eq!(
        (tr.kind, tr.phase, tr.leg, tr.by_agent.as_str()),
        (TransferKind::Blind, TransferPhase::Dialing, b, "alice")
    );
    assert!(
        hears_music(h.plan(), c),
        "customer on music while transferred"
    );
    assert!(hears_silence(h.plan(), a));

    let out = h.ev(Event::Ringing(b));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(kinds(&out), ["TRANSFER_RINGING", "AGENT_RELEASED"]);
    assert_eq!(h.call.agent(), None);
    assert_eq!(h.call.transfer().unwrap().phase, TransferPhase::Ringing);
    assert!(hears_music(h.plan(), c));
    assert_eq!(h.plan().groups.len(), 1);
    // A second 180 changes nothing.
    assert!(h.ev(Event::Ringing(b)).is_empty());

    let out = h.ev(Event::Answered(b));
    assert_eq!(kinds(&out), ["TRANSFER_COMPLETED"]);
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((b, Some("bob"))));
    assert_eq!(h.call.controller(), Some("bob"));
    assert_eq!(h.call.transfer(), None);
    assert!(h.plan().connected(c, b));
    assert_eq!(h.busy(), ["bob"]);
    let out = h.ev(Event::HungUp(c));
    assert_eq!(released(&out), ["bob"]);
}

#[test]
fn blind_transfer_answered_without_ringing_releases_a() {
    let (mut h, c, a, b) = blind(number("5552000"));
    let out = h.ev(Event::Answered(b));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(h.call.agent(), Some((b, None)));
    assert!(h.plan().connected(c, b));
    assert!(h.busy().is_empty());
}

#[test]
fn blind_transfer_to_number_and_campaign() {
    let (mut h, c, a, b) = blind(number("5552000"));
    assert!(h.busy() == ["alice"], "a number engages nobody");
    h.ev(Event::Ringing(b));
    h.ev(Event::Answered(b));
    assert!(h.busy().is_empty());
    assert_eq!(h.call.controller(), None);
    assert!(h.plan().connected(c, b));
    let _ = a;

    // Campaign: queued (= ringing) releases A; the queue then assigns carol.
    let (mut h, c, a, q) = blind(campaign("support"));
    let out = h.ev(Event::Ringing(q));
    assert_eq!(hangups(&out), [a]);
    let out = h.ev(Event::Assigned(q, "carol".into()));
    assert_eq!(engaged(&out), ["carol"]);
    assert_eq!(h.call.transfer().unwrap().target, agent("carol"));
    assert!(
        hears_music(h.plan(), c),
        "still on music while the assigned agent rings"
    );
    h.ev(Event::Answered(q));
    assert_eq!(h.call.agent(), Some((q, Some("carol"))));
    assert!(h.plan().connected(c, q));
    let out = h.cmd(Command::Hangup);
    assert_eq!(released(&out), ["carol"]);
}

#[test]
fn blind_transfer_failing_before_ringing_returns_to_connected() {
    let (mut h, c, a, b) = blind(agent("bob"));
    let out = h.ev(Event::Failed(b, 486));
    assert_eq!(kinds(&out), ["TRANSFER_FAILED"]);
    assert_eq!(released(&out), ["bob"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((a, Some("alice"))));
    assert!(h.plan().connected(c, a));
    assert_eq!(h.call.transfer(), None);
    // And a new transfer may be started.
    h.cmd(Command::BlindTransfer(agent("carol")));
}

#[test]
fn blind_transfer_failing_after_ringing_rings_a_back() {
    let (mut h, c, a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::Failed(b, 408));
    assert_eq!(kinds(&out), ["TRANSFER_FAILED", "TRANSFER_RETURN"]);
    assert_eq!(released(&out), ["bob"]);
    assert_eq!(engaged(&out), ["alice"]);
    let (back, t) = dialed(&out);
    assert_eq!(t, agent("alice"));
    assert_ne!(back, a);
    assert_eq!(h.state(), CallState::Transferring);
    assert!(
        hears_music(h.plan(), c),
        "the customer is not lost: still on music"
    );

    let out = h.ev(Event::Ringing(back));
    assert!(
        hangups(&out).is_empty() && released(&out).is_empty(),
        "nobody to release while ringing A back"
    );
    let out = h.ev(Event::Answered(back));
    assert_eq!(kinds(&out), ["TRANSFER_RETURNED"]);
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((back, Some("alice"))));
    assert!(h.plan().connected(c, back));
    assert_eq!(h.busy(), ["alice"]);

    // A fresh blind transfer after the return behaves normally (A released on ringing).
    let out = h.cmd(Command::BlindTransfer(agent("carol")));
    let (cl, _) = dialed(&out);
    let out = h.ev(Event::Ringing(cl));
    assert_eq!(hangups(&out), [back]);
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn blind_transfer_failing_twice_ends_the_call() {
    let (mut h, c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::Failed(b, 486));
    let (back, _) = dialed(&out);
    h.ev(Event::Ringing(back));
    let out = h.ev(Event::Failed(back, 408));
    assert_eq!(hangups(&out), [c]);
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn blind_transfer_target_leg_hanging_up_counts_as_failure() {
    // Before ringing: back to A.
    let (mut h, c, a, b) = blind(agent("bob"));
    h.ev(Event::HungUp(b));
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(c, a));
    // After ringing: A rung back.
    let (mut h, _c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::HungUp(b));
    assert_eq!(dialed(&out).1, agent("alice"));
}

#[test]
fn blind_transfer_to_campaign_failing_releases_assigned_agent_and_returns() {
    let (mut h, _c, _a, q) = blind(campaign("support"));
    h.ev(Event::Ringing(q));
    h.ev(Event::Assigned(q, "carol".into()));
    let out = h.ev(Event::Failed(q, 408));
    assert_eq!(released(&out), ["carol"]);
    assert_eq!(dialed(&out).1, agent("alice"));
}

#[test]
fn customer_hangs_up_during_blind_transfer() {
    // Target dialling, A still there.
    let (mut h, c, a, b) = blind(agent("bob"));
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), sorted(vec![a, b]));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
    // Target ringing, A gone.
    let (mut h, c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), [b]);
    assert_eq!(released(&out), ["bob"]);
    // While A is rung back.
    let (mut h, c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let back = dialed(&h.ev(Event::Failed(b, 486))).0;
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), [back]);
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn agent_hangs_up_before_blind_target_rings() {
    let (mut h, c, a, b) = blind(agent("bob"));
    let out = h.ev(Event::HungUp(a));
    assert_eq!(released(&out), ["alice"]);
    assert!(hangups(&out).is_empty(), "the customer stays: {out:?}");
    assert_eq!(h.state(), CallState::Transferring);
    assert!(hears_music(h.plan(), c));
    let out = h.ev(Event::Ringing(b));
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    h.ev(Event::Answered(b));
    assert!(h.plan().connected(c, b));
    assert_eq!(h.busy(), ["bob"]);
}

#[test]
fn agent_gone_before_ringing_then_failure_rings_a_back() {
    let (mut h, _c, a, b) = blind(agent("bob"));
    h.ev(Event::HungUp(a));
    let out = h.ev(Event::Failed(b, 486));
    assert_eq!(dialed(&out).1, agent("alice"));
    assert_eq!(h.busy(), ["alice"]);
}

#[test]
fn hangup_command_during_blind_transfer() {
    let (mut h, c, a, b) = blind(agent("bob"));
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), sorted(vec![c, a, b]));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

#[test]
fn same_blind_transfer_again_is_idempotent_and_other_is_refused() {
    let (mut h, _c, _a, b) = blind(agent("bob"));
    assert!(h.cmd(Command::BlindTransfer(agent("bob"))).is_empty());
    h.ev(Event::Ringing(b));
    assert!(
        h.cmd(Command::BlindTransfer(agent("bob"))).is_empty(),
        "still idempotent after A left"
    );
    let msg = h.refused(Command::BlindTransfer(agent("carol")));
    assert!(msg.contains("already in progress"), "{msg}");
    let msg = h.refused(Command::ConsultTransfer(agent("bob")));
    assert!(msg.contains("already in progress"), "{msg}");
}

#[test]
fn transfer_refusals_on_the_target() {
    for state in ["connected", "held"] {
        let (mut h, _, _) = if state == "held" { held() } else { connected() };
        let msg = h.refused(Command::BlindTransfer(agent("alice")));
        assert!(msg.contains("yourself"), "{msg}");
        let msg = h.refused(Command::ConsultTransfer(agent("alice")));
        assert!(msg.contains("yourself"), "{msg}");
        let msg = h.refused(Command::ConsultTransfer(campaign("sales")));
        assert!(msg.contains("campaign") && msg.contains("blind"), "{msg}");
    }
}

#[test]
fn no_transfer_once_a_number_holds_the_call() {
    let (mut h, _c, _a, n) = blind(number("5552000"));
    h.ev(Event::Answered(n));
    for cmd in [
        Command::BlindTransfer(agent("bob")),
        Command::ConsultTransfer(number("1")),
    ] {
        let msg = h.refused(cmd);
        assert!(msg.contains("no agent controls this call"), "{msg}");
    }
    h.cmd(Command::Hold);
    let msg = h.refused(Command::BlindTransfer(agent("bob")));
    assert!(msg.contains("no agent controls this call"), "{msg}");
}

#[test]
fn blind_transfer_from_hold() {
    let (mut h, c, a) = held();
    let out = h.cmd(Command::BlindTransfer(agent("bob")));
    let (b, _) = dialed(&out);
    assert!(hears_music(h.plan(), c));
    let out = h.ev(Event::Failed(b, 486));
    assert!(hangups(&out).is_empty());
    assert_eq!(
        h.state(),
        CallState::Connected,
        "a failed transfer resumes the conversation"
    );
    assert!(h.plan().connected(c, a));
}

#[test]
fn chained_transfers_keep_agents_balanced() {
    // customer -> alice, blind to bob, bob consults carol, completes, carol blind to a number.
    let (mut h, c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    h.ev(Event::Answered(b));
    let out = h.cmd(Command::ConsultTransfer(agent("carol")));
    let (cl, _) = dialed(&out);
    assert_eq!(h.call.transfer().unwrap().by_agent, "bob");
    h.ev(Event::Answered(cl));
    let out = h.cmd(Command::CompleteTransfer);
    assert_eq!(hangups(&out), [b]);
    assert_eq!(released(&out), ["bob"]);
    assert_eq!(h.busy(), ["carol"]);
    let out = h.cmd(Command::BlindTransfer(number("5553000")));
    let (n, _) = dialed(&out);
    h.ev(Event::Ringing(n));
    h.ev(Event::Answered(n));
    assert!(h.busy().is_empty());
    assert!(h.plan().connected(c, n));
    h.ev(Event::HungUp(n));
    assert_eq!(h.state(), CallState::Ended);
}

// ---------------------------------------------------------------- attended transfer by phone

/// alice (call 1 with a customer, on hold) dialled bob from her phone (call 2),
/// then her phone sends REFER with Replaces: bob's leg moves to call 1.
#[test]
fn phone_attended_transfer_adopts_and_detaches() {
    let (mut h1, cust, a1) = held();
    let (mut h2, a2, out) = H::from_phone("alice", agent("bob"));
    let (b, _) = dialed(&out);
    h2.ev(Event::Ringing(b));
    h2.ev(Event::Answered(b));
    assert_eq!(h2.state(), CallState::Connected);
    assert_eq!(h2.busy(), vec!["alice", "bob"]);

    // Call 1 adopts bob's leg as its agent side.
    h1.legs.insert(b, Leg::Up);
    let out = h1.cmd(Command::AdoptAgentSide {
        leg: b,
        target: agent("bob"),
    });
    assert!(out.contains(&Action::Hangup(a1)));
    assert!(out.contains(&Action::AgentReleased("alice".into())));
    assert!(out.contains(&Action::AgentEngaged("bob".into())));
    assert!(kinds(&out).contains(&"TRANSFER_COMPLETED"));
    assert_eq!(h1.state(), CallState::Connected);
    assert_eq!(h1.call.agent(), Some((b, Some("bob"))));
    assert_eq!(h1.call.customer_leg(), Some(cust));
    assert_eq!(h1.plan().groups.len(), 1);
    assert_eq!(h1.plan().groups[0].legs, vec![cust, b]);
    assert_eq!(h1.plan().groups[0].music, None);
    assert_eq!(h1.busy(), vec!["bob"]);

    // Call 2 lets bob's leg go without hanging it up, and ends.
    h2.legs.insert(b, Leg::Gone);
    let out = h2.cmd(Command::Detach(b));
    assert!(!out.contains(&Action::Hangup(b)), "{out:?}");
    assert!(out.contains(&Action::Hangup(a2)));
    assert!(out.contains(&Action::AgentReleased("alice".into())));
    assert!(out.contains(&Action::AgentReleased("bob".into())));
    assert_eq!(out.last(), Some(&Action::Ended));
    assert_eq!(h2.state(), CallState::Ended);

    // Call 1 goes on normally with bob: he hangs up, the call ends.
    h1.ev(Event::HungUp(b));
    assert_eq!(h1.state(), CallState::Ended);
}

#[test]
fn adopt_agent_side_works_from_connected_and_refuses_otherwise() {
    let (mut h, _, _) = connected();
    h.legs.insert(9, Leg::Up);
    h.cmd(Command::AdoptAgentSide {
        leg: 9,
        target: number("5551000"),
    });
    assert_eq!(h.call.agent(), Some((9, None)));
    assert_eq!(h.busy(), Vec::<&str>::new());

    let (mut h, c, _) = connected();
    let msg = h.refused(Command::AdoptAgentSide {
        leg: c,
        target: agent("bob"),
    });
    assert!(msg.contains("already part of this call"), "{msg}");
    let msg = h.refused(Command::AdoptAgentSide {
        leg: 9,
        target: agent("alice"),
    });
    assert!(msg.contains("yourself"), "{msg}");

    let (mut h, _, _, _) = consult(agent("bob"), TransferPhase::Talking);
    let msg = h.refused(Command::AdoptAgentSide {
        leg: 9,
        target: agent("carol"),
    });
    assert!(msg.contains("while the call is in a consultation"), "{msg}");

    let mut h = ended();
    h.refused(Command::AdoptAgentSide {
        leg: 9,
        target: agent("carol"),
    });
}

#[test]
fn detach_refuses_foreign_legs_and_ends_mid_consultation() {
    let (mut h, _, _) = connected();
    let msg = h.refused(Command::Detach(12345));
    assert!(msg.contains("not part of this call"), "{msg}");

    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    h.legs.insert(a, Leg::Gone);
    let out = h.cmd(Command::Detach(a));
    assert!(out.contains(&Action::Hangup(c)));
    assert!(out.contains(&Action::Hangup(b)));
    assert!(!out.contains(&Action::Hangup(a)));
    assert_eq!(h.state(), CallState::Ended);
}
