//! The `[web]` section: sign-in sessions of the workspace (idle and absolute lifetimes), the
//! sign-in throttle, the default lifetime of API tokens, and which request header names the
//! client's address when Perezvon runs behind a proxy. Every key is optional; a bad value names its
//! key.

use chrono::TimeDelta;
use serde::Deserialize;

use super::{ConfigError, NumOrStr, int_in_range as int, key_err};

/// Settings of the web workspace.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// A session unused this long ends (`web.session_idle_minutes`, default 120).
    pub session_idle: TimeDelta,
    /// A session ends this long after sign-in whatever happens (`web.session_max_hours`, default 12).
    pub session_max: TimeDelta,
    /// Failed sign-ins allowed per login within the window (`web.login_max_failures`, default 5).
    pub login_max_failures: i64,
    /// Failed sign-ins allowed per client address within the window
    /// (`web.address_max_failures`, default 20).
    pub address_max_failures: i64,
    /// The throttle's window (`web.login_window_minutes`, default 15).
    pub login_window: TimeDelta,
    /// Days until a new API token expires unless told otherwise (`web.token_days`, default 90).
    pub token_days: u32,
    /// A header set by the reverse proxy with the client's address, e.g. `X-Real-IP`
    /// (`web.client_ip_header`; default none: the TCP peer's address is used).
    pub client_ip_header: Option<String>,
    /// Cookies get `Secure` (true when `public_url` is https).
    pub secure_cookies: bool,
    /// Rate limits on the REST API.
    pub api: ApiLimits,
}

/// Rate limits on the REST API (`web.api_*`); a rate of 0 turns that limit off.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiLimits {
    /// Requests per minute per token or signed-in user (`web.api_requests_per_minute`, default 600).
    pub client_per_minute: u32,
    /// Requests a client may make at once above its rate (`web.api_burst`, default 120).
    pub client_burst: u32,
    /// Requests per minute per client address (`web.api_address_requests_per_minute`, default 3000).
    pub address_per_minute: u32,
    /// Burst per client address (`web.api_address_burst`, default 600).
    pub address_burst: u32,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            client_per_minute: 600,
            client_burst: 120,
            address_per_minute: 3000,
            address_burst: 600,
        }
    }
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            session_idle: TimeDelta::minutes(120),
            session_max: TimeDelta::hours(12),
            login_max_failures: 5,
            address_max_failures: 20,
            login_window: TimeDelta::minutes(15),
            token_days: 90,
            client_ip_header: None,
            secure_cookies: false,
            api: ApiLimits::default(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawWeb {
    session_idle_minutes: Option<NumOrStr>,
    session_max_hours: Option<NumOrStr>,
    login_max_failures: Option<NumOrStr>,
    address_max_failures: Option<NumOrStr>,
    login_window_minutes: Option<NumOrStr>,
    token_days: Option<NumOrStr>,
    client_ip_header: Option<String>,
    api_requests_per_minute: Option<NumOrStr>,
    api_burst: Option<NumOrStr>,
    api_address_requests_per_minute: Option<NumOrStr>,
    api_address_burst: Option<NumOrStr>,
}

pub(super) fn web_from_raw(raw: &RawWeb, public_url: &str) -> Result<WebSettings, ConfigError> {
    let mut s = WebSettings {
        secure_cookies: public_url.starts_with("https://"),
        ..WebSettings::default()
    };
    if let Some(n) = int(
        &raw.session_idle_minutes,
        "web.session_idle_minutes",
        5,
        7 * 24 * 60,
    )? {
        s.session_idle = TimeDelta::minutes(n);
    }
    if let Some(n) = int(&raw.session_max_hours, "web.session_max_hours", 1, 30 * 24)? {
        s.session_max = TimeDelta::hours(n);
    }
    if s.session_idle > s.session_max {
        return Err(key_err(
            "web.session_idle_minutes",
            "must not be longer than web.session_max_hours",
        ));
    }
    if let Some(n) = int(&raw.login_max_failures, "web.login_max_failures", 1, 1000)? {
        s.login_max_failures = n;
    }
    if let Some(n) = int(
        &raw.address_max_failures,
        "web.address_max_failures",
        1,
        100_000,
    )? {
        s.address_max_failures = n;
    }
    if let Some(n) = int(
        &raw.login_window_minutes,
        "web.login_window_minutes",
        1,
        24 * 60,
    )? {
        s.login_window = TimeDelta::minutes(n);
    }
    if let Some(n) = int(&raw.token_days, "web.token_days", 1, 3650)? {
        s.token_days = n as u32;
    }
    if let Some(h) = &raw.client_ip_header {
        let h = h.trim();
        if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() {
            return Err(key_err(
                "web.client_ip_header",
                format!("`{h}` is not a header name"),
            ));
        }
        s.client_ip_header = (!h.is_empty()).then(|| h.to_ascii_lowercase());
    }
    let api = [
        (
            &raw.api_requests_per_minute,
            "web.api_requests_per_minute",
            &mut s.api.client_per_minute,
        ),
        (&raw.api_burst, "web.api_burst", &mut s.api.client_burst),
        (
            &raw.api_address_requests_per_minute,
            "web.api_address_requests_per_minute",
            &mut s.api.address_per_minute,
        ),
        (
            &raw.api_address_burst,
            "web.api_address_burst",
            &mut s.api.address_burst,
        ),
    ];
    for (value, key, field) in api {
        if let Some(n) = int(value, key, 0, 1_000_000)? {
            *field = n as u32;
        }
    }
    Ok(s)
}
