//! Reply cursors: for a provider whose answer holds a single action (Zadarma), where a call is in
//! the reply it was given — the script's id, the index of the action last sent, and when it was
//! sent. The webhook handler moves the cursor with a compare-and-set, so two instances (or a
//! notification and its re-delivery) never both advance it. The same SQL text on both backends.

use chrono::{DateTime, Utc};

use super::{StoreError, from_ms, to_ms};

/// Where a call is in its reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub script: String,
    pub position: i64,
    pub at: DateTime<Utc>,
}

const GET: &str = "select script, position, at_ms from reply_cursors \
     where provider = $1 and provider_call_id = $2";
const INSERT: &str = "insert into reply_cursors (provider, provider_call_id, script, position, at_ms) \
     values ($1, $2, $3, $4, $5) on conflict (provider, provider_call_id) do nothing";
const MOVE: &str = "update reply_cursors set script = $3, position = $4, at_ms = $5 \
     where provider = $1 and provider_call_id = $2 and script = $6 and position = $7";
const CLEAR: &str = "delete from reply_cursors where provider = $1 and provider_call_id = $2";

/// Reading and moving reply cursors.
#[async_trait::async_trait]
pub trait CursorStore {
    /// The call's cursor, if it has one.
    async fn reply_cursor(
        &self,
        provider: &str,
        provider_call_id: &str,
    ) -> Result<Option<Cursor>, StoreError>;
    /// Sets the cursor to `to` if it is still `from` (`None`: the call has none); false when it
    /// was moved meanwhile.
    async fn move_reply_cursor(
        &self,
        provider: &str,
        provider_call_id: &str,
        from: Option<&Cursor>,
        to: &Cursor,
    ) -> Result<bool, StoreError>;
    /// Forgets the call's cursor (the call is over).
    async fn clear_reply_cursor(
        &self,
        provider: &str,
        provider_call_id: &str,
    ) -> Result<(), StoreError>;
}

macro_rules! impl_cursor_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl CursorStore for $t {
            async fn reply_cursor(
                &self,
                provider: &str,
                provider_call_id: &str,
            ) -> Result<Option<Cursor>, StoreError> {
                let row: Option<(String, i64, i64)> = sqlx::query_as(GET)
                    .bind(provider)
                    .bind(provider_call_id)
                    .fetch_optional(self.writer())
                    .await?;
                Ok(row.map(|(script, position, at)| Cursor {
                    script,
                    position,
                    at: from_ms(at),
                }))
            }

            async fn move_reply_cursor(
                &self,
                provider: &str,
                provider_call_id: &str,
                from: Option<&Cursor>,
                to: &Cursor,
            ) -> Result<bool, StoreError> {
                let q = match from {
                    None => sqlx::query(INSERT),
                    Some(_) => sqlx::query(MOVE),
                }
                .bind(provider)
                .bind(provider_call_id)
                .bind(&to.script)
                .bind(to.position)
                .bind(to_ms(to.at));
                let q = match from {
                    None => q,
                    Some(f) => q.bind(&f.script).bind(f.position),
                };
                Ok(q.execute(self.writer()).await?.rows_affected() == 1)
            }

            async fn clear_reply_cursor(
                &self,
                provider: &str,
                provider_call_id: &str,
            ) -> Result<(), StoreError> {
                sqlx::query(CLEAR)
                    .bind(provider)
                    .bind(provider_call_id)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }
        }
    };
}

impl_cursor_store!(super::sqlite::SqliteStore);
impl_cursor_store!(super::postgres::PgStore);
