//! Supervisors' campaigns and campaigns' supervision settings (migration 0006).

use super::*;

#[tokio::test]
async fn supervisor_campaigns_replace_and_cascade() {
    let db = test_db().await;
    let boss = mk_agent(&db, "9001").await;
    let support = mk_campaign(&db, "support", CampaignKind::Inbound).await;
    let sales = mk_campaign(&db, "sales", CampaignKind::Inbound).await;
    assert!(db.supervisor_campaigns(&boss.id).await.unwrap().is_empty());
    let both = [sales.id.clone(), support.id.clone(), sales.id.clone()];
    db.set_supervisor_campaigns(&boss.id, &both).await.unwrap();
    assert_eq!(
        db.supervisor_campaigns(&boss.id).await.unwrap(),
        vec!["sales", "support"]
    );
    db.set_supervisor_campaigns(&boss.id, std::slice::from_ref(&support.id))
        .await
        .unwrap();
    assert_eq!(
        db.supervisor_campaigns(&boss.id).await.unwrap(),
        vec!["support"]
    );
    db.delete_campaign(&support.id).await.unwrap();
    assert!(db.supervisor_campaigns(&boss.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn campaign_supervision_settings() {
    let db = test_db().await;
    let c = mk_campaign(&db, "support", CampaignKind::Inbound).await;
    assert_eq!(
        db.campaign_supervision(&c.id).await.unwrap(),
        SupervisionRow::default()
    );
    let s = SupervisionRow {
        notice: "always".into(),
        service_level_secs: 30,
        alert_service_level_below: Some(80),
        alert_longest_wait_secs: Some(120),
    };
    db.set_campaign_supervision(&c.id, &s).await.unwrap();
    assert_eq!(db.campaign_supervision(&c.id).await.unwrap(), s);
    assert!(matches!(
        db.set_campaign_supervision("nope", &s).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
}
