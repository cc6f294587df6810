//! One webhook = one step. [`CallStepStore::call_step`] runs a call's step in one transaction: the
//! call row (created on its first event) is locked for the step (`for update` on PostgreSQL; on
//! SQLite the single writer connection serializes steps), a re-delivered event is answered with
//! its stored reply, the caller's pure plan is made from the state read *inside* the transaction,
//! and then the operator reservation (re-planned without an operator someone else took first),
//! releases and wrap-ups, the voicemail's rows, its place on the callback list, the follow-up jobs,
//! the call's new state (a compare-and-set on its version) and the event with its reply commit
//! together or not at all. No in-process lock is needed, so instances may share one database.
//!
//! The dispatcher's move of a queued caller and the reconciler's repairs are steps of the same
//! kind on existing calls (`create: false`), recorded as events of the call.
//!
//! This file holds the step's types and the SQL both backends share; PostgreSQL's step is in
//! `step_postgres.rs` (sqlx), SQLite's in `sqlite_step.rs` (rusqlite, on the writer thread).

use chrono::{DateTime, Utc};

use super::calls::{CALL_COLS, UPDATE_CALL, call_fields};
use super::operators::SELECT_OPERATOR;
use super::{Attached, Call, NewJob, Operator, StoreError};
use crate::domain::callback::Priority;

/// What a step is about: the call, the event (its natural key) and what the plan needs loaded.
#[derive(Debug, Clone)]
pub struct StepRequest<'a> {
    pub provider: &'a str,
    pub provider_call_id: &'a str,
    /// Personal data: never logged.
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    /// The event's natural key within the call; a second step with it is a re-delivery.
    pub event_key: &'a str,
    pub kind: &'a str,
    pub sequence: Option<i64>,
    pub payload: &'a str,
    pub now: DateTime<Utc>,
    /// Create the call on its first event (provider events); false for steps on calls that must
    /// exist already (dispatcher, reconciler): when there is none, nothing happens.
    pub create: bool,
    /// Load the operators for the plan.
    pub operators: bool,
    /// Look whether other callers hold in the queue, for the plan.
    pub queued: bool,
}

/// What the plan sees, read inside the step's transaction.
#[derive(Debug)]
pub struct StepInput<'a> {
    pub call: &'a Call,
    pub operators: &'a [Operator],
    /// 1 when other callers hold in the queue, else 0 (0 unless asked for).
    pub queued: i64,
    /// Operators this step could not reserve (someone else took them first): plan without them.
    pub unavailable: &'a [i64],
}

/// A change to the call's voicemail.
#[derive(Debug, Clone)]
pub enum VoicemailWrite {
    /// Creates the call's voicemail if it has none.
    Start {
        caller_id: Option<String>,
    },
    Number {
        number: String,
        confirmed: bool,
    },
    Category(String),
    Flag(&'static str),
    /// The recording's key and URL; `job` is enqueued only when the recording is this voicemail's
    /// first (a second recording for one voicemail is ignored).
    Recording {
        key: String,
        url: String,
        duration_ms: Option<i64>,
        job: Option<NewJob>,
    },
}

impl VoicemailWrite {
    /// Whether the write can change whether the voicemail's callback request has a message (its
    /// `silent` flag); the others never touch an attached request's message.
    pub fn touches_message(&self) -> bool {
        matches!(
            self,
            VoicemailWrite::Flag(_) | VoicemailWrite::Recording { .. }
        )
    }
}

/// How the call's voicemail joins the callback list (when its number is settled or the call ends).
#[derive(Debug, Clone)]
pub struct AttachPlan {
    pub due: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub deadline_work_ms: i64,
    pub priority: Priority,
    /// Whether a stored callback number can be called back (a caller ID may be "anonymous").
    pub usable: fn(&str) -> bool,
    /// Where a new request comes from (`voicemail`, or `abandoned` for a caller who hung up in
    /// the queue).
    pub source: &'static str,
    /// How a new request's registration number is made.
    pub registration: crate::domain::registration::RegistrationFormat,
}

/// What the step does, decided by the caller's pure plan from a [`StepInput`].
#[derive(Debug, Clone)]
pub struct StepPlan {
    /// The call's state after the step.
    pub state: String,
    pub operator_id: Option<i64>,
    pub tried: Vec<i64>,
    /// An operator to reserve for this call (available, or wrapping up since before the cutoff).
    pub reserve: Option<(i64, DateTime<Utc>)>,
    /// Operators reserved for this call who did not take it: (operator, missed).
    pub releases: Vec<(i64, bool)>,
    /// Misses in a row after which a released operator is paused (0: never).
    pub pause_after: u32,
    /// Operators whose conversation on this call ended.
    pub wrap_ups: Vec<i64>,
    pub voicemail: Vec<VoicemailWrite>,
    /// Join the voicemail to the callback list (no-op when it is on it or has no usable number).
    pub join: Option<AttachPlan>,
    /// Recompute the voicemail's callback request (category, message, rank).
    pub refresh: Option<Priority>,
    pub jobs: Vec<NewJob>,
    /// The reply given to the event (stored with it for re-deliveries).
    pub reply: Option<String>,
    /// What routing knew, for the call's statistical facts (stored with the event).
    pub mark: crate::domain::facts::Mark,
    /// The blocklist rule that blocked this call: the attempt is counted (once per call).
    pub blocked: Option<i64>,
    /// An over-limit caller's number (E.164): their open callback request's repeat count rises.
    pub repeat: Option<String>,
}

impl StepPlan {
    /// Whether the plan writes anything beyond the call, its voicemail's start and its event.
    pub fn has_side_writes(&self) -> bool {
        self.reserve.is_some()
            || !self.releases.is_empty()
            || !self.wrap_ups.is_empty()
            || self.join.is_some()
            || self.refresh.is_some()
            || !self.jobs.is_empty()
            || self.blocked.is_some()
            || self.repeat.is_some()
    }
}

impl StepPlan {
    /// The operators tried, as stored (`calls.tried_operators`: ids separated by commas).
    pub(crate) fn tried_stored(&self) -> String {
        self.tried
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A plan that leaves the call as it is and only records the event.
    pub fn keep(call: &Call, reply: Option<String>) -> StepPlan {
        StepPlan {
            state: call.state.clone(),
            operator_id: call.operator_id,
            tried: call.tried.clone(),
            reserve: None,
            releases: Vec::new(),
            pause_after: 0,
            wrap_ups: Vec::new(),
            voicemail: Vec::new(),
            join: None,
            refresh: None,
            jobs: Vec::new(),
            reply,
            mark: Default::default(),
            blocked: None,
            repeat: None,
        }
    }
}

/// The plan: a pure function of what the step read. `Ok(None)` means nothing to do (the step
/// rolls back and records nothing); an error aborts the step. It owns what it needs: on SQLite it
/// runs on the writer thread.
pub type Planner = dyn FnMut(&StepInput<'_>) -> Result<Option<StepPlan>, String> + Send + 'static;

/// A planner shared with the thread that runs the step (and kept for a re-run after a conflict).
pub type SharedPlanner = std::sync::Arc<std::sync::Mutex<Box<Planner>>>;

/// Wraps a planner for [`CallStepStore::call_step`].
pub fn planner(
    f: impl FnMut(&StepInput<'_>) -> Result<Option<StepPlan>, String> + Send + 'static,
) -> SharedPlanner {
    std::sync::Arc::new(std::sync::Mutex::new(Box::new(f)))
}

/// What a step did.
#[derive(Debug, Clone)]
pub enum StepDone {
    /// The event had been handled before: nothing changed; its stored reply.
    Redelivered { reply: Option<String> },
    /// There was no such call (only for `create: false`), or the plan chose to do nothing.
    Skipped,
    /// Committed.
    Applied(Box<Applied>),
}

/// A committed step.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The call after the step.
    pub call: Call,
    /// The call's state before the step.
    pub before: String,
    pub plan: StepPlan,
    /// Released operators who were paused for missing calls in a row.
    pub paused: Vec<i64>,
    /// How the voicemail joined the callback list in this step, if it did.
    pub joined: Option<Attached>,
    /// Jobs actually enqueued (a duplicate dedup key or an ignored recording enqueues none).
    pub jobs: usize,
}

/// Steps on calls.
#[async_trait::async_trait]
pub trait CallStepStore {
    /// Runs one step of a call in one transaction (see the module docs).
    async fn call_step(
        &self,
        req: &StepRequest<'_>,
        plan: &SharedPlanner,
    ) -> Result<StepDone, StoreError>;

    /// Another instance may have freed an operator: forget what this store cached about who is
    /// free (PostgreSQL's snapshot for new calls; nothing elsewhere).
    fn forget_free_operators(&self) {}
}

/// The call row, created on its first event; the no-op update locks it on PostgreSQL.
pub(crate) const UPSERT_CALL: &str = concat!(
    "insert into calls (provider, provider_call_id, from_number, to_number, state, started_at_ms, updated_at_ms) \
     values ($1, $2, $3, $4, 'incoming', $5, $5) \
     on conflict (provider, provider_call_id) do update set version = calls.version returning ",
    call_fields!()
);
pub(crate) const EVENT_REPLY: &str =
    "select reply from call_events where call_id = $1 and event_key = $2";
/// Whether anyone else holds in the queue (routing only asks whether a new caller would jump
/// ahead of someone): one index probe, however long the queue.
pub(crate) const QUEUED_OTHERS: &str =
    "select count(*) from (select 1 from calls where state = 'queued' and id <> $1 limit 1) t";
pub(crate) const VOICEMAIL_NUMBER: &str = "select callback_number, caller_category, callback_request_id \
     from voicemails where call_id = $1";
pub(crate) static CAS_UPDATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{UPDATE_CALL} and version = $6 returning {}",
        call_fields!()
    )
});
/// The call of an internal step (dispatcher, reconciler) on SQLite, where the single writer is
/// the lock; PostgreSQL locks it with `for update` in `step_postgres.rs`.
pub(crate) static FIND_CALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("{CALL_COLS} where provider = $1 and provider_call_id = $2")
});
pub(crate) static OPERATORS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{SELECT_OPERATOR} order by o.id"));

/// An over-limit caller's open request counted again (see [`StepPlan::repeat`]).
pub(crate) const REPEAT: &str = "update callback_requests set repeat_count = repeat_count + 1, \
     updated_at_ms = $2 where callback_number = $1 and state <> 'closed' returning id, repeat_count";

/// The attempt's key for a blocked call (see [`super::blocklist`]).
pub(crate) fn attempt_key(provider: &str, provider_call_id: &str) -> String {
    format!("{provider}:{provider_call_id}")
}

/// The history detail of a repeat beyond a limit.
pub(crate) fn repeat_detail(repeats: i64) -> serde_json::Value {
    serde_json::json!({"repeat_count": repeats, "over_limit": true})
}

/// A bound on re-planning after failed reservations (each failure removes one operator).
pub(crate) const MAX_PLANS: usize = 64;

/// The call's columns, each prefixed (`c.id, c.provider, …`), for joins.
pub(crate) fn prefixed(p: &str) -> String {
    call_fields!()
        .split(',')
        .map(|f| format!("{p}{}", f.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
