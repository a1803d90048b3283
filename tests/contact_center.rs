//! Contact-center features end to end, with real SIP peers: queue
//! distribution (longest idle), the progressive dialer handing answered
//! sipp "customers" to agents, global callbacks placed on time (also across a
//! restart), personal agenda, CSV import, recordings search by tag and access
//! control. The storage-heavy tests also run on PostgreSQL when
//! `SWITCHBOARD_TEST_POSTGRES_URL` is set (CI).

mod common;

use std::time::{Duration, Instant};

use common::server::{AgentCfg, CampaignCfg, ServerOpts, TrunkCfg};
use common::sipp::Sipp;
use common::*;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(15);

fn admin(server: &Server) -> String {
    server.login("9000", "pw9000")
}

fn ready(server: &Server, user: &str) -> String {
    let tok = server.login(user, &format!("pw{user}"));
    let (st, v) = server.api(
        "PUT",
        "/api/agents/me/state",
        Some(&json!({"state": "ready"})),
        Some(&tok),
    );
    assert_eq!(st, 200, "{v}");
    tok
}

fn wait_registered_in_engine(server: &Server, tok: &str, user: &str) {
    wait_until(T, Duration::from_millis(100), || {
        let (_, v) = server.api("GET", "/api/agents", None, Some(tok));
        v["agents"]
            .as_array()?
            .iter()
            .find(|a| a["username"] == user && a["registered"] == true)
            .map(|_| ())
    })
    .unwrap_or_else(|| panic!("{user} never shown registered"));
}

fn import_csv(server: &Server, tok: &str, list: &str, campaign: &str, csv: &str) -> (u16, Value) {
    let auth = format!("Bearer {tok}");
    let path = format!("/api/contacts/import?list={list}&campaign={campaign}");
    let r = common::http::request(
        server.http_port,
        "POST",
        &path,
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/csv"),
        ],
        Some(csv.as_bytes()),
        Duration::from_secs(10),
    )
    .expect("import request");
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn dialer_campaign(agents: &[&str]) -> CampaignCfg {
    let mut c = CampaignCfg::inbound("outbound", "7000", agents);
    c.kind = "dialer".into();
    c.did = None;
    c.auto_recording = false;
    c.extra = "dialer_ratio = 1.0\nmax_attempts = 2\nretry_delay_secs = 1\nacw_secs = 0\ndispositions = [\"Sale\", \"No sale\"]".into();
    c
}

#[test]
fn queue_offers_each_call_to_the_longest_idle_ready_agent() {
    let _g = serial();
    let dir = TestDir::new("cc_longest_idle");
    let customer_port = free_port();
    let server = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001", "1002"])
            .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port]))
            .campaign({
                let mut c = CampaignCfg::inbound("support", "5000", &["1001", "1002"]);
                c.auto_recording = false;
                c.extra = "acw_secs = 0".into();
                c
            }),
    );
    let a = start_agent(&dir, &server, "1001", None, true);
    let b = start_agent(&dir, &server, "1002", None, true);
    let ta = ready(&server, "1001");
    ready(&server, "1002");
    wait_registered_in_engine(&server, &ta, "1001");
    wait_registered_in_engine(&server, &ta, "1002");
    let mut order = Vec::new();
    for i in 0..3 {
        let run = Sipp::run(
            dir.path(),
            &format!("customer{i}"),
            "uac_basic_rr.xml",
            Some(&format!("127.0.0.1:{}", server.sip_port)),
            &[
                "-s",
                "5000",
                "-p",
                &customer_port.to_string(),
                "-m",
                "1",
                "-d",
                "1500",
            ],
            Duration::from_secs(25),
        );
        run.assert_ok();
        let got_a = a
            .try_wait_event("CALL_ESTABLISHED", Duration::from_millis(200))
            .is_some();
        let got_b = b
            .try_wait_event("CALL_ESTABLISHED", Duration::from_millis(200))
            .is_some();
        assert!(
            got_a ^ got_b,
            "call {i}: exactly one agent answers (a={got_a}, b={got_b})"
        );
        order.push(if got_a { "1001" } else { "1002" });
        // Let the agent's release (last call end) be recorded before the next caller.
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_ne!(
        order[0], order[1],
        "second call goes to the agent idle longest: {order:?}"
    );
    assert_eq!(
        order[0], order[2],
        "third call goes back to the first agent: {order:?}"
    );
}

#[test]
fn dialer_calls_contacts_and_hands_answered_calls_to_ready_agents() {
    let _g = serial();
    let dir = TestDir::new("cc_dialer");
    let pstn = Sipp::uas(dir.path(), "customers", None, false, &["-d", "600000"]);
    let server = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001"])
            .agent(AgentCfg::new("9000").role("admin"))
            .trunk(TrunkCfg::new("pstn", pstn.port(), &[]))
            .campaign(dialer_campaign(&["1001"])),
    );
    let agent = start_agent(&dir, &server, "1001", None, true);
    let adm = admin(&server);
    let (st, v) = import_csv(
        &server,
        &adm,
        "spring",
        "outbound",
        "phone,name\n5550001,Ann\n5550002,Bob\n",
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["report"]["imported"], 2);
    let tok = ready(&server, "1001");
    wait_registered_in_engine(&server, &tok, "1001");
    for n in 1..=2 {
        agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(20));
        // The agent talks to the dialled customer, then hangs up.
        let (_, calls) = server.api("GET", "/api/calls", None, Some(&tok));
        let call = &calls["calls"][0];
        assert_eq!(call["campaign"], "outbound", "{calls}");
        assert_eq!(call["agent"], "1001");
        let callee = call["callee"].as_str().unwrap_or_default().to_string();
        assert!(callee.starts_with("555000"), "{call}");
        let id = call["call_id"].as_str().unwrap().to_string();
        let (st, v) = server.api("POST", &format!("/api/calls/{id}/hangup"), None, Some(&tok));
        assert_eq!(st, 200, "{v}");
        agent.wait_event("CALL_CLOSED", T);
        let (st, v) = server.api(
            "POST",
            &format!("/api/calls/{id}/disposition"),
            Some(&json!({"disposition": "Sale"})),
            Some(&tok),
        );
        assert_eq!(st, 200, "call {n}: {v}");
    }
    wait_until(T, Duration::from_millis(200), || {
        (pstn.total_calls() == 2).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "the customers' side saw {} calls, not 2",
            pstn.total_calls()
        )
    });
    let done = wait_until(T, Duration::from_millis(200), || {
        let (_, v) = server.api("GET", "/api/contacts?campaign=outbound", None, Some(&adm));
        let c = v["contacts"].as_array()?.clone();
        (c.len() == 2 && c.iter().all(|x| x["status"] == "done")).then_some(c)
    });
    assert!(
        done.is_some(),
        "both contacts done: {}",
        server
            .api("GET", "/api/contacts?campaign=outbound", None, Some(&adm))
            .1
    );
    // Supervisor metrics: live and today's figures, JSON and Prometheus.
    let (st, m) = server.api("GET", "/api/metrics", None, Some(&adm));
    assert_eq!(st, 200, "{m}");
    assert!(m["today"]["calls"].as_i64().unwrap() >= 2, "{m}");
    assert!(m["today"]["answered"].as_i64().unwrap() >= 2, "{m}");
    assert_eq!(m["live"]["agents_registered"], 1, "{m}");
    let (st, _) = server.api("GET", "/api/metrics", None, Some(&tok));
    assert_eq!(st, 403, "agents do not see metrics");
    let auth = format!("Bearer {adm}");
    let prom = common::http::request(
        server.http_port,
        "GET",
        "/metrics",
        &[("Authorization", auth.as_str())],
        None,
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(prom.status, 200);
    let text = prom.text();
    assert!(
        text.contains("# TYPE switchboard_today_calls gauge")
            && text.contains("switchboard_agents{status="),
        "{text}"
    );
    // Reports are rebuilt from the event log.
    let (st, rep) = server.api("GET", "/api/reports/campaigns/outbound", None, Some(&adm));
    assert_eq!(st, 200, "{rep}");
    assert_eq!(rep["report"]["calls"], 2, "{rep}");
    assert_eq!(rep["report"]["dispositions"]["Sale"], 2, "{rep}");
}

/// One dialer call handled by agent 1001, returning its id.
fn one_dialer_call(server: &Server, agent: &Baresip, tok: &str) -> String {
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(20));
    let (_, calls) = server.api("GET", "/api/calls", None, Some(tok));
    let id = calls["calls"][0]["call_id"]
        .as_str()
        .expect("live call")
        .to_string();
    server.api("POST", &format!("/api/calls/{id}/hangup"), None, Some(tok));
    agent.wait_event("CALL_CLOSED", T);
    id
}

fn global_callbacks(db: Option<String>, name: &str) {
    let _g = serial();
    let dir = TestDir::new(name);
    let pstn = Sipp::uas(dir.path(), "customers", None, false, &["-d", "1000"]);
    let mut opts = ServerOpts::new()
        .with_agents(&["1001"])
        .agent(AgentCfg::new("9000").role("admin"))
        .trunk(TrunkCfg::new("pstn", pstn.port(), &[]))
        .campaign(dialer_campaign(&["1001"]));
    opts.database = db;
    let mut server = Server::start(&dir, opts);
    let agent = start_agent(&dir, &server, "1001", None, true);
    let adm = admin(&server);
    let (st, v) = import_csv(
        &server,
        &adm,
        "callbacks",
        "outbound",
        "phone,name\n5550101,Carla\n",
    );
    assert_eq!(st, 200, "{v}");
    let tok = ready(&server, "1001");
    wait_registered_in_engine(&server, &tok, "1001");
    let id = one_dialer_call(&server, &agent, &tok);
    // Pause so the dialer does not call anybody else meanwhile.
    server.api(
        "PUT",
        "/api/agents/me/state",
        Some(&json!({"state": "paused", "reason": "callback test"})),
        Some(&tok),
    );
    wait_until(T, Duration::from_millis(100), || {
        (pstn.total_calls() == 1).then_some(())
    })
    .expect("the customers' side saw the dialer call");
    let calls_before = 1;

    // 1. A global callback a few seconds ahead is placed on time.
    let at = chrono::Utc::now() + chrono::Duration::seconds(4);
    let body = json!({"disposition": "Agenda", "agenda": {"kind": "global", "at": at.to_rfc3339(), "reason": "call back in a moment"}});
    let (st, v) = server.api(
        "POST",
        &format!("/api/calls/{id}/disposition"),
        Some(&body),
        Some(&tok),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["agenda"]["kind"], "global");
    assert_eq!(v["agenda"]["phone"], "5550101");
    let fired = wait_until(Duration::from_secs(12), Duration::from_millis(50), || {
        (pstn.total_calls() > calls_before).then(Instant::now)
    });
    let fired = fired.expect("the global callback was dialled");
    let late = chrono::Utc::now() - at;
    assert!(
        late > chrono::Duration::milliseconds(-300),
        "fired before its time ({late})"
    );
    assert!(
        late < chrono::Duration::seconds(3),
        "fired {late} after its time"
    );
    let _ = fired;
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(pstn.total_calls(), calls_before + 1, "fired exactly once");

    // 2. Across a restart that spans its time: fires right after the restart, once.
    let (_, hist) = server.api("GET", "/api/history", None, Some(&adm));
    let second = hist["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] != id.as_str())
        .expect("callback call in history")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let body = json!({"disposition": "Agenda", "agenda": {"kind": "global", "at": at.format("%Y-%m-%dT%H:%M:%S").to_string(), "tz": "Z", "reason": "after restart"}});
    let (st, v) = server.api(
        "POST",
        &format!("/api/calls/{second}/disposition"),
        Some(&body),
        Some(&adm),
    );
    assert_eq!(st, 200, "{v}");
    server.stop();
    let n = pstn.total_calls();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        pstn.total_calls(),
        n,
        "nothing dialled while the server is down"
    );
    server.restart();
    let t0 = Instant::now();
    wait_until(Duration::from_secs(8), Duration::from_millis(50), || {
        (pstn.total_calls() > n).then_some(())
    })
    .expect("the missed callback fires after the restart");
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "fired {:?} after restart",
        t0.elapsed()
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        pstn.total_calls(),
        n + 1,
        "fired exactly once after restart"
    );
    let adm = admin(&server);
    let (_, ag) = server.api(
        "GET",
        "/api/agenda?agent=1001&include_done=true",
        None,
        Some(&adm),
    );
    let (_, ag2) = server.api("GET", "/api/agenda?include_done=true", None, Some(&adm));
    let mut entries = ag["agenda"].as_array().unwrap().clone();
    entries.extend(ag2["agenda"].as_array().unwrap().iter().cloned());
    assert_eq!(entries.len(), 2, "{ag} {ag2}");
    assert!(
        entries
            .iter()
            .all(|e| e["status"] == "done" || e["status"] == "fired"),
        "{ag}"
    );
    // The scheduler's own record: fired at (not before) the scheduled time, promptly.
    let first = entries
        .iter()
        .find(|e| e["reason"] == "call back in a moment")
        .expect("first entry");
    let (sched, fired) = (
        first["scheduled_at"].as_i64().unwrap(),
        first["fired_at"].as_i64().expect("fired_at"),
    );
    assert!(
        fired >= sched && fired - sched < 1500,
        "scheduled {sched}, fired {fired}"
    );
}

#[test]
fn global_callback_is_dialled_on_time_and_after_a_restart() {
    global_callbacks(None, "cc_callbacks");
}

#[test]
fn global_callback_on_postgres() {
    let Some(pg) = PgSchema::create("callbacks") else {
        eprintln!("SWITCHBOARD_TEST_POSTGRES_URL not set: PostgreSQL variant skipped");
        return;
    };
    global_callbacks(Some(pg.url.clone()), "cc_callbacks_pg");
}

#[test]
fn personal_agenda_dispositions_and_their_errors() {
    let _g = serial();
    let dir = TestDir::new("cc_agenda");
    let server = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001", "1002"])
            .agent(AgentCfg::new("9000").role("supervisor")),
    );
    let a = start_agent(&dir, &server, "1001", None, true);
    let b = start_agent(&dir, &server, "1002", None, true);
    let ta = ready(&server, "1001");
    let tb = ready(&server, "1002");
    wait_registered_in_engine(&server, &ta, "1002");
    let (st, v) = server.api(
        "POST",
        "/api/calls",
        Some(&json!({"agent": "1002"})),
        Some(&ta),
    );
    assert_eq!(st, 200, "{v}");
    let id = v["call_id"].as_str().unwrap().to_string();
    b.wait_event("CALL_ESTABLISHED", T);
    server.api("POST", &format!("/api/calls/{id}/hangup"), None, Some(&ta));
    a.wait_event("CALL_CLOSED", T);
    let url = format!("/api/calls/{id}/disposition");
    // Bad input first: nothing is stored.
    for (body, status) in [
        (json!({"disposition": "Agenda"}), 400),
        (
            json!({"disposition": "Agenda", "agenda": {"kind": "weekly", "at": "2030-01-01T10:00", "tz": "+01:00"}}),
            400,
        ),
        (
            json!({"disposition": "Agenda", "agenda": {"kind": "personal", "at": "tomorrow", "tz": "+01:00"}}),
            400,
        ),
        (
            json!({"disposition": "Agenda", "agenda": {"kind": "personal", "at": "2030-01-01T10:00"}}),
            400,
        ),
        (
            json!({"disposition": "Agenda", "agenda": {"kind": "global", "at": "2030-01-01T10:00", "tz": "Z"}}),
            409,
        ),
        (json!({"disposition": ""}), 400),
    ] {
        let (st, v) = server.api("POST", &url, Some(&body), Some(&ta));
        assert_eq!(st, status, "{body} -> {v}");
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "clear error for {body}: {v}"
        );
    }
    let (st, v) = server.api("POST", &url, Some(&json!({"disposition": "Agenda", "agenda": {"kind": "personal", "at": "2030-01-01T10:00", "tz": "+01:00", "reason": "wants a quote"}})), Some(&ta));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["agenda"]["scheduled_at"], 1893488400000i64,
        "10:00 at +01:00 is 09:00 UTC"
    );
    let (st, v) = server.api(
        "POST",
        &url,
        Some(&json!({"disposition": "Other"})),
        Some(&ta),
    );
    assert_eq!(st, 409, "one disposition per call: {v}");
    let (_, list) = server.api("GET", "/api/agenda", None, Some(&ta));
    let entries = list["agenda"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{list}");
    assert_eq!(entries[0]["reason"], "wants a quote");
    assert_eq!(entries[0]["phone"], "1002");
    let (st, v) = server.api("GET", "/api/agenda?agent=1001", None, Some(&tb));
    assert_eq!(st, 403, "an agent cannot read another agent's agenda: {v}");
    let (_, own) = server.api("GET", "/api/agenda", None, Some(&tb));
    assert_eq!(own["agenda"].as_array().unwrap().len(), 0);
    let sup = server.login("9000", "pw9000");
    let (st, v) = server.api("GET", "/api/agenda?agent=1001", None, Some(&sup));
    assert_eq!(st, 200);
    assert_eq!(v["agenda"].as_array().unwrap().len(), 1);
    let (st, _) = server.api(
        "POST",
        &format!("/api/calls/{id}/disposition"),
        Some(&json!({"disposition": "x"})),
        None,
    );
    assert_eq!(st, 401, "no session");
}

fn csv_import(db: Option<String>, name: &str) {
    let dir = TestDir::new(name);
    let mut opts = ServerOpts::new()
        .with_agents(&["1001"])
        .agent(AgentCfg::new("9000").role("admin"))
        .campaign(dialer_campaign(&["1001"]));
    opts.database = db;
    let mut server = Server::start(&dir, opts);
    let adm = admin(&server);
    let bad = "phone,name,city\n5550001,Ann,Lyon\nnot-a-number,Bob,Paris\n5550003,\"Carla, Jr\",Rome\n,Dan,Oslo\n";
    let (st, v) = import_csv(&server, &adm, "leads", "outbound", bad);
    assert_eq!(st, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("2 bad lines"), "{v}");
    let report = &v["report"];
    let lines: Vec<i64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 5], "{report}");
    let (_, found) = server.api("GET", "/api/contacts?q=Ann", None, Some(&adm));
    assert_eq!(
        found["contacts"].as_array().unwrap().len(),
        0,
        "nothing half-imported"
    );
    let good = "phone,name,city\n5550001,Ann,Lyon\n5550003,\"Carla, Jr\",Rome\n";
    let (st, v) = import_csv(&server, &adm, "leads", "outbound", good);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["report"]["imported"], 2);
    let (_, found) = server.api("GET", "/api/contacts?q=Carla", None, Some(&adm));
    let c = &found["contacts"][0];
    assert_eq!(c["name"], "Carla, Jr");
    assert_eq!(c["extra"]["city"], "Rome");
    let agent = server.login("1001", "pw1001");
    let (st, _) = import_csv(&server, &agent, "x", "outbound", good);
    assert_eq!(st, 403, "agents cannot import");
    let (st, _) = import_csv(&server, &adm, "x", "nope", good);
    assert_eq!(st, 404, "unknown campaign");
    // Survives a restart.
    server.restart();
    let adm = admin(&server);
    let (_, found) = server.api("GET", "/api/contacts?q=Ann", None, Some(&adm));
    assert_eq!(found["contacts"].as_array().unwrap().len(), 1);
}

#[test]
fn csv_import_is_all_or_nothing() {
    csv_import(None, "cc_csv");
}

#[test]
fn csv_import_on_postgres() {
    let Some(pg) = PgSchema::create("csv") else {
        eprintln!("SWITCHBOARD_TEST_POSTGRES_URL not set: PostgreSQL variant skipped");
        return;
    };
    csv_import(Some(pg.url.clone()), "cc_csv_pg");
}

#[test]
fn recordings_are_searchable_by_tag_and_private_to_their_agent() {
    let _g = serial();
    let dir = TestDir::new("cc_recordings");
    let customer_port = free_port();
    let server = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001", "1002"])
            .agent(AgentCfg::new("9000").role("supervisor"))
            .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port]))
            .campaign(CampaignCfg::inbound("support", "5000", &["1001"])),
    );
    let agent = start_agent(&dir, &server, "1001", Some(440.0), true);
    let tok = ready(&server, "1001");
    wait_registered_in_engine(&server, &tok, "1001");
    let scenario = Sipp::rtp_uac_scenario(dir.path(), 1000.0);
    let server_addr = format!("127.0.0.1:{}", server.sip_port);
    let port = customer_port.to_string();
    let customer = std::thread::spawn({
        let d = dir.path().to_path_buf();
        move || {
            Sipp::run(
                &d,
                "customer",
                &scenario,
                Some(&server_addr),
                &["-s", "5000", "-p", &port, "-m", "1", "-d", "4000"],
                Duration::from_secs(30),
            )
        }
    });
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(20));
    let (_, calls) = server.api("GET", "/api/calls", None, Some(&tok));
    let id = calls["calls"][0]["call_id"].as_str().unwrap().to_string();
    assert_eq!(
        calls["calls"][0]["recording"], true,
        "campaign records automatically"
    );
    let (st, v) = server.api(
        "POST",
        &format!("/api/calls/{id}/recording/start"),
        None,
        Some(&tok),
    );
    assert_eq!(
        st, 409,
        "no on-demand recording where recording is automatic: {v}"
    );
    std::thread::sleep(Duration::from_secs(1));
    let (st, v) = server.api(
        "POST",
        &format!("/api/calls/{id}/tags"),
        Some(&json!({"text": "Customer wants a REFUND"})),
        Some(&tok),
    );
    assert_eq!(st, 200, "{v}");
    let (st, _) = server.api(
        "POST",
        &format!("/api/calls/{id}/tags"),
        Some(&json!({"text": "   "})),
        Some(&tok),
    );
    assert_eq!(st, 400, "empty tag");
    customer.join().unwrap().assert_ok();
    agent.wait_event("CALL_CLOSED", T);
    let found = wait_until(T, Duration::from_millis(200), || {
        let (_, v) = server.api("GET", "/api/recordings?tag=refund", None, Some(&tok));
        let r = v["recordings"].as_array()?.first()?.clone();
        r["duration_ms"].as_i64().map(|_| r)
    })
    .expect("recording found by tag text");
    assert_eq!(found["call_id"], id.as_str());
    assert_eq!(found["tags"][0]["text"], "Customer wants a REFUND");
    assert_eq!(found["tags"][0]["author"], "1001");
    assert!(found["tags"][0]["offset_ms"].as_i64().unwrap() >= 500);
    let rid = found["id"].as_str().unwrap().to_string();
    let (_, none) = server.api("GET", "/api/recordings?tag=invoice", None, Some(&tok));
    assert_eq!(none["recordings"].as_array().unwrap().len(), 0);
    // The WAV: left = customer (1000 Hz), right = agent (440 Hz).
    let auth = format!("Bearer {tok}");
    let r = common::http::request(
        server.http_port,
        "GET",
        &format!("/api/recordings/{rid}/audio"),
        &[("Authorization", auth.as_str())],
        None,
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let wav_path = dir.join("recording.wav");
    std::fs::write(&wav_path, &r.body).unwrap();
    let mut reader = hound::WavReader::open(&wav_path).unwrap();
    assert_eq!(reader.spec().channels, 2);
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    let left: Vec<f32> = samples
        .iter()
        .step_by(2)
        .map(|s| *s as f32 / 32768.0)
        .collect();
    let right: Vec<f32> = samples
        .iter()
        .skip(1)
        .step_by(2)
        .map(|s| *s as f32 / 32768.0)
        .collect();
    assert_eq!(
        audio::dominant_frequency(&left, 8000, &[440.0, 1000.0]),
        1000.0,
        "left channel = customer"
    );
    assert_eq!(
        audio::dominant_frequency(&right, 8000, &[440.0, 1000.0]),
        440.0,
        "right channel = agent"
    );
    // Access control.
    let other = server.login("1002", "pw1002");
    let (st, _) = server.api("GET", &format!("/api/recordings/{rid}"), None, Some(&other));
    assert_eq!(st, 403, "another agent cannot open it");
    let (st, _) = server.api(
        "GET",
        &format!("/api/recordings/{rid}/audio"),
        None,
        Some(&other),
    );
    assert_eq!(st, 403, "nor download it");
    let (_, v) = server.api("GET", "/api/recordings?tag=refund", None, Some(&other));
    assert_eq!(v["recordings"].as_array().unwrap().len(), 0, "nor find it");
    let (st, _) = server.api("GET", "/api/recordings?agent=1001", None, Some(&other));
    assert_eq!(st, 403);
    let sup = server.login("9000", "pw9000");
    let (st, v) = server.api(
        "GET",
        "/api/recordings?tag=REFUND&agent=1001&campaign=support",
        None,
        Some(&sup),
    );
    assert_eq!(st, 200);
    assert_eq!(
        v["recordings"].as_array().unwrap().len(),
        1,
        "supervisors search everything: {v}"
    );
    let (st, _) = server.api("GET", "/api/recordings/nope/audio", None, Some(&sup));
    assert_eq!(st, 404);
}

#[test]
fn ring_all_rings_every_ready_agent_and_the_first_to_answer_wins() {
    let _g = serial();
    let dir = TestDir::new("cc_ring_all");
    let customer_port = free_port();
    let server = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001", "1002"])
            .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port]))
            .campaign({
                let mut c = CampaignCfg::inbound("support", "5000", &["1001", "1002"]);
                c.auto_recording = false;
                c.extra = "acw_secs = 0\nstrategy = \"ring_all\"".into();
                c
            }),
    );
    let slow = start_agent(&dir, &server, "1001", None, false);
    let quick = start_agent(&dir, &server, "1002", None, true);
    let tok = ready(&server, "1001");
    ready(&server, "1002");
    wait_registered_in_engine(&server, &tok, "1001");
    wait_registered_in_engine(&server, &tok, "1002");
    let run = Sipp::run(
        dir.path(),
        "customer",
        "uac_basic_rr.xml",
        Some(&format!("127.0.0.1:{}", server.sip_port)),
        &[
            "-s",
            "5000",
            "-p",
            &customer_port.to_string(),
            "-m",
            "1",
            "-d",
            "1500",
        ],
        Duration::from_secs(25),
    );
    run.assert_ok();
    slow.wait_event("CALL_INCOMING", T);
    slow.wait_event("CALL_CLOSED", T);
    quick.wait_event("CALL_ESTABLISHED", T);
    assert!(
        slow.try_wait_event("CALL_ESTABLISHED", Duration::from_millis(300))
            .is_none(),
        "the slower agent never got the call"
    );
    let sup = server.login("1002", "pw1002");
    let (_, h) = server.api("GET", "/api/history", None, Some(&sup));
    let id = h["calls"][0]["id"]
        .as_str()
        .expect("call in history")
        .to_string();
    let (_, ev) = server.api("GET", &format!("/api/calls/{id}/events"), None, Some(&sup));
    let kinds: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"QUEUE_RING_ALL") && kinds.contains(&"ANSWERED"),
        "{kinds:?}"
    );
    // Both agents are free again.
    let free = wait_until(T, Duration::from_millis(100), || {
        let (_, v) = server.api("GET", "/api/agents", None, Some(&tok));
        v["agents"]
            .as_array()?
            .iter()
            .all(|a| a["status"] == "ready")
            .then_some(())
    });
    assert!(
        free.is_some(),
        "{}",
        server.api("GET", "/api/agents", None, Some(&tok)).1
    );
}

#[test]
fn dtmf_sent_by_a_phone_is_reported_masked_in_the_call_log() {
    let _g = serial();
    let dir = TestDir::new("cc_dtmf");
    let customer_port = free_port();
    let server = Server::start(
        &dir,
        ServerOpts::new()
            .with_agents(&["1001"])
            .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port])),
    );
    let agent = start_agent(&dir, &server, "1001", None, true);
    let tok = server.login("1001", "pw1001");
    // A console connected over a real WebSocket before the call.
    let console = common::ws::WsWatch::start(server.http_port, &tok);
    let run = Sipp::run(
        dir.path(),
        "customer",
        "uac_dtmf.xml",
        Some(&format!("127.0.0.1:{}", server.sip_port)),
        &[
            "-s",
            "1001",
            "-p",
            &customer_port.to_string(),
            "-m",
            "1",
            "-d",
            "1500",
            "-mi",
            "127.0.0.1",
        ],
        Duration::from_secs(25),
    );
    run.assert_ok();
    agent.wait_event("CALL_ESTABLISHED", T);
    let (_, h) = server.api("GET", "/api/history", None, Some(&tok));
    let id = h["calls"][0]["id"]
        .as_str()
        .expect("call in history")
        .to_string();
    let (_, ev) = server.api("GET", &format!("/api/calls/{id}/events"), None, Some(&tok));
    let digits: String = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "DTMF")
        .filter_map(|e| e["detail"]["text"].as_str())
        .collect();
    // Masked (PCI DSS: the call is in no campaign that allows clear digits),
    // in the call log and in the server log alike.
    assert_eq!(digits, "***", "each digit reported once, masked: {ev}");
    let log = server.log();
    let logged: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("kind=\"DTMF\""))
        .collect();
    assert_eq!(logged.len(), 3, "{log}");
    assert!(
        logged.iter().all(|l| l.contains("detail=\"*\"")),
        "{logged:?}"
    );
    // The console's WebSocket got the three digits as `*` and never a digit.
    let pushed = console.stop();
    let dtmf: Vec<Value> = pushed
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(m).ok())
        .filter(|v| v["type"] == "call_event" && v["kind"] == "DTMF")
        .collect();
    assert_eq!(dtmf.len(), 3, "{pushed:#?}");
    assert!(dtmf.iter().all(|v| v["detail"] == "*"), "{dtmf:?}");
    for digit in ["5", "1", "#"] {
        let clear = format!("\"detail\":\"{digit}\"");
        assert!(
            !pushed.iter().any(|m| m.contains(&clear)),
            "digit {digit} in clear on the WebSocket: {pushed:#?}"
        );
    }
    // And relayed to the agent's phone as RFC 4733 events.
    let heard: String = agent
        .events_of("CALL_DTMF_START")
        .iter()
        .map(|e| e.param.clone())
        .collect();
    assert_eq!(
        heard,
        "51#",
        "agent's phone got the digits: {}",
        agent.event_summary()
    );
}

#[test]
fn console_login_errors_and_brute_force_guard() {
    let dir = TestDir::new("cc_login");
    let server = Server::start(&dir, ServerOpts::new().with_agents(&["1001", "1002"]));
    let login = |u: &str, p: &str| {
        server.api(
            "POST",
            "/api/login",
            Some(&json!({"username": u, "password": p})),
            None,
        )
    };
    let (st, v) = login("nobody", "x");
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"], "wrong username or password");
    let (st, v) = server.api(
        "POST",
        "/api/login",
        Some(&json!({"username": "1001"})),
        None,
    );
    assert_eq!(st, 400, "missing password is a bad request: {v}");
    for _ in 0..10 {
        assert_eq!(login("1001", "guess").0, 401);
    }
    let (st, v) = login("1001", "pw1001");
    assert_eq!(
        st, 429,
        "after 10 failures even the right password waits: {v}"
    );
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("too many failed logins"));
    let (st, _) = login("1002", "pw1002");
    assert_eq!(st, 200, "other users are not affected");
    let (st, v) = server.api("GET", "/api/agents", None, Some("not-a-token"));
    assert_eq!(st, 401, "{v}");
}
