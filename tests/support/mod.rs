//! Shared test harness: a fresh database per test (a new SQLite file in a temp dir; a new schema in
//! the PostgreSQL named by `PEREZVON_TEST_POSTGRES_URL`), and the app served on port 0.
#![allow(dead_code)]

use std::str::FromStr;
pub mod browser;
pub mod cluster;
pub mod inproc;
pub mod instance;
pub mod letters;
pub mod line;
pub mod mail_servers;
pub mod private_pg;
pub mod service;
pub mod smtp_sink;
pub mod test_ca;
pub mod twilio;
pub mod web;

use std::sync::Arc;

use perezvon::store::Store;
use perezvon::store::postgres::PgStore;
use perezvon::store::sqlite::SqliteStore;
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;

/// A fresh, migrated database for one test.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    kind: Kind,
}

enum Kind {
    Sqlite(tempfile::TempDir),
    Postgres {
        opts: Box<PgConnectOptions>,
        schema: String,
    },
}

/// The PostgreSQL URL for tests, or `None` (and a note on stderr) when tests should skip it.
pub fn postgres_url() -> Option<String> {
    match std::env::var("PEREZVON_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "SKIPPED (PostgreSQL): set PEREZVON_TEST_POSTGRES_URL to run this test on PostgreSQL"
            );
            None
        }
    }
}

impl TestDb {
    /// A new SQLite database file in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("perezvon.db"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        TestDb {
            store: Arc::new(store),
            kind: Kind::Sqlite(dir),
        }
    }

    /// A new schema in the test PostgreSQL; `None` when PostgreSQL tests are not configured.
    pub async fn postgres() -> Option<TestDb> {
        let url = postgres_url()?;
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&url)
            .await
            .expect("PEREZVON_TEST_POSTGRES_URL must connect");
        sqlx::query(&format!("create schema {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let opts = PgConnectOptions::from_str(&url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let store = PgStore::connect_with(opts.clone(), 8).await.unwrap();
        store.migrate().await.unwrap();
        Some(TestDb {
            store: Arc::new(store),
            kind: Kind::Postgres {
                opts: Box::new(opts),
                schema,
            },
        })
    }

    /// A second, independent store on the same database: another instance of the service.
    pub async fn another_instance(&self) -> Arc<dyn Store> {
        match &self.kind {
            Kind::Sqlite(dir) => Arc::new(
                SqliteStore::open(&dir.path().join("perezvon.db"))
                    .await
                    .unwrap(),
            ),
            Kind::Postgres { opts, .. } => {
                Arc::new(PgStore::connect_with((**opts).clone(), 8).await.unwrap())
            }
        }
    }

    /// Two instances' stores on this database, each with its wake-ups shared over PostgreSQL's
    /// LISTEN/NOTIFY (running until `stop` says so), as `serve` sets them up.
    pub async fn two_instances_sharing_wakeups(
        &self,
        stop: &tokio::sync::watch::Receiver<bool>,
    ) -> Vec<(Arc<dyn Store>, Arc<perezvon::wake::Wake>)> {
        let mut out = Vec::new();
        for store in [self.store.clone(), self.another_instance().await] {
            let wake = Arc::new(perezvon::wake::Wake::new());
            wake.spawn_postgres(&self.database_url(), stop.clone())
                .await
                .unwrap();
            out.push((store, wake));
        }
        out
    }

    /// Runs raw SQL on the database through a connection of its own (fault injection, repairs
    /// a killed process would leave undone). `sqlite` and `postgres` are the backends' versions.
    pub async fn execute(&self, sqlite: &str, postgres: &str) {
        match &self.kind {
            Kind::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("perezvon.db").display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlite).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Kind::Postgres { opts, .. } => {
                let mut conn = sqlx::PgConnection::connect_with(opts).await.unwrap();
                sqlx::raw_sql(postgres).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }

    /// The number of rows in `table`, read through a connection of its own.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("select count(*) from {table}");
        match &self.kind {
            Kind::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("perezvon.db").display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                let n = sqlx::query_scalar(&sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                n
            }
            Kind::Postgres { opts, .. } => {
                let mut conn = sqlx::PgConnection::connect_with(opts).await.unwrap();
                let n = sqlx::query_scalar(&sql).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                n
            }
        }
    }

    /// The URL a service configured by hand (`database_url`) opens this database with: the SQLite
    /// file, or the PostgreSQL URL with this test's schema as its `search_path`.
    pub fn database_url(&self) -> String {
        match &self.kind {
            Kind::Sqlite(dir) => format!("sqlite://{}", dir.path().join("perezvon.db").display()),
            Kind::Postgres { schema, .. } => {
                let url = postgres_url().unwrap();
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options=-c%20search_path%3D{schema}")
            }
        }
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres { .. })
    }

    /// The SQLite data directory, if this is SQLite.
    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        match &self.kind {
            Kind::Sqlite(d) => Some(d.path()),
            Kind::Postgres { .. } => None,
        }
    }

    /// Closes the store and drops the PostgreSQL schema.
    pub async fn finish(self) {
        self.store.close().await;
        if let Kind::Postgres { schema, .. } = &self.kind {
            let url = postgres_url().unwrap();
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("drop schema {schema} cascade"))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
    }
}

/// Declares `mod sqlite` and `mod postgres`, each with one `#[tokio::test]` per named
/// `async fn name(db: &TestDb)` of the enclosing module.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::support::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::support::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                    db.finish().await;
                }
            )+
        }
    };
}
