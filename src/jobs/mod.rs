//! Durable background jobs and the worker that runs them.
//!
//! Jobs live in the database (see [`crate::store::JobStore`]): a claim takes a lease, so a job
//! survives a crash or a restart mid-run (its lease runs out and it is claimed again), and two
//! workers — two instances on one PostgreSQL — never run the same job at once. The worker loop is
//! `select! { sleep_until(next due), wake-up, shutdown }` in the manner of mini-redis; each handler
//! says whether the job is done, should run again later (with backoff), or has failed for good.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::store::{Job, Store};

pub mod download;
pub mod privacy;
pub mod retention;
pub mod sms;

/// Download a recording from the provider and store it (payload: provider, call_id, recording_id, url).
pub const DOWNLOAD_RECORDING: &str = "recording.download";
/// Attempts before a download gives up: with backoff capped at 30 minutes this spans more than a day.
pub const DOWNLOAD_MAX_ATTEMPTS: i64 = 100;

/// How long a claim holds a job before another worker may take it.
const LEASE: TimeDelta = TimeDelta::minutes(5);
/// The longest the worker sleeps without looking for work.
const IDLE: Duration = Duration::from_secs(5);

/// What a handler decided about a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// Run again at the given instant, recording the error.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Give up for good.
    Failed(String),
}

/// Runs one kind of job.
#[async_trait::async_trait]
pub trait Handler: Send + Sync {
    /// The job kind it runs.
    fn kind(&self) -> &'static str;
    /// Runs the job.
    async fn run(&self, job: &Job, now: DateTime<Utc>) -> Outcome;
}

/// Exponential backoff: `base` × 2^(attempt − 1), at most `cap`.
pub fn backoff(attempt: i64, base: TimeDelta, cap: TimeDelta) -> TimeDelta {
    let shift = (attempt.max(1) - 1).min(20) as u32;
    (base * 2i32.pow(shift)).min(cap)
}

/// The job worker of one instance.
pub struct Worker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    name: String,
    handlers: Vec<Arc<dyn Handler>>,
    wake: Arc<Notify>,
}

impl Worker {
    /// A worker named uniquely for this process (leases carry the name).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        handlers: Vec<Arc<dyn Handler>>,
    ) -> Worker {
        let name = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Worker {
            store,
            clock,
            name,
            handlers,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes on `wake` too (e.g. the switchboard's notifier, when an event enqueued a job).
    pub fn with_wake(mut self, wake: Arc<Notify>) -> Worker {
        self.wake = wake;
        self
    }

    /// Wakes the worker (a job was just enqueued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs every job that is due now; returns how many ran.
    pub async fn run_due(&self) -> anyhow::Result<usize> {
        let mut ran = 0;
        self.store.reap_jobs(self.clock.now()).await?;
        while let Some(job) = self
            .store
            .claim_job(&self.name, self.clock.now(), LEASE)
            .await?
        {
            ran += 1;
            let now = self.clock.now();
            let outcome = match self.handlers.iter().find(|h| h.kind() == job.kind) {
                Some(h) => h.run(&job, now).await,
                None => Outcome::Failed(format!("no handler for job kind `{}`", job.kind)),
            };
            let now = self.clock.now();
            match &outcome {
                Outcome::Done => {
                    self.store.complete_job(job.id, &self.name, now).await?;
                }
                Outcome::Retry { at, error } if job.attempts < job.max_attempts => {
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error, "job will be retried");
                    self.store
                        .retry_job(job.id, &self.name, *at, error, now)
                        .await?;
                }
                Outcome::Retry { error, .. } | Outcome::Failed(error) => {
                    tracing::error!(job = job.id, kind = %job.kind, attempt = job.attempts, error, "job failed for good");
                    self.store.fail_job(job.id, &self.name, error, now).await?;
                }
            }
        }
        Ok(ran)
    }

    /// Runs until `shutdown` completes, sleeping until the next job is due.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.run_due().await {
                tracing::error!(error = format!("{e:#}"), "job worker pass failed");
            }
            let sleep = match self.store.next_job_due().await {
                Ok(Some(at)) => (at - self.clock.now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(IDLE),
                _ => IDLE,
            };
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep.max(Duration::from_millis(50))) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = |n| backoff(n, TimeDelta::seconds(30), TimeDelta::minutes(30));
        assert_eq!(b(1), TimeDelta::seconds(30));
        assert_eq!(b(2), TimeDelta::seconds(60));
        assert_eq!(b(4), TimeDelta::seconds(240));
        assert_eq!(b(7), TimeDelta::minutes(30));
        assert_eq!(b(99), TimeDelta::minutes(30));
        // 100 attempts span more than a day.
        let total: TimeDelta = (1..DOWNLOAD_MAX_ATTEMPTS).map(b).sum();
        assert!(total > TimeDelta::hours(24), "{total}");
    }
}
