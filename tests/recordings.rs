//! Durable recording downloads against a local fake of Twilio's media API (wiremock): the happy
//! path, 503s then success, a timeout, 404, a restart while a download is pending, µ-law / MP3 /
//! garbage / silent recordings. Real database (SQLite always, PostgreSQL when configured), real
//! files in a temp data dir.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::clock::{Clock, ManualClock};
use perezvon::jobs::download::Download;
use perezvon::jobs::{DOWNLOAD_MAX_ATTEMPTS, DOWNLOAD_RECORDING, Worker};
use perezvon::store::{JobState, NewCallEvent, NewJob, Store};
use perezvon::telephony::twilio::{TwilioClient, TwilioControl};
use support::TestDb;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/audio")
            .join(name),
    )
    .unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap()
}

struct Rig {
    twilio: MockServer,
    clock: Arc<ManualClock>,
    data: tempfile::TempDir,
}

impl Rig {
    async fn new() -> Rig {
        Rig {
            twilio: MockServer::start().await,
            clock: Arc::new(ManualClock::new(t0())),
            data: tempfile::tempdir().unwrap(),
        }
    }

    fn worker(&self, store: Arc<dyn Store>, timeout: Duration, delete: bool) -> Worker {
        let client = TwilioClient::with_timeout(&self.twilio.uri(), SID, "token", timeout).unwrap();
        let control = Arc::new(TwilioControl {
            client,
            public_url: "https://hotline.example.ru".into(),
        });
        let download = Download {
            store: store.clone(),
            sources: vec![control],
            data_dir: self.data.path().to_owned(),
            delete_at_provider: delete,
        };
        Worker::new(store, self.clock.clone(), vec![Arc::new(download)])
    }

    /// A call with a voicemail and a download job for recording `re`, as the webhook leaves them.
    async fn voicemail(&self, store: &Arc<dyn Store>, call_sid: &str, re: &str) -> (i64, String) {
        let url = format!(
            "{}/2010-04-01/Accounts/{SID}/Recordings/{re}",
            self.twilio.uri()
        );
        let payload =
            serde_json::json!({"provider": "twilio", "call_id": 0, "recording_id": re, "url": url});
        let ev = NewCallEvent {
            provider: "twilio".into(),
            provider_call_id: call_sid.into(),
            from_number: Some("+79161234567".into()),
            to_number: None,
            event_key: "voice".into(),
            kind: "incoming".into(),
            sequence: None,
            payload: "{}".into(),
            state: "voicemail_left".into(),
            operator_id: None,
            tried: vec![],
            reply: None,
            jobs: vec![],
        };
        let call = store
            .record_call_event(&ev, self.clock.now())
            .await
            .unwrap()
            .call;
        store
            .start_voicemail(call.id, Some("+79161234567"), self.clock.now())
            .await
            .unwrap();
        store
            .set_voicemail_recording(call.id, &format!("twilio:{re}"), &url, Some(3000))
            .await
            .unwrap();
        let mut p = payload;
        p["call_id"] = call.id.into();
        let job = NewJob {
            kind: DOWNLOAD_RECORDING.into(),
            payload: p.to_string(),
            dedup_key: Some(format!("download:twilio:{re}")),
            run_at: self.clock.now(),
            max_attempts: DOWNLOAD_MAX_ATTEMPTS,
        };
        let job_id = store
            .enqueue_job(&job, self.clock.now())
            .await
            .unwrap()
            .unwrap();
        (call.id, job_id.to_string())
    }

    async fn serve(&self, re: &str, status: u16, body: Vec<u8>, times: Option<u64>) {
        let mut m = Mock::given(method("GET"))
            .and(path(format!(
                "/2010-04-01/Accounts/{SID}/Recordings/{re}.wav"
            )))
            .and(header_exists("authorization"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_bytes(body)
                    .insert_header("content-type", "audio/x-wav"),
            );
        if let Some(n) = times {
            m = m.up_to_n_times(n);
        }
        m.mount(&self.twilio).await;
    }
}

on_both_backends!(
    happy_path_stores_wav_and_original,
    retries_503_then_succeeds_and_times_out_then_succeeds,
    not_found_gives_up_and_flags,
    restart_mid_download_resumes,
    formats_garbage_and_silence,
    retention_deletes_old_audio_and_keeps_metadata,
);

async fn happy_path_stores_wav_and_original(db: &TestDb) {
    let rig = Rig::new().await;
    let (call, _) = rig.voicemail(&db.store, "CA1", "RE1").await;
    rig.serve("RE1", 200, fixture("speech-8k-s16.wav"), None)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Recordings/RE1.json"
        )))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&rig.twilio)
        .await;
    let w = rig.worker(db.store.clone(), Duration::from_secs(5), true);
    assert_eq!(w.run_due().await.unwrap(), 1);
    let vm = db.store.voicemail_for_call(call).await.unwrap().unwrap();
    assert_eq!(vm.audio_status, "stored");
    assert_eq!(vm.has_speech, Some(true));
    assert_eq!(vm.sample_rate, Some(8000));
    assert!(vm.duration_ms.unwrap() > 1000, "{vm:?}");
    assert_eq!(vm.sha256.as_deref().map(str::len), Some(64));
    let wav = vm.audio_path.clone().unwrap();
    assert!(
        wav.contains("/voicemail/2026/12/01/") && wav.ends_with(".wav"),
        "{wav}"
    );
    let reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(
        (reader.spec().channels, reader.spec().bits_per_sample),
        (1, 16)
    );
    assert_eq!(
        std::fs::read(vm.original_path.unwrap()).unwrap(),
        fixture("speech-8k-s16.wav")
    );
    assert!(vm.flags.is_empty(), "{}", vm.flags);
    assert_eq!(w.run_due().await.unwrap(), 0, "done once");
}

async fn retries_503_then_succeeds_and_times_out_then_succeeds(db: &TestDb) {
    let rig = Rig::new().await;
    let (call, job) = rig.voicemail(&db.store, "CA2", "RE2").await;
    let job: i64 = job.parse().unwrap();
    rig.serve("RE2", 503, b"busy".to_vec(), Some(2)).await;
    rig.serve("RE2", 200, fixture("speech-8k-ulaw.wav"), None)
        .await;
    let w = rig.worker(db.store.clone(), Duration::from_secs(5), false);
    assert_eq!(w.run_due().await.unwrap(), 1);
    let j = db.store.job(job).await.unwrap().unwrap();
    assert_eq!((j.state, j.attempts), (JobState::Queued, 1));
    assert_eq!(j.run_at, t0() + TimeDelta::seconds(30), "backoff 30 s");
    assert!(j.last_error.unwrap().contains("503"));
    assert_eq!(w.run_due().await.unwrap(), 0, "not due yet");
    rig.clock.advance(TimeDelta::seconds(30));
    w.run_due().await.unwrap();
    assert_eq!(
        db.store.job(job).await.unwrap().unwrap().run_at,
        rig.clock.now() + TimeDelta::seconds(60),
        "then 60 s"
    );
    rig.clock.advance(TimeDelta::seconds(60));
    w.run_due().await.unwrap();
    assert_eq!(
        db.store.job(job).await.unwrap().unwrap().state,
        JobState::Done
    );
    assert_eq!(
        db.store
            .voicemail_for_call(call)
            .await
            .unwrap()
            .unwrap()
            .audio_status,
        "stored"
    );

    // A provider that does not answer in time: retried, then fine.
    let (call, job) = rig.voicemail(&db.store, "CA3", "RE3").await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Recordings/RE3.wav"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(3))
                .set_body_bytes(fixture("speech-8k-s16.wav")),
        )
        .up_to_n_times(1)
        .mount(&rig.twilio)
        .await;
    rig.serve("RE3", 200, fixture("speech-8k-s16.wav"), None)
        .await;
    let impatient = rig.worker(db.store.clone(), Duration::from_millis(500), false);
    impatient.run_due().await.unwrap();
    let j = db.store.job(job.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(j.state, JobState::Queued);
    assert!(
        j.last_error.unwrap().to_lowercase().contains("time"),
        "timeout recorded"
    );
    rig.clock.advance(TimeDelta::minutes(1));
    impatient.run_due().await.unwrap();
    assert_eq!(
        db.store
            .voicemail_for_call(call)
            .await
            .unwrap()
            .unwrap()
            .audio_status,
        "stored"
    );
}

async fn not_found_gives_up_and_flags(db: &TestDb) {
    let rig = Rig::new().await;
    let (call, job) = rig.voicemail(&db.store, "CA4", "RE4").await;
    rig.serve(
        "RE4",
        404,
        br#"{"code":20404,"message":"not found","status":404}"#.to_vec(),
        None,
    )
    .await;
    let w = rig.worker(db.store.clone(), Duration::from_secs(5), false);
    for _ in 0..3 {
        w.run_due().await.unwrap();
        rig.clock.advance(TimeDelta::minutes(5));
    }
    let j = db.store.job(job.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((j.state, j.attempts), (JobState::Failed, 3));
    let vm = db.store.voicemail_for_call(call).await.unwrap().unwrap();
    assert_eq!(vm.audio_status, "missing");
    assert!(vm.flags.contains("recording_missing"));
    assert_eq!(
        vm.callback_number.as_deref(),
        Some("+79161234567"),
        "the voicemail is still there to call back"
    );
}

async fn restart_mid_download_resumes(db: &TestDb) {
    let rig = Rig::new().await;
    let (call, job) = rig.voicemail(&db.store, "CA5", "RE5").await;
    rig.serve("RE5", 200, fixture("speech-8k.mp3"), None).await;
    // An instance claims the job and dies before finishing (its lease stays behind).
    let dead = db
        .store
        .claim_job("dead-instance", rig.clock.now(), TimeDelta::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.id.to_string(), job);
    // A new process starts on the same database: nothing to do until the lease runs out...
    let store2 = db.another_instance().await;
    let w = rig.worker(store2.clone(), Duration::from_secs(5), false);
    assert_eq!(w.run_due().await.unwrap(), 0);
    rig.clock
        .advance(TimeDelta::minutes(5) + TimeDelta::seconds(1));
    // ...then it resumes the download and finishes it.
    assert_eq!(w.run_due().await.unwrap(), 1);
    let j = store2.job(dead.id).await.unwrap().unwrap();
    assert_eq!((j.state, j.attempts), (JobState::Done, 2));
    let vm = store2.voicemail_for_call(call).await.unwrap().unwrap();
    assert_eq!(vm.audio_status, "stored");
    assert!(vm.original_path.unwrap().ends_with(".mp3"));
    store2.close().await;
}

async fn formats_garbage_and_silence(db: &TestDb) {
    let rig = Rig::new().await;
    let cases = [
        ("RE6", "speech-8k-ulaw.wav", "stored", Some(true), ""),
        ("RE7", "speech-8k-alaw.wav", "stored", Some(true), ""),
        ("RE8", "speech-8k.mp3", "stored", Some(true), ""),
        ("RE9", "garbage.bin", "unreadable", None, "audio_unreadable"),
        ("RE10", "silence-8k.wav", "stored", Some(false), "silent"),
        (
            "RE11",
            "truncated.wav",
            "unreadable",
            None,
            "audio_unreadable",
        ),
    ];
    let mut calls = Vec::new();
    for (re, file, ..) in &cases {
        let (call, _) = rig.voicemail(&db.store, &format!("CA-{re}"), re).await;
        rig.serve(re, 200, fixture(file), None).await;
        calls.push(call);
    }
    let w = rig.worker(db.store.clone(), Duration::from_secs(5), false);
    assert_eq!(w.run_due().await.unwrap(), cases.len());
    for ((re, file, status, speech, flag), call) in cases.iter().zip(calls) {
        let vm = db.store.voicemail_for_call(call).await.unwrap().unwrap();
        assert_eq!(
            (vm.audio_status.as_str(), vm.has_speech),
            (*status, *speech),
            "{re} {file}"
        );
        assert_eq!(vm.flags, *flag, "{re} {file}");
        assert!(
            vm.original_path.is_some(),
            "{re}: the original is always kept"
        );
        assert_eq!(vm.audio_path.is_some(), *status == "stored", "{re}");
    }
}

async fn retention_deletes_old_audio_and_keeps_metadata(db: &TestDb) {
    use perezvon::jobs::retention::{RETENTION, Retention, job_for};
    let rig = Rig::new().await;
    let (old_call, _) = rig.voicemail(&db.store, "CA-old", "RE-old").await;
    rig.clock.advance(TimeDelta::days(80));
    let (new_call, _) = rig.voicemail(&db.store, "CA-new", "RE-new").await;
    rig.serve("RE-old", 200, fixture("speech-8k-s16.wav"), None)
        .await;
    rig.serve("RE-new", 200, fixture("speech-8k-s16.wav"), None)
        .await;
    rig.worker(db.store.clone(), Duration::from_secs(5), false)
        .run_due()
        .await
        .unwrap();
    let old = db
        .store
        .voicemail_for_call(old_call)
        .await
        .unwrap()
        .unwrap();
    let wav = old.audio_path.clone().unwrap();
    let orig = old.original_path.clone().unwrap();
    assert!(Path::new(&wav).exists() && Path::new(&orig).exists());

    // 91 days after the first voicemail: it is past the 90-day retention, the second is not.
    rig.clock.advance(TimeDelta::days(11));
    let retention = Retention {
        store: db.store.clone(),
        data_dir: rig.data.path().to_owned(),
        keep: TimeDelta::days(90),
    };
    let w = Worker::new(
        db.store.clone(),
        rig.clock.clone(),
        vec![Arc::new(retention)],
    );
    db.store
        .enqueue_job(&job_for(rig.clock.now()), rig.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert!(
        db.store
            .enqueue_job(&job_for(rig.clock.now()), rig.clock.now())
            .await
            .unwrap()
            .is_none(),
        "once a day"
    );
    assert_eq!(w.run_due().await.unwrap(), 1);
    let old = db
        .store
        .voicemail_for_call(old_call)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (old.audio_status.as_str(), old.audio_path.as_deref()),
        ("removed", None)
    );
    assert!(old.flags.contains("audio_removed"));
    assert_eq!(
        old.callback_number.as_deref(),
        Some("+79161234567"),
        "metadata stays"
    );
    assert!(old.sha256.is_some() && old.duration_ms.is_some());
    assert!(
        !Path::new(&wav).exists() && !Path::new(&orig).exists(),
        "files deleted"
    );
    let new = db
        .store
        .voicemail_for_call(new_call)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new.audio_status, "stored");
    assert!(Path::new(new.audio_path.as_deref().unwrap()).exists());
    // Tomorrow's sweep is scheduled.
    let next = db.store.next_job_due().await.unwrap().unwrap();
    assert_eq!(next, rig.clock.now() + TimeDelta::days(1));
    rig.clock.advance(TimeDelta::days(1));
    let job = db
        .store
        .claim_job("x", rig.clock.now(), TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.kind, RETENTION);
}
