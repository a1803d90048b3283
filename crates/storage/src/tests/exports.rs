//! Exports: rows, joins and filters, streamed through a channel.

use tokio::sync::mpsc;

use super::*;

/// Everything an export sent, failing on a streamed error.
async fn collect<T: Send + 'static>(
    run: impl FnOnce(mpsc::Sender<Result<T>>) -> futures::future::BoxFuture<'static, u64>,
) -> Vec<T> {
    let (tx, mut rx) = mpsc::channel(4);
    let task = tokio::spawn(run(tx));
    let mut out = Vec::new();
    while let Some(item) = rx.recv().await {
        out.push(item.expect("export row"));
    }
    assert_eq!(task.await.unwrap() as usize, out.len());
    out
}

/// A campaign with two contacts; call 1 (t=1000) to Ana answered and
/// dispositioned "Agenda" with a callback; call 2 (t=5000) to Bea unanswered,
/// by another agent; call 3 (t=9000) inbound, no campaign.
async fn fixture(db: &Storage) -> (AgentRow, AgentRow, CampaignRow) {
    let a = mk_agent(db, "ex1").await;
    let b = mk_agent(db, "ex2").await;
    let camp = mk_campaign(db, "Out", CampaignKind::Dialer).await;
    db.import_contacts_csv(
        "l",
        Some(&camp.id),
        "phone,name,city\n+34600111222,Ana,Vigo\n+34600111333,Bea,Lugo\n",
    )
    .await
    .unwrap();
    let contacts = db.search_contacts(&ContactQuery::default()).await.unwrap();
    let (ana, bea) = (&contacts[0], &contacts[1]);
    let call = |id: &str, agent: &AgentRow, contact: &ContactRow, at: i64| NewCall {
        id: Some(id.into()),
        direction: CallDirection::Outbound,
        campaign_id: Some(camp.id.clone()),
        contact_id: Some(contact.id.clone()),
        caller: agent.username.clone(),
        callee: contact.phone.clone(),
        agent_id: Some(agent.id.clone()),
        started_at: at,
    };
    db.insert_call(&call("c1", &a, ana, 1000)).await.unwrap();
    db.update_call_answered("c1", 1500).await.unwrap();
    db.finish_call("c1", 61_500, "agent_hangup").await.unwrap();
    db.add_disposition(&NewDisposition {
        call_id: "c1".into(),
        agent_id: a.id.clone(),
        campaign_id: Some(camp.id.clone()),
        contact_id: Some(ana.id.clone()),
        name: "Agenda".into(),
        note: "wants a call, \"after 5\"".into(),
        at: 62_000,
    })
    .await
    .unwrap();
    db.add_agenda(&NewAgenda {
        kind: AgendaKind::Global,
        agent_id: a.id.clone(),
        contact_id: Some(ana.id.clone()),
        campaign_id: Some(camp.id.clone()),
        phone: ana.phone.clone(),
        scheduled_at: 86_400_000,
        tz: "Europe/Madrid".into(),
        reason: "after 5".into(),
        origin_call_id: Some("c1".into()),
    })
    .await
    .unwrap();
    db.insert_call(&call("c2", &b, bea, 5000)).await.unwrap();
    db.finish_call("c2", 35_000, "no_answer").await.unwrap();
    db.insert_call(&NewCall {
        id: Some("c3".into()),
        direction: CallDirection::Inbound,
        campaign_id: None,
        contact_id: None,
        caller: "+34911000000".into(),
        callee: "5000".into(),
        agent_id: None,
        started_at: 9000,
    })
    .await
    .unwrap();
    (a, b, camp)
}

#[tokio::test]
async fn call_export_joins_names_and_dispositions_and_filters() {
    let db = test_db().await;
    let (a, _b, camp) = fixture(&db).await;
    let run = |f: ExportFilter| {
        let db = db.handle();
        move |tx| -> futures::future::BoxFuture<'static, u64> {
            Box::pin(async move { db.export_calls(&f, tx).await })
        }
    };
    let all = collect(run(ExportFilter::default())).await;
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, vec!["c1", "c2", "c3"]);
    let c1 = &all[0];
    assert_eq!(c1.agent.as_deref(), Some("ex1"));
    assert_eq!(c1.campaign.as_deref(), Some("Out"));
    assert_eq!(c1.contact_name.as_deref(), Some("Ana"));
    assert_eq!((c1.answered_at, c1.ended_at), (Some(1500), Some(61_500)));
    assert_eq!(c1.disposition.as_deref(), Some("Agenda"));
    assert_eq!(all[1].disposition, None);
    assert_eq!(all[2].agent, None);
    let mine = collect(run(ExportFilter {
        agent_id: Some(a.id.clone()),
        ..Default::default()
    }))
    .await;
    assert_eq!(mine.len(), 1);
    let window = collect(run(ExportFilter {
        from: Some(1001),
        to: Some(9000),
        campaign_id: Some(camp.id.clone()),
        ..Default::default()
    }))
    .await;
    assert_eq!(
        window.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["c2"]
    );
}

#[tokio::test]
async fn disposition_export_carries_the_agenda_entry_it_scheduled() {
    let db = test_db().await;
    fixture(&db).await;
    let db2 = db.handle();
    let rows = collect(move |tx| {
        Box::pin(async move { db2.export_dispositions(&ExportFilter::default(), tx).await })
    })
    .await;
    assert_eq!(rows.len(), 1);
    let d = &rows[0];
    assert_eq!(
        (d.call_id.as_str(), d.disposition.as_str()),
        ("c1", "Agenda")
    );
    assert_eq!(d.phone, "+34600111222");
    assert_eq!(d.note, "wants a call, \"after 5\"");
    assert_eq!(d.agenda_kind.as_deref(), Some("global"));
    assert_eq!(d.agenda_at, Some(86_400_000));
    assert_eq!(d.agenda_tz.as_deref(), Some("Europe/Madrid"));
    assert_eq!(d.agenda_status.as_deref(), Some("pending"));
}

#[tokio::test]
async fn contact_export_has_outcomes_and_stops_when_the_reader_goes() {
    let db = test_db().await;
    let (_a, _b, camp) = fixture(&db).await;
    let db2 = db.handle();
    let f = ExportFilter {
        campaign_id: Some(camp.id.clone()),
        ..Default::default()
    };
    let rows = collect(move |tx| Box::pin(async move { db2.export_contacts(&f, tx).await })).await;
    assert_eq!(rows.len(), 2);
    let (ana, bea) = (&rows[0], &rows[1]);
    assert_eq!((ana.name.as_str(), ana.list.as_str()), ("Ana", "l"));
    assert_eq!((ana.calls, ana.last_call_at), (1, Some(1000)));
    assert_eq!(ana.last_disposition.as_deref(), Some("Agenda"));
    assert_eq!(ana.extra["city"], "Vigo");
    assert_eq!((bea.calls, bea.last_disposition.as_deref()), (1, None));

    // A reader that leaves after one row stops the query.
    let (tx, mut rx) = mpsc::channel(1);
    let db3 = db.handle();
    let task = tokio::spawn(async move { db3.export_contacts(&ExportFilter::default(), tx).await });
    assert!(rx.recv().await.is_some());
    drop(rx);
    assert!(task.await.unwrap() <= 2);
}
