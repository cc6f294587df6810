//! `perezvon simulate --provider zadarma` end to end: a short run against the in-process instance
//! with a `[zadarma]` section, its notifications signed as Zadarma signs them and its REST API
//! a local fake that checks every request's signature; and the binary's exit status for a tiny run.

use std::process::Command;

use perezvon::config::Config;
use perezvon::simulate::{Provider, SimulateArgs, run_report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_zadarma_run_handles_every_call_with_signed_api_requests() {
    // 30 calls within about a second for 2 operators who mostly answer and talk for about a
    // second: later callers queue, and many of them press 1 to leave a message.
    let calls = 30;
    let args = SimulateArgs {
        provider: Provider::Zadarma,
        calls,
        rate: 30.0,
        operators: 2,
        answer_prob: 0.8,
        talk_secs: 1.0,
        press1_prob: 0.5,
        hangup_prob: 0.05,
        time_scale: 0.01,
        seed: Some(20261205),
        ..SimulateArgs::default()
    };
    let r = run_report(&Config::default(), args).await.unwrap();
    let text = r.render();
    assert!(!r.timed_out, "{text}");
    assert!(r.in_process);
    assert_eq!(
        (r.calls_started, r.calls_finished),
        (calls, calls),
        "{text}"
    );
    assert_eq!(r.webhook_errors, 0, "{:?}", r.errors);
    assert_eq!(r.api_refusals, 0, "{text}");
    let o = &r.outcomes;
    assert_eq!(o.error, 0, "{text}");
    let total = o.talked + o.left_queue + o.hung_up + o.voicemail + o.off_hours + o.goodbye;
    assert_eq!(total, calls);
    assert_eq!(o.off_hours, 0, "the instance's clock is in working hours");
    // Every call began with NOTIFY_START and ended with one NOTIFY_END.
    assert_eq!(r.by_route["NOTIFY_START"].count, calls, "{text}");
    assert_eq!(r.by_route["NOTIFY_END"].count, calls, "{text}");
    assert_eq!(r.latency.count, r.webhooks);
    // The server saw every call, and every one is over.
    assert_eq!(r.server.seen, calls, "{text}");
    assert_eq!(r.server.unfinished, 0, "{:?}", r.server.states);
    assert!(!r.server.operators.contains_key("on_call"), "{text}");
    // Operators talked to callers, callers queued and left messages, and the messages were
    // downloaded through the fake API (signed link request, then the MP3) and stored.
    assert!(o.talked >= 1, "{text}");
    assert!(r.queue.queued >= 1, "{text}");
    assert!(o.voicemail >= 1, "{text}");
    assert!(r.recordings_served >= 1, "{text}");
    assert!(
        r.server.voicemail_audio.get("stored").copied().unwrap_or(0) >= 1,
        "{text}"
    );
    for bad in ["missing", "unreadable"] {
        assert!(!r.server.voicemail_audio.contains_key(bad), "{text}");
    }
    assert!(text.contains("0 requests refused"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zadarma_refuses_target_mode() {
    let args = SimulateArgs {
        provider: Provider::Zadarma,
        target: Some("http://127.0.0.1:9".into()),
        calls: 1,
        ..SimulateArgs::default()
    };
    let e = run_report(&Config::default(), args).await.unwrap_err();
    assert!(format!("{e:#}").contains("--target"), "{e:#}");
}

#[test]
fn the_binary_runs_a_tiny_zadarma_simulation() {
    let dir = std::env::temp_dir().join(format!("perezvon-zsim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_perezvon"))
        .args([
            "simulate",
            "--provider",
            "zadarma",
            "--calls",
            "5",
            "--rate",
            "20",
            "--time-scale",
            "0.01",
            "--talk-secs",
            "0.3",
            "--seed",
            "5",
        ])
        .env_remove("PEREZVON_CONFIG")
        .env("PEREZVON_DATA_DIR", &dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("calls       5 started, 5 finished"),
        "{stdout}"
    );
    assert!(stdout.contains("(Zadarma)"), "{stdout}");
}
