//! E-mail under the personal-data rules (152-FZ), on SQLite always and on PostgreSQL when
//! configured, letters registered by the real intake (no mail server needed):
//! - `perezvon privacy export --email` (the built binary) finds the address in any case in its
//!   request, its letters with their attachment, the automatic letter kept without a request and
//!   the letter jobs to it, and nothing of another sender;
//! - `privacy erase --email` is refused while an operator's call back for its request is in
//!   progress (nothing changed), then closes the request, blanks its letters, deletes the
//!   attachment, cancels the queued letters, masks the address and the request's number, audits
//!   with the pseudonym only, leaves the other sender alone, and a second run changes nothing;
//! - `privacy erase --number` masks the number in the letters of its request, and the export by
//!   number lists those letters;
//! - the retention sweep masks the address and the numbers in the letters of a closed request
//!   and of a kept letter, and in finished letter jobs, leaves an open request's letters alone,
//!   and a second sweep changes nothing.

mod support;

use std::process::{Command, Output, Stdio};

use chrono::TimeDelta;
use perezvon::config::PrivacySettings;
use perezvon::domain::pseudonym::Pseudonymizer;
use perezvon::jobs::privacy::{pseudonymizer, sweep};
use perezvon::store::mail::MailRow;
use perezvon::store::mail::Registered;
use perezvon::store::{DialStart, NewOperator, NewUser};
use serde_json::Value;
use support::TestDb;
use support::letters::{intake, letter, t0};

on_both_backends!(
    export_and_erase_an_address,
    erasing_a_number_masks_it_in_its_letters,
    retention_masks_letters_of_closed_requests,
);

const A: &str = "ivan.petrov@mail.ru";
const B: &str = "olga@school.example.ru";
const PHONE: &str = "+79161234567";

/// A's first letter: a phone number in the text and a small attachment.
fn with_attachment() -> Vec<u8> {
    use base64::Engine;
    let file = base64::engine::general_purpose::STANDARD.encode("справка об обучении");
    format!(
        "From: Ivan Petrov <Ivan.Petrov@Mail.RU>\r\nTo: support@school.example.ru\r\n\
         Subject: журнал 8 (916) 123-45-67\r\nMessage-ID: <a-1@mail.ru>\r\n\
         Date: Tue, 01 Dec 2026 11:00:00 +0300\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Не открывается журнал. Перезвоните: 8 (916) 123-45-67.\r\n--b\r\n\
         Content-Type: text/plain; name=\"spravka.txt\"\r\n\
         Content-Disposition: attachment; filename=\"spravka.txt\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{file}\r\n--b--\r\n"
    )
    .into_bytes()
}

/// Registers A's letter (a new request), A's automatic letter (kept) and B's letter (a new
/// request); the ids of A's and B's requests, and the attachment's path.
async fn seed(db: &TestDb, data: &std::path::Path, with_b: bool) -> (i64, Option<i64>) {
    let i = intake(db.store.clone(), data, t0());
    let Registered::New { request_id: a, .. } = i.register(&with_attachment(), t0()).await.unwrap()
    else {
        panic!("A's letter makes a request")
    };
    let auto = letter(
        A,
        "a-auto@mail.ru",
        "Я в отпуске",
        "Auto-Submitted: auto-replied\r\n",
    );
    assert_eq!(i.register(&auto, t0()).await.unwrap(), Registered::Kept);
    let b = if with_b {
        let l = letter(
            B,
            "b-1@school.example.ru",
            "Вопрос про оценки, 8 916 765-43-21",
            "",
        );
        let Registered::New { request_id, .. } = i.register(&l, t0()).await.unwrap() else {
            panic!("B's letter makes a request")
        };
        Some(request_id)
    } else {
        None
    };
    (a, b)
}

fn run(db: &TestDb, data: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perezvon"))
        .args(args)
        .stdin(Stdio::null())
        .env_remove("PEREZVON_CONFIG")
        .env("PEREZVON_DATABASE_URL", db.database_url())
        .env("PEREZVON_DATA_DIR", data)
        .output()
        .unwrap()
}

fn json(o: &Output) -> (Value, String) {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "stdout: {out}\nstderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (serde_json::from_str(&out).unwrap(), out)
}

async fn pz(db: &TestDb) -> Pseudonymizer {
    pseudonymizer(&PrivacySettings::default(), &*db.store, t0())
        .await
        .unwrap()
}

fn stored_files(l: &MailRow) -> Vec<String> {
    let v: Value = serde_json::from_str(&l.attachments).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["path"].as_str().map(str::to_owned))
        .collect()
}

async fn export_and_erase_an_address(db: &TestDb) {
    let data = tempfile::tempdir().unwrap();
    let (r1, _) = seed(db, data.path(), false).await;
    let s = &db.store;
    let letters = s.request_letters(r1).await.unwrap();
    assert!(letters.len() >= 2, "the letter and our automatic reply");
    let files: Vec<_> = letters.iter().flat_map(stored_files).collect();
    assert_eq!(files.len(), 1, "the attachment is stored");
    let file = data.path().join(&files[0]);
    assert!(file.exists());

    // Export, the address written in another case.
    let (doc, out) = json(&run(
        db,
        data.path(),
        &["privacy", "export", "--email", " IVAN.Petrov@mail.ru "],
    ));
    let pseudonym = pz(db).await.address(A);
    assert_eq!(doc["email"], A);
    assert_eq!(doc["pseudonym"], pseudonym.as_str());
    let ids: Vec<i64> = doc["callback_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![r1]);
    let exported = doc["letters"].as_array().unwrap();
    assert_eq!(
        exported.len(),
        letters.len() + 1,
        "the request's letters and the kept one"
    );
    assert!(
        exported
            .iter()
            .any(|l| l["request_id"].is_null() && l["body"].as_str().unwrap().contains("отпуске"))
    );
    assert!(out.contains("spravka.txt") && out.contains("Не открывается журнал"));
    let mail = doc["mail"].as_array().unwrap();
    assert!(!mail.is_empty(), "the automatic reply's job");
    for j in mail {
        let p: Value = serde_json::from_str(j["payload"].as_str().unwrap()).unwrap();
        assert_eq!(
            p["to"].as_str().unwrap().to_lowercase(),
            A,
            "the reply goes to the sender"
        );
    }

    // An operator is calling the request's number back: refused, nothing changed.
    let u = s
        .create_user(
            &NewUser {
                login: "anna".into(),
                display_name: "Анна".into(),
                role: perezvon::domain::user::Role::Operator,
                password_hash: "h".into(),
            },
            t0(),
        )
        .await
        .unwrap();
    let op = s
        .create_operator(
            &NewOperator {
                user_id: u.id,
                name: "Анна".into(),
                contact_kind: perezvon::domain::operator::ContactKind::Phone,
                contact: "+74950000001".into(),
            },
            t0(),
        )
        .await
        .unwrap()
        .id;
    let now = chrono::Utc::now();
    s.claim_callback(op, "anna", now, TimeDelta::minutes(15))
        .await
        .unwrap()
        .unwrap();
    let DialStart::Started(att) = s
        .begin_dial(r1, op, "k1", now, TimeDelta::minutes(2))
        .await
        .unwrap()
    else {
        panic!("a dial starts")
    };
    let refused = run(db, data.path(), &["privacy", "erase", "--email", A]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("call back") && err.contains("nothing was changed"),
        "{err}"
    );
    assert!(!err.contains("ivan.petrov"), "{err}");
    assert_eq!(s.request_letters(r1).await.unwrap(), letters);
    assert!(file.exists());
    s.finish_dial(att.id, "anna", Err("busy"), now)
        .await
        .unwrap();

    // B writes meanwhile: B's data must survive A's erasure.
    let i = intake(db.store.clone(), data.path(), t0());
    let l = letter(B, "b-1@school.example.ru", "Вопрос про оценки", "");
    let Registered::New { request_id: r2, .. } = i.register(&l, t0()).await.unwrap() else {
        panic!("B's letter makes a request")
    };
    let b_letters = s.request_letters(r2).await.unwrap();

    let (done, out) = json(&run(db, data.path(), &["privacy", "erase", "--email", A]));
    assert!(!out.to_lowercase().contains("ivan.petrov"), "{out}");
    assert_eq!(done["requests_closed"], 1, "{done}");
    assert_eq!(
        done["letters_removed"].as_u64().unwrap(),
        letters.len() as u64 + 1,
        "{done}"
    );
    assert_eq!(
        done["mail_cancelled"].as_u64().unwrap(),
        mail.len() as u64,
        "{done}"
    );
    assert_eq!(done["files_deleted"], 1, "{done}");
    assert!(
        !file.exists() && !file.parent().unwrap().exists(),
        "the attachment and its folder are gone"
    );

    let r = s.callback_request(r1).await.unwrap().unwrap();
    assert_eq!(
        (r.state.as_str(), r.outcome.as_deref()),
        ("closed", Some("erased"))
    );
    assert_eq!(r.email.as_deref(), Some(pseudonym.as_str()));
    assert_eq!(r.callback_number, pz(db).await.pseudonym(PHONE));
    for l in s.request_letters(r1).await.unwrap() {
        assert_eq!(
            (l.subject.as_str(), l.body.as_str(), l.attachments.as_str()),
            ("", "", "[]")
        );
        for a in [&l.from_address, &l.to_address].into_iter().flatten() {
            assert!(!a.to_lowercase().contains("ivan"), "{a}");
        }
    }
    assert_eq!(
        s.request_letters(r2).await.unwrap(),
        b_letters,
        "B's letters untouched"
    );
    let r2 = s.callback_request(r2).await.unwrap().unwrap();
    assert_eq!((r2.state.as_str(), r2.email.as_deref()), ("open", Some(B)));

    // What is left, found by the pseudonym: the address only in the export's own header.
    let (doc, out) = json(&run(db, data.path(), &["privacy", "export", "--email", A]));
    assert_eq!(
        out.to_lowercase().matches("ivan.petrov").count(),
        1,
        "{out}"
    );
    assert!(
        !out.contains("123-45-67") && !out.contains("Не открывается"),
        "{out}"
    );
    assert_eq!(doc["letters"].as_array().unwrap().len(), letters.len() + 1);
    for j in doc["mail"].as_array().unwrap() {
        assert_eq!(j["state"], "failed");
        let p: Value = serde_json::from_str(j["payload"].as_str().unwrap()).unwrap();
        assert_eq!(p, serde_json::json!({"to": pseudonym, "erased": true}));
    }
    let audit = doc["audit"].as_array().unwrap();
    let erase = audit
        .iter()
        .find(|a| a["action"] == "privacy.erase")
        .unwrap();
    assert_eq!(erase["subject"], format!("email:{pseudonym}"));
    assert!(audit.iter().any(|a| a["action"] == "privacy.export"));

    // A second erasure finds nothing left to change.
    let (again, _) = json(&run(db, data.path(), &["privacy", "erase", "--email", A]));
    for key in [
        "requests_closed",
        "letters_removed",
        "mail_cancelled",
        "files_deleted",
    ] {
        assert_eq!(again[key], 0, "{key}: {again}");
    }

    // Neither or both of --number and --email: refused by the argument parser.
    assert!(
        !run(db, data.path(), &["privacy", "export"])
            .status
            .success()
    );
    let both = run(
        db,
        data.path(),
        &["privacy", "export", "--email", A, "--number", PHONE],
    );
    assert!(!both.status.success());
    let bad = run(
        db,
        data.path(),
        &["privacy", "erase", "--email", "ivan petrov"],
    );
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("--email: not an e-mail address"),
        "{err}"
    );
}

async fn erasing_a_number_masks_it_in_its_letters(db: &TestDb) {
    let data = tempfile::tempdir().unwrap();
    let (r1, _) = seed(db, data.path(), false).await;
    let (doc, _) = json(&run(
        db,
        data.path(),
        &["privacy", "export", "--number", "8 916 123-45-67"],
    ));
    let listed: Vec<i64> = doc["letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["request_id"].as_i64().unwrap())
        .collect();
    assert!(
        !listed.is_empty() && listed.iter().all(|id| *id == r1),
        "{listed:?}"
    );
    let (done, _) = json(&run(
        db,
        data.path(),
        &["privacy", "erase", "--number", PHONE],
    ));
    assert!(done["masked"]["letters"].as_u64().unwrap() >= 1, "{done}");
    let first = &db.store.request_letters(r1).await.unwrap()[0];
    assert!(first.body.contains("8 (***) ***-45-67"), "{}", first.body);
    assert!(!first.body.contains("123-45-67") && !first.subject.contains("123-45-67"));
}

async fn retention_masks_letters_of_closed_requests(db: &TestDb) {
    let data = tempfile::tempdir().unwrap();
    let (r1, r2) = seed(db, data.path(), true).await;
    let r2 = r2.unwrap();
    let s = &db.store;
    // The automatic replies are sent.
    while let Some(j) = s
        .claim_job("test", t0() + TimeDelta::days(1), TimeDelta::minutes(1))
        .await
        .unwrap()
    {
        s.complete_job(j.id, "test", t0()).await.unwrap();
    }
    let closed = (t0() + TimeDelta::days(1)).timestamp_millis();
    let close = format!(
        "update callback_requests set state = 'closed', outcome = 'resolved', closed_at_ms = {closed}, \
         claimed_by = null where id = {r1}"
    );
    db.execute(&close, &close).await;
    let b_letters = s.request_letters(r2).await.unwrap();
    let a_letters = s.request_letters(r1).await.unwrap();
    let settings = PrivacySettings {
        mask_numbers_after: Some(TimeDelta::days(30)),
        ..Default::default()
    };
    let now = t0() + TimeDelta::days(40);
    let swept = sweep(&**s, &settings, now).await.unwrap();
    assert_eq!(swept.addresses, 1, "{swept:?}");
    assert_eq!(
        swept.masked.letters,
        a_letters.len() as u64 + 1,
        "{swept:?}"
    );

    let pz = pz(db).await;
    let p = pz.address(A);
    for l in s.request_letters(r1).await.unwrap() {
        let person = if l.direction == "in" {
            &l.from_address
        } else {
            &l.to_address
        };
        assert_eq!(person.as_deref(), Some(p.as_str()), "{l:?}");
        let ours = if l.direction == "in" {
            &l.to_address
        } else {
            &l.from_address
        };
        assert!(
            ours.as_deref()
                .is_none_or(|a| a.contains("school.example.ru")),
            "{l:?}"
        );
        assert!(
            !l.body.contains("123-45-67") && !l.subject.contains("123-45-67"),
            "{l:?}"
        );
    }
    let first = &s.request_letters(r1).await.unwrap()[0];
    assert!(first.body.contains("8 (***) ***-45-67"), "{}", first.body);
    assert_eq!(
        stored_files(first).len(),
        1,
        "retention keeps the letter's attachment"
    );
    let r = s.callback_request(r1).await.unwrap().unwrap();
    assert_eq!(r.email.as_deref(), Some(p.as_str()));
    assert_eq!(r.callback_number, pz.pseudonym(PHONE));
    // The kept letter and the sent reply, found by the pseudonym.
    let held = s.address_data(&p, &p).await.unwrap();
    let kept = held
        .letters
        .iter()
        .find(|l| l.request_id.is_none())
        .unwrap();
    assert_eq!(kept.from_address.as_deref(), Some(p.as_str()));
    assert!(!held.mail.is_empty());
    for j in &held.mail {
        let v: Value = serde_json::from_str(&j.payload).unwrap();
        assert_eq!(v["to"], p.as_str());
    }
    // B's request is open: untouched, its reply job too.
    assert_eq!(s.request_letters(r2).await.unwrap(), b_letters);
    let b = s.address_data(B, &pz.address(B)).await.unwrap();
    assert!(!b.mail.is_empty());
    assert!(
        b.letters.iter().any(|l| l.body.contains("765-43-21")),
        "{:?}",
        b.letters
    );
    assert_eq!(
        s.callback_request(r2)
            .await
            .unwrap()
            .unwrap()
            .email
            .as_deref(),
        Some(B)
    );

    let again = sweep(&**s, &settings, now).await.unwrap();
    assert_eq!((again.addresses, again.masked.total()), (0, 0), "{again:?}");
}
