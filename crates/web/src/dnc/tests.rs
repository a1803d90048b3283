//! The do-not-call endpoints through the router.

use axum::http::StatusCode;
use switchboard_storage::{AgentRole, CampaignInput, CampaignKind};

use crate::exports::tests::{app, csv_rows, get, json, send};

#[tokio::test]
async fn admins_add_list_export_import_and_remove_numbers() {
    let (app, storage, token) = app(AgentRole::Admin).await;
    let mut camp = CampaignInput::new("ventas", CampaignKind::Dialer);
    camp.default_country = Some("ES".into());
    storage.create_campaign(&camp).await.unwrap();
    let post = |uri: &str, ct: &str, body: &[u8]| {
        let (app, token, uri, ct, body) = (
            app.clone(),
            token.clone(),
            uri.to_string(),
            ct.to_string(),
            body.to_vec(),
        );
        async move { send(&app, "POST", &uri, &token, &ct, body).await }
    };
    let (st, body, _) = post(
        "/api/dnc?campaign=ventas",
        "application/json",
        r#"{"phone":"600 12 34 56","reason":"pidió no llamar"}"#.as_bytes(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{}", json(&body));
    assert_eq!(json(&body)["dnc"]["phone"], "+34600123456");
    let (st, body, _) = post(
        "/api/dnc",
        "application/json",
        br#"{"phone":"+44 20 7946 0003"}"#,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{}", json(&body));
    let (st, body, _) = post("/api/dnc", "application/json", br#"{"phone":"12"}"#).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(json(&body)["error"].as_str().unwrap().contains("3 to 20"));

    let (st, body, _) = post(
        "/api/dnc/import?campaign=ventas",
        "text/csv",
        b"Tel\xe9fono;Motivo\r\n611 22 33 44;lo pidi\xf3\r\n",
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{}", json(&body));
    assert_eq!(json(&body)["report"]["added"], 1);
    let (st, body, _) = post("/api/dnc/import", "text/csv", b"phone\nnope\n").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&body)["report"]["errors"][0]["line"], 2);

    let (_, body, _) = get(&app, "/api/dnc?format=csv", &token).await;
    let rows = csv_rows(&body);
    let listed: Vec<(&str, &str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("+442079460003", "", ""),
            ("+34600123456", "ventas", "pidió no llamar"),
            ("+34611223344", "ventas", "lo pidió")
        ]
    );
    let (_, body, _) = get(&app, "/api/dnc?campaign=ventas", &token).await;
    assert_eq!(json(&body)["dnc"].as_array().unwrap().len(), 2);

    let del = |uri: &str| {
        let (app, token, uri) = (app.clone(), token.clone(), uri.to_string());
        async move { send(&app, "DELETE", &uri, &token, "text/plain", Vec::new()).await }
    };
    let (st, _, _) = del("/api/dnc/+34600123456?campaign=ventas").await;
    assert_eq!(st, StatusCode::OK);
    let (st, body, _) = del("/api/dnc/+34600123456?campaign=ventas").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    json(&body);

    let (app, _, agent) = crate::exports::tests::app(AgentRole::Agent).await;
    let (st, _, _) = send(
        &app,
        "POST",
        "/api/dnc",
        &agent,
        "application/json",
        br#"{"phone":"+34600123456"}"#.to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}
