//! Letters without a mail server: an intake on a test database (its IMAP and SMTP pointing
//! nowhere, a 1 KiB attachment limit), the instant the letters arrive, and a plain letter.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours, MOSCOW};
use perezvon::clock::ManualClock;
use perezvon::config::{MailConfig, Secret};
use perezvon::domain::callback::CallbackSettings;
use perezvon::mail::TlsMode;
use perezvon::mail::imap::ImapSettings;
use perezvon::mail::intake::Intake;
use perezvon::mail::smtp::SmtpSettings;
use perezvon::store::Store;
use perezvon::switchboard::Screening;

/// Tuesday 1 December 2026, 11:00 in Moscow: in working hours.
pub fn t0() -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(2026, 12, 1, 11, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// An intake registering letters into `store` at [`t0`], attachments under `data`.
pub fn intake(store: Arc<dyn Store>, data: &std::path::Path, now: DateTime<Utc>) -> Intake {
    let nowhere = "127.0.0.1".to_owned();
    Intake {
        store: store.clone(),
        calendar: Arc::new(Calendar::builtin(HotlineHours::default())),
        clock: Arc::new(ManualClock::new(now)),
        mail: MailConfig {
            imap: ImapSettings {
                host: nowhere.clone(),
                port: 9,
                tls: TlsMode::None,
                user: "support".into(),
                password: Secret::new("x"),
                timeout: Duration::from_secs(1),
                ca: Default::default(),
            },
            folder: "INBOX".into(),
            poll: Duration::from_secs(60),
            max_attachment_bytes: 1024,
            sla: None,
            smtp: SmtpSettings {
                host: nowhere,
                port: 9,
                tls: TlsMode::None,
                credentials: None,
                timeout: Duration::from_secs(1),
                ca: Default::default(),
            },
            from_address: "support@school.example.ru".into(),
            from_name: "Линия поддержки".into(),
        },
        callbacks: CallbackSettings::default(),
        sla: TimeDelta::hours(8),
        screening: Arc::new(Screening::new(
            store,
            Arc::new(perezvon::wake::Wake::new()),
            Default::default(),
        )),
        data_dir: data.to_owned(),
        holder: "test".into(),
    }
}

/// A plain-text letter to the support address; `extra` is more header lines (each ending in CRLF).
pub fn letter(from: &str, id: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@school.example.ru\r\nSubject: вопрос\r\nMessage-ID: <{id}>\r\n\
         Date: Tue, 01 Dec 2026 11:00:00 +0300\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}
