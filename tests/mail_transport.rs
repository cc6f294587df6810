//! The mail layer against real servers started per test (tests/support/mail_servers.rs, smtp_sink.rs): the
//! IMAP client on Dovecot — the fixture letters appended, fetched by UID and parsed, marked
//! processed and seen so by a second connection, nothing new after the last UID, IDLE woken by
//! another connection's APPEND, the polling fallback, clear errors — and the SMTP client into an
//! aiosmtpd sink, whose received letter carries the threading and automatic-reply headers.
//! Without Dovecot or aiosmtpd the tests print `SKIPPED (mail)` and pass (CI installs both and
//! sets `PEREZVON_TEST_REQUIRE_MAIL=1`).

mod support;

use std::time::{Duration, Instant};

use perezvon::config::Secret;
use perezvon::mail::imap::{ImapClient, Wake};
use perezvon::mail::smtp::{Outgoing, SmtpSender, SmtpSettings, new_message_id};
use perezvon::mail::{AutomaticKind, TlsMode, find_reference, parse};
use support::mail_servers::{Dovecot, bounded};
use support::smtp_sink::SmtpSink;

/// The fixture letters and the subject each decodes to.
const FIXTURES: &[(&str, &str)] = &[
    ("koi8r.eml", "Не могу войти в дневник"),
    ("cp1251.eml", "Оценки за четверть"),
    ("utf8.eml", "Второй ребёнок в учётной записи"),
    ("html_only.eml", "Восстановление пароля"),
    ("attachment.eml", "Ошибка при входе"),
    ("autoreply.eml", "Автоответ: Re: ШП-2026-000123"),
    ("bounce.eml", "Undelivered Mail Returned to Sender"),
    ("list.eml", "Плановые работы"),
    ("reply.eml", "Re: ШП-2026-000123 Не могу войти в дневник"),
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/mail/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Runs a test body with a hard limit, so that a server that stops answering fails the test.
#[tokio::test]
async fn letters_are_fetched_by_uid_parsed_and_marked_processed() {
    let Some(server) = Dovecot::start().await else {
        println!("SKIPPED (mail)");
        return;
    };
    bounded(async {
        let mut imap = ImapClient::connect(&server.settings()).await.unwrap();
        let selected = imap.select("INBOX").await.unwrap();
        assert_eq!(selected.exists, 0);
        assert!(imap.supports_idle(), "Dovecot offers IDLE");
        assert!(imap.keeps_keyword(), "Dovecot keeps keywords (\\*)");
        assert!(imap.fetch_after(0, 100).await.unwrap().is_empty());
        for (name, _) in FIXTURES {
            imap.append("INBOX", &fixture(name), None).await.unwrap();
        }
        let letters = imap.fetch_after(0, 100).await.unwrap();
        assert_eq!(letters.len(), FIXTURES.len(), "{}", server.log());
        assert!(letters.windows(2).all(|w| w[0].uid < w[1].uid));
        for (got, (name, subject)) in letters.iter().zip(FIXTURES) {
            assert_eq!(got.raw, fixture(name), "{name} came back byte for byte");
            assert!(!got.processed(), "{name}");
            assert!(
                !got.flags.iter().any(|f| f == "\\Seen"),
                "{name}: fetching does not mark it read"
            );
            assert_eq!(parse(&got.raw).unwrap().subject, *subject, "{name}");
        }
        let automatic: Vec<Option<AutomaticKind>> = letters
            .iter()
            .map(|l| parse(&l.raw).unwrap().automatic)
            .collect();
        assert_eq!(
            automatic.iter().filter(|a| a.is_some()).count(),
            3,
            "{automatic:?}"
        );
        let reply = parse(&letters[8].raw).unwrap();
        assert_eq!(
            find_reference(&reply.subject, "ШП").as_deref(),
            Some("ШП-2026-000123")
        );

        // A batch limit takes the oldest first; the rest follow after the batch's last UID.
        let first = imap.fetch_after(0, 3).await.unwrap();
        let uids: Vec<u32> = first.iter().map(|l| l.uid).collect();
        assert_eq!(uids, letters[..3].iter().map(|l| l.uid).collect::<Vec<_>>());
        let rest = imap.fetch_after(uids[2], 100).await.unwrap();
        assert_eq!(rest.len(), FIXTURES.len() - 3);

        for l in &letters[..2] {
            imap.mark_processed(l.uid).await.unwrap();
        }
        // Nothing new after the last UID, however far past it (`n:*` answers the last letter).
        let last = letters.last().unwrap().uid;
        assert!(imap.fetch_after(last, 100).await.unwrap().is_empty());
        assert!(imap.fetch_after(last + 1000, 100).await.unwrap().is_empty());
        assert!(imap.uids_after(u32::MAX).await.unwrap().is_empty());
        imap.logout().await;

        // Another connection (a restarted service) sees the marks and the same UIDVALIDITY.
        let mut again = ImapClient::connect(&server.settings()).await.unwrap();
        assert_eq!(
            again.select("INBOX").await.unwrap().uid_validity,
            selected.uid_validity
        );
        let seen = again.fetch_after(0, 100).await.unwrap();
        let done: Vec<bool> = seen.iter().map(|l| l.processed()).collect();
        assert_eq!(done[..3], [true, true, false]);
        assert!(seen[0].flags.iter().any(|f| f == "\\Seen"));
        assert!(!seen[2].flags.iter().any(|f| f == "\\Seen"));

        // A folder named in Russian (sent in modified UTF-7).
        again.create_folder("Поддержка").await.unwrap();
        again
            .append("Поддержка", &fixture("cp1251.eml"), Some("(\\Seen)"))
            .await
            .unwrap();
        let other = again.select("Поддержка").await.unwrap();
        assert_eq!(other.exists, 1);
        let there = again.fetch_after(0, 10).await.unwrap();
        assert_eq!(there.len(), 1);
        assert!(there[0].flags.iter().any(|f| f == "\\Seen"));
        assert_eq!(parse(&there[0].raw).unwrap().subject, "Оценки за четверть");
        again.logout().await;
    })
    .await;
}

#[tokio::test]
async fn idle_wakes_when_another_connection_appends_and_polling_stands_in() {
    let Some(server) = Dovecot::start().await else {
        println!("SKIPPED (mail)");
        return;
    };
    bounded(async {
        let mut watcher = ImapClient::connect(&server.settings()).await.unwrap();
        watcher.select("INBOX").await.unwrap();
        // Nothing happens: IDLE returns when its time is up.
        let t = Instant::now();
        assert_eq!(
            watcher.wait(Duration::from_secs(1)).await.unwrap(),
            Wake::TimedOut
        );
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());

        let settings = server.settings();
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let mut other = ImapClient::connect(&settings).await.unwrap();
            other
                .append("INBOX", &fixture("koi8r.eml"), None)
                .await
                .unwrap();
            other.logout().await;
        });
        let t = Instant::now();
        let wake = watcher.wait(Duration::from_secs(30)).await.unwrap();
        assert_eq!(wake, Wake::Changed, "{}", server.log());
        assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
        writer.await.unwrap();
        let new = watcher.fetch_after(0, 10).await.unwrap();
        assert_eq!(new.len(), 1);
        assert_eq!(
            parse(&new[0].raw).unwrap().subject,
            "Не могу войти в дневник"
        );

        // Without IDLE, waiting is a sleep and a NOOP. (A change the server reported during an
        // earlier command — RECENT after the EXISTS that ended IDLE — returns at once.)
        let mut poller = watcher.without_idle();
        assert!(!poller.supports_idle());
        poller.wait(Duration::from_millis(300)).await.unwrap();
        let t = Instant::now();
        assert_eq!(
            poller.wait(Duration::from_millis(300)).await.unwrap(),
            Wake::TimedOut
        );
        assert!(t.elapsed() >= Duration::from_millis(300));
        let mut other = ImapClient::connect(&server.settings()).await.unwrap();
        other
            .append("INBOX", &fixture("utf8.eml"), None)
            .await
            .unwrap();
        poller.wait(Duration::from_millis(300)).await.unwrap();
        let after = poller.fetch_after(new[0].uid, 10).await.unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(
            parse(&after[0].raw).unwrap().subject,
            "Второй ребёнок в учётной записи"
        );
        other.logout().await;
        poller.logout().await;
    })
    .await;
}

#[tokio::test]
async fn imap_errors_say_what_failed() {
    let Some(server) = Dovecot::start().await else {
        println!("SKIPPED (mail)");
        return;
    };
    bounded(async {
        let mut wrong = server.settings();
        wrong.password = Secret::new("not-the-password");
        let e = format!("{:#}", ImapClient::connect(&wrong).await.err().unwrap());
        assert!(
            e.contains("login as `support`") && e.contains("refused"),
            "{e}"
        );
        assert!(!e.contains("not-the-password"), "{e}");

        let mut closed = server.settings();
        closed.port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = format!("{:#}", ImapClient::connect(&closed).await.err().unwrap());
        assert!(e.contains("cannot reach the IMAP server"), "{e}");

        let mut imap = ImapClient::connect(&server.settings()).await.unwrap();
        let e = format!("{:#}", imap.select("No Such Folder").await.unwrap_err());
        assert!(e.contains("SELECT No Such Folder"), "{e}");
        // The failed command dropped the connection: the next one says so, without a panic.
        let e = format!("{:#}", imap.fetch_after(0, 1).await.unwrap_err());
        assert!(e.contains("reconnect"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn replies_reach_the_smtp_server_threaded() {
    let Some(sink) = SmtpSink::start().await else {
        println!("SKIPPED (mail)");
        return;
    };
    bounded(async {
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port: sink.port,
            tls: TlsMode::None,
            credentials: None,
            timeout: Duration::from_secs(10),
            ca: Default::default(),
        };
        let from = "support@school.example.ru";
        let sender = SmtpSender::new(&settings, from, "Линия поддержки Школьного портала").unwrap();
        let ack = Outgoing {
            to: "irina.petrovna@mail.ru".into(),
            subject: "Обращение ШП-2026-000123 зарегистрировано".into(),
            text: "Здравствуйте!\n\nВаше обращение зарегистрировано под номером ШП-2026-000123.\n\
                   Оно будет рассмотрено в понедельник, 7 декабря, после 09:00."
                .into(),
            in_reply_to: Some("koi8-1@mail.ru".into()),
            references: vec!["koi8-1@mail.ru".into()],
            message_id: new_message_id(from),
            automatic: true,
        };
        let sent = sender.send(&ack).await.unwrap();
        let answer = Outgoing {
            automatic: false,
            subject: "Re: ШП-2026-000123".into(),
            text: "Пароль сброшен, войдите заново.".into(),
            in_reply_to: Some("koi8-2@mail.ru".into()),
            references: vec![
                "koi8-1@mail.ru".into(),
                ack.message_id.clone(),
                "koi8-2@mail.ru".into(),
            ],
            message_id: new_message_id(from),
            ..ack.clone()
        };
        sender.send(&answer).await.unwrap();
        let got = sink.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].mail_from, from);
        assert_eq!(got[0].rcpt_tos, vec!["irina.petrovna@mail.ru"]);
        let head = String::from_utf8_lossy(&got[0].raw).to_string();
        for line in [
            "In-Reply-To: <koi8-1@mail.ru>",
            "References: <koi8-1@mail.ru>",
            "Auto-Submitted: auto-replied",
            &format!("Message-ID: <{}>", ack.message_id),
        ] {
            assert!(head.contains(line), "{line} in {head}");
        }
        assert!(
            !head.contains("Обращение"),
            "the subject is encoded: {head}"
        );
        let letter = parse(&got[0].raw).unwrap();
        assert_eq!(letter.subject, ack.subject);
        assert_eq!(letter.text, ack.text);
        assert_eq!(
            letter.from_name.as_deref(),
            Some("Линия поддержки Школьного портала")
        );
        assert_eq!(letter.automatic, Some(AutomaticKind::AutoSubmitted));
        assert_eq!(parse(&sent).unwrap().message_id, letter.message_id);

        let reply = parse(&got[1].raw).unwrap();
        assert_eq!(
            reply.automatic, None,
            "an operator's answer is not automatic"
        );
        assert_eq!(reply.in_reply_to.as_deref(), Some("koi8-2@mail.ru"));
        assert_eq!(reply.references, answer.references);
        assert_eq!(reply.subject, "Re: ШП-2026-000123");

        // A server that is not there: an error naming it, the address masked.
        let mut gone = settings.clone();
        gone.port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = format!(
            "{:#}",
            SmtpSender::new(&gone, from, "x")
                .unwrap()
                .send(&ack)
                .await
                .unwrap_err()
        );
        assert!(e.contains(&format!("127.0.0.1:{}", gone.port)), "{e}");
        assert!(
            e.contains("i***@mail.ru") && !e.contains("irina.petrovna"),
            "{e}"
        );
    })
    .await;
}
