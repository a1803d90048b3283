//! A contact's zone derived from its number at import decides its calling
//! hours: the same evening is too late in Paris and fine in Buenos Aires.

use axum::http::StatusCode;
use switchboard_center::CallingHours;
use switchboard_storage::{AgentRole, CampaignInput, CampaignKind, ContactQuery};

use crate::exports::tests::{app, json, send};

/// 2026-12-01T21:30Z: 22:30 in Paris and Madrid, 18:30 in Buenos Aires.
const EVENING: i64 = 1_796_160_600_000;

#[tokio::test]
async fn zones_from_numbers_drive_calling_hours_in_local_time() {
    let (app, storage, token) = app(AgentRole::Admin).await;
    let mut camp = CampaignInput::new("Ventas", CampaignKind::Dialer);
    camp.default_country = Some("ES".into());
    storage.create_campaign(&camp).await.unwrap();
    let file =
        "Nombre;Teléfono\nMarie;+33 6 12 34 56 78\nLucía;+54 9 11 2345-6789\nJosé;600 12 34 56\n";
    let (st, body, _) = send(
        &app,
        "POST",
        "/api/contacts/import?list=mundo&campaign=Ventas",
        &token,
        "text/csv",
        file.as_bytes().to_vec(),
    )
    .await;
    let v = json(&body);
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["report"]["imported"], 3, "{v}");
    assert_eq!(v["report"]["zones_from_numbers"], 2, "{v}");

    let contacts = storage
        .search_contacts(&ContactQuery {
            limit: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    let zone_of = |name: &str| {
        contacts
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name} in {contacts:?}"))
            .timezone
            .clone()
    };
    assert_eq!(zone_of("Marie").as_deref(), Some("Europe/Paris"));
    assert_eq!(
        zone_of("Lucía").as_deref(),
        Some("America/Argentina/Buenos_Aires")
    );
    // Spain has two clocks (the Canaries): José keeps the campaign's zone.
    assert_eq!(zone_of("José"), None);

    let hours: CallingHours = serde_json::from_value(serde_json::json!({
        "zone": "Europe/Madrid", "days": {"mon-sun": "09:00-21:00"}
    }))
    .unwrap();
    let allowed = |name: &str| hours.allows(EVENING, zone_of(name).as_deref());
    assert!(!allowed("Marie"), "22:30 in Paris is outside 09:00-21:00");
    assert!(allowed("Lucía"), "18:30 in Buenos Aires is inside");
    assert!(!allowed("José"), "22:30 in Madrid is outside");
}
