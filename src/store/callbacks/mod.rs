//! Callback requests: one active request per callback number, joined by every voicemail from that
//! number, ordered by rank (see `domain::callback`), claimed by one operator at a time under a
//! lease (an operator holds one claim at most; the lease is extended while the holder's
//! click-to-call is in progress, see `claims`), dialed (each click-to-call an attempt with an
//! idempotency key of its request and operator), and closed or sent back to the list by an outcome
//! or a release. Every step is written to the request's history in the same transaction as the
//! change.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::{StoreError, from_ms};
use crate::domain::callback::Priority;
use crate::domain::registration::RegistrationFormat;

mod claims;
mod claims_fast;
mod claims_pg;
mod imp;
mod supervise;
pub(crate) use claims::DIALING;
pub use claims::LONGEST_CALL_MS;
pub(crate) use claims_pg::ClaimQueue;
pub(crate) use imp::SILENT_BY_CALL;
pub(crate) use imp::{
    ATTACH, HISTORY, INSERT_REQUEST, MERGE, NEXT_REG_SEQ, REFRESH, VOICEMAIL_OF_CALL,
    history_detail, rank_update,
};
pub use supervise::{
    CallbackFilter, HandRequest, Refusal, SuperviseStore, Supervised, Supervision,
};

/// A callback request as stored.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackRequest {
    pub id: i64,
    /// The registration number (`domain::registration`), e.g. `ШП-2026-000123`; `None` only for a
    /// request made before numbers existed and not yet numbered by the start-up pass.
    pub reg_number: Option<String>,
    /// E.164; personal data. Empty for a request by e-mail whose letter gave no phone number.
    pub callback_number: String,
    /// The sender of a request by e-mail (personal data).
    pub email: Option<String>,
    /// `staff` or `parent` (staff wins when voicemails disagree).
    pub caller_category: Option<String>,
    /// `open`, `claimed` or `closed`.
    pub state: String,
    /// The last outcome (`unreachable` when attempts ran out).
    pub outcome: Option<String>,
    pub topic: Option<String>,
    pub note: Option<String>,
    /// Where it came from: `voicemail`, `abandoned`, `email`, or by hand `walk_in`, `letter`,
    /// `phone_note`.
    pub source: String,
    /// What a request made by hand is about (personal data).
    pub summary: Option<String>,
    /// Calls after the first that joined this request.
    pub repeat_count: i64,
    /// Outcomes recorded.
    pub attempts: i64,
    /// Unanswered attempts (no answer, busy).
    pub misses: i64,
    /// Due at a time agreed with the caller.
    pub follow_up: bool,
    /// No voicemail of the request has a message (silent, unreadable or none recorded).
    pub silent: bool,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    #[serde(skip)]
    pub deadline_work_ms: i64,
    #[serde(skip)]
    pub rank_ms: i64,
    pub claimed_by: Option<i64>,
    pub lease_until: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Attached voicemails, oldest first.
    pub voicemail_ids: Vec<i64>,
}

impl CallbackRequest {
    /// True while the request is claimed by this operator (`None` holds nothing).
    pub fn is_held_by(&self, operator_id: Option<i64>) -> bool {
        self.state == "claimed" && operator_id.is_some() && self.claimed_by == operator_id
    }
}

/// The answer to [`CallbackStore::claim_callback`].
#[derive(Debug, Clone)]
pub enum Claimed {
    /// A request newly leased to the operator.
    New(CallbackRequest),
    /// The operator already holds this request (one claim per operator): it, unchanged.
    Held(CallbackRequest),
}

impl Claimed {
    /// The request, new or held.
    pub fn request(&self) -> &CallbackRequest {
        match self {
            Claimed::New(r) | Claimed::Held(r) => r,
        }
    }

    /// The request, new or held.
    pub fn into_request(self) -> CallbackRequest {
        match self {
            Claimed::New(r) | Claimed::Held(r) => r,
        }
    }
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    reg_number: Option<String>,
    email: Option<String>,
    callback_number: String,
    caller_category: Option<String>,
    state: String,
    outcome: Option<String>,
    topic: Option<String>,
    note: Option<String>,
    source: String,
    summary: Option<String>,
    repeat_count: i64,
    attempts: i64,
    misses: i64,
    follow_up: i64,
    silent: i64,
    created_at_ms: i64,
    due_at_ms: i64,
    deadline_at_ms: i64,
    deadline_work_ms: i64,
    rank_ms: i64,
    claimed_by: Option<i64>,
    lease_until_ms: Option<i64>,
    closed_at_ms: Option<i64>,
    updated_at_ms: i64,
}

impl From<RequestRow> for CallbackRequest {
    fn from(r: RequestRow) -> Self {
        CallbackRequest {
            id: r.id,
            reg_number: r.reg_number,
            email: r.email,
            callback_number: r.callback_number,
            caller_category: r.caller_category,
            state: r.state,
            outcome: r.outcome,
            topic: r.topic,
            note: r.note,
            source: r.source,
            summary: r.summary,
            repeat_count: r.repeat_count,
            attempts: r.attempts,
            misses: r.misses,
            follow_up: r.follow_up != 0,
            silent: r.silent != 0,
            created_at: from_ms(r.created_at_ms),
            due_at: from_ms(r.due_at_ms),
            deadline: from_ms(r.deadline_at_ms),
            deadline_work_ms: r.deadline_work_ms,
            rank_ms: r.rank_ms,
            claimed_by: r.claimed_by,
            lease_until: r.lease_until_ms.map(from_ms),
            closed_at: r.closed_at_ms.map(from_ms),
            updated_at: from_ms(r.updated_at_ms),
            voicemail_ids: Vec::new(),
        }
    }
}

/// A voicemail to attach to its number's request (created when there is none).
#[derive(Debug, Clone)]
pub struct AttachVoicemail<'a> {
    pub call_id: i64,
    /// E.164.
    pub number: &'a str,
    pub category: Option<&'a str>,
    pub now: DateTime<Utc>,
    /// For a new request: when it is due, its deadline, and the deadline on the working axis.
    pub due: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub deadline_work_ms: i64,
    pub priority: &'a Priority,
    /// Where a new request comes from (`voicemail` or `abandoned`).
    pub source: &'a str,
    /// How a new request's registration number is made.
    pub registration: &'a RegistrationFormat,
}

/// What attaching did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    /// A new request.
    Created(i64),
    /// Joined the number's active request.
    Merged(i64),
    /// The voicemail was attached before.
    Already(i64),
}

impl Attached {
    pub fn request_id(self) -> i64 {
        match self {
            Attached::Created(id) | Attached::Merged(id) | Attached::Already(id) => id,
        }
    }
}

/// Which requests to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListScope {
    /// Open and claimed, in list order.
    Active,
    /// Closed, most recently closed first.
    Closed,
}

/// One click-to-call.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub id: i64,
    pub request_id: i64,
    pub operator_id: Option<i64>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
    pub provider_call_id: Option<String>,
    pub call_status: Option<String>,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    /// The operator's note with the outcome.
    pub note: Option<String>,
}

/// The answer to [`CallbackStore::begin_dial`].
#[derive(Debug, Clone)]
pub enum DialStart {
    /// A new attempt: place the call, then [`CallbackStore::finish_dial`].
    Started(Attempt),
    /// This idempotency key was used before: its attempt, unchanged (no second call).
    Replay(Attempt),
    /// Another attempt of this request is still ringing or talking.
    InProgress(Attempt),
    /// The request is not claimed by this operator (or the lease ran out).
    NotClaimed,
}

/// An operator's outcome, decided by `domain::callback::next_after`.
#[derive(Debug, Clone)]
pub struct OutcomeChange<'a> {
    pub request_id: i64,
    pub operator_id: i64,
    pub actor: &'a str,
    /// The outcome the operator chose.
    pub outcome: &'a str,
    pub topic: Option<&'a str>,
    pub note: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub next: OutcomeNext,
    pub priority: &'a Priority,
}

/// What the outcome does to the request.
#[derive(Debug, Clone)]
pub enum OutcomeNext {
    Close {
        /// The stored outcome (the operator's, or `unreachable`).
        outcome: String,
        /// The last attempt went unanswered.
        missed: bool,
    },
    Reopen {
        due: DateTime<Utc>,
        /// A follow-up's new deadline and its working-axis position.
        deadline: Option<(DateTime<Utc>, i64)>,
        missed: bool,
        follow_up: bool,
    },
}

/// One step in a request's life.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// A user's login, or `system`.
    pub actor: String,
    /// `created`, `merged`, `claimed`, `released`, `dialed`, `dial_failed`, `outcome`,
    /// `reassigned`, `closed`.
    pub action: String,
    pub detail: serde_json::Value,
}

/// Callback requests. A supervisor's changes are in [`SuperviseStore`].
#[async_trait::async_trait]
pub trait CallbackStore: SuperviseStore {
    /// Attaches the call's voicemail to the active request for its number, creating one if there
    /// is none (history `created` or `merged`). Nothing happens if the call has no voicemail.
    async fn attach_voicemail(
        &self,
        a: &AttachVoicemail<'_>,
    ) -> Result<Option<Attached>, StoreError>;
    /// Recomputes the category (staff if any voicemail says so), whether the request has a
    /// message, and the rank, of the active request the call's voicemail belongs to.
    async fn refresh_callback_for_call(
        &self,
        call_id: i64,
        priority: &Priority,
    ) -> Result<(), StoreError>;
    /// Recomputes every active request's rank (after the priority settings changed).
    async fn rerank_callbacks(&self, priority: &Priority) -> Result<u64, StoreError>;
    /// One request with its voicemail ids.
    async fn callback_request(&self, id: i64) -> Result<Option<CallbackRequest>, StoreError>;
    /// The request the call's voicemail belongs to.
    async fn callback_for_call(&self, call_id: i64) -> Result<Option<CallbackRequest>, StoreError>;
    /// Requests in list order (see [`ListScope`]), with their voicemail ids.
    async fn list_callbacks(
        &self,
        scope: ListScope,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CallbackRequest>, StoreError>;
    /// The first `limit` open requests' ids and due times, in list order (for the schedule).
    async fn open_callback_dues(&self, limit: i64)
    -> Result<Vec<(i64, DateTime<Utc>)>, StoreError>;
    /// Open requests.
    async fn open_callback_count(&self) -> Result<i64, StoreError>;
    /// How many open requests stand before this one in the list.
    async fn callback_position(&self, r: &CallbackRequest) -> Result<u64, StoreError>;
    /// Open and claimed requests.
    async fn active_callback_count(&self) -> Result<i64, StoreError>;
    /// Leases the first due open request to the operator until `now + lease` (history `claimed`),
    /// or returns the one the operator already holds, unchanged ([`Claimed::Held`]: one claim per
    /// operator). Expired leases are released first. Two claimers never get the same request.
    async fn claim_callback(
        &self,
        operator_id: i64,
        actor: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<Claimed>, StoreError>;
    /// Returns requests whose lease ran out to the list (history `released`); how many. A request
    /// whose holder is on a connected click-to-call of it (no final status yet, started less than
    /// [`LONGEST_CALL_MS`] ago) stays claimed.
    async fn release_expired_callbacks(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Returns a claimed request to the list (history `released` by `actor`): only if `holder`
    /// holds it, or whoever does when `holder` is `None` (a supervisor). `NotFound` for an unknown
    /// request, `Conflict` when it is not claimed (by `holder`).
    async fn release_callback(
        &self,
        request_id: i64,
        holder: Option<i64>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackRequest, StoreError>;
    /// Starts a click-to-call (see [`DialStart`]) and extends the lease to `now` plus the claim's
    /// lease length. `key` is scoped to the request and the operator. An attempt in progress is
    /// one without an end, error or outcome that started less than `in_progress_for` ago, or that
    /// is connected and started less than [`LONGEST_CALL_MS`] ago.
    async fn begin_dial(
        &self,
        request_id: i64,
        operator_id: i64,
        key: &str,
        now: DateTime<Utc>,
        in_progress_for: TimeDelta,
    ) -> Result<DialStart, StoreError>;
    /// Records the provider's answer to the dial: its call id, or the error (history `dialed` or
    /// `dial_failed`).
    async fn finish_dial(
        &self,
        attempt_id: i64,
        actor: &str,
        result: Result<&str, &str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Attempt>, StoreError>;
    /// The provider's status for a dialed call; a final one ends the attempt. Any status extends
    /// the lease of the attempt's operator on its request to `now` plus the claim's lease length
    /// (the call is in progress, or has just ended and the outcome is being written).
    async fn dial_status(
        &self,
        provider_call_id: &str,
        status: &str,
        is_final: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<Attempt>, StoreError>;
    /// One attempt.
    async fn attempt(&self, id: i64) -> Result<Option<Attempt>, StoreError>;
    /// A request's attempts, oldest first.
    async fn attempts_of(&self, request_id: i64) -> Result<Vec<Attempt>, StoreError>;
    /// Attempts not ended yet whose provider call id starts with `prefix` (no `%` or `_` in it),
    /// oldest first: a provider whose notifications do not carry our call id finds its attempt
    /// among these.
    async fn open_attempts_with_prefix(&self, prefix: &str) -> Result<Vec<Attempt>, StoreError>;
    /// Records an outcome on a request the operator holds (history `outcome`). `Conflict` when
    /// the operator does not hold it.
    async fn record_outcome(&self, o: &OutcomeChange<'_>) -> Result<CallbackRequest, StoreError>;
    /// The request's history, oldest first.
    async fn callback_history(&self, id: i64) -> Result<Vec<HistoryEntry>, StoreError>;
    /// Average handle time (dial to outcome) over the last `last` dialed attempts, and how many
    /// were measured.
    async fn handle_time(&self, last: i64) -> Result<(Option<TimeDelta>, i64), StoreError>;
}
