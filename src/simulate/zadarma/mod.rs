//! `perezvon simulate --provider zadarma`: the same scenarios as the Twilio simulation, played as
//! Zadarma's PBX call notifications against an in-process instance with a `[zadarma]` section
//! ([`setup`]), whose REST API is a local fake that checks every request's `Authorization`
//! signature ([`fake_api`]). Calls arrive as a Poisson process; each one ([`caller`]) signs its
//! notifications as Zadarma does ([`pbx`]) and follows the answers one action at a time. Operators
//! are the same `sim-op-1..N` (reached at extensions 101…) with the same breaks; queued callers
//! reach a freed operator at their next hold tick, with no REST call. The run ends with the
//! server's view of the calls and their voicemails, summed up in the common [`Report`]
//! ([`report`]). `--target` is refused: the fake API would have to be the target's `api_base` and
//! the target's secret known, which this mode does not set up.

mod caller;
mod fake_api;
mod line;
mod pbx;
mod report;
mod setup;

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use super::SimulateArgs;
use super::instance::Instance;
use super::report::Report;
use super::staff::{self, BreakStats, Staff};
use super::summary::server_calls;
use crate::config::Config;
use crate::domain::operator::Presence;
use fake_api::FakeZadarma;
use line::Line;

/// What placing the calls gave.
pub(super) struct Played {
    pub outcomes: Vec<super::Outcome>,
    pub timed_out: bool,
    pub elapsed: Duration,
}

/// Runs one Zadarma simulation against an in-process instance.
pub async fn simulate(config: &Config, args: SimulateArgs) -> anyhow::Result<Report> {
    if args.target.is_some() {
        bail!(
            "--provider zadarma plays only against the in-process instance: drop --target \
             (a target would need its [zadarma] api_base pointed at the fake API and its secret)"
        );
    }
    if args.baseline {
        bail!("--baseline is not available with --provider zadarma");
    }
    let seed = args.seed.unwrap_or_else(rand::random);
    let fake = FakeZadarma::start().await?;
    let (zadarma, plan) =
        setup::configure(config, &fake.base_url(), args.operators, args.time_scale);
    let instance =
        Instance::start_zadarma(config, zadarma, args.time_scale, args.time_limit()).await?;
    let result = drive(&instance, &fake, plan, &args, seed).await;
    instance.stop().await;
    drop(fake);
    result
}

async fn drive(
    instance: &Instance,
    fake: &FakeZadarma,
    plan: setup::Dialplan,
    args: &SimulateArgs,
    seed: u64,
) -> anyhow::Result<Report> {
    let now = instance.clock.now();
    let staff = Arc::new(staff::enlist(&*instance.store, args.operators, now).await?);
    let http = super::wire::client()?;
    seat(&http, &instance.base, &staff, Presence::Available).await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let call_start = now
        .with_timezone(&chrono_tz::Europe::Moscow)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let pbx = pbx::Pbx::new(http.clone(), &instance.base, fake_api::SECRET);
    let line = Arc::new(Line::new(pbx, plan, args.model(), call_start));
    let (stop, stop_rx) = watch::channel(false);
    let breaks = args.breaks.then(|| {
        let (http, target) = (http.clone(), instance.base.clone());
        tokio::spawn(staff::breaks(
            http,
            target,
            staff.clone(),
            args.time_scale,
            rng.r#gen(),
            stop_rx.clone(),
        ))
    });
    let progress = tokio::spawn(progress(line.clone(), args.calls, stop_rx));
    let played = play(line.clone(), args, rng.r#gen(), args.time_limit()).await;
    let _ = stop.send(true);
    let presence = match breaks {
        Some(task) => task.await.unwrap_or_default(),
        None => BreakStats::default(),
    };
    let _ = progress.await;
    // Let the dispatcher's one-second pass run once before checking nobody is left on a call.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut server = server_calls(&http, &instance.base, &staff.supervisor, &line.all_ids()).await;
    match staff::presence_counts(&http, &instance.base, &staff).await {
        Ok(p) => server.operators = p,
        Err(e) if server.error.is_none() => server.error = Some(format!("{e:#}")),
        Err(_) => {}
    }
    Ok(report::summary(
        instance, fake, args, seed, &line, &played, server, presence,
    ))
}

async fn seat(
    http: &reqwest::Client,
    target: &str,
    staff: &Staff,
    p: Presence,
) -> anyhow::Result<()> {
    for (login, token) in &staff.operators {
        staff::set_presence(http, target, login, token, p).await?;
    }
    Ok(())
}

/// Places the calls at Poisson arrival times and waits for them (at most `limit`).
async fn play(line: Arc<Line>, args: &SimulateArgs, seed: u64, limit: Duration) -> Played {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = tokio::time::Instant::now();
    let mut at = 0.0_f64;
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..args.calls {
        let u: f64 = rng.r#gen();
        at += -(1.0 - u).ln() / args.rate;
        let (line, call_seed) = (line.clone(), rng.r#gen::<u64>());
        let when = start + Duration::from_secs_f64(at);
        tasks.spawn(async move {
            tokio::time::sleep_until(when).await;
            caller::call(line, index, call_seed).await
        });
    }
    let mut outcomes = Vec::with_capacity(args.calls);
    let all_done = tokio::time::timeout(limit, async {
        while let Some(joined) = tasks.join_next().await {
            outcomes.push(joined.unwrap_or(super::Outcome::Error));
        }
    })
    .await
    .is_ok();
    if !all_done {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        for (index, ident) in line.live_calls() {
            caller::cut_off(&line, index, &ident).await;
            line.ended(index);
            outcomes.push(super::Outcome::Error);
        }
    }
    Played {
        outcomes,
        timed_out: !all_done,
        elapsed: line.pbx.started.elapsed(),
    }
}

async fn progress(line: Arc<Line>, calls: usize, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        let t = &line.tally;
        let live = line.live_calls().len();
        eprintln!(
            "simulate: {}/{calls} Zadarma calls finished, {live} on the line, {} queued, {} notifications",
            line::Tally::get(&t.started) - live,
            line::Tally::get(&t.in_queue),
            line.pbx.count()
        );
    }
}
