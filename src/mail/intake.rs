//! The support mailbox turned into requests, round the clock. One instance at a time holds the
//! mailbox (a lease in the database, renewed while it works; the others stand by and take over
//! when it lapses). The holder reads the letters after the last UID it finished, registers each
//! ([`crate::store::MailStore::register_letter`]: the request, its number, the automatic reply's
//! job, all in one commit), and only then marks the letter processed on the server and moves its
//! place — so a crash between fetching and committing registers the letter once after the
//! restart, and a letter seen twice (a restart after the commit, a UIDVALIDITY change) is
//! registered once by its Message-ID. Between passes it waits with IMAP IDLE (polling where the
//! server has none). Attachments up to `mail.max_attachment_bytes` are stored under the data
//! directory; automatic mail (auto-replies, bounces, lists) and blocked senders are kept, never
//! registered nor answered.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::imap::{ImapClient, Wake};
use super::{Letter, find_phones, mask_address, parse};
use crate::calendar::Calendar;
use crate::callbacks::Callbacks;
use crate::clock::Clock;
use crate::config::MailConfig;
use crate::domain::callback::{self, CallbackSettings};
use crate::store::Store;
use crate::store::mail::{IncomingLetter, MailPlan, Registered};
use crate::switchboard::Screening;

mod reply;
pub use reply::auto_reply;

/// How long the mailbox lease holds without renewal.
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// Letters read per pass.
const BATCH: usize = 50;

/// The mailbox intake of one instance.
pub struct Intake {
    pub store: Arc<dyn Store>,
    pub calendar: Arc<Calendar>,
    pub clock: Arc<dyn Clock>,
    pub mail: MailConfig,
    pub callbacks: CallbackSettings,
    /// Working time from a letter's arrival (or the next opening) to its deadline.
    pub sla: TimeDelta,
    pub screening: Arc<Screening>,
    pub data_dir: PathBuf,
    /// This instance's name in the lease.
    pub holder: String,
}

impl Intake {
    /// The mailbox's key in the database (server, account and folder).
    fn mailbox(&self) -> String {
        format!(
            "{}@{}:{}/{}",
            self.mail.imap.user, self.mail.imap.host, self.mail.imap.port, self.mail.folder
        )
    }

    /// Registers one letter (raw bytes): what it did.
    pub async fn register(&self, raw: &[u8], now: DateTime<Utc>) -> anyhow::Result<Registered> {
        let letter = parse(raw).context("the letter cannot be read")?;
        let key = letter
            .message_id
            .clone()
            .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(raw))));
        let from = letter
            .reply_to
            .clone()
            .or_else(|| letter.from_address.clone())
            .unwrap_or_default()
            .to_lowercase();
        let (blocklist, _) = self.screening.current().await?;
        let blocked = blocklist.blocks_email(&from).map(|r| r.id);
        if let Some(rule) = blocked {
            self.store
                .count_blocked_attempt(rule, &format!("mail:{key}"), now)
                .await?;
        }
        let attachments = if letter.automatic.is_none() && blocked.is_none() {
            self.store_attachments(&key, &letter)?
        } else {
            serde_json::json!([])
        };
        let phones = find_phones(&letter.text);
        let reference = letter.subject.split_whitespace().find_map(|w| {
            let w = w.trim_matches(|c: char| "[](){}<>:;,.!?«»\"'#№".contains(c));
            self.callbacks.registration.recognise(w)
        });
        let mut thread: Vec<String> = letter.references.iter().rev().cloned().collect();
        if let Some(r) = &letter.in_reply_to {
            thread.insert(0, r.clone());
        }
        let due = callback::due_at(&self.calendar, now);
        let deadline = callback::deadline(&self.calendar, due, self.sla);
        // The list's estimate for the letter's request, counted after every open request.
        let list = Callbacks::new(
            self.store.clone(),
            self.calendar.clone(),
            self.callbacks.clone(),
        );
        let staffing = list.staffing(now).await?;
        let ahead = u64::try_from(self.store.open_callback_count().await?).unwrap_or(0);
        let estimate = callback::etas(&self.calendar, now, staffing, ahead, [due])
            .first()
            .copied()
            .flatten()
            .map(|e| callback::eta_range(&e));
        let automatic = letter.automatic.map(|a| a.as_str());
        let incoming = IncomingLetter {
            key: &key,
            from_address: &from,
            subject: &letter.subject,
            body: &letter.text,
            attachments: &attachments.to_string(),
            automatic,
            blocked,
            phone: phones.first().map(String::as_str),
            reference: reference.as_deref(),
            thread: &thread,
            now,
        };
        let original = letter.clone();
        let (calendar, mail) = (self.calendar.clone(), self.mail.clone());
        let reply = move |reg: &str, new: bool| {
            auto_reply(&mail, &calendar, &original, reg, new, estimate, now)
        };
        let plan = MailPlan {
            due,
            deadline,
            deadline_work_ms: callback::work_ms(&self.calendar, deadline),
            priority: &self.callbacks.priority,
            registration: &self.callbacks.registration,
            reply: &reply,
        };
        let done = self.store.register_letter(&incoming, &plan).await?;
        match &done {
            Registered::New { reg_number, .. } => {
                tracing::info!(from = %mask_address(&from), number = %reg_number, "a letter registered as a new request")
            }
            Registered::Joined { reg_number, .. } => {
                tracing::info!(from = %mask_address(&from), number = %reg_number, "a letter joined its request")
            }
            Registered::Already(_) => tracing::info!("a letter seen before: nothing registered"),
            Registered::Kept => tracing::info!(
                from = %mask_address(&from),
                automatic = automatic.unwrap_or(""),
                blocked = blocked.is_some(),
                "a letter kept without a request (automatic mail or a blocked sender)"
            ),
        }
        Ok(done)
    }

    /// Writes the letter's attachments (each within the size limit) under
    /// `<data_dir>/mail/<hash of the letter's key>/`; their list for the request.
    fn store_attachments(&self, key: &str, letter: &Letter) -> anyhow::Result<serde_json::Value> {
        let dir = self
            .data_dir
            .join("mail")
            .join(&hex::encode(Sha256::digest(key.as_bytes()))[..24]);
        let mut list = Vec::new();
        for (i, a) in letter.attachments.iter().enumerate() {
            let name = safe_name(&a.filename);
            if a.bytes.len() > self.mail.max_attachment_bytes {
                list.push(serde_json::json!({
                    "filename": a.filename, "content_type": a.content_type,
                    "size": a.bytes.len(), "stored": false,
                }));
                continue;
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join(format!("{i}-{name}"));
            let tmp = dir.join(format!(".{i}-{name}.tmp"));
            std::fs::write(&tmp, &a.bytes)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .with_context(|| format!("cannot store {}", path.display()))?;
            let rel = path.strip_prefix(&self.data_dir).unwrap_or(&path);
            list.push(serde_json::json!({
                "filename": a.filename, "content_type": a.content_type,
                "size": a.bytes.len(), "stored": true, "path": rel.to_string_lossy(),
            }));
        }
        Ok(serde_json::Value::Array(list))
    }

    /// One pass over the mailbox while holding it: registers every letter after `last_uid` and
    /// marks it processed; the new place (UIDVALIDITY, last UID).
    pub async fn pass(
        &self,
        client: &mut ImapClient,
        place: (i64, i64),
    ) -> anyhow::Result<(i64, i64)> {
        let selected = client.select(&self.mail.folder).await?;
        let validity = i64::from(selected.uid_validity);
        // A new UIDVALIDITY renumbers the folder: start over (Message-IDs keep it once).
        let mut last = if validity == place.0 { place.1 } else { 0 };
        loop {
            let after = u32::try_from(last).unwrap_or(0);
            let letters = client.fetch_after(after, BATCH).await?;
            if letters.is_empty() {
                return Ok((validity, last));
            }
            for f in letters {
                let now = self.clock.now();
                if !f.processed() {
                    match self.register(&f.raw, now).await {
                        Ok(_) => {}
                        // A letter that is not a letter is kept on the server, skipped here.
                        Err(e) if e.downcast_ref::<super::ParseError>().is_some() => {
                            tracing::warn!(uid = f.uid, error = %e, "a message in the mailbox is not a letter; skipped");
                        }
                        Err(e) => return Err(e),
                    }
                    client.mark_processed(f.uid).await?;
                }
                last = i64::from(f.uid);
                let mailbox = self.mailbox();
                self.store
                    .set_mailbox_place(&mailbox, &self.holder, validity, last)
                    .await?;
            }
        }
    }

    /// Holds the mailbox when free and works it until `shutdown`; stands by otherwise.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mailbox = self.mailbox();
        loop {
            let outcome = tokio::select! {
                r = self.hold(&mailbox) => r,
                () = &mut shutdown => return,
            };
            let pause = match outcome {
                Ok(()) => self.mail.poll,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "mail intake: the mailbox failed; trying again");
                    self.mail.poll.min(Duration::from_secs(30))
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = &mut shutdown => return,
            }
        }
    }

    /// While this instance holds the lease: connect, pass, wait for news, renew; returns when
    /// another instance holds the mailbox.
    async fn hold(&self, mailbox: &str) -> anyhow::Result<()> {
        let now = self.clock.now();
        let Some(mut place) = self
            .store
            .take_mailbox(mailbox, &self.holder, now, now + LEASE)
            .await?
        else {
            return Ok(());
        };
        let mut client = ImapClient::connect(&self.mail.imap).await?;
        loop {
            place = self.pass(&mut client, place).await?;
            let wait = self.mail.poll.min(Duration::from_secs(20));
            // New mail or the time is up: either way renew the lease and look again.
            let _: Wake = client.wait(wait).await?;
            let now = self.clock.now();
            if self
                .store
                .take_mailbox(mailbox, &self.holder, now, now + LEASE)
                .await?
                .is_none()
            {
                return Ok(());
            }
        }
    }
}

/// A file name safe to write: letters, digits, `.`, `-`, `_` kept (Cyrillic too), anything else
/// `_`, at most 100 characters, never starting with a dot.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let s = s.trim_start_matches('.').to_owned();
    if s.is_empty() { "attachment".into() } else { s }
}
