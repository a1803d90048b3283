//! Startup recovery queries: open recordings, the last activity, closing
//! interrupted calls and agent states, settling claimed callbacks.

use super::*;
use crate::recovery::{END_INTERRUPTED, RESTART_REASON};

fn rec(call: &CallRow, at: i64) -> NewRecording {
    NewRecording {
        call_id: call.id.clone(),
        path: format!("/rec/{}-{at}.wav", call.id),
        started_at: at,
        agent_id: None,
        campaign_id: None,
    }
}

#[tokio::test]
async fn open_recordings_are_listed_and_closed_once() {
    let db = test_db().await;
    let call = mk_call(&db, None, None, "555", "5000", 1_000).await;
    let done = db.insert_recording(&rec(&call, 1_000)).await.unwrap();
    db.finish_recording(&done.id, 2_000, None).await.unwrap();
    let open = db.insert_recording(&rec(&call, 3_000)).await.unwrap();
    let list = db.open_recordings().await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        (
            list[0].id.as_str(),
            list[0].call_id.as_str(),
            list[0].started_at
        ),
        (open.id.as_str(), call.id.as_str(), 3_000)
    );
    assert_eq!(list[0].path, open.path);
    assert!(db
        .close_open_recording(&open.id, 7_000, 3_950)
        .await
        .unwrap());
    let r = db.get_recording(&open.id).await.unwrap().unwrap();
    assert_eq!((r.ended_at, r.duration_ms), (Some(7_000), Some(3_950)));
    // Closed rows are never touched again.
    assert!(!db.close_open_recording(&open.id, 9_000, 1).await.unwrap());
    assert!(!db.close_open_recording(&done.id, 9_000, 1).await.unwrap());
    assert_eq!(
        db.get_recording(&done.id)
            .await
            .unwrap()
            .unwrap()
            .duration_ms,
        Some(1_000)
    );
    assert!(db.open_recordings().await.unwrap().is_empty());
}

#[tokio::test]
async fn last_activity_is_the_latest_write_of_open_work() {
    let db = test_db().await;
    assert_eq!(db.last_activity().await.unwrap(), None, "empty database");
    let a = mk_agent(&db, "la1").await;
    let old = mk_call(&db, Some(&a), None, "1", "2", 1_000).await;
    db.finish_call(&old.id, 90_000, "ended").await.unwrap();
    // Events of ended calls do not count (their call says when it ended).
    db.add_event(&old.id, 95_000, "HANGUP", None, serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(db.last_activity().await.unwrap(), Some(1_000));
    let open = mk_call(&db, Some(&a), None, "3", "4", 10_000).await;
    db.update_call_answered(&open.id, 12_000).await.unwrap();
    assert_eq!(db.last_activity().await.unwrap(), Some(12_000));
    db.add_event(&open.id, 20_000, "HOLD", None, serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(db.last_activity().await.unwrap(), Some(20_000));
    db.insert_recording(&rec(&open, 25_000)).await.unwrap();
    assert_eq!(db.last_activity().await.unwrap(), Some(25_000));
    db.add_agent_state(&a.id, "ready", None, 30_000)
        .await
        .unwrap();
    assert_eq!(db.last_activity().await.unwrap(), Some(30_000));
}

#[tokio::test]
async fn open_calls_end_interrupted_and_agents_go_offline() {
    let db = test_db().await;
    let on_call = mk_agent(&db, "ic1").await;
    let offline = mk_agent(&db, "ic2").await;
    let never = mk_agent(&db, "ic3").await;
    let paused = mk_agent(&db, "ic4").await;
    let ended = mk_call(&db, Some(&on_call), None, "1", "2", 1_000).await;
    db.finish_call(&ended.id, 5_000, "ended").await.unwrap();
    let talking = mk_call(&db, Some(&on_call), None, "3", "4", 10_000).await;
    db.update_call_answered(&talking.id, 11_000).await.unwrap();
    let ringing = mk_call(&db, None, None, "5", "6", 40_000).await;
    // This call's own log goes past the estimate given: it ends there instead.
    let late = mk_call(&db, None, None, "7", "8", 20_000).await;
    db.add_event(&late.id, 60_000, "DTMF", None, serde_json::json!({}))
        .await
        .unwrap();
    db.add_agent_state(&on_call.id, "on_call", None, 11_000)
        .await
        .unwrap();
    db.add_agent_state(&offline.id, "ready", None, 2_000)
        .await
        .unwrap();
    db.add_agent_state(&offline.id, "offline", None, 3_000)
        .await
        .unwrap();
    db.add_agent_state(&paused.id, "paused", Some("Lunch"), 70_000)
        .await
        .unwrap();

    let got = db.close_interrupted(50_000).await.unwrap();
    let mut calls = got.calls.clone();
    calls.sort();
    let mut want = vec![talking.id.clone(), ringing.id.clone(), late.id.clone()];
    want.sort();
    assert_eq!(calls, want);
    let mut agents = got.agents.clone();
    agents.sort();
    let mut want = vec![on_call.id.clone(), paused.id.clone()];
    want.sort();
    assert_eq!(agents, want, "only agents not already offline");

    for (id, end) in [
        (&talking.id, 50_000),
        (&ringing.id, 50_000),
        (&late.id, 60_000),
    ] {
        let c = db.get_call(id).await.unwrap().unwrap();
        assert_eq!(c.ended_at, Some(end), "{c:?}");
        assert_eq!(c.end_reason.as_deref(), Some(END_INTERRUPTED));
        assert_eq!(c.status, "ended");
        let log = db.list_events(id).await.unwrap();
        let last = log.last().unwrap();
        assert_eq!((last.kind.as_str(), last.at), ("INTERRUPTED", end));
        assert_eq!(last.actor.as_deref(), Some("system"));
    }
    assert_eq!(
        db.get_call(&talking.id).await.unwrap().unwrap().answered_at,
        Some(11_000),
        "the answer is kept: talk time runs to the interruption"
    );
    let c = db.get_call(&ended.id).await.unwrap().unwrap();
    assert_eq!(
        (c.ended_at, c.end_reason.as_deref()),
        (Some(5_000), Some("ended"))
    );

    let s = db
        .last_agent_state(&on_call.id, i64::MAX)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (s.state.as_str(), s.reason.as_deref(), s.at),
        ("offline", Some(RESTART_REASON), 50_000)
    );
    // A state logged after the estimate: offline from then on, never before it.
    let s = db
        .last_agent_state(&paused.id, i64::MAX)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((s.state.as_str(), s.at), ("offline", 70_000));
    assert!(db
        .last_agent_state(&never.id, i64::MAX)
        .await
        .unwrap()
        .is_none());
    let s = db
        .last_agent_state(&offline.id, i64::MAX)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (s.at, s.reason),
        (3_000, None),
        "already offline: untouched"
    );

    // Idempotent: nothing is left open.
    let again = db.close_interrupted(80_000).await.unwrap();
    assert!(
        again.calls.is_empty() && again.agents.is_empty(),
        "{again:?}"
    );
    assert_eq!(db.list_events(&talking.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn claimed_callbacks_are_neither_lost_nor_fired_twice() {
    let db = test_db().await;
    let a = mk_agent(&db, "cb1").await;
    let camp = mk_campaign(&db, "Callbacks", CampaignKind::Dialer).await;
    let global = |phone: &str, at: i64| NewAgenda {
        kind: AgendaKind::Global,
        agent_id: a.id.clone(),
        contact_id: None,
        campaign_id: Some(camp.id.clone()),
        phone: phone.into(),
        scheduled_at: at,
        tz: "UTC".into(),
        reason: String::new(),
        origin_call_id: None,
    };
    let placed = db.add_agenda(&global("+34600000001", 1_000)).await.unwrap();
    let lost = db.add_agenda(&global("+34600000002", 1_000)).await.unwrap();
    let finished = db.add_agenda(&global("+34600000003", 1_000)).await.unwrap();
    let later = db
        .add_agenda(&global("+34600000004", 99_000))
        .await
        .unwrap();
    // The scheduler claimed three at 5 s; the server died after placing the
    // first one's call (its CDR was written) but before marking it done.
    let claimed = db.claim_due_global(5_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let call = mk_call(&db, None, Some(&camp), "Callbacks", "+34600000001", 5_010).await;
    // An older call to the second number does not count: it was before the claim.
    mk_call(&db, None, Some(&camp), "Callbacks", "+34600000002", 4_000).await;
    db.mark_agenda_done(&finished.id, None).await.unwrap();

    let got = db.recover_claimed_callbacks().await.unwrap();
    assert_eq!(got.placed, vec![placed.id.clone()]);
    assert_eq!(got.requeued, vec![lost.id.clone()]);
    let p = db.get_agenda(&placed.id).await.unwrap().unwrap();
    assert_eq!(
        (p.status, p.call_id.as_deref()),
        (AgendaStatus::Done, Some(call.id.as_str()))
    );
    let l = db.get_agenda(&lost.id).await.unwrap().unwrap();
    assert_eq!((l.status, l.fired_at), (AgendaStatus::Pending, None));
    assert_eq!(
        db.get_agenda(&finished.id).await.unwrap().unwrap().status,
        AgendaStatus::Done
    );
    assert_eq!(
        db.get_agenda(&later.id).await.unwrap().unwrap().status,
        AgendaStatus::Pending
    );
    // The requeued entry is due at once and claimed exactly once more; the placed one never again.
    let next = db.claim_due_global(6_000, 10).await.unwrap();
    assert_eq!(
        next.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        vec![lost.id.clone()]
    );
    assert!(db.claim_due_global(7_000, 10).await.unwrap().is_empty());
    // Nothing left to settle once the claims are outstanding again... until settled.
    let again = db.recover_claimed_callbacks().await.unwrap();
    assert_eq!(
        again.requeued,
        vec![lost.id.clone()],
        "claimed again, still not placed"
    );
    assert!(again.placed.is_empty());
}

/// The durability levels the README states: WAL; `synchronous = FULL` (2)
/// on the ordinary handle, `NORMAL` (1) on the storage writer's.
#[tokio::test]
async fn sqlite_files_use_wal_with_the_stated_synchronous_levels() {
    use sqlx::Row;
    let dir = std::env::temp_dir().join(format!("switchboard-sync-{}", new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("sync.db").display());
    let db = Storage::connect(&url).await.unwrap();
    let writer = db.batch_writer(&url).await.unwrap();
    let pragma = |s: &Storage, p: &'static str| {
        let pool = s.pool().clone();
        async move {
            let row = sqlx::query(p).fetch_one(&pool).await.unwrap();
            let v: String = match row.try_get::<i64, _>(0) {
                Ok(n) => n.to_string(),
                Err(_) => row.get::<String, _>(0),
            };
            v
        }
    };
    assert_eq!(pragma(&db, "PRAGMA journal_mode").await, "wal");
    assert_eq!(pragma(&db, "PRAGMA synchronous").await, "2", "FULL");
    assert_eq!(pragma(&writer, "PRAGMA synchronous").await, "1", "NORMAL");
    writer.close().await;
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
