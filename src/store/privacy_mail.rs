//! E-mail addresses and letters under the personal-data rules (152-FZ), beside the numbers of
//! `privacy.rs` and `privacy_erase.rs`: what is held about one address (an export), its erasure,
//! and its masking once retention ran out.
//!
//! An address is found in any case (a reply goes to it as the sender wrote it) and as its
//! pseudonym; pseudonyms are made from the lower-case address. It is held as the
//! sender of incoming letters, the recipient of our letters, the `email` of requests, and in the
//! payloads of `mail.send` jobs. Our own address (the recipient of incoming letters, the sender of
//! ours) is not personal data and is left alone.
//!
//! Retention: a letter is done with when its request was closed before the cutoff, or, kept
//! without a request (automatic mail, a blocked sender), when it came before the cutoff. Its
//! person's address is replaced by the pseudonym and the numbers written in its subject and text
//! are masked; so are the `email` of requests closed before the cutoff and finished letter jobs.
//!
//! Erasure, in one transaction, refused while an operator's call back for one of the address's
//! requests is in progress: its open requests closed as `erased`; on all of its requests the
//! address and the callback number replaced by pseudonyms, the notes removed and the numbers in
//! the history masked; the subject, text and attachments of their letters and of the letters it
//! sent without a request removed (the caller deletes the files, whose paths it returns); its
//! letter jobs stripped, the queued ones cancelled; an audit entry naming the pseudonym only. The
//! calls of a number are erased by the number's own erasure.

use chrono::{DateTime, TimeDelta, Utc};

use super::callbacks::{DIALING, LONGEST_CALL_MS};
use super::mail::{LETTER_COLS, MailRow};
use super::privacy::{Masked, masked_text, request_done};
use super::privacy_erase::{Erased, Erasure, OutboxJob};
use super::{AuditEntry, StoreError, to_ms};
use crate::domain::pseudonym::Pseudonymizer;

/// What is held about one e-mail address.
#[derive(Debug, Clone, Default)]
pub struct AddressData {
    /// Requests whose `email` it is.
    pub request_ids: Vec<i64>,
    /// Letters it sent or was sent, and the other letters of its requests.
    pub letters: Vec<MailRow>,
    /// Letters to it, queued or sent.
    pub mail: Vec<OutboxJob>,
    pub audit: Vec<AuditEntry>,
}

/// A letter done with at `$1` (`m`: `mail_messages`, `r`: its request, left-joined).
fn letter_done(m: &str, r: &str) -> String {
    format!(
        "(({m}.request_id is null and {m}.created_at_ms < $1) or ({}))",
        request_done(r, "$1")
    )
}

/// The person's side of a letter of `mail_messages` aliased `{m}` (`m.` or empty): the sender of
/// an incoming one, the recipient of ours — in lower case, since a reply goes to the address as
/// the sender wrote it (`Ivan.Petrov@Mail.RU`) while requests keep it in lower case.
fn person(m: &str) -> String {
    format!("lower(case when {m}direction = 'in' then {m}from_address else {m}to_address end)")
}

static TO_MASK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select a from (select {} as a from mail_messages m \
         left join callback_requests r on r.id = m.request_id where {} \
         union select lower(r.email) from callback_requests r where {}) t \
         where a is not null and a not like '%#%' limit $2",
        person("m."),
        letter_done("m", "r"),
        request_done("r", "$1")
    )
});
/// Letters of address `$2` done with at `$1`.
static LETTERS_DONE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select m.id, m.subject, m.body from mail_messages m \
         left join callback_requests r on r.id = m.request_id where {} = $2 and {} order by m.id",
        person("m."),
        letter_done("m", "r")
    )
});
/// Sets the person's side of letter `$1` to `$2` and the columns as `set` says, unless that
/// changes nothing (`changed` is false and the person's side is `$2` already).
fn set_letter(set: &str, changed: &str) -> String {
    format!(
        "update mail_messages set \
         from_address = case when direction = 'in' then $2 else from_address end, \
         to_address = case when direction = 'out' then $2 else to_address end, \
         {set} where id = $1 and ({changed} or {} <> lower($2))",
        person("")
    )
}
/// The person's side of letter `$1` set to `$2`, its subject and text to `$3` and `$4`.
static SET_LETTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    set_letter("subject = $3, body = $4", "subject <> $3 or body <> $4")
});
/// The person's side of letter `$1` set to `$2`, its subject, text and attachments removed.
static ERASE_LETTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    set_letter(
        "subject = '', body = '', attachments = '[]'",
        "subject <> '' or body <> '' or attachments <> '[]'",
    )
});
static MASK_REQUESTS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "update callback_requests set email = $3 where lower(email) = $2 and {}",
        request_done("callback_requests", "$1")
    )
});
/// Letter jobs whose payload may name address `$1` (the payload's `to` decides).
const MAIL_TO: &str = "select id, state, payload, created_at_ms, updated_at_ms from jobs \
     where kind = 'mail.send' and lower(payload) like $1 order by id";
/// The jobs that send our letters of the requests of address `$1` or `$2` (whatever address
/// they went to: a sender's `Reply-To` may differ from the sender).
const REPLY_JOBS: &str = "select id, state, payload, created_at_ms, updated_at_ms from jobs \
     where kind = 'mail.send' and dedup_key in (select 'mail:reply:' || m.message_id \
     from mail_messages m join callback_requests r on r.id = m.request_id \
     where m.direction = 'out' and lower(r.email) in ($1, $2)) order by id";
const SET_JOB: &str = "update jobs set payload = $2, \
     state = case when state = 'queued' and $4 then 'failed' else state end, \
     last_error = case when state = 'queued' and $4 then 'cancelled: personal data erased' \
         else last_error end, \
     updated_at_ms = case when $4 then $3 else updated_at_ms end where id = $1";
const ADDRESS_REQUESTS: &str = "select id, state, claimed_by, callback_number from callback_requests \
     where lower(email) in ($1, $2) order by id";
static ADDRESS_LETTERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{LETTER_COLS} m where {} in ($1, $2) or m.request_id in \
         (select id from callback_requests where lower(email) in ($1, $2)) order by m.id",
        person("m.")
    )
});
static DIALING_FOR: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select count(*) from callback_attempts where request_id in (select id from \
         callback_requests where lower(email) = $1 and state <> 'closed') and {}",
        *DIALING
    )
});
const ERASE_REQUEST: &str = "update callback_requests set email = $2, callback_number = $3, \
     note = null, summary = null, updated_at_ms = $4 where id = $1 and (email <> $2 \
     or callback_number <> $3 or note is not null or summary is not null)";
const ERASE_ATTEMPT_NOTES: &str =
    "update callback_attempts set note = null where request_id = $1 and note is not null";

/// The `like` pattern that finds `address` in a JSON payload in lower case (`_` and `%` only
/// widen it; the payload's `to` decides).
fn like_address(address: &str) -> String {
    format!("%{address}%")
}

/// `payload` (a `mail.send` job's) when it is a letter to `address` (lower case).
fn letter_to(payload: &str, address: &str) -> Option<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    (v.get("to")?.as_str()?.to_lowercase() == address).then_some(v)
}

/// The files of a letter's attachments list (paths as stored, relative to the data directory).
fn attachment_files(list: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(list).unwrap_or_default();
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("path")?.as_str().map(str::to_owned))
        .collect()
}

/// One address's letters and requests under the privacy rules.
#[async_trait::async_trait]
pub trait MailPrivacyStore {
    /// Up to `limit` addresses still unmasked in letters and requests done with at `cutoff`.
    async fn addresses_to_mask(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError>;
    /// Replaces `address` by `pseudonym` in what is done with at `cutoff` and masks the numbers
    /// in those letters' texts and in finished letter jobs, in one transaction.
    async fn mask_address(
        &self,
        address: &str,
        pseudonym: &str,
        cutoff: DateTime<Utc>,
    ) -> Result<Masked, StoreError>;
    /// What is held about `address` (lower case) or its `pseudonym`.
    async fn address_data(&self, address: &str, pseudonym: &str)
    -> Result<AddressData, StoreError>;
    /// Erases `address`'s (lower case) personal data (see the module's documentation), with
    /// pseudonyms made by `pz`; `in_progress_for` as for a number.
    async fn erase_address(
        &self,
        address: &str,
        pz: &Pseudonymizer,
        actor: &str,
        in_progress_for: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Erasure, StoreError>;
}

mod imp;
