//! Graceful shutdown with real peers: SIGTERM during three calls (sipp agent
//! phones calling out through a sipp trunk that answers like a phone: 100,
//! 180, 200). New calls get 503 during the grace; after it every party gets
//! a BYE (each sipp expects it and answers 200), the process exits 0 and the
//! CDRs in the database are closed with reason `shutdown`.

mod common;

use std::time::{Duration, Instant};

use common::sip::UdpClient;
use common::*;

const AGENTS: [&str; 3] = ["1001", "1002", "1003"];

/// Send SIGTERM to the server and wait (bounded) for its exit status.
fn sigterm_and_wait(server: &mut Server, timeout: Duration) -> Option<i32> {
    let pid = server.pid().expect("running");
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -TERM {pid}");
    let t0 = Instant::now();
    let code = wait_until(timeout, Duration::from_millis(50), || {
        (!server.is_alive()).then_some(())
    });
    eprintln!("[e2e] exited {:?} after SIGTERM", t0.elapsed());
    code?;
    server.stop()
}

fn options(grace_secs: u64, pstn_port: u16) -> ServerOpts {
    let mut o = ServerOpts::new()
        .with_agents(&AGENTS)
        .agent(AgentCfg::new("2000").role("supervisor"))
        .trunk(TrunkCfg::new("pstn", pstn_port, &[free_port()]));
    o.extra_server = format!("shutdown_grace_secs = {grace_secs}");
    o
}

#[test]
fn sigterm_without_calls_exits_promptly_with_status_0() {
    let dir = TestDir::new("shutdown_idle");
    let mut s = Server::start(&dir, options(30, free_port()));
    let t0 = Instant::now();
    let code = sigterm_and_wait(&mut s, Duration::from_secs(5));
    assert_eq!(code, Some(0), "exit status; log:\n{}", s.log_tail(30));
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "no grace without calls"
    );
}

#[test]
fn sigterm_during_three_calls_byes_every_party_and_closes_the_cdrs() {
    let dir = TestDir::new("shutdown_calls");
    let pstn_port = free_port();
    let mut s = Server::start(&dir, options(2, pstn_port));
    let sup = s.login("2000", "pw2000");
    let pstn = Sipp::spawn(
        dir.path(),
        "pstn_uas",
        "uas_phone.xml",
        None,
        &["-p", &pstn_port.to_string(), "-m", "3"],
        Duration::from_secs(60),
    );
    let server_addr = format!("127.0.0.1:{}", s.sip_port);
    let auth_uri = format!("5551234@127.0.0.1:{}", s.sip_port);
    let phones: Vec<SippProc> = AGENTS
        .iter()
        .map(|u| {
            let pw = format!("secret{u}");
            Sipp::spawn(
                dir.path(),
                &format!("agent_{u}"),
                "uac_auth_wait_bye.xml",
                Some(&server_addr),
                &[
                    "-s",
                    "5551234",
                    "-set",
                    "user",
                    u,
                    "-au",
                    u,
                    "-ap",
                    &pw,
                    "-auth_uri",
                    &auth_uri,
                    "-m",
                    "1",
                ],
                Duration::from_secs(60),
            )
        })
        .collect();
    // The three calls are up.
    let connected = wait_until(Duration::from_secs(15), Duration::from_millis(200), || {
        let (_, v) = s.api("GET", "/api/calls", None, Some(&sup));
        let calls = v["calls"].as_array().cloned().unwrap_or_default();
        let n = calls.iter().filter(|c| c["state"] == "connected").count();
        (n == 3).then_some(calls)
    });
    assert!(
        connected.is_some(),
        "three connected calls; log:\n{}",
        s.log_tail(40)
    );
    let pid = s.pid().expect("running");
    let t0 = Instant::now();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    // During the grace: a new call is refused with 503 and Retry-After; the calls go on.
    std::thread::sleep(Duration::from_millis(300));
    let probe = UdpClient::new(s.sip_port);
    let r = probe
        .invite(
            &s.uri("1001"),
            &[],
            Some("application/sdp"),
            &common::sip::sdp_offer(40_000),
            Duration::from_secs(2),
        )
        .expect("an answer to the new INVITE");
    assert_eq!(r.status, 503, "{}", r.raw);
    assert!(r.header("Retry-After").is_some(), "{}", r.raw);
    assert!(s.is_alive(), "still draining");
    // After the grace (2 s): BYE to everyone, then exit 0.
    let exited = wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
        (!s.is_alive()).then_some(())
    });
    let took = t0.elapsed();
    assert!(exited.is_some(), "exited; log:\n{}", s.log_tail(40));
    assert_eq!(s.stop(), Some(0), "exit status; log:\n{}", s.log_tail(40));
    assert!(
        took >= Duration::from_secs(2),
        "the grace was honoured: {took:?}"
    );
    for p in phones {
        let run = p.finish(Duration::from_secs(10));
        run.assert_ok(); // each agent phone got its BYE and answered 200
    }
    let run = pstn.finish(Duration::from_secs(15));
    run.assert_ok(); // the trunk got a BYE for each of the three calls
    assert_eq!(run.successful(), 3, "{}", run.diagnostics());
    // The CDRs were flushed before exit and are closed.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let rows = rt.block_on(async {
        let url = format!("sqlite://{}/sb.db", dir.path().display());
        let storage = switchboard_storage::Storage::connect(&url)
            .await
            .expect("open the database");
        storage
            .list_calls(&Default::default())
            .await
            .expect("list calls")
    });
    assert_eq!(rows.len(), 3, "{rows:?}");
    for r in &rows {
        assert!(r.answered_at.is_some(), "{r:?}");
        assert!(r.ended_at.is_some(), "{r:?}");
        assert_eq!(r.end_reason.as_deref(), Some("shutdown"), "{r:?}");
    }
}
