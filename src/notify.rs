//! Staff notifications, sent: once a minute (and at each tick a test drives on an injected clock)
//! the notifier reads the list's backlog, asks `domain::notify` which notices are due, and
//! enqueues one durable job per notice and recipient — an e-mail (`mail.send`) to each address of
//! `notify.emails`, an SMS to each number of `notify.sms` — keyed by the notice, so a notice is
//! sent once however many ticks or instances decide it. Enqueueing is all a tick does; the job
//! worker sends, with retries, after a crash too. Operators' live view of new requests is the
//! workspace's own (`GET /events` signals the list as soon as a request joins it).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::calendar::{Calendar, MOSCOW};
use crate::clock::Clock;
use crate::domain::notify::{NotifySettings, due_notices};
use crate::store::{NewJob, Store, StoreError};

/// The job that sends one e-mail (payload: to, subject, text; see `jobs::mail`).
pub const SEND_MAIL: &str = "mail.send";
/// Attempts before an e-mail gives up (backoff capped at 30 minutes: about a day).
pub const MAIL_MAX_ATTEMPTS: i64 = 60;
/// How often the notifier looks.
const EVERY: Duration = Duration::from_secs(60);

/// Decides and enqueues staff notifications.
pub struct Notifier {
    pub store: Arc<dyn Store>,
    pub calendar: Arc<Calendar>,
    pub clock: Arc<dyn Clock>,
    pub settings: NotifySettings,
}

/// A letter to send: the payload of a [`SEND_MAIL`] job (read by `jobs::mail`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct MailPayload {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The letter it answers, and the thread (`In-Reply-To`, `References`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Its `Message-ID`, fixed in advance so that an answer threads to the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Sent by the service itself (`Auto-Submitted: auto-replied`), not by a person.
    #[serde(default)]
    pub automatic: bool,
}

impl MailPayload {
    /// The job that sends this letter; `dedup_key` names it (a second job with the key is not
    /// enqueued).
    pub fn job(&self, dedup_key: String, now: DateTime<Utc>) -> NewJob {
        NewJob {
            kind: SEND_MAIL.into(),
            payload: serde_json::to_string(self).unwrap_or_default(),
            dedup_key: Some(dedup_key),
            run_at: now,
            max_attempts: MAIL_MAX_ATTEMPTS,
        }
    }
}

/// The job that sends an automatic e-mail; `dedup_key` names it.
pub fn mail_job(
    to: &str,
    subject: &str,
    text: &str,
    dedup_key: String,
    now: DateTime<Utc>,
) -> NewJob {
    MailPayload {
        to: to.into(),
        subject: subject.into(),
        text: text.into(),
        automatic: true,
        ..Default::default()
    }
    .job(dedup_key, now)
}

impl Notifier {
    /// One look at `now`: the jobs it enqueued (0 when every due notice was enqueued before).
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        if !self.settings.has_recipients() || !self.calendar.is_open(now) {
            return Ok(0);
        }
        let (today_close, mail_since) = self.bounds(now);
        let backlog = self
            .store
            .notify_backlog(now, today_close, mail_since)
            .await?;
        let mut enqueued = 0;
        for n in due_notices(&self.calendar, &self.settings, now, &backlog) {
            let mut jobs: Vec<NewJob> = self
                .settings
                .emails
                .iter()
                .map(|to| {
                    mail_job(
                        to,
                        &n.subject,
                        &n.text,
                        format!("{}:email:{to}", n.key),
                        now,
                    )
                })
                .collect();
            jobs.extend(self.settings.sms.iter().map(|to| {
                crate::jobs::sms::sms_job(to, &n.sms, format!("{}:sms:{to}", n.key), now)
            }));
            for job in &jobs {
                if self.store.enqueue_job(job, now).await?.is_some() {
                    enqueued += 1;
                }
            }
        }
        if enqueued > 0 {
            tracing::info!(enqueued, "staff notifications enqueued");
        }
        Ok(enqueued)
    }

    /// When today's last window closes, and when the working window before the current one
    /// closed (the start of "overnight" for the digest's e-mail count).
    fn bounds(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let today = now.with_timezone(&MOSCOW).date_naive();
        let windows: Vec<_> = self
            .calendar
            .windows(now - TimeDelta::days(31), now + TimeDelta::days(1))
            .collect();
        let today_close = windows
            .iter()
            .filter(|w| w.start.with_timezone(&MOSCOW).date_naive() == today)
            .map(|w| w.end)
            .max()
            .unwrap_or(now);
        let current = windows.iter().find(|w| w.contains(now)).map(|w| w.start);
        let mail_since = windows
            .iter()
            .filter(|w| current.is_some_and(|c| w.end <= c))
            .map(|w| w.end)
            .max()
            .unwrap_or(now - TimeDelta::days(1));
        (today_close, mail_since)
    }

    /// Ticks every minute until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.tick(self.clock.now()).await {
                tracing::warn!(error = %e, "staff notifications: cannot read the list; trying again in a minute");
            }
            tokio::select! {
                () = tokio::time::sleep(EVERY) => {}
                () = &mut shutdown => return,
            }
        }
    }
}
