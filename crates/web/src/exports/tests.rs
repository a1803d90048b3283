//! Imports and exports through the router: a Windows-1252 file in, CSV and
//! JSON out, read back with the `csv` crate row by row; errors are JSON.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use switchboard_storage::{
    AgentRole, CallDirection, CampaignInput, CampaignKind, NewAgent, NewCall, NewDisposition,
    Storage,
};
use tokio::sync::{broadcast, mpsc};
use tower::ServiceExt;

use crate::AppState;

/// A router on an empty database, and a session token of a user with `role`.
pub(crate) async fn app(role: AgentRole) -> (axum::Router, Storage, String) {
    let storage = Storage::connect("sqlite::memory:").await.expect("storage");
    let (engine, _) = mpsc::channel(1);
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
            username: "9000".into(),
            display_name: "Admin".into(),
            password_hash: "x".into(),
            sip_ha1: crate::sip_ha1("9000", "switchboard", "sip9000"),
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

pub(crate) async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 26)
        .await
        .expect("body");
    (status, bytes.to_vec(), ct)
}

pub(crate) async fn get(
    app: &axum::Router,
    uri: &str,
    token: &str,
) -> (StatusCode, Vec<u8>, String) {
    send(app, "GET", uri, token, "text/plain", Vec::new()).await
}

pub(crate) fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// CSV rows (header first) of a UTF-8 export, checking the BOM.
pub(crate) fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes
        .strip_prefix("\u{feff}".as_bytes())
        .expect("UTF-8 exports start with a BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.expect("csv record").iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn windows_1252_import_then_contacts_export_reads_back_row_by_row() {
    let (app, storage, token) = app(AgentRole::Admin).await;
    let mut camp = CampaignInput::new("Ventas", CampaignKind::Dialer);
    camp.default_country = Some("ES".into());
    storage.create_campaign(&camp).await.expect("campaign");
    let file = b"Nombre;Tel\xe9fono;Ciudad\r\nJos\xe9 Mu\xf1oz;600 12 34 56;M\xe1laga\r\n\
\"Pe\xf1a, Luc\xeda\";611223344;\"A Coru\xf1a\r\nCentro\"\r\n"
        .to_vec();
    let (st, body, _) = send(
        &app,
        "POST",
        "/api/contacts/import?list=primavera&campaign=Ventas",
        &token,
        "text/csv",
        file,
    )
    .await;
    let v = json(&body);
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["report"]["imported"], 2);
    assert_eq!(v["report"]["encoding"], "windows-1252");
    assert_eq!(v["report"]["delimiter"], ";");

    let (st, body, ct) = get(&app, "/api/exports/contacts?list=primavera", &token).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "text/csv; charset=UTF-8");
    let rows = csv_rows(&body);
    let header: Vec<&str> = rows[0].iter().map(String::as_str).collect();
    assert_eq!(
        header,
        vec![
            "contact_id",
            "list",
            "campaign",
            "phone",
            "name",
            "timezone",
            "status",
            "attempts",
            "calls",
            "last_call_at",
            "last_disposition",
            "imported_at",
            "extra"
        ]
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    // By name: José Muñoz, then Peña, Lucía.
    assert_eq!(
        &rows[1][1..5],
        ["primavera", "Ventas", "+34600123456", "José Muñoz"]
    );
    assert_eq!(&rows[1][6..9], ["new", "0", "0"]);
    assert_eq!(json(rows[1][12].as_bytes())["Ciudad"], "Málaga");
    assert_eq!(&rows[2][3..5], ["+34611223344", "Peña, Lucía"]);
    assert_eq!(json(rows[2][12].as_bytes())["Ciudad"], "A Coruña\r\nCentro");

    // The same export in Windows-1252 for an old spreadsheet: no BOM, é is one byte.
    let (_, body, ct) = get(&app, "/api/exports/contacts?encoding=windows-1252", &token).await;
    assert_eq!(ct, "text/csv; charset=windows-1252");
    assert!(body.starts_with(b"contact_id,"));
    assert!(body.windows(10).any(|w| w == b"Jos\xe9 Mu\xf1oz"));
}

#[tokio::test]
async fn import_errors_are_json() {
    let (app, _storage, token) = app(AgentRole::Admin).await;
    let post = |uri: &'static str, body: &'static [u8]| {
        let app = app.clone();
        let token = token.clone();
        async move { send(&app, "POST", uri, &token, "text/csv", body.to_vec()).await }
    };
    let (st, body, _) = post("/api/contacts/import", b"phone\n600\n").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(json(&body)["error"].as_str().unwrap().contains("list"));
    let (st, body, _) = post(
        "/api/contacts/import?list=a&encoding=klingon",
        b"phone\n\xff\n",
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(json(&body)["error"].as_str().unwrap().contains("klingon"));
    let (st, body, _) = post("/api/contacts/import?list=a&delimiter=;;", b"phone\n1\n").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{}", json(&body));
    let (st, body, _) = post(
        "/api/contacts/import?list=a&country=ES",
        b"tel\xe9fono;nombre\n600123456;Ana\n12;Bad\nxyz;Worse\n",
    )
    .await;
    let v = json(&body);
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"], "nothing imported: 2 bad lines");
    assert_eq!(v["report"]["errors"][0]["line"], 3);
    assert_eq!(v["report"]["errors"][1]["line"], 4);
    let (st, body, _) = post("/api/contacts/import?list=a&campaign=nope", b"phone\n1\n").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(json(&body)["error"].as_str().unwrap().contains("nope"));

    let (app, _storage, agent) = self::app(AgentRole::Agent).await;
    let (st, body, _) = send(
        &app,
        "POST",
        "/api/contacts/import?list=a",
        &agent,
        "text/csv",
        b"phone\n600\n".to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    json(&body);
    let (st, body, _) = get(&app, "/api/exports/calls", &agent).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    json(&body);
}

#[tokio::test]
async fn call_and_disposition_exports_in_local_time_csv_and_json() {
    let (app, storage, token) = app(AgentRole::Supervisor).await;
    let agent = storage
        .get_agent_by_username("9000")
        .await
        .unwrap()
        .unwrap();
    // 2026-12-01 08:00:00 UTC = 09:00 in Madrid (winter, UTC+1).
    let t0 = 1_796_112_000_000_i64;
    for i in 0..600_i64 {
        let id = format!("c{i:04}");
        storage
            .insert_call(&NewCall {
                id: Some(id.clone()),
                direction: CallDirection::Outbound,
                campaign_id: None,
                contact_id: None,
                caller: "9000".into(),
                callee: format!("+3460000{i:04}"),
                agent_id: Some(agent.id.clone()),
                started_at: t0 + i * 60_000,
            })
            .await
            .unwrap();
        storage
            .update_call_answered(&id, t0 + i * 60_000 + 5_000)
            .await
            .unwrap();
        storage
            .finish_call(&id, t0 + i * 60_000 + 35_000, "agent_hangup")
            .await
            .unwrap();
    }
    storage
        .add_disposition(&NewDisposition {
            call_id: "c0000".into(),
            agent_id: agent.id.clone(),
            campaign_id: None,
            contact_id: None,
            name: "Venta".into(),
            note: "pagó; \"todo\" bien".into(),
            at: t0 + 40_000,
        })
        .await
        .unwrap();

    let (st, body, _) = get(
        &app,
        "/api/exports/calls?tz=Europe/Madrid&agent=9000",
        &token,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 601, "every call, across several body chunks");
    assert_eq!(rows[0][8], "started_at");
    let first = &rows[1];
    assert_eq!(first[0], "c0000");
    assert_eq!(first[8], "2026-12-01 09:00:00");
    assert_eq!(first[10], "2026-12-01 09:00:35");
    assert_eq!((first[11].as_str(), first[12].as_str()), ("35", "30"));
    assert_eq!(
        (first[15].as_str(), first[16].as_str()),
        ("Venta", "pagó; \"todo\" bien")
    );
    assert_eq!(rows[600][0], "c0599");

    // Filtered by a local time window: 09:10 to 09:20 Madrid = calls 10..19.
    let (_, body, _) = get(
        &app,
        "/api/exports/calls?format=json&tz=Europe/Madrid&from=2026-12-01T09:10&to=2026-12-01T09:20",
        &token,
    )
    .await;
    let v = json(&body);
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 10);
    assert_eq!((ids[0], ids[9]), ("c0010", "c0019"));

    let (_, body, _) = get(&app, "/api/exports/dispositions", &token).await;
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], "2026-12-01 08:00:40");
    assert_eq!(
        &rows[1][1..7],
        [
            "c0000",
            "9000",
            "",
            "Venta",
            "pagó; \"todo\" bien",
            "+34600000000"
        ]
    );

    for bad in [
        "tz=Mars/Olympus",
        "format=xml",
        "from=yesterday",
        "encoding=utf-16",
        "status=x",
    ] {
        let (st, body, _) = get(&app, &format!("/api/exports/contacts?{bad}"), &token).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
        assert!(json(&body)["error"].is_string(), "{bad}");
    }
}

#[tokio::test]
async fn agent_and_campaign_reports_as_csv_rows() {
    let (app, storage, token) = app(AgentRole::Supervisor).await;
    let agent = storage
        .get_agent_by_username("9000")
        .await
        .unwrap()
        .unwrap();
    let camp = storage
        .create_campaign(&CampaignInput::new("ventas", CampaignKind::Dialer))
        .await
        .unwrap();
    let t0 = 1_796_112_000_000_i64; // 2026-12-01 08:00 UTC
    for (i, name) in ["Venta", "Venta", "No venta"].iter().enumerate() {
        let id = format!("r{i}");
        let at = t0 + i as i64 * 600_000;
        storage
            .insert_call(&NewCall {
                id: Some(id.clone()),
                direction: CallDirection::Outbound,
                campaign_id: Some(camp.id.clone()),
                contact_id: None,
                caller: "9000".into(),
                callee: format!("+3460000000{i}"),
                agent_id: Some(agent.id.clone()),
                started_at: at,
            })
            .await
            .unwrap();
        storage
            .update_call_answered(&id, at + 10_000)
            .await
            .unwrap();
        storage
            .finish_call(&id, at + 70_000, "agent_hangup")
            .await
            .unwrap();
        storage
            .add_disposition(&NewDisposition {
                call_id: id,
                agent_id: agent.id.clone(),
                campaign_id: Some(camp.id.clone()),
                contact_id: None,
                name: name.to_string(),
                note: String::new(),
                at: at + 80_000,
            })
            .await
            .unwrap();
    }
    let window = "from=2026-12-01&to=2026-12-02&tz=Europe/Madrid";
    let (st, body, _) = get(&app, &format!("/api/exports/agents?{window}"), &token).await;
    assert_eq!(st, StatusCode::OK);
    let rows = csv_rows(&body);
    assert_eq!(
        rows[0][..6],
        ["agent", "name", "from", "to", "calls", "answered"]
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let r = &rows[1];
    assert_eq!(
        &r[..4],
        [
            "9000",
            "Admin",
            "2026-12-01 00:00:00",
            "2026-12-02 00:00:00"
        ]
    );
    assert_eq!(
        &r[4..10],
        ["3", "3", "180", "0", "0", "No venta: 1; Venta: 2"]
    );
    let (_, body, _) = get(
        &app,
        &format!("/api/exports/campaigns?{window}&format=json"),
        &token,
    )
    .await;
    let v = json(&body);
    assert_eq!(v[0]["name"], "ventas");
    assert_eq!(v[0]["stats"]["calls"], 3);
    assert_eq!(v[0]["stats"]["dispositions"]["Venta"], 2);
}
