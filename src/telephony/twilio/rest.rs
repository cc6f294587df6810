//! A small client for the Twilio REST API: redirecting a live call, placing an outbound call and
//! sending an SMS.
//!
//! TwiML can only say what a call does next when Twilio asks; to move a caller who is waiting in
//! the hold queue to an operator who just became free, we redirect the call to new TwiML
//! (`POST …/Calls/{CallSid}.json` with `Url`), and a scheduled callback is a new outbound call
//! (`POST …/Calls.json`, PROVIDERS.md §1.12). An SMS is a new Message (`POST …/Messages.json`),
//! sent `From` our number or through a Messaging Service (`MessagingServiceSid`, `MG…`). Requests
//! are form-encoded with HTTP Basic auth `AccountSid:AuthToken` and a request timeout. Errors say
//! whether a retry may help: transport failures, timeouts, 5xx and 429 may; other 4xx carry
//! Twilio's error `code` and `message` and will not. Note that a timed-out `create_call` or
//! `send_sms` may still have placed the call or sent the message (these creates are not
//! idempotent). The base URL is configurable so tests can point the client at a local fake; the
//! auth token never appears in `Debug` output or errors.

use std::time::Duration;

use serde::Deserialize;

use crate::domain::phone::mask_in_text as mask_numbers;

/// Twilio's production API.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";
/// The default limit on a whole request, connect included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The status-callback events requested for outbound calls (sent as repeated form parameters).
pub const STATUS_CALLBACK_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];
/// The longest SMS body Twilio accepts, in characters (it is split into segments on the way).
pub const SMS_MAX_CHARS: usize = 1600;

/// A failed Twilio REST call.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    #[error("Twilio did not answer within the request timeout")]
    Timeout,
    #[error("cannot reach Twilio: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("Twilio answered HTTP {status}{}", detail(*code, message.as_deref()))]
    Http {
        status: u16,
        code: Option<i64>,
        message: Option<String>,
    },
    #[error("unexpected answer from Twilio: {0}")]
    Decode(String),
    #[error("invalid Twilio request: {0}")]
    Invalid(String),
}

fn detail(code: Option<i64>, message: Option<&str>) -> String {
    match (code, message) {
        (Some(code), Some(message)) => format!(" (error {code}: {message})"),
        (Some(code), None) => format!(" (error {code})"),
        (None, Some(message)) => format!(" ({message})"),
        (None, None) => String::new(),
    }
}

impl TwilioError {
    /// True when the same request may succeed later (timeouts, transport errors, 5xx, 429).
    pub fn is_retryable(&self) -> bool {
        match self {
            TwilioError::Timeout | TwilioError::Transport(_) => true,
            TwilioError::Http { status, .. } => *status >= 500 || *status == 429,
            TwilioError::Decode(_) | TwilioError::Invalid(_) => false,
        }
    }
}

/// An outbound call to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCall {
    /// The number or SIP URI to call.
    pub to: String,
    /// Our Twilio number shown to the callee.
    pub from: String,
    /// The TwiML URL Twilio requests (POST) once the callee answers.
    pub url: String,
    /// Where Twilio posts the call's status changes (all of [`STATUS_CALLBACK_EVENTS`]).
    pub status_callback: Option<String>,
    /// How long to ring, in seconds.
    pub timeout_secs: u32,
}

/// A Twilio REST API client for one account.
#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    api_base: String,
    account_sid: String,
    auth_token: String,
}

impl std::fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioClient")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

/// The part of a created Call or Message resource we read.
#[derive(Deserialize)]
struct CreatedResource {
    sid: String,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

/// A SID goes into the URL path: only letters and digits are accepted.
fn check_sid(what: &str, sid: &str) -> Result<(), TwilioError> {
    if !sid.is_empty() && sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(TwilioError::Invalid(format!(
            "{what} must be letters and digits"
        )))
    }
}

impl TwilioClient {
    /// A client with the [`DEFAULT_TIMEOUT`]; `api_base` is usually [`DEFAULT_API_BASE`].
    pub fn new(api_base: &str, account_sid: &str, auth_token: &str) -> Result<Self, TwilioError> {
        Self::with_timeout(api_base, account_sid, auth_token, DEFAULT_TIMEOUT)
    }

    /// A client whose requests give up after `timeout`.
    pub fn with_timeout(
        api_base: &str,
        account_sid: &str,
        auth_token: &str,
        timeout: Duration,
    ) -> Result<Self, TwilioError> {
        check_sid("the account SID", account_sid)?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(TwilioError::Transport)?;
        Ok(TwilioClient {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
        })
    }

    fn calls_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Calls",
            self.api_base, self.account_sid
        )
    }

    /// Makes a live call fetch new TwiML from `url` (POST), e.g. to leave the queue for an operator.
    pub async fn redirect_call(&self, call_sid: &str, url: &str) -> Result<(), TwilioError> {
        check_sid("the call SID", call_sid)?;
        let form = [("Url", url), ("Method", "POST")];
        self.post(&format!("{}/{call_sid}.json", self.calls_url()), &form)
            .await?;
        Ok(())
    }

    /// Places an outbound call; returns its call SID.
    pub async fn create_call(&self, call: &CreateCall) -> Result<String, TwilioError> {
        let timeout = call.timeout_secs.to_string();
        let mut form = vec![
            ("To", call.to.as_str()),
            ("From", call.from.as_str()),
            ("Url", call.url.as_str()),
            ("Method", "POST"),
            ("Timeout", timeout.as_str()),
        ];
        if let Some(callback) = &call.status_callback {
            form.push(("StatusCallback", callback.as_str()));
            form.push(("StatusCallbackMethod", "POST"));
            form.extend(
                STATUS_CALLBACK_EVENTS
                    .iter()
                    .map(|event| ("StatusCallbackEvent", *event)),
            );
        }
        let body = self
            .post(&format!("{}.json", self.calls_url()), &form)
            .await?;
        let call: CreatedResource = serde_json::from_slice(&body)
            .map_err(|e| TwilioError::Decode(format!("no call `sid` in the answer: {e}")))?;
        Ok(call.sid)
    }

    /// Sends an SMS `body` to `to`; returns the message SID (`SM…`). `from` is our sender number
    /// (E.164), or a Messaging Service SID (`MG…`), which is then sent as `MessagingServiceSid`
    /// instead of `From`. With `status_callback`, Twilio posts the message's delivery status there.
    /// Twilio's refusals (e.g. 21211 invalid `To`, 21610 recipient unsubscribed) come back as
    /// `Http { status: 400, code, .. }` with the numbers in the message masked.
    pub async fn send_sms(
        &self,
        to: &str,
        from: &str,
        body: &str,
        status_callback: Option<&str>,
    ) -> Result<String, TwilioError> {
        if body.trim().is_empty() {
            return Err(TwilioError::Invalid("the SMS body is empty".into()));
        }
        let chars = body.chars().count();
        if chars > SMS_MAX_CHARS {
            return Err(TwilioError::Invalid(format!(
                "the SMS body has {chars} characters, more than {SMS_MAX_CHARS}"
            )));
        }
        let sender = if from.starts_with("MG") {
            check_sid("the Messaging Service SID", from)?;
            "MessagingServiceSid"
        } else {
            "From"
        };
        let mut form = vec![("To", to), (sender, from), ("Body", body)];
        if let Some(callback) = status_callback {
            form.push(("StatusCallback", callback));
        }
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_base, self.account_sid
        );
        let answer = self.post(&url, &form).await?;
        let message: CreatedResource = serde_json::from_slice(&answer)
            .map_err(|e| TwilioError::Decode(format!("no message `sid` in the answer: {e}")))?;
        Ok(message.sid)
    }

    /// Downloads a recording as WAV: `RecordingUrl` + `.wav` (PROVIDERS.md §1.6), always with Basic
    /// auth, following redirects, at most `max_bytes`. A 404 is `Http { status: 404 }`.
    pub async fn fetch_recording(
        &self,
        recording_url: &str,
        max_bytes: usize,
    ) -> Result<Vec<u8>, TwilioError> {
        let url = if recording_url
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
        {
            recording_url.to_owned()
        } else {
            format!("{recording_url}.wav")
        };
        let mut response = self
            .http
            .get(&url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(TwilioError::Http {
                status: status.as_u16(),
                code: None,
                message: None,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(TwilioError::Invalid(format!(
                    "recording larger than {max_bytes} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Deletes a recording at Twilio (personal data, once we have stored it).
    pub async fn delete_recording(&self, recording_sid: &str) -> Result<(), TwilioError> {
        check_sid("the recording SID", recording_sid)?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Recordings/{recording_sid}.json",
            self.api_base, self.account_sid
        );
        let response = self
            .http
            .delete(&url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status.is_success() || status.as_u16() == 404 {
            return Ok(());
        }
        Err(TwilioError::Http {
            status: status.as_u16(),
            code: None,
            message: None,
        })
    }

    /// Reads the account (`GET …/Accounts/{sid}.json`): a harmless call proving the credentials;
    /// returns the account's status (`active`, `suspended`, `closed`).
    pub async fn account_status(&self) -> Result<String, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}.json",
            self.api_base, self.account_sid
        );
        let response = self
            .http
            .get(&url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            let error: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(TwilioError::Http {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
            });
        }
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| TwilioError::Decode(e.to_string()))?;
        Ok(v["status"].as_str().unwrap_or("unknown").to_owned())
    }

    /// POSTs a form; returns the body of a 2xx answer.
    async fn post(&self, url: &str, form: &[(&str, &str)]) -> Result<Vec<u8>, TwilioError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .http
            .post(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let error: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
        let message = error.message.as_deref().map(mask_numbers);
        Err(TwilioError::Http {
            status: status.as_u16(),
            code: error.code,
            message,
        })
    }
}

fn transport(e: reqwest::Error) -> TwilioError {
    if e.is_timeout() {
        TwilioError::Timeout
    } else {
        TwilioError::Transport(e.without_url())
    }
}
