//! Fault: one of two instances behind nginx (see `support/cluster.rs`) is killed with SIGKILL in
//! the middle of `perezvon simulate` traffic. nginx passes the requests that instance never
//! answered to the other one (`proxy_next_upstream error timeout non_idempotent`, as the provider
//! retries a webhook that got no answer). Proves: every simulated call still ended correctly as
//! the caller saw it and on the server (every webhook got its reply, the ones B never answered
//! from A), no provider event is stored twice (a retry of a webhook B had committed is a
//! re-delivery), every webhook nginx answered 2xx is in the database (checked one by one from its
//! access log), every voicemail recording is stored (B's download jobs pass to A when their
//! leases run out), and no operator stays `on_call` and no call open once the calls are over
//! (what the killed process left is the reconciler's to repair).

mod support;

use std::time::{Duration, Instant};

use perezvon::telephony::twilio;
use sqlx::Connection;
use support::cluster::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_under_load_loses_nothing() {
    let Some(pg) = support::postgres_url() else {
        return;
    };
    let Some(mut c) = Cluster::start(&pg).await else {
        return;
    };
    let sim = c.spawn_simulate(80, 21);
    // Mid-run (arrivals go on for about 7 s): instance B dies at once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = c.upstream_counts();
    let b = c.instances[1].to_string();
    assert!(
        before.get(&b).copied().unwrap_or(0) > 0,
        "B served before it was killed: {before:?}"
    );
    c.kill(1);
    let killed_at = Instant::now();
    let o = tokio::task::spawn_blocking(move || sim.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let r = c.simulated(&o, 80);
    let after = c.upstream_counts();
    let a = c.instances[0].to_string();
    assert!(
        after.get(&a) > before.get(&a),
        "A took the traffic after the kill: {before:?} → {after:?}"
    );

    // No provider event is stored twice (re-deliveries add nothing).
    let mut db = sqlx::PgConnection::connect(&c.database_url).await.unwrap();
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from call_events where kind not like 'dispatch%' and kind not like 'repair%'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    let sent = r["webhooks"].as_i64().unwrap();
    // A re-delivered webhook (retried on A after B committed it) is one event; each webhook the
    // simulator counted got its reply, so it is stored.
    assert!(
        stored > 0 && stored <= sent,
        "{stored} events stored for {sent} webhooks sent"
    );
    // Every webhook nginx answered with a 2xx (whichever instance answered it) is in the
    // database: its call's event under the key a re-delivery would carry.
    let mut checked = 0;
    let mut missing = vec![];
    for (status, uri, body) in c.answered() {
        let (path, query) = uri
            .split_once('?')
            .map_or((uri.as_str(), None), |(p, q)| (p, Some(q)));
        let Some(route) = twilio::route_from_path(path, query) else {
            continue;
        };
        // Click-to-call webhooks are kept with their attempt, not as call events.
        let attempt = matches!(
            route,
            twilio::Route::CallbackConnect { .. } | twilio::Route::CallbackStatus { .. }
        );
        if attempt || !(200..300).contains(&status) {
            continue;
        }
        let params: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        let key = twilio::event_key(&route, &params);
        let sid = params
            .iter()
            .find(|(k, _)| k == "CallSid")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let found: Option<i32> = sqlx::query_scalar(
            "select 1 from call_events e join calls c on c.id = e.call_id \
             where c.provider = 'twilio' and c.provider_call_id = $1 and e.event_key = $2",
        )
        .bind(&sid)
        .bind(&key)
        .fetch_optional(&mut db)
        .await
        .unwrap();
        checked += 1;
        if found.is_none() {
            missing.push(format!("{status} {path} {key} (call {sid})"));
        }
    }
    assert!(
        checked >= sent as usize / 2,
        "{checked} answered webhooks found in nginx's log for {sent} sent"
    );
    assert!(
        missing.is_empty(),
        "{} of {checked} webhooks answered 2xx are not in the database:\n{}",
        missing.len(),
        missing.join("\n")
    );
    let dup: i64 = sqlx::query_scalar(
        "select count(*) from (select call_id, event_key from call_events group by 1, 2 having count(*) > 1) d",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(dup, 0, "no event stored twice");

    // Recordings announced to either instance (B's in flight included: its job leases run out and
    // A takes them over) are all stored; the simulator waits for pending ones before it reports.
    let audio = &r["server"]["voicemail_audio"];
    let stored_audio = audio["stored"].as_u64().unwrap_or(0);
    assert!(
        stored_audio > 0 && audio.get("pending").is_none(),
        "every voicemail recording stored: {audio}\n{}",
        c.logs()
    );
    // Nobody stays on a call: every call is over, so A's reconciler frees what B left (within
    // its orphan bound).
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let on_call: i64 =
            sqlx::query_scalar("select count(*) from operators where presence = 'on_call'")
                .fetch_one(&mut db)
                .await
                .unwrap();
        let open: i64 = sqlx::query_scalar(
            "select count(*) from calls where state not in ('completed', 'abandoned')",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        if on_call == 0 && open == 0 {
            break;
        }
        assert!(
            Instant::now() < until,
            "{on_call} operators on a call, {open} calls open 30 s after the run\n{}",
            c.logs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ready: serde_json::Value = reqwest::get(format!("http://{a}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    println!(
        "kill -9 under load: B killed {:.1} s before the run ended; requests per instance before \
         {before:?}, after {after:?}; {stored} events stored for {sent} webhooks, none twice; \
         every one of the {checked} webhooks answered 2xx is stored; all {stored_audio} recordings \
         stored; nobody left on a call; \
         A's repairs {}",
        killed_at.elapsed().as_secs_f64(),
        ready["repairs"]
    );
}
