//! Retention of recordings: once a day, audio older than the configured age (default 90 days) is
//! deleted from disk — the normalized WAV and the original — and the voicemail keeps its metadata
//! with the note `audio_removed`. Recordings are personal data; keeping them longer than needed is
//! not an option. The job re-enqueues itself for the next day (one job per Moscow date).

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Handler, Outcome};
use crate::calendar::MOSCOW;
use crate::store::{Job, NewJob, Store};

/// The daily sweep's job kind.
pub const RETENTION: &str = "recording.retention";

/// Runs [`RETENTION`] jobs.
pub struct Retention {
    pub store: Arc<dyn Store>,
    pub data_dir: PathBuf,
    /// Audio older than this is deleted.
    pub keep: TimeDelta,
}

/// The retention job for the Moscow date of `at` (enqueueing it twice is a no-op).
pub fn job_for(at: DateTime<Utc>) -> NewJob {
    let date = at.with_timezone(&MOSCOW).date_naive();
    NewJob {
        kind: RETENTION.into(),
        payload: "{}".into(),
        dedup_key: Some(format!("retention:{date}")),
        run_at: at,
        max_attempts: 5,
    }
}

#[async_trait::async_trait]
impl Handler for Retention {
    fn kind(&self) -> &'static str {
        RETENTION
    }

    async fn run(&self, _job: &Job, now: DateTime<Utc>) -> Outcome {
        let cutoff = now - self.keep;
        let mut removed = 0;
        loop {
            let batch = match self.store.voicemails_with_audio_before(cutoff, 200).await {
                Ok(b) => b,
                Err(e) => {
                    return Outcome::Retry {
                        at: now + TimeDelta::minutes(10),
                        error: e.to_string(),
                    };
                }
            };
            if batch.is_empty() {
                break;
            }
            for vm in batch {
                for path in [&vm.audio_path, &vm.original_path].into_iter().flatten() {
                    let path = PathBuf::from(path);
                    if !path.starts_with(&self.data_dir) {
                        tracing::error!(
                            voicemail = vm.id,
                            "audio path outside the data directory; not deleted"
                        );
                        continue;
                    }
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Outcome::Retry {
                                at: now + TimeDelta::minutes(10),
                                error: e.to_string(),
                            };
                        }
                    }
                }
                if let Err(e) = self.store.mark_audio_removed(vm.id).await {
                    return Outcome::Retry {
                        at: now + TimeDelta::minutes(10),
                        error: e.to_string(),
                    };
                }
                removed += 1;
            }
        }
        tracing::info!(removed, "retention: old recordings deleted");
        if let Err(e) = self
            .store
            .enqueue_job(&job_for(now + TimeDelta::days(1)), now)
            .await
        {
            tracing::error!(error = %e, "retention: cannot schedule tomorrow's sweep");
        }
        Outcome::Done
    }
}
