//! The call step on PostgreSQL (see `step.rs` for what a step is): sqlx in one transaction, the
//! call row locked for the step so any number of instances can share the database, and as few
//! round trips as the plan allows — the call's upsert or lock, the event look-up and the queue
//! probe in one statement; the compare-and-set of the call and the event in another.

use chrono::{DateTime, Utc};

use super::calls::{CallRow, call_fields};
use super::operators::{LOG_PRESENCE, OperatorRow, RELEASE, RESERVE, WRAP_UP};
use super::step::{
    AttachPlan, CAS_UPDATE, CallStepStore, MAX_PLANS, OPERATORS, SharedPlanner, StepDone,
    StepInput, StepPlan, StepRequest, UPSERT_CALL, VOICEMAIL_NUMBER, VoicemailWrite, prefixed,
};
use super::voicemails::{ADD_FLAG, SET_CATEGORY, SET_NUMBER, SET_RECORDING, START};
use super::{
    Applied, AttachVoicemail, Attached, Call, NewJob, Operator, StoreError, parse_col, to_ms,
};
use crate::domain::operator::Presence;
use crate::domain::voicemail::FLAG_NO_CALLBACK_NUMBER;

/// What the first statement of a PostgreSQL step reads.
#[derive(sqlx::FromRow)]
pub(super) struct Opened {
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
pub(super) static PG_LOCK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select {}, e.reply, e.id is not null as seen, 0::bigint as queued \
         from calls c left join call_events e on e.call_id = c.id and e.event_key = $3 \
         where c.provider = $1 and c.provider_call_id = $2 for update of c",
        prefixed("c.")
    )
});
/// PostgreSQL: [`RESERVE`], passing over an operator whose row another transaction holds (another
/// step reserving them, on this instance or another) instead of waiting for it to commit. The
/// step then plans without that operator: another free one, or the queue. Waiting made a burst of
/// new callers in hours queue up behind each other's reservations of the same few free operators
/// (26 ms and more at a thousand webhooks a second). A caller held because of it while the other
/// transaction then left the operator free is moved by the dispatcher's look that follows every
/// newly held caller (`Switchboard::nudge_dispatcher`).
static PG_RESERVE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let skip = "where id = (select l.id from operators l where l.id = $1 for update skip locked)";
    RESERVE.replacen("where id = $1", skip, 1)
});
/// PostgreSQL: the compare-and-set of the call, and its event.
static PG_FINISH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "with u as ({}), e as (insert into call_events \
         (call_id, event_key, kind, sequence, payload, reply, received_at_ms, state, mark) \
         select id, $7, $8, $9, $10, $11, $5, $2, $12 from u on conflict (call_id, event_key) do nothing), \
         f as ({}) select * from u",
        CAS_UPDATE.as_str(),
        super::facts::merge_sql("u.id", 13, " from u", "$29", true)
    )
});
/// PostgreSQL: a new call's whole first step in one statement (see `new_call_at_once`); no row
/// when the call exists already. The columns a step would stamp are stamped the same way.
static PG_NEW_CALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "with c as (insert into calls (provider, provider_call_id, from_number, to_number, state, \
         tried_operators, started_at_ms, updated_at_ms, queued_at_ms, ended_at_ms, version) \
         values ($1, $2, $3, $4, $5, $6, $7, $7, \
         case when $5 = 'queued' then $7 end, case when $5 in ('completed', 'abandoned') then $7 end, 1) \
         on conflict (provider, provider_call_id) do nothing returning {}), \
         v as (insert into voicemails (call_id, callback_number, caller_id, audio_status, received_at_ms) \
         select id, $9, $9, 'none', $7 from c where $8 on conflict (call_id) do nothing), \
         e as (insert into call_events (call_id, event_key, kind, sequence, payload, reply, received_at_ms, state, mark) \
         select id, $10, $11, $12, $13, $14, $7, $5, $15 from c), \
         f as ({}) \
         select * from c",
        call_fields!(),
        super::facts::merge_sql("c.id", 16, " from c", "$32", true)
    )
});

/// What `new_call_at_once` did with a step.
pub(super) enum AtOnce {
    /// The new call's whole first step, stored in one statement.
    Done(StepDone),
    /// Its plan reserves an operator: the full step, one such at a time per instance.
    Reserves,
    /// Not a new call, or its plan writes more: the full step.
    Full,
}

/// PostgreSQL: what a new call's plan looks at in hours, read in one statement outside any
/// transaction — the operators, each row carrying whether anyone holds in the queue.
pub(super) static PG_SNAPSHOT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{}, (select count(*) from (select 1 from calls q where q.state = 'queued' limit 1) t) \
         as queued from operators o join users u on u.id = o.user_id order by o.id",
        super::operators::SELECT_OPERATOR
            .split_once(" from operators")
            .map_or(super::operators::SELECT_OPERATOR, |(cols, _)| cols)
    )
});
/// PostgreSQL: whether anyone holds in the queue (the snapshot when there are no operators).
pub(super) const QUEUED_ANY: &str =
    "select count(*) from (select 1 from calls where state = 'queued' limit 1) t";

/// How long a new call may be planned on an earlier [`PG_SNAPSHOT`] (see [`SnapshotCache`]).
const SNAPSHOT_TTL: std::time::Duration = std::time::Duration::from_millis(200);

/// The last snapshot of operators and queue on which a new call's plan reserved nobody (every
/// operator busy: hold the caller; nobody seated: voicemail), kept for [`SNAPSHOT_TTL`]. Under a
/// flood of new calls in hours each of them is then one statement instead of two or three. Only
/// such a plan is taken from it: a plan that would reserve an operator (one looks free) is made
/// again on a fresh read. This instance forgets the snapshot whenever it may have freed an
/// operator (any other call step, a presence change, a release, the end of a wrap-up), and when
/// another instance signals that it may have (its dispatcher wake-up over LISTEN/NOTIFY, see
/// `Switchboard::with_wake`), so it is stale at most by that notification's delay (by
/// [`SNAPSHOT_TTL`] when notifications are lost). A caller held meanwhile whom a freed operator
/// could have taken is moved to them by the dispatcher's look shortly after
/// (`Switchboard::nudge_dispatcher`).
///
/// The generation counts the forgets: a snapshot read before a forget is never kept after it.
#[derive(Default)]
pub(crate) struct SnapshotCache(std::sync::Mutex<(Option<Snapshot>, u64)>);

type Snapshot = (std::time::Instant, std::sync::Arc<Vec<Operator>>, i64);

impl SnapshotCache {
    fn get(&self) -> Option<(std::sync::Arc<Vec<Operator>>, i64)> {
        let g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.0.as_ref()
            .filter(|(at, _, _)| at.elapsed() < SNAPSHOT_TTL)
            .map(|(_, ops, q)| (ops.clone(), *q))
    }

    /// The generation to pass to [`SnapshotCache::put`], taken before the snapshot is read.
    fn generation(&self) -> u64 {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).1
    }

    /// Keeps a snapshot read in `generation`, unless it was forgotten since.
    fn put(&self, generation: u64, operators: std::sync::Arc<Vec<Operator>>, queued: i64) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if g.1 == generation {
            g.0 = Some((std::time::Instant::now(), operators, queued));
        }
    }

    pub(crate) fn clear(&self) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.0 = None;
        g.1 = g.1.wrapping_add(1);
    }
}

/// A row of [`PG_SNAPSHOT`].
#[derive(sqlx::FromRow)]
struct SnapshotRow {
    #[sqlx(flatten)]
    operator: OperatorRow,
    queued: i64,
}

const QUEUED: &str = "(select count(*) from (select 1 from calls q where q.state = 'queued' \
     and q.id <> c.id limit 1) t)";

pub(super) type PgQueryAs<'q, O> =
    sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>;

/// [`PG_OPEN`] with `req`'s parameters: the call created or found, and locked.
pub(super) fn open_query<'q>(req: &'q StepRequest<'q>) -> PgQueryAs<'q, Opened> {
    sqlx::query_as(PG_OPEN.as_str())
        .bind(req.provider)
        .bind(req.provider_call_id)
        .bind(req.from)
        .bind(req.to)
        .bind(to_ms(req.now))
        .bind(req.event_key)
        .bind(req.queued)
}

/// The call `req` creates, as its plan sees it before anything is stored.
pub(super) fn fresh_call(req: &StepRequest<'_>) -> Call {
    Call {
        id: 0,
        provider: req.provider.to_owned(),
        provider_call_id: req.provider_call_id.to_owned(),
        direction: "inbound".into(),
        from_number: req.from.map(str::to_owned),
        to_number: req.to.map(str::to_owned),
        line: "main".into(),
        state: "incoming".into(),
        operator_id: None,
        started_at: req.now,
        updated_at: req.now,
        ended_at: None,
        queued_at: None,
        tried: Vec::new(),
        version: 0,
    }
}

/// [`PG_NEW_CALL`] for `req` planned as `p`: `caller_id` is the voicemail the plan starts (if
/// any), `facts` the call's facts row, merged when `delta`.
pub(super) fn new_call_query<'q>(
    req: &'q StepRequest<'q>,
    p: &'q StepPlan,
    caller_id: Option<Option<String>>,
    facts: &'q super::facts::FactsRow,
    delta: bool,
) -> PgQueryAs<'q, CallRow> {
    let tried = p.tried_stored();
    let q = sqlx::query_as(PG_NEW_CALL.as_str())
        .bind(req.provider)
        .bind(req.provider_call_id)
        .bind(req.from)
        .bind(req.to)
        .bind(&p.state)
        .bind(tried)
        .bind(to_ms(req.now))
        .bind(caller_id.is_some())
        .bind(caller_id.flatten());
    facts.bind(bind_event(q, req, p)).bind(delta)
}

/// Binds the step's event (key, kind, sequence, payload, reply, mark), in that order.
fn bind_event<'q, O>(
    q: PgQueryAs<'q, O>,
    req: &'q StepRequest<'q>,
    p: &'q StepPlan,
) -> PgQueryAs<'q, O> {
    q.bind(req.event_key)
        .bind(req.kind)
        .bind(req.sequence)
        .bind(req.payload)
        .bind(&p.reply)
        .bind(p.mark.to_stored())
}

macro_rules! impl_call_step_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl CallStepStore for $t {
            fn forget_free_operators(&self) {
                self.forget_snapshot();
            }

            async fn call_step(
                &self,
                req: &StepRequest<'_>,
                plan: &SharedPlanner,
            ) -> Result<StepDone, StoreError> {
                let now = to_ms(req.now);
                let mut gate = None;
                loop {
                    match Self::new_call_at_once(self, req, plan, &mut gate).await? {
                        AtOnce::Done(done) => return Ok(done),
                        // New callers planned on the same free operators would otherwise all
                        // race for their rows in full steps (a burst at the start of the day
                        // ran some thirty at once for three operators): one at a time on this
                        // instance, each planning again on what the one before left, so that
                        // once everyone is busy the rest are held in one statement each.
                        AtOnce::Reserves if gate.is_none() => {
                            gate = Some(self.reserving.lock().await);
                        }
                        AtOnce::Reserves | AtOnce::Full => break,
                    }
                }
                // Any other step may free an operator (or reserve one): new calls read afresh.
                self.forget_snapshot();
                let mut tx = self.begin_write().await?;
                // One round trip: the call (created, locked), whether the event was seen, and
                // whether others are queued.
                let opened: Option<Opened> = if req.create {
                    open_query(req).fetch_optional(&mut *tx).await?
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
                    let r = sqlx::query(PG_RESERVE.as_str())
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
                            sqlx::query(LOG_PRESENCE)
                                .bind(op)
                                .bind("break")
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
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
                if let Some(rule) = p.blocked {
                    sqlx::query(super::blocklist::ATTEMPT)
                        .bind(super::step::attempt_key(req.provider, req.provider_call_id))
                        .bind(rule)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(number) = &p.repeat {
                    let repeated: Option<(i64, i64)> = sqlx::query_as(super::step::REPEAT)
                        .bind(number)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some((id, repeats)) = repeated {
                        sqlx::query(super::callbacks::HISTORY)
                            .bind(id)
                            .bind(now)
                            .bind("system")
                            .bind("repeated")
                            .bind(super::callbacks::history_detail(super::step::repeat_detail(repeats)))
                            .execute(&mut *tx)
                            .await?;
                    }
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
                let tried = p.tried_stored();
                let delta = super::facts::step_delta(&call, &p, req.now)?;
                let facts_row = delta.clone().unwrap_or_else(super::facts::FactsRow::empty);
                // One round trip: the compare-and-set of the call, its event and its facts.
                let after = sqlx::query_as(PG_FINISH.as_str())
                    .bind(call.id)
                    .bind(&p.state)
                    .bind(p.operator_id)
                    .bind(tried)
                    .bind(now)
                    .bind(call.version);
                let after = bind_event(after, req, &p);
                let after: Option<CallRow> = facts_row.bind(after).bind(delta.is_some())
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(after) = after else {
                    return Err(StoreError::Conflict(format!(
                        "call {} changed during its step (version {})",
                        call.id, call.version
                    )));
                };
                tx.commit().await?;
                // A new call that read the operators while this step ran must not reuse that.
                self.forget_snapshot();
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
            /// A new call's first step in one statement (autocommit) when its plan needs nothing
            /// locked: off hours (the plan looks at no operator and no queue), or in hours when
            /// the plan, made from a snapshot of the operators and the queue read just before,
            /// queues the caller — the call, its voicemail row if the plan starts one, and the
            /// event. Queueing on a snapshot is as safe as in a transaction (whose reads of the
            /// operators are not locked either): the switchboard has the dispatcher look at the
            /// queue shortly after a new caller is held (`Switchboard::nudge_dispatcher`), and its
            /// pass sees this caller and any operator freed meanwhile. The snapshot may be one a
            /// moment old ([`SnapshotCache`]); this instance forgets it whenever an operator may
            /// have become free. A plan that reserves an operator ([`AtOnce::Reserves`]), or
            /// anything else to write, takes the full step, which plans again from what is
            /// stored; so does a call that exists already ([`AtOnce::Full`]).
            async fn new_call_at_once(
                &self,
                req: &StepRequest<'_>,
                plan: &SharedPlanner,
                gate: &mut Option<tokio::sync::MutexGuard<'_, ()>>,
            ) -> Result<AtOnce, StoreError> {
                if !req.create {
                    return Ok(AtOnce::Full);
                }
                let mut use_cache = true;
                loop {
                let generation = self.snapshot.generation();
                let (operators, queued, cached) = if !req.operators {
                    (std::sync::Arc::new(Vec::new()), 0, false)
                } else if let Some((ops, queued)) = self.snapshot.get().filter(|_| use_cache) {
                    (ops, queued, true)
                } else {
                    let rows: Vec<SnapshotRow> = sqlx::query_as(PG_SNAPSHOT.as_str())
                        .fetch_all(self.writer())
                        .await?;
                    let queued = match rows.first() {
                        Some(r) => r.queued,
                        None if req.queued => {
                            sqlx::query_scalar(QUEUED_ANY).fetch_one(self.writer()).await?
                        }
                        None => 0,
                    };
                    let operators = rows
                        .into_iter()
                        .map(|r| Operator::try_from(r.operator))
                        .collect::<Result<Vec<_>, _>>()?;
                    (std::sync::Arc::new(operators), queued, false)
                };
                let queued = if req.queued { queued } else { 0 };
                let fresh = fresh_call(req);
                let input = StepInput {
                    call: &fresh,
                    operators: operators.as_slice(),
                    queued,
                    unavailable: &[],
                };
                let planned = (plan.lock().unwrap_or_else(|p| p.into_inner()))(&input);
                let Some(p) = planned.map_err(StoreError::Step)? else {
                    return Ok(AtOnce::Full);
                };
                let caller_id = match p.voicemail.as_slice() {
                    [] => None,
                    [VoicemailWrite::Start { caller_id }] => Some(caller_id.clone()),
                    _ => return Ok(AtOnce::Full),
                };
                let simple = !p.has_side_writes() && p.operator_id.is_none();
                if cached && !simple {
                    // The cached snapshot proposed an operator: decide again on what the
                    // database says now.
                    self.snapshot.clear();
                    use_cache = false;
                    continue;
                }
                if req.operators && req.queued && !cached && simple {
                    self.snapshot.put(generation, operators.clone(), queued);
                }
                if p.reserve.is_some() {
                    return Ok(AtOnce::Reserves);
                }
                if !simple {
                    return Ok(AtOnce::Full);
                }
                // A caller held (or sent to voicemail) after waiting for the reservation gate
                // lets the next waiter plan while this statement runs.
                drop(gate.take());
                let delta = super::facts::step_delta(&fresh, &p, req.now)?;
                let facts_row = delta.clone().unwrap_or_else(super::facts::FactsRow::empty);
                let row: Option<CallRow> =
                    new_call_query(req, &p, caller_id, &facts_row, delta.is_some())
                        .fetch_optional(self.writer())
                        .await?;
                return Ok(match row {
                    Some(after) => AtOnce::Done(StepDone::Applied(Box::new(Applied {
                        call: after.into(),
                        before: "incoming".into(),
                        plan: p,
                        paused: Vec::new(),
                        joined: None,
                        jobs: 0,
                    }))),
                    None => AtOnce::Full,
                });
                }
            }

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
                    source: j.source,
                    registration: &j.registration,
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
