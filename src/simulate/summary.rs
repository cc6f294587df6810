//! From a run's raw records to its [`Report`]: outcomes counted, latencies summed up overall and
//! per webhook, the server's own list of the simulated calls (`GET /api/v1/calls?limit=500`, read
//! with the supervisor's token; only the 500 most recent calls can be checked), and the baseline
//! compared with the main run.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use anyhow::bail;

use super::SimulateArgs;
use super::baseline;
use super::board::Tally;
use super::peer::{Line, Outcome};
use super::report::{Baseline, Outcomes, QueueFigures, Ratios, Report, ServerCalls};
use super::session::{Played, Setup};
use super::staff::BreakStats;
use super::stats::{Latency, ratio};
use super::wire::Sample;

/// A supervisor's GET of a JSON list.
async fn get_list(
    http: &reqwest::Client,
    url: String,
    token: &str,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let r = http.get(url).bearer_auth(token).send().await?;
    if !r.status().is_success() {
        bail!("HTTP {}", r.status());
    }
    Ok(r.json().await?)
}

/// The simulated calls' final states as the server lists them, and their voicemails' audio.
pub(super) async fn server_calls(
    http: &reqwest::Client,
    target: &str,
    token: &str,
    sids: &[String],
) -> ServerCalls {
    let ours: HashSet<&str> = sids.iter().map(String::as_str).collect();
    let mut out = ServerCalls::default();
    let calls = match get_list(http, format!("{target}/api/v1/calls?limit=500"), token).await {
        Ok(calls) => calls,
        Err(e) => {
            out.error = Some(format!("{e:#}"));
            return out;
        }
    };
    let mut ids = HashSet::new();
    for c in calls {
        let (Some(sid), Some(state)) = (c["provider_call_id"].as_str(), c["state"].as_str()) else {
            continue;
        };
        if ours.contains(sid) {
            out.seen += 1;
            *out.states.entry(state.to_owned()).or_default() += 1;
            out.unfinished += usize::from(!matches!(state, "completed" | "abandoned"));
            ids.extend(c["id"].as_i64());
        }
    }
    // Recordings are downloaded in the background (the worker looks every 5 s): give pending ones
    // up to 8 s.
    for _ in 0..40 {
        let url = format!("{target}/api/v1/voicemails?limit=1000");
        let Ok(list) = get_list(http, url, token).await else {
            break; // An instance without voicemail: nothing to count.
        };
        out.voicemail_audio.clear();
        for v in list
            .iter()
            .filter(|v| v["call_id"].as_i64().is_some_and(|id| ids.contains(&id)))
        {
            let status = v["audio_status"].as_str().unwrap_or("?").to_owned();
            *out.voicemail_audio.entry(status).or_default() += 1;
        }
        if !out.voicemail_audio.contains_key("pending") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    out
}

fn latencies(samples: &[Sample]) -> Vec<Duration> {
    samples
        .iter()
        .filter(|s| s.status != 0)
        .map(Sample::latency)
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn summary(
    setup: &Setup,
    args: &SimulateArgs,
    seed: u64,
    line: &Line,
    played: &Played,
    samples: &[Sample],
    server: ServerCalls,
    presence: BreakStats,
) -> Report {
    let mut outcomes = Outcomes::default();
    for o in &played.outcomes {
        *match o {
            Outcome::Talked => &mut outcomes.talked,
            Outcome::LeftQueue => &mut outcomes.left_queue,
            Outcome::HungUp => &mut outcomes.hung_up,
            Outcome::Voicemail => &mut outcomes.voicemail,
            Outcome::OffHours => &mut outcomes.off_hours,
            Outcome::Goodbye => &mut outcomes.goodbye,
            Outcome::Error => &mut outcomes.error,
        } += 1;
    }
    let t = &line.board.tally;
    let queue = QueueFigures {
        queued: Tally::get(&t.queued),
        longest: line.board.longest_queue(),
        redirected: Tally::get(&t.redirected),
        pressed_1: Tally::get(&t.pressed_1),
        rung_past_queue: Tally::get(&t.rung_past_queue),
        late_redirects: Tally::get(&t.late_redirects),
        refused_redirects: Tally::get(&line.mailboxes.refused),
        double_booked: Tally::get(&t.double_booked),
    };
    let mut routes: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.status != 0) {
        routes
            .entry(s.route().to_owned())
            .or_default()
            .push(s.latency());
    }
    let (webhook_errors, errors) = line.wire.errors();
    let elapsed = played.elapsed.as_secs_f64();
    Report {
        provider: args.provider,
        target: setup.target.clone(),
        in_process: setup.instance.is_some(),
        calls: args.calls,
        rate: args.rate,
        operators: args.operators,
        model: args.model(),
        seed,
        breaks_enabled: args.breaks,
        server_wrap_up_secs: setup
            .instance
            .as_ref()
            .map(|i| i.wrap_up.num_milliseconds() as f64 / 1000.0),
        calls_started: Tally::get(&t.started),
        calls_finished: played.outcomes.len(),
        timed_out: played.timed_out,
        outcomes,
        queue,
        webhooks: samples.len(),
        webhook_errors,
        api_refusals: 0,
        recordings_served: 0,
        errors,
        elapsed_secs: elapsed,
        throughput: ratio(samples.len() as f64, elapsed),
        latency: Latency::of(&latencies(samples)),
        slowest: slowest(samples, 5),
        by_route: routes
            .into_iter()
            .map(|(r, l)| (r, Latency::of(&l)))
            .collect(),
        server,
        presence,
        baseline: None,
    }
}

pub(super) fn compare(report: &Report, b: &baseline::Replayed) -> Baseline {
    let latency = Latency::of(&latencies(&b.samples));
    let elapsed = b.elapsed.as_secs_f64();
    let throughput = ratio(b.samples.len() as f64, elapsed);
    let l = &report.latency;
    Baseline {
        webhooks: b.samples.len(),
        errors: b
            .samples
            .iter()
            .filter(|s| !(200..300).contains(&s.status))
            .count(),
        elapsed_secs: elapsed,
        throughput,
        latency,
        ratio: Ratios {
            p50: ratio(l.p50_ms, latency.p50_ms),
            p95: ratio(l.p95_ms, latency.p95_ms),
            p99: ratio(l.p99_ms, latency.p99_ms),
            max: ratio(l.max_ms, latency.max_ms),
            throughput: ratio(report.throughput, throughput),
        },
    }
}

/// The `n` slowest answered requests: route, milliseconds, seconds into the run.
fn slowest(samples: &[Sample], n: usize) -> Vec<(String, f64, f64)> {
    let mut answered: Vec<&Sample> = samples.iter().filter(|s| s.status != 0).collect();
    answered.sort_by_key(|s| std::cmp::Reverse(s.latency()));
    answered
        .iter()
        .take(n)
        .map(|s| {
            let ms = s.latency().as_secs_f64() * 1000.0;
            (s.route().to_owned(), ms, s.sent.as_secs_f64())
        })
        .collect()
}
