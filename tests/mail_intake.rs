//! The support mailbox becoming requests, against a real Dovecot and an aiosmtpd sink started by
//! the test, on SQLite always and on PostgreSQL when configured: letters in KOI8-R, Windows-1251
//! and UTF-8, HTML-only and with an attachment are registered on a Saturday (round the clock) as
//! numbered requests and answered automatically, threaded; an auto-responder, a bounce and a
//! mailing list are kept and never answered; a reply to our answer and a letter naming the number
//! join their requests; the same letter delivered again, a letter registered just before a crash
//! (not yet marked on the server) and one fetched but never committed are each registered once.
//! Without Dovecot or aiosmtpd the test prints `SKIPPED (mail)` and passes (CI requires them).

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours, MOSCOW};
use perezvon::clock::ManualClock;
use perezvon::config::MailConfig;
use perezvon::domain::callback::CallbackSettings;
use perezvon::jobs::Handler;
use perezvon::mail::TlsMode;
use perezvon::mail::imap::ImapClient;
use perezvon::mail::intake::Intake;
use perezvon::mail::smtp::{SmtpSender, SmtpSettings};
use perezvon::store::callbacks::{CallbackFilter, CallbackRequest};
use perezvon::store::mail::Registered;
use perezvon::switchboard::Screening;
use support::TestDb;
use support::mail_servers::Dovecot;
use support::smtp_sink::SmtpSink;

on_both_backends!(
    letters_become_requests_once_and_are_answered,
    the_running_intake_registers_a_new_letter_at_once,
);

/// The intake as the service runs it: it takes the mailbox, waits with IDLE, and a letter that
/// arrives is registered within seconds (well before the 60 s poll).
async fn the_running_intake_registers_a_new_letter_at_once(db: &TestDb) {
    let (Some(server), Some(sink)) = (Dovecot::start().await, SmtpSink::start().await) else {
        println!("SKIPPED (mail)");
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let mut mail = mail_config(&server, &sink);
    mail.poll = Duration::from_secs(60);
    let intake = Arc::new(Intake {
        store: db.store.clone(),
        calendar: Arc::new(Calendar::builtin(HotlineHours::default())),
        clock: Arc::new(ManualClock::new(saturday())),
        mail,
        callbacks: CallbackSettings::default(),
        sla: TimeDelta::hours(8),
        screening: Arc::new(Screening::new(
            db.store.clone(),
            Arc::new(perezvon::wake::Wake::new()),
            Default::default(),
        )),
        data_dir: data.path().to_owned(),
        holder: "running".into(),
    });
    let (stop, mut rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(intake.run(async move {
        let _ = rx.wait_for(|s| *s).await;
    }));
    // Let it connect and go idle, then a letter arrives.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut imap = ImapClient::connect(&server.settings()).await.unwrap();
    imap.append("INBOX", &fixture("utf8.eml"), None)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let found = loop {
        let all = all_requests(db).await;
        if !all.is_empty() || started.elapsed() > Duration::from_secs(30) {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        found.len(),
        1,
        "registered while the intake waits: {}",
        server.log()
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "woken by IDLE, not by the 20 s renewal or the 60 s poll: {:?}",
        started.elapsed()
    );
    assert_eq!(found[0].email.as_deref(), Some("olga.smirnova@gmail.com"));
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the intake stops on shutdown")
        .unwrap();
    println!(
        "mail intake: a new letter registered {:?} after it arrived (IDLE)",
        started.elapsed()
    );
}

const US: &str = "support@school.example.ru";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/mail/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn saturday() -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(2026, 12, 5, 12, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn mail_config(server: &Dovecot, sink: &SmtpSink) -> MailConfig {
    MailConfig {
        imap: server.settings(),
        folder: "INBOX".into(),
        poll: Duration::from_secs(5),
        max_attachment_bytes: 1 << 20,
        sla: None,
        smtp: SmtpSettings {
            host: "127.0.0.1".into(),
            port: sink.port,
            tls: TlsMode::None,
            credentials: None,
            timeout: Duration::from_secs(10),
            ca: Default::default(),
        },
        from_address: US.into(),
        from_name: "Линия поддержки Школьного портала".into(),
    }
}

async fn all_requests(db: &TestDb) -> Vec<CallbackRequest> {
    let mut all = db
        .store
        .find_callbacks(&CallbackFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    all.sort_by_key(|r| r.id);
    all
}

/// Sends every queued `mail.send` job through the handler; how many were sent.
async fn send_mail(db: &TestDb, handler: &perezvon::jobs::mail::MailHandler) -> usize {
    let mut sent = 0;
    let now = saturday() + TimeDelta::days(1);
    while let Some(job) = db
        .store
        .claim_job("test", now, TimeDelta::minutes(1))
        .await
        .unwrap()
    {
        if job.kind == "mail.send" {
            let outcome = handler.run(&job, now).await;
            assert_eq!(outcome, perezvon::jobs::Outcome::Done, "{}", job.payload);
            sent += 1;
        }
        db.store.complete_job(job.id, "test", now).await.unwrap();
    }
    sent
}

async fn letters_become_requests_once_and_are_answered(db: &TestDb) {
    let (Some(server), Some(sink)) = (Dovecot::start().await, SmtpSink::start().await) else {
        println!("SKIPPED (mail)");
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let mail = mail_config(&server, &sink);
    let wake = Arc::new(perezvon::wake::Wake::new());
    let intake = Intake {
        store: db.store.clone(),
        calendar: Arc::new(Calendar::builtin(HotlineHours::default())),
        clock: Arc::new(ManualClock::new(saturday())),
        mail: mail.clone(),
        callbacks: CallbackSettings::default(),
        sla: TimeDelta::hours(8),
        screening: Arc::new(Screening::new(db.store.clone(), wake, Default::default())),
        data_dir: data.path().to_owned(),
        holder: "test".into(),
    };
    let handler = perezvon::jobs::mail::MailHandler {
        sender: SmtpSender::new(&mail.smtp, US, &mail.from_name).unwrap(),
        from_address: US.into(),
    };
    let mut imap = ImapClient::connect(&server.settings()).await.unwrap();
    for name in [
        "koi8r.eml",
        "cp1251.eml",
        "utf8.eml",
        "html_only.eml",
        "attachment.eml",
        "autoreply.eml",
        "bounce.eml",
        "list.eml",
    ] {
        imap.append("INBOX", &fixture(name), None).await.unwrap();
    }
    let mailbox = format!("{}@127.0.0.1:{}/INBOX", mail.imap.user, server.port);
    let place = db
        .store
        .take_mailbox(
            &mailbox,
            "test",
            saturday(),
            saturday() + TimeDelta::minutes(1),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(place.1, 0);
    let mut client = ImapClient::connect(&server.settings()).await.unwrap();
    let place = intake.pass(&mut client, place).await.unwrap();
    assert_eq!(place.1, 8, "every letter done: {}", server.log());

    // Five requests, numbered on a Saturday, each with its sender, subject and phone.
    let requests = all_requests(db).await;
    let seen: Vec<(&str, &str, &str, &str)> = requests
        .iter()
        .map(|r| {
            (
                r.reg_number.as_deref().unwrap(),
                r.email.as_deref().unwrap(),
                r.summary.as_deref().unwrap(),
                r.callback_number.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "ШП-2026-000001",
                "irina.petrovna@mail.ru",
                "Не могу войти в дневник",
                "+79161234567"
            ),
            (
                "ШП-2026-000002",
                "s.ivanov@yandex.ru",
                "Оценки за четверть",
                ""
            ),
            (
                "ШП-2026-000003",
                "olga.smirnova@gmail.com",
                "Второй ребёнок в учётной записи",
                ""
            ),
            (
                "ШП-2026-000004",
                "a.petrov@school123.ru",
                "Восстановление пароля",
                ""
            ),
            (
                "ШП-2026-000005",
                "marina.k@rambler.ru",
                "Ошибка при входе",
                ""
            ),
        ],
        "the same phone in three letters from three senders: the first has it"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.source == "email" && r.state == "open")
    );
    // Due at Monday's opening.
    assert_eq!(requests[0].due_at.to_rfc3339(), "2026-12-07T06:00:00+00:00");
    let letters = db.store.request_letters(requests[3].id).await.unwrap();
    assert!(
        letters[0]
            .body
            .contains("Не приходит письмо для восстановления пароля")
            && !letters[0].body.contains("<p>"),
        "HTML reduced to text: {}",
        letters[0].body
    );
    let attached = db.store.request_letters(requests[4].id).await.unwrap();
    let list: serde_json::Value = serde_json::from_str(&attached[0].attachments).unwrap();
    assert_eq!(list[0]["filename"], "ошибка.pdf");
    let path = data.path().join(list[0]["path"].as_str().unwrap());
    assert!(
        std::fs::read(&path).unwrap().starts_with(b"%PDF"),
        "{}",
        path.display()
    );

    // Five answers, none to the machines; threaded and marked automatic.
    assert_eq!(send_mail(db, &handler).await, 5);
    let got = sink.wait_for(5, Duration::from_secs(10)).await;
    let mut to: Vec<String> = got.iter().flat_map(|r| r.rcpt_tos.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "a.petrov@school123.ru",
            "irina.petrovna@mail.ru",
            "marina.k@rambler.ru",
            "olga.smirnova@gmail.com",
            "s.ivanov@yandex.ru"
        ]
    );
    let answer = got
        .iter()
        .map(|r| perezvon::mail::parse(&r.raw).unwrap())
        .find(|l| l.in_reply_to.as_deref() == Some("cp1251-1@yandex.ru"))
        .expect("the answer to the Windows-1251 letter");
    assert_eq!(answer.subject, "Заявка ШП-2026-000002 зарегистрирована");
    assert!(
        answer
            .text
            .contains("зарегистрировано под номером ШП-2026-000002")
            && answer.text.contains(
                "Ориентировочно мы ответим вам в понедельник, 7 декабря, примерно с 09:00 до 10:00."
            ),
        "{}",
        answer.text
    );
    assert!(
        answer.automatic.is_some(),
        "Auto-Submitted: our answers are never answered"
    );

    // A reply to our answer (no number in the subject), and a letter naming a number.
    let our_id = answer.message_id.clone().unwrap();
    let reply = format!(
        "From: s.ivanov@yandex.ru\r\nTo: {US}\r\nSubject: Re: thanks\r\nMessage-ID: <r-1@yandex.ru>\r\n\
         In-Reply-To: <{our_id}>\r\nReferences: <cp1251-1@yandex.ru> <{our_id}>\r\n\
         Date: Sat, 05 Dec 2026 13:00:00 +0300\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Оценки появились, спасибо.\r\n"
    );
    let naming = "From: other@mail.ru\r\nTo: support@school.example.ru\r\n\
         Subject: =?utf-8?B?0J/QviDQt9Cw0Y/QstC60LUg0KjQny0yMDI2LTAwMDAwNA==?=\r\n\
         Message-ID: <n-1@mail.ru>\r\nDate: Sat, 05 Dec 2026 13:05:00 +0300\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nДобавлю: логин petrov_a.\r\n";
    imap.append("INBOX", reply.as_bytes(), None).await.unwrap();
    imap.append("INBOX", naming.as_bytes(), None).await.unwrap();
    // The same letter delivered twice.
    imap.append("INBOX", &fixture("utf8.eml"), None)
        .await
        .unwrap();
    let place = intake.pass(&mut client, place).await.unwrap();
    assert_eq!(place.1, 11);
    let after = all_requests(db).await;
    assert_eq!(
        after.len(),
        5,
        "replies join, a duplicate registers nothing"
    );
    assert_eq!((after[1].repeat_count, after[3].repeat_count), (1, 1));
    assert_eq!(
        after[2].repeat_count, 0,
        "the duplicate did not join either"
    );
    assert_eq!(
        send_mail(db, &handler).await,
        2,
        "the two joined letters are acknowledged"
    );
    let got = sink.wait_for(7, Duration::from_secs(10)).await;
    let joined: Vec<String> = got[5..]
        .iter()
        .map(|r| perezvon::mail::parse(&r.raw).unwrap().subject)
        .collect();
    assert!(
        joined.contains(&"Письмо добавлено к заявке ШП-2026-000002".to_owned()),
        "{joined:?}"
    );

    // Registered just before a crash, not yet marked on the server: once after the restart.
    let late = "From: late@mail.ru\r\nTo: support@school.example.ru\r\nSubject: late\r\n\
        Message-ID: <late-1@mail.ru>\r\nDate: Sat, 05 Dec 2026 14:00:00 +0300\r\n\r\nВопрос.\r\n";
    imap.append("INBOX", late.as_bytes(), None).await.unwrap();
    let first = intake.register(late.as_bytes(), saturday()).await.unwrap();
    assert!(matches!(first, Registered::New { .. }), "{first:?}");
    // Fetched by a process that died before committing: nothing was registered for it.
    let lost = "From: lost@mail.ru\r\nTo: support@school.example.ru\r\nSubject: lost\r\n\
        Message-ID: <lost-1@mail.ru>\r\nDate: Sat, 05 Dec 2026 14:01:00 +0300\r\n\r\nВопрос 2.\r\n";
    imap.append("INBOX", lost.as_bytes(), None).await.unwrap();
    client.select("INBOX").await.unwrap();
    let fetched = client.fetch_after(11, 10).await.unwrap();
    assert_eq!(fetched.len(), 2);
    drop(client);
    // The restart: a new connection, the place from the database.
    let place = db
        .store
        .take_mailbox(
            &mailbox,
            "test",
            saturday(),
            saturday() + TimeDelta::minutes(1),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(place.1, 11);
    let mut client = ImapClient::connect(&server.settings()).await.unwrap();
    let place = intake.pass(&mut client, place).await.unwrap();
    assert_eq!(place.1, 13);
    let last = all_requests(db).await;
    let emails: Vec<&str> = last[5..]
        .iter()
        .map(|r| r.email.as_deref().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["late@mail.ru", "lost@mail.ru"],
        "each registered once"
    );
    assert_eq!(send_mail(db, &handler).await, 2, "each answered once");
    // Every letter is marked processed on the server.
    client.select("INBOX").await.unwrap();
    let marked = client.fetch_after(0, 100).await.unwrap();
    assert!(
        marked.iter().all(|f| f.processed()),
        "{:?}",
        marked.iter().map(|f| &f.flags).collect::<Vec<_>>()
    );

    // An operator's answer from the workspace: threaded to the sender's last letter.
    let web = support::web::WebApp::spawn_with(
        db,
        perezvon::config::Config {
            mail: Some(mail.clone()),
            ..perezvon::config::Config::default()
        },
    )
    .await;
    web.user("boss", perezvon::domain::user::Role::Supervisor)
        .await;
    let boss = web.sign_in("boss").await;
    let path = format!("/api/v1/callbacks/{}/reply", after[1].id);
    let r = web
        .with_session(reqwest::Method::POST, &path, &boss)
        .json(&serde_json::json!({"text": "   "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "an empty answer");
    let r = web
        .with_session(reqwest::Method::POST, &path, &boss)
        .json(&serde_json::json!({"text": "Оценки выставлены, проверьте дневник."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let sent = send_mail(db, &handler).await;
    let got = sink.wait_for(10, Duration::from_secs(10)).await;
    let answer = perezvon::mail::parse(&got.last().unwrap().raw).unwrap();
    assert_eq!(sent, 1, "{answer:?}");
    assert_eq!(answer.subject, "Ответ по заявке ШП-2026-000002");
    assert_eq!(answer.in_reply_to.as_deref(), Some("r-1@yandex.ru"));
    assert!(answer.references.contains(&"cp1251-1@yandex.ru".to_owned()));
    assert!(answer.text.contains("Оценки выставлены"), "{}", answer.text);
    assert!(
        answer.automatic.is_none(),
        "a person's answer is not automatic"
    );
    let letters = web
        .with_cookie(
            reqwest::Method::GET,
            &format!("/api/v1/callbacks/{}/letters", after[1].id),
            &boss,
        )
        .send()
        .await
        .unwrap();
    let letters: serde_json::Value = letters.json().await.unwrap();
    let directions: Vec<&str> = letters
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["direction"].as_str().unwrap())
        .collect();
    assert_eq!(directions, ["in", "out", "in", "out", "out"], "{letters}");
    // Rejected on a ground of the regulation: the sender is told why.
    let r = web
        .with_session(
            reqwest::Method::POST,
            &format!("/api/v1/callbacks/{}/close", after[3].id),
            &boss,
        )
        .json(
            &serde_json::json!({"reason": "непонятно, что нужно", "close_as": "rejected_unclear"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(send_mail(db, &handler).await, 1);
    let got = sink.wait_for(11, Duration::from_secs(10)).await;
    let rejection = perezvon::mail::parse(&got.last().unwrap().raw).unwrap();
    assert_eq!(rejection.subject, "Заявка ШП-2026-000004 отклонена");
    assert_eq!(rejection.in_reply_to.as_deref(), Some("n-1@mail.ru"));
    assert!(
        rejection.text.contains("сформулирован некорректно"),
        "{}",
        rejection.text
    );
    println!(
        "mail intake: 13 letters, 7 requests, 3 automatic kept, 9 automatic answers and one \
         operator's answer, a rejection explained, each letter registered once"
    );
}
