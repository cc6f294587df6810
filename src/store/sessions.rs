//! Web sessions of the workspace and the sign-in throttle. A session is found by the hash of its
//! cookie value and is live while it is not revoked, not past its absolute expiry, seen within the
//! idle limit, and its user is not disabled — so disabling a user or revoking a session takes
//! effect on the very next request, on every instance. Failed sign-ins are rows per key
//! (`login:…`, `addr:…`) counted over a window.

use chrono::{DateTime, TimeDelta, Utc};

use super::users::UserRow;
use super::{StoreError, User, to_ms};

/// A live session with its user.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub id: i64,
    pub csrf_token: String,
    pub user: User,
}

/// What [`SessionStore::create_session`] stores.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub user_id: i64,
    pub token_hash: &'a str,
    pub csrf_token: &'a str,
    pub expires_at: DateTime<Utc>,
    pub address: &'a str,
    pub user_agent: &'a str,
}

const INSERT_SESSION: &str = "insert into web_sessions (token_hash, user_id, csrf_token, created_at_ms, \
     last_seen_at_ms, expires_at_ms, address, user_agent) values ($1, $2, $3, $4, $4, $5, $6, $7) returning id";
const SESSION_LOOKUP: &str = "select s.id as session_id, s.csrf_token, s.last_seen_at_ms, \
     u.id, u.login, u.display_name, u.role, u.password_hash, u.disabled, u.created_at_ms \
     from web_sessions s join users u on u.id = s.user_id \
     where s.token_hash = $1 and s.revoked_at_ms is null and s.expires_at_ms > $2 \
     and s.last_seen_at_ms > $3 and not u.disabled";
const SESSION_TOUCH: &str = "update web_sessions set last_seen_at_ms = $2 where id = $1";
const REVOKE_SESSION: &str =
    "update web_sessions set revoked_at_ms = $2 where token_hash = $1 and revoked_at_ms is null";
const REVOKE_USER_SESSIONS: &str =
    "update web_sessions set revoked_at_ms = $2 where user_id = $1 and revoked_at_ms is null";
const INSERT_FAILURE: &str = "insert into login_failures (key, at_ms) values ($1, $2)";
const COUNT_FAILURES: &str = "select count(*) from login_failures where key = $1 and at_ms > $2";
const CLEAR_FAILURES: &str = "delete from login_failures where key = $1";
const PURGE_FAILURES: &str = "delete from login_failures where at_ms < $1";
/// A session's last-seen instant is written at most this often, so page loads stay reads.
const TOUCH_EVERY_MS: i64 = 30_000;

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: i64,
    csrf_token: String,
    last_seen_at_ms: i64,
    #[sqlx(flatten)]
    user: UserRow,
}

/// Sessions and failed sign-ins.
#[async_trait::async_trait]
pub trait SessionStore {
    /// Stores a new session; returns its id.
    async fn create_session(
        &self,
        s: &NewSession<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// The live session with this token hash (see the module text), its last-seen time renewed.
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: TimeDelta,
    ) -> Result<Option<WebSession>, StoreError>;
    /// Revokes one session (logout); false when it was not live.
    async fn revoke_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Revokes every live session of a user; returns how many.
    async fn revoke_user_sessions(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Records a failed sign-in under each key; forgets failures older than a day.
    async fn note_login_failure(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Failed sign-ins under `key` after `since`.
    async fn login_failures(&self, key: &str, since: DateTime<Utc>) -> Result<i64, StoreError>;
    /// Forgets the failures under `key` (after a successful sign-in).
    async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError>;
}

macro_rules! impl_session_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl SessionStore for $t {
            async fn create_session(
                &self,
                s: &NewSession<'_>,
                now: DateTime<Utc>,
            ) -> Result<i64, StoreError> {
                sqlx::query_scalar(INSERT_SESSION)
                    .bind(s.token_hash)
                    .bind(s.user_id)
                    .bind(s.csrf_token)
                    .bind(to_ms(now))
                    .bind(to_ms(s.expires_at))
                    .bind(s.address)
                    .bind(s.user_agent)
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| StoreError::unique(e, format!("user {}", s.user_id)))
            }

            async fn session(
                &self,
                token_hash: &str,
                now: DateTime<Utc>,
                idle: TimeDelta,
            ) -> Result<Option<WebSession>, StoreError> {
                let now_ms = to_ms(now);
                let row: Option<SessionRow> = sqlx::query_as(SESSION_LOOKUP)
                    .bind(token_hash)
                    .bind(now_ms)
                    .bind(now_ms - idle.num_milliseconds())
                    .fetch_optional(self.reader())
                    .await?;
                let Some(row) = row else { return Ok(None) };
                if now_ms - row.last_seen_at_ms >= TOUCH_EVERY_MS {
                    sqlx::query(SESSION_TOUCH)
                        .bind(row.session_id)
                        .bind(now_ms)
                        .execute(self.writer())
                        .await?;
                }
                Ok(Some(WebSession {
                    id: row.session_id,
                    csrf_token: row.csrf_token,
                    user: row.user.try_into()?,
                }))
            }

            async fn revoke_session(
                &self,
                token_hash: &str,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(REVOKE_SESSION)
                    .bind(token_hash)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn revoke_user_sessions(
                &self,
                user_id: i64,
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let r = sqlx::query(REVOKE_USER_SESSIONS)
                    .bind(user_id)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected())
            }

            async fn note_login_failure(
                &self,
                keys: &[String],
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                for key in keys {
                    sqlx::query(INSERT_FAILURE)
                        .bind(key)
                        .bind(to_ms(now))
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(PURGE_FAILURES)
                    .bind(to_ms(now - TimeDelta::days(1)))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn login_failures(
                &self,
                key: &str,
                since: DateTime<Utc>,
            ) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(COUNT_FAILURES)
                    .bind(key)
                    .bind(to_ms(since))
                    .fetch_one(self.reader())
                    .await?)
            }

            async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
                sqlx::query(CLEAR_FAILURES)
                    .bind(key)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }
        }
    };
}

impl_session_store!(super::sqlite::SqliteStore);
impl_session_store!(super::postgres::PgStore);
