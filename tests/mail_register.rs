//! Registering letters without a mail server, on SQLite always and on PostgreSQL when configured:
//! a letter from a blocked domain or address is kept, counted once as a blocked attempt (however
//! often it is seen), never registered nor answered; automatic mail likewise without the count;
//! a sender's second letter giving the phone of their own request joins it; and a letter whose
//! phone belongs to a call's request joins that request; one instance at a time holds the
//! mailbox, and another takes over where it left off once its lease lapses.

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use perezvon::domain::blocklist::RuleKind;
use perezvon::mail::intake::Intake;
use perezvon::store::mail::Registered;
use support::TestDb;

on_both_backends!(
    blocked_and_automatic_mail_is_kept_unanswered,
    letters_join_by_phone,
    one_instance_holds_the_mailbox,
    attachments_over_the_limit_are_listed_not_stored,
);

/// The intake's limit is 1 KiB: a 2 KiB attachment is listed with its size, not stored; a small
/// one is stored.
async fn attachments_over_the_limit_are_listed_not_stored(db: &TestDb) {
    use base64::Engine;
    let data = tempfile::tempdir().unwrap();
    let i = intake(db, data.path());
    let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![b'x'; n]);
    let raw = format!(
        "From: a@mail.ru\r\nTo: support@school.example.ru\r\nSubject: files\r\n\
         Message-ID: <f-1@mail.ru>\r\nDate: Tue, 01 Dec 2026 11:00:00 +0300\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nДва файла.\r\n--b\r\n\
         Content-Type: application/octet-stream; name=\"big.bin\"\r\n\
         Content-Disposition: attachment; filename=\"big.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b\r\n\
         Content-Type: text/plain; name=\"small.txt\"\r\n\
         Content-Disposition: attachment; filename=\"small.txt\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        b64(2048),
        b64(10)
    );
    let Registered::New { request_id, .. } = i.register(raw.as_bytes(), now()).await.unwrap()
    else {
        panic!("a new request")
    };
    let letters = db.store.request_letters(request_id).await.unwrap();
    let list: serde_json::Value = serde_json::from_str(&letters[0].attachments).unwrap();
    assert_eq!(list[0]["filename"], "big.bin");
    assert_eq!(
        (&list[0]["stored"], &list[0]["size"]),
        (&serde_json::json!(false), &serde_json::json!(2048))
    );
    assert!(list[0].get("path").is_none());
    assert_eq!(list[1]["stored"], true);
    let small = data.path().join(list[1]["path"].as_str().unwrap());
    assert_eq!(std::fs::read(small).unwrap(), vec![b'x'; 10]);
}

async fn one_instance_holds_the_mailbox(db: &TestDb) {
    let (s, other) = (db.store.clone(), db.another_instance().await);
    let t = now();
    let lease = TimeDelta::seconds(60);
    let mailbox = "support@imap.example:993/INBOX";
    assert_eq!(
        s.take_mailbox(mailbox, "a", t, t + lease).await.unwrap(),
        Some((0, 0))
    );
    assert_eq!(
        other
            .take_mailbox(mailbox, "b", t, t + lease)
            .await
            .unwrap(),
        None,
        "b stands by"
    );
    assert!(s.set_mailbox_place(mailbox, "a", 7, 42).await.unwrap());
    assert!(
        !other.set_mailbox_place(mailbox, "b", 7, 99).await.unwrap(),
        "only the holder moves it"
    );
    // a renews; b still waits.
    let later = t + TimeDelta::seconds(30);
    assert_eq!(
        s.take_mailbox(mailbox, "a", later, later + lease)
            .await
            .unwrap(),
        Some((7, 42))
    );
    assert_eq!(
        other
            .take_mailbox(mailbox, "b", t + lease, t + lease * 2)
            .await
            .unwrap(),
        None
    );
    // a stops renewing: b takes over where a left off.
    let gone = later + lease + TimeDelta::seconds(1);
    assert_eq!(
        other
            .take_mailbox(mailbox, "b", gone, gone + lease)
            .await
            .unwrap(),
        Some((7, 42))
    );
    assert_eq!(
        s.take_mailbox(mailbox, "a", gone, gone + lease)
            .await
            .unwrap(),
        None
    );
}

fn now() -> DateTime<Utc> {
    support::letters::t0()
}

fn intake(db: &TestDb, data: &std::path::Path) -> Intake {
    support::letters::intake(db.store.clone(), data, now())
}

fn letter(from: &str, id: &str, body: &str, extra: &str) -> Vec<u8> {
    support::letters::letter(from, id, body, extra)
}

async fn mail_jobs(db: &TestDb) -> usize {
    let mut n = 0;
    while let Some(j) = db
        .store
        .claim_job("test", now() + TimeDelta::days(400), TimeDelta::minutes(1))
        .await
        .unwrap()
    {
        n += usize::from(j.kind == "mail.send");
        db.store.complete_job(j.id, "test", now()).await.unwrap();
    }
    n
}

async fn blocked_and_automatic_mail_is_kept_unanswered(db: &TestDb) {
    let data = tempfile::tempdir().unwrap();
    let i = intake(db, data.path());
    let rule = db
        .store
        .add_block_rule(RuleKind::Domain, "spam.example", "рассылка", "boss", now())
        .await
        .unwrap();
    // A subdomain's sender, with a PDF that must not be stored.
    let spam = letter(
        "promo@news.spam.example",
        "s-1@news.spam.example",
        "Купите!",
        "",
    );
    assert_eq!(i.register(&spam, now()).await.unwrap(), Registered::Kept);
    // Seen again (a restart): still kept, counted once.
    assert_eq!(
        i.register(&spam, now()).await.unwrap(),
        Registered::Already(None)
    );
    let counts = db.store.blocked_attempts(now()).await.unwrap();
    assert_eq!(
        counts
            .iter()
            .map(|c| (c.rule_id, c.total))
            .collect::<Vec<_>>(),
        [(rule.id, 1)]
    );
    let auto = letter(
        "robot@mail.ru",
        "a-1@mail.ru",
        "Я в отпуске",
        "Auto-Submitted: auto-replied\r\n",
    );
    assert_eq!(i.register(&auto, now()).await.unwrap(), Registered::Kept);
    let ok = letter("parent@mail.ru", "p-1@mail.ru", "Не могу войти.", "");
    assert!(matches!(
        i.register(&ok, now()).await.unwrap(),
        Registered::New { .. }
    ));
    assert_eq!(
        mail_jobs(db).await,
        1,
        "only the person's letter is answered"
    );
}

async fn letters_join_by_phone(db: &TestDb) {
    let data = tempfile::tempdir().unwrap();
    let i = intake(db, data.path());
    // A voicemail request for +79161234567.
    let call_request =
        support::web::voicemail_request(&db.store, now(), "CA1", "+79161234567", None).await;
    let l = letter(
        "mama@mail.ru",
        "m-1@mail.ru",
        "Звонила вчера, мой номер 8 916 123-45-67.",
        "",
    );
    let Registered::Joined { request_id, .. } = i.register(&l, now()).await.unwrap() else {
        panic!("the letter joins the call's request")
    };
    assert_eq!(request_id, call_request);
    let r = db
        .store
        .callback_request(call_request)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.repeat_count, r.email.as_deref()),
        (1, Some("mama@mail.ru"))
    );
    // Another sender with a new phone: a request of their own that has the phone; their next
    // letter with it (no reference) joins it.
    let a = letter(
        "papa@mail.ru",
        "d-1@mail.ru",
        "Телефон +7 903 111-22-33.",
        "",
    );
    let Registered::New {
        request_id: own, ..
    } = i.register(&a, now()).await.unwrap()
    else {
        panic!("a new request")
    };
    let b = letter(
        "papa@mail.ru",
        "d-2@mail.ru",
        "Ещё раз: +7 903 111-22-33.",
        "",
    );
    assert_eq!(
        i.register(&b, now()).await.unwrap(),
        Registered::Joined {
            request_id: own,
            reg_number: "ШП-2026-000002".into()
        }
    );
}
