//! The callback schedule's pure rules (`domain::callback`): the full ETA recompute `etas` over
//! 100 000 open requests, and `eta_for_position` for a request deep in the list, on the built-in
//! calendar with the default hours. `now` is Friday evening (the hotline is closed until Monday),
//! 3 operators, a 6 min handle time and 50 % of their time on callbacks: one slot every 4 min.
//!
//! At that pace about 11 000 slots fit in the 120-day horizon; the rest of the list gets no
//! estimate, as in production. Part of the goal "full ETA recompute < 50 ms" with
//! 100 000 open requests (the database side is `benches/callback_list.rs`).
//!
//! Run: `cargo bench --bench schedule`.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use perezvon::calendar::{Calendar, HotlineHours, MOSCOW};
use perezvon::domain::callback::{Staffing, eta_for_position, etas};

const REQUESTS: u64 = 100_000;

fn msk(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .expect("valid Moscow time")
        .with_timezone(&Utc)
}

/// A cheap deterministic spread (Knuth's multiplicative hash).
fn spread(i: u64, modulo: u64) -> u64 {
    (i.wrapping_mul(2_654_435_761) >> 7) % modulo
}

/// Due times of `REQUESTS` requests, spread over the 5 days before `now` (all due).
fn past_dues(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let five_days = TimeDelta::days(5).num_milliseconds() as u64;
    (0..REQUESTS)
        .map(|i| now - TimeDelta::milliseconds(spread(i, five_days) as i64))
        .collect()
}

/// The same, with every tenth request due later (follow-ups agreed over the next 2 weeks), so the
/// "not before its due time" adjustment runs too.
fn mixed_dues(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let two_weeks = TimeDelta::days(14).num_milliseconds() as u64;
    past_dues(now)
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            if i % 10 == 3 {
                now + TimeDelta::milliseconds(spread(i as u64 + 7, two_weeks) as i64)
            } else {
                d
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cal = Calendar::builtin(HotlineHours::default());
    let now = msk(2026, 11, 27, 19, 30); // Friday, after closing
    let staffing = Staffing {
        operators: 3,
        handle: TimeDelta::minutes(6),
        share_percent: 50,
    };
    let past = past_dues(now);
    let mixed = mixed_dues(now);
    let estimated = etas(&cal, now, staffing, 0, past.iter().copied())
        .iter()
        .filter(|e| e.is_some())
        .count();
    eprintln!(
        "etas: {estimated} of {REQUESTS} requests get an estimate inside the horizon; \
         one slot every {} s",
        staffing.interval().num_seconds()
    );

    let mut group = c.benchmark_group("etas_100k");
    group.bench_function("all_due", |b| {
        b.iter(|| etas(&cal, black_box(now), staffing, 0, past.iter().copied()))
    });
    group.bench_function("tenth_due_later", |b| {
        b.iter(|| etas(&cal, black_box(now), staffing, 0, mixed.iter().copied()))
    });
    group.finish();

    let mut group = c.benchmark_group("eta_for_position");
    for position in [50u64, 5_000, 50_000] {
        group.bench_function(position.to_string(), |b| {
            b.iter(|| eta_for_position(&cal, black_box(now), staffing, black_box(position)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
