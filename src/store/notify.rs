//! The list as staff notifications see it (`domain::notify::Backlog`): one aggregate query over
//! the active requests (the partial index of requests not closed) plus a count of the requests
//! that came by e-mail since the previous working window closed. Counts only, no personal data.

use chrono::{DateTime, Utc};

use super::{StoreError, from_ms, to_ms};
use crate::domain::notify::Backlog;

const ACTIVE: &str = "select cast(count(*) as bigint), \
     cast(coalesce(sum(case when state = 'open' and due_at_ms <= $1 then 1 else 0 end), 0) as bigint), \
     cast(coalesce(sum(case when state = 'open' and due_at_ms < $2 then 1 else 0 end), 0) as bigint), \
     cast(coalesce(sum(case when deadline_at_ms < $1 then 1 else 0 end), 0) as bigint), \
     cast(min(case when state = 'open' and due_at_ms <= $1 then due_at_ms end) as bigint) \
     from callback_requests where state <> 'closed'";
const MAIL_SINCE: &str = "select cast(count(*) as bigint) from callback_requests \
     where source = 'email' and created_at_ms >= $1";

/// Reads for staff notifications.
#[async_trait::async_trait]
pub trait NotifyStore {
    /// The backlog at `now`: requests due before `today_close` count as due today, and e-mail
    /// requests created since `mail_since` as overnight mail.
    async fn notify_backlog(
        &self,
        now: DateTime<Utc>,
        today_close: DateTime<Utc>,
        mail_since: DateTime<Utc>,
    ) -> Result<Backlog, StoreError>;
}

macro_rules! impl_notify_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl NotifyStore for $t {
            async fn notify_backlog(
                &self,
                now: DateTime<Utc>,
                today_close: DateTime<Utc>,
                mail_since: DateTime<Utc>,
            ) -> Result<Backlog, StoreError> {
                let (waiting, due_now, due_today, overdue, oldest): (
                    i64,
                    i64,
                    i64,
                    i64,
                    Option<i64>,
                ) = sqlx::query_as(ACTIVE)
                    .bind(to_ms(now))
                    .bind(to_ms(today_close))
                    .fetch_one(self.reader())
                    .await?;
                let mail_overnight: i64 = sqlx::query_scalar(MAIL_SINCE)
                    .bind(to_ms(mail_since))
                    .fetch_one(self.reader())
                    .await?;
                Ok(Backlog {
                    waiting,
                    due_now,
                    due_today,
                    overdue,
                    oldest_due: oldest.map(from_ms),
                    mail_overnight,
                })
            }
        }
    };
}

impl_notify_store!(super::sqlite::SqliteStore);
impl_notify_store!(super::postgres::PgStore);
