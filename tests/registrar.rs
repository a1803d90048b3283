//! Registrar with digest authentication, driven by real peers.

mod common;

use common::*;
use std::time::Duration;

fn server(dir: &TestDir) -> Server {
    Server::start(
        dir,
        ServerOpts::new().with_agents(&["1001", "1002", "1003"]),
    )
}

/// sipp REGISTER + MD5 digest: right passwords -> 200 for every user (UDP).
#[test]
fn sipp_register_good_password_udp() {
    let dir = TestDir::new("reg_good_udp");
    let s = server(&dir);
    let run = Sipp::register(
        dir.path(),
        "reg_good",
        s.sip_port,
        &[
            ("1001", "secret1001"),
            ("1002", "secret1002"),
            ("1003", "secret1003"),
        ],
        "u1",
        Duration::from_secs(20),
    );
    run.assert_ok();
    assert_eq!(run.successful(), 3, "{}", run.diagnostics());
}

/// Same over TCP (the server listens TCP on the SIP port too).
#[test]
fn sipp_register_good_password_tcp() {
    let dir = TestDir::new("reg_good_tcp");
    let s = server(&dir);
    let run = Sipp::register(
        dir.path(),
        "reg_tcp",
        s.sip_port,
        &[("1001", "secret1001")],
        "t1",
        Duration::from_secs(20),
    );
    run.assert_ok();
    assert_eq!(run.successful(), 1, "{}", run.diagnostics());
}

/// Wrong password -> 403 (the scenario expects 200, so the call fails and
/// the trace shows the 403).
#[test]
fn sipp_register_bad_password_403() {
    let dir = TestDir::new("reg_bad");
    let s = server(&dir);
    let run = Sipp::register(
        dir.path(),
        "reg_bad",
        s.sip_port,
        &[("1001", "WRONG")],
        "u1",
        Duration::from_secs(20),
    );
    assert_eq!(
        run.code,
        1,
        "expected the registration to fail\n{}",
        run.diagnostics()
    );
    assert_eq!(run.failed(), 1, "{}", run.diagnostics());
    let msgs = run.messages();
    assert!(
        msgs.contains("SIP/2.0 403"),
        "expected 403 Forbidden after the bad digest\n{}",
        run.diagnostics()
    );
    assert!(
        !msgs.contains("SIP/2.0 200"),
        "bad password must not be accepted\n{}",
        run.diagnostics()
    );
    // Good password still works afterwards.
    let ok = Sipp::register(
        dir.path(),
        "reg_after_bad",
        s.sip_port,
        &[("1001", "secret1001")],
        "u1",
        Duration::from_secs(20),
    );
    ok.assert_ok();
}

/// A user that is not configured must never get 200.
#[test]
fn sipp_register_unknown_user_rejected() {
    let dir = TestDir::new("reg_unknown");
    let s = server(&dir);
    let run = Sipp::register(
        dir.path(),
        "reg_unknown",
        s.sip_port,
        &[("9999", "whatever")],
        "u1",
        Duration::from_secs(20),
    );
    assert_ne!(
        run.code,
        0,
        "unknown user registered?\n{}",
        run.diagnostics()
    );
    assert!(
        !run.messages().contains("SIP/2.0 200"),
        "unknown user got 200\n{}",
        run.diagnostics()
    );
}

/// A password of another agent must not work (digest bound to the user).
#[test]
fn sipp_register_other_users_password_rejected() {
    let dir = TestDir::new("reg_cross");
    let s = server(&dir);
    let run = Sipp::register(
        dir.path(),
        "reg_cross",
        s.sip_port,
        &[("1001", "secret1002")],
        "u1",
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 1, "{}", run.diagnostics());
    assert!(
        !run.messages().contains("SIP/2.0 200"),
        "{}",
        run.diagnostics()
    );
}

/// A real UA (baresip) registers with digest: reginfo shows OK.
#[test]
fn baresip_registers() {
    let dir = TestDir::new("reg_baresip");
    let s = server(&dir);
    let a = Baresip::start(dir.path(), "1001", "secret1001", s.sip_port, None, true);
    a.wait_registered(Duration::from_secs(10));
    let b = Baresip::start(dir.path(), "1002", "secret1002", s.sip_port, None, true);
    b.wait_registered(Duration::from_secs(10));
    eprintln!("reginfo 1001: {}", a.reginfo().trim());
}

/// baresip with the wrong SIP password never becomes registered.
#[test]
fn baresip_wrong_password_not_registered() {
    let dir = TestDir::new("reg_baresip_bad");
    let s = server(&dir);
    let a = Baresip::start(dir.path(), "1001", "WRONG", s.sip_port, None, true);
    std::thread::sleep(Duration::from_secs(3));
    let info = a.reginfo();
    assert!(
        !common::baresip::is_registered(&info),
        "registered with a wrong password: {}\n{}",
        info,
        a.log_tail(40)
    );
}

/// Registration survives a server restart in the database (if the server
/// persists bindings) or at least a re-registration works after restart.
#[test]
fn register_again_after_restart() {
    let dir = TestDir::new("reg_restart");
    let mut s = server(&dir);
    Sipp::register(
        dir.path(),
        "reg1",
        s.sip_port,
        &[("1001", "secret1001")],
        "u1",
        Duration::from_secs(20),
    )
    .assert_ok();
    s.restart();
    Sipp::register(
        dir.path(),
        "reg2",
        s.sip_port,
        &[("1001", "secret1001")],
        "u1",
        Duration::from_secs(20),
    )
    .assert_ok();
}
