//! PostgreSQL claims group-claimed: when every operator presses «Следующий звонок» at once, the
//! claims waiting in this instance go to the database as one statement that hands the top due
//! requests to the waiting operators in arrival order (the PostgreSQL counterpart of SQLite's
//! group commit on the writer thread). One task per store runs one batch at a time; claims that
//! arrive meanwhile form the next batch, so a lone claim is one statement, as before, and sixteen
//! at once are two or three instead of sixteen racing over the same locked rows.
//!
//! The batch statement returns expired leases to the list (they are claimable from the next
//! batch on), locks as many due rows as there are operators (`for update skip locked`, so another
//! instance's claims pass it), pairs them with the operators that hold nothing, writes the leases
//! and their history rows, and returns each request with its voicemail ids (the release and the
//! read of held requests are `claims.rs`'s SQL, as on the one-claim path). An
//! operator who holds a claim gets it back; an operator left without a row while due rows remain
//! (another instance took the locked ones) tries again in the next batch, five times at most; any
//! failure of the batch (the database, or an operator's second claim through another instance
//! meeting the one-claim index) sends each of its claims down the one-claim path
//! (`claims_fast.rs`), which reports its own error or result.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::{mpsc, oneshot};

use super::claims::{ANY_DUE, LONGEST_CALL_MS, held_sql, release_expired_sql};
use super::claims_fast::with_voicemail_list;
use super::imp::{COLS, ORDER};
use super::{Claimed, RequestRow};
use crate::store::postgres::PgStore;
use crate::store::{StoreError, to_ms};

/// At most this many claims in one statement.
const MAX_BATCH: usize = 32;
/// How often the batch task lets other tasks run before a batch leaves.
const GATHER_YIELDS: usize = 8;
/// Batches a claim may be in before it is answered "nothing due".
const ATTEMPTS: u8 = 5;

/// The sending end of a store's claim task, started at the store's first claim.
pub(crate) type ClaimQueue = Arc<OnceLock<mpsc::UnboundedSender<Pending>>>;

/// What the batch says to a waiting claim.
enum Answer {
    Done(Option<Box<Claimed>>),
    /// Run the one-claim path (the batch failed).
    Alone,
}

/// A claim waiting for its batch.
pub(crate) struct Pending {
    operator_id: i64,
    actor: String,
    detail: String,
    now: DateTime<Utc>,
    lease: TimeDelta,
    attempts: u8,
    reply: oneshot::Sender<Answer>,
}

/// A row of the batch: the request, its voicemails' ids (`1,5,9`) and the operator it went to.
#[derive(sqlx::FromRow)]
struct BatchRow {
    #[sqlx(flatten)]
    row: RequestRow,
    voicemail_list: String,
    claimer: i64,
}

/// The batch statement for `n` operators (the row limit is a literal, so the planner walks the
/// claim index in list order and stops after `n` rows).
fn batch_sql(n: usize) -> String {
    let cols: Vec<String> = COLS
        .split(", ")
        .map(|c| format!("r.{}", c.trim()))
        .collect();
    format!(
        "with req as (select * from unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], \
         $5::text[], $6::text[]) with ordinality as q(op, until_ms, now_ms, lease_ms, actor, \
         detail, ord)), \
         x as ({release}), \
         xh as (insert into callback_history (request_id, at_ms, actor, action, detail) \
         select id, $7, 'system', 'released', '{{\"reason\":\"lease expired\"}}' from x), \
         free as (select req.*, row_number() over (order by ord) as rn from req where not exists \
         (select 1 from callback_requests h where h.state = 'claimed' and h.claimed_by = req.op)), \
         top as (select id, row_number() over (order by {ORDER}) as rn from (select {ORDER} \
         from callback_requests where state = 'open' and due_at_ms <= $7 order by {ORDER} \
         limit {n} for update skip locked) t), \
         c as (update callback_requests r set state = 'claimed', claimed_by = free.op, \
         lease_until_ms = free.until_ms, lease_ms = free.lease_ms, updated_at_ms = free.now_ms \
         from top join free using (rn) where r.id = top.id and r.state = 'open' \
         returning {}, free.op as claimer, free.now_ms as at_ms, free.actor as actor, \
         free.detail as detail), \
         h as (insert into callback_history (request_id, at_ms, actor, action, detail) \
         select id, at_ms, actor, 'claimed', detail from c) \
         select c.*, coalesce((select string_agg(v.id::text, ',' order by v.id) from voicemails v \
         where v.callback_request_id = c.id), '') as voicemail_list from c",
        cols.join(", "),
        release = release_expired_sql("$7", "$8", true),
    )
}

impl PgStore {
    /// Claims through this store's batch task; the one-claim path when the task cannot answer.
    pub(super) async fn claim_batched(
        &self,
        operator_id: i64,
        actor: &str,
        detail: String,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<Claimed>, StoreError> {
        let queue = self.claims.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(self.sibling(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            operator_id,
            actor: actor.to_owned(),
            detail,
            now,
            lease,
            attempts: 0,
            reply,
        };
        if queue.send(pending).is_ok()
            && let Ok(Answer::Done(claimed)) = answer.await
        {
            return Ok(claimed.map(|c| *c));
        }
        self.claim_alone(operator_id, actor, now, lease).await
    }
}

/// The batch task: one batch at a time, until every sender is gone.
async fn run(store: PgStore, mut rx: mpsc::UnboundedReceiver<Pending>) {
    let mut again: Vec<Pending> = Vec::new();
    // The batch statement's own connection, outside the pool (whose hand-out and return each
    // cost a round trip); opened when needed, dropped after an error.
    let mut conn: Option<sqlx::PgConnection> = None;
    loop {
        let mut batch = std::mem::take(&mut again);
        if batch.is_empty() {
            match rx.recv().await {
                Some(p) => batch.push(p),
                None => return,
            }
        }
        // Claims of one burst arrive a few tasks apart: let those tasks run before the batch
        // leaves (a lone claim loses a few task switches, not a timer tick).
        for _ in 0..GATHER_YIELDS {
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            tokio::task::yield_now().await;
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        // One claim per operator in a batch: a second one (a double click) waits for the next,
        // where it finds the first one held.
        let mut seen = HashSet::new();
        let (now, later): (Vec<_>, Vec<_>) =
            batch.into_iter().partition(|p| seen.insert(p.operator_id));
        again = store.claim_batch(now, &mut conn).await;
        again.extend(later);
    }
}

impl PgStore {
    /// Runs one batch and answers its claims; returns those to try again.
    async fn claim_batch(
        &self,
        batch: Vec<Pending>,
        conn: &mut Option<sqlx::PgConnection>,
    ) -> Vec<Pending> {
        let result = self.try_batch(&batch, conn).await;
        if result.is_err() {
            // The connection may be broken, or inside a failed statement: a new one next time.
            *conn = None;
        }
        match result {
            Ok((mut claimed, mut held, any_due)) => {
                let mut again = Vec::new();
                for p in batch {
                    let answer = if let Some(r) = claimed.remove(&p.operator_id) {
                        Some(Box::new(Claimed::New(r)))
                    } else if let Some(r) = held.remove(&p.operator_id) {
                        Some(Box::new(Claimed::Held(r)))
                    } else if any_due && p.attempts + 1 < ATTEMPTS {
                        again.push(Pending {
                            attempts: p.attempts + 1,
                            ..p
                        });
                        continue;
                    } else {
                        None
                    };
                    let _ = p.reply.send(Answer::Done(answer));
                }
                again
            }
            Err(e) => {
                tracing::debug!(error = %e, claims = batch.len(), "claim batch failed: one by one");
                for p in batch {
                    let _ = p.reply.send(Answer::Alone);
                }
                Vec::new()
            }
        }
    }

    /// The batch's statements: the claims (and the release of expired leases), the held requests
    /// of the operators who got none, and whether anything due is left for the rest.
    async fn try_batch(
        &self,
        batch: &[Pending],
        conn: &mut Option<sqlx::PgConnection>,
    ) -> Result<(Reqs, Reqs, bool), StoreError> {
        let Some(now) = batch.iter().map(|p| p.now).min() else {
            return Ok(Default::default());
        };
        let conn = match conn {
            Some(c) => c,
            None => {
                let mut c: sqlx::PgConnection =
                    sqlx::Connection::connect_with(&*self.writer().connect_options()).await?;
                // The batch statement's text differs by its row limit, and PostgreSQL plans each
                // afresh on its first five runs, and on every run when it judges the generic plan
                // dearer: on this connection, which runs nothing else, one plan each is kept.
                sqlx::query("set plan_cache_mode = force_generic_plan")
                    .execute(&mut c)
                    .await?;
                conn.insert(c)
            }
        };
        let ms = |f: &dyn Fn(&Pending) -> i64| batch.iter().map(f).collect::<Vec<i64>>();
        let rows: Vec<BatchRow> = sqlx::query_as(&batch_sql(batch.len()))
            .bind(ms(&|p| p.operator_id))
            .bind(ms(&|p| to_ms(p.now + p.lease)))
            .bind(ms(&|p| to_ms(p.now)))
            .bind(ms(&|p| p.lease.num_milliseconds()))
            .bind(batch.iter().map(|p| p.actor.clone()).collect::<Vec<_>>())
            .bind(batch.iter().map(|p| p.detail.clone()).collect::<Vec<_>>())
            .bind(to_ms(now))
            .bind(to_ms(now) - LONGEST_CALL_MS)
            .fetch_all(&mut *conn)
            .await?;
        let mut claimed = Reqs::new();
        for b in rows {
            claimed.insert(b.claimer, with_voicemail_list(b.row, &b.voicemail_list));
        }
        let rest: Vec<i64> = batch
            .iter()
            .map(|p| p.operator_id)
            .filter(|op| !claimed.contains_key(op))
            .collect();
        let mut held = Reqs::new();
        if rest.is_empty() {
            return Ok((claimed, held, false));
        }
        let sql = held_sql(COLS, "= any($1)");
        let rows: Vec<RequestRow> = sqlx::query_as(&sql)
            .bind(&rest)
            .fetch_all(self.reader())
            .await?;
        for row in rows {
            if let Some(op) = row.claimed_by {
                held.insert(op, self.with_voicemails(row.into()).await?);
            }
        }
        let any_due = rest.len() > held.len()
            && sqlx::query_scalar::<_, i64>(ANY_DUE)
                .bind(to_ms(now))
                .fetch_one(self.reader())
                .await?
                > 0;
        Ok((claimed, held, any_due))
    }
}

/// Requests by the operator they belong to.
type Reqs = HashMap<i64, super::CallbackRequest>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::testing::TestSchema;

    /// The batch statement runs on its connection's one kept plan: never planned afresh.
    #[tokio::test]
    async fn the_batch_connection_keeps_one_plan_per_statement() {
        let Some(db) = TestSchema::new("PostgreSQL claim batch test").await else {
            return;
        };
        let mut conn = None;
        for _ in 0..3 {
            let (reply, _answer) = oneshot::channel();
            let p = Pending {
                operator_id: 1,
                actor: "op".into(),
                detail: "{}".into(),
                now: Utc::now(),
                lease: TimeDelta::minutes(15),
                attempts: 0,
                reply,
            };
            db.store.claim_batch(vec![p], &mut conn).await;
        }
        let c = conn.as_mut().expect("the batch's connection");
        let plans: Vec<(i64, i64)> = sqlx::query_as(
            "select generic_plans, custom_plans from pg_prepared_statements \
             where statement like 'with req as%'",
        )
        .fetch_all(&mut *c)
        .await
        .unwrap();
        drop(conn);
        db.drop_schema().await;
        assert_eq!(
            plans,
            vec![(3, 0)],
            "(generic, custom) plans of the batch statement"
        );
    }
}
