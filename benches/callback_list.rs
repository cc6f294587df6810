//! The callback list at scale (issue 5): "With 100 000 open requests, on SQLite and on
//! PostgreSQL: claim p99 < 5 ms; first page of the list < 20 ms; full ETA recompute < 50 ms."
//!
//! A plain program (`harness = false`), not criterion: each operation is timed one call at a time
//! through the service (`perezvon::callbacks::Callbacks` over the store, as the API calls it) and
//! reported as p50 / p99 / max in milliseconds.
//!
//! Setup per backend: a fresh database (a new SQLite file in a temp dir; a new schema in the
//! PostgreSQL named by `PEREZVON_TEST_POSTGRES_URL`, dropped at the end), migrated by the store.
//! 100 000 open requests are seeded with one bulk `insert … select` on a separate connection
//! (distinct `+7916…` numbers, created over the last 5 days, all due by `now`, SLA positions
//! spread accordingly, ~10 % silent, ~10 % staff, ~14 % repeat callers, ~8 % with missed
//! attempts), ranked by the store's own `rerank_callbacks`, and the first 1 000 in list order get
//! a call and a voicemail each (so the voicemail lookups of a page and of a claim find rows).
//! Then `ANALYZE` (PostgreSQL: `VACUUM ANALYZE`, the state autovacuum leaves after a bulk load).
//! Three operators are logged in (`available`); no handle time is measured yet, so the default
//! 6 min applies.
//!
//! `now` is Tuesday 2026-12-01 10:00 Moscow, inside working hours. Operations, in this order
//! (reads first, so the list is not topped by the claimed requests):
//! first page `list(Active, 50, 0)` ×200, full ETA recompute `schedule(now)` ×20, a deep page
//! `list(Active, 50, 50 000)` ×50, `eta` of the request in the middle ×200, and `claim` ×1000
//! (each leases the next request to one of 1 010 logged-out operators: one claim per operator),
//! each after a few untimed warm-up calls; an operation stops
//! early once it has taken 20 s (the table gives the count).
//!
//! Run: `cargo bench --bench callback_list` (add `PEREZVON_TEST_POSTGRES_URL=postgres://…` for
//! PostgreSQL). `PEREZVON_BENCH_KEEP=1` keeps the SQLite file and the PostgreSQL schema for
//! `EXPLAIN`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours, MOSCOW};
use perezvon::callbacks::{Callbacks, Claim};
use perezvon::domain::callback::{CallbackSettings, horizon_slots, work_ms};
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::store::postgres::PgStore;
use perezvon::store::sqlite::SqliteStore;
use perezvon::store::{ListScope, NewOperator, NewUser, Store};
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

const REQUESTS: i64 = 100_000;
const WITH_VOICEMAIL: i64 = 1_000;
const OPERATORS: usize = 3;
const PAGE: i64 = 50;
const DEEP_OFFSET: i64 = 50_000;
/// The most one operation is timed for.
const BUDGET: Duration = Duration::from_secs(20);

fn now() -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(2026, 12, 1, 10, 0, 0)
        .single()
        .expect("valid Moscow time")
        .with_timezone(&Utc)
}

/// One operation's timings.
struct Row {
    backend: &'static str,
    op: &'static str,
    goal_ms: Option<f64>,
    times: Vec<Duration>,
}

impl Row {
    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1e3
    }

    /// The nearest-rank percentile.
    fn pct(&self, p: f64) -> f64 {
        let mut t = self.times.clone();
        t.sort();
        let rank = ((p / 100.0) * t.len() as f64).ceil() as usize;
        Self::ms(t[rank.clamp(1, t.len()) - 1])
    }

    fn max(&self) -> f64 {
        Self::ms(self.times.iter().copied().max().unwrap_or_default())
    }

    /// Checked against p99 (the issue states p99 for claims and a plain bound for the others).
    fn verdict(&self) -> &'static str {
        match self.goal_ms {
            Some(g) if self.pct(99.0) < g => "met",
            Some(_) => "MISSED",
            None => "",
        }
    }
}

fn median(t: &[Duration]) -> Duration {
    let mut t = t.to_vec();
    t.sort();
    t[t.len() / 2]
}

/// Times `n` calls of `f` after `warm` untimed ones; stops early (after at least 20 calls) once
/// `BUDGET` is spent, so a slow operation does not make the run endless.
async fn measure<F, Fut>(
    backend: &'static str,
    op: &'static str,
    goal_ms: Option<f64>,
    warm: usize,
    n: usize,
    mut f: F,
) -> Result<Row>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    for _ in 0..warm {
        f().await?;
    }
    let mut times = Vec::with_capacity(n);
    let began = Instant::now();
    for _ in 0..n {
        let start = Instant::now();
        f().await?;
        times.push(start.elapsed());
        if times.len() >= 20 && began.elapsed() > BUDGET {
            eprintln!("  {op}: time budget spent after {} calls", times.len());
            break;
        }
    }
    let row = Row {
        backend,
        op,
        goal_ms,
        times,
    };
    eprintln!(
        "  {op}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        row.pct(50.0),
        row.pct(99.0),
        row.max()
    );
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Seeding. Columns as in migrations/*/0001_init.sql + 0004_callback_list.sql. Per request i:
// created up to 5 days before now (a multiplicative hash spreads it), due within an hour of
// creation (never after now), deadline 8 h after due; the SLA position (`deadline_work_ms`) is
// now's working-axis position + 8 h minus 3/8 of the age (9 working hours a day), so older
// requests come first, as in production; ranks are then computed by `rerank_callbacks`.

const AGE: &str = "(((i * 2654435761) >> 7) % 432000000 + 60000)";

fn request_columns() -> &'static str {
    "callback_number, caller_category, state, repeat_count, attempts, misses, follow_up, silent, \
     created_at_ms, due_at_ms, deadline_at_ms, deadline_work_ms, rank_ms, updated_at_ms"
}

/// The select list for request `i` (an integer column), `least` being `min` on SQLite.
fn request_values(now_ms: i64, now_work_ms: i64, least: &str, number: &str) -> String {
    format!(
        "{number}, \
         case when i % 10 = 7 then 'staff' when i % 10 = 9 then null else 'parent' end, \
         'open', \
         case when i % 7 = 0 then 1 + (i / 7) % 4 else 0 end, \
         case when i % 13 = 0 then 1 + (i / 13) % 2 else 0 end, \
         case when i % 13 = 0 then 1 + (i / 13) % 2 else 0 end, \
         case when i % 97 = 0 then 1 else 0 end, \
         case when i % 10 = 3 then 1 else 0 end, \
         {now_ms} - {AGE}, \
         {least}({now_ms}, {now_ms} - {AGE} + (i * 40503) % 3600000), \
         {least}({now_ms}, {now_ms} - {AGE} + (i * 40503) % 3600000) + 28800000, \
         {now_work_ms} + 28800000 - {AGE} * 3 / 8, \
         0, \
         {now_ms} - {AGE}"
    )
}

/// The first `WITH_VOICEMAIL` requests in list order: one inbound call each.
fn calls_sql() -> String {
    format!(
        "insert into calls (provider, provider_call_id, direction, from_number, to_number, state, \
         started_at_ms, updated_at_ms, ended_at_ms) \
         select 'twilio', 'CAbench' || id, 'inbound', callback_number, '+74950000000', 'completed', \
         created_at_ms, created_at_ms, created_at_ms + 60000 from \
         (select id, callback_number, created_at_ms from callback_requests where state = 'open' \
          order by rank_ms, silent, created_at_ms, id limit {WITH_VOICEMAIL}) t"
    )
}

/// A stored voicemail for each of those calls, attached to its request.
fn voicemails_sql(yes: &str, speech: &str) -> String {
    format!(
        "insert into voicemails (call_id, callback_request_id, callback_number, number_confirmed, \
         caller_category, audio_status, has_speech, duration_ms, received_at_ms) \
         select c.id, r.id, r.callback_number, {yes}, r.caller_category, 'stored', {speech}, 30000, \
         r.created_at_ms from callback_requests r join calls c \
         on c.provider = 'twilio' and c.provider_call_id = 'CAbench' || r.id"
    )
}

async fn seed_sqlite(opts: SqliteConnectOptions, store: &Arc<dyn Store>) -> Result<()> {
    let cal = Calendar::builtin(HotlineHours::default());
    let (now_ms, now_work_ms) = (now().timestamp_millis(), work_ms(&cal, now()));
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let sql = format!(
        "insert into callback_requests ({}) \
         with recursive seq(i) as (select 1 union all select i + 1 from seq where i < {REQUESTS}) \
         select {} from seq",
        request_columns(),
        request_values(
            now_ms,
            now_work_ms,
            "min",
            "'+7916' || (1000000 + (i * 7919) % 9000000)"
        )
    );
    sqlx::query(&sql).execute(&mut conn).await?;
    store
        .rerank_callbacks(&CallbackSettings::default().priority)
        .await?;
    sqlx::query(&calls_sql()).execute(&mut conn).await?;
    sqlx::query(&voicemails_sql("1", "1 - r.silent"))
        .execute(&mut conn)
        .await?;
    sqlx::query("analyze").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

async fn seed_postgres(opts: PgConnectOptions, store: &Arc<dyn Store>) -> Result<()> {
    let cal = Calendar::builtin(HotlineHours::default());
    let (now_ms, now_work_ms) = (now().timestamp_millis(), work_ms(&cal, now()));
    let mut conn = sqlx::PgConnection::connect_with(&opts).await?;
    let sql = format!(
        "insert into callback_requests ({}) \
         select {} from generate_series(1, {REQUESTS}::bigint) as s(i)",
        request_columns(),
        request_values(
            now_ms,
            now_work_ms,
            "least",
            "'+7916' || (1000000 + (i * 7919) % 9000000)::text"
        )
    );
    sqlx::query(&sql).execute(&mut conn).await?;
    store
        .rerank_callbacks(&CallbackSettings::default().priority)
        .await?;
    sqlx::query(&calls_sql()).execute(&mut conn).await?;
    sqlx::query(&voicemails_sql("true", "r.silent = 0"))
        .execute(&mut conn)
        .await?;
    sqlx::query("vacuum analyze").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Three logged-in operators (the staffing of the estimates); their ids.
async fn operators(store: &Arc<dyn Store>) -> Result<Vec<i64>> {
    let ids = claimers(store, "op", OPERATORS).await?;
    for id in &ids {
        store.set_presence(*id, Presence::Available, now()).await?;
    }
    Ok(ids)
}

/// `n` operators (logged out, so the staffing stays the same); their ids.
async fn claimers(store: &Arc<dyn Store>, prefix: &str, n: usize) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for k in 0..n {
        let login = format!("{prefix}{k}");
        let u = store
            .create_user(
                &NewUser {
                    login: login.clone(),
                    display_name: format!("Оператор {k}"),
                    role: Role::Operator,
                    password_hash: "h".into(),
                },
                now(),
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
                now(),
            )
            .await?;
        ids.push(op.id);
    }
    Ok(ids)
}

/// The service as the API builds it, over the store.
fn callbacks(store: &Arc<dyn Store>) -> Callbacks {
    let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
    Callbacks::new(store.clone(), calendar, CallbackSettings::default())
}

/// The measurements on one seeded store.
async fn measure_all(backend: &'static str, store: Arc<dyn Store>) -> Result<Vec<Row>> {
    let now = now();
    let cb = callbacks(&store);
    let open = store.active_callback_count().await?;
    if open != REQUESTS {
        bail!("{open} active requests seeded, expected {REQUESTS}");
    }
    let mut rows = Vec::new();

    rows.push(
        measure(backend, "list, first page (50)", Some(20.0), 5, 200, || {
            let cb = &cb;
            async move {
                let page = cb.list(ListScope::Active, PAGE, 0, now).await?;
                if page.len() != PAGE as usize || page[0].eta.is_none() {
                    bail!("unexpected first page");
                }
                Ok(())
            }
        })
        .await?,
    );

    let estimated = std::cell::Cell::new(0);
    rows.push(
        measure(
            backend,
            "full ETA recompute (schedule)",
            Some(50.0),
            2,
            20,
            || {
                let (cb, estimated) = (&cb, &estimated);
                async move {
                    let (placed, beyond) = cb.schedule(now).await?;
                    if placed.len() as i64 + beyond as i64 != REQUESTS {
                        bail!("schedule of {} + {beyond} requests", placed.len());
                    }
                    estimated.set(placed.len());
                    Ok(())
                }
            },
        )
        .await?,
    );
    eprintln!(
        "  ({} of {REQUESTS} requests get an estimate inside the horizon)",
        estimated.get()
    );
    let slots = i64::try_from(horizon_slots(
        &Calendar::builtin(HotlineHours::default()),
        now,
        cb.staffing(now).await?,
    ))?;

    rows.push(
        measure(
            backend,
            "  of which the store's query (open_callback_dues)",
            None,
            2,
            20,
            || {
                let store = &store;
                async move {
                    store.open_callback_dues(slots).await?;
                    Ok(())
                }
            },
        )
        .await?,
    );

    rows.push(
        measure(
            backend,
            "list, deep page (offset 50 000)",
            None,
            2,
            50,
            || {
                let cb = &cb;
                async move {
                    let page = cb.list(ListScope::Active, PAGE, DEEP_OFFSET, now).await?;
                    if page.len() != PAGE as usize {
                        bail!("unexpected deep page");
                    }
                    Ok(())
                }
            },
        )
        .await?,
    );

    let middle = store
        .list_callbacks(ListScope::Active, 1, REQUESTS / 2)
        .await?
        .pop()
        .context("a request in the middle")?;
    rows.push(
        measure(backend, "eta of the middle request", None, 5, 200, || {
            let (cb, middle) = (&cb, &middle);
            async move {
                cb.eta(middle, now).await?;
                Ok(())
            }
        })
        .await?,
    );

    // One claim per operator: each claim by an operator who holds none, so claims pile up.
    let ops = claimers(&store, "claimer", 1010).await?;
    let mut k = 0usize;
    rows.push(
        measure(
            backend,
            "claim (each a new request)",
            Some(5.0),
            10,
            1000,
            || {
                let cb = &cb;
                let op = ops[k % ops.len()];
                k += 1;
                async move {
                    match cb.claim(op, "bench", now).await? {
                        Claim::Claimed(_) => Ok(()),
                        other => bail!("claim found {other:?}"),
                    }
                }
            },
        )
        .await?,
    );
    if let Some(claims) = rows.last()
        && claims.times.len() >= 200
    {
        // Claimed requests stay on top of the list: does a claim slow down as they pile up?
        let p50 = |t: &[Duration]| Row::ms(median(t));
        let n = claims.times.len();
        eprintln!(
            "  claims: p50 of the first 100 {:.2} ms, of the last 100 {:.2} ms",
            p50(&claims.times[..100]),
            p50(&claims.times[n - 100..])
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
    let opts = SqliteConnectOptions::from_str("sqlite:")?
        .filename(&path)
        .busy_timeout(Duration::from_secs(30));
    seed_sqlite(opts.clone(), &store).await?;
    operators(&store).await?;
    // Reopen, so every connection plans with the statistics.
    store.close().await;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
    eprintln!("  seeded in {:.1} s", started.elapsed().as_secs_f64());
    let rows = measure_all("SQLite", store.clone()).await;
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
        seed_postgres(opts.clone(), &store).await?;
        operators(&store).await?;
        eprintln!("  seeded in {:.1} s", started.elapsed().as_secs_f64());
        let rows = measure_all("PostgreSQL", store.clone()).await;
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
        "{REQUESTS} open requests; now = Tuesday 2026-12-01 10:00 Moscow; times in ms (wall clock)"
    );
    println!();
    println!("| backend | operation | n | p50 | p99 | max | goal (p99) |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        let goal = match r.goal_ms {
            Some(g) => format!("< {g} ms: {}", r.verdict()),
            None => "—".into(),
        };
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {} |",
            r.backend,
            r.op,
            r.times.len(),
            r.pct(50.0),
            r.pct(99.0),
            r.max(),
            goal
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
