//! A Zadarma run's records summed up in the common [`Report`]: outcomes as the callers saw them,
//! the hold queue as the PBX saw it (there are no REST redirects with Zadarma: a queued caller
//! reaches a freed operator at the next hold tick, counted as `redirected`; late and refused
//! redirects stay zero), reply latencies per notification, the server's view of the calls, and
//! what the fake REST API saw: refused signatures (the run fails with any) and recording files
//! downloaded through it. There is no baseline for Zadarma.

use std::time::Duration;

use super::Played;
use super::fake_api::{Counts, FakeZadarma};
use super::line::{Line, Tally};
use crate::simulate::instance::Instance;
use crate::simulate::report::{Outcomes, QueueFigures, Report, ServerCalls};
use crate::simulate::staff::BreakStats;
use crate::simulate::stats::{Latency, ratio};
use crate::simulate::{Outcome, SimulateArgs};

/// The report of a Zadarma run.
#[allow(clippy::too_many_arguments)]
pub(super) fn summary(
    instance: &Instance,
    fake: &FakeZadarma,
    args: &SimulateArgs,
    seed: u64,
    line: &Line,
    played: &Played,
    server: ServerCalls,
    presence: BreakStats,
) -> Report {
    let t = &line.tally;
    let queue = QueueFigures {
        queued: Tally::get(&t.queued),
        longest: Tally::get(&t.longest),
        redirected: Tally::get(&t.redirected),
        pressed_1: Tally::get(&t.pressed_1),
        ..QueueFigures::default()
    };
    let by_route = line.pbx.by_route();
    let all: Vec<Duration> = by_route.values().flatten().copied().collect();
    let (webhook_errors, errors) = line.pbx.errors();
    let elapsed = played.elapsed.as_secs_f64();
    let webhooks = line.pbx.count();
    Report {
        provider: args.provider,
        target: instance.base.clone(),
        in_process: true,
        calls: args.calls,
        rate: args.rate,
        operators: args.operators,
        model: args.model(),
        seed,
        breaks_enabled: args.breaks,
        server_wrap_up_secs: Some(instance.wrap_up.num_milliseconds() as f64 / 1000.0),
        calls_started: Tally::get(&t.started),
        calls_finished: played.outcomes.len(),
        timed_out: played.timed_out,
        outcomes: outcomes(&played.outcomes),
        queue,
        webhooks,
        webhook_errors,
        api_refusals: Counts::get(&fake.counts.refused),
        recordings_served: Counts::get(&fake.counts.downloads),
        errors,
        elapsed_secs: elapsed,
        throughput: ratio(webhooks as f64, elapsed),
        latency: Latency::of(&all),
        by_route: by_route
            .iter()
            .map(|(r, l)| (r.clone(), Latency::of(l)))
            .collect(),
        slowest: line.pbx.slowest(5),
        server,
        presence,
        baseline: None,
    }
}

fn outcomes(all: &[Outcome]) -> Outcomes {
    let mut o = Outcomes::default();
    for outcome in all {
        *match outcome {
            Outcome::Talked => &mut o.talked,
            Outcome::LeftQueue => &mut o.left_queue,
            Outcome::HungUp => &mut o.hung_up,
            Outcome::Voicemail => &mut o.voicemail,
            Outcome::OffHours => &mut o.off_hours,
            Outcome::Goodbye => &mut o.goodbye,
            Outcome::Error => &mut o.error,
        } += 1;
    }
    o
}
