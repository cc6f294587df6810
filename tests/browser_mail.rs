//! An operator answers a letter in headless Chromium, against the real `perezvon` binary reading a
//! private Dovecot mailbox and sending through an aiosmtpd sink: the letter becomes a numbered
//! request on the list, the operator takes it, reads the letter on the card (no phone: no call
//! button), writes an answer and sends it; the sender gets the automatic reply and then the
//! answer, threaded. Skipped with `SKIPPED (browser)` or `SKIPPED (mail)` when Chromium or the
//! mail servers are missing (CI installs them and requires both).

mod support;

use std::time::Duration;

use perezvon::mail::imap::ImapClient;
use support::browser::Browser;
use support::mail_servers::{Dovecot, PASSWORD as MAIL_PASSWORD, USER as MAIL_USER};
use support::service::{Service, ok};
use support::smtp_sink::SmtpSink;

const PASSWORD: &str = "correct horse battery";

const LETTER: &str = "From: Ольга <olga@mail.ru>\r\nTo: support@school.example.ru\r\n\
    Subject: =?utf-8?B?0J3QtSDQstC40LbRgyDQvtGG0LXQvdC60Lg=?=\r\n\
    Message-ID: <b-1@mail.ru>\r\nDate: Mon, 07 Dec 2026 09:30:00 +0300\r\n\
    Content-Type: text/plain; charset=utf-8\r\n\r\n\
    Здравствуйте! Не вижу оценки сына за вторник.\r\n";

#[tokio::test]
async fn an_operator_answers_a_letter_from_the_card() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (Some(imap), Some(sink)) = (Dovecot::start().await, SmtpSink::start().await) else {
        println!("SKIPPED (mail)");
        return;
    };
    let mail = format!(
        "[mail]\nimap_host = \"127.0.0.1\"\nimap_port = {}\nimap_tls = \"none\"\nuser = \"{MAIL_USER}\"\n\
         password = \"{MAIL_PASSWORD}\"\npoll_seconds = 5\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\n\
         smtp_tls = \"none\"\nsmtp_user = \"\"\nfrom_address = \"support@school.example.ru\"\n",
        imap.port, sink.port
    );
    let mut svc = Service::configure(&mail);
    ok(&svc.cli(
        &[
            "operator",
            "add",
            "--login",
            "ivanova",
            "--name",
            "Иванова Мария",
            "--phone",
            "+79035550101",
        ],
        "",
    ));
    ok(&svc.cli(
        &["user", "password", "--login", "ivanova"],
        &format!("{PASSWORD}\n"),
    ));
    // A working Monday morning.
    svc.start(Some("2026-12-07T10:00:00+03:00")).await;
    let mut client = ImapClient::connect(&imap.settings()).await.unwrap();
    client
        .append("INBOX", LETTER.as_bytes(), None)
        .await
        .unwrap();
    // The automatic reply says the request is registered.
    let got = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1, "the automatic reply: {}", svc.log());
    let auto = perezvon::mail::parse(&got[0].raw).unwrap();
    assert_eq!(auto.subject, "Заявка ШП-2026-000001 зарегистрирована");

    let base = svc.base.clone();
    b.sign_in(&base, "ivanova", PASSWORD).await;
    b.wait_for("#claim-next").await;
    b.wait_text("table#queue", |t| t.contains("ШП-2026-000001"))
        .await;
    b.click("button[data-presence=available]").await;
    b.wait_text("#presence-state", |t| t.contains("на линии"))
        .await;
    b.click("#claim-next").await;
    b.wait_text("#card-reg", |t| t.contains("ШП-2026-000001"))
        .await;
    b.wait_text("#card-email", |t| t.contains("olga@mail.ru"))
        .await;
    b.wait_text("#letters", |t| t.contains("Не вижу оценки сына"))
        .await;
    b.wait_text("#card-number", |t| t.contains("телефон не указан"))
        .await;
    let dial_hidden = b
        .client
        .execute(
            "return getComputedStyle(document.getElementById('dial')).display === 'none';",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        dial_hidden,
        serde_json::json!(true),
        "no phone: no call button"
    );
    b.screenshot("operator-letter").await;
    b.wait_for("textarea#reply-text")
        .await
        .send_keys("Оценки за вторник выставлены, обновите дневник.")
        .await
        .unwrap();
    b.click("#reply-send").await;
    b.wait_text("#reply-status", |t| t.contains("Ответ отправлен"))
        .await;
    b.wait_text("#letters", |t| t.contains("Оценки за вторник выставлены"))
        .await;
    let got = sink.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 2, "the answer is sent: {}", svc.log());
    let answer = perezvon::mail::parse(&got[1].raw).unwrap();
    assert_eq!(answer.subject, "Ответ по заявке ШП-2026-000001");
    assert_eq!(answer.in_reply_to.as_deref(), Some("b-1@mail.ru"));
    assert!(
        answer.text.contains("Оценки за вторник выставлены"),
        "{}",
        answer.text
    );
    assert_eq!(got[1].rcpt_tos, ["olga@mail.ru"]);
    b.screenshot("operator-letter-answered").await;
    b.close().await;
}
