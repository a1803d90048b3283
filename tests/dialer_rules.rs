//! The progressive dialer against the real server with sipp as the PSTN and
//! a baresip agent: of three imported contacts, the one inside the
//! campaign's calling hours (in its own zone) is called, the one outside
//! waits for its next window without an attempt counted, and the one on the
//! do-not-call list is never called: it is marked done and the refusal is
//! in the call history (`DNC_REFUSED`).

mod common;

use std::time::Duration;

use common::server::{AgentCfg, CampaignCfg, ServerOpts, TrunkCfg};
use common::sipp::Sipp;
use common::*;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(20);

/// A fixed-offset zone where the local hour is now `hour` (`Etc/GMT-3` is UTC+3).
fn zone_at_local_hour(hour: i64) -> String {
    let utc_hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
        / 3600)
        % 24;
    let mut offset = hour - utc_hour;
    if offset > 14 {
        offset -= 24;
    }
    if offset < -12 {
        offset += 24;
    }
    match offset {
        0 => "Etc/GMT".to_string(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

fn contacts(server: &Server, tok: &str) -> Vec<Value> {
    let (_, v) = server.api("GET", "/api/contacts?campaign=outbound", None, Some(tok));
    v["contacts"].as_array().cloned().unwrap_or_default()
}

fn by_phone<'a>(list: &'a [Value], phone: &str) -> &'a Value {
    list.iter()
        .find(|c| c["phone"] == phone)
        .unwrap_or_else(|| panic!("no contact {phone}: {list:?}"))
}

#[test]
fn dialer_honours_calling_hours_in_the_contacts_zone_and_the_do_not_call_list() {
    let _g = serial();
    let dir = TestDir::new("dialer_rules");
    let pstn = Sipp::uas(dir.path(), "customers", None, false, &["-d", "600000"]);
    let mut campaign = CampaignCfg::inbound("outbound", "7000", &["1001"]);
    campaign.kind = "dialer".into();
    campaign.did = None;
    campaign.auto_recording = false;
    campaign.extra = "dialer_ratio = 1.0\nmax_attempts = 2\nretry_delay_secs = 1\nacw_secs = 0\n\
        calling_hours = { days = { \"mon-sun\" = \"08:00-18:00\" } }"
        .into();
    let server = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001"])
            .agent(AgentCfg::new("9000").role("admin"))
            .trunk(TrunkCfg::new("pstn", pstn.port(), &[]))
            .campaign(campaign),
    );
    let agent = start_agent(&dir, &server, "1001", None, true);
    let adm = server.login("9000", "pw9000");

    // The do-not-call entry goes in first, then the contacts.
    let (st, v) = server.api(
        "POST",
        "/api/dnc",
        Some(&json!({"phone": "5550003", "reason": "asked not to be called"})),
        Some(&adm),
    );
    assert_eq!(st, 200, "{v}");
    let (inside, outside) = (zone_at_local_hour(12), zone_at_local_hour(2));
    let csv = format!(
        "phone,name,timezone\n5550001,Inside,{inside}\n5550002,Outside,{outside}\n5550003,Barred,{inside}\n"
    );
    let auth = format!("Bearer {adm}");
    let r = common::http::request(
        server.http_port,
        "POST",
        "/api/contacts/import?list=rules&campaign=outbound",
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        Some(csv.as_bytes()),
        T,
    )
    .expect("import");
    assert_eq!(r.status, 200, "{}", r.text());

    let tok = server.login("1001", "pw1001");
    let (st, v) = server.api(
        "PUT",
        "/api/agents/me/state",
        Some(&json!({"state": "ready"})),
        Some(&tok),
    );
    assert_eq!(st, 200, "{v}");

    // Only the contact inside its window is called.
    agent.wait_event("CALL_ESTABLISHED", T);
    let (_, calls) = server.api("GET", "/api/calls", None, Some(&tok));
    let call = &calls["calls"][0];
    assert_eq!(call["callee"], "5550001", "{calls}");
    let id = call["call_id"].as_str().unwrap().to_string();
    server.api("POST", &format!("/api/calls/{id}/hangup"), None, Some(&tok));
    agent.wait_event("CALL_CLOSED", T);
    let (st, v) = server.api(
        "POST",
        &format!("/api/calls/{id}/disposition"),
        Some(&json!({"disposition": "Sale"})),
        Some(&tok),
    );
    assert_eq!(st, 200, "{v}");

    // The barred contact is done; the one outside waits, attempt not counted.
    let settled = wait_until(T, Duration::from_millis(200), || {
        let list = contacts(&server, &adm);
        let barred = by_phone(&list, "5550003");
        let outside = by_phone(&list, "5550002");
        (barred["status"] == "done" && outside["status"] == "retry").then_some(list)
    })
    .unwrap_or_else(|| panic!("contacts: {:?}", contacts(&server, &adm)));
    let outside = by_phone(&settled, "5550002");
    assert_eq!(outside["attempts"], 0, "{outside}");
    let next = outside["next_attempt_at"].as_i64().expect("next window");
    let now = switchboard_now();
    assert!(
        next > now + 3 * 3600 * 1000 && next < now + 24 * 3600 * 1000,
        "next window 6 h ahead (08:00 local, it is 02:00 there): {outside}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(pstn.total_calls(), 1, "only one customer was called");

    // The refusal is in the call history with its event.
    let export = common::http::request(
        server.http_port,
        "GET",
        "/api/exports/calls?format=json",
        &[("Authorization", &auth)],
        None,
        T,
    )
    .expect("export");
    let rows: Value = serde_json::from_slice(&export.body).expect("JSON");
    let refused = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["callee"] == "5550003")
        .unwrap_or_else(|| panic!("no record of the refusal: {rows}"));
    let rid = refused["id"].as_str().unwrap();
    let (_, events) = server.api("GET", &format!("/api/calls/{rid}/events"), None, Some(&adm));
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["DNC_REFUSED"], "{events}");
    assert!(
        events["events"][0]["detail"]["text"]
            .as_str()
            .unwrap()
            .contains("asked not to be called"),
        "{events}"
    );
}

fn switchboard_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}
