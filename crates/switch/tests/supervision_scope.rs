//! Supervisors limited to campaigns (403 on a call of another campaign,
//! stop always allowed) and the agent's notice of a supervisor on their call
//! per the campaign's `supervision.notice` setting (`supervision_notice`
//! events: shown, mode changed, removed on listen, stop and the call's end).

mod harness;

use harness::{campaign, Harness, Setup};
use serde_json::Value;
use switchboard_call::{Command, SuperviseMode, SupervisorAction, Target};
use switchboard_center::{ApiError, SupervisionNotice};
use switchboard_switch::AgentStatus;

const BOSS: &str = "9001";

fn harness(notice: SupervisionNotice) -> Harness {
    let mut support = campaign("support", "inbound", Some("5000"), false);
    support.supervision.notice = notice;
    Harness::with(Setup {
        agents: vec!["1001", "1002", "9001"],
        campaigns: vec![support, campaign("sales", "inbound", Some("6000"), false)],
        ..Setup::default()
    })
}

/// A customer of `number`'s queue with agent 1001; returns the call id.
fn customer_with_1001(h: &mut Harness, number: &str) -> String {
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls(number);
    h.answer("1001", 0);
    h.only_call()
}

fn supervise(
    h: &mut Harness,
    campaigns: Option<&[&str]>,
    call: &str,
    action: SupervisorAction,
) -> Result<Value, ApiError> {
    h.supervise(BOSS, campaigns, call, action)
}

fn mode(m: SuperviseMode) -> SupervisorAction {
    SupervisorAction::Mode(m)
}

/// The `supervision_notice` events so far: (agent, supervisor, mode or null).
fn notices(h: &Harness) -> Vec<(String, String, Value)> {
    h.published
        .iter()
        .filter(|e| e["type"] == "supervision_notice")
        .map(|e| {
            (
                e["agent"].as_str().unwrap_or_default().to_string(),
                e["supervisor"].as_str().unwrap_or_default().to_string(),
                e["mode"].clone(),
            )
        })
        .collect()
}

fn notice(mode: &str) -> (String, String, Value) {
    let m = if mode.is_empty() {
        Value::Null
    } else {
        Value::String(mode.into())
    };
    ("1001".into(), BOSS.into(), m)
}

#[test]
fn a_supervisor_limited_to_campaigns_supervises_only_their_calls() {
    let mut h = harness(SupervisionNotice::default());
    let call = customer_with_1001(&mut h, "5000");
    // Limited to sales: the support call is refused, with the reason.
    let e = supervise(&mut h, Some(&["sales"]), &call, mode(SuperviseMode::Listen))
        .expect_err("not their campaign");
    assert_eq!(e.status, 403, "{e}");
    assert!(
        e.message.contains("campaign support") && e.message.contains("sales"),
        "{e}"
    );
    assert_eq!(h.phone(BOSS).calls().len(), 0, "nothing rung");
    // Limited to support (and sales): allowed.
    let v = supervise(
        &mut h,
        Some(&["sales", "support"]),
        &call,
        mode(SuperviseMode::Listen),
    )
    .expect("their campaign");
    assert_eq!(v["supervisions"][0]["supervisor"], BOSS);
    h.answer(BOSS, 0);
    // After the assignment changed to sales only: a mode change is refused,
    // stop is always possible.
    let e = supervise(&mut h, Some(&["sales"]), &call, mode(SuperviseMode::Barge))
        .expect_err("no longer their campaign");
    assert_eq!(e.status, 403);
    let v = supervise(&mut h, Some(&["sales"]), &call, SupervisorAction::Stop).expect("stop");
    assert_eq!(v["supervisions"], Value::Array(vec![]));
    // Not limited: allowed.
    supervise(&mut h, None, &call, mode(SuperviseMode::Listen)).expect("unlimited");
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn whisper_and_barge_are_shown_to_the_agent_by_default_listen_is_not() {
    let mut h = harness(SupervisionNotice::default());
    let call = customer_with_1001(&mut h, "5000");
    supervise(&mut h, None, &call, mode(SuperviseMode::Listen)).expect("listen");
    h.answer(BOSS, 0);
    assert!(notices(&h).is_empty(), "listen is not shown");
    supervise(&mut h, None, &call, mode(SuperviseMode::Whisper)).expect("whisper");
    assert_eq!(notices(&h), vec![notice("whisper")]);
    let snap = h.snapshot();
    assert_eq!(snap["supervision_notices"][0]["mode"], "whisper", "{snap}");
    supervise(&mut h, None, &call, mode(SuperviseMode::Barge)).expect("barge");
    assert_eq!(notices(&h).last(), Some(&notice("barge")));
    supervise(&mut h, None, &call, mode(SuperviseMode::Listen)).expect("listen");
    assert_eq!(
        notices(&h).last(),
        Some(&notice("")),
        "back to listen: removed"
    );
    supervise(&mut h, None, &call, mode(SuperviseMode::Whisper)).expect("whisper");
    supervise(&mut h, None, &call, SupervisorAction::Stop).expect("stop");
    assert_eq!(
        notices(&h),
        vec![
            notice("whisper"),
            notice("barge"),
            notice(""),
            notice("whisper"),
            notice("")
        ]
    );
    assert_eq!(h.snapshot()["supervision_notices"], Value::Array(vec![]));
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn always_shows_listening_and_the_call_end_removes_the_notice() {
    let mut h = harness(SupervisionNotice::Always);
    let call = customer_with_1001(&mut h, "5000");
    supervise(&mut h, None, &call, mode(SuperviseMode::Listen)).expect("listen");
    assert!(
        notices(&h).is_empty(),
        "not shown while the supervisor's phone rings"
    );
    h.answer(BOSS, 0);
    assert_eq!(notices(&h), vec![notice("listen")]);
    h.hangup("trunk", 0);
    assert_eq!(notices(&h), vec![notice("listen"), notice("")]);
    h.assert_clean();
}

#[test]
fn never_shows_anything() {
    let mut h = harness(SupervisionNotice::Never);
    let call = customer_with_1001(&mut h, "5000");
    supervise(&mut h, None, &call, mode(SuperviseMode::Barge)).expect("barge");
    h.answer(BOSS, 0);
    supervise(&mut h, None, &call, mode(SuperviseMode::Whisper)).expect("whisper");
    assert!(notices(&h).is_empty());
    h.hangup("trunk", 0);
    assert!(notices(&h).is_empty());
    h.assert_clean();
}

#[test]
fn the_notice_reaches_every_agent_the_supervisor_is_with() {
    let mut h = harness(SupervisionNotice::Always);
    let call = customer_with_1001(&mut h, "5000");
    supervise(&mut h, None, &call, mode(SuperviseMode::Listen)).expect("listen");
    h.answer(BOSS, 0);
    assert_eq!(notices(&h), vec![notice("listen")]);
    // 1001 consults 1002: shown to 1002 once their phone answers, not while it rings.
    h.set_state("1002", AgentStatus::Ready);
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    assert_eq!(notices(&h).len(), 1, "not while 1002's phone rings");
    h.answer("1002", 0);
    let to_1002 = ("1002".to_string(), BOSS.to_string(), Value::from("listen"));
    assert_eq!(notices(&h).last(), Some(&to_1002));
    // The transfer completes: 1001 leaves, their notice goes; 1002 keeps theirs.
    h.command("1001", &call, Command::CompleteTransfer)
        .expect("complete");
    h.run_for(500);
    assert_eq!(notices(&h).last(), Some(&notice("")), "{:?}", notices(&h));
    let snap = h.snapshot();
    let shown = snap["supervision_notices"].as_array().expect("notices");
    assert_eq!(shown.len(), 1, "{snap}");
    assert_eq!(shown[0]["agent"], "1002", "{snap}");
    h.hangup("trunk", 0);
    h.assert_clean();
}
