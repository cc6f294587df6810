//! The REST client against the fake Zadarma: signed GET and POST, refusals as `Api` or `Http`
//! errors, a 429 and its `X-RateLimit-Reset`, and the client-side rate limit shared by clones.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::fake::{KEY, SECRET, client, ok, received, route, zadarma};
use crate::telephony::zadarma::ratelimit::{self, RateLimiter};
use crate::telephony::zadarma::{ZadarmaClient, ZadarmaError};

#[tokio::test]
async fn a_signed_get_is_accepted() {
    let server = zadarma().await;
    let balance = json!({"status": "success", "balance": 10.5, "currency": "RUB"});
    route(&server, "GET", "/v1/info/balance/", ok(balance.clone())).await;
    assert_eq!(client(&server).balance().await.unwrap(), balance);
    let requests = received(&server).await;
    assert_eq!(requests[0].url.query(), Some("format=json"));
}

#[tokio::test]
async fn a_signed_post_sends_a_sorted_form_body() {
    let server = zadarma().await;
    route(
        &server,
        "POST",
        "/v1/sms/send/",
        ok(json!({"status": "success"})),
    )
    .await;
    let params = [("number", "79001234567"), ("message", "Перезвоним ~ a*b c")];
    let answer = client(&server)
        .call(Method::POST, "/v1/sms/send/", &params)
        .await
        .unwrap();
    assert_eq!(answer["status"], "success");
    let request = &received(&server).await[0];
    assert_eq!(request.url.query(), None);
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let body = String::from_utf8_lossy(&request.body);
    assert!(body.starts_with("format=json&message=%D0%9F"), "{body}");
    assert!(body.ends_with("+%7E+a%2Ab+c&number=79001234567"), "{body}");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_as_an_api_error() {
    let server = zadarma().await;
    route(
        &server,
        "GET",
        "/v1/info/balance/",
        ok(json!({"status": "success"})),
    )
    .await;
    let wrong = ZadarmaClient::new(&server.uri(), KEY, "not-the-secret").unwrap();
    let error = wrong.balance().await.unwrap_err();
    match &error {
        ZadarmaError::Api { status, message } => {
            assert_eq!(*status, 401);
            assert!(message.contains("wrong signature"), "{message}");
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn an_error_status_with_http_200_is_an_api_error_with_numbers_masked() {
    let server = zadarma().await;
    let refusal = json!({"status": "error", "message": "Wrong number 79001234567"});
    route(&server, "GET", "/v1/request/callback/", ok(refusal)).await;
    let error = client(&server)
        .request_callback("100", "79001234567", false)
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, ZadarmaError::Api { status: 200, .. }),
        "{error:?}"
    );
    assert!(
        !text.contains("79001234567") && text.contains("4567"),
        "{text}"
    );
}

#[tokio::test]
async fn a_5xx_without_json_is_a_retryable_http_error() {
    let server = zadarma().await;
    route(
        &server,
        "GET",
        "/v1/info/balance/",
        ResponseTemplate::new(502).set_body_string("<html>"),
    )
    .await;
    let error = client(&server).balance().await.unwrap_err();
    assert!(
        matches!(
            error,
            ZadarmaError::Http {
                status: 502,
                message: None
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn bad_paths_and_credentials_are_invalid_without_a_request() {
    let server = zadarma().await;
    let c = client(&server);
    let error = c
        .call(Method::GET, "/v1/info/balance", &[])
        .await
        .unwrap_err();
    assert!(matches!(error, ZadarmaError::Invalid(_)), "{error:?}");
    assert!(received(&server).await.is_empty());
    assert!(ZadarmaClient::new(&server.uri(), KEY, "").is_err());
    assert!(ZadarmaClient::new("ftp://x", KEY, SECRET).is_err());
    let debug = format!("{c:?}");
    assert!(
        !debug.contains(SECRET) && debug.contains("redacted"),
        "{debug}"
    );
}

#[tokio::test]
async fn a_429_reports_the_reset_and_holds_back_the_next_request() {
    let server = zadarma().await;
    Mock::given(method("GET"))
        .and(path("/v1/info/balance/"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-RateLimit-Reset", "1")
                .insert_header("X-RateLimit-Remaining", "0"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    route(
        &server,
        "GET",
        "/v1/info/balance/",
        ok(json!({"status": "success"})),
    )
    .await;
    let c = client(&server);
    let error = c.balance().await.unwrap_err();
    match error {
        ZadarmaError::RateLimited { retry_after } => {
            assert_eq!(retry_after, Duration::from_secs(1))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    let started = Instant::now();
    // A clone shares the block.
    c.clone().balance().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(received(&server).await.len(), 2);
}

#[test]
fn retry_after_reads_seconds_timestamps_or_defaults() {
    let now = 1_714_564_800;
    assert_eq!(
        ratelimit::retry_after(Some("30"), now),
        Duration::from_secs(30)
    );
    assert_eq!(
        ratelimit::retry_after(Some("1714564920"), now),
        Duration::from_secs(120)
    );
    assert_eq!(
        ratelimit::retry_after(Some("1714564000"), now),
        Duration::ZERO
    );
    assert_eq!(ratelimit::retry_after(None, now), Duration::from_secs(60));
    assert_eq!(
        ratelimit::retry_after(Some("soon"), now),
        Duration::from_secs(60)
    );
    assert_eq!(
        ratelimit::retry_after(Some("999999"), now),
        ratelimit::MAX_RETRY_AFTER
    );
}

#[tokio::test]
async fn the_limiter_makes_requests_over_the_limit_wait_across_clones() {
    let server = zadarma().await;
    route(
        &server,
        "GET",
        "/v1/info/balance/",
        ok(json!({"status": "success"})),
    )
    .await;
    let limiter = RateLimiter::new(2, Duration::from_millis(500));
    let c = ZadarmaClient::with_limits(&server.uri(), KEY, SECRET, Duration::from_secs(5), limiter)
        .unwrap();
    let started = Instant::now();
    c.balance().await.unwrap();
    c.clone().balance().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(450));
    c.clone().balance().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(480),
        "{:?}",
        started.elapsed()
    );
}
