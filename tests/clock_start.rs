//! `perezvon serve --clock-start`: the built binary, started on a free port with a fresh SQLite
//! data directory, believes it is the given instant — open on a Monday at 10:00 Moscow, closed on a
//! Sunday — as its calendar API reports without an `at`; it logs a warning naming the shifted
//! time; and a value that is not an RFC 3339 instant stops it with an error naming the flag.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `serve --clock-start <start>`, asks `GET /api/v1/calendar/next-window` (no `at`: the
/// service's "now"), stops it with SIGTERM; returns the answer and the log.
fn next_window_at(start: &str) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_perezvon"))
        .args(["serve", "--clock-start", start])
        .env_remove("PEREZVON_CONFIG")
        .env("PEREZVON_DATA_DIR", dir.path())
        .env("PEREZVON_LISTEN", &listen)
        .env("PEREZVON_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answer = rt.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..150 {
            let url = format!("http://{listen}/api/v1/calendar/next-window");
            if let Ok(r) = client.get(url).send().await {
                assert!(r.status().is_success(), "{}", r.status());
                return Some(r.json::<serde_json::Value>().await.unwrap());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    });
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let status = child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let answer = answer.unwrap_or_else(|| panic!("serve did not answer: {log}"));
    assert!(status.success(), "serve exits cleanly on SIGTERM: {log}");
    (answer, log)
}

#[test]
fn serve_clock_start_on_a_monday_morning_is_open() {
    let (w, log) = next_window_at("2026-12-07T10:00:00+03:00");
    assert_eq!(w["open_now"], true, "{w}");
    assert_eq!(w["start"], "2026-12-07T09:00:00+03:00", "{w}");
    assert_eq!(w["end"], "2026-12-07T18:00:00+03:00", "{w}");
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("clock is shifted"))
        .unwrap_or_else(|| panic!("no warning about the clock in {log}"));
    assert!(warning.contains("2026-12-07T10:00:00+03:00"), "{warning}");
}

#[test]
fn serve_clock_start_on_a_sunday_is_closed_until_monday() {
    // Any offset is accepted: 09:00 UTC is 12:00 in Moscow.
    let (w, _) = next_window_at("2026-12-06T09:00:00Z");
    assert_eq!(w["open_now"], false, "{w}");
    assert_eq!(w["start"], "2026-12-07T09:00:00+03:00", "{w}");
}

#[test]
fn serve_clock_start_refuses_a_bad_instant_naming_the_flag() {
    for bad in ["Monday", "2026-12-07 10:00", ""] {
        let o = Command::new(env!("CARGO_BIN_EXE_perezvon"))
            .args(["serve", "--clock-start", bad])
            .env_remove("PEREZVON_CONFIG")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "`{bad}` accepted");
        assert!(err.contains("--clock-start"), "{err}");
        assert!(err.contains("RFC 3339"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
