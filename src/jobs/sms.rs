//! Sending an SMS through Twilio as a durable job: the message is enqueued with a dedup key (one
//! job per key ever, so enqueueing it again is a no-op) and sent by the job worker, which survives
//! restarts. Timeouts, transport errors, 5xx and 429 are retried with exponential backoff; a 4xx
//! refusal (e.g. Twilio 21211 invalid `To`, 21610 recipient unsubscribed) fails the job for good,
//! with Twilio's code in the recorded error. A job that is done is never run again, so a job sends
//! at most one message — except that a request which timed out may have been accepted by Twilio
//! and is then sent again on retry (Twilio's Messages API has no idempotency key). Phone numbers
//! appear in logs and job errors only masked, and the body never.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use super::{Handler, Outcome, backoff};
use crate::domain::phone::{PhoneNumber, mask, mask_in_text};
use crate::store::{Job, NewJob};
use crate::telephony::twilio::{TwilioClient, TwilioError};

/// The job kind: send one SMS (payload `{"to": "+7…", "body": "…"}`).
pub const SEND_SMS: &str = "sms.send";
/// Attempts before an SMS gives up: with backoff from 30 s capped at 30 minutes, about 7 hours.
pub const SMS_MAX_ATTEMPTS: i64 = 20;

#[derive(Deserialize)]
struct Payload {
    to: String,
    body: String,
}

/// The job that sends `body` to `to` (E.164) as soon as the worker gets to it. `dedup_key` names
/// the message (e.g. `sms:callback-confirmed:42`): a second job with the same key is not enqueued.
pub fn sms_job(to: &str, body: &str, dedup_key: String, now: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: SEND_SMS.into(),
        payload: serde_json::json!({ "to": to, "body": body }).to_string(),
        dedup_key: Some(dedup_key),
        run_at: now,
        max_attempts: SMS_MAX_ATTEMPTS,
    }
}

/// Runs [`SEND_SMS`] jobs through one Twilio account.
pub struct SmsHandler {
    pub client: TwilioClient,
    /// The sender: an E.164 number or a Messaging Service SID (`MG…`), as `twilio.sms_from`.
    pub from: String,
}

#[async_trait::async_trait]
impl Handler for SmsHandler {
    fn kind(&self) -> &'static str {
        SEND_SMS
    }

    async fn run(&self, job: &Job, now: DateTime<Utc>) -> Outcome {
        let p: Payload = match serde_json::from_str(&job.payload) {
            Ok(p) => p,
            // serde may quote a wrongly typed value (a number given as an integer): masked.
            Err(e) => {
                return Outcome::Failed(format!(
                    "bad SMS payload (expected {{\"to\": \"+7…\", \"body\": \"…\"}}): {}",
                    mask_in_text(&e.to_string())
                ));
            }
        };
        let to = match PhoneNumber::parse(&p.to) {
            Ok(n) => n,
            Err(e) => {
                return Outcome::Failed(format!(
                    "bad SMS payload: `to` {} is not a phone number ({e})",
                    mask(p.to.trim())
                ));
            }
        };
        match self
            .client
            .send_sms(to.as_str(), &self.from, &p.body, None)
            .await
        {
            Ok(sid) => {
                tracing::info!(job = job.id, to = %to, message_sid = %sid, "SMS sent");
                Outcome::Done
            }
            Err(e) if e.is_retryable() => {
                let wait = backoff(job.attempts, TimeDelta::seconds(30), TimeDelta::minutes(30));
                Outcome::Retry {
                    at: now + wait,
                    error: format!("SMS to {to}: {e}"),
                }
            }
            Err(e @ TwilioError::Decode(_)) => Outcome::Failed(format!(
                "SMS to {to}: {e} (the message may have been sent; not retried)"
            )),
            Err(e @ TwilioError::Http { .. }) => {
                Outcome::Failed(format!("SMS to {to} refused by Twilio: {e}"))
            }
            Err(e) => Outcome::Failed(format!("SMS to {to} cannot be sent: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(payload: &str) -> Job {
        Job {
            id: 1,
            kind: SEND_SMS.into(),
            payload: payload.into(),
            dedup_key: None,
            state: crate::store::JobState::Running,
            attempts: 1,
            max_attempts: SMS_MAX_ATTEMPTS,
            run_at: Utc::now(),
            lease_until: None,
            leased_by: None,
            last_error: None,
        }
    }

    fn handler() -> SmsHandler {
        SmsHandler {
            // Never reached: the payload is refused before any request.
            client: TwilioClient::new("http://127.0.0.1:9", "AC0123", "t").unwrap(),
            from: "+74950000000".into(),
        }
    }

    #[test]
    fn the_job_carries_the_payload_and_the_key() {
        let now = Utc::now();
        let j = sms_job("+79161234567", "Перезвоним", "sms:1".into(), now);
        assert_eq!(j.kind, SEND_SMS);
        assert_eq!((j.run_at, j.max_attempts), (now, SMS_MAX_ATTEMPTS));
        assert_eq!(j.dedup_key.as_deref(), Some("sms:1"));
        let v: serde_json::Value = serde_json::from_str(&j.payload).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"to": "+79161234567", "body": "Перезвоним"})
        );
    }

    #[tokio::test]
    async fn malformed_payloads_fail_without_leaking_the_text() {
        let h = handler();
        for payload in [
            "not json",
            r#"{"to": "+79161234567"}"#,
            r#"{"to": 79161234567, "body": "секрет"}"#,
        ] {
            match h.run(&job(payload), Utc::now()).await {
                Outcome::Failed(e) => {
                    assert!(e.contains("bad SMS payload"), "{e}");
                    assert!(!e.contains("1234567") && !e.contains("секрет"), "{e}");
                }
                other => panic!("{payload}: {other:?}"),
            }
        }
        match h
            .run(&job(r#"{"to": "+7916123456789", "body": "x"}"#), Utc::now())
            .await
        {
            Outcome::Failed(e) => {
                assert!(e.contains("`to`") && !e.contains("123456789"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }
}
