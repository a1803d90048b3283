//! A supervisor listening keeps hearing the customer across a consultative
//! transfer completed to another agent and across a three-way conference,
//! in virtual time with the fake media engine: at each step, who hears whom
//! as the switch applied the call's media plan (a listening supervisor is
//! in every `unheard` list: nobody hears them), and the follow in the log.

mod harness;

use harness::{Harness, Setup};
use switchboard_call::{Command, SuperviseMode, SupervisorAction, Target};
use switchboard_switch::AgentStatus;

const CUSTOMER: (&str, usize) = ("trunk", 0);
const A1: (&str, usize) = ("1001", 0);
const A2: (&str, usize) = ("1002", 0);
const SUP: (&str, usize) = ("9001", 0);

fn harness() -> Harness {
    Harness::with(Setup {
        agents: vec!["1001", "1002", "9001"],
        ..Setup::default()
    })
}

fn supervise(h: &mut Harness, call: &str, action: SupervisorAction) {
    h.supervise("9001", None, call, action).expect("supervise");
}

/// Customer with 1001 through the queue, 9001 listening (answered), 1002 ready.
fn listened_call(h: &mut Harness) -> String {
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    let call = h.only_call();
    h.set_state("1002", AgentStatus::Ready);
    supervise(h, &call, SupervisorAction::Mode(SuperviseMode::Listen));
    h.answer("9001", 0);
    call
}

/// Nobody hears the listening supervisor.
fn unheard(h: &mut Harness, parties: &[(&str, usize)]) {
    for p in parties {
        assert!(!h.hears(*p, SUP), "{p:?} hears the listening supervisor");
    }
}

#[test]
fn listening_across_a_consultative_transfer_completed_to_another_agent() {
    let mut h = harness();
    let call = listened_call(&mut h);
    assert!(h.hears(SUP, CUSTOMER) && h.hears(SUP, A1));
    unheard(&mut h, &[CUSTOMER, A1]);

    // Consulting 1002: the customer waits with music; the supervisor stays
    // with the agent and hears the consultation.
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    h.answer("1002", 0);
    assert!(h.hears(A1, A2) && h.hears(A2, A1));
    assert!(h.hears_music(CUSTOMER));
    assert!(
        h.hears(SUP, A1) && h.hears(SUP, A2),
        "the supervisor hears the consultation"
    );
    unheard(&mut h, &[CUSTOMER, A1, A2]);

    // Completed: 1001 leaves, the customer talks with 1002, the supervisor
    // follows 1002 and hears the customer again.
    h.command("1001", &call, Command::CompleteTransfer)
        .expect("complete");
    assert!(h.hears(CUSTOMER, A2) && h.hears(A2, CUSTOMER));
    assert!(h.hears(SUP, CUSTOMER) && h.hears(SUP, A2));
    unheard(&mut h, &[CUSTOMER, A2]);
    assert!(
        h.events(&call).iter().any(|e| e == "SUPERVISE_FOLLOW"),
        "{:?}",
        h.events(&call)
    );

    // The mode still works on the new agent: whisper reaches 1002 only.
    supervise(
        &mut h,
        &call,
        SupervisorAction::Mode(SuperviseMode::Whisper),
    );
    assert!(h.hears(A2, SUP) && !h.hears(CUSTOMER, SUP));
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn listening_across_a_three_way_conference() {
    let mut h = harness();
    let call = listened_call(&mut h);
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    h.answer("1002", 0);
    h.command("1001", &call, Command::Confer).expect("confer");
    // Three-way: everyone hears everyone; the supervisor hears all three, nobody hears them.
    for (x, y) in [
        (CUSTOMER, A1),
        (CUSTOMER, A2),
        (A1, A2),
        (A2, A1),
        (A1, CUSTOMER),
    ] {
        assert!(h.hears(x, y), "{x:?} hears {y:?} in the conference");
    }
    assert!(h.hears(SUP, CUSTOMER) && h.hears(SUP, A1) && h.hears(SUP, A2));
    unheard(&mut h, &[CUSTOMER, A1, A2]);

    // Barge into the conference: all three hear the supervisor.
    supervise(&mut h, &call, SupervisorAction::Mode(SuperviseMode::Barge));
    assert!(h.hears(CUSTOMER, SUP) && h.hears(A1, SUP) && h.hears(A2, SUP));
    supervise(&mut h, &call, SupervisorAction::Mode(SuperviseMode::Listen));
    unheard(&mut h, &[CUSTOMER, A1, A2]);

    // 1002 leaves the conference: customer and 1001 go on, still listened to.
    h.hangup("1002", 0);
    assert!(h.hears(CUSTOMER, A1) && h.hears(A1, CUSTOMER));
    assert!(h.hears(SUP, CUSTOMER) && h.hears(SUP, A1));
    unheard(&mut h, &[CUSTOMER, A1]);
    h.hangup("trunk", 0);
    h.assert_clean();
}
