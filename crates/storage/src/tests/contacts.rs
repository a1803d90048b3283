//! Contact import, search, dialer claiming and history.

use super::*;

const GOOD_CSV: &str = "Phone,Name,City,Note\r\n\
+33123456789,\"Dupont, Jean\",Paris,\"said \"\"call later\"\"\"\r\n\
0612345678,Marie,Lyon,\"two\nlines\"\r\n\
555,,Nice,\r\n";

#[tokio::test]
async fn import_good_csv() {
    let db = test_db().await;
    let camp = mk_campaign(&db, "Dial", CampaignKind::Dialer).await;
    let report = db
        .import_contacts_csv("spring", Some(&camp.id), GOOD_CSV)
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.imported, 3);
    let list_id = report.list_id.clone().unwrap();

    let all = db
        .search_contacts(&ContactQuery {
            list_id: Some(list_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    // Ordered by name: "", "Dupont, Jean", "Marie".
    assert_eq!(all[0].phone, "555");
    let jean = &all[1];
    assert_eq!(jean.name, "Dupont, Jean");
    assert_eq!(jean.phone, "+33123456789");
    assert_eq!(jean.status, ContactStatus::New);
    assert_eq!(jean.attempts, 0);
    assert_eq!(jean.campaign_id.as_deref(), Some(camp.id.as_str()));
    assert_eq!(
        jean.extra,
        serde_json::json!({"City": "Paris", "Note": "said \"call later\""})
    );
    assert_eq!(all[2].extra["Note"], "two\nlines");
    assert_eq!(db.get_contact(&jean.id).await.unwrap().unwrap(), *jean);
    assert!(db.get_contact("nope").await.unwrap().is_none());

    // Appending to the same list keeps one list.
    let again = db
        .import_contacts_csv("spring", None, "phone\n999\n")
        .await
        .unwrap();
    assert_eq!(again.list_id.as_deref(), Some(list_id.as_str()));
    let lists = db.list_contact_lists().await.unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].name, "spring");
    assert_eq!(lists[0].contact_count, 4);

    // Big import crosses several insert batches.
    let mut big = String::from("phone;name\n");
    for i in 0..450 {
        big.push_str(&format!("+3491{i:07};n{i}\n"));
    }
    let r = db.import_contacts_csv("big", None, &big).await.unwrap();
    assert_eq!(r.imported, 450);
    let found = db
        .search_contacts(&ContactQuery {
            list_id: r.list_id.clone(),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 450);

    assert!(matches!(
        db.import_contacts_csv("x", Some("ghost"), GOOD_CSV)
            .await
            .unwrap_err(),
        StorageError::NotFound(_)
    ));
}

#[tokio::test]
async fn import_is_all_or_nothing_with_line_numbers() {
    let db = test_db().await;
    let csv = "name,phone,extra\n\
ok,+34600123456,a\n\
bad letters,12ab34,b\n\
\"multi\nline\",12,c\n\
short,+1234\n\
ok2,0033612345678,d\n\
too long,123456789012345678901,e\n\
\"open,1234,f\n";
    let report = db.import_contacts_csv("broken", None, csv).await.unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(report.list_id, None);
    let lines: Vec<usize> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 6, 8, 9], "{:?}", report.errors);
    assert!(
        report.errors[0].reason.contains("digits"),
        "{:?}",
        report.errors[0]
    );
    assert!(report.errors[1].reason.contains("3 to 20"));
    assert!(report.errors[2].reason.contains("fields"));
    assert!(report.errors[3].reason.contains("3 to 20"));
    assert!(report.errors[4].reason.contains("quote"));
    // Nothing imported, no list created.
    assert!(db.list_contact_lists().await.unwrap().is_empty());
    assert!(db
        .search_contacts(&ContactQuery::default())
        .await
        .unwrap()
        .is_empty());

    let no_phone = db
        .import_contacts_csv("x", None, "name,city\na,Paris\n")
        .await
        .unwrap();
    assert_eq!(no_phone.errors.len(), 1);
    assert_eq!(no_phone.errors[0].line, 1);
    let empty = db.import_contacts_csv("x", None, "").await.unwrap();
    assert_eq!(empty.errors[0].line, 1);
    let header_only = db.import_contacts_csv("x", None, "phone\n").await.unwrap();
    assert_eq!(header_only.errors[0].line, 2);
    let dup = db
        .import_contacts_csv("x", None, "phone,Phone\n1,2\n")
        .await
        .unwrap();
    assert!(dup.errors[0].reason.contains("duplicate"));
    let unterminated = db
        .import_contacts_csv("x", None, "phone,name\n123,\"open\n")
        .await
        .unwrap();
    assert_eq!(unterminated.errors[0].line, 2);
    assert!(db.list_contact_lists().await.unwrap().is_empty());
}

#[tokio::test]
async fn search_and_status() {
    let db = test_db().await;
    let camp = mk_campaign(&db, "C", CampaignKind::Preview).await;
    db.import_contacts_csv(
        "l1",
        Some(&camp.id),
        "phone,name\n+33123456701,Alice Martin\n+33123456702,Bob\n+442079460003,alice cooper\n",
    )
    .await
    .unwrap();
    db.import_contacts_csv("l2", None, "phone,name\n+33123456709,100% Percent_Guy\n")
        .await
        .unwrap();

    let q = |text: &str| ContactQuery {
        text: Some(text.into()),
        ..Default::default()
    };
    let names = |v: Vec<ContactRow>| v.into_iter().map(|c| c.name).collect::<Vec<_>>();
    let mut alices = names(db.search_contacts(&q("ALICE")).await.unwrap());
    alices.sort();
    assert_eq!(alices, vec!["Alice Martin", "alice cooper"]);
    assert_eq!(db.search_contacts(&q("+331")).await.unwrap().len(), 3);
    assert_eq!(
        names(db.search_contacts(&q("100%")).await.unwrap()),
        vec!["100% Percent_Guy"]
    );
    assert_eq!(db.search_contacts(&q("t_g")).await.unwrap().len(), 1);
    assert_eq!(db.search_contacts(&q("0%")).await.unwrap().len(), 1);
    let by_campaign = db
        .search_contacts(&ContactQuery {
            text: Some("33".into()),
            campaign_id: Some(camp.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_campaign.len(), 2);
    let limited = db
        .search_contacts(&ContactQuery {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);

    let bob = db.search_contacts(&q("bob")).await.unwrap().remove(0);
    db.set_contact_status(&bob.id, ContactStatus::Retry, Some(5_000))
        .await
        .unwrap();
    let bob2 = db.get_contact(&bob.id).await.unwrap().unwrap();
    assert_eq!(bob2.status, ContactStatus::Retry);
    assert_eq!(bob2.next_attempt_at, Some(5_000));
    let retry = db
        .search_contacts(&ContactQuery {
            status: Some(ContactStatus::Retry),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert!(matches!(
        db.set_contact_status("nope", ContactStatus::Done, None)
            .await
            .unwrap_err(),
        StorageError::NotFound(_)
    ));
}

#[tokio::test]
async fn claim_contacts_for_dialing() {
    let db = test_db().await;
    let mut input = CampaignInput::new("D", CampaignKind::Dialer);
    input.max_attempts = 2;
    let camp = db.create_campaign(&input).await.unwrap();
    db.import_contacts_csv("l", Some(&camp.id), "phone\n1001\n1002\n1003\n")
        .await
        .unwrap();

    let first = db
        .claim_contacts_for_dialing(&camp.id, 1_000, 2)
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(first
        .iter()
        .all(|c| c.status == ContactStatus::Dialing && c.attempts == 1));
    let second = db
        .claim_contacts_for_dialing(&camp.id, 1_000, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert!(db
        .claim_contacts_for_dialing(&camp.id, 1_000, 10)
        .await
        .unwrap()
        .is_empty());

    // Retry later: not before next_attempt_at, and never beyond max_attempts.
    let c = &first[0];
    db.set_contact_status(&c.id, ContactStatus::Retry, Some(5_000))
        .await
        .unwrap();
    assert!(db
        .claim_contacts_for_dialing(&camp.id, 4_999, 10)
        .await
        .unwrap()
        .is_empty());
    let again = db
        .claim_contacts_for_dialing(&camp.id, 5_000, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    db.set_contact_status(&c.id, ContactStatus::Retry, Some(6_000))
        .await
        .unwrap();
    assert!(db
        .claim_contacts_for_dialing(&camp.id, 9_000, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn contact_history_lists_calls_dispositions_agenda() {
    let db = test_db().await;
    let agent = mk_agent(&db, "h1").await;
    let camp = mk_campaign(&db, "H", CampaignKind::Preview).await;
    db.import_contacts_csv("l", Some(&camp.id), "phone,name\n+33123456711,Zoe\n")
        .await
        .unwrap();
    let contact = db
        .search_contacts(&ContactQuery::default())
        .await
        .unwrap()
        .remove(0);
    let mut calls = Vec::new();
    for t in [2_000, 1_000] {
        let call = db
            .insert_call(&NewCall {
                id: None,
                direction: CallDirection::Outbound,
                campaign_id: Some(camp.id.clone()),
                contact_id: Some(contact.id.clone()),
                caller: "h1".into(),
                callee: contact.phone.clone(),
                agent_id: Some(agent.id.clone()),
                started_at: t,
            })
            .await
            .unwrap();
        calls.push(call);
    }
    db.add_disposition(&NewDisposition {
        call_id: calls[1].id.clone(),
        agent_id: agent.id.clone(),
        campaign_id: Some(camp.id.clone()),
        contact_id: Some(contact.id.clone()),
        name: "callback".into(),
        note: "call tomorrow".into(),
        at: 1_500,
    })
    .await
    .unwrap();
    // A disposition without contact_id still shows through its call.
    db.add_disposition(&NewDisposition {
        call_id: calls[0].id.clone(),
        agent_id: agent.id.clone(),
        campaign_id: None,
        contact_id: None,
        name: "sale".into(),
        note: String::new(),
        at: 2_500,
    })
    .await
    .unwrap();
    db.add_agenda(&NewAgenda {
        kind: AgendaKind::Personal,
        agent_id: agent.id.clone(),
        contact_id: Some(contact.id.clone()),
        campaign_id: Some(camp.id.clone()),
        phone: contact.phone.clone(),
        scheduled_at: 90_000,
        tz: "Europe/Paris".into(),
        reason: "asked".into(),
        origin_call_id: None,
    })
    .await
    .unwrap();

    let h = db.contact_history(&contact.id).await.unwrap();
    assert_eq!(h.contact, contact);
    assert_eq!(
        h.calls.iter().map(|c| c.started_at).collect::<Vec<_>>(),
        vec![1_000, 2_000]
    );
    assert_eq!(
        h.dispositions
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        vec!["callback", "sale"]
    );
    assert_eq!(h.agenda.len(), 1);
    assert!(matches!(
        db.contact_history("nope").await.unwrap_err(),
        StorageError::NotFound(_)
    ));
}

/// A contact claimed outside its calling hours is given back: retry at the
/// next window, the attempt not counted.
#[tokio::test]
async fn released_contact_is_retried_at_its_window_without_an_attempt() {
    let db = test_db().await;
    let camp = mk_campaign(&db, "Rel", CampaignKind::Dialer).await;
    db.import_contacts_csv("rel", Some(&camp.id), "phone\n5550001\n")
        .await
        .unwrap();
    let c = db
        .claim_contacts_for_dialing(&camp.id, 1_000, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(c.attempts, 1);
    db.release_contact(&c.id, Some(9_000)).await.unwrap();
    let back = db.get_contact(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (back.status, back.attempts, back.next_attempt_at),
        (ContactStatus::Retry, 0, Some(9_000))
    );
    assert!(db
        .claim_contacts_for_dialing(&camp.id, 8_999, 1)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        db.claim_contacts_for_dialing(&camp.id, 9_000, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(db.release_contact("nope", None).await.is_err());
}
