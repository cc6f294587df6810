//! Configuration: built-in defaults, then `perezvon.toml`, then `PEREZVON_*` environment variables.
//!
//! Every setting has a default, so `perezvon serve` with no file at all starts on SQLite under
//! `./var` and listens on 127.0.0.1:8080. A nested key is reached from the environment with a double
//! underscore: `PEREZVON_HOURS__SHORTENED_BY_MINUTES=0` sets `hours.shortened_by_minutes`. Unknown
//! keys and bad values fail at start with an error that names the key (and the variable it came
//! from). Secrets (a password inside `database_url`) never appear in `Debug` output or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use serde::Deserialize;

use crate::calendar::{DayHours, HotlineHours};
use crate::domain::routing::RoutingSettings;

/// An error in the configuration; the message names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config key `{key}`: {message}")]
    Key { key: String, message: String },
}

fn key_err(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Key {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// The raw shape of `perezvon.toml`; validated into [`Config`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawConfig {
    listen: Option<String>,
    metrics_listen: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    data_dir: Option<String>,
    log_format: Option<String>,
    max_body_bytes: Option<NumOrStr>,
    sqlite_synchronous: Option<String>,
    job_lease_seconds: Option<NumOrStr>,
    calendar: RawCalendar,
    hours: RawHours,
    twilio: RawTwilio,
    routing: RawRouting,
    voicemail: RawVoicemail,
    callbacks: callbacks::RawCallbacks,
    web: web::RawWeb,
    schedule: schedule::RawSchedule,
    stats: stats::RawStats,
    zadarma: zadarma::RawZadarma,
    mail: mail::RawMail,
    privacy: privacy::RawPrivacy,
    notify: notify::RawNotify,
    limits: limits::RawLimits,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawVoicemail {
    retention_days: Option<NumOrStr>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawTwilio {
    account_sid: Option<String>,
    auth_token: Option<String>,
    api_base: Option<String>,
    from_number: Option<String>,
    sip_domain: Option<String>,
    speech: Option<String>,
    tts_voice: Option<String>,
    delete_recordings: Option<BoolOrStr>,
    sms_from: Option<String>,
    request_timeout_secs: Option<NumOrStr>,
}

/// Environment variables arrive as strings; booleans in the file arrive as booleans.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum BoolOrStr {
    Bool(bool),
    Str(String),
}

impl BoolOrStr {
    fn to_bool(&self, key: &str) -> Result<bool, ConfigError> {
        match self {
            BoolOrStr::Bool(b) => Ok(*b),
            BoolOrStr::Str(s) => match s.trim() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                other => Err(key_err(key, format!("`{other}` is not true or false"))),
            },
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawRouting {
    ring_timeout_secs: Option<NumOrStr>,
    autopause_after_misses: Option<NumOrStr>,
    wrap_up_secs: Option<NumOrStr>,
    queue_max_wait_secs: Option<NumOrStr>,
    announce_every_secs: Option<NumOrStr>,
    average_handle_secs: Option<NumOrStr>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawCalendar {
    dir: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawHours {
    mon: Option<String>,
    tue: Option<String>,
    wed: Option<String>,
    thu: Option<String>,
    fri: Option<String>,
    sat: Option<String>,
    sun: Option<String>,
    transferred_workday: Option<String>,
    shortened_by_minutes: Option<NumOrStr>,
}

/// Environment variables arrive as strings; numbers in the file arrive as integers.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum NumOrStr {
    Num(i64),
    Str(String),
}

impl NumOrStr {
    fn to_i64(&self, key: &str) -> Result<i64, ConfigError> {
        match self {
            NumOrStr::Num(n) => Ok(*n),
            NumOrStr::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| key_err(key, format!("`{s}` is not a whole number"))),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A database URL whose password is hidden in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The full URL, secrets included: pass it to the driver, never to a log.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// True for `postgres://` and `postgresql://` URLs.
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                f.write_str(u.as_str())
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// A secret string: shown as `***` in `Debug`; use [`Secret::expose`] to pass it on.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself: pass it to the code that needs it, never to a log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// How prompts reach the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speech {
    /// Our recorded clips (`/audio/prompts/...`), played by the provider.
    Clips,
    /// The provider's text-to-speech with this voice (Russian).
    Tts { voice: String },
}

/// The Twilio account (section `[twilio]`); absent when `account_sid` is not set.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    /// REST API base; tests point it at a local fake.
    pub api_base: String,
    /// The hotline's number (caller ID of outbound calls).
    pub from_number: Option<String>,
    /// Domain for dialing PBX extensions as `sip:EXT@domain`.
    pub sip_domain: Option<String>,
    pub speech: Speech,
    /// Delete a recording at Twilio once it is stored here (it is personal data).
    pub delete_recordings: bool,
    /// The SMS sender: an E.164 number or a Messaging Service SID (`MG…`); no SMS without it.
    pub sms_from: Option<String>,
    /// The limit on one REST request, connect included (`request_timeout_secs`, 1–120, default
    /// 10): a hanging API costs a job or a dispatcher move at most this long, then it is retried.
    pub request_timeout: std::time::Duration,
}

/// The validated configuration of one Perezvon instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server binds to.
    pub listen: SocketAddr,
    /// A separate address serving only `/metrics`; `None`: `/metrics` is on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// The base URL providers see (webhook signatures are computed over it); no trailing slash.
    pub public_url: String,
    /// `sqlite://...` or `postgres://...`.
    pub database_url: DatabaseUrl,
    /// Where the SQLite file, recordings and other state live.
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    /// Largest accepted request body; larger requests get 413.
    pub max_body_bytes: usize,
    /// SQLite `synchronous = full` (each commit reaches the disk before the reply) instead of
    /// `normal` (config `sqlite_synchronous`).
    pub sqlite_full_sync: bool,
    /// How long a background job's claim holds without renewal (`job_lease_seconds`, default
    /// 60): a running job renews it every third of that, so this is how soon another instance
    /// takes over the jobs of one that died.
    pub job_lease: TimeDelta,
    /// Directory with `YYYY.toml` production-calendar files that override or add years.
    pub calendar_dir: Option<PathBuf>,
    /// The hotline's opening hours.
    pub hours: HotlineHours,
    /// The Twilio account, if configured.
    pub twilio: Option<TwilioConfig>,
    /// Routing and hold-queue rules.
    pub routing: RoutingSettings,
    /// Recordings older than this are deleted (the voicemail's metadata stays).
    pub retention: TimeDelta,
    /// The callback list (`[callbacks]`).
    pub callbacks: crate::domain::callback::CallbackSettings,
    /// The web workspace (`[web]`).
    pub web: web::WebSettings,
    /// The public schedule page (`[schedule]`).
    pub schedule: ScheduleConfig,
    /// Statistics (`[stats]`).
    pub stats: crate::stats::StatsSettings,
    /// The Zadarma / Novofon account, if configured.
    pub zadarma: Option<ZadarmaConfig>,
    /// The support mailbox (IMAP) and the SMTP server replies leave through, if configured.
    pub mail: Option<MailConfig>,
    /// Retention of personal data (`[privacy]`).
    pub privacy: PrivacySettings,
    /// Staff notifications (`[notify]`).
    pub notify: crate::domain::notify::NotifySettings,
    /// The per-number limits until a supervisor sets them (`[limits]`).
    pub limits: crate::domain::blocklist::CallLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_raw(RawConfig::default()).expect("defaults are valid")
    }
}

const ENV_PREFIX: &str = "PEREZVON_";
/// Variables with the prefix that are not configuration keys.
const ENV_NOT_KEYS: &[&str] = &["PEREZVON_CONFIG", "PEREZVON_LOG"];

impl Config {
    /// Loads defaults, then the file (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with_env(file, std::env::vars())
    }

    /// Like [`Config::load`] with an explicit environment (for tests).
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Syntax {
                        path: path.to_owned(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if ENV_NOT_KEYS.contains(&name.as_str()) || rest.starts_with("TEST_") {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
            insert_path(&mut table, &path, value)
                .map_err(|m| key_err(&path.join("."), format!("{m} (from {name})")))?;
        }
        secrets_from_files(&mut table)?;
        let raw: RawConfig =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                key_err(
                    if key == "." { "(top level)" } else { &key },
                    e.into_inner().to_string(),
                )
            })?;
        Config::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Config, ConfigError> {
        let listen_s = raw.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_s.parse().map_err(|_| {
            key_err(
                "listen",
                format!("`{listen_s}` is not an address like 127.0.0.1:8080"),
            )
        })?;
        let metrics_listen = match raw.metrics_listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let addr: SocketAddr = s.parse().map_err(|_| {
                    key_err(
                        "metrics_listen",
                        format!("`{s}` is not an address like 127.0.0.1:9090"),
                    )
                })?;
                if addr == listen && addr.port() != 0 {
                    return Err(key_err("metrics_listen", "must differ from `listen`"));
                }
                Some(addr)
            }
        };
        let public_url = match raw.public_url {
            Some(u) => {
                let parsed = url::Url::parse(&u)
                    .map_err(|e| key_err("public_url", format!("`{u}` is not a URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(key_err(
                        "public_url",
                        "must be an http:// or https:// URL with a host",
                    ));
                }
                u.trim_end_matches('/').to_owned()
            }
            None => format!("http://{listen}"),
        };
        let data_dir = PathBuf::from(raw.data_dir.unwrap_or_else(|| "./var".into()));
        if data_dir.as_os_str().is_empty() {
            return Err(key_err("data_dir", "must not be empty"));
        }
        let database_url = match raw.database_url {
            Some(u)
                if u.starts_with("sqlite:")
                    || u.starts_with("postgres://")
                    || u.starts_with("postgresql://") =>
            {
                u
            }
            Some(u) => {
                let shown = DatabaseUrl(u);
                return Err(key_err(
                    "database_url",
                    format!("`{shown}` must start with sqlite:// or postgres://"),
                ));
            }
            None => format!("sqlite://{}", data_dir.join("perezvon.db").display()),
        };
        let log_format = match raw.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(key_err(
                    "log_format",
                    format!("`{other}` is not one of text, json"),
                ));
            }
        };
        let sqlite_full_sync = match raw.sqlite_synchronous.as_deref().map(str::trim) {
            None | Some("normal") => false,
            Some("full") => true,
            Some(other) => {
                return Err(key_err(
                    "sqlite_synchronous",
                    format!("`{other}` is not one of normal, full"),
                ));
            }
        };
        let max_body_bytes = match &raw.max_body_bytes {
            Some(v) => {
                let n = v.to_i64("max_body_bytes")?;
                if !(1024..=1 << 30).contains(&n) {
                    return Err(key_err(
                        "max_body_bytes",
                        "must be between 1024 and 1073741824",
                    ));
                }
                n as usize
            }
            None => 1 << 20,
        };
        let job_lease = match int_in_range(&raw.job_lease_seconds, "job_lease_seconds", 2, 3600)? {
            Some(n) => TimeDelta::seconds(n),
            None => TimeDelta::seconds(60),
        };
        let calendar_dir = raw
            .calendar
            .dir
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        let hours = hours_from_raw(&raw.hours)?;
        let twilio = twilio_from_raw(raw.twilio)?;
        let routing = routing_from_raw(&raw.routing)?;
        let retention = match &raw.voicemail.retention_days {
            Some(v) => {
                let key = "voicemail.retention_days";
                let days = v.to_i64(key)?;
                if !(1..=3650).contains(&days) {
                    return Err(key_err(key, "must be between 1 and 3650"));
                }
                TimeDelta::days(days)
            }
            None => TimeDelta::days(90),
        };
        let callbacks = callbacks::callbacks_from_raw(&raw.callbacks)?;
        let web = web::web_from_raw(&raw.web, &public_url)?;
        let schedule = schedule::schedule_from_raw(&raw.schedule, twilio.as_ref())?;
        let stats = stats::stats_from_raw(&raw.stats)?;
        let zadarma = zadarma::zadarma_from_raw(raw.zadarma)?;
        let mail = mail::mail_from_raw(&raw.mail)?;
        let privacy = privacy::privacy_from_raw(&raw.privacy)?;
        let notify = notify::notify_from_raw(&raw.notify)?;
        if !notify.sms.is_empty() && twilio.as_ref().and_then(|t| t.sms_from.as_ref()).is_none() {
            return Err(key_err(
                "notify.sms",
                "SMS notifications need `twilio.sms_from` (the sender)",
            ));
        }
        if !notify.emails.is_empty() && mail.is_none() {
            return Err(key_err(
                "notify.emails",
                "e-mail notifications need the `[mail]` section (its SMTP server and from_address)",
            ));
        }
        let limits = limits::limits_from_raw(&raw.limits)?;
        Ok(Config {
            limits,
            privacy,
            notify,
            stats,
            web,
            callbacks,
            schedule,
            listen,
            metrics_listen,
            public_url,
            database_url: DatabaseUrl(database_url),
            data_dir,
            log_format,
            max_body_bytes,
            sqlite_full_sync,
            job_lease,
            calendar_dir,
            hours,
            twilio,
            zadarma,
            mail,
            routing,
            retention,
        })
    }
}

fn hours_from_raw(raw: &RawHours) -> Result<HotlineHours, ConfigError> {
    let mut hours = HotlineHours::default();
    let days = [
        ("mon", &raw.mon),
        ("tue", &raw.tue),
        ("wed", &raw.wed),
        ("thu", &raw.thu),
        ("fri", &raw.fri),
        ("sat", &raw.sat),
        ("sun", &raw.sun),
    ];
    for (i, (name, value)) in days.into_iter().enumerate() {
        if let Some(v) = value {
            let key = format!("hours.{name}");
            hours.weekly[i] = match v.trim() {
                "" | "closed" => None,
                s => Some(DayHours::parse(s).map_err(|m| key_err(&key, m))?),
            };
        }
    }
    if hours.weekly.iter().all(Option::is_none) {
        return Err(key_err(
            "hours",
            "the hotline must be open on at least one weekday",
        ));
    }
    if let Some(v) = &raw.transferred_workday {
        hours.transferred_workday =
            DayHours::parse(v.trim()).map_err(|m| key_err("hours.transferred_workday", m))?;
    }
    if let Some(v) = &raw.shortened_by_minutes {
        let key = "hours.shortened_by_minutes";
        let m = v.to_i64(key)?;
        if !(0..=240).contains(&m) {
            return Err(key_err(key, "must be between 0 and 240"));
        }
        hours.shortened_by = TimeDelta::minutes(m);
    }
    Ok(hours)
}

fn twilio_from_raw(raw: RawTwilio) -> Result<Option<TwilioConfig>, ConfigError> {
    let nonempty = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let Some(account_sid) = nonempty(raw.account_sid) else {
        if nonempty(raw.auth_token).is_some() {
            return Err(key_err(
                "twilio.account_sid",
                "is required when twilio.auth_token is set",
            ));
        }
        return Ok(None);
    };
    if !account_sid.starts_with("AC") || account_sid.len() != 34 {
        return Err(key_err(
            "twilio.account_sid",
            "must be the 34-character account SID starting with AC",
        ));
    }
    let auth_token = nonempty(raw.auth_token).ok_or_else(|| {
        key_err(
            "twilio.auth_token",
            "is required when twilio.account_sid is set",
        )
    })?;
    let api_base = nonempty(raw.api_base).unwrap_or_else(|| "https://api.twilio.com".into());
    match url::Url::parse(&api_base) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => {
            return Err(key_err(
                "twilio.api_base",
                format!("`{api_base}` is not an http(s) URL"),
            ));
        }
    }
    let from_number = nonempty(raw.from_number);
    if let Some(n) = &from_number {
        crate::domain::operator::validate_contact(crate::domain::operator::ContactKind::Phone, n)
            .map_err(|m| key_err("twilio.from_number", m))?;
    }
    let sms_from = nonempty(raw.sms_from);
    if let Some(v) = &sms_from {
        check_sms_from(v).map_err(|m| key_err("twilio.sms_from", m))?;
    }
    let request_timeout = match &raw.request_timeout_secs {
        Some(v) => {
            let key = "twilio.request_timeout_secs";
            let n = v.to_i64(key)?;
            if !(1..=120).contains(&n) {
                return Err(key_err(key, "must be between 1 and 120"));
            }
            std::time::Duration::from_secs(n as u64)
        }
        None => crate::telephony::twilio::rest::DEFAULT_TIMEOUT,
    };
    let voice = nonempty(raw.tts_voice).unwrap_or_else(|| "Polly.Tatyana".into());
    let speech = match nonempty(raw.speech).as_deref().unwrap_or("clips") {
        "clips" => Speech::Clips,
        "tts" => Speech::Tts { voice },
        other => {
            return Err(key_err(
                "twilio.speech",
                format!("`{other}` is not one of clips, tts"),
            ));
        }
    };
    Ok(Some(TwilioConfig {
        account_sid,
        auth_token: Secret(auth_token),
        api_base: api_base.trim_end_matches('/').to_owned(),
        from_number,
        sip_domain: nonempty(raw.sip_domain),
        speech,
        delete_recordings: match &raw.delete_recordings {
            Some(v) => v.to_bool("twilio.delete_recordings")?,
            None => false,
        },
        sms_from,
        request_timeout,
    }))
}

/// An SMS sender is `+` and 8–15 digits, or `MG` and the 32 hex digits of a Messaging Service SID.
fn check_sms_from(v: &str) -> Result<(), String> {
    let all = |s: &str, f: fn(&u8) -> bool| s.as_bytes().iter().all(f);
    if let Some(digits) = v.strip_prefix('+') {
        if (8..=15).contains(&digits.len()) && all(digits, u8::is_ascii_digit) {
            return Ok(());
        }
    } else if let Some(hex) = v.strip_prefix("MG")
        && hex.len() == 32
        && all(hex, u8::is_ascii_hexdigit)
    {
        return Ok(());
    }
    Err(format!(
        "`{v}` is neither an E.164 number (+ and 8 to 15 digits) \
         nor a Messaging Service SID (MG and 32 hex digits)"
    ))
}

fn routing_from_raw(raw: &RawRouting) -> Result<RoutingSettings, ConfigError> {
    let mut r = RoutingSettings::default();
    let secs = |v: &Option<NumOrStr>,
                key: &str,
                min: i64,
                max: i64,
                into: &mut TimeDelta|
     -> Result<(), ConfigError> {
        if let Some(v) = v {
            let n = v.to_i64(key)?;
            if !(min..=max).contains(&n) {
                return Err(key_err(key, format!("must be between {min} and {max}")));
            }
            *into = TimeDelta::seconds(n);
        }
        Ok(())
    };
    secs(
        &raw.ring_timeout_secs,
        "routing.ring_timeout_secs",
        5,
        120,
        &mut r.ring_timeout,
    )?;
    secs(
        &raw.wrap_up_secs,
        "routing.wrap_up_secs",
        0,
        3600,
        &mut r.wrap_up,
    )?;
    secs(
        &raw.queue_max_wait_secs,
        "routing.queue_max_wait_secs",
        10,
        3600,
        &mut r.queue_max_wait,
    )?;
    secs(
        &raw.announce_every_secs,
        "routing.announce_every_secs",
        10,
        600,
        &mut r.announce_every,
    )?;
    secs(
        &raw.average_handle_secs,
        "routing.average_handle_secs",
        30,
        7200,
        &mut r.average_handle,
    )?;
    if let Some(v) = &raw.autopause_after_misses {
        let n = v.to_i64("routing.autopause_after_misses")?;
        if !(0..=100).contains(&n) {
            return Err(key_err(
                "routing.autopause_after_misses",
                "must be between 0 and 100",
            ));
        }
        r.autopause_after = n as u32;
    }
    Ok(r)
}

/// Sets `path` in a TOML table to a string value, creating tables on the way.
/// Keys whose value may instead be read from a file named by `<key>_file` (a secret mounted by
/// Docker or systemd credentials, say): the file's text without its final line break.
pub const SECRET_KEYS: &[&str] = &[
    "database_url",
    "twilio.auth_token",
    "zadarma.secret",
    "privacy.pseudonym_key",
    "mail.password",
    "mail.smtp_password",
];

/// Replaces each `<secret>_file` of [`SECRET_KEYS`] by the file's contents under `<secret>`.
fn secrets_from_files(table: &mut toml::Table) -> Result<(), ConfigError> {
    for key in SECRET_KEYS {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        let (last, parents) = path.split_last().expect("a key has a name");
        let Some(t) = section(table, parents) else {
            continue;
        };
        let Some(file) = t.remove(&format!("{last}_file")) else {
            continue;
        };
        let named = format!("{key}_file");
        let Some(file) = file.as_str().map(str::trim).filter(|f| !f.is_empty()) else {
            return Err(key_err(&named, "must be the path of a file"));
        };
        if t.get(last.as_str())
            .and_then(toml::Value::as_str)
            .is_some_and(|v| !v.is_empty())
        {
            return Err(key_err(
                &named,
                format!("give `{key}` or `{named}`, not both"),
            ));
        }
        let text = std::fs::read_to_string(file)
            .map_err(|e| key_err(&named, format!("cannot read {file}: {e}")))?;
        let value = text.strip_suffix('\n').unwrap_or(&text);
        let value = value.strip_suffix('\r').unwrap_or(value);
        if value.is_empty() {
            return Err(key_err(&named, format!("{file} is empty")));
        }
        t.insert(last.clone(), toml::Value::String(value.to_owned()));
    }
    Ok(())
}

/// The section at `path`, if the configuration has it.
fn section<'a>(table: &'a mut toml::Table, path: &[String]) -> Option<&'a mut toml::Table> {
    let mut t = table;
    for p in path {
        t = t.get_mut(p)?.as_table_mut()?;
    }
    Some(t)
}

fn insert_path(table: &mut toml::Table, path: &[String], value: String) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` is not a section"))?;
    }
    t.insert(last.clone(), toml::Value::String(value));
    Ok(())
}

mod callbacks;
/// An optional integer key within `min..=max`; the error names the key.
fn int_in_range(
    v: &Option<NumOrStr>,
    key: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ConfigError> {
    let Some(v) = v else { return Ok(None) };
    let n = v.to_i64(key)?;
    if !(min..=max).contains(&n) {
        return Err(key_err(key, format!("must be between {min} and {max}")));
    }
    Ok(Some(n))
}

pub mod limits;
mod mail;
mod notify;
mod privacy;
mod schedule;
mod stats;
mod zadarma;
pub use mail::MailConfig;
pub use privacy::PrivacySettings;
pub use schedule::ScheduleConfig;
pub use zadarma::ZadarmaConfig;
#[cfg(test)]
mod tests;
pub mod web;
