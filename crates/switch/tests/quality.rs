//! Per-call media quality, in virtual time: the binary's samples of the
//! media engine's figures reach the live call view (and consoles, when the
//! MOS or the loss moves), each leg's final figures reach the CDR as the
//! customer's and the agent's side, and ended calls feed the totals.

mod harness;

use harness::quality::stream;
use harness::{CallState, Harness};
use switchboard_media::quality::{Quality, ReceiveStats};
use switchboard_switch::AgentStatus;

/// A customer from the trunk reaches agent 1001; returns the call id.
fn customer_with_1001(h: &mut Harness) -> String {
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    h.only_call()
}

#[test]
fn sampled_quality_shows_in_the_call_view_and_reaches_the_cdr() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    let calls = h.live_calls();
    assert!(calls[0]["customer"]["quality"].is_null(), "no sample yet");

    // The customer's stream loses one packet in 20 (5%), the agent's none.
    let updates = h.call_updates(&call);
    h.sample_quality(&[
        (("trunk", 0), stream(500, 20, 0)),
        (("1001", 0), stream(500, 0, 0)),
    ]);
    assert_eq!(
        h.call_updates(&call),
        updates + 1,
        "consoles get the new figures"
    );
    let calls = h.live_calls();
    let cust = &calls[0]["customer"]["quality"];
    assert_eq!(cust["packets_received"], 475);
    assert_eq!(
        cust["packets_lost"], 24,
        "the 25th loss is past the last packet received"
    );
    assert_eq!(cust["loss_percent"], 4.81);
    let cust_mos = cust["mos"].as_f64().expect("a MOS");
    assert!(cust_mos < 3.6, "5% loss sounds poor: {cust_mos}");
    let agent = &calls[0]["agent_leg"]["quality"];
    assert_eq!(agent["packets_lost"], 0);
    assert!(agent["mos"].as_f64().expect("a MOS") > 4.3);

    // Two seconds later: more packets, the same MOS: no republication.
    h.run_for(2_000);
    let updates = h.call_updates(&call);
    h.sample_quality(&[
        (("trunk", 0), stream(600, 20, 0)),
        (("1001", 0), stream(600, 0, 0)),
    ]);
    assert_eq!(
        h.call_updates(&call),
        updates,
        "packet counts alone are not pushed"
    );
    let cust = &h.live_calls()[0]["customer"]["quality"];
    assert_eq!(cust["packets_received"], 570);
    let cust_mos = cust["mos"].as_f64().expect("a MOS");

    h.hangup("trunk", 0);
    assert!(h.cdr_ended(&call));
    let (q, before_end) = h.cdr_quality(&call).expect("quality in the CDR");
    assert!(before_end, "stored before the CDR is closed");
    let customer = q.customer.expect("customer side");
    assert_eq!(
        (customer.packets_received, customer.packets_lost),
        (570, 29)
    );
    assert_eq!(customer.mos, Some(cust_mos));
    let agent = q.agent.expect("agent side");
    assert_eq!((agent.packets_received, agent.packets_lost), (600, 0));

    let totals = &h.snapshot()["call_quality"];
    assert_eq!(totals["mos_count"], 1);
    assert_eq!(totals["poor_by_campaign"]["support"], 1);
    h.assert_clean();
}

#[test]
fn final_figures_come_from_the_engine_as_the_leg_ends() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    h.sample_quality(&[
        (("trunk", 0), stream(100, 0, 0)),
        (("1001", 0), stream(100, 0, 0)),
    ]);
    // Between the last sample and the hang-up the engine saw more packets,
    // and the agent's stream got jittery.
    h.engine_quality("trunk", 0, stream(900, 0, 0));
    h.engine_quality("1001", 0, stream(900, 0, 40));
    h.hangup("1001", 0);
    let (q, _) = h.cdr_quality(&call).expect("quality in the CDR");
    assert_eq!(q.customer.expect("customer").packets_received, 900);
    let agent = q.agent.expect("agent");
    assert_eq!(agent.packets_received, 900);
    assert!(
        agent.jitter_ms > 10.0,
        "jitter from the engine: {}",
        agent.jitter_ms
    );
    let totals = &h.snapshot()["call_quality"];
    assert_eq!(totals["mos_count"], 1);
    assert_eq!(
        totals["poor_by_campaign"]["support"],
        serde_json::Value::Null
    );
}

#[test]
fn a_leg_without_packets_has_no_mos_and_the_view_still_serializes() {
    let mut h = Harness::new();
    let call = customer_with_1001(&mut h);
    let silent = Quality::of(&ReceiveStats::default(), None);
    h.sample_quality(&[(("trunk", 0), silent), (("1001", 0), silent)]);
    let calls = h.live_calls();
    let q = &calls[0]["customer"]["quality"];
    assert_eq!(q["packets_received"], 0);
    assert_eq!(q["loss_percent"], 0.0);
    assert!(q["mos"].is_null() && q["r_factor"].is_null(), "{q}");
    // A broken figure (NaN) never reaches a view: it would not serialize.
    let mut broken = stream(50, 0, 0);
    broken.jitter_ms = f64::NAN;
    broken.mos = f64::INFINITY;
    h.sample_quality(&[(("trunk", 0), broken)]);
    let q = &h.live_calls()[0]["customer"]["quality"];
    assert_eq!(q["jitter_ms"], 0.0);
    assert!(q["mos"].is_null(), "{q}");
    h.hangup("trunk", 0);
    let (q, _) = h.cdr_quality(&call).expect("quality in the CDR");
    assert_eq!(q.customer.expect("customer").mos, None);
    assert_eq!(
        h.snapshot()["call_quality"]["mos_count"],
        0,
        "no MOS, not counted"
    );
}
