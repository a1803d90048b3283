//! Persistence for the Switchboard contact center.
//!
//! One [`Storage`] handle (cheap to clone) wraps a `sqlx::AnyPool`, so the
//! same code runs on SQLite (default: an embedded file, `sqlite://path.db`)
//! and PostgreSQL (`postgres://user:pass@host/db`). The schema lives in
//! `migrations/` (portable SQL, embedded at compile time) and is applied by
//! [`Storage::connect`].
//!
//! Conventions used by every module:
//! * ids are application-generated TEXT ([`new_id`]);
//! * times are unix milliseconds, UTC ([`now_ms`]);
//! * `get_*` functions return `Ok(None)` when the row does not exist, while
//!   updates and deletes of a missing row return [`StorageError::NotFound`];
//! * uniqueness violations surface as [`StorageError::Conflict`];
//! * row structs are plain serde structs used directly as HTTP API JSON.

#![warn(missing_docs)]

mod error;
mod util;

pub mod agenda;
pub mod agent_state;
pub mod agents;
pub mod call_quality;
pub mod calls;
mod campaign_dtmf;
pub mod campaigns;
pub mod contacts;
mod csv;
pub mod dispositions;
pub mod dnc;
pub mod events;
pub mod exports;
pub mod import;
pub mod outbound;
pub mod pause_reasons;
pub mod recordings;
pub mod recovery;
pub mod registrations;
pub mod reports;
pub mod sessions;
pub mod supervision;

#[cfg(test)]
mod tests;

pub use agenda::{AgendaKind, AgendaRow, AgendaStatus, NewAgenda};
pub use agent_state::AgentStateRow;
pub use agents::{AgentAudio, AgentRole, AgentRow, AgentUpdate, NewAgent, SipHa1};
pub use call_quality::{CallQualityRow, SideQuality};
pub use calls::{CallDirection, CallQuery, CallRow, NewCall};
pub use campaigns::{CampaignInput, CampaignKind, CampaignRow, QueueStrategy};
pub use contacts::{ContactHistory, ContactListRow, ContactQuery, ContactRow, ContactStatus};
pub use dispositions::{DispositionRow, NewDisposition};
pub use dnc::{DncImportReport, DncRow};
pub use error::{Result, StorageError};
pub use events::{event_kind, CallEventRow};
pub use exports::{CallExport, ContactExport, DispositionExport, ExportFilter};
pub use import::{ImportColumns, ImportDuplicate, ImportError, ImportOptions, ImportReport};
pub use outbound::OutboundRow;
pub use pause_reasons::PauseReasonRow;
pub use recordings::{NewRecording, NewTag, RecordingQuery, RecordingRow, TagRow};
pub use recovery::{CallbackRecovery, Interrupted, OpenRecording};
pub use registrations::RegistrationRow;
pub use reports::{AgentReport, CallStats, CampaignReport};
pub use sessions::SessionRow;
pub use supervision::SupervisionRow;
pub use util::{new_id, now_ms};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Transaction};

/// Handle to the database. Clone it freely: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Storage {
    pool: AnyPool,
    postgres: bool,
    /// A single-connection SQLite handle on which [`Storage::begin_batch`]
    /// groups writes into one transaction.
    batching: bool,
}

impl Storage {
    /// Opens (creating the SQLite file if missing) the database at `url` and
    /// applies pending migrations.
    ///
    /// Accepted URLs: `sqlite://relative/or/absolute.db`, `sqlite:name.db`,
    /// `sqlite::memory:` (a private in-memory database held by a single
    /// connection, for tests), and `postgres://` / `postgresql://`.
    /// SQLite files are put in WAL mode with foreign keys on, a 10 s busy
    /// timeout and `synchronous = FULL` (each commit synced to disk; the
    /// [`Storage::batch_writer`] handle uses `NORMAL`).
    pub async fn connect(url: &str) -> Result<Storage> {
        Storage::open(url, false).await
    }

    /// A second handle on the same database for one writer that groups its
    /// writes into transactions ([`Storage::begin_batch`]): on a SQLite file
    /// it owns one connection of its own, so a thousand small writes cost one
    /// commit instead of a thousand. On PostgreSQL and in-memory SQLite it is
    /// an ordinary handle and batches are no-ops (each write commits alone).
    pub async fn batch_writer(&self, url: &str) -> Result<Storage> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        if self.postgres || memory {
            return Ok(self.clone());
        }
        Storage::open(url, true).await
    }

    /// Begin grouping writes (see [`Storage::batch_writer`]); no-op elsewhere.
    pub async fn begin_batch(&self) -> Result<()> {
        if self.batching {
            self.pool.execute("BEGIN IMMEDIATE").await?;
        }
        Ok(())
    }

    /// Commit the writes grouped since [`Storage::begin_batch`].
    pub async fn commit_batch(&self) -> Result<()> {
        if self.batching {
            self.pool.execute("COMMIT").await?;
        }
        Ok(())
    }

    async fn open(url: &str, writer: bool) -> Result<Storage> {
        sqlx::any::install_default_drivers();
        let postgres = url.starts_with("postgres:") || url.starts_with("postgresql:");
        let sqlite = url.starts_with("sqlite:");
        if !postgres && !sqlite {
            return Err(StorageError::Invalid(format!(
                "unsupported database URL (expected sqlite: or postgres:): {url}"
            )));
        }
        let memory = sqlite && (url.contains(":memory:") || url.contains("mode=memory"));
        let mut url = url.to_string();
        if sqlite && !memory && !url.contains("mode=") {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("mode=rwc");
        }

        // No ping before each acquire: a broken connection fails its query
        // (and is replaced) instead of costing a round trip on every write.
        let mut options = AnyPoolOptions::new().test_before_acquire(false);
        if sqlite {
            // In WAL mode every commit survives a crash or kill -9 of the
            // server. synchronous=NORMAL (the storage writer's batches: CDRs,
            // call events, agent states) adds no fsync per commit, so an OS
            // crash or power loss may lose the last commits, which restart
            // recovery closes like any interrupted call. synchronous=FULL (every
            // other handle: logins, claims of callbacks and contacts,
            // dispositions, admin changes) syncs each commit, so a decision such
            // as "this callback fired" is on disk before the call is placed.
            let pragmas = if writer {
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;"
            } else {
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;"
            };
            options = options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute(pragmas).await?;
                    Ok(())
                })
            });
        }
        options = if memory {
            // Every connection to `sqlite::memory:` is a different database:
            // keep exactly one, forever.
            options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else if sqlite && writer {
            options.max_connections(1).min_connections(1)
        } else if sqlite {
            options.max_connections(4)
        } else {
            options.max_connections(10)
        };
        let pool = options.connect(&url).await?;
        if sqlite && !memory {
            // Persistent property of the file; set once, before concurrent use.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        sqlx::migrate!("./migrations").run(&pool).await?;
        tracing::debug!(postgres, "storage connected and migrated");
        Ok(Storage {
            pool,
            postgres,
            batching: writer && sqlite && !memory,
        })
    }

    /// True when connected to PostgreSQL, false for SQLite.
    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// Closes every connection of the pool (waits for checked-out ones).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction meant to write. On SQLite it is `BEGIN IMMEDIATE`
    /// so the write lock is taken up front: two writers then serialize on the
    /// busy timeout instead of failing on a lock upgrade.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(if self.postgres {
            self.pool.begin().await?
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await?
        })
    }

    /// The underlying connection pool.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Shorthand for decoding helpers: `row.try_get` returning the crate error.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    Ok(row.try_get(name)?)
}
