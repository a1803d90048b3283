//! Agent and campaign reports.

use super::*;

#[tokio::test]
async fn agent_and_campaign_reports() {
    let db = test_db().await;
    let a = mk_agent(&db, "rep").await;
    let b = mk_agent(&db, "other").await;
    let camp = mk_campaign(&db, "R", CampaignKind::Inbound).await;

    // Call 1: answered 1 000..61 000, hold 10 000..15 000 and 20 000..22 000, blind transfer.
    let c1 = mk_call(&db, Some(&a), Some(&camp), "1", "2", 0).await;
    db.update_call_answered(&c1.id, 1_000).await.unwrap();
    for (at, kind) in [
        (10_000, event_kind::HOLD),
        (15_000, event_kind::UNHOLD),
        (20_000, event_kind::HOLD),
        (20_500, event_kind::HOLD), // repeated HOLD does not restart the timer
        (22_000, event_kind::UNHOLD),
        (23_000, event_kind::UNHOLD), // unmatched UNHOLD ignored
        (30_000, event_kind::TRANSFER_BLIND),
    ] {
        db.add_event(&c1.id, at, kind, Some("rep"), serde_json::Value::Null)
            .await
            .unwrap();
    }
    db.finish_call(&c1.id, 61_000, "transferred").await.unwrap();
    // Call 2: answered 100 000..130 000, consult + completed transfer, hold never released.
    let c2 = mk_call(&db, Some(&a), Some(&camp), "1", "2", 100_000).await;
    db.update_call_answered(&c2.id, 100_000).await.unwrap();
    for (at, kind) in [
        (110_000, event_kind::TRANSFER_CONSULT),
        (115_000, event_kind::TRANSFER_CANCELLED),
        (118_000, event_kind::TRANSFER_CONSULT),
        (120_000, event_kind::TRANSFER_COMPLETED),
        (125_000, event_kind::HOLD),
    ] {
        db.add_event(&c2.id, at, kind, Some("rep"), serde_json::Value::Null)
            .await
            .unwrap();
    }
    db.finish_call(&c2.id, 130_000, "agent_hangup")
        .await
        .unwrap();
    // Call 3: never answered.
    let c3 = mk_call(&db, Some(&a), Some(&camp), "1", "2", 200_000).await;
    db.finish_call(&c3.id, 210_000, "abandoned").await.unwrap();
    // Call 4: other agent, same campaign; call 5: outside the window.
    let c4 = mk_call(&db, Some(&b), Some(&camp), "1", "2", 300_000).await;
    db.update_call_answered(&c4.id, 300_000).await.unwrap();
    db.finish_call(&c4.id, 310_000, "x").await.unwrap();
    mk_call(&db, Some(&a), Some(&camp), "1", "2", 2_000_000).await;

    for (call, agent, name, at) in [
        (&c1, &a, "sale", 62_000),
        (&c2, &a, "sale", 131_000),
        (&c3, &a, "no_answer", 211_000),
        (&c4, &b, "sale", 311_000),
    ] {
        db.add_disposition(&NewDisposition {
            call_id: call.id.clone(),
            agent_id: agent.id.clone(),
            campaign_id: Some(camp.id.clone()),
            contact_id: None,
            name: name.into(),
            note: String::new(),
            at,
        })
        .await
        .unwrap();
    }

    db.add_agent_state(&a.id, "available", None, -50_000)
        .await
        .unwrap();
    db.add_agent_state(&a.id, "on_call", None, 0).await.unwrap();
    db.add_agent_state(&a.id, "paused", Some("Lunch"), 400_000)
        .await
        .unwrap();
    db.add_agent_state(&a.id, "available", None, 900_000)
        .await
        .unwrap();

    let r = db.agent_report(&a.id, 0, 1_000_000).await.unwrap();
    assert_eq!(r.stats.calls, 3);
    assert_eq!(r.stats.answered, 2);
    assert_eq!(r.stats.talk_ms, 60_000 + 30_000);
    assert_eq!(r.stats.hold_ms, 5_000 + 2_000 + 5_000);
    assert_eq!(r.stats.transfers, 2);
    assert_eq!(r.stats.dispositions.get("sale"), Some(&2));
    assert_eq!(r.stats.dispositions.get("no_answer"), Some(&1));
    assert_eq!(r.state_ms.get("on_call"), Some(&400_000));
    assert_eq!(r.state_ms.get("paused"), Some(&500_000));
    assert_eq!(r.state_ms.get("available"), Some(&100_000));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["calls"], 3);
    assert_eq!(json["dispositions"]["sale"], 2);

    let c = db.campaign_report(&camp.id, 0, 1_000_000).await.unwrap();
    assert_eq!(c.stats.calls, 4);
    assert_eq!(c.stats.answered, 3);
    assert_eq!(c.stats.talk_ms, 100_000);
    assert_eq!(c.stats.hold_ms, 12_000);
    assert_eq!(c.stats.transfers, 2);
    assert_eq!(c.stats.dispositions.get("sale"), Some(&3));

    let empty = db.agent_report(&b.id, 0, 100).await.unwrap();
    assert_eq!(empty.stats, CallStats::default());
    assert!(empty.state_ms.is_empty());
    assert!(matches!(
        db.campaign_report(&camp.id, 10, 0).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
}
