//! `perezvon simulate flood`: floods the Twilio voice webhook with new inbound calls — each request
//! a distinct CallSid, signed exactly as Twilio signs it ([`Wire::sign`]) — and reports throughput,
//! latency, failures by status, and then the same load against a static reply, as a ratio.
//!
//! The target ([`Target`]) is an instance started in this process (SQLite in a temporary
//! directory, or the fresh database `--database-url` names) or an external `--target` (signed with
//! `public_url` and `[twilio] auth_token` from `--config`, staff created in the config's database,
//! as `perezvon simulate --target` does). The in-process instance's clock runs
//! at real speed from a fixed instant ([`OffsetClock`]): Monday 2026-12-07 10:00 Moscow for
//! `--hours in`, Sunday 2026-12-06 12:00 for `--hours off`, or `--clock-start`. In hours,
//! `--operators` simulated operators are seated `available` first, so the first calls are rung
//! through (`<Dial>`) and, since no call ever ends, every later one waits in the queue
//! (`<Enqueue>`); off hours every caller gets the greeting, the hours and the voicemail menu. Only
//! the first webhook of each call is sent: this measures the call path's first step under load.
//! Afterwards every answered CallSid is looked up in the database ([`Target::stored`]).

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use chrono::{DateTime, Utc};

use super::flood_report::{Figures, FloodBaseline, FloodReport, Rss};
use super::flood_target::Target;
use super::load::{self, Make, Pace, Tally};
use super::report::Ratios;
use super::stats::{Latency, ratio};
use super::wire::Wire;
use super::{baseline, peer};
use crate::clock::{Clock, OffsetClock};
use crate::config::Config;
use crate::http::api::calendar::{moscow_rfc3339, parse_instant};
use crate::telephony::twilio::{Route, route_path};

/// Whether the flood happens in working hours.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hours {
    In,
    Off,
}

/// Options of `perezvon simulate flood`.
#[derive(clap::Args, Debug, Clone)]
pub struct FloodArgs {
    /// A running instance to flood (e.g. http://127.0.0.1:8080); default: start one in-process.
    #[arg(long, value_name = "URL", conflicts_with = "database_url")]
    pub target: Option<String>,
    /// The in-process instance's database (e.g. a fresh postgres://…/flood_x); default: SQLite in
    /// a temporary directory.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Closed loop: this many keep-alive connections, each sending when its last reply is in
    /// (default 8).
    #[arg(long, conflicts_with = "rate")]
    pub connections: Option<usize>,
    /// Open loop: this many requests per second, whatever the replies do.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds of load (each of perezvon and the static baseline).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// `in`: operators available, calls are rung through, then queue; `off`: the off-hours path.
    #[arg(long, value_enum, default_value = "in")]
    pub hours: Hours,
    /// Simulated operators seated `available` (in hours).
    #[arg(long, default_value_t = 3)]
    pub operators: usize,
    /// The in-process instance's clock start instead of the default for `--hours`.
    #[arg(long, value_name = "RFC 3339", value_parser = parse_instant)]
    pub clock_start: Option<DateTime<Utc>>,
    /// Also run the same load against a static reply and print the ratio (`--baseline false`: not).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub baseline: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Log what the in-process instance does (to stderr; costs time under load).
    #[arg(long)]
    pub verbose: bool,
}

impl Default for FloodArgs {
    fn default() -> Self {
        #[derive(clap::Parser)]
        struct Wrap {
            #[command(flatten)]
            args: FloodArgs,
        }
        <Wrap as clap::Parser>::parse_from(["flood"]).args
    }
}

impl FloodArgs {
    fn pace(&self) -> Pace {
        match (self.rate, self.connections) {
            (Some(rate), _) => Pace::Open { rate },
            (None, c) => Pace::Closed {
                connections: c.unwrap_or(8),
            },
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Some(c) = self.connections
            && !(1..=1000).contains(&c)
        {
            bail!("--connections must be between 1 and 1000");
        }
        if let Some(r) = self.rate
            && !(r > 0.0 && r <= 100_000.0)
        {
            bail!("--rate must be above 0 and at most 100000 requests per second");
        }
        if !(self.duration > 0.0 && self.duration <= 3600.0) {
            bail!("--duration must be above 0 and at most 3600 seconds");
        }
        if !(1..=500).contains(&self.operators) {
            bail!("--operators must be between 1 and 500");
        }
        if let Some(t) = &self.target {
            match url::Url::parse(t) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => bail!("--target `{t}` is not an http(s) URL"),
            }
        }
        Ok(())
    }

    /// The in-process instance's clock start.
    fn start(&self) -> DateTime<Utc> {
        let default = match self.hours {
            Hours::In => "2026-12-07T10:00:00+03:00",
            Hours::Off => "2026-12-06T12:00:00+03:00",
        };
        self.clock_start
            .unwrap_or_else(|| parse_instant(default).unwrap_or_default())
    }
}

/// The CallSid of request `i` of the run tagged `tag`: `CA` and 32 hex digits, as Twilio's.
pub fn call_sid(tag: u32, i: u64) -> String {
    format!("CA{tag:08x}{i:024x}")
}

/// `perezvon simulate flood`: runs, prints the report, fails when a request failed or was not
/// sent, or an answered call is missing from the database.
pub async fn run(config: &Config, args: FloodArgs) -> anyhow::Result<()> {
    if args.verbose {
        crate::init_tracing(config.log_format);
    }
    let json = args.json;
    let r = run_flood(config, args).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", r.render());
    }
    let both = [Some(&r.figures), r.baseline.as_ref().map(|b| &b.figures)];
    let errors: u64 = both.iter().flatten().map(|f| f.errors()).sum();
    let unsent: u64 = both.iter().flatten().map(|f| f.unsent).sum();
    if errors > 0 || unsent > 0 || !r.calls_missing.is_empty() {
        bail!(
            "{errors} requests failed, {unsent} not sent, {} answered calls missing from the database",
            r.calls_missing.len()
        );
    }
    Ok(())
}

/// Runs a flood and returns its report.
pub async fn run_flood(config: &Config, args: FloodArgs) -> anyhow::Result<FloodReport> {
    args.check()?;
    let (pace, duration) = (args.pace(), Duration::from_secs_f64(args.duration));
    let before = memory();
    let mut target = match &args.target {
        None => {
            let start = args.start();
            let open = crate::load_calendar(config)?.is_open(start);
            if open != (args.hours == Hours::In) {
                let (is, give) = if open {
                    ("in", "in")
                } else {
                    ("outside", "off")
                };
                let start = moscow_rfc3339(start);
                bail!("--clock-start {start} is {is} working hours; give --hours {give}");
            }
            let clock: Arc<dyn Clock> = Arc::new(OffsetClock::starting_at(start));
            Target::in_process(config, clock, args.database_url.as_deref()).await?
        }
        Some(url) => Target::external(config, url).await?,
    };
    if args.hours == Hours::In {
        target.seat(args.operators).await?;
    }
    let ready = memory();
    let tag: u32 = rand::random();
    let wire = Wire::new(&target.base, &target.public_url, &target.auth_token)?;
    let make = calls(wire, &target, tag);
    let loaded = load::run(&target.base, pace, duration, make.clone()).await;
    let after = memory();
    let checked = match &loaded {
        Ok(t) => target.stored(tag, &t.answered).await,
        Err(_) => Ok((0, Vec::new())),
    };
    let (base, in_process) = (target.base.clone(), target.in_process_instance());
    let (backend, operators) = (target.store.backend().to_owned(), target.operators());
    target.finish().await;
    let figures = figures(&mut loaded?);
    let (calls_stored, calls_missing) = checked?;
    let baseline = match args.baseline {
        false => None,
        true => {
            let server = baseline::StaticServer::start().await?;
            let t = load::run(&server.base, pace, duration, make).await;
            server.stop().await;
            let b = self::figures(&mut t?);
            let ratio = ratios(&figures, &b);
            Some(FloodBaseline { figures: b, ratio })
        }
    };
    let rss = match (before, ready, after) {
        (Some(b), Some(r), Some((a, peak))) if in_process => Some(Rss {
            before_kib: b.0,
            ready_kib: r.0,
            after_kib: a,
            peak_kib: peak,
        }),
        _ => None,
    };
    Ok(FloodReport {
        target: base,
        in_process,
        backend,
        hours: format!("{:?}", args.hours).to_lowercase(),
        clock_start: in_process.then(|| moscow_rfc3339(args.start())),
        pace: match pace {
            Pace::Closed { connections } => format!("closed loop, {connections} connections"),
            Pace::Open { rate } => format!("open loop, {rate} requests/s"),
        },
        duration_secs: args.duration,
        operators,
        figures,
        calls_stored: Some(calls_stored),
        calls_missing,
        rss,
        baseline,
    })
}

/// Request `i`: the `voice` webhook of a new call with its own CallSid and caller.
fn calls(wire: Wire, target: &Target, tag: u32) -> Make {
    let voice = route_path(&Route::Voice);
    let (account_sid, to) = (target.account_sid.clone(), target.to_number.clone());
    Arc::new(move |i| {
        let sid = call_sid(tag, i);
        let from = format!("+79{:09}", (u64::from(tag) * 1_000_003 + i) % 1_000_000_000);
        let params = peer::call_params(&account_sid, &to, &sid, &from, "ringing", &[]);
        // A bare path always resolves under the public URL.
        wire.sign(&voice, &params).expect("a bare path is signed")
    })
}

fn figures(t: &mut Tally) -> Figures {
    let by_status = t
        .statuses
        .iter()
        .map(|(s, n)| match s {
            0 => ("no reply".to_owned(), *n),
            s => (s.to_string(), *n),
        })
        .collect();
    let elapsed = t.elapsed.as_secs_f64();
    let by_second = super::flood_report::by_second(&t.seconds, &t.micros);
    Figures {
        requests: t.requests(),
        answered: t.answered.len() as u64,
        unsent: t.unsent,
        by_status,
        failures: std::mem::take(&mut t.failures),
        replies: t.replies,
        elapsed_secs: elapsed,
        throughput: ratio(t.requests() as f64, elapsed),
        latency: Latency::of_micros(&mut t.micros),
        by_second,
    }
}

fn ratios(a: &Figures, b: &Figures) -> Ratios {
    let (x, y) = (&a.latency, &b.latency);
    Ratios {
        p50: ratio(x.p50_ms, y.p50_ms),
        p95: ratio(x.p95_ms, y.p95_ms),
        p99: ratio(x.p99_ms, y.p99_ms),
        max: ratio(x.max_ms, y.max_ms),
        throughput: ratio(a.throughput, b.throughput),
    }
}

/// VmRSS and VmHWM of this process, KiB.
fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
