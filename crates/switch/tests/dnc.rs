//! The do-not-call list in the switch: dialer contacts and global callbacks
//! (both `DialerCall`) and agents' manual campaign calls to a barred number
//! are refused with the reason, never reach the trunk, and each refusal is
//! a call record with a `DNC_REFUSED` event; other numbers and other
//! campaigns are called as usual.

mod harness;

use harness::{campaign, Harness, Setup};
use switchboard_call::Target;
use switchboard_center::{Actor, DncEntry, EngineRequest};
use switchboard_switch::StoreOp;

fn dnc(phone: &str, campaign: Option<&str>, reason: &str) -> DncEntry {
    DncEntry {
        phone: phone.into(),
        campaign_id: campaign.map(|c| format!("id-{c}")),
        reason: reason.into(),
    }
}

/// A switch with dialer campaign `outbound` and manual campaign `outreach`,
/// and `+34600111222` barred everywhere, `+34600333444` in `outbound` only.
fn switch() -> Harness {
    let mut h = Harness::with(Setup {
        campaigns: vec![
            campaign("outbound", "dialer", None, false),
            campaign("outreach", "manual", None, false),
        ],
        ..Setup::default()
    });
    let now = h.now;
    h.switch.handle_request(
        now,
        EngineRequest::SetDnc(vec![
            dnc("+34 600 111 222", None, "asked not to be called"),
            dnc("+34600333444", Some("outbound"), ""),
        ]),
    );
    h.settle();
    h
}

fn dialer_call(h: &mut Harness, campaign: &str, number: &str) -> Result<String, String> {
    let (campaign, number) = (campaign.to_string(), number.to_string());
    let contact_id = Some("contact-1".to_string());
    h.api(|reply| EngineRequest::DialerCall {
        campaign,
        number,
        contact_id,
        timezone: None,
        reply,
    })
    .map(|v| v["call_id"].as_str().expect("call id").to_string())
    .map_err(|e| {
        assert_eq!(e.status, 409, "{e:?}");
        e.message
    })
}

fn manual_call(h: &mut Harness, agent: &str, number: &str) -> Result<String, String> {
    let actor = Actor {
        username: agent.into(),
        supervisor: false,
        campaigns: None,
    };
    let target = Target::Number(number.into());
    h.api(|reply| EngineRequest::Dial {
        actor,
        target,
        campaign: Some("outreach".into()),
        contact_id: None,
        timezone: None,
        reply,
    })
    .map(|v| v["call_id"].as_str().expect("call id").to_string())
    .map_err(|e| e.message)
}

/// The refused call records for `number`: (call id, event detail).
fn refusals(h: &Harness, number: &str) -> Vec<(String, String)> {
    let ids: Vec<String> = h
        .stored
        .iter()
        .filter_map(|o| match o {
            StoreOp::CallStarted { call, callee, .. } if callee == number => Some(call.clone()),
            _ => None,
        })
        .collect();
    ids.into_iter()
        .filter_map(|id| {
            let detail = h.stored.iter().find_map(|o| match o {
                StoreOp::CallEvent {
                    call, kind, detail, ..
                } if *call == id && kind == "DNC_REFUSED" => Some(detail.clone()),
                _ => None,
            })?;
            Some((id, detail))
        })
        .collect()
}

#[test]
fn dialer_and_callbacks_never_call_a_barred_number() {
    let mut h = switch();
    let err = dialer_call(&mut h, "outbound", "+34600111222").unwrap_err();
    assert!(
        err.contains("do-not-call list (global: asked not to be called)"),
        "{err}"
    );
    h.run_for(2_000);
    assert!(h.live_calls().is_empty());
    assert_eq!(
        h.phone("trunk").calls().len(),
        0,
        "the trunk never saw an INVITE"
    );
    let logged = refusals(&h, "+34600111222");
    assert_eq!(logged.len(), 1, "{:?}", h.stored);
    assert!(h.cdr_ended(&logged[0].0), "the refusal's record is closed");
    let started = h.stored.iter().find_map(|o| match o {
        StoreOp::CallStarted {
            call,
            contact_id,
            campaign_id,
            ..
        } if *call == logged[0].0 => Some((contact_id.clone(), campaign_id.clone())),
        _ => None,
    });
    assert_eq!(
        started,
        Some((Some("contact-1".into()), Some("id-outbound".into())))
    );

    // A number not on the list is dialled.
    let id = dialer_call(&mut h, "outbound", "+34600999888").expect("dialled");
    h.run_for(500);
    assert_eq!(h.phone("trunk").calls().len(), 1);
    assert!(refusals(&h, "+34600999888").is_empty());
    assert!(h.events(&id).iter().all(|k| k != "DNC_REFUSED"));
}

#[test]
fn campaign_entries_bar_only_their_campaign_and_removal_lifts_them() {
    let mut h = switch();
    let err = dialer_call(&mut h, "outbound", "+34600333444").unwrap_err();
    assert!(err.contains("(campaign outbound)"), "{err}");
    // The same number in another campaign is called.
    manual_call(&mut h, "1001", "+34600333444").expect("not barred in outreach");
    h.run_for(500);
    let now = h.now;
    h.switch.handle_request(
        now,
        EngineRequest::RemoveDnc(dnc("+34600333444", Some("outbound"), "")),
    );
    dialer_call(&mut h, "outbound", "+34600333444").expect("lifted");
    // Added at run time, globally: both campaigns refuse it.
    let now = h.now;
    h.switch
        .handle_request(now, EngineRequest::AddDnc(dnc("+34600555666", None, "")));
    assert!(dialer_call(&mut h, "outbound", "+34600555666").is_err());
    assert!(manual_call(&mut h, "1002", "+34600555666").is_err());
    assert_eq!(refusals(&h, "+34600555666").len(), 2);
}

#[test]
fn manual_campaign_calls_are_refused_with_the_reason() {
    let mut h = switch();
    let err = manual_call(&mut h, "1001", "+34600111222").unwrap_err();
    assert!(
        err.contains("+34600111222 is on the do-not-call list"),
        "{err}"
    );
    assert!(err.contains("asked not to be called"), "{err}");
    h.run_for(1_000);
    assert_eq!(
        h.phone("1001").calls().len(),
        0,
        "the agent's phone never rang"
    );
    assert!(h.live_calls().is_empty());
    let logged = refusals(&h, "+34600111222");
    assert_eq!(logged.len(), 1);
    let actor = h.stored.iter().find_map(|o| match o {
        StoreOp::CallEvent {
            call, kind, actor, ..
        } if *call == logged[0].0 && kind == "DNC_REFUSED" => actor.clone(),
        _ => None,
    });
    assert_eq!(actor.as_deref(), Some("1001"));
    // Typed as a national number, or with the 00 prefix, it is the same number.
    for typed in ["600111222", "0034600111222"] {
        let err = manual_call(&mut h, "1001", typed).unwrap_err();
        assert!(err.contains("do-not-call"), "{typed}: {err}");
    }
    // Out of campaign the list does not apply (it is the campaigns' list).
    let actor = Actor {
        username: "1001".into(),
        supervisor: false,
        campaigns: None,
    };
    let target = Target::Number("+34600111222".into());
    let ok = h.api(|reply| EngineRequest::Dial {
        actor,
        target,
        campaign: None,
        contact_id: None,
        timezone: None,
        reply,
    });
    assert!(ok.is_ok(), "{ok:?}");
}
