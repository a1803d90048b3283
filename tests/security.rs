//! Security with real peers (issue 11): a replayed `Proxy-Authorization`
//! captured from a sipp phone is refused (same nonce and nc, other or same
//! Request-URI) and nothing reaches the trunk; the API never returns SIP
//! passwords and the database holds none in clear; oversized bodies get 413
//! JSON; logout revokes the token; the WebSocket needs a valid token;
//! a sipvicious scan finds nothing and gets its source banned.

mod common;

use common::*;
use serde_json::json;
use std::net::UdpSocket;
use std::time::Duration;

fn server(dir: &TestDir, trunk_port: u16) -> Server {
    Server::start(
        dir,
        small_rtp(
            ServerOpts::new()
                .with_agents(&["1001", "1002"])
                .agent(AgentCfg::new("9000").role("admin"))
                .trunk(TrunkCfg::new("pstn", trunk_port, &[])),
        ),
    )
}

/// These tests carry no audio: one block of RTP ports is plenty (the
/// default lease of 400 can run out while other suites run in parallel).
fn small_rtp(mut opts: ServerOpts) -> ServerOpts {
    opts.rtp_range = Some(rtp_range(50));
    opts
}

/// The `Proxy-Authorization` line of the last INVITE sipp sent, from its trace.
fn sent_proxy_authorization(messages: &str) -> Option<String> {
    messages
        .lines()
        .rfind(|l| l.trim_start().starts_with("Proxy-Authorization:"))
        .map(|l| l.trim().to_string())
}

/// A phone (sipp as 1001) authenticates an INVITE; the captured header is
/// then sent again by another sipp, to the same number and to a trunk number.
/// Both are refused and the trunk never sees an INVITE.
#[test]
fn sipp_replayed_proxy_authorization_is_refused() {
    let dir = TestDir::new("sec_replay");
    let trunk = UdpSocket::bind("127.0.0.1:0").unwrap();
    trunk
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let s = server(&dir, trunk.local_addr().unwrap().port());
    let remote = format!("127.0.0.1:{}", s.sip_port);
    let first = Sipp::run(
        dir.path(),
        "phone",
        "uac_auth_invite_once.xml",
        Some(&remote),
        &[
            "-s",
            "1002",
            "-au",
            "1001",
            "-ap",
            "secret1001",
            "-auth_uri", // sipp adds the scheme
            &format!("1002@127.0.0.1:{}", s.sip_port),
            "-m",
            "1",
        ],
        Duration::from_secs(20),
    );
    first.assert_ok();
    let header = sent_proxy_authorization(&first.messages())
        .unwrap_or_else(|| panic!("no Proxy-Authorization sent\n{}", first.diagnostics()));
    assert!(header.contains("nc=00000001"), "{header}");

    // Line 1: the same number (nonce count already used); line 2: toll fraud.
    let csv = dir.join("replay.csv");
    std::fs::write(
        &csv,
        format!("SEQUENTIAL\n1002;{header}\n900555123;{header}\n"),
    )
    .unwrap();
    let replay = Sipp::run(
        dir.path(),
        "attacker",
        "uac_auth_replay.xml",
        Some(&remote),
        &["-inf", &csv.display().to_string(), "-m", "2", "-r", "1"],
        Duration::from_secs(20),
    );
    replay.assert_ok();
    let msgs = replay.messages();
    assert!(
        msgs.contains("SIP/2.0 407") && msgs.contains("stale=true"),
        "same Request-URI: a fresh challenge\n{}",
        replay.diagnostics()
    );
    assert!(
        msgs.contains("SIP/2.0 403"),
        "another Request-URI: forbidden\n{}",
        replay.diagnostics()
    );
    assert!(!msgs.contains("SIP/2.0 200") && !msgs.contains("SIP/2.0 180"));
    let mut buf = [0u8; 2048];
    assert!(
        trunk.recv_from(&mut buf).is_err(),
        "the trunk received: {}",
        String::from_utf8_lossy(&buf)
    );
}

/// No response of the API carries a SIP password (nor its HA1), the database
/// file holds none in clear, and a SIP password set by the admin works for
/// the phone at once (HA1 computed in the configured realm).
#[test]
fn sip_passwords_never_leave_the_server_in_clear() {
    let dir = TestDir::new("sec_passwords");
    let s = server(&dir, free_port());
    let (st, login) = s.api(
        "POST",
        "/api/login",
        Some(&json!({"username": "1001", "password": "pw1001"})),
        None,
    );
    assert_eq!(st, 200, "{login}");
    let token = login["token"].as_str().unwrap().to_string();
    let admin = s.login("9000", "pw9000");
    let (_, me) = s.api("GET", "/api/me", None, Some(&token));
    let (_, agents) = s.api("GET", "/api/admin/agents", None, Some(&admin));
    let id = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "1002")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, updated) = s.api(
        "PUT",
        &format!("/api/admin/agents/{id}"),
        Some(&json!({"sip_password": "n3w-Secret"})),
        Some(&admin),
    );
    assert_eq!(st, 200, "{updated}");
    let (st, created) = s.api(
        "POST",
        "/api/admin/agents",
        Some(&json!({"username": "1003", "password": "pw1003", "sip_password": "fresh1003"})),
        Some(&admin),
    );
    assert_eq!(st, 200, "{created}");
    for (what, v) in [
        ("login", &login),
        ("me", &me),
        ("admin agents", &agents),
        ("update", &updated),
        ("create", &created),
    ] {
        let text = v.to_string();
        for secret in [
            "sip_password",
            "secret100",
            "n3w-Secret",
            "fresh1003",
            "sip_ha1",
        ] {
            assert!(!text.contains(secret), "{what} shows {secret}: {text}");
        }
    }
    // The new password works, the old one no longer does.
    let ok = Sipp::register(
        dir.path(),
        "reg_new",
        s.sip_port,
        &[("1002", "n3w-Secret"), ("1003", "fresh1003")],
        "u1",
        Duration::from_secs(20),
    );
    ok.assert_ok();
    let old = Sipp::register(
        dir.path(),
        "reg_old",
        s.sip_port,
        &[("1002", "secret1002")],
        "u1",
        Duration::from_secs(20),
    );
    assert_eq!(old.successful(), 0, "{}", old.diagnostics());
    // Nothing in the database files (main and WAL) in clear.
    let mut bytes = Vec::new();
    for f in ["sb.db", "sb.db-wal"] {
        bytes.extend(std::fs::read(dir.join(f)).unwrap_or_default());
    }
    assert!(!bytes.is_empty(), "database files found");
    let text = String::from_utf8_lossy(&bytes);
    for secret in ["secret1001", "secret1002", "n3w-Secret", "fresh1003"] {
        assert!(!text.contains(secret), "{secret} stored in clear");
    }
}

/// Send `head` and then up to `body_bytes` of filler (stopping when the server
/// closes), and return the status of the answer.
fn raw_status(port: u16, head: &str, body_bytes: usize) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'['; 64 << 10];
    let mut sent = 0;
    while sent < body_bytes && c.write_all(&chunk).is_ok() {
        sent += chunk.len();
    }
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Resident memory of a process (kB).
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A 100 MB body (declared) to API endpoints gets 413 with a JSON error
/// before it is read: the server's memory does not grow and it stays up.
#[test]
fn oversized_api_body_gets_413_json() {
    let dir = TestDir::new("sec_413");
    let mut s = server(&dir, free_port());
    let token = s.login("1001", "pw1001");
    let pid = s.pid().expect("server pid");
    let before = rss_kb(pid);
    for path in ["/api/calls", "/api/login", "/api/calls/x/hangup"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: 104857600\r\n\r\n"
        );
        let (status, text) = raw_status(s.http_port, &head, 100 << 20);
        assert_eq!(status, 413, "{path}: {text}");
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON error body");
        assert!(v["error"].as_str().unwrap().contains("too large"), "{v}");
    }
    let after = rss_kb(pid);
    assert!(
        after < before + 20_000,
        "RSS grew from {before} kB to {after} kB"
    );
    s.assert_alive("after oversized bodies");
    let (st, _) = s.api("GET", "/api/me", None, Some(&token));
    assert_eq!(st, 200);
}

/// Console headers, the session cookie's flags, logout revoking the token,
/// and the WebSocket refusing a request without a valid token.
#[test]
fn console_headers_cookie_logout_and_websocket() {
    let dir = TestDir::new("sec_http");
    let s = server(&dir, free_port());
    let page = http::request(s.http_port, "GET", "/", &[], None, Duration::from_secs(5)).unwrap();
    assert_eq!(page.status, 200);
    let csp = page.header("Content-Security-Policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(page.header("X-Content-Type-Options"), Some("nosniff"));
    let body = br#"{"username":"1001","password":"pw1001"}"#;
    let login = http::request(
        s.http_port,
        "POST",
        "/api/login",
        &[("Content-Type", "application/json")],
        Some(body),
        Duration::from_secs(5),
    )
    .unwrap();
    let cookie = login.header("Set-Cookie").unwrap_or_default().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let behind_tls = http::request(
        s.http_port,
        "POST",
        "/api/login",
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-Proto", "https"),
        ],
        Some(body),
        Duration::from_secs(5),
    )
    .unwrap();
    let tls_cookie = behind_tls.header("Set-Cookie").unwrap_or_default();
    assert!(tls_cookie.contains("; Secure"), "{tls_cookie}");
    let v: serde_json::Value = serde_json::from_slice(&login.body).unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    assert!(v["expires_at"].as_i64().unwrap() > 0, "tokens expire");
    let upgrade = |t: Option<&str>| {
        let auth = t
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{auth}\r\n"
        );
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(("127.0.0.1", s.http_port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        c.write_all(head.as_bytes()).unwrap();
        let mut buf = [0u8; 512];
        let n = c.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n])
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0)
    };
    assert_eq!(upgrade(None), 401, "no token");
    assert_eq!(upgrade(Some("forged")), 401, "unknown token");
    assert_eq!(upgrade(Some(&token)), 101, "valid token");
    let (st, _) = s.api("POST", "/api/logout", None, Some(&token));
    assert_eq!(st, 200);
    let (st, _) = s.api("GET", "/api/me", None, Some(&token));
    assert_eq!(st, 401, "logout revoked the token");
    assert_eq!(upgrade(Some(&token)), 401, "and the WebSocket refuses it");
}

/// Whether a command is on the PATH.
fn installed(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Run a sipvicious tool (`svwar`, `svcrack`: the Debian names, or pip's
/// `sipvicious_svwar`...), returning its stdout and stderr.
fn sipvicious(tool: &str, args: &[&str]) -> String {
    let pip = format!("sipvicious_{tool}");
    let cmd = if installed(tool) { tool } else { pip.as_str() };
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// sipvicious against a running server: `svwar` finds no extension (known
/// and unknown ones get the same 401), `svcrack` does not find 1003's
/// password although it is in its list (the user is locked after 10 wrong
/// guesses, the source banned after 20), and the banned source then gets
/// no answer at all.
#[test]
fn sipvicious_scan_finds_nothing_and_gets_banned() {
    if !installed("svwar") {
        require_tool("sipvicious_svwar"); // apt-get install sipvicious
    }
    let dir = TestDir::new("sec_sipvicious");
    let s = Server::start(
        &dir,
        small_rtp(
            ServerOpts::new()
                .with_agents(&["1001", "1002", "1003"])
                .agent(AgentCfg::new("2000").role("supervisor")),
        ),
    );
    let port = s.sip_port.to_string();
    let war = sipvicious(
        "svwar",
        &["-e1000-1010", "--force", "127.0.0.1", "-p", &port],
    );
    assert!(war.contains("found nothing"), "svwar:\n{war}");
    for ext in ["1001", "1002", "1003"] {
        assert!(
            !war.contains(&format!("| {ext}")),
            "svwar found {ext}:\n{war}"
        );
    }
    let mut words: Vec<String> = (0..11).map(|i| format!("guess{i}")).collect();
    words.push("secret1003".into());
    words.extend((11..30).map(|i| format!("guess{i}")));
    let list = dir.join("words.txt");
    std::fs::write(&list, words.join("\n") + "\n").unwrap();
    let crack = sipvicious(
        "svcrack",
        &[
            "-u",
            "1003",
            "-d",
            &list.display().to_string(),
            "127.0.0.1",
            "-p",
            &port,
        ],
    );
    assert!(!crack.contains("secret1003"), "svcrack found it:\n{crack}");
    assert!(s.log().contains("banning SIP source"), "{}", s.log_tail(20));
    // Banned: even an OPTIONS from 127.0.0.1 gets nothing.
    let probe = sip::UdpClient::new(s.sip_port);
    let r = probe.request("OPTIONS", &s.uri("1001"), &[], "", Duration::from_secs(2));
    assert!(r.is_none(), "a banned source got {r:?}");
    // The ban and the failures show in the metrics.
    let token = s.login("2000", "pw2000");
    let auth = format!("Bearer {token}");
    let m = http::request(
        s.http_port,
        "GET",
        "/metrics",
        &[("Authorization", &auth)],
        None,
        Duration::from_secs(5),
    )
    .unwrap()
    .text();
    assert!(m.contains("switchboard_sip_banned_sources 1"), "{m}");
    let failures: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("switchboard_sip_auth_failures "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(failures >= 20, "{m}");
}
