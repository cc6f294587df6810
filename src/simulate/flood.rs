//! `perezvon simulate flood`: floods the Twilio voice webhook with new inbound calls — each request
//! a distinct CallSid, signed exactly as Twilio signs it ([`Wire::sign`]) — and reports throughput,
//! latency, failures by status, and then the same load against a static reply, as a ratio.
//!
//! The target is an instance started in this process ([`Instance::start_on`]: SQLite in a
//! temporary directory, or the fresh database `--database-url` names) or an external `--target`
//! (signed with `public_url` and `[twilio] auth_token` from `--config`, staff created in the
//! config's database, as `perezvon simulate --target` does). The in-process instance's clock runs
//! at real speed from a fixed instant ([`OffsetClock`]): Monday 2026-12-07 10:00 Moscow for
//! `--hours in`, Sunday 2026-12-06 12:00 for `--hours off`, or `--clock-start`. In hours,
//! `--operators` simulated operators are seated `available` first, so the first calls are rung
//! through (`<Dial>`) and, since no call ever ends, every later one waits in the queue
//! (`<Enqueue>`); off hours every caller gets the greeting, the hours and the voicemail menu. Only
//! the first webhook of each call is sent: this measures the call path's first step under load.
//! Afterwards every answered CallSid is looked up in the database.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};

use super::fake_api::{FakeApi, Mailboxes};
use super::flood_report::{Figures, FloodBaseline, FloodReport, Rss};
use super::instance::{ACCOUNT_SID, AUTH_TOKEN, Instance};
use super::load::{self, Make, Pace, Tally};
use super::report::Ratios;
use super::stats::{Latency, ratio};
use super::wire::Wire;
use super::{baseline, peer, staff};
use crate::clock::{Clock, OffsetClock};
use crate::config::Config;
use crate::domain::operator::Presence;
use crate::http::api::calendar::{moscow_rfc3339, parse_instant};
use crate::store::Store;
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

/// `perezvon simulate flood`: runs, prints the report, fails when a request failed or an answered
/// call is missing from the database.
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
    let errors = r.figures.errors() + r.baseline.as_ref().map_or(0, |b| b.figures.errors());
    if errors > 0 || !r.calls_missing.is_empty() {
        bail!(
            "{errors} requests failed, {} answered calls missing from the database",
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
    let mut fake = None;
    let (instance, target, public_url, account_sid, token, to, store, now) = match &args.target {
        None => {
            let api = FakeApi::start(
                "127.0.0.1:0".parse()?,
                ACCOUNT_SID,
                AUTH_TOKEN,
                Arc::new(Mailboxes::default()),
            )
            .await?;
            let start = args.start();
            let calendar = crate::load_calendar(config)?;
            if calendar.is_open(start) != (args.hours == Hours::In) {
                bail!(
                    "--clock-start {} is {} working hours; give --hours {}",
                    moscow_rfc3339(start),
                    if calendar.is_open(start) {
                        "in"
                    } else {
                        "outside"
                    },
                    if calendar.is_open(start) { "in" } else { "off" }
                );
            }
            let clock: Arc<dyn Clock> = Arc::new(OffsetClock::starting_at(start));
            let db = args.database_url.as_deref();
            let inst = Instance::start_on(config, &api.base_url(), 1.0, clock, db).await?;
            fake = Some(api);
            let (base, store, now) = (inst.base.clone(), inst.store.clone(), inst.clock.now());
            let (sid, tok) = (ACCOUNT_SID.to_owned(), AUTH_TOKEN.to_owned());
            let to = "+74950000000".to_owned();
            (Some(inst), base.clone(), base, sid, tok, to, store, now)
        }
        Some(target) => {
            let Some(tw) = &config.twilio else {
                bail!(
                    "--target needs the target's [twilio] account_sid and auth_token in --config"
                );
            };
            let store = crate::store::connect(&config.database_url)
                .await
                .context("cannot open the target's database (config key `database_url`)")?;
            let to = tw
                .from_number
                .clone()
                .unwrap_or_else(|| "+74950000000".into());
            let (sid, tok) = (tw.account_sid.clone(), tw.auth_token.expose().to_owned());
            let target = target.trim_end_matches('/').to_owned();
            let public = config.public_url.clone();
            (None, target, public, sid, tok, to, store, Utc::now())
        }
    };
    let http = super::wire::client()?;
    let staff = match args.hours {
        Hours::In => Some(staff::enlist(&*store, args.operators, now).await?),
        Hours::Off => None,
    };
    for (login, token) in staff.iter().flat_map(|s| &s.operators) {
        staff::set_presence(&http, &target, login, token, Presence::Available).await?;
    }
    let ready = memory();
    let tag: u32 = rand::random();
    let make = calls(
        Wire::new(&target, &public_url, &token)?,
        account_sid,
        to,
        tag,
    );
    let mut tally = load::run(&target, pace, duration, make.clone()).await?;
    let after = memory();
    let checked = stored(store.clone(), tag, &tally.answered).await;
    for (login, token) in staff.iter().flat_map(|s| &s.operators) {
        if instance.is_none() {
            // Leave a real instance as found: the simulated operators stop taking calls.
            let _ = staff::set_presence(&http, &target, login, token, Presence::Offline).await;
        }
    }
    let backend = store.backend().to_owned();
    match instance {
        Some(i) => i.stop().await,
        None => store.close().await,
    }
    drop(fake);
    let (calls_stored, calls_missing) = checked?;
    let figures = figures(&mut tally);
    let baseline = match args.baseline {
        false => None,
        true => {
            let server = baseline::StaticServer::start().await?;
            let mut t = load::run(&server.base, pace, duration, make).await?;
            server.stop().await;
            let b = self::figures(&mut t);
            let ratio = ratios(&figures, &b);
            Some(FloodBaseline { figures: b, ratio })
        }
    };
    let rss = match (before, ready, after) {
        (Some(b), Some(r), Some((a, peak))) if args.target.is_none() => Some(Rss {
            before_kib: b.0,
            ready_kib: r.0,
            after_kib: a,
            peak_kib: peak,
        }),
        _ => None,
    };
    Ok(FloodReport {
        target,
        in_process: args.target.is_none(),
        backend,
        hours: format!("{:?}", args.hours).to_lowercase(),
        clock_start: args.target.is_none().then(|| moscow_rfc3339(args.start())),
        pace: match pace {
            Pace::Closed { connections } => format!("closed loop, {connections} connections"),
            Pace::Open { rate } => format!("open loop, {rate} requests/s"),
        },
        duration_secs: args.duration,
        operators: staff.map_or(0, |s| s.operators.len()),
        figures,
        calls_stored: Some(calls_stored),
        calls_missing,
        rss,
        baseline,
    })
}

/// Request `i`: the `voice` webhook of a new call with its own CallSid and caller.
fn calls(wire: Wire, account_sid: String, to: String, tag: u32) -> Make {
    let voice = route_path(&Route::Voice);
    Arc::new(move |i| {
        let sid = call_sid(tag, i);
        let from = format!("+79{:09}", (u64::from(tag) * 1_000_003 + i) % 1_000_000_000);
        let params = peer::call_params(&account_sid, &to, &sid, &from, "ringing", &[]);
        // A bare path always resolves under the public URL.
        wire.sign(&voice, &params).expect("a bare path is signed")
    })
}

/// How many answered calls the database holds, and the first few it does not.
async fn stored(
    store: Arc<dyn Store>,
    tag: u32,
    answered: &[u64],
) -> anyhow::Result<(u64, Vec<String>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in answered.chunks(answered.len().div_ceil(8).max(1)) {
        let (store, chunk) = (store.clone(), chunk.to_vec());
        tasks.spawn(async move {
            let (mut found, mut missing) = (0, Vec::new());
            for i in chunk {
                let sid = call_sid(tag, i);
                match store.call_by_provider_id("twilio", &sid).await? {
                    Some(_) => found += 1,
                    None if missing.len() < 5 => missing.push(sid),
                    None => {}
                }
            }
            anyhow::Ok((found, missing))
        });
    }
    let (mut found, mut missing) = (0, Vec::new());
    while let Some(r) = tasks.join_next().await {
        let (f, m) = r??;
        found += f;
        missing.extend(m);
    }
    missing.truncate(5);
    Ok((found, missing))
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
    Figures {
        requests: t.requests(),
        answered: t.answered.len() as u64,
        by_status,
        failures: std::mem::take(&mut t.failures),
        replies: t.replies,
        elapsed_secs: elapsed,
        throughput: ratio(t.requests() as f64, elapsed),
        latency: Latency::of_micros(&mut t.micros),
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
