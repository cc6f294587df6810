//! The whole service in-process — `perezvon::run_until`, the same wiring as `perezvon serve`:
//! webhooks, dispatcher, job worker, reconciler, `/metrics` — configured from a `perezvon.toml`
//! written here, on a [`ManualClock`] the test moves, so that outages measured in minutes of the
//! service's time take seconds. What the service logs is captured ([`logs`]) for the test to read.
//! Stopped (and waited for) by [`InProc::stop`], or aborted when dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use perezvon::clock::ManualClock;
use perezvon::config::Config;

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per test binary) a subscriber that keeps every log line at `info` and above.
fn capture() -> Arc<Mutex<Vec<u8>>> {
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,sqlx=warn,tower_http=warn",
            ))
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .try_init();
        buf
    })
    .clone()
}

/// Everything logged in this test binary so far.
pub fn logs() -> String {
    String::from_utf8_lossy(&capture().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// A running in-process service.
pub struct InProc {
    /// `http://127.0.0.1:PORT`: where it listens.
    pub base: String,
    pub data_dir: PathBuf,
    pub clock: Arc<ManualClock>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl InProc {
    /// Writes `dir/perezvon.toml` (listen on a free port, `data_dir` = `dir/var`, the given
    /// database, `public_url` = `public`, then `extra`), loads it as `perezvon serve` does (no
    /// environment) and runs the service on `clock` until `/healthz` answers.
    pub async fn start(
        dir: &Path,
        database_url: &str,
        public: &str,
        extra: &str,
        clock: Arc<ManualClock>,
    ) -> InProc {
        capture();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data_dir = dir.join("var");
        std::fs::create_dir_all(&data_dir).unwrap();
        let file = dir.join("perezvon.toml");
        std::fs::write(
            &file,
            format!(
                "listen = \"127.0.0.1:{port}\"\npublic_url = \"{public}\"\ndata_dir = \"{}\"\n\
                 database_url = \"{database_url}\"\n{extra}",
                data_dir.display()
            ),
        )
        .unwrap();
        let config = Config::load_with_env(Some(&file), Vec::new()).expect("a valid config");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(perezvon::run_until(config, clock.clone(), async move {
            let _ = rx.await;
        }));
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                return InProc {
                    base,
                    data_dir,
                    clock,
                    stop: Some(tx),
                    task: Some(task),
                };
            }
            assert!(!task.is_finished(), "the service stopped: {}", logs());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the service did not start: {}", logs());
    }

    /// Stops the service as SIGTERM would and waits (at most 40 s) for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let done = tokio::time::timeout(Duration::from_secs(40), task).await;
            let result = done.expect("the service stops within 40 s").unwrap();
            result.expect("the service stopped cleanly");
        }
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

impl Drop for InProc {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The value of the sample `name{labels}` (labels exactly as rendered) in a Prometheus text page.
pub fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}
