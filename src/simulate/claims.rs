//! `perezvon simulate claims`: operators claiming callback requests at once, the way a morning
//! opens — everybody presses "take the next one" together — and how long each claim takes.
//!
//! `--requests` callback requests (voicemails with a settled number, each its own caller, due now)
//! are put on the list (then `analyze`, as the database's maintenance would after such a load)
//! of an instance started in this process (SQLite in a temporary directory, or
//! the fresh database `--database-url` names), its clock inside working hours (Monday 2026-12-07
//! 10:00 Moscow by default), or of an external `--target` (its database from `--config`; give the
//! target `web.api_requests_per_minute = 0` for the run, or it answers 429 as it should; a target
//! started with `serve --clock-start` needs the same `--clock-start` here, or nothing is due on
//! its clock — a run in which no claim got a request fails). Then
//! `--operators` simulated operators, each with its own token and keep-alive connection, for
//! `--duration` seconds: `POST /api/v1/callbacks/claim`, then `POST /api/v1/callbacks/{id}/release`
//! — so every claim competes for the same top of the list, the worst case for the claim's lock.
//! `--mode burst` (the default) is the morning rush: every operator claims at the same instant
//! (a barrier), and once every claim is answered all release, a pause of [`BURST_GAP`], again;
//! `--mode loop` is a stress test: each operator claims again as soon as their release is
//! answered.
//! Reported: claims and releases per second, their latency (p50/p95/p99/max), and statuses; a run
//! with any failed request fails. (That two operators never hold one request is the store's
//! conformance suite's to prove, not a benchmark's.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::conn::Sender;
use super::flood_target::Target;
use super::staff;
use super::stats::Latency;
use crate::clock::{Clock, OffsetClock};
use crate::config::Config;
use crate::config::web::ApiLimits;
use crate::http::api::calendar::parse_instant;
use crate::store::{AttachVoicemail, Store};

/// The pause between two bursts of claims.
pub const BURST_GAP: Duration = Duration::from_millis(20);

/// How the operators pace their claims.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Everybody claims at the same instant, releases, pauses, again.
    Burst,
    /// Each claims again as soon as the last release is answered.
    Loop,
}

/// Options of `perezvon simulate claims`.
#[derive(clap::Args, Debug, Clone)]
pub struct ClaimsArgs {
    /// A running instance (e.g. http://127.0.0.1:8080); default: start one in-process.
    #[arg(long, value_name = "URL", conflicts_with = "database_url")]
    pub target: Option<String>,
    /// The in-process instance's database (default: SQLite in a temporary directory).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Operators claiming at once.
    #[arg(long, default_value_t = 16)]
    pub operators: usize,
    /// Callback requests put on the list first.
    #[arg(long, default_value_t = 2000)]
    pub requests: usize,
    /// Seconds of claiming.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// `burst`: all claim at once, then all release, again; `loop`: each as fast as it can.
    #[arg(long, value_enum, default_value = "burst")]
    pub mode: Mode,
    /// The instance's clock start, in working hours: the in-process instance's, or with
    /// `--target` the target's own `serve --clock-start` (the list is made due on its clock).
    #[arg(long, value_name = "RFC 3339", value_parser = parse_instant)]
    pub clock_start: Option<DateTime<Utc>>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What a claims run measured.
#[derive(Debug, Serialize)]
pub struct ClaimsReport {
    pub mode: Mode,
    pub operators: usize,
    pub requests: usize,
    pub seconds: f64,
    pub claims_per_sec: f64,
    pub claim: Latency,
    pub release: Latency,
    /// Responses by `claim <status>` / `release <status>`; 0 = no response.
    pub statuses: BTreeMap<String, u64>,
}

impl ClaimsReport {
    pub fn render(&self) -> String {
        let l = |x: &Latency| {
            format!(
                "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                x.p50_ms, x.p95_ms, x.p99_ms, x.max_ms
            )
        };
        format!(
            "{} operators claiming at once ({:?}), {} requests on the list, {:.1} s\n\
             claims:   {} ({:.0}/s): {}\nreleases: {}: {}\nstatuses: {:?}\n",
            self.operators,
            self.mode,
            self.requests,
            self.seconds,
            self.claim.count,
            self.claims_per_sec,
            l(&self.claim),
            self.release.count,
            l(&self.release),
            self.statuses,
        )
    }
}

/// `perezvon simulate claims`: runs, prints, fails on any failed request.
pub async fn run(config: &Config, args: ClaimsArgs) -> anyhow::Result<()> {
    let r = run_claims(config, &args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", r.render());
    }
    let failed: u64 = r
        .statuses
        .iter()
        .filter(|(k, _)| !(k.ends_with(" 200") || k.ends_with(" 204")))
        .map(|(_, n)| n)
        .sum();
    if failed > 0 || r.claim.count == 0 {
        bail!("{failed} requests failed, {} claims made", r.claim.count);
    }
    Ok(())
}

/// Runs the claims benchmark and returns its report.
pub async fn run_claims(config: &Config, args: &ClaimsArgs) -> anyhow::Result<ClaimsReport> {
    if !(1..=500).contains(&args.operators) || !(1..=100_000).contains(&args.requests) {
        bail!("--operators must be 1..=500 and --requests 1..=100000");
    }
    if !(args.duration > 0.0 && args.duration <= 3600.0) {
        bail!("--duration must be above 0 and at most 3600 seconds");
    }
    if let Some(start) = args.clock_start
        && !crate::load_calendar(config)?.is_open(start)
    {
        bail!("--clock-start must be in working hours: claims need an open window");
    }
    let target = match &args.target {
        None => {
            let start = args
                .clock_start
                .unwrap_or_else(|| parse_instant("2026-12-07T10:00:00+03:00").unwrap_or_default());
            if !crate::load_calendar(config)?.is_open(start) {
                bail!("--clock-start must be in working hours: claims need an open window");
            }
            // A synthetic load: the API's per-client rate limit would refuse it by design.
            let mut config = config.clone();
            config.web.api = ApiLimits {
                client_per_minute: 0,
                client_burst: 0,
                address_per_minute: 0,
                address_burst: 0,
            };
            let clock: Arc<dyn Clock> = Arc::new(OffsetClock::starting_at(start));
            Target::in_process(&config, clock, args.database_url.as_deref()).await?
        }
        Some(url) => {
            let mut target = Target::external(config, url).await?;
            // A target started with `serve --clock-start` lives at another time than this
            // machine: the list must be due on its clock.
            if let Some(start) = args.clock_start {
                target.now = start;
            }
            target
        }
    };
    let staff = staff::enlist(&*target.store, args.operators, target.now).await?;
    fill(&*target.store, config, args.requests, target.now).await?;
    // The list was loaded in one go: give the planner the statistics autovacuum would.
    target.store.analyze().await?;
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let mut workers = tokio::task::JoinSet::new();
    let barrier = Arc::new(tokio::sync::Barrier::new(staff.operators.len()));
    let go = Arc::new(AtomicBool::new(true));
    for (_, token) in &staff.operators {
        let (base, token) = (target.base.clone(), token.clone());
        let burst = (args.mode == Mode::Burst).then(|| (barrier.clone(), go.clone()));
        workers.spawn(operator(base, token, deadline, burst));
    }
    let started = Instant::now();
    let mut all = Loop::default();
    while let Some(l) = workers.join_next().await {
        let l = l??;
        all.claims.extend(l.claims);
        all.releases.extend(l.releases);
        for (k, n) in l.statuses {
            *all.statuses.entry(k).or_default() += n;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    target.finish().await;
    if !all.statuses.contains_key("claim 200") {
        bail!(
            "no claim got a request (answers: {:?}): nothing on the list was due on the \
             instance's clock; a --target started with `serve --clock-start` needs the same \
             --clock-start here",
            all.statuses
        );
    }
    Ok(ClaimsReport {
        mode: args.mode,
        operators: args.operators,
        requests: args.requests,
        seconds,
        claims_per_sec: all.claims.len() as f64 / seconds,
        claim: Latency::of_micros(&mut all.claims),
        release: Latency::of_micros(&mut all.releases),
        statuses: all.statuses,
    })
}

/// Puts `n` callback requests on the list, each a caller's voicemail with a settled number.
async fn fill(
    store: &dyn Store,
    config: &Config,
    n: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tag: u32 = rand::random();
    for i in 0..n {
        let number = format!("+7916{:07}", i % 10_000_000);
        let sid = format!("CA{tag:08x}{i:024x}");
        let call = store
            .ensure_call("twilio", &sid, Some(&number), Some("+74950000000"), now)
            .await?;
        store.start_voicemail(call.id, Some(&number), now).await?;
        store.set_voicemail_number(call.id, &number, true).await?;
        let a = AttachVoicemail {
            call_id: call.id,
            number: &number,
            category: None,
            now,
            due: now - TimeDelta::minutes((n - i) as i64 % 600),
            deadline: now + TimeDelta::hours(8),
            deadline_work_ms: 8 * 3_600_000,
            priority: &config.callbacks.priority,
            source: "voicemail",
            registration: &config.callbacks.registration,
        };
        store.attach_voicemail(&a).await?;
    }
    Ok(())
}

#[derive(Default)]
struct Loop {
    claims: Vec<u32>,
    releases: Vec<u32>,
    statuses: BTreeMap<String, u64>,
}

/// One operator: claim, release, again, until the deadline; in bursts, every claim waits for
/// all operators to be ready (and the deadline is checked by all alike, so nobody is left
/// waiting at the barrier).
async fn operator(
    base: String,
    token: String,
    deadline: Instant,
    burst: Option<(Arc<tokio::sync::Barrier>, Arc<AtomicBool>)>,
) -> anyhow::Result<Loop> {
    let mut http = Sender::to(&base, || {
        Ok(reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .no_proxy()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?)
    })?;
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];
    let mut l = Loop::default();
    let micros = |t: Instant| u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX);
    loop {
        if let Some((b, go)) = &burst {
            tokio::time::sleep(BURST_GAP).await;
            // The leader decides for everyone whether to go on, so all stop together.
            if b.wait().await.is_leader() {
                go.store(Instant::now() < deadline, Ordering::SeqCst);
            }
            b.wait().await;
            if !go.load(Ordering::SeqCst) {
                break;
            }
        } else if Instant::now() >= deadline {
            break;
        }
        let t = Instant::now();
        let r = http.post("/api/v1/callbacks/claim", &auth, "").await;
        let (status, body) = r.unwrap_or_default();
        l.claims.push(micros(t));
        *l.statuses.entry(format!("claim {status}")).or_default() += 1;
        // In a burst nobody releases before every claim is answered: the claims meet only
        // each other, as at the morning's opening (operators then talk for minutes).
        if let Some((b, _)) = &burst {
            b.wait().await;
        }
        if status != 200 {
            continue;
        }
        let id = serde_json::from_slice::<serde_json::Value>(&body)?["id"]
            .as_i64()
            .unwrap_or_default();
        let t = Instant::now();
        let path = format!("/api/v1/callbacks/{id}/release");
        let status = http.post(&path, &auth, "").await.map_or(0, |(s, _)| s);
        l.releases.push(micros(t));
        *l.statuses.entry(format!("release {status}")).or_default() += 1;
    }
    Ok(l)
}
