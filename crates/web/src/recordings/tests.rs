//! The recordings zip through the router, read back with the `zip` crate:
//! the WAVs byte for byte, `index.csv` row by row, the search filters, the
//! limit and the access rules.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use switchboard_storage::{
    AgentRole, CallDirection, CampaignInput, CampaignKind, NewAgent, NewCall, NewDisposition,
    NewRecording, NewTag, Storage,
};
use tokio::sync::{broadcast, mpsc};

use super::export::MAX_EXPORT_RECORDINGS;
use crate::exports::tests::{csv_rows, get, json};
use crate::AppState;

/// 2026-12-01T08:30:00Z: 09:30 in Madrid.
const T0: i64 = 1_796_113_800_000;
const HOUR: i64 = 3_600_000;

/// A data folder of its own, removed at the end.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> DataDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sb-rec-zip-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("recordings/2026-12-01")).expect("data dir");
        DataDir(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A router over `data_dir`, and a session token of user 9000 with `role`.
async fn app_in(data_dir: &Path, role: AgentRole) -> (axum::Router, Storage, String) {
    let storage = Storage::connect("sqlite::memory:").await.expect("storage");
    let (engine, _) = mpsc::channel(1);
    let (events, _) = broadcast::channel(1);
    let state = AppState {
        storage: storage.clone(),
        engine,
        events: Arc::new(move || events.subscribe()),
        data_dir: data_dir.to_path_buf(),
        flush: Arc::new(|| Box::pin(async {})),
        login_failures: Default::default(),
        sip_realm: "switchboard".into(),
        webphone: None,
        scope_changes: tokio::sync::broadcast::channel(16).0,
        turn: None,
    };
    let token = session(&storage, "9000", role).await;
    (crate::router(state), storage, token)
}

async fn session(storage: &Storage, username: &str, role: AgentRole) -> String {
    let user = storage
        .create_agent(&NewAgent {
            username: username.into(),
            display_name: format!("User {username}"),
            password_hash: "x".into(),
            sip_ha1: crate::sip_ha1(username, "switchboard", "pw"),
            role,
            groups: vec![],
            audio: Default::default(),
        })
        .await
        .expect("agent");
    storage
        .create_session(&user.id, 60_000)
        .await
        .expect("session")
        .token
}

/// A WAV-looking file of `n` bytes, different for each `seed`.
fn wav(seed: u8, n: usize) -> Vec<u8> {
    let mut b = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    b.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    b
}

/// One recorded call: returns the recording id.
#[allow(clippy::too_many_arguments)]
async fn recorded_call(
    storage: &Storage,
    agent: &str,
    campaign: Option<&str>,
    callee: &str,
    at: i64,
    path: &Path,
    finished_after: Option<i64>,
    tags: &[&str],
    disposition: Option<&str>,
) -> String {
    let agent = storage.get_agent_by_username(agent).await.unwrap().unwrap();
    let campaign_id = match campaign {
        Some(n) => Some(storage.get_campaign_by_name(n).await.unwrap().unwrap().id),
        None => None,
    };
    let call = storage
        .insert_call(&NewCall {
            id: None,
            direction: CallDirection::Outbound,
            campaign_id: campaign_id.clone(),
            contact_id: None,
            caller: agent.username.clone(),
            callee: callee.into(),
            agent_id: Some(agent.id.clone()),
            started_at: at,
        })
        .await
        .unwrap();
    let rec = storage
        .insert_recording(&NewRecording {
            call_id: call.id.clone(),
            path: path.to_string_lossy().into_owned(),
            started_at: at,
            agent_id: None,
            campaign_id: None,
        })
        .await
        .unwrap();
    if let Some(ms) = finished_after {
        storage
            .finish_recording(&rec.id, at + ms, None)
            .await
            .unwrap();
    }
    for (i, text) in tags.iter().enumerate() {
        storage
            .add_tag(&NewTag {
                call_id: call.id.clone(),
                recording_id: Some(rec.id.clone()),
                author: agent.username.clone(),
                text: text.to_string(),
                at: at + 1_000 + i as i64,
                offset_ms: 1_000 + i as i64,
            })
            .await
            .unwrap();
    }
    if let Some(name) = disposition {
        storage
            .add_disposition(&NewDisposition {
                call_id: call.id.clone(),
                agent_id: agent.id.clone(),
                campaign_id,
                contact_id: None,
                name: name.into(),
                note: String::new(),
                at: at + 120_000,
            })
            .await
            .unwrap();
    }
    rec.id
}

/// The entries of a zip body: names in order and their bytes.
fn unzip(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(body)).expect("a valid zip");
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)
                .expect("entry reads (CRC checked)");
            (f.name().expect("UTF-8 name").to_string(), bytes)
        })
        .collect()
}

/// The names in a zip, and `index.csv` as rows (header first).
async fn export(app: &axum::Router, token: &str, query: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (st, body, ct) = get(app, &format!("/api/recordings/export?{query}"), token).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "{query}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ct, "application/zip");
    let entries = unzip(&body);
    let names: Vec<String> = entries.iter().map(|(n, _)| n.clone()).collect();
    let (last, index) = entries.last().expect("index.csv");
    assert_eq!(last, "index.csv", "the index comes last");
    (names, csv_rows(index))
}

#[tokio::test]
async fn a_recordings_search_downloads_as_a_zip_with_its_index() {
    let dir = DataDir::new();
    let (app, storage, token) = app_in(&dir.0, AgentRole::Supervisor).await;
    for u in ["1001", "1002"] {
        session(&storage, u, AgentRole::Agent).await;
    }
    storage
        .create_campaign(&CampaignInput::new("Ventas", CampaignKind::Dialer))
        .await
        .unwrap();
    let day = dir.0.join("recordings/2026-12-01");
    let (a_wav, b_wav) = (wav(1, 200_000), wav(2, 5_000));
    std::fs::write(day.join("a.wav"), &a_wav).unwrap();
    std::fs::write(day.join("b.wav"), &b_wav).unwrap();
    std::fs::create_dir_all(dir.0.join("elsewhere")).unwrap();
    std::fs::write(dir.0.join("elsewhere/e.wav"), wav(5, 10)).unwrap();
    let tags = ["cliente enfadado", "pide baja; urgente"];
    let a = recorded_call(
        &storage,
        "1001",
        Some("Ventas"),
        "+34600111222",
        T0,
        &day.join("a.wav"),
        Some(65_400),
        &tags,
        Some("Venta"),
    )
    .await;
    let b = recorded_call(
        &storage,
        "1002",
        Some("Ventas"),
        "+34600333444",
        T0 + HOUR,
        &day.join("b.wav"),
        Some(9_000),
        &["ok"],
        None,
    )
    .await;
    let c = recorded_call(
        &storage,
        "1001",
        Some("Ventas"),
        "+34600555666",
        T0 + 2 * HOUR,
        &day.join("gone.wav"),
        Some(1_000),
        &[],
        None,
    )
    .await;
    let d = recorded_call(
        &storage,
        "1001",
        None,
        "+34600777888",
        T0 + 3 * HOUR,
        &day.join("d.wav"),
        None,
        &[],
        None,
    )
    .await;
    let e = recorded_call(
        &storage,
        "1002",
        None,
        "+34600999000",
        T0 + 4 * HOUR,
        &dir.0.join("elsewhere/e.wav"),
        Some(1_000),
        &[],
        None,
    )
    .await;

    let (names, rows) = export(&app, &token, "tz=Europe/Madrid").await;
    let a_name = format!("20261201-093000_1001_{a}.wav");
    let b_name = format!("20261201-103000_1002_{b}.wav");
    assert_eq!(
        names,
        vec![b_name.clone(), a_name.clone(), "index.csv".to_string()]
    );
    let (_, body, _) = get(&app, "/api/recordings/export?tz=Europe/Madrid", &token).await;
    let entries = unzip(&body);
    assert_eq!(entries[0].1, b_wav, "B byte for byte");
    assert_eq!(entries[1].1, a_wav, "A byte for byte");
    assert_eq!(
        rows[0],
        vec![
            "recording_id",
            "call_id",
            "file",
            "started_at",
            "duration_s",
            "agent",
            "campaign",
            "caller",
            "callee",
            "disposition",
            "tags",
            "note"
        ]
    );
    // Newest first, like the search screen; every recording is listed.
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        ids,
        vec![e.as_str(), d.as_str(), c.as_str(), b.as_str(), a.as_str()]
    );
    let row_a = &rows[5];
    assert_eq!(
        row_a[2..],
        [
            a_name.as_str(),
            "2026-12-01 09:30:00",
            "65",
            "1001",
            "Ventas",
            "1001",
            "+34600111222",
            "Venta",
            "cliente enfadado; pide baja; urgente",
            ""
        ]
    );
    let notes: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[2].as_str(), r[11].as_str()))
        .collect();
    assert_eq!(
        notes,
        vec![
            ("", "audio file missing"), // outside the recordings folder: never served
            ("", "still recording"),
            ("", "audio file missing"),
            (b_name.as_str(), ""),
            (a_name.as_str(), ""),
        ]
    );

    // The filters of the search screen.
    let one_ms = format!("from={}&to={}", T0 + HOUR, T0 + HOUR + 1);
    for (query, want) in [
        ("tag=ENFADADO", vec![a.as_str()]),
        ("agent=1002", vec![e.as_str(), b.as_str()]),
        ("number=333444", vec![b.as_str()]),
        ("disposition=venta", vec![a.as_str()]),
        ("campaign=Ventas&agent=1001", vec![c.as_str(), a.as_str()]),
        (
            "from=2026-12-01T10:00&to=2026-12-01T11:00&tz=Europe/Madrid",
            vec![b.as_str()],
        ),
        (one_ms.as_str(), vec![b.as_str()]),
        ("from=2026-12-02", vec![]),
    ] {
        let (_, rows) = export(&app, &token, query).await;
        let ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(ids, want, "{query}");
    }
}

#[tokio::test]
async fn exports_above_the_limit_and_agents_are_refused_with_json() {
    let dir = DataDir::new();
    let (app, storage, token) = app_in(&dir.0, AgentRole::Admin).await;
    let agent_token = session(&storage, "1001", AgentRole::Agent).await;
    let day = dir.0.join("recordings/2026-12-01");
    let first = recorded_call(
        &storage,
        "1001",
        None,
        "+34600000000",
        T0,
        &day.join("x.wav"),
        Some(1_000),
        &[],
        None,
    )
    .await;
    let call_id = storage
        .get_recording(&first)
        .await
        .unwrap()
        .unwrap()
        .call_id;
    // One call recorded in MAX + 1 segments, a millisecond apart.
    for i in 1..=MAX_EXPORT_RECORDINGS as i64 {
        storage
            .insert_recording(&NewRecording {
                call_id: call_id.clone(),
                path: day.join(format!("x{i}.wav")).to_string_lossy().into_owned(),
                started_at: T0 + i,
                agent_id: None,
                campaign_id: None,
            })
            .await
            .unwrap();
    }
    let (st, body, ct) = get(&app, "/api/recordings/export?agent=1001", &token).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(ct.starts_with("application/json"), "{ct}");
    let v = json(&body);
    assert_eq!(v["limit"], MAX_EXPORT_RECORDINGS, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("more than 500 recordings"),
        "{v}"
    );
    // Exactly the limit is fine.
    let (_, rows) = export(
        &app,
        &token,
        &format!("to={}", T0 + MAX_EXPORT_RECORDINGS as i64),
    )
    .await;
    assert_eq!(rows.len(), 1 + MAX_EXPORT_RECORDINGS);

    for (tok, uri, status, want) in [
        (
            &agent_token,
            "/api/recordings/export",
            StatusCode::FORBIDDEN,
            "supervisors only",
        ),
        (
            &token,
            "/api/recordings/export?tz=Mars/Olympus",
            StatusCode::BAD_REQUEST,
            "unknown time zone",
        ),
        (
            &token,
            "/api/recordings/export?agent=nobody",
            StatusCode::NOT_FOUND,
            "unknown agent nobody",
        ),
        (
            &token,
            "/api/recordings/export?from=soon",
            StatusCode::BAD_REQUEST,
            "time \"soon\"",
        ),
    ] {
        let (st, body, _) = get(&app, uri, tok).await;
        assert_eq!(st, status, "{uri}");
        let v = json(&body);
        assert!(v["error"].as_str().unwrap().contains(want), "{uri}: {v}");
    }
}
