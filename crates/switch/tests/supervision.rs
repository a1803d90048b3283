//! Supervision through the switch with fake phones in virtual time: the
//! supervisor's phone is rung, each mode's who-hears-whom in the media
//! engine, mode changes from the API and from the phone's keys (4/5/6),
//! stop, take over, the call ending or moving on while supervised, the
//! compliance log, and the refusals.

mod harness;

use harness::{CallState, Harness, Setup};
use serde_json::Value;
use switchboard_call::{Command, SuperviseMode, SupervisorAction};
use switchboard_center::{Actor, ApiError};
use switchboard_switch::{AgentStatus, EngineRequest, StoreOp};

const CUSTOMER: (&str, usize) = ("trunk", 0);
const AGENT: (&str, usize) = ("1001", 0);
const BOSS: &str = "9001";
const SUPERVISOR: (&str, usize) = (BOSS, 0);

fn harness() -> Harness {
    Harness::with(Setup {
        agents: vec!["1001", "1002", "1003", "9001", "9002"],
        ..Setup::default()
    })
}

/// A customer from the trunk reaches agent 1001 through the `support` queue.
fn customer_with_1001(h: &mut Harness) -> String {
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    assert!(h.hears(CUSTOMER, AGENT) && h.hears(AGENT, CUSTOMER));
    h.only_call()
}

fn supervise_as(
    h: &mut Harness,
    who: &str,
    supervisor: bool,
    call: &str,
    action: SupervisorAction,
    phone: Option<&str>,
) -> Result<Value, ApiError> {
    let actor = Actor {
        username: who.into(),
        supervisor,
        campaigns: None,
    };
    let call = call.to_string();
    let phone = phone.map(str::to_string);
    h.api(|reply| EngineRequest::Supervise {
        actor,
        call,
        action,
        phone,
        reply,
    })
}

fn supervise(h: &mut Harness, who: &str, call: &str, action: SupervisorAction) -> Value {
    let what = format!("{action:?}");
    supervise_as(h, who, true, call, action, None)
        .unwrap_or_else(|e| panic!("{who} {what} refused: {e}"))
}

fn mode(m: SuperviseMode) -> SupervisorAction {
    SupervisorAction::Mode(m)
}

/// BOSS starts listening and answers; returns the call id.
fn listening(h: &mut Harness) -> String {
    let call = customer_with_1001(h);
    let v = supervise(h, BOSS, &call, mode(SuperviseMode::Listen));
    assert_eq!(v["supervisions"][0]["answered"], false, "{v}");
    assert_eq!(
        h.state(BOSS, 0),
        CallState::Ringing,
        "the supervisor's phone rings"
    );
    assert!(!h.hears(SUPERVISOR, CUSTOMER));
    h.answer(BOSS, 0);
    call
}

/// Who hears whom among customer, agent and supervisor.
fn matrix(h: &mut Harness) -> [[bool; 3]; 3] {
    let p = [CUSTOMER, AGENT, SUPERVISOR];
    let mut m = [[false; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = i != j && h.hears(p[i], p[j]);
        }
    }
    m
}

/// Supervision events of the call: (kind, actor).
fn supervision_log(h: &Harness, call: &str) -> Vec<(String, Option<String>)> {
    h.stored
        .iter()
        .filter_map(|o| match o {
            StoreOp::CallEvent {
                call: c,
                kind,
                actor,
                ..
            } if c == call && kind.starts_with("SUPERVISE") => Some((kind.clone(), actor.clone())),
            _ => None,
        })
        .collect()
}

const LISTEN: [[bool; 3]; 3] = [
    [false, true, false],
    [true, false, false],
    [true, true, false],
];
const WHISPER: [[bool; 3]; 3] = [
    [false, true, false],
    [true, false, true],
    [true, true, false],
];
const BARGE: [[bool; 3]; 3] = [
    [false, true, true],
    [true, false, true],
    [true, true, false],
];

#[test]
fn each_mode_sets_who_hears_whom_and_stop_restores_the_call() {
    let mut h = harness();
    let call = listening(&mut h);
    assert_eq!(matrix(&mut h), LISTEN, "listen");
    assert_eq!(h.status(BOSS), "on_call");
    let v = supervise(&mut h, BOSS, &call, mode(SuperviseMode::Whisper));
    assert_eq!(v["supervisions"][0]["mode"], "whisper");
    assert_eq!(matrix(&mut h), WHISPER, "whisper");
    supervise(&mut h, BOSS, &call, mode(SuperviseMode::Barge));
    assert_eq!(matrix(&mut h), BARGE, "barge");
    assert_eq!(
        h.phone(BOSS).calls().len(),
        1,
        "modes change without re-dialling"
    );
    let v = supervise(&mut h, BOSS, &call, SupervisorAction::Stop);
    assert_eq!(v["supervisions"], serde_json::json!([]));
    assert_eq!(h.state(BOSS, 0), CallState::Terminated { status: 200 });
    assert!(h.hears(CUSTOMER, AGENT) && h.hears(AGENT, CUSTOMER));
    assert_ne!(h.status(BOSS), "on_call");
    let log = supervision_log(&h, &call);
    let kinds: Vec<&str> = log.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "SUPERVISE_START",
            "SUPERVISE_ANSWERED",
            "SUPERVISE_MODE",
            "SUPERVISE_MODE",
            "SUPERVISE_STOP"
        ]
    );
    assert!(
        log.iter().all(|(_, a)| a.as_deref() == Some(BOSS)),
        "{log:?}"
    );
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn the_supervisors_phone_keys_change_the_mode() {
    let mut h = harness();
    let call = listening(&mut h);
    h.press(BOSS, 0, '5');
    assert_eq!(matrix(&mut h), WHISPER);
    h.press(BOSS, 0, '6');
    assert_eq!(matrix(&mut h), BARGE);
    h.press(BOSS, 0, '4');
    assert_eq!(matrix(&mut h), LISTEN);
    h.press(BOSS, 0, '9');
    assert_eq!(matrix(&mut h), LISTEN, "other keys do nothing");
    let kinds: Vec<String> = supervision_log(&h, &call)
        .into_iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "SUPERVISE_MODE").count(), 3);
    assert!(!h.events(&call).contains(&"DTMF".to_string()));
}

#[test]
fn takeover_releases_the_agent() {
    let mut h = harness();
    let call = listening(&mut h);
    let v = supervise(&mut h, BOSS, &call, SupervisorAction::TakeOver);
    assert_eq!(v["agent"], BOSS, "{v}");
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 200 });
    assert_ne!(h.status("1001"), "on_call");
    assert!(h.hears(CUSTOMER, SUPERVISOR) && h.hears(SUPERVISOR, CUSTOMER));
    assert!(supervision_log(&h, &call)
        .iter()
        .any(|(k, a)| k == "SUPERVISE_TAKEOVER" && a.as_deref() == Some(BOSS)));
    // The supervisor now has the agent's actions.
    h.command(BOSS, &call, Command::Hold).expect("hold");
    assert!(h.hears_music(CUSTOMER));
    h.hangup(BOSS, 0);
    assert_eq!(h.state("trunk", 0), CallState::Terminated { status: 200 });
    h.assert_clean();
}

#[test]
fn the_call_ending_ends_the_supervision() {
    for leaving in [CUSTOMER, AGENT] {
        let mut h = harness();
        let call = listening(&mut h);
        h.hangup(leaving.0, leaving.1);
        assert_eq!(h.state(BOSS, 0), CallState::Terminated { status: 200 });
        assert!(supervision_log(&h, &call)
            .iter()
            .any(|(k, _)| k == "SUPERVISE_STOP"));
        h.assert_clean();
        assert_ne!(h.status(BOSS), "on_call");
    }
}

#[test]
fn the_supervisor_hanging_up_leaves_the_call_alone() {
    let mut h = harness();
    let call = listening(&mut h);
    supervise(&mut h, BOSS, &call, mode(SuperviseMode::Barge));
    h.hangup(BOSS, 0);
    assert!(h.hears(CUSTOMER, AGENT) && h.hears(AGENT, CUSTOMER));
    assert_eq!(h.state("trunk", 0), CallState::Confirmed);
    let v = h.live_calls();
    assert_eq!(v[0]["supervisions"], serde_json::json!([]));
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn supervision_follows_hold() {
    let mut h = harness();
    let call = listening(&mut h);
    supervise(&mut h, BOSS, &call, mode(SuperviseMode::Whisper));
    h.command("1001", &call, Command::Hold).expect("hold");
    assert!(h.hears(SUPERVISOR, AGENT) && h.hears(AGENT, SUPERVISOR));
    assert!(!h.hears(CUSTOMER, SUPERVISOR) && h.hears_music(CUSTOMER));
    h.command("1001", &call, Command::Unhold).expect("unhold");
    assert_eq!(matrix(&mut h), WHISPER);
}

#[test]
fn two_supervisors_listen_one_speaks() {
    let mut h = harness();
    let call = listening(&mut h);
    supervise(&mut h, "9002", &call, mode(SuperviseMode::Listen));
    h.answer("9002", 0);
    assert!(h.hears(("9002", 0), CUSTOMER) && h.hears(("9002", 0), AGENT));
    assert!(!h.hears(AGENT, ("9002", 0)));
    supervise(&mut h, BOSS, &call, mode(SuperviseMode::Whisper));
    let e = supervise_as(
        &mut h,
        "9002",
        true,
        &call,
        mode(SuperviseMode::Barge),
        None,
    )
    .expect_err("a second speaker");
    assert_eq!(e.status, 409);
    assert!(
        e.message.contains("9001") && e.message.contains("whisper"),
        "{e}"
    );
}

#[test]
fn bad_requests_are_refused_with_the_reason() {
    let mut h = harness();
    let call = customer_with_1001(&mut h);
    let listen = mode(SuperviseMode::Listen);
    let e = supervise_as(&mut h, "1002", false, &call, listen.clone(), None).expect_err("agent");
    assert_eq!(
        (e.status, e.message.as_str()),
        (403, "only supervisors can supervise calls")
    );
    let e = supervise_as(&mut h, BOSS, true, "nope", listen.clone(), None).expect_err("unknown");
    assert_eq!(e.status, 404);
    assert!(e.message.contains("no live call nope"), "{e}");
    let e =
        supervise_as(&mut h, BOSS, true, &call, SupervisorAction::Stop, None).expect_err("stop");
    assert_eq!(
        (e.status, e.message.as_str()),
        (409, "9001 is not supervising this call")
    );
    let e = supervise_as(&mut h, BOSS, true, &call, listen.clone(), Some("7777"))
        .expect_err("unknown phone");
    assert_eq!(
        (e.status, e.message.as_str()),
        (404, "unknown extension 7777")
    );
    let e = supervise_as(&mut h, BOSS, true, &call, listen.clone(), Some("1001"))
        .expect_err("the agent's own phone");
    assert_eq!(e.status, 409);
    assert!(e.message.contains("on a call"), "{e}");
    // A call still ringing has nothing to supervise yet.
    h.set_state("1002", AgentStatus::Ready);
    h.customer_calls("5000");
    let ringing = h
        .live_calls()
        .into_iter()
        .find(|c| c["call_id"] != call.as_str())
        .expect("second call");
    let id = ringing["call_id"].as_str().expect("id").to_string();
    let e = supervise_as(&mut h, BOSS, true, &id, listen.clone(), None).expect_err("ringing");
    assert_eq!(
        (e.status, e.message.as_str()),
        (409, "cannot supervise while the call is ringing")
    );
    // Nothing was left behind by the refusals.
    assert_eq!(h.phone(BOSS).calls().len(), 0);
    h.hangup("trunk", 0);
    h.hangup("trunk", 1);
    // Ended: the switch no longer knows it (the HTTP layer says it ended).
    let e = supervise_as(&mut h, BOSS, true, &call, listen, None).expect_err("ended");
    assert_eq!(e.status, 404);
}

#[test]
fn only_the_agent_gets_after_call_work() {
    let mut support = harness::campaign("support", "inbound", Some("5000"), false);
    support.acw_secs = 30;
    let mut h = Harness::with(Setup {
        agents: vec!["1001", "9001"],
        campaigns: vec![support],
        ..Setup::default()
    });
    listening(&mut h);
    h.hangup("trunk", 0);
    assert_eq!(h.status("1001"), "after_call_work");
    assert_eq!(
        h.status(BOSS),
        "offline",
        "back to the supervisor's chosen state"
    );
    h.assert_clean();
}
