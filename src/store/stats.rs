//! Reading statistics: tallies of `call_facts` over a range of Moscow dates, grouped by nothing,
//! hour, day or operator (one indexed range scan, aggregated in SQL); the abandoned callers with
//! what became of them; the callback requests, presence changes and arrivals the statistics
//! service works out the rest from. The SQL text is shared by both backends (sums are cast to
//! `bigint`, which PostgreSQL would otherwise widen to `numeric`).

use super::StoreError;

/// How the tally is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Nothing,
    Hour,
    Day,
    Operator,
}

/// Raw sums over a group of calls (see `stats::figures` for what is derived from them).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Tally {
    /// The group: `""`, the hour (`"9"`), the day (`"2026-12-01"`) or the operator's id.
    pub k: String,
    pub calls: i64,
    pub offered: i64,
    pub off_hours: i64,
    pub answered: i64,
    pub answered_in_sl: i64,
    pub abandoned: i64,
    pub abandoned_short: i64,
    pub abandoned_in_sl: i64,
    pub voicemail: i64,
    pub voicemail_left: i64,
    pub vm_off_hours: i64,
    pub vm_choice: i64,
    pub vm_timeout: i64,
    pub vm_no_answer: i64,
    pub answer_wait_ms: i64,
    pub longest_wait_ms: i64,
    pub abandon_wait_ms: i64,
    pub talk_ms: i64,
    pub wrap_up_ms: i64,
}

/// The tally's columns; `$3` is the service-level threshold and `$4` the short-abandon limit (ms).
/// The voicemail reasons follow `Facts::voicemail_why`: off hours first, then the caller's choice,
/// then where the call came from.
const TALLY: &str = "cast(count(*) as bigint) as calls, \
     cast(coalesce(sum(case when in_hours = 1 then 1 else 0 end), 0) as bigint) as offered, \
     cast(coalesce(sum(case when in_hours = 0 then 1 else 0 end), 0) as bigint) as off_hours, \
     cast(coalesce(sum(case when answered_at_ms is not null then 1 else 0 end), 0) as bigint) as answered, \
     cast(coalesce(sum(case when answered_at_ms - started_at_ms <= $3 then 1 else 0 end), 0) as bigint) as answered_in_sl, \
     cast(coalesce(sum(case when abandoned_at_ms is not null then 1 else 0 end), 0) as bigint) as abandoned, \
     cast(coalesce(sum(case when abandoned_at_ms - started_at_ms < $4 then 1 else 0 end), 0) as bigint) as abandoned_short, \
     cast(coalesce(sum(case when abandoned_at_ms - started_at_ms <= $3 then 1 else 0 end), 0) as bigint) as abandoned_in_sl, \
     cast(coalesce(sum(case when voicemail_at_ms is not null then 1 else 0 end), 0) as bigint) as voicemail, \
     cast(coalesce(sum(case when voicemail_left_at_ms is not null then 1 else 0 end), 0) as bigint) as voicemail_left, \
     cast(coalesce(sum(case when voicemail_at_ms is not null and voicemail_open = 0 then 1 else 0 end), 0) as bigint) as vm_off_hours, \
     cast(coalesce(sum(case when voicemail_at_ms is not null and coalesce(voicemail_open, 1) <> 0 \
         and chose_voicemail_at_ms is not null then 1 else 0 end), 0) as bigint) as vm_choice, \
     cast(coalesce(sum(case when voicemail_at_ms is not null and coalesce(voicemail_open, 1) <> 0 \
         and chose_voicemail_at_ms is null and voicemail_from in ('queued', 'connecting') then 1 else 0 end), 0) as bigint) as vm_timeout, \
     cast(coalesce(sum(case when voicemail_at_ms is not null and coalesce(voicemail_open, 1) <> 0 \
         and chose_voicemail_at_ms is null and voicemail_from = 'ringing_operator' then 1 else 0 end), 0) as bigint) as vm_no_answer, \
     cast(coalesce(sum(answered_at_ms - started_at_ms), 0) as bigint) as answer_wait_ms, \
     cast(coalesce(max(coalesce(answered_at_ms, abandoned_at_ms) - started_at_ms), 0) as bigint) as longest_wait_ms, \
     cast(coalesce(sum(abandoned_at_ms - started_at_ms), 0) as bigint) as abandon_wait_ms, \
     cast(coalesce(sum(case when answered_at_ms is not null then talk_ms end), 0) as bigint) as talk_ms, \
     cast(coalesce(sum(case when answered_at_ms is not null then wrap_up_ms end), 0) as bigint) as wrap_up_ms";

/// The facts of calls that started on Moscow dates `$1..=$2`, found without an index of their
/// own: they lie between the smallest and the largest id of the calls started in `[$lo, $hi)`
/// (the dates' first instant and the next day's; `calls_started` holds both the start and the
/// id, so each end is one covering range scan), and the dates filter that id range exactly.
/// Whatever order ids and starts came in (a clock set back, two instances), nothing is missed.
/// `p` prefixes the columns.
fn in_range(p: &str, lo: usize, hi: usize) -> String {
    format!(
        "{p}call_id >= coalesce((select min(id) from calls where started_at_ms >= ${lo} \
         and started_at_ms < ${hi}), 0) \
         and {p}call_id <= coalesce((select max(id) from calls where started_at_ms >= ${lo} \
         and started_at_ms < ${hi}), -1) \
         and {p}day >= $1 and {p}day <= $2"
    )
}

/// The instants bounding [`in_range`]'s calls for Moscow dates `from..=to`.
pub(crate) fn id_bounds(from: &str, to: &str) -> Result<(i64, i64), StoreError> {
    let date = |s: &str| {
        s.parse::<chrono::NaiveDate>()
            .map_err(|_| StoreError::Step(format!("not a date: {s}")))
    };
    let midnight = |d| crate::calendar::moscow_to_utc(d, chrono::NaiveTime::MIN).timestamp_millis();
    Ok((
        midnight(date(from)?),
        midnight(date(to)? + chrono::TimeDelta::days(1)),
    ))
}

fn tally_sql(by: GroupBy) -> String {
    let (key, filter, group) = match by {
        GroupBy::Nothing => ("''", "", ""),
        GroupBy::Hour => ("cast(hour as text)", "", " group by hour order by hour"),
        GroupBy::Day => ("day", "", " group by day order by day"),
        GroupBy::Operator => (
            "cast(operator_id as text)",
            " and operator_id is not null",
            " group by operator_id order by operator_id",
        ),
    };
    format!(
        "select {key} as k, {TALLY} from call_facts where {}{filter}{group}",
        in_range("", 5, 6)
    )
}

/// An abandoned caller and what became of them later.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AbandonedRow {
    pub call_id: i64,
    pub started_at_ms: i64,
    pub abandoned_at_ms: i64,
    /// Personal data: never logged.
    pub number: Option<String>,
    /// A later call from the number was answered.
    pub got_through: i64,
    /// A later call from the number left a voicemail.
    pub left_voicemail: i64,
    /// A callback request for the number made since was closed with the caller reached.
    pub called_back: i64,
    /// A callback request for the number made since is still open.
    pub on_list: i64,
}

static ABANDONED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select f.call_id, f.started_at_ms, f.abandoned_at_ms, c.from_number as number, \
     cast(case when exists (select 1 from calls l join call_facts lf on lf.call_id = l.id \
         where l.from_number = c.from_number and l.started_at_ms > f.started_at_ms \
         and lf.answered_at_ms is not null) then 1 else 0 end as bigint) as got_through, \
     cast(case when exists (select 1 from calls l join call_facts lf on lf.call_id = l.id \
         where l.from_number = c.from_number and l.started_at_ms > f.started_at_ms \
         and lf.voicemail_left_at_ms is not null) then 1 else 0 end as bigint) as left_voicemail, \
     cast(case when exists (select 1 from callback_requests r where r.callback_number = c.from_number \
         and r.created_at_ms >= f.started_at_ms and r.state = 'closed' \
         and r.outcome in ('resolved', 'rejected_insufficient_info', 'rejected_unclear')) then 1 else 0 end as bigint) as called_back, \
     cast(case when exists (select 1 from callback_requests r where r.callback_number = c.from_number \
         and r.created_at_ms >= f.started_at_ms and r.state <> 'closed') then 1 else 0 end as bigint) as on_list \
     from call_facts f join calls c on c.id = f.call_id \
     where {} and f.abandoned_at_ms is not null \
     order by f.started_at_ms, f.call_id limit $3",
        in_range("f.", 4, 5)
    )
});

const OLDEST_OPEN: &str =
    "select min(created_at_ms) from callback_requests where state <> 'closed'";
/// Presence changes up to `$2`, with each operator's last one before `$1` (the state the range
/// opens in).
const PRESENCE: &str = "select operator_id, presence, at_ms from presence_log p \
     where at_ms < $2 and (at_ms >= $1 or id = (select max(q.id) from presence_log q \
     where q.operator_id = p.operator_id and q.at_ms < $1)) order by operator_id, at_ms, id";
/// Calls per Moscow date and hour (in hours or not), for the forecast.
static ARRIVALS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select day, cast(hour as bigint), cast(count(*) as bigint) from call_facts \
         where {} group by day, hour order by day, hour",
        in_range("", 3, 4)
    )
});

/// Callers on the line waiting for an operator now, longest waiting first: (call, number, state,
/// started).
const WAITING: &str = "select id, from_number, state, started_at_ms from calls \
     where state in ('incoming', 'queued', 'connecting', 'ringing_operator') and ended_at_ms is null \
     order by started_at_ms, id limit 200";
/// Open requests due by `$1` (the end of today), those past their deadline at `$2` (now), and
/// the earliest due time among those due by `$2`.
const DUES: &str = "select cast(coalesce(sum(case when due_at_ms < $1 then 1 else 0 end), 0) as bigint), \
     cast(coalesce(sum(case when deadline_at_ms <= $2 then 1 else 0 end), 0) as bigint), \
     min(case when due_at_ms <= $2 then due_at_ms end) \
     from callback_requests where state <> 'closed'";

/// A caller waiting now.
pub type WaitingRow = (i64, Option<String>, String, i64);

/// Statistics queries.
#[async_trait::async_trait]
pub trait StatsStore {
    /// Tallies of the calls that started on Moscow dates `from..=to` (`YYYY-MM-DD`).
    async fn tally(
        &self,
        from: &str,
        to: &str,
        by: GroupBy,
        sl_ms: i64,
        short_ms: i64,
    ) -> Result<Vec<Tally>, StoreError>;
    /// Callers who hung up waiting, oldest first (at most `limit`).
    async fn abandoned(
        &self,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<AbandonedRow>, StoreError>;
    /// When the oldest request not closed was made.
    async fn oldest_open_request(&self) -> Result<Option<i64>, StoreError>;
    /// Presence changes in `[from_ms, to_ms)` with each operator's last one before:
    /// (operator, presence, at).
    async fn presence_changes(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, String, i64)>, StoreError>;
    /// Calls per Moscow date and hour over `from..=to`: (day, hour, calls).
    async fn arrivals(&self, from: &str, to: &str) -> Result<Vec<(String, i64, i64)>, StoreError>;
    /// Callers waiting for an operator now, longest waiting first.
    async fn waiting_callers(&self) -> Result<Vec<WaitingRow>, StoreError>;
    /// Open requests due before `end_ms`, past their deadline at `now_ms`, and the earliest due
    /// time of those due at `now_ms`.
    async fn callback_dues(
        &self,
        end_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64, Option<i64>), StoreError>;
}

macro_rules! impl_stats_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl StatsStore for $t {
            async fn tally(
                &self,
                from: &str,
                to: &str,
                by: GroupBy,
                sl_ms: i64,
                short_ms: i64,
            ) -> Result<Vec<Tally>, StoreError> {
                let (lo, hi) = id_bounds(from, to)?;
                Ok(sqlx::query_as(&tally_sql(by))
                    .bind(from)
                    .bind(to)
                    .bind(sl_ms)
                    .bind(short_ms)
                    .bind(lo)
                    .bind(hi)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn abandoned(
                &self,
                from: &str,
                to: &str,
                limit: i64,
            ) -> Result<Vec<AbandonedRow>, StoreError> {
                let (lo, hi) = id_bounds(from, to)?;
                Ok(sqlx::query_as(ABANDONED.as_str())
                    .bind(from)
                    .bind(to)
                    .bind(limit)
                    .bind(lo)
                    .bind(hi)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn oldest_open_request(&self) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::query_scalar(OLDEST_OPEN)
                    .fetch_one(self.reader())
                    .await?)
            }

            async fn presence_changes(
                &self,
                from_ms: i64,
                to_ms: i64,
            ) -> Result<Vec<(i64, String, i64)>, StoreError> {
                Ok(sqlx::query_as(PRESENCE)
                    .bind(from_ms)
                    .bind(to_ms)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn arrivals(
                &self,
                from: &str,
                to: &str,
            ) -> Result<Vec<(String, i64, i64)>, StoreError> {
                let (lo, hi) = id_bounds(from, to)?;
                Ok(sqlx::query_as(ARRIVALS.as_str())
                    .bind(from)
                    .bind(to)
                    .bind(lo)
                    .bind(hi)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn waiting_callers(&self) -> Result<Vec<WaitingRow>, StoreError> {
                Ok(sqlx::query_as(WAITING).fetch_all(self.reader()).await?)
            }

            async fn callback_dues(
                &self,
                end_ms: i64,
                now_ms: i64,
            ) -> Result<(i64, i64, Option<i64>), StoreError> {
                Ok(sqlx::query_as(DUES)
                    .bind(end_ms)
                    .bind(now_ms)
                    .fetch_one(self.reader())
                    .await?)
            }
        }
    };
}

impl_stats_store!(super::sqlite::SqliteStore);
impl_stats_store!(super::postgres::PgStore);
