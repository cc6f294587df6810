//! Warming a PostgreSQL connection before the service takes requests. A fresh server backend
//! pays, on the first run of each statement, for parsing and planning it and for loading the
//! catalogue entries of every table, index and foreign-key check it touches; measured on a
//! 2-core machine under a flood, the new call's one statement took 35–48 ms there against 2–10 ms
//! afterwards; and a connection the pool opened during the first burst made its requests wait for
//! a backend to start as well. Together they made the first second after a start the slowest of
//! a run (p99 50–80 ms against 3–9 ms later, at 1 000 webhooks/s). So `warm_up` opens all of the
//! pool's connections before the service listens, and each runs the webhook path's statements
//! on synthetic calls, inside a transaction that is rolled back: the statements are then
//! prepared (sqlx caches them per connection by their text) and the backend's caches are filled,
//! and nothing of the synthetic calls is ever visible. Those that take parameters run six times:
//! PostgreSQL plans such a statement afresh on each of its first five runs and only then keeps a
//! generic plan; under a flood a connection's first new calls took 3–19 ms against 0.6–0.8 ms a
//! moment later.
//!
//! Only at start: a connection the pool opens later (one closed after sqlx's idle timeout or
//! lifetime) starts cold. Warming those too, from the pool's `after_connect`, was tried and
//! dropped: its transaction holds locks on many tables at once while a connection opens at any
//! moment, and it deadlocked with a schema change running meanwhile (a test's `drop schema`; in
//! production, another instance's migrations).

use chrono::Utc;
use sqlx::PgConnection;

use super::StoreError;
use super::step::{OPERATORS, StepPlan, StepRequest};
use super::step_postgres::{
    PG_LOCK, PG_SNAPSHOT, QUEUED_ANY, fresh_call, new_call_query, open_query,
};

/// The provider name of the synthetic calls (they never commit).
const PROVIDER: &str = "warm-up";
/// Synthetic calls per connection. PostgreSQL plans a prepared statement that takes parameters
/// afresh on each of its first five runs (a custom plan) and only then may keep one generic
/// plan; the new call's statement is large enough that planning it is most of its cost.
const RUNS: usize = 6;

/// Runs the webhook path's statements on `conn` inside a transaction it rolls back: once, those
/// without parameters (the screen's blocklist and limits, the new call's snapshot of operators
/// and queue); [`RUNS`] times, on as many synthetic calls, those with parameters (the caller's
/// record, the new call's one statement, the full step's opening and locking reads).
pub(crate) async fn warm_statements(conn: &mut PgConnection) -> Result<(), StoreError> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let now = Utc::now();
    let from = "+70000000000";
    sqlx::query(super::blocklist::LIST)
        .fetch_all(&mut *tx)
        .await?;
    sqlx::query(super::blocklist::LIMITS)
        .fetch_optional(&mut *tx)
        .await?;
    sqlx::query(PG_SNAPSHOT.as_str())
        .fetch_all(&mut *tx)
        .await?;
    sqlx::query(QUEUED_ANY).fetch_one(&mut *tx).await?;
    sqlx::query(OPERATORS.as_str()).fetch_all(&mut *tx).await?;
    for _ in 0..RUNS {
        warm_call(&mut tx, from, now).await?;
    }
    tx.rollback().await?;
    Ok(())
}

/// One synthetic call through the statements that take parameters: the caller's record, the new
/// call's one statement, and the full step's opening and locking reads.
async fn warm_call(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    from: &str,
    now: chrono::DateTime<Utc>,
) -> Result<(), StoreError> {
    let call_id = format!("warm-up-{}", uuid::Uuid::new_v4());
    sqlx::query(super::blocklist::CALLER_RECORD)
        .bind(from)
        .bind(super::to_ms(now))
        .bind(PROVIDER)
        .bind(&call_id)
        .bind(super::to_ms(now))
        .fetch_one(&mut **tx)
        .await?;
    let req = StepRequest {
        provider: PROVIDER,
        provider_call_id: &call_id,
        from: Some(from),
        to: Some("+70000000001"),
        event_key: "incoming",
        kind: "incoming",
        sequence: None,
        payload: "{}",
        now,
        create: true,
        operators: true,
        queued: true,
    };
    // A caller held in the queue with a voicemail started: the statement's every part runs.
    let fresh = fresh_call(&req);
    let plan = StepPlan {
        state: "queued".into(),
        ..StepPlan::keep(&fresh, Some("<Response/>".into()))
    };
    let delta = super::facts::step_delta(&fresh, &plan, now)?;
    let merged = delta.is_some();
    let facts = delta.unwrap_or_else(super::facts::FactsRow::empty);
    let created = new_call_query(&req, &plan, Some(Some(from.into())), &facts, merged)
        .fetch_optional(&mut **tx)
        .await?;
    if created.is_none() {
        return Err(StoreError::Step(
            "warming a connection: the synthetic call was not created".into(),
        ));
    }
    let mut later = req.clone();
    later.event_key = "status:1";
    open_query(&later).fetch_optional(&mut **tx).await?;
    sqlx::query(PG_LOCK.as_str())
        .bind(PROVIDER)
        .bind(&call_id)
        .bind("status:2")
        .fetch_optional(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;
    use crate::store::postgres::testing::TestSchema;

    /// After the warm-up, a connection runs the new call's statements (the one statement of a
    /// new call, and the full step's opening) on a kept generic plan: they are not planned again
    /// on each of the first requests a connection serves (PostgreSQL plans a statement with
    /// parameters afresh on each of its first five runs).
    #[tokio::test]
    async fn a_warmed_connection_keeps_the_new_call_plans() {
        let Some(db) = TestSchema::new("PostgreSQL warm-up test").await else {
            return;
        };
        let mut conn = PgConnection::connect_with(&db.opts).await.unwrap();
        warm_statements(&mut conn).await.unwrap();
        let plans: Vec<(i64, i64)> = sqlx::query_as(
            "select generic_plans, custom_plans from pg_prepared_statements \
             where statement like 'with c as (insert into calls%'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        db.drop_schema().await;
        assert_eq!(
            plans.len(),
            2,
            "the new call's statement and the full step's opening"
        );
        for (generic, custom) in plans {
            assert!(
                generic >= 1,
                "planned afresh every run: {custom} custom plans"
            );
        }
    }
}
