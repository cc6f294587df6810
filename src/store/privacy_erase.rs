//! One number's personal data on request (152-FZ): everything held about it, for an export, and
//! its erasure.
//!
//! A number is found as it was given (E.164) and as its pseudonym, since rows past retention hold
//! only the pseudonym. The erasure is one transaction: refused while a call of the number is in
//! progress (its own call, a click-to-call of its request, or a recording still being fetched);
//! else its open requests are closed as `erased`, the number is replaced by its pseudonym in every
//! row whatever its age, the raw payloads of its calls are dropped, the notes and summaries of its
//! requests removed, the recordings of the voicemails left for it taken off the rows (the caller
//! deletes the files, whose paths it returns), the number masked in its requests' letters, queued
//! SMS to it cancelled, and an audit entry written that names the pseudonym only. The same for an
//! e-mail address is in `privacy_mail.rs`.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::audit::INSERT_AUDIT;
use super::callbacks::{DIALING, HISTORY, LONGEST_CALL_MS};
use super::calls::{CALL_COLS, CallRow};
use super::mail::{LETTER_COLS, MailRow};
use super::privacy::{CALLS_OF_ANY, Masked, call_of, masked_text};
use super::voicemails::{VM_COLS, VoicemailRow};
use super::{AuditEntry, Call, StoreError, Voicemail, from_ms, to_ms};

/// What is held about one number, besides what the other stores give by id (events, requests'
/// attempts and history).
#[derive(Debug, Clone, Default)]
pub struct NumberData {
    pub calls: Vec<Call>,
    /// With their file paths (`Voicemail`'s own serialization leaves them out).
    pub voicemails: Vec<Voicemail>,
    pub request_ids: Vec<i64>,
    /// The letters of its requests.
    pub letters: Vec<MailRow>,
    pub sms: Vec<OutboxJob>,
    /// Entries about its requests, voicemails, or its erasure.
    pub audit: Vec<AuditEntry>,
}

/// A message job (an SMS to a number, a letter to an address).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxJob {
    pub id: i64,
    pub state: String,
    pub payload: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// The answer to [`ErasureStore::erase_number`].
#[derive(Debug, Clone)]
pub enum Erasure {
    /// Nothing was changed, for the reason given.
    Refused(String),
    Done(Erased),
}

/// What an erasure changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Erased {
    pub masked: Masked,
    pub requests_closed: u64,
    pub payloads_dropped: u64,
    pub notes_removed: u64,
    pub recordings_removed: u64,
    pub sms_cancelled: u64,
    /// Letters whose subject, text and attachments were removed (an address's erasure).
    pub letters_removed: u64,
    /// Queued letters to the address cancelled.
    pub mail_cancelled: u64,
    /// Recording and attachment files to delete now that no row names them.
    #[serde(skip)]
    pub files: Vec<String>,
    /// The audit entry written.
    #[serde(skip)]
    pub audit_id: i64,
}

static IN_CALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select count(*) from calls c where c.ended_at_ms is null and (c.to_number in ($1, $2) or {})",
        call_of("c", "$1", "$2")
    )
});
static DIALING_NOW: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select count(*) from callback_attempts where request_id in (select id from \
         callback_requests where callback_number = $1 and state <> 'closed') and {}",
        *DIALING
    )
});
static FETCHING: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select count(*) from jobs j where j.kind = 'recording.download' \
         and j.state in ('queued', 'running') and exists (select 1 from calls c where {} \
         and j.payload like ('%\"call_id\":' || cast(c.id as text) || ',%'))",
        call_of("c", "$1", "$2")
    )
});
const OPEN_REQUESTS: &str = "select id, claimed_by from callback_requests \
     where callback_number = $1 and state <> 'closed' order by id";
const CLOSE_ERASED: &str = "update callback_requests set state = 'closed', outcome = 'erased', \
     claimed_by = null, lease_until_ms = null, closed_at_ms = $2, updated_at_ms = $2 where id = $1";
const DROP_CALL_PAYLOADS: &str =
    "update call_events set payload = '{}' where call_id = $1 and payload <> '{}'";
const RECORDINGS: &str = "select audio_path, original_path from voicemails where callback_number = $1 \
     and (audio_path is not null or original_path is not null or recording_url is not null)";
const REMOVE_RECORDINGS: &str = "update voicemails set \
     audio_status = case when audio_status in ('pending', 'stored', 'unreadable') then 'removed' \
         else audio_status end, \
     audio_path = null, original_path = null, recording_url = null, \
     flags = case when flags = '' then 'erased' else flags || ',erased' end \
     where callback_number = $1 \
     and (audio_path is not null or original_path is not null or recording_url is not null)";
const REQUEST_NOTES: &str = "update callback_requests set note = null, summary = null \
     where callback_number = $1 and (note is not null or summary is not null)";
const ATTEMPT_NOTES: &str = "update callback_attempts set note = null where note is not null \
     and request_id in (select id from callback_requests where callback_number = $1)";
const SMS_TO: &str = "select id, state, payload, created_at_ms, updated_at_ms from jobs \
     where kind = 'sms.send' and payload like $1 order by id";
const SMS_ERASED: &str = "update jobs set payload = $2, \
     state = case when state = 'queued' then 'failed' else state end, \
     last_error = case when state = 'queued' then 'cancelled: personal data erased' else last_error end, \
     updated_at_ms = $3 where id = $1";
static NUMBER_CALLS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{CALL_COLS} where {} order by started_at_ms, id",
        call_of("calls", "$1", "$2")
    )
});
static NUMBER_VOICEMAILS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{VM_COLS} where callback_number in ($1, $2) or caller_id in ($1, $2) \
         or call_id in (select c.id from calls c where {}) order by id",
        call_of("c", "$1", "$2")
    )
});
const NUMBER_REQUESTS: &str =
    "select id from callback_requests where callback_number in ($1, $2) order by id";
static NUMBER_LETTERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{LETTER_COLS} where request_id in (select id from callback_requests \
         where callback_number in ($1, $2)) order by id"
    )
});
/// The texts of the letters of the requests with callback number `$1`.
const LETTER_TEXTS: &str = "select id, subject, body from mail_messages where request_id in \
     (select id from callback_requests where callback_number = $1) order by id";
const SET_LETTER_TEXTS: &str = "update mail_messages set subject = $2, body = $3 where id = $1";
/// The audit entries whose subject is one of `n` placeholders `$1…`.
fn audit_sql(n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!(
        "select id, at_ms, actor, action, subject, detail, request_id from audit_log \
         where subject in ({}) order by id",
        marks.join(", ")
    )
}

/// One number's data on request.
#[async_trait::async_trait]
pub trait ErasureStore {
    /// What is held about `number` (E.164) or its `pseudonym`.
    async fn number_data(&self, number: &str, pseudonym: &str) -> Result<NumberData, StoreError>;
    /// Erases `number`'s personal data (see the module's documentation); `in_progress_for` is how
    /// long an unanswered click-to-call counts as in progress (`callbacks.lease_minutes`).
    async fn erase_number(
        &self,
        number: &str,
        pseudonym: &str,
        actor: &str,
        in_progress_for: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Erasure, StoreError>;
}

macro_rules! impl_erasure_store {
    ($t:ty) => {
        impl $t {
            /// The audit entries about any of `subjects`, oldest first.
            pub(super) async fn audit_about(
                &self,
                subjects: &[String],
            ) -> Result<Vec<AuditEntry>, StoreError> {
                let sql = audit_sql(subjects.len());
                let mut q = sqlx::query_as::<_, (i64, i64, String, String, String, String, Option<String>)>(&sql);
                for s in subjects {
                    q = q.bind(s);
                }
                Ok(q
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(|(id, at, actor, action, subject, detail, request_id)| AuditEntry {
                        id,
                        at: from_ms(at),
                        actor,
                        action,
                        subject,
                        detail,
                        request_id,
                    })
                    .collect())
            }

            /// Writes the audit entry of erasure `e` about `subject` (a pseudonym); its id.
            pub(super) async fn audit_erasure(
                tx: &mut <$t as super::Backend>::Conn,
                e: &Erased,
                actor: &str,
                subject: String,
                now: DateTime<Utc>,
            ) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(INSERT_AUDIT)
                    .bind(to_ms(now))
                    .bind(actor)
                    .bind("privacy.erase")
                    .bind(subject)
                    .bind(serde_json::to_string(e).unwrap_or_default())
                    .bind(None::<String>)
                    .fetch_one(&mut *tx)
                    .await?)
            }

            /// Closes request `id` (held by `holder`) as erased, with its history entry.
            pub(super) async fn close_erased(
                tx: &mut <$t as super::Backend>::Conn,
                id: i64,
                holder: Option<i64>,
                actor: &str,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(CLOSE_ERASED).bind(id).bind(to_ms(now)).execute(&mut *tx).await?;
                let detail = serde_json::json!({
                    "closed_as": "erased",
                    "operator_id": holder,
                    "reason": "персональные данные удалены по запросу",
                });
                sqlx::query(HISTORY)
                    .bind(id)
                    .bind(to_ms(now))
                    .bind(actor)
                    .bind("closed")
                    .bind(detail.to_string())
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl ErasureStore for $t {
            async fn number_data(
                &self,
                number: &str,
                pseudonym: &str,
            ) -> Result<NumberData, StoreError> {
                let calls: Vec<CallRow> = sqlx::query_as(NUMBER_CALLS.as_str())
                    .bind(number)
                    .bind(pseudonym)
                    .fetch_all(self.reader())
                    .await?;
                let voicemails: Vec<VoicemailRow> = sqlx::query_as(NUMBER_VOICEMAILS.as_str())
                    .bind(number)
                    .bind(pseudonym)
                    .fetch_all(self.reader())
                    .await?;
                let voicemails: Vec<Voicemail> = voicemails.into_iter().map(Voicemail::from).collect();
                let request_ids: Vec<i64> = sqlx::query_scalar(NUMBER_REQUESTS)
                    .bind(number)
                    .bind(pseudonym)
                    .fetch_all(self.reader())
                    .await?;
                let sms: Vec<OutboxJob> = sqlx::query_as(SMS_TO)
                    .bind(format!("%{number}%"))
                    .fetch_all(self.reader())
                    .await?;
                let letters: Vec<MailRow> = sqlx::query_as(NUMBER_LETTERS.as_str())
                    .bind(number)
                    .bind(pseudonym)
                    .fetch_all(self.reader())
                    .await?;
                let mut subjects: Vec<String> = vec![format!("number:{pseudonym}")];
                subjects.extend(request_ids.iter().map(|id| format!("callback:{id}")));
                subjects.extend(voicemails.iter().map(|v| format!("voicemail:{}", v.id)));
                let audit = self.audit_about(&subjects).await?;
                Ok(NumberData {
                    calls: calls.into_iter().map(Call::from).collect(),
                    voicemails,
                    request_ids,
                    letters,
                    sms,
                    audit,
                })
            }

            async fn erase_number(
                &self,
                number: &str,
                pseudonym: &str,
                actor: &str,
                in_progress_for: TimeDelta,
                now: DateTime<Utc>,
            ) -> Result<Erasure, StoreError> {
                let mut tx = self.begin_write().await?;
                let checks = [
                    (IN_CALL.as_str(), "a call of this number is in progress"),
                    (
                        FETCHING.as_str(),
                        "a recording of this number is still being fetched from the provider",
                    ),
                ];
                for (sql, why) in checks {
                    let n: i64 = sqlx::query_scalar(sql)
                        .bind(number)
                        .bind(pseudonym)
                        .fetch_one(&mut *tx)
                        .await?;
                    if n > 0 {
                        tx.rollback().await?;
                        return Ok(Erasure::Refused(why.into()));
                    }
                }
                let dialing: i64 = sqlx::query_scalar(DIALING_NOW.as_str())
                    .bind(number)
                    .bind(to_ms(now - in_progress_for))
                    .bind(to_ms(now) - LONGEST_CALL_MS)
                    .fetch_one(&mut *tx)
                    .await?;
                if dialing > 0 {
                    tx.rollback().await?;
                    return Ok(Erasure::Refused(
                        "an operator's call back to this number is in progress".into(),
                    ));
                }
                let mut e = Erased::default();
                let open: Vec<(i64, Option<i64>)> =
                    sqlx::query_as(OPEN_REQUESTS).bind(number).fetch_all(&mut *tx).await?;
                for (id, holder) in open {
                    Self::close_erased(&mut tx, id, holder, actor, now).await?;
                    e.requests_closed += 1;
                }
                e.masked =
                    Self::mask_number_in(&mut tx, number, pseudonym, i64::MAX, &CALLS_OF_ANY).await?;
                let calls: Vec<i64> = sqlx::query_scalar(CALLS_OF_ANY.as_str())
                    .bind(pseudonym)
                    .bind(i64::MAX)
                    .fetch_all(&mut *tx)
                    .await?;
                for id in calls {
                    e.payloads_dropped += sqlx::query(DROP_CALL_PAYLOADS)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                let files: Vec<(Option<String>, Option<String>)> =
                    sqlx::query_as(RECORDINGS).bind(pseudonym).fetch_all(&mut *tx).await?;
                e.files = files.into_iter().flat_map(|(a, b)| [a, b]).flatten().collect();
                e.recordings_removed = sqlx::query(REMOVE_RECORDINGS)
                    .bind(pseudonym)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let letters: Vec<(i64, String, String)> =
                    sqlx::query_as(LETTER_TEXTS).bind(pseudonym).fetch_all(&mut *tx).await?;
                for (id, subject, body) in letters {
                    let (ms, mb) = (masked_text(Some(&subject)), masked_text(Some(&body)));
                    if ms.is_some() || mb.is_some() {
                        sqlx::query(SET_LETTER_TEXTS)
                            .bind(id)
                            .bind(ms.unwrap_or(subject))
                            .bind(mb.unwrap_or(body))
                            .execute(&mut *tx)
                            .await?;
                        e.masked.letters += 1;
                    }
                }
                for sql in [REQUEST_NOTES, ATTEMPT_NOTES] {
                    e.notes_removed +=
                        sqlx::query(sql).bind(pseudonym).execute(&mut *tx).await?.rows_affected();
                }
                let sms: Vec<OutboxJob> = sqlx::query_as(SMS_TO)
                    .bind(format!("%{number}%"))
                    .fetch_all(&mut *tx)
                    .await?;
                for job in sms {
                    let payload = masked_text(Some(&job.payload)).unwrap_or(job.payload);
                    sqlx::query(SMS_ERASED)
                        .bind(job.id)
                        .bind(payload)
                        .bind(to_ms(now))
                        .execute(&mut *tx)
                        .await?;
                    e.sms_cancelled += u64::from(job.state == "queued");
                    e.masked.jobs += 1;
                }
                e.audit_id =
                    Self::audit_erasure(&mut tx, &e, actor, format!("number:{pseudonym}"), now)
                        .await?;
                tx.commit().await?;
                Ok(Erasure::Done(e))
            }
        }
    };
}

impl_erasure_store!(super::sqlite::SqliteStore);
impl_erasure_store!(super::postgres::PgStore);
