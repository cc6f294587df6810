//! `perezvon simulate`: a load and demo driver that plays realistic Twilio traffic against an
//! instance and reports calls handled, webhook throughput and reply latency.
//!
//! Calls arrive as a Poisson process (exponential gaps, mean 1/`rate`). Each one is a simulated
//! Twilio call ([`peer`]) that signs its webhooks exactly as Twilio does and follows the TwiML it
//! gets verb by verb: operators answer or not, callers wait in the queue, press 1 or hang up.
//! Queued callers are moved to freed operators by the instance's dispatcher through Twilio's REST
//! API, which the simulator fakes ([`fake_api`]). Operators also take breaks through the REST API
//! ([`staff`]). Every Twilio-side wait is compressed by `--time-scale`.
//!
//! Without `--target` the simulator starts its own instance in this process ([`instance`]); with
//! it, webhooks go to that instance, signed with `public_url` and `[twilio] auth_token` from
//! `--config`, and the staff is created in the config's database. `--baseline` replays the very
//! same requests against a static reply ([`baseline`]) so the instance's cost shows as a ratio.
//! `perezvon simulate flood` ([`flood`]) is the other mode: only new calls' first webhook, as fast
//! as N connections allow or at a fixed rate, against the same kinds of target and a static reply;
//! `perezvon simulate claims` ([`claims`]) has operators claiming callback requests at once.
//! `--provider zadarma` plays the same scenarios as Zadarma's PBX call notifications against an
//! in-process instance with a `[zadarma]` section and a fake of Zadarma's REST API that checks
//! every request's `Authorization` signature ([`zadarma`]). Everything is bounded: loops have limits, the whole run a time limit, and nothing but loopback
//! addresses and the explicit target is ever contacted.

mod baseline;
mod board;
mod caller;
pub mod claims;
mod conn;
pub mod fake_api;
pub mod flood;
mod flood_report;
mod flood_target;
mod hold;
mod instance;
mod load;
mod peer;
mod record;
mod report;
mod session;
mod staff;
mod stats;
mod summary;
mod twiml;
mod wire;
mod zadarma;

use std::net::SocketAddr;

use anyhow::bail;

pub use crate::clock::OffsetClock;
pub use flood::{FloodArgs, Hours, run_flood};
pub use flood_report::{Figures, FloodBaseline, FloodReport, Rss};
pub use load::Replies;
pub use peer::{Model, Outcome};
pub use report::{Baseline, Outcomes, QueueFigures, Ratios, Report, ServerCalls};
pub use staff::BreakStats;
pub use stats::Latency;

use crate::config::Config;

/// Options of `perezvon simulate`.
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "simulate", args_conflicts_with_subcommands = true)]
pub struct SimulateArgs {
    /// Another kind of load than the simulated calls.
    #[command(subcommand)]
    pub mode: Option<SimulateMode>,
    /// Whose protocol the simulated calls speak.
    #[arg(long, value_enum, default_value_t = Provider::Twilio)]
    pub provider: Provider,
    /// A running instance to play against (e.g. http://127.0.0.1:8080); default: start one in-process.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// How many calls to place.
    #[arg(long, default_value_t = 200)]
    pub calls: usize,
    /// Mean arrival rate, calls per second (Poisson arrivals).
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Simulated operators (sim-op-1..N).
    #[arg(long, default_value_t = 3)]
    pub operators: usize,
    /// Probability that a rung operator answers.
    #[arg(long, default_value_t = 0.8)]
    pub answer_prob: f64,
    /// Mean talk time in (already compressed) seconds; exponentially distributed.
    #[arg(long, default_value_t = 3.0)]
    pub talk_secs: f64,
    /// Probability that a queued caller presses 1 at a wait announcement.
    #[arg(long = "press1-prob", default_value_t = 0.1)]
    pub press1_prob: f64,
    /// Probability that a queued caller hangs up at a wait tick.
    #[arg(long, default_value_t = 0.1)]
    pub hangup_prob: f64,
    /// Multiplies every Twilio-side wait (<Pause>, ringing, clips): 0.02 turns 30 s into 0.6 s.
    #[arg(long, default_value_t = 0.02)]
    pub time_scale: f64,
    /// Seed of the random choices (default: random, printed in the report).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Operators take breaks now and then (`--breaks false` to turn off).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub breaks: bool,
    /// Also replay the same traffic against a static reply and print the ratio.
    #[arg(long)]
    pub baseline: bool,
    /// Where the fake Twilio REST API listens in --target mode (loopback only).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub fake_api_listen: SocketAddr,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Log what the in-process instance does (to stderr).
    #[arg(long)]
    pub verbose: bool,
}

/// The telephony provider a simulation plays.
#[derive(clap::ValueEnum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Twilio webhooks and TwiML, with a fake Twilio REST API.
    #[default]
    Twilio,
    /// Zadarma's PBX call notifications, with a fake Zadarma REST API.
    Zadarma,
}

/// `perezvon simulate <mode>`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum SimulateMode {
    /// Flood the voice webhook with new calls (closed or open loop) and compare with a static reply.
    Flood(FloodArgs),
    /// Operators claiming callback requests at once: claim latency under contention.
    Claims(claims::ClaimsArgs),
}

impl Default for SimulateArgs {
    fn default() -> Self {
        <SimulateArgs as clap::Parser>::parse_from(["simulate"])
    }
}

impl SimulateArgs {
    /// The Twilio-side behaviour these options describe.
    pub fn model(&self) -> Model {
        Model {
            answer_prob: self.answer_prob,
            talk_secs: self.talk_secs,
            press1_prob: self.press1_prob,
            hangup_prob: self.hangup_prob,
            time_scale: self.time_scale,
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        let prob = |name: &str, p: f64| -> anyhow::Result<()> {
            if !(0.0..=1.0).contains(&p) {
                bail!("--{name} must be between 0 and 1");
            }
            Ok(())
        };
        prob("answer-prob", self.answer_prob)?;
        prob("press1-prob", self.press1_prob)?;
        prob("hangup-prob", self.hangup_prob)?;
        if !(1..=100_000).contains(&self.calls) {
            bail!("--calls must be between 1 and 100000");
        }
        if !(self.rate > 0.0 && self.rate <= 10_000.0) {
            bail!("--rate must be above 0 and at most 10000 calls per second");
        }
        if !(1..=500).contains(&self.operators) {
            bail!("--operators must be between 1 and 500");
        }
        if !(0.0..=3600.0).contains(&self.talk_secs) {
            bail!("--talk-secs must be between 0 and 3600");
        }
        if !(self.time_scale > 0.0 && self.time_scale <= 1.0) {
            bail!("--time-scale must be above 0 and at most 1");
        }
        if let Some(t) = &self.target {
            match url::Url::parse(t) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => bail!("--target `{t}` is not an http(s) URL"),
            }
        }
        Ok(())
    }

    /// The whole run's time limit: generous for the arrivals, the talk and the queue waits.
    fn time_limit(&self) -> std::time::Duration {
        let secs = 60.0
            + 3.0 * self.calls as f64 / self.rate
            + 20.0 * self.talk_secs
            + 1500.0 * self.time_scale;
        std::time::Duration::from_secs_f64(secs)
    }
}

/// `perezvon simulate`: runs and prints the report; fails when webhooks failed, calls were left
/// unfinished on the server, or the time limit was hit.
pub async fn run(config: &Config, args: SimulateArgs) -> anyhow::Result<()> {
    match args.mode {
        Some(SimulateMode::Flood(flood)) => return flood::run(config, flood).await,
        Some(SimulateMode::Claims(c)) => return claims::run(config, c).await,
        None => {}
    }
    if args.verbose {
        crate::init_tracing(config.log_format);
    }
    let json = args.json;
    let report = run_report(config, args).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    let failed = report.webhook_errors > 0 || report.server.unfinished > 0 || report.timed_out;
    if failed || report.api_refusals > 0 || report.queue.double_booked > 0 {
        bail!(
            "{} webhook errors, {} calls unfinished on the server, {} API requests refused, {} calls rung to an operator already on a call{}",
            report.webhook_errors,
            report.server.unfinished,
            report.api_refusals,
            report.queue.double_booked,
            if report.timed_out {
                ", time limit hit"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Runs a simulation and returns its report.
pub async fn run_report(config: &Config, args: SimulateArgs) -> anyhow::Result<Report> {
    args.check()?;
    match args.provider {
        Provider::Twilio => session::simulate(config, args).await,
        Provider::Zadarma => zadarma::simulate(config, args).await,
    }
}
