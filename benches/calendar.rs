//! Benchmarks of the calendar's hot paths: `window_at_or_after` and `add_working`
//! (8 working hours) from ordinary, Friday-evening, holiday, late-December and
//! fallback-year instants, on the built-in calendar with the default hours.

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use perezvon::calendar::{Calendar, HotlineHours, MOSCOW};

fn msk(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .expect("valid Moscow time")
        .with_timezone(&Utc)
}

fn instants() -> [(&'static str, DateTime<Utc>); 6] {
    [
        ("tuesday_10_00", msk(2025, 3, 18, 10, 0)),
        ("friday_17_30", msk(2025, 3, 14, 17, 30)),
        ("friday_20_00", msk(2025, 3, 14, 20, 0)),
        ("holiday_2025_05_08", msk(2025, 5, 8, 12, 0)),
        ("late_december_2025_12_30_17_00", msk(2025, 12, 30, 17, 0)),
        ("fallback_2030_06_03_12_00", msk(2030, 6, 3, 12, 0)),
    ]
}

fn bench(c: &mut Criterion) {
    let cal = Calendar::builtin(HotlineHours::default());
    // Build the fallback year's table before measuring.
    let _ = cal.window_at_or_after(msk(2030, 1, 1, 0, 0));
    let eight = TimeDelta::hours(8);

    let mut group = c.benchmark_group("window_at_or_after");
    for (name, t) in instants() {
        group.bench_function(name, |b| b.iter(|| cal.window_at_or_after(black_box(t))));
    }
    group.finish();

    let mut group = c.benchmark_group("add_working_8h");
    for (name, t) in instants() {
        group.bench_function(name, |b| {
            b.iter(|| cal.add_working(black_box(t), black_box(eight)))
        });
    }
    group.finish();

    c.bench_function("working_between_one_month", |b| {
        let (from, to) = (msk(2025, 12, 15, 0, 0), msk(2026, 1, 15, 0, 0));
        b.iter(|| cal.working_between(black_box(from), black_box(to)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
