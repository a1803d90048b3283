//! Calls (CDR), call events, dispositions and the agent state log.

use super::*;

#[tokio::test]
async fn call_lifecycle_and_listing() {
    let db = test_db().await;
    let a = mk_agent(&db, "c1").await;
    let b = mk_agent(&db, "c2").await;
    let camp = mk_campaign(&db, "In", CampaignKind::Inbound).await;

    let call = db
        .insert_call(&NewCall {
            id: Some("call-1".into()),
            direction: CallDirection::Inbound,
            campaign_id: Some(camp.id.clone()),
            contact_id: None,
            caller: "+33611111111".into(),
            callee: "+3312345678".into(),
            agent_id: None,
            started_at: 10_000,
        })
        .await
        .unwrap();
    assert_eq!(call.id, "call-1");
    assert_eq!(call.status, "ringing");
    assert_eq!(db.get_call("call-1").await.unwrap().unwrap(), call);
    assert!(db.get_call("nope").await.unwrap().is_none());
    let dup = NewCall {
        id: Some("call-1".into()),
        direction: CallDirection::Internal,
        campaign_id: None,
        contact_id: None,
        caller: "1".into(),
        callee: "2".into(),
        agent_id: None,
        started_at: 1,
    };
    assert!(matches!(
        db.insert_call(&dup).await.unwrap_err(),
        StorageError::Conflict(_)
    ));

    db.set_call_status("call-1", "queued").await.unwrap();
    assert_eq!(
        db.get_call("call-1").await.unwrap().unwrap().status,
        "queued"
    );
    db.update_call_agent("call-1", Some(&a.id)).await.unwrap();
    db.update_call_answered("call-1", 12_000).await.unwrap();
    assert!(matches!(
        db.update_call_answered("call-1", 13_000).await.unwrap_err(),
        StorageError::Conflict(_)
    ));
    db.update_call_agent("call-1", Some(&b.id)).await.unwrap();
    db.finish_call("call-1", 20_000, "caller_hangup")
        .await
        .unwrap();
    assert!(matches!(
        db.finish_call("call-1", 21_000, "again").await.unwrap_err(),
        StorageError::Conflict(_)
    ));
    assert!(matches!(
        db.set_call_status("call-1", "x").await.unwrap_err(),
        StorageError::Conflict(_)
    ));
    let done = db.get_call("call-1").await.unwrap().unwrap();
    assert_eq!(done.agent_id.as_deref(), Some(b.id.as_str()));
    assert_eq!(done.answered_at, Some(12_000));
    assert_eq!(done.ended_at, Some(20_000));
    assert_eq!(done.end_reason.as_deref(), Some("caller_hangup"));
    assert_eq!(done.status, "ended");
    let json = serde_json::to_value(&done).unwrap();
    assert_eq!(json["direction"], "inbound");

    for (f, err) in [
        (db.update_call_answered("nope", 1).await, "answer"),
        (db.finish_call("nope", 1, "x").await, "finish"),
        (db.update_call_agent("nope", None).await, "agent"),
        (db.set_call_status("nope", "x").await, "status"),
    ] {
        assert!(matches!(f, Err(StorageError::NotFound(_))), "{err}");
    }
    // Unknown agent reference.
    assert!(matches!(
        db.update_call_agent("call-1", Some("ghost"))
            .await
            .unwrap_err(),
        StorageError::Conflict(_)
    ));

    mk_call(&db, Some(&a), None, "c1", "c2", 30_000).await;
    mk_call(&db, Some(&a), Some(&camp), "x", "y", 40_000).await;
    mk_call(&db, None, None, "x", "y", 50_000).await;
    let all = db.list_calls(&CallQuery::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.started_at).collect::<Vec<_>>(),
        vec![50_000, 40_000, 30_000, 10_000]
    );
    let by_agent = db
        .list_calls(&CallQuery {
            agent_id: Some(a.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_agent.len(), 2);
    let by_campaign = db
        .list_calls(&CallQuery {
            campaign_id: Some(camp.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_campaign.len(), 2);
    let window = db
        .list_calls(&CallQuery {
            from: Some(30_000),
            to: Some(50_000),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].started_at, 40_000);
}

#[tokio::test]
async fn events_keep_insertion_order() {
    let db = test_db().await;
    let call = mk_call(&db, None, None, "a", "b", 0).await;
    db.add_event(
        &call.id,
        200,
        event_kind::HANGUP,
        Some("customer"),
        serde_json::Value::Null,
    )
    .await
    .unwrap();
    for kind in [
        event_kind::RINGING,
        event_kind::ANSWERED,
        event_kind::HOLD,
        event_kind::UNHOLD,
    ] {
        db.add_event(
            &call.id,
            100,
            kind,
            Some("system"),
            serde_json::json!({"k": kind}),
        )
        .await
        .unwrap();
    }
    let ev = db.list_events(&call.id).await.unwrap();
    let kinds: Vec<_> = ev.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["RINGING", "ANSWERED", "HOLD", "UNHOLD", "HANGUP"]
    );
    assert_eq!(ev[0].detail, serde_json::json!({"k": "RINGING"}));
    assert_eq!(ev[4].detail, serde_json::json!({}));
    assert_eq!(ev[4].actor.as_deref(), Some("customer"));
    assert!(ev.windows(2).take(3).all(|w| w[0].seq < w[1].seq));
    assert!(db.list_events("nope").await.unwrap().is_empty());
    assert!(matches!(
        db.add_event("nope", 1, "X", None, serde_json::Value::Null)
            .await
            .unwrap_err(),
        StorageError::Conflict(_)
    ));
    assert!(matches!(
        db.add_event(&call.id, 1, " ", None, serde_json::Value::Null)
            .await
            .unwrap_err(),
        StorageError::Invalid(_)
    ));
}

#[tokio::test]
async fn one_disposition_per_call() {
    let db = test_db().await;
    let a = mk_agent(&db, "d1").await;
    let camp = mk_campaign(&db, "D", CampaignKind::Inbound).await;
    let call = mk_call(&db, Some(&a), Some(&camp), "1", "2", 0).await;
    assert!(db
        .get_disposition_for_call(&call.id)
        .await
        .unwrap()
        .is_none());
    let nd = NewDisposition {
        call_id: call.id.clone(),
        agent_id: a.id.clone(),
        campaign_id: Some(camp.id.clone()),
        contact_id: None,
        name: " sale ".into(),
        note: "great".into(),
        at: 5,
    };
    let d = db.add_disposition(&nd).await.unwrap();
    assert_eq!(d.name, "sale");
    assert_eq!(
        db.get_disposition_for_call(&call.id)
            .await
            .unwrap()
            .unwrap(),
        d
    );
    let err = db.add_disposition(&nd).await.unwrap_err();
    assert!(
        matches!(err, StorageError::Conflict(ref m) if m.contains("already has")),
        "{err}"
    );
    let mut empty = nd.clone();
    empty.name = "  ".into();
    assert!(matches!(
        db.add_disposition(&empty).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
}

#[tokio::test]
async fn agent_state_log() {
    let db = test_db().await;
    let a = mk_agent(&db, "s1").await;
    db.add_agent_state(&a.id, "available", None, 100)
        .await
        .unwrap();
    let p = db
        .add_agent_state(&a.id, "paused", Some("Lunch"), 200)
        .await
        .unwrap();
    db.add_agent_state(&a.id, "available", None, 200)
        .await
        .unwrap();
    let all = db.list_agent_states(&a.id, 0, 1_000).await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.state.as_str()).collect::<Vec<_>>(),
        vec!["available", "paused", "available"]
    );
    assert_eq!(all[1], p);
    assert_eq!(
        db.list_agent_states(&a.id, 150, 1_000).await.unwrap().len(),
        2
    );
    let last = db.last_agent_state(&a.id, 1_000).await.unwrap().unwrap();
    assert_eq!(last.state, "available");
    assert_eq!(last.at, 200);
    assert_eq!(
        db.last_agent_state(&a.id, 150)
            .await
            .unwrap()
            .unwrap()
            .state,
        "available"
    );
    assert!(db.last_agent_state(&a.id, 100).await.unwrap().is_none());
    assert!(matches!(
        db.add_agent_state(&a.id, "", None, 1).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
    assert_eq!(all[1].changed_by, None);
    // A supervisor's change names the supervisor.
    let by = db
        .add_agent_state_by(&a.id, "paused", Some("Coaching"), Some("9001"), 300)
        .await
        .unwrap();
    let last = db.last_agent_state(&a.id, 1_000).await.unwrap().unwrap();
    assert_eq!(last, by);
    assert_eq!(last.changed_by.as_deref(), Some("9001"));
    assert!(matches!(
        db.add_agent_state_by(&a.id, " ", None, Some("9001"), 1)
            .await
            .unwrap_err(),
        StorageError::Invalid(_)
    ));
}

#[tokio::test]
async fn call_quality_is_stored_per_side_and_read_back() {
    let db = test_db().await;
    db.insert_call(&NewCall {
        id: Some("q-1".into()),
        direction: CallDirection::Inbound,
        campaign_id: None,
        contact_id: None,
        caller: "+33611111111".into(),
        callee: "5000".into(),
        agent_id: None,
        started_at: 1_000,
    })
    .await
    .unwrap();
    let fresh = db.get_call("q-1").await.unwrap().unwrap();
    assert_eq!(fresh.quality, CallQualityRow::default(), "no quality yet");
    let customer = SideQuality {
        packets_received: 1_450,
        packets_lost: 50,
        loss_percent: 3.33,
        jitter_ms: 12.375,
        mos: Some(2.61),
    };
    // The agent's leg never received a packet: no MOS.
    let agent = SideQuality {
        packets_received: 0,
        packets_lost: 0,
        loss_percent: 0.0,
        jitter_ms: 0.0,
        mos: None,
    };
    let q = CallQualityRow {
        customer: Some(customer),
        agent: Some(agent),
    };
    db.set_call_quality("q-1", &q).await.unwrap();
    db.finish_call("q-1", 9_000, "ended").await.unwrap();
    let row = db.get_call("q-1").await.unwrap().unwrap();
    assert_eq!(row.quality, q);
    let listed = db.list_calls(&CallQuery::default()).await.unwrap();
    assert_eq!(listed[0].quality, q);
    // A side given as None leaves the stored one alone.
    let only_agent = CallQualityRow {
        customer: None,
        agent: Some(SideQuality {
            mos: Some(4.4),
            packets_received: 9,
            ..agent
        }),
    };
    db.set_call_quality("q-1", &only_agent).await.unwrap();
    let row = db.get_call("q-1").await.unwrap().unwrap();
    assert_eq!(row.quality.customer, Some(customer));
    assert_eq!(row.quality.agent.unwrap().mos, Some(4.4));
    assert!(matches!(
        db.set_call_quality("nope", &q).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    db.export_calls(&ExportFilter::default(), tx).await;
    let exported = rx.recv().await.unwrap().unwrap();
    assert_eq!(exported.quality.customer, Some(customer));
}
