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

use chrono::{DateTime, Utc};

use super::calls::{CALL_COLS, CallRow, UPDATE_CALL, call_fields};
use super::operators::{OperatorRow, RELEASE, RESERVE, SELECT_OPERATOR, WRAP_UP};
use super::voicemails::{ADD_FLAG, SET_CATEGORY, SET_NUMBER, SET_RECORDING, START};
use super::{AttachVoicemail, Attached, Call, NewJob, Operator, StoreError, parse_col, to_ms};
use crate::domain::callback::Priority;
use crate::domain::operator::Presence;
use crate::domain::voicemail::FLAG_NO_CALLBACK_NUMBER;

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
}

impl StepPlan {
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
pub(crate) static LOCK_CALL: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
    [
        format!("{CALL_COLS} where provider = $1 and provider_call_id = $2"),
        format!("{CALL_COLS} where provider = $1 and provider_call_id = $2 for update"),
    ]
});
pub(crate) static OPERATORS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{SELECT_OPERATOR} order by o.id"));

/// A bound on re-planning after failed reservations (each failure removes one operator).
pub(crate) const MAX_PLANS: usize = 64;

/// What the first statement of a PostgreSQL step reads.
#[derive(sqlx::FromRow)]
struct Opened {
    #[sqlx(flatten)]
    call: CallRow,
    reply: Option<String>,
    seen: bool,
    queued: i64,
}

/// PostgreSQL: create (or find) and lock the call, look up the event, look at the queue.
static PG_OPEN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "with c as ({UPSERT_CALL}) select c.*, e.reply, e.id is not null as seen, \
         case when $7 then {QUEUED} else 0 end as queued \
         from c left join call_events e on e.call_id = c.id and e.event_key = $6"
    )
});
/// PostgreSQL: lock an existing call (dispatcher, reconciler) and look up the event.
static PG_LOCK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select {}, e.reply, e.id is not null as seen, 0::bigint as queued \
         from calls c left join call_events e on e.call_id = c.id and e.event_key = $3 \
         where c.provider = $1 and c.provider_call_id = $2 for update of c",
        prefixed("c.")
    )
});
/// PostgreSQL: the compare-and-set of the call, and its event.
static PG_FINISH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "with u as ({}), e as (insert into call_events \
         (call_id, event_key, kind, sequence, payload, reply, received_at_ms) \
         select id, $7, $8, $9, $10, $11, $5 from u on conflict (call_id, event_key) do nothing) \
         select * from u",
        CAS_UPDATE.as_str()
    )
});
const QUEUED: &str = "(select count(*) from (select 1 from calls q where q.state = 'queued' \
     and q.id <> c.id limit 1) t)";

pub(crate) fn prefixed(p: &str) -> String {
    call_fields!()
        .split(',')
        .map(|f| format!("{p}{}", f.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! impl_call_step_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl CallStepStore for $t {
            async fn call_step(
                &self,
                req: &StepRequest<'_>,
                plan: &SharedPlanner,
            ) -> Result<StepDone, StoreError> {
                let now = to_ms(req.now);
                let mut tx = self.begin_write().await?;
                // One round trip: the call (created, locked), whether the event was seen, and
                // whether others are queued.
                let opened: Option<Opened> = if req.create {
                    sqlx::query_as(PG_OPEN.as_str())
                        .bind(req.provider)
                        .bind(req.provider_call_id)
                        .bind(req.from)
                        .bind(req.to)
                        .bind(now)
                        .bind(req.event_key)
                        .bind(req.queued)
                        .fetch_optional(&mut *tx)
                        .await?
                } else {
                    sqlx::query_as(PG_LOCK.as_str())
                        .bind(req.provider)
                        .bind(req.provider_call_id)
                        .bind(req.event_key)
                        .fetch_optional(&mut *tx)
                        .await?
                };
                let Some(opened) = opened else {
                    return Ok(StepDone::Skipped);
                };
                if opened.seen {
                    return Ok(StepDone::Redelivered {
                        reply: opened.reply,
                    });
                }
                let queued = opened.queued;
                let call: Call = opened.call.into();
                let mut operators = if req.operators {
                    Self::load_operators(&mut tx).await?
                } else {
                    Vec::new()
                };
                let mut unavailable = Vec::new();
                let p = loop {
                    let input = StepInput {
                        call: &call,
                        operators: &operators,
                        queued,
                        unavailable: &unavailable,
                    };
                    let planned = (plan.lock().unwrap_or_else(|p| p.into_inner()))(&input);
                    let Some(p) = planned.map_err(StoreError::Step)? else {
                        return Ok(StepDone::Skipped);
                    };
                    let Some((op, cutoff)) = p.reserve else {
                        break p;
                    };
                    let r = sqlx::query(RESERVE)
                        .bind(op)
                        .bind(call.id)
                        .bind(to_ms(cutoff))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    if r.rows_affected() == 1 {
                        break p;
                    }
                    unavailable.push(op);
                    if unavailable.len() > MAX_PLANS {
                        return Err(StoreError::Step(format!(
                            "call {}: no reservation after {MAX_PLANS} plans",
                            call.id
                        )));
                    }
                    operators = Self::load_operators(&mut tx).await?;
                };
                let mut paused = Vec::new();
                for &(op, missed) in &p.releases {
                    let presence: Option<String> = sqlx::query_scalar(RELEASE)
                        .bind(op)
                        .bind(call.id)
                        .bind(missed)
                        .bind(i64::from(p.pause_after))
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(s) = presence {
                        if parse_col::<Presence>(&s, "operators.presence")? == Presence::Break {
                            paused.push(op);
                        }
                    }
                }
                for &op in &p.wrap_ups {
                    sqlx::query(WRAP_UP)
                        .bind(op)
                        .bind(call.id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut jobs: Vec<&NewJob> = p.jobs.iter().collect();
                for w in &p.voicemail {
                    if let Some(job) = Self::write_voicemail(&mut tx, call.id, w, now).await? {
                        jobs.push(job);
                    }
                }
                if p.voicemail.iter().any(VoicemailWrite::touches_message) {
                    sqlx::query(super::callbacks::SILENT_BY_CALL.as_str())
                        .bind(call.id)
                        .execute(&mut *tx)
                        .await?;
                }
                let joined = match &p.join {
                    Some(j) => Self::join_in(&mut tx, call.id, j, req.now).await?,
                    None => None,
                };
                if let Some(priority) = &p.refresh {
                    <$t>::refresh_in(&mut tx, call.id, priority).await?;
                }
                let mut enqueued = 0;
                for job in jobs {
                    let id: Option<i64> = sqlx::query_scalar(super::jobs::INSERT_JOB)
                        .bind(&job.kind)
                        .bind(&job.payload)
                        .bind(&job.dedup_key)
                        .bind(job.max_attempts.max(1))
                        .bind(to_ms(job.run_at))
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    enqueued += usize::from(id.is_some());
                }
                let tried = p.tried.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                // One round trip: the compare-and-set of the call and its event.
                let after: Option<CallRow> = sqlx::query_as(PG_FINISH.as_str())
                    .bind(call.id)
                    .bind(&p.state)
                    .bind(p.operator_id)
                    .bind(tried)
                    .bind(now)
                    .bind(call.version)
                    .bind(req.event_key)
                    .bind(req.kind)
                    .bind(req.sequence)
                    .bind(req.payload)
                    .bind(&p.reply)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(after) = after else {
                    return Err(StoreError::Conflict(format!(
                        "call {} changed during its step (version {})",
                        call.id, call.version
                    )));
                };
                tx.commit().await?;
                Ok(StepDone::Applied(Box::new(Applied {
                    call: after.into(),
                    before: call.state,
                    plan: p,
                    paused,
                    joined,
                    jobs: enqueued,
                })))
            }
        }

        impl $t {
            async fn load_operators(
                tx: &mut <$t as super::Backend>::Conn,
            ) -> Result<Vec<Operator>, StoreError> {
                let rows: Vec<OperatorRow> =
                    sqlx::query_as(OPERATORS.as_str()).fetch_all(&mut *tx).await?;
                rows.into_iter().map(Operator::try_from).collect()
            }

            /// Applies one voicemail write; returns the job it brings, if any.
            async fn write_voicemail<'w>(
                tx: &mut <$t as super::Backend>::Conn,
                call_id: i64,
                w: &'w VoicemailWrite,
                now: i64,
            ) -> Result<Option<&'w NewJob>, StoreError> {
                match w {
                    VoicemailWrite::Start { caller_id } => {
                        sqlx::query(START)
                            .bind(call_id)
                            .bind(caller_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    VoicemailWrite::Number { number, confirmed } => {
                        sqlx::query(SET_NUMBER)
                            .bind(call_id)
                            .bind(number)
                            .bind(confirmed)
                            .execute(&mut *tx)
                            .await?;
                    }
                    VoicemailWrite::Category(c) => {
                        sqlx::query(SET_CATEGORY)
                            .bind(call_id)
                            .bind(c)
                            .execute(&mut *tx)
                            .await?;
                    }
                    VoicemailWrite::Flag(f) => {
                        sqlx::query(ADD_FLAG)
                            .bind(call_id)
                            .bind(*f)
                            .execute(&mut *tx)
                            .await?;
                    }
                    VoicemailWrite::Recording {
                        key,
                        url,
                        duration_ms,
                        job,
                    } => {
                        let r = sqlx::query(SET_RECORDING)
                            .bind(call_id)
                            .bind(key)
                            .bind(url)
                            .bind(duration_ms)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| {
                                StoreError::unique(
                                    e,
                                    format!("recording {key} belongs to another voicemail"),
                                )
                            })?;
                        if r.rows_affected() == 1 {
                            return Ok(job.as_ref());
                        }
                        tracing::warn!(call = call_id, "a second recording for one voicemail; ignored");
                    }
                }
                Ok(None)
            }

            /// Joins the call's voicemail to the callback list, inside the step.
            async fn join_in(
                tx: &mut <$t as super::Backend>::Conn,
                call_id: i64,
                j: &AttachPlan,
                now: DateTime<Utc>,
            ) -> Result<Option<Attached>, StoreError> {
                let vm: Option<(Option<String>, Option<String>, Option<i64>)> =
                    sqlx::query_as(VOICEMAIL_NUMBER)
                        .bind(call_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some((number, category, None)) = vm else {
                    return Ok(None);
                };
                let Some(number) = number.filter(|n| (j.usable)(n)) else {
                    tracing::warn!(
                        call = call_id,
                        "a voicemail without a callback number: it is listed but cannot join the callback list"
                    );
                    sqlx::query(ADD_FLAG)
                        .bind(call_id)
                        .bind(FLAG_NO_CALLBACK_NUMBER)
                        .execute(&mut *tx)
                        .await?;
                    return Ok(None);
                };
                let a = AttachVoicemail {
                    call_id,
                    number: &number,
                    category: category.as_deref(),
                    now,
                    due: j.due,
                    deadline: j.deadline,
                    deadline_work_ms: j.deadline_work_ms,
                    priority: &j.priority,
                };
                // Two first voicemails from one number at once (PostgreSQL): the loser of the
                // unique index joins the winner's request on the second pass, inside a savepoint so
                // the step's transaction survives.
                let mut pass = 0;
                loop {
                    pass += 1;
                    let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                    match <$t>::attach_in(&mut sp, &a).await {
                        Ok(r) => {
                            sp.commit().await?;
                            return Ok(r);
                        }
                        Err(StoreError::Conflict(_)) if pass < 3 => sp.rollback().await?,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    };
}

impl_call_step_store!(super::postgres::PgStore);

/// On SQLite a step runs whole on the writer thread, committed with whatever other steps are
/// waiting (group commit).
#[async_trait::async_trait]
impl CallStepStore for super::sqlite::SqliteStore {
    async fn call_step(
        &self,
        req: &StepRequest<'_>,
        plan: &SharedPlanner,
    ) -> Result<StepDone, StoreError> {
        let owned = super::sqlite_step::OwnedRequest {
            provider: req.provider.to_owned(),
            provider_call_id: req.provider_call_id.to_owned(),
            from: req.from.map(str::to_owned),
            to: req.to.map(str::to_owned),
            event_key: req.event_key.to_owned(),
            kind: req.kind.to_owned(),
            sequence: req.sequence,
            payload: req.payload.to_owned(),
            now: req.now,
            create: req.create,
            operators: req.operators,
            queued: req.queued,
        };
        let plan = plan.clone();
        self.steps()
            .run(move |conn| super::sqlite_step::call_step(conn, &owned, &plan))
            .await
    }
}
