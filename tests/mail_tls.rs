//! The mail connections over TLS against real servers whose certificate a private CA signed
//! (tests/support/test_ca.rs), configured the way an administrator does it: a `[mail]` section
//! with `ca_file`, loaded by the real configuration loader. IMAP over TLS from the first byte
//! (IMAPS) and with STARTTLS on a Dovecot that refuses any login before TLS; SMTP with STARTTLS
//! on an aiosmtpd sink that takes no letter before TLS, and SMTPS. Each also shows the failures
//! that keep a connection honest: a server certificate from a CA nobody named, and a host name
//! the certificate does not carry, are refused with an error that says so. Without Dovecot or
//! aiosmtpd the tests print `SKIPPED (mail)` and pass (CI installs both and sets
//! `PEREZVON_TEST_REQUIRE_MAIL=1`).

mod support;

use std::time::Duration;

use perezvon::config::{Config, MailConfig};
use perezvon::mail::imap::ImapClient;
use perezvon::mail::smtp::{Outgoing, SmtpSender, new_message_id};
use perezvon::mail::{ExtraRoots, TlsMode, parse};
use support::mail_servers::{Dovecot, PASSWORD, USER, bounded};
use support::smtp_sink::SmtpSink;
use support::test_ca::TestCa;

const FROM: &str = "support@school.example.ru";

/// The `[mail]` section an administrator writes for a server on `localhost` with the school's
/// CA, through the real loader.
fn mail_config(extra: &str, ca: &TestCa) -> MailConfig {
    let file = tempfile::NamedTempFile::new().unwrap();
    let text = format!(
        "[mail]\nimap_host = \"localhost\"\nuser = \"{USER}\"\npassword = \"{PASSWORD}\"\n\
         from_address = \"{FROM}\"\nsmtp_user = \"\"\ntimeout_seconds = 10\n\
         ca_file = \"{}\"\n{extra}",
        ca.ca_file.display()
    );
    std::fs::write(file.path(), text).unwrap();
    let config = Config::load_with_env(Some(file.path()), Vec::new()).unwrap();
    config.mail.expect("the [mail] section is read")
}

fn letter(subject: &str) -> Outgoing {
    Outgoing {
        to: "irina.petrovna@mail.ru".into(),
        subject: subject.into(),
        text: "Здравствуйте!\nВаше обращение зарегистрировано.".into(),
        in_reply_to: None,
        references: vec![],
        message_id: new_message_id(FROM),
        automatic: true,
    }
}

/// The whole error chain, for matching on its causes.
fn chain(e: anyhow::Error) -> String {
    format!("{e:#}")
}

#[tokio::test]
async fn imap_over_tls_and_starttls_trusts_the_configured_ca_only() {
    let ca = TestCa::new("school");
    let Some(server) = Dovecot::start_tls(&ca).await else {
        println!("SKIPPED (mail)");
        return;
    };
    let tls_port = server.tls_port.unwrap();
    bounded(async {
        // IMAPS, as configured: TLS from the first byte, the school's CA trusted.
        let imaps = mail_config(
            &format!("imap_tls = \"tls\"\nimap_port = {tls_port}\n"),
            &ca,
        )
        .imap;
        assert_eq!((imaps.tls, imaps.port), (TlsMode::Tls, tls_port));
        let mut imap = ImapClient::connect(&imaps).await.unwrap();
        imap.select("INBOX").await.unwrap();
        let raw = b"From: a@b.ru\r\nTo: support@school.example.ru\r\nSubject: TLS\r\n\r\nhi\r\n";
        imap.append("INBOX", raw, None).await.unwrap();
        let got = imap.fetch_after(0, 10).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(parse(&got[0].raw).unwrap().subject, "TLS");
        imap.logout().await;

        // STARTTLS on the plain port, as configured: the same letter is there.
        let port = server.port;
        let starttls = mail_config(
            &format!("imap_tls = \"starttls\"\nimap_port = {port}\n"),
            &ca,
        )
        .imap;
        let mut imap = ImapClient::connect(&starttls).await.unwrap();
        imap.select("INBOX").await.unwrap();
        assert_eq!(imap.fetch_after(0, 10).await.unwrap().len(), 1);
        imap.logout().await;

        // The same login in the clear (Dovecot trusts a connection from its own host): the
        // server's log tells the encrypted sessions from this one.
        let plain = perezvon::mail::imap::ImapSettings {
            tls: TlsMode::None,
            ..starttls.clone()
        };
        let imap = ImapClient::connect(&plain).await.unwrap();
        imap.logout().await;
        let log = server.log_with("Login: user=<support>", 3).await;
        let logins: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("Login: user=<support>"))
            .collect();
        assert_eq!(logins.len(), 3, "{log}");
        assert!(logins[..2].iter().all(|l| l.contains("TLS")), "{log}");
        assert!(!logins[2].contains("TLS"), "{log}");

        // Only the built-in roots, or another CA: the certificate is refused.
        for roots in [
            ExtraRoots::default(),
            ExtraRoots::from_pem(&TestCa::new("stranger").ca_pem()).unwrap(),
        ] {
            for settings in [&imaps, &starttls] {
                let s = perezvon::mail::imap::ImapSettings {
                    ca: roots.clone(),
                    ..settings.clone()
                };
                let e = chain(ImapClient::connect(&s).await.err().unwrap());
                assert!(
                    e.contains("TLS handshake with localhost failed")
                        && e.contains("UnknownIssuer"),
                    "{e}"
                );
            }
        }
        // The right CA but a name the certificate does not carry.
        let by_address = perezvon::mail::imap::ImapSettings {
            host: "127.0.0.1".into(),
            ..imaps.clone()
        };
        let e = chain(ImapClient::connect(&by_address).await.err().unwrap());
        assert!(
            e.contains("certificate not valid for name \"127.0.0.1\""),
            "{e}"
        );
    })
    .await;
}

#[tokio::test]
async fn smtp_over_starttls_and_smtps_trusts_the_configured_ca_only() {
    let ca = TestCa::new("school");
    for mode in [TlsMode::StartTls, TlsMode::Tls] {
        let Some(sink) = SmtpSink::start_tls(&ca, mode).await else {
            println!("SKIPPED (mail)");
            return;
        };
        bounded(async {
            let smtp = mail_config(
                &format!("smtp_tls = \"{mode}\"\nsmtp_port = {}\n", sink.port),
                &ca,
            )
            .smtp;
            assert_eq!((smtp.tls, smtp.host.as_str()), (mode, "localhost"));
            let sender = SmtpSender::new(&smtp, FROM, "Линия поддержки").unwrap();
            let subject = format!("Обращение зарегистрировано ({mode})");
            sender.send(&letter(&subject)).await.unwrap();
            let got = sink.wait_for(1, Duration::from_secs(10)).await;
            assert_eq!(got.len(), 1, "{mode}");
            assert_eq!(parse(&got[0].raw).unwrap().subject, subject);

            // Another CA's trust, or none: nothing is sent.
            let stranger = ExtraRoots::from_pem(&TestCa::new("stranger").ca_pem()).unwrap();
            for roots in [ExtraRoots::default(), stranger] {
                let s = perezvon::mail::smtp::SmtpSettings {
                    ca: roots,
                    ..smtp.clone()
                };
                let sender = SmtpSender::new(&s, FROM, "Линия поддержки").unwrap();
                let e = chain(sender.send(&letter("не должно дойти")).await.err().unwrap());
                assert!(e.contains("UnknownIssuer"), "{mode}: {e}");
            }
            if mode == TlsMode::StartTls {
                // The sink takes no letter before STARTTLS: the letter above was encrypted.
                let s = perezvon::mail::smtp::SmtpSettings {
                    tls: TlsMode::None,
                    ..smtp.clone()
                };
                let sender = SmtpSender::new(&s, FROM, "Линия поддержки").unwrap();
                let e = chain(sender.send(&letter("в открытую")).await.err().unwrap());
                assert!(e.contains("STARTTLS"), "{e}");
            }
            assert_eq!(sink.received().len(), 1, "{mode}: nothing else arrived");
        })
        .await;
    }
}

#[test]
fn a_ca_file_that_is_missing_or_not_pem_names_the_key() {
    let ca = TestCa::new("school");
    let base = format!(
        "[mail]\nimap_host = \"localhost\"\nuser = \"{USER}\"\npassword = \"{PASSWORD}\"\n\
         from_address = \"{FROM}\"\n"
    );
    let load = |extra: String| {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), format!("{base}{extra}")).unwrap();
        Config::load_with_env(Some(file.path()), Vec::new()).map_err(|e| e.to_string())
    };
    let e = load("ca_file = \"/nonexistent/ca.pem\"\n".into())
        .err()
        .unwrap();
    assert!(
        e.contains("mail.ca_file") && e.contains("/nonexistent/ca.pem"),
        "{e}"
    );
    // A private key is not a certificate.
    let e = load(format!("ca_file = \"{}\"\n", ca.key_file.display()))
        .err()
        .unwrap();
    assert!(
        e.contains("mail.ca_file") && e.contains("no PEM certificate"),
        "{e}"
    );
    let m = load(format!("ca_file = \"{}\"\n", ca.ca_file.display()))
        .unwrap()
        .mail
        .unwrap();
    assert!(!m.imap.ca.is_empty() && !m.smtp.ca.is_empty());
    assert_eq!(m.smtp.ca.pem(), ca.ca_pem().as_slice());
}
