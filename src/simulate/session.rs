//! One simulation from start to end: set up the instance (in-process, or the `--target` with the
//! fake REST API beside it), enlist and seat the staff, place the calls at their Poisson arrival
//! times, stop the breaks, read the server's view of the calls, replay the baseline, and sum it
//! all up in a [`Report`].
//!
//! The run has a time limit. When it is hit, the calls still on the line are cut off: their final
//! status callback is still sent, so the server is never left with calls it thinks are live, and
//! they count as errors.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use super::SimulateArgs;
use super::baseline;
use super::board::{Board, Tally};
use super::fake_api::{FakeApi, Mailboxes};
use super::instance::{ACCOUNT_SID, AUTH_TOKEN, Instance};
use super::peer::{self, Line, Outcome, new_sid};
use super::report::Report;
use super::staff::{self, BreakStats, Staff};
use super::summary::{compare, server_calls, summary};
use super::wire::{self, Wire};
use crate::config::Config;
use crate::domain::operator::Presence;
use crate::speech::Prompt;
use crate::store::Store;

/// Where the traffic goes and what it needs.
pub(super) struct Setup {
    pub target: String,
    public_url: String,
    account_sid: String,
    auth_token: String,
    to_number: String,
    store: Arc<dyn Store>,
    now: DateTime<Utc>,
    pub instance: Option<Instance>,
    fake: FakeApi,
}

impl Setup {
    async fn new(
        config: &Config,
        args: &SimulateArgs,
        mailboxes: Arc<Mailboxes>,
    ) -> anyhow::Result<Setup> {
        let Some(target) = &args.target else {
            let fake =
                FakeApi::start("127.0.0.1:0".parse()?, ACCOUNT_SID, AUTH_TOKEN, mailboxes).await?;
            let inst =
                Instance::start(config, &fake.base_url(), args.time_scale, args.time_limit())
                    .await?;
            return Ok(Setup {
                target: inst.base.clone(),
                public_url: inst.base.clone(),
                account_sid: ACCOUNT_SID.into(),
                auth_token: AUTH_TOKEN.into(),
                to_number: "+74950000000".into(),
                store: inst.store.clone(),
                now: inst.clock.now(),
                instance: Some(inst),
                fake,
            });
        };
        let Some(tw) = &config.twilio else {
            bail!("--target needs the target's [twilio] account_sid and auth_token in --config");
        };
        let fake = FakeApi::start(
            args.fake_api_listen,
            &tw.account_sid,
            tw.auth_token.expose(),
            mailboxes,
        )
        .await?;
        eprintln!(
            "simulate: fake Twilio REST API at {}; the target's twilio.api_base must point there \
             for queued callers to be moved to freed operators",
            fake.base_url()
        );
        let store = crate::store::connect(&config.database_url)
            .await
            .context("cannot open the target's database (config key `database_url`)")?;
        Ok(Setup {
            target: target.trim_end_matches('/').to_owned(),
            public_url: config.public_url.clone(),
            account_sid: tw.account_sid.clone(),
            auth_token: tw.auth_token.expose().to_owned(),
            to_number: tw
                .from_number
                .clone()
                .unwrap_or_else(|| "+74950000000".into()),
            store,
            now: Utc::now(),
            instance: None,
            fake,
        })
    }

    async fn finish(self) {
        match self.instance {
            Some(instance) => instance.stop().await,
            None => self.store.close().await,
        }
        drop(self.fake);
    }
}

/// Runs one simulation.
pub async fn simulate(config: &Config, args: SimulateArgs) -> anyhow::Result<Report> {
    let seed = args.seed.unwrap_or_else(rand::random);
    let mailboxes = Arc::new(Mailboxes::default());
    let setup = Setup::new(config, &args, mailboxes.clone()).await?;
    let result = drive(&setup, &args, seed, mailboxes).await;
    setup.finish().await;
    result
}

async fn drive(
    setup: &Setup,
    args: &SimulateArgs,
    seed: u64,
    mailboxes: Arc<Mailboxes>,
) -> anyhow::Result<Report> {
    let staff = Arc::new(staff::enlist(&*setup.store, args.operators, setup.now).await?);
    let http = wire::client()?;
    seat(&http, &setup.target, &staff, Presence::Available).await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let off_hours = Prompt::OffHours.utterance();
    let mut marks = off_hours.clips.clone();
    marks.push(off_hours.text);
    marks.retain(|m| !m.trim().is_empty());
    let line = Arc::new(Line {
        wire: Wire::new(&setup.target, &setup.public_url, &setup.auth_token)?,
        mailboxes: mailboxes.clone(),
        board: Board::default(),
        model: args.model(),
        account_sid: setup.account_sid.clone(),
        api_base: setup.fake.base_url(),
        to_number: setup.to_number.clone(),
        queue_sid: new_sid("QU", &mut rng),
        off_hours_marks: marks,
    });
    let (stop, stop_rx) = watch::channel(false);
    let breaks = args.breaks.then(|| {
        let (http, target) = (http.clone(), setup.target.clone());
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
    // Let the server's own timers run once (the dispatcher's one-second pass frees operators whose
    // call ended in an unexpected order) before checking that nobody is left on a call.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mut server = server_calls(
        &http,
        &setup.target,
        &staff.supervisor,
        &line.board.all_sids(),
    )
    .await;
    match staff::presence_counts(&http, &setup.target, &staff).await {
        Ok(p) => server.operators = p,
        Err(e) if server.error.is_none() => server.error = Some(format!("{e:#}")),
        Err(_) => {}
    }
    if setup.instance.is_none() {
        // Leave a real instance as found: the simulated operators stop taking calls.
        let _ = seat(&http, &setup.target, &staff, Presence::Offline).await;
    }
    let samples = line.wire.samples();
    let replayed = match args.baseline {
        true => Some(baseline::replay(&samples, args.time_limit()).await?),
        false => None,
    };
    let mut report = summary(
        setup, args, seed, &line, &played, &samples, server, presence,
    );
    report.baseline = replayed.map(|b| compare(&report, &b));
    Ok(report)
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

/// What placing the calls gave.
pub(super) struct Played {
    pub outcomes: Vec<Outcome>,
    pub timed_out: bool,
    pub elapsed: Duration,
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
            peer::call(line, index, call_seed).await
        });
    }
    let mut outcomes = Vec::with_capacity(args.calls);
    let all_done = tokio::time::timeout(limit, async {
        while let Some(joined) = tasks.join_next().await {
            outcomes.push(joined.unwrap_or(Outcome::Error));
        }
    })
    .await
    .is_ok();
    if !all_done {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        for (index, call) in line.board.live_calls() {
            line.mailboxes.close(&call.sid);
            let _ = peer::status_callback(&line, index, &call).await;
            line.board.call_ended(index);
            outcomes.push(Outcome::Error);
        }
    }
    Played {
        outcomes,
        timed_out: !all_done,
        elapsed: line.wire.started.elapsed(),
    }
}

async fn progress(line: Arc<Line>, calls: usize, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        let b = &line.board;
        let started = Tally::get(&b.tally.started);
        eprintln!(
            "simulate: {}/{calls} calls finished, {} on the line, {} queued, {} webhooks",
            started - b.live_count(),
            b.live_count(),
            b.queue_len(),
            line.wire.count()
        );
    }
}
