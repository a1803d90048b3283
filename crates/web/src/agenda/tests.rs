//! Callbacks in IANA zones: scheduled in winter for a date after the
//! daylight-saving change, they fire at the right local time (the dialer's
//! claim is driven with an injected clock).

use axum::http::StatusCode;
use switchboard_storage::{
    AgentRole, CallDirection, CampaignInput, CampaignKind, NewCall, Storage,
};

use crate::exports::tests::{app, json, send};

/// Unix ms of an RFC 3339 time.
fn ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .expect("time")
        .timestamp_millis()
}

/// A dialer call handled by the test's user, to a contact in Madrid.
async fn dialer_call(storage: &Storage, id: &str) {
    let camp = match storage.get_campaign_by_name("ventas").await.unwrap() {
        Some(c) => c,
        None => storage
            .create_campaign(&CampaignInput::new("ventas", CampaignKind::Dialer))
            .await
            .unwrap(),
    };
    let list = format!("l-{id}");
    let csv = format!(
        "phone,timezone\n+3460012{:04},Europe/Madrid\n",
        id.len() * 7
    );
    let r = storage
        .import_contacts_csv(&list, Some(&camp.id), &csv)
        .await
        .unwrap();
    let contact = storage
        .search_contacts(&switchboard_storage::ContactQuery {
            list_id: r.list_id,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    let agent = storage
        .get_agent_by_username("9000")
        .await
        .unwrap()
        .unwrap();
    storage
        .insert_call(&NewCall {
            id: Some(id.into()),
            direction: CallDirection::Outbound,
            campaign_id: Some(camp.id.clone()),
            contact_id: Some(contact.id),
            caller: "ventas".into(),
            callee: contact.phone,
            agent_id: Some(agent.id),
            started_at: ms("2027-03-20T10:00:00Z"),
        })
        .await
        .unwrap();
}

async fn schedule(app: &axum::Router, token: &str, call: &str, agenda: &str) -> serde_json::Value {
    let body = format!(r#"{{"disposition":"Agenda","agenda":{agenda}}}"#);
    let uri = format!("/api/calls/{call}/disposition");
    let (st, body, _) = send(
        app,
        "POST",
        &uri,
        token,
        "application/json",
        body.into_bytes(),
    )
    .await;
    let v = json(&body);
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn callback_across_a_dst_change_fires_at_the_local_time() {
    let (app, storage, token) = app(AgentRole::Supervisor).await;
    dialer_call(&storage, "c1").await;
    // Scheduled (in winter, CET = UTC+1) for 10:00 Madrid on 29 March 2027,
    // the day after clocks go forward: CEST = UTC+2, so 08:00 UTC.
    let v = schedule(
        &app,
        &token,
        "c1",
        r#"{"kind":"global","at":"2027-03-29T10:00","tz":"Europe/Madrid"}"#,
    )
    .await;
    assert_eq!(v["agenda"]["tz"], "Europe/Madrid");
    assert_eq!(v["agenda"]["scheduled_at"], ms("2027-03-29T08:00:00Z"));
    // The dialer's claim with an injected clock: not a second early, then due.
    let early = storage
        .claim_due_global(ms("2027-03-29T07:59:59Z"), 10)
        .await
        .unwrap();
    assert!(early.is_empty(), "fired an hour early: {early:?}");
    let due = storage
        .claim_due_global(ms("2027-03-29T08:00:00Z"), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].origin_call_id.as_deref(), Some("c1"));

    // Without a tz the contact's zone (imported) applies; the old fixed-offset
    // form is still accepted and means what it says (+01:00 all year).
    dialer_call(&storage, "c2").await;
    let v = schedule(
        &app,
        &token,
        "c2",
        r#"{"kind":"personal","at":"2027-03-29T10:00"}"#,
    )
    .await;
    assert_eq!(v["agenda"]["tz"], "Europe/Madrid");
    assert_eq!(v["agenda"]["scheduled_at"], ms("2027-03-29T08:00:00Z"));
    dialer_call(&storage, "c3").await;
    let v = schedule(
        &app,
        &token,
        "c3",
        r#"{"kind":"personal","at":"2027-03-29T10:00","tz":"+01:00"}"#,
    )
    .await;
    assert_eq!(v["agenda"]["scheduled_at"], ms("2027-03-29T09:00:00Z"));

    // A local time the change skips is refused with the reason.
    dialer_call(&storage, "c4").await;
    let body = r#"{"disposition":"Agenda","agenda":{"kind":"personal","at":"2027-03-28T02:30","tz":"Europe/Madrid"}}"#;
    let (st, body, _) = send(
        &app,
        "POST",
        "/api/calls/c4/disposition",
        &token,
        "application/json",
        body.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(json(&body)["error"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
}

#[tokio::test]
async fn campaign_calling_hours_are_checked_and_stored() {
    let (app, storage, token) = app(AgentRole::Admin).await;
    let post = |body: &'static str| {
        let (app, token) = (app.clone(), token.clone());
        async move {
            send(
                &app,
                "POST",
                "/api/campaigns",
                &token,
                "application/json",
                body.as_bytes().to_vec(),
            )
            .await
        }
    };
    let (st, body, _) = post(
        r#"{"name":"noche","kind":"dialer","calling_hours":{"days":{"mon-fri":"21:00-09:00"}}}"#,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(json(&body)["error"]
        .as_str()
        .unwrap()
        .contains("calling_hours: window"));
    let (st, body, _) = post(
        r#"{"name":"ventas","kind":"dialer","default_country":"es",
            "calling_hours":{"zone":"Europe/Madrid","days":{"mon-fri":"09:00-21:00"},"holidays":["2026-12-25"]}}"#,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{}", json(&body));
    let row = storage
        .get_campaign_by_name("ventas")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.default_country.as_deref(), Some("ES"));
    let hours: switchboard_center::CallingHours =
        serde_json::from_value(row.calling_hours.unwrap()).unwrap();
    assert_eq!(hours.holidays, vec!["2026-12-25"]);
    let info = crate::campaign_info(
        &storage,
        &storage
            .get_campaign_by_name("ventas")
            .await
            .unwrap()
            .unwrap(),
    )
    .await
    .unwrap();
    assert!(info
        .calling_hours
        .is_some_and(|h| !h.allows(ms("2026-12-25T10:00:00Z"), None)));
}

#[tokio::test]
async fn an_agent_puts_the_number_of_the_call_on_the_do_not_call_list() {
    let (app, storage, token) = app(AgentRole::Agent).await;
    dialer_call(&storage, "c9").await;
    let post = |body: &'static str| {
        let (app, token) = (app.clone(), token.clone());
        async move {
            let (st, b, _) = send(
                &app,
                "POST",
                "/api/calls/c9/disposition",
                &token,
                "application/json",
                body.as_bytes().to_vec(),
            )
            .await;
            (st, json(&b))
        }
    };
    let (st, v) = post(r#"{"disposition":"Agenda","dnc":true,"agenda":{"kind":"personal","at":"2027-03-29T10:00"}}"#).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post(r#"{"disposition":"No sale","dnc":true}"#).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let call = storage.get_call("c9").await.unwrap().unwrap();
    assert_eq!(v["dnc"]["phone"], call.callee.as_str());
    let listed = storage.list_dnc().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].campaign_id, call.campaign_id);
    assert_eq!(listed[0].added_by.as_deref(), Some("9000"));
    let contact = storage
        .get_contact(call.contact_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contact.status, switchboard_storage::ContactStatus::Done);
    let events: Vec<String> = storage
        .list_events("c9")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(events.contains(&"DNC_ADDED".to_string()), "{events:?}");
}
