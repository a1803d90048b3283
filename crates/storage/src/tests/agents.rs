//! Agents, sessions and pause reasons.

use super::*;

#[tokio::test]
async fn agent_crud_and_conflict() {
    let db = test_db().await;
    let a = mk_agent(&db, "1001").await;
    assert_eq!(a.username, "1001");
    assert_eq!(a.groups, vec!["sales".to_string()]);
    assert_eq!(a.audio, AgentAudio::Either, "the default audio setting");
    assert!(a.enabled);

    let err = db
        .create_agent(&NewAgent {
            username: "1001".into(),
            display_name: "dup".into(),
            password_hash: "x".into(),
            sip_ha1: SipHa1::default(),
            role: AgentRole::Admin,
            groups: vec![],
            audio: Default::default(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict(_)), "{err}");

    assert_eq!(db.get_agent(&a.id).await.unwrap().unwrap(), a);
    assert_eq!(db.get_agent_by_username("1001").await.unwrap().unwrap(), a);
    assert!(db.get_agent_by_username("nope").await.unwrap().is_none());
    assert!(db.get_agent("nope").await.unwrap().is_none());

    let b = mk_agent(&db, "1000").await;
    let names: Vec<_> = db
        .list_agents()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(names, vec!["1000", "1001"]);

    let upd = db
        .update_agent(
            &a.id,
            &AgentUpdate {
                display_name: Some("Alice".into()),
                sip_ha1: Some(SipHa1 {
                    realm: "r2".into(),
                    md5: "m2".into(),
                    sha256: "s2".into(),
                }),
                role: Some(AgentRole::Supervisor),
                groups: Some(vec!["support".into(), " vip ".into(), "support".into()]),
                audio: Some(AgentAudio::Browser),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(upd.display_name, "Alice");
    assert_eq!(upd.sip_ha1.realm, "r2");
    assert_eq!(upd.sip_ha1.md5, "m2");
    assert_eq!(upd.sip_ha1.sha256, "s2");
    assert_eq!(upd.role, AgentRole::Supervisor);
    assert_eq!(upd.groups, vec!["support".to_string(), "vip".to_string()]);
    assert_eq!(upd.password_hash, a.password_hash);
    assert_eq!(upd.audio, AgentAudio::Browser);
    assert_eq!(
        db.get_agent(&a.id).await.unwrap().unwrap().audio,
        AgentAudio::Browser,
        "stored"
    );
    let bad = AgentUpdate {
        groups: Some(vec!["a,b".into()]),
        ..Default::default()
    };
    assert!(matches!(
        db.update_agent(&a.id, &bad).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
    assert!(matches!(
        db.update_agent("nope", &AgentUpdate::default())
            .await
            .unwrap_err(),
        StorageError::NotFound(_)
    ));
    assert!(matches!(
        db.update_agent(
            "nope",
            &AgentUpdate {
                enabled: Some(true),
                ..Default::default()
            }
        )
        .await
        .unwrap_err(),
        StorageError::NotFound(_)
    ));

    let s = db.create_session(&b.id, 60_000).await.unwrap();
    db.delete_agent(&b.id).await.unwrap();
    let b2 = db.get_agent(&b.id).await.unwrap().unwrap();
    assert!(!b2.enabled);
    assert!(db.get_session(&s.token).await.unwrap().is_none());
    assert!(matches!(
        db.delete_agent("nope").await.unwrap_err(),
        StorageError::NotFound(_)
    ));
    let re = db
        .update_agent(
            &b.id,
            &AgentUpdate {
                enabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(re.enabled);

    // Neither the password hash nor the SIP credentials go out as JSON.
    let json = serde_json::to_value(&a).unwrap();
    assert!(json.get("password_hash").is_none());
    assert!(json.get("sip_ha1").is_none());
    assert!(json.get("sip_password").is_none());
    assert_eq!(json["role"], "agent");
    assert!(!json.to_string().contains("md5-1001"), "{json}");
}

/// Rows written before migration 0003 kept the SIP password in clear: the
/// start-up step replaces it with its HA1s and empties the column, once.
#[tokio::test]
async fn clear_sip_passwords_are_hashed_once_at_start() {
    let db = test_db().await;
    let kept = mk_agent(&db, "1000").await;
    sqlx::query(
        "INSERT INTO agents (id, username, display_name, password_hash, sip_password, role, \
         agent_groups, enabled, created_at) VALUES ('old1', '1001', 'Old', 'x', 'secret1001', \
         'agent', '', 1, 0)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let before = db.get_agent("old1").await.unwrap().unwrap();
    assert_eq!(
        before.sip_ha1,
        SipHa1::default(),
        "not usable before the step"
    );
    let hash = |user: &str, pw: &str| SipHa1 {
        realm: "switchboard".into(),
        md5: format!("md5({user}:{pw})"),
        sha256: format!("sha({user}:{pw})"),
    };
    assert_eq!(db.hash_clear_sip_passwords(hash).await.unwrap(), 1);
    let after = db.get_agent("old1").await.unwrap().unwrap();
    assert_eq!(after.sip_ha1.md5, "md5(1001:secret1001)");
    assert_eq!(after.sip_ha1.sha256, "sha(1001:secret1001)");
    assert_eq!(after.sip_ha1.realm, "switchboard");
    let clear: String = sqlx::query_scalar("SELECT sip_password FROM agents WHERE id = 'old1'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(clear, "", "no clear password left");
    assert_eq!(
        db.hash_clear_sip_passwords(hash).await.unwrap(),
        0,
        "done once"
    );
    assert_eq!(
        db.get_agent(&kept.id).await.unwrap().unwrap(),
        kept,
        "others untouched"
    );
}

#[tokio::test]
async fn sessions_expire_and_delete() {
    let db = test_db().await;
    let a = mk_agent(&db, "2000").await;
    let s = db.create_session(&a.id, 60_000).await.unwrap();
    assert_eq!(s.token.len(), 64);
    assert_eq!(db.get_session(&s.token).await.unwrap().unwrap(), s);
    assert!(db.get_session("bogus").await.unwrap().is_none());

    let short = db.create_session(&a.id, 1).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(db.get_session(&short.token).await.unwrap().is_none());
    assert_eq!(db.delete_expired_sessions().await.unwrap(), 1);

    db.delete_session(&s.token).await.unwrap();
    assert!(db.get_session(&s.token).await.unwrap().is_none());
    db.delete_session(&s.token).await.unwrap();
    assert!(matches!(
        db.create_session(&a.id, 0).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
}

#[tokio::test]
async fn pause_reasons() {
    let db = test_db().await;
    let lunch = db.create_pause_reason("Lunch").await.unwrap();
    db.create_pause_reason("Break").await.unwrap();
    assert!(matches!(
        db.create_pause_reason("Lunch").await.unwrap_err(),
        StorageError::Conflict(_)
    ));
    let names: Vec<_> = db
        .list_pause_reasons()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, vec!["Break", "Lunch"]);
    db.delete_pause_reason(&lunch.id).await.unwrap();
    assert_eq!(db.list_pause_reasons().await.unwrap().len(), 1);
    assert!(matches!(
        db.delete_pause_reason(&lunch.id).await.unwrap_err(),
        StorageError::NotFound(_)
    ));
}
