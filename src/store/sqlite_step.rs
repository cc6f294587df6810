//! The call step on SQLite, run on the writer thread ([`super::sqlite_writer`]): the same SQL text,
//! the same order of writes and the same rules as the sqlx version in `step.rs` (which PostgreSQL
//! runs), executed through rusqlite with cached prepared statements so a whole step costs no
//! thread switch. Parameters are bound by their `$n` names, so the shared SQL needs no rewriting.
//! The conformance of the two is checked by running every call-path test on both backends.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, ToSql};

use super::callbacks::{
    ATTACH, HISTORY, INSERT_REQUEST, MERGE, NEXT_REG_SEQ, REFRESH, SILENT_BY_CALL,
    VOICEMAIL_OF_CALL, history_detail, rank_update,
};
use super::calls::{CallRow, INSERT_EVENT};
use super::operators::{LOG_PRESENCE, OperatorRow, RELEASE, RESERVE, WRAP_UP};
use super::step::{
    AttachPlan, CAS_UPDATE, CallStepStore, EVENT_REPLY, FIND_CALL, MAX_PLANS, OPERATORS,
    QUEUED_OTHERS, StepRequest, UPSERT_CALL, VOICEMAIL_NUMBER,
};
use super::voicemails::{ADD_FLAG, SET_CATEGORY, SET_NUMBER, SET_RECORDING, START};
use super::{
    Applied, Attached, Call, NewJob, Operator, SharedPlanner, StepDone, StepInput, StoreError,
    to_ms,
};
use crate::domain::callback::Priority;
use crate::domain::voicemail::FLAG_NO_CALLBACK_NUMBER;

/// A step's request, owned (it travels to the writer thread).
#[derive(Debug, Clone)]
pub(crate) struct OwnedRequest {
    pub provider: String,
    pub provider_call_id: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub event_key: String,
    pub kind: String,
    pub sequence: Option<i64>,
    pub payload: String,
    pub now: DateTime<Utc>,
    pub create: bool,
    pub operators: bool,
    pub queued: bool,
}

const NAMES: [&str; 17] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16", "$17",
];

pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return StoreError::Conflict(e.to_string());
    }
    StoreError::Step(format!("SQLite: {e}"))
}

/// A cached statement with `$n` parameters bound by name.
pub(crate) fn prepared<'c>(
    conn: &'c Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    for (name, value) in NAMES.iter().zip(params) {
        if let Some(i) = stmt.parameter_index(name).map_err(db)? {
            stmt.raw_bind_parameter(i, value).map_err(db)?;
        }
    }
    Ok(stmt)
}

pub(crate) fn exec(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<usize, StoreError> {
    prepared(conn, sql, params)?.raw_execute().map_err(db)
}

pub(crate) fn one<T>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = prepared(conn, sql, params)?;
    let mut rows = stmt.raw_query();
    match rows.next().map_err(db)? {
        Some(row) => Ok(Some(map(row).map_err(db)?)),
        None => Ok(None),
    }
}

fn call_row(r: &Row<'_>) -> rusqlite::Result<CallRow> {
    Ok(CallRow {
        id: r.get(0)?,
        provider: r.get(1)?,
        provider_call_id: r.get(2)?,
        direction: r.get(3)?,
        from_number: r.get(4)?,
        to_number: r.get(5)?,
        line: r.get(6)?,
        state: r.get(7)?,
        operator_id: r.get(8)?,
        started_at_ms: r.get(9)?,
        updated_at_ms: r.get(10)?,
        ended_at_ms: r.get(11)?,
        queued_at_ms: r.get(12)?,
        tried_operators: r.get(13)?,
        version: r.get(14)?,
    })
}

fn operators(conn: &Connection) -> Result<Vec<Operator>, StoreError> {
    let mut stmt = prepared(conn, OPERATORS.as_str(), &[])?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db)? {
        let row = OperatorRow {
            id: r.get(0).map_err(db)?,
            user_id: r.get(1).map_err(db)?,
            login: r.get(2).map_err(db)?,
            name: r.get(3).map_err(db)?,
            contact_kind: r.get(4).map_err(db)?,
            contact: r.get(5).map_err(db)?,
            line: r.get(6).map_err(db)?,
            presence: r.get(7).map_err(db)?,
            presence_since_ms: r.get(8).map_err(db)?,
            idle_since_ms: r.get(9).map_err(db)?,
            consecutive_misses: r.get(10).map_err(db)?,
            current_call_id: r.get(11).map_err(db)?,
        };
        out.push(Operator::try_from(row)?);
    }
    Ok(out)
}

/// Runs one call step on the writer thread's connection (inside the batch's savepoint).
pub(crate) fn call_step(
    conn: &Connection,
    req: &OwnedRequest,
    plan: &SharedPlanner,
) -> Result<StepDone, StoreError> {
    let now = to_ms(req.now);
    let row = if req.create {
        let p: [&dyn ToSql; 5] = [
            &req.provider,
            &req.provider_call_id,
            &req.from,
            &req.to,
            &now,
        ];
        one(conn, UPSERT_CALL, &p, call_row)?
    } else {
        let p: [&dyn ToSql; 2] = [&req.provider, &req.provider_call_id];
        one(conn, FIND_CALL.as_str(), &p, call_row)?
    };
    let Some(row) = row else {
        return Ok(StepDone::Skipped);
    };
    let call: Call = row.into();
    let seen = one(conn, EVENT_REPLY, &[&call.id, &req.event_key], |r| {
        r.get::<_, Option<String>>(0)
    })?;
    if let Some(reply) = seen {
        return Ok(StepDone::Redelivered { reply });
    }
    let mut ops = if req.operators {
        operators(conn)?
    } else {
        Vec::new()
    };
    let queued: i64 = if req.queued {
        one(conn, QUEUED_OTHERS, &[&call.id], |r| r.get(0))?.unwrap_or(0)
    } else {
        0
    };
    let mut unavailable = Vec::new();
    let p = loop {
        let input = StepInput {
            call: &call,
            operators: &ops,
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
        if exec(conn, RESERVE, &[&op, &call.id, &to_ms(cutoff), &now])? == 1 {
            break p;
        }
        unavailable.push(op);
        if unavailable.len() > MAX_PLANS {
            return Err(StoreError::Step(format!(
                "call {}: no reservation after {MAX_PLANS} plans",
                call.id
            )));
        }
        ops = operators(conn)?;
    };
    let mut paused = Vec::new();
    for &(op, missed) in &p.releases {
        let pause = i64::from(p.pause_after);
        let presence = one(
            conn,
            RELEASE,
            &[&op, &call.id, &missed, &pause, &now],
            |r| r.get::<_, String>(0),
        )?;
        if presence.as_deref() == Some("break") {
            exec(conn, LOG_PRESENCE, &[&op, &"break", &now])?;
            paused.push(op);
        }
    }
    for &op in &p.wrap_ups {
        exec(conn, WRAP_UP, &[&op, &call.id, &now])?;
    }
    let mut jobs: Vec<&NewJob> = p.jobs.iter().collect();
    for w in &p.voicemail {
        jobs.extend(write_voicemail(conn, call.id, w, now)?);
    }
    if p.voicemail
        .iter()
        .any(super::VoicemailWrite::touches_message)
    {
        exec(conn, SILENT_BY_CALL.as_str(), &[&call.id])?;
    }
    let joined = match &p.join {
        Some(j) => join(conn, call.id, j, req.now)?,
        None => None,
    };
    if let Some(priority) = &p.refresh {
        refresh(conn, call.id, priority)?;
    }
    if let Some(rule) = p.blocked {
        let key = super::step::attempt_key(&req.provider, &req.provider_call_id);
        exec(conn, super::blocklist::ATTEMPT, &[&key, &rule, &now])?;
    }
    if let Some(number) = &p.repeat {
        let repeated = one(conn, super::step::REPEAT, &[number, &now], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        if let Some((id, repeats)) = repeated {
            history(
                conn,
                id,
                now,
                "repeated",
                super::step::repeat_detail(repeats),
            )?;
        }
    }
    let mut enqueued = 0;
    for job in jobs {
        let p: [&dyn ToSql; 6] = [
            &job.kind,
            &job.payload,
            &job.dedup_key,
            &job.max_attempts.max(1),
            &to_ms(job.run_at),
            &now,
        ];
        enqueued +=
            usize::from(one(conn, super::jobs::INSERT_JOB, &p, |r| r.get::<_, i64>(0))?.is_some());
    }
    let tried = p.tried_stored();
    let cas: [&dyn ToSql; 6] = [
        &call.id,
        &p.state,
        &p.operator_id,
        &tried,
        &now,
        &call.version,
    ];
    let Some(after) = one(conn, CAS_UPDATE.as_str(), &cas, call_row)? else {
        return Err(StoreError::Conflict(format!(
            "call {} changed during its step (version {})",
            call.id, call.version
        )));
    };
    let delta = super::facts::step_delta(&call, &p, req.now)?;
    if let Some(row) = &delta {
        exec(conn, super::facts::MERGE.as_str(), &row.sqlite_values())?;
    }
    let mark = p.mark.to_stored();
    let ev: [&dyn ToSql; 9] = [
        &call.id,
        &req.event_key,
        &req.kind,
        &req.sequence,
        &req.payload,
        &p.reply,
        &now,
        &p.state,
        &mark,
    ];
    one(conn, INSERT_EVENT, &ev, |r| r.get::<_, i64>(0))?;
    Ok(StepDone::Applied(Box::new(Applied {
        call: after.into(),
        before: call.state,
        plan: p,
        paused,
        joined,
        jobs: enqueued,
    })))
}

fn write_voicemail<'w>(
    conn: &Connection,
    call_id: i64,
    w: &'w super::VoicemailWrite,
    now: i64,
) -> Result<Option<&'w NewJob>, StoreError> {
    use super::VoicemailWrite as W;
    match w {
        W::Start { caller_id } => exec(conn, START, &[&call_id, caller_id, &now])?,
        W::Number { number, confirmed } => exec(conn, SET_NUMBER, &[&call_id, number, confirmed])?,
        W::Category(c) => exec(conn, SET_CATEGORY, &[&call_id, c])?,
        W::Flag(f) => exec(conn, ADD_FLAG, &[&call_id, f])?,
        W::Recording {
            key,
            url,
            duration_ms,
            job,
        } => {
            let n =
                exec(conn, SET_RECORDING, &[&call_id, key, url, duration_ms]).map_err(
                    |e| match e {
                        StoreError::Conflict(_) => StoreError::Conflict(format!(
                            "recording {key} belongs to another voicemail"
                        )),
                        e => e,
                    },
                )?;
            if n == 1 {
                return Ok(job.as_ref());
            }
            tracing::warn!(
                call = call_id,
                "a second recording for one voicemail; ignored"
            );
            0
        }
    };
    Ok(None)
}

fn refresh(conn: &Connection, call_id: i64, priority: &Priority) -> Result<(), StoreError> {
    exec(conn, REFRESH.as_str(), &[&call_id])?;
    let sql = format!(
        "update callback_requests set rank_ms = {} where id = \
         (select callback_request_id from voicemails where call_id = $1) and state <> 'closed'",
        priority.rank_sql()
    );
    exec(conn, &sql, &[&call_id])?;
    Ok(())
}

/// The callback-list join of `step.rs`/`callbacks::imp::attach_in`, on this connection.
fn join(
    conn: &Connection,
    call_id: i64,
    j: &AttachPlan,
    now: DateTime<Utc>,
) -> Result<Option<Attached>, StoreError> {
    type Vm = (Option<String>, Option<String>, Option<i64>);
    let vm: Option<Vm> = one(conn, VOICEMAIL_NUMBER, &[&call_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    let Some((number, category, None)) = vm else {
        return Ok(None);
    };
    let Some(number) = number.filter(|n| (j.usable)(n)) else {
        tracing::warn!(
            call = call_id,
            "a voicemail without a callback number: it is listed but cannot join the callback list"
        );
        exec(conn, ADD_FLAG, &[&call_id, &FLAG_NO_CALLBACK_NUMBER])?;
        return Ok(None);
    };
    let at = to_ms(now);
    let (vm_id, _): (i64, Option<i64>) = one(conn, VOICEMAIL_OF_CALL, &[&call_id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?
    .ok_or_else(|| StoreError::NotFound(format!("voicemail of call {call_id}")))?;
    let existing: Option<i64> = one(
        conn,
        "select id from callback_requests where callback_number = $1 and state <> 'closed'",
        &[&number],
        |r| r.get(0),
    )?;
    let attached = match existing {
        Some(id) => {
            let p: [&dyn ToSql; 4] = [&id, &category, &to_ms(j.due), &at];
            let repeats: i64 = one(conn, MERGE, &p, |r| r.get(0))?.unwrap_or(0);
            let detail = serde_json::json!({"voicemail_id": vm_id, "repeat_count": repeats});
            history(conn, id, at, "merged", detail)?;
            Attached::Merged(id)
        }
        None => {
            let scope = j.registration.scope_at(now);
            let seq: i64 = one(conn, NEXT_REG_SEQ, &[&scope], |r| r.get(0))?
                .ok_or_else(|| StoreError::Step("no registration sequence".into()))?;
            let reg_number = j.registration.number_at(now, seq);
            let p: [&dyn ToSql; 8] = [
                &number,
                &category,
                &at,
                &to_ms(j.due),
                &to_ms(j.deadline),
                &j.deadline_work_ms,
                &j.source,
                &reg_number,
            ];
            let id: i64 = one(conn, INSERT_REQUEST, &p, |r| r.get(0))?
                .ok_or_else(|| StoreError::Step("no id for a new callback request".into()))?;
            let detail = serde_json::json!({
                "voicemail_id": vm_id,
                "due_at": j.due.to_rfc3339(),
                "deadline": j.deadline.to_rfc3339(),
            });
            history(conn, id, at, "created", detail)?;
            Attached::Created(id)
        }
    };
    let id = attached.request_id();
    exec(conn, ATTACH, &[&vm_id, &id])?;
    exec(conn, REFRESH.as_str(), &[&call_id])?;
    exec(conn, &rank_update(&j.priority), &[&id])?;
    Ok(Some(attached))
}

fn history(
    conn: &Connection,
    id: i64,
    at: i64,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    let p: [&dyn ToSql; 5] = [&id, &at, &"system", &action, &history_detail(detail)];
    exec(conn, HISTORY, &p)?;
    Ok(())
}

/// On SQLite a step runs whole on the writer thread, committed with whatever other steps are
/// waiting (group commit).
#[async_trait::async_trait]
impl CallStepStore for super::sqlite::SqliteStore {
    async fn call_step(
        &self,
        req: &StepRequest<'_>,
        plan: &SharedPlanner,
    ) -> Result<StepDone, StoreError> {
        let owned = OwnedRequest {
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
            .run(move |conn| call_step(conn, &owned, &plan))
            .await
    }
}
