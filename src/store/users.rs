//! Users (login, role, password hash) and their API bearer tokens (stored as SHA-256 hashes only).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, from_ms, parse_col, to_ms};
use crate::domain::user::Role;

/// A person who signs in: operator, supervisor or administrator. `Debug` omits the hash.
#[derive(Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    /// Argon2 PHC string; never serialized.
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// What [`UserStore::create_user`] needs. `Debug` omits the hash.
#[derive(Clone)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("login", &self.login)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    login: String,
    display_name: String,
    role: String,
    password_hash: String,
    disabled: bool,
    created_at_ms: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User, StoreError> {
        Ok(User {
            id: r.id,
            role: parse_col(&r.role, "users.role")?,
            login: r.login,
            display_name: r.display_name,
            password_hash: r.password_hash,
            disabled: r.disabled,
            created_at: from_ms(r.created_at_ms),
        })
    }
}

/// The columns a [`UserRow`] is read from.
pub(crate) const USER_COLUMNS: &str =
    "id, login, display_name, role, password_hash, disabled, created_at_ms";

pub(crate) const INSERT_USER: &str = "insert into users (login, display_name, role, password_hash, created_at_ms) \
     values ($1, $2, $3, $4, $5) returning id, login, display_name, role, password_hash, disabled, created_at_ms";
pub(crate) const USER_BY_LOGIN: &str = "select id, login, display_name, role, password_hash, disabled, created_at_ms \
     from users where login = $1";
pub(crate) const SET_PASSWORD: &str = "update users set password_hash = $2 where login = $1";
pub(crate) const INSERT_TOKEN: &str = "insert into api_tokens (user_id, token_hash, label, created_at_ms, expires_at_ms) \
     values ($1, $2, $3, $4, $5) returning id";
/// A live token and its enabled user, in one read.
pub(crate) const TOKEN_LOOKUP: &str = "select u.id, u.login, u.display_name, u.role, u.password_hash, \
     u.disabled, u.created_at_ms, t.id as token_id, t.last_used_at_ms as token_used_ms, \
     t.expires_at_ms as token_expires_ms from api_tokens t join users u on u.id = t.user_id \
     where t.token_hash = $1 and t.revoked_at_ms is null \
     and (t.expires_at_ms is null or t.expires_at_ms > $2) and not u.disabled";

/// A row of [`TOKEN_LOOKUP`].
#[derive(sqlx::FromRow)]
struct TokenUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    token_id: i64,
    token_used_ms: Option<i64>,
    token_expires_ms: Option<i64>,
}
pub(crate) const TOKEN_TOUCH: &str = "update api_tokens set last_used_at_ms = $2 where id = $1";
/// A token's last use is recorded at most this often, so API reads stay reads.
const TOUCH_EVERY_MS: i64 = 60_000;
pub(crate) const REVOKE_TOKENS: &str = "update api_tokens set revoked_at_ms = $2 \
     where revoked_at_ms is null and user_id = (select id from users where login = $1)";

/// Users and API tokens.
#[async_trait::async_trait]
pub trait UserStore {
    /// Creates a user; [`StoreError::Conflict`] when the login exists.
    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError>;
    /// The user with this login, enabled or not.
    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    /// Replaces a user's password hash; false when there is no such login.
    async fn set_password(&self, login: &str, password_hash: &str) -> Result<bool, StoreError>;
    /// Stores a token hash for a user; returns the token's id.
    async fn create_token(
        &self,
        user_id: i64,
        token_hash: &str,
        label: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// The enabled user owning a live (not revoked, not expired) token with this hash; records the use.
    async fn user_by_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError>;
    /// Revokes every live token of a login; returns how many.
    async fn revoke_tokens(&self, login: &str, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

macro_rules! impl_user_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl UserStore for $t {
            async fn create_user(
                &self,
                u: &NewUser,
                now: DateTime<Utc>,
            ) -> Result<User, StoreError> {
                let row: UserRow = sqlx::query_as(INSERT_USER)
                    .bind(&u.login)
                    .bind(&u.display_name)
                    .bind(u.role.as_str())
                    .bind(&u.password_hash)
                    .bind(to_ms(now))
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| {
                        StoreError::unique(e, format!("login `{}` exists already", u.login))
                    })?;
                row.try_into()
            }

            async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
                let row: Option<UserRow> = sqlx::query_as(USER_BY_LOGIN)
                    .bind(login)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(User::try_from).transpose()
            }

            async fn set_password(&self, login: &str, hash: &str) -> Result<bool, StoreError> {
                let r = sqlx::query(SET_PASSWORD)
                    .bind(login)
                    .bind(hash)
                    .execute(self.writer())
                    .await?;
                self.forget_tokens();
                Ok(r.rows_affected() > 0)
            }

            async fn create_token(
                &self,
                user_id: i64,
                token_hash: &str,
                label: &str,
                expires_at: Option<DateTime<Utc>>,
                now: DateTime<Utc>,
            ) -> Result<i64, StoreError> {
                sqlx::query_scalar(INSERT_TOKEN)
                    .bind(user_id)
                    .bind(token_hash)
                    .bind(label)
                    .bind(to_ms(now))
                    .bind(expires_at.map(to_ms))
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| StoreError::unique(e, format!("user {user_id} or token")))
            }

            async fn user_by_token(
                &self,
                token_hash: &str,
                now: DateTime<Utc>,
            ) -> Result<Option<User>, StoreError> {
                self.user_by_token_now(token_hash, now).await
            }

            async fn revoke_tokens(
                &self,
                login: &str,
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let r = sqlx::query(REVOKE_TOKENS)
                    .bind(login)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                self.forget_tokens();
                Ok(r.rows_affected())
            }
        }

        impl $t {
            /// The token's user and expiry, read from the database (and the use recorded).
            pub(crate) async fn lookup_token(
                &self,
                token_hash: &str,
                now: DateTime<Utc>,
            ) -> Result<Option<(User, Option<i64>)>, StoreError> {
                let now_ms = to_ms(now);
                let row: Option<TokenUserRow> = sqlx::query_as(TOKEN_LOOKUP)
                    .bind(token_hash)
                    .bind(now_ms)
                    .fetch_optional(self.reader())
                    .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                if row
                    .token_used_ms
                    .is_none_or(|t| now_ms - t >= TOUCH_EVERY_MS)
                {
                    sqlx::query(TOKEN_TOUCH)
                        .bind(row.token_id)
                        .bind(now_ms)
                        .execute(self.writer())
                        .await?;
                }
                Ok(Some((User::try_from(row.user)?, row.token_expires_ms)))
            }
        }
    };
}

impl_user_store!(super::sqlite::SqliteStore);
impl_user_store!(super::postgres::PgStore);

impl super::sqlite::SqliteStore {
    /// SQLite reads the token every time (a read on this host is cheap).
    async fn user_by_token_now(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        Ok(self.lookup_token(token_hash, now).await?.map(|(u, _)| u))
    }

    pub(crate) fn forget_tokens(&self) {}
}

impl super::postgres::PgStore {
    /// PostgreSQL remembers tokens briefly (see `token_cache.rs`).
    async fn user_by_token_now(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        use super::token_cache::Cached;
        match self.tokens.get(token_hash, to_ms(now)) {
            Cached::Fresh(user) => Ok(Some(user)),
            Cached::Refresh(user, generation) => {
                let (store, tokens) = (self.sibling(), self.tokens.clone());
                let hash = token_hash.to_owned();
                tokio::spawn(async move {
                    match store.lookup_token(&hash, now).await {
                        Ok(found) => tokens.put(&hash, found, generation),
                        Err(e) => {
                            tracing::debug!(error = %e, "token refresh failed");
                            tokens.refresh_failed(&hash);
                        }
                    }
                });
                Ok(Some(user))
            }
            Cached::Miss(generation) => {
                let found = self.lookup_token(token_hash, now).await?;
                self.tokens.put(token_hash, found.clone(), generation);
                Ok(found.map(|(u, _)| u))
            }
        }
    }

    /// Every remembered token forgotten: a user or a token changed.
    pub(crate) fn forget_tokens(&self) {
        self.tokens.forget_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_password_hash() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
        let new = NewUser {
            login: "ivanova".into(),
            display_name: "Иванова".into(),
            role: Role::Operator,
            password_hash: hash.into(),
        };
        let user = User {
            id: 1,
            login: "ivanova".into(),
            display_name: "Иванова".into(),
            role: Role::Operator,
            password_hash: hash.into(),
            disabled: false,
            created_at: Utc::now(),
        };
        let shown = format!("{new:?} {user:?} {user:#?}");
        assert!(!shown.contains("argon2"), "{shown}");
        assert!(shown.contains("ivanova") && shown.contains("<redacted>"));
    }
}
