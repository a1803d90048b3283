//! The do-not-call list: add (normalised, reason updated), remove, list,
//! all-or-nothing import.

use super::*;

#[tokio::test]
async fn add_normalises_updates_and_removes() {
    let db = test_db().await;
    let mut input = CampaignInput::new("Ventas", CampaignKind::Dialer);
    input.default_country = Some("ES".into());
    let camp = db.create_campaign(&input).await.unwrap();

    // A national number in a Spanish campaign is stored as E.164.
    let row = db
        .add_dnc(
            "600 12 34 56",
            Some(&camp.id),
            "pidió no llamar",
            Some("9000"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(row.phone, "+34600123456");
    db.add_dnc("+44 20 7946 0003", None, "", None, None)
        .await
        .unwrap();
    db.add_dnc("+34600123456", Some(&camp.id), "asked twice", None, None)
        .await
        .unwrap();
    let all = db.list_dnc().await.unwrap();
    let got: Vec<(&str, Option<&str>, &str)> = all
        .iter()
        .map(|r| {
            (
                r.phone.as_str(),
                r.campaign_id.as_deref(),
                r.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("+442079460003", None, ""),
            ("+34600123456", Some(camp.id.as_str()), "asked twice")
        ]
    );
    assert!(matches!(
        db.add_dnc("12", Some(&camp.id), "", None, None).await,
        Err(StorageError::Invalid(_))
    ));
    db.remove_dnc("+34600123456", Some(&camp.id)).await.unwrap();
    assert!(matches!(
        db.remove_dnc("+34600123456", Some(&camp.id)).await,
        Err(StorageError::NotFound(_))
    ));
    assert_eq!(db.list_dnc().await.unwrap().len(), 1);
}

#[tokio::test]
async fn import_is_all_or_nothing_and_counts_known_numbers() {
    let db = test_db().await;
    db.add_dnc("+34600000001", None, "", None, None)
        .await
        .unwrap();
    let opts = ImportOptions {
        country: Some("ES".into()),
        ..Default::default()
    };
    let bad = b"Tel\xe9fono;Motivo\r\n600000002;ok\r\nxx;bad\r\n";
    let r = db.import_dnc(bad, None, &opts, Some("9000")).await.unwrap();
    assert_eq!((r.added, r.errors.len(), r.errors[0].line), (0, 1, 3));
    assert_eq!(r.encoding, "windows-1252");
    assert_eq!(db.list_dnc().await.unwrap().len(), 1);

    let good =
        b"Tel\xe9fono;Motivo\r\n600000002;lo pidi\xf3\r\n600 000 001;\r\n600000002;again\r\n";
    let r = db
        .import_dnc(good, None, &opts, Some("9000"))
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!((r.added, r.already), (1, 2));
    let rows = db.list_dnc().await.unwrap();
    let new = rows.iter().find(|r| r.phone == "+34600000002").unwrap();
    assert_eq!(new.reason, "lo pidió");
    assert_eq!(new.added_by.as_deref(), Some("9000"));
}
