//! The recording download: fetch the voicemail's recording from the provider (with its auth,
//! following redirects), decode, check and store it (`crate::audio`), and note the result on the
//! voicemail. Timeouts and 5xx are retried with exponential backoff for more than a day; a 404 is
//! tried a few times (the provider may still be processing) and then the voicemail is flagged
//! `recording_missing`. An undecodable file is kept as received and the voicemail flagged
//! `audio_unreadable`; the voicemail and its callback exist either way. Optionally the recording is
//! deleted at the provider once stored (it is personal data). A recording that cannot be
//! written (a full disk above all) is logged at error level, counted in [`STORE_ERRORS`] and
//! retried like a download that failed: it stays at the provider until there is room.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use super::{Handler, Outcome, backoff};
use crate::audio::{self, AudioError, AudioStatus};
use crate::store::{AudioUpdate, Job, Store};
use crate::telephony::{FetchError, RecordingSource};

/// 404s tolerated before a recording counts as missing.
const NOT_FOUND_TRIES: i64 = 3;

#[derive(Deserialize)]
struct Payload {
    provider: String,
    call_id: i64,
    recording_id: String,
    url: String,
}

/// Runs [`super::DOWNLOAD_RECORDING`] jobs.
pub struct Download {
    pub store: Arc<dyn Store>,
    pub sources: Vec<Arc<dyn RecordingSource>>,
    pub data_dir: PathBuf,
    /// Delete the recording at the provider once it is stored.
    pub delete_at_provider: bool,
}

#[async_trait::async_trait]
impl Handler for Download {
    fn kind(&self) -> &'static str {
        super::DOWNLOAD_RECORDING
    }

    async fn run(&self, job: &Job, now: DateTime<Utc>) -> Outcome {
        let p: Payload = match serde_json::from_str(&job.payload) {
            Ok(p) => p,
            Err(e) => return Outcome::Failed(format!("bad payload: {e}")),
        };
        let Some(source) = self.sources.iter().find(|s| s.provider() == p.provider) else {
            return retry(
                job,
                now,
                format!("provider `{}` is not configured", p.provider),
            );
        };
        let vm = match self.store.voicemail_for_call(p.call_id).await {
            Ok(Some(vm)) => vm,
            Ok(None) => return Outcome::Failed(format!("call {} has no voicemail", p.call_id)),
            Err(e) => return retry(job, now, e.to_string()),
        };
        let bytes = match source.fetch(&p.recording_id, &p.url).await {
            Ok(b) => b,
            Err(FetchError::NotFound) if job.attempts < NOT_FOUND_TRIES => {
                return Outcome::Retry {
                    at: now + TimeDelta::minutes(job.attempts),
                    error: "404 from the provider".into(),
                };
            }
            Err(FetchError::NotFound) => {
                let missing = AudioUpdate {
                    status: "missing".into(),
                    ..Default::default()
                };
                let stored = self.store.set_voicemail_audio(p.call_id, &missing).await;
                let flagged = self
                    .store
                    .flag_voicemail(p.call_id, "recording_missing")
                    .await;
                if let Err(e) = stored.and(flagged) {
                    return retry(job, now, e.to_string());
                }
                return Outcome::Failed(format!(
                    "the provider has no recording {} (404)",
                    p.recording_id
                ));
            }
            Err(e) => return retry(job, now, e.to_string()),
        };
        let stored = match audio::store_recording(
            &self.data_dir,
            vm.id,
            vm.received_at,
            bytes,
            None,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                let reason = store_error_reason(&e);
                metrics::counter!(STORE_ERRORS, "reason" => reason).increment(1);
                if reason == DISK_FULL {
                    tracing::error!(
                        voicemail = vm.id,
                        data_dir = %self.data_dir.display(),
                        attempt = job.attempts,
                        error = %e,
                        "the recordings disk is full: the recording is kept at the provider and the download will be retried; free space under data_dir"
                    );
                } else {
                    tracing::error!(voicemail = vm.id, attempt = job.attempts, error = %e, "cannot store the recording; the download will be retried");
                }
                return retry(job, now, format!("cannot store the recording: {e}"));
            }
        };
        let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
        let a = stored.analysis.as_ref();
        let update = AudioUpdate {
            status: stored.status.as_str().into(),
            audio_path: stored.wav_path.as_deref().map(path),
            original_path: Some(path(&stored.original_path)),
            duration_ms: a.map(|a| a.duration_ms),
            sample_rate: a.map(|a| i64::from(a.sample_rate)),
            sha256: Some(stored.sha256.clone()),
            has_speech: a.map(|a| a.has_speech),
        };
        let mut result = self.store.set_voicemail_audio(p.call_id, &update).await;
        if stored.status == AudioStatus::Unreadable {
            result = result.and(
                self.store
                    .flag_voicemail(p.call_id, "audio_unreadable")
                    .await,
            );
        } else if a.is_some_and(|a| !a.has_speech) {
            result = result.and(self.store.flag_voicemail(p.call_id, "silent").await);
        }
        if let Err(e) = result {
            return retry(job, now, e.to_string());
        }
        tracing::info!(
            voicemail = vm.id,
            status = stored.status.as_str(),
            "recording stored"
        );
        if self.delete_at_provider
            && let Err(e) = source.delete(&p.recording_id).await
        {
            tracing::warn!(voicemail = vm.id, error = %e, "stored, but could not delete the recording at the provider");
        }
        Outcome::Done
    }
}

/// Recordings that could not be written to disk, by `reason` ([`DISK_FULL`] or `io`): the
/// metric to alert on (each failure is also logged at error level, and the download retried).
pub const STORE_ERRORS: &str = "perezvon_recordings_store_errors_total";
/// The `reason` of a write that failed for want of space (ENOSPC) or quota (EDQUOT).
pub const DISK_FULL: &str = "disk_full";

/// [`DISK_FULL`] when storing failed for want of space, else `io`.
pub fn store_error_reason(e: &AudioError) -> &'static str {
    let io = match e {
        AudioError::Io(e) => Some(e),
        AudioError::Wav(hound::Error::IoError(e)) => Some(e),
        _ => None,
    };
    match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded) => DISK_FULL,
        _ => "io",
    }
}

fn retry(job: &Job, now: DateTime<Utc>, error: String) -> Outcome {
    let wait = backoff(job.attempts, TimeDelta::seconds(30), TimeDelta::minutes(30));
    Outcome::Retry {
        at: now + wait,
        error,
    }
}

/// A recording source whose recordings are never deleted at the provider, for one provider whose
/// configuration keeps them while another's deletes them (one [`Download`] serves both).
pub struct KeepAtProvider(pub Arc<dyn RecordingSource>);

#[async_trait::async_trait]
impl RecordingSource for KeepAtProvider {
    fn provider(&self) -> &'static str {
        self.0.provider()
    }

    async fn fetch(&self, recording_id: &str, url: &str) -> Result<Vec<u8>, FetchError> {
        self.0.fetch(recording_id, url).await
    }

    async fn delete(&self, _recording_id: &str) -> Result<(), FetchError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counting(AtomicUsize);

    #[async_trait::async_trait]
    impl RecordingSource for Counting {
        fn provider(&self) -> &'static str {
            "zadarma"
        }
        async fn fetch(&self, id: &str, _url: &str) -> Result<Vec<u8>, FetchError> {
            Ok(id.as_bytes().to_vec())
        }
        async fn delete(&self, _id: &str) -> Result<(), FetchError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_is_told_from_other_write_errors() {
        let io = |kind| AudioError::Io(std::io::Error::from(kind));
        assert_eq!(
            store_error_reason(&io(std::io::ErrorKind::StorageFull)),
            DISK_FULL
        );
        assert_eq!(
            store_error_reason(&AudioError::Io(std::io::Error::from_raw_os_error(28))),
            DISK_FULL,
            "ENOSPC"
        );
        let wav = AudioError::Wav(hound::Error::IoError(std::io::Error::from(
            std::io::ErrorKind::QuotaExceeded,
        )));
        assert_eq!(store_error_reason(&wav), DISK_FULL);
        assert_eq!(
            store_error_reason(&io(std::io::ErrorKind::PermissionDenied)),
            "io"
        );
        assert_eq!(store_error_reason(&AudioError::InvalidId(-1)), "io");
    }

    #[tokio::test]
    async fn a_kept_source_fetches_but_never_deletes() {
        let inner = Arc::new(Counting(AtomicUsize::new(0)));
        let kept = KeepAtProvider(inner.clone());
        assert_eq!(kept.provider(), "zadarma");
        assert_eq!(kept.fetch("r1", "").await.unwrap(), b"r1");
        kept.delete("r1").await.unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 0);
        inner.delete("r1").await.unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
    }
}
