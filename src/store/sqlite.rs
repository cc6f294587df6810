//! The SQLite backend: one file under the data directory, WAL journal, a busy timeout, foreign keys
//! on. Every write goes through a single writer connection (so writers never fight over SQLite's one
//! write lock and a claim is a single atomic update); reads use a small pool of reader connections,
//! which WAL lets run alongside the writer.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{APPLIED_MIGRATIONS, StoreError, StoreHealth, health_from};

/// Migrations for SQLite, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a connection waits for another process (e.g. the CLI) holding the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 4;

/// The SQLite implementation of [`super::Store`].
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Runs call steps in-thread with group commit (see `sqlite_writer.rs`).
    steps: super::sqlite_writer::Writer,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`; does not migrate.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, false).await
    }

    /// [`SqliteStore::open`], with `synchronous = full` when `full_sync` (every commit is on disk
    /// before it returns, even through a power cut) instead of `normal` (a power cut may lose the
    /// last commits, never corrupts; a crash of the process loses nothing).
    pub async fn open_with(path: &Path, full_sync: bool) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(sqlx::Error::Configuration(
                    format!("cannot create database directory {}: {e}", dir.display()).into(),
                ))
            })?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if full_sync {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // A connection to a local file does not go stale: no ping (a hop to sqlx's SQLite
        // thread) before each use.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(opts.create_if_missing(false));
        let steps = super::sqlite_writer::Writer::start(path, BUSY_TIMEOUT, full_sync)?;
        Ok(SqliteStore {
            writer,
            reader,
            steps,
        })
    }

    /// Nothing to forget: SQLite plans every step inside its one writer (the PostgreSQL backend
    /// keeps a brief operator snapshot for new calls).
    pub(crate) fn forget_snapshot(&self) {}

    /// The single writer connection: every statement that changes data goes here.
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// A write transaction on the writer connection, taking SQLite's write lock at once
    /// (`begin immediate`): a transaction that reads before it writes must not find, at its first
    /// write, that the call-step writer thread committed in between (SQLITE_BUSY_SNAPSHOT).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("begin immediate").await
    }

    /// The call-step writer thread.
    pub(crate) fn steps(&self) -> &super::sqlite_writer::Writer {
        &self.steps
    }

    /// The reader pool.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Lock clause for claim subqueries: none needed, the single writer serializes claims.
    pub(crate) const CLAIM_LOCK: &'static str = "";

    /// Lock clause for reading a row the transaction is about to change.
    pub(crate) const ROW_LOCK: &'static str = "";
}

impl super::Backend for SqliteStore {
    type Conn = sqlx::SqliteConnection;
}

#[async_trait::async_trait]
impl super::Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn warm_up(&self) -> Result<u32, StoreError> {
        // The readers open lazily; the writer connection and its thread are open already.
        let opened = super::warm(&self.reader, READERS, |c| Box::pin(async move { Ok(c) })).await?;
        Ok(opened + self.writer.size())
    }

    async fn health(&self) -> Result<StoreHealth, StoreError> {
        let applied: Vec<i64> = match sqlx::query_scalar(APPLIED_MIGRATIONS)
            .fetch_all(&self.reader)
            .await
        {
            Ok(v) => v,
            Err(sqlx::Error::Database(e)) if e.message().contains("no such table") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(health_from("sqlite", &MIGRATOR, &applied))
    }

    async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("analyze").execute(&self.writer).await?;
        Ok(())
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

#[cfg(test)]
mod sync_tests {
    use super::SqliteStore;

    #[tokio::test]
    async fn synchronous_is_normal_or_full_as_configured() {
        let dir = tempfile::tempdir().unwrap();
        for (full, want) in [(false, 1i64), (true, 2)] {
            let store = SqliteStore::open_with(&dir.path().join(format!("{full}.db")), full)
                .await
                .unwrap();
            let got: i64 = sqlx::query_scalar("pragma synchronous")
                .fetch_one(store.writer())
                .await
                .unwrap();
            assert_eq!(got, want, "full = {full}");
        }
    }
}
