//! The baseline: the same webhook traffic against a server that does nothing but answer.
//!
//! The static server (axum on 127.0.0.1, a free port) reads and parses every POST's form body and
//! answers a fixed `<Response><Hangup/></Response>`. [`replay`] sends it exactly the requests the
//! main run sent (same bodies, signatures and count), in the same pattern: each call starts at the
//! moment it started in the main run, and within a call each request follows the previous reply
//! after the same pause as before (the Twilio-side waits). Its latencies are therefore what the
//! HTTP stack, the loopback and this process cost on their own; perezvon's latency divided by the
//! baseline's is what the instance adds. The flood ([`super::flood`]) runs its load against the
//! same [`StaticServer`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;

use super::wire::{self, Sample};

const REPLY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#;

async fn reply(body: Bytes) -> impl IntoResponse {
    let fields = form_urlencoded::parse(&body).count();
    std::hint::black_box(fields);
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], REPLY)
}

/// What the replay measured.
pub struct Replayed {
    pub samples: Vec<Sample>,
    pub elapsed: Duration,
}

/// The static reply server, on 127.0.0.1 and a free port, until [`StaticServer::stop`].
pub struct StaticServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl StaticServer {
    pub async fn start() -> anyhow::Result<StaticServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot start the baseline server")?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = Router::new().fallback(axum::routing::post(reply));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(StaticServer { base, stop, server })
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// Starts the static server, replays `recorded` against it, stops it.
pub async fn replay(recorded: &[Sample], limit: Duration) -> anyhow::Result<Replayed> {
    let server = StaticServer::start().await?;
    let target = server.base.clone();
    let mut calls: BTreeMap<usize, Vec<Sample>> = BTreeMap::new();
    for s in recorded {
        calls.entry(s.call).or_default().push(s.clone());
    }
    let http = wire::client()?;
    let out = Arc::new(Mutex::new(Vec::with_capacity(recorded.len())));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (call, mut requests) in calls {
        requests.sort_by_key(|s| s.sent);
        let (http, target, out) = (http.clone(), target.clone(), out.clone());
        tasks.spawn(async move {
            let mut previous_done: Option<Duration> = None;
            for r in requests {
                let gap = match previous_done {
                    None => r.sent,
                    Some(done) => r.sent.saturating_sub(done),
                };
                tokio::time::sleep(gap).await;
                let sent = started.elapsed();
                let result = wire::send(&http, &target, &r.path, &r.body, &r.signature).await;
                let done = started.elapsed();
                previous_done = Some(r.done);
                let status = result.map_or(0, |(s, _)| s);
                let sample = Sample {
                    call,
                    sent,
                    done,
                    status,
                    ..r
                };
                out.lock().unwrap_or_else(|p| p.into_inner()).push(sample);
            }
        });
    }
    let finished =
        tokio::time::timeout(limit, async { while tasks.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tasks.abort_all();
    }
    let elapsed = started.elapsed();
    server.stop().await;
    let samples = std::mem::take(&mut *out.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Replayed { samples, elapsed })
}
