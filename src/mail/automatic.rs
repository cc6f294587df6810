//! Letters a machine sent, which the support line registers or drops but never answers, so that
//! two auto-responders cannot answer each other for ever (RFC 3834). Recognised: delivery and
//! read reports (`multipart/report`), mail from `MAILER-DAEMON` or `postmaster`, a null return
//! path (`Return-Path: <>`), `Auto-Submitted` other than `no`, the vendor auto-reply headers
//! (`X-Autoreply`, `X-Autorespond`, Exchange's `X-Auto-Response-Suppress`), `Precedence: bulk`,
//! `junk`, `list` or `auto_reply`, and mailing-list headers (`List-Id`, `List-Unsubscribe`).

use std::fmt;

use mail_parser::{Message, MimeHeaders};

/// Why a letter must never be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutomaticKind {
    /// A delivery status notification or read receipt (`multipart/report`).
    DeliveryReport,
    /// Sent by a mail system (`MAILER-DAEMON`, `postmaster`).
    MailerDaemon,
    /// The envelope sender was null (`Return-Path: <>`): bounces and other automatic mail.
    NullSender,
    /// `Auto-Submitted: auto-replied`, `auto-generated`, ... (anything but `no`).
    AutoSubmitted,
    /// A vendor auto-reply header (`X-Autoreply`, `X-Autorespond`, `X-Auto-Response-Suppress`).
    AutoReply,
    /// `Precedence: bulk`, `junk`, `list` or `auto_reply`.
    Bulk,
    /// A mailing list or newsletter (`List-Id`, `List-Unsubscribe`).
    MailingList,
}

impl AutomaticKind {
    /// A stable code for logs, metrics and storage (`delivery_report`, `auto_submitted`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AutomaticKind::DeliveryReport => "delivery_report",
            AutomaticKind::MailerDaemon => "mailer_daemon",
            AutomaticKind::NullSender => "null_sender",
            AutomaticKind::AutoSubmitted => "auto_submitted",
            AutomaticKind::AutoReply => "auto_reply",
            AutomaticKind::Bulk => "bulk",
            AutomaticKind::MailingList => "mailing_list",
        }
    }

    /// Why it is not answered, in Russian, for the workspace.
    pub fn reason_ru(self) -> &'static str {
        match self {
            AutomaticKind::DeliveryReport => "отчёт о доставке или прочтении",
            AutomaticKind::MailerDaemon => "письмо почтовой системы",
            AutomaticKind::NullSender => "письмо без обратного адреса",
            AutomaticKind::AutoSubmitted | AutomaticKind::AutoReply => "автоответ",
            AutomaticKind::Bulk => "массовая рассылка",
            AutomaticKind::MailingList => "письмо из списка рассылки",
        }
    }
}

impl fmt::Display for AutomaticKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first reason (in the order of [`AutomaticKind`]'s variants) `msg` must not be answered.
pub fn detect(msg: &Message<'_>) -> Option<AutomaticKind> {
    let root = msg.root_part();
    if root.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        return Some(AutomaticKind::DeliveryReport);
    }
    let headers: Vec<(String, String)> = msg
        .headers_raw()
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), unfold(value)))
        .collect();
    let values = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let daemon = |address: &str| {
        let address = super::bare_id(address);
        let local = address.split('@').next().unwrap_or_default();
        local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
    };
    let from_daemon = values("from")
        .chain(values("sender"))
        .chain(values("return-path"))
        .any(|v| address_in(v).is_some_and(daemon));
    if from_daemon {
        return Some(AutomaticKind::MailerDaemon);
    }
    if values("return-path").any(|v| {
        let v = v.trim();
        v.is_empty() || v == "<>" || v.replace(' ', "") == "<>"
    }) {
        return Some(AutomaticKind::NullSender);
    }
    if values("auto-submitted").any(|v| {
        let token = v.split(';').next().unwrap_or_default().trim();
        !token.is_empty() && !token.eq_ignore_ascii_case("no")
    }) {
        return Some(AutomaticKind::AutoSubmitted);
    }
    let suppress = values("x-auto-response-suppress").any(|v| {
        v.split(',').any(|t| {
            let t = t.trim();
            ["all", "autoreply", "oof"]
                .iter()
                .any(|k| t.eq_ignore_ascii_case(k))
        })
    });
    if suppress
        || values("x-autoreply").next().is_some()
        || values("x-autorespond").next().is_some()
        || values("x-autoresponder").next().is_some()
    {
        return Some(AutomaticKind::AutoReply);
    }
    if values("precedence").any(|v| {
        let v = v.trim();
        ["bulk", "junk", "list", "auto_reply"]
            .iter()
            .any(|k| v.eq_ignore_ascii_case(k))
    }) {
        return Some(AutomaticKind::Bulk);
    }
    if values("list-id")
        .chain(values("list-unsubscribe"))
        .any(|v| !v.trim().is_empty())
    {
        return Some(AutomaticKind::MailingList);
    }
    None
}

/// A header's raw value on one line.
fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The address in `Name <addr>` or a bare `addr`.
fn address_in(value: &str) -> Option<&str> {
    let value = value.trim();
    match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => Some(value[open + 1..close].trim()),
        _ if !value.is_empty() && !value.contains(' ') => Some(value),
        _ => None,
    }
    .filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn kind(headers: &str) -> Option<AutomaticKind> {
        let raw = format!("{headers}Subject: x\r\n\r\nbody\r\n");
        detect(&MessageParser::default().parse(raw.as_bytes()).unwrap())
    }

    #[test]
    fn people_are_answered() {
        assert_eq!(kind("From: Ирина <irina@mail.ru>\r\n"), None);
        assert_eq!(kind("From: a@b.ru\r\nAuto-Submitted: no\r\n"), None);
        assert_eq!(kind("From: a@b.ru\r\nReturn-Path: <a@b.ru>\r\n"), None);
        assert_eq!(kind("From: a@b.ru\r\nPrecedence: first-class\r\n"), None);
    }

    #[test]
    fn machines_are_not() {
        let cases = [
            (
                "From: a@b.ru\r\nAuto-Submitted: auto-replied\r\n",
                AutomaticKind::AutoSubmitted,
            ),
            (
                "From: a@b.ru\r\nAuto-Submitted: Auto-Generated; x=1\r\n",
                AutomaticKind::AutoSubmitted,
            ),
            ("From: a@b.ru\r\nPrecedence: BULK\r\n", AutomaticKind::Bulk),
            (
                "From: a@b.ru\r\nPrecedence: auto_reply\r\n",
                AutomaticKind::Bulk,
            ),
            (
                "From: a@b.ru\r\nList-Id: <news.b.ru>\r\n",
                AutomaticKind::MailingList,
            ),
            (
                "From: a@b.ru\r\nList-Unsubscribe: <mailto:u@b.ru>\r\n",
                AutomaticKind::MailingList,
            ),
            (
                "Return-Path: <>\r\nFrom: a@b.ru\r\n",
                AutomaticKind::NullSender,
            ),
            (
                "From: Mail Delivery System <MAILER-DAEMON@mx.b.ru>\r\n",
                AutomaticKind::MailerDaemon,
            ),
            ("From: postmaster@b.ru\r\n", AutomaticKind::MailerDaemon),
            (
                "From: a@b.ru\r\nX-Autoreply: yes\r\n",
                AutomaticKind::AutoReply,
            ),
            (
                "From: a@b.ru\r\nX-Autorespond: on vacation\r\n",
                AutomaticKind::AutoReply,
            ),
            (
                "From: a@b.ru\r\nX-Auto-Response-Suppress: DR, OOF\r\n",
                AutomaticKind::AutoReply,
            ),
            (
                "From: a@b.ru\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n",
                AutomaticKind::DeliveryReport,
            ),
        ];
        for (headers, expected) in cases {
            assert_eq!(kind(headers), Some(expected), "{headers}");
        }
    }

    #[test]
    fn addresses_in_headers() {
        assert_eq!(address_in("Name <a@b>"), Some("a@b"));
        assert_eq!(address_in(" a@b "), Some("a@b"));
        assert_eq!(address_in("<>"), None);
        assert_eq!(address_in("two words"), None);
    }
}
