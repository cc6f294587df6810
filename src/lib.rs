//! Perezvon ("перезвон", callback) runs the telephone support hotline of the Moscow-region School
//! Portal: it answers SIP/VoIP providers' webhooks, routes callers to free operators during working
//! hours, records voicemail otherwise, and keeps the prioritized callback list operators work
//! through.
//!
//! The map of the crate:
//! - [`calendar`]: pure; when the hotline is open (Europe/Moscow, Russian production calendar),
//!   windows and working-time arithmetic.
//! - [`domain`]: pure; users, operators, and later routing, phone numbers, callback priority.
//! - [`store`]: the `Store` trait with SQLite and PostgreSQL implementations sharing SQL.
//! - [`http`]: axum router, middleware, health, the REST API.
//! - [`telephony`]: the neutral call model and the provider adapters (Twilio).
//! - [`switchboard`]: applies routing decisions to the store and dispatches the hold queue.
//! - [`speech`]: pure; what the hotline says, in Russian, as text and as recorded clips.
//! - [`config`], [`clock`], [`secrets`]: configuration, the injected clock, passwords and tokens.
//! - [`admin`]: user and operator administration and the calendar's status, shared by the
//!   workspace pages, the API and the CLI.
//! - [`cli`]: the `perezvon` subcommands; `main.rs` only parses and dispatches.
//! - [`mail`]: the support mailbox's transport: parsing letters, IMAP, SMTP.

pub mod admin;
pub mod audio;
pub mod calendar;
pub mod callbacks;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod notify;
pub mod secrets;
pub mod simulate;
pub mod speech;
pub mod stats;
pub mod store;
pub mod switchboard;
pub mod telephony;
pub mod wake;

use std::sync::Arc;

use anyhow::Context;

use crate::calendar::{Calendar, MOSCOW};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, LogFormat};

/// Loads the working calendar the configuration describes (built-in years plus `calendar.dir`).
pub fn load_calendar(config: &Config) -> anyhow::Result<Calendar> {
    Calendar::load(config.calendar_dir.as_deref(), config.hours.clone())
        .context("cannot load the working calendar")
}

/// Starts logging; `PEREZVON_LOG` (or `RUST_LOG`) filters, default `info`.
pub fn init_tracing(format: LogFormat) {
    let filter = std::env::var("PEREZVON_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// `source` as is when its provider's recordings are deleted once stored, else one that keeps them.
fn keep_unless(
    source: Arc<dyn telephony::RecordingSource>,
    delete: bool,
) -> Arc<dyn telephony::RecordingSource> {
    if delete {
        source
    } else {
        Arc::new(jobs::download::KeepAtProvider(source))
    }
}

/// Runs the service until Ctrl-C or SIGTERM: loads the calendar, opens and migrates the database,
/// listens on `config.listen`.
pub async fn run(config: Config) -> anyhow::Result<()> {
    run_with_clock(config, Arc::new(SystemClock)).await
}

/// [`run`] on the given clock (`serve --clock-start`): every part of the service reads "now" from it.
pub async fn run_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    // Signal handlers go in before anything can connect: a SIGTERM from now on shuts down cleanly.
    run_until(config, clock, http::shutdown_signal()).await
}

/// The whole service — webhooks, dispatcher, job worker, reconciler, metrics — on `clock` until
/// `shutdown` completes (what [`run_with_clock`] does with SIGTERM; tests run it in-process on a
/// manual clock to drive outages measured in minutes within seconds).
pub async fn run_until(
    config: Config,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let calendar = load_calendar(&config)?;
    let today = clock.now().with_timezone(&MOSCOW).date_naive();
    for w in calendar.status(today).warnings {
        tracing::warn!("calendar: {w}");
    }
    tracing::info!(database = %config.database_url, "opening the database");
    let store = store::connect_with(&config.database_url, config.sqlite_full_sync)
        .await
        .context("cannot open the database")?;
    let numbered = store
        .number_unnumbered_requests(&config.callbacks.registration)
        .await
        .context("cannot number the requests made before registration numbers")?;
    if numbered > 0 {
        tracing::info!(
            numbered,
            "requests made before registration numbers were numbered"
        );
    }
    let warm = store
        .warm_up()
        .await
        .context("cannot open the database connections")?;
    tracing::info!(
        connections = warm,
        "database connections opened ahead of the first requests"
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (config key `listen`)", config.listen))?;
    let metrics_listener = match config.metrics_listen {
        Some(addr) => {
            let bound = tokio::net::TcpListener::bind(addr).await;
            Some(bound.with_context(|| {
                format!("cannot listen on {addr} (config key `metrics_listen`)")
            })?)
        }
        None => None,
    };
    tracing::info!(listen = %config.listen, public_url = %config.public_url, "perezvon is serving");
    if let Some(addr) = config.metrics_listen {
        tracing::info!(metrics_listen = %addr, "/metrics is served on its own address only");
    }
    let calendar = Arc::new(calendar);
    let twilio_client = match &config.twilio {
        Some(t) => Some(
            telephony::twilio::TwilioClient::with_timeout(
                &t.api_base,
                &t.account_sid,
                t.auth_token.expose(),
                t.request_timeout,
            )
            .context("cannot build the Twilio client (config section `twilio`)")?,
        ),
        None => None,
    };
    let sms = config.twilio.as_ref().is_some_and(|t| t.sms_from.is_some());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut background = Vec::new();
    let wake = Arc::new(wake::Wake::new());
    if config.database_url.is_postgres() {
        match wake
            .spawn_postgres(config.database_url.expose(), stop_rx.clone())
            .await
        {
            Ok(tasks) => background.extend(tasks),
            Err(e) => tracing::warn!(
                error = %e,
                "cannot share wake-ups with other instances (LISTEN/NOTIFY); they will poll"
            ),
        }
    }
    let mut switchboard = switchboard::Switchboard::new(
        store.clone(),
        calendar.clone(),
        clock.clone(),
        config.routing.clone(),
    )
    .with_callbacks(config.callbacks.clone())
    .with_sms(sms)
    .with_wake(wake.clone())
    .with_limits(config.limits);
    // The first webhooks find the blocklist and the limits read already, rather than each of a
    // burst reading them at once.
    switchboard
        .screening()
        .current()
        .await
        .context("cannot read the blocklist and the call limits")?;
    // Priority credits may have changed since the ranks were stored.
    let reranked = store
        .rerank_callbacks(&config.callbacks.priority)
        .await
        .context("cannot rank the callback list")?;
    tracing::info!(active = reranked, "callback list ranked");
    if let (Some(t), Some(client)) = (&config.twilio, &twilio_client) {
        switchboard = switchboard.with_dialer(Arc::new(telephony::twilio::TwilioDialer::new(
            client.clone(),
            config.public_url.clone(),
            t.from_number.clone(),
            t.sip_domain.clone(),
        )));
    }
    let zadarma_client = match &config.zadarma {
        Some(z) => Some(
            telephony::zadarma::ZadarmaClient::new(&z.api_base, &z.key, z.secret.expose())
                .context("cannot build the Zadarma client (config section `zadarma`)")?,
        ),
        None => None,
    };
    if let (Some(z), Some(client), None) = (&config.zadarma, &zadarma_client, switchboard.dialer())
    {
        // With both providers configured, click-to-call goes through Twilio.
        switchboard = switchboard.with_dialer(Arc::new(telephony::zadarma::ZadarmaDialer::new(
            client.clone(),
            z.predicted,
        )));
    }
    let switchboard = Arc::new(switchboard);
    let mut handlers: Vec<Arc<dyn jobs::Handler>> = vec![
        Arc::new(jobs::retention::Retention {
            store: store.clone(),
            data_dir: config.data_dir.clone(),
            keep: config.retention,
        }),
        Arc::new(jobs::privacy::Privacy {
            store: store.clone(),
            settings: config.privacy.clone(),
        }),
    ];
    let mut controls: Vec<Arc<dyn telephony::CallControl>> = Vec::new();
    let mut sources: Vec<Arc<dyn telephony::RecordingSource>> = Vec::new();
    let mut delete_at_provider = false;
    if let (Some(t), Some(client)) = (&config.twilio, twilio_client) {
        if let Some(from) = &t.sms_from {
            handlers.push(Arc::new(jobs::sms::SmsHandler {
                client: client.clone(),
                from: from.clone(),
            }));
        }
        let control = Arc::new(telephony::twilio::TwilioControl {
            client,
            public_url: config.public_url.clone(),
        });
        sources.push(keep_unless(control.clone(), t.delete_recordings));
        controls.push(control);
        delete_at_provider |= t.delete_recordings;
    }
    if let Some(z) = &config.zadarma {
        controls.push(Arc::new(telephony::zadarma::ZadarmaControl));
        if let Some(client) = zadarma_client {
            let source = Arc::new(telephony::zadarma::ZadarmaRecordings::new(client));
            sources.push(keep_unless(source, z.delete_recordings));
        }
        delete_at_provider |= z.delete_recordings;
        let missing = telephony::zadarma::answer::missing_clips(&z.prompts);
        if !missing.is_empty() {
            tracing::warn!(
                missing = missing.len(),
                "prompt clips without a Zadarma file id (zadarma.prompts_file): callers will not hear them; `perezvon zadarma prompts` lists them"
            );
        }
    }
    if controls.is_empty() {
        tracing::warn!(
            "no telephony provider configured (sections `twilio`, `zadarma`): webhooks answer 404"
        );
    } else {
        handlers.push(Arc::new(jobs::download::Download {
            store: store.clone(),
            sources,
            data_dir: config.data_dir.clone(),
            delete_at_provider,
        }));
        let mut rx = stop_rx.clone();
        background.push(tokio::spawn(switchboard.clone().run_dispatcher(
            controls,
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            },
        )));
    }
    let mut rx = stop_rx.clone();
    background.push(tokio::spawn(callbacks::sweep_leases(
        store.clone(),
        clock.clone(),
        wake.clone(),
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        },
    )));
    let mut rx = stop_rx.clone();
    background.push(tokio::spawn(switchboard.clone().run_reconciler(
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        },
    )));
    if let Some(m) = &config.mail {
        let sender = mail::smtp::SmtpSender::new(&m.smtp, &m.from_address, &m.from_name)
            .context("cannot set up the SMTP sender (section `mail`)")?;
        handlers.push(Arc::new(jobs::mail::MailHandler {
            sender,
            from_address: m.from_address.clone(),
        }));
        let intake = Arc::new(mail::intake::Intake {
            store: store.clone(),
            calendar: calendar.clone(),
            clock: clock.clone(),
            mail: m.clone(),
            callbacks: config.callbacks.clone(),
            sla: m.sla.unwrap_or(config.callbacks.sla),
            screening: switchboard.screening().clone(),
            data_dir: config.data_dir.clone(),
            holder: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        });
        let mut rx = stop_rx.clone();
        background.push(tokio::spawn(intake.run(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })));
    }
    if config.notify.has_recipients() {
        let notifier = Arc::new(notify::Notifier {
            store: store.clone(),
            calendar: calendar.clone(),
            clock: clock.clone(),
            settings: config.notify.clone(),
        });
        let mut rx = stop_rx.clone();
        background.push(tokio::spawn(notifier.run(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })));
    }
    store
        .enqueue_job(&jobs::retention::job_for(clock.now()), clock.now())
        .await?;
    if config.privacy.enabled() {
        store
            .enqueue_job(&jobs::privacy::job_for(clock.now()), clock.now())
            .await?;
    }
    let worker = Arc::new(
        jobs::Worker::new(store.clone(), clock.clone(), handlers)
            .with_lease(config.job_lease)
            .with_wake(switchboard.jobs_notifier()),
    );
    let mut rx = stop_rx.clone();
    background.push(tokio::spawn(worker.run(async move {
        let _ = rx.wait_for(|stop| *stop).await;
    })));
    let state = http::AppState {
        config: Arc::new(config),
        store: store.clone(),
        calendar,
        clock,
        switchboard,
    };
    if let Some(l) = metrics_listener {
        let mut rx = stop_rx.clone();
        let state = state.clone();
        background.push(tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|stop| *stop).await;
            };
            if let Err(e) = http::metrics::serve(l, state, stop).await {
                tracing::error!(error = %e, "the metrics server failed");
            }
        }));
    }
    let mut rx = stop_rx.clone();
    background.push(tokio::spawn(http::metrics::upkeep(async move {
        let _ = rx.wait_for(|stop| *stop).await;
    })));
    http::serve(listener, state, shutdown).await?;
    let _ = stop_tx.send(true);
    for task in background {
        let _ = task.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
