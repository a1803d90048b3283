//! In-crate tests. They run on `sqlite::memory:` by default, and on
//! PostgreSQL when `SWITCHBOARD_TEST_POSTGRES_URL` is set: each test then
//! gets a fresh schema (`CREATE SCHEMA t_<random>`, selected through the
//! connection's `search_path` option) that is dropped when the test ends.

mod agenda;
mod agents;
mod calls;
mod campaigns;
mod contacts;
mod dnc;
mod exports;
mod imports;
mod outbound;
mod persistence;
mod recordings;
mod recovery;
mod reports;
mod supervision;

use std::ops::Deref;

use sqlx::{Connection, Executor};

use crate::*;

/// PostgreSQL URL for tests, if configured.
pub(crate) fn pg_url() -> Option<String> {
    std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// `url` with every connection's `search_path` set to `schema`.
pub(crate) fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Runs one statement on a fresh admin connection.
pub(crate) async fn pg_admin(url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .expect("connect admin");
    conn.execute(sql).await.expect(sql);
    conn.close().await.expect("close admin");
}

/// A fresh PostgreSQL schema (dropped on drop).
pub(crate) struct PgSchema {
    pub url: String,
    pub name: String,
}

impl PgSchema {
    pub(crate) async fn create(url: &str) -> PgSchema {
        let name = format!("t_{}", &new_id()[..16]);
        pg_admin(url, &format!("CREATE SCHEMA {name}")).await;
        PgSchema {
            url: url.to_string(),
            name,
        }
    }

    pub(crate) fn storage_url(&self) -> String {
        with_search_path(&self.url, &self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let url = self.url.clone();
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(pg_admin(&url, &sql));
        })
        .join();
    }
}

/// A database for one test: dereferences to [`Storage`].
pub(crate) struct TestDb {
    storage: Storage,
    _schema: Option<PgSchema>,
}

impl Deref for TestDb {
    type Target = Storage;
    fn deref(&self) -> &Storage {
        &self.storage
    }
}

impl TestDb {
    /// A clone of the storage handle (for spawned tasks).
    pub(crate) fn handle(&self) -> Storage {
        self.storage.clone()
    }
}

/// Fresh, migrated database: in-memory SQLite, or a new PostgreSQL schema
/// when `SWITCHBOARD_TEST_POSTGRES_URL` is set.
pub(crate) async fn test_db() -> TestDb {
    match pg_url() {
        None => TestDb {
            storage: Storage::connect("sqlite::memory:").await.expect("sqlite"),
            _schema: None,
        },
        Some(url) => {
            let schema = PgSchema::create(&url).await;
            let storage = Storage::connect(&schema.storage_url())
                .await
                .expect("postgres");
            assert!(storage.is_postgres());
            TestDb {
                storage,
                _schema: Some(schema),
            }
        }
    }
}

/// Creates an agent with defaults.
pub(crate) async fn mk_agent(db: &Storage, username: &str) -> AgentRow {
    db.create_agent(&NewAgent {
        username: username.into(),
        display_name: format!("Agent {username}"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        sip_ha1: SipHa1 {
            realm: "switchboard".into(),
            md5: format!("md5-{username}"),
            sha256: format!("sha256-{username}"),
        },
        role: AgentRole::Agent,
        groups: vec!["sales".into()],
        audio: Default::default(),
    })
    .await
    .expect("create agent")
}

/// Creates a campaign with a disposition set.
pub(crate) async fn mk_campaign(db: &Storage, name: &str, kind: CampaignKind) -> CampaignRow {
    let mut input = CampaignInput::new(name, kind);
    input.dispositions = vec!["sale".into(), "no_interest".into(), "callback".into()];
    db.create_campaign(&input).await.expect("create campaign")
}

/// Inserts a call.
pub(crate) async fn mk_call(
    db: &Storage,
    agent: Option<&AgentRow>,
    campaign: Option<&CampaignRow>,
    caller: &str,
    callee: &str,
    started_at: i64,
) -> CallRow {
    db.insert_call(&NewCall {
        id: None,
        direction: CallDirection::Inbound,
        campaign_id: campaign.map(|c| c.id.clone()),
        contact_id: None,
        caller: caller.into(),
        callee: callee.into(),
        agent_id: agent.map(|a| a.id.clone()),
        started_at,
    })
    .await
    .expect("insert call")
}

#[tokio::test]
async fn connect_reports_backend_and_rejects_unknown_urls() {
    let db = test_db().await;
    assert_eq!(db.is_postgres(), pg_url().is_some());
    let err = Storage::connect("mysql://x").await.unwrap_err();
    assert!(matches!(err, StorageError::Invalid(_)), "{err}");
}

#[test]
fn ids_and_sequence() {
    let a = new_id();
    assert_eq!(a.len(), 32);
    assert_ne!(a, new_id());
    assert_eq!(crate::util::new_token().len(), 64);
    let mut last = 0;
    for _ in 0..1000 {
        let s = crate::util::next_seq();
        assert!(s > last);
        last = s;
    }
    assert_eq!(crate::util::like_contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
}
