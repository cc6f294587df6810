//! Twilio fixtures shared by the end-to-end tests: the fake account, the public URL the app is
//! configured with, a configuration that points Twilio's REST API at a local fake, and webhooks
//! signed exactly as Twilio signs them.

use chrono::{DateTime, TimeZone, Utc};
use perezvon::config::{Config, Secret, Speech, TwilioConfig};
use perezvon::telephony::twilio::{Route, expected_signature, route_path};

pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "test-auth-token";
pub const PUBLIC: &str = "https://hotline.example.ru";
/// The hotline's number: the caller ID of outbound calls.
pub const HOTLINE: &str = "+74950000000";
pub const SIP_DOMAIN: &str = "pbx.school.example";

/// A Moscow wall-clock time as an instant.
pub fn msk(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Moscow
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// The defaults, with Twilio configured against a fake REST API at `api_base`.
pub fn config(api_base: &str) -> Config {
    Config {
        public_url: PUBLIC.into(),
        twilio: Some(TwilioConfig {
            account_sid: SID.into(),
            auth_token: Secret::new(TOKEN),
            api_base: api_base.into(),
            from_number: Some(HOTLINE.into()),
            sip_domain: Some(SIP_DOMAIN.into()),
            speech: Speech::Clips,
            delete_recordings: false,
            sms_from: None,
            request_timeout: perezvon::telephony::twilio::rest::DEFAULT_TIMEOUT,
        }),
        ..Config::default()
    }
}

/// Form parameters as owned pairs.
pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `X-Twilio-Signature` Twilio sends for `form` posted to `path` (with its query).
pub fn signature(path: &str, form: &[(String, String)]) -> String {
    expected_signature(TOKEN, &format!("{PUBLIC}{path}"), form)
}

/// Posts `form` to the app at `base` as Twilio posts to `route`, signed; returns status and body.
pub async fn post_signed(
    http: &reqwest::Client,
    base: &str,
    route: &Route,
    form: &[(&str, &str)],
) -> (u16, String) {
    let path = route_path(route);
    let p = params(form);
    let r = http
        .post(format!("{base}{path}"))
        .header("X-Twilio-Signature", signature(&path, &p))
        .form(&p)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}
