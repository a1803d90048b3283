//! Session timers (RFC 4028) with a real peer: a sipp customer calling a
//! campaign through the trunk with `Supported: timer` and
//! `Session-Expires: 90;refresher=uac` gets a 200 OK carrying the timer and
//! `Require: timer`; its refresh re-INVITE gets 200 with the timer again and
//! the call goes on until the customer hangs up. A 60 s interval gets 422
//! with `Min-SE: 90`. (The expiry itself, 60 s later, is tested in the
//! switch harness in virtual time: `crates/switch/tests/session_timers.rs`.)

mod common;

use std::time::Duration;

use common::*;

fn server(dir: &TestDir, customer_port: u16) -> Server {
    Server::start(
        dir,
        ServerOpts::new()
            .with_agents(&["1001"])
            .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port]))
            .campaign(CampaignCfg::inbound("support", "5000", &["1001"])),
    )
}

fn customer(dir: &TestDir, s: &Server, port: u16, scenario: &str, extra: &[&str]) -> SippRun {
    let port = port.to_string();
    let mut args = vec!["-s", "5000", "-p", &port, "-m", "1"];
    args.extend_from_slice(extra);
    Sipp::run(
        dir.path(),
        scenario.trim_end_matches(".xml"),
        scenario,
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &args,
        Duration::from_secs(30),
    )
}

#[test]
fn the_2xx_carries_the_timer_and_a_refresh_keeps_the_call() {
    let dir = TestDir::new("session_timer_refresh");
    let port = free_port();
    let s = server(&dir, port);
    // Refresh 2 s after the answer, hang up 1 s later.
    let run = customer(&dir, &s, port, "uac_session_timer.xml", &["-d", "2000"]);
    run.assert_ok();
    let log = s.log();
    assert!(
        !log.contains("SESSION_EXPIRED"),
        "the call was not ended by the timer"
    );
}

#[test]
fn an_interval_below_min_se_gets_422() {
    let dir = TestDir::new("session_timer_422");
    let port = free_port();
    let s = server(&dir, port);
    let run = customer(&dir, &s, port, "uac_session_too_small.xml", &[]);
    run.assert_ok();
}
