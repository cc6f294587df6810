//! One `perezvon serve` (the built binary) on a database the test names, configured by
//! environment as an operator would (`PEREZVON_*`), in working hours (`--clock-start`), with
//! Twilio's REST API at a fake the test runs (the simulator's, `perezvon::simulate::fake_api`)
//! and Twilio's Russian text-to-speech for prompts. Requests to it are timed as [`Probe`]s, and
//! webhooks are signed as Twilio signs them. Killed when dropped.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use perezvon::telephony::twilio::{Route, expected_signature, route_path};

/// The hotline's Twilio account in the instance's configuration.
pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "instance-token";
/// Monday 10:00 in Moscow: the hotline is open.
pub const CLOCK_START: &str = "2026-12-07T10:00:00+03:00";

pub struct Instance {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// Requests to the instance.
    pub client: Client,
}

/// Sends timed requests to one instance; cheap to clone into tasks.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    http: reqwest::Client,
}

impl Instance {
    /// Configures an instance on `database_url` with Twilio's REST API at `api_base`.
    pub fn new(database_url: &str, api_base: &str) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let listen = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let base = format!("http://{listen}");
        let env = [
            ("LISTEN", listen.to_string()),
            ("PUBLIC_URL", base.clone()),
            ("DATABASE_URL", database_url.into()),
            ("DATA_DIR", dir.path().join("var").display().to_string()),
            ("TWILIO__ACCOUNT_SID", SID.into()),
            ("TWILIO__AUTH_TOKEN", TOKEN.into()),
            ("TWILIO__API_BASE", api_base.into()),
            ("TWILIO__SPEECH", "tts".into()),
            ("ROUTING__WRAP_UP_SECS", "0".into()),
            ("ROUTING__QUEUE_MAX_WAIT_SECS", "600".into()),
            ("LOG", "info,sqlx=warn,tower_http=warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("PEREZVON_{k}"), v))
        .collect();
        Instance {
            dir,
            env,
            child: None,
            client: Client {
                base,
                http: reqwest::Client::new(),
            },
        }
    }

    /// Runs a CLI command against the instance's configuration, feeding `stdin`; it must succeed.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_perezvon"))
            .args(args)
            .envs(self.env.iter().cloned())
            .env_remove("PEREZVON_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{args:?}: {err}");
        o
    }

    /// Adds an operator reached at a phone number, with a password; returns an API token.
    pub fn operator(&self, login: &str, phone: &str) -> String {
        let add = ["operator", "add", "--login", login, "--name", "Оператор"];
        self.cli(&[&add[..], &["--phone", phone]].concat(), "");
        self.cli(&["user", "password", "--login", login], "a long password\n");
        let o = self.cli(&["token", "create", "--login", login], "");
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    }

    /// Starts `perezvon serve` and waits until `/readyz` answers 200.
    pub async fn serve(&mut self) {
        let log = std::fs::File::create(self.log_path()).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_perezvon"))
            .args(["serve", "--clock-start", CLOCK_START])
            .envs(self.env.iter().cloned())
            .env_remove("PEREZVON_CONFIG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        for _ in 0..300 {
            if self.client.get("/readyz").await.status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("perezvon did not start:\n{}", self.log());
    }

    /// What the service logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Where the service logs.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("serve.log")
    }

    /// Whether the process started by [`Instance::serve`] still runs (it never exited).
    pub fn still_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Client {
    /// `GET path`, timed.
    pub async fn get(&self, path: &str) -> Probe {
        probe(self.http.get(format!("{}{path}", self.base))).await
    }

    /// `PUT /api/v1/operators/{login}/presence` with the operator's token; the status.
    pub async fn presence(&self, token: &str, login: &str, state: &str) -> u16 {
        let r = self
            .http
            .put(format!("{}/api/v1/operators/{login}/presence", self.base))
            .bearer_auth(token)
            .json(&serde_json::json!({ "state": state }))
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    }

    /// A webhook posted as Twilio posts it to `route`, signed, timed.
    pub async fn hook(&self, route: &Route, form: &[(&str, &str)]) -> Probe {
        let path = route_path(route);
        let params: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sig = expected_signature(TOKEN, &format!("{}{path}", self.base), &params);
        let req = self.http.post(format!("{}{path}", self.base));
        probe(req.header("X-Twilio-Signature", sig).form(&params)).await
    }

    /// Twilio's first webhook of a new inbound call.
    pub async fn incoming(&self, call: &str, from: &str) -> Probe {
        let form = [
            ("CallSid", call),
            ("AccountSid", SID),
            ("From", from),
            ("To", "+74950000000"),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
        ];
        self.hook(&Route::Voice, &form).await
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One request and its answer (status 0: no answer within 20 s).
#[derive(Clone, Debug)]
pub struct Probe {
    pub sent: Instant,
    pub took: Duration,
    pub status: u16,
    pub body: String,
}

impl Probe {
    pub fn answered(&self) -> Instant {
        self.sent + self.took
    }

    /// Twilio's apology for a call that cannot be routed: `<Say>` the technical error, hang up.
    pub fn apology(&self) -> bool {
        self.status == 200
            && self.body.contains("<Say")
            && self.body.contains("техническая ошибка")
            && self.body.ends_with("<Hangup/></Response>")
    }

    /// A call routed as usual: TwiML other than the apology.
    pub fn routed(&self) -> bool {
        self.status == 200 && self.body.contains("<Response>") && !self.apology()
    }
}

async fn probe(req: reqwest::RequestBuilder) -> Probe {
    let sent = Instant::now();
    let (status, body) = match req.timeout(Duration::from_secs(20)).send().await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(_) => (0, String::new()),
    };
    Probe {
        sent,
        took: sent.elapsed(),
        status,
        body,
    }
}
