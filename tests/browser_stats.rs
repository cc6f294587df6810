//! The supervisor's statistics pages in headless Chromium, against the real `perezvon` binary:
//! calls arrive through signed Twilio webhooks, a supervisor opens the statistics page, the
//! forecast and the live board, the figures shown match `GET /api/v1/stats/*` (read by the same
//! signed-in browser), and the board updates itself when a new caller starts waiting. Skipped with
//! `SKIPPED (browser)` when Chromium or chromedriver is missing (CI installs them).

mod support;

use std::time::Duration;

use perezvon::telephony::twilio::Route;
use serde_json::Value;
use support::browser::Browser;
use support::service::{Service, ok};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "test-auth-token";
const PASSWORD: &str = "correct horse battery";

async fn hook(svc: &Service, route: &Route, form: &[(&str, &str)]) {
    assert_eq!(svc.twilio_hook(TOKEN, route, form).await, 200, "{route:?}");
}

/// Runs `fetch` in the page (with its session cookie and CSRF token) and returns the JSON.
async fn api(b: &Browser, method: &str, path: &str, body: Option<Value>) -> Value {
    let script = "const [m, p, body, done] = arguments; \
        pzv.api(m, p, body === null ? undefined : body).then(done, (e) => done({ error: String(e) }));";
    b.client
        .execute_async(
            script,
            vec![method.into(), path.into(), body.unwrap_or(Value::Null)],
        )
        .await
        .unwrap()
}

/// The `data-value` of each `[data-figure]` inside `scope`.
async fn shown(b: &Browser, scope: &str) -> Value {
    let script = "const out = {}; \
        for (const e of document.querySelectorAll(arguments[0] + ' [data-figure]')) \
          out[e.dataset.figure] = e.dataset.value; \
        return out;";
    b.client.execute(script, vec![scope.into()]).await.unwrap()
}

/// Whether a shown `data-value` is the API's figure (null shows as an empty value).
fn same(shown: &Value, api: &Value) -> bool {
    match (shown.as_str(), api) {
        (Some(""), Value::Null) => true,
        (Some(s), Value::Number(n)) => s
            .parse::<f64>()
            .is_ok_and(|v| (v - n.as_f64().unwrap()).abs() < 1e-9),
        _ => false,
    }
}

#[tokio::test]
async fn a_supervisor_reads_the_statistics_and_the_live_board() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let toml = format!(
        "[twilio]\naccount_sid = \"{SID}\"\nauth_token = \"{TOKEN}\"\napi_base = \"http://127.0.0.1:9\"\n\
         from_number = \"+74950000000\"\nspeech = \"clips\"\n"
    );
    let mut svc = Service::configure(&toml);
    ok(&svc.cli(
        &["user", "add", "--login", "boss", "--role", "supervisor"],
        &format!("{PASSWORD}\n"),
    ));
    ok(&svc.cli(
        &[
            "operator",
            "add",
            "--login",
            "ivanova",
            "--name",
            "Иванова Мария",
            "--phone",
            "+79035550101",
        ],
        "",
    ));
    // A working Monday morning.
    svc.start(Some("2026-12-07T10:00:00+03:00")).await;
    let base = svc.base.clone();
    b.sign_in(&base, "boss", PASSWORD).await;
    b.wait_for("header.top").await;
    let set = api(
        &b,
        "PUT",
        "/operators/ivanova/presence",
        Some(serde_json::json!({"state": "available"})),
    )
    .await;
    assert_eq!(set["presence"], "available", "{set}");

    // In hours: one caller is answered, one hangs up waiting in the queue.
    let call = |sid: &'static str, from: &'static str| {
        let svc = &svc;
        async move {
            hook(
                svc,
                &Route::Voice,
                &[
                    ("CallSid", sid),
                    ("From", from),
                    ("To", "+74950000000"),
                    ("CallStatus", "ringing"),
                ],
            )
            .await;
        }
    };
    call("CA-b1", "+79161110001").await; // rings Ivanova
    call("CA-b2", "+79161110002").await; // queued behind her
    tokio::time::sleep(Duration::from_millis(1200)).await;
    hook(
        &svc,
        &Route::QueueLeft,
        &[
            ("CallSid", "CA-b2"),
            ("QueueResult", "hangup"),
            ("QueueTime", "1"),
        ],
    )
    .await;
    hook(
        &svc,
        &Route::DialResult,
        &[
            ("CallSid", "CA-b1"),
            ("DialCallStatus", "completed"),
            ("DialCallDuration", "1"),
        ],
    )
    .await;
    hook(
        &svc,
        &Route::Status,
        &[("CallSid", "CA-b1"), ("CallStatus", "completed")],
    )
    .await;

    b.client.goto(&format!("{base}/stats")).await.unwrap();
    b.wait_for("#figures [data-figure=offered]").await;
    let api_sum = api(&b, "GET", "/stats/summary", None).await;
    assert_eq!(api_sum["offered"], 2, "{api_sum}");
    assert_eq!(api_sum["answered"], 1);
    assert_eq!(api_sum["abandoned"], 1);
    let page = shown(&b, "#figures").await;
    for key in [
        "offered",
        "answered",
        "abandoned",
        "abandoned_short",
        "voicemail",
        "off_hours",
        "service_level",
        "service_level2",
        "asa_secs",
        "abandon_rate",
        "aht_secs",
    ] {
        assert!(
            same(&page[key], &api_sum[key]),
            "{key}: page {} vs API {}",
            page[key],
            api_sum[key]
        );
    }
    let cb = shown(&b, "#callback-figures").await;
    assert!(same(
        &cb["callbacks_created"],
        &api_sum["callbacks_created"]
    ));
    // Each figure shows its formula; the charts are inline SVG.
    let formula = b
        .wait_text("#figures tbody tr:nth-child(7) .formula", |t| {
            t.contains("SL")
        })
        .await;
    assert!(formula.contains("принятые за T"), "{formula}");
    let charts: Value = b
        .client
        .execute(
            "return document.querySelectorAll('svg.chart').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(charts, 3);
    let hour10: Value = b.client.execute("return document.querySelector('#hourly tr[data-key=\"10\"] [data-col=offered]').textContent;", vec![]).await.unwrap();
    assert_eq!(hour10, "2");
    b.screenshot("stats").await;

    b.client
        .goto(&format!("{base}/stats/forecast"))
        .await
        .unwrap();
    b.wait_for("#forecast").await;
    let fc = api(&b, "GET", "/stats/forecast", None).await;
    let rows: Value = b
        .client
        .execute(
            "return document.querySelectorAll('#forecast tbody tr').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        rows.as_u64().unwrap() as usize,
        fc["rows"].as_array().unwrap().len()
    );
    b.screenshot("forecast").await;

    b.client.goto(&format!("{base}/board")).await.unwrap();
    b.wait_for("#today [data-figure=offered]").await;
    let live = api(&b, "GET", "/stats/live", None).await;
    let today = shown(&b, "#today").await;
    for key in ["offered", "answered", "abandoned", "service_level"] {
        assert!(
            same(&today[key], &live["today"][key]),
            "{key}: board {} vs API {}",
            today[key],
            live["today"][key]
        );
    }
    b.wait_text("#board-operators [data-state]", |t| t.contains("Иванова"))
        .await;
    assert_eq!(b.wait_text("#waiting-count", |_| true).await, "0");
    // A new caller waits (Ivanova is wrapping up): the board shows them without a reload.
    call("CA-b3", "+79161110003").await;
    b.wait_text("#waiting-count", |t| t == "1").await;
    b.wait_text("#waiting li", |t| {
        t.contains("0003") && t.contains("в очереди")
    })
    .await;
    let offered = b.attr("#today [data-figure=offered]", "data-value").await;
    let live = api(&b, "GET", "/stats/live", None).await;
    assert_eq!(offered, live["today"]["offered"].to_string());
    assert_eq!(live["waiting"].as_array().unwrap().len(), 1);
    b.screenshot("board").await;
    b.close().await;
}
