//! Letters from the support line through SMTP (the `lettre` crate on tokio, rustls for TLS):
//! a plain-text UTF-8 letter with the threading headers a mail reader needs to put it under the
//! writer's letter (`Message-ID`, `In-Reply-To`, `References`) and, for automatic replies,
//! `Auto-Submitted: auto-replied` (RFC 3834) and `X-Auto-Response-Suppress: All`, so that other
//! responders do not answer ours. The connection is plain, STARTTLS or TLS as configured, with or
//! without authentication; each send is bounded by the configured timeout.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{ExtraRoots, TlsMode, bare_id};
use crate::config::Secret;

/// Where and as whom to send.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// User and password; `None` for a relay that takes mail without logging in.
    pub credentials: Option<(String, Secret)>,
    /// The limit on connecting and on each SMTP command.
    pub timeout: Duration,
    /// Certificates trusted besides the built-in roots (`mail.ca_file`).
    pub ca: ExtraRoots,
}

/// One letter to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The letter this answers (its `Message-ID`, without brackets).
    pub in_reply_to: Option<String>,
    /// The thread so far, oldest first, without brackets (the answered letter last).
    pub references: Vec<String>,
    /// This letter's id, without brackets: made by [`new_message_id`] and kept by the caller
    /// so that a reply to it can be recognised.
    pub message_id: String,
    /// An automatic reply: adds `Auto-Submitted: auto-replied`.
    pub automatic: bool,
}

/// A fresh message id at the domain of `from_address` (`<uuid>@school.example.ru`).
pub fn new_message_id(from_address: &str) -> String {
    let domain = from_address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or("perezvon.invalid");
    format!("{}@{domain}", uuid::Uuid::new_v4().simple())
}

/// `Auto-Submitted: auto-replied`.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-replied".into())
    }
}

/// `X-Auto-Response-Suppress: All` (Exchange and Outlook send no out-of-office reply to it).
#[derive(Clone)]
struct SuppressAutoResponse;

impl Header for SuppressAutoResponse {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(SuppressAutoResponse)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".into())
    }
}

/// Sends letters from one address through one SMTP server.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
}

impl SmtpSender {
    /// A sender from `from_name <from_address>` through the server of `s`. Nothing connects
    /// until the first letter is sent.
    pub fn new(s: &SmtpSettings, from_address: &str, from_name: &str) -> anyhow::Result<Self> {
        let address: Address = from_address
            .trim()
            .parse()
            .with_context(|| format!("`{from_address}` is not an e-mail address"))?;
        let name = Some(from_name.trim().to_owned()).filter(|n| !n.is_empty());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
            .port(s.port)
            .timeout(Some(s.timeout));
        if s.tls != TlsMode::None {
            let mut params = TlsParameters::builder(s.host.clone());
            if !s.ca.is_empty() {
                let certs = Certificate::from_pem(s.ca.pem())
                    .context("the certificates of mail.ca_file cannot be read")?;
                params = params.add_root_certificate(certs);
            }
            let params = params
                .build()
                .with_context(|| format!("cannot set up TLS for {}", s.host))?;
            builder = builder.tls(match s.tls {
                TlsMode::Tls => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        if let Some((user, password)) = &s.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from: Mailbox::new(name, address),
            server: format!("{}:{}", s.host, s.port),
        })
    }

    /// The letter as it goes on the wire.
    pub fn build(&self, letter: &Outgoing) -> anyhow::Result<Message> {
        let to: Address = letter.to.trim().parse().with_context(|| {
            format!(
                "`{}` is not an e-mail address",
                super::mask_address(&letter.to)
            )
        })?;
        let id = |s: &str| format!("<{}>", bare_id(s));
        let mut b = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(letter.subject.clone())
            .message_id(Some(id(&letter.message_id)));
        if let Some(parent) = &letter.in_reply_to {
            b = b.in_reply_to(id(parent));
        }
        let refs: Vec<String> = letter
            .references
            .iter()
            .filter(|r| !bare_id(r).is_empty())
            .map(|r| id(r))
            .collect();
        if !refs.is_empty() {
            b = b.references(refs.join(" "));
        }
        if letter.automatic {
            b = b.header(AutoSubmitted).header(SuppressAutoResponse);
        }
        b.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(letter.text.clone()),
        )
        .context("cannot build the letter")
    }

    /// Connects, logs in where configured and says NOOP (for `perezvon doctor`); nothing is sent.
    pub async fn check(&self) -> anyhow::Result<()> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => bail!("the SMTP server {} did not answer NOOP", self.server),
            Err(e) => Err(anyhow::anyhow!("the SMTP server {}: {e}", self.server)),
        }
    }

    /// Sends `letter`; returns its bytes as sent (to keep a copy, say with IMAP APPEND).
    pub async fn send(&self, letter: &Outgoing) -> anyhow::Result<Vec<u8>> {
        let message = self.build(letter)?;
        let raw = message.formatted();
        self.transport.send(message).await.map_err(|e| {
            anyhow!(e).context(format!(
                "the SMTP server {} did not take the letter to {}",
                self.server,
                super::mask_address(&letter.to)
            ))
        })?;
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> SmtpSender {
        let s = SmtpSettings {
            host: "127.0.0.1".into(),
            port: 2525,
            tls: TlsMode::None,
            credentials: None,
            timeout: Duration::from_secs(5),
            ca: ExtraRoots::default(),
        };
        SmtpSender::new(&s, "support@school.example.ru", "Линия поддержки").unwrap()
    }

    #[test]
    fn threading_and_automatic_headers() {
        let letter = Outgoing {
            to: "ivanova@mail.ru".into(),
            subject: "Ваше обращение ШП-2026-000123 зарегистрировано".into(),
            text: "Здравствуйте!\nНомер обращения: ШП-2026-000123.".into(),
            in_reply_to: Some("<q1@mail.ru>".into()),
            references: vec!["q0@mail.ru".into(), "q1@mail.ru".into()],
            message_id: new_message_id("support@school.example.ru"),
            automatic: true,
        };
        let raw = sender().build(&letter).unwrap().formatted();
        let parsed = crate::mail::parse(&raw).unwrap();
        assert_eq!(parsed.subject, letter.subject);
        assert_eq!(parsed.text, letter.text);
        assert_eq!(parsed.in_reply_to.as_deref(), Some("q1@mail.ru"));
        assert_eq!(parsed.references, vec!["q0@mail.ru", "q1@mail.ru"]);
        assert_eq!(
            parsed.message_id.as_deref(),
            Some(letter.message_id.as_str())
        );
        assert!(letter.message_id.ends_with("@school.example.ru"));
        assert_eq!(parsed.from_name.as_deref(), Some("Линия поддержки"));
        // Our own reply is recognised as automatic: a loop stops at our side too.
        assert_eq!(
            parsed.automatic,
            Some(crate::mail::AutomaticKind::AutoSubmitted)
        );
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("X-Auto-Response-Suppress: All"), "{text}");
    }

    #[test]
    fn a_reply_by_a_person_is_not_automatic_and_bad_addresses_are_errors() {
        let mut letter = Outgoing {
            to: "ivanova@mail.ru".into(),
            subject: "Ответ".into(),
            text: "Текст".into(),
            in_reply_to: None,
            references: vec![],
            message_id: "m1@school.example.ru".into(),
            automatic: false,
        };
        let raw = sender().build(&letter).unwrap().formatted();
        let parsed = crate::mail::parse(&raw).unwrap();
        assert_eq!(parsed.automatic, None);
        assert_eq!(parsed.in_reply_to, None);
        letter.to = "not an address".into();
        let e = sender().build(&letter).unwrap_err().to_string();
        assert!(e.contains("is not an e-mail address"), "{e}");
        let s = SmtpSettings {
            host: "h".into(),
            port: 25,
            tls: TlsMode::None,
            credentials: None,
            timeout: Duration::from_secs(1),
            ca: ExtraRoots::default(),
        };
        assert!(SmtpSender::new(&s, "nobody", "x").is_err());
    }
}
