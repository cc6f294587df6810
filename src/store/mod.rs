//! Storage: one [`Store`] trait, implemented for SQLite (the embedded default) and PostgreSQL
//! (several instances on one database).
//!
//! Both implementations run the same SQL text (`$1` placeholders, `returning`, `on conflict`) and
//! decode into the same row types; each resource lives in its own file (`users.rs`, `operators.rs`,
//! `calls.rs`, `jobs.rs`, `audit.rs`) holding its SQL, its rows and a small macro that implements
//! its part of the trait for both backends. They differ only where they must: connection setup and
//! the lock clause of a claim (`for update skip locked` on PostgreSQL; on SQLite every write goes
//! through a single writer connection, so a claim is one atomic update). Instants are stored as
//! integer milliseconds since the Unix epoch. A conformance suite (`tests/store_conformance.rs`) runs
//! every behaviour on both.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use crate::config::DatabaseUrl;

pub mod audit;
pub mod backup;
pub mod blocklist;
pub mod callbacks;
pub mod calls;
pub mod cursor;
pub mod facts;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod notify;
pub mod operators;
pub mod postgres;
pub mod privacy;
pub mod privacy_erase;
pub mod privacy_mail;
pub mod reconcile;
pub mod registration;
pub mod sessions;
pub mod sqlite;
mod sqlite_step;
pub mod sqlite_writer;
pub mod stats;
pub mod stats_callbacks;
pub mod step;
mod step_postgres;
pub mod token_cache;
pub mod user_admin;
pub mod users;
pub mod voicemails;
mod warm_postgres;
pub mod workspace;

pub use audit::{AuditEntry, AuditFilter, AuditStore, NewAuditEntry};
pub use blocklist::{AttemptCount, BlocklistStore};
pub use callbacks::{
    AttachVoicemail, Attached, Attempt, CallbackRequest, CallbackStore, Claimed, DialStart,
    HistoryEntry, ListScope, OutcomeChange, OutcomeNext,
};
pub use calls::{Call, CallEvent, CallStore, NewCallEvent, RecordedEvent};
pub use cursor::{Cursor, CursorStore};
pub use facts::FactsStore;
pub use jobs::{Job, JobState, JobStore, NewJob};
pub use mail::MailStore;
pub use metrics::{JobCount, MetricsStore};
pub use notify::NotifyStore;
pub use operators::{NewOperator, Operator, OperatorStore};
pub use privacy::{Masked, PrivacyStore};
pub use privacy_erase::{Erased, Erasure, ErasureStore, NumberData};
pub use privacy_mail::{AddressData, MailPrivacyStore};
pub use reconcile::{ReconcileStore, Repairs};
pub use registration::RegistrationStore;
pub use sessions::{NewSession, SessionStore, WebSession};
pub use stats::StatsStore;
pub use step::{
    Applied, AttachPlan, CallStepStore, Planner, SharedPlanner, StepDone, StepInput, StepPlan,
    StepRequest, VoicemailWrite, planner,
};
pub use user_admin::{TokenInfo, UserAdminStore};
pub use users::{NewUser, User, UserStore};
pub use voicemails::{AudioUpdate, Voicemail, VoicemailStore};
pub use workspace::{ListMark, NumberContacts, WorkspaceStore};

/// A storage failure, classified for the caller.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated (e.g. a login that exists already).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The stored data is not what the code expects (a bad enum value, say).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A step's plan failed (e.g. a reply that could not be rendered); nothing was written.
    #[error("step failed: {0}")]
    Step(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// True for a failure that the same step may succeed at when run again: a deadlock or a
    /// serialization failure between instances on PostgreSQL, SQLite's busy lock. Not a pool
    /// timeout: no connection came for the pool's whole acquire timeout (the database is down
    /// or restarting), and waiting that long again would keep a webhook past the provider's
    /// timeout instead of answering the apology.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(d)) => matches!(
                d.code().as_deref(),
                Some("40001" | "40P01" | "5" | "6" | "517")
            ),
            _ => false,
        }
    }

    /// Maps a unique-constraint violation to [`StoreError::Conflict`] with `what`, else passes through.
    pub(crate) fn unique(e: sqlx::Error, what: impl Into<String>) -> StoreError {
        match e.as_database_error() {
            Some(d) if d.is_unique_violation() => StoreError::Conflict(what.into()),
            Some(d) if d.is_foreign_key_violation() => StoreError::NotFound(what.into()),
            _ => StoreError::Database(e),
        }
    }
}

/// What `/readyz` reports about the database.
#[derive(Debug, Clone, Serialize)]
pub struct StoreHealth {
    pub backend: &'static str,
    /// Newest migration applied in the database (0 when none).
    pub applied_version: i64,
    /// Newest migration this build knows.
    pub expected_version: i64,
    /// True when every migration of this build is applied and none is newer.
    pub migrations_current: bool,
}

/// Everything Perezvon keeps. Held as `Arc<dyn Store>`.
#[async_trait::async_trait]
pub trait Store:
    UserStore
    + UserAdminStore
    + SessionStore
    + OperatorStore
    + CallStore
    + VoicemailStore
    + JobStore
    + AuditStore
    + CallbackStore
    + CallStepStore
    + FactsStore
    + StatsStore
    + stats_callbacks::CallbackTallyStore
    + ReconcileStore
    + RegistrationStore
    + WorkspaceStore
    + MetricsStore
    + MailStore
    + NotifyStore
    + CursorStore
    + PrivacyStore
    + ErasureStore
    + MailPrivacyStore
    + BlocklistStore
    + Send
    + Sync
{
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Checks the database answers and reports the migration state.
    async fn health(&self) -> Result<StoreHealth, StoreError>;
    /// Closes the pools (waits for connections to return).
    async fn close(&self);
    /// Opens the connections a burst of requests needs before the service takes any: on
    /// PostgreSQL a connection opened in the middle of a burst costs the request waiting for it
    /// tens of milliseconds. The connections now open.
    async fn warm_up(&self) -> Result<u32, StoreError>;
    /// Refreshes the query planner's statistics (`analyze`), as the database's own maintenance
    /// does in time: after a bulk load (a restore, a benchmark's setup) the plans are right at once.
    async fn analyze(&self) -> Result<(), StoreError>;
}

/// Opens the store named by `url` (`sqlite://…` or `postgres://…`) and applies migrations.
///
/// For SQLite the file and its directory are created when missing.
pub async fn connect(url: &DatabaseUrl) -> Result<Arc<dyn Store>, StoreError> {
    connect_with(url, false).await
}

/// [`connect`], with SQLite's `synchronous = full` when `sqlite_full_sync` (config
/// `sqlite_synchronous = "full"`).
pub async fn connect_with(
    url: &DatabaseUrl,
    sqlite_full_sync: bool,
) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = if url.is_postgres() {
        Arc::new(postgres::PgStore::connect(url.expose()).await?)
    } else {
        let path = url
            .expose()
            .trim_start_matches("sqlite:")
            .trim_start_matches("//");
        Arc::new(sqlite::SqliteStore::open_with(Path::new(path), sqlite_full_sync).await?)
    };
    store.migrate().await?;
    Ok(store)
}

/// Opens `n` connections of `pool` at once, passes each through `prepare` (which may run
/// statements on it), and returns them to the pool (idle, kept); the pool's size.
pub(crate) async fn warm<DB, F>(
    pool: &sqlx::Pool<DB>,
    n: u32,
    prepare: F,
) -> Result<u32, StoreError>
where
    DB: sqlx::Database,
    F: Fn(sqlx::pool::PoolConnection<DB>) -> WarmFuture<DB> + Send + Sync + Clone + 'static,
{
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..n {
        let pool = pool.clone();
        let prepare = prepare.clone();
        opening.spawn(async move { prepare(pool.acquire().await?).await });
    }
    let mut held = Vec::new();
    while let Some(opened) = opening.join_next().await {
        let opened = opened.map_err(|e| StoreError::Step(format!("opening a connection: {e}")))?;
        held.push(opened?);
    }
    drop(held);
    Ok(pool.size())
}

/// What [`warm`]'s `prepare` returns: the connection, prepared.
pub(crate) type WarmFuture<DB> = std::pin::Pin<
    Box<dyn Future<Output = Result<sqlx::pool::PoolConnection<DB>, StoreError>> + Send>,
>;

/// The connection a backend's transactions run on, so that one step (a webhook, a dispatcher move)
/// can call several resources' SQL inside one transaction.
pub trait Backend {
    type Conn;
}

/// Converts stored milliseconds to an instant.
pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Converts an instant to stored milliseconds.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Parses a stored name into an enum, reporting corruption instead of panicking.
pub(crate) fn parse_col<T: std::str::FromStr>(value: &str, column: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} = `{value}`")))
}

/// Newest version among the embedded migrations (the same on both backends).
fn newest(m: &sqlx::migrate::Migrator) -> i64 {
    m.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Health from the applied versions listed in `_sqlx_migrations`.
pub(crate) fn health_from(
    backend: &'static str,
    m: &sqlx::migrate::Migrator,
    applied: &[i64],
) -> StoreHealth {
    let expected_version = newest(m);
    let applied_version = applied.iter().copied().max().unwrap_or(0);
    let all = m.iter().all(|mig| applied.contains(&mig.version));
    StoreHealth {
        backend,
        applied_version,
        expected_version,
        migrations_current: all && applied_version == expected_version,
    }
}

/// SQL listing the successfully applied migrations (same on both backends).
pub(crate) const APPLIED_MIGRATIONS: &str =
    "select version from _sqlx_migrations where success order by version";
