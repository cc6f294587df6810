//! Managing users and their API tokens: the list, role and name changes, disabling (which revokes
//! the user's sessions and tokens in the same transaction), and the token register shown by
//! `perezvon token list` and the administration pages.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::users::{USER_COLUMNS, UserRow};
use super::{StoreError, User, from_ms, to_ms};
use crate::domain::user::Role;

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub login: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenInfo {
    /// True when the token works at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    login: String,
    label: String,
    created_at_ms: i64,
    last_used_at_ms: Option<i64>,
    expires_at_ms: Option<i64>,
    revoked_at_ms: Option<i64>,
}

const LIST_TOKENS: &str = "select t.id, u.login, t.label, t.created_at_ms, t.last_used_at_ms, \
     t.expires_at_ms, t.revoked_at_ms from api_tokens t join users u on u.id = t.user_id \
     where ($1 = '' or u.login = $1) order by t.id";
const REVOKE_TOKEN: &str =
    "update api_tokens set revoked_at_ms = $2 where id = $1 and revoked_at_ms is null";
const SET_ROLE: &str = "update users set role = $2 where login = $1";
const SET_NAME: &str = "update users set display_name = $2 where login = $1";
const SET_DISABLED: &str = "update users set disabled = $2 where login = $1 returning id";
const REVOKE_ALL_TOKENS: &str =
    "update api_tokens set revoked_at_ms = $2 where user_id = $1 and revoked_at_ms is null";
const REVOKE_ALL_SESSIONS: &str =
    "update web_sessions set revoked_at_ms = $2 where user_id = $1 and revoked_at_ms is null";

/// User administration.
#[async_trait::async_trait]
pub trait UserAdminStore {
    /// Every user, by login.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Changes a user's role; false when there is no such login.
    async fn set_role(&self, login: &str, role: Role) -> Result<bool, StoreError>;
    /// Changes a user's display name; false when there is no such login.
    async fn set_display_name(&self, login: &str, name: &str) -> Result<bool, StoreError>;
    /// Disables (revoking every session and token at once) or enables a user; false when there is
    /// no such login.
    async fn set_disabled(
        &self,
        login: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// API tokens, of one login or (`""`) of everyone.
    async fn tokens(&self, login: &str) -> Result<Vec<TokenInfo>, StoreError>;
    /// Revokes one token; false when there is no such live token.
    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

macro_rules! impl_user_admin_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl UserAdminStore for $t {
            async fn users(&self) -> Result<Vec<User>, StoreError> {
                let sql = format!("select {USER_COLUMNS} from users order by login");
                let rows: Vec<UserRow> = sqlx::query_as(&sql).fetch_all(self.reader()).await?;
                rows.into_iter().map(User::try_from).collect()
            }

            async fn set_role(&self, login: &str, role: Role) -> Result<bool, StoreError> {
                let r = sqlx::query(SET_ROLE)
                    .bind(login)
                    .bind(role.as_str())
                    .execute(self.writer())
                    .await?;
                self.forget_tokens();
                Ok(r.rows_affected() > 0)
            }

            async fn set_display_name(&self, login: &str, name: &str) -> Result<bool, StoreError> {
                let r = sqlx::query(SET_NAME)
                    .bind(login)
                    .bind(name)
                    .execute(self.writer())
                    .await?;
                self.forget_tokens();
                Ok(r.rows_affected() > 0)
            }

            async fn set_disabled(
                &self,
                login: &str,
                disabled: bool,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                let id: Option<i64> = sqlx::query_scalar(SET_DISABLED)
                    .bind(login)
                    .bind(disabled)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(id) = id else { return Ok(false) };
                if disabled {
                    for sql in [REVOKE_ALL_TOKENS, REVOKE_ALL_SESSIONS] {
                        sqlx::query(sql)
                            .bind(id)
                            .bind(to_ms(now))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                self.forget_tokens();
                Ok(true)
            }

            async fn tokens(&self, login: &str) -> Result<Vec<TokenInfo>, StoreError> {
                let rows: Vec<TokenRow> = sqlx::query_as(LIST_TOKENS)
                    .bind(login)
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| TokenInfo {
                        id: r.id,
                        login: r.login,
                        label: r.label,
                        created_at: from_ms(r.created_at_ms),
                        last_used_at: r.last_used_at_ms.map(from_ms),
                        expires_at: r.expires_at_ms.map(from_ms),
                        revoked_at: r.revoked_at_ms.map(from_ms),
                    })
                    .collect())
            }

            async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let r = sqlx::query(REVOKE_TOKEN)
                    .bind(id)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                self.forget_tokens();
                Ok(r.rows_affected() > 0)
            }
        }
    };
}

impl_user_admin_store!(super::sqlite::SqliteStore);
impl_user_admin_store!(super::postgres::PgStore);
