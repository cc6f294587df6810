//! `perezvon privacy export|erase --number N` run as the built binary against a real database —
//! a SQLite file, and a fresh PostgreSQL schema when `PEREZVON_TEST_POSTGRES_URL` is set: the
//! export finds the number written in another form in calls, events, voicemails (with their
//! files), requests, SMS and the audit log, and nobody else's; the erasure is refused during a call
//! and changes nothing then; afterwards it masks every row, deletes the recording files, closes
//! the open request, cancels the queued SMS and audits itself with the pseudonym only; a second
//! erasure changes nothing.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{TimeDelta, Utc};
use perezvon::config::Config;
use perezvon::store::{AudioUpdate, NewAuditEntry, NewCallEvent, Store};
use serde_json::Value;
use sqlx::Connection;

const N: &str = "+79161234567";
/// The same number as a caller would write it.
const WRITTEN: &str = "8 (916) 123-45-67";
const OTHER: &str = "+79169876543";

/// A database for the binary: its URL, a data directory, and the schema to drop (PostgreSQL).
struct Db {
    url: String,
    dir: tempfile::TempDir,
    schema: Option<(String, String)>,
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("perezvon.db").display());
        Db {
            url,
            dir,
            schema: None,
        }
    }

    async fn postgres() -> Option<Db> {
        let url = support::postgres_url()?;
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("create schema {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        Some(Db {
            url: format!("{url}{sep}options=-c%20search_path%3D{schema}"),
            dir: tempfile::tempdir().unwrap(),
            schema: Some((url, schema)),
        })
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PEREZVON_DATABASE_URL".into(), self.url.clone()),
            (
                "PEREZVON_DATA_DIR".into(),
                self.dir.path().display().to_string(),
            ),
        ]
    }

    async fn store(&self) -> std::sync::Arc<dyn Store> {
        let config = Config::load_with_env(None, self.env()).unwrap();
        perezvon::store::connect(&config.database_url)
            .await
            .unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_perezvon"));
        cmd.args(args)
            .stdin(Stdio::null())
            .env_remove("PEREZVON_CONFIG");
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn json(&self, args: &[&str]) -> (Value, String) {
        let o = self.run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{args:?} failed: {err}");
        let text = String::from_utf8(o.stdout).unwrap();
        (serde_json::from_str(&text).unwrap(), text)
    }

    async fn finish(self) {
        if let Some((url, schema)) = self.schema {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("drop schema {schema} cascade"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// Ends a call with a status event whose payload names the caller.
async fn end_call(store: &dyn Store, sid: &str, from: &str) {
    let ev = NewCallEvent {
        provider: "twilio".into(),
        provider_call_id: sid.into(),
        from_number: Some(from.into()),
        to_number: Some("+74950000000".into()),
        event_key: "status:completed".into(),
        kind: "status".into(),
        sequence: None,
        payload: format!("{{\"From\":\"{from}\",\"CallStatus\":\"completed\"}}"),
        state: "completed".into(),
        operator_id: None,
        tried: Vec::new(),
        reply: None,
        jobs: Vec::new(),
    };
    store.record_call_event(&ev, Utc::now()).await.unwrap();
}

/// N left a voicemail (stored, two files) that is on the callback list, got an SMS, and its
/// recording was listened to; OTHER called too.
async fn seed(db: &Db) -> (i64, Vec<std::path::PathBuf>) {
    let store = db.store().await;
    let t0 = Utc::now() - TimeDelta::days(3);
    let request = support::web::voicemail_request(&store, t0, "CA1", N, Some("parent")).await;
    let call = store
        .call_by_provider_id("twilio", "CA1")
        .await
        .unwrap()
        .unwrap();
    let dir = db.dir.path().join("voicemail/2026/12/01");
    std::fs::create_dir_all(&dir).unwrap();
    let files = vec![dir.join("1.wav"), dir.join("1.orig.wav")];
    for f in &files {
        std::fs::write(f, b"RIFF").unwrap();
    }
    let audio = AudioUpdate {
        status: "stored".into(),
        audio_path: Some(files[0].display().to_string()),
        original_path: Some(files[1].display().to_string()),
        duration_ms: Some(4000),
        sample_rate: Some(8000),
        sha256: Some("ab".repeat(32)),
        has_speech: Some(true),
    };
    store.set_voicemail_audio(call.id, &audio).await.unwrap();
    end_call(&*store, "CA1", N).await;
    let vm = store.voicemail_for_call(call.id).await.unwrap().unwrap();
    let listened = NewAuditEntry {
        actor: "anna".into(),
        action: "voicemail.audio".into(),
        subject: format!("voicemail:{}", vm.id),
        detail: "{}".into(),
        request_id: None,
    };
    store.audit(&listened, t0).await.unwrap();
    let sms = perezvon::jobs::sms::sms_job(N, "Перезвоним", "sms:eta:1".into(), t0);
    store.enqueue_job(&sms, t0).await.unwrap();
    store
        .ensure_call("twilio", "CA2", Some(OTHER), None, t0)
        .await
        .unwrap();
    end_call(&*store, "CA2", OTHER).await;
    store.close().await;
    (request, files)
}

async fn export_then_erase(db: &Db) {
    let (request, files) = seed(db).await;

    let (v, text) = db.json(&["privacy", "export", "--number", WRITTEN]);
    assert_eq!(v["number"], N);
    assert!(!text.contains("9876543"), "another caller's data: {text}");
    let calls = v["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{text}");
    assert_eq!(calls[0]["from_number"], N);
    assert!(
        calls[0]["events"][0]["payload"]
            .as_str()
            .unwrap()
            .contains(N)
    );
    let vm = &v["voicemails"][0];
    assert_eq!(vm["audio_path"], files[0].display().to_string());
    assert_eq!(vm["callback_number"], N);
    let req = &v["callback_requests"][0];
    assert_eq!(
        (req["id"].as_i64(), req["state"].as_str()),
        (Some(request), Some("open"))
    );
    assert!(!req["history"].as_array().unwrap().is_empty(), "{text}");
    assert!(req["attempts"].is_array());
    assert_eq!(v["sms"].as_array().unwrap().len(), 1, "{text}");
    let actions: Vec<&str> = v["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["voicemail.audio"]);

    // A call of the number in progress: refused, nothing changed.
    let store = db.store().await;
    store
        .ensure_call("twilio", "CA3", Some(N), None, Utc::now())
        .await
        .unwrap();
    let o = db.run(&["privacy", "erase", "--number", N]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("in progress"), "{err}");
    assert!(!err.contains("1234567"), "the number in an error: {err}");
    assert!(files.iter().all(|f| f.exists()));
    let r = store.callback_request(request).await.unwrap().unwrap();
    assert_eq!((r.state.as_str(), r.callback_number.as_str()), ("open", N));
    end_call(&*store, "CA3", N).await;

    let (done, _) = db.json(&["privacy", "erase", "--number", "89161234567"]);
    assert_eq!(done["requests_closed"], 1, "{done}");
    assert_eq!(done["recordings_removed"], 1, "{done}");
    assert_eq!(done["files_deleted"], 2, "{done}");
    assert_eq!(done["sms_cancelled"], 1, "{done}");
    assert_eq!(done["masked"]["calls"], 2, "{done}");
    assert!(done["payloads_dropped"].as_u64().unwrap() >= 2, "{done}");
    assert!(files.iter().all(|f| !f.exists()), "recording files deleted");
    let pseudonym = done["pseudonym"].as_str().unwrap().to_owned();
    assert!(pseudonym.starts_with("+7******4567#"), "{pseudonym}");

    // Nothing holds the number any more: the export names it only as the number asked for.
    let (v, text) = db.json(&["privacy", "export", "--number", N]);
    assert_eq!(text.matches("9161234567").count(), 1, "{text}");
    assert_eq!(v["pseudonym"], pseudonym.as_str());
    assert_eq!(v["calls"].as_array().unwrap().len(), 2, "{text}");
    assert!(
        v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["from_number"] == pseudonym.as_str())
    );
    let req = &v["callback_requests"][0];
    assert_eq!(
        (req["state"].as_str(), req["outcome"].as_str()),
        (Some("closed"), Some("erased"))
    );
    let vm = &v["voicemails"][0];
    assert_eq!(vm["audio_status"], "removed");
    assert!(
        vm["audio_path"].is_null() && vm["original_path"].is_null(),
        "{vm}"
    );
    assert_eq!(
        v["sms"].as_array().unwrap().len(),
        0,
        "the SMS no longer names the number"
    );
    let erase = v["audit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "privacy.erase")
        .unwrap();
    assert_eq!(erase["actor"], "cli");
    assert_eq!(erase["subject"], format!("number:{pseudonym}"));
    let calls = store.recent_calls(10).await.unwrap();
    let other = calls.iter().find(|c| c.provider_call_id == "CA2").unwrap();
    assert_eq!(
        other.from_number.as_deref(),
        Some(OTHER),
        "another caller untouched"
    );
    let export_audits = store.recent_audit(50).await.unwrap();
    assert!(
        export_audits
            .iter()
            .all(|a| !a.detail.contains("1234567") && !a.subject.contains("91612"))
    );
    assert!(export_audits.iter().any(|a| a.action == "privacy.export"));

    // Again: nothing left to change.
    let (again, _) = db.json(&["privacy", "erase", "--number", N]);
    assert_eq!(again["masked"]["calls"], 0, "{again}");
    assert_eq!(again["requests_closed"], 0, "{again}");
    assert_eq!(again["files_deleted"], 0, "{again}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_erase_on_sqlite() {
    let db = Db::sqlite();
    export_then_erase(&db).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_erase_on_postgres() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    export_then_erase(&db).await;
    db.finish().await;
}

#[test]
fn a_number_that_is_not_one_is_refused() {
    let db = Db::sqlite();
    for args in [
        ["privacy", "export", "--number", "anonymous"],
        ["privacy", "erase", "--number", "12345"],
    ] {
        let o = db.run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("--number"),
            "{args:?}: {err}"
        );
    }
    assert!(
        !Path::new(&db.dir.path().join("perezvon.db")).exists(),
        "refused before opening the database"
    );
}

#[test]
fn a_bad_retention_names_its_key() {
    let db = Db::sqlite();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perezvon"));
    cmd.args(["privacy", "export", "--number", N])
        .env_remove("PEREZVON_CONFIG");
    for (k, v) in db.env() {
        cmd.env(k, v);
    }
    let o = cmd
        .env("PEREZVON_PRIVACY__MASK_NUMBERS_AFTER_DAYS", "0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("privacy.mask_numbers_after_days"),
        "{err}"
    );
}
