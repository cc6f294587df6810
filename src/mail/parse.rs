//! A raw letter (RFC 5322 bytes, as IMAP's `RFC822` returns it) made into a neutral [`Letter`]:
//! the ids that thread it, its sender, subject, readable text and attachments. The `mail-parser`
//! crate does the decoding: MIME structure, quoted-printable and base64, RFC 2047 encoded words
//! in headers, and the charsets Russian mail arrives in (KOI8-R, Windows-1251, UTF-8 and others).
//! A letter with only an HTML body gets that body reduced to plain text (tags dropped, line
//! breaks kept, entities decoded). [`crate::mail::automatic`] tells whether it may be answered.

use chrono::{DateTime, Utc};
use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use super::automatic::{self, AutomaticKind};
use super::bare_id;

/// One file attached to a letter, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name the sender gave it (decoded), or `attachment-N` when it had none.
    pub filename: String,
    /// `type/subtype`, lower case (`application/pdf`).
    pub content_type: String,
    /// The decoded content.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A letter as the support line sees it, whatever charset and structure it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// The first id of `In-Reply-To`, without angle brackets.
    pub in_reply_to: Option<String>,
    /// The ids of `References`, oldest first, without angle brackets.
    pub references: Vec<String>,
    /// The sender's address (`From`, else `Sender`, else the return path).
    pub from_address: Option<String>,
    /// The sender's display name, decoded, when given.
    pub from_name: Option<String>,
    /// `Reply-To`'s first address, when it differs from the sender's.
    pub reply_to: Option<String>,
    /// The decoded subject; empty when absent.
    pub subject: String,
    /// The readable text: the plain-text bodies, or the HTML body reduced to text.
    pub text: String,
    /// Attached files (not the text or HTML bodies themselves).
    pub attachments: Vec<Attachment>,
    /// The `Date` header in UTC, when it could be read.
    pub date: Option<DateTime<Utc>>,
    /// Set when the letter was sent by a machine and must never be answered.
    pub automatic: Option<AutomaticKind>,
}

/// Why bytes are not a letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the letter is empty")]
    Empty,
    #[error("not an e-mail message: no From, To, Subject, Date or Message-ID header")]
    NotAMessage,
}

/// Parses a raw RFC 5322 letter.
pub fn parse(raw: &[u8]) -> Result<Letter, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::NotAMessage)?;
    let known = msg.from().is_some()
        || msg.sender().is_some()
        || msg.subject().is_some()
        || msg.date().is_some()
        || msg.message_id().is_some()
        || msg.to().is_some();
    if !known {
        return Err(ParseError::NotAMessage);
    }
    let sender = msg
        .from()
        .and_then(Address::first)
        .filter(|a| a.address.is_some())
        .or_else(|| msg.sender().and_then(Address::first));
    let from_address = sender
        .and_then(|a| a.address.as_deref())
        .or_else(|| msg.return_address())
        .map(|a| bare_id(a).to_owned())
        .filter(|a| !a.is_empty());
    let from_name = sender
        .and_then(|a| a.name.as_deref())
        .map(|n| n.trim().trim_matches('"').trim().to_owned())
        .filter(|n| !n.is_empty() && Some(n.as_str()) != from_address.as_deref());
    let reply_to = msg
        .reply_to()
        .and_then(Address::first)
        .and_then(|a| a.address.as_deref())
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty() && Some(a.as_str()) != from_address.as_deref());
    let date = msg
        .date()
        .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0));
    Ok(Letter {
        message_id: msg
            .message_id()
            .map(|id| bare_id(id).to_owned())
            .filter(|id| !id.is_empty()),
        in_reply_to: ids(msg.in_reply_to()).into_iter().next(),
        references: ids(msg.references()),
        from_address,
        from_name,
        reply_to,
        subject: msg.subject().map(str::trim).unwrap_or_default().to_owned(),
        text: text_of(&msg),
        attachments: attachments_of(&msg),
        date,
        automatic: automatic::detect(&msg),
    })
}

/// The message ids of an `In-Reply-To` or `References` header.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<&str> = match value {
        HeaderValue::Text(t) => t.split_whitespace().collect(),
        HeaderValue::TextList(l) => l.iter().flat_map(|t| t.split_whitespace()).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
        .map(|id| bare_id(id).to_owned())
        .filter(|id| !id.is_empty())
        .collect()
}

/// The letter's readable text: every text body (HTML ones reduced to text) in order.
fn text_of(msg: &Message<'_>) -> String {
    let mut parts = Vec::new();
    for i in 0..msg.text_body_count() {
        if let Some(t) = msg.body_text(i) {
            let t = tidy(&t);
            if !t.is_empty() {
                parts.push(t);
            }
        }
    }
    parts.join("\n\n")
}

/// Unix line breaks, no trailing blanks, at most one empty line in a row, no blank ends.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut empty_run = 0;
    for line in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            empty_run += 1;
            if empty_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            empty_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// Attached files: every part the parser counts as an attachment, decoded.
fn attachments_of(msg: &Message<'_>) -> Vec<Attachment> {
    let mut out = Vec::new();
    for (n, part) in msg.attachments().enumerate() {
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| match &part.body {
                PartType::Message(_) => "message/rfc822".to_owned(),
                PartType::Text(_) => "text/plain".to_owned(),
                PartType::Html(_) => "text/html".to_owned(),
                _ => "application/octet-stream".to_owned(),
            })
            .to_ascii_lowercase();
        let filename = part
            .attachment_name()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("attachment-{}", n + 1));
        let bytes = match &part.body {
            PartType::Message(m) => m.raw_message().to_vec(),
            _ => part.contents().to_vec(),
        };
        out.push(Attachment {
            filename,
            content_type,
            bytes,
        });
    }
    out
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod fixture_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_keeps_paragraphs_and_drops_noise() {
        assert_eq!(
            tidy("\r\n\r\nОдин  \r\n\r\n\r\n\r\nДва\r\n \r\n"),
            "Один\n\nДва"
        );
    }

    #[test]
    fn nothing_or_noise_is_not_a_letter() {
        assert_eq!(parse(b""), Err(ParseError::Empty));
        assert_eq!(parse(b"  \r\n"), Err(ParseError::Empty));
        assert!(parse(b"\x00\x01\x02 binary garbage").is_err());
    }

    #[test]
    fn ids_are_bare_and_split() {
        let l = parse(
            b"From: a@b.ru\r\nMessage-ID: <m1@b.ru>\r\nIn-Reply-To: <r1@x> <r2@x>\r\n\
              References: <r0@x>\r\n <r1@x>\r\nSubject: t\r\n\r\nhi\r\n",
        )
        .unwrap();
        assert_eq!(l.message_id.as_deref(), Some("m1@b.ru"));
        assert_eq!(l.in_reply_to.as_deref(), Some("r1@x"));
        assert_eq!(l.references, vec!["r0@x", "r1@x"]);
        assert_eq!(l.text, "hi");
        assert_eq!(l.automatic, None);
    }
}
