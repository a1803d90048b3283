//! Per-call media quality with real peers: the server's media engine counts
//! the RTP it receives on each leg, the live call JSON shows it while the
//! call runs, and the CDR keeps each side's final figures (packets, loss,
//! jitter, MOS) after the hang-up, in the API, the CSV export and
//! `/metrics`. The customer is either sipp streaming a tone or this test
//! itself sending RTP with every tenth packet missing; the agent is baresip.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const T: Duration = Duration::from_secs(10);

/// Agent 1001, supervisor 9000 and a trunk whose trusted inbound source is `customer_port`.
fn server(dir: &TestDir, customer_port: u16) -> Server {
    Server::start(
        dir,
        ServerOpts::new()
            .with_agents(&["1001"])
            .agent(AgentCfg::new("9000").role("supervisor"))
            .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port])),
    )
}

/// The stored record of the last call, as `GET /api/calls/{id}` gives it.
fn last_cdr(s: &Server, tok: &str) -> Value {
    let (st, h) = s.api("GET", "/api/history", None, Some(tok));
    assert_eq!(st, 200, "{h}");
    let id = h["calls"][0]["id"].as_str().expect("a call").to_string();
    let (st, v) = s.api("GET", &format!("/api/calls/{id}"), None, Some(tok));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["live"], false, "{v}");
    v["call"].clone()
}

/// The live calls' JSON (supervisor).
fn live_calls(s: &Server, tok: &str) -> Vec<Value> {
    let (st, v) = s.api("GET", "/api/calls", None, Some(tok));
    assert_eq!(st, 200, "{v}");
    v["calls"].as_array().cloned().unwrap_or_default()
}

/// A customer from the trunk (sipp, a 1 kHz A-law tone for 5 s) talks to
/// agent 1001 (baresip, 440 Hz). While it runs the call JSON shows both
/// legs' packets; after the hang-up the CDR has both sides with packets and
/// a good MOS.
#[test]
fn cdr_shows_both_sides_quality_after_a_real_call() {
    let _g = serial();
    let dir = TestDir::new("quality_cdr");
    let customer_port = free_port();
    let s = server(&dir, customer_port);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let sup = s.login("9000", "pw9000");
    let scn = Sipp::rtp_uac_scenario(dir.path(), 1000.0);
    let cp = customer_port.to_string();
    let customer = Sipp::spawn(
        dir.path(),
        "customer",
        &scn,
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &["-p", &cp, "-s", "1001", "-m", "1", "-d", "5000"],
        Duration::from_secs(30),
    );
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_millis(3_500));
    let live = live_calls(&s, &sup);
    assert_eq!(live.len(), 1, "{live:?}");
    let q = &live[0]["customer"]["quality"];
    assert!(
        q["packets_received"].as_u64().unwrap_or(0) > 0,
        "live: {}",
        live[0]
    );
    a.wait_event("CALL_CLOSED", T);
    drop(customer);
    std::thread::sleep(Duration::from_millis(500));

    let cdr = last_cdr(&s, &sup);
    eprintln!("CDR: {}", serde_json::to_string_pretty(&cdr).unwrap());
    for side in ["customer", "agent"] {
        let q = &cdr["quality"][side];
        let packets = q["packets_received"].as_u64().unwrap_or(0);
        assert!(packets > 100, "{side} packets: {cdr}");
        let mos = q["mos"].as_f64().unwrap_or(0.0);
        assert!(mos > 4.0, "{side} MOS of a clean loopback call: {cdr}");
        assert!(q["loss_percent"].as_f64().expect("loss") < 1.0, "{cdr}");
    }
}

/// RTP packets of the test's own customer: 20 ms of PCMU silence each.
struct RtpSender {
    sock: UdpSocket,
    to: SocketAddr,
    seq: u16,
    ts: u32,
}

impl RtpSender {
    /// Send the next packet, or only count it as sent when `skip` (lost on the way).
    fn next(&mut self, skip: bool) {
        let mut p = vec![0x80, 0x00];
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&self.ts.to_be_bytes());
        p.extend_from_slice(&0x5eed_0001u32.to_be_bytes());
        p.extend(std::iter::repeat_n(0xffu8, 160));
        if !skip {
            self.sock.send_to(&p, self.to).expect("send RTP");
        }
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
    }
}

/// The value of header `name` in a SIP message.
fn header<'a>(msg: &'a str, name: &str) -> &'a str {
    msg.split("\r\n")
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then_some(v.trim())
        })
        .unwrap_or_else(|| panic!("no {name} in {msg}"))
}

/// The test customer calls 1001 from the trunk and streams 5 s of RTP in
/// which every tenth packet is missing: the live JSON and then the CDR
/// show ~10% loss and a poor MOS on the customer's side, the CSV export has
/// the figures and `/metrics` counts a poor call.
#[test]
fn a_lossy_customer_stream_is_reported_as_poor() {
    let _g = serial();
    let dir = TestDir::new("quality_loss");
    let customer_port = free_port();
    let s = server(&dir, customer_port);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let sup = s.login("9000", "pw9000");

    let rtp = UdpSocket::bind("127.0.0.1:0").expect("bind RTP");
    let rtp_port = rtp.local_addr().unwrap().port();
    let sip = UdpSocket::bind(("127.0.0.1", customer_port)).expect("bind the trunk's source port");
    let c = sip::UdpClient::from_socket(sip, s.sip_port);
    let ruri = s.uri("1001");
    let invite = sip::build_request(
        "INVITE",
        &ruri,
        "UDP",
        c.port,
        &["Content-Type: application/sdp"],
        &sip::sdp_offer(rtp_port),
    );
    c.send(invite.as_bytes()).expect("send INVITE");
    let ok = c
        .recv_final(Duration::from_secs(15))
        .expect("final response");
    assert_eq!(ok.status, 200, "{}", ok.raw);
    let body = ok.raw.split("\r\n\r\n").nth(1).expect("SDP answer");
    let port: u16 = body
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("answer's audio port");
    let (from, to, call_id) = (
        header(&invite, "From"),
        header(&ok.raw, "To"),
        header(&invite, "Call-ID"),
    );
    let target = header(&ok.raw, "Contact")
        .trim_start_matches('<')
        .split('>')
        .next()
        .expect("Contact URI")
        .to_string();
    let in_dialog = |method: &str, cseq: u32| {
        format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK{method}{cseq}q;rport\r\n\
             Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
             Content-Length: 0\r\n\r\n",
            c.port
        )
    };
    c.send(in_dialog("ACK", 1).as_bytes()).expect("ACK");
    a.wait_event("CALL_ESTABLISHED", T);

    let mut sender = RtpSender {
        sock: rtp,
        to: SocketAddr::from(([127, 0, 0, 1], port)),
        seq: 1000,
        ts: 0,
    };
    let start = Instant::now();
    let mut live = Value::Null;
    for i in 0..250u32 {
        sender.next(i % 10 == 9);
        if i == 175 {
            live = live_calls(&s, &sup).pop().expect("the live call");
        }
        let due = start + Duration::from_millis(20 * u64::from(i + 1));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    eprintln!("live: {}", serde_json::to_string_pretty(&live).unwrap());
    let q = &live["customer"]["quality"];
    let loss = q["loss_percent"].as_f64().unwrap_or(0.0);
    assert!((8.0..12.0).contains(&loss), "live loss ~10%: {live}");

    c.send(in_dialog("BYE", 2).as_bytes()).expect("BYE");
    let bye = c.recv_final(Duration::from_secs(5)).expect("BYE answered");
    assert_eq!(bye.status, 200, "{}", bye.raw);
    a.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(500));

    let cdr = last_cdr(&s, &sup);
    eprintln!("CDR: {}", serde_json::to_string_pretty(&cdr).unwrap());
    let cust = &cdr["quality"]["customer"];
    assert_eq!(cust["packets_received"], 225, "{cdr}");
    let lost = cust["packets_lost"].as_u64().unwrap_or(0);
    assert!((24..=25).contains(&lost), "lost {lost}: {cdr}");
    let loss = cust["loss_percent"].as_f64().unwrap_or(0.0);
    assert!((9.0..11.0).contains(&loss), "{cdr}");
    let mos = cust["mos"].as_f64().expect("customer MOS");
    assert!(mos < 3.6, "10% loss is poor: {cdr}");
    // The agent's phone sent everything; its MOS also weighs what its RTCP
    // says it heard (the customer's gaps, forwarded), so it is not checked.
    let agent = &cdr["quality"]["agent"];
    assert!(
        agent["packets_received"].as_u64().unwrap_or(0) > 200,
        "{cdr}"
    );
    assert_eq!(agent["packets_lost"], 0, "{cdr}");

    let (st, csv) = s.api("GET", "/api/exports/calls", None, Some(&sup));
    assert_eq!(st, 200);
    let csv = csv.as_str().expect("CSV text").to_string();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines
        .next()
        .expect("header")
        .trim_start_matches('\u{feff}')
        .split(',')
        .collect();
    let row: Vec<&str> = lines.next().expect("a row").split(',').collect();
    let col = |name: &str| row[head.iter().position(|h| *h == name).expect(name)];
    assert_eq!(col("customer_packets"), "225", "{csv}");
    assert_eq!(col("customer_mos"), format!("{mos:.2}"), "{csv}");

    let (_, metrics) = s.api("GET", "/metrics", None, Some(&sup));
    let metrics = metrics.as_str().expect("metrics text").to_string();
    eprintln!(
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("mos") || l.contains("poor"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        metrics.contains("switchboard_call_mos_count 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchboard_calls_poor_quality{campaign=\"\"} 1"),
        "{metrics}"
    );
}
