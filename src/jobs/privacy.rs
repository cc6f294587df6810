//! Retention of personal data (152-FZ): once a day, the phone numbers of finished calls and
//! closed callback requests older than `privacy.mask_numbers_after_days` are replaced by their
//! pseudonyms (see [`crate::domain::pseudonym`]; statistics compare pseudonyms as they compared
//! numbers), and the providers' raw payloads of calls older than
//! `privacy.drop_payloads_after_days` are dropped. Open requests keep their number — an operator
//! still has to call back — and so do the calls and voicemails that belong to them. The e-mail
//! side follows the same age: the person's address in the letters of closed requests (and of
//! letters kept without one) and in closed requests is replaced by its pseudonym, and the numbers
//! written in those letters are masked (see `store/privacy_mail.rs`). The job counts
//! what it changed in its log line (never a number), is idempotent (a second run finds nothing),
//! and re-enqueues itself for the next Moscow date, like the recordings' retention.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::{Handler, Outcome};
use crate::calendar::MOSCOW;
use crate::config::PrivacySettings;
use crate::domain::pseudonym::Pseudonymizer;
use crate::store::{Job, Masked, NewJob, Store, StoreError};

/// The daily sweep's job kind.
pub const PRIVACY: &str = "privacy.retention";

/// Numbers masked per read of the ones left.
const BATCH: i64 = 100;
/// Payloads dropped per statement (keeps each write short beside the call path).
const PAYLOAD_BATCH: i64 = 1000;

/// Runs [`PRIVACY`] jobs.
pub struct Privacy {
    pub store: Arc<dyn Store>,
    pub settings: PrivacySettings,
}

/// The privacy job for the Moscow date of `at` (enqueueing it twice is a no-op).
pub fn job_for(at: DateTime<Utc>) -> NewJob {
    let date = at.with_timezone(&MOSCOW).date_naive();
    NewJob {
        kind: PRIVACY.into(),
        payload: "{}".into(),
        dedup_key: Some(format!("privacy:{date}")),
        run_at: at,
        max_attempts: 5,
    }
}

/// The pseudonyms of this installation: under `privacy.pseudonym_key` when configured, else
/// under the database's own key (made on first use).
pub async fn pseudonymizer(
    settings: &PrivacySettings,
    store: &dyn Store,
    now: DateTime<Utc>,
) -> Result<Pseudonymizer, StoreError> {
    Ok(match &settings.pseudonym_key {
        Some(k) => Pseudonymizer::new(k.expose().as_bytes()),
        None => {
            let hex_key = store.pseudonym_key(now).await?;
            let key = hex::decode(&hex_key)
                .map_err(|_| StoreError::Corrupt("privacy_key.key is not hex".into()))?;
            Pseudonymizer::new(&key)
        }
    })
}

/// What one sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Distinct numbers replaced by pseudonyms.
    pub numbers: u64,
    /// Distinct e-mail addresses replaced by pseudonyms.
    pub addresses: u64,
    pub masked: Masked,
    pub payloads_dropped: u64,
}

/// Masks and drops what the settings say is past retention at `now`.
pub async fn sweep(
    store: &dyn Store,
    settings: &PrivacySettings,
    now: DateTime<Utc>,
) -> Result<Swept, StoreError> {
    let mut s = Swept::default();
    if let Some(age) = settings.mask_numbers_after {
        let cutoff = now - age;
        let pz = pseudonymizer(settings, store, now).await?;
        mask_each(store, &pz, Masking::Numbers, cutoff, &mut s).await?;
        s.masked.jobs += store.mask_old_sms(cutoff).await?;
        mask_each(store, &pz, Masking::Addresses, cutoff, &mut s).await?;
    }
    if let Some(age) = settings.drop_payloads_after {
        loop {
            let n = store.drop_payloads(now - age, PAYLOAD_BATCH).await?;
            s.payloads_dropped += n;
            if n == 0 {
                break;
            }
        }
    }
    Ok(s)
}

/// What a masking pass replaces by pseudonyms.
#[derive(Clone, Copy)]
enum Masking {
    Numbers,
    Addresses,
}

/// Masks every value of one kind past `cutoff`, a batch at a time, counting into `s`.
async fn mask_each(
    store: &dyn Store,
    pz: &Pseudonymizer,
    kind: Masking,
    cutoff: DateTime<Utc>,
    s: &mut Swept,
) -> Result<(), StoreError> {
    loop {
        let values = match kind {
            Masking::Numbers => store.numbers_to_mask(cutoff, BATCH).await?,
            Masking::Addresses => store.addresses_to_mask(cutoff, BATCH).await?,
        };
        if values.is_empty() {
            return Ok(());
        }
        let before = s.masked.total();
        for v in &values {
            let (m, count) = match kind {
                Masking::Numbers => (
                    store.mask_number(v, &pz.pseudonym(v), cutoff).await?,
                    &mut s.numbers,
                ),
                Masking::Addresses => (
                    store.mask_address(v, &pz.address(v), cutoff).await?,
                    &mut s.addresses,
                ),
            };
            *count += 1;
            s.masked.add(m);
        }
        if s.masked.total() == before {
            // Never loop on rows the masking does not reach (it would be a bug).
            let what = match kind {
                Masking::Numbers => "numbers",
                Masking::Addresses => "addresses",
            };
            tracing::error!(
                left = values.len(),
                what,
                "privacy: values past retention that masking did not change; stopped"
            );
            return Ok(());
        }
    }
}

#[async_trait::async_trait]
impl Handler for Privacy {
    fn kind(&self) -> &'static str {
        PRIVACY
    }

    async fn run(&self, _job: &Job, now: DateTime<Utc>) -> Outcome {
        if !self.settings.enabled() {
            // Left from a configuration with retention: nothing to do, and no next sweep.
            return Outcome::Done;
        }
        let s = match sweep(&*self.store, &self.settings, now).await {
            Ok(s) => s,
            Err(e) => {
                return Outcome::Retry {
                    at: now + TimeDelta::minutes(10),
                    error: e.to_string(),
                };
            }
        };
        let m = s.masked;
        tracing::info!(
            numbers = s.numbers,
            addresses = s.addresses,
            letters = m.letters,
            calls = m.calls,
            events = m.events,
            voicemails = m.voicemails,
            requests = m.requests,
            attempts = m.attempts,
            history = m.history,
            sms = m.jobs,
            payloads_dropped = s.payloads_dropped,
            "privacy: personal data past retention masked"
        );
        if let Err(e) = self
            .store
            .enqueue_job(&job_for(now + TimeDelta::days(1)), now)
            .await
        {
            tracing::error!(error = %e, "privacy: cannot schedule tomorrow's sweep");
        }
        Outcome::Done
    }
}
