//! The statistics at scale (issue 10): "the summary and the hourly table for a month of 100 000
//! calls answer in < 200 ms on both backends".
//!
//! A plain program (`harness = false`), not criterion: each operation is a 10–200 ms async
//! database read, timed one call at a time through the service (`perezvon::stats::Stats` over the
//! store, as the API calls it) and reported as min / median / p95 / max in milliseconds (wall
//! clock) over 30 runs, with the median of the bench process's CPU time per call beside it (all
//! of SQLite's work; on PostgreSQL only the client's). Two untimed rounds come first, then 30
//! timed ones, each round calling every operation once in turn, so that the load of the shared
//! machine falls on all of them alike.
//!
//! Setup per backend: a fresh database (a new SQLite file in a temp dir; a new schema in the
//! PostgreSQL named by `PEREZVON_TEST_POSTGRES_URL`, dropped at the end), migrated by the store,
//! with 10 operators made through the store. December 2026 is then seeded directly with SQL
//! (multi-row inserts in one transaction on a separate connection), from a fixed-seed generator so
//! every run stores the same rows: 100 000 inbound calls (`calls` and their `call_facts`), ~90 %
//! started inside the hotline's hours on the built-in calendar (more at 10–12 and 14–16) and ~10 %
//! evenings, nights, weekends and holidays; ~70 % answered (waits 1–120 s, three in four within
//! 20 s; talk 60–600 s; wrap-up 0–90 s; by one of the 10 operators), ~10 % abandoned (three in
//! ten within 5 s), ~20 % to voicemail (off hours from `incoming` with the hotline closed; in
//! hours the caller's choice, the queue's timeout, no answer from the operator rung, nobody
//! staffing), 85 % of them leaving a message. Callers come from a pool of 60 000 numbers, so some
//! call again. Each message makes a callback request (`source` `voicemail`) unless the number
//! already has one open, which counts a repeat instead: due when the hotline next opens, deadline
//! 8 working hours later, closed after 10 min to 20 working hours (some after the deadline) as
//! resolved, rejected, wrong number or unreachable with 1–3 attempts, or still open at the end of
//! the month. Every operator logs presence changes on each working day (in, two short breaks,
//! lunch, out; absent on some days; ten operators could not really answer 70 000 calls, so
//! occupancy comes out at its 100 % cap: the month is shaped for load, not for staffing). Then `ANALYZE` + `PRAGMA optimize` on SQLite and
//! `VACUUM ANALYZE` on PostgreSQL: the statistics the planner has after a month of operation
//! (autovacuum's work on PostgreSQL).
//!
//! Timed, for the range 2026-12-01..2026-12-31: `Stats::summary` and `Stats::table` by hour (the
//! issue's goal: < 200 ms, checked against p95), by day and by operator, and the store queries
//! the summary is made of. Every answer is checked against the seed (100 000 calls; 24 hours, 31
//! days, 10 operators; the callback requests made in the month).
//!
//! Run: `cargo bench --bench stats_month` (add `PEREZVON_TEST_POSTGRES_URL=postgres://…` for
//! PostgreSQL). `PEREZVON_BENCH_KEEP=1` keeps the SQLite file and the PostgreSQL schema for
//! `EXPLAIN`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use perezvon::calendar::{Calendar, HotlineHours, moscow_to_utc};
use perezvon::domain::callback::{CallbackSettings, work_ms};
use perezvon::domain::facts::day_hour;
use perezvon::domain::operator::ContactKind;
use perezvon::domain::user::Role;
use perezvon::stats::{Range, Stats, StatsSettings};
use perezvon::store::postgres::PgStore;
use perezvon::store::sqlite::SqliteStore;
use perezvon::store::stats::GroupBy;
use perezvon::store::{NewOperator, NewUser, Store};
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

const CALLS: usize = 100_000;
const OPERATORS: usize = 10;
/// Distinct caller numbers.
const NUMBERS: u64 = 60_000;
const SEED: u64 = 0x5045_5245_5a56_4f4e;
/// Rows per `insert` statement.
const BATCH: usize = 1_000;
const WARM: usize = 2;
const RUNS: usize = 30;
/// The bound for the summary and the hourly table.
const GOAL_MS: f64 = 200.0;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn range() -> Range {
    Range::new(date(2026, 12, 1), date(2026, 12, 31)).expect("a month is a valid range")
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("instant in range")
}

fn calendar() -> Calendar {
    Calendar::builtin(HotlineHours::default())
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// splitmix64: small, fast and the same on every platform and crate version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
}

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;

/// Relative arrival rate inside working hours, by Moscow hour.
fn in_hours_weight(hour: u32) -> f64 {
    match hour {
        10 | 11 => 1.0,
        12 | 14 => 0.9,
        15 => 0.85,
        9 | 16 => 0.75,
        13 => 0.65,
        _ => 0.5,
    }
}

/// Relative arrival rate outside working hours, by Moscow hour.
fn off_hours_weight(hour: u32) -> f64 {
    match hour {
        0..=6 => 0.05,
        7 | 8 | 22 | 23 => 0.3,
        _ => 0.6,
    }
}

/// One seeded call: the `calls` row and its `call_facts` row.
#[derive(Default)]
struct Call {
    id: i64,
    number: String,
    state: &'static str,
    started: i64,
    in_hours: bool,
    queued: Option<i64>,
    answered: Option<i64>,
    operator: Option<i64>,
    talk: Option<i64>,
    wrap_up: Option<i64>,
    abandoned: Option<i64>,
    voicemail: Option<i64>,
    voicemail_from: Option<&'static str>,
    voicemail_open: Option<i64>,
    voicemail_left: Option<i64>,
    chose: Option<i64>,
    ended: i64,
}

/// One seeded callback request.
struct Request {
    id: i64,
    number: String,
    category: Option<&'static str>,
    outcome: Option<&'static str>,
    topic: Option<&'static str>,
    repeats: i64,
    attempts: i64,
    misses: i64,
    created: i64,
    due: i64,
    deadline: i64,
    deadline_work: i64,
    closed: Option<i64>,
}

struct Seed {
    calls: Vec<Call>,
    requests: Vec<Request>,
    /// (operator, presence, at).
    presence: Vec<(i64, &'static str, i64)>,
}

/// A start instant inside the hotline's windows, weighted by hour.
fn in_hours_start(rng: &mut Rng, windows: &[(i64, i64)], total: i64) -> i64 {
    loop {
        let mut off = rng.range(0, total);
        for &(s, e) in windows {
            if off < e - s {
                let t = s + off;
                if rng.chance(in_hours_weight(day_hour(t).1)) {
                    return t;
                }
                break;
            }
            off -= e - s;
        }
    }
}

/// A start instant in the month while the hotline is closed, weighted by hour.
fn off_hours_start(rng: &mut Rng, cal: &Calendar, lo: i64, hi: i64) -> i64 {
    loop {
        let t = rng.range(lo, hi);
        if !cal.is_open(at(t)) && rng.chance(off_hours_weight(day_hour(t).1)) {
            return t;
        }
    }
}

/// What happened to a call that started at `t`.
fn call(rng: &mut Rng, t: i64, in_hours: bool, operators: &[i64]) -> Call {
    let n = rng.next() % NUMBERS;
    let mut c = Call {
        number: format!("+7916{:07}", 1_234_567 + n * 97),
        started: t,
        in_hours,
        ..Call::default()
    };
    let u = rng.unit();
    if in_hours && u < 0.778 {
        let wait = if rng.chance(0.75) {
            rng.range(SEC, 20 * SEC + 1)
        } else {
            rng.range(20 * SEC + 1, 120 * SEC + 1)
        };
        let answered = t + wait;
        let talk = rng.range(60 * SEC, 600 * SEC + 1);
        c.queued = (wait > 10 * SEC).then_some(t + 1_500);
        c.answered = Some(answered);
        c.operator = Some(*rng.pick(operators));
        c.talk = Some(talk);
        c.wrap_up = Some(rng.range(0, 90 * SEC + 1));
        c.ended = answered + talk;
        c.state = "completed";
        return c;
    }
    if in_hours && u < 0.889 {
        let wait = if rng.chance(0.3) {
            rng.range(500, 5 * SEC)
        } else {
            rng.range(5 * SEC, 180 * SEC)
        };
        c.queued = (wait > 3 * SEC).then_some(t + 1_500);
        c.abandoned = Some(t + wait);
        c.ended = t + wait;
        c.state = "abandoned";
        return c;
    }
    // Voicemail.
    let (from, vm_at) = if !in_hours {
        ("incoming", t + rng.range(10 * SEC, 20 * SEC))
    } else {
        let r = rng.unit();
        if r < 0.35 {
            let chose = t + rng.range(20 * SEC, 120 * SEC);
            c.chose = Some(chose);
            c.queued = Some(t + 1_500);
            ("queued", chose + 500)
        } else if r < 0.65 {
            c.queued = Some(t + 1_500);
            ("queued", t + 180 * SEC)
        } else if r < 0.9 {
            ("ringing_operator", t + rng.range(20 * SEC, 31 * SEC))
        } else {
            ("incoming", t + rng.range(5 * SEC, 10 * SEC))
        }
    };
    c.voicemail = Some(vm_at);
    c.voicemail_from = Some(from);
    c.voicemail_open = Some(i64::from(in_hours));
    if rng.chance(0.85) {
        let left = vm_at + rng.range(15 * SEC, 90 * SEC);
        c.voicemail_left = Some(left);
        c.ended = left + 1_000;
        c.state = "completed";
    } else {
        c.ended = vm_at + rng.range(3 * SEC, 20 * SEC);
        c.state = "abandoned";
    }
    c
}

/// The callback request a message left at `created` makes.
fn request(rng: &mut Rng, cal: &Calendar, number: &str, created: i64, end: i64) -> Request {
    let due = cal.next_open(at(created)).map_or(created, ms);
    let deadline = cal.add_working(at(due), CallbackSettings::default().sla);
    let u = rng.unit();
    let took = if u < 0.75 {
        rng.range(10 * MIN, 6 * HOUR)
    } else if u < 0.95 {
        rng.range(6 * HOUR, 9 * HOUR)
    } else {
        rng.range(9 * HOUR, 20 * HOUR)
    };
    let closed = ms(cal.add_working(at(due), TimeDelta::milliseconds(took)));
    let mut r = Request {
        id: 0,
        number: number.to_owned(),
        category: *rng.pick(&[
            Some("parent"),
            Some("parent"),
            Some("parent"),
            Some("parent"),
            Some("parent"),
            Some("staff"),
            Some("staff"),
            None,
        ]),
        outcome: None,
        topic: None,
        repeats: 0,
        attempts: 0,
        misses: 0,
        created,
        due,
        deadline: ms(deadline),
        deadline_work: work_ms(cal, deadline),
        closed: None,
    };
    if closed >= end {
        return r;
    }
    r.closed = Some(closed);
    let o = rng.unit();
    let (outcome, reached) = if o < 0.75 {
        ("resolved", true)
    } else if o < 0.81 {
        ("rejected_insufficient_info", true)
    } else if o < 0.85 {
        ("rejected_unclear", true)
    } else if o < 0.90 {
        ("wrong_number", false)
    } else {
        ("unreachable", false)
    };
    r.outcome = Some(outcome);
    if outcome == "unreachable" {
        (r.attempts, r.misses) = (3, 3);
    } else {
        let a = rng.unit();
        r.attempts = if a < 0.8 {
            1
        } else if a < 0.95 {
            2
        } else {
            3
        };
        r.misses = r.attempts - 1;
    }
    if reached {
        r.topic = Some(*rng.pick(&[
            "timetable",
            "grades",
            "grades",
            "attendance",
            "lesson_planning",
            "lessons",
            "timely_entries",
            "parent_access",
            "parent_access",
            "other",
        ]));
    }
    r
}

/// The month's calls, callback requests and presence changes, the same on every run.
fn generate(cal: &Calendar, operators: &[i64]) -> Seed {
    let mut rng = Rng(SEED);
    let r = range();
    let (lo, hi) = (ms(r.start()), ms(r.end()));
    let windows: Vec<(i64, i64)> = cal
        .windows(r.start(), r.end())
        .map(|w| (ms(w.start), ms(w.end)))
        .collect();
    let total: i64 = windows.iter().map(|(s, e)| e - s).sum();

    let mut calls: Vec<Call> = (0..CALLS)
        .map(|_| {
            let in_hours = rng.chance(0.9);
            let t = if in_hours {
                in_hours_start(&mut rng, &windows, total)
            } else {
                off_hours_start(&mut rng, cal, lo, hi)
            };
            call(&mut rng, t, in_hours, operators)
        })
        .collect();
    calls.sort_by_key(|c| c.started);
    for (i, c) in calls.iter_mut().enumerate() {
        c.id = i as i64 + 1;
    }

    // A message makes a request unless the number's last request is still open then.
    let mut requests: Vec<Request> = Vec::new();
    let mut last: HashMap<&str, usize> = HashMap::new();
    let mut messages: Vec<(i64, &str)> = calls
        .iter()
        .filter_map(|c| c.voicemail_left.map(|t| (t, c.number.as_str())))
        .collect();
    messages.sort();
    for (created, number) in messages {
        if let Some(&i) = last.get(number) {
            let prev = &mut requests[i];
            if prev.closed.is_none_or(|c| c > created) {
                prev.repeats += 1;
                continue;
            }
        }
        let mut req = request(&mut rng, cal, number, created, hi);
        req.id = requests.len() as i64 + 1;
        last.insert(number, requests.len());
        requests.push(req);
    }

    // Presence: in at the opening, breaks mid-morning and mid-afternoon, lunch, out at closing.
    let mut presence = Vec::new();
    for &op in operators {
        presence.push((op, "offline", lo - 6 * HOUR));
        for &(s, e) in &windows {
            if rng.chance(0.08) {
                continue;
            }
            let j = |rng: &mut Rng| rng.range(-5 * MIN, 10 * MIN);
            let mut log = |p, t| presence.push((op, p, t));
            let b1 = s + 2 * HOUR + j(&mut rng);
            let lunch = s + 4 * HOUR + j(&mut rng);
            let b2 = s + 6 * HOUR + 30 * MIN + j(&mut rng);
            log("available", s + j(&mut rng));
            log("break", b1);
            log("available", b1 + rng.range(10 * MIN, 15 * MIN));
            log("break", lunch);
            log("available", lunch + rng.range(40 * MIN, 50 * MIN));
            log("break", b2);
            log("available", b2 + rng.range(10 * MIN, 15 * MIN));
            log("offline", e + rng.range(0, 10 * MIN));
        }
    }
    presence.sort_by_key(|p| (p.2, p.0));
    Seed {
        calls,
        requests,
        presence,
    }
}

// ---------------------------------------------------------------------------------------------
// Seeding: literal multi-row inserts (numbers and fixed words only), the same text on both
// backends.

fn int(v: Option<i64>) -> String {
    v.map_or_else(|| "null".into(), |v| v.to_string())
}

fn text(v: Option<&str>) -> String {
    v.map_or_else(|| "null".into(), |v| format!("'{v}'"))
}

fn inserts<T>(head: &str, rows: &[T], row: impl Fn(&T) -> String) -> Vec<String> {
    rows.chunks(BATCH)
        .map(|chunk| {
            let values: Vec<String> = chunk.iter().map(|r| format!("({})", row(r))).collect();
            format!("{head} values {}", values.join(", "))
        })
        .collect()
}

fn seed_sql(seed: &Seed) -> Vec<String> {
    let mut sql = inserts(
        "insert into calls (id, provider, provider_call_id, direction, from_number, to_number, \
         state, operator_id, started_at_ms, updated_at_ms, ended_at_ms, queued_at_ms)",
        &seed.calls,
        |c| {
            format!(
                "{}, 'twilio', 'CAstats{:08}', 'inbound', '{}', '+74950000000', '{}', {}, {}, {}, {}, {}",
                c.id,
                c.id,
                c.number,
                c.state,
                int(c.operator),
                c.started,
                c.ended,
                c.ended,
                int(c.queued)
            )
        },
    );
    sql.extend(inserts(
        "insert into call_facts (call_id, day, hour, started_at_ms, in_hours, queued_at_ms, \
         answered_at_ms, operator_id, talk_ms, wrap_up_ms, abandoned_at_ms, voicemail_at_ms, \
         voicemail_from, voicemail_open, voicemail_left_at_ms, chose_voicemail_at_ms, ended_at_ms)",
        &seed.calls,
        |c| {
            let (day, hour) = day_hour(c.started);
            format!(
                "{}, '{}', {hour}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}",
                c.id,
                day.format("%Y-%m-%d"),
                c.started,
                i64::from(c.in_hours),
                int(c.queued),
                int(c.answered),
                int(c.operator),
                int(c.talk),
                int(c.wrap_up),
                int(c.abandoned),
                int(c.voicemail),
                text(c.voicemail_from),
                int(c.voicemail_open),
                int(c.voicemail_left),
                int(c.chose),
                c.ended
            )
        },
    ));
    sql.extend(inserts(
        "insert into callback_requests (id, callback_number, caller_category, state, outcome, \
         topic, repeat_count, attempts, misses, created_at_ms, due_at_ms, deadline_at_ms, \
         deadline_work_ms, rank_ms, closed_at_ms, updated_at_ms, source)",
        &seed.requests,
        |r| {
            format!(
                "{}, '{}', {}, '{}', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'voicemail'",
                r.id,
                r.number,
                text(r.category),
                if r.closed.is_some() { "closed" } else { "open" },
                text(r.outcome),
                text(r.topic),
                r.repeats,
                r.attempts,
                r.misses,
                r.created,
                r.due,
                r.deadline,
                r.deadline_work,
                r.deadline_work,
                int(r.closed),
                r.closed.unwrap_or(r.created)
            )
        },
    ));
    sql.extend(inserts(
        "insert into presence_log (operator_id, presence, at_ms)",
        &seed.presence,
        |(op, p, t)| format!("{op}, '{p}', {t}"),
    ));
    sql
}

/// Runs the seed's statements in one transaction on `conn` (a SQLite or a PostgreSQL
/// connection).
macro_rules! insert_seed {
    ($conn:expr, $sql:expr) => {{
        let mut tx = $conn.begin().await?;
        for s in $sql {
            sqlx::raw_sql(s).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }};
}

/// `n` operators; their ids.
async fn operators(store: &Arc<dyn Store>) -> Result<Vec<i64>> {
    let now = moscow_to_utc(date(2026, 11, 1), NaiveTime::MIN);
    let mut ids = Vec::new();
    for k in 0..OPERATORS {
        let login = format!("op{k}");
        let u = store
            .create_user(
                &NewUser {
                    login: login.clone(),
                    display_name: format!("Оператор {k}"),
                    role: Role::Operator,
                    password_hash: "h".into(),
                },
                now,
            )
            .await?;
        let op = store
            .create_operator(
                &NewOperator {
                    user_id: u.id,
                    name: login,
                    contact_kind: ContactKind::Phone,
                    contact: format!("+7495{k:07}"),
                },
                now,
            )
            .await?;
        ids.push(op.id);
    }
    Ok(ids)
}

/// Makes the operators, generates the month and describes it.
async fn prepare(store: &Arc<dyn Store>) -> Result<(Seed, Vec<String>)> {
    let ops = operators(store).await?;
    let seed = generate(&calendar(), &ops);
    let open = seed.requests.iter().filter(|r| r.closed.is_none()).count();
    eprintln!(
        "  generated {} calls, {} callback requests ({open} still open), {} presence changes",
        seed.calls.len(),
        seed.requests.len(),
        seed.presence.len()
    );
    let sql = seed_sql(&seed);
    Ok((seed, sql))
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/// CPU time consumed by the whole process so far (Linux `CLOCK_PROCESS_CPUTIME_ID`; elsewhere
/// wall time).
#[cfg(target_os = "linux")]
fn cpu_now() -> Duration {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        safe fn clock_gettime(clock_id: i32, tp: &mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    assert_eq!(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts), 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn cpu_now() -> Duration {
    use std::sync::LazyLock;
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    START.elapsed()
}

/// The timed operations.
#[derive(Clone, Copy)]
enum Op {
    Summary,
    Table(GroupBy),
    /// The store queries the summary is made of.
    Tally,
    Requests,
    Presence,
    OldestOpen,
}

const OPS: [(Op, &str, bool); 8] = [
    (Op::Summary, "summary", true),
    (Op::Table(GroupBy::Hour), "table by hour", true),
    (Op::Table(GroupBy::Day), "table by day", false),
    (Op::Table(GroupBy::Operator), "table by operator", false),
    (Op::Tally, "  summary's call tally (store)", false),
    (Op::Requests, "  summary's callback counts (store)", false),
    (Op::Presence, "  summary's presence changes (store)", false),
    (
        Op::OldestOpen,
        "  summary's oldest open request (store)",
        false,
    ),
];

/// One call of `op`, its answer checked against the seed.
async fn run(op: Op, stats: &Stats, store: &Arc<dyn Store>, r: &Range) -> Result<()> {
    let (lo, hi) = (ms(r.start()), ms(r.end()));
    match op {
        Op::Summary => {
            let s = stats.summary(r).await?;
            if s.calls.calls != CALLS as i64 {
                bail!("the summary counts {} calls", s.calls.calls);
            }
        }
        Op::Table(by) => {
            let t = stats.table(r, by).await?;
            let calls: i64 = t.iter().map(|f| f.calls).sum();
            let groups = match by {
                GroupBy::Nothing => 1,
                GroupBy::Hour => 24,
                GroupBy::Day => 31,
                GroupBy::Operator => OPERATORS,
            };
            if t.len() != groups || (by != GroupBy::Operator && calls != CALLS as i64) {
                bail!("table by {by:?}: {} groups, {calls} calls", t.len());
            }
        }
        Op::Tally => {
            let (from, to) = (r.from.to_string(), r.to.to_string());
            store
                .tally(&from, &to, GroupBy::Nothing, 20_000, 5_000)
                .await?;
        }
        Op::Requests => {
            let cal = Calendar::builtin(HotlineHours::default());
            let (a, b) = (r.start(), r.end());
            let openings: Vec<i64> = perezvon::stats::callbacks::openings(&cal, a, b)
                .iter()
                .map(|t| t.timestamp_millis())
                .collect();
            store
                .callback_tally(lo, hi, &perezvon::stats::callbacks::weeks(a, b), &openings)
                .await?;
        }
        Op::Presence => {
            store.presence_changes(lo, hi).await?;
        }
        Op::OldestOpen => {
            store.oldest_open_request().await?;
        }
    }
    Ok(())
}

/// One operation's timings.
struct Row {
    backend: &'static str,
    op: &'static str,
    goal: bool,
    times: Vec<Duration>,
    /// The bench process's CPU time per call (all of SQLite's work; only the client's on
    /// PostgreSQL).
    cpu: Vec<Duration>,
}

impl Row {
    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1e3
    }

    /// The nearest-rank percentile of `t`.
    fn pct_of(t: &[Duration], p: f64) -> f64 {
        let mut t = t.to_vec();
        t.sort();
        let rank = ((p / 100.0) * t.len() as f64).ceil() as usize;
        Self::ms(t[rank.clamp(1, t.len()) - 1])
    }

    fn pct(&self, p: f64) -> f64 {
        Self::pct_of(&self.times, p)
    }

    fn min(&self) -> f64 {
        Self::ms(self.times.iter().copied().min().unwrap_or_default())
    }

    fn max(&self) -> f64 {
        Self::ms(self.times.iter().copied().max().unwrap_or_default())
    }

    /// The goal is checked against p95 (the median is the typical answer).
    fn verdict(&self) -> String {
        if !self.goal {
            return "—".into();
        }
        let met = if self.pct(95.0) < GOAL_MS {
            "met"
        } else if self.pct(50.0) < GOAL_MS {
            "median only"
        } else {
            "MISSED"
        };
        format!("< {GOAL_MS} ms: {met}")
    }
}

/// Checks the figures against the seed, then times the operations: `WARM` untimed rounds and
/// `RUNS` timed ones, each round calling every operation once in turn, so that the load of the
/// shared machine falls on all of them alike.
async fn measure_all(
    backend: &'static str,
    store: Arc<dyn Store>,
    seed: &Seed,
) -> Result<Vec<Row>> {
    let stats = Stats::new(
        store.clone(),
        Arc::new(calendar()),
        StatsSettings::default(),
    );
    let r = range();
    let hi = ms(r.end());

    let s = stats.summary(&r).await?;
    let c = &s.calls;
    if c.calls != CALLS as i64 {
        bail!("the summary counts {} calls, {CALLS} seeded", c.calls);
    }
    let created = seed.requests.iter().filter(|q| q.created < hi).count() as i64;
    if s.callbacks_created != created {
        bail!("{} requests created, {created} seeded", s.callbacks_created);
    }
    let pct = |v: Option<f64>| v.map_or_else(|| "—".into(), |v| format!("{:.1} %", v * 100.0));
    eprintln!(
        "  the month: {} calls, {} offered, {} off hours; answered {}, abandoned {} ({} short), \
         voicemail {} (left {}; off hours {}, choice {}, timeout {}, no answer {}, no operator {}); \
         service level {}, occupancy {}; callbacks created {}, done {}, SLA met {}, {} working days \
         of backlog",
        c.calls,
        c.offered,
        c.off_hours,
        c.answered,
        c.abandoned,
        c.abandoned_short,
        c.voicemail,
        c.voicemail_left,
        c.voicemail_by_reason.off_hours,
        c.voicemail_by_reason.choice,
        c.voicemail_by_reason.timeout,
        c.voicemail_by_reason.no_answer,
        c.voicemail_by_reason.no_operator,
        pct(c.service_level),
        pct(c.occupancy),
        s.callbacks_created,
        s.callbacks_done,
        pct(s.callbacks_sla_met_rate),
        s.callbacks.backlog.len()
    );

    let mut rows: Vec<Row> = OPS
        .iter()
        .map(|&(_, op, goal)| Row {
            backend,
            op,
            goal,
            times: Vec::with_capacity(RUNS),
            cpu: Vec::with_capacity(RUNS),
        })
        .collect();
    for round in 0..WARM + RUNS {
        for (&(op, _, _), row) in OPS.iter().zip(&mut rows) {
            let (start, cpu) = (Instant::now(), cpu_now());
            run(op, &stats, &store, &r).await?;
            if round >= WARM {
                row.times.push(start.elapsed());
                row.cpu.push(cpu_now() - cpu);
            }
        }
    }
    for row in &rows {
        eprintln!(
            "  {}: min {:.1} ms, median {:.1} ms, p95 {:.1} ms (CPU median {:.1} ms)",
            row.op,
            row.min(),
            row.pct(50.0),
            row.pct(95.0),
            Row::pct_of(&row.cpu, 50.0)
        );
    }
    Ok(rows)
}

fn keep() -> bool {
    std::env::var("PEREZVON_BENCH_KEEP").is_ok_and(|v| !v.is_empty() && v != "0")
}

async fn sqlite() -> Result<Vec<Row>> {
    eprintln!("SQLite:");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("perezvon.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
    store.migrate().await?;
    let started = Instant::now();
    let (seed, sql) = prepare(&store).await?;
    let opts = SqliteConnectOptions::from_str("sqlite:")?
        .filename(&path)
        .busy_timeout(Duration::from_secs(30));
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    insert_seed!(conn, &sql);
    store
        .rerank_callbacks(&CallbackSettings::default().priority)
        .await?;
    sqlx::raw_sql("analyze; pragma optimize")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    // Reopen, so every connection plans with the statistics.
    store.close().await;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
    eprintln!(
        "  seeded in {:.1} s, then ANALYZE and PRAGMA optimize",
        started.elapsed().as_secs_f64()
    );
    let rows = measure_all("SQLite", store.clone(), &seed).await;
    store.close().await;
    if keep() {
        let kept = dir.keep();
        eprintln!("  kept {}", kept.join("perezvon.db").display());
    }
    rows
}

async fn postgres(url: &str) -> Result<Vec<Row>> {
    eprintln!("PostgreSQL:");
    let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .context("PEREZVON_TEST_POSTGRES_URL must connect")?;
    sqlx::query(&format!("create schema {schema}"))
        .execute(&mut admin)
        .await?;
    let opts = PgConnectOptions::from_str(url)?.options([("search_path", schema.as_str())]);
    let result = async {
        let store: Arc<dyn Store> = Arc::new(PgStore::connect_with(opts.clone(), 8).await?);
        store.migrate().await?;
        let started = Instant::now();
        let (seed, sql) = prepare(&store).await?;
        let mut conn = sqlx::PgConnection::connect_with(&opts).await?;
        insert_seed!(conn, &sql);
        // The ids were given: move the identity sequences past them.
        for table in ["calls", "callback_requests"] {
            sqlx::query(&format!(
                "select setval(pg_get_serial_sequence('{table}', 'id'), (select max(id) from {table}))"
            ))
            .execute(&mut conn)
            .await?;
        }
        store
            .rerank_callbacks(&CallbackSettings::default().priority)
            .await?;
        sqlx::query("vacuum analyze").execute(&mut conn).await?;
        conn.close().await?;
        eprintln!(
            "  seeded in {:.1} s, then VACUUM ANALYZE",
            started.elapsed().as_secs_f64()
        );
        let rows = measure_all("PostgreSQL", store.clone(), &seed).await;
        store.close().await;
        rows
    }
    .await;
    if keep() {
        eprintln!("  kept schema {schema}");
    } else {
        sqlx::query(&format!("drop schema {schema} cascade"))
            .execute(&mut admin)
            .await?;
    }
    admin.close().await?;
    result
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "{CALLS} calls in December 2026 (range 2026-12-01..2026-12-31); times in ms (wall clock, \
         release); after ANALYZE (SQLite: + PRAGMA optimize; PostgreSQL: VACUUM ANALYZE)"
    );
    println!();
    println!(
        "| backend | operation | n | min | median | p95 | max | CPU median (bench process) | goal (p95) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            r.backend,
            r.op.trim(),
            r.times.len(),
            r.min(),
            r.pct(50.0),
            r.pct(95.0),
            r.max(),
            Row::pct_of(&r.cpu, 50.0),
            r.verdict()
        );
    }
}

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut rows = sqlite().await?;
        let pg_url = std::env::var("PEREZVON_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty());
        let skipped = match pg_url {
            Some(url) => {
                rows.extend(postgres(&url).await?);
                false
            }
            None => true,
        };
        print_table(&rows);
        if skipped {
            println!();
            println!("PostgreSQL skipped: PEREZVON_TEST_POSTGRES_URL not set");
        }
        Ok(())
    })
}
