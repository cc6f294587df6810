//! The PostgreSQL backend, for several Perezvon instances sharing one database. Claims use
//! `for update skip locked`, so two instances never take the same job or callback.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{APPLIED_MIGRATIONS, StoreError, StoreHealth, health_from};

/// Migrations for PostgreSQL, embedded at build time (same version numbers as SQLite's).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// How long a query waits for a connection before it fails. Short, because a webhook waits on it:
/// while the database is down (or restarting) sqlx keeps retrying the refused connection until
/// this runs out, and the caller hears silence meanwhile. After it the webhook answers the
/// apology, well within Twilio's 15 s; a healthy pool hands out a connection in milliseconds, so
/// a wait this long already means the database is unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// A pooled connection idle longer than this is pinged before use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// The PostgreSQL implementation of [`super::Store`].
pub struct PgStore {
    pool: PgPool,
    /// New calls' operator snapshot, reused briefly under load (see `step_postgres.rs`).
    pub(crate) snapshot: super::step_postgres::SnapshotCache,
    /// The claim batch task's queue (see `callbacks/claims_pg.rs`).
    pub(crate) claims: super::callbacks::ClaimQueue,
    /// Bearer tokens remembered briefly (see `token_cache.rs`).
    pub(crate) tokens: std::sync::Arc<super::token_cache::TokenCache>,
    /// Operator ids by login, once found (see `OperatorStore::operator_id_by_login`).
    pub(crate) operator_ids: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    /// New calls whose plan reserves an operator take their full step one at a time on this
    /// instance (see `step_postgres.rs`, `AtOnce::Reserves`).
    pub(crate) reserving: tokio::sync::Mutex<()>,
}

impl PgStore {
    /// Connects to the database at `url`; does not migrate.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        PgStore::connect_with(PgConnectOptions::from_str(url)?, 10).await
    }

    /// Connects with explicit options (tests use this to pin a fresh schema via `search_path`).
    pub async fn connect_with(
        opts: PgConnectOptions,
        max_connections: u32,
    ) -> Result<PgStore, StoreError> {
        // sqlx pings every idle connection before handing it out by default: a round trip in
        // front of every statement. Only a connection idle for a while is checked here; one
        // broken meanwhile (the server restarted) fails its statement once, and sqlx's check on
        // release then drops it.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(opts)
            .await?;
        Ok(PgStore {
            pool,
            snapshot: Default::default(),
            claims: Default::default(),
            tokens: Default::default(),
            operator_ids: Default::default(),
            reserving: Default::default(),
        })
    }

    /// A store on the same pool without this one's caches and tasks (for a task of its own:
    /// holding the store itself would keep it alive).
    pub(crate) fn sibling(&self) -> PgStore {
        PgStore {
            pool: self.pool.clone(),
            snapshot: Default::default(),
            claims: Default::default(),
            tokens: Default::default(),
            operator_ids: Default::default(),
            reserving: Default::default(),
        }
    }

    /// Forgets the new calls' operator snapshot: an operator may have just become free.
    pub(crate) fn forget_snapshot(&self) {
        self.snapshot.clear();
    }

    pub(crate) fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// A write transaction.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    pub(crate) fn reader(&self) -> &PgPool {
        &self.pool
    }

    /// Lock clause for claim subqueries: concurrent claimers skip rows another one holds.
    pub(crate) const CLAIM_LOCK: &'static str = "for update skip locked";

    /// Lock clause for reading a row the transaction is about to change.
    pub(crate) const ROW_LOCK: &'static str = "for update";
}

impl super::Backend for PgStore {
    type Conn = sqlx::PgConnection;
}

#[async_trait::async_trait]
impl super::Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn warm_up(&self) -> Result<u32, StoreError> {
        // Each connection runs the webhook path once (rolled back), so the first requests find
        // its statements prepared and the server's caches filled (see `warm_postgres.rs`).
        // All of the pool's connections: a burst at the start (a thousand webhooks a second
        // arriving at once) uses them all, and one opened then would make its first requests
        // wait for the server to start a backend and for its cold first statements.
        let n = self.pool.options().get_max_connections();
        super::warm(&self.pool, n, |mut c| {
            Box::pin(async move {
                super::warm_postgres::warm_statements(&mut c).await?;
                Ok(c)
            })
        })
        .await
    }

    async fn health(&self) -> Result<StoreHealth, StoreError> {
        let applied: Vec<i64> = match sqlx::query_scalar(APPLIED_MIGRATIONS)
            .fetch_all(&self.pool)
            .await
        {
            Ok(v) => v,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(health_from("postgres", &MIGRATOR, &applied))
    }

    async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("analyze").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// A PostgreSQL store on a fresh schema for the crate's own tests, or `None` (saying so) when
/// `PEREZVON_TEST_POSTGRES_URL` is not set.
#[cfg(test)]
pub(crate) mod testing {
    use std::str::FromStr;

    use sqlx::Connection;
    use sqlx::postgres::{PgConnectOptions, PgConnection};

    use super::PgStore;
    use crate::store::Store;

    /// A migrated store on its own schema, and the options that reach that schema.
    pub(crate) struct TestSchema {
        pub store: PgStore,
        pub opts: PgConnectOptions,
        url: String,
        schema: String,
    }

    impl TestSchema {
        pub(crate) async fn new(what: &str) -> Option<TestSchema> {
            let Ok(url) = std::env::var("PEREZVON_TEST_POSTGRES_URL") else {
                eprintln!("SKIPPED: PEREZVON_TEST_POSTGRES_URL is not set ({what})");
                return None;
            };
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("create schema {schema}"))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.unwrap();
            let opts = PgConnectOptions::from_str(&url)
                .unwrap()
                .options([("search_path", schema.as_str())]);
            let store = PgStore::connect_with(opts.clone(), 1).await.unwrap();
            store.migrate().await.unwrap();
            Some(TestSchema {
                store,
                opts,
                url,
                schema,
            })
        }

        /// Drops the schema (the store's pool is closed first).
        pub(crate) async fn drop_schema(self) {
            self.store.pool.close().await;
            let mut admin = PgConnection::connect(&self.url).await.unwrap();
            sqlx::query(&format!("drop schema {} cascade", self.schema))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}
