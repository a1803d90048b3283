//! Campaigns, dispositions sets and membership.

use super::*;

#[tokio::test]
async fn campaign_crud() {
    let db = test_db().await;
    let mut input = CampaignInput::new("Sales", CampaignKind::Dialer);
    input.did = Some("+3312345678".into());
    input.auto_recording = true;
    input.strategy = QueueStrategy::RingAll;
    input.overflow_target = Some("voicemail".into());
    input.dialer_ratio = 1.75;
    input.dispositions = vec!["sale".into(), "refused".into()];
    let c = db.create_campaign(&input).await.unwrap();
    assert_eq!(c.name, "Sales");
    assert_eq!(c.kind, CampaignKind::Dialer);
    assert_eq!(c.strategy, QueueStrategy::RingAll);
    assert!(c.auto_recording && c.active);
    assert_eq!(c.dialer_ratio, 1.75);
    assert_eq!(c.dispositions, vec!["sale", "refused"]);
    assert_eq!(c.queue_timeout_secs, 60);

    assert_eq!(db.get_campaign(&c.id).await.unwrap().unwrap(), c);
    assert_eq!(db.get_campaign_by_name("Sales").await.unwrap().unwrap(), c);
    assert_eq!(
        db.get_campaign_by_did("+3312345678")
            .await
            .unwrap()
            .unwrap(),
        c
    );
    assert!(db.get_campaign("nope").await.unwrap().is_none());

    // Duplicate name, duplicate DID.
    let dup = CampaignInput::new("Sales", CampaignKind::Inbound);
    assert!(matches!(
        db.create_campaign(&dup).await.unwrap_err(),
        StorageError::Conflict(_)
    ));
    let mut dup_did = CampaignInput::new("Other", CampaignKind::Inbound);
    dup_did.did = input.did.clone();
    assert!(matches!(
        db.create_campaign(&dup_did).await.unwrap_err(),
        StorageError::Conflict(_)
    ));
    // Two campaigns without DID are fine.
    let support = db
        .create_campaign(&CampaignInput::new("Support", CampaignKind::Inbound))
        .await
        .unwrap();
    db.create_campaign(&CampaignInput::new("Manual", CampaignKind::Manual))
        .await
        .unwrap();

    let mut bad = CampaignInput::new("Bad", CampaignKind::Inbound);
    bad.dialer_ratio = -1.0;
    assert!(matches!(
        db.create_campaign(&bad).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
    bad.dialer_ratio = 1.0;
    bad.dispositions = vec!["a".into(), "a".into()];
    assert!(matches!(
        db.create_campaign(&bad).await.unwrap_err(),
        StorageError::Invalid(_)
    ));

    let mut upd = input.clone();
    upd.name = "Sales FR".into();
    upd.active = false;
    upd.did = None;
    upd.dispositions = vec!["refused".into(), "sale".into(), "later".into()];
    let u = db.update_campaign(&c.id, &upd).await.unwrap();
    assert_eq!(u.name, "Sales FR");
    assert!(!u.active);
    assert_eq!(u.did, None);
    assert_eq!(u.dispositions, vec!["refused", "sale", "later"]);
    assert!(matches!(
        db.update_campaign("nope", &upd).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    let mut clash = upd.clone();
    clash.name = "Support".into();
    assert!(matches!(
        db.update_campaign(&c.id, &clash).await.unwrap_err(),
        StorageError::Conflict(_)
    ));

    db.set_campaign_dispositions(&support.id, &["ok".into(), "ko".into()])
        .await
        .unwrap();
    assert!(matches!(
        db.set_campaign_dispositions("nope", &[]).await.unwrap_err(),
        StorageError::NotFound(_)
    ));

    let all = db.list_campaigns().await.unwrap();
    let names: Vec<_> = all.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["Manual", "Sales FR", "Support"]);
    assert_eq!(all[1].dispositions, vec!["refused", "sale", "later"]);
    assert_eq!(all[2].dispositions, vec!["ok", "ko"]);
    assert!(all[0].dispositions.is_empty());

    // JSON shape and defaults.
    let json = serde_json::to_value(&u).unwrap();
    assert_eq!(json["kind"], "dialer");
    assert_eq!(json["strategy"], "ring_all");
    let parsed: CampaignInput = serde_json::from_str(r#"{"name":"X","kind":"preview"}"#).unwrap();
    assert_eq!(parsed.kind, CampaignKind::Preview);
    assert_eq!(parsed.max_attempts, 3);

    // Delete: cascades to dispositions/membership; referenced → Conflict.
    let a = mk_agent(&db, "3000").await;
    db.add_campaign_agent(&support.id, &a.id).await.unwrap();
    db.delete_campaign(&support.id).await.unwrap();
    assert!(db.get_campaign(&support.id).await.unwrap().is_none());
    assert!(db.list_agent_campaigns(&a.id).await.unwrap().is_empty());
    assert!(matches!(
        db.delete_campaign(&support.id).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    mk_call(&db, None, Some(&u), "1", "2", 1).await;
    assert!(matches!(
        db.delete_campaign(&u.id).await.unwrap_err(),
        StorageError::Conflict(_)
    ));
}

#[tokio::test]
async fn campaign_membership() {
    let db = test_db().await;
    let c1 = mk_campaign(&db, "B", CampaignKind::Inbound).await;
    let c2 = mk_campaign(&db, "A", CampaignKind::Inbound).await;
    let x = mk_agent(&db, "x").await;
    let y = mk_agent(&db, "y").await;
    db.add_campaign_agent(&c1.id, &y.id).await.unwrap();
    db.add_campaign_agent(&c1.id, &x.id).await.unwrap();
    db.add_campaign_agent(&c1.id, &x.id).await.unwrap(); // idempotent
    db.add_campaign_agent(&c2.id, &x.id).await.unwrap();
    let members: Vec<_> = db
        .list_campaign_agents(&c1.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(members, vec!["x", "y"]);
    let camps: Vec<_> = db
        .list_agent_campaigns(&x.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(camps, vec!["A", "B"]);
    db.remove_campaign_agent(&c1.id, &x.id).await.unwrap();
    db.remove_campaign_agent(&c1.id, &x.id).await.unwrap();
    assert_eq!(db.list_campaign_agents(&c1.id).await.unwrap().len(), 1);
    // Unknown agent → reference violation.
    assert!(matches!(
        db.add_campaign_agent(&c1.id, "ghost").await.unwrap_err(),
        StorageError::Conflict(_)
    ));
}

/// Keyed digits are masked unless the campaign says otherwise (PCI DSS).
#[tokio::test]
async fn campaign_dtmf_clear_defaults_to_masked() {
    let db = test_db().await;
    let c = mk_campaign(&db, "survey", CampaignKind::Inbound).await;
    assert!(
        !db.campaign_dtmf_clear(&c.id).await.unwrap(),
        "masked by default"
    );
    db.set_campaign_dtmf_clear(&c.id, true).await.unwrap();
    assert!(db.campaign_dtmf_clear(&c.id).await.unwrap());
    db.set_campaign_dtmf_clear(&c.id, false).await.unwrap();
    assert!(!db.campaign_dtmf_clear(&c.id).await.unwrap());
    assert!(matches!(
        db.set_campaign_dtmf_clear("nope", true).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    assert!(!db.campaign_dtmf_clear("nope").await.unwrap());
}
