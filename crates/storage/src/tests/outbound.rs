//! A campaign's outbound routing: trunks in order, caller ID, replaced as a
//! whole, and seen by another pool on the same database (another node).

use super::*;

fn routing() -> OutboundRow {
    OutboundRow {
        trunks: vec!["carrier-b".into(), "carrier-a".into()],
        caller_id_number: Some("+34911000000".into()),
        caller_id_name: Some("Acme \"Sales\"".into()),
        caller_id_privacy: true,
    }
}

#[tokio::test]
async fn outbound_routing_round_trips_and_is_replaced_as_a_whole() {
    let db = test_db().await;
    let c = mk_campaign(&db, "sales", CampaignKind::Dialer).await;
    let other = mk_campaign(&db, "support", CampaignKind::Inbound).await;
    assert_eq!(
        db.campaign_outbound(&c.id).await.unwrap(),
        OutboundRow::default()
    );
    db.set_campaign_outbound(&c.id, &routing()).await.unwrap();
    assert_eq!(db.campaign_outbound(&c.id).await.unwrap(), routing());
    assert_eq!(
        db.campaign_outbound(&other.id).await.unwrap(),
        OutboundRow::default(),
        "other campaigns untouched"
    );
    let fewer = OutboundRow {
        trunks: vec!["carrier-a".into()],
        ..OutboundRow::default()
    };
    db.set_campaign_outbound(&c.id, &fewer).await.unwrap();
    assert_eq!(db.campaign_outbound(&c.id).await.unwrap(), fewer);
    db.set_campaign_outbound(&c.id, &OutboundRow::default())
        .await
        .unwrap();
    assert_eq!(
        db.campaign_outbound(&c.id).await.unwrap(),
        OutboundRow::default()
    );

    assert!(matches!(
        db.set_campaign_outbound("nope", &routing())
            .await
            .unwrap_err(),
        StorageError::NotFound(_)
    ));
    let injected = OutboundRow {
        caller_id_number: Some("1\r\nX-Evil: 1".into()),
        ..OutboundRow::default()
    };
    assert!(matches!(
        db.set_campaign_outbound(&c.id, &injected)
            .await
            .unwrap_err(),
        StorageError::Invalid(_)
    ));
    let blank = OutboundRow {
        trunks: vec![" ".into()],
        ..OutboundRow::default()
    };
    assert!(matches!(
        db.set_campaign_outbound(&c.id, &blank).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
    assert_eq!(
        db.campaign_outbound(&c.id).await.unwrap(),
        OutboundRow::default()
    );

    db.set_campaign_outbound(&c.id, &routing()).await.unwrap();
    db.delete_campaign(&c.id).await.unwrap();
    assert_eq!(
        db.campaign_outbound(&c.id).await.unwrap(),
        OutboundRow::default()
    );
}

#[tokio::test]
async fn another_node_on_the_same_database_sees_the_routing() {
    let (url, _schema, _dir) = match pg_url() {
        Some(pg) => {
            let schema = PgSchema::create(&pg).await;
            (schema.storage_url(), Some(schema), None)
        }
        None => {
            let dir = std::env::temp_dir().join(format!("switchboard-outbound-{}", new_id()));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}", dir.join("shared.db").display());
            (url, None, Some(RemoveOnDrop(dir)))
        }
    };
    let node_a = Storage::connect(&url).await.unwrap();
    let node_b = Storage::connect(&url).await.unwrap();
    let c = mk_campaign(&node_a, "sales", CampaignKind::Dialer).await;
    node_a
        .set_campaign_outbound(&c.id, &routing())
        .await
        .unwrap();
    assert_eq!(node_b.campaign_outbound(&c.id).await.unwrap(), routing());
}

/// A directory removed on drop.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
