//! A campaign's service level threshold and queue alerts in virtual time:
//! the threshold comes from the campaign (not a fixed 20 s); a caller
//! waiting past the longest wait threshold raises the alert at that moment
//! (a deadline, no other input needed), once however long it lasts, and it
//! clears when the caller is answered; a service level below its threshold
//! raises its own alert; the counts of raised alerts are in the queue view.

mod harness;

use harness::{campaign, Harness, Setup};
use serde_json::{json, Value};
use switchboard_switch::{AgentStatus, EngineRequest};

fn harness() -> Harness {
    let mut support = campaign("support", "inbound", Some("5000"), false);
    support.supervision.service_level_secs = 10;
    support.supervision.alert_service_level_below = Some(80);
    support.supervision.alert_longest_wait_secs = Some(30);
    Harness::with(Setup {
        agents: vec!["1001"],
        campaigns: vec![support],
        ..Setup::default()
    })
}

fn support(h: &mut Harness) -> Value {
    let s = h.snapshot();
    s["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["campaign"] == "support"))
        .cloned()
        .expect("support queue")
}

/// The `alerts` of the last `queues` event.
fn last_published_alerts(h: &Harness) -> Value {
    h.published
        .iter()
        .rev()
        .find(|e| e["type"] == "queues")
        .map(|e| e["queues"][0]["alerts"].clone())
        .expect("a queues event")
}

#[test]
fn longest_wait_alert_is_raised_when_crossed_once_and_cleared_on_answer() {
    let mut h = harness();
    h.set_state("1001", AgentStatus::Paused);
    let q = support(&mut h);
    assert_eq!(q["service_level"]["threshold_secs"], 10, "{q}");
    assert_eq!(q["alerts"], json!([]));

    h.customer_calls("5000");
    h.run_for(30_000);
    assert_eq!(
        support(&mut h)["alerts"],
        json!([]),
        "30 s is not above 30 s"
    );
    let before = h.published.len();
    h.run_for(1);
    let raised = json!([{"kind": "longest_wait", "wait_secs": 30, "above_secs": 30}]);
    assert_eq!(
        last_published_alerts(&h),
        raised,
        "a queues event at the crossing"
    );
    assert!(h.published.len() > before);
    h.run_for(60_000);
    let q = support(&mut h);
    assert_eq!(q["alerts"][0]["wait_secs"], 90, "{q}");
    assert_eq!(
        q["alerts_raised"],
        json!({"service_level": 0, "longest_wait": 1}),
        "raised once however long it lasts"
    );

    // Answered after 91 s: late, so the service level (0 %) is below 80 %.
    h.set_state("1001", AgentStatus::Ready);
    h.answer("1001", 0);
    h.run_for(300);
    let q = support(&mut h);
    assert_eq!(
        q["alerts"],
        json!([{"kind": "service_level", "percent": 0, "below": 80}]),
        "{q}"
    );
    assert_eq!(last_published_alerts(&h), q["alerts"]);
    assert_eq!(
        q["alerts_raised"],
        json!({"service_level": 1, "longest_wait": 1})
    );
    h.hangup("trunk", 0);

    // A second long wait is a second crossing.
    h.set_state("1001", AgentStatus::Paused);
    h.customer_calls("5000");
    h.run_for(31_000);
    assert_eq!(support(&mut h)["alerts_raised"]["longest_wait"], 2);
    h.hangup("trunk", 1);
    h.run_for(300);
    let q = support(&mut h);
    assert_eq!(q["alerts"].as_array().map(Vec::len), Some(1), "{q}");
    assert_eq!(q["alerts"][0]["kind"], "service_level");
    h.assert_clean();
}

#[test]
fn service_level_threshold_and_alerts_follow_the_campaign_settings() {
    let mut h = harness();
    // Answered after 15 s: late with a 10 s threshold.
    h.customer_calls("5000");
    h.run_for(15_000);
    h.set_state("1001", AgentStatus::Ready);
    h.answer("1001", 0);
    h.hangup("trunk", 0);
    h.run_for(300);
    let q = support(&mut h);
    assert_eq!(q["service_level"]["answered_within"], 0, "{q}");
    assert_eq!(q["alerts"][0]["kind"], "service_level");

    // The admin changes the settings: no alerts, a 20 s threshold.
    let mut c = campaign("support", "inbound", Some("5000"), false);
    c.supervision.service_level_secs = 20;
    h.switch
        .handle_request(h.now, EngineRequest::UpsertCampaign(Box::new(c)));
    h.run_for(300);
    let q = support(&mut h);
    assert_eq!(q["service_level"]["threshold_secs"], 20, "{q}");
    assert_eq!(q["alerts"], json!([]));
    assert_eq!(
        last_published_alerts(&h),
        json!([]),
        "the clearing is published"
    );
    h.assert_clean();
}

#[test]
fn average_handle_time_counts_answered_calls_from_answer_to_hang_up() {
    let mut h = harness();
    h.set_state("1001", AgentStatus::Ready);
    assert_eq!(
        support(&mut h)["service_level"]["avg_handle_secs"],
        Value::Null
    );
    h.customer_calls("5000");
    h.run_for(4_000);
    h.answer("1001", 0);
    h.run_for(60_000);
    h.hangup("trunk", 0);
    h.run_for(1_000);
    let sl = support(&mut h)["service_level"].clone();
    assert_eq!(sl["handled"], 1, "{sl}");
    assert_eq!(
        sl["avg_handle_secs"], 60,
        "from answer, not from arrival: {sl}"
    );
    // The wall hears of it without waiting for another queue change.
    let published = h
        .published
        .iter()
        .rev()
        .find(|e| e["type"] == "queues")
        .map(|e| e["queues"][0]["service_level"]["avg_handle_secs"].clone());
    assert_eq!(published, Some(Value::from(60)));
    // An abandoned caller does not count.
    h.set_state("1001", AgentStatus::Paused);
    h.customer_calls("5000");
    h.run_for(2_000);
    h.hangup("trunk", 1);
    h.run_for(1_000);
    assert_eq!(support(&mut h)["service_level"]["handled"], 1);
}
