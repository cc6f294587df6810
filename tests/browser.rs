//! The workspace in headless Chromium, against the real `perezvon` binary started as the README
//! says (a config file, `perezvon user add` for the first administrator, `perezvon serve`), with
//! Twilio's REST API faked by a local server. Skipped with `SKIPPED (browser)` when Chromium or
//! chromedriver is missing (CI installs them and sets `PEREZVON_TEST_REQUIRE_BROWSER=1`). Screenshots
//! of each main page are written under `target/screenshots/`.

mod support;

use std::time::Duration;

use fantoccini::Locator;
use perezvon::telephony::Step;
use perezvon::telephony::twilio::Route;
use support::browser::Browser;
use support::service::{Service, ok};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "test-auth-token";
const HOTLINE: &str = "+74950000000";
const PASSWORD: &str = "correct horse battery";

/// Twilio's part of the config, pointed at the fake API.
fn twilio_toml(api: &str) -> String {
    format!(
        "[twilio]\naccount_sid = \"{SID}\"\nauth_token = \"{TOKEN}\"\napi_base = \"{api}\"\n\
         from_number = \"{HOTLINE}\"\nspeech = \"clips\"\n"
    )
}

/// Posts a webhook to the service signed as Twilio signs it.
async fn hook(svc: &Service, route: &Route, form: &[(&str, &str)]) -> u16 {
    svc.twilio_hook(TOKEN, route, form).await
}

/// The README's first steps: create the first administrator with the CLI, sign in, add a user and
/// an operator in the browser; the new operator signs in, is refused administration, and a form
/// posted without its CSRF token is refused.
#[tokio::test]
async fn an_administrator_adds_an_operator_who_signs_in() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let mut svc = Service::configure("");
    ok(&svc.cli(
        &["user", "add", "--login", "admin", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    ));
    svc.start(None).await;
    let base = svc.base.clone();

    b.sign_in(&base, "admin", "wrong password").await;
    b.wait_text("p.error", |t| t.contains("Неверный логин или пароль"))
        .await;
    b.screenshot("login-error").await;
    b.sign_in(&base, "admin", PASSWORD).await;
    b.wait_for("header.top").await;

    b.client.goto(&format!("{base}/admin/users")).await.unwrap();
    let form = b.wait_for("form#user-add").await;
    for (name, value) in [
        ("login", "smirnova"),
        ("display_name", "Смирнова Анна"),
        ("password", PASSWORD),
    ] {
        form.find(Locator::Css(&format!("[name={name}]")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    form.find(Locator::Css("select[name=role] option[value=operator]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("tr[data-login=smirnova]").await;
    b.screenshot("admin-users").await;

    b.client
        .goto(&format!("{base}/admin/operators"))
        .await
        .unwrap();
    let form = b.wait_for("form#operator-add").await;
    for (name, value) in [
        ("login", "smirnova"),
        ("name", "Смирнова Анна"),
        ("contact", "+79161234567"),
    ] {
        form.find(Locator::Css(&format!("[name={name}]")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    form.find(Locator::Css(
        "select[name=contact_kind] option[value=phone]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("tr[data-login=smirnova]").await;
    b.screenshot("admin-operators").await;
    // A supervisor's request by hand (a letter), seen on the request's page and later by the operator.
    b.client
        .goto(&format!("{base}/admin/callbacks/new"))
        .await
        .unwrap();
    let form = b.wait_for("form#callback-new").await;
    form.find(Locator::Css("[name=number]"))
        .await
        .unwrap()
        .send_keys("8 916 765-43-21")
        .await
        .unwrap();
    form.find(Locator::Css("[name=note]"))
        .await
        .unwrap()
        .send_keys("Письмо: не видит оценки ребёнка")
        .await
        .unwrap();
    form.find(Locator::Css("select[name=source] option[value=letter]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("#history tr").await;
    b.screenshot("admin-callback").await;
    for (page, shot) in [
        ("/admin/callbacks", "admin-callbacks"),
        ("/admin", "admin"),
        ("/admin/calendar", "admin-calendar"),
        ("/admin/audit", "audit"),
    ] {
        b.client.goto(&format!("{base}{page}")).await.unwrap();
        b.wait_for("main#main").await;
        b.screenshot(shot).await;
    }

    // Sign out, and the new operator signs in.
    b.click("form[action='/logout'] button").await;
    b.wait_for("input[name=login]").await;
    b.sign_in(&base, "smirnova", PASSWORD).await;
    b.wait_for("table#queue tr[data-request-id]").await;
    b.screenshot("operator-list-letter").await;

    // An operator is refused administration.
    b.client.goto(&format!("{base}/admin/users")).await.unwrap();
    b.wait_text("h1", |t| t.contains("Доступ запрещён")).await;
    b.client.goto(&format!("{base}/admin")).await.unwrap();
    b.wait_text("h1", |t| t.contains("Доступ запрещён")).await;

    // The sign-out form without its CSRF token is refused (and the session stays).
    b.client.goto(&format!("{base}/")).await.unwrap();
    b.wait_for("form[action='/logout']").await;
    b.client
        .execute(
            "const f = document.querySelector(\"form[action='/logout']\");\
             f.querySelector('input[name=_csrf]').remove(); f.submit();",
            vec![],
        )
        .await
        .unwrap();
    b.wait_text("body", |t| t.contains("CSRF")).await;
    b.client.goto(&format!("{base}/")).await.unwrap();
    b.wait_for("#claim-next").await;

    b.client.goto(&format!("{base}/schedule")).await.unwrap();
    b.wait_for("main").await;
    b.screenshot("schedule").await;

    // On a phone (390×844): the pages fit the width, nothing scrolls sideways.
    b.client.set_window_size(390, 844).await.unwrap();
    for (page, ready, shot) in [
        ("/schedule", "main", "schedule-phone"),
        ("/", "#claim-next", "operator-phone"),
        ("/login", "body", "login-phone"),
    ] {
        b.client.goto(&format!("{base}{page}")).await.unwrap();
        b.wait_for(ready).await;
        let overflow = b
            .client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        b.screenshot(shot).await;
        assert!(
            overflow.as_i64().unwrap_or(1) <= 0,
            "{page} scrolls sideways on a phone by {overflow}px"
        );
    }
    b.close().await;
}

/// An operator works a request left by a caller: goes available, claims it, hears the recording,
/// calls back through the (fake) Twilio API, records the outcome, and the request leaves the list.
#[tokio::test]
async fn an_operator_works_a_voicemail_request() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/Calls\.json$",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "sid": "CA00000000000000000000000000000001", "status": "queued"
        })))
        .mount(&twilio)
        .await;
    let rec = "RE0123456789abcdef0123456789abcdef";
    let wav = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audio/speech-8k-s16.wav"),
    )
    .unwrap();
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Recordings/{rec}.wav"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(wav)
                .insert_header("content-type", "audio/x-wav"),
        )
        .mount(&twilio)
        .await;
    let mut svc = Service::configure(&twilio_toml(&twilio.uri()));
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
    ok(&svc.cli(
        &["user", "password", "--login", "ivanova"],
        &format!("{PASSWORD}\n"),
    ));
    // A working Monday morning; the operator is offline, so the caller leaves a message.
    svc.start(Some("2026-12-07T10:00:00+03:00")).await;
    let sid = "CA0000000000000000000000000000a001";
    assert_eq!(
        hook(
            &svc,
            &Route::Voice,
            &[
                ("CallSid", sid),
                ("From", "+79161234567"),
                ("To", HOTLINE),
                ("CallStatus", "ringing")
            ]
        )
        .await,
        200
    );
    hook(
        &svc,
        &Route::Gather(Step::VoicemailNumber { attempt: 0 }),
        &[("CallSid", sid), ("Digits", "1")],
    )
    .await;
    hook(
        &svc,
        &Route::Gather(Step::VoicemailCategory { attempt: 0 }),
        &[("CallSid", sid), ("Digits", "2")],
    )
    .await;
    let url = format!(
        "{}/2010-04-01/Accounts/{SID}/Recordings/{rec}",
        twilio.uri()
    );
    let recorded = [
        ("CallSid", sid),
        ("RecordingSid", rec),
        ("RecordingUrl", url.as_str()),
        ("RecordingDuration", "3"),
        ("Digits", "#"),
    ];
    assert_eq!(hook(&svc, &Route::Recorded, &recorded).await, 200);
    let ready = [
        ("CallSid", sid),
        ("RecordingSid", rec),
        ("RecordingUrl", url.as_str()),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "3"),
        ("RecordingChannels", "1"),
        ("RecordingSource", "RecordVerb"),
    ];
    assert_eq!(hook(&svc, &Route::RecordingReady, &ready).await, 200);
    hook(
        &svc,
        &Route::Status,
        &[
            ("CallSid", sid),
            ("CallStatus", "completed"),
            ("SequenceNumber", "9"),
        ],
    )
    .await;

    let base = svc.base.clone();
    b.sign_in(&base, "ivanova", PASSWORD).await;
    b.wait_for("#claim-next").await;
    // The request is on the list.
    let id = b
        .attr("table#queue tr[data-request-id]", "data-request-id")
        .await;
    b.click("button[data-presence=available]").await;
    b.wait_text("#presence-state", |t| t.contains("на линии"))
        .await;
    b.screenshot("operator-list").await;
    b.click("#claim-next").await;
    b.wait_for(&format!("#card[data-request-id='{id}']")).await;
    b.wait_text("#card-number", |t| t.contains("916")).await;
    // The voicemail plays from the authenticated audio endpoint: its duration is known and > 0
    // (the recording may still be downloading for a moment: the page is reloaded until it is there).
    let mut duration = 0.0;
    for _ in 0..20 {
        let d = b
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 const a = document.querySelector('audio#voicemail-audio');\
                 if (!a) { done(-1); } else if (a.readyState >= 1) { done(a.duration); }\
                 else { a.addEventListener('loadedmetadata', () => done(a.duration));\
                        a.addEventListener('error', () => done(-2)); a.load();\
                        setTimeout(() => done(-3), 3000); }",
                vec![],
            )
            .await
            .unwrap();
        duration = d.as_f64().unwrap_or(-4.0);
        if duration > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.client.refresh().await.unwrap();
        b.wait_for(&format!("#card[data-request-id='{id}']")).await;
    }
    assert!(
        duration > 0.0,
        "the recording's duration: {duration}; {}",
        svc.log()
    );
    b.screenshot("operator-card").await;

    // Click-to-call through the fake Twilio API.
    b.click("#dial").await;
    b.wait_text("#dial-status", |t| !t.trim().is_empty()).await;
    let mut placed = 0;
    for _ in 0..50 {
        placed = twilio
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("/Calls.json"))
            .count();
        if placed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(placed, 1, "one call placed at Twilio");
    b.screenshot("operator-dialing").await;

    // The outcome: reached and resolved, with a topic and a note.
    b.client
        .execute(
            "const s = document.querySelector('select#topic');\
             s.selectedIndex = s.options.length > 1 ? 1 : 0; s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .unwrap();
    b.wait_for("textarea#note")
        .await
        .send_keys("Подсказала, где журнал")
        .await
        .unwrap();
    b.click("button[data-outcome=resolved]").await;
    for _ in 0..100 {
        let still = b
            .client
            .find_all(Locator::Css(&format!(
                "table#queue tr[data-request-id='{id}']"
            )))
            .await
            .unwrap();
        let card = b
            .client
            .find_all(Locator::Css(&format!("#card[data-request-id='{id}']")))
            .await
            .unwrap();
        if still.is_empty() && card.is_empty() {
            b.screenshot("operator-done").await;
            b.close().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.screenshot("operator-not-done").await;
    panic!("request {id} is still on the list or the card after its outcome");
}
