//! What a flood found ([`FloodReport`], JSON with `--json`) and the text people read
//! ([`FloodReport::render`]): throughput, reply latency, failures by status, what the replies
//! were, whether every answered call is in the database, the process's memory, and the same load
//! against the static reply with the ratios perezvon ÷ static.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::load::Replies;
use super::report::Ratios;
use super::stats::Latency;

/// The whole result of a flood.
#[derive(Debug, Clone, Serialize)]
pub struct FloodReport {
    /// Where the requests went.
    pub target: String,
    /// True for an instance started in this process.
    pub in_process: bool,
    /// `sqlite` or `postgres` (the in-process instance's or the `--target`'s config database).
    pub backend: String,
    /// `in` or `off`.
    pub hours: String,
    /// The in-process instance's clock at its start (Moscow time).
    pub clock_start: Option<String>,
    /// `closed loop, N connections` or `open loop, R requests/s`.
    pub pace: String,
    pub duration_secs: f64,
    pub operators: usize,
    pub figures: Figures,
    /// Answered requests whose CallSid the database holds as a call (None: not checked).
    pub calls_stored: Option<u64>,
    /// The first answered CallSids the database does not hold.
    pub calls_missing: Vec<String>,
    pub rss: Option<Rss>,
    pub baseline: Option<FloodBaseline>,
}

/// What one load (against perezvon or the static reply) measured.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// Requests completed (a reply or a failure).
    pub requests: u64,
    /// Answered 2xx.
    pub answered: u64,
    /// Open loop: due but never sent (the client had 1000 requests outstanding until the end).
    pub unsent: u64,
    /// Requests by status (`200`, `403`, ..., `no reply`).
    pub by_status: BTreeMap<String, u64>,
    pub failures: Vec<String>,
    pub replies: Replies,
    pub elapsed_secs: f64,
    /// Completed requests per second.
    pub throughput: f64,
    pub latency: Latency,
    /// The latency of the requests sent (open loop: due) in each second of the run, to tell a
    /// tail spread over the run from one in its first seconds.
    pub by_second: Vec<Second>,
}

/// One second of a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Second {
    /// Seconds since the start of the load.
    pub second: u16,
    pub requests: u64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Groups `micros` by the second of the run each request went out in (`seconds`, the same order).
pub fn by_second(seconds: &[u16], micros: &[u32]) -> Vec<Second> {
    let mut groups: BTreeMap<u16, Vec<u32>> = BTreeMap::new();
    for (&s, &us) in seconds.iter().zip(micros) {
        groups.entry(s).or_default().push(us);
    }
    groups
        .into_iter()
        .map(|(second, mut us)| {
            let l = Latency::of_micros(&mut us);
            Second {
                second,
                requests: l.count as u64,
                p99_ms: l.p99_ms,
                max_ms: l.max_ms,
            }
        })
        .collect()
}

impl Figures {
    /// Requests not answered 2xx.
    pub fn errors(&self) -> u64 {
        self.requests - self.answered
    }
}

/// The resident memory of this process (VmRSS/VmHWM of /proc/self/status, KiB): the load
/// generator and the in-process instance together, as they share it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rss {
    /// Before the instance started.
    pub before_kib: u64,
    /// With the instance started and the operators seated, before the flood.
    pub ready_kib: u64,
    /// Right after the flood against perezvon (before the static baseline).
    pub after_kib: u64,
    /// The peak (VmHWM) at that moment.
    pub peak_kib: u64,
}

/// The same load against the static reply.
#[derive(Debug, Clone, Serialize)]
pub struct FloodBaseline {
    pub figures: Figures,
    /// perezvon ÷ static.
    pub ratio: Ratios,
}

impl FloodReport {
    /// The report as text.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let place = if self.in_process {
            format!("in-process instance on {}", self.backend)
        } else {
            format!("target (database {})", self.backend)
        };
        let _ = writeln!(
            o,
            "perezvon simulate flood against the {place} {}",
            self.target
        );
        let clock = match &self.clock_start {
            Some(c) => format!(", clock starting at {c}"),
            None => String::new(),
        };
        let _ = writeln!(
            o,
            "  POST /webhooks/twilio/voice, a new CallSid each; {}, {:.0} s; {} hours{clock}; {} operators\n",
            self.pace, self.duration_secs, self.hours, self.operators
        );
        figures(&mut o, "perezvon", &self.figures);
        if let Some(stored) = self.calls_stored {
            let _ = write!(
                o,
                "database    {stored} of {} answered calls stored",
                self.figures.answered
            );
            if !self.calls_missing.is_empty() {
                let _ = write!(o, " — MISSING: {}", self.calls_missing.join(", "));
            }
            let _ = writeln!(o);
        }
        if let Some(r) = &self.rss {
            let mib = |kib: u64| kib as f64 / 1024.0;
            let _ = writeln!(
                o,
                "memory      RSS of this process (load generator + in-process instance): {:.1} MiB before the instance, {:.1} MiB ready, {:.1} MiB after the flood (+{:.1} MiB), peak {:.1} MiB",
                mib(r.before_kib),
                mib(r.ready_kib),
                mib(r.after_kib),
                mib(r.after_kib.saturating_sub(r.ready_kib)),
                mib(r.peak_kib)
            );
        }
        if let Some(b) = &self.baseline {
            let _ = writeln!(o);
            figures(&mut o, "static", &b.figures);
            let r = &b.ratio;
            let _ = writeln!(
                o,
                "ratio       perezvon ÷ static: throughput {:.2}, p50 {:.1}x, p99 {:.1}x, max {:.1}x",
                r.throughput, r.p50, r.p99, r.max
            );
        }
        o
    }
}

fn figures(o: &mut String, name: &str, f: &Figures) {
    let l = &f.latency;
    let statuses: Vec<String> = f
        .by_status
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    let _ = writeln!(
        o,
        "{name:<11} {} requests in {:.1} s = {:.1} req/s; latency ms p50 {:.2}, p99 {:.2}, max {:.2} (mean {:.2})",
        f.requests, f.elapsed_secs, f.throughput, l.p50_ms, l.p99_ms, l.max_ms, l.mean_ms
    );
    if f.unsent > 0 {
        let _ = writeln!(
            o,
            "            {} more were due but NOT SENT: 1000 requests were outstanding until the end",
            f.unsent
        );
    }
    let _ = writeln!(
        o,
        "            {} errors; by status: {}; replies: <Dial> {}, <Enqueue> {}, other {}",
        f.errors(),
        statuses.join(", "),
        f.replies.dial,
        f.replies.enqueue,
        f.replies.other
    );
    if f.by_second.len() > 1 {
        // The first minute in full, after that only its slowest seconds.
        let mut shown: Vec<&Second> = f.by_second.iter().collect();
        if shown.len() > 60 {
            shown.sort_by(|a, b| b.p99_ms.total_cmp(&a.p99_ms));
            shown.truncate(10);
            shown.sort_by_key(|s| s.second);
        }
        let seconds: Vec<String> = shown
            .iter()
            .map(|s| format!("{}: {:.1}", s.second, s.p99_ms))
            .collect();
        let _ = writeln!(o, "            p99 ms by second: {}", seconds.join(", "));
    }
    for e in &f.failures {
        let _ = writeln!(o, "            failure: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_grouped_by_the_second_a_request_went_out_in() {
        // Second 0: a slow start (100 requests, one at 200 ms); second 2: quick ones.
        let mut seconds = vec![0u16; 100];
        let mut micros: Vec<u32> = (0..100).map(|i| 1_000 + i).collect();
        micros[37] = 200_000;
        seconds.extend([2, 2]);
        micros.extend([3_000, 4_000]);
        let s = by_second(&seconds, &micros);
        assert_eq!(
            s,
            vec![
                Second {
                    second: 0,
                    requests: 100,
                    p99_ms: 1.099,
                    max_ms: 200.0
                },
                Second {
                    second: 2,
                    requests: 2,
                    p99_ms: 4.0,
                    max_ms: 4.0
                },
            ]
        );
    }
}
