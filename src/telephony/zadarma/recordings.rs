//! Downloading and deleting Zadarma's call recordings: [`ZadarmaRecordings`] implements
//! [`RecordingSource`].
//!
//! Zadarma's notifications (NOTIFY_END, NOTIFY_OUT_END, NOTIFY_RECORD) name a recording by its
//! `call_id_with_rec` and carry no URL. [`ZadarmaRecordings::fetch`] asks the API for a short-lived
//! pre-signed link (`GET /v1/pbx/record/request/?call_id=…`, PROVIDERS.md §2.5) and downloads the
//! first one with a plain GET; the file is **MP3**, which the audio pipeline must decode. When a
//! caller already has a link (`url` not empty), it is downloaded directly, and replaced by a fresh
//! one if it is refused for good (links expire). Zadarma recommends asking for the file about 40
//! seconds after the notification: until then, and once the file is deleted, Zadarma says it does
//! not exist, which is [`FetchError::NotFound`]. Timeouts, 5xx and 429 are
//! [`FetchError::Temporary`]; other failures (a wrong secret, a bad request) are
//! [`FetchError::Failed`]. [`ZadarmaRecordings::delete`] removes the file at Zadarma (`DELETE` on
//! the same path, its parameters in a form body as the official client sends them) once it is
//! stored here; a file already gone counts as deleted. Recording links carry a token and never
//! appear in logs or errors.

use reqwest::Method;
use serde_json::Value;

use super::rest::{ZadarmaClient, ZadarmaError, transport};
use crate::telephony::{FetchError, RecordingSource};

/// The largest recording we download (an hour of 128 kbit/s MP3 is about 58 MB).
pub const MAX_RECORDING_BYTES: usize = 64 * 1024 * 1024;

/// How long a recording link stays valid, in seconds (Zadarma accepts 180–5184000).
pub const RECORD_LINK_LIFETIME_SECS: u32 = 600;

impl ZadarmaClient {
    /// Links to download the recording `call_id_with_rec` (from NOTIFY_END/NOTIFY_RECORD), valid
    /// for [`RECORD_LINK_LIFETIME_SECS`]. Zadarma answers `link`, or `links[]` for several files.
    pub async fn record_links(&self, call_id_with_rec: &str) -> Result<Vec<String>, ZadarmaError> {
        if call_id_with_rec.trim().is_empty() {
            return Err(ZadarmaError::Invalid("no recording id".into()));
        }
        let lifetime = RECORD_LINK_LIFETIME_SECS.to_string();
        let params = [
            ("call_id", call_id_with_rec),
            ("lifetime", lifetime.as_str()),
        ];
        let answer = self
            .call(Method::GET, "/v1/pbx/record/request/", &params)
            .await?;
        let mut links: Vec<String> = Vec::new();
        if let Some(link) = answer.get("link").and_then(Value::as_str) {
            links.push(link.to_owned());
        }
        if let Some(all) = answer.get("links").and_then(Value::as_array) {
            links.extend(all.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        links.retain(|l| !l.trim().is_empty());
        if links.is_empty() {
            return Err(ZadarmaError::Decode(
                "no `link` or `links` in the answer".into(),
            ));
        }
        Ok(links)
    }

    /// Downloads a pre-signed recording link (no `Authorization`: the link carries its own token),
    /// at most `max_bytes`. A missing file is `Http { status: 404 }`.
    pub async fn download(&self, link: &str, max_bytes: usize) -> Result<Vec<u8>, ZadarmaError> {
        let url = url::Url::parse(link)
            .map_err(|_| ZadarmaError::Invalid("the recording link is not a URL".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ZadarmaError::Invalid(
                "the recording link must be http(s)".into(),
            ));
        }
        self.limiter.acquire().await;
        let mut response = self.http.get(url).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(ZadarmaError::Http {
                status,
                message: None,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(ZadarmaError::Invalid(format!(
                    "recording larger than {max_bytes} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Recordings at Zadarma, through the REST API.
#[derive(Debug, Clone)]
pub struct ZadarmaRecordings {
    pub client: ZadarmaClient,
}

impl ZadarmaRecordings {
    pub fn new(client: ZadarmaClient) -> Self {
        ZadarmaRecordings { client }
    }

    /// Downloads `url` when given; when it is empty, or refused for good (an expired link) and
    /// `recording_id` is known, downloads a fresh link for `recording_id` instead.
    async fn download(&self, recording_id: &str, url: &str) -> Result<Vec<u8>, ZadarmaError> {
        let url = url.trim();
        if !url.is_empty() {
            match self.client.download(url, MAX_RECORDING_BYTES).await {
                Err(e) if !e.is_retryable() && !recording_id.trim().is_empty() => {
                    tracing::debug!(
                        recording = recording_id,
                        error = %e,
                        "the given Zadarma recording link failed: asking for a fresh one"
                    );
                }
                result => return result,
            }
        }
        let link = self.fresh_link(recording_id).await?;
        self.client.download(&link, MAX_RECORDING_BYTES).await
    }

    /// The first link Zadarma gives for `recording_id`.
    async fn fresh_link(&self, recording_id: &str) -> Result<String, ZadarmaError> {
        let links = self.client.record_links(recording_id).await?;
        if links.len() > 1 {
            tracing::debug!(
                recording = recording_id,
                count = links.len(),
                "Zadarma has several files for the recording: the first one is downloaded"
            );
        }
        links
            .into_iter()
            .next()
            .ok_or_else(|| ZadarmaError::Decode("no recording link".into()))
    }
}

/// A failed Zadarma request as a [`FetchError`]: not found, temporary (a retry may help), or failed.
pub fn fetch_error(e: ZadarmaError) -> FetchError {
    if e.is_not_found() {
        FetchError::NotFound
    } else if e.is_retryable() {
        FetchError::Temporary(e.to_string())
    } else {
        FetchError::Failed(e.to_string())
    }
}

#[async_trait::async_trait]
impl RecordingSource for ZadarmaRecordings {
    fn provider(&self) -> &'static str {
        "zadarma"
    }

    async fn fetch(&self, recording_id: &str, url: &str) -> Result<Vec<u8>, FetchError> {
        if recording_id.trim().is_empty() && url.trim().is_empty() {
            return Err(FetchError::Failed(
                "neither a recording id nor a link".into(),
            ));
        }
        match self.download(recording_id, url).await {
            Ok(audio) => {
                tracing::debug!(
                    recording = recording_id,
                    bytes = audio.len(),
                    "Zadarma recording downloaded"
                );
                Ok(audio)
            }
            Err(e) => {
                let error = fetch_error(e);
                tracing::warn!(recording = recording_id, error = %error, "Zadarma recording download failed");
                Err(error)
            }
        }
    }

    async fn delete(&self, recording_id: &str) -> Result<(), FetchError> {
        if recording_id.trim().is_empty() {
            return Err(FetchError::Failed("no recording id".into()));
        }
        let params = [("call_id", recording_id)];
        match self
            .client
            .call(Method::DELETE, "/v1/pbx/record/request/", &params)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(fetch_error(e)),
        }
    }
}
