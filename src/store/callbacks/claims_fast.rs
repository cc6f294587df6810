//! Claiming and releasing a callback request at the speed of the morning rush, when every
//! operator presses «Следующий звонок» at once. The SQL is `claims.rs`'s; what differs is how each
//! backend runs it.
//!
//! SQLite: on the writer thread (`sqlite_writer.rs`), in-thread and group-committed like a call
//! step — the expired leases' release, the claim (or the release) and its history row run back to
//! back without a hop per statement, and sixteen claims at once share one commit instead of
//! queueing sixteen transactions on the one writer connection; the request and its voicemails
//! are read back there too, so the answer needs no reader connection.
//!
//! PostgreSQL: the claim, its history row and the request's voicemail ids are one autocommit
//! statement (`with c as (update … returning …) insert …`); `for update skip locked` in the claim's subquery lets claimers pass
//! each other, and a claim that lost its row to another (or the operator's own second claim, on
//! the one-claim index) looks again, as before.

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::ToSql;

use super::claims::{
    ANY_DUE, HELD_ID, LONGEST_CALL_MS, RELEASE_EXPIRED, RELEASE_ONE, claim_sql, held_sql,
};
use super::imp::{COLS, HISTORY, VOICEMAIL_IDS, history_detail};
use super::{CallbackRequest, Claimed, RequestRow};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::sqlite_step::{db, exec, one, prepared};
use crate::store::{StoreError, to_ms};

/// The history entry of a claim.
fn claimed_detail(operator_id: i64, until: DateTime<Utc>) -> String {
    history_detail(serde_json::json!({
        "operator_id": operator_id,
        "lease_until": until.to_rfc3339(),
    }))
}

/// Expired leases back to the list, on the writer thread (see `claims::release_expired`).
fn release_expired_in(conn: &rusqlite::Connection, now: i64) -> Result<(), StoreError> {
    let before = now - LONGEST_CALL_MS;
    let ids: Vec<i64> = {
        let mut stmt = prepared(conn, RELEASE_EXPIRED.as_str(), &[&now, &before])?;
        let mut rows = stmt.raw_query();
        let mut ids = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            ids.push(r.get(0).map_err(db)?);
        }
        ids
    };
    for id in ids {
        let p: [&dyn ToSql; 5] = [
            &id,
            &now,
            &"system",
            &"released",
            &r#"{"reason":"lease expired"}"#,
        ];
        exec(conn, HISTORY, &p)?;
    }
    Ok(())
}

/// A row of `select {COLS}` as rusqlite reads it.
fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    Ok(RequestRow {
        id: r.get(0)?,
        reg_number: r.get(23)?,
        email: r.get(24)?,
        callback_number: r.get(1)?,
        caller_category: r.get(2)?,
        state: r.get(3)?,
        outcome: r.get(4)?,
        topic: r.get(5)?,
        note: r.get(6)?,
        source: r.get(7)?,
        summary: r.get(8)?,
        repeat_count: r.get(9)?,
        attempts: r.get(10)?,
        misses: r.get(11)?,
        follow_up: r.get(12)?,
        silent: r.get(13)?,
        created_at_ms: r.get(14)?,
        due_at_ms: r.get(15)?,
        deadline_at_ms: r.get(16)?,
        deadline_work_ms: r.get(17)?,
        rank_ms: r.get(18)?,
        claimed_by: r.get(19)?,
        lease_until_ms: r.get(20)?,
        closed_at_ms: r.get(21)?,
        updated_at_ms: r.get(22)?,
    })
}

/// The request `id` with its voicemails, read on the writer thread right after its change (in
/// the same transaction): the answer needs no trip through the reader pool.
fn request_in(conn: &rusqlite::Connection, id: i64) -> Result<CallbackRequest, StoreError> {
    static ONE: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("select {COLS} from callback_requests where id = $1"));
    let row = one(conn, ONE.as_str(), &[&id], request_row)?
        .ok_or_else(|| StoreError::NotFound(format!("callback request {id}")))?;
    let mut r = CallbackRequest::from(row);
    let mut stmt = prepared(conn, VOICEMAIL_IDS, &[&id])?;
    let mut rows = stmt.raw_query();
    while let Some(v) = rows.next().map_err(db)? {
        r.voicemail_ids.push(v.get(1).map_err(db)?);
    }
    Ok(r)
}

impl SqliteStore {
    pub(super) async fn claim_one(
        &self,
        operator_id: i64,
        actor: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<Claimed>, StoreError> {
        static CLAIM: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| claim_sql(SqliteStore::CLAIM_LOCK, "id"));
        let (actor, detail) = (actor.to_owned(), claimed_detail(operator_id, now + lease));
        let (now_ms, until, lease_ms) = (to_ms(now), to_ms(now + lease), lease.num_milliseconds());
        self.steps()
            .run(move |conn| {
                release_expired_in(conn, now_ms)?;
                let p: [&dyn ToSql; 4] = [&operator_id, &until, &now_ms, &lease_ms];
                if let Some(id) = one(conn, CLAIM.as_str(), &p, |r| r.get::<_, i64>(0))? {
                    let h: [&dyn ToSql; 5] = [&id, &now_ms, &actor, &"claimed", &detail];
                    exec(conn, HISTORY, &h)?;
                    return Ok(Some(Claimed::New(request_in(conn, id)?)));
                }
                match one(conn, &HELD_ID, &[&operator_id], |r| r.get::<_, i64>(0))? {
                    Some(id) => Ok(Some(Claimed::Held(request_in(conn, id)?))),
                    None => Ok(None),
                }
            })
            .await
    }

    pub(super) async fn release_one(
        &self,
        request_id: i64,
        holder: Option<i64>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackRequest, StoreError> {
        let (actor, now_ms) = (actor.to_owned(), to_ms(now));
        self.steps()
            .run(move |conn| {
                let sql = "select state, claimed_by from callback_requests where id = $1";
                let found = one(conn, sql, &[&request_id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
                })?;
                let Some((state, claimed_by)) = found else {
                    return Err(StoreError::NotFound(format!(
                        "callback request {request_id}"
                    )));
                };
                if !(state == "claimed" && holder.is_none_or(|op| claimed_by == Some(op))) {
                    return Err(StoreError::Conflict(match holder {
                        Some(_) => "the request is not claimed by you".into(),
                        None => "the request is not claimed".into(),
                    }));
                }
                exec(conn, RELEASE_ONE, &[&request_id, &now_ms])?;
                let reason = match holder {
                    Some(_) => "released by its holder",
                    None => "released by a supervisor",
                };
                let detail = history_detail(
                    serde_json::json!({"reason": reason, "operator_id": claimed_by}),
                );
                let h: [&dyn ToSql; 5] = [&request_id, &now_ms, &actor, &"released", &detail];
                exec(conn, HISTORY, &h)?;
                request_in(conn, request_id)
            })
            .await
    }
}

/// A row of PostgreSQL's claim: the request and its voicemails' ids (`1,5,9`), in one statement.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    row: RequestRow,
    voicemail_list: String,
}

impl ClaimedRow {
    fn into_request(self) -> CallbackRequest {
        with_voicemail_list(self.row, &self.voicemail_list)
    }
}

/// The request of a PostgreSQL claim's row with the voicemail ids of its `voicemail_list`
/// (`1,5,9`; empty for none), here and in the batch claim (`claims_pg.rs`).
pub(super) fn with_voicemail_list(row: RequestRow, voicemail_list: &str) -> CallbackRequest {
    let mut r = CallbackRequest::from(row);
    r.voicemail_ids = voicemail_list
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect();
    r
}

impl PgStore {
    pub(super) async fn claim_one(
        &self,
        operator_id: i64,
        actor: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<Claimed>, StoreError> {
        let detail = claimed_detail(operator_id, now + lease);
        self.claim_batched(operator_id, actor, detail, now, lease)
            .await
    }

    /// One claim on its own (when its batch failed; see `claims_pg.rs`).
    pub(super) async fn claim_alone(
        &self,
        operator_id: i64,
        actor: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<Claimed>, StoreError> {
        static CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "with c as ({}), h as (insert into callback_history \
                 (request_id, at_ms, actor, action, detail) \
                 select id, $3, $5, 'claimed', $6 from c) select c.*, \
                 coalesce((select string_agg(v.id::text, ',' order by v.id) from voicemails v \
                 where v.callback_request_id = c.id), '') as voicemail_list from c",
                claim_sql(PgStore::CLAIM_LOCK, COLS)
            )
        });
        static HELD_ROW: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| held_sql(COLS, "= $1"));
        self.release_expired(now).await?;
        let detail = claimed_detail(operator_id, now + lease);
        // A row taken by another claimer between the snapshot and the lock can make the
        // subquery come back empty while others wait, and the operator's own second claim at the
        // same time loses on the one-claim index: look again.
        for _ in 0..5 {
            let claimed = sqlx::query_as::<_, ClaimedRow>(CLAIM.as_str())
                .bind(operator_id)
                .bind(to_ms(now + lease))
                .bind(to_ms(now))
                .bind(lease.num_milliseconds())
                .bind(actor)
                .bind(&detail)
                .fetch_optional(self.writer())
                .await;
            match claimed {
                Ok(Some(c)) => return Ok(Some(Claimed::New(c.into_request()))),
                Ok(None) => {}
                Err(e) => match StoreError::unique(e, "one claim per operator") {
                    StoreError::Conflict(_) => continue,
                    other => return Err(other),
                },
            }
            let held: Option<RequestRow> = sqlx::query_as(HELD_ROW.as_str())
                .bind(operator_id)
                .fetch_optional(self.reader())
                .await?;
            if let Some(row) = held {
                return Ok(Some(Claimed::Held(self.with_voicemails(row.into()).await?)));
            }
            let left: i64 = sqlx::query_scalar(ANY_DUE)
                .bind(to_ms(now))
                .fetch_one(self.reader())
                .await?;
            if left == 0 {
                return Ok(None);
            }
        }
        Ok(None)
    }

    pub(super) async fn release_one(
        &self,
        request_id: i64,
        holder: Option<i64>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackRequest, StoreError> {
        self.release_one_tx(request_id, holder, actor, now).await
    }
}
