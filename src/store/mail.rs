//! Letters in the database: an incoming letter is registered in one transaction — its row in
//! `mail_messages` (keyed by its Message-ID, so a letter seen again registers nothing), the
//! request it creates or joins, the request's history, and the automatic reply's job and row —
//! so the mailbox may mark the letter processed only after the commit and a crash in between
//! re-registers nothing. A letter joins a request when its subject names the request's
//! registration number, when it answers one of our letters (`In-Reply-To`/`References`), or when
//! it gives the phone number of an active request from a call or from the same sender; otherwise
//! it makes a new one (source `email`), whose callback number is the phone the letter gives unless
//! another sender's request has that number.
//! Automatic letters and blocked senders are kept, never registered nor answered. Also the
//! intake's place in the mailbox and the lease that lets one instance at a time take it.

use chrono::{DateTime, Utc};

use super::callbacks::{HISTORY, INSERT_REQUEST, NEXT_REG_SEQ, history_detail, rank_update};
use super::jobs::INSERT_JOB;
use super::{NewJob, StoreError, to_ms};
use crate::domain::callback::Priority;
use crate::domain::registration::RegistrationFormat;

/// A letter to register, as the intake read it.
#[derive(Debug, Clone)]
pub struct IncomingLetter<'a> {
    /// Its Message-ID, or a hash of the letter when it has none.
    pub key: &'a str,
    /// The sender, lower case.
    pub from_address: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// JSON list of the stored attachments.
    pub attachments: &'a str,
    /// Why it must not be answered (`automatic`), if it was sent by a machine.
    pub automatic: Option<&'a str>,
    /// The blocklist rule the sender matches, if any.
    pub blocked: Option<i64>,
    /// The first phone number found in the text (E.164).
    pub phone: Option<&'a str>,
    /// A registration number named in the subject.
    pub reference: Option<&'a str>,
    /// `In-Reply-To` and `References`, newest first.
    pub thread: &'a [String],
    pub now: DateTime<Utc>,
}

/// How a new request is placed and numbered, and the reply a registered letter gets.
#[derive(Clone)]
pub struct MailPlan<'a> {
    pub due: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub deadline_work_ms: i64,
    pub priority: &'a Priority,
    pub registration: &'a RegistrationFormat,
    /// The automatic reply, made once the request's number is known (and whether it is new).
    pub reply: &'a (dyn Fn(&str, bool) -> AutoReply + Send + Sync),
}

/// An automatic reply to enqueue with the registration.
#[derive(Debug, Clone)]
pub struct AutoReply {
    /// The id the reply will carry (so an answer to it threads to the request).
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub job: NewJob,
}

/// What registering a letter did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new request.
    New { request_id: i64, reg_number: String },
    /// Joined an existing request.
    Joined { request_id: i64, reg_number: String },
    /// Seen before: nothing changed (`None`: it was not registered then either).
    Already(Option<i64>),
    /// Kept without a request: automatic mail or a blocked sender.
    Kept,
}

const SEEN: &str =
    "select request_id from mail_messages where direction = 'in' and message_id = $1";
const INSERT_MAIL: &str = "insert into mail_messages (request_id, direction, message_id, from_address, \
     to_address, subject, body, attachments, automatic, created_at_ms) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
const BY_REG: &str =
    "select id, reg_number from callback_requests where reg_number = $1 and state <> 'closed'";
const BY_MESSAGE: &str = "select r.id, r.reg_number from mail_messages m \
     join callback_requests r on r.id = m.request_id \
     where m.message_id = $1 and r.state <> 'closed' order by m.id desc limit 1";
const BY_PHONE: &str = "select id, reg_number, email from callback_requests \
     where callback_number = $1 and state <> 'closed'";
const JOIN: &str = "update callback_requests set repeat_count = repeat_count + 1, \
     due_at_ms = case when state = 'open' and due_at_ms > $2 then $2 else due_at_ms end, \
     email = coalesce(email, $3), updated_at_ms = $4 where id = $1";
const SET_MAIL: &str = "update callback_requests set email = $2, summary = $3 where id = $1";

/// Registering letters and keeping the intake's place.
#[async_trait::async_trait]
pub trait MailStore {
    /// Registers a letter (see the module docs).
    async fn register_letter(
        &self,
        l: &IncomingLetter<'_>,
        plan: &MailPlan<'_>,
    ) -> Result<Registered, StoreError>;
    /// The letters of a request, oldest first: (direction, message id, from, to, subject, body,
    /// attachments JSON, at).
    async fn request_letters(&self, request_id: i64) -> Result<Vec<MailRow>, StoreError>;
    /// Keeps an operator's letter to the request's sender with the job that sends it and the
    /// request's history entry (`replied`), in one transaction.
    async fn add_reply_letter(
        &self,
        request_id: i64,
        reply: &AutoReply,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Takes or renews the mailbox for `holder` until `until` unless another holds it; the
    /// folder's UIDVALIDITY and the last UID done when taken.
    async fn take_mailbox(
        &self,
        mailbox: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<(i64, i64)>, StoreError>;
    /// Records the place in the mailbox (only while `holder` holds it).
    async fn set_mailbox_place(
        &self,
        mailbox: &str,
        holder: &str,
        uid_validity: i64,
        last_uid: i64,
    ) -> Result<bool, StoreError>;
}

/// A stored letter.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct MailRow {
    pub id: i64,
    /// The request it belongs to; `None` for a letter kept without one (automatic, blocked).
    pub request_id: Option<i64>,
    pub direction: String,
    pub message_id: String,
    pub from_address: Option<String>,
    pub to_address: Option<String>,
    pub subject: String,
    pub body: String,
    pub attachments: String,
    pub created_at_ms: i64,
}

/// The columns of a [`MailRow`], from `mail_messages`.
pub(super) const LETTER_COLS: &str = "select id, request_id, direction, message_id, from_address, \
     to_address, subject, body, attachments, created_at_ms from mail_messages";
static LETTERS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{LETTER_COLS} where request_id = $1 order by id"));
const ENSURE_MAILBOX: &str =
    "insert into mail_state (mailbox) values ($1) on conflict (mailbox) do nothing";
const TAKE_MAILBOX: &str = "update mail_state set holder = $2, lease_until_ms = $4 \
     where mailbox = $1 and (holder = $2 or holder is null or lease_until_ms < $3) \
     returning uid_validity, last_uid";
const PLACE: &str = "update mail_state set uid_validity = $3, last_uid = $4 \
     where mailbox = $1 and holder = $2";

mod imp;
