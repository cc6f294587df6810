//! Fault: the recordings disk is full. As root, `{data_dir}/voicemail` is a 256 KiB tmpfs filled
//! to the last byte; the whole service runs in-process (`perezvon::run_until`, the wiring of
//! `perezvon serve`) on a manual clock on a real SQLite file outside it, with Twilio's media API
//! faked by a local HTTP server (wiremock). Proved: the download job meets ENOSPC and is retried,
//! never failed for good — also when there is room for the original but not for the normalized
//! WAV; each failure is an error-level log line saying the disk is full (with no
//! phone number in it) and is counted in `perezvon_recordings_store_errors_total{reason="disk_full"}`
//! on `/metrics`; webhooks, health and the callback list go on meanwhile; no partial or temporary
//! file is left on the full disk; once space is freed the next try stores the recording. Skipped
//! (with a line saying so) where tmpfs cannot be mounted.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use perezvon::clock::{Clock, ManualClock};
use perezvon::jobs::DOWNLOAD_RECORDING;
use perezvon::jobs::download::STORE_ERRORS;
use perezvon::store::{Job, JobState, Store};
use perezvon::telephony::Step;
use perezvon::telephony::twilio::Route;
use support::TestDb;
use support::inproc::{InProc, logs, sample};
use support::twilio::{HOTLINE, PUBLIC, SID, SIP_DOMAIN, TOKEN, msk, post_signed};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CALLER: &str = "+79161234567";
const RE: &str = "RE0123456789abcdef0123456789abcdef";

/// A tmpfs mounted on a directory; unmounted when dropped.
struct Mounted(PathBuf);

impl Mounted {
    /// Mounts a `size` tmpfs on `dir` (created); `None` when mounting is not permitted here.
    fn tmpfs(dir: &Path, size: &str) -> Option<Mounted> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0750"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "mount failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(Mounted(dir.to_owned()))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Fills the filesystem of `dir` with `dir/filler` until a write fails for want of space.
fn fill(dir: &Path) -> u64 {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0xA5u8; 4096];
    let mut written = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "ENOSPC expected: {e}");
                break;
            }
        }
    }
    // Whatever fits in a smaller write, too.
    while let Ok(n) = f.write(&block[..1]) {
        if n == 0 {
            break;
        }
        written += 1;
    }
    written
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

async fn download_job(store: &Arc<dyn Store>) -> Job {
    for id in 1..=100 {
        if let Some(j) = store.job(id).await.unwrap()
            && j.kind == DOWNLOAD_RECORDING
        {
            return j;
        }
    }
    panic!("no download job");
}

/// Waits (at most 20 s) until the download job has been tried `n` times and is settled.
async fn tried(store: &Arc<dyn Store>, n: i64) -> Job {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let j = download_job(store).await;
        if j.attempts >= n && j.state != JobState::Running {
            return j;
        }
        assert!(
            Instant::now() < end,
            "the download was not tried {n} times: {j:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn disk_full_count(app: &InProc) -> f64 {
    let page = app.metrics().await;
    sample(&page, &format!("{STORE_ERRORS}{{reason=\"disk_full\"}}"))
        .unwrap_or_else(|| panic!("no disk_full series on /metrics:\n{page}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_recordings_disk_is_retried_alerted_and_stops_nothing_else() {
    let db = TestDb::sqlite().await;
    let wav = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audio/speech-8k-s16.wav"),
    )
    .unwrap();
    let twilio = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Recordings/{RE}.wav"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(wav.clone())
                .insert_header("content-type", "audio/x-wav"),
        )
        .mount(&twilio)
        .await;
    // Saturday 11:00 in Moscow: closed, callers leave a voicemail.
    let t0 = msk(2026, 11, 28, 11, 0);
    let clock = Arc::new(ManualClock::new(t0));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[twilio]\naccount_sid = \"{SID}\"\nauth_token = \"{TOKEN}\"\napi_base = \"{}\"\n\
         from_number = \"{HOTLINE}\"\nsip_domain = \"{SIP_DOMAIN}\"\nrequest_timeout_secs = 5\n",
        twilio.uri()
    );
    let app = InProc::start(
        dir.path(),
        &db.database_url(),
        PUBLIC,
        &extra,
        clock.clone(),
    )
    .await;
    let recordings = app.data_dir.join("voicemail");
    let Some(mounted) = Mounted::tmpfs(&recordings, "256k") else {
        println!("SKIPPED (disk full: cannot mount tmpfs)");
        app.stop().await;
        db.finish().await;
        return;
    };
    let filled = fill(&recordings);
    let http = reqwest::Client::new();
    let hook = |route: Route, form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let base = app.base.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let started = Instant::now();
            let (status, body) = post_signed(&http, &base, &route, &form).await;
            assert_eq!(status, 200, "{route:?}: {body}");
            (body, started.elapsed())
        }
    };
    let url = format!("{}/2010-04-01/Accounts/{SID}/Recordings/{RE}", twilio.uri());
    let call = |k: &'static str, v: &str| vec![("CallSid", "CAD".to_owned()), (k, v.to_owned())];
    let mut voice = call("From", CALLER);
    voice.push(("To", HOTLINE.into()));
    let (twiml, _) = hook(Route::Voice, voice).await;
    assert!(twiml.contains("voicemail-number"), "{twiml}");
    hook(
        Route::Gather(Step::VoicemailNumber { attempt: 0 }),
        vec![("CallSid", "CAD".to_owned())],
    )
    .await;
    hook(
        Route::Gather(Step::VoicemailCategory { attempt: 0 }),
        call("Digits", "2"),
    )
    .await;
    let mut rec = call("RecordingSid", RE);
    rec.extend([
        ("RecordingUrl", url.clone()),
        ("RecordingDuration", "3".into()),
    ]);
    hook(Route::Recorded, rec.clone()).await;
    let mut ready = rec;
    ready.push(("RecordingStatus", "completed".into()));
    let before = disk_full_count(&app).await;
    hook(Route::RecordingReady, ready).await;

    // The first try meets the full disk: retried in 30 s, logged, counted.
    let job = tried(&db.store, 1).await;
    assert_eq!(job.state, JobState::Queued, "retried, not failed: {job:?}");
    assert_eq!(job.run_at, t0 + TimeDelta::seconds(30), "{job:?}");
    let error = job.last_error.clone().unwrap();
    assert!(error.contains("No space left on device"), "{error}");
    assert_eq!(disk_full_count(&app).await, before + 1.0);
    let log = logs();
    let alert: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("recordings disk is full"))
        .collect();
    assert_eq!(alert.len(), 1, "one alert per failed try:\n{log}");
    assert!(alert[0].contains("No space left on device"), "{}", alert[0]);
    assert_eq!(files(&recordings), ["filler"], "no partial file left");

    // Meanwhile everything else goes on: new callers are answered, health, the callback list.
    let mut other = vec![
        ("CallSid", "CAE".to_owned()),
        ("From", "+79169876543".to_owned()),
    ];
    other.push(("To", HOTLINE.into()));
    let (twiml, took) = hook(Route::Voice, other).await;
    assert!(twiml.contains("voicemail-number"), "{twiml}");
    assert!(took < Duration::from_secs(1), "a webhook took {took:?}");
    let health = http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert!(health.status().is_success());
    let call_id = db
        .store
        .call_by_provider_id("twilio", "CAD")
        .await
        .unwrap()
        .unwrap()
        .id;
    let listed = db.store.callback_for_call(call_id).await.unwrap();
    assert!(listed.is_some(), "the caller is on the callback list");
    let vm = db.store.voicemail_for_call(call_id).await.unwrap().unwrap();
    assert_eq!(vm.audio_status, "pending", "{vm:?}");

    // Still full at the next try: retried again, counted again.
    clock.advance(TimeDelta::seconds(30));
    let job = tried(&db.store, 2).await;
    assert_eq!(job.state, JobState::Queued, "{job:?}");
    assert_eq!(job.run_at, t0 + TimeDelta::seconds(90), "backoff doubles");
    assert_eq!(disk_full_count(&app).await, before + 2.0);
    assert_eq!(files(&recordings), ["filler"], "no partial file left");

    // Room for the original but not for the normalized WAV: the try fails as a whole and
    // leaves neither file (no half-stored recording).
    let filler = std::fs::OpenOptions::new()
        .write(true)
        .open(recordings.join("filler"))
        .unwrap();
    filler.set_len(filled - 80 * 1024).unwrap();
    drop(filler);
    clock.set(job.run_at);
    let job = tried(&db.store, 3).await;
    assert_eq!(job.state, JobState::Queued, "{job:?}");
    assert_eq!(job.run_at, t0 + TimeDelta::seconds(210), "backoff doubles");
    assert_eq!(disk_full_count(&app).await, before + 3.0);
    assert_eq!(files(&recordings), ["filler"], "no half-stored recording");

    // Space is freed: the next try stores the recording.
    std::fs::remove_file(recordings.join("filler")).unwrap();
    clock.set(job.run_at);
    let job = tried(&db.store, 4).await;
    assert_eq!(job.state, JobState::Done, "{job:?}");
    let vm = db.store.voicemail_for_call(call_id).await.unwrap().unwrap();
    assert_eq!(vm.audio_status, "stored", "{vm:?}");
    let original = vm.original_path.clone().unwrap();
    assert_eq!(std::fs::read(&original).unwrap(), wav);
    assert!(Path::new(original.as_str()).starts_with(&recordings));
    let stored = files(&recordings);
    assert_eq!(
        stored.len(),
        2,
        "the original and the WAV, nothing else: {stored:?}"
    );
    assert!(stored.iter().all(|f| !f.contains(".tmp")), "{stored:?}");
    assert_eq!(disk_full_count(&app).await, before + 3.0, "no new failure");

    let log = logs();
    for number in [CALLER, "9161234567", "9169876543"] {
        assert!(!log.contains(number), "a phone number in the log");
    }
    let clock_now = clock.now();
    app.stop().await;
    drop(mounted);
    db.finish().await;
    println!(
        "PROVED: with the recordings disk full ({filled} bytes of filler on a 256 KiB tmpfs) the \
         download met ENOSPC twice, then once more with room for the original but not the WAV \
         (neither file left), and was retried (30 s, 60 s, 120 s), never failed; each try \
         logged an error saying the disk is full, without the caller's number, and counted \
         {STORE_ERRORS}{{reason=\"disk_full\"}} ({before} -> {}); a new caller was answered in \
         {took:?}, /healthz stayed up and the voicemail stayed on the callback list; no partial \
         file was left; once space was freed the recording was stored at {clock_now}.",
        before + 3.0
    );
}
