//! A campaign's own trunk and caller ID with real peers: two sipp trunks
//! (`main`, the dialling rules' first choice, and `carrier-b`); campaign
//! `sales` set in the TOML file to leave through `carrier-b` with its caller
//! ID. An agent's call in the campaign reaches carrier-b's sipp with that
//! From and P-Asserted-Identity; after the admin API moves the campaign to
//! `main` with another caller ID, the next call leaves there. Bad settings
//! (unknown trunk, caller IDs unfit for SIP) are refused with a 400.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// The TOML lines that give campaign `sales` its own trunk and caller ID.
const SALES_OUTBOUND: &str = "[campaigns.outbound]\n\
    trunks = [\"carrier-b\"]\n\
    caller_id = { number = \"+34911000000\", name = \"Acme Sales\" }";

/// The INVITE lines of a sipp message trace (request line and headers of each INVITE).
fn invites(trace: &str) -> Vec<String> {
    trace
        .split("\n\n")
        .filter(|m| m.lines().any(|l| l.starts_with("INVITE sip:")))
        .map(str::to_string)
        .collect()
}

/// Place a click-to-call in campaign `sales` from 1001 and end it once the trunk answered.
fn call_in_campaign(s: &Server, token: &str, agent: &Baresip, number: &str) {
    let (st, v) = s.api(
        "POST",
        "/api/calls",
        Some(&json!({"number": number, "campaign": "sales"})),
        Some(token),
    );
    assert_eq!(st, 200, "dial: {v}");
    let id = v["call_id"].as_str().expect("call id").to_string();
    agent.wait_event("CALL_ESTABLISHED", T);
    let connected = wait_until(T, Duration::from_millis(100), || {
        let (_, v) = s.api("GET", &format!("/api/calls/{id}"), None, Some(token));
        (v["call"]["state"] == "connected").then_some(())
    });
    assert!(
        connected.is_some(),
        "the trunk never answered\n{}",
        s.log_tail(40)
    );
    agent.hangup();
    agent.wait_event("CALL_CLOSED", T);
}

#[test]
fn a_campaigns_call_leaves_through_its_trunk_with_its_caller_id() {
    let _g = serial();
    let dir = TestDir::new("campaign_trunks");
    let (main_port, b_port) = (free_port(), free_port());
    let mut main = TrunkCfg::new("main", main_port, &[]);
    main.extra = "priority = 0".into();
    let mut b = TrunkCfg::new("carrier-b", b_port, &[]);
    b.extra = "priority = 5\ncaller_id = \"+34910000000\"".into();
    let mut sales = CampaignCfg::inbound("sales", "", &["1001"]);
    sales.kind = "manual".into();
    sales.did = None;
    sales.auto_recording = false;
    sales.extra = SALES_OUTBOUND.into();
    let s = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001"])
            .agent(AgentCfg::new("9000").role("admin"))
            .trunk(main)
            .trunk(b)
            .campaign(sales),
    );
    let main_uas = Sipp::uas(
        dir.path(),
        "main_trunk",
        Some(main_port),
        true,
        &["-m", "1"],
    );
    let b_uas = Sipp::uas(dir.path(), "carrier_b", Some(b_port), true, &["-m", "1"]);
    let agent = start_agent(&dir, &s, "1001", Some(440.0), true);
    let token = s.login("1001", "pw1001");
    let admin = s.login("9000", "pw9000");

    // The settings from the TOML file, as the API shows them.
    let (st, v) = s.api("GET", "/api/campaigns", None, Some(&admin));
    assert_eq!(st, 200, "{v}");
    let camp = v["campaigns"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "sales"))
        .cloned()
        .expect("campaign sales");
    assert_eq!(
        camp["outbound"],
        json!({"trunks": ["carrier-b"],
               "caller_id": {"number": "+34911000000", "name": "Acme Sales", "privacy": false}})
    );
    let id = camp["id"].as_str().unwrap().to_string();

    call_in_campaign(&s, &token, &agent, "+34600111222");
    let run = b_uas.finish(Duration::from_secs(8));
    let got = invites(&run.messages());
    assert_eq!(
        got.len(),
        1,
        "one INVITE at carrier-b\n{}",
        run.diagnostics()
    );
    let inv = &got[0];
    assert!(inv.contains("INVITE sip:+34600111222@127.0.0.1"), "{inv}");
    assert!(
        inv.contains("From: \"Acme Sales\" <sip:+34911000000@127.0.0.1>;tag="),
        "campaign caller ID, not carrier-b's own: {inv}"
    );
    assert!(
        inv.contains("P-Asserted-Identity: \"Acme Sales\" <sip:+34911000000@127.0.0.1>"),
        "{inv}"
    );
    assert!(!inv.contains("+34910000000"), "{inv}");
    assert_eq!(run.successful(), 1, "{}", run.diagnostics());
    assert!(
        invites(&main_uas.messages()).is_empty(),
        "main (better priority) got nothing"
    );

    // Bad settings through the API: 400 with a clear message, nothing stored.
    let put = |outbound: Value| {
        let mut body = camp.clone();
        body["outbound"] = outbound;
        for k in ["id", "created_at", "supervision", "dtmf_clear"] {
            body.as_object_mut().unwrap().remove(k);
        }
        s.api(
            "PUT",
            &format!("/api/campaigns/{id}"),
            Some(&body),
            Some(&admin),
        )
    };
    let bad = [
        (
            json!({"trunks": ["nope"]}),
            "outbound.trunks: unknown trunk \"nope\" (configured trunks: main, carrier-b)",
        ),
        (
            json!({"trunks": ["main", "main"]}),
            "outbound.trunks: trunk \"main\" is listed twice",
        ),
        (
            json!({"caller_id": {"number": "+34 911 000 000"}}),
            "outbound.caller_id.number \"+34 911 000 000\" must be",
        ),
        (
            json!({"caller_id": {"number": "<sip:evil@x>"}}),
            "no spaces, quotes, '<', '>' or line breaks",
        ),
        (
            json!({"caller_id": {"number": "1\"2"}}),
            "outbound.caller_id.number",
        ),
        (
            json!({"caller_id": {"number": "1", "name": "A\r\nX-Evil: 1"}}),
            "outbound.caller_id.name",
        ),
        (
            json!({"caller_id": {"numero": "1"}}),
            "unknown field `numero`",
        ),
    ];
    for (outbound, want) in bad {
        let (st, v) = put(outbound.clone());
        assert_eq!(st, 400, "{outbound} -> {v}");
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(
            msg.contains(want),
            "{outbound}: {msg:?} should say {want:?}"
        );
    }

    // Move the campaign to main with a withheld caller ID: the next call leaves there.
    let (st, v) = put(json!({"trunks": ["main"],
        "caller_id": {"number": "+34912000000", "name": "Acme", "privacy": true}}));
    assert_eq!(st, 200, "{v}");
    eprintln!(
        "PUT /api/campaigns/{{id}} outbound -> {}",
        v["campaign"]["outbound"]
    );
    call_in_campaign(&s, &token, &agent, "+34600333444");
    let run = main_uas.finish(Duration::from_secs(8));
    let got = invites(&run.messages());
    assert_eq!(got.len(), 1, "one INVITE at main\n{}", run.diagnostics());
    let inv = &got[0];
    assert!(inv.contains("INVITE sip:+34600333444@127.0.0.1"), "{inv}");
    assert!(
        inv.contains("From: \"Anonymous\" <sip:anonymous@anonymous.invalid>"),
        "{inv}"
    );
    assert!(inv.contains("Privacy: id"), "{inv}");
    assert!(
        inv.contains("P-Asserted-Identity: \"Acme\" <sip:+34912000000@127.0.0.1>"),
        "{inv}"
    );
    assert_eq!(run.successful(), 1, "{}", run.diagnostics());
}
