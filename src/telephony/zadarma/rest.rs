//! A client for Zadarma's REST API (`https://api.zadarma.com`, PROVIDERS.md §2.5): signed
//! requests under the API's rate limit, click-to-call and the balance (the recording methods are
//! in [`super::recordings`]).
//!
//! Every request carries `format=json` and the `Authorization: key:signature` header of [`api`];
//! like the official PHP client (`lib/Client.php`), a GET sends the parameters as its query and
//! POST, PUT and DELETE send them as a form body. Zadarma reports a refusal as JSON
//! `{"status":"error","message":…}` (with HTTP 200 or 4xx), which becomes [`ZadarmaError::Api`].
//! Requests wait for a slot of the shared [`RateLimiter`] (100 a minute); a 429 becomes
//! [`ZadarmaError::RateLimited`] and holds back every request until `X-RateLimit-Reset`. Errors
//! say whether a retry may help ([`ZadarmaError::is_retryable`]); messages from Zadarma have phone
//! numbers masked; the API secret never appears in `Debug` output, errors or logs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::Value;

use super::api::{params_string, signature_for, with_format};
use super::ratelimit::{self, RateLimiter};
use crate::domain::phone::mask_in_text;

/// Zadarma's production API.
pub const DEFAULT_API_BASE: &str = "https://api.zadarma.com";
/// Zadarma's sandbox.
pub const SANDBOX_API_BASE: &str = "https://api-sandbox.zadarma.com";
/// The limit on a whole request, connect included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed Zadarma REST call.
#[derive(Debug, thiserror::Error)]
pub enum ZadarmaError {
    #[error("Zadarma did not answer within the request timeout (a retry may help)")]
    Timeout,
    #[error("cannot reach Zadarma (a retry may help): {0}")]
    Transport(#[source] reqwest::Error),
    #[error("Zadarma answered HTTP {status}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Http {
        status: u16,
        message: Option<String>,
    },
    #[error("Zadarma refused the request (HTTP {status}): {message}")]
    Api { status: u16, message: String },
    #[error("Zadarma's rate limit is reached: retry in {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("unexpected answer from Zadarma: {0}")]
    Decode(String),
    #[error("invalid Zadarma request: {0}")]
    Invalid(String),
}

impl ZadarmaError {
    /// True when the same request may succeed later (timeouts, transport errors, 5xx, 429).
    pub fn is_retryable(&self) -> bool {
        match self {
            ZadarmaError::Timeout
            | ZadarmaError::Transport(_)
            | ZadarmaError::RateLimited { .. } => true,
            ZadarmaError::Http { status, .. } | ZadarmaError::Api { status, .. } => {
                *status >= 500 || *status == 429
            }
            ZadarmaError::Decode(_) | ZadarmaError::Invalid(_) => false,
        }
    }

    /// True when Zadarma says the thing asked for does not exist (HTTP 404, or a refusal saying
    /// "not found").
    pub fn is_not_found(&self) -> bool {
        match self {
            ZadarmaError::Http { status, .. } => *status == 404,
            ZadarmaError::Api { status, message } => {
                *status == 404 || message.to_ascii_lowercase().contains("not found")
            }
            _ => false,
        }
    }
}

/// A Zadarma REST API client for one API key; clones share the connection pool and rate limit.
#[derive(Clone)]
pub struct ZadarmaClient {
    pub(super) http: reqwest::Client,
    api_base: String,
    key: String,
    secret: String,
    pub(super) limiter: RateLimiter,
}

impl std::fmt::Debug for ZadarmaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZadarmaClient")
            .field("api_base", &self.api_base)
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl ZadarmaClient {
    /// A client with the [`DEFAULT_TIMEOUT`] and Zadarma's limit of 100 requests a minute;
    /// `api_base` is usually [`DEFAULT_API_BASE`].
    pub fn new(api_base: &str, key: &str, secret: &str) -> Result<Self, ZadarmaError> {
        Self::with_limits(
            api_base,
            key,
            secret,
            DEFAULT_TIMEOUT,
            RateLimiter::new(ratelimit::LIMIT, ratelimit::WINDOW),
        )
    }

    /// A client whose requests give up after `timeout` and wait for slots of `limiter`.
    pub fn with_limits(
        api_base: &str,
        key: &str,
        secret: &str,
        timeout: Duration,
        limiter: RateLimiter,
    ) -> Result<Self, ZadarmaError> {
        let printable = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
        if !printable(key) || !printable(secret) {
            return Err(ZadarmaError::Invalid(
                "the API key and secret must be non-empty printable ASCII".into(),
            ));
        }
        let base = url::Url::parse(api_base)
            .map_err(|e| ZadarmaError::Invalid(format!("bad API base URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ZadarmaError::Invalid(
                "the API base URL must be http(s)".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(ZadarmaError::Transport)?;
        Ok(ZadarmaClient {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            secret: secret.to_owned(),
            limiter,
        })
    }

    /// Calls API method `path` (with version and trailing slash, e.g. `/v1/info/balance/`);
    /// returns the JSON answer of a success.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, ZadarmaError> {
        if !path.starts_with("/v") || !path.ends_with('/') || path.contains(['?', '#', ' ']) {
            return Err(ZadarmaError::Invalid(format!(
                "API method `{path}` must be a path like /v1/info/balance/"
            )));
        }
        let sent = with_format(params);
        let pairs: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let params_str = params_string(&pairs);
        let auth = format!(
            "{}:{}",
            self.key,
            signature_for(&self.secret, path, &params_str)
        );
        let url = format!("{}{path}", self.api_base);
        let request = if method == Method::GET {
            self.http.get(format!("{url}?{params_str}"))
        } else {
            self.http
                .request(method.clone(), url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(params_str)
        };
        self.limiter.acquire().await;
        let response = request
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(remaining) = header("x-ratelimit-remaining") {
            tracing::debug!(%method, path, remaining = %remaining, "Zadarma API quota left");
        }
        if status == 429 {
            let retry_after =
                ratelimit::retry_after(header("x-ratelimit-reset").as_deref(), unix_now());
            self.limiter.block_for(retry_after);
            tracing::warn!(%method, path, retry_after_s = retry_after.as_secs(), "Zadarma API rate limit hit");
            return Err(ZadarmaError::RateLimited { retry_after });
        }
        let bytes = response.bytes().await.map_err(transport)?;
        let ok = (200..300).contains(&status);
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(json) if json.get("status").and_then(Value::as_str) == Some("error") => {
                Err(ZadarmaError::Api {
                    status,
                    message: message_of(&json),
                })
            }
            Ok(json) if ok => Ok(json),
            Ok(json) => Err(ZadarmaError::Http {
                status,
                message: Some(message_of(&json)),
            }),
            Err(_) if !ok => Err(ZadarmaError::Http {
                status,
                message: None,
            }),
            Err(e) => Err(ZadarmaError::Decode(format!("the answer is not JSON: {e}"))),
        }
    }

    /// Asks Zadarma to call `from` (an extension, SIP id or number) and then connect `to` (digits
    /// without `+`); with `predicted`, Zadarma calls `to` first and bridges once it answers.
    pub async fn request_callback(
        &self,
        from: &str,
        to: &str,
        predicted: bool,
    ) -> Result<(), ZadarmaError> {
        let mut params = vec![("from", from), ("to", to)];
        if predicted {
            params.push(("predicted", "1"));
        }
        self.call(Method::GET, "/v1/request/callback/", &params)
            .await?;
        Ok(())
    }

    /// The account balance (`{"status":"success","balance":…,"currency":…}`): a harmless call to
    /// check the key and secret.
    pub async fn balance(&self) -> Result<Value, ZadarmaError> {
        self.call(Method::GET, "/v1/info/balance/", &[]).await
    }
}

/// Zadarma's `message`, numbers masked.
fn message_of(json: &Value) -> String {
    mask_in_text(
        json.get("message")
            .and_then(Value::as_str)
            .unwrap_or("(no message)"),
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(super) fn transport(e: reqwest::Error) -> ZadarmaError {
    if e.is_timeout() {
        ZadarmaError::Timeout
    } else {
        ZadarmaError::Transport(e.without_url())
    }
}
