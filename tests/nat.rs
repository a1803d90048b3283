//! A home agent behind a NAT, for real: the agent's phone (sipp) runs in a
//! network namespace routed through a second namespace that masquerades it
//! (iptables MASQUERADE) with a 5 s UDP conntrack timeout. It registers,
//! the test waits past that timeout, then a customer calls the agent's
//! extension. With the server's keep-alive pings the call reaches the phone;
//! without them (the control run) the NAT has forgotten the mapping and it
//! does not. Needs root (`ip netns`), as the CI machine has.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Host side of the router link, where the server listens.
const HOST_IP: &str = "10.212.0.1";
/// The router's public (masqueraded) address.
const ROUTER_OUT: &str = "10.212.0.2";
/// The phone's private address.
const PHONE_IP: &str = "10.211.0.2";

fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed (needs root and iproute2/iptables): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces: `phone` (10.211.0.2) behind `router`, which masquerades
/// it towards the host (10.212.0.1). Removed on drop.
struct Nat {
    phone: String,
    router: String,
    host_if: String,
}

impl Nat {
    fn new() -> Nat {
        let id = std::process::id() % 100_000;
        let n = Nat {
            phone: format!("sbphone{id}"),
            router: format!("sbrouter{id}"),
            host_if: format!("sbh{id}"),
        };
        n.cleanup();
        let (p, r) = (n.phone.as_str(), n.router.as_str());
        let (pi, ri, ro) = (format!("sbp{id}"), format!("sbr{id}"), format!("sbo{id}"));
        sh(&["ip", "netns", "add", p]);
        sh(&["ip", "netns", "add", r]);
        sh(&[
            "ip", "link", "add", &pi, "type", "veth", "peer", "name", &ri,
        ]);
        sh(&["ip", "link", "set", &pi, "netns", p]);
        sh(&["ip", "link", "set", &ri, "netns", r]);
        sh(&[
            "ip", "link", "add", &n.host_if, "type", "veth", "peer", "name", &ro,
        ]);
        sh(&["ip", "link", "set", &ro, "netns", r]);
        sh(&[
            "ip",
            "addr",
            "add",
            &format!("{HOST_IP}/24"),
            "dev",
            &n.host_if,
        ]);
        sh(&["ip", "link", "set", &n.host_if, "up"]);
        let inr = |args: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", r];
            v.extend_from_slice(args);
            sh(&v);
        };
        inr(&["ip", "addr", "add", &format!("{ROUTER_OUT}/24"), "dev", &ro]);
        inr(&["ip", "link", "set", &ro, "up"]);
        inr(&["ip", "addr", "add", "10.211.0.1/24", "dev", &ri]);
        inr(&["ip", "link", "set", &ri, "up"]);
        inr(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        inr(&["sysctl", "-qw", "net.netfilter.nf_conntrack_udp_timeout=5"]);
        inr(&[
            "sysctl",
            "-qw",
            "net.netfilter.nf_conntrack_udp_timeout_stream=5",
        ]);
        inr(&[
            "iptables",
            "-t",
            "nat",
            "-A",
            "POSTROUTING",
            "-o",
            &ro,
            "-j",
            "MASQUERADE",
        ]);
        let inp = |args: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", p];
            v.extend_from_slice(args);
            sh(&v);
        };
        inp(&["ip", "addr", "add", &format!("{PHONE_IP}/24"), "dev", &pi]);
        inp(&["ip", "link", "set", &pi, "up"]);
        inp(&["ip", "link", "set", "lo", "up"]);
        inp(&["ip", "route", "add", "default", "via", "10.211.0.1"]);
        n
    }

    fn cleanup(&self) {
        for ns in [&self.phone, &self.router] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
    }
}

impl Drop for Nat {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// Register 1001 from behind the NAT, wait past the NAT's timeout, have a
/// customer call 1001; returns whether the phone answered.
fn call_reaches_the_phone_behind_nat(keepalive_secs: u64) -> bool {
    let dir = TestDir::new(&format!("nat_keepalive_{keepalive_secs}"));
    let nat = Nat::new();
    let (sip_port, customer_port) = (free_port(), free_port());
    let mut opts = ServerOpts::new().with_agents(&["1001"]).trunk(TrunkCfg {
        name: "pstn".into(),
        address: format!("{HOST_IP}:{}", free_port()),
        inbound_from: vec![format!("{HOST_IP}:{customer_port}")],
        extra: String::new(),
    });
    opts.sip_host = Some(HOST_IP.into());
    opts.sip_port = Some(sip_port);
    opts.extra_server = format!("nat_keepalive_secs = {keepalive_secs}\nring_timeout_secs = 5");
    let s = Server::start(&dir, opts);

    // The phone, inside its namespace: it registers from port 5060, then
    // waits there for pings and calls.
    let in_ns = |label: &str, scenario: &str, extra: &[&str]| {
        let path = common::scenarios_dir().join(scenario);
        Command::new("ip")
            .args(["netns", "exec", &nat.phone, "sipp"])
            .arg(format!("{HOST_IP}:{sip_port}"))
            .args(["-sf", &path.to_string_lossy()])
            .args(["-i", PHONE_IP, "-p", "5060", "-mp", "16000"])
            .args(extra)
            .args(["-trace_msg", "-message_file"])
            .arg(dir.join(&format!("{label}_msg.log")))
            .args(["-trace_err", "-error_file"])
            .arg(dir.join(&format!("{label}_err.log")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp in the namespace")
    };
    let users = dir.join("users.csv");
    std::fs::write(
        &users,
        "SEQUENTIAL\n1001;[authentication username=1001 password=secret1001]\n",
    )
    .expect("users.csv");
    let mut reg = in_ns(
        "register",
        "reg_uac_auth.xml",
        &[
            "-inf",
            &users.to_string_lossy(),
            "-m",
            "1",
            "-timeout",
            "10",
        ],
    );
    let status = reg.wait().expect("sipp register");
    assert!(
        status.success(),
        "the phone's REGISTER through the NAT failed"
    );
    let mut phone = in_ns("phone", "uas_answer_or_ping.xml", &["-m", "1000"]);
    let tok = s.login("1001", "pw1001");
    wait_until(Duration::from_secs(10), Duration::from_millis(200), || {
        let (_, v) = s.api("GET", "/api/agents", None, Some(&tok));
        v["agents"][0]["registered"].as_bool().filter(|r| *r)
    })
    .unwrap_or_else(|| {
        panic!(
            "the phone behind the NAT never registered\n{}",
            s.log_tail(30)
        )
    });

    // Longer than the NAT keeps an idle mapping.
    std::thread::sleep(Duration::from_secs(8));

    let started = Instant::now();
    let run = Sipp::run(
        dir.path(),
        "customer",
        "uac_basic_rr.xml",
        Some(&format!("{HOST_IP}:{sip_port}")),
        &[
            "-i",
            HOST_IP,
            "-p",
            &customer_port.to_string(),
            "-s",
            "1001",
            "-d",
            "500",
            "-m",
            "1",
            "-recv_timeout",
            "12000",
        ],
        Duration::from_secs(20),
    );
    eprintln!(
        "keepalive {keepalive_secs} s: customer's call ended with code {} after {:?}",
        run.code,
        started.elapsed()
    );
    let _ = phone.kill();
    let _ = phone.wait();
    drop(nat);
    run.code == 0
}

#[test]
fn a_home_agent_behind_nat_gets_calls_thanks_to_keepalives() {
    require_tool("sipp");
    let _g = serial();
    assert!(
        call_reaches_the_phone_behind_nat(2),
        "with OPTIONS pings every 2 s the NAT keeps the mapping and the call is answered"
    );
    assert!(
        !call_reaches_the_phone_behind_nat(0),
        "control: without pings the NAT forgets the phone after 5 s and the call cannot reach it"
    );
}
