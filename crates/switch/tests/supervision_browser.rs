//! A supervisor whose console has browser audio supervises from the page:
//! the switch bridges the supervision leg to the supervisor's browser
//! session (no SIP phone is rung), and the modes are the same who-hears-whom
//! rules as with a phone. In virtual time with the fake media engine.

mod harness;

use harness::{FakeMedia, Harness, Setup};
use switchboard_call::{SuperviseMode, SupervisorAction};
use switchboard_switch::{AgentStatus, EngineRequest, MediaControl};

fn supervise(h: &mut Harness, call: &str, action: SupervisorAction) {
    h.supervise("9001", None, call, action).expect("supervise");
}

#[test]
fn a_supervisor_listens_and_whispers_from_the_browser() {
    let mut h = Harness::with(Setup {
        agents: vec!["1001", "9001"],
        ..Setup::default()
    });
    let browser = FakeMedia(h.media.clone()).create_leg().expect("leg").id;
    h.api(|reply| EngineRequest::BrowserAudio {
        agent: "9001".into(),
        media_leg: browser,
        auto_answer: true,
        reply,
    })
    .expect("the supervisor's browser audio");
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    let call = h.only_call();
    let customer = h.media_leg("trunk", 0).expect("customer leg");
    let agent = h.media_leg("1001", 0).expect("agent leg");

    supervise(&mut h, &call, SupervisorAction::Mode(SuperviseMode::Listen));
    h.run_for(500);
    assert!(
        h.phone("9001").calls().is_empty(),
        "no SIP phone rung for a supervisor with browser audio"
    );
    assert!(h.media.hears(browser, customer) && h.media.hears(browser, agent));
    assert!(!h.media.hears(customer, browser) && !h.media.hears(agent, browser));
    assert!(h.events(&call).iter().any(|e| e == "SUPERVISE_ANSWERED"));

    supervise(
        &mut h,
        &call,
        SupervisorAction::Mode(SuperviseMode::Whisper),
    );
    assert!(h.media.hears(agent, browser), "the agent hears the whisper");
    assert!(!h.media.hears(customer, browser), "the customer does not");

    supervise(&mut h, &call, SupervisorAction::Stop);
    h.run_for(500);
    assert!(!h.media.hears(browser, customer), "out of the call");
    assert!(h.hears(("trunk", 0), ("1001", 0)), "the call goes on");
    assert!(
        h.media.leg_count() >= 3,
        "the browser session's leg lives on"
    );
}
