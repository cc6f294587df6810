//! The real `perezvon` binary as a person runs it: a config file in a temporary directory
//! (SQLite there, Twilio's REST API pointed at a local fake), `perezvon serve --clock-start`, and
//! the CLI against the same configuration. Stopped with SIGTERM when dropped.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub struct Service {
    pub base: String,
    pub dir: tempfile::TempDir,
    config: std::path::PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Service {
    /// Writes the config (`extra` TOML appended) without starting the service.
    pub fn configure(extra: &str) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let data = dir.path().join("var");
        let config = dir.path().join("perezvon.toml");
        let text = format!(
            "listen = \"127.0.0.1:{port}\"\npublic_url = \"{base}\"\ndata_dir = \"{}\"\n\
             database_url = \"sqlite://{}/perezvon.db\"\n{extra}",
            data.display(),
            data.display()
        );
        std::fs::write(&config, text).unwrap();
        Service {
            base,
            dir,
            config,
            child: None,
        }
    }

    /// Runs a CLI command against this configuration, feeding `stdin`.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_perezvon"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("PEREZVON_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Starts `perezvon serve` (with `--clock-start` when given) and waits for `/healthz`.
    pub async fn start(&mut self, clock_start: Option<&str>) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_perezvon"));
        cmd.arg("--config").arg(&self.config).arg("serve");
        if let Some(t) = clock_start {
            cmd.arg("--clock-start").arg(t);
        }
        let log = std::fs::File::create(self.dir.path().join("serve.log")).unwrap();
        let child = cmd
            .env_remove("PEREZVON_CONFIG")
            .env("PEREZVON_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("perezvon did not start: {}", self.log());
    }

    /// What the service logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            for _ in 0..50 {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Service {
    /// Posts a webhook to the service signed as Twilio signs it with `token`; the status.
    pub async fn twilio_hook(
        &self,
        token: &str,
        route: &perezvon::telephony::twilio::Route,
        form: &[(&str, &str)],
    ) -> u16 {
        use perezvon::telephony::twilio::{expected_signature, route_path};
        let p = route_path(route);
        let params: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sig = expected_signature(token, &format!("{}{p}", self.base), &params);
        reqwest::Client::new()
            .post(format!("{}{p}", self.base))
            .header("X-Twilio-Signature", sig)
            .form(&params)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// Asserts a CLI command succeeded, showing its output when it did not.
pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
