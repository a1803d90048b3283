//! Attended (consultative) transfer done from the agent's own phone with
//! REFER + Replaces (RFC 3515 + RFC 3891), as linphone does it.
//!
//! A customer (baresip at the trunk's inbound address, 1000 Hz) calls agent
//! 1001 (linphonec, driven on stdin). 1001 puts the customer on hold, calls
//! agent 1002 (baresip, auto answer, 700 Hz), then `transfer 1 --to-call 2`:
//! linphone sends REFER on the customer's dialog with a Replaces naming its
//! dialog with 1002. The server bridges the customer to 1002, hangs up both
//! of 1001's legs and ends the consultation call without hanging up 1002.

mod common;

use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// linphonec on stdin, its own HOME and rc file; killed on drop.
struct Linphone {
    child: Child,
    stdin: ChildStdin,
    out: PathBuf,
    _rtp: RtpLease,
}

impl Linphone {
    fn start(dir: &TestDir, user: &str) -> Linphone {
        require_tool("linphonec");
        let home = dir.subdir(&format!("linphone-{user}"));
        std::fs::create_dir_all(home.join(".local/share/linphone")).unwrap();
        let port = free_port();
        let rtp = rtp_lease(10);
        let rc = home.join("linphonerc");
        std::fs::write(
            &rc,
            format!(
                "[sip]\nsip_port={port}\nguess_hostname=0\nsip_tcp_port=0\nsip_tls_port=0\n\
                 contact=sip:{user}@127.0.0.1:{port}\nregister_only_when_network_is_up=0\n\
                 [rtp]\naudio_rtp_port={}\n[sound]\nechocancellation=0\n[video]\nenabled=0\n",
                rtp.range().0
            ),
        )
        .unwrap();
        let out = home.join("linphonec.log");
        let log = std::fs::File::create(&out).unwrap();
        let mut child = Command::new("linphonec")
            .args(["-c", rc.to_str().unwrap(), "-d", "0"])
            .env("HOME", &home)
            .current_dir(&home)
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start linphonec");
        let stdin = child.stdin.take().unwrap();
        let mut l = Linphone {
            child,
            stdin,
            out,
            _rtp: rtp,
        };
        l.send("soundcard use files");
        l
    }

    fn send(&mut self, cmd: &str) {
        writeln!(self.stdin, "{cmd}").expect("write to linphonec");
        self.stdin.flush().unwrap();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn wait_log(&self, what: &str, timeout: Duration) {
        let ok = wait_until(timeout, Duration::from_millis(100), || {
            self.log().contains(what).then_some(())
        });
        assert!(
            ok.is_some(),
            "linphonec never printed {what:?}; output:\n{}",
            self.log()
        );
    }
}

impl Drop for Linphone {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        if wait_child(&mut self.child, Duration::from_secs(2)).is_none() {
            kill_child(&mut self.child);
        }
    }
}

fn get(s: &Server, token: &str, path: &str) -> Value {
    let (st, v) = s.api("GET", path, None, Some(token));
    assert_eq!(st, 200, "GET {path}: {v}");
    v
}

fn kinds(s: &Server, token: &str, id: &str) -> Vec<String> {
    get(s, token, &format!("/api/calls/{id}/events"))["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn live_calls(s: &Server, token: &str) -> Vec<Value> {
    get(s, token, "/api/calls")["calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn presence(s: &Server, token: &str, user: &str) -> Value {
    get(s, token, "/api/agents")["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["username"] == user).cloned())
        .unwrap_or(Value::Null)
}

/// REFER on the customer's dialog (call 1), Replaces naming the consultation (call 2):
/// what linphone does for `transfer 1 --to-call 2`.
#[test]
fn linphone_attended_transfer_refer_on_customer_dialog() {
    attended_transfer("transfer 1 --to-call 2", "phone_attended_transfer_1");
}

/// REFER on the consultation dialog (call 2), Replaces naming the customer's (call 1).
#[test]
fn linphone_attended_transfer_refer_on_consultation_dialog() {
    attended_transfer("transfer 2 --to-call 1", "phone_attended_transfer_2");
}

fn attended_transfer(command: &str, name: &str) {
    let _g = serial();
    let dir = TestDir::new(name);
    let customer_port = free_port_pair();
    let s = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001", "1002"])
            .agent(AgentCfg::new("9000").role("supervisor"))
            .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port])),
    );
    let sup = s.login("9000", "pw9000");

    let mut a = Linphone::start(&dir, "1001");
    a.send(&format!(
        "register sip:1001@127.0.0.1 sip:127.0.0.1:{} secret1001",
        s.sip_port
    ));
    a.send("autoanswer enable");
    let registered = wait_until(T, Duration::from_millis(200), || {
        (presence(&s, &sup, "1001")["registered"] == true).then_some(())
    });
    assert!(
        registered.is_some(),
        "linphonec did not register: {}\n{}",
        presence(&s, &sup, "1001"),
        a.log()
    );
    let b = start_agent(&dir, &s, "1002", Some(700.0), true);
    let c = Baresip::with_opts(
        dir.path(),
        BaresipOpts::new("5550100")
            .sip_port(customer_port)
            .tone(1000.0),
    );

    // Call 1: customer -> 1001 (linphone auto-answers).
    c.dial(&s.uri("1001"));
    let est = c.wait_event("CALL_ESTABLISHED", T);
    let call1 = wait_until(T, Duration::from_millis(100), || {
        live_calls(&s, &sup)
            .first()
            .and_then(|c| c["call_id"].as_str().map(str::to_string))
    })
    .expect("call 1 live");
    std::thread::sleep(Duration::from_secs(1));

    // 1001 holds the customer and consults 1002 (call 2).
    a.send("pause 1");
    let held = wait_until(T, Duration::from_millis(100), || {
        (get(&s, &sup, &format!("/api/calls/{call1}"))["call"]["state"] == "held").then_some(())
    });
    assert!(held.is_some(), "call 1 not held; linphone:\n{}", a.log());
    a.send(&format!("call sip:1002@127.0.0.1:{}", s.sip_port));
    b.wait_event("CALL_ESTABLISHED", T);
    let call2 = wait_until(T, Duration::from_millis(100), || {
        live_calls(&s, &sup)
            .iter()
            .filter_map(|c| c["call_id"].as_str())
            .find(|id| *id != call1)
            .map(str::to_string)
    })
    .expect("call 2 live");
    std::thread::sleep(Duration::from_secs(1));

    // Attended transfer from the phone.
    a.send(command);
    let done = wait_until(T, Duration::from_millis(100), || {
        kinds(&s, &sup, &call1)
            .iter()
            .any(|k| k == "TRANSFER_COMPLETED")
            .then_some(())
    });
    assert!(
        done.is_some(),
        "no TRANSFER_COMPLETED on call 1: {:?}\nlinphone:\n{}\nserver:\n{}",
        kinds(&s, &sup, &call1),
        a.log(),
        s.log_tail(40)
    );
    let t0 = c.now() - est.at;

    // Call 2 ended; call 1 goes on between the customer and 1002.
    let ended = wait_until(T, Duration::from_millis(100), || {
        (get(&s, &sup, &format!("/api/calls/{call2}"))["live"] == false).then_some(())
    });
    assert!(ended.is_some(), "call 2 still live");
    let v = get(&s, &sup, &format!("/api/calls/{call1}"));
    assert_eq!(v["live"], true, "{v}");
    assert_eq!(v["call"]["state"], "connected", "{v}");
    let k = kinds(&s, &sup, &call1);
    assert!(k.iter().any(|k| k == "TRANSFER_COMPLETED"), "{k:?}");
    let detail = get(&s, &sup, &format!("/api/calls/{call1}/events"))["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "TRANSFER_COMPLETED")
        .cloned()
        .unwrap();
    assert!(detail.to_string().contains("1002"), "{detail}");

    // The REFER got its final NOTIFY (linphone says the transfer is done) and
    // both of 1001's calls are over.
    a.wait_log("has been transfered", T);
    a.wait_log("Call 1 with sip:5550100@127.0.0.1 ended", T);
    a.wait_log("Call 2 with sip:1002@", T);
    let closed = wait_until(T, Duration::from_millis(100), || {
        a.log()
            .lines()
            .any(|l| l.starts_with("Call 2 with sip:1002@") && l.contains(" ended"))
            .then_some(())
    });
    assert!(closed.is_some(), "linphone call 2 not ended:\n{}", a.log());

    // Agent states: 1001 released, 1002 on call 1.
    let free = wait_until(T, Duration::from_millis(100), || {
        let p = presence(&s, &sup, "1001");
        (p["calls"].as_array().is_some_and(|c| c.is_empty()) && p["status"] != "on_call")
            .then_some(())
    });
    assert!(
        free.is_some(),
        "1001 not released: {}",
        presence(&s, &sup, "1001")
    );
    let p = presence(&s, &sup, "1002");
    assert_eq!(p["status"], "on_call", "{p}");
    assert_eq!(p["calls"], serde_json::json!([call1]), "{p}");

    // Customer and 1002 stay up, and hear each other.
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        c.events_of("CALL_CLOSED").is_empty(),
        "customer was hung up"
    );
    assert!(b.events_of("CALL_CLOSED").is_empty(), "1002 was hung up");
    let t1 = c.now() - est.at;
    let wav = read_wav(&c.received_wav()).unwrap();
    assert!(
        tone_heard_between(&wav, 700.0, t0 + 1.0, t1 - 0.5, 0.6),
        "customer should hear 1002's 700 Hz after the transfer: {}",
        describe(&wav)
    );
    assert_hears(&b.received_wav(), 1000.0, 2.5, "agent 1002");

    // The customer hangs up: call 1 ends, 1002 is released.
    c.hangup();
    b.wait_event("CALL_CLOSED", T);
    let ended = wait_until(T, Duration::from_millis(100), || {
        (get(&s, &sup, &format!("/api/calls/{call1}"))["live"] == false).then_some(())
    });
    assert!(ended.is_some(), "call 1 still live");
}
