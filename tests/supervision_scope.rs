//! Supervisors limited to campaigns and campaigns' supervision settings,
//! through the real binary's API: an admin assigns campaigns to supervisor
//! 9000 (`PUT /api/admin/supervisors/9000/campaigns`; unknown campaign, an
//! agent or an admin as supervisor, an unknown user: 400/400/400/404; a
//! supervisor cannot assign: 403); limited to `sales`, 9000 does not see a
//! live `support` call and gets 403 supervising it; once assigned `support`
//! they listen (their phone answers); their open wall gets the new scope at
//! once. The agent does not see the supervisor
//! in the call's JSON. Supervision settings out of range: 400.

mod actions_common;
mod common;

use actions_common::*;
use common::server::AgentCfg;
use common::*;
use serde_json::{json, Value};

const ADMIN: &str = "9100";

fn assignment(lab: &Lab, token: &str, body: Value) -> Value {
    lab.ok(
        "PUT",
        "/api/admin/supervisors/9000/campaigns",
        Some(body),
        token,
    )
}

#[test]
fn a_supervisor_limited_to_campaigns_sees_and_supervises_only_theirs() {
    let _g = serial();
    let dir = TestDir::new("supervision_scope");
    let lab = Lab::start_accounts(
        &dir,
        vec![
            campaign("support", "5000", &["1001"], false),
            campaign("sales", "6000", &["1002"], false),
        ],
        None,
        "",
        vec![AgentCfg::new(ADMIN).role("admin")],
    );
    let admin = lab.server.login(ADMIN, &format!("pw{ADMIN}"));
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let (s, ts) = lab.agent(&dir, "9000", 700.0, true);
    let cust = lab.customer(&dir);
    let path = "/api/admin/supervisors/9000/campaigns";

    // The assignment: none at first, then bad input.
    let v = lab.ok("GET", path, None, &admin);
    assert_eq!(
        v,
        json!({"supervisor": "9000", "campaigns": [], "limited": false})
    );
    let body = |c: &[&str]| Some(json!({ "campaigns": c }));
    lab.refused(
        400,
        "unknown campaign nope",
        "PUT",
        path,
        body(&["nope"]),
        &admin,
    );
    lab.refused(
        400,
        "1001 is an agent",
        "PUT",
        "/api/admin/supervisors/1001/campaigns",
        body(&["sales"]),
        &admin,
    );
    lab.refused(
        400,
        "admins see every campaign",
        "PUT",
        &format!("/api/admin/supervisors/{ADMIN}/campaigns"),
        body(&["sales"]),
        &admin,
    );
    lab.refused(
        404,
        "unknown agent ghost",
        "PUT",
        "/api/admin/supervisors/ghost/campaigns",
        body(&["sales"]),
        &admin,
    );
    lab.refused(403, "admins only", "PUT", path, body(&["sales"]), &ts);
    lab.refused(
        400,
        "",
        "PUT",
        path,
        Some(json!({"campaign": "sales"})),
        &admin,
    );
    let v = assignment(&lab, &admin, json!({"campaigns": ["sales"]}));
    assert_eq!(
        v,
        json!({"supervisor": "9000", "campaigns": ["sales"], "limited": true})
    );
    assert_eq!(
        lab.ok("GET", path, None, &ts),
        v,
        "the supervisor reads their own"
    );

    // A support call: not on 9000's wall, and supervising it is refused.
    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    assert!(
        lab.live_calls(&ts)
            .iter()
            .all(|c| c["call_id"] != id.as_str()),
        "a sales supervisor does not see the support call"
    );
    // Nor in the figures: /api/metrics and /metrics cover sales only.
    let m = lab.ok("GET", "/api/metrics", None, &ts);
    assert_eq!(m["live"]["calls"], 0, "{m}");
    assert!(
        m["live"]["queues"]
            .as_array()
            .is_some_and(|q| q.iter().all(|q| q["campaign"] == "sales")),
        "{m}"
    );
    let (_, prom) = lab.server.api("GET", "/metrics", None, Some(&ts));
    let text = prom.as_str().unwrap_or_default().to_string();
    assert!(text.contains("campaign=\"sales\""), "{text}");
    assert!(!text.contains("campaign=\"support\""), "{text}");
    let (_, prom) = lab.server.api("GET", "/metrics", None, Some(&admin));
    let all = prom.as_str().unwrap_or_default().to_string();
    assert!(
        all.contains("switchboard_campaign_calls_active{campaign=\"support\"} 1"),
        "{all}"
    );
    let sup = format!("/api/calls/{id}/supervise");
    let msg = lab.refused(
        403,
        "not in your campaigns (sales)",
        "POST",
        &sup,
        Some(json!({"mode": "listen"})),
        &ts,
    );
    assert!(msg.contains("campaign support"), "{msg}");

    // Assigned support too: 9000's open wall follows at once (a fresh
    // snapshot with the call, no reload), and 9000 listens.
    let wall = common::ws::WsWatch::start(lab.server.http_port, &ts);
    assignment(&lab, &admin, json!({"campaigns": ["sales", "support"]}));
    sleep(1.0);
    let seen = wall.stop();
    let snapshot_has_call = |m: &String| {
        let v: Value = serde_json::from_str(m).unwrap_or_default();
        v["type"] == "snapshot"
            && v["snapshot"]["calls"]
                .as_array()
                .is_some_and(|calls| calls.iter().any(|c| c["call_id"] == id.as_str()))
    };
    assert!(
        seen[0].contains(r#""type":"snapshot""#) && !snapshot_has_call(&seen[0]),
        "the wall opened without the call: {}",
        seen[0]
    );
    assert!(
        seen[1..].iter().any(snapshot_has_call),
        "a fresh snapshot with the support call: {seen:?}"
    );
    assert!(lab
        .live_calls(&ts)
        .iter()
        .any(|c| c["call_id"] == id.as_str()));
    let v = lab.ok("POST", &sup, Some(json!({"mode": "listen"})), &ts);
    assert_eq!(v["supervisions"][0]["supervisor"], "9000", "{v}");
    s.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ts, &id, "SUPERVISE_ANSWERED");
    // The agent's view of the call does not name the supervisor.
    let mine = lab.call(&ta, &id);
    assert_eq!(mine["call"]["supervisions"], json!([]), "{mine}");
    lab.ok("POST", &sup, Some(json!({"mode": "stop"})), &ts);
    s.wait_event("CALL_CLOSED", T);
    cust.hangup();
    lab.wait_ended(&ts, &id);

    // Back to no assignment: every campaign again.
    let v = assignment(&lab, &admin, json!({"campaigns": []}));
    assert_eq!(v["limited"], false);
}

#[test]
fn campaign_supervision_settings_are_stored_and_checked() {
    let _g = serial();
    let dir = TestDir::new("supervision_settings");
    // A campaign's settings may come from the configuration file too.
    let mut sales = campaign("sales", "6000", &["1002"], false);
    sales.extra = "supervision = { notice = \"never\", service_level_secs = 45 }".into();
    let lab = Lab::start_accounts(
        &dir,
        vec![campaign("support", "5000", &["1001"], false), sales],
        None,
        "",
        vec![AgentCfg::new(ADMIN).role("admin")],
    );
    let admin = lab.server.login(ADMIN, &format!("pw{ADMIN}"));
    let list = lab.ok("GET", "/api/campaigns", None, &admin);
    let named = |n: &str| {
        list["campaigns"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == n).cloned())
            .unwrap_or_else(|| panic!("campaign {n} in {list}"))
    };
    assert_eq!(
        named("sales")["supervision"],
        json!({"notice": "never", "service_level_secs": 45,
               "alert_service_level_below": null, "alert_longest_wait_secs": null}),
        "seeded from the configuration"
    );
    let mut c = named("support");
    assert_eq!(
        c["supervision"],
        json!({"notice": "whisper_barge", "service_level_secs": 20,
               "alert_service_level_below": null, "alert_longest_wait_secs": null})
    );
    let put = format!("/api/campaigns/{}", c["id"].as_str().expect("id"));
    for (bad, needle) in [
        (
            json!({"service_level_secs": 0}),
            "service_level_secs must be 1 to 3600",
        ),
        (
            json!({"alert_service_level_below": 150}),
            "1 to 100 percent",
        ),
        (
            json!({"alert_longest_wait_secs": 7200}),
            "alert_longest_wait_secs",
        ),
        (json!({"notice": "sometimes"}), "notice"),
    ] {
        c["supervision"] = bad;
        lab.refused(400, needle, "PUT", &put, Some(c.clone()), &admin);
    }
    c["supervision"] = json!({"notice": "always", "service_level_secs": 30,
        "alert_service_level_below": 80, "alert_longest_wait_secs": 60});
    let v = lab.ok("PUT", &put, Some(c.clone()), &admin);
    assert_eq!(v["campaign"]["supervision"], c["supervision"], "{v}");
    assert_eq!(v["campaign"]["did"], "5000");
    // The switch uses it: the queue's threshold and the snapshot's campaign.
    let m = lab.ok("GET", "/api/metrics", None, &admin);
    let q = m["live"]["queues"]
        .as_array()
        .and_then(|a| a.iter().find(|q| q["campaign"] == "support").cloned())
        .unwrap_or_else(|| panic!("support's queue in {m}"));
    assert_eq!(q["service_level"]["threshold_secs"], 30, "{m}");
    assert_eq!(q["alerts"], json!([]));
    let prom = lab.server.api("GET", "/metrics", None, Some(&admin));
    let text = prom.1.as_str().unwrap_or_default().to_string();
    assert!(
        text.contains(
            "switchboard_queue_alerts_raised{campaign=\"support\",kind=\"longest_wait\"} 0"
        ),
        "{text}"
    );
}
