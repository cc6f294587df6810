//! Sends [`crate::notify::SEND_MAIL`] jobs through the `[mail]` SMTP server: automatic replies to
//! letters and staff notifications. A payload that cannot be read fails for good with the reason;
//! an SMTP failure (the server down, a temporary refusal) runs again with backoff. A letter the
//! server accepted is never sent again: the job is done the moment SMTP says so.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Handler, Outcome, backoff};
use crate::mail::mask_address;
use crate::mail::smtp::{Outgoing, SmtpSender, new_message_id};
use crate::notify::{MailPayload, SEND_MAIL};
use crate::store::Job;

/// Runs `mail.send` jobs.
pub struct MailHandler {
    pub sender: SmtpSender,
    /// Our address (for the domain of a message id the job did not fix in advance).
    pub from_address: String,
}

#[async_trait::async_trait]
impl Handler for MailHandler {
    fn kind(&self) -> &'static str {
        SEND_MAIL
    }

    async fn run(&self, job: &Job, now: DateTime<Utc>) -> Outcome {
        let p: MailPayload = match serde_json::from_str(&job.payload) {
            Ok(p) => p,
            Err(e) => {
                return Outcome::Failed(format!(
                    "bad mail payload (expected to, subject, text): {e}"
                ));
            }
        };
        if !p.to.contains('@') {
            return Outcome::Failed(format!(
                "bad mail payload: `to` {} is not an address",
                mask_address(&p.to)
            ));
        }
        let letter = Outgoing {
            to: p.to.clone(),
            subject: p.subject,
            text: p.text,
            in_reply_to: p.in_reply_to,
            references: p.references,
            message_id: p
                .message_id
                .unwrap_or_else(|| new_message_id(&self.from_address)),
            automatic: p.automatic,
        };
        match self.sender.send(&letter).await {
            Ok(_) => {
                tracing::info!(job = job.id, to = %mask_address(&p.to), "letter sent");
                Outcome::Done
            }
            Err(e) => Outcome::Retry {
                at: now + backoff(job.attempts, TimeDelta::seconds(30), TimeDelta::minutes(30)),
                error: format!("letter to {}: {e:#}", mask_address(&p.to)),
            },
        }
    }
}
