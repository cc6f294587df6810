//! Callback figures counted in SQL, so a month of requests costs a few indexed counts and a
//! handful of result rows, not a row per request: created/done/first-attempt/SLA met by caller
//! category, done by topic per week, and the backlog at each working day's opening. The weeks and
//! openings (instants worked out on the Moscow calendar by the caller) are inlined as a `values`
//! list of integers; the text is shared by both backends.

use std::fmt::Write;

use super::StoreError;
use crate::domain::callback::Outcome;

/// Counts by caller category (`unknown` without one).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CategoryTally {
    pub category: String,
    pub created: i64,
    pub done: i64,
    pub first_attempt: i64,
    pub sla_met: i64,
}

/// What [`CallbackTallyStore::callback_tally`] counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackTally {
    pub by_category: Vec<CategoryTally>,
    /// (week's first instant, topic or `none`, done).
    pub by_topic_week: Vec<(i64, String, i64)>,
    /// (opening instant, requests not closed at it).
    pub backlog: Vec<(i64, i64)>,
}

/// The stored outcomes that close a request with the caller reached.
fn reached() -> String {
    Outcome::ALL
        .iter()
        .filter(|o| o.reached() && **o != Outcome::FollowUp)
        .map(|o| format!("'{}'", o.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Done in `[$1, $2)`: closed then, with the caller reached.
fn done() -> String {
    format!(
        "state = 'closed' and closed_at_ms >= $1 and closed_at_ms < $2 and outcome in ({})",
        reached()
    )
}

fn by_category_sql() -> String {
    let done = done();
    format!(
        "select coalesce(caller_category, 'unknown') as category, \
         cast(coalesce(sum(case when created_at_ms >= $1 and created_at_ms < $2 then 1 else 0 end), 0) as bigint) as created, \
         cast(coalesce(sum(case when {done} then 1 else 0 end), 0) as bigint) as done, \
         cast(coalesce(sum(case when {done} and attempts <= 1 then 1 else 0 end), 0) as bigint) as first_attempt, \
         cast(coalesce(sum(case when {done} and closed_at_ms <= deadline_at_ms then 1 else 0 end), 0) as bigint) as sla_met \
         from callback_requests \
         where (created_at_ms >= $1 and created_at_ms < $2) \
         or (state = 'closed' and closed_at_ms >= $1 and closed_at_ms < $2) \
         group by coalesce(caller_category, 'unknown') order by 1"
    )
}

/// `values (a, b), (c, d)` of instants.
fn values(pairs: impl Iterator<Item = (i64, i64)>) -> String {
    let mut s = String::from("values ");
    for (i, (a, b)) in pairs.enumerate() {
        let _ = write!(s, "{}({a}, {b})", if i > 0 { ", " } else { "" });
    }
    s
}

fn by_topic_week_sql(weeks: &[(i64, i64)]) -> String {
    format!(
        "with w(s, e) as ({}) select w.s, coalesce(r.topic, 'none'), cast(count(*) as bigint) \
         from callback_requests r join w on r.closed_at_ms >= w.s and r.closed_at_ms < w.e \
         where r.{} group by w.s, coalesce(r.topic, 'none') order by 1, 2",
        values(weeks.iter().copied()),
        done()
            .replace(" and closed_at_ms", " and r.closed_at_ms")
            .replace("outcome in", "r.outcome in")
    )
}

/// Requests not closed at `$1`: made before it, minus those closed by then (a closed request
/// never reopens, and is closed after it was made).
const OPEN_AT: &str = "select (select cast(count(*) as bigint) from callback_requests where created_at_ms < $1) \
     - (select cast(count(*) as bigint) from callback_requests where state = 'closed' and closed_at_ms <= $1)";

/// Between consecutive openings `(s, e]`: requests made in `[s, e)` and closed in `(s, e]`.
fn moves_sql(openings: &[i64]) -> String {
    format!(
        "with o(s, e) as ({}) select o.s, \
         (select cast(count(*) as bigint) from callback_requests r where r.created_at_ms >= o.s and r.created_at_ms < o.e), \
         (select cast(count(*) as bigint) from callback_requests r \
          where r.state = 'closed' and r.closed_at_ms > o.s and r.closed_at_ms <= o.e) \
         from o order by o.s",
        values(openings.windows(2).map(|w| (w[0], w[1])))
    )
}

/// Callback counts.
#[async_trait::async_trait]
pub trait CallbackTallyStore {
    /// The counts of `[lo, hi)`, with the topic counts per week (`weeks`: each week's first and
    /// end instants) and the backlog at each of `openings` (ascending).
    async fn callback_tally(
        &self,
        lo: i64,
        hi: i64,
        weeks: &[(i64, i64)],
        openings: &[i64],
    ) -> Result<CallbackTally, StoreError>;
}

macro_rules! impl_callback_tally_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl CallbackTallyStore for $t {
            async fn callback_tally(
                &self,
                lo: i64,
                hi: i64,
                weeks: &[(i64, i64)],
                openings: &[i64],
            ) -> Result<CallbackTally, StoreError> {
                let db = self.reader();
                let mut t = CallbackTally {
                    by_category: sqlx::query_as(&by_category_sql())
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(db)
                        .await?,
                    ..CallbackTally::default()
                };
                if !weeks.is_empty() {
                    t.by_topic_week = sqlx::query_as(&by_topic_week_sql(weeks))
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(db)
                        .await?;
                }
                let Some(&first) = openings.first() else {
                    return Ok(t);
                };
                let mut open: i64 = sqlx::query_scalar(OPEN_AT)
                    .bind(first)
                    .fetch_one(db)
                    .await?;
                t.backlog.push((first, open));
                if openings.len() > 1 {
                    let moves: Vec<(i64, i64, i64)> =
                        sqlx::query_as(&moves_sql(openings)).fetch_all(db).await?;
                    for ((_, made, closed), &at) in moves.iter().zip(&openings[1..]) {
                        open += made - closed;
                        t.backlog.push((at, open));
                    }
                }
                Ok(t)
            }
        }
    };
}

impl_callback_tally_store!(super::sqlite::SqliteStore);
impl_callback_tally_store!(super::postgres::PgStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reached_outcomes_and_values() {
        assert_eq!(
            reached(),
            "'resolved', 'rejected_insufficient_info', 'rejected_unclear'"
        );
        assert_eq!(
            values([(1, 2), (3, 4)].into_iter()),
            "values (1, 2), (3, 4)"
        );
        assert!(
            by_topic_week_sql(&[(1, 2)])
                .contains("r.closed_at_ms >= $1 and r.closed_at_ms < $2 and r.outcome in")
        );
    }
}
