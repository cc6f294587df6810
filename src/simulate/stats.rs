//! Latency figures for the simulator's report: every webhook's reply time is kept (a simulation
//! sends a few thousand at most), so the percentiles are exact rather than estimated from a histogram.
//!
//! Percentiles use the nearest-rank method: p-th percentile of n sorted values is the value at
//! rank ⌈p·n/100⌉, so p50 ≤ p95 ≤ p99 ≤ max always holds and every figure is a latency that was
//! really measured. [`Latency`] is what the report prints; [`ratio`] compares two runs. The flood
//! keeps its (many more) latencies as microseconds in a `u32` each ([`Latency::of_micros`]).

use std::time::Duration;

use serde::Serialize;

/// The summary of a set of reply latencies, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    /// Summarizes `samples` (any order); all zero when there are none.
    pub fn of(samples: &[Duration]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let total: f64 = ms.iter().sum();
        Latency {
            count: ms.len(),
            p50_ms: nearest_rank(&ms, 50.0),
            p95_ms: nearest_rank(&ms, 95.0),
            p99_ms: nearest_rank(&ms, 99.0),
            max_ms: ms[ms.len() - 1],
            mean_ms: total / ms.len() as f64,
        }
    }
}

impl Latency {
    /// Summarizes latencies in microseconds (sorted in place); the flood keeps them this way
    /// because a run may have hundreds of thousands.
    pub fn of_micros(micros: &mut [u32]) -> Latency {
        if micros.is_empty() {
            return Latency::default();
        }
        micros.sort_unstable();
        let n = micros.len();
        let ms = |us: u32| f64::from(us) / 1000.0;
        let at = |p: f64| ms(micros[((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1]);
        let total: u64 = micros.iter().map(|&us| u64::from(us)).sum();
        Latency {
            count: n,
            p50_ms: at(50.0),
            p95_ms: at(95.0),
            p99_ms: at(99.0),
            max_ms: ms(micros[n - 1]),
            mean_ms: total as f64 / n as f64 / 1000.0,
        }
    }
}

/// The nearest-rank `p`-th percentile of sorted, non-empty `sorted`.
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `a ÷ b`, or 0 when `b` is not positive (nothing to compare with).
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|m| Duration::from_millis(*m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let l = Latency::of(&ms(&(1..=100).rev().collect::<Vec<_>>()));
        assert_eq!(
            (l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms),
            (100, 50.0, 95.0, 99.0, 100.0)
        );
        assert!((l.mean_ms - 50.5).abs() < 1e-9);
        let one = Latency::of(&ms(&[7]));
        assert_eq!((one.p50_ms, one.p99_ms, one.max_ms), (7.0, 7.0, 7.0));
        let few = Latency::of(&ms(&[1, 2, 3]));
        assert_eq!((few.p50_ms, few.p95_ms), (2.0, 3.0));
        assert_eq!(Latency::of(&[]), Latency::default());
    }

    #[test]
    fn micros_agree_with_durations() {
        let mut us: Vec<u32> = (1..=100).rev().map(|m| m * 1000).collect();
        let l = Latency::of_micros(&mut us);
        let d = Latency::of(&ms(&(1..=100).collect::<Vec<_>>()));
        assert_eq!(l, d);
        assert_eq!(Latency::of_micros(&mut []), Latency::default());
    }

    #[test]
    fn ratios() {
        assert_eq!(ratio(6.0, 2.0), 3.0);
        assert_eq!(ratio(1.0, 0.0), 0.0);
    }
}
