//! `/metrics` read back: the OpenMetrics text parsed sample by sample and
//! checked against the snapshot and the call records it came from.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use switchboard_call::CallState;
use switchboard_center::views::SipSecurity;
use switchboard_center::{
    AgentInfo, AgentPresence, AgentStatus, CallView, CampaignInfo, EngineRequest, LegQuality,
    LegView, QualityTotals, QueueView, QueuedCall, Snapshot,
};
use switchboard_center::{RegistrationState, TrunkHealth, TrunkRegistrationView, TrunkView};
use switchboard_storage::{AgentRole, CallDirection, NewAgent, NewCall, Storage};
use tokio::sync::{broadcast, mpsc};
use tower::ServiceExt;

use super::{render, Exposition, Today, OPENMETRICS_CONTENT_TYPE};
use crate::exports::tests::{get, json};
use crate::AppState;

/// A sample's metric name and labels.
type Key = (String, BTreeMap<String, String>);

/// Every sample of a Prometheus or OpenMetrics text, checking that each one
/// belongs to a family declared as a gauge (or, for `_bucket`, `_sum` and
/// `_count` samples, as a histogram), and that only OpenMetrics ends with `# EOF`.
fn parse(text: &str, format: Exposition) -> BTreeMap<Key, f64> {
    let eof = text.lines().last() == Some("# EOF");
    assert_eq!(eof, format == Exposition::OpenMetrics, "{format:?}: {text}");
    let mut gauges = Vec::new();
    let mut histograms = Vec::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            match kind {
                "gauge" => gauges.push(name.to_string()),
                "histogram" => histograms.push(name.to_string()),
                _ => panic!("unexpected type: {line}"),
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample: series value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("labels end with }");
                (name.to_string(), labels(body))
            }
        };
        let histogram = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|s| name.strip_suffix(s))
            .any(|n| histograms.iter().any(|h| h == n));
        assert!(
            gauges.contains(&name) || histogram,
            "{name} has no TYPE line"
        );
        assert!(
            samples.insert((name, labels), value).is_none(),
            "repeated {line}"
        );
    }
    samples
}

/// `a="x",b="y \"q\""` as a map, unescaping `\\`, `\"` and `\n`.
fn labels(body: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label {name} is quoted");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => panic!("dangling escape in {body}"),
                },
                c => value.push(c),
            }
        }
        let name = name.trim_start_matches(',').to_string();
        // Histogram bounds: `2` (Prometheus) and `2.0` (OpenMetrics) alike.
        let value = match value.parse::<f64>() {
            Ok(v) if name == "le" && v.is_finite() => v.to_string(),
            _ => value,
        };
        out.insert(name, value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    out
}

fn value(samples: &BTreeMap<Key, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let key = (
        name.to_string(),
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    *samples
        .get(&key)
        .unwrap_or_else(|| panic!("no sample {key:?} in {samples:#?}"))
}

fn agent(username: &str, status: AgentStatus, registered: bool) -> AgentPresence {
    AgentPresence {
        info: AgentInfo {
            id: format!("id-{username}"),
            username: username.into(),
            name: format!("Agent {username}"),
            sip_ha1: Default::default(),
            role: "agent".into(),
            audio: Default::default(),
        },
        chosen: AgentStatus::Ready,
        pause_reason: None,
        chosen_by: None,
        status,
        since: 0,
        registered,
        calls: vec![],
        acw_until: None,
        last_call_end: 0,
    }
}

fn campaign(name: &str, kind: &str, agents: &[&str]) -> CampaignInfo {
    serde_json::from_value(json!({
        "id": format!("id-{name}"), "name": name, "kind": kind, "did": null,
        "auto_recording": false, "music_class": "default", "strategy": "longest_idle",
        "queue_timeout_secs": 60, "overflow_target": null, "acw_secs": 0, "agents": agents,
    }))
    .expect("campaign info")
}

fn call(id: &str, state: CallState, campaign: Option<&str>) -> CallView {
    CallView {
        call_id: id.into(),
        state,
        campaign: campaign.map(str::to_string),
        direction: switchboard_center::CallDirection::Inbound,
        caller: "+34600000001".into(),
        callee: "5000".into(),
        started_at: 1,
        answered_at: None,
        agent: None,
        customer: None,
        agent_leg: None,
        third: None,
        pending: None,
        transfer: None,
        recording: false,
        recording_paused: false,
        auto_recording: false,
        music_class: "default".into(),
        muted: vec![],
        contact_id: None,
        participants: vec![],
        supervisions: vec![],
    }
}

/// A live call whose customer and agent legs have these MOS.
fn call_with_mos(id: &str, state: CallState, campaign: Option<&str>, mos: [f64; 2]) -> CallView {
    let leg = |leg, mos| LegView {
        leg,
        party: "x".into(),
        agent: None,
        state: switchboard_center::LegStatus::Confirmed,
        quality: Some(LegQuality {
            packets_received: 100,
            mos: Some(mos),
            ..LegQuality::default()
        }),
    };
    CallView {
        customer: Some(leg(1, mos[0])),
        agent_leg: Some(leg(2, mos[1])),
        ..call(id, state, campaign)
    }
}

/// Three agents, three campaigns (one with a quote in its name), two live
/// calls, a queue of two callers (one being offered to 1001).
fn snapshot() -> Snapshot {
    let queued = |id: &str, position, wait_ms, ringing: Option<&str>| QueuedCall {
        call_id: id.into(),
        position,
        wait_ms,
        ringing: ringing.map(str::to_string),
    };
    Snapshot {
        agents: vec![
            agent("1001", AgentStatus::Ready, true),
            agent("1002", AgentStatus::OnCall, true),
            agent("1003", AgentStatus::Paused, false),
        ],
        calls: vec![
            call_with_mos("c1", CallState::Connected, Some("support"), [4.1, 3.2]),
            call("c2", CallState::Ringing, Some("sales")),
            call("c3", CallState::Ringing, None),
        ],
        campaigns: vec![
            campaign("support", "inbound", &["1001", "1002"]),
            campaign("sales", "dialer", &["1002", "1003"]),
            campaign("Ventas \"VIP\"", "inbound", &[]),
        ],
        music_classes: vec![],
        queues: vec![QueueView::new(
            "support",
            vec![
                queued("q1", 1, 12_000, Some("1001")),
                queued("q2", 2, 3_000, None),
            ],
        )],
        sip_security: SipSecurity {
            banned_sources: 2,
            dropped_requests: 40,
            auth_failures: 25,
        },
        trunks: vec![
            trunk(
                "carrier",
                TrunkHealth::Up,
                Some(RegistrationState::Registered),
            ),
            trunk("backup", TrunkHealth::Down, Some(RegistrationState::Failed)),
            trunk("pbx", TrunkHealth::Unknown, None),
        ],
        supervision_notices: vec![],
        call_quality: QualityTotals {
            mos_buckets: vec![0, 0, 1, 1, 0, 0, 2, 0],
            mos_sum: 15.9,
            mos_count: 4,
            poor_by_campaign: [("support".to_string(), 2)].into(),
        },
    }
}

fn trunk(name: &str, health: TrunkHealth, reg: Option<RegistrationState>) -> TrunkView {
    TrunkView {
        name: name.into(),
        host: format!("{name}.example"),
        priority: 0,
        health,
        targets: Vec::new(),
        resolve_error: None,
        registration: reg.map(|state| TrunkRegistrationView {
            state,
            reason: None,
            expires_in_secs: None,
            retry_in_secs: None,
        }),
    }
}

#[test]
fn every_figure_parses_back_with_its_value() {
    let today = Today {
        calls: 7,
        answered: 5,
        unanswered: 1,
        inbound: 4,
        outbound: 2,
        internal: 1,
        avg_talk_ms: 61_000,
        avg_answer_ms: 4_000,
        longest_talk_ms: 300_000,
    };
    let text = render(&snapshot(), &today, Exposition::Prometheus).expect("encodes");
    let s = parse(&text, Exposition::Prometheus);
    // OpenMetrics carries the same samples.
    let open = render(&snapshot(), &today, Exposition::OpenMetrics).expect("encodes");
    assert_eq!(parse(&open, Exposition::OpenMetrics), s, "{open}");
    // The names dashboards already use, with their meanings.
    assert!(
        text.contains("# TYPE switchboard_today_calls gauge"),
        "{text}"
    );
    assert_eq!(
        value(&s, "switchboard_calls_active", &[("state", "ringing")]),
        2.0
    );
    assert_eq!(
        value(&s, "switchboard_calls_active", &[("state", "connected")]),
        1.0
    );
    assert_eq!(
        value(&s, "switchboard_calls_active", &[("state", "held")]),
        0.0
    );
    for (status, n) in [
        ("ready", 1.0),
        ("on_call", 1.0),
        ("paused", 1.0),
        ("ringing", 0.0),
    ] {
        assert_eq!(
            value(&s, "switchboard_agents", &[("status", status)]),
            n,
            "{status}"
        );
    }
    assert_eq!(value(&s, "switchboard_agents_registered", &[]), 2.0);
    assert_eq!(
        value(&s, "switchboard_queue_waiting", &[("campaign", "support")]),
        2.0
    );
    assert_eq!(
        value(
            &s,
            "switchboard_queue_longest_wait_ms",
            &[("campaign", "support")]
        ),
        12_000.0
    );
    assert_eq!(value(&s, "switchboard_sip_banned_sources", &[]), 2.0);
    assert_eq!(value(&s, "switchboard_sip_dropped_requests", &[]), 40.0);
    assert_eq!(value(&s, "switchboard_sip_auth_failures", &[]), 25.0);
    for (t, up) in [("carrier", 1.0), ("backup", 0.0), ("pbx", 0.0)] {
        assert_eq!(
            value(&s, "switchboard_trunk_up", &[("trunk", t)]),
            up,
            "{t}"
        );
    }
    assert_eq!(
        value(&s, "switchboard_trunk_registered", &[("trunk", "carrier")]),
        1.0
    );
    assert_eq!(
        value(&s, "switchboard_trunk_registered", &[("trunk", "backup")]),
        0.0
    );
    assert!(
        !s.keys()
            .any(|(n, l)| n == "switchboard_trunk_registered" && l.iter().any(|(_, v)| v == "pbx")),
        "a trunk that does not register has no registration gauge"
    );
    for (key, v) in [
        ("calls", 7.0),
        ("answered", 5.0),
        ("unanswered", 1.0),
        ("avg_talk_ms", 61_000.0),
        ("avg_answer_ms", 4_000.0),
        ("longest_talk_ms", 300_000.0),
    ] {
        assert_eq!(
            value(&s, &format!("switchboard_today_{key}"), &[]),
            v,
            "{key}"
        );
    }
    for (d, v) in [("inbound", 4.0), ("outbound", 2.0), ("internal", 1.0)] {
        let got = value(
            &s,
            "switchboard_today_calls_by_direction",
            &[("direction", d)],
        );
        assert_eq!(got, v, "{d}");
    }
    // New for supervisors: agents per state per campaign, calls per
    // campaign, callers being offered; empty queues show 0.
    let member = |k: &str, st: &str| {
        value(
            &s,
            "switchboard_campaign_agents",
            &[("campaign", k), ("status", st)],
        )
    };
    assert_eq!(member("support", "ready"), 1.0);
    assert_eq!(member("support", "on_call"), 1.0);
    assert_eq!(member("support", "paused"), 0.0);
    assert_eq!(member("sales", "on_call"), 1.0);
    assert_eq!(member("sales", "paused"), 1.0);
    assert_eq!(member("sales", "ready"), 0.0);
    assert_eq!(member("Ventas \"VIP\"", "ready"), 0.0);
    let calls = |k: &str| value(&s, "switchboard_campaign_calls_active", &[("campaign", k)]);
    assert_eq!(
        (calls("support"), calls("sales"), calls("Ventas \"VIP\"")),
        (1.0, 1.0, 0.0)
    );
    assert_eq!(
        value(&s, "switchboard_queue_ringing", &[("campaign", "support")]),
        1.0
    );
    let vip = [("campaign", "Ventas \"VIP\"")];
    assert_eq!(value(&s, "switchboard_queue_waiting", &vip), 0.0);
    assert_eq!(value(&s, "switchboard_queue_longest_wait_ms", &vip), 0.0);
    // A dialer campaign has no queue series.
    let campaign_sales = [("campaign".to_string(), "sales".to_string())];
    let sales: Key = ("switchboard_queue_waiting".into(), campaign_sales.into());
    assert!(!s.contains_key(&sales), "{text}");
    // Media quality: the MOS histogram of ended calls (cumulative buckets),
    // poor calls per campaign (0 for the others), the worst live MOS per
    // campaign with a measured call (none for the others).
    assert!(
        text.contains("# TYPE switchboard_call_mos histogram"),
        "{text}"
    );
    assert_eq!(value(&s, "switchboard_call_mos_count", &[]), 4.0);
    assert_eq!(value(&s, "switchboard_call_mos_sum", &[]), 15.9);
    for (le, n) in [
        ("2", 0.0),
        ("3", 1.0),
        ("3.6", 2.0),
        ("4.4", 4.0),
        ("+Inf", 4.0),
    ] {
        assert_eq!(
            value(&s, "switchboard_call_mos_bucket", &[("le", le)]),
            n,
            "le {le}"
        );
    }
    let poor = |k: &str| value(&s, "switchboard_calls_poor_quality", &[("campaign", k)]);
    assert_eq!((poor("support"), poor("sales")), (2.0, 0.0));
    let worst = [("campaign", "support")];
    assert_eq!(
        value(&s, "switchboard_campaign_worst_live_mos", &worst),
        3.2
    );
    assert!(
        !s.keys()
            .any(|(n, l)| n == "switchboard_campaign_worst_live_mos"
                && l.values().any(|v| v == "sales")),
        "no live MOS measured in sales: {text}"
    );
}

/// A router whose engine answers snapshots with [`snapshot`], and a
/// session token of a user with `role`.
async fn app_with_engine(role: AgentRole) -> (axum::Router, Storage, String) {
    let storage = Storage::connect("sqlite::memory:").await.expect("storage");
    let (engine, mut requests) = mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(req) = requests.recv().await {
            if let EngineRequest::Snapshot(reply) = req {
                let _ = reply.send(Ok(snapshot()));
            }
        }
    });
    let (events, _) = broadcast::channel(1);
    let state = AppState {
        storage: storage.clone(),
        engine,
        events: Arc::new(move || events.subscribe()),
        data_dir: std::env::temp_dir(),
        flush: Arc::new(|| Box::pin(async {})),
        login_failures: Default::default(),
        sip_realm: "switchboard".into(),
        webphone: None,
        scope_changes: tokio::sync::broadcast::channel(16).0,
        turn: None,
    };
    let user = storage
        .create_agent(&NewAgent {
            username: "2000".into(),
            display_name: "Sup".into(),
            password_hash: "x".into(),
            sip_ha1: crate::sip_ha1("2000", "switchboard", "sip2000"),
            role,
            groups: vec![],
            audio: Default::default(),
        })
        .await
        .expect("agent");
    let token = storage
        .create_session(&user.id, 60_000)
        .await
        .expect("session")
        .token;
    (crate::router(state), storage, token)
}

#[tokio::test]
async fn prometheus_and_json_agree_through_the_router() {
    let (app, storage, token) = app_with_engine(AgentRole::Supervisor).await;
    let now = switchboard_storage::now_ms();
    for (i, answered) in [(0, true), (1, false)] {
        let c = storage
            .insert_call(&NewCall {
                id: None,
                direction: CallDirection::Inbound,
                campaign_id: None,
                contact_id: None,
                caller: format!("+3460000000{i}"),
                callee: "5000".into(),
                agent_id: None,
                started_at: now - 60_000,
            })
            .await
            .unwrap();
        if answered {
            storage
                .update_call_answered(&c.id, now - 50_000)
                .await
                .unwrap();
        }
        storage
            .finish_call(&c.id, now - 20_000, "ended")
            .await
            .unwrap();
    }
    let (st, body, ct) = get(&app, "/metrics", &token).await;
    let text = String::from_utf8(body).expect("UTF-8");
    assert_eq!(st, StatusCode::OK, "{text}");
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    let s = parse(&text, Exposition::Prometheus);
    // A scraper asking for OpenMetrics (as Prometheus does) gets it.
    let req = Request::get("/metrics")
        .header("authorization", format!("Bearer {token}"))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4",
        )
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.headers()["content-type"], OPENMETRICS_CONTENT_TYPE);
    let open = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let open = parse(std::str::from_utf8(&open).unwrap(), Exposition::OpenMetrics);
    assert_eq!(open.len(), s.len());
    // Midnight UTC may fall between the calls and the request: then both are yesterday's.
    let calls = value(&s, "switchboard_today_calls", &[]);
    assert!(calls == 2.0 || calls == 0.0, "{text}");
    if calls == 2.0 {
        assert_eq!(value(&s, "switchboard_today_answered", &[]), 1.0);
        assert_eq!(value(&s, "switchboard_today_unanswered", &[]), 1.0);
        assert_eq!(value(&s, "switchboard_today_avg_answer_ms", &[]), 10_000.0);
        assert_eq!(
            value(&s, "switchboard_today_longest_talk_ms", &[]),
            30_000.0
        );
        let inbound = [("direction", "inbound")];
        assert_eq!(
            value(&s, "switchboard_today_calls_by_direction", &inbound),
            2.0
        );
    }
    assert_eq!(
        value(&s, "switchboard_queue_waiting", &[("campaign", "support")]),
        2.0
    );

    let (st, body, _) = get(&app, "/api/metrics", &token).await;
    let m = json(&body);
    assert_eq!(st, StatusCode::OK, "{m}");
    assert_eq!(m["live"]["agents_registered"], 2, "{m}");
    assert_eq!(m["live"]["agents_by_status"]["on_call"], 1, "{m}");
    assert_eq!(m["live"]["calls_by_state"]["ringing"], 2, "{m}");
    assert_eq!(m["live"]["queues"][0]["longest_wait_ms"], 12_000, "{m}");
    assert_eq!(m["live"]["sip_security"]["auth_failures"], 25, "{m}");
    assert_eq!(m["today"]["calls"].as_f64(), Some(calls), "{m}");

    // Agents see neither.
    let user = storage
        .create_agent(&NewAgent {
            username: "1001".into(),
            display_name: "Alice".into(),
            password_hash: "x".into(),
            sip_ha1: crate::sip_ha1("1001", "switchboard", "sip1001"),
            role: AgentRole::Agent,
            groups: vec![],
            audio: Default::default(),
        })
        .await
        .unwrap();
    let agent_token = storage
        .create_session(&user.id, 60_000)
        .await
        .unwrap()
        .token;
    for uri in ["/metrics", "/api/metrics"] {
        let (st, body, _) = get(&app, uri, &agent_token).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{uri}");
        assert!(json(&body)["error"].is_string());
    }
}
