//! What the reconciler looks for: calls stuck in a state that only a webhook that never came (or
//! a killed process) would have moved them out of, and voicemails whose number is settled but
//! which are not on the callback list. The repairs themselves are call steps
//! ([`super::CallStepStore::call_step`]), so they are as atomic as a webhook and recorded as events.
//! Each query is an index range scan that finds nothing when nothing is wrong.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::calls::{CALL_COLS, CallRow};
use super::{Call, StoreError, to_ms};
use crate::domain::voicemail::{FLAG_NO_CALLBACK_NUMBER, FLAG_NUMBER_UNCONFIRMED};

/// Counts of what one reconciler pass (or all passes so far) repaired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Repairs {
    /// Operators left `on_call` for a call that is over (or never was theirs).
    pub orphaned_operators: u64,
    /// Calls left `connecting` (the move to an operator never arrived): back to the queue.
    pub stuck_connecting: u64,
    /// Queued calls with no webhook for longer than the longest wait: the caller is gone.
    pub stale_queued: u64,
    /// Voicemails with a settled number that had not joined the callback list.
    pub unlisted_voicemails: u64,
    /// Callback claims whose lease ran out.
    pub expired_claims: u64,
    /// Calls whose end never came (an operator's phone "ringing" for longer than any call lasts,
    /// or a finished conversation with no final status): ended, the operator freed.
    pub lost_endings: u64,
}

impl Repairs {
    /// The sum of all repairs.
    pub fn total(&self) -> u64 {
        self.orphaned_operators
            + self.stuck_connecting
            + self.stale_queued
            + self.unlisted_voicemails
            + self.expired_claims
            + self.lost_endings
    }

    /// Adds another pass's counts.
    pub fn add(&mut self, o: &Repairs) {
        self.orphaned_operators += o.orphaned_operators;
        self.stuck_connecting += o.stuck_connecting;
        self.stale_queued += o.stale_queued;
        self.unlisted_voicemails += o.unlisted_voicemails;
        self.expired_claims += o.expired_claims;
        self.lost_endings += o.lost_endings;
    }
}

static STALE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("{CALL_COLS} where state = $1 and updated_at_ms < $2 order by updated_at_ms limit $3")
});
/// Calls changed in [$1, $2) whose voicemail's number is settled (confirmed, kept unconfirmed, or
/// the call is over) but which are not on the callback list. Driven by the (state, updated_at)
/// index, so a pass reads only the calls that changed since the one before.
static UNLISTED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select {} from calls c join voicemails v on v.call_id = c.id \
         where c.state in ('voicemail', 'voicemail_left', 'completed', 'abandoned') \
         and c.updated_at_ms >= $1 and c.updated_at_ms < $2 \
         and v.callback_request_id is null and v.callback_number is not null \
         and (',' || v.flags || ',') not like '%,{FLAG_NO_CALLBACK_NUMBER},%' \
         and (v.number_confirmed or (',' || v.flags || ',') like '%,{FLAG_NUMBER_UNCONFIRMED},%' \
              or c.state in ('voicemail_left', 'completed', 'abandoned')) \
         order by c.id limit $3",
        super::step::prefixed("c.")
    )
});

/// Lookups for the reconciler.
#[async_trait::async_trait]
pub trait ReconcileStore {
    /// Calls in `state` not changed since before `before`, oldest first.
    async fn stale_calls(
        &self,
        state: &str,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Call>, StoreError>;
    /// Calls changed from `since` to before `before` whose voicemail has a settled number but is
    /// not on the callback list.
    async fn unlisted_voicemail_calls(
        &self,
        since: DateTime<Utc>,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Call>, StoreError>;
}

macro_rules! impl_reconcile_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl ReconcileStore for $t {
            async fn stale_calls(
                &self,
                state: &str,
                before: DateTime<Utc>,
                limit: i64,
            ) -> Result<Vec<Call>, StoreError> {
                let rows: Vec<CallRow> = sqlx::query_as(STALE.as_str())
                    .bind(state)
                    .bind(to_ms(before))
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(Call::from).collect())
            }

            async fn unlisted_voicemail_calls(
                &self,
                since: DateTime<Utc>,
                before: DateTime<Utc>,
                limit: i64,
            ) -> Result<Vec<Call>, StoreError> {
                let rows: Vec<CallRow> = sqlx::query_as(UNLISTED.as_str())
                    .bind(to_ms(since))
                    .bind(to_ms(before))
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(Call::from).collect())
            }
        }
    };
}

impl_reconcile_store!(super::sqlite::SqliteStore);
impl_reconcile_store!(super::postgres::PgStore);
