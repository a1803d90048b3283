//! Recordings, tags and recording search.

use super::*;

fn tag(call: &CallRow, rec: Option<&RecordingRow>, author: &str, text: &str, at: i64) -> NewTag {
    NewTag {
        call_id: call.id.clone(),
        recording_id: rec.map(|r| r.id.clone()),
        author: author.into(),
        text: text.into(),
        at,
        offset_ms: at - call.started_at,
    }
}

#[tokio::test]
async fn recordings_segments_and_tags() {
    let db = test_db().await;
    let a = mk_agent(&db, "r1").await;
    let camp = mk_campaign(&db, "Rec", CampaignKind::Inbound).await;
    let call = mk_call(&db, Some(&a), Some(&camp), "+33600000001", "+3310", 1_000).await;

    let new = |t: i64| NewRecording {
        call_id: call.id.clone(),
        path: format!("/rec/{}-{t}.wav", call.id),
        started_at: t,
        agent_id: None,
        campaign_id: None,
    };
    let s1 = db.insert_recording(&new(1_000)).await.unwrap();
    assert_eq!(s1.segment, 1);
    assert_eq!(s1.ended_at, None);
    // Context comes from the call when the recording has none.
    assert_eq!(s1.agent_id.as_deref(), Some(a.id.as_str()));
    assert_eq!(s1.agent_username.as_deref(), Some("r1"));
    assert_eq!(s1.campaign_name.as_deref(), Some("Rec"));
    assert_eq!(s1.caller, "+33600000001");
    let f1 = db.finish_recording(&s1.id, 4_000, None).await.unwrap();
    assert_eq!(f1.duration_ms, Some(3_000));
    assert_eq!(f1.ended_at, Some(4_000));
    let s2 = db.insert_recording(&new(5_000)).await.unwrap();
    assert_eq!(s2.segment, 2);
    let f2 = db.finish_recording(&s2.id, 6_000, Some(990)).await.unwrap();
    assert_eq!(f2.duration_ms, Some(990));
    assert!(matches!(
        db.finish_recording("nope", 1, None).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    assert!(db.get_recording("nope").await.unwrap().is_none());

    let t1 = db
        .add_tag(&tag(&call, Some(&s1), "r1", "Customer ANGRY", 2_000))
        .await
        .unwrap();
    let t2 = db
        .add_tag(&tag(&call, None, "sup", "follow-up", 1_500))
        .await
        .unwrap();
    assert_eq!(
        db.list_tags(&call.id).await.unwrap(),
        vec![t2.clone(), t1.clone()]
    );
    assert!(matches!(
        db.add_tag(&tag(&call, None, "x", " ", 1))
            .await
            .unwrap_err(),
        StorageError::Invalid(_)
    ));

    db.add_disposition(&NewDisposition {
        call_id: call.id.clone(),
        agent_id: a.id.clone(),
        campaign_id: Some(camp.id.clone()),
        contact_id: None,
        name: "Complaint".into(),
        note: String::new(),
        at: 7_000,
    })
    .await
    .unwrap();
    let got = db.get_recording(&s1.id).await.unwrap().unwrap();
    assert_eq!(got.disposition.as_deref(), Some("Complaint"));
    assert_eq!(got.tags, vec![t2, t1]);
    let segs = db.list_recordings_for_call(&call.id).await.unwrap();
    assert_eq!(
        segs.iter().map(|r| r.segment).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[tokio::test]
async fn search_recordings_filters() {
    let db = test_db().await;
    let alice = mk_agent(&db, "alice").await;
    let bob = mk_agent(&db, "bob").await;
    let sales = mk_campaign(&db, "Sales", CampaignKind::Inbound).await;
    let care = mk_campaign(&db, "Care", CampaignKind::Inbound).await;

    let mut ids = Vec::new();
    for (i, (agent, camp, caller, disp, tag_text)) in [
        (
            &alice,
            &sales,
            "+33611111111",
            "sale",
            Some("Wants 50% DISCOUNT"),
        ),
        (
            &bob,
            &care,
            "+44700000000",
            "refund",
            Some("angry customer"),
        ),
        (&alice, &care, "+33622222222", "refund", None),
    ]
    .into_iter()
    .enumerate()
    {
        let t = (i as i64 + 1) * 10_000;
        let call = mk_call(&db, Some(agent), Some(camp), caller, "+3310", t).await;
        let rec = db
            .insert_recording(&NewRecording {
                call_id: call.id.clone(),
                path: format!("/rec/{i}.wav"),
                started_at: t,
                agent_id: Some(agent.id.clone()),
                campaign_id: Some(camp.id.clone()),
            })
            .await
            .unwrap();
        db.finish_recording(&rec.id, t + 5_000, None).await.unwrap();
        db.add_disposition(&NewDisposition {
            call_id: call.id.clone(),
            agent_id: agent.id.clone(),
            campaign_id: Some(camp.id.clone()),
            contact_id: None,
            name: disp.into(),
            note: String::new(),
            at: t + 6_000,
        })
        .await
        .unwrap();
        if let Some(text) = tag_text {
            db.add_tag(&tag(&call, Some(&rec), &agent.username, text, t + 1_000))
                .await
                .unwrap();
        }
        ids.push(rec.id);
    }
    let search = |q: RecordingQuery| {
        let db = db.handle();
        async move {
            db.search_recordings(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.path)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(RecordingQuery::default()).await,
        vec!["/rec/2.wav", "/rec/1.wav", "/rec/0.wav"]
    );
    let q = |f: fn(&mut RecordingQuery)| {
        let mut q = RecordingQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(
        search(q(|q| q.tag_text = Some("discount".into()))).await,
        vec!["/rec/0.wav"]
    );
    assert_eq!(
        search(q(|q| q.tag_text = Some("ANGRY".into()))).await,
        vec!["/rec/1.wav"]
    );
    assert_eq!(
        search(q(|q| q.tag_text = Some("50%".into()))).await,
        vec!["/rec/0.wav"]
    );
    assert_eq!(
        search(q(|q| q.tag_text = Some("5_%".into()))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        search(q(|q| q.tag_text = Some("nothing".into()))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        search(q(|q| q.disposition = Some("REFUND".into()))).await,
        vec!["/rec/2.wav", "/rec/1.wav"]
    );
    assert_eq!(
        search(q(|q| q.number = Some("+336".into()))).await,
        vec!["/rec/2.wav", "/rec/0.wav"]
    );
    assert_eq!(search(q(|q| q.number = Some("3310".into()))).await.len(), 3);
    assert_eq!(
        search(q(|q| q.from = Some(20_000))).await,
        vec!["/rec/2.wav", "/rec/1.wav"]
    );
    assert_eq!(search(q(|q| q.to = Some(20_000))).await, vec!["/rec/0.wav"]);
    assert_eq!(search(q(|q| q.limit = Some(1))).await, vec!["/rec/2.wav"]);

    let mut by_agent = RecordingQuery {
        agent_id: Some(alice.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        search(by_agent.clone()).await,
        vec!["/rec/2.wav", "/rec/0.wav"]
    );
    by_agent.campaign_id = Some(care.id.clone());
    assert_eq!(search(by_agent).await, vec!["/rec/2.wav"]);

    let rows = db
        .search_recordings(&RecordingQuery {
            tag_text: Some("angry".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows[0].agent_username.as_deref(), Some("bob"));
    assert_eq!(rows[0].campaign_name.as_deref(), Some("Care"));
    assert_eq!(rows[0].disposition.as_deref(), Some("refund"));
    assert_eq!(rows[0].tags.len(), 1);
    assert_eq!(rows[0].tags[0].text, "angry customer");
    assert_eq!(rows[0].duration_ms, Some(5_000));
    let json = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(json["tags"][0]["author"], "bob");
}
