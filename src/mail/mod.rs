//! The support mailbox's transport layer, free of any request or store logic: [`parse`] turns a raw
//! RFC 5322 letter (any charset, HTML-only included) into a neutral [`parse::Letter`] and tells
//! letters that must never be answered ([`automatic`]); [`scan`] finds phone numbers and our
//! registration numbers in a letter's text and subject; [`imap`] reads the mailbox (UIDs above a
//! high-water mark, marking a letter processed, IDLE with a polling fallback, APPEND); [`smtp`]
//! sends a threaded reply. Message ids everywhere in this module are written without their angle
//! brackets (`abc@host`, not `<abc@host>`); the transports add them on the wire.

pub mod automatic;
pub mod imap;
pub mod intake;
pub mod parse;
pub mod scan;
pub mod smtp;
mod stream;

pub use stream::ExtraRoots;

pub use automatic::AutomaticKind;
pub use parse::{Attachment, Letter, ParseError, parse};
pub use scan::{find_phones, find_reference};

use std::fmt;
use std::str::FromStr;

/// How a connection to a mail server is secured (config values `none`, `starttls`, `tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP: only for a server on the same host or a trusted network (and tests).
    None,
    /// Plain TCP upgraded with STARTTLS before logging in.
    StartTls,
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
}

impl TlsMode {
    /// The usual IMAP port for this mode: 993 for TLS, 143 otherwise.
    pub fn default_imap_port(self) -> u16 {
        match self {
            TlsMode::Tls => 993,
            TlsMode::None | TlsMode::StartTls => 143,
        }
    }

    /// The usual SMTP port for this mode: 465 (TLS), 587 (submission with STARTTLS), 25.
    pub fn default_smtp_port(self) -> u16 {
        match self {
            TlsMode::Tls => 465,
            TlsMode::StartTls => 587,
            TlsMode::None => 25,
        }
    }
}

impl FromStr for TlsMode {
    type Err = String;

    fn from_str(s: &str) -> Result<TlsMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(TlsMode::None),
            "starttls" => Ok(TlsMode::StartTls),
            "tls" => Ok(TlsMode::Tls),
            other => Err(format!("`{other}` is not one of none, starttls, tls")),
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::None => "none",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
        })
    }
}

/// Removes one pair of angle brackets and surrounding blanks from a message id.
pub fn bare_id(id: &str) -> &str {
    let id = id.trim();
    id.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(id)
        .trim()
}

pub use crate::domain::pseudonym::mask_address;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_parse_and_have_usual_ports() {
        assert_eq!("TLS".parse::<TlsMode>(), Ok(TlsMode::Tls));
        assert_eq!(" starttls ".parse::<TlsMode>(), Ok(TlsMode::StartTls));
        assert_eq!("none".parse::<TlsMode>(), Ok(TlsMode::None));
        assert!("ssl".parse::<TlsMode>().unwrap_err().contains("`ssl`"));
        assert_eq!(TlsMode::Tls.default_imap_port(), 993);
        assert_eq!(TlsMode::StartTls.default_imap_port(), 143);
        assert_eq!(TlsMode::Tls.default_smtp_port(), 465);
        assert_eq!(TlsMode::StartTls.default_smtp_port(), 587);
        assert_eq!(TlsMode::None.default_smtp_port(), 25);
        assert_eq!(TlsMode::StartTls.to_string(), "starttls");
    }

    #[test]
    fn ids_lose_their_brackets_and_addresses_are_masked() {
        assert_eq!(bare_id(" <a.b@c> "), "a.b@c");
        assert_eq!(bare_id("a.b@c"), "a.b@c");
        assert_eq!(mask_address("ivanova@mail.ru"), "i***@mail.ru");
        assert_eq!(mask_address("broken"), "***");
    }
}
