//! Data survives a restart (file SQLite; PostgreSQL when configured), and
//! claiming works across separate pools on one file.

use std::collections::HashSet;
use std::path::PathBuf;

use super::*;

/// A unique directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("switchboard-storage-{tag}-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn db_url(&self) -> String {
        format!("sqlite://{}", self.0.join("switchboard.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a little of everything, closes, reopens and checks it is there.
async fn write_close_reopen(url: &str) {
    let db = Storage::connect(url).await.unwrap();
    let a = mk_agent(&db, "persist").await;
    let camp = mk_campaign(&db, "P", CampaignKind::Dialer).await;
    let report = db
        .import_contacts_csv("pl", Some(&camp.id), "phone,name\n+33123456789,Pat\n")
        .await
        .unwrap();
    assert_eq!(report.imported, 1);
    let call = mk_call(&db, Some(&a), Some(&camp), "1", "2", 10).await;
    db.add_event(
        &call.id,
        11,
        event_kind::ANSWERED,
        None,
        serde_json::Value::Null,
    )
    .await
    .unwrap();
    let g = db
        .add_agenda(&NewAgenda {
            kind: AgendaKind::Global,
            agent_id: a.id.clone(),
            contact_id: None,
            campaign_id: None,
            phone: "+3399".into(),
            scheduled_at: 5,
            tz: "UTC".into(),
            reason: String::new(),
            origin_call_id: None,
        })
        .await
        .unwrap();
    assert_eq!(db.claim_due_global(100, 10).await.unwrap().len(), 1);
    db.close().await;
    drop(db);

    // Reopen: migrations are not re-applied destructively and data is there.
    let db = Storage::connect(url).await.unwrap();
    assert_eq!(
        db.get_agent_by_username("persist").await.unwrap().unwrap(),
        a
    );
    assert_eq!(db.get_campaign(&camp.id).await.unwrap().unwrap(), camp);
    assert_eq!(db.list_contact_lists().await.unwrap()[0].contact_count, 1);
    assert_eq!(db.get_call(&call.id).await.unwrap().unwrap(), call);
    assert_eq!(db.list_events(&call.id).await.unwrap().len(), 1);
    // A claimed entry stays claimed after a restart.
    assert_eq!(
        db.get_agenda(&g.id).await.unwrap().unwrap().status,
        AgendaStatus::Fired
    );
    assert!(db.claim_due_global(100, 10).await.unwrap().is_empty());
    db.close().await;
}

#[tokio::test]
async fn sqlite_file_persists_across_reopen() {
    let dir = TempDir::new("reopen");
    write_close_reopen(&dir.db_url()).await;
    assert!(dir.0.join("switchboard.db").exists());

    let db = Storage::connect(&dir.db_url()).await.unwrap();
    assert!(!db.is_postgres());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    db.close().await;
}

#[tokio::test]
async fn postgres_persists_across_reconnect() {
    let Some(url) = pg_url() else {
        eprintln!("SWITCHBOARD_TEST_POSTGRES_URL not set: PostgreSQL reconnect test skipped");
        return;
    };
    let schema = PgSchema::create(&url).await;
    write_close_reopen(&schema.storage_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_from_two_pools_on_one_file() {
    let dir = TempDir::new("claim");
    let one = Storage::connect(&dir.db_url()).await.unwrap();
    let two = Storage::connect(&dir.db_url()).await.unwrap();
    let a = mk_agent(&one, "two-pools").await;
    let mut all = HashSet::new();
    for i in 0..30 {
        let e = one
            .add_agenda(&NewAgenda {
                kind: AgendaKind::Global,
                agent_id: a.id.clone(),
                contact_id: None,
                campaign_id: None,
                phone: "+3399".into(),
                scheduled_at: i,
                tz: "UTC".into(),
                reason: String::new(),
                origin_call_id: None,
            })
            .await
            .unwrap();
        all.insert(e.id);
    }
    let claimer = |s: Storage| async move {
        let mut got = Vec::new();
        loop {
            let batch = s.claim_due_global(1_000, 2).await.unwrap();
            if batch.is_empty() {
                break got;
            }
            got.extend(batch.into_iter().map(|e| e.id));
        }
    };
    let (r1, r2) = tokio::join!(
        tokio::spawn(claimer(one.clone())),
        tokio::spawn(claimer(two.clone()))
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1.len() + r2.len(), 30);
    let union: HashSet<String> = r1.into_iter().chain(r2).collect();
    assert_eq!(union, all);
    one.close().await;
    two.close().await;
}

/// A batch writer on a SQLite file groups writes in one transaction: they
/// are invisible to the other pool until committed, all visible after; a
/// failing write inside the batch does not take the others with it.
#[tokio::test]
async fn batch_writer_groups_writes_in_one_transaction() {
    let dir = TempDir::new("batch");
    let url = dir.db_url();
    let db = Storage::connect(&url).await.unwrap();
    let w = db.batch_writer(&url).await.unwrap();
    let a = mk_agent(&db, "batcher").await;
    w.begin_batch().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..50 {
        let c = mk_call(&w, Some(&a), None, "1001", &format!("55{i}"), i).await;
        ids.push(c.id);
    }
    // A write that fails (unknown call) inside the batch.
    assert!(w.update_call_answered("no-such-call", 5).await.is_err());
    assert!(
        db.get_call(&ids[0]).await.unwrap().is_none(),
        "not visible before the commit"
    );
    w.commit_batch().await.unwrap();
    for id in &ids {
        assert!(db.get_call(id).await.unwrap().is_some(), "{id} committed");
    }
    // Reopened from scratch, the batch is there.
    drop((w, db));
    let db = Storage::connect(&url).await.unwrap();
    assert!(db.get_call(&ids[49]).await.unwrap().is_some());
}

/// The bulk event path keeps every event of several calls in order, and an
/// event naming an unknown call costs only itself.
#[tokio::test]
async fn bulk_events_keep_order_and_survive_a_bad_row() {
    let db = test_db().await;
    let a = mk_call(&db, None, None, "1", "2", 1).await;
    let b = mk_call(&db, None, None, "3", "4", 1).await;
    let mut evs = Vec::new();
    for i in 0..230 {
        let call = if i % 2 == 0 { &a.id } else { &b.id };
        evs.push((
            call.clone(),
            i,
            format!("K{i}"),
            None,
            serde_json::json!({"n": i}),
        ));
    }
    evs.insert(
        150,
        (
            "no-such-call".into(),
            5,
            "BAD".into(),
            None,
            serde_json::Value::Null,
        ),
    );
    assert!(
        db.add_events(&evs).await.is_err(),
        "the bad row is reported"
    );
    let got_a = db.list_events(&a.id).await.unwrap();
    let got_b = db.list_events(&b.id).await.unwrap();
    assert_eq!(got_a.len() + got_b.len(), 230, "every good event kept");
    let kinds: Vec<_> = got_a.iter().map(|e| e.kind.clone()).collect();
    let want: Vec<_> = (0..230).step_by(2).map(|i| format!("K{i}")).collect();
    assert_eq!(kinds, want, "in order");
}
