//! Report windows in IANA zones through the router: the same calls counted
//! by UTC, Madrid and Buenos Aires days; a 23-hour DST day; today by default.

use axum::http::StatusCode;
use switchboard_storage::{AgentRole, CallDirection, CampaignInput, CampaignKind, NewCall};

use crate::exports::tests::{app, get, json};

/// 2026-11-30T23:30Z: Dec 1st 00:30 in Madrid, Nov 30th in UTC and Buenos Aires.
const LATE_NOV_30: i64 = 1_796_081_400_000;
/// 2026-12-01T12:00Z: Dec 1st everywhere.
const NOON_DEC_1: i64 = 1_796_126_400_000;
/// 2026-12-02T01:00Z: Dec 1st 22:00 in Buenos Aires, Dec 2nd in UTC and Madrid.
const EARLY_DEC_2: i64 = 1_796_173_200_000;

#[tokio::test]
async fn report_days_follow_the_requested_zone() {
    let (app, storage, token) = app(AgentRole::Supervisor).await;
    let camp = storage
        .create_campaign(&CampaignInput::new("Ventas", CampaignKind::Dialer))
        .await
        .unwrap();
    let me = storage
        .get_agent_by_username("9000")
        .await
        .unwrap()
        .unwrap();
    for (i, at) in [LATE_NOV_30, NOON_DEC_1, EARLY_DEC_2]
        .into_iter()
        .enumerate()
    {
        let call = storage
            .insert_call(&NewCall {
                id: None,
                direction: CallDirection::Outbound,
                campaign_id: Some(camp.id.clone()),
                contact_id: None,
                caller: "9000".into(),
                callee: format!("+3460000000{i}"),
                agent_id: Some(me.id.clone()),
                started_at: at,
            })
            .await
            .unwrap();
        // Only the first call (the Madrid-only one) is answered.
        if i == 0 {
            storage
                .update_call_answered(&call.id, at + 5_000)
                .await
                .unwrap();
        }
        storage
            .finish_call(&call.id, at + 60_000, "ended")
            .await
            .unwrap();
    }
    let day = "from=2026-12-01&to=2026-12-02";
    for (tz, calls, answered, from_ms) in [
        ("", 1, 0, 1_796_083_200_000_i64),
        ("&tz=UTC", 1, 0, 1_796_083_200_000),
        ("&tz=Europe/Madrid", 2, 1, 1_796_079_600_000),
        (
            "&tz=America/Argentina/Buenos_Aires",
            2,
            0,
            1_796_094_000_000,
        ),
    ] {
        for uri in [
            format!("/api/reports/campaigns/Ventas?{day}{tz}"),
            format!("/api/reports/agents/9000?{day}{tz}"),
        ] {
            let (st, body, _) = get(&app, &uri, &token).await;
            let v = json(&body);
            assert_eq!(st, StatusCode::OK, "{uri}: {v}");
            assert_eq!(v["report"]["calls"], calls, "{uri}: {v}");
            assert_eq!(v["report"]["answered"], answered, "{uri}: {v}");
            assert_eq!(v["report"]["from"], from_ms, "{uri}: {v}");
            assert_eq!(v["report"]["to"], from_ms + 86_400_000, "{uri}: {v}");
            assert_eq!(v["window"]["from"], "2026-12-01 00:00:00", "{v}");
            assert_eq!(v["window"]["to"], "2026-12-02 00:00:00", "{v}");
        }
    }
    let (_, body, _) = get(
        &app,
        &format!("/api/reports/campaigns/Ventas?{day}&tz=Europe/Madrid"),
        &token,
    )
    .await;
    assert_eq!(json(&body)["window"]["tz"], "Europe/Madrid");
    // Unix ms still work, and an RFC 3339 bound ignores `tz`.
    let uri = format!(
        "/api/reports/campaigns/Ventas?from={NOON_DEC_1}&to=2026-12-02T01:00:00Z&tz=Asia/Tokyo"
    );
    let (_, body, _) = get(&app, &uri, &token).await;
    assert_eq!(json(&body)["report"]["calls"], 1);

    // Spring forward in Madrid: March 28th, 2027 lasts 23 hours.
    let (st, body, _) = get(
        &app,
        "/api/reports/campaigns/Ventas?from=2027-03-28&to=2027-03-29&tz=Europe/Madrid",
        &token,
    )
    .await;
    let v = json(&body);
    assert_eq!(st, StatusCode::OK, "{v}");
    let len = v["report"]["to"].as_i64().unwrap() - v["report"]["from"].as_i64().unwrap();
    assert_eq!(len, 23 * 3_600_000, "{v}");
}

#[tokio::test]
async fn default_window_is_today_in_the_zone_and_bad_zones_are_json_errors() {
    let (app, storage, token) = app(AgentRole::Admin).await;
    storage
        .create_campaign(&CampaignInput::new("Soporte", CampaignKind::Inbound))
        .await
        .unwrap();
    let now = switchboard_storage::now_ms();
    let camp = storage
        .get_campaign_by_name("Soporte")
        .await
        .unwrap()
        .unwrap();
    storage
        .insert_call(&NewCall {
            id: None,
            direction: CallDirection::Inbound,
            campaign_id: Some(camp.id),
            contact_id: None,
            caller: "+34911234567".into(),
            callee: "5000".into(),
            agent_id: None,
            started_at: now,
        })
        .await
        .unwrap();
    // Whatever the zone, today started at most 24 h ago and the call is in it.
    for tz in [
        "UTC",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "Europe/Madrid",
    ] {
        let (st, body, _) = get(
            &app,
            &format!("/api/reports/campaigns/Soporte?tz={tz}"),
            &token,
        )
        .await;
        let v = json(&body);
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["report"]["calls"], 1, "{tz}: {v}");
        let from = v["report"]["from"].as_i64().unwrap();
        assert!(
            from <= now && now - from < 86_400_000 + 3_600_000,
            "{tz}: {v}"
        );
        assert!(
            v["window"]["from"].as_str().unwrap().ends_with("00:00:00"),
            "{tz}: {v}"
        );
    }
    for (uri, want) in [
        (
            "/api/reports/campaigns/Soporte?tz=Mars/Olympus",
            "unknown time zone",
        ),
        (
            "/api/reports/campaigns/Soporte?from=yesterday",
            "time \"yesterday\"",
        ),
        (
            "/api/reports/agents/9000?to=2026-13-01",
            "time \"2026-13-01\"",
        ),
    ] {
        let (st, body, ct) = get(&app, uri, &token).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}");
        assert!(ct.starts_with("application/json"), "{uri}: {ct}");
        let v = json(&body);
        assert!(v["error"].as_str().unwrap().contains(want), "{uri}: {v}");
    }
}
