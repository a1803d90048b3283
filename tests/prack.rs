//! Reliable provisional responses (RFC 3262) with real peers: a sipp caller
//! from the trunk that requires `100rel` calls agent 1001 (baresip); the
//! switch's 180 carries `Require: 100rel` and `RSeq`, the caller's PRACK is
//! answered 200, then the agent answers and the call completes. (Timeouts and
//! bad PRACKs are tested in the switch harness: `crates/switch/tests/prack.rs`.)

mod common;

use std::time::Duration;

use common::*;

#[test]
fn a_caller_requiring_100rel_gets_a_reliable_180_and_its_call() {
    let _g = serial();
    let dir = TestDir::new("prack_caller");
    let customer_port = free_port();
    let s = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001"])
            .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port])),
    );
    let agent = start_agent(&dir, &s, "1001", Some(440.0), false);
    let port = customer_port.to_string();
    let caller = Sipp::spawn(
        dir.path(),
        "caller_100rel",
        "uac_100rel.xml",
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &["-s", "1001", "-p", &port, "-m", "1", "-d", "1000"],
        Duration::from_secs(30),
    );
    agent.wait_event("CALL_INCOMING", Duration::from_secs(10));
    // Leave time for the reliable 180 and its PRACK before answering.
    std::thread::sleep(Duration::from_millis(1_500));
    agent.accept();
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    let run = caller.finish(Duration::from_secs(20));
    run.assert_ok();
    agent.wait_event("CALL_CLOSED", Duration::from_secs(10));
}
