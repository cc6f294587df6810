//! An SMTP sink for the mail tests: Python's `aiosmtpd` (from PyPI) on 127.0.0.1 and a free port,
//! with a small handler written here that keeps every letter it is given, byte for byte, with its
//! envelope, for the test to read. `start_tls` gives it a certificate from a test CA: STARTTLS
//! required before a letter is taken, or TLS from the first byte (SMTPS). `start` returns `None` (after printing `SKIPPED (mail)`) when
//! aiosmtpd is missing or the sink does not start, unless `PEREZVON_TEST_REQUIRE_MAIL=1` (CI).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perezvon::mail::TlsMode;

use super::mail_servers::{free_port, greets, listens, stop_group, unavailable};
use super::test_ca::TestCa;

/// One letter the SMTP sink was given.
#[derive(Debug, Clone)]
pub struct Received {
    pub raw: Vec<u8>,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
}

/// An SMTP server that keeps what it is given (aiosmtpd with the handler below).
pub struct SmtpSink {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

/// Stores each letter's bytes as `NNNN.eml` (renamed into place once written) and its envelope
/// as `NNNN.json`.
const HANDLER: &str = r#"
import itertools, json, os

class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.numbers = itertools.count(1)

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        base = os.path.join(self.directory, "%04d" % next(self.numbers))
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        with open(base + ".tmp", "wb") as f:
            f.write(content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 OK stored"
"#;

impl SmtpSink {
    /// Starts the sink; `None` when Python's aiosmtpd is missing or the sink does not start.
    pub async fn start() -> Option<SmtpSink> {
        SmtpSink::start_with(None).await
    }

    /// The sink with the certificate of `ca` for `localhost`: `StartTls` requires STARTTLS
    /// before a letter is taken, `Tls` speaks TLS from the first byte.
    pub async fn start_tls(ca: &TestCa, mode: TlsMode) -> Option<SmtpSink> {
        SmtpSink::start_with(Some((ca, mode))).await
    }

    async fn start_with(tls: Option<(&TestCa, TlsMode)>) -> Option<SmtpSink> {
        let python = std::env::var("PEREZVON_TEST_PYTHON").unwrap_or("python3".into());
        let has = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !has.is_ok_and(|s| s.success()) {
            return unavailable("Python's aiosmtpd is missing (python3 -m pip install aiosmtpd)");
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let letters = root.join("letters");
        std::fs::create_dir(&letters).unwrap();
        std::fs::write(root.join("perezvon_sink.py"), HANDLER).unwrap();
        let port = free_port();
        let mut command = Command::new(&python);
        command
            .process_group(0)
            .current_dir(root)
            .env("PYTHONPATH", root)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")]);
        match tls {
            Some((ca, TlsMode::Tls)) => {
                command
                    .arg("--smtpscert")
                    .arg(&ca.cert_file)
                    .arg("--smtpskey")
                    .arg(&ca.key_file);
            }
            Some((ca, _)) => {
                command
                    .arg("--tlscert")
                    .arg(&ca.cert_file)
                    .arg("--tlskey")
                    .arg(&ca.key_file);
            }
            None => {}
        }
        let mut child = command
            .args(["-c", "perezvon_sink.Sink"])
            .arg(&letters)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(root.join("stdout.log")).unwrap())
            .stderr(std::fs::File::create(root.join("stderr.log")).unwrap())
            .spawn()
            .expect("python3 starts");
        let within = Duration::from_secs(20);
        let ready = match tls {
            Some((_, TlsMode::Tls)) => listens(port, &mut child, within).await,
            _ => greets(port, "220", &mut child, within).await,
        };
        if !ready {
            stop_group(&mut child);
            let err = std::fs::read_to_string(root.join("stderr.log")).unwrap_or_default();
            return unavailable(&format!("the aiosmtpd sink did not start: {err}"));
        }
        Some(SmtpSink { dir, port, child })
    }

    fn letters(&self) -> PathBuf {
        self.dir.path().join("letters")
    }

    /// The letters received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.letters())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let envelope: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(p.with_extension("json")).unwrap())
                        .unwrap();
                Received {
                    raw: std::fs::read(&p).unwrap(),
                    mail_from: envelope["mail_from"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    rcpt_tos: envelope["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Waits until at least `n` letters arrived (at most `within`), and returns them all.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let until = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() >= until {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}
