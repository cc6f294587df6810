//! Fault: PostgreSQL is restarted in the middle of webhook traffic. The real `perezvon serve`
//! (`support/instance.rs`) runs on a private PostgreSQL cluster (`support/private_pg.rs`; the
//! shared test server is never restarted), with Twilio's REST API faked by the simulator's fake.
//! While signed incoming-call webhooks arrive ten a second and `/readyz` is polled four times a
//! second, the cluster is stopped (`pg_ctl stop -m fast`), kept down for five seconds and started
//! again. Proves: meanwhile `/readyz` answers 503 within 3 s and every webhook is answered 200
//! within 5 s, well inside Twilio's 15 s (the calls that cannot be routed hear the TwiML apology,
//! `<Say>` then `<Hangup/>`); once the database is back, in the same perezvon process, `/readyz`
//! is 200 again and new calls are routed within 10 s, the dispatcher moves a queued caller to the
//! operator who became free, the job worker is woken by another instance's NOTIFY (so the LISTEN
//! connection came back: its polling alone takes up to 5 s) and the reconciler repairs a call.

mod support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perezvon::simulate::fake_api::{FakeApi, Mailboxes};
use perezvon::telephony::twilio::Route;
use sqlx::Connection;
use support::instance::{Client, Instance, Probe, SID, TOKEN};
use support::private_pg::PrivatePg;
use tokio::sync::watch;

/// How long the database stays down.
const DOWN: Duration = Duration::from_secs(5);
const CALLER: &str = "+79161234567";

/// Another instance's job: a job row written straight into the database and a NOTIFY on the
/// instance's channel, in one transaction. Returns how long until the worker finished it.
async fn foreign_job(db_url: &str, n: u32) -> Duration {
    let mut db = sqlx::PgConnection::connect(db_url).await.unwrap();
    let key = format!("pgfault:{n}");
    let mut tx = db.begin().await.unwrap();
    sqlx::query(
        "insert into jobs (kind, payload, dedup_key, max_attempts, run_at_ms, created_at_ms, updated_at_ms) \
         values ($1, '{}', $2, 1, 0, 0, 0)",
    )
    .bind(perezvon::jobs::retention::RETENTION)
    .bind(&key)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("select pg_notify('perezvon:public', 'pgfault-test jobs')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let t = Instant::now();
    loop {
        let (state, error): (String, Option<String>) =
            sqlx::query_as("select state, last_error from jobs where dedup_key = $1")
                .bind(&key)
                .fetch_one(&mut db)
                .await
                .unwrap();
        if state == "done" {
            return t.elapsed();
        }
        assert!(state != "failed", "job {key} failed: {error:?}");
        assert!(t.elapsed() < Duration::from_secs(15), "job {key} not run");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Three foreign jobs in a row; the slowest wake-up (the worker polls only every 5 s).
async fn foreign_jobs(db_url: &str, from: u32) -> Duration {
    let mut worst = Duration::ZERO;
    for n in from..from + 3 {
        worst = worst.max(foreign_job(db_url, n).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    worst
}

/// Sends a request every `every` until `stop` (each on a task of its own, so a slow answer
/// delays no other); returns every probe. `calls` names the incoming calls, or `None` for
/// `/readyz` probes.
fn drive(
    client: Client,
    every: Duration,
    calls: Option<Vec<String>>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Vec<Probe>> {
    tokio::spawn(async move {
        let probes = Arc::new(Mutex::new(Vec::new()));
        let mut tick = tokio::time::interval(every);
        let mut tasks = Vec::new();
        for n in 0.. {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = tick.tick() => {}
            }
            let (client, probes) = (client.clone(), probes.clone());
            let call = calls.as_ref().map(|c| c[n % c.len()].clone());
            tasks.push(tokio::spawn(async move {
                let p = match call {
                    Some(call) => client.incoming(&call, CALLER).await,
                    None => client.get("/readyz").await,
                };
                probes.lock().unwrap().push(p);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut probes = probes.lock().unwrap().clone();
        probes.sort_by_key(|p| p.sent);
        probes
    })
}

/// Waits until `check` holds, at most `within`; how long it took.
async fn within(
    what: &str,
    within: Duration,
    log: impl Fn() -> String,
    mut check: impl AsyncFnMut() -> bool,
) -> Duration {
    let t = Instant::now();
    while !check().await {
        assert!(
            t.elapsed() < within,
            "{what}: not within {within:?}\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_load_apologises_then_recovers_without_a_restart() {
    let Some(pg) = PrivatePg::start() else {
        return;
    };
    let mailboxes = Arc::new(Mailboxes::default());
    let fake = FakeApi::start(
        "127.0.0.1:0".parse().unwrap(),
        SID,
        TOKEN,
        mailboxes.clone(),
    );
    let fake = fake.await.unwrap();
    let mut inst = Instance::new(&pg.url(), &fake.base_url());
    inst.cli(&["migrate"], "");
    let token = inst.operator("op", "+79990001122");
    inst.serve().await;
    let c = inst.client.clone();
    assert_eq!(c.presence(&token, "op", "available").await, 200);

    // 1. Before: the operator takes a call; the job worker wakes on another instance's NOTIFY.
    let first = c.incoming("CApgfault0", CALLER).await;
    assert!(first.routed() && first.body.contains("<Dial"), "{first:?}");
    let woken_before = foreign_jobs(&pg.url(), 0).await;
    assert!(woken_before < Duration::from_secs(1), "{woken_before:?}");

    // 2. Load (callers queue: the operator is busy), and the database goes away for a while.
    let calls: Vec<String> = (1..=400).map(|n| format!("CApgfault{n}")).collect();
    let mut inboxes: Vec<_> = calls.iter().map(|c| mailboxes.open(c)).collect();
    let (stop_tx, stop_rx) = watch::channel(false);
    let hooks = drive(
        c.clone(),
        Duration::from_millis(100),
        Some(calls),
        stop_rx.clone(),
    );
    let readies = drive(c.clone(), Duration::from_millis(250), None, stop_rx);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopping = Instant::now();
    tokio::task::block_in_place(|| pg.stop());
    let down = Instant::now();
    tokio::time::sleep(DOWN).await;
    let restarting = Instant::now();
    tokio::task::block_in_place(|| pg.start_again());
    let up = Instant::now();
    let log_path = inst.log_path();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let ready_after = within(
        "ready after the restart",
        Duration::from_secs(10),
        log,
        async || c.get("/readyz").await.status == 200,
    )
    .await;
    let mut n = 1000;
    let routed_after = within(
        "a call routed after the restart",
        Duration::from_secs(10),
        log,
        async || {
            n += 1;
            c.incoming(&format!("CApgfault{n}"), CALLER).await.routed()
        },
    )
    .await;
    stop_tx.send(true).unwrap();
    let (hooks, readies) = (hooks.await.unwrap(), readies.await.unwrap());

    // Every webhook answered 200 within 5 s (Twilio waits 15 s); the calls routed as usual, or
    // told of the technical error and hung up.
    let slowest = hooks.iter().map(|p| p.took).max().unwrap();
    let slowest_ready = readies.iter().map(|p| p.took).max().unwrap();
    let apologies = hooks.iter().filter(|p| p.apology()).count();
    eprintln!(
        "observed: {} webhooks, {apologies} apologies, slowest {slowest:?}; /readyz slowest \
         {slowest_ready:?}, statuses {:?}",
        hooks.len(),
        readies.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    for p in &hooks {
        assert!(p.routed() || p.apology(), "{p:?}");
        assert!(p.took < Duration::from_secs(5), "{p:?}");
    }
    // Answered before the stop began: routed. Sent and answered while it was down: the apology.
    let before: Vec<&Probe> = hooks.iter().filter(|p| p.answered() < stopping).collect();
    assert!(
        before.len() >= 5 && before.iter().all(|p| p.routed()),
        "{before:?}"
    );
    let while_down = |p: &&Probe| p.sent >= down && p.answered() < restarting;
    let meanwhile: Vec<&Probe> = hooks.iter().filter(while_down).collect();
    assert!(
        meanwhile.len() >= 5,
        "{} answered while down",
        meanwhile.len()
    );
    assert!(meanwhile.iter().all(|p| p.apology()), "{meanwhile:?}");
    // Readiness: 503 while down, never slow.
    let ready_down: Vec<&Probe> = readies.iter().filter(while_down).collect();
    assert!(ready_down.len() >= 3, "{ready_down:?}");
    assert!(ready_down.iter().all(|p| p.status == 503), "{ready_down:?}");
    assert!(readies.iter().all(|p| [200, 503].contains(&p.status)));
    assert!(slowest_ready < Duration::from_secs(3), "{slowest_ready:?}");

    // 3. After, in the same process. The operator's call ends: the dispatcher moves the
    // longest-waiting caller to them through the provider's REST API.
    assert!(inst.still_running(), "perezvon exited:\n{}", log());
    assert_eq!(
        mailboxes.delivered.load(Ordering::Relaxed),
        0,
        "nobody was free"
    );
    let form = [
        ("CallSid", "CApgfault0"),
        ("AccountSid", SID),
        ("CallStatus", "completed"),
        ("CallDuration", "30"),
    ];
    let ended = c.hook(&Route::Status, &form).await;
    assert!(ended.status < 300, "{ended:?}");
    let mut redirect = None;
    let moved_in = within(
        "a queued caller moved",
        Duration::from_secs(5),
        log,
        async || {
            redirect = inboxes.iter_mut().find_map(|rx| rx.try_recv().ok());
            redirect.is_some()
        },
    )
    .await;
    let redirect = redirect.unwrap();
    assert!(redirect.contains("/webhooks/twilio/connect"), "{redirect}");
    // The job worker runs jobs, woken at once by NOTIFY: the listener reconnected.
    let woken_after = foreign_jobs(&pg.url(), 10).await;
    assert!(
        woken_after < Duration::from_secs(1),
        "{woken_after:?}\n{}",
        log()
    );
    // The reconciler: the moved caller never reaches the operator (nobody follows the
    // redirect), so 15 s on the call is put back in the queue.
    let mut repairs = serde_json::Value::Null;
    within(
        "the reconciler's repair",
        Duration::from_secs(30),
        log,
        async || {
            let r: serde_json::Value = serde_json::from_str(&c.get("/readyz").await.body).unwrap();
            repairs = r["repairs"].clone();
            repairs["stuck_connecting"].as_u64() >= Some(1)
        },
    )
    .await;
    assert!(inst.still_running(), "perezvon exited:\n{}", log());
    println!(
        "PostgreSQL restarted mid-load: stopped in {:.1} s, down {:.1} s; {} webhooks, {apologies} \
         apologies (all {} sent and answered while down), slowest webhook {:.2} s (all 200); \
         /readyz 503 while down ({} probes), slowest {:.2} s; after the restart, same process: \
         ready in {:.2} s, a new call routed in {:.2} s, a queued caller moved {:.2} s after the \
         operator was freed, foreign jobs woken in {:.0} ms (before: {:.0} ms), reconciler \
         repairs {repairs}",
        (down - stopping).as_secs_f64(),
        (up - down).as_secs_f64(),
        hooks.len(),
        meanwhile.len(),
        slowest.as_secs_f64(),
        ready_down.len(),
        slowest_ready.as_secs_f64(),
        ready_after.as_secs_f64(),
        routed_after.as_secs_f64(),
        moved_in.as_secs_f64(),
        woken_after.as_secs_f64() * 1000.0,
        woken_before.as_secs_f64() * 1000.0,
    );
}
