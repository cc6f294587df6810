//! The in-process instance the simulator plays against when no `--target` is given: built the way
//! [`crate::run`] builds one, on 127.0.0.1 with a free port.
//!
//! Differences from a real deployment, all so that a run is self-contained and repeatable: the
//! store is a fresh SQLite file in a temporary directory (removed afterwards); Twilio is a test
//! account whose REST base is the simulator's fake API; `public_url` is the instance's own
//! address; the jobs worker downloads recordings from the fake API into the temporary
//! directory; the clock is real time shifted by a fixed offset ([`OffsetClock`]) so that "now" is
//! one hour into a working window whatever the real time is (the flood chooses its own instant,
//! and may put the store on PostgreSQL); and the operators' wrap-up time is
//! multiplied by the time scale, like every other wait of the simulation (a 30 s wrap-up at scale
//! 0.02 lasts 0.6 s), since it is the only duration the server measures on its own clock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};

use crate::calendar::Calendar;
use crate::clock::{Clock, OffsetClock};
use crate::config::{Config, ZadarmaConfig};
use crate::jobs;
use crate::store::Store;
use crate::switchboard::Switchboard;
use crate::telephony::twilio::{TwilioClient, TwilioControl};
use crate::telephony::zadarma::{ZadarmaClient, ZadarmaControl, ZadarmaRecordings};
use crate::telephony::{CallControl, RecordingSource};

/// The test Twilio account of in-process runs.
pub const ACCOUNT_SID: &str = "AC5e1f0c0ffee0000000000000000000ab";
/// Its auth token (a test value, not a secret of any real account).
pub const AUTH_TOKEN: &str = "simulate-test-auth-token";

impl OffsetClock {
    /// A clock showing one hour into the working window of `calendar` at or after now (or a later
    /// one, when that one closes within `need`).
    pub fn in_working_hours(calendar: &Calendar, need: TimeDelta) -> anyhow::Result<OffsetClock> {
        Ok(OffsetClock {
            offset: working_offset(calendar, Utc::now(), need)?,
        })
    }
}

/// The offset that moves `now` to one hour after the start of the working window at or after it,
/// choosing a later window when that one ends within `need`.
pub fn working_offset(
    calendar: &Calendar,
    now: DateTime<Utc>,
    need: TimeDelta,
) -> anyhow::Result<TimeDelta> {
    let mut from = now;
    for _ in 0..400 {
        let w = calendar
            .window_at_or_after(from)
            .context("the hotline has no opening hours in the coming year")?;
        let at = w.start + TimeDelta::hours(1);
        if at + need <= w.end {
            return Ok(at - now);
        }
        from = w.end;
    }
    bail!("no working window lasts an hour plus the simulated run")
}

/// A running in-process instance.
pub struct Instance {
    /// `http://127.0.0.1:PORT`, also its `public_url`.
    pub base: String,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub wrap_up: TimeDelta,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    dir: TempDir,
}

impl Instance {
    /// Starts an instance for `config`'s hours and routing, talking to the fake API at `api_base`,
    /// its clock one hour into a working window that lasts at least `run_for` more.
    pub async fn start(
        config: &Config,
        api_base: &str,
        time_scale: f64,
        run_for: Duration,
    ) -> anyhow::Result<Instance> {
        let calendar = crate::load_calendar(config)?;
        let need = TimeDelta::from_std(run_for)?.min(TimeDelta::hours(4));
        let clock = Arc::new(OffsetClock::in_working_hours(&calendar, need)?);
        Instance::start_on(config, api_base, time_scale, clock, None).await
    }

    /// Starts an instance on `clock`, with its database at `database_url` (a fresh SQLite file in
    /// the temporary directory when none is given).
    pub async fn start_on(
        config: &Config,
        api_base: &str,
        time_scale: f64,
        clock: Arc<dyn Clock>,
        database_url: Option<&str>,
    ) -> anyhow::Result<Instance> {
        Instance::launch(config, api_base, time_scale, clock, database_url, None).await
    }

    /// Starts an instance that also takes Zadarma calls with `zadarma` (its `api_base` the fake
    /// Zadarma API), its clock one hour into a working window that lasts at least `run_for` more.
    pub async fn start_zadarma(
        config: &Config,
        zadarma: ZadarmaConfig,
        time_scale: f64,
        run_for: Duration,
    ) -> anyhow::Result<Instance> {
        let calendar = crate::load_calendar(config)?;
        let need = TimeDelta::from_std(run_for)?.min(TimeDelta::hours(4));
        let clock = Arc::new(OffsetClock::in_working_hours(&calendar, need)?);
        let api_base = zadarma.api_base.clone();
        Instance::launch(config, &api_base, time_scale, clock, None, Some(zadarma)).await
    }

    async fn launch(
        config: &Config,
        api_base: &str,
        time_scale: f64,
        clock: Arc<dyn Clock>,
        database_url: Option<&str>,
        zadarma: Option<ZadarmaConfig>,
    ) -> anyhow::Result<Instance> {
        let dir = TempDir::new()?;
        let db = match database_url {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}", dir.0.join("simulate.db").display()),
        };
        // The test account and the database, with every other Twilio setting at its default.
        let env = [
            ("DATABASE_URL", db),
            ("TWILIO__ACCOUNT_SID", ACCOUNT_SID.to_owned()),
            ("TWILIO__AUTH_TOKEN", AUTH_TOKEN.to_owned()),
            ("TWILIO__API_BASE", api_base.to_owned()),
            ("TWILIO__FROM_NUMBER", "+74950000000".to_owned()),
        ]
        .map(|(k, v)| (format!("PEREZVON_{k}"), v));
        let made = Config::load_with_env(None, env)?;
        let database_url = made.database_url;
        let mut twilio = made.twilio.context("the simulation's Twilio account")?;
        if let Some(t) = &config.twilio {
            twilio.speech = t.speech.clone();
            twilio.delete_recordings = t.delete_recordings;
        }
        let delete_recordings = twilio.delete_recordings;
        let store = crate::store::connect(&database_url)
            .await
            .context("cannot open the simulation's database")?;
        // As `perezvon serve` does before it listens.
        store
            .warm_up()
            .await
            .context("cannot open the simulation's database connections")?;
        let calendar = Arc::new(crate::load_calendar(config)?);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let mut routing = config.routing.clone();
        let ms = routing.wrap_up.num_milliseconds() as f64 * time_scale;
        routing.wrap_up = TimeDelta::milliseconds(ms.round() as i64);
        let config = Config {
            public_url: base.clone(),
            database_url,
            data_dir: dir.0.clone(),
            twilio: Some(twilio),
            zadarma: zadarma.clone(),
            routing: routing.clone(),
            ..config.clone()
        };
        let switchboard = Arc::new(Switchboard::new(
            store.clone(),
            calendar.clone(),
            clock.clone(),
            routing.clone(),
        ));
        // As `perezvon serve` does: the blocklist and limits read before the first webhook.
        switchboard.screening().current().await?;
        let control = Arc::new(TwilioControl {
            client: TwilioClient::new(api_base, ACCOUNT_SID, AUTH_TOKEN)?,
            public_url: base.clone(),
        });
        let mut controls: Vec<Arc<dyn CallControl>> = vec![control.clone()];
        let mut sources: Vec<Arc<dyn RecordingSource>> = vec![control.clone()];
        let mut delete_at_provider = delete_recordings;
        if let Some(z) = &zadarma {
            // Zadarma's recordings are deleted once stored, so the fake API sees the DELETE too.
            if !delete_recordings {
                sources = vec![Arc::new(jobs::download::KeepAtProvider(control.clone()))];
            }
            let client = ZadarmaClient::new(&z.api_base, &z.key, z.secret.expose())?;
            sources.push(Arc::new(ZadarmaRecordings::new(client)));
            controls.push(Arc::new(ZadarmaControl));
            delete_at_provider = true;
        }
        // The jobs worker, as `crate::run` has it: retention, and downloading recordings (from
        // the fake API) into the temporary data directory.
        let handlers: Vec<Arc<dyn jobs::Handler>> = vec![
            Arc::new(jobs::retention::Retention {
                store: store.clone(),
                data_dir: dir.0.clone(),
                keep: config.retention,
            }),
            Arc::new(jobs::download::Download {
                store: store.clone(),
                sources,
                data_dir: dir.0.clone(),
                delete_at_provider,
            }),
        ];
        let now = clock.now();
        store
            .enqueue_job(&jobs::retention::job_for(now), now)
            .await?;
        let worker = Arc::new(
            jobs::Worker::new(store.clone(), clock.clone(), handlers)
                .with_lease(config.job_lease)
                .with_wake(switchboard.jobs_notifier()),
        );
        let (stop, rx) = tokio::sync::watch::channel(false);
        let mut dispatcher_rx = rx.clone();
        let dispatcher = tokio::spawn(switchboard.clone().run_dispatcher(controls, async move {
            let _ = dispatcher_rx.wait_for(|s| *s).await;
        }));
        let mut reconciler_rx = rx.clone();
        tokio::spawn(switchboard.clone().run_reconciler(async move {
            let _ = reconciler_rx.wait_for(|s| *s).await;
        }));
        let mut worker_rx = rx.clone();
        let worker = tokio::spawn(worker.run(async move {
            let _ = worker_rx.wait_for(|s| *s).await;
        }));
        let state = crate::http::AppState {
            config: Arc::new(config),
            store: store.clone(),
            calendar,
            clock: clock.clone(),
            switchboard,
        };
        let mut server_rx = rx;
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = server_rx.wait_for(|s| *s).await;
            };
            if let Err(e) = crate::http::serve(listener, state, shutdown).await {
                eprintln!("simulate: the in-process instance failed: {e}");
            }
        });
        Ok(Instance {
            base,
            store,
            clock,
            wrap_up: routing.wrap_up,
            stop,
            tasks: vec![dispatcher, worker, server],
            dir,
        })
    }

    /// Stops the server and the dispatcher, closes the store and removes its files.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.store.close().await;
        drop(self.dir);
    }
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let name = format!(
            "perezvon-simulate-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::HotlineHours;
    use chrono::TimeZone;

    #[test]
    fn the_offset_lands_an_hour_into_a_working_window() {
        let cal = Calendar::builtin(HotlineHours::default());
        let moscow = chrono_tz::Europe::Moscow;
        // Saturday night, a weekday noon, and a moment just before closing.
        for (y, m, d, h) in [(2026, 11, 28, 23), (2026, 12, 1, 12), (2026, 12, 1, 17)] {
            let now = moscow.with_ymd_and_hms(y, m, d, h, 50, 0).unwrap().to_utc();
            let need = TimeDelta::minutes(30);
            let shifted = now + working_offset(&cal, now, need).unwrap();
            assert!(cal.is_open(shifted) && cal.is_open(shifted + need), "{now}");
            let w = cal.window_at_or_after(shifted).unwrap();
            assert_eq!(shifted, w.start + TimeDelta::hours(1), "{now}");
        }
    }
}
