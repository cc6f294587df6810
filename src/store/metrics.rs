//! Counts behind the Prometheus gauges of `/metrics`, read at scrape time: callers waiting by call
//! state, operators by presence, unfinished or failed jobs by kind, callback requests by state,
//! and the due time of the oldest waiting callback request. Each is one aggregate query over an
//! indexed column, the same SQL text on SQLite and PostgreSQL; none returns a phone number or any
//! other personal data, only states, job kinds (names from the code) and counts.

use chrono::{DateTime, Utc};

use super::{JobState, StoreError, from_ms, parse_col, to_ms};
use crate::domain::call::CallState;
use crate::domain::operator::Presence;

/// Call states in which a caller is on the line waiting for an operator.
pub const WAITING_STATES: [CallState; 4] = [
    CallState::Incoming,
    CallState::Queued,
    CallState::Connecting,
    CallState::RingingOperator,
];

/// Job states the gauges report (done jobs are history, not load).
pub const JOB_STATES: [JobState; 3] = [JobState::Queued, JobState::Running, JobState::Failed];

/// States of a callback request.
pub const CALLBACK_STATES: [&str; 3] = ["open", "claimed", "closed"];

const WAITING: &str = "select state, cast(count(*) as bigint) from calls \
     where state in ('incoming', 'queued', 'connecting', 'ringing_operator') group by state";
const OPERATORS: &str =
    "select presence, cast(count(*) as bigint) from operators group by presence";
const JOBS: &str = "select kind, state, cast(count(*) as bigint) from jobs \
     where state in ('queued', 'running', 'failed') group by kind, state";
const CALLBACKS: &str =
    "select state, cast(count(*) as bigint) from callback_requests group by state";
const OLDEST_DUE: &str = "select cast(min(due_at_ms) as bigint) from callback_requests \
     where state = 'open' and due_at_ms <= $1";

/// How many unfinished or failed jobs of one kind are in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCount {
    /// The job kind, e.g. `recording.download`.
    pub kind: String,
    pub state: JobState,
    pub count: i64,
}

/// Aggregate reads for `/metrics`.
#[async_trait::async_trait]
pub trait MetricsStore {
    /// Calls in each of the [`WAITING_STATES`] (a state with none is absent).
    async fn waiting_calls(&self) -> Result<Vec<(CallState, i64)>, StoreError>;
    /// Operators by presence (a presence nobody has is absent).
    async fn operators_by_presence(&self) -> Result<Vec<(Presence, i64)>, StoreError>;
    /// Jobs queued, running or failed, by kind and state (pairs with none are absent).
    async fn jobs_by_kind(&self) -> Result<Vec<JobCount>, StoreError>;
    /// Callback requests by state (`open`, `claimed`, `closed`; a state with none is absent).
    async fn callbacks_by_state(&self) -> Result<Vec<(String, i64)>, StoreError>;
    /// The earliest due time among open (unclaimed) callback requests due by `now`, if any.
    async fn oldest_due_callback(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
}

macro_rules! impl_metrics_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl MetricsStore for $t {
            async fn waiting_calls(&self) -> Result<Vec<(CallState, i64)>, StoreError> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as(WAITING).fetch_all(self.reader()).await?;
                rows.into_iter()
                    .map(|(s, n)| Ok((parse_col(&s, "calls.state")?, n)))
                    .collect()
            }

            async fn operators_by_presence(&self) -> Result<Vec<(Presence, i64)>, StoreError> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as(OPERATORS).fetch_all(self.reader()).await?;
                rows.into_iter()
                    .map(|(p, n)| Ok((parse_col(&p, "operators.presence")?, n)))
                    .collect()
            }

            async fn jobs_by_kind(&self) -> Result<Vec<JobCount>, StoreError> {
                let rows: Vec<(String, String, i64)> =
                    sqlx::query_as(JOBS).fetch_all(self.reader()).await?;
                rows.into_iter()
                    .map(|(kind, state, count)| {
                        Ok(JobCount {
                            kind,
                            state: parse_col(&state, "jobs.state")?,
                            count,
                        })
                    })
                    .collect()
            }

            async fn callbacks_by_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
                Ok(sqlx::query_as(CALLBACKS).fetch_all(self.reader()).await?)
            }

            async fn oldest_due_callback(
                &self,
                now: DateTime<Utc>,
            ) -> Result<Option<DateTime<Utc>>, StoreError> {
                let ms: Option<i64> = sqlx::query_scalar(OLDEST_DUE)
                    .bind(to_ms(now))
                    .fetch_one(self.reader())
                    .await?;
                Ok(ms.map(from_ms))
            }
        }
    };
}

impl_metrics_store!(super::sqlite::SqliteStore);
impl_metrics_store!(super::postgres::PgStore);
