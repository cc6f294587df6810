//! A fake of Zadarma's REST API on 127.0.0.1 for the in-process instance's `[zadarma] api_base`.
//! Like Zadarma it checks every `/v1/…` request's `Authorization: key:signature`: the parameters
//! (the query of a GET, the form body otherwise) must arrive sorted and encoded as the official
//! client sends them, `format=json` included, and the signature is recomputed with
//! [`signature_for`]; anything else is answered 401 `{"status":"error"}` and counted as a refusal
//! (a run with refusals fails). It answers the recording link request
//! (`GET /v1/pbx/record/request/` → a link under `/rec/`), serves the MP3 behind the link (a
//! pre-signed link: no `Authorization`, as at Zadarma), accepts the recording's `DELETE` and the
//! click-to-call request (`GET /v1/request/callback/`). Nothing else is served.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::telephony::zadarma::api::{params_string, signature_for};

/// The API key of the simulated account.
pub const KEY: &str = "simulate-zadarma-key";
/// Its secret (a test value, not a secret of any real account).
pub const SECRET: &str = "simulate-zadarma-secret";

/// A short real MP3 (8 kHz speech), the same file the audio pipeline's tests decode.
const RECORDING: &[u8] = include_bytes!("../../../tests/data/audio/speech-8k.mp3");

/// What the fake saw.
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests refused for a missing or wrong signature.
    pub refused: AtomicUsize,
    /// Correctly signed API requests.
    pub accepted: AtomicUsize,
    /// Recording links handed out.
    pub links: AtomicUsize,
    /// Recording files downloaded.
    pub downloads: AtomicUsize,
    /// Recordings deleted.
    pub deleted: AtomicUsize,
}

impl Counts {
    pub fn get(n: &AtomicUsize) -> usize {
        n.load(Ordering::Relaxed)
    }
}

struct Shared {
    base: String,
    counts: Arc<Counts>,
}

/// The running fake; stops when dropped.
pub struct FakeZadarma {
    base: String,
    pub counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeZadarma {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> anyhow::Result<FakeZadarma> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let counts = Arc::new(Counts::default());
        let shared = Arc::new(Shared {
            base: base.clone(),
            counts: counts.clone(),
        });
        let app = axum::Router::new().fallback(handle).with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeZadarma { base, counts, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.base.clone()
    }
}

impl Drop for FakeZadarma {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// True when `header` is the `Authorization` Zadarma expects for `path` with the raw parameters.
pub fn signed(path: &str, raw: &str, header: Option<&str>) -> bool {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let canonical = params_string(&borrowed);
    let expected = format!("{KEY}:{}", signature_for(SECRET, path, &canonical));
    raw == canonical
        && pairs.iter().any(|(k, v)| k == "format" && v == "json")
        && header == Some(expected.as_str())
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if let Some(file) = path.strip_prefix("/rec/")
        && method == Method::GET
        && file.ends_with(".mp3")
    {
        s.counts.downloads.fetch_add(1, Ordering::Relaxed);
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "audio/mpeg")],
            RECORDING,
        )
            .into_response();
    }
    let raw = if method == Method::GET {
        uri.query().unwrap_or("").to_owned()
    } else {
        String::from_utf8_lossy(&body).into_owned()
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !signed(path, &raw, auth) {
        s.counts.refused.fetch_add(1, Ordering::Relaxed);
        let msg = "Not authorized: wrong signature";
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"status": "error", "message": msg}),
        );
    }
    s.counts.accepted.fetch_add(1, Ordering::Relaxed);
    let param = |name: &str| {
        form_urlencoded::parse(raw.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    match (method.as_str(), path) {
        ("GET", "/v1/pbx/record/request/") => {
            let Some(id) = param("call_id").filter(|id| !id.is_empty()) else {
                let msg = "call_id is required";
                return reply(
                    StatusCode::BAD_REQUEST,
                    json!({"status": "error", "message": msg}),
                );
            };
            s.counts.links.fetch_add(1, Ordering::Relaxed);
            let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
            let link = format!("{}/rec/{id}.mp3", s.base);
            let till = (chrono::Utc::now() + chrono::TimeDelta::minutes(10))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            reply(
                StatusCode::OK,
                json!({"status": "success", "link": link, "lifetime_till": till}),
            )
        }
        ("DELETE", "/v1/pbx/record/request/") => {
            s.counts.deleted.fetch_add(1, Ordering::Relaxed);
            reply(StatusCode::OK, json!({"status": "success"}))
        }
        ("GET", "/v1/request/callback/") => reply(
            StatusCode::OK,
            json!({
                "status": "success",
                "from": param("from"),
                "to": param("to"),
                "time": chrono::Utc::now().timestamp(),
            }),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"status": "error", "message": "unknown method"}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::zadarma::ZadarmaClient;

    #[tokio::test]
    async fn signed_requests_pass_and_others_are_refused() {
        let fake = FakeZadarma::start().await.unwrap();
        let client = ZadarmaClient::new(&fake.base_url(), KEY, SECRET).unwrap();
        let links = client.record_links("1700000000.1").await.unwrap();
        assert_eq!(
            links,
            vec![format!("{}/rec/1700000000.1.mp3", fake.base_url())]
        );
        let wrong = ZadarmaClient::new(&fake.base_url(), KEY, "not-the-secret").unwrap();
        assert!(wrong.record_links("1700000000.1").await.is_err());
        let bare = reqwest::get(format!("{}/v1/request/callback/", fake.base_url()))
            .await
            .unwrap();
        assert_eq!(bare.status().as_u16(), 401);
        assert_eq!(Counts::get(&fake.counts.refused), 2);
        assert_eq!(Counts::get(&fake.counts.links), 1);
        let mp3 = reqwest::get(&links[0])
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&mp3[..], RECORDING);
    }
}
