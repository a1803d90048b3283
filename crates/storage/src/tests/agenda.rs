//! Agenda (callbacks): listing, reminders, done/cancel, and claiming due
//! global entries exactly once.

use std::collections::HashSet;

use super::*;

fn entry(agent: &AgentRow, kind: AgendaKind, at: i64) -> NewAgenda {
    NewAgenda {
        kind,
        agent_id: agent.id.clone(),
        contact_id: None,
        campaign_id: None,
        phone: "+33612345678".into(),
        scheduled_at: at,
        tz: "Europe/Paris".into(),
        reason: format!("at {at}"),
        origin_call_id: None,
    }
}

#[tokio::test]
async fn agenda_lifecycle() {
    let db = test_db().await;
    let a = mk_agent(&db, "g1").await;
    let other = mk_agent(&db, "g2").await;
    let p1 = db
        .add_agenda(&entry(&a, AgendaKind::Personal, 10_000))
        .await
        .unwrap();
    let p2 = db
        .add_agenda(&entry(&a, AgendaKind::Personal, 50_000))
        .await
        .unwrap();
    let g1 = db
        .add_agenda(&entry(&a, AgendaKind::Global, 20_000))
        .await
        .unwrap();
    db.add_agenda(&entry(&other, AgendaKind::Personal, 10_000))
        .await
        .unwrap();
    assert_eq!(p1.status, AgendaStatus::Pending);
    assert_eq!(p1.tz, "Europe/Paris");
    assert_eq!(db.get_agenda(&p1.id).await.unwrap().unwrap(), p1);
    assert!(db.get_agenda("nope").await.unwrap().is_none());

    let mut bad = entry(&a, AgendaKind::Personal, 1);
    bad.phone = "call me".into();
    assert!(matches!(
        db.add_agenda(&bad).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
    let mut no_tz = entry(&a, AgendaKind::Personal, 1);
    no_tz.tz = String::new();
    let nt = db.add_agenda(&no_tz).await.unwrap();
    assert_eq!(nt.tz, "UTC");
    db.cancel_agenda(&nt.id).await.unwrap();

    let mine = db.list_agenda_for_agent(&a.id, false).await.unwrap();
    assert_eq!(
        mine.iter().map(|e| e.scheduled_at).collect::<Vec<_>>(),
        vec![10_000, 20_000, 50_000]
    );
    assert_eq!(
        db.list_agenda_for_agent(&a.id, true).await.unwrap().len(),
        4
    );

    // Reminders: pending personal entries due within the window (overdue included).
    let soon = db.upcoming_personal(&a.id, 5_000, 6_000).await.unwrap();
    assert_eq!(soon, vec![p1.clone()]);
    assert_eq!(
        db.upcoming_personal(&a.id, 60_000, 0).await.unwrap().len(),
        2
    );
    assert!(db.mark_agenda_fired(&p1.id, 10_000).await.unwrap());
    assert!(!db.mark_agenda_fired(&p1.id, 10_001).await.unwrap());
    assert!(matches!(
        db.mark_agenda_fired("nope", 1).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    assert_eq!(
        db.upcoming_personal(&a.id, 60_000, 0).await.unwrap(),
        vec![p2.clone()]
    );

    // Global due list.
    assert!(db.list_pending_global_due(19_999).await.unwrap().is_empty());
    assert_eq!(
        db.list_pending_global_due(20_000).await.unwrap(),
        vec![g1.clone()]
    );

    // Done / cancel transitions.
    let call = mk_call(&db, Some(&a), None, "g1", "+33612345678", 10_500).await;
    db.mark_agenda_done(&p1.id, Some(&call.id)).await.unwrap();
    let done = db.get_agenda(&p1.id).await.unwrap().unwrap();
    assert_eq!(done.status, AgendaStatus::Done);
    assert_eq!(done.fired_at, Some(10_000));
    assert_eq!(done.call_id.as_deref(), Some(call.id.as_str()));
    assert!(matches!(
        db.cancel_agenda(&p1.id).await.unwrap_err(),
        StorageError::Conflict(_)
    ));
    assert!(matches!(
        db.mark_agenda_done(&p1.id, None).await.unwrap_err(),
        StorageError::Conflict(_)
    ));
    db.cancel_agenda(&p2.id).await.unwrap();
    assert_eq!(
        db.get_agenda(&p2.id).await.unwrap().unwrap().status,
        AgendaStatus::Cancelled
    );
    assert!(matches!(
        db.cancel_agenda("nope").await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    assert!(matches!(
        db.mark_agenda_done("nope", None).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    assert_eq!(
        db.list_agenda_for_agent(&a.id, false).await.unwrap(),
        vec![g1]
    );
}

#[tokio::test]
async fn claim_due_global_never_twice() {
    let db = test_db().await;
    let a = mk_agent(&db, "cl").await;
    let e1 = db
        .add_agenda(&entry(&a, AgendaKind::Global, 1_000))
        .await
        .unwrap();
    let e2 = db
        .add_agenda(&entry(&a, AgendaKind::Global, 2_000))
        .await
        .unwrap();
    let later = db
        .add_agenda(&entry(&a, AgendaKind::Global, 9_000))
        .await
        .unwrap();
    db.add_agenda(&entry(&a, AgendaKind::Personal, 500))
        .await
        .unwrap();
    let cancelled = db
        .add_agenda(&entry(&a, AgendaKind::Global, 500))
        .await
        .unwrap();
    db.cancel_agenda(&cancelled.id).await.unwrap();

    let first = db.claim_due_global(5_000, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, e1.id);
    assert_eq!(first[0].status, AgendaStatus::Fired);
    assert_eq!(first[0].fired_at, Some(5_000));
    let second = db.claim_due_global(5_000, 10).await.unwrap();
    assert_eq!(
        second.iter().map(|e| &e.id).collect::<Vec<_>>(),
        vec![&e2.id]
    );
    assert!(db.claim_due_global(5_000, 10).await.unwrap().is_empty());
    assert!(db.list_pending_global_due(5_000).await.unwrap().is_empty());
    let third = db.claim_due_global(9_000, 10).await.unwrap();
    assert_eq!(
        third.iter().map(|e| &e.id).collect::<Vec<_>>(),
        vec![&later.id]
    );
    assert!(db.claim_due_global(i64::MAX, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_due_global_concurrent_claimers() {
    let db = test_db().await;
    let a = mk_agent(&db, "cc").await;
    let mut all = HashSet::new();
    for i in 0..40 {
        all.insert(
            db.add_agenda(&entry(&a, AgendaKind::Global, i))
                .await
                .unwrap()
                .id,
        );
    }
    let claimer = |s: Storage| async move {
        let mut got = Vec::new();
        loop {
            let batch = s.claim_due_global(1_000, 3).await.unwrap();
            if batch.is_empty() {
                break got;
            }
            got.extend(batch.into_iter().map(|e| e.id));
            tokio::task::yield_now().await;
        }
    };
    let t1 = tokio::spawn(claimer(db.handle()));
    let t2 = tokio::spawn(claimer(db.handle()));
    let (r1, r2) = (t1.await.unwrap(), t2.await.unwrap());
    assert_eq!(r1.len() + r2.len(), 40, "every entry claimed exactly once");
    let union: HashSet<String> = r1.into_iter().chain(r2).collect();
    assert_eq!(union, all);
}

/// A global callback due outside its calling hours goes back to pending at
/// the next window, and is claimed then (not before).
#[tokio::test]
async fn rescheduled_callback_waits_for_its_new_time() {
    let db = test_db().await;
    let a = mk_agent(&db, "r1").await;
    let e = db
        .add_agenda(&entry(&a, AgendaKind::Global, 1_000))
        .await
        .unwrap();
    assert_eq!(db.claim_due_global(1_000, 10).await.unwrap().len(), 1);
    db.reschedule_agenda(&e.id, 50_000).await.unwrap();
    let row = db.get_agenda(&e.id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.scheduled_at, row.fired_at),
        (AgendaStatus::Pending, 50_000, None)
    );
    assert!(db.claim_due_global(49_999, 10).await.unwrap().is_empty());
    assert_eq!(db.claim_due_global(50_000, 10).await.unwrap().len(), 1);
    db.cancel_agenda(&e.id).await.unwrap();
    assert!(matches!(
        db.reschedule_agenda(&e.id, 60_000).await,
        Err(StorageError::NotFound(_))
    ));
}
