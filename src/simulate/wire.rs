//! The simulated Twilio's side of the wire: every webhook request is signed exactly as Twilio
//! signs it, sent, timed and recorded.
//!
//! A URL from TwiML is absolute and starts with the instance's `public_url` (that is what the
//! signature covers); the request itself goes to the same path and query on the target address,
//! which differs from `public_url` behind a proxy. A URL outside `public_url` is refused, so the
//! simulator never sends anything anywhere but the target. Latency runs from sending the request
//! to having read the whole reply body. Every request is kept as a [`Sample`] (body and signature
//! included) so the baseline can replay the very same traffic; a reply that is not 2xx, or no
//! reply within Twilio's 15 s, is an error and is listed in the report (numbers masked).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::telephony::twilio::expected_signature;

/// Twilio gives up on a webhook after 15 s (PROVIDERS.md §1.11).
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);
/// Errors listed in full in the report; the rest are only counted.
const KEEP_ERRORS: usize = 20;

/// One webhook request as sent, and how it went.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The simulated call it belongs to (index in arrival order).
    pub call: usize,
    /// The path and query it was sent to.
    pub path: String,
    /// The form body, exactly as sent.
    pub body: String,
    pub signature: String,
    /// When it was sent and when its reply was read, from the start of the run.
    pub sent: Duration,
    pub done: Duration,
    /// HTTP status; 0 when no reply came.
    pub status: u16,
}

impl Sample {
    pub fn latency(&self) -> Duration {
        self.done.saturating_sub(self.sent)
    }

    /// The webhook's short name: `voice`, `queue/wait`, `gather/queue-menu`, ...
    pub fn route(&self) -> &str {
        let path = self.path.split('?').next().unwrap_or("");
        path.strip_prefix("/webhooks/twilio/").unwrap_or(path)
    }
}

/// A signed webhook request, ready to send.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The path and query to send it to (on the target).
    pub path: String,
    /// The form body.
    pub body: String,
    pub signature: String,
}

/// Signs, sends, times and records webhook requests for one target.
pub struct Wire {
    http: reqwest::Client,
    /// Where requests go: scheme, host and port, no trailing slash.
    target: String,
    /// What they are signed for: the instance's public URL, no trailing slash.
    public_url: String,
    auth_token: String,
    pub started: Instant,
    samples: Mutex<Vec<Sample>>,
    errors: Mutex<(usize, Vec<String>)>,
}

impl Wire {
    pub fn new(target: &str, public_url: &str, auth_token: &str) -> anyhow::Result<Wire> {
        Ok(Wire {
            http: client()?,
            target: target.trim_end_matches('/').to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            auth_token: auth_token.to_owned(),
            started: Instant::now(),
            samples: Mutex::new(Vec::new()),
            errors: Mutex::new((0, Vec::new())),
        })
    }

    /// The signed URL and the path to send for a URL found in TwiML (absolute, or a bare path).
    pub fn resolve(&self, url: &str) -> Result<(String, String), String> {
        if url.starts_with('/') {
            return Ok((format!("{}{url}", self.public_url), url.to_owned()));
        }
        match url.strip_prefix(&self.public_url) {
            Some(rest) if rest.starts_with('/') => Ok((url.to_owned(), rest.to_owned())),
            _ => Err(format!(
                "refusing to follow `{url}`: it is not under the instance's public URL"
            )),
        }
    }

    /// The request Twilio would send with `params` to `url`: the path to send it to, the form
    /// body and its `X-Twilio-Signature`.
    pub fn sign(&self, url: &str, params: &[(String, String)]) -> Result<Signed, String> {
        let (signed, path) = self.resolve(url)?;
        let signature = expected_signature(&self.auth_token, &signed, params);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        Ok(Signed {
            path,
            body,
            signature,
        })
    }

    /// POSTs `params` to `url` as Twilio would; returns the reply body of a 2xx answer.
    pub async fn post(
        &self,
        call: usize,
        url: &str,
        params: &[(String, String)],
    ) -> Result<String, String> {
        let Signed {
            path,
            body,
            signature,
        } = self.sign(url, params)?;
        let sent = self.started.elapsed();
        let result = send(&self.http, &self.target, &path, &body, &signature).await;
        let done = self.started.elapsed();
        let status = result.as_ref().map_or(0, |(s, _)| *s);
        lock(&self.samples).push(Sample {
            call,
            path: path.clone(),
            body,
            signature,
            sent,
            done,
            status,
        });
        let failure = match result {
            Ok((s, text)) if (200..300).contains(&s) => return Ok(text),
            Ok((s, text)) => format!("HTTP {s} from {path}: {}", excerpt(&text)),
            Err(e) => format!("no reply from {path}: {e}"),
        };
        lock(&self.errors).0 += 1;
        self.note(&failure);
        Err(failure)
    }

    /// Lists a failure in the report (the first few are kept), numbers masked.
    pub fn note(&self, failure: &str) {
        let mut errors = lock(&self.errors);
        if errors.1.len() < KEEP_ERRORS {
            errors.1.push(mask_numbers(failure));
        }
    }

    /// How many requests were sent so far.
    pub fn count(&self) -> usize {
        lock(&self.samples).len()
    }

    /// Every request sent so far.
    pub fn samples(&self) -> Vec<Sample> {
        lock(&self.samples).clone()
    }

    /// How many requests failed, and the first few failures (of calls too).
    pub fn errors(&self) -> (usize, Vec<String>) {
        lock(&self.errors).clone()
    }
}

/// An HTTP client for webhooks: Twilio's timeout, no proxies (loopback and the target only).
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .no_proxy()
        .build()?)
}

/// Sends one signed form request; returns the status and the whole body.
pub async fn send(
    http: &reqwest::Client,
    target: &str,
    path: &str,
    body: &str,
    signature: &str,
) -> Result<(u16, String), String> {
    let headers = webhook_headers(signature);
    let (status, bytes) = post(http, &format!("{target}{path}"), &headers, body).await?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The headers of a webhook request as Twilio sends it.
pub fn webhook_headers(signature: &str) -> [(&'static str, &str); 2] {
    [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-twilio-signature", signature),
    ]
}

/// POSTs `body` with `headers` to `url`; the status and the whole reply body.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    headers: &[(&'static str, &str)],
    body: &str,
) -> Result<(u16, axum::body::Bytes), String> {
    let mut request = http.post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    Ok((status, bytes))
}

fn excerpt(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Masks phone numbers in a text (shared with the Twilio client).
pub use crate::domain::phone::mask_in_text as mask_numbers;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_resolve_under_the_public_url_only() {
        let w = Wire::new("http://127.0.0.1:9", "https://hotline.example/", "t").unwrap();
        assert_eq!(
            w.resolve("https://hotline.example/webhooks/twilio/connect?operator=3"),
            Ok((
                "https://hotline.example/webhooks/twilio/connect?operator=3".into(),
                "/webhooks/twilio/connect?operator=3".into()
            ))
        );
        assert_eq!(
            w.resolve("/webhooks/twilio/voice").unwrap().0,
            "https://hotline.example/webhooks/twilio/voice"
        );
        assert!(w.resolve("https://hotline.example.evil/x").is_err());
        assert!(w.resolve("http://elsewhere/webhooks/twilio/dial").is_err());
    }

    #[test]
    fn numbers_are_masked() {
        assert_eq!(
            mask_numbers("From +79161234567 in 2026"),
            "From +7******4567 in 2026"
        );
    }
}
