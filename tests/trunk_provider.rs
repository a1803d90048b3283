//! A trunk as a real provider is used: found through DNS SRV (dnsmasq on a
//! high port), registered with digest at a Kamailio acting as the provider
//! (it sends calls for our DIDs only to the registered contact and
//! challenges our INVITEs), with failover from the SRV record that answers
//! 503 to the next one. Audio both ways through a baresip "PSTN" behind the
//! provider, outbound and inbound. Bad input beside it: a trunk whose host
//! does not resolve, and one whose password the provider refuses.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);
const MODULES: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

/// A child process killed (with its process group) when dropped.
struct Daemon(Child, &'static str);

impl Drop for Daemon {
    fn drop(&mut self) {
        // The whole process group at once with SIGKILL: Kamailio forks its
        // workers, and workers left without their main process must not
        // run any shutdown code of their own.
        if let Ok(pid) = libc::pid_t::try_from(self.0.id()) {
            if pid > 1 {
                // SAFETY: killpg only sends a signal to the group we created.
                unsafe {
                    libc::killpg(pid, libc::SIGKILL);
                }
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
        eprintln!("stopped {}", self.1);
    }
}

fn spawn(mut cmd: Command, what: &'static str, log: &Path) -> Daemon {
    let out = std::fs::File::create(log).expect("log file");
    cmd.stdout(out.try_clone().expect("log")).stderr(out);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    Daemon(
        cmd.spawn()
            .unwrap_or_else(|e| panic!("starting {what}: {e}")),
        what,
    )
}

/// dnsmasq answering for `provider.test` only: `_sip._udp.provider.test`
/// SRV to busy (priority 10) then kam (priority 20), both on 127.0.0.1;
/// any other name in the domain is NXDOMAIN.
fn dnsmasq(dir: &TestDir, port: u16, busy: u16, kam: u16) -> Daemon {
    let mut c = Command::new("dnsmasq");
    c.args([
        "--no-daemon",
        "--conf-file=/dev/null",
        &format!("--port={port}"),
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--log-queries",
        "--log-facility=-",
        &format!("--pid-file={}", dir.join("dnsmasq.pid").display()),
        "--local=/provider.test/",
        "--host-record=kam.provider.test,127.0.0.1",
        "--host-record=busy.provider.test,127.0.0.1",
        &format!("--srv-host=_sip._udp.provider.test,busy.provider.test,{busy},10,10"),
        &format!("--srv-host=_sip._udp.provider.test,kam.provider.test,{kam},20,10"),
    ]);
    let d = spawn(c, "dnsmasq", &dir.join("dnsmasq.log"));
    std::thread::sleep(Duration::from_millis(300));
    d
}

/// Kamailio as the provider: on `busy` everything gets 503; on `kam`,
/// REGISTER needs digest (user acme, password s3cret), INVITEs from
/// Switchboard (`sb`) need proxy digest and go to the PSTN phone (`pstn`),
/// other INVITEs are calls to our DIDs and go to acme's registered contact.
fn kamailio(dir: &TestDir, kam: u16, busy: u16, sb: u16, pstn: u16) -> Daemon {
    let cfg = format!(
        r#"#!KAMAILIO
debug=2
log_stderror=yes
children=2
auto_aliases=no
listen=udp:127.0.0.1:{kam}
listen=udp:127.0.0.1:{busy}
mpath="{MODULES}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "auth.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("usrloc", "db_mode", 0)

request_route {{
    if ($Rp == {busy}) {{
        if (!is_method("ACK")) {{
            sl_send_reply("503", "Service Unavailable");
        }}
        exit;
    }}
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    force_send_socket(udp:127.0.0.1:{kam});
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("ACK")) {{
        exit;
    }}
    if (is_method("OPTIONS")) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("provider.test", "s3cret", "0")) {{
            www_challenge("provider.test", "0");
            exit;
        }}
        if ($au != "acme") {{
            sl_send_reply("403", "Forbidden");
            exit;
        }}
        consume_credentials();
        save("location");
        exit;
    }}
    if (!is_method("INVITE")) {{
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }}
    record_route();
    if ($si == "127.0.0.1" && $sp == {sb}) {{
        if (!pv_proxy_authenticate("provider.test", "s3cret", "0")) {{
            proxy_challenge("provider.test", "0");
            exit;
        }}
        consume_credentials();
        $du = "sip:127.0.0.1:{pstn}";
        t_relay();
        exit;
    }}
    $rU = "acme";
    if (!lookup("location")) {{
        sl_send_reply("404", "Not registered");
        exit;
    }}
    t_relay();
}}
"#
    );
    let path = dir.join("kamailio.cfg");
    std::fs::write(&path, cfg).expect("kamailio.cfg");
    let mut c = Command::new("/usr/sbin/kamailio");
    c.args([
        "-f",
        &path.to_string_lossy(),
        "-DD",
        "-E",
        "-m",
        "64",
        "-M",
        "8",
    ])
    .args(["-Y", &dir.path().to_string_lossy()])
    .stdin(Stdio::null());
    let d = spawn(c, "kamailio", &dir.join("kamailio.log"));
    std::thread::sleep(Duration::from_millis(1500));
    d
}

fn trunk(name: &str, address: &str, extra: &str) -> TrunkCfg {
    TrunkCfg {
        name: name.into(),
        address: address.into(),
        inbound_from: Vec::new(),
        extra: extra.into(),
    }
}

fn trunks(s: &Server, tok: &str) -> Vec<Value> {
    let (st, v) = s.api("GET", "/api/trunks", None, Some(tok));
    assert_eq!(st, 200, "{v}");
    v["trunks"].as_array().cloned().unwrap_or_default()
}

fn find<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no trunk {name} in {list:?}"))
}

#[test]
fn provider_by_srv_registration_failover_and_audio_both_ways() {
    require_tool("dnsmasq");
    require_tool("kamailio");
    let _g = serial();
    let dir = TestDir::new("trunk_provider");
    let (dns, kam, busy, pstn_port, sb) = (
        free_port(),
        free_port(),
        free_port(),
        free_port_pair(),
        free_port(),
    );
    let _dns = dnsmasq(&dir, dns, busy, kam);
    let _kam = kamailio(&dir, kam, busy, sb, pstn_port);
    let pstn = Baresip::with_opts(
        dir.path(),
        BaresipOpts::new("5551234").sip_port(pstn_port).tone(1000.0),
    );
    let mut opts = ServerOpts::new()
        .with_agents(&["1001"])
        .agent(AgentCfg::new("9000").role("admin"))
        .trunk(trunk(
            "provider",
            "provider.test",
            "username = \"acme\"\npassword = \"s3cret\"\nregister = true",
        ))
        .trunk(trunk(
            "wrongpw",
            &format!("kam.provider.test:{kam}"),
            "username = \"acme\"\npassword = \"nope\"\nregister = true\nprefixes = [\"999\"]\n\
             options_interval_secs = 2",
        ))
        .trunk(trunk(
            "busyonly",
            &format!("busy.provider.test:{busy}"),
            "prefixes = [\"997\"]\noptions_interval_secs = 2",
        ))
        .trunk(trunk(
            "nohost",
            "nohost.provider.test",
            "prefixes = [\"998\"]",
        ))
        .campaign(CampaignCfg::inbound("support", "5000", &["1001"]));
    opts.sip_port = Some(sb);
    opts.extra_server = format!("dns_servers = [\"127.0.0.1:{dns}\"]");
    let s = Server::start(&dir, opts);
    let admin = s.login("9000", "pw9000");

    // Registered through the second SRV record after the first answered 503;
    // OPTIONS checks tell a healthy host from one that answers 503.
    let list = wait_until(T, Duration::from_millis(200), || {
        let list = trunks(&s, &admin);
        let registered = find(&list, "provider")["registration"]["state"] == "registered";
        let checked =
            find(&list, "wrongpw")["health"] == "up" && find(&list, "busyonly")["health"] == "down";
        (registered && checked).then_some(list)
    })
    .unwrap_or_else(|| {
        panic!(
            "provider never registered, or health never checked: {:?}\n{}",
            trunks(&s, &admin),
            s.log_tail(40)
        )
    });
    let p = find(&list, "provider");
    assert_eq!(p["targets"][0]["address"], format!("127.0.0.1:{busy}"));
    assert_eq!(p["targets"][1]["address"], format!("127.0.0.1:{kam}"));
    assert!(
        p["registration"]["expires_in_secs"].as_u64().unwrap() > 60,
        "{p}"
    );
    let b = find(&list, "busyonly");
    assert_eq!(
        b["targets"][0]["reason"], "503 Service Unavailable to OPTIONS",
        "{b}"
    );
    // Bad input is reported, not fatal.
    let w = find(&list, "wrongpw");
    assert_eq!(w["registration"]["state"], "failed", "{w}");
    assert!(
        w["registration"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("refused the username or password"),
        "{w}"
    );
    let n = find(&list, "nohost");
    assert_eq!(
        n["resolve_error"], "nohost.provider.test: no such host",
        "{n}"
    );
    let auth = format!("Bearer {admin}");
    let metrics = common::http::request(
        s.http_port,
        "GET",
        "/metrics",
        &[("Authorization", auth.as_str())],
        None,
        Duration::from_secs(5),
    )
    .expect("/metrics")
    .text();
    assert!(
        metrics.contains("switchboard_trunk_registered{trunk=\"provider\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchboard_trunk_registered{trunk=\"wrongpw\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchboard_trunk_up{trunk=\"wrongpw\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchboard_trunk_up{trunk=\"busyonly\"} 0"),
        "{metrics}"
    );

    // Out: agent -> busy record (503) -> Kamailio (407, digest) -> PSTN.
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    a.dial(&s.uri("5551234"));
    let e = pstn.wait_event("CALL_ESTABLISHED", T);
    eprintln!("PSTN answered a call from {}", e.peeruri);
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    pstn.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 3.0, "agent (outbound)");
    assert_hears(&pstn.received_wav(), 440.0, 3.0, "PSTN (outbound)");
    let log = std::fs::read_to_string(dir.join("kamailio.log")).unwrap_or_default();
    assert!(
        pstn.log().contains("INVITE sip:5551234@provider.test"),
        "the provider's domain in the Request-URI\n{}",
        pstn.log_tail(40)
    );
    let (_, calls) = s.api("GET", "/api/history?limit=1", None, Some(&admin));
    let call_id = calls["calls"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, events) = s.api(
        "GET",
        &format!("/api/calls/{call_id}/events"),
        None,
        Some(&admin),
    );
    assert!(
        events.to_string().contains("TRUNK_FAILOVER"),
        "the busy record's 503 is in the call log: {events}\n{}",
        &log[log.len().saturating_sub(2000)..]
    );

    // In: the PSTN calls our DID at the provider, which sends it to our
    // registered contact; the queue gives it to the ready agent.
    let tok = s.login("1001", "pw1001");
    let (st, v) = s.api(
        "PUT",
        "/api/agents/me/state",
        Some(&json!({"state": "ready"})),
        Some(&tok),
    );
    assert_eq!(st, 200, "{v}");
    pstn.dial(&format!("sip:5000@127.0.0.1:{kam}"));
    a.wait_event("CALL_ESTABLISHED", T);
    pstn.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    pstn.hangup();
    pstn.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 3.0, "agent (inbound)");
    assert_hears(&pstn.received_wav(), 440.0, 3.0, "customer (inbound)");
    let mut s = s;
    s.assert_alive("after the provider's calls");
}
