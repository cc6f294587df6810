//! Calls and their events. Every provider event has a natural key (Twilio: CallSid + status or
//! sequence; Zadarma: event + pbx_call_id); storing it is idempotent, so a re-delivered webhook
//! changes nothing and gets the reply stored the first time.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreError, from_ms, to_ms};

/// A call as stored: the provider's id, the parties, and where it is in its life.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub id: i64,
    pub provider: String,
    pub provider_call_id: String,
    pub direction: String,
    /// Personal data: mask before logging.
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub line: String,
    pub state: String,
    pub operator_id: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// When the call joined the hold queue (kept after it leaves, for statistics).
    pub queued_at: Option<DateTime<Utc>>,
    /// Operators already rung for this call without an answer.
    pub tried: Vec<i64>,
    /// Bumped by every change of the row (the compare-and-set of a step).
    pub version: i64,
}

/// One event of a call, with the reply given to it.
#[derive(Debug, Clone, Serialize)]
pub struct CallEvent {
    pub id: i64,
    pub call_id: i64,
    pub event_key: String,
    pub kind: String,
    pub sequence: Option<i64>,
    pub payload: String,
    pub reply: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// An event to record; the call is created on its first event.
#[derive(Debug, Clone)]
pub struct NewCallEvent {
    pub provider: String,
    pub provider_call_id: String,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    /// The event's natural key within the call (e.g. `status:ringing`, `seq:3`, `rec:RE…`).
    pub event_key: String,
    pub kind: String,
    pub sequence: Option<i64>,
    pub payload: String,
    /// The call's state after this event.
    pub state: String,
    /// The operator the call is with after this event.
    pub operator_id: Option<i64>,
    /// Operators rung for the call without an answer, after this event.
    pub tried: Vec<i64>,
    /// The reply given to the event (stored with it, so a re-delivery gets the same one).
    pub reply: Option<String>,
    /// Follow-up work enqueued in the same transaction as the event (an outbox): it exists if and
    /// only if the event was recorded.
    pub jobs: Vec<super::NewJob>,
}

/// What [`CallStore::record_call_event`] did.
#[derive(Debug, Clone)]
pub struct RecordedEvent {
    pub call: Call,
    pub event: CallEvent,
    /// False when the event had been recorded before (a re-delivery): nothing changed.
    pub inserted: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct CallRow {
    pub(super) id: i64,
    pub(super) provider: String,
    pub(super) provider_call_id: String,
    pub(super) direction: String,
    pub(super) from_number: Option<String>,
    pub(super) to_number: Option<String>,
    pub(super) line: String,
    pub(super) state: String,
    pub(super) operator_id: Option<i64>,
    pub(super) started_at_ms: i64,
    pub(super) updated_at_ms: i64,
    pub(super) ended_at_ms: Option<i64>,
    pub(super) queued_at_ms: Option<i64>,
    pub(super) tried_operators: String,
    pub(super) version: i64,
}

impl From<CallRow> for Call {
    fn from(r: CallRow) -> Call {
        Call {
            id: r.id,
            provider: r.provider,
            provider_call_id: r.provider_call_id,
            direction: r.direction,
            from_number: r.from_number,
            to_number: r.to_number,
            line: r.line,
            state: r.state,
            operator_id: r.operator_id,
            started_at: from_ms(r.started_at_ms),
            updated_at: from_ms(r.updated_at_ms),
            ended_at: r.ended_at_ms.map(from_ms),
            queued_at: r.queued_at_ms.map(from_ms),
            tried: r
                .tried_operators
                .split(',')
                .filter_map(|t| t.parse().ok())
                .collect(),
            version: r.version,
        }
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    call_id: i64,
    event_key: String,
    kind: String,
    sequence: Option<i64>,
    payload: String,
    reply: Option<String>,
    received_at_ms: i64,
}

impl From<EventRow> for CallEvent {
    fn from(r: EventRow) -> CallEvent {
        CallEvent {
            id: r.id,
            call_id: r.call_id,
            event_key: r.event_key,
            kind: r.kind,
            sequence: r.sequence,
            payload: r.payload,
            reply: r.reply,
            received_at: from_ms(r.received_at_ms),
        }
    }
}

/// The columns of [`CallRow`], for `select` and `returning`.
macro_rules! call_fields {
    () => {
        "id, provider, provider_call_id, direction, from_number, to_number, line, state, operator_id, \
         started_at_ms, updated_at_ms, ended_at_ms, queued_at_ms, tried_operators, version"
    };
}
pub(super) use call_fields;

pub(super) const CALL_COLS: &str = concat!("select ", call_fields!(), " from calls");
const EVENT_COLS: &str = "select id, call_id, event_key, kind, sequence, payload, reply, received_at_ms from call_events";
const INSERT_CALL: &str = "insert into calls (provider, provider_call_id, from_number, to_number, state, \
     started_at_ms, updated_at_ms) values ($1, $2, $3, $4, $5, $6, $6) \
     on conflict (provider, provider_call_id) do nothing";
pub(super) const INSERT_EVENT: &str = "insert into call_events (call_id, event_key, kind, sequence, payload, reply, received_at_ms, state, mark) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (call_id, event_key) do nothing returning id";
/// Moves a call after a new event: state, operator, tried operators; stamps the queue entry and the end.
pub(super) const UPDATE_CALL: &str = "update calls set state = $2, operator_id = $3, tried_operators = $4, updated_at_ms = $5, \
     version = version + 1, \
     queued_at_ms = case when $2 = 'queued' and queued_at_ms is null then $5 else queued_at_ms end, \
     ended_at_ms = case when $2 in ('completed', 'abandoned') and ended_at_ms is null then $5 else ended_at_ms end \
     where id = $1";
const FIND_EVENT: &str = "select e.id, e.call_id, e.event_key, e.kind, e.sequence, e.payload, e.reply, e.received_at_ms \
     from call_events e join calls c on c.id = e.call_id \
     where c.provider = $1 and c.provider_call_id = $2 and e.event_key = $3";
const CLAIM_QUEUED: &str = "update calls set state = 'connecting', operator_id = $2, updated_at_ms = $3, version = version + 1 \
     where id = $1 and state = 'queued'";
const REQUEUE: &str = "update calls set state = 'queued', operator_id = null, updated_at_ms = $2, version = version + 1 \
     where id = $1 and state = 'connecting'";
const SET_REPLY: &str = "update call_events set reply = $2 where id = $1";

/// Calls and call events.
#[async_trait::async_trait]
pub trait CallStore {
    /// Records an event (creating the call on its first one) and moves the call to `ev.state`, in one
    /// transaction. A re-delivered event (same call and key) changes nothing and returns the original.
    async fn record_call_event(
        &self,
        ev: &NewCallEvent,
        now: DateTime<Utc>,
    ) -> Result<RecordedEvent, StoreError>;
    /// The call with this provider id, created (state `incoming`) when it is new.
    async fn ensure_call(
        &self,
        provider: &str,
        call_id: &str,
        from: Option<&str>,
        to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Call, StoreError>;
    /// The call with this provider id.
    async fn call_by_provider_id(
        &self,
        provider: &str,
        call_id: &str,
    ) -> Result<Option<Call>, StoreError>;
    /// An event already recorded for a call, by its natural key.
    async fn find_call_event(
        &self,
        provider: &str,
        call_id: &str,
        key: &str,
    ) -> Result<Option<CallEvent>, StoreError>;
    /// Calls waiting in the hold queue, longest-waiting first.
    async fn queued_calls(&self) -> Result<Vec<Call>, StoreError>;
    /// Takes a queued call for `operator_id` (state `connecting`); false if it is no longer queued.
    async fn claim_queued_call(
        &self,
        id: i64,
        operator_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Puts a `connecting` call back in the queue (moving it to the operator failed).
    async fn requeue_call(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Stores the reply given to an event, so a re-delivery can get the same one.
    async fn set_event_reply(&self, event_id: i64, reply: &str) -> Result<(), StoreError>;
    /// The most recent calls, newest first.
    async fn recent_calls(&self, limit: i64) -> Result<Vec<Call>, StoreError>;
    /// A call's events in the order received.
    async fn call_events(&self, call_id: i64) -> Result<Vec<CallEvent>, StoreError>;
}

macro_rules! impl_call_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl CallStore for $t {
            async fn record_call_event(
                &self,
                ev: &NewCallEvent,
                now: DateTime<Utc>,
            ) -> Result<RecordedEvent, StoreError> {
                let now_ms = to_ms(now);
                let mut tx = self.begin_write().await?;
                sqlx::query(INSERT_CALL)
                    .bind(&ev.provider)
                    .bind(&ev.provider_call_id)
                    .bind(&ev.from_number)
                    .bind(&ev.to_number)
                    .bind(&ev.state)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                let sql = format!("{CALL_COLS} where provider = $1 and provider_call_id = $2");
                let call: CallRow = sqlx::query_as(&sql)
                    .bind(&ev.provider)
                    .bind(&ev.provider_call_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let inserted: Option<i64> = sqlx::query_scalar(INSERT_EVENT)
                    .bind(call.id)
                    .bind(&ev.event_key)
                    .bind(&ev.kind)
                    .bind(ev.sequence)
                    .bind(&ev.payload)
                    .bind(&ev.reply)
                    .bind(now_ms)
                    .bind(&ev.state)
                    .bind(None::<String>)
                    .fetch_optional(&mut *tx)
                    .await?;
                let call_id = call.id;
                if inserted.is_some() {
                    for job in &ev.jobs {
                        sqlx::query(super::jobs::INSERT_JOB)
                            .bind(&job.kind)
                            .bind(&job.payload)
                            .bind(&job.dedup_key)
                            .bind(job.max_attempts.max(1))
                            .bind(to_ms(job.run_at))
                            .bind(now_ms)
                            .execute(&mut *tx)
                            .await?;
                    }
                    let tried = ev
                        .tried
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",");
                    sqlx::query(UPDATE_CALL)
                        .bind(call_id)
                        .bind(&ev.state)
                        .bind(ev.operator_id)
                        .bind(tried)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                }
                let sql = format!("{CALL_COLS} where id = $1");
                let call: Call = sqlx::query_as::<_, CallRow>(&sql)
                    .bind(call_id)
                    .fetch_one(&mut *tx)
                    .await?
                    .into();
                let sql = format!("{EVENT_COLS} where call_id = $1 and event_key = $2");
                let event: EventRow = sqlx::query_as(&sql)
                    .bind(call.id)
                    .bind(&ev.event_key)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(RecordedEvent {
                    call,
                    event: event.into(),
                    inserted: inserted.is_some(),
                })
            }

            async fn ensure_call(
                &self,
                provider: &str,
                call_id: &str,
                from: Option<&str>,
                to: Option<&str>,
                now: DateTime<Utc>,
            ) -> Result<Call, StoreError> {
                sqlx::query(INSERT_CALL)
                    .bind(provider)
                    .bind(call_id)
                    .bind(from)
                    .bind(to)
                    .bind("incoming")
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                let sql = format!("{CALL_COLS} where provider = $1 and provider_call_id = $2");
                let row: CallRow = sqlx::query_as(&sql)
                    .bind(provider)
                    .bind(call_id)
                    .fetch_one(self.writer())
                    .await?;
                Ok(row.into())
            }

            async fn call_by_provider_id(
                &self,
                provider: &str,
                call_id: &str,
            ) -> Result<Option<Call>, StoreError> {
                let sql = format!("{CALL_COLS} where provider = $1 and provider_call_id = $2");
                let row: Option<CallRow> = sqlx::query_as(&sql)
                    .bind(provider)
                    .bind(call_id)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.map(Call::from))
            }

            async fn find_call_event(
                &self,
                provider: &str,
                call_id: &str,
                key: &str,
            ) -> Result<Option<CallEvent>, StoreError> {
                let row: Option<EventRow> = sqlx::query_as(FIND_EVENT)
                    .bind(provider)
                    .bind(call_id)
                    .bind(key)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.map(CallEvent::from))
            }

            async fn queued_calls(&self) -> Result<Vec<Call>, StoreError> {
                let sql = format!("{CALL_COLS} where state = 'queued' order by queued_at_ms, id");
                let rows: Vec<CallRow> = sqlx::query_as(&sql).fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(Call::from).collect())
            }

            async fn claim_queued_call(
                &self,
                id: i64,
                operator_id: i64,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(CLAIM_QUEUED)
                    .bind(id)
                    .bind(operator_id)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn requeue_call(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let r = sqlx::query(REQUEUE)
                    .bind(id)
                    .bind(to_ms(now))
                    .execute(self.writer())
                    .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn set_event_reply(&self, event_id: i64, reply: &str) -> Result<(), StoreError> {
                let r = sqlx::query(SET_REPLY)
                    .bind(event_id)
                    .bind(reply)
                    .execute(self.writer())
                    .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("call event {event_id}")));
                }
                Ok(())
            }

            async fn recent_calls(&self, limit: i64) -> Result<Vec<Call>, StoreError> {
                let sql = format!("{CALL_COLS} order by started_at_ms desc, id desc limit $1");
                let rows: Vec<CallRow> = sqlx::query_as(&sql)
                    .bind(limit.clamp(1, 1000))
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(Call::from).collect())
            }

            async fn call_events(&self, call_id: i64) -> Result<Vec<CallEvent>, StoreError> {
                let sql = format!("{EVENT_COLS} where call_id = $1 order by id");
                let rows: Vec<EventRow> = sqlx::query_as(&sql)
                    .bind(call_id)
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(CallEvent::from).collect())
            }
        }
    };
}

impl_call_store!(super::sqlite::SqliteStore);
impl_call_store!(super::postgres::PgStore);
