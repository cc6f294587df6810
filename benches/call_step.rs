//! The call step without HTTP: how many incoming-call webhooks a second the switchboard turns into
//! committed steps, on SQLite (the writer thread with group commit) and on PostgreSQL, at 1, 8 and
//! 32 concurrent callers, off hours (greeting, hours, voicemail: call row, voicemail row, event)
//! and in hours (three operators take the first calls, the rest queue behind them).
//!
//! A plain program (`harness = false`): each point runs distinct `Incoming` events (a new call
//! each) through `Switchboard::handle` for `SECONDS` and reports steps/s and p50 / p99 / max of one
//! step in milliseconds. The HTTP figures (signature, parsing, axum, the static baseline) come from
//! `perezvon simulate --flood`; this one shows what the storage step itself costs.
//!
//! Run: `cargo bench --bench call_step` (add `PEREZVON_TEST_POSTGRES_URL=postgres://…` for
//! PostgreSQL; a fresh schema is made and dropped).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours, MOSCOW};
use perezvon::clock::ManualClock;
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::routing::{RoutingSettings, describe};
use perezvon::domain::user::Role;
use perezvon::store::postgres::PgStore;
use perezvon::store::sqlite::SqliteStore;
use perezvon::store::{NewOperator, NewUser, Store};
use perezvon::switchboard::{Incoming, Switchboard};
use perezvon::telephony::{CallEvent, EventKind};
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;

const SECONDS: u64 = 5;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(2026, 12, day, hour, 0, 0)
        .single()
        .expect("valid Moscow time")
        .with_timezone(&Utc)
}

async fn operators(store: &Arc<dyn Store>, now: DateTime<Utc>) -> Result<()> {
    for i in 0..3 {
        let u = NewUser {
            login: format!("op{i}"),
            display_name: format!("op{i}"),
            role: Role::Operator,
            password_hash: "x".into(),
        };
        let user = store.create_user(&u, now).await?;
        let new = NewOperator {
            user_id: user.id,
            name: format!("op{i}"),
            contact_kind: ContactKind::Sip,
            contact: format!("sip:op{i}@pbx.example"),
        };
        let op = store.create_operator(&new, now).await?;
        store.set_presence(op.id, Presence::Available, now).await?;
    }
    Ok(())
}

/// One point: `tasks` callers in a closed loop for `SECONDS`; returns (steps/s, p50, p99, max).
async fn point(sb: Arc<Switchboard>, tasks: usize, tag: &str) -> Result<(f64, f64, f64, f64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let stop = start + Duration::from_secs(SECONDS);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (sb, next, tag) = (sb.clone(), next.clone(), tag.to_owned());
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let render = Arc::new(|r: &perezvon::telephony::Reply| Ok(describe(r)));
            while Instant::now() < stop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let e = CallEvent {
                    call_id: format!("CA{tag}{i:030}"),
                    from: Some(format!("+7916{:07}", i % 10_000_000)),
                    to: Some("+74950000000".into()),
                    kind: EventKind::Incoming,
                };
                let inc = Incoming {
                    provider: "twilio",
                    event: &e,
                    key: "incoming",
                    payload: "{}".into(),
                };
                let t = Instant::now();
                sb.handle(inc, render.clone()).await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    let ms = |q: f64| all[((all.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    Ok((all.len() as f64 / secs, ms(0.5), ms(0.99), ms(1.0)))
}

async fn backend(name: &str, store: Arc<dyn Store>, rows: &mut Vec<String>) -> Result<()> {
    for (label, now) in [("off hours", at(6, 12)), ("in hours", at(7, 10))] {
        let clock = Arc::new(ManualClock::new(now));
        if label == "in hours" {
            operators(&store, now).await?;
        }
        let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
        let sb = Arc::new(Switchboard::new(
            store.clone(),
            calendar,
            clock,
            RoutingSettings::default(),
        ));
        for tasks in [1, 8, 32] {
            let tag = format!("{}{}{tasks}", &name[..1], &label[..2]);
            let (rate, p50, p99, max) = point(sb.clone(), tasks, &tag).await?;
            rows.push(format!(
                "| {name} | {label} | {tasks} | {rate:.0} | {p50:.2} | {p99:.2} | {max:.1} |"
            ));
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut rows = Vec::new();
        let dir = tempfile::tempdir()?;
        let sqlite = SqliteStore::open(&dir.path().join("bench.db")).await?;
        sqlite.migrate().await?;
        backend("sqlite", Arc::new(sqlite), &mut rows).await?;
        match std::env::var("PEREZVON_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(url) => {
                let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&url).await?;
                sqlx::query(&format!("create schema {schema}"))
                    .execute(&mut conn)
                    .await?;
                let opts =
                    PgConnectOptions::from_str(&url)?.options([("search_path", schema.as_str())]);
                let pg = PgStore::connect_with(opts, 32).await?;
                pg.migrate().await?;
                let r = backend("postgres", Arc::new(pg), &mut rows).await;
                sqlx::query(&format!("drop schema {schema} cascade"))
                    .execute(&mut conn)
                    .await?;
                r?;
            }
            None => rows.push("PostgreSQL skipped: PEREZVON_TEST_POSTGRES_URL not set".into()),
        }
        println!("| backend | path | concurrent | steps/s | p50 ms | p99 ms | max ms |");
        println!("|---|---|---|---|---|---|---|");
        for r in rows {
            println!("{r}");
        }
        Ok(())
    })
}
