//! [`super::parse`] on the raw letters under `tests/fixtures/mail/` (written by its
//! `generate.py`): each charset and transfer encoding Russian mail arrives in, an HTML-only
//! letter, an attachment, the machines' letters that must not be answered, and a reply that
//! threads to our acknowledgement.

use super::*;
use crate::mail::{AutomaticKind, find_phones, find_reference};

fn fixture(name: &str) -> Letter {
    let path = format!("{}/tests/fixtures/mail/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse(&raw).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn koi8_r_body_and_encoded_words() {
    let l = fixture("koi8r.eml");
    assert_eq!(l.subject, "Не могу войти в дневник");
    assert_eq!(l.from_name.as_deref(), Some("Ирина Петровна"));
    assert_eq!(l.from_address.as_deref(), Some("irina.petrovna@mail.ru"));
    assert_eq!(
        l.text,
        "Здравствуйте!\nНе могу войти в электронный дневник: пишет \"неверный пароль\".\n\
         Мой телефон +7 (916) 123-45-67, звоните после 15:00.\n\nС уважением, Ирина Петровна"
    );
    assert_eq!(l.message_id.as_deref(), Some("koi8-1@mail.ru"));
    assert_eq!(
        l.date.map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-12-04T19:15:03+00:00")
    );
    assert_eq!(l.automatic, None);
    assert!(l.attachments.is_empty());
    assert_eq!(find_phones(&l.text), vec!["+79161234567"]);
}

#[test]
fn windows_1251_quoted_printable() {
    let l = fixture("cp1251.eml");
    assert_eq!(l.subject, "Оценки за четверть");
    assert_eq!(l.from_name.as_deref(), Some("Сергей Иванов"));
    assert_eq!(
        l.text,
        "Добрый день.\nУ ребёнка в 5«Б» классе не отображаются оценки за четверть.\n\
         Перезвоните, пожалуйста: 8 916 1234567."
    );
    assert_eq!(find_phones(&l.text), vec!["+79161234567"]);
    assert_eq!(l.automatic, None);
}

#[test]
fn utf8_alternative_takes_the_plain_text() {
    let l = fixture("utf8.eml");
    assert_eq!(l.subject, "Второй ребёнок в учётной записи");
    assert_eq!(l.from_name.as_deref(), Some("Ольга Смирнова"));
    assert_eq!(l.from_address.as_deref(), Some("olga.smirnova@gmail.com"));
    assert_eq!(
        l.text,
        "Здравствуйте, подскажите, как привязать второго ребёнка к учётной записи?\n\
         Телефон для связи 89161234567."
    );
    assert!(!l.text.contains("<p>"));
    assert!(l.attachments.is_empty(), "{:?}", l.attachments);
}

#[test]
fn html_only_is_reduced_to_text() {
    let l = fixture("html_only.eml");
    assert_eq!(l.subject, "Восстановление пароля");
    for line in [
        "Добрый вечер!",
        "Не приходит письмо для восстановления пароля.",
        "Логин: petrov_a",
        "Спасибо & до свидания",
    ] {
        assert!(
            l.text.lines().any(|t| t.trim() == line),
            "{line:?} in {:?}",
            l.text
        );
    }
    for markup in ["<", ">", "color", "&amp;", "title"] {
        assert!(!l.text.contains(markup), "{markup} in {:?}", l.text);
    }
    assert_eq!(l.from_name.as_deref(), Some("Alexey Petrov"));
}

#[test]
fn attachment_is_decoded_with_its_name() {
    let l = fixture("attachment.eml");
    assert_eq!(l.subject, "Ошибка при входе");
    assert_eq!(l.text, "Прикладываю скриншот ошибки в PDF.");
    assert_eq!(l.attachments.len(), 1, "{:?}", l.attachments);
    let a = &l.attachments[0];
    assert_eq!(a.filename, "ошибка.pdf");
    assert_eq!(a.content_type, "application/pdf");
    assert!(a.bytes.starts_with(b"%PDF-1.4\n"), "{:?}", &a.bytes[..10]);
    assert!(a.bytes.ends_with(b"%%EOF\n"));
}

#[test]
fn machines_letters_are_recognised() {
    let auto = fixture("autoreply.eml");
    assert_eq!(auto.automatic, Some(AutomaticKind::AutoSubmitted));
    assert_eq!(auto.subject, "Автоответ: Re: ШП-2026-000123");
    let bounce = fixture("bounce.eml");
    assert_eq!(bounce.automatic, Some(AutomaticKind::DeliveryReport));
    assert_eq!(
        bounce.from_address.as_deref(),
        Some("MAILER-DAEMON@mx.school.example.ru")
    );
    assert!(
        bounce.text.contains("could not\nbe delivered"),
        "{}",
        bounce.text
    );
    let list = fixture("list.eml");
    assert_eq!(list.automatic, Some(AutomaticKind::MailingList));
    assert_eq!(list.from_name.as_deref(), Some("Новости портала"));
}

#[test]
fn a_reply_threads_to_our_letter_and_names_the_request() {
    let l = fixture("reply.eml");
    assert_eq!(l.subject, "Re: ШП-2026-000123 Не могу войти в дневник");
    assert_eq!(
        find_reference(&l.subject, "ШП").as_deref(),
        Some("ШП-2026-000123")
    );
    assert_eq!(
        l.in_reply_to.as_deref(),
        Some("ack-000123@school.example.ru")
    );
    assert_eq!(
        l.references,
        vec!["koi8-1@mail.ru", "ack-000123@school.example.ru"]
    );
    assert_eq!(l.from_name.as_deref(), Some("Irina"));
    assert!(l.text.starts_with("Спасибо! Дополню"));
    assert_eq!(l.automatic, None);
    // The quoted registration number is not a phone number.
    assert!(find_phones(&l.text).is_empty());
}

const ALL: &[&str] = &[
    "koi8r.eml",
    "cp1251.eml",
    "utf8.eml",
    "html_only.eml",
    "attachment.eml",
    "autoreply.eml",
    "bounce.eml",
    "list.eml",
    "reply.eml",
];

proptest::proptest! {
    /// Damaged letters (bytes changed, cut short, spliced) never panic, and what parses is tidy:
    /// no carriage returns in the text, no empty or padded ids, phones in E.164.
    #[test]
    fn damaged_letters_never_panic(
        which in 0..ALL.len(),
        edits in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 0..24),
        cut in 0usize..4096,
    ) {
        let path = format!("{}/tests/fixtures/mail/{}", env!("CARGO_MANIFEST_DIR"), ALL[which]);
        let mut raw = std::fs::read(path).unwrap();
        for (at, byte) in edits {
            let at = at % raw.len();
            raw[at] = byte;
        }
        raw.truncate(cut.max(1));
        if let Ok(l) = parse(&raw) {
            proptest::prop_assert!(!l.text.contains('\r'));
            for id in l.message_id.iter().chain(&l.in_reply_to).chain(&l.references) {
                proptest::prop_assert!(!id.is_empty() && id.trim() == id, "{:?}", id);
            }
            for phone in find_phones(&l.text) {
                proptest::prop_assert!(phone.starts_with('+'));
            }
            let _ = find_reference(&l.subject, "ШП");
        }
    }
}
