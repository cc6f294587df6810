//! One lean HTTP/1.1 keep-alive connection per simulated client (the flood's closed-loop workers,
//! the claiming operators).
//!
//! The flood's load generator runs on the same two cores as the instance it measures, so what the
//! generator spends per request is taken from the instance. reqwest's client costs several times
//! what the request itself needs (a pool look-up, a URL parse, redirect and timeout layers per
//! request); this connection is hyper's bare HTTP/1.1 client on one TCP stream: build the request,
//! write it, read the status and the whole body. Twilio's 15 s timeout still bounds each request,
//! and a connection that failed or timed out is dropped and opened again for the next one, as a
//! pool would. Only plain `http://` targets use it; an `https://` target goes through reqwest.

use std::net::SocketAddr;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::HOST;
use hyper_util::rt::TokioIo;

use super::wire::WEBHOOK_TIMEOUT;

/// A keep-alive connection to one plain-HTTP target, opened on first use and after a failure.
pub struct Conn {
    addrs: Vec<SocketAddr>,
    /// The `Host` header: host and port as the target names them.
    authority: String,
    /// The target's path prefix (empty, or `/prefix` without a trailing slash).
    prefix: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    /// A connection to `target` (`http://host:port`, optionally with a path prefix); `None` for
    /// an `https://` or otherwise unusable target (use reqwest there).
    pub fn to(target: &str) -> Option<Conn> {
        let url = url::Url::parse(target).ok()?;
        if url.scheme() != "http" {
            return None;
        }
        let addrs = url.socket_addrs(|| None).ok()?;
        let host = url.host_str()?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let prefix = url.path().trim_end_matches('/').to_owned();
        (!addrs.is_empty()).then_some(Conn {
            addrs,
            authority,
            prefix,
            sender: None,
        })
    }

    /// POSTs `body` to `path` with `headers`; returns the status and the whole reply body, or
    /// why there was none (connection error, or no reply within Twilio's 15 s).
    pub async fn post(
        &mut self,
        path: &str,
        headers: &[(&'static str, &str)],
        body: &str,
    ) -> Result<(u16, Bytes), String> {
        let exchange = self.exchange(path, headers, body);
        let result = match tokio::time::timeout(WEBHOOK_TIMEOUT, exchange).await {
            Ok(r) => r,
            Err(_) => Err("no reply within Twilio's 15 s webhook timeout".to_owned()),
        };
        if result.is_err() {
            // Whatever state the stream is in, the next request gets a fresh one.
            self.sender = None;
        }
        result
    }

    async fn exchange(
        &mut self,
        path: &str,
        headers: &[(&'static str, &str)],
        body: &str,
    ) -> Result<(u16, Bytes), String> {
        let mut request =
            hyper::Request::post(format!("{}{path}", self.prefix)).header(HOST, &self.authority);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let sender = self.ready().await?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the reply failed: {e}"))?
            .to_bytes();
        Ok((status, bytes))
    }

    /// The open connection, ready for a request. A kept connection the server has closed
    /// meanwhile (an idle timeout, say) is replaced by a fresh one, as a pool would.
    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_err()
        {
            self.sender = None;
        }
        if self.sender.is_none() {
            let mut sender = self.open().await?;
            sender
                .ready()
                .await
                .map_err(|e| format!("the new connection closed at once: {e}"))?;
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| "no connection".to_owned())
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.addrs[..])
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake failed: {e}"))?;
        // Drives the stream until the sender is dropped or the server closes it.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}

/// How one simulated client sends: its own lean connection to a plain-HTTP target, or a
/// one-connection reqwest client for `https://`.
pub enum Sender {
    Lean(Conn),
    Pooled(reqwest::Client, String),
}

impl Sender {
    /// A sender to `target`; `client` makes the reqwest client when the target needs one.
    pub fn to(
        target: &str,
        client: impl FnOnce() -> anyhow::Result<reqwest::Client>,
    ) -> anyhow::Result<Sender> {
        Ok(match Conn::to(target) {
            Some(conn) => Sender::Lean(conn),
            None => Sender::Pooled(client()?, target.trim_end_matches('/').to_owned()),
        })
    }

    /// POSTs `body` with `headers`; the status and the whole reply body.
    pub async fn post(
        &mut self,
        path: &str,
        headers: &[(&'static str, &str)],
        body: &str,
    ) -> Result<(u16, Bytes), String> {
        match self {
            Sender::Lean(conn) => conn.post(path, headers, body).await,
            Sender::Pooled(http, target) => {
                super::wire::post(http, &format!("{target}{path}"), headers, body).await
            }
        }
    }

    /// POSTs a webhook's signed form body, as Twilio does; the status and the reply as text.
    pub async fn webhook(
        &mut self,
        path: &str,
        body: &str,
        signature: &str,
    ) -> Result<(u16, String), String> {
        let headers = super::wire::webhook_headers(signature);
        let (status, bytes) = self.post(path, &headers, body).await?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::{HeaderMap, header};
    use axum::response::IntoResponse;

    use super::*;

    /// Echoes the signature header and the body; closes the connection when the body says so.
    async fn echo(headers: HeaderMap, body: String) -> axum::response::Response {
        let sig = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let close = body.contains("close");
        let mut res = format!("{sig}|{body}").into_response();
        if close {
            res.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        res
    }

    #[tokio::test]
    async fn posts_keep_alive_and_reopen_a_closed_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(axum::routing::post(echo));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let mut s = Sender::to(&base, || unreachable!("plain http needs no reqwest")).unwrap();
        assert!(matches!(s, Sender::Lean(_)));
        for body in ["a=1", "please close", "b=2"] {
            let (status, text) = s
                .webhook("/webhooks/twilio/voice", body, "sig")
                .await
                .unwrap();
            assert_eq!((status, text), (200, format!("sig|{body}")));
        }
        server.abort();
        let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let nobody = format!("http://{}", gone.local_addr().unwrap());
        drop(gone);
        let mut s = Sender::to(&nobody, || unreachable!()).unwrap();
        let refused = s.webhook("/x", "c=3", "sig").await;
        assert!(refused.is_err_and(|e| e.contains("cannot connect")));
        assert!(Conn::to("https://example.org").is_none());
    }
}
