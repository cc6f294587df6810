//! Personal data (152-FZ) in storage: the numbers of finished calls and closed callback requests
//! replaced by pseudonyms once their retention ran out, the providers' raw payloads dropped, and
//! one number's data found (export) or removed (erase, in `privacy_erase.rs`).
//!
//! What counts as done with: a call that ended before the cutoff, unless a voicemail of it belongs
//! to a request that is still open (an operator has yet to call back, and the card shows that
//! voicemail); a request closed before the cutoff, with its attempts and history. For each number
//! held in such rows, one transaction replaces it by its pseudonym in `calls.from_number` (and
//! `to_number` of outbound calls), `voicemails.callback_number` and `caller_id`, and
//! `callback_requests.callback_number`, and masks the numbers written in the texts that go with
//! those rows (event payloads and replies, notes, summaries, attempt errors, history details; see
//! `mask_numbers_in_text`). A value holding `#` is a pseudonym already, so a second run finds
//! nothing to do.
//! Nothing here logs a number.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, to_ms};
use crate::domain::pseudonym::mask_numbers_in_text;

/// What one masking transaction (or a whole run) changed, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Masked {
    pub calls: u64,
    pub events: u64,
    pub voicemails: u64,
    pub requests: u64,
    pub attempts: u64,
    pub history: u64,
    pub jobs: u64,
    /// Letters whose addresses or texts were masked.
    pub letters: u64,
}

impl Masked {
    /// Adds another count to this one.
    pub fn add(&mut self, o: Masked) {
        self.calls += o.calls;
        self.events += o.events;
        self.voicemails += o.voicemails;
        self.requests += o.requests;
        self.attempts += o.attempts;
        self.history += o.history;
        self.jobs += o.jobs;
        self.letters += o.letters;
    }

    /// Rows changed in all.
    pub fn total(&self) -> u64 {
        self.calls
            + self.events
            + self.voicemails
            + self.requests
            + self.attempts
            + self.history
            + self.jobs
            + self.letters
    }
}

/// A call done with at the cutoff `{cut}`: ended before it, and no voicemail of it on an open
/// request. `{c}` is the alias of `calls`.
pub(super) fn call_done(c: &str, cut: &str) -> String {
    format!(
        "{c}.started_at_ms < {cut} and {c}.ended_at_ms is not null and {c}.ended_at_ms < {cut} \
         and not exists (select 1 from voicemails ov join callback_requests orq \
         on orq.id = ov.callback_request_id where ov.call_id = {c}.id and orq.state <> 'closed')"
    )
}

/// A request done with at the cutoff `{cut}`: closed before it.
pub(super) fn request_done(r: &str, cut: &str) -> String {
    format!("{r}.state = 'closed' and {r}.closed_at_ms < {cut}")
}

/// Values not yet masked in rows done with at `$1`, at most `$2` of them.
static TO_MASK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let c = call_done("c", "$1");
    format!(
        "select n from (\
         select c.from_number as n from calls c where c.from_number not like '%#%' and {c} \
         union select c.to_number from calls c where c.direction = 'outbound' \
             and c.to_number not like '%#%' and {c} \
         union select v.callback_number from voicemails v join calls c on c.id = v.call_id \
             where v.callback_number not like '%#%' and {c} \
         union select v.caller_id from voicemails v join calls c on c.id = v.call_id \
             where v.caller_id not like '%#%' and {c} \
         union select r.callback_number from callback_requests r \
             where r.callback_number not like '%#%' and {}) t \
         where n is not null limit $2",
        request_done("r", "$1")
    )
});

/// A call of number `{n}` (and `{p}`, its pseudonym): its caller ID, the called number of an
/// outbound call, or a number of its voicemail. `{c}` is the alias of `calls`.
pub(super) fn call_of(c: &str, n: &str, p: &str) -> String {
    format!(
        "({c}.from_number in ({n}, {p}) or ({c}.direction = 'outbound' and {c}.to_number in ({n}, {p})) \
         or exists (select 1 from voicemails v where v.call_id = {c}.id \
             and (v.callback_number in ({n}, {p}) or v.caller_id in ({n}, {p}))))"
    )
}

/// Calls of number `$1` done with at `$2`.
static CALLS_OF: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select c.id from calls c where {} and {} order by c.id",
        call_of("c", "$1", "$1"),
        call_done("c", "$2")
    )
});
/// Every call of number `$1` that ended before `$2`, open request or not (erasure).
pub(super) static CALLS_OF_ANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select c.id from calls c where {} and c.ended_at_ms is not null and c.ended_at_ms < $2 \
         order by c.id",
        call_of("c", "$1", "$1"),
    )
});
static REQUESTS_OF: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select r.id from callback_requests r where r.callback_number = $1 and {} order by r.id",
        request_done("r", "$2")
    )
});
const MASK_CALL: &str = "update calls set \
     from_number = case when from_number = $1 then $2 else from_number end, \
     to_number = case when direction = 'outbound' and to_number = $1 then $2 else to_number end \
     where id = $3 and (from_number = $1 or (direction = 'outbound' and to_number = $1))";
const MASK_VOICEMAIL: &str = "update voicemails set \
     callback_number = case when callback_number = $1 then $2 else callback_number end, \
     caller_id = case when caller_id = $1 then $2 else caller_id end \
     where call_id = $3 and (callback_number = $1 or caller_id = $1)";
const MASK_REQUEST: &str =
    "update callback_requests set callback_number = $2 where id = $3 and callback_number = $1";
const EVENT_TEXTS: &str =
    "select id, payload, reply from call_events where call_id = $1 order by id";
const SET_EVENT_TEXTS: &str = "update call_events set payload = $2, reply = $3 where id = $1";
const REQUEST_TEXTS: &str = "select id, note, summary from callback_requests where id = $1";
const SET_REQUEST_TEXTS: &str =
    "update callback_requests set note = $2, summary = $3 where id = $1";
const ATTEMPT_TEXTS: &str =
    "select id, note, error from callback_attempts where request_id = $1 order by id";
const SET_ATTEMPT_TEXTS: &str = "update callback_attempts set note = $2, error = $3 where id = $1";
const HISTORY_TEXTS: &str =
    "select id, detail from callback_history where request_id = $1 order by id";
const SET_HISTORY_TEXT: &str = "update callback_history set detail = $2 where id = $1";
/// Finished SMS jobs older than `$1` after id `$2` whose payload still has no mask.
const OLD_SMS: &str = "select id, payload from jobs where kind = 'sms.send' \
     and state in ('done', 'failed') and updated_at_ms < $1 and id > $2 \
     and payload not like '%*%' order by id limit $3";
const SET_JOB_PAYLOAD: &str = "update jobs set payload = $2 where id = $1";
/// Raw payloads of events of calls ended before `$1`, at most `$2` of them.
const DROP_PAYLOADS: &str = "update call_events set payload = '{}' where id in (\
     select e.id from calls c join call_events e on e.call_id = c.id \
     where c.started_at_ms < $1 and c.ended_at_ms is not null and c.ended_at_ms < $1 \
     and e.received_at_ms < $1 and e.payload <> '{}' limit $2)";
const KEY_GET: &str = "select key from privacy_key where id = 1";
const KEY_PUT: &str = "insert into privacy_key (id, key, created_at_ms) values (1, $1, $2) \
     on conflict (id) do nothing";

/// `text` with its numbers masked, or `None` when that changes nothing.
pub(super) fn masked_text(text: Option<&str>) -> Option<String> {
    let t = text?;
    let m = mask_numbers_in_text(t);
    (m != t).then_some(m)
}

/// Retention and erasure of personal data.
#[async_trait::async_trait]
pub trait PrivacyStore {
    /// The database's pseudonym key (hex), made at random on first use.
    async fn pseudonym_key(&self, now: DateTime<Utc>) -> Result<String, StoreError>;
    /// Up to `limit` values (numbers as stored) still unmasked in rows done with at `cutoff`.
    async fn numbers_to_mask(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError>;
    /// Replaces `number` by `pseudonym` in the rows done with at `cutoff` and masks their texts,
    /// in one transaction.
    async fn mask_number(
        &self,
        number: &str,
        pseudonym: &str,
        cutoff: DateTime<Utc>,
    ) -> Result<Masked, StoreError>;
    /// Masks the numbers in the payloads of finished SMS jobs last changed before `cutoff`.
    async fn mask_old_sms(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Drops (to `{}`) up to `limit` raw payloads of finished calls' events before `cutoff`;
    /// returns how many.
    async fn drop_payloads(&self, cutoff: DateTime<Utc>, limit: i64) -> Result<u64, StoreError>;
}

macro_rules! impl_privacy_store {
    ($t:ty) => {
        impl $t {
            /// [`PrivacyStore::mask_number`] inside `tx`, over the calls `calls_sql` finds
            /// ([`CALLS_OF_ANY`] with no cutoff for an erasure).
            pub(super) async fn mask_number_in(
                tx: &mut <$t as super::Backend>::Conn,
                number: &str,
                pseudonym: &str,
                cutoff_ms: i64,
                calls_sql: &str,
            ) -> Result<Masked, StoreError> {
                let mut m = Masked::default();
                let calls: Vec<i64> = sqlx::query_scalar(calls_sql)
                    .bind(number)
                    .bind(cutoff_ms)
                    .fetch_all(&mut *tx)
                    .await?;
                for id in calls {
                    for (sql, n) in [
                        (MASK_CALL, &mut m.calls),
                        (MASK_VOICEMAIL, &mut m.voicemails),
                    ] {
                        *n += sqlx::query(sql)
                            .bind(number)
                            .bind(pseudonym)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                    m.events += Self::mask_pairs(tx, EVENT_TEXTS, SET_EVENT_TEXTS, id).await?;
                }
                let requests: Vec<i64> = sqlx::query_scalar(REQUESTS_OF.as_str())
                    .bind(number)
                    .bind(cutoff_ms)
                    .fetch_all(&mut *tx)
                    .await?;
                for id in requests {
                    m.requests += sqlx::query(MASK_REQUEST)
                        .bind(number)
                        .bind(pseudonym)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    Self::mask_pairs(tx, REQUEST_TEXTS, SET_REQUEST_TEXTS, id).await?;
                    m.attempts +=
                        Self::mask_pairs(tx, ATTEMPT_TEXTS, SET_ATTEMPT_TEXTS, id).await?;
                    m.history += Self::mask_history(tx, id).await?;
                }
                Ok(m)
            }

            /// Up to `limit` values `sql` finds past `cutoff` (`$1`; `$2` the limit).
            pub(super) async fn values_before(
                &self,
                sql: &str,
                cutoff: DateTime<Utc>,
                limit: i64,
            ) -> Result<Vec<String>, StoreError> {
                Ok(sqlx::query_scalar(sql)
                    .bind(to_ms(cutoff))
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?)
            }

            /// Masks the numbers in the history details of request `id`; returns the entries
            /// changed.
            pub(super) async fn mask_history(
                tx: &mut <$t as super::Backend>::Conn,
                id: i64,
            ) -> Result<u64, StoreError> {
                let history: Vec<(i64, String)> = sqlx::query_as(HISTORY_TEXTS)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
                let mut changed = 0;
                for (hid, detail) in history {
                    if let Some(d) = masked_text(Some(&detail)) {
                        sqlx::query(SET_HISTORY_TEXT)
                            .bind(hid)
                            .bind(d)
                            .execute(&mut *tx)
                            .await?;
                        changed += 1;
                    }
                }
                Ok(changed)
            }

            /// Masks the two optional texts of each row `select` finds (`id, a, b` by `$1`);
            /// returns the rows changed.
            async fn mask_pairs(
                tx: &mut <$t as super::Backend>::Conn,
                select: &str,
                update: &str,
                key: i64,
            ) -> Result<u64, StoreError> {
                let rows: Vec<(i64, Option<String>, Option<String>)> =
                    sqlx::query_as(select).bind(key).fetch_all(&mut *tx).await?;
                let mut changed = 0;
                for (id, a, b) in rows {
                    let (ma, mb) = (masked_text(a.as_deref()), masked_text(b.as_deref()));
                    if ma.is_some() || mb.is_some() {
                        sqlx::query(update)
                            .bind(id)
                            .bind(ma.or(a))
                            .bind(mb.or(b))
                            .execute(&mut *tx)
                            .await?;
                        changed += 1;
                    }
                }
                Ok(changed)
            }
        }

        #[async_trait::async_trait]
        impl PrivacyStore for $t {
            async fn pseudonym_key(&self, now: DateTime<Utc>) -> Result<String, StoreError> {
                if let Some(k) = sqlx::query_scalar(KEY_GET)
                    .fetch_optional(self.writer())
                    .await?
                {
                    return Ok(k);
                }
                let fresh = hex::encode(rand::random::<[u8; 32]>());
                sqlx::query(KEY_PUT)
                    .bind(&fresh)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                // Another instance may have put its key first: the stored one wins.
                Ok(sqlx::query_scalar(KEY_GET).fetch_one(self.writer()).await?)
            }

            async fn numbers_to_mask(
                &self,
                cutoff: DateTime<Utc>,
                limit: i64,
            ) -> Result<Vec<String>, StoreError> {
                self.values_before(&TO_MASK, cutoff, limit).await
            }

            async fn mask_number(
                &self,
                number: &str,
                pseudonym: &str,
                cutoff: DateTime<Utc>,
            ) -> Result<Masked, StoreError> {
                let mut tx = self.begin_write().await?;
                let m = Self::mask_number_in(&mut tx, number, pseudonym, to_ms(cutoff), &CALLS_OF)
                    .await?;
                tx.commit().await?;
                Ok(m)
            }

            async fn mask_old_sms(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
                let (mut after, mut changed) = (0i64, 0);
                loop {
                    let rows: Vec<(i64, String)> = sqlx::query_as(OLD_SMS)
                        .bind(to_ms(cutoff))
                        .bind(after)
                        .bind(200i64)
                        .fetch_all(self.reader())
                        .await?;
                    let Some(last) = rows.last() else { break };
                    after = last.0;
                    for (id, payload) in rows {
                        if let Some(p) = masked_text(Some(&payload)) {
                            sqlx::query(SET_JOB_PAYLOAD)
                                .bind(id)
                                .bind(p)
                                .execute(self.writer())
                                .await?;
                            changed += 1;
                        }
                    }
                }
                Ok(changed)
            }

            async fn drop_payloads(
                &self,
                cutoff: DateTime<Utc>,
                limit: i64,
            ) -> Result<u64, StoreError> {
                Ok(sqlx::query(DROP_PAYLOADS)
                    .bind(to_ms(cutoff))
                    .bind(limit)
                    .execute(self.writer())
                    .await?
                    .rows_affected())
            }
        }
    };
}

impl_privacy_store!(super::sqlite::SqliteStore);
impl_privacy_store!(super::postgres::PgStore);
