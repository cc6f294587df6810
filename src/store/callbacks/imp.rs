//! The SQL of [`super::CallbackStore`], shared by SQLite and PostgreSQL, and the macro that
//! implements the trait for both. They differ only in the lock clauses: PostgreSQL locks the
//! row a transaction will change (`for update`) and claimers skip rows another holds
//! (`for update skip locked`); SQLite's single writer connection serializes both.

use chrono::{DateTime, TimeDelta, Utc};

use super::claims::{DIALING, EXTEND, EXTEND_FOR_CALL, LONGEST_CALL_MS};
use super::{
    AttachVoicemail, Attached, Attempt, CallbackRequest, CallbackStore, Claimed, DialStart,
    HistoryEntry, ListScope, OutcomeChange, OutcomeNext, RequestRow,
};
use crate::domain::callback::Priority;
use crate::store::{StoreError, from_ms, to_ms};

pub(super) const COLS: &str = "id, callback_number, caller_category, state, outcome, topic, note, \
     source, summary, repeat_count, attempts, misses, follow_up, silent, created_at_ms, due_at_ms, deadline_at_ms, \
     deadline_work_ms, rank_ms, claimed_by, lease_until_ms, closed_at_ms, updated_at_ms, reg_number, email";
/// The list order: rank, then requests with a message, then arrival.
pub(super) const ORDER: &str = "rank_ms, silent, created_at_ms, id";
const ATTEMPT_COLS: &str = "id, request_id, operator_id, idempotency_key, provider_call_id, \
     call_status, error, started_at_ms, ended_at_ms, outcome, note";

pub(crate) const VOICEMAIL_OF_CALL: &str =
    "select id, callback_request_id from voicemails where call_id = $1";
pub(crate) const INSERT_REQUEST: &str = "insert into callback_requests (callback_number, caller_category, \
     state, created_at_ms, due_at_ms, deadline_at_ms, deadline_work_ms, rank_ms, updated_at_ms, source, reg_number) \
     values ($1, $2, 'open', $3, $4, $5, $6, 0, $3, $7, $8) returning id";
/// The next sequence number of a registration counter (`domain::registration`): the counter row
/// is created at 1 or raised by one, and never lowered, so a number is never given twice.
pub(crate) const NEXT_REG_SEQ: &str = "insert into registration_counters (scope, last) values ($1, 1) \
     on conflict (scope) do update set last = registration_counters.last + 1 returning last";
/// A new voicemail joins: one more repeat, staff wins, and an open request becomes due no later
/// than a new one would be.
pub(crate) const MERGE: &str = "update callback_requests set repeat_count = repeat_count + 1, \
     caller_category = case when cast($2 as text) = 'staff' or caller_category = 'staff' then 'staff' \
     else coalesce(caller_category, cast($2 as text)) end, \
     due_at_ms = case when state = 'open' and due_at_ms > $3 then $3 else due_at_ms end, \
     updated_at_ms = $4 where id = $1 returning repeat_count";
pub(crate) const ATTACH: &str = "update voicemails set callback_request_id = $2 where id = $1";
pub(crate) const HISTORY: &str = "insert into callback_history (request_id, at_ms, actor, action, detail) \
     values ($1, $2, $3, $4, $5)";
/// Whether a request has a message: while any voicemail's recording is pending, or stored (or
/// removed by retention) with speech.
const HAS_MESSAGE: &str = "exists (select 1 from voicemails v where v.callback_request_id = callback_requests.id \
     and (v.audio_status = 'pending' or (v.audio_status in ('stored', 'removed') and v.has_speech)))";
/// Category (`max` picks `staff` over `parent`) and message flag of the call's active request.
pub(crate) static REFRESH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "update callback_requests set \
         caller_category = coalesce((select max(v.caller_category) from voicemails v \
             where v.callback_request_id = callback_requests.id), caller_category), \
         silent = case when {HAS_MESSAGE} then 0 else 1 end \
         where id = (select callback_request_id from voicemails where call_id = $1) and state <> 'closed'"
    )
});
/// Only the message flag (kept current by the voicemail store whenever audio changes).
pub(crate) static SILENT_BY_CALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "update callback_requests set silent = case when {HAS_MESSAGE} then 0 else 1 end \
         where id = (select callback_request_id from voicemails where call_id = $1) and state <> 'closed'"
    )
});
pub(super) const VOICEMAIL_IDS: &str = "select callback_request_id, id from voicemails \
     where callback_request_id = $1 order by id";
const POSITION: &str = "select count(*) from callback_requests where state = 'open' \
     and (rank_ms, silent, created_at_ms, id) < ($1, $2, $3, $4)";
const INSERT_ATTEMPT: &str = "insert into callback_attempts (request_id, operator_id, \
     idempotency_key, started_at_ms) values ($1, $2, $3, $4) returning id";
const DIAL_OK: &str = "update callback_attempts set provider_call_id = $2 where id = $1";
const DIAL_ERR: &str = "update callback_attempts set error = $2, ended_at_ms = $3 where id = $1";
const DIAL_STATUS: &str = "update callback_attempts set call_status = $2, \
     ended_at_ms = case when $3 then coalesce(ended_at_ms, $4) else ended_at_ms end \
     where provider_call_id = $1";
const OPEN_ATTEMPTS_LIKE: &str = "select id, request_id, operator_id, idempotency_key, provider_call_id, \
     call_status, error, started_at_ms, ended_at_ms, outcome, note from callback_attempts \
     where provider_call_id like $1 and ended_at_ms is null order by id";
const ATTEMPT_OUTCOME: &str = "update callback_attempts set outcome = $2, note = $3, outcome_at_ms = $4, \
     ended_at_ms = coalesce(ended_at_ms, $4) \
     where id = (select max(id) from callback_attempts where request_id = $1 and outcome is null)";
const HANDLE_TIME: &str = "select count(*), cast(avg(outcome_at_ms - started_at_ms) as bigint) from \
     (select outcome_at_ms, started_at_ms from callback_attempts where provider_call_id is not null \
      and outcome_at_ms is not null order by id desc limit $1) t";

pub(crate) fn rank_update(p: &Priority) -> String {
    format!(
        "update callback_requests set rank_ms = {} where id = $1",
        p.rank_sql()
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct AttemptRow {
    id: i64,
    request_id: i64,
    operator_id: Option<i64>,
    idempotency_key: Option<String>,
    provider_call_id: Option<String>,
    call_status: Option<String>,
    error: Option<String>,
    started_at_ms: i64,
    ended_at_ms: Option<i64>,
    outcome: Option<String>,
    note: Option<String>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Attempt {
            id: r.id,
            request_id: r.request_id,
            operator_id: r.operator_id,
            idempotency_key: r.idempotency_key,
            provider_call_id: r.provider_call_id,
            call_status: r.call_status,
            error: r.error,
            started_at: from_ms(r.started_at_ms),
            ended_at: r.ended_at_ms.map(from_ms),
            outcome: r.outcome,
            note: r.note,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct HistoryRow {
    id: i64,
    at_ms: i64,
    actor: String,
    action: String,
    detail: String,
}

impl From<HistoryRow> for HistoryEntry {
    fn from(r: HistoryRow) -> Self {
        HistoryEntry {
            id: r.id,
            at: from_ms(r.at_ms),
            actor: r.actor,
            action: r.action,
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The outcome's update: close, or back to the list.
fn outcome_sql(next: &OutcomeNext) -> &'static str {
    match next {
        OutcomeNext::Close { .. } => {
            "update callback_requests set state = 'closed', outcome = $3, topic = $4, note = $5, \
             attempts = attempts + 1, misses = misses + $6, lease_until_ms = null, closed_at_ms = $7, \
             updated_at_ms = $7 where id = $1 and state = 'claimed' and claimed_by = $2"
        }
        OutcomeNext::Reopen { .. } => {
            "update callback_requests set state = 'open', outcome = $3, topic = $4, note = $5, \
             attempts = attempts + 1, misses = misses + $6, claimed_by = null, lease_until_ms = null, \
             updated_at_ms = $7, due_at_ms = $8, deadline_at_ms = coalesce($9, deadline_at_ms), \
             deadline_work_ms = coalesce($10, deadline_work_ms), follow_up = $11 \
             where id = $1 and state = 'claimed' and claimed_by = $2"
        }
    }
}

pub(crate) fn history_detail(v: serde_json::Value) -> String {
    v.to_string()
}

macro_rules! impl_callback_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl CallbackStore for $t {
            async fn attach_voicemail(
                &self,
                a: &AttachVoicemail<'_>,
            ) -> Result<Option<Attached>, StoreError> {
                // Two first voicemails from one number at once (PostgreSQL): the loser of the
                // unique index joins the winner's request on the second pass.
                let mut pass = 0;
                loop {
                    pass += 1;
                    match self.attach_once(a).await {
                        Err(StoreError::Conflict(_)) if pass < 3 => continue,
                        other => return other,
                    }
                }
            }

            async fn refresh_callback_for_call(
                &self,
                call_id: i64,
                priority: &Priority,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                Self::refresh_in(&mut tx, call_id, priority).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn rerank_callbacks(&self, priority: &Priority) -> Result<u64, StoreError> {
                let sql = format!(
                    "update callback_requests set rank_ms = {} where state <> 'closed'",
                    priority.rank_sql()
                );
                Ok(sqlx::query(&sql).execute(self.writer()).await?.rows_affected())
            }

            async fn callback_request(
                &self,
                id: i64,
            ) -> Result<Option<CallbackRequest>, StoreError> {
                let sql = format!("select {COLS} from callback_requests where id = $1");
                let row: Option<RequestRow> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await?;
                match row {
                    Some(r) => Ok(Some(self.with_voicemails(r.into()).await?)),
                    None => Ok(None),
                }
            }

            async fn callback_for_call(
                &self,
                call_id: i64,
            ) -> Result<Option<CallbackRequest>, StoreError> {
                let sql = format!(
                    "select {COLS} from callback_requests where id = \
                     (select callback_request_id from voicemails where call_id = $1)"
                );
                let row: Option<RequestRow> =
                    sqlx::query_as(&sql).bind(call_id).fetch_optional(self.reader()).await?;
                match row {
                    Some(r) => Ok(Some(self.with_voicemails(r.into()).await?)),
                    None => Ok(None),
                }
            }

            async fn list_callbacks(
                &self,
                scope: ListScope,
                limit: i64,
                offset: i64,
            ) -> Result<Vec<CallbackRequest>, StoreError> {
                let sql = match scope {
                    ListScope::Active => format!(
                        "select {COLS} from callback_requests where state <> 'closed' \
                         order by {ORDER} limit $1 offset $2"
                    ),
                    ListScope::Closed => format!(
                        "select {COLS} from callback_requests where state = 'closed' \
                         order by closed_at_ms desc, id desc limit $1 offset $2"
                    ),
                };
                let rows: Vec<RequestRow> = sqlx::query_as(&sql)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(self.reader())
                    .await?;
                let mut out: Vec<CallbackRequest> = rows.into_iter().map(Into::into).collect();
                if out.is_empty() {
                    return Ok(out);
                }
                let marks = (1..=out.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                let sql = format!(
                    "select callback_request_id, id from voicemails \
                     where callback_request_id in ({marks}) order by id"
                );
                let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
                for r in &out {
                    q = q.bind(r.id);
                }
                let pairs = q.fetch_all(self.reader()).await?;
                let index: std::collections::HashMap<i64, usize> =
                    out.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
                for (request, voicemail) in pairs {
                    if let Some(&i) = index.get(&request) {
                        out[i].voicemail_ids.push(voicemail);
                    }
                }
                Ok(out)
            }

            async fn open_callback_dues(
                &self,
                limit: i64,
            ) -> Result<Vec<(i64, DateTime<Utc>)>, StoreError> {
                let sql = format!(
                    "select id, due_at_ms from callback_requests where state = 'open' \
                     order by {ORDER} limit $1"
                );
                let rows: Vec<(i64, i64)> =
                    sqlx::query_as(&sql).bind(limit).fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(|(id, due)| (id, from_ms(due))).collect())
            }

            async fn open_callback_count(&self) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(
                    "select count(*) from callback_requests where state = 'open'",
                )
                .fetch_one(self.reader())
                .await?)
            }

            async fn callback_position(&self, r: &CallbackRequest) -> Result<u64, StoreError> {
                let n: i64 = sqlx::query_scalar(POSITION)
                    .bind(r.rank_ms)
                    .bind(i64::from(r.silent))
                    .bind(to_ms(r.created_at))
                    .bind(r.id)
                    .fetch_one(self.reader())
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn active_callback_count(&self) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(
                    "select count(*) from callback_requests where state <> 'closed'",
                )
                .fetch_one(self.reader())
                .await?)
            }

            async fn claim_callback(
                &self,
                operator_id: i64,
                actor: &str,
                now: DateTime<Utc>,
                lease: TimeDelta,
            ) -> Result<Option<Claimed>, StoreError> {
                self.claim_one(operator_id, actor, now, lease).await
            }

            async fn release_expired_callbacks(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                self.release_expired(now).await
            }

            async fn release_callback(
                &self,
                request_id: i64,
                holder: Option<i64>,
                actor: &str,
                now: DateTime<Utc>,
            ) -> Result<CallbackRequest, StoreError> {
                self.release_one(request_id, holder, actor, now).await
            }

            async fn begin_dial(
                &self,
                request_id: i64,
                operator_id: i64,
                key: &str,
                now: DateTime<Utc>,
                in_progress_for: TimeDelta,
            ) -> Result<DialStart, StoreError> {
                // A lease that ran out is released first (unless the holder is on the phone).
                self.release_expired(now).await?;
                let mut tx = self.begin_write().await?;
                let sql = format!(
                    "select state, claimed_by from callback_requests where id = $1 {}",
                    <$t>::ROW_LOCK
                );
                let req: Option<(String, Option<i64>)> =
                    sqlx::query_as(&sql).bind(request_id).fetch_optional(&mut *tx).await?;
                let sql = format!(
                    "select {ATTEMPT_COLS} from callback_attempts where request_id = $1 \
                     and operator_id = $2 and idempotency_key = $3"
                );
                let seen: Option<AttemptRow> = sqlx::query_as(&sql)
                    .bind(request_id)
                    .bind(operator_id)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(a) = seen {
                    tx.rollback().await?;
                    return Ok(DialStart::Replay(a.into()));
                }
                let holds = matches!(&req, Some((s, Some(by))) if s == "claimed" && *by == operator_id);
                if !holds {
                    tx.rollback().await?;
                    return Ok(DialStart::NotClaimed);
                }
                let sql = format!(
                    "select {ATTEMPT_COLS} from callback_attempts where request_id = $1 \
                     and {} order by id desc limit 1",
                    *DIALING
                );
                let busy: Option<AttemptRow> = sqlx::query_as(&sql)
                    .bind(request_id)
                    .bind(to_ms(now - in_progress_for))
                    .bind(to_ms(now) - LONGEST_CALL_MS)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(a) = busy {
                    tx.rollback().await?;
                    return Ok(DialStart::InProgress(a.into()));
                }
                let id: i64 = sqlx::query_scalar(INSERT_ATTEMPT)
                    .bind(request_id)
                    .bind(operator_id)
                    .bind(key)
                    .bind(to_ms(now))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::unique(e, "idempotency key in use"))?;
                sqlx::query(EXTEND).bind(request_id).bind(to_ms(now)).execute(&mut *tx).await?;
                let sql = format!("select {ATTEMPT_COLS} from callback_attempts where id = $1");
                let row: AttemptRow = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(DialStart::Started(row.into()))
            }

            async fn finish_dial(
                &self,
                attempt_id: i64,
                actor: &str,
                result: Result<&str, &str>,
                now: DateTime<Utc>,
            ) -> Result<Option<Attempt>, StoreError> {
                let mut tx = self.begin_write().await?;
                let (action, detail) = match result {
                    Ok(call) => {
                        sqlx::query(DIAL_OK).bind(attempt_id).bind(call).execute(&mut *tx).await?;
                        ("dialed", serde_json::json!({"attempt_id": attempt_id, "provider_call_id": call}))
                    }
                    Err(e) => {
                        sqlx::query(DIAL_ERR)
                            .bind(attempt_id)
                            .bind(e)
                            .bind(to_ms(now))
                            .execute(&mut *tx)
                            .await?;
                        ("dial_failed", serde_json::json!({"attempt_id": attempt_id, "error": e}))
                    }
                };
                let sql = format!("select {ATTEMPT_COLS} from callback_attempts where id = $1");
                let row: Option<AttemptRow> =
                    sqlx::query_as(&sql).bind(attempt_id).fetch_optional(&mut *tx).await?;
                if let Some(a) = &row {
                    sqlx::query(HISTORY)
                        .bind(a.request_id)
                        .bind(to_ms(now))
                        .bind(actor)
                        .bind(action)
                        .bind(history_detail(detail))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(row.map(Into::into))
            }

            async fn dial_status(
                &self,
                provider_call_id: &str,
                status: &str,
                is_final: bool,
                now: DateTime<Utc>,
            ) -> Result<Option<Attempt>, StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(DIAL_STATUS)
                    .bind(provider_call_id)
                    .bind(status)
                    .bind(is_final)
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                // The holder is on the phone (or has just hung up and writes the outcome).
                sqlx::query(EXTEND_FOR_CALL)
                    .bind(provider_call_id)
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                let sql = format!("select {ATTEMPT_COLS} from callback_attempts where provider_call_id = $1");
                let row: Option<AttemptRow> = sqlx::query_as(&sql)
                    .bind(provider_call_id)
                    .fetch_optional(self.writer())
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn attempt(&self, id: i64) -> Result<Option<Attempt>, StoreError> {
                let sql = format!("select {ATTEMPT_COLS} from callback_attempts where id = $1");
                let row: Option<AttemptRow> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await?;
                Ok(row.map(Into::into))
            }

            async fn attempts_of(&self, request_id: i64) -> Result<Vec<Attempt>, StoreError> {
                let sql = format!(
                    "select {ATTEMPT_COLS} from callback_attempts where request_id = $1 order by id"
                );
                let rows: Vec<AttemptRow> =
                    sqlx::query_as(&sql).bind(request_id).fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn open_attempts_with_prefix(
                &self,
                prefix: &str,
            ) -> Result<Vec<Attempt>, StoreError> {
                let rows: Vec<AttemptRow> = sqlx::query_as(OPEN_ATTEMPTS_LIKE)
                    .bind(format!("{prefix}%"))
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn record_outcome(
                &self,
                o: &OutcomeChange<'_>,
            ) -> Result<CallbackRequest, StoreError> {
                let now = to_ms(o.now);
                let mut tx = self.begin_write().await?;
                let (stored, missed) = match &o.next {
                    OutcomeNext::Close { outcome, missed } => (outcome.as_str(), *missed),
                    OutcomeNext::Reopen { missed, .. } => (o.outcome, *missed),
                };
                let mut q = sqlx::query(outcome_sql(&o.next))
                    .bind(o.request_id)
                    .bind(o.operator_id)
                    .bind(stored)
                    .bind(o.topic)
                    .bind(o.note)
                    .bind(i64::from(missed))
                    .bind(now);
                let mut detail = serde_json::json!({
                    "outcome": o.outcome,
                    "topic": o.topic,
                    "operator_id": o.operator_id,
                });
                if let OutcomeNext::Reopen { due, deadline, follow_up, .. } = &o.next {
                    q = q
                        .bind(to_ms(*due))
                        .bind(deadline.map(|d| to_ms(d.0)))
                        .bind(deadline.map(|d| d.1))
                        .bind(i64::from(*follow_up));
                    detail["due_at"] = serde_json::json!(due.to_rfc3339());
                } else {
                    detail["closed_as"] = serde_json::json!(stored);
                }
                if q.execute(&mut *tx).await?.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict(
                        "the request is not held by this operator (claim it first; the lease may have run out)".into(),
                    ));
                }
                if matches!(o.next, OutcomeNext::Reopen { .. }) {
                    sqlx::query(&rank_update(o.priority)).bind(o.request_id).execute(&mut *tx).await?;
                }
                let touched = sqlx::query(ATTEMPT_OUTCOME)
                    .bind(o.request_id)
                    .bind(o.outcome)
                    .bind(o.note)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if touched == 0 {
                    // Called back without click-to-call: the attempt is recorded all the same.
                    sqlx::query(
                        "insert into callback_attempts (request_id, operator_id, started_at_ms, \
                         ended_at_ms, outcome, note, outcome_at_ms) values ($1, $2, $3, $3, $4, $5, $3)",
                    )
                    .bind(o.request_id)
                    .bind(o.operator_id)
                    .bind(now)
                    .bind(o.outcome)
                    .bind(o.note)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(HISTORY)
                    .bind(o.request_id)
                    .bind(now)
                    .bind(o.actor)
                    .bind("outcome")
                    .bind(history_detail(detail))
                    .execute(&mut *tx)
                    .await?;
                let sql = format!("select {COLS} from callback_requests where id = $1");
                let row: RequestRow = sqlx::query_as(&sql).bind(o.request_id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                self.with_voicemails(row.into()).await
            }

            async fn callback_history(&self, id: i64) -> Result<Vec<HistoryEntry>, StoreError> {
                let rows: Vec<HistoryRow> = sqlx::query_as(
                    "select id, at_ms, actor, action, detail from callback_history \
                     where request_id = $1 order by id",
                )
                .bind(id)
                .fetch_all(self.reader())
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn handle_time(&self, last: i64) -> Result<(Option<TimeDelta>, i64), StoreError> {
                let (n, avg): (i64, Option<i64>) =
                    sqlx::query_as(HANDLE_TIME).bind(last).fetch_one(self.reader()).await?;
                Ok((avg.map(TimeDelta::milliseconds), n))
            }
        }

        impl $t {
            pub(super) async fn with_voicemails(
                &self,
                mut r: CallbackRequest,
            ) -> Result<CallbackRequest, StoreError> {
                let pairs: Vec<(i64, i64)> = sqlx::query_as(VOICEMAIL_IDS)
                    .bind(r.id)
                    .fetch_all(self.reader())
                    .await?;
                r.voicemail_ids = pairs.into_iter().map(|p| p.1).collect();
                Ok(r)
            }

            async fn attach_once(
                &self,
                a: &AttachVoicemail<'_>,
            ) -> Result<Option<Attached>, StoreError> {
                let mut tx = self.begin_write().await?;
                let result = Self::attach_in(&mut tx, a).await?;
                tx.commit().await?;
                Ok(result)
            }

            /// Recomputes the request of the call's voicemail (category, message, rank) inside
            /// the caller's transaction.
            pub(crate) async fn refresh_in(
                tx: &mut <$t as crate::store::Backend>::Conn,
                call_id: i64,
                priority: &Priority,
            ) -> Result<(), StoreError> {
                sqlx::query(REFRESH.as_str()).bind(call_id).execute(&mut *tx).await?;
                let sql = format!(
                    "update callback_requests set rank_ms = {} where id = \
                     (select callback_request_id from voicemails where call_id = $1) and state <> 'closed'",
                    priority.rank_sql()
                );
                sqlx::query(&sql).bind(call_id).execute(&mut *tx).await?;
                Ok(())
            }

            /// Attaches the call's voicemail to its number's request inside the caller's
            /// transaction (the call step, or [`Self::attach_once`]).
            pub(crate) async fn attach_in(
                tx: &mut <$t as crate::store::Backend>::Conn,
                a: &AttachVoicemail<'_>,
            ) -> Result<Option<Attached>, StoreError> {
                let now = to_ms(a.now);
                let vm: Option<(i64, Option<i64>)> = sqlx::query_as(VOICEMAIL_OF_CALL)
                    .bind(a.call_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((vm_id, attached)) = vm else {
                    return Ok(None);
                };
                if let Some(id) = attached {
                    return Ok(Some(Attached::Already(id)));
                }
                let sql = format!(
                    "select id from callback_requests where callback_number = $1 and state <> 'closed' {}",
                    <$t>::ROW_LOCK
                );
                let existing: Option<i64> =
                    sqlx::query_scalar(&sql).bind(a.number).fetch_optional(&mut *tx).await?;
                let result = match existing {
                    Some(id) => {
                        let repeats: i64 = sqlx::query_scalar(MERGE)
                            .bind(id)
                            .bind(a.category)
                            .bind(to_ms(a.due))
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?;
                        let detail = serde_json::json!({"voicemail_id": vm_id, "repeat_count": repeats});
                        sqlx::query(HISTORY)
                            .bind(id)
                            .bind(now)
                            .bind("system")
                            .bind("merged")
                            .bind(history_detail(detail))
                            .execute(&mut *tx)
                            .await?;
                        Attached::Merged(id)
                    }
                    None => {
                        let seq: i64 = sqlx::query_scalar(NEXT_REG_SEQ)
                            .bind(a.registration.scope_at(a.now))
                            .fetch_one(&mut *tx)
                            .await?;
                        let id: i64 = sqlx::query_scalar(INSERT_REQUEST)
                            .bind(a.number)
                            .bind(a.category)
                            .bind(now)
                            .bind(to_ms(a.due))
                            .bind(to_ms(a.deadline))
                            .bind(a.deadline_work_ms)
                            .bind(a.source)
                            .bind(a.registration.number_at(a.now, seq))
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(|e| StoreError::unique(e, "an active request for this number"))?;
                        let detail = serde_json::json!({
                            "voicemail_id": vm_id,
                            "due_at": a.due.to_rfc3339(),
                            "deadline": a.deadline.to_rfc3339(),
                        });
                        sqlx::query(HISTORY)
                            .bind(id)
                            .bind(now)
                            .bind("system")
                            .bind("created")
                            .bind(history_detail(detail))
                            .execute(&mut *tx)
                            .await?;
                        Attached::Created(id)
                    }
                };
                let id = result.request_id();
                sqlx::query(ATTACH).bind(vm_id).bind(id).execute(&mut *tx).await?;
                sqlx::query(REFRESH.as_str()).bind(a.call_id).execute(&mut *tx).await?;
                sqlx::query(&rank_update(a.priority)).bind(id).execute(&mut *tx).await?;
                Ok(Some(result))
            }
        }
    };
}

impl_callback_store!(crate::store::sqlite::SqliteStore);
impl_callback_store!(crate::store::postgres::PgStore);
