//! A fake of Twilio's REST API, just the parts Perezvon calls: redirecting a live call
//! (`POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with `Url` and `Method`) and
//! downloading and deleting a recording (`GET …/Recordings/{RecordingSid}[.wav]`, a made-up WAV;
//! `DELETE …/Recordings/{RecordingSid}.json`).
//!
//! The dispatcher of the instance under test uses it to move a queued caller to a freed operator.
//! The fake checks HTTP Basic auth (`AccountSid:AuthToken`) as Twilio does, then hands the `Url` to
//! the simulated call with that `CallSid` through its [`Mailboxes`] entry; the call follows it as
//! Twilio would. Errors use Twilio's JSON shape `{"code", "message", "status"}`: 401/20003 for bad
//! credentials, 404/20404 for a call that never existed, 400/21220 ("Call is not in-progress")
//! for a call that is over, 400/21205 ("Invalid URL") without a `Url`. It listens on a loopback address only.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// Where redirects for live simulated calls are delivered.
#[derive(Default)]
pub struct Mailboxes {
    live: Mutex<HashMap<String, UnboundedSender<String>>>,
    ended: Mutex<HashSet<String>>,
    /// Recordings by `RecordingSid`: their length in seconds.
    recordings: Mutex<HashMap<String, u32>>,
    /// Redirects handed to a live call.
    pub delivered: AtomicUsize,
    /// Redirects refused because the call was over or unknown.
    pub refused: AtomicUsize,
}

/// What became of a redirect.
enum Delivery {
    Delivered,
    Ended,
    Unknown,
}

impl Mailboxes {
    /// Registers a live call; its redirects arrive on the returned receiver.
    pub fn open(&self, call_sid: &str) -> UnboundedReceiver<String> {
        let (tx, rx) = unbounded_channel();
        lock(&self.live).insert(call_sid.to_owned(), tx);
        rx
    }

    /// The call is over: later redirects are refused as Twilio refuses them.
    pub fn close(&self, call_sid: &str) {
        lock(&self.live).remove(call_sid);
        lock(&self.ended).insert(call_sid.to_owned());
    }

    /// Keeps a recording of `secs` seconds for download.
    pub fn add_recording(&self, recording_sid: &str, secs: u32) {
        lock(&self.recordings).insert(recording_sid.to_owned(), secs);
    }

    fn deliver(&self, call_sid: &str, url: String) -> Delivery {
        let sent = lock(&self.live)
            .get(call_sid)
            .map(|tx| tx.send(url).is_ok());
        match sent {
            Some(true) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                Delivery::Delivered
            }
            Some(false) => Delivery::Ended,
            None if lock(&self.ended).contains(call_sid) => Delivery::Ended,
            None => Delivery::Unknown,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct FakeState {
    account_sid: String,
    /// The expected `Authorization` header value.
    authorization: String,
    mailboxes: Arc<Mailboxes>,
}

/// A running fake REST API.
pub struct FakeApi {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeApi {
    /// Starts the fake on `listen` (a loopback address) for one account.
    pub async fn start(
        listen: SocketAddr,
        account_sid: &str,
        auth_token: &str,
        mailboxes: Arc<Mailboxes>,
    ) -> anyhow::Result<FakeApi> {
        if !listen.ip().is_loopback() {
            bail!("--fake-api-listen must be a loopback address (127.0.0.1:PORT), not {listen}");
        }
        let credentials = format!("{account_sid}:{auth_token}");
        let state = Arc::new(FakeState {
            account_sid: account_sid.to_owned(),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
            mailboxes,
        });
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Calls/{file}",
                axum::routing::post(redirect),
            )
            .route(
                "/2010-04-01/Accounts/{account}/Recordings/{file}",
                axum::routing::get(recording).delete(delete_recording),
            )
            .fallback(|| async { twilio_error(StatusCode::NOT_FOUND, 20404, "Not Found") })
            .with_state(state);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} for the fake Twilio API"))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(FakeApi {
            addr,
            stop: Some(tx),
        })
    }

    /// The base URL to configure as the instance's `twilio.api_base`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

fn authorized(state: &FakeState, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == state.authorization)
}

/// `GET …/Recordings/{RE}` (or `{RE}.wav`): the made-up WAV of a recording.
async fn recording(
    State(state): State<Arc<FakeState>>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&state, &headers) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let sid = file.strip_suffix(".wav").unwrap_or(&file);
    let secs = lock(&state.mailboxes.recordings).get(sid).copied();
    match secs {
        Some(secs) if account == state.account_sid => {
            let wav = super::record::recording_wav(secs);
            ([(header::CONTENT_TYPE, "audio/x-wav")], wav).into_response()
        }
        _ => twilio_error(StatusCode::NOT_FOUND, 20404, "Not Found"),
    }
}

/// `DELETE …/Recordings/{RE}.json`: forgets a recording (204), as Twilio does.
async fn delete_recording(
    State(state): State<Arc<FakeState>>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&state, &headers) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let sid = file.strip_suffix(".json").unwrap_or(&file);
    let removed = lock(&state.mailboxes.recordings).remove(sid).is_some();
    if removed && account == state.account_sid {
        StatusCode::NO_CONTENT.into_response()
    } else {
        twilio_error(StatusCode::NOT_FOUND, 20404, "Not Found")
    }
}

async fn redirect(
    State(state): State<Arc<FakeState>>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let Some(call_sid) = file.strip_suffix(".json") else {
        return twilio_error(StatusCode::NOT_FOUND, 20404, "Not Found");
    };
    if account != state.account_sid {
        return twilio_error(StatusCode::NOT_FOUND, 20404, "Not Found");
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let Some(url) = form.get("Url").filter(|u| !u.is_empty()) else {
        return twilio_error(StatusCode::BAD_REQUEST, 21205, "Invalid URL");
    };
    match state.mailboxes.deliver(call_sid, url.clone()) {
        Delivery::Delivered => axum::Json(serde_json::json!({
            "sid": call_sid,
            "account_sid": state.account_sid,
            "status": "in-progress",
            "api_version": "2010-04-01",
        }))
        .into_response(),
        Delivery::Ended => {
            state.mailboxes.refused.fetch_add(1, Ordering::Relaxed);
            twilio_error(
                StatusCode::BAD_REQUEST,
                21220,
                "Call is not in-progress. Cannot redirect.",
            )
        }
        Delivery::Unknown => {
            state.mailboxes.refused.fetch_add(1, Ordering::Relaxed);
            let message = format!(
                "The requested resource /2010-04-01/Accounts/{account}/Calls/{call_sid}.json was not found"
            );
            twilio_error(StatusCode::NOT_FOUND, 20404, &message)
        }
    }
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}
