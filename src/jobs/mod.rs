//! Durable background jobs and the worker that runs them.
//!
//! Jobs live in the database (see [`crate::store::JobStore`]): a claim takes a lease, renewed every
//! third of its length while the job runs, so a job survives a crash or a restart mid-run (its
//! lease runs out within `job_lease_seconds` and another worker claims it again), a long job is
//! never taken from a live worker, and two workers — two instances on one PostgreSQL — never run
//! the same job at once. The worker loop is
//! `select! { sleep_until(next due), wake-up, shutdown }` in the manner of mini-redis; each handler
//! says whether the job is done, should run again later (with backoff), or has failed for good.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::store::{Job, Store};

pub mod download;
pub mod mail;
pub mod privacy;
pub mod retention;
pub mod sms;

/// Download a recording from the provider and store it (payload: provider, call_id, recording_id, url).
pub const DOWNLOAD_RECORDING: &str = "recording.download";
/// Attempts before a download gives up: with backoff capped at 30 minutes this spans more than a day.
pub const DOWNLOAD_MAX_ATTEMPTS: i64 = 100;

/// How long a claim holds a job, unless renewed, before another worker may take it (default of
/// `job_lease_seconds`).
pub const LEASE: TimeDelta = TimeDelta::seconds(60);
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
    lease: TimeDelta,
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
            lease: LEASE,
        }
    }

    /// Claims hold `lease` unless renewed (config `job_lease_seconds`).
    pub fn with_lease(mut self, lease: TimeDelta) -> Worker {
        self.lease = lease.max(TimeDelta::seconds(1));
        self
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
            .claim_job(&self.name, self.clock.now(), self.lease)
            .await?
        {
            ran += 1;
            let now = self.clock.now();
            let outcome = match self.handlers.iter().find(|h| h.kind() == job.kind) {
                Some(h) => self.holding_lease(&job, h.run(&job, now)).await,
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

    /// Runs `work`, renewing the job's lease every third of its length until it is done.
    async fn holding_lease(&self, job: &Job, work: impl Future<Output = Outcome>) -> Outcome {
        tokio::pin!(work);
        let beat = (self.lease / 3).to_std().unwrap_or(Duration::from_secs(1));
        loop {
            tokio::select! {
                outcome = &mut work => return outcome,
                _ = tokio::time::sleep(beat) => {
                    let now = self.clock.now();
                    match self.store.extend_job_lease(job.id, &self.name, now + self.lease, now).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = job.id, kind = %job.kind, "the job's lease was lost; another worker may run it too"),
                        Err(e) => tracing::warn!(job = job.id, error = %e, "could not renew the job's lease"),
                    }
                }
            }
        }
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

    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::config::Config;
    use crate::store::{JobState, NewJob};

    /// Sleeps, then counts a run.
    struct Slow(Arc<AtomicUsize>, Duration);

    #[async_trait::async_trait]
    impl Handler for Slow {
        fn kind(&self) -> &'static str {
            "slow"
        }
        async fn run(&self, _job: &Job, _now: DateTime<Utc>) -> Outcome {
            tokio::time::sleep(self.1).await;
            self.0.fetch_add(1, Ordering::SeqCst);
            Outcome::Done
        }
    }

    fn slow(dedup: &str, now: DateTime<Utc>) -> NewJob {
        NewJob {
            kind: "slow".into(),
            payload: "{}".into(),
            dedup_key: Some(dedup.into()),
            run_at: now,
            max_attempts: 3,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_running_job_keeps_its_lease_and_a_dead_workers_job_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/jobs.db", dir.path().display());
        let config =
            Config::load_with_env(None, [("PEREZVON_DATABASE_URL".to_owned(), url)]).unwrap();
        let store = crate::store::connect(&config.database_url).await.unwrap();
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let lease = TimeDelta::milliseconds(600);
        let (a_runs, b_runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let a_slow = Arc::new(Slow(a_runs.clone(), Duration::from_millis(1500)));
        let a = Worker::new(store.clone(), clock.clone(), vec![a_slow]).with_lease(lease);
        let b_fast = Arc::new(Slow(b_runs.clone(), Duration::ZERO));
        let b = Worker::new(store.clone(), clock.clone(), vec![b_fast]).with_lease(lease);

        // A job that runs 1.5 s under a 0.6 s lease: its worker renews the lease, nobody else runs it.
        let id = store
            .enqueue_job(&slow("long", clock.now()), clock.now())
            .await
            .unwrap()
            .unwrap();
        let running = tokio::spawn(async move { a.run_due().await.unwrap() });
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            b.run_due().await.unwrap(),
            0,
            "a live worker's job is not taken"
        );
        assert_eq!(running.await.unwrap(), 1);
        assert_eq!(
            (a_runs.load(Ordering::SeqCst), b_runs.load(Ordering::SeqCst)),
            (1, 0)
        );
        let j = store.job(id).await.unwrap().unwrap();
        assert_eq!((j.state, j.attempts), (JobState::Done, 1));

        // A worker that died holding a job: once its lease runs out, another worker runs it.
        let id = store
            .enqueue_job(&slow("orphan", clock.now()), clock.now())
            .await
            .unwrap()
            .unwrap();
        store
            .claim_job("dead", clock.now(), lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            b.run_due().await.unwrap(),
            0,
            "still leased by the dead worker"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(b.run_due().await.unwrap(), 1);
        let j = store.job(id).await.unwrap().unwrap();
        assert_eq!((j.state, j.attempts), (JobState::Done, 2));
        assert_eq!(b_runs.load(Ordering::SeqCst), 1);
    }

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
