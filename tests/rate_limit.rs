//! The REST API's rate limits through a real server on port 0 (issue 12, hardening): a token over
//! its burst gets 429 with `Retry-After` and a Russian reason, another token and a workspace
//! session are not affected, the limit comes back with time, pages outside the API (sign-in) are
//! not limited, refusals are counted on `/metrics`, guessing tokens is bounded per address, and a
//! bad `web.api_*` value names its key.

mod support;

use std::time::Duration;

use perezvon::clock::Clock;
use perezvon::config::Config;
use perezvon::domain::user::Role;
use support::TestDb;
use support::web::WebApp;

/// A configuration with these `[web]` keys (as `PEREZVON_WEB__…` variables).
fn web(keys: &[(&str, &str)]) -> Result<Config, perezvon::config::ConfigError> {
    Config::load_with_env(
        None,
        keys.iter()
            .map(|(k, v)| (format!("PEREZVON_WEB__{}", k.to_uppercase()), v.to_string())),
    )
}

async fn token_for(app: &WebApp, login: &str) -> String {
    let user = app.user(login, Role::Supervisor).await;
    let (token, hash) = perezvon::secrets::new_token();
    app.store
        .create_token(user.id, &hash, "test", None, app.clock.now())
        .await
        .unwrap();
    token
}

#[tokio::test]
async fn a_token_over_its_burst_gets_429_and_nobody_else_does() {
    let db = TestDb::sqlite().await;
    let config = web(&[
        ("api_requests_per_minute", "120"),
        ("api_burst", "5"),
        ("api_address_requests_per_minute", "60000"),
        ("api_address_burst", "1000"),
    ])
    .unwrap();
    let app = WebApp::spawn_with(&db, config).await;
    let busy = token_for(&app, "busy").await;
    let calm = token_for(&app, "calm").await;
    let me = format!("{}/api/v1/me", app.base);
    let get = |token: &str| app.http.get(&me).bearer_auth(token).send();

    for i in 0..5 {
        assert_eq!(
            get(&busy).await.unwrap().status(),
            200,
            "request {i} of the burst"
        );
    }
    let refused = get(&busy).await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=1).contains(&retry),
        "120/min gives a cell every 0.5 s: {retry}"
    );
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("слишком много запросов")
    );

    // Another token from the same address, and a signed-in operator, are served.
    assert_eq!(get(&calm).await.unwrap().status(), 200);
    app.user("olga", Role::Operator).await;
    let s = app.sign_in("olga").await;
    let r = app
        .with_cookie(reqwest::Method::GET, "/api/v1/me", &s)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Pages outside the API are not limited by it.
    for _ in 0..10 {
        let r = app
            .http
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // The limit comes back with time (a cell every 0.5 s).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&busy).await.unwrap().status(), 200);

    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("perezvon_rate_limited_total{scope=\"client\"}"))
        .unwrap_or_else(|| panic!("the refusal is counted:\n{metrics}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 1.0, "{line}");
    println!(
        "API rate limit: burst 5 served, the 6th refused with 429 (Retry-After {retry} s), others unaffected, counted"
    );
    db.finish().await;
}

#[tokio::test]
async fn requests_without_a_valid_credential_are_bounded_per_address() {
    let db = TestDb::sqlite().await;
    let config = web(&[
        ("api_address_requests_per_minute", "60"),
        ("api_address_burst", "3"),
    ])
    .unwrap();
    let app = WebApp::spawn_with(&db, config).await;
    let me = format!("{}/api/v1/me", app.base);
    // Guessing tokens: each guess is a new "client", the address limit still holds.
    let mut statuses = vec![];
    for i in 0..5 {
        let r = app
            .http
            .get(&me)
            .bearer_auth(format!("pzv_guess{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    db.finish().await;
}

#[test]
fn a_bad_limit_names_its_key() {
    let e = web(&[("api_burst", "-1")]).unwrap_err();
    assert!(e.to_string().contains("web.api_burst"), "{e}");
    let e = web(&[("api_requests_per_minute", "many")]).unwrap_err();
    assert!(e.to_string().contains("web.api_requests_per_minute"), "{e}");
    let c = web(&[("api_requests_per_minute", "0")]).unwrap();
    assert_eq!(c.web.api.client_per_minute, 0, "0 turns the limit off");
}
