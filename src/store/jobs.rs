//! Durable jobs: work that must happen even if the process dies halfway (downloading a recording,
//! placing a callback, sending an SMS). A job is claimed with a lease; if the worker dies, the lease
//! runs out and another worker (or the same one after a restart) takes it again. A claim never
//! hands one job to two workers: on PostgreSQL the claim skips rows locked by another claimer, on
//! SQLite the single writer connection makes the claim one atomic update.

use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::{StoreError, from_ms, parse_col, to_ms};
use crate::domain::named_enum;

named_enum! {
    /// Where a job is in its life.
    pub enum JobState: "job state" {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

/// A job as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// JSON text.
    pub payload: String,
    pub dedup_key: Option<String>,
    pub state: JobState,
    /// Claims so far, including the current one.
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    /// At most one job per key ever: enqueueing the same key again is a no-op.
    pub dedup_key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i64,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    payload: String,
    dedup_key: Option<String>,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_at_ms: i64,
    lease_until_ms: Option<i64>,
    leased_by: Option<String>,
    last_error: Option<String>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Job, StoreError> {
        Ok(Job {
            id: r.id,
            state: parse_col(&r.state, "jobs.state")?,
            kind: r.kind,
            payload: r.payload,
            dedup_key: r.dedup_key,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_at: from_ms(r.run_at_ms),
            lease_until: r.lease_until_ms.map(from_ms),
            leased_by: r.leased_by,
            last_error: r.last_error,
        })
    }
}

const JOB_COLS: &str = "id, kind, payload, dedup_key, state, attempts, max_attempts, run_at_ms, lease_until_ms, leased_by, last_error";
pub(crate) const INSERT_JOB: &str = "insert into jobs (kind, payload, dedup_key, max_attempts, run_at_ms, created_at_ms, updated_at_ms) \
     values ($1, $2, $3, $4, $5, $6, $6) on conflict (dedup_key) do nothing returning id";
/// Ready: queued and due, or running with an expired lease (its worker died), attempts left.
const READY: &str = "((state = 'queued' and run_at_ms <= $1) or (state = 'running' and lease_until_ms < $1)) \
     and attempts < max_attempts";
const FINISH: &str = "update jobs set state = $3, run_at_ms = coalesce($4, run_at_ms), last_error = $5, \
     lease_until_ms = null, leased_by = null, updated_at_ms = $6 \
     where id = $1 and leased_by = $2 and state = 'running'";
const EXTEND: &str = "update jobs set lease_until_ms = $3, updated_at_ms = $4 \
     where id = $1 and leased_by = $2 and state = 'running'";
const REAP: &str = "update jobs set state = 'failed', lease_until_ms = null, leased_by = null, updated_at_ms = $1, \
     last_error = coalesce(last_error, '') || ' [lease expired with no attempts left]' \
     where state = 'running' and lease_until_ms < $1 and attempts >= max_attempts";
const NEXT_DUE: &str = "select min(case when state = 'queued' then run_at_ms else lease_until_ms end) from jobs \
     where state in ('queued', 'running')";

/// The claim statement with a backend's lock clause.
fn claim_sql(lock: &str) -> String {
    format!(
        "update jobs set state = 'running', attempts = attempts + 1, lease_until_ms = $2, leased_by = $3, \
         updated_at_ms = $1 where id = (select id from jobs where {READY} order by run_at_ms, id limit 1 {lock}) \
         returning {JOB_COLS}"
    )
}

/// Durable jobs.
#[async_trait::async_trait]
pub trait JobStore {
    /// Enqueues a job; `None` when a job with the same `dedup_key` exists.
    async fn enqueue_job(
        &self,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError>;
    /// Claims the next ready job for `worker` until `now + lease`; counts an attempt.
    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<Job>, StoreError>;
    /// Marks a claimed job done; false when `worker` no longer holds it.
    async fn complete_job(
        &self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Returns a claimed job to the queue to run again at `run_at`, recording the error.
    async fn retry_job(
        &self,
        id: i64,
        worker: &str,
        run_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Gives up on a claimed job for good, recording the error.
    async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Renews `worker`'s claim of a running job until `until`; false when it holds it no more.
    async fn extend_job_lease(
        &self,
        id: i64,
        worker: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Fails jobs whose lease expired with no attempts left (their worker kept dying); returns how many.
    async fn reap_jobs(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// The earliest instant a queued job is due or a lease expires, for the worker to sleep until.
    async fn next_job_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// One job by id.
    async fn job(&self, id: i64) -> Result<Option<Job>, StoreError>;
}

macro_rules! impl_job_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl JobStore for $t {
            async fn enqueue_job(
                &self,
                job: &NewJob,
                now: DateTime<Utc>,
            ) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::query_scalar(INSERT_JOB)
                    .bind(&job.kind)
                    .bind(&job.payload)
                    .bind(&job.dedup_key)
                    .bind(job.max_attempts.max(1))
                    .bind(to_ms(job.run_at))
                    .bind(to_ms(now))
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn claim_job(
                &self,
                worker: &str,
                now: DateTime<Utc>,
                lease: TimeDelta,
            ) -> Result<Option<Job>, StoreError> {
                static SQL: LazyLock<String> = LazyLock::new(|| claim_sql(<$t>::CLAIM_LOCK));
                let row: Option<JobRow> = sqlx::query_as(SQL.as_str())
                    .bind(to_ms(now))
                    .bind(to_ms(now + lease))
                    .bind(worker)
                    .fetch_optional(self.writer())
                    .await?;
                row.map(Job::try_from).transpose()
            }

            async fn complete_job(
                &self,
                id: i64,
                worker: &str,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                self.finish(id, worker, JobState::Done, None, None, now)
                    .await
            }

            async fn retry_job(
                &self,
                id: i64,
                worker: &str,
                run_at: DateTime<Utc>,
                error: &str,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                self.finish(id, worker, JobState::Queued, Some(run_at), Some(error), now)
                    .await
            }

            async fn fail_job(
                &self,
                id: i64,
                worker: &str,
                error: &str,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                self.finish(id, worker, JobState::Failed, None, Some(error), now)
                    .await
            }

            async fn extend_job_lease(
                &self,
                id: i64,
                worker: &str,
                until: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                Ok(sqlx::query(EXTEND)
                    .bind(id)
                    .bind(worker)
                    .bind(to_ms(until))
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?
                    .rows_affected()
                    == 1)
            }

            async fn reap_jobs(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                Ok(sqlx::query(REAP)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?
                    .rows_affected())
            }

            async fn next_job_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
                let ms: Option<i64> = sqlx::query_scalar(NEXT_DUE)
                    .fetch_one(self.reader())
                    .await?;
                Ok(ms.map(from_ms))
            }

            async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
                let sql = format!("select {JOB_COLS} from jobs where id = $1");
                let row: Option<JobRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(Job::try_from).transpose()
            }
        }

        impl $t {
            async fn finish(
                &self,
                id: i64,
                worker: &str,
                state: JobState,
                run_at: Option<DateTime<Utc>>,
                error: Option<&str>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(FINISH)
                    .bind(id)
                    .bind(worker)
                    .bind(state.as_str())
                    .bind(run_at.map(to_ms))
                    .bind(error)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected() > 0)
            }
        }
    };
}

impl_job_store!(super::sqlite::SqliteStore);
impl_job_store!(super::postgres::PgStore);
