//! Two `perezvon serve` processes on one PostgreSQL database behind nginx (see
//! `support/cluster.rs`), driven by `perezvon simulate --target` through the proxy. Proves: every
//! simulated call ended correctly on the server and as the caller saw it, nobody's phone was rung
//! for a second call while on one, no operator stayed `on_call`, both instances served requests,
//! and a presence change made on one instance reaches a live page (`GET /events`) served by the
//! other well under its one-second polling interval (the LISTEN/NOTIFY wake-up).

mod support;

use std::time::{Duration, Instant};

use support::cluster::Cluster;

/// Reads a server-sent-events response until an event named `name` arrives.
async fn next_event(resp: &mut reqwest::Response, buf: &mut String, name: &str) -> String {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if block.lines().any(|l| l == format!("event: {name}")) {
                return block;
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// A presence change made through instance A shows on instance B's live page.
async fn presence_reaches_the_other_instance(c: &Cluster) -> Vec<Duration> {
    let o = c.perezvon(
        &[
            "operator",
            "add",
            "--login",
            "wake-op",
            "--name",
            "Проверка",
            "--phone",
            "+79990001122",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = c.perezvon(
        &["user", "password", "--login", "wake-op"],
        Some("a long password\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = c.perezvon(&["token", "create", "--login", "wake-op"], None);
    let token = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("pzv_"), "{token}");
    let (a, b) = (c.instances[0], c.instances[1]);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(format!("http://{b}/login"))
        .form(&[("login", "wake-op"), ("password", "a long password")])
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pzv_session="))
        .expect("signed in on B")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut events = http
        .get(format!("http://{b}/events"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let mut buf = String::new();
    next_event(&mut events, &mut buf, "hello").await;
    let mut took = Vec::new();
    for (i, state) in [
        "available",
        "break",
        "available",
        "offline",
        "break",
        "offline",
    ]
    .into_iter()
    .enumerate()
    {
        // Away from B's poll ticks by a varying phase.
        tokio::time::sleep(Duration::from_millis(300 + 170 * i as u64)).await;
        let t = Instant::now();
        let r = http
            .put(format!("http://{a}/api/v1/operators/wake-op/presence"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "state": state }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let ev = next_event(&mut events, &mut buf, "presence").await;
        took.push(t.elapsed());
        assert!(ev.contains(&format!("\"state\":\"{state}\"")), "{ev}");
    }
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_share_the_work_and_wake_each_other() {
    let Some(pg) = support::postgres_url() else {
        return;
    };
    let Some(c) = Cluster::start(&pg).await else {
        return;
    };

    // 1. A presence change on A reaches an event stream on B.
    let took = presence_reaches_the_other_instance(&c).await;
    let worst = *took.iter().max().unwrap();
    assert!(
        worst < Duration::from_millis(400),
        "B's live page learnt of A's presence changes after {took:?} (polling alone: up to 1 s)\n{}",
        c.logs()
    );
    assert!(
        c.log(1).contains("LISTEN/NOTIFY"),
        "B shares wake-ups:\n{}",
        c.logs()
    );

    // 2. Simulated calls through the proxy, with a queue the dispatchers must work through.
    let o = c.spawn_simulate(60, 12).wait_with_output().unwrap();
    let r = c.simulated(&o, 60);
    let stdout = r.to_string();
    assert!(
        r["server"]["operators"].get("on_call").is_none(),
        "nobody left on a call: {stdout}"
    );
    assert!(r["queue"]["queued"].as_u64().unwrap() >= 1, "{stdout}");
    assert!(
        r["queue"]["redirected"].as_u64().unwrap() >= 1,
        "a queued caller was moved to a freed operator: {stdout}"
    );

    // 3. Both instances served the traffic.
    let counts = c.upstream_counts();
    for a in &c.instances {
        let n = counts.get(&a.to_string()).copied().unwrap_or(0);
        assert!(n >= 20, "instance {a} served {n} requests: {counts:?}");
    }
    // Both dispatchers moved callers or at least ran (the move is logged by whoever made it).
    let moved: Vec<usize> = (0..2)
        .map(|i| {
            c.log(i)
                .matches("queued caller sent to a free operator")
                .count()
        })
        .collect();
    println!(
        "two instances: presence change A→B's live page in {took:?}; requests per instance {counts:?}; \
         queued callers moved by each instance's dispatcher {moved:?}; queue {}; outcomes {}",
        r["queue"], r["outcomes"]
    );
}
