//! `perezvon simulate` end to end: a short run against the in-process instance (with the baseline),
//! and a run in `--target` mode against an app started here behind a different public URL, with
//! the simulator's fake Twilio REST API as the app's `twilio.api_base`; and `perezvon simulate
//! flood` briefly, closed loop in hours and open loop off hours, on SQLite (and on PostgreSQL when
//! `PEREZVON_TEST_POSTGRES_URL` is set); and `perezvon simulate claims` briefly.

mod support;

use std::sync::Arc;

use chrono::TimeDelta;
use perezvon::clock::Clock;
use perezvon::config::Config;
use perezvon::http::AppState;
use perezvon::simulate::{
    FloodArgs, Hours, OffsetClock, Report, SimulateArgs, run_flood, run_report,
};
use perezvon::switchboard::Switchboard;
use perezvon::telephony::twilio::{TwilioClient, TwilioControl};

fn assert_consistent(r: &Report, calls: usize) {
    assert!(!r.timed_out, "{}", r.render());
    assert_eq!((r.calls_started, r.calls_finished), (calls, calls));
    assert_eq!(r.webhook_errors, 0, "{:?}", r.errors);
    let o = &r.outcomes;
    assert_eq!(o.error, 0, "{}", r.render());
    let total = o.talked + o.left_queue + o.hung_up + o.voicemail + o.off_hours + o.goodbye;
    assert_eq!(total, calls);
    // Every call began with `voice` and ended with its status callback.
    assert_eq!(r.by_route["voice"].count, calls);
    assert_eq!(r.by_route["status"].count, calls);
    // The server saw every call, and every one ended after its status callback.
    assert_eq!(r.server.seen, calls, "{}", r.render());
    assert_eq!(r.server.unfinished, 0, "{:?}", r.server.states);
    assert_eq!(r.queue.double_booked, 0, "{}", r.render());
    assert!(
        r.server
            .states
            .keys()
            .all(|s| s == "completed" || s == "abandoned"),
        "{:?}",
        r.server.states
    );
    // Recordings the instance fetched from the fake REST API were all found and readable.
    for bad in ["missing", "unreadable"] {
        assert!(
            !r.server.voicemail_audio.contains_key(bad),
            "{}",
            r.render()
        );
    }
    let l = &r.latency;
    assert_eq!(l.count, r.webhooks);
    assert!(
        0.0 < l.p50_ms && l.p50_ms <= l.p95_ms && l.p95_ms <= l.p99_ms && l.p99_ms <= l.max_ms,
        "{l:?}"
    );
    assert!(r.throughput > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_in_process_run_handles_every_call_and_compares_with_the_baseline() {
    // 30 calls within about a second for 2 operators who always answer and talk for about a
    // second: the first call talks, and later ones must queue.
    let args = SimulateArgs {
        calls: 30,
        rate: 30.0,
        operators: 2,
        answer_prob: 1.0,
        talk_secs: 1.0,
        time_scale: 0.01,
        seed: Some(20261201),
        baseline: true,
        ..SimulateArgs::default()
    };
    let r = run_report(&Config::default(), args).await.unwrap();
    assert_consistent(&r, 30);
    assert!(r.in_process);
    assert!(r.outcomes.talked >= 1, "{}", r.render());
    assert!(r.queue.queued >= 1, "{}", r.render());
    assert_eq!(
        r.outcomes.off_hours, 0,
        "the instance's clock is in working hours"
    );
    let b = r.baseline.as_ref().expect("the baseline ran");
    assert_eq!((b.webhooks, b.errors), (r.webhooks, 0));
    let bl = &b.latency;
    assert!(
        0.0 < bl.p50_ms
            && bl.p50_ms <= bl.p95_ms
            && bl.p95_ms <= bl.p99_ms
            && bl.p99_ms <= bl.max_ms
    );
    assert!(b.ratio.p50 > 0.0 && b.ratio.throughput > 0.0);
    let text = r.render();
    for line in [
        "calls       30 started, 30 finished",
        "perezvon",
        "baseline",
        "ratio",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_mode_signs_for_the_public_url_and_moves_queued_callers() {
    let dir = tempfile::tempdir().unwrap();
    let fake_api = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let env = [
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("p.db").display()),
        ),
        ("PUBLIC_URL", "https://hotline.example.ru".into()),
        (
            "TWILIO__ACCOUNT_SID",
            "AC0123456789abcdef0123456789abcdef".into(),
        ),
        ("TWILIO__AUTH_TOKEN", "target-token".into()),
        ("TWILIO__API_BASE", format!("http://{fake_api}")),
        // Operators are free right after a call, and callers may wait 600 s (6 s here).
        ("ROUTING__WRAP_UP_SECS", "0".into()),
        ("ROUTING__QUEUE_MAX_WAIT_SECS", "600".into()),
    ]
    .map(|(k, v)| (format!("PEREZVON_{k}"), v));
    let config = Config::load_with_env(None, env).unwrap();
    let store = perezvon::store::connect(&config.database_url)
        .await
        .unwrap();
    let calendar = Arc::new(perezvon::load_calendar(&config).unwrap());
    let clock: Arc<dyn Clock> =
        Arc::new(OffsetClock::in_working_hours(&calendar, TimeDelta::hours(1)).unwrap());
    let switchboard = Arc::new(Switchboard::new(
        store.clone(),
        calendar.clone(),
        clock.clone(),
        config.routing.clone(),
    ));
    let tw = config.twilio.clone().unwrap();
    let control = Arc::new(TwilioControl {
        client: TwilioClient::new(&tw.api_base, &tw.account_sid, tw.auth_token.expose()).unwrap(),
        public_url: config.public_url.clone(),
    });
    tokio::spawn(
        switchboard
            .clone()
            .run_dispatcher(vec![control], std::future::pending()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState {
        config: Arc::new(config.clone()),
        store,
        calendar,
        clock,
        switchboard,
    };
    tokio::spawn(perezvon::http::serve(
        listener,
        state,
        std::future::pending(),
    ));

    let args = SimulateArgs {
        target: Some(target.clone()),
        fake_api_listen: fake_api,
        calls: 10,
        rate: 20.0,
        operators: 2,
        answer_prob: 1.0,
        talk_secs: 0.5,
        press1_prob: 0.0,
        hangup_prob: 0.0,
        time_scale: 0.01,
        seed: Some(7),
        breaks: false,
        ..SimulateArgs::default()
    };
    let r = run_report(&config, args).await.unwrap();
    assert_consistent(&r, 10);
    assert!(!r.in_process && r.target == target);
    assert!(r.queue.queued >= 1, "{}", r.render());
    assert!(
        r.queue.redirected >= 1,
        "a queued caller was moved: {}",
        r.render()
    );
    assert!(r.by_route["connect"].count >= 1);
    assert!(r.baseline.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_flood_stores_every_answered_call_and_compares_with_the_static_reply() {
    // 2 s of 4 connections against an in-process instance on SQLite, in working hours with 2
    // operators: the first calls are rung through, the rest queue.
    let args = FloodArgs {
        connections: Some(4),
        duration: 2.0,
        hours: Hours::In,
        operators: 2,
        ..FloodArgs::default()
    };
    let r = run_flood(&Config::default(), args).await.unwrap();
    let text = r.render();
    let f = &r.figures;
    assert!(r.in_process && r.backend == "sqlite", "{text}");
    assert!(f.requests > 0, "{text}");
    assert_eq!(f.answered, f.requests, "every request got 2xx: {text}");
    assert_eq!(f.errors(), 0, "{text}");
    assert_eq!(f.by_status.keys().collect::<Vec<_>>(), ["200"], "{text}");
    // Each request was a new call (its own CallSid), and the database holds every one.
    assert_eq!(r.calls_stored, Some(f.answered), "{text}");
    assert!(r.calls_missing.is_empty(), "{text}");
    assert_eq!(f.replies.dial, 2, "one call rung to each operator: {text}");
    assert_eq!(f.replies.enqueue, f.answered - 2, "the rest queued: {text}");
    assert!(
        f.throughput > 0.0 && f.latency.count as u64 == f.requests,
        "{text}"
    );
    let l = &f.latency;
    assert!(
        0.0 < l.p50_ms && l.p50_ms <= l.p99_ms && l.p99_ms <= l.max_ms,
        "{l:?}"
    );
    let rss = r.rss.expect("an in-process instance reports its memory");
    assert!(
        rss.before_kib > 0 && rss.peak_kib >= rss.after_kib,
        "{rss:?}"
    );
    let b = r.baseline.as_ref().expect("the static reply ran");
    assert!(b.figures.requests > 0 && b.figures.errors() == 0, "{text}");
    assert!(b.ratio.throughput > 0.0 && b.ratio.p50 > 0.0, "{text}");
    for line in ["req/s", "p50", "p99", "max", "by status: 200:", "ratio"] {
        assert!(text.contains(line), "{line} in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_flood_off_hours_gets_the_greeting_at_the_given_rate() {
    let args = FloodArgs {
        rate: Some(50.0),
        duration: 2.0,
        hours: Hours::Off,
        baseline: false,
        ..FloodArgs::default()
    };
    let r = run_flood(&Config::default(), args).await.unwrap();
    let text = r.render();
    let f = &r.figures;
    assert_eq!((f.requests, f.answered), (100, 100), "{text}");
    // Request i is due at i / 50 s: fifty in each of the two seconds, told apart in the report.
    let seconds: Vec<(u16, u64)> = f.by_second.iter().map(|s| (s.second, s.requests)).collect();
    assert_eq!(seconds, vec![(0, 50), (1, 50)], "{text}");
    assert!(text.contains("p99 ms by second: 0: "), "{text}");
    assert_eq!(
        (f.replies.dial, f.replies.enqueue),
        (0, 0),
        "off hours: {text}"
    );
    assert_eq!(r.calls_stored, Some(100), "{text}");
    assert!(
        r.clock_start.as_deref() == Some("2026-12-06T12:00:00+03:00"),
        "{text}"
    );
    assert!(r.baseline.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_flood_on_postgresql_stores_every_answered_call() {
    use sqlx::Connection;
    let Some(url) = support::postgres_url() else {
        return;
    };
    // A fresh schema, named in the URL (`options=-c search_path=…`) the flood hands the instance.
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("create schema {schema}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let args = FloodArgs {
        database_url: Some(format!("{url}{sep}options=-c%20search_path%3D{schema}")),
        connections: Some(4),
        duration: 1.0,
        baseline: false,
        ..FloodArgs::default()
    };
    let r = run_flood(&Config::default(), args).await;
    sqlx::query(&format!("drop schema {schema} cascade"))
        .execute(&mut conn)
        .await
        .unwrap();
    let r = r.unwrap();
    let (text, f) = (r.render(), &r.figures);
    assert_eq!(r.backend, "postgres", "{text}");
    assert!(f.requests > 0 && f.answered == f.requests, "{text}");
    assert_eq!(r.calls_stored, Some(f.answered), "{text}");
    assert_eq!(f.replies.dial, 3, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claims_benchmark_has_operators_claim_and_release_at_once() {
    use perezvon::simulate::claims::{ClaimsArgs, Mode, run_claims};
    let args = ClaimsArgs {
        target: None,
        database_url: None,
        operators: 4,
        requests: 40,
        duration: 1.0,
        mode: Mode::Loop,
        clock_start: None,
        json: false,
    };
    let r = run_claims(&Config::default(), &args).await.unwrap();
    let text = r.render();
    // Forty requests for four operators: every claim gets one, and every one is given back.
    let claimed = r.statuses.get("claim 200").copied().unwrap_or(0);
    assert!(claimed > 20, "{text}");
    assert_eq!(r.statuses.len(), 2, "only 200s: {text}");
    assert_eq!(
        r.statuses.get("release 200").copied(),
        Some(claimed),
        "{text}"
    );
    assert_eq!(r.claim.count as u64, claimed, "{text}");
    assert!(
        r.claim.p50_ms > 0.0 && r.claim.p99_ms >= r.claim.p50_ms,
        "{text}"
    );
    // Outside working hours the benchmark refuses to start: nothing could be claimed.
    let closed = ClaimsArgs {
        clock_start: Some("2026-12-06T12:00:00+03:00".parse().unwrap()),
        ..args
    };
    let e = run_claims(&Config::default(), &closed).await.unwrap_err();
    assert!(e.to_string().contains("working hours"), "{e}");
    // In bursts every operator claims in every round: the claims come in multiples of four.
    let burst = ClaimsArgs {
        mode: Mode::Burst,
        clock_start: None,
        ..closed
    };
    let r = run_claims(&Config::default(), &burst).await.unwrap();
    let claimed = r.statuses.get("claim 200").copied().unwrap_or(0);
    assert!(claimed >= 8 && claimed % 4 == 0, "{}", r.render());
    assert_eq!(r.statuses.get("release 200").copied(), Some(claimed));
}

/// `simulate claims --target` against an instance whose clock was started in the past (`serve
/// --clock-start`, as `benches/two_instances.sh` does): without that `--clock-start` nothing on
/// the list is due on the target's clock and the run fails saying so (it used to measure only
/// "nothing due" answers); with it, every claim gets a request and gives it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_against_a_target_are_due_on_the_targets_clock() {
    use perezvon::simulate::claims::{ClaimsArgs, Mode, run_claims};
    let dir = tempfile::tempdir().unwrap();
    let env = [
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("p.db").display()),
        ),
        ("PUBLIC_URL", "https://hotline.example.ru".into()),
        (
            "TWILIO__ACCOUNT_SID",
            "AC0123456789abcdef0123456789abcdef".into(),
        ),
        ("TWILIO__AUTH_TOKEN", "target-token".into()),
        ("WEB__API_REQUESTS_PER_MINUTE", "0".into()),
        ("WEB__API_ADDRESS_REQUESTS_PER_MINUTE", "0".into()),
    ]
    .map(|(k, v)| (format!("PEREZVON_{k}"), v));
    let config = Config::load_with_env(None, env).unwrap();
    let store = perezvon::store::connect(&config.database_url)
        .await
        .unwrap();
    let calendar = Arc::new(perezvon::load_calendar(&config).unwrap());
    // Monday 2026-12-07 10:00 Moscow: in working hours, and before this machine's time.
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00+03:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert!(start < chrono::Utc::now() - TimeDelta::hours(10));
    let clock: Arc<dyn Clock> = Arc::new(perezvon::clock::OffsetClock::starting_at(start));
    let switchboard = Arc::new(Switchboard::new(
        store.clone(),
        calendar.clone(),
        clock.clone(),
        config.routing.clone(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState {
        config: Arc::new(config.clone()),
        store,
        calendar,
        clock,
        switchboard,
    };
    tokio::spawn(perezvon::http::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let args = ClaimsArgs {
        target: Some(target),
        database_url: None,
        operators: 2,
        requests: 20,
        duration: 0.5,
        mode: Mode::Loop,
        clock_start: None,
        json: false,
    };
    let e = run_claims(&config, &args).await.unwrap_err().to_string();
    assert!(
        e.contains("no claim got a request") && e.contains("claim 204"),
        "{e}"
    );
    let on_its_clock = ClaimsArgs {
        clock_start: Some(start),
        ..args
    };
    let r = run_claims(&config, &on_its_clock).await.unwrap();
    let claimed = r.statuses.get("claim 200").copied().unwrap_or(0);
    assert!(claimed > 0, "{}", r.render());
    assert_eq!(r.statuses.get("release 200").copied(), Some(claimed));
    assert_eq!(r.statuses.get("claim 204"), None, "{}", r.render());
    println!(
        "claims against a target on an earlier clock: {claimed} claimed with its --clock-start"
    );
}
