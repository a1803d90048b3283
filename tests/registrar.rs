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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256(s: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(s.as_bytes()))
}

fn param(h: &str, name: &str) -> String {
    h.split(',')
        .filter_map(|p| p.trim().trim_start_matches("Digest ").split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .unwrap_or_default()
}

/// RFC 8760: with SHA-256 enabled, the challenge offers it first and a client
/// answering with SHA-256 (digest computed here, independently of the server's
/// code) registers; a wrong password is refused with 403.
#[test]
fn sha256_digest_register() {
    let dir = TestDir::new("reg_sha256");
    let mut opts = ServerOpts::new().with_agents(&["1001"]);
    opts.extra_server = "digest_algorithms = [\"SHA-256\", \"MD5\"]".into();
    let s = Server::start(&dir, opts);
    let aor = format!("sip:1001@127.0.0.1:{}", s.sip_port);
    for (password, expect) in [("secret1001", 200), ("wrong", 403)] {
        let c = sip::UdpClient::new(s.sip_port);
        let r = c
            .request(
                "REGISTER",
                &aor,
                &["Expires: 60"],
                "",
                Duration::from_secs(5),
            )
            .expect("challenge");
        assert_eq!(r.status, 401, "{}", r.raw);
        let challenges: Vec<&str> = r
            .raw
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("www-authenticate:"))
            .collect();
        assert_eq!(challenges.len(), 2, "{}", r.raw);
        assert!(
            challenges[0].contains("algorithm=SHA-256"),
            "SHA-256 offered first: {challenges:?}"
        );
        let ch = challenges[0].split_once(':').unwrap().1.trim();
        let (realm, nonce) = (param(ch, "realm"), param(ch, "nonce"));
        let ha1 = sha256(&format!("1001:{realm}:{password}"));
        let ha2 = sha256(&format!("REGISTER:{aor}"));
        let resp = sha256(&format!("{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}"));
        let auth = format!(
            "Authorization: Digest username=\"1001\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{aor}\", response=\"{resp}\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"0a4f113b\""
        );
        let r = c
            .request(
                "REGISTER",
                &aor,
                &["Expires: 60", &auth],
                "",
                Duration::from_secs(5),
            )
            .expect("answer");
        assert_eq!(r.status, expect, "password {password}: {}", r.raw);
    }
    // The default configuration challenges with MD5 only (phones such as
    // baresip 1.0 give up when any challenge has an algorithm they lack).
    let dir2 = TestDir::new("reg_md5_only");
    let s2 = server(&dir2);
    let c = sip::UdpClient::new(s2.sip_port);
    let r = c
        .request(
            "REGISTER",
            &format!("sip:1001@127.0.0.1:{}", s2.sip_port),
            &[],
            "",
            Duration::from_secs(5),
        )
        .unwrap();
    let challenges: Vec<&str> = r
        .raw
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("www-authenticate:"))
        .collect();
    assert_eq!(challenges.len(), 1, "{}", r.raw);
    assert!(challenges[0].contains("algorithm=MD5"));
}

/// Registrations are persisted: after a restart (same address) a phone that
/// has not re-registered yet can still be called.
#[test]
fn registrations_survive_a_restart() {
    let _g = serial();
    let dir = TestDir::new("reg_persist");
    let mut s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);
    s.restart();
    b.dial(&s.uri("1001"));
    a.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    b.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    b.hangup();
    a.wait_event("CALL_CLOSED", Duration::from_secs(10));
}
