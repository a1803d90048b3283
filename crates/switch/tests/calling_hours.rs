//! Calling hours in virtual time: the dialer (and global callbacks, which
//! use the same `DialerCall`) never calls a contact outside the campaign's
//! window in the contact's own zone, and calls it once the window opens;
//! an agent's manual campaign call outside the window is placed with an
//! `OUTSIDE_HOURS` warning in its event log.
//!
//! The harness starts at Tuesday 2026-12-01 12:00 UTC: 13:00 in Madrid,
//! 09:00 in Buenos Aires.

mod harness;

use harness::{campaign, Harness, Setup, T0};
use switchboard_call::Target;
use switchboard_center::{Actor, CallingHours, CampaignInfo, EngineRequest};

/// Monday to Friday, 09:00-12:00, Madrid time unless the contact has a zone.
fn with_hours(name: &str, kind: &str) -> CampaignInfo {
    let mut c = campaign(name, kind, None, false);
    let hours: CallingHours =
        serde_json::from_str(r#"{"zone":"Europe/Madrid","days":{"mon-fri":"09:00-12:00"}}"#)
            .expect("hours");
    c.calling_hours = Some(hours);
    c
}

fn switch() -> Harness {
    Harness::with(Setup {
        campaigns: vec![
            with_hours("outbound", "dialer"),
            with_hours("outreach", "manual"),
        ],
        ..Setup::default()
    })
}

fn dialer_call(h: &mut Harness, number: &str, zone: Option<&str>) -> Result<String, String> {
    let (campaign, number) = ("outbound".to_string(), number.to_string());
    let timezone = zone.map(str::to_string);
    h.api(|reply| EngineRequest::DialerCall {
        campaign,
        number,
        contact_id: None,
        timezone,
        reply,
    })
    .map(|v| v["call_id"].as_str().expect("id").to_string())
    .map_err(|e| {
        assert_eq!(e.status, 409, "{e:?}");
        e.message
    })
}

#[test]
fn dialer_waits_for_the_window_in_the_contacts_zone() {
    let mut h = switch();
    // 13:00 in Madrid: closed until Wednesday 09:00 Madrid (08:00 UTC).
    let err = dialer_call(&mut h, "+34600111222", None).unwrap_err();
    assert!(
        err.contains(
            "outside the calling hours of campaign outbound; next window 2026-12-02T08:00:00Z"
        ),
        "{err}"
    );
    let err = dialer_call(&mut h, "+34600111222", Some("Europe/Madrid")).unwrap_err();
    assert!(err.contains("outside the calling hours"), "{err}");
    h.run_for(1_000);
    assert_eq!(h.phone("trunk").calls().len(), 0, "nobody was called");

    // The same moment is 09:00 in Buenos Aires: that contact is called.
    dialer_call(
        &mut h,
        "+5491123456789",
        Some("America/Argentina/Buenos_Aires"),
    )
    .expect("inside the window in the contact's zone");
    h.run_for(1_000);
    assert_eq!(h.phone("trunk").calls().len(), 1);

    // Virtual time runs to a second before the window opens, then to it.
    let open = T0 + 20 * 3_600_000;
    let left = open - 1_000 - h.now;
    h.run_for(left);
    assert!(
        dialer_call(&mut h, "+34600111222", None).is_err(),
        "07:59:59 UTC"
    );
    h.run_for(1_000);
    assert_eq!(h.now, open);
    dialer_call(&mut h, "+34600111222", None).expect("09:00 in Madrid");
    h.run_for(1_000);
    assert_eq!(h.phone("trunk").calls().len(), 2);
}

#[test]
fn manual_call_outside_the_window_is_placed_with_a_warning() {
    let mut h = switch();
    let dial = |h: &mut Harness, zone: Option<&str>| {
        let actor = Actor {
            username: "1001".into(),
            supervisor: false,
            campaigns: None,
        };
        let timezone = zone.map(str::to_string);
        h.api(|reply| EngineRequest::Dial {
            actor,
            target: Target::Number("+34600111222".into()),
            campaign: Some("outreach".into()),
            contact_id: None,
            timezone,
            reply,
        })
        .expect("the agent may call")["call_id"]
            .as_str()
            .expect("id")
            .to_string()
    };
    let id = dial(&mut h, Some("Europe/Madrid"));
    let warning = h.stored.iter().find_map(|o| match o {
        switchboard_switch::StoreOp::CallEvent {
            call,
            kind,
            detail,
            actor,
            ..
        } if *call == id && kind == "OUTSIDE_HOURS" => Some((detail.clone(), actor.clone())),
        _ => None,
    });
    let (detail, actor) = warning.expect("warning logged");
    assert!(
        detail.contains("outside the calling hours of campaign outreach"),
        "{detail}"
    );
    assert_eq!(actor.as_deref(), Some("1001"));
    h.command("1001", &id, switchboard_call::Command::Hangup)
        .ok();
    h.run_for(2_000);

    // Inside the window (09:00 in Buenos Aires) there is no warning.
    let id = dial(&mut h, Some("America/Argentina/Buenos_Aires"));
    assert!(
        h.events(&id).iter().all(|k| k != "OUTSIDE_HOURS"),
        "{:?}",
        h.events(&id)
    );
}
