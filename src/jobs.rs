//! Durable background jobs: the kinds Perezvon enqueues and how often each may be tried.
//! (The worker that runs them arrives with the recording download.)

/// Download a recording from the provider and store it (payload: provider, call_id, recording_id, url).
pub const DOWNLOAD_RECORDING: &str = "recording.download";
/// Attempts before a download gives up: with backoff capped at 30 minutes this spans more than a day.
pub const DOWNLOAD_MAX_ATTEMPTS: i64 = 100;
